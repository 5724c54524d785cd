"""PipelineExperimentConfig and MLflowConfig: resolved per execution, reported by DescribePipelineExecution."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from engine_helpers import ROLE, steps_of, unique, wait

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


def test_a_step_property_in_the_experiment_config_is_refused_at_create(sm):
    """The shared definition check (definition.read) refuses it when the pipeline is created: the value is
    resolved when an execution starts, before any step has run."""
    with pytest.raises(ClientError) as caught:
        create(sm, PipelineExperimentConfig={"ExperimentName": {"Get": "Steps.gate.Outcome"}, "TrialName": "t"})
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "PipelineExperimentConfig.ExperimentName" in error["Message"] and "before any step" in error["Message"]


SDK_DEFAULT_EXPERIMENT = {"ExperimentName": {"Get": "Execution.PipelineName"},
                          "TrialName": {"Get": "Execution.PipelineExecutionId"}}
PROCESSING = {"Name": "prep", "Type": "Processing", "Arguments": {
    "AppSpecification": {"ImageUri": "local/python"},
    "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.t3.medium",
                                              "VolumeSizeInGB": 1}},
    "RoleArn": ROLE}}


def test_executions_create_the_experiment_a_trial_each_and_a_component_per_job(sm, fake_jobs):
    """SageMaker's PipelineExperimentConfig: the experiment once per pipeline, a trial per execution, a trial
    component per job step associated with that trial (DescribeExperiment, ListTrials, ListTrialComponents)."""
    name = create(sm, steps=[PROCESSING], PipelineExperimentConfig=SDK_DEFAULT_EXPERIMENT)
    arns = [sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"] for _ in range(2)]
    for arn in arns:
        assert wait(sm, arn)["PipelineExecutionStatus"] == "Succeeded"
    described = sm.describe_experiment(ExperimentName=name)
    assert described["ExperimentArn"] == f"arn:aws:sagemaker:us-east-1:123456789012:experiment/{name.lower()}"
    trials = {t["TrialName"] for t in sm.list_trials(ExperimentName=name)["TrialSummaries"]}
    assert trials == {arn.rsplit("/", 1)[1] for arn in arns}
    for arn in arns:
        trial = arn.rsplit("/", 1)[1]
        assert sm.describe_trial(TrialName=trial)["ExperimentName"] == name
        components = sm.list_trial_components(TrialName=trial)["TrialComponentSummaries"]
        job_arn = steps_of(sm, arn)["prep"]["Metadata"]["ProcessingJob"]["Arn"]
        assert [c["TrialComponentName"] for c in components] == [f"{job_arn.rsplit('/', 1)[1]}-aws-processing-job"]
        component = sm.describe_trial_component(TrialComponentName=components[0]["TrialComponentName"])
        assert component["Status"]["PrimaryStatus"] == "Completed"


def test_the_system_tests_experiment_teardown_works(sm, fake_jobs):
    """The Amazon provider's system tests tear down with list_trials, list_trial_components,
    disassociate_trial_component, delete_trial_component, delete_trial and delete_experiment."""
    name = create(sm, steps=[PROCESSING], PipelineExperimentConfig=SDK_DEFAULT_EXPERIMENT)
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert wait(sm, arn)["PipelineExecutionStatus"] == "Succeeded"
    for trial in [t["TrialName"] for t in sm.list_trials(ExperimentName=name)["TrialSummaries"]]:
        for component in sm.list_trial_components(TrialName=trial)["TrialComponentSummaries"]:
            sm.disassociate_trial_component(TrialComponentName=component["TrialComponentName"], TrialName=trial)
            sm.delete_trial_component(TrialComponentName=component["TrialComponentName"])
        sm.delete_trial(TrialName=trial)
    sm.delete_experiment(ExperimentName=name)
    with pytest.raises(ClientError) as gone:
        sm.describe_experiment(ExperimentName=name)
    assert gone.value.response["Error"]["Code"] == "ResourceNotFound"
    assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_without_an_experiment_config_no_experiment_is_created(sm, fake_jobs):
    name = create(sm, steps=[PROCESSING])
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert wait(sm, arn)["PipelineExecutionStatus"] == "Succeeded"
    with pytest.raises(ClientError) as missing:
        sm.describe_experiment(ExperimentName=name)
    assert missing.value.response["Error"]["Code"] == "ResourceNotFound"
