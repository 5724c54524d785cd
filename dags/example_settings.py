"""Names the example DAGs share: buckets, roles, images, connections.

Everything here is a plain constant so that parsing the DAG folder stays cheap. On the local engine the
demo runner (``tools/demo.py``) and the test fixtures create the buckets, the queue and the model package
group below; on AWS, create them once (see docs/examples.md) or change the names here.
"""

from __future__ import annotations

import os
from typing import Any

import pendulum

# The local engine (moto underneath) always answers as this account; on AWS use your own.
ACCOUNT = os.environ.get("EXAMPLES_ACCOUNT", "123456789012")
REGION = os.environ.get("EXAMPLES_REGION", "us-east-1")
ROLE = f"arn:aws:iam::{ACCOUNT}:role/SageMakerPipelineExecution"

CODE_BUCKET = os.environ.get("EXAMPLES_CODE_BUCKET", "mlops-examples-code")
DATA_BUCKET = os.environ.get("EXAMPLES_DATA_BUCKET", "mlops-examples-data")
MODEL_PACKAGE_GROUP = "churn-models"
SIGNOFF_QUEUE = "data-quality-signoff"
SIGNOFF_QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{SIGNOFF_QUEUE}"

# The scikit-learn framework image: on SageMaker the steps run in it (it has numpy); the local engine
# never pulls images and runs the same scripts with its own interpreter.
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
INSTANCE = "ml.m5.large"

# The retraining example reaches the ML account through this connection (an `aws` connection whose extra
# has role_arn: Airflow assumes that role with STS before each call).
ML_ACCOUNT_CONN_ID = "aws_ml_account"
ML_ACCOUNT_ROLE = f"arn:aws:iam::{ACCOUNT}:role/AirflowPipelineRunner"
CHURN_PIPELINE = "churn-training"
CHURN_PIPELINE_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/{CHURN_PIPELINE}"

START = pendulum.datetime(2026, 1, 1, tz="UTC")
# Production polls every 15 s; the examples poll faster so that a local run ends in seconds.
POLL_INTERVAL = float(os.environ.get("EXAMPLES_POLL_INTERVAL", "1"))
GROUP_DEFAULTS: dict[str, Any] = {"role_arn": ROLE, "poll_interval": POLL_INTERVAL}


def processing_resources() -> dict[str, Any]:
    return {"ClusterConfig": {"InstanceCount": 1, "InstanceType": INSTANCE, "VolumeSizeInGB": 10}}


def code_input(uri: Any) -> dict[str, Any]:
    """A ProcessingInput that puts a script where SageMaker's processing convention expects code."""
    return {"InputName": "code", "S3Input": {"S3Uri": uri, "LocalPath": "/opt/ml/processing/input/code",
                                             "S3DataType": "S3Prefix", "S3InputMode": "File"}}


def s3_input(name: str, uri: Any) -> dict[str, Any]:
    return {"InputName": name, "S3Input": {"S3Uri": uri, "LocalPath": f"/opt/ml/processing/{name}",
                                           "S3DataType": "S3Prefix", "S3InputMode": "File"}}


def s3_output(name: str, uri: Any) -> dict[str, Any]:
    return {"OutputName": name, "S3Output": {"S3Uri": uri, "LocalPath": f"/opt/ml/processing/{name}",
                                             "S3UploadMode": "EndOfJob"}}
