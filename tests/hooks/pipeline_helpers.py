"""Helpers shared by the hook and trigger tests (imported by name: tests/ has no packages)."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from typing import Any

from airflow_sagemaker_mlops.definition import PipelineDefinition, PipelineSpec
from airflow_sagemaker_mlops.hooks.pipelines import SageMakerPipelinesHook

ROLE = "arn:aws:iam::123456789012:role/SageMakerPipeline"
TERMINAL = ("Succeeded", "Failed", "Stopped")


def unique(prefix: str = "p") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def spec(steps: list[dict[str, Any]], parameters: list[dict[str, Any]] | None = None, **settings: Any) -> PipelineSpec:
    """A PipelineSpec from hand-written step JSON, through the pure model."""
    document = {"Version": "2020-12-01", "Metadata": {}, "Parameters": parameters or [], "Steps": steps}
    settings.setdefault("role_arn", ROLE)
    name = settings.pop("name", None) or unique()
    return PipelineSpec(name=name, definition=PipelineDefinition.from_request(document), **settings)


def noop(name: str, **extra: Any) -> dict[str, Any]:
    """A step that runs nothing: an always-true Condition without branches."""
    return condition(name, [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}], **extra)


def condition(
    name: str,
    conditions: list[dict[str, Any]],
    if_steps: list | None = None,
    else_steps: list | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "Condition",
        "Arguments": {"Conditions": conditions, "IfSteps": if_steps or [], "ElseSteps": else_steps or []},
        **extra,
    }


def fail(name: str, message: Any = "boom", **extra: Any) -> dict[str, Any]:
    return {"Name": name, "Type": "Fail", "Arguments": {"ErrorMessage": message}, **extra}


def callback(name: str, queue_url: str, outputs: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "Callback",
        "Arguments": {},
        "SqsQueueUrl": queue_url,
        "OutputParameters": [{"OutputName": k, "OutputType": t} for k, t in (outputs or {}).items()],
        **extra,
    }


def wait_until(predicate: Any, timeout: float = 20.0, interval: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)


def wait_execution(hook: SageMakerPipelinesHook, arn: str, timeout: float = 30.0) -> dict[str, Any]:
    def ended() -> dict[str, Any] | None:
        description = hook.describe_execution(arn)
        return description if description["PipelineExecutionStatus"] in TERMINAL else None

    return wait_until(ended, timeout)


def steps_by_name(hook: SageMakerPipelinesHook, arn: str) -> dict[str, dict[str, Any]]:
    return {s["StepName"]: s for s in hook.list_steps(arn)}


class CallCounter:
    """Counts operations a boto3/aiobotocore client sends (one per HTTP attempt, so retries count)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()  # HTTP attempts by SageMaker operation (retries count)
        self.ops: Counter[str] = Counter()  # operation calls by name (one per call, whatever the retries)
        self.params: list[tuple[str, dict[str, Any]]] = []

    def before_call(self, model: Any, params: Any, **kwargs: Any) -> None:
        self.ops[model.name] += 1

    def before_parameter_build(self, model: Any, params: Any, **kwargs: Any) -> None:
        self.params.append((model.name, dict(params)))

    def sent(self, operation: str) -> list[dict[str, Any]]:
        """The parameters of each ``operation`` call, as the caller passed them."""
        return [p for name, p in self.params if name == operation]

    def before_send(self, request: Any, **kwargs: Any) -> None:
        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else target
        self.calls[target.split(".", 1)[-1] if target else f"{request.method} {request.url}"] += 1

    def attach(self, client: Any) -> CallCounter:
        client.meta.events.register("before-call", self.before_call)
        client.meta.events.register("before-send", self.before_send)
        client.meta.events.register("before-parameter-build", self.before_parameter_build)
        return self

    def detach(self, client: Any) -> None:
        client.meta.events.unregister("before-call", self.before_call)
        client.meta.events.unregister("before-send", self.before_send)
        client.meta.events.unregister("before-parameter-build", self.before_parameter_build)

    def total(self) -> int:
        return sum(self.calls.values())
