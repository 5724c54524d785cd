"""The pipeline sensors decide as the trigger decides: one `evaluate` for poke, check-once and the deferred
wait. A `CompletedWithFailures` execution (a real PipelineExecutionStatus) ends all three."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_sagemaker_mlops.compat import AirflowFailException, AirflowSkipException, PokeReturnValue
from airflow_sagemaker_mlops.hooks.pipelines import SageMakerPipelinesAsyncHook, SageMakerPipelinesHook
from airflow_sagemaker_mlops.sensors.pipelines import (
    SageMakerPipelineExecutionSensor,
    SageMakerPipelineStepSensor,
)
from airflow_sagemaker_mlops.triggers.pipelines import PipelineExecutionTrigger, evaluate

ARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/abc"
COMPLETED_WITH_FAILURES = {"PipelineExecutionArn": ARN, "PipelineExecutionStatus": "CompletedWithFailures",
                           "FailureReason": "step b failed; the pipeline continued"}
# A retried step is listed twice; the latest entry (by StartTime) is the one that counts.
STEPS = [
    {"StepName": "a", "StepStatus": "Failed", "StartTime": "2026-12-02T10:00:00+00:00", "FailureReason": "old"},
    {"StepName": "b", "StepStatus": "Failed", "StartTime": "2026-12-02T10:01:00+00:00", "FailureReason": "boom"},
    {"StepName": "a", "StepStatus": "Succeeded", "StartTime": "2026-12-02T10:05:00+00:00", "Metadata": {}},
]


class Context(dict):
    def __init__(self) -> None:
        super().__init__(ti=_TI())


class _TI:
    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


@pytest.fixture
def snapshot(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What SageMaker answers, to the sync and async hooks alike."""
    state: dict[str, Any] = {"execution": dict(COMPLETED_WITH_FAILURES), "steps": STEPS}
    monkeypatch.setattr(SageMakerPipelinesHook, "describe_execution", lambda self, arn: state["execution"])
    monkeypatch.setattr(SageMakerPipelinesHook, "list_steps", lambda self, arn: state["steps"])
    monkeypatch.setattr(SageMakerPipelinesHook, "step_outputs", lambda self, step: {})

    async def describe(self: Any, arn: str, *, client: Any = None) -> dict[str, Any]:
        return state["execution"]

    async def steps(self: Any, arn: str, *, client: Any = None) -> list[dict[str, Any]]:
        return state["steps"]

    @asynccontextmanager
    async def client(self: Any) -> Any:  # the poller only registers its call counter on it
        yield SimpleNamespace(meta=SimpleNamespace(events=SimpleNamespace(register=lambda *args: None)))

    monkeypatch.setattr(SageMakerPipelinesAsyncHook, "describe_execution", describe)
    monkeypatch.setattr(SageMakerPipelinesAsyncHook, "list_steps", steps)
    monkeypatch.setattr(SageMakerPipelinesAsyncHook, "client", client)
    return state


def _deferred_payload(step_name: str | None) -> dict[str, Any]:
    trigger = PipelineExecutionTrigger(ARN, step_name=step_name, aws_conn_id=None, poll_interval=0.05)

    async def first() -> dict[str, Any]:
        async for event in trigger.run():
            return event.payload
        raise AssertionError("no event")

    return asyncio.run(asyncio.wait_for(first(), 10))


def test_completed_with_failures_ends_the_deferred_wait_and_the_poke_alike(snapshot: dict[str, Any]) -> None:
    deferred = _deferred_payload(None)
    assert deferred["status"] == "completed_with_failures"
    assert deferred == evaluate(ARN, snapshot["execution"], [], None)
    sensor = SageMakerPipelineExecutionSensor(task_id="wait", execution_arn=ARN, deferrable=False, aws_conn_id=None)
    with pytest.raises(AirflowFailException, match="CompletedWithFailures: step b failed"):
        sensor.poke(Context())
    with pytest.raises(AirflowFailException, match="CompletedWithFailures"):
        sensor.execute_complete(Context(), deferred)
    tolerant = SageMakerPipelineExecutionSensor(task_id="wait", execution_arn=ARN, deferrable=False,
                                                aws_conn_id=None, fail_on=("Failed", "Stopped"))
    poked = tolerant.poke(Context())
    assert isinstance(poked, PokeReturnValue) and poked.is_done
    assert poked.xcom_value["status"] == "CompletedWithFailures"


def test_a_still_running_execution_keeps_both_waiting(snapshot: dict[str, Any]) -> None:
    snapshot["execution"] = {**COMPLETED_WITH_FAILURES, "PipelineExecutionStatus": "Executing"}
    snapshot["steps"] = [{"StepName": "a", "StepStatus": "Executing"}]
    sensor = SageMakerPipelineStepSensor(task_id="a", execution_arn=ARN, step_name="a", deferrable=False,
                                         aws_conn_id=None)
    assert sensor.poke(Context()) is False
    assert evaluate(ARN, snapshot["execution"], snapshot["steps"], "a") is None


def test_poke_takes_the_latest_entry_of_a_retried_step_as_the_trigger_does(snapshot: dict[str, Any]) -> None:
    sensor = SageMakerPipelineStepSensor(task_id="a", execution_arn=ARN, step_name="a", deferrable=False,
                                         aws_conn_id=None)
    poked = sensor.poke(Context())
    assert isinstance(poked, PokeReturnValue) and poked.is_done  # the latest entry Succeeded
    assert _deferred_payload("a")["step"]["StartTime"] == STEPS[2]["StartTime"]


def test_a_step_the_execution_never_ran_skips_in_both(snapshot: dict[str, Any]) -> None:
    sensor = SageMakerPipelineStepSensor(task_id="c", execution_arn=ARN, step_name="c", deferrable=False,
                                         aws_conn_id=None)
    with pytest.raises(AirflowSkipException, match="step 'c' was not run"):
        sensor.poke(Context())
    assert _deferred_payload("c")["status"] == "not_run"
