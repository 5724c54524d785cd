"""Names the example DAGs share: buckets, roles, images, connections.

Everything here is a plain constant so that parsing the DAG folder stays cheap. On the local engine the
demo runner (``tools/demo.py``) and the test fixtures create the buckets, the queue and the model package
group below; on AWS, create them once (see docs/examples.md) or change the names here.
"""

from __future__ import annotations

import os
from typing import Any

import pendulum

from airflow_sagemaker_mlops import Execution, Join
from airflow_sagemaker_mlops.builders import image_uri

# The local engine (moto underneath) always answers as this account; on AWS use your own.
ACCOUNT = os.environ.get("EXAMPLES_ACCOUNT", "123456789012")
REGION = os.environ.get("EXAMPLES_REGION", "us-east-1")
ROLE = f"arn:aws:iam::{ACCOUNT}:role/SageMakerPipelineExecution"

CODE_BUCKET = os.environ.get("EXAMPLES_CODE_BUCKET", "mlops-examples-code")
DATA_BUCKET = os.environ.get("EXAMPLES_DATA_BUCKET", "mlops-examples-data")
MODEL_PACKAGE_GROUP = "churn-models"
SIGNOFF_QUEUE = "data-quality-signoff"
SIGNOFF_QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{SIGNOFF_QUEUE}"

INSTANCE = "ml.m5.large"
# The scikit-learn framework image: on SageMaker the steps run in it (it has numpy); the local engine
# never pulls images and runs the same scripts with its own interpreter.
SKLEARN_IMAGE = image_uri("sklearn", "1.2-1", REGION, instance_type=INSTANCE)
# What every job step of the examples shares (the builders' keywords).
JOB = {"image_uri": SKLEARN_IMAGE, "role": ROLE, "instance_type": INSTANCE, "code_bucket": CODE_BUCKET}

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


def run_prefix(*parts: str) -> Join:
    """s3://<data bucket>/<parts>/<execution id>: every execution writes its own prefix."""
    return Join([f"s3://{DATA_BUCKET}", *parts, Execution.PipelineExecutionId], on="/")
