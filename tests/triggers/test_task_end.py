"""end_from_trigger (triggers/task_end.py): the trigger ends a succeeded step's task with the worker's XComs."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from pipeline_helpers import fail, noop, spec, unique, wait_execution

from airflow_sagemaker_mlops.hooks.pipelines import SageMakerPipelinesHook
from airflow_sagemaker_mlops.triggers.pipelines import PipelineExecutionTrigger
from airflow_sagemaker_mlops.triggers.task_end import (
    JOB_LINK_KEY,
    TaskEnd,
    end_from_trigger_configured,
    job_link_value,
    success_xcoms,
)

JOB_ARN = "arn:aws:sagemaker:eu-west-1:111122223333:processing-job/pipelines-abc-prep"
STEP = {"StepName": "prep", "StepStatus": "Succeeded", "Metadata": {"ProcessingJob": {"Arn": JOB_ARN}}}


def test_the_job_link_is_what_the_worker_persists() -> None:
    from airflow_sagemaker_mlops.links import SageMakerStepJobLink, job_link_fields

    value = job_link_value(STEP, TaskEnd(region_name="us-east-1"))
    # The job's ARN names the region; the link's own formatting gives the console page.
    assert value == {"region_name": "eu-west-1", "aws_domain": SageMakerStepJobLink.get_aws_domain("aws"),
                     **job_link_fields(JOB_ARN)}
    assert "processing-jobs/pipelines-abc-prep" in SageMakerStepJobLink().format_link(**value)
    local = job_link_value(STEP, TaskEnd(region_name="us-east-1", console_base="http://127.0.0.1:8765"))
    assert local["local_url"].startswith("http://127.0.0.1:8765/")
    # A step without a job (a condition): the defaults and no fields, as the worker stores it.
    bare = job_link_value({"StepName": "c", "Metadata": {"Condition": {"Outcome": "True"}}},
                          TaskEnd(region_name="us-east-1"))
    assert bare == {"region_name": "us-east-1", "aws_domain": SageMakerStepJobLink.get_aws_domain("aws")}


def test_xcoms_leave_out_none_and_carry_the_return_value() -> None:
    outputs = {"StepName": "prep", "FailureReason": None, "ProcessingOutputs": {"evaluation": "s3://b/e"}}
    xcoms = success_xcoms(outputs, STEP, TaskEnd())
    assert "FailureReason" not in xcoms
    assert xcoms["ProcessingOutputs"] == {"evaluation": "s3://b/e"} and xcoms["return_value"] == outputs
    assert set(xcoms) == {"StepName", "ProcessingOutputs", "return_value", JOB_LINK_KEY}


def test_the_setting_is_off_unless_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW__SAGEMAKER_MLOPS__END_FROM_TRIGGER", raising=False)
    assert end_from_trigger_configured() is False
    monkeypatch.setenv("AIRFLOW__SAGEMAKER_MLOPS__END_FROM_TRIGGER", "True")
    assert end_from_trigger_configured() is True


def _start(hook: SageMakerPipelinesHook, steps: list[dict[str, Any]]) -> str:
    s = spec(steps)
    hook.upsert_pipeline(s)
    arn = hook.start_execution(s.name, client_request_token=hook.execution_token("task-end", unique()))
    wait_execution(hook, arn)
    return arn


def _first_event(trigger: PipelineExecutionTrigger) -> Any:
    async def main() -> Any:
        async for event in trigger.run():
            return event
        raise AssertionError("no event")

    return asyncio.run(asyncio.wait_for(main(), 30))


def _trigger(arn: str, step: str, in_triggerer: bool = True) -> PipelineExecutionTrigger:
    t = PipelineExecutionTrigger(arn, step_name=step, aws_conn_id=None, poll_interval=0.05,
                                 end_task=TaskEnd(region_name="us-east-1").to_json())
    if in_triggerer:  # the real triggerer sets the task instance on the trigger; `airflow dags test` does not
        t.task_instance = SimpleNamespace(task_id="g.ok", dag_id="d", run_id="r", try_number=1, map_index=-1)
    return t


def test_a_succeeded_step_ends_the_task_with_the_workers_xcoms(hook: SageMakerPipelinesHook) -> None:
    from airflow.triggers.base import TaskSuccessEvent

    arn = _start(hook, [noop("ok")])
    event = _first_event(_trigger(arn, "ok"))
    assert isinstance(event, TaskSuccessEvent)
    (step,) = [s for s in hook.list_steps(arn) if s["StepName"] == "ok"]
    outputs = hook.step_outputs(step)
    assert event.xcoms["return_value"] == outputs and event.xcoms["Outcome"] is True
    assert event.xcoms[JOB_LINK_KEY]["region_name"] == "us-east-1"
    path, kwargs = _trigger(arn, "ok").serialize()
    assert kwargs["end_task"] == {"region_name": "us-east-1", "aws_partition": "aws", "console_base": None}
    assert PipelineExecutionTrigger(**kwargs).serialize() == (path, kwargs)


def test_other_outcomes_and_dags_test_resume_the_worker(hook: SageMakerPipelinesHook) -> None:
    from airflow.triggers.base import BaseTaskEndEvent

    failed = _start(hook, [fail("boom")])
    event = _first_event(_trigger(failed, "boom"))
    assert not isinstance(event, BaseTaskEndEvent) and event.payload["status"] == "failed"
    succeeded = _start(hook, [noop("ok")])
    event = _first_event(_trigger(succeeded, "ok", in_triggerer=False))
    assert not isinstance(event, BaseTaskEndEvent) and event.payload["status"] == "succeeded"


def test_an_error_reading_the_outputs_resumes_the_worker(hook: SageMakerPipelinesHook,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.triggers.base import BaseTaskEndEvent

    arn = _start(hook, [noop("ok")])

    def broken(self: Any, step: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("no credentials in the triggerer")

    monkeypatch.setattr(SageMakerPipelinesHook, "step_outputs", broken)
    event = _first_event(_trigger(arn, "ok"))
    assert not isinstance(event, BaseTaskEndEvent) and event.payload["status"] == "succeeded"
