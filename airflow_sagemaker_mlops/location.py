"""Where in the user's DAG file a problem comes from: the frame, the DAG and the task group.

Every problem found while a DAG file is parsed becomes a :class:`PipelineCompileError` that starts with
``<dag file>:<line>:``. The line is the first frame of the call stack that is neither Airflow's, nor this
package's, nor Python's own machinery (importlib, contextlib, ...). Frames are told apart by the module they
run (``__name__``) and by the directory of the package that holds their file, never by a substring of the path:
a DAG folder such as ``~/airflow/dags`` or ``/usr/local/airflow/dags`` (MWAA) is the user's own.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import os
import sys
import sysconfig
from collections.abc import Callable, Iterable, Mapping
from types import FrameType
from typing import Any, TypeVar

from airflow_sagemaker_mlops.exceptions import PipelineCompileError, PipelineDefinitionError

_F = TypeVar("_F", bound=Callable[..., Any])

_OWN_MODULES = ("airflow_sagemaker_mlops", "airflow")
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


@functools.cache
def _library_dirs() -> tuple[str, ...]:
    """Directories whose files are never the user's: this package, Airflow's packages, the standard library."""
    dirs = [_PACKAGE_DIR]
    airflow = sys.modules.get("airflow")
    for path in getattr(airflow, "__path__", ()) or ():
        dirs.append(os.path.abspath(path) + os.sep)
    for key in ("stdlib", "platstdlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            dirs.append(os.path.abspath(path) + os.sep)
    return tuple(dict.fromkeys(dirs))


def _is_library_frame(frame: FrameType) -> bool:
    module = frame.f_globals.get("__name__") or ""
    if any(module == name or module.startswith(name + ".") for name in _OWN_MODULES):
        return True
    filename = frame.f_code.co_filename
    if filename.startswith("<frozen "):
        return True
    return filename.startswith(_library_dirs())


def user_site(depth: int = 1) -> tuple[str, int] | None:
    """(file, line) of the innermost frame, ``depth`` frames above the caller or further out, that is the
    user's: not Airflow, not this package, not the standard library. Cheap: a few frames per call."""
    frame: FrameType | None = sys._getframe(depth + 1)
    while frame is not None:
        if not _is_library_frame(frame):
            return frame.f_code.co_filename, frame.f_lineno
        frame = frame.f_back
    return None


def current_dag_and_group() -> tuple[Any, Any]:
    """The DAG and task group of the enclosing ``with`` blocks, if any."""
    if "airflow" not in sys.modules:
        return None, None
    try:
        from airflow_sagemaker_mlops.compat import current_dag, current_task_group
    except ImportError:  # no Airflow at all: the pure definition model
        return None, None
    dag = current_dag()
    return dag, current_task_group(dag) if dag is not None else None


def _group_id(group: Any) -> str | None:
    return getattr(group, "group_id", None) if group is not None else None


def located(
    exc: BaseException | str,
    *,
    site: tuple[str, int] | None = None,
    dag: Any = None,
    group: Any = None,
    task_id: str | None = None,
    field: str | None = None,
) -> PipelineCompileError:
    """``exc`` (or a message) as a PipelineCompileError with a location; what is not given is looked up: the
    user's frame, the enclosing DAG and task group."""
    if isinstance(exc, PipelineCompileError):
        return exc
    if site is None:
        site = user_site(2)
    if dag is None and group is None:
        dag, group = current_dag_and_group()
    elif dag is None:
        dag = getattr(group, "dag", None)
    message = exc if isinstance(exc, str) else _message(exc)
    if field is None and isinstance(exc, PipelineDefinitionError):
        field = exc.field
    return PipelineCompileError(
        message,
        dag_file=site[0] if site else getattr(dag, "fileloc", None),
        lineno=site[1] if site else None,
        dag_id=getattr(dag, "dag_id", None),
        group_id=_group_id(group),
        task_id=task_id,
        field=field,
    )


def _message(exc: BaseException) -> str:
    if isinstance(exc, PipelineDefinitionError):
        return str(exc)
    if isinstance(exc, RecursionError):
        return "a value is nested too deeply to go into a pipeline definition"
    return f"{type(exc).__name__}: {exc}"


def locate_errors(func: _F) -> _F:
    """Decorate a function or constructor DAG files call directly (condition builders, ``JsonGet``,
    ``RetryPolicy``, ...): its PipelineDefinitionError, and the TypeError of a call with the wrong arguments,
    come out as a PipelineCompileError located at the caller's line."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if kwargs and (unknown := unknown_keywords(func, kwargs)):
            raise located(unknown, field=unknown.field)
        try:
            return func(*args, **kwargs)
        except PipelineCompileError:
            raise
        except (PipelineDefinitionError, TypeError) as exc:
            raise located(exc, field=getattr(exc, "field", None) or _qualname(func)) from exc

    return wrapper  # type: ignore[return-value]


def _qualname(func: Any) -> str:
    name = getattr(func, "__qualname__", "") or ""
    return name.removesuffix(".__init__")


def locate_init_errors(cls: type) -> type:
    """Class decorator: :func:`locate_errors` on the class's ``__init__`` (for dataclasses DAG files build)."""
    cls.__init__ = locate_errors(cls.__init__)  # type: ignore[misc]
    return cls


# -- wrong keywords: one check for every constructor and function DAG files call ------------------------------

def _keywords(func: Callable[..., Any]) -> tuple[tuple[str, ...], bool]:
    """The keyword names ``func`` takes (``self`` left out) and whether it also takes ``**kwargs``."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: nothing to check against
        return (), True
    names = tuple(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                  and p.name not in ("self", "cls"))
    return names, any(p.kind is p.VAR_KEYWORD for p in params)


_keywords_cached = functools.cache(_keywords)


def keyword_error(
    given: Iterable[str],
    accepted: Iterable[str],
    *,
    what: str,
    also: Iterable[str] = (),
    also_from: str = "",
) -> PipelineDefinitionError | None:
    """The error for keywords in ``given`` that are neither in ``accepted`` nor in ``also``, or None.

    Args:
        given: the keyword names of the call.
        accepted: the names the callable itself takes; listed in the message.
        what: the callable's name as the user wrote it (``RetryPolicy``, ``ProcessingStep``).
        also: further accepted names (a base class's, such as Airflow's BaseOperator arguments), searched for
            a did-you-mean but not listed.
        also_from: what ``also`` is, for the message (``"Airflow's BaseOperator"``).

    Returns:
        A PipelineDefinitionError whose ``field`` is the first unknown keyword, naming the accepted names and
        the closest one ("did you mean"), or None when every keyword is accepted.
    """
    accepted = list(dict.fromkeys(accepted))
    also = [name for name in dict.fromkeys(also) if name not in accepted]
    known = set(accepted) | set(also)
    unknown = [name for name in given if name not in known]
    if not unknown:
        return None
    parts = []
    for name in unknown:
        close = difflib.get_close_matches(name, [*accepted, *also], n=1, cutoff=0.6)
        parts.append(f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name))
    noun = "an unexpected keyword argument" if len(unknown) == 1 else "unexpected keyword arguments"
    takes = ", ".join(accepted) or "no keyword arguments"
    tail = f", and {also_from} arguments" if also and also_from else ""
    return PipelineDefinitionError(f"{what} got {noun} {', '.join(parts)}; it takes {takes}{tail}",
                                   field=unknown[0])


def unknown_keywords(func: Callable[..., Any], kwargs: Mapping[str, Any]) -> PipelineDefinitionError | None:
    """:func:`keyword_error` for a call of ``func`` (a function, or a class's ``__init__``) with ``kwargs``;
    None when ``func`` takes ``**kwargs`` (it checks them itself)."""
    accepted, open_ended = _keywords_cached(func)
    if open_ended:
        return None
    return keyword_error(kwargs, accepted, what=_qualname(func))


def unknown_operator_keywords(cls: type, kwargs: Mapping[str, Any]) -> PipelineDefinitionError | None:
    """:func:`keyword_error` for an operator class of this package built with ``kwargs``.

    The accepted names are those of every ``__init__`` in the class's MRO: this package's classes (listed in
    the message) and Airflow's (``BaseOperator``, ``AwsBaseOperator``, ``BaseSensorOperator``: searched for a
    did-you-mean, named as a group). A class of neither (a user's subclass taking ``**kwargs``) turns the check
    off: its ``**kwargs`` may take anything.
    """
    own: list[str] = []
    airflow: list[str] = []
    airflow_classes: list[str] = []
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        module = klass.__module__ or ""
        names, open_ended = _keywords_cached(init)
        if module == "airflow_sagemaker_mlops" or module.startswith("airflow_sagemaker_mlops."):
            own.extend(names)
        elif module.startswith("airflow."):
            airflow.extend(names)
            if klass.__name__ not in airflow_classes:
                airflow_classes.append(klass.__name__)
        elif open_ended:
            return None
        else:
            own.extend(names)
    # The nearest Airflow base stands for the others (AwsBaseOperator's arguments include BaseOperator's).
    label = f"Airflow's {airflow_classes[0]}" if airflow_classes else ""
    error = keyword_error(kwargs, own, what=cls.__name__, also=airflow, also_from=label)
    if error is not None and airflow_classes and _illegal_arguments_allowed():
        return None  # Airflow 2 with [operators] allow_illegal_arguments: Airflow warns and drops them
    return error


def _illegal_arguments_allowed() -> bool:
    """Airflow 2's ``[operators] allow_illegal_arguments`` (Airflow 3 removed it: unknown arguments fail)."""
    from airflow_sagemaker_mlops.compat import AIRFLOW_V3, conf

    return not AIRFLOW_V3 and conf.getboolean("operators", "allow_illegal_arguments", fallback=False)


def locate_keyword_errors(cls: type) -> type:
    """Class decorator for an operator or sensor class of this package: a wrong keyword to its constructor is
    a PipelineCompileError at the DAG file's line, with the accepted names and a did-you-mean
    (:func:`unknown_operator_keywords`), instead of Airflow's bare error. Checked once per construction, by the
    outermost ``__init__`` (the class being built), never by the ``super().__init__`` calls below it."""
    init = cls.__init__

    @functools.wraps(init)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        if type(self).__init__ is wrapper and (unknown := unknown_operator_keywords(type(self), kwargs)):
            task_id = kwargs.get("task_id")
            raise located(unknown, task_id=task_id if isinstance(task_id, str) else None)
        init(self, *args, **kwargs)

    # Airflow compares ``self.__init__.__wrapped__`` with the class's own __init__ to run its post-init once.
    wrapper.__wrapped__ = getattr(init, "__wrapped__", init)  # type: ignore[attr-defined]
    cls.__init__ = wrapper  # type: ignore[misc]
    return cls
