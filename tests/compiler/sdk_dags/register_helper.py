"""SDK equivalence 4: RegisterModelStep built from its helper fields (image_uri=, model_data=, ...), the
way the first design sketch writes it, against SDK v3's ``ModelStep`` of the same model package.

Twin of ``_sdk_register_helper`` in ``tests/compiler/test_sdk_equivalence.py`` (an expected failure
until the helper writes ``SkipModelValidation`` as the SDK does).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_sagemaker_mlops import PipelineParameter, RegisterModelStep, SageMakerPipelineGroup

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"

with DAG("sdk_register_helper", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    with SageMakerPipelineGroup(
        group_id="registry",
        pipeline_name="sdk-register-helper",
        parameters={"ModelData": PipelineParameter.string("s3://bucket/model.tar.gz"),
                    "Approval": PipelineParameter.string("PendingManualApproval")},
    ) as g:
        RegisterModelStep(
            task_id="register",
            model_package_group="churn",
            image_uri=IMAGE,
            model_data=g.parameter("ModelData"),
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=["ml.m5.large"],
            transform_instances=["ml.m5.large"],
            approval_status=g.parameter("Approval"),
            model_package_description="churn model",
        )
