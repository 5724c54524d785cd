"""Pipeline steps as SageMaker's definition JSON has them."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from airflow_sagemaker_mlops.exceptions import PipelineDefinitionError
from airflow_sagemaker_mlops.location import locate_init_errors

from . import conditions as C
from .expressions import parse_value, render


class StepType:
    """The ``Type`` strings SageMaker knows (as SageMaker SDK v3 emits them)."""

    PROCESSING = "Processing"
    TRAINING = "Training"
    TUNING = "Tuning"
    TRANSFORM = "Transform"
    CREATE_MODEL = "Model"
    REGISTER_MODEL = "RegisterModel"
    CONDITION = "Condition"
    FAIL = "Fail"
    CALLBACK = "Callback"
    LAMBDA = "Lambda"
    QUALITY_CHECK = "QualityCheck"
    CLARIFY_CHECK = "ClarifyCheck"
    EMR = "EMR"
    EMR_SERVERLESS = "EMRServerless"
    AUTOML = "AutoML"
    ENDPOINT_CONFIG = "EndpointConfig"
    ENDPOINT = "Endpoint"
    INFERENCE_COMPONENT = "InferenceComponent"
    LINEAGE = "Lineage"
    JOB = "Job"
    CLEANUP = "Cleanup"
    FOR_EACH = "ForEach"


#: ``DependsOn`` triggers other than the default (the upstream step completed).
DEPENDS_ON_TRIGGERS = ("Failed", "Stopped", "Any")

STEP_EXCEPTION_TYPES = ("Step.SERVICE_FAULT", "Step.THROTTLING")
JOB_EXCEPTION_TYPES = (
    "SageMaker.JOB_INTERNAL_ERROR",
    "SageMaker.CAPACITY_ERROR",
    "SageMaker.RESOURCE_LIMIT",
)


@locate_init_errors
@dataclass(frozen=True)
class RetryPolicy:
    """One entry of a step's ``RetryPolicies``.

    ``exception_types`` are ``Step.SERVICE_FAULT``/``Step.THROTTLING`` (retries of the step's own service
    calls) and/or ``SageMaker.JOB_INTERNAL_ERROR``/``CAPACITY_ERROR``/``RESOURCE_LIMIT`` (retries of the job).
    Give ``max_attempts`` or ``expire_after_minutes``, not both.

    Args:
        exception_types: the exception types this policy retries (``ExceptionType``), e.g.
            ``["SageMaker.CAPACITY_ERROR"]``.
        interval_seconds: seconds before the first retry (``IntervalSeconds``, 0-43200; default 1).
        backoff_rate: factor the interval grows by per retry (``BackoffRate``; default 2.0).
        max_attempts: at most this many retries (``MaxAttempts``, 1-20).
        expire_after_minutes: retry for at most this many minutes (``ExpireAfterMin``, 0-14400).
    """

    exception_types: tuple[str, ...]
    interval_seconds: int = 1
    backoff_rate: float = 2.0
    max_attempts: int | None = None
    expire_after_minutes: int | None = None

    def __post_init__(self) -> None:
        # Anything but a list or tuple (a string, a number) is kept as given and reported by problems().
        if isinstance(self.exception_types, list | tuple):
            object.__setattr__(self, "exception_types", tuple(self.exception_types))

    def problems(self) -> list[str]:
        """What SageMaker would reject in this setting, one message each (empty: valid)."""
        out = []
        known = STEP_EXCEPTION_TYPES + JOB_EXCEPTION_TYPES
        if not isinstance(self.exception_types, tuple):
            out.append(f"exception_types takes a list of exception type names, got {self.exception_types!r}")
        else:
            for exc in self.exception_types:
                if exc not in known:
                    out.append(f"unknown retry exception type {exc!r} (known: {', '.join(known)})")
            if not self.exception_types:
                out.append("a retry policy needs at least one exception type")
        if (self.max_attempts is None) == (self.expire_after_minutes is None):
            out.append("a retry policy takes max_attempts or expire_after_minutes (exactly one, not both)")
        for what, value, low, high in (("max_attempts", self.max_attempts, 1, 20),
                                       ("expire_after_minutes", self.expire_after_minutes, 0, 14400),
                                       ("interval_seconds", self.interval_seconds, 0, 43200)):
            if value is None and what != "interval_seconds":
                continue
            if not _is_int(value):
                out.append(f"retry {what} must be an integer, got {value!r}")
            elif not low <= value <= high:
                out.append(f"retry {what} must be between {low} and {high}, got {value}")
        rate = self.backoff_rate
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not math.isfinite(rate):
            out.append(f"retry backoff_rate must be a finite number, got {rate!r}")
        elif rate < 0:
            out.append(f"retry backoff_rate must not be negative, got {rate}")
        return out

    def to_request(self) -> dict[str, Any]:
        """The setting as the step's definition JSON has it."""
        # Key order as SageMaker SDK v3 writes it.
        request: dict[str, Any] = {"BackoffRate": self.backoff_rate, "IntervalSeconds": self.interval_seconds}
        if self.max_attempts is not None:
            request["MaxAttempts"] = self.max_attempts
        if self.expire_after_minutes is not None:
            request["ExpireAfterMin"] = self.expire_after_minutes
        request["ExceptionType"] = list(self.exception_types)
        return request

    @classmethod
    def from_request(cls, request: dict[str, Any]) -> RetryPolicy:
        """Read the setting from a step's definition JSON.

        Args:
            request: the JSON object, as ``to_request`` writes it.
        """
        return cls(
            tuple(request["ExceptionType"]),
            request.get("IntervalSeconds", 1),
            request.get("BackoffRate", 2.0),
            request.get("MaxAttempts"),
            request.get("ExpireAfterMin"),
        )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


#: An ISO 8601 duration as SageMaker's CacheConfig.ExpireAfter takes it: P[nY][nM][nW][nD][T[nH][nM][nS]].
ISO_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")


@locate_init_errors
@dataclass(frozen=True)
class CacheConfig:
    """``CacheConfig``: reuse a previous successful run of the step with the same arguments.

    Args:
        enabled: cache the step (``Enabled``; default True).
        expire_after: how long a cached result is reused: an ISO 8601 duration (``P30D``, ``PT12H``); None:
            no expiry.
    """

    enabled: bool = True
    expire_after: str | None = None

    def problems(self) -> list[str]:
        """What SageMaker would reject in this setting, one message each (empty: valid)."""
        out = []
        if not isinstance(self.enabled, bool):
            out.append(f"CacheConfig enabled must be True or False, got {self.enabled!r}")
        if self.expire_after is not None and not (isinstance(self.expire_after, str)
                                                  and ISO_DURATION.match(self.expire_after)):
            out.append(f"cache expiry {self.expire_after!r} is not an ISO 8601 duration such as 'P30D' or 'PT12H'")
        return out

    def to_request(self) -> dict[str, Any]:
        """The setting as the step's definition JSON has it."""
        request: dict[str, Any] = {"Enabled": self.enabled}
        if self.expire_after is not None:
            request["ExpireAfter"] = self.expire_after
        return request

    @classmethod
    def from_request(cls, request: dict[str, Any]) -> CacheConfig:
        """Read the setting from a step's definition JSON.

        Args:
            request: the JSON object, as ``to_request`` writes it.
        """
        return cls(request.get("Enabled", False), request.get("ExpireAfter"))


@locate_init_errors
@dataclass(frozen=True)
class PropertyFile:
    """A JSON file a Processing step writes to one of its outputs, readable with ``JsonGet``.

    Args:
        name: the property file's name (``PropertyFileName``), as ``JsonGet`` names it.
        output_name: the processing output (``ProcessingOutputConfig.Outputs[].OutputName``) that holds it.
        path: the file's path inside that output (``evaluation.json``).
    """

    name: str
    output_name: str
    path: str

    def to_request(self) -> dict[str, Any]:
        """The setting as the step's definition JSON has it."""
        return {"PropertyFileName": self.name, "OutputName": self.output_name, "FilePath": self.path}

    @classmethod
    def from_request(cls, request: dict[str, Any]) -> PropertyFile:
        """Read the setting from a step's definition JSON.

        Args:
            request: the JSON object, as ``to_request`` writes it.
        """
        return cls(request["PropertyFileName"], request["OutputName"], request["FilePath"])


@dataclass(frozen=True)
class DependsOnTrigger:
    """A ``DependsOn`` entry that waits for another outcome of the upstream step than success:
    ``{"Step": "Approve", "Trigger": "Failed"}`` (``Failed``, ``Stopped`` or ``Any``)."""

    step: str
    trigger: str

    def to_request(self) -> dict[str, Any]:
        return {"Step": self.step, "Trigger": self.trigger}


def depends_on_name(entry: str | DependsOnTrigger) -> str:
    return entry.step if isinstance(entry, DependsOnTrigger) else entry


@dataclass
class Step:
    """One step. ``extra`` holds the type-specific top-level keys (``SqsQueueUrl``, ``FunctionArn``,
    ``OutputParameters``, ...) in the order SageMaker SDK v3 writes them."""

    name: str
    type: str
    arguments: Any = field(default_factory=dict)
    depends_on: list[str | DependsOnTrigger] = field(default_factory=list)
    display_name: str | None = None
    description: str | None = None
    retry_policies: list[RetryPolicy] = field(default_factory=list)
    cache_config: CacheConfig | None = None
    property_files: list[PropertyFile] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_request(self) -> dict[str, Any]:
        request: dict[str, Any] = {"Name": self.name, "Type": self.type, "Arguments": self.request_arguments()}
        if self.depends_on:
            request["DependsOn"] = [d.to_request() if isinstance(d, DependsOnTrigger) else d
                                    for d in self.depends_on]
        if self.display_name:
            request["DisplayName"] = self.display_name
        if self.description:
            request["Description"] = self.description
        if self.retry_policies:
            request["RetryPolicies"] = [p.to_request() for p in self.retry_policies]
        if self.cache_config is not None:
            request["CacheConfig"] = self.cache_config.to_request()
        if self.property_files:
            request["PropertyFiles"] = [f.to_request() for f in self.property_files]
        request.update(render(self.extra))
        return request

    def request_arguments(self) -> Any:
        return render(self.arguments)

    def values(self) -> Iterator[Any]:
        """Every value of this step that may hold expressions (not nested steps)."""
        yield self.arguments
        yield self.extra

    def walk(self) -> Iterator[Step]:
        """This step and the steps nested in it (condition branches)."""
        yield self


@dataclass
class ConditionStep(Step):
    """A Condition step: its branches are nested inline in ``Arguments.IfSteps``/``ElseSteps``."""

    type: str = StepType.CONDITION
    conditions: list[C.Condition] = field(default_factory=list)
    if_steps: list[Step] = field(default_factory=list)
    else_steps: list[Step] = field(default_factory=list)

    def request_arguments(self) -> Any:
        return {
            "Conditions": [c.to_request() for c in self.conditions],
            "IfSteps": [s.to_request() for s in self.if_steps],
            "ElseSteps": [s.to_request() for s in self.else_steps],
        }

    def values(self) -> Iterator[Any]:
        yield self.extra
        for condition in self.conditions:
            for nested in condition.conditions():
                yield from nested.operands()

    def walk(self) -> Iterator[Step]:
        yield self
        for step in (*self.if_steps, *self.else_steps):
            yield from step.walk()


def step_from_request(request: dict[str, Any]) -> Step:
    """Read one step (and, for conditions, its branches) from definition JSON."""
    try:
        common: dict[str, Any] = {
            "name": request["Name"],
            "depends_on": [DependsOnTrigger(d["Step"], d["Trigger"]) if isinstance(d, dict) else d
                           for d in request.get("DependsOn", [])],
            "display_name": request.get("DisplayName"),
            "description": request.get("Description"),
            "retry_policies": [RetryPolicy.from_request(p) for p in request.get("RetryPolicies", [])],
            "cache_config": CacheConfig.from_request(request["CacheConfig"]) if "CacheConfig" in request else None,
            "property_files": [PropertyFile.from_request(f) for f in request.get("PropertyFiles", [])],
            "extra": {
                k: parse_value(v)
                for k, v in request.items()
                if k not in _COMMON_KEYS
            },
        }
        if request["Type"] == StepType.CONDITION:
            args = request.get("Arguments", {})
            return ConditionStep(
                conditions=[C.from_request(c) for c in args.get("Conditions", [])],
                if_steps=[step_from_request(s) for s in args.get("IfSteps", [])],
                else_steps=[step_from_request(s) for s in args.get("ElseSteps", [])],
                **common,
            )
        return Step(type=request["Type"], arguments=parse_value(request.get("Arguments", {})), **common)
    except KeyError as exc:
        raise PipelineDefinitionError(
            f"step {request.get('Name', '?')!r}: missing required key {exc.args[0]!r}"
        ) from None


_COMMON_KEYS = frozenset({"Name", "Type", "Arguments", "DependsOn", "DisplayName", "Description",
                          "RetryPolicies", "CacheConfig", "PropertyFiles"})
