"""The API reference is complete: every public name is on a reference page (docs/reference/*.md, built by
`make docs`), has a docstring, and documents exactly the parameters it takes.

Parameters are read from Google-style ``Args:`` sections (the style the whole package uses) with griffe, the
parser mkdocstrings renders them with. A class documents its constructor in the class docstring; the
parameters of this package's own base classes count as the class's own unless the base is itself on a
reference page (then they are documented there). Airflow's arguments (BaseOperator, AwsBaseOperator,
TaskGroup, ...) are Airflow's to document and are not required; they may still be mentioned.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

griffe = pytest.importorskip("griffe", reason="the docs extra (mkdocstrings) is not installed")

import airflow_sagemaker_mlops  # noqa: E402
from airflow_sagemaker_mlops import cli  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "reference"
OURS = "airflow_sagemaker_mlops"

# Methods with these names implement an Airflow protocol (the operator's run, deferral, lineage): Airflow
# documents what they do.
AIRFLOW_PROTOCOL = {"execute", "execute_complete", "poke", "on_kill", "get_openlineage_facets_on_start",
                    "get_openlineage_facets_on_complete", "get_openlineage_facets_on_failure", "get_conn",
                    "get_ui_field_behaviour", "get_connection_form_widgets"}

logging.getLogger("griffe").setLevel(logging.ERROR)  # "no type annotation": the signature has it


def _directives() -> Iterator[tuple[str, list[str] | None]]:
    """(dotted path, members or None) of every ``::: path`` block of the reference pages."""
    for page in sorted(REFERENCE.glob("*.md")):
        lines = page.read_text().splitlines()
        for i, line in enumerate(lines):
            match = re.match(r"^::: (\S+)\s*$", line)
            if not match:
                continue
            members = None
            for option in lines[i + 1:i + 6]:
                if m := re.match(r"^\s+members: \[(.*)\]", option):
                    members = [name.strip() for name in m.group(1).split(",")]
            yield match.group(1), members


def _resolve(path: str) -> Any:
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(path)


def _documented() -> dict[str, Any]:
    """Every object the reference documents, by dotted path."""
    out: dict[str, Any] = {}
    for path, members in _directives():
        obj = _resolve(path)
        if inspect.ismodule(obj):
            assert members, f"{path}: a module directive lists its members"
            for name in members:
                out[f"{path}.{name}"] = getattr(obj, name)
        else:
            out[path] = obj
    return out


DOCUMENTED = _documented()
PUBLIC_CLASSES = {obj for obj in DOCUMENTED.values() if inspect.isclass(obj)}


def _ours(obj: Any) -> bool:
    module = getattr(obj, "__module__", "") or ""
    return module == OURS or module.startswith(OURS + ".")


def _args(doc: str | None) -> list[str]:
    """The parameter names of a docstring's ``Args:`` sections (``*args``/``**kwargs`` without stars)."""
    if not doc:
        return []
    names: list[str] = []
    for section in griffe.Docstring(inspect.cleandoc(doc)).parse("google"):
        if section.kind is griffe.DocstringSectionKind.parameters:
            names.extend(p.name.lstrip("*") for p in section.value)
    return names


def _params(func: Any) -> tuple[list[str], list[str]]:
    """(named parameters, variadic parameters) of a callable, ``self``/``cls`` left out."""
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return [], []
    named = [p.name for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
             and p.name not in ("self", "cls")]
    variadic = [p.name for p in parameters if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    return named, variadic


def _function_problems(name: str, func: Any) -> list[str]:
    doc = inspect.getdoc(func)
    if not doc or not doc.strip():
        return [f"{name}: no docstring"]
    named, variadic = _params(func)
    documented = _args(doc)
    out = [f"{name}: documents {p!r}, which it does not take" for p in documented
           if p not in named and p not in variadic]
    out += [f"{name}: parameter {p!r} is not documented (Args:)" for p in named if p not in documented]
    return out


def _init(klass: type) -> Any:
    if "__init__" not in klass.__dict__ and "__new__" in klass.__dict__:  # a constructor by __new__ (JsonGet)
        return klass.__new__
    return klass.__dict__.get("__init__")


def _class_problems(path: str, cls: type) -> list[str]:
    doc = cls.__dict__.get("__doc__")
    if not doc or not doc.strip() or doc.startswith(f"{cls.__name__}("):  # dataclasses write their signature
        return [f"{path}: no docstring"]
    out: list[str] = []
    own_doc = _args(doc)
    # What the constructor takes, and who documents it.
    required: list[str] = []
    inherited_docs: list[str] = []
    accepted: set[str] = set()
    for klass in cls.__mro__:
        init = _init(klass)
        named, variadic = _params(init) if init is not None else ([], [])
        accepted.update(named)
        if not _ours(klass):
            continue
        if klass is not cls and klass in PUBLIC_CLASSES:
            inherited_docs.extend(_args(klass.__dict__.get("__doc__")))
        elif klass is cls or klass.__name__.startswith("_"):
            required.extend(named)
            accepted.update(variadic)
    out += [f"{path}: documents {p!r}, which its constructor does not take" for p in own_doc if p not in accepted]
    out += [f"{path}: constructor parameter {p!r} is not documented (class docstring, Args:)"
            for p in dict.fromkeys(required) if p not in own_doc and p not in inherited_docs]
    # Its own public methods and properties (Airflow's protocol methods excepted).
    airflow_names = {n for k in cls.__mro__ if not _ours(k) and k is not object for n in k.__dict__}
    for name, member in cls.__dict__.items():
        if name.startswith("_") or name in AIRFLOW_PROTOCOL or name in airflow_names:
            continue
        if _documented_in_a_base(cls, name, member):  # an override: the base's docstring says what it does
            continue
        if isinstance(member, property):
            if not (member.__doc__ or "").strip():
                out.append(f"{path}.{name}: property without a docstring")
        elif isinstance(member, classmethod | staticmethod):
            out += _function_problems(f"{path}.{name}", member.__func__)
        elif inspect.isfunction(member):
            out += _function_problems(f"{path}.{name}", member)
    return out


def _documented_in_a_base(cls: type, name: str, member: Any) -> bool:
    if (getattr(member, "__doc__", None) or "").strip():
        return False
    for base in cls.__mro__[1:]:
        if _ours(base) and name in base.__dict__:
            inherited = base.__dict__[name]
            return bool((getattr(inherited, "__doc__", None) or "").strip())
    return False


def test_every_exported_name_is_on_a_reference_page():
    documented_ids = {id(obj) for obj in DOCUMENTED.values()}
    missing = []
    for name in airflow_sagemaker_mlops._EXPORTS:
        obj = getattr(airflow_sagemaker_mlops, name)
        if inspect.ismodule(obj):  # conditions: the builders DAG files call (located: they have __wrapped__)
            functions = [f for n, f in vars(obj).items() if not n.startswith("_") and inspect.isfunction(f)
                         and f.__module__ == obj.__name__ and hasattr(f, "__wrapped__")]
            missing += [f"{name}.{f.__name__}" for f in functions if id(f) not in documented_ids]
        elif id(obj) not in documented_ids:
            missing.append(name)
    assert not missing, f"not on any page of docs/reference/: {missing}"


@pytest.mark.parametrize("path", sorted(DOCUMENTED))
def test_documented_names_document_their_parameters(path: str):
    obj = DOCUMENTED[path]
    problems = _class_problems(path, obj) if inspect.isclass(obj) else _function_problems(path, obj)
    assert not problems, "\n".join(problems)


def test_every_execution_variable_is_described():
    from airflow_sagemaker_mlops.definition.expressions import EXECUTION_VARIABLES, Execution

    doc = inspect.getdoc(Execution) or ""
    attributes = []
    for section in griffe.Docstring(doc).parse("google"):
        if section.kind is griffe.DocstringSectionKind.attributes:
            attributes.extend(a.name for a in section.value)
    assert sorted(attributes) == sorted(EXECUTION_VARIABLES)


def test_every_cli_argument_has_help():
    parser = cli.build_parser()
    missing = []
    todo = [("", parser)]
    while todo:
        prefix, current = todo.pop()
        for action in current._actions:
            if hasattr(action, "choices") and isinstance(action.choices, dict):
                todo.extend((f"{prefix} {name}".strip(), sub) for name, sub in action.choices.items())
            elif action.dest != "help" and not action.help:
                missing.append(f"{prefix or 'main'}: {'/'.join(action.option_strings) or action.dest}")
    assert not missing, missing


def test_the_checks_catch_what_they_claim():
    """The checker itself: an undocumented parameter and a documented one that does not exist are found."""

    def f(a: int, b: int) -> None:
        """Summary.

        Args:
            a: documented.
            c: does not exist.
        """

    problems = _function_problems("f", f)
    assert problems == ["f: documents 'c', which it does not take", "f: parameter 'b' is not documented (Args:)"]
