"""A group with its own experiment/trial names and an MLflow tracking server: the start task reports both."""

from __future__ import annotations

from rt_common import GROUP_DEFAULTS, START

from airflow_sagemaker_mlops import (
    ConditionStep,
    Execution,
    ExperimentConfig,
    Join,
    PipelineParameter,
    SageMakerPipelineGroup,
)
from airflow_sagemaker_mlops import conditions as C
from airflow_sagemaker_mlops.compat import DAG

TRACKING_SERVER = "arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/rt-team"

with DAG("rt_experiments", schedule=None, start_date=START):
    with SageMakerPipelineGroup(
        group_id="train",
        pipeline_name="rt-experiments",
        parameters={"Score": PipelineParameter.float(0.9)},
        experiment_config=ExperimentConfig("rt-churn", Join(["airflow", Execution.PipelineExecutionId], on="-")),
        mlflow_config={"MlflowResourceArn": TRACKING_SERVER, "MlflowExperimentName": Execution.PipelineName},
        **GROUP_DEFAULTS,
    ) as train:
        ConditionStep(task_id="gate", condition=C.ge(train.parameter("Score"), 0.5))
