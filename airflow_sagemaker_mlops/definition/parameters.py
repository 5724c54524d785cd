"""Typed pipeline parameters: what may change from one execution to the next."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_sagemaker_mlops.exceptions import PipelineDefinitionError
from airflow_sagemaker_mlops.location import locate_errors, locate_init_errors

from .expressions import PARAMETER_TYPES
from .limits import limit
from .limits import problem as limit_problem


def check_value(type_: str, value: Any) -> str | None:
    """None when ``value`` is a valid value of SageMaker parameter type ``type_``, else why not."""
    if type_ == "String":
        ok = isinstance(value, str)
    elif type_ == "Integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif type_ == "Float":
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    elif type_ == "Boolean":
        ok = isinstance(value, bool)
    else:
        return f"unknown parameter type {type_!r} (expected one of {', '.join(PARAMETER_TYPES)})"
    return None if ok else f"{value!r} ({type(value).__name__}) is not a {type_}"


def coerce_value(type_: str, value: Any) -> Any:
    """Convert a per-run value (often a string from Jinja or a form) to the declared type.

    Raises PipelineDefinitionError naming the type when the value does not fit.
    """
    if type_ == "String":
        if isinstance(value, str):
            return value
        if isinstance(value, bool | int | float):
            return str(value)
    elif type_ == "Boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
    elif type_ == "Integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
    elif type_ == "Float":
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        if isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                number = math.nan
            if math.isfinite(number):
                return number
    raise PipelineDefinitionError(f"{value!r} ({type(value).__name__}) is not a valid {type_}")


@locate_init_errors
@dataclass(frozen=True)
class PipelineParameter:
    """A parameter declaration: type, default value and, for strings, the allowed values.

    The name comes from the key it is declared under (``parameters={"MinAuc": ...}``). The class methods
    ``string``, ``integer``, ``float`` and ``boolean`` are the usual way to build one.

    Args:
        type: ``String``, ``Integer``, ``Float`` or ``Boolean``.
        default: the ``DefaultValue`` (None: every run must give a value).
        enum_values: for a String, the allowed values (``EnumValues``).
    """

    type: str
    default: Any = None
    enum_values: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.type not in PARAMETER_TYPES:
            from airflow_sagemaker_mlops.location import located

            raise located(PipelineDefinitionError(
                f"unknown parameter type {self.type!r} (expected one of {', '.join(PARAMETER_TYPES)})",
                field="PipelineParameter.type",
            ))
        if isinstance(self.enum_values, list | tuple):
            object.__setattr__(self, "enum_values", tuple(self.enum_values))

    @classmethod
    @locate_errors
    def string(cls, default: str | None = None, enum_values: list[str] | None = None) -> PipelineParameter:
        """A String parameter, e.g. ``PipelineParameter.string('s3://bucket/raw/')``.

        Args:
            default: the default value (None: every run must give one).
            enum_values: the allowed values (``EnumValues``).
        """
        return cls("String", default, enum_values)  # type: ignore[arg-type]  # a list becomes a tuple

    @classmethod
    @locate_errors
    def integer(cls, default: int | None = None) -> PipelineParameter:
        """An Integer parameter, e.g. ``PipelineParameter.integer(5000)``.

        Args:
            default: the default value (None: every run must give one).
        """
        return cls("Integer", default)

    @classmethod
    @locate_errors
    def float(cls, default: float | None = None) -> PipelineParameter:
        """A Float parameter, e.g. ``PipelineParameter.float(0.8)``.

        Args:
            default: the default value (None: every run must give one).
        """
        return cls("Float", default)

    @classmethod
    @locate_errors
    def boolean(cls, default: bool | None = None) -> PipelineParameter:
        """A Boolean parameter, e.g. ``PipelineParameter.boolean(True)``.

        Args:
            default: the default value (None: every run must give one).
        """
        return cls("Boolean", default)

    def problems(self) -> list[str]:
        """What SageMaker would reject in this declaration."""
        out: list[str] = []
        if self.default is not None:
            why = check_value(self.type, self.default)
            if why:
                out.append(f"default value {why}")
            elif isinstance(self.default, str) and (why := limit_problem("ParameterValue", self.default,
                                                                         "the default value")):
                out.append(f"{why} (a parameter's value, Parameter.Value)")
        if self.enum_values is not None:
            if self.type != "String":
                out.append(f"enum values are only allowed on String parameters, not {self.type}")
            elif not isinstance(self.enum_values, tuple):
                out.append(f"enum values take a list of strings, got {type(self.enum_values).__name__}")
            elif not self.enum_values:
                out.append("enum values must not be empty")
            elif not all(isinstance(v, str) for v in self.enum_values):
                out.append("enum values must all be strings")
            elif too_long := [v for v in self.enum_values if limit_problem("ParameterValue", v, "v")]:
                out.append(f"enum value {too_long[0][:40]!r}... is {len(too_long[0])} characters long; a parameter's "
                           f"value (Parameter.Value) takes at most {limit('ParameterValue')['max']}")
            elif self.default is not None and self.default not in self.enum_values:
                out.append(f"default value {self.default!r} is not one of the enum values {list(self.enum_values)}")
        return out

    def to_request(self, name: str) -> dict[str, Any]:
        """The declaration as the definition's ``Parameters`` entry.

        Args:
            name: the parameter's name.
        """
        request: dict[str, Any] = {"Name": name, "Type": self.type}
        if self.default is not None:
            request["DefaultValue"] = self.default
        if self.enum_values is not None:
            request["EnumValues"] = list(self.enum_values)
        return request

    @classmethod
    def from_request(cls, request: dict[str, Any]) -> tuple[str, PipelineParameter]:
        """Read a definition's ``Parameters`` entry.

        Args:
            request: ``{"Name": ..., "Type": ..., "DefaultValue": ..., "EnumValues": [...]}``.

        Returns:
            The name and the declaration.
        """
        enum = request.get("EnumValues")
        return request["Name"], cls(request["Type"], request.get("DefaultValue"), tuple(enum) if enum else None)


def check_run_values(
    values: Mapping[str, Any], declared: Mapping[str, PipelineParameter]
) -> tuple[dict[str, Any], list[str]]:
    """Per-run parameter values (StartPipelineExecution's ``PipelineParameters``) against the declarations:
    the values coerced to their declared types, and every problem, each naming ``parameter_values[<name>]``.

    The one check of run values: the start task, the lifecycle start operator and the hook all come here, so
    a value fails the same way wherever it is given. None means "use the default". Checked as SageMaker
    checks: the parameter is declared, the value fits its type, a String value is one of its enum values and
    within the length limit, a parameter without a default gets a value.
    """
    from .limits import problem as limit_problem

    coerced: dict[str, Any] = {}
    problems: list[str] = []
    known = ", ".join(sorted(declared)) or "none"
    for name, value in values.items():
        if name not in declared and value is not None:
            problems.append(f"parameter_values[{name!r}]: no such pipeline parameter (declared: {known})")
    for name, param in declared.items():
        where = f"parameter_values[{name!r}]"
        value = values.get(name)
        if value is None:
            if param.default is None:
                problems.append(f"{where}: parameter {name!r} has no default value and no value was given")
            continue
        try:
            value = coerce_value(param.type, value)
        except PipelineDefinitionError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if param.enum_values is not None and value not in param.enum_values:
            problems.append(f"{where}: {value!r} is not one of the enum values {list(param.enum_values)}")
            continue
        if isinstance(value, str) and (why := limit_problem("ParameterValue", value, "the value")):
            problems.append(f"{where}: {why}")
            continue
        coerced[name] = value
    return coerced, problems
