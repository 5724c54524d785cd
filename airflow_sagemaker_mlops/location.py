"""Where in the user's DAG file a problem comes from: the frame, the DAG and the task group.

Every problem found while a DAG file is parsed becomes a :class:`PipelineCompileError` that starts with
``<dag file>:<line>:``. The line is the first frame of the call stack that is neither Airflow's, nor this
package's, nor Python's own machinery (importlib, contextlib, ...). Frames are told apart by the module they
run (``__name__``) and by the directory of the package that holds their file, never by a substring of the path:
a DAG folder such as ``~/airflow/dags`` or ``/usr/local/airflow/dags`` (MWAA) is the user's own.
"""

from __future__ import annotations

import functools
import os
import sys
import sysconfig
from collections.abc import Callable
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
