"""PipelineExperimentConfig and MLflowConfig: resolved per execution, reported by DescribePipelineExecution."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from engine_helpers import ROLE, unique, wait

TRACKING_SERVER = "arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/team"
CONDITION = {"Name": "gate", "Type": "Condition", "Arguments": {"Conditions": [
    {"Type": "Equals", "LeftValue": 1, "RightValue": 1}]}}


def create(sm: Any, steps: list[dict[str, Any]] | None = None, parameters: list[dict[str, Any]] | None = None,
           **top: Any) -> str:
    name = unique("Tracked")
    document = {"Version": "2020-12-01", "Metadata": {}, "Parameters": parameters or [], **top,
                "Steps": steps or [CONDITION]}
    sm.create_pipeline(PipelineName=name, PipelineDefinition=json.dumps(document), RoleArn=ROLE)
    return name


def test_the_sdk_default_names_experiment_and_trial_after_pipeline_and_execution(sm):
    name = create(sm, PipelineExperimentConfig={"ExperimentName": {"Get": "Execution.PipelineName"},
                                                "TrialName": {"Get": "Execution.PipelineExecutionId"}})
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    described = wait(sm, arn)
    assert described["PipelineExperimentConfig"] == {"ExperimentName": name, "TrialName": arn.rsplit("/", 1)[1]}
    assert "MLflowConfig" not in described


def test_expressions_with_parameters_resolve_with_the_values_the_execution_runs_with(sm):
    name = create(
        sm,
        parameters=[{"Name": "Team", "Type": "String", "DefaultValue": "core"}],
        PipelineExperimentConfig={
            "ExperimentName": {"Std:Join": {"On": "-", "Values": ["churn", {"Get": "Parameters.Team"}]}},
            "TrialName": {"Std:Join": {"On": "", "Values": ["run-", {"Get": "Execution.PipelineExecutionId"}]}},
        },
    )
    default = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    other = sm.start_pipeline_execution(PipelineName=name, PipelineParameters=[{"Name": "Team", "Value": "growth"}],
                                        )["PipelineExecutionArn"]
    assert wait(sm, default)["PipelineExperimentConfig"] == {
        "ExperimentName": "churn-core", "TrialName": "run-" + default.rsplit("/", 1)[1]}
    assert wait(sm, other)["PipelineExperimentConfig"]["ExperimentName"] == "churn-growth"


def test_without_a_config_nothing_is_reported(sm):
    arn = sm.start_pipeline_execution(PipelineName=create(sm))["PipelineExecutionArn"]
    described = wait(sm, arn)
    assert "PipelineExperimentConfig" not in described and "MLflowConfig" not in described


def test_mlflow_config_is_reported_and_the_start_request_overrides_its_experiment(sm):
    name = create(sm, MlflowConfig={"MlflowResourceArn": TRACKING_SERVER,
                                    "MlflowExperimentName": {"Get": "Execution.PipelineName"}})
    plain = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    override = sm.start_pipeline_execution(PipelineName=name, MlflowExperimentName="ad-hoc")["PipelineExecutionArn"]
    assert wait(sm, plain)["MLflowConfig"] == {"MlflowResourceArn": TRACKING_SERVER, "MlflowExperimentName": name}
    assert wait(sm, override)["MLflowConfig"] == {"MlflowResourceArn": TRACKING_SERVER,
                                                  "MlflowExperimentName": "ad-hoc"}


def test_jobs_of_the_execution_are_recorded_under_its_trial(sm, fake_jobs):
    processing = {"Name": "prep", "Type": "Processing", "Arguments": {
        "AppSpecification": {"ImageUri": "local/python"},
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.t3.medium",
                                                  "VolumeSizeInGB": 1}},
        "RoleArn": ROLE}}
    name = create(sm, steps=[processing], PipelineExperimentConfig={"ExperimentName": "exp", "TrialName": "trial"})
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert wait(sm, arn)["PipelineExecutionStatus"] == "Succeeded"
    (_, _, request), = fake_jobs.calls
    assert request["ExperimentConfig"] == {"ExperimentName": "exp", "TrialName": "trial",
                                           "TrialComponentDisplayName": "prep"}


def test_a_step_property_in_the_experiment_config_is_refused_at_start(sm):
    name = create(sm, PipelineExperimentConfig={"ExperimentName": {"Get": "Steps.gate.Outcome"}, "TrialName": "t"})
    with pytest.raises(ClientError) as caught:
        sm.start_pipeline_execution(PipelineName=name)
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "PipelineExperimentConfig.ExperimentName" in error["Message"] and "gate" in error["Message"]
