"""Expressions of the definition JSON: ``Get``, ``Std:Join``, ``Std:JsonGet`` and conditions."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

EXPRESSION_KEYS = ("Get", "Std:Join", "Std:JsonGet")
_TOKEN_RE = re.compile(r"""\.([A-Za-z0-9_\-]+)|\[\s*(?:'([^']*)'|"([^"]*)"|(-?\d+))\s*\]""")


class ExpressionError(Exception):
    """An expression that cannot be evaluated; the step using it fails with this message."""


def parse_path(path: str) -> list[str | int]:
    """``.a.b['k'][0]`` -> ``['a', 'b', 'k', 0]``; the path must start with '.' or '['."""
    tokens: list[str | int] = []
    pos = 0
    while pos < len(path):
        match = _TOKEN_RE.match(path, pos)
        if not match:
            raise ExpressionError(f"Cannot parse property path {path!r} at position {pos}")
        attr, sq, dq, index = match.groups()
        if attr is not None:
            tokens.append(attr)
        elif sq is not None or dq is not None:
            tokens.append(sq if sq is not None else dq)
        else:
            tokens.append(int(index))
        pos = match.end()
    return tokens


def walk_path(value: Any, tokens: list[str | int], described: str) -> Any:
    """Follow ``tokens`` into a Describe-shaped value.

    A string key on a list selects the element whose ``*Name`` field equals it, as SageMaker's property
    maps do (``Outputs['train']`` picks the output with ``OutputName`` "train").
    """
    current = value
    trail = described
    for token in tokens:
        if isinstance(current, dict) and isinstance(token, str) and token in current:
            current = current[token]
        elif isinstance(current, list) and isinstance(token, int):
            if not -len(current) <= token < len(current):
                raise ExpressionError(f"{trail}[{token}] is out of range (length {len(current)})")
            current = current[token]
        elif isinstance(current, list) and isinstance(token, str):
            found = [
                item
                for item in current
                if isinstance(item, dict) and any(k.endswith("Name") and v == token for k, v in item.items())
            ]
            if not found:
                raise ExpressionError(f"{trail} has no element named {token!r}")
            current = found[0]
        else:
            raise ExpressionError(f"{trail} has no property {token!r}")
        trail = (
            f"{trail}[{token!r}]"
            if not isinstance(token, str) or not token.isidentifier()
            else (f"{trail}.{token}")
        )
    if isinstance(current, dt.datetime):
        return format_datetime(current)
    return current


def format_datetime(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def to_text(value: Any) -> str:
    """How the service renders a primitive inside ``Std:Join`` (JSON spelling of booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def json_path_get(document: Any, path: str, described: str) -> Any:
    """``a.b[0].c`` (optionally ``$.``-prefixed) into a parsed JSON document."""
    if not isinstance(path, str) or not path:
        raise ExpressionError("Std:JsonGet needs a non-empty Path")
    cleaned = path[2:] if path.startswith("$.") else path.lstrip("$")
    if cleaned and not cleaned.startswith("["):
        cleaned = "." + cleaned
    tokens = parse_path(cleaned)
    current = document
    for token in tokens:
        if isinstance(current, dict) and isinstance(token, str) and token in current:
            current = current[token]
        elif isinstance(current, list) and isinstance(token, int) and -len(current) <= token < len(current):
            current = current[token]
        else:
            raise ExpressionError(f"Std:JsonGet: path {path!r} not found in {described}")
    return current


@dataclass
class Resolver:
    """Evaluates expressions against one execution's state.

    ``step_properties(name)`` returns the Describe-shaped properties of a finished step;
    ``property_file(step, name)`` the parsed JSON of a property file; ``read_s3_json(uri)`` parses an S3
    object. All three raise ExpressionError when the value is unavailable.
    """

    parameters: dict[str, Any]
    execution_variables: Callable[[str], Any]
    step_properties: Callable[[str], dict[str, Any]]
    property_file: Callable[[str, str], Any]
    read_s3_json: Callable[[str], Any]

    def resolve(self, value: Any) -> Any:
        """Resolve every expression inside a JSON value; plain values are returned as they are."""
        if isinstance(value, dict):
            if len(value) == 1:
                key = next(iter(value))
                if key in EXPRESSION_KEYS:
                    return self._evaluate(key, value[key])
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def _evaluate(self, kind: str, body: Any) -> Any:
        if kind == "Get":
            return self._get(body)
        if kind == "Std:Join":
            if not isinstance(body, dict) or not isinstance(body.get("Values"), list):
                raise ExpressionError("Std:Join needs {'On': str, 'Values': [...]}")
            on = to_text(self.resolve(body.get("On", "")))
            return on.join(to_text(self.resolve(v)) for v in body["Values"])
        # Std:JsonGet
        if not isinstance(body, dict):
            raise ExpressionError("Std:JsonGet needs an object")
        path = body.get("Path")
        if "PropertyFile" in body:
            ref = body["PropertyFile"]
            get = ref.get("Get") if isinstance(ref, dict) else None
            match = re.match(r"^Steps\.([A-Za-z0-9\-_]+)\.PropertyFiles\.(.+)$", get or "")
            if not match:
                raise ExpressionError(
                    f"Std:JsonGet PropertyFile must be a Steps.X.PropertyFiles.Y Get: {ref!r}"
                )
            step, name = match.groups()
            document = self.property_file(step, name)
            return json_path_get(document, path, f"property file {name} of step {step}")
        if "S3Uri" in body:
            uri = to_text(self.resolve(body["S3Uri"]))
            return json_path_get(self.read_s3_json(uri), path, uri)
        raise ExpressionError("Std:JsonGet needs PropertyFile or S3Uri")

    def _get(self, ref: Any) -> Any:
        if not isinstance(ref, str):
            raise ExpressionError(f"Get needs a string, got {ref!r}")
        head, _, rest = ref.partition(".")
        if head == "Parameters":
            if rest not in self.parameters:
                raise ExpressionError(f"Parameter {rest} is not defined in the pipeline")
            return self.parameters[rest]
        if head == "Execution":
            return self.execution_variables(rest)
        if head == "Steps":
            match = re.match(r"^([A-Za-z0-9\-_]+)(.*)$", rest)
            if not match:
                raise ExpressionError(f"Invalid step reference {ref!r}")
            step, path = match.groups()
            properties = self.step_properties(step)
            return walk_path(properties, parse_path(path), f"Steps.{step}")
        raise ExpressionError(f"Unknown reference {ref!r}")

    # ---- conditions -------------------------------------------------------------------------------

    def evaluate_all(self, conditions: list[Any]) -> bool:
        """A condition step's ``Conditions`` list is a conjunction."""
        return all(self.evaluate(c) for c in conditions)

    def evaluate(self, condition: Any) -> bool:
        if not isinstance(condition, dict) or "Type" not in condition:
            raise ExpressionError(f"Invalid condition {condition!r}")
        ctype = condition["Type"]
        if ctype in _COMPARATORS:
            left = self.resolve(condition.get("LeftValue"))
            right = self.resolve(condition.get("RightValue"))
            return compare(ctype, left, right)
        if ctype == "In":
            query = self.resolve(condition.get("QueryValue"))
            values = [self.resolve(v) for v in condition.get("Values") or []]
            return any(compare("Equals", query, v) for v in values)
        if ctype == "Not":
            return not self.evaluate(condition.get("Condition") or condition.get("Expression"))
        if ctype == "Or":
            return any(self.evaluate(c) for c in condition.get("Conditions") or [])
        raise ExpressionError(f"Unknown condition type {ctype!r}")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def compare(ctype: str, left: Any, right: Any) -> bool:
    """Compare two primitives; numbers (or numeric strings facing a number) compare numerically."""
    lnum, rnum = _number(left), _number(right)
    numeric = (
        lnum is not None and rnum is not None and (not isinstance(left, str) or not isinstance(right, str))
    )
    if numeric:
        a: Any = lnum
        b: Any = rnum
    elif isinstance(left, bool) or isinstance(right, bool):
        a, b = to_text(left).lower(), to_text(right).lower()
    else:
        a, b = left, right
    if ctype == "Equals":
        return a == b
    try:
        return _COMPARATORS[ctype](a, b)
    except TypeError as exc:
        raise ExpressionError(f"Cannot compare {left!r} and {right!r} with {ctype}") from exc


_COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": lambda a, b: a == b,
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanOrEqualTo": lambda a, b: a >= b,
    "LessThan": lambda a, b: a < b,
    "LessThanOrEqualTo": lambda a, b: a <= b,
}
