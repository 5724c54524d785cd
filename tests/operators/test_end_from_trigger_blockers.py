"""Which step tasks end_from_trigger may end in the triggerer (operators/runtime.end_from_trigger_blocker)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from airflow_sagemaker_mlops import ConditionStep, FailStep, RegisterModelStep, SageMakerPipelineGroup
from airflow_sagemaker_mlops import conditions as C
from airflow_sagemaker_mlops.compat import DAG, Asset
from airflow_sagemaker_mlops.operators import runtime
from airflow_sagemaker_mlops.operators.runtime import end_from_trigger_blocker, task_end_for

ROLE = "arn:aws:iam::123456789012:role/SmPipeline"


@pytest.fixture
def tasks(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr(runtime, "_openlineage_enabled", lambda: False)
    with DAG("d", schedule=None), SageMakerPipelineGroup(group_id="g", pipeline_name="p", role_arn=ROLE,
                                                         job_logs=False):
        plain = FailStep(task_id="plain", error_message="x")
        quiet = FailStep(task_id="quiet", error_message="x", do_xcom_push=False)
        announced = FailStep(task_id="announced", error_message="x", outlets=[Asset("x-test://announced")])
        register = RegisterModelStep(task_id="register", model_package_group="m", image_uri="local/python",
                                     model_data="s3://b/model.tar.gz")
        gate = ConditionStep(task_id="gate", condition=C.eq(1, 1),
                             if_true=[register], if_false=[])
        plain >> gate
        quiet >> gate
        announced >> gate
    return {"plain": plain, "quiet": quiet, "announced": announced, "register": register, "gate": gate}


def test_only_tasks_that_need_nothing_else_of_the_worker(tasks: dict[str, Any]) -> None:
    settings = runtime.pipeline_settings(tasks["plain"])
    assert end_from_trigger_blocker(tasks["plain"], settings) is None
    assert "do_xcom_push" in end_from_trigger_blocker(tasks["quiet"], settings)
    assert "outlets" in end_from_trigger_blocker(tasks["announced"], settings)
    assert "RegisterModelStep" in end_from_trigger_blocker(tasks["register"], settings)
    assert "ConditionStep" in end_from_trigger_blocker(tasks["gate"], settings)
    assert "job_logs" in end_from_trigger_blocker(tasks["plain"], replace(settings, job_logs=True))
    assert "defer" in end_from_trigger_blocker(tasks["plain"], replace(settings, deferrable=False))


def test_openlineage_keeps_the_worker(tasks: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "_openlineage_enabled", lambda: True)
    assert "OpenLineage" in end_from_trigger_blocker(tasks["plain"], runtime.pipeline_settings(tasks["plain"]))


def test_the_trigger_gets_a_task_end_only_when_configured(tasks: dict[str, Any],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    class Hook:  # not the local engine: no console
        conn_config = None

    settings = runtime.pipeline_settings(tasks["plain"])
    monkeypatch.delenv("AIRFLOW__SAGEMAKER_MLOPS__END_FROM_TRIGGER", raising=False)
    assert task_end_for(tasks["plain"], settings, Hook()) is None
    monkeypatch.setenv("AIRFLOW__SAGEMAKER_MLOPS__END_FROM_TRIGGER", "True")
    assert task_end_for(tasks["plain"], settings, Hook()) == {"region_name": None, "aws_partition": "aws",
                                                              "console_base": None}
    assert task_end_for(tasks["gate"], settings, Hook()) is None
