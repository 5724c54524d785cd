"""The start task reports the execution's experiment/trial and MLflow references (log and XCom)."""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from typing import Any

import pytest

from airflow_sagemaker_mlops.cli import load_groups
from airflow_sagemaker_mlops.hooks.pipelines import SageMakerPipelinesHook
from airflow_sagemaker_mlops.operators.experiments import report_tracking, tracking_references

RT_EXPERIMENTS = Path(__file__).resolve().parents[1] / "runtime" / "dags" / "rt_experiments.py"
TRACKING_SERVER = "arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/rt-team"
ROLE = "arn:aws:iam::123456789012:role/SmPipeline"


class RecordingTI:
    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def start(engine: Any, name: str, **top: Any) -> str:
    sm = engine.client("sagemaker")
    document = {"Version": "2020-12-01", "Parameters": [], **top, "Steps": [
        {"Name": "gate", "Type": "Condition", "Arguments": {"Conditions": [
            {"Type": "Equals", "LeftValue": 1, "RightValue": 1}]}}]}
    sm.create_pipeline(PipelineName=name, PipelineDefinition=json.dumps(document), RoleArn=ROLE)
    return sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]


@pytest.fixture
def hook(sagemaker_local_engine: Any) -> SageMakerPipelinesHook:
    return SageMakerPipelinesHook(aws_conn_id=None)  # AWS_ENDPOINT_URL points at the engine


def test_experiment_trial_and_mlflow_are_logged_and_pushed(sagemaker_local_engine, hook, caplog):
    name = f"tracked-{uuid.uuid4().hex[:8]}"
    arn = start(sagemaker_local_engine, name,
                PipelineExperimentConfig={"ExperimentName": "churn", "TrialName": {
                    "Std:Join": {"On": "-", "Values": ["run", {"Get": "Execution.PipelineExecutionId"}]}}},
                MlflowConfig={"MlflowResourceArn": TRACKING_SERVER,
                              "MlflowExperimentName": {"Get": "Execution.PipelineName"}})
    ti = RecordingTI()
    with caplog.at_level(logging.INFO):
        refs = report_tracking(hook, arn, ti)
    trial = "run-" + arn.rsplit("/", 1)[1]
    assert refs == ti.pushed == {"experiment_name": "churn", "trial_name": trial,
                                 "mlflow_resource_arn": TRACKING_SERVER, "mlflow_experiment_name": name}
    assert f"experiment churn, trial (run group) {trial}" in caplog.text
    assert f"MLflow: tracking server {TRACKING_SERVER}, experiment {name}" in caplog.text
    assert "reports no MLflow run" in caplog.text


def test_a_pipeline_without_either_config_pushes_nothing(sagemaker_local_engine, hook, caplog):
    arn = start(sagemaker_local_engine, f"untracked-{uuid.uuid4().hex[:8]}")
    ti = RecordingTI()
    with caplog.at_level(logging.INFO):
        assert report_tracking(hook, arn, ti) == {}
    assert ti.pushed == {} and "no PipelineExperimentConfig" in caplog.text and "MLflow" not in caplog.text


def test_a_failed_describe_is_a_warning_not_a_failure(sagemaker_local_engine, hook, caplog):
    missing = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/nope/execution/abc"
    assert report_tracking(hook, missing, RecordingTI()) == {}
    assert "Cannot read the experiment and MLflow references" in caplog.text


def test_the_lifecycle_start_operator_reports_them_too(sagemaker_local_engine, hook):
    from airflow_sagemaker_mlops import SageMakerStartPipelineExecutionOperator

    name = f"lifecycle-{uuid.uuid4().hex[:8]}"
    start(sagemaker_local_engine, name, PipelineExperimentConfig={"ExperimentName": "shared", "TrialName": "t1"})
    ti = RecordingTI()
    ti.dag_id, ti.map_index, ti.max_tries = "some_dag", -1, 0
    operator = SageMakerStartPipelineExecutionOperator(task_id="start_by_name", pipeline=name, aws_conn_id=None)
    arn = operator.execute({"ti": ti, "run_id": "manual__1"})
    assert ti.pushed["execution_arn"] == arn
    assert (ti.pushed["experiment_name"], ti.pushed["trial_name"]) == ("shared", "t1")


def test_an_mlflow_run_is_passed_on_when_the_api_reports_one():
    described = {"MLflowConfig": {"MlflowResourceArn": TRACKING_SERVER, "MlflowExperimentName": "e",
                                  "MlflowRunId": "0123abcd"}}
    assert tracking_references(described)["mlflow_run_id"] == "0123abcd"


def test_the_start_task_of_a_groups_dag_file_reports_them(sagemaker_local_engine, monkeypatch, capsys):
    # The group of tests/runtime/dags/rt_experiments.py (its own experiment/trial names, an MLflow server),
    # its start task driven directly against the engine (it was an `airflow dags test` run).
    group = next(iter(load_groups(str(RT_EXPERIMENTS)).values()))
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps({"conn_type": "aws", "extra": {
        "endpoint_url": sagemaker_local_engine.url, "region_name": "us-east-1"}}))
    ti = RecordingTI()
    ti.dag_id, ti.map_index, ti.max_tries = "rt_experiments", -1, 0
    result = group.children["train.start"].execute({"ti": ti, "run_id": f"manual__{uuid.uuid4().hex[:8]}"})
    arn = ti.pushed["execution_arn"]
    trial = "airflow-" + arn.rsplit("/", 1)[1]
    assert (ti.pushed["experiment_name"], ti.pushed["trial_name"]) == ("rt-churn", trial)
    assert ti.pushed["mlflow_resource_arn"] == TRACKING_SERVER
    assert ti.pushed["mlflow_experiment_name"] == "rt-experiments"
    assert result["tracking"]["trial_name"] == trial  # and in its return value (XCom)
    out = capsys.readouterr()
    assert f"trial (run group) {trial}" in out.out + out.err  # the task's log (Airflow's task logger)
    described = sagemaker_local_engine.client("sagemaker").describe_pipeline_execution(PipelineExecutionArn=arn)
    assert described["PipelineExperimentConfig"] == {"ExperimentName": "rt-churn", "TrialName": trial}
