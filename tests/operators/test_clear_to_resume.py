"""Clear to resume, decided in-process (the scheduler-level run is tests/runtime/test_scheduler.py):
a cleared step task of a failed execution resumes that execution once and waits for the retried attempt."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_sagemaker_mlops.operators.runtime import Follow, follow_after_clear, was_cleared
from airflow_sagemaker_mlops.triggers.pipelines import evaluate

ARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/abc"
OLD = "2026-12-02T10:00:00+00:00"
NEW = "2026-12-02T10:05:00+00:00"


class Hook:
    """What SageMaker answers; RetryPipelineExecution flips the execution to Executing."""

    execution_token = staticmethod(lambda *parts: "|".join(parts))

    def __init__(self, status: str, steps: list[dict[str, Any]]) -> None:
        self.execution = {"PipelineExecutionArn": ARN, "PipelineExecutionStatus": status,
                          "LastModifiedTime": "2026-12-02T10:01:00+00:00"}
        self.steps = steps
        self.retries: list[str] = []

    def describe_execution(self, arn: str) -> dict[str, Any]:
        return self.execution

    def list_steps(self, arn: str) -> list[dict[str, Any]]:
        return self.steps

    def retry_execution(self, arn: str, *, client_request_token: str) -> str:
        self.retries.append(client_request_token)
        self.execution = {**self.execution, "PipelineExecutionStatus": "Executing"}
        return arn


class Task:
    retries = 1

    def __init__(self) -> None:
        self.log = __import__("logging").getLogger("test")


def context(max_tries: int) -> dict[str, Any]:
    return {"ti": type("TI", (), {"max_tries": max_tries})()}


FAILED_B = {"StepName": "b", "StepStatus": "Failed", "StartTime": OLD, "FailureReason": "boom"}


def test_only_a_cleared_task_resumes() -> None:
    assert not was_cleared(Task(), context(1))  # max_tries == retries: first try or Airflow's own retry
    assert was_cleared(Task(), context(3))
    hook = Hook("Failed", [FAILED_B])
    assert follow_after_clear(Task(), context(1), hook, ARN, "b") == Follow(ARN) and hook.retries == []


def test_the_cleared_tasks_of_one_failure_resume_it_once() -> None:
    hook = Hook("Failed", [FAILED_B])
    assert follow_after_clear(Task(), context(3), hook, ARN, "b") == Follow(ARN, resumed_from=OLD)
    assert hook.retries == [f"resume|{ARN}|2026-12-02T10:01:00+00:00"]
    # A second cleared task (step c never ran: upstream of it failed) finds the execution running again.
    assert follow_after_clear(Task(), context(3), hook, ARN, "c") == Follow(ARN)
    assert len(hook.retries) == 1


@pytest.mark.parametrize(("status", "steps"), [
    ("Executing", [{**FAILED_B, "StepStatus": "Succeeded"}]),  # still running: follow it as it is
    ("Succeeded", [FAILED_B]),  # nothing to resume
])
def test_nothing_is_resumed_where_there_is_nothing_to_resume(status: str, steps: list[dict[str, Any]]) -> None:
    hook = Hook(status, steps)
    assert follow_after_clear(Task(), context(3), hook, ARN, "b") == Follow(ARN) and hook.retries == []


def test_the_wait_ignores_the_attempt_being_re_run_while_the_execution_runs() -> None:
    running = {"PipelineExecutionArn": ARN, "PipelineExecutionStatus": "Executing"}
    assert evaluate(ARN, running, [FAILED_B], "b", resumed_from=OLD) is None
    retried = {**FAILED_B, "StepStatus": "Succeeded", "StartTime": NEW}
    assert evaluate(ARN, running, [FAILED_B, retried], "b", resumed_from=OLD)["status"] == "succeeded"
    # Once the execution has ended, the latest attempt is the answer, whatever it is.
    ended = {**running, "PipelineExecutionStatus": "Failed"}
    assert evaluate(ARN, ended, [FAILED_B], "b", resumed_from=OLD)["status"] == "failed"
