"""Shared pieces of the pipeline-tab test DAGs (the DAG folder is on sys.path, as Airflow arranges)."""

from __future__ import annotations

from typing import Any

import pendulum

from airflow_sagemaker_mlops import CodeAsset, Execution, Join

ROLE = "arn:aws:iam::123456789012:role/SmPipeline"
CODE_BUCKET = "ui-code"
DATA_BUCKET = "ui-data"
MODEL_GROUP = "ui-models"
START = pendulum.datetime(2026, 1, 1, tz="UTC")
GROUP_DEFAULTS: dict[str, Any] = {"role_arn": ROLE, "poll_interval": 0.2}


def processing_job(script: str, output: str, env: dict[str, Any] | None = None) -> dict[str, Any]:
    """A CreateProcessingJob request running scripts/<script> with the engine's local python image."""
    return {
        "RoleArn": ROLE,
        "AppSpecification": {"ImageUri": "local/python",
                             "ContainerEntrypoint": ["python3", f"/opt/ml/processing/input/code/{script}"]},
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.t3.medium",
                                                  "VolumeSizeInGB": 1}},
        "ProcessingInputs": [{"InputName": "code", "S3Input": {
            "S3Uri": CodeAsset(f"scripts/{script}", bucket=CODE_BUCKET), "LocalPath": "/opt/ml/processing/input/code",
            "S3DataType": "S3Prefix", "S3InputMode": "File"}}],
        "ProcessingOutputConfig": {"Outputs": [{"OutputName": output, "S3Output": {
            "S3Uri": Join([f"s3://{DATA_BUCKET}", output, Execution.PipelineExecutionId], on="/"),
            "LocalPath": f"/opt/ml/processing/{output}", "S3UploadMode": "EndOfJob"}}]},
        "Environment": dict(env or {}),
    }
