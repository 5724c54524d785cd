"""The status vocabulary (definition/statuses.py) against botocore's enums."""

from __future__ import annotations

import botocore.session
import pytest

from airflow_sagemaker_mlops.definition.statuses import (
    EXECUTION_RUNNING,
    STEP_RUNNING,
    STOPPABLE,
    SUCCEEDED,
    execution_ended,
    step_ended,
)

MODEL = botocore.session.get_session().get_service_model("sagemaker")


def test_running_sets_are_botocore_values() -> None:
    executions = set(MODEL.shape_for("PipelineExecutionStatus").enum)
    steps = set(MODEL.shape_for("StepStatus").enum)
    assert EXECUTION_RUNNING <= executions and STOPPABLE <= EXECUTION_RUNNING and SUCCEEDED in executions
    assert STEP_RUNNING <= steps and SUCCEEDED in steps
    # Everything else botocore lists ends a wait, CompletedWithFailures included.
    assert {s for s in executions if execution_ended(s)} == executions - {"Executing", "Stopping"}
    assert {s for s in steps if step_ended(s)} == {"Succeeded", "Failed", "Stopped"}


@pytest.mark.parametrize("status", ["CompletedWithFailures", "SomethingAwsAddsLater"])
def test_an_unknown_or_new_status_ends_the_wait(status: str) -> None:
    assert execution_ended(status) and step_ended(status)


def test_nothing_known_yet_is_not_an_end() -> None:
    assert not execution_ended(None) and not step_ended(None)
