"""The fields inside a step's request (``job=``, ``model=``, ``request=``) checked against botocore's shapes.

A Processing, Training, Tuning, Transform, Model or RegisterModel step's ``Arguments`` is the request of a
SageMaker API operation (CreateProcessingJob, ...). ``request_shapes.json``, generated from botocore's
SageMaker model by ``tools/gen_limits.py``, holds those requests' shapes: member names and types, enum
values, lengths, numeric ranges and patterns. What a literal value breaks is reported at parse time with the
field's path (``Arguments.ProcessingResources.ClusterConfig.InstanceType``, which the operator names as the user
wrote it: ``job.ProcessingResources...``).

Pipeline expressions (parameters, step properties, Join, JsonGet, execution variables) are resolved by
SageMaker at run time: only a value that is certainly a string (a Join, an execution variable, a String
parameter) in a field that takes no string is reported. Required members are not checked: SageMaker accepts
the definition without them and fails the step when it starts the job (docs/troubleshooting.md).
"""

from __future__ import annotations

import difflib
import functools
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .expressions import ExecutionVariable, Expression, Join, ParameterRef, StepProperty
from .limits import _matcher

_FILE = Path(__file__).with_name("request_shapes.json")
_RAW_EXPRESSION_KEYS = frozenset({"Get", "Std:Join", "Std:JsonGet"})
#: Scalar shape types, by what a literal of each must be.
_NOT_STRINGS = frozenset({"integer", "float", "boolean", "structure", "list", "map"})


@functools.cache
def _data() -> dict[str, Any]:
    with _FILE.open(encoding="utf-8") as fh:
        return json.load(fh)


def request_types() -> frozenset[str]:
    """The step types whose Arguments are checked."""
    return frozenset(_data()["requests"])


@functools.cache
def _pattern(pattern: str) -> Any:
    """A matcher for botocore's (Java) pattern, or None where Python's ``re`` cannot read it."""
    try:
        return _matcher(pattern)
    except re.error:
        return None


def request_problems(step_type: str, arguments: Any, parameter_types: dict[str, str] | None = None
                     ) -> Iterator[tuple[str, str]]:
    """(field path, why) for each value of ``arguments`` that the step type's request shape refuses.

    ``parameter_types`` maps declared parameter names to their types (``String``, ...), so a String parameter
    in a numeric field is reported.
    """
    spec = _data()["requests"].get(step_type)
    if spec is None or not isinstance(arguments, dict):
        return
    shapes = _data()["shapes"]
    root = shapes[spec["shape"]]
    filled = set(spec["filled"])
    members = root["members"]
    for key, value in arguments.items():
        path = f"Arguments.{key}"
        if key in filled:
            continue
        if key not in members:
            yield path, _unknown_member(key, members, spec["operation"])
            continue
        yield from _check(shapes, members[key], value, path, parameter_types or {})


def _unknown_member(key: Any, members: dict[str, str], where: str) -> str:
    close = difflib.get_close_matches(str(key), list(members), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f" (it takes {', '.join(sorted(members))})"
    return f"{where} has no member {key!r}{hint}"


def _certainly_string(value: Expression, parameter_types: dict[str, str]) -> bool:
    if isinstance(value, Join | ExecutionVariable):
        return True
    return isinstance(value, ParameterRef) and parameter_types.get(value.name, value.type) == "String"


def _check(shapes: dict[str, Any], name: str, value: Any, path: str, parameter_types: dict[str, str]
           ) -> Iterator[tuple[str, str]]:
    shape = shapes[name]
    kind = shape["type"]
    if value is None or kind == "any":
        return
    if isinstance(value, Expression) or (
        isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _RAW_EXPRESSION_KEYS
    ):
        if isinstance(value, Expression) and kind in _NOT_STRINGS and _certainly_string(value, parameter_types):
            yield path, (f"{_describe(value)} is a string when the pipeline runs, but SageMaker takes "
                         f"{_article(kind)} here ({name})")
        return
    if kind == "structure":
        if not isinstance(value, dict):
            yield path, f"must be a dict (SageMaker's {name}), got {type(value).__name__} {_short(value)}"
            return
        members = shape["members"]
        for key, item in value.items():
            if key not in members:
                yield f"{path}.{key}", _unknown_member(key, members, name)
            else:
                yield from _check(shapes, members[key], item, f"{path}.{key}", parameter_types)
        return
    if kind == "list":
        if not isinstance(value, list | tuple):
            yield path, f"must be a list (SageMaker's {name}), got {type(value).__name__} {_short(value)}"
            return
        yield from _size(shape, len(value), path, "entries")
        for i, item in enumerate(value):
            yield from _check(shapes, shape["member"], item, f"{path}[{i}]", parameter_types)
        return
    if kind == "map":
        if not isinstance(value, dict):
            yield path, f"must be a dict (SageMaker's {name}), got {type(value).__name__} {_short(value)}"
            return
        yield from _size(shape, len(value), path, "entries")
        for key, item in value.items():
            if isinstance(key, str):
                for _, why in _check(shapes, shape["key"], key, path, parameter_types):
                    yield f"{path}.{key}", f"the key: {why}"
            yield from _check(shapes, shape["value"], item, f"{path}.{key}", parameter_types)
        return
    why = _scalar_problem(shape, name, value)
    if why:
        yield path, why


def _scalar_problem(shape: dict[str, Any], name: str, value: Any) -> str | None:
    kind = shape["type"]
    low, high = shape.get("min"), shape.get("max")
    if kind == "string":
        if not isinstance(value, str):
            return f"must be a string (SageMaker's {name}), got {type(value).__name__} {_short(value)}"
        enum = shape.get("enum")
        if enum and value not in enum:
            close = difflib.get_close_matches(value, enum, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            shown = ", ".join(enum) if len(enum) <= 12 else ", ".join(enum[:12]) + f", ... ({len(enum)} values)"
            return f"{value!r} is not one of {shown}{hint}"
        if (low is not None and len(value) < low) or (high is not None and len(value) > high):
            return f"{_short(value)} is {len(value)} characters long; SageMaker takes {_range(low, high)} ({name})"
        pattern = shape.get("pattern")
        matcher = _pattern(pattern) if pattern else None
        if matcher is not None and not matcher(value):
            return f"{_short(value)} does not match SageMaker's pattern {pattern} ({name})"
        return None
    if kind in ("integer", "float"):
        number = (int,) if kind == "integer" else (int, float)
        if isinstance(value, bool) or not isinstance(value, number):
            return f"must be {_article(kind)} (SageMaker's {name}), got {type(value).__name__} {_short(value)}"
        if isinstance(value, float) and not math.isfinite(value):
            return None  # reported as not JSON by the compiler's value walk
        if (low is not None and value < low) or (high is not None and value > high):
            return f"{value!r} is out of range: SageMaker takes {_range(low, high)} ({name})"
        return None
    if kind == "boolean" and not isinstance(value, bool):
        return f"must be a boolean (True or False; SageMaker's {name}), got {type(value).__name__} {_short(value)}"
    if kind == "timestamp" and (isinstance(value, bool) or not isinstance(value, int | float | str)):
        return f"must be a timestamp (SageMaker's {name}), got {type(value).__name__}"
    if kind == "blob" and not isinstance(value, str | bytes):
        return f"must be a string (SageMaker's {name}), got {type(value).__name__}"
    return None


def _size(shape: dict[str, Any], count: int, path: str, what: str) -> Iterator[tuple[str, str]]:
    low, high = shape.get("min"), shape.get("max")
    if (low is not None and count < low) or (high is not None and count > high):
        yield path, f"has {count} {what}; SageMaker takes {_range(low, high)}"


def _range(low: Any, high: Any) -> str:
    if high is None:
        return f"at least {low}"
    if not low:
        return f"at most {high}"
    return f"{low} to {high}"


def _article(kind: str) -> str:
    return {"integer": "an integer", "float": "a number", "boolean": "a boolean", "structure": "a dict",
            "list": "a list", "map": "a dict"}[kind]


def _describe(value: Expression) -> str:
    if isinstance(value, ParameterRef):
        return f"String parameter {value.name!r}"
    if isinstance(value, ExecutionVariable):
        return f"Execution.{value.name}"
    return type(value).__name__


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


#: Parameter types and property types that are not strings when the pipeline runs.
_NON_STRING_PARAMETERS = frozenset({"Integer", "Float", "Boolean"})
_NON_STRING_PROPERTIES = frozenset({"integer", "float", "boolean"})


def _not_a_string(value: Any, parameter_types: dict[str, str]) -> bool:
    if isinstance(value, ParameterRef):
        return parameter_types.get(value.name, value.type or "String") in _NON_STRING_PARAMETERS
    if isinstance(value, StepProperty) and value.step_type:
        from .properties import property_type

        return property_type(value.step_type, value.path) in _NON_STRING_PROPERTIES
    return False


def stringify_arguments(step_type: str, arguments: Any, parameter_types: dict[str, str] | None = None) -> Any:
    """``arguments`` with every typed pipeline value in a string-only field turned into a string, as the SDK's
    ``to_string()`` does: ``Join([value], on="")``.

    SageMaker takes only strings in ``Environment``, ``HyperParameters``, ``ContainerArguments`` and the other
    string fields of a request, and an Integer, Float or Boolean parameter (or a numeric step property) there
    fails the step when it starts. The request shape (``request_shapes.json``) says which fields are strings.
    Values whose type is only known at run time (``JsonGet``, callback outputs) are left as written. Returns
    the same object when nothing changes, so definitions without such values are untouched.
    """
    spec = _data()["requests"].get(step_type)
    if spec is None or not isinstance(arguments, dict):
        return arguments
    shapes = _data()["shapes"]
    members = shapes[spec["shape"]]["members"]
    types = parameter_types or {}
    out = {key: _stringify(shapes, members[key], value, types) if key in members else value
           for key, value in arguments.items()}
    return arguments if all(out[k] is arguments[k] for k in arguments) else out


def _stringify(shapes: dict[str, Any], name: str, value: Any, types: dict[str, str]) -> Any:
    shape = shapes[name]
    kind = shape["type"]
    if isinstance(value, Expression):
        return Join([value], on="") if kind == "string" and _not_a_string(value, types) else value
    if kind == "structure" and isinstance(value, dict):
        members = shape["members"]
        out = {k: _stringify(shapes, members[k], v, types) if k in members else v for k, v in value.items()}
    elif kind == "map" and isinstance(value, dict):
        out = {k: _stringify(shapes, shape["value"], v, types) for k, v in value.items()}
    elif kind == "list" and isinstance(value, list | tuple):
        items = [_stringify(shapes, shape["member"], v, types) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    else:
        return value
    return value if all(out[k] is value[k] for k in value) else out
