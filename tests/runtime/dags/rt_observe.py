"""Step logs and metrics: a training step whose task log shows the script's output and whose XCom has its
metrics, an evaluation whose property file goes to XCom, and (rt_observe_failing, polling on the worker)
a training step that fails after many lines: its error carries the tail of the job log."""

from __future__ import annotations

from typing import Any

from rt_common import CODE_BUCKET, DATA_BUCKET, GROUP_DEFAULTS, ROLE, START, processing_job

from airflow_sagemaker_mlops import (
    CodeAsset,
    Execution,
    Join,
    ProcessingStep,
    PropertyFile,
    SageMakerPipelineGroup,
    TrainingStep,
)
from airflow_sagemaker_mlops.compat import DAG


def training_job(env: dict[str, str]) -> dict[str, Any]:
    return {
        "RoleArn": ROLE,
        "AlgorithmSpecification": {
            "TrainingImage": "local/python", "TrainingInputMode": "File",
            "ContainerEntrypoint": ["python3", "/opt/ml/input/data/code/train.py"],
            "MetricDefinitions": [{"Name": "validation:auc", "Regex": r"validation:auc=([0-9.]+)"},
                                  {"Name": "train:loss", "Regex": r"train:loss=([0-9.]+)"}]},
        "InputDataConfig": [{"ChannelName": "code", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": CodeAsset("scripts/train.py", bucket=CODE_BUCKET)}}}],
        "OutputDataConfig": {"S3OutputPath": Join([f"s3://{DATA_BUCKET}", "models", Execution.PipelineExecutionId],
                                                  on="/")},
        "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 300},
        "Environment": env,
    }


with DAG("rt_observe", schedule=None, start_date=START):
    with SageMakerPipelineGroup(group_id="model", pipeline_name="rt-observe", **GROUP_DEFAULTS):
        fit = TrainingStep(task_id="fit", job=training_job({"EPOCHS": "5"}))
        evaluate = ProcessingStep(
            task_id="evaluate", job=processing_job("evaluate.py", "evaluation", {"SCORE": "0.87"}),
            property_files=[PropertyFile("metrics", output_name="evaluation", path="evaluation.json")])
        fit >> evaluate

with DAG("rt_observe_failing", schedule=None, start_date=START):
    with SageMakerPipelineGroup(group_id="model", pipeline_name="rt-observe-failing",
                                **{**GROUP_DEFAULTS, "deferrable": False}):
        TrainingStep(task_id="fit", job=training_job({"EPOCHS": "40", "FAIL_AT": "30"}))
