"""Pipeline expressions: the values SageMaker resolves at run time.

Each expression renders to the JSON SageMaker expects (``{"Get": ...}``, ``{"Std:Join": ...}``,
``{"Std:JsonGet": ...}``) and parses back from it, so a definition round-trips through JSON.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from airflow_sagemaker_mlops.exceptions import PipelineDefinitionError
from airflow_sagemaker_mlops.location import locate_init_errors

#: The value types SageMaker pipeline parameters and output parameters can have.
PARAMETER_TYPES = ("String", "Integer", "Float", "Boolean")

#: Execution variables SageMaker resolves for every run (``{"Get": "Execution.<name>"}``).
EXECUTION_VARIABLES = (
    "PipelineExecutionId",
    "PipelineExecutionArn",
    "PipelineName",
    "PipelineArn",
    "StartDateTime",
    "CurrentDateTime",
    "TrainingJobName",
    "ProcessingJobName",
)


class Expression:
    """A value SageMaker computes during an execution."""

    #: ``String``/``Integer``/``Float``/``Boolean`` when known at compile time, else None.
    value_type: ClassVar[str | None] = None

    def to_request(self) -> dict[str, Any]:
        raise NotImplementedError  # pragma: no cover - every subclass defines it

    def children(self) -> Iterator[Any]:
        """Nested values (expressions or primitives) this expression is built from."""
        return iter(())

    def walk(self) -> Iterator[Expression]:
        """This expression and every expression nested in it."""
        yield self
        for child in self.children():
            if isinstance(child, Expression):
                yield from child.walk()

    @property
    def type_name(self) -> str | None:
        return self.value_type

    # Expressions are usually built in DAG files where ``str(expr)`` would silently produce a broken
    # value inside an f-string; say so instead.
    def __format__(self, spec: str) -> str:
        from airflow_sagemaker_mlops.location import located

        raise located(
            f"{self!r} cannot be formatted into a string at parse time; its value is only known when the "
            "pipeline runs. Use Join([...]) to build strings from pipeline values."
        )


@dataclass(frozen=True)
class ParameterRef(Expression):
    """``{"Get": "Parameters.<name>"}``; ``type`` is the declared type when known."""

    name: str
    type: str | None = field(default=None, compare=False)
    #: Who made the reference (a group), for error messages and cross-group checks; not serialized.
    origin: Any = field(default=None, compare=False, repr=False)

    def to_request(self) -> dict[str, Any]:
        return {"Get": f"Parameters.{self.name}"}

    @property
    def type_name(self) -> str | None:
        return self.type


@dataclass(frozen=True)
class ExecutionVariable(Expression):
    """``{"Get": "Execution.<name>"}``."""

    name: str
    value_type: ClassVar[str | None] = "String"

    def __post_init__(self) -> None:
        if self.name not in EXECUTION_VARIABLES:
            raise PipelineDefinitionError(
                f"unknown execution variable {self.name!r}; known: {', '.join(EXECUTION_VARIABLES)}"
            )

    def to_request(self) -> dict[str, Any]:
        return {"Get": f"Execution.{self.name}"}


class Execution:
    """The execution variables, spelled as attributes: ``Execution.PipelineExecutionId``.

    Each is ``{"Get": "Execution.<name>"}``, a String resolved when the step runs.

    Attributes:
        PipelineExecutionId: the execution's id (the last part of its ARN).
        PipelineExecutionArn: the execution's ARN.
        PipelineName: the pipeline's name.
        PipelineArn: the pipeline's ARN.
        StartDateTime: when the execution started.
        CurrentDateTime: when the step that reads it runs.
        TrainingJobName: the name of the step's own training job (in a Training step's arguments).
        ProcessingJobName: the name of the step's own processing job (in a Processing step's arguments).
    """

    PipelineExecutionId = ExecutionVariable("PipelineExecutionId")
    PipelineExecutionArn = ExecutionVariable("PipelineExecutionArn")
    PipelineName = ExecutionVariable("PipelineName")
    PipelineArn = ExecutionVariable("PipelineArn")
    StartDateTime = ExecutionVariable("StartDateTime")
    CurrentDateTime = ExecutionVariable("CurrentDateTime")
    TrainingJobName = ExecutionVariable("TrainingJobName")
    ProcessingJobName = ExecutionVariable("ProcessingJobName")


# One segment of a property path: an attribute name, a map key (``['k']``) or a list index (``[0]``).
@dataclass(frozen=True)
class Key:
    key: str


PathSegment = str | Key | int

_SEGMENT = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_]*)|\['((?:[^'\\]|\\.)*)'\]|\[(\d+)\]")


def format_path(segments: tuple[PathSegment, ...]) -> str:
    out: list[str] = []
    for seg in segments:
        if isinstance(seg, Key):
            out.append(f"['{seg.key}']")
        elif isinstance(seg, int):
            out.append(f"[{seg}]")
        else:
            out.append(f".{seg}" if out else seg)
    return "".join(out)


def parse_path(text: str) -> tuple[PathSegment, ...]:
    segments: list[PathSegment] = []
    pos = 0
    while pos < len(text):
        match = _SEGMENT.match(text, pos)
        if not match or (match.group(0).startswith(".") and not segments) or match.end() == pos:
            raise PipelineDefinitionError(f"malformed property path {text!r} at character {pos}")
        attr, key, index = match.groups()
        if attr is not None:
            segments.append(attr)
        elif key is not None:
            segments.append(Key(key))
        else:
            segments.append(int(index))
        pos = match.end()
    if not segments:
        raise PipelineDefinitionError("empty property path")
    return tuple(segments)


@dataclass(frozen=True)
class StepProperty(Expression):
    """``{"Get": "Steps.<step>.<path>"}``: a property of another step's Describe response.

    A reference to a step is also a data dependency on it.
    """

    step_name: str
    path: tuple[PathSegment, ...]
    #: The producing step's type ("Training", ...), used to check the path; not serialized.
    step_type: str | None = field(default=None, compare=False)
    #: The object that produced the reference (a step operator), for group membership checks.
    origin: Any = field(default=None, compare=False, repr=False)

    def to_request(self) -> dict[str, Any]:
        return {"Get": f"Steps.{self.step_name}.{format_path(self.path)}"}

    @property
    def path_text(self) -> str:
        return format_path(self.path)


@dataclass(frozen=True)
class PropertyFileRef:
    """A step's property file as a value: ``{"Get": "Steps.<step>.PropertyFiles.<name>"}``."""

    step_name: str
    name: str
    origin: Any = field(default=None, compare=False, repr=False)

    def to_request(self) -> dict[str, Any]:
        return {"Get": f"Steps.{self.step_name}.PropertyFiles.{self.name}"}


@locate_init_errors
@dataclass(frozen=True)
class Join(Expression):
    """``{"Std:Join": {"On": on, "Values": [...]}}``: string concatenation at run time.

    Args:
        values: the parts: strings, numbers, parameters, step properties, other expressions.
        on: the separator (default: none).
    """

    values: tuple[Any, ...]
    on: str = ""
    value_type: ClassVar[str | None] = "String"

    def __init__(self, values: list[Any] | tuple[Any, ...], on: str = "") -> None:
        if isinstance(values, str | bytes | dict) or not isinstance(values, list | tuple):
            raise PipelineDefinitionError(f"Join takes a list of values, got {type(values).__name__}", field="Join")
        if not isinstance(on, str):
            raise PipelineDefinitionError(f"Join's separator (on=) must be a string, got {on!r}", field="Join")
        object.__setattr__(self, "values", tuple(values))
        object.__setattr__(self, "on", on)

    def to_request(self) -> dict[str, Any]:
        """The expression as the definition JSON has it."""
        return {"Std:Join": {"On": self.on, "Values": [render(v) for v in self.values]}}

    def children(self) -> Iterator[Any]:
        return iter(self.values)


@dataclass(frozen=True)
class JsonGet(Expression):
    """``{"Std:JsonGet": ...}``: a value read from a JSON file at run time.

    Either from a step's property file (``property_file``) or from an S3 URI (``s3_uri``).
    """

    path: str
    property_file: PropertyFileRef | None = None
    s3_uri: Any = None

    def __post_init__(self) -> None:
        if (self.property_file is None) == (self.s3_uri is None):
            raise PipelineDefinitionError("JsonGet needs exactly one of a property file or an S3 URI")

    def to_request(self) -> dict[str, Any]:
        if self.property_file is not None:
            return {"Std:JsonGet": {"PropertyFile": self.property_file.to_request(), "Path": self.path}}
        return {"Std:JsonGet": {"S3Uri": render(self.s3_uri), "Path": self.path}}

    def children(self) -> Iterator[Any]:
        return iter(() if self.s3_uri is None else (self.s3_uri,))


def render(value: Any) -> Any:
    """Turn a value that may contain expressions into SageMaker's request JSON."""
    if isinstance(value, Expression):
        return value.to_request()
    if isinstance(value, dict):
        return {k: render(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [render(v) for v in value]
    return value


def iter_expressions(value: Any) -> Iterator[Expression]:
    """Every expression anywhere inside a nested value (dicts, lists, expressions)."""
    if isinstance(value, Expression):
        yield from value.walk()
    elif isinstance(value, dict):
        for v in value.values():
            yield from iter_expressions(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from iter_expressions(v)


_GET_STEP_FILE = re.compile(r"^Steps\.([^.]+)\.PropertyFiles\.(.+)$")


def parse_expression(value: dict[str, Any]) -> Expression | None:
    """The expression a JSON object stands for, or None when it is a plain object."""
    if len(value) != 1:
        return None
    (key, body), = value.items()
    if key == "Get" and isinstance(body, str):
        head, _, rest = body.partition(".")
        if head == "Parameters" and rest:
            return ParameterRef(rest)
        if head == "Execution" and rest:
            return ExecutionVariable(rest)
        if head == "Steps" and rest:
            step, _, path = rest.partition(".")
            if step and path:
                return StepProperty(step, parse_path(path))
        raise PipelineDefinitionError(f"cannot read expression {{'Get': {body!r}}}")
    if key == "Std:Join" and isinstance(body, dict):
        return Join([parse_value(v) for v in body.get("Values", [])], on=body.get("On", ""))
    if key == "Std:JsonGet" and isinstance(body, dict):
        if "PropertyFile" in body:
            ref = body["PropertyFile"]
            match = _GET_STEP_FILE.match(ref.get("Get", "")) if isinstance(ref, dict) else None
            if not match:
                raise PipelineDefinitionError(f"cannot read JsonGet property file {ref!r}")
            return JsonGet(body["Path"], property_file=PropertyFileRef(match.group(1), match.group(2)))
        return JsonGet(body["Path"], s3_uri=parse_value(body["S3Uri"]))
    return None


def parse_value(value: Any) -> Any:
    """Inverse of :func:`render`: read expressions back out of request JSON."""
    if isinstance(value, dict):
        expr = parse_expression(value)
        if expr is not None:
            return expr
        return {k: parse_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [parse_value(v) for v in value]
    return value


