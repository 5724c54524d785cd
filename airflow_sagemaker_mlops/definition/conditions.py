"""Conditions of a ConditionStep.

Build them with the short functions (``eq``, ``gt``, ``ge``, ``lt``, ``le``, ``in_``, ``not_``, ``or_``,
``and_``). SageMaker has no ``And`` condition type: a ConditionStep's list of conditions is an AND, so an
``and_`` at the top of a condition is flattened into that list, and one nested inside ``Or``/``Not`` is
rewritten with De Morgan's law (``a and b`` == ``not (not a or not b)``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from airflow_sagemaker_mlops.exceptions import PipelineDefinitionError
from airflow_sagemaker_mlops.location import locate_errors

from .expressions import Expression, parse_value, render

COMPARISONS = ("Equals", "GreaterThan", "GreaterThanOrEqualTo", "LessThan", "LessThanOrEqualTo")
ORDERINGS = COMPARISONS[1:]


class Condition:
    def to_request(self) -> dict[str, Any]:
        raise NotImplementedError  # pragma: no cover - every subclass defines it

    def operands(self) -> Iterator[Any]:
        """The values (expressions or primitives) this condition reads."""
        return iter(())

    def conditions(self) -> Iterator[Condition]:
        """This condition and all nested in it."""
        yield self


@dataclass(frozen=True)
class Comparison(Condition):
    type: str
    left: Any
    right: Any

    def __post_init__(self) -> None:
        if self.type not in COMPARISONS:
            raise PipelineDefinitionError(f"unknown comparison {self.type!r}")

    def to_request(self) -> dict[str, Any]:
        return {"Type": self.type, "LeftValue": render(self.left), "RightValue": render(self.right)}

    def operands(self) -> Iterator[Any]:
        return iter((self.left, self.right))


@dataclass(frozen=True)
class In(Condition):
    value: Any
    values: tuple[Any, ...]

    def to_request(self) -> dict[str, Any]:
        return {"Type": "In", "QueryValue": render(self.value), "Values": [render(v) for v in self.values]}

    def operands(self) -> Iterator[Any]:
        yield self.value
        yield from self.values


@dataclass(frozen=True)
class Not(Condition):
    condition: Condition

    def to_request(self) -> dict[str, Any]:
        return {"Type": "Not", "Condition": self.condition.to_request()}

    def conditions(self) -> Iterator[Condition]:
        yield self
        yield from self.condition.conditions()


@dataclass(frozen=True)
class Or(Condition):
    items: tuple[Condition, ...]

    def to_request(self) -> dict[str, Any]:
        return {"Type": "Or", "Conditions": [c.to_request() for c in self.items]}

    def conditions(self) -> Iterator[Condition]:
        yield self
        for item in self.items:
            yield from item.conditions()


@dataclass(frozen=True)
class And(Condition):
    """Only exists before compilation: see the module docstring."""

    items: tuple[Condition, ...]

    def to_request(self) -> dict[str, Any]:
        return Not(Or(tuple(_negate(c) for c in self.items))).to_request()

    def conditions(self) -> Iterator[Condition]:
        yield self
        for item in self.items:
            yield from item.conditions()


def _negate(condition: Condition) -> Condition:
    return condition.condition if isinstance(condition, Not) else Not(condition)


def _check(condition: Any, where: str) -> Condition:
    if not isinstance(condition, Condition):
        raise PipelineDefinitionError(
            f"{where} expects conditions built with conditions.eq/gt/ge/lt/le/in_/not_/or_/and_, "
            f"got {type(condition).__name__}", field=where.rstrip("()") if where.endswith("()") else None,
        )
    return condition


@locate_errors
def eq(left: Any, right: Any) -> Comparison:
    """``Equals``: holds when ``left`` is equal ``right``.

    Args:
        left: a literal or an expression (parameter, step property, ``JsonGet``, execution variable).
        right: a literal or an expression; both sides must be able to have the same type.
    """
    return Comparison("Equals", left, right)


@locate_errors
def gt(left: Any, right: Any) -> Comparison:
    """``GreaterThan``: holds when ``left`` is greater than ``right`` (numbers).

    Args:
        left: a literal or an expression (parameter, step property, ``JsonGet``, execution variable).
        right: a literal or an expression; both sides must be able to have the same type.
    """
    return Comparison("GreaterThan", left, right)


@locate_errors
def ge(left: Any, right: Any) -> Comparison:
    """``GreaterThanOrEqualTo``: holds when ``left`` is greater than or equal to ``right`` (numbers).

    Args:
        left: a literal or an expression (parameter, step property, ``JsonGet``, execution variable).
        right: a literal or an expression; both sides must be able to have the same type.
    """
    return Comparison("GreaterThanOrEqualTo", left, right)


@locate_errors
def lt(left: Any, right: Any) -> Comparison:
    """``LessThan``: holds when ``left`` is less than ``right`` (numbers).

    Args:
        left: a literal or an expression (parameter, step property, ``JsonGet``, execution variable).
        right: a literal or an expression; both sides must be able to have the same type.
    """
    return Comparison("LessThan", left, right)


@locate_errors
def le(left: Any, right: Any) -> Comparison:
    """``LessThanOrEqualTo``: holds when ``left`` is less than or equal to ``right`` (numbers).

    Args:
        left: a literal or an expression (parameter, step property, ``JsonGet``, execution variable).
        right: a literal or an expression; both sides must be able to have the same type.
    """
    return Comparison("LessThanOrEqualTo", left, right)


@locate_errors
def in_(value: Any, values: list[Any] | tuple[Any, ...]) -> In:
    """``In``: holds when ``value`` is one of ``values``.

    Args:
        value: a literal or an expression (``QueryValue``).
        values: the literals or expressions to look it up in (``Values``; at least one).
    """
    if isinstance(values, Expression | str | bytes | dict) or not isinstance(values, list | tuple | set | frozenset):
        raise PipelineDefinitionError("in_() needs a list of values to look the query value up in",
                                      field="in_")
    if not values:
        raise PipelineDefinitionError("in_() needs at least one value to look the query value up in", field="in_")
    return In(value, tuple(values))


@locate_errors
def not_(condition: Condition) -> Not:
    """``Not``: holds when ``condition`` does not.

    Args:
        condition: a condition built with these functions.
    """
    return Not(_check(condition, "not_()"))


@locate_errors
def or_(*conditions: Condition) -> Or:
    """``Or``: holds when at least one of ``conditions`` does.

    Args:
        *conditions: conditions built with these functions (at least one).
    """
    if not conditions:
        raise PipelineDefinitionError("or_() needs at least one condition", field="or_")
    return Or(tuple(_check(c, "or_()") for c in conditions))


@locate_errors
def and_(*conditions: Condition) -> And:
    """All of ``conditions``. SageMaker has no ``And``: at the top of a ConditionStep it is flattened into the
    step's list of conditions, inside ``or_``/``not_`` it is rewritten with De Morgan's law.

    Args:
        *conditions: conditions built with these functions (at least one).
    """
    if not conditions:
        raise PipelineDefinitionError("and_() needs at least one condition", field="and_")
    return And(tuple(_check(c, "and_()") for c in conditions))


def flatten(condition: Condition | list[Condition] | tuple[Condition, ...]) -> list[Condition]:
    """The ConditionStep's ``Conditions`` list (an implicit AND) for what the user wrote."""
    items = list(condition) if isinstance(condition, list | tuple) else [condition]
    out: list[Condition] = []
    for item in items:
        item = _check(item, "ConditionStep")
        out.extend(flatten(list(item.items)) if isinstance(item, And) else [item])
    return out


def from_request(request: dict[str, Any]) -> Condition:
    type_ = request.get("Type")
    if type_ in COMPARISONS:
        return Comparison(type_, parse_value(request["LeftValue"]), parse_value(request["RightValue"]))
    if type_ == "In":
        return In(parse_value(request["QueryValue"]), tuple(parse_value(v) for v in request["Values"]))
    if type_ == "Not":
        return Not(from_request(request["Condition"]))
    if type_ == "Or":
        return Or(tuple(from_request(c) for c in request["Conditions"]))
    raise PipelineDefinitionError(f"unknown condition type {type_!r}")


_SYMBOLS = {"Equals": "==", "GreaterThan": ">", "GreaterThanOrEqualTo": ">=", "LessThan": "<",
            "LessThanOrEqualTo": "<="}


def describe(condition: Condition) -> str:
    """The condition as a person reads it: ``evaluate.metrics['metrics.auc'] >= MinAuc``."""
    if isinstance(condition, Comparison):
        return f"{describe_value(condition.left)} {_SYMBOLS[condition.type]} {describe_value(condition.right)}"
    if isinstance(condition, In):
        return f"{describe_value(condition.value)} in [{', '.join(describe_value(v) for v in condition.values)}]"
    if isinstance(condition, Not):
        return f"not ({describe(condition.condition)})"
    if isinstance(condition, Or | And):
        word = " or " if isinstance(condition, Or) else " and "
        return "(" + word.join(describe(c) for c in condition.items) + ")"
    return repr(condition)  # pragma: no cover - every condition type is handled above


def describe_value(value: Any) -> str:
    from .expressions import ExecutionVariable, Join, JsonGet, ParameterRef, StepProperty

    if isinstance(value, ParameterRef):
        return value.name
    if isinstance(value, ExecutionVariable):
        return f"Execution.{value.name}"
    if isinstance(value, StepProperty):
        return f"{value.step_name}.{value.path_text}"
    if isinstance(value, JsonGet):
        source = (f"{value.property_file.step_name}.{value.property_file.name}" if value.property_file is not None
                  else describe_value(value.s3_uri))
        return f"{source}[{value.path!r}]"
    if isinstance(value, Join):
        return f"join({value.on!r}, {', '.join(describe_value(v) for v in value.values)})"
    return repr(value)
