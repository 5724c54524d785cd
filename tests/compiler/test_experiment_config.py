"""The group's experiment_config and mlflow_config: passed through to the definition, checked at parse time."""

from __future__ import annotations

from typing import Any

import pendulum
import pytest

from airflow_sagemaker_mlops import (
    Execution,
    ExperimentConfig,
    FailStep,
    Join,
    PipelineParameter,
    SageMakerPipelineGroup,
)
from airflow_sagemaker_mlops.compat import DAG
from airflow_sagemaker_mlops.definition import ParameterRef, PipelineDefinition, StepProperty
from airflow_sagemaker_mlops.exceptions import PipelineCompileError

TRACKING_SERVER = "arn:aws:sagemaker:us-east-1:111122223333:mlflow-tracking-server/team"


def compiled_definition(**group_kwargs: Any) -> dict[str, Any]:
    with DAG("tracking_dag", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
        with SageMakerPipelineGroup(group_id="grp", pipeline_name="p",
                                    parameters={"Team": PipelineParameter.string("core")}, **group_kwargs) as group:
            FailStep(task_id="f", error_message="x")
    return group.compile().definition.to_request()


def error(**group_kwargs: Any) -> PipelineCompileError:
    with pytest.raises(PipelineCompileError) as info:
        compiled_definition(**group_kwargs)
    assert "group 'grp'" in str(info.value) and __file__ in str(info.value)
    return info.value


def test_both_configs_pass_through_and_round_trip():
    config = ExperimentConfig(Join(["churn", ParameterRef("Team")], on="-"),
                              Join(["run", Execution.PipelineExecutionId], on="-"))
    mlflow = {"MlflowResourceArn": TRACKING_SERVER, "MlflowExperimentName": Execution.PipelineName}
    document = compiled_definition(experiment_config=config, mlflow_config=mlflow)
    assert document["PipelineExperimentConfig"] == {
        "ExperimentName": {"Std:Join": {"On": "-", "Values": ["churn", {"Get": "Parameters.Team"}]}},
        "TrialName": {"Std:Join": {"On": "-", "Values": ["run", {"Get": "Execution.PipelineExecutionId"}]}},
    }
    assert document["MlflowConfig"] == {"MlflowResourceArn": TRACKING_SERVER,
                                        "MlflowExperimentName": {"Get": "Execution.PipelineName"}}
    assert PipelineDefinition.from_request(document).to_request() == document


def test_defaults_and_none():
    assert compiled_definition()["PipelineExperimentConfig"] == {
        "ExperimentName": {"Get": "Execution.PipelineName"}, "TrialName": {"Get": "Execution.PipelineExecutionId"}}
    document = compiled_definition(experiment_config=None)
    assert "PipelineExperimentConfig" not in document and "MlflowConfig" not in document


@pytest.mark.parametrize(("kwargs", "field", "why"), [
    ({"experiment_config": {"ExperimentName": "e"}}, "PipelineExperimentConfig", "must be an ExperimentConfig"),
    ({"experiment_config": ExperimentConfig("has space", "t")}, "PipelineExperimentConfig.ExperimentName",
     "not a valid experiment or trial name"),
    ({"experiment_config": ExperimentConfig("e", ParameterRef("Nope"))}, "PipelineExperimentConfig.TrialName",
     "unknown parameter 'Nope' (declared: Team)"),
    ({"experiment_config": ExperimentConfig(StepProperty("f", ("Outcome",)), "t")},
     "PipelineExperimentConfig.ExperimentName", "before any step has run"),
    ({"experiment_config": ExperimentConfig("e", "{{ run_id }}")}, "PipelineExperimentConfig.TrialName",
     "Jinja templates are not rendered"),
    ({"experiment_config": ExperimentConfig("e", Execution.TrainingJobName)}, "PipelineExperimentConfig.TrialName",
     "only inside a job step"),
    ({"mlflow_config": {"MlflowExperimentName": "x"}}, "MlflowConfig.MlflowResourceArn", "is required"),
    ({"mlflow_config": {"MlflowResourceArn": "arn:aws:s3:::bucket"}}, "MlflowConfig.MlflowResourceArn",
     "is not a SageMaker MLflow ARN"),
    ({"mlflow_config": {"MlflowResourceArn": TRACKING_SERVER, "MlflowExperiment": "x"}}, "MlflowConfig",
     "unknown key 'MlflowExperiment'"),
    ({"mlflow_config": "arn"}, "MlflowConfig", "must be a dict"),
])
def test_mistakes_name_the_field(kwargs, field, why):
    err = error(**kwargs)
    assert err.field == field and why in err.problem, str(err)
