"""Requests checked against SageMaker's service model, as SageMaker's front end checks them.

botocore's model of the SageMaker API holds each operation's input shape: member types, required
members, enums (``SortBy``, ``SortOrder``, ...) and length/range constraints (``ClientRequestToken`` is 32 to
128 characters, an inline ``PipelineDefinition`` at most 1 MiB, ...). A request that breaks them gets the
``ValidationException`` AWS sends, worded as AWS words it (``1 validation error detected: Value 'x' at
'sortBy' failed to satisfy constraint: Member must satisfy enum value set: [Name, CreationTime]``), before
the engine looks at it. Patterns are not checked (they are Java regexes); the operations check the ones
that matter themselves (pipeline names).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from .errors import ValidationError

MAX_ERRORS = 10


@lru_cache(maxsize=1)
def service_model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("sagemaker")


def operation_names() -> frozenset[str]:
    return frozenset(service_model().operation_names)


def validate_request(operation: str, body: dict[str, Any]) -> None:
    """Raise ValidationError listing what in ``body`` breaks the operation's input shape."""
    shape = service_model().operation_model(operation).input_shape
    if shape is None:
        return
    errors: list[str] = []
    _check(shape, body, "", errors)
    if errors:
        count = len(errors)
        noun = "error" if count == 1 else "errors"
        raise ValidationError(f"{count} validation {noun} detected: " + "; ".join(errors[:MAX_ERRORS]))


def _member_path(parent: str, name: str) -> str:
    name = name[:1].lower() + name[1:]
    return f"{parent}.{name}" if parent else name


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 100 else text[:100] + "..."


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


#: A member type -> what a value of it must be, and what AWS says when it is not.
_TYPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "structure": (lambda v: isinstance(v, dict), "an object"),
    "list": (lambda v: isinstance(v, list), "a list"),
    "map": (lambda v: isinstance(v, dict), "a map"),
    "string": (lambda v: isinstance(v, str), "a string"),
    "integer": (_is_integer, "an integer"),
    "long": (_is_integer, "an integer"),
    "float": (_is_number, "a number"),
    "double": (_is_number, "a number"),
    "boolean": (lambda v: isinstance(v, bool), "a boolean"),
    "timestamp": (lambda v: isinstance(v, int | float | str) and not isinstance(v, bool), "a timestamp"),
}


def _broken(value: Any, path: str, rule: str) -> str:
    return f"Value '{_shown(value)}' at '{path}' failed to satisfy constraint: Member must {rule}"


def _check(shape: Any, value: Any, path: str, errors: list[str]) -> None:
    if value is None:
        return
    kind = shape.type_name
    accepts = _TYPES.get(kind)
    if accepts is not None and not accepts[0](value):
        errors.append(_broken(value, path, f"be {accepts[1]}"))
        return
    if kind == "structure":
        _check_structure(shape, value, path, errors)
    elif kind == "list":
        _check_length(shape, len(value), value, path, errors, "length")
        for index, item in enumerate(value):
            _check(shape.member, item, f"{path}.{index + 1}.member", errors)
    elif kind == "map":
        for key, item in value.items():
            _check(shape.key, key, f"{path}.key", errors)
            _check(shape.value, item, f"{path}.{key}.member", errors)
    elif kind == "string":
        enum = getattr(shape, "enum", None)
        if enum and value not in enum:
            errors.append(_broken(value, path, f"satisfy enum value set: [{', '.join(enum)}]"))
        _check_length(shape, len(value), value, path, errors, "length")
    elif kind in ("integer", "long"):
        _check_length(shape, value, value, path, errors, "value")


def _check_structure(shape: Any, value: dict[str, Any], path: str, errors: list[str]) -> None:
    for name in shape.required_members:
        # Idempotency tokens are filled in by the SDKs; the engine does not insist on them.
        if value.get(name) is None and not shape.members[name].metadata.get("idempotencyToken"):
            errors.append(f"Value null at '{_member_path(path, name)}' failed to satisfy constraint: "
                          "Member must not be null")
    for name, member in shape.members.items():
        if name in value:
            _check(member, value[name], _member_path(path, name), errors)


def _check_length(shape: Any, size: int, value: Any, path: str, errors: list[str], what: str) -> None:
    metadata = shape.metadata
    low, high = metadata.get("min"), metadata.get("max")
    if low is not None and size < low:
        errors.append(_broken(value, path, f"have {what} greater than or equal to {low}"))
    if high is not None and size > high:
        errors.append(_broken(value, path, f"have {what} less than or equal to {high}"))
