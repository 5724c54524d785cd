"""SDK equivalence 5: EMRServerlessStep, on an existing application (a parameter) with a Spark entry point,
and on an application created for the run, retried and cached, its job run state read by a condition.

Twin of ``_sdk_emr_serverless`` in ``tests/compiler/test_sdk_equivalence.py``.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_sagemaker_mlops import (
    ConditionStep,
    EMRServerlessStep,
    FailStep,
    PipelineParameter,
    RetryPolicy,
    SageMakerPipelineGroup,
)
from airflow_sagemaker_mlops import conditions as C

ROLE = "arn:aws:iam::111122223333:role/EmrServerlessJob"

with DAG("sdk_emr_serverless", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    with SageMakerPipelineGroup(
        group_id="spark",
        pipeline_name="sdk-emr-serverless",
        parameters={"ApplicationId": PipelineParameter.string("00fabc1234567890")},
    ) as g:
        features = EMRServerlessStep(
            task_id="features",
            application_id=g.parameter("ApplicationId"),
            execution_role_arn=ROLE,
            entry_point="s3://bucket/code/features.py",
            entry_point_arguments=["--input", "s3://bucket/raw/", "--output", "s3://bucket/features/"],
            spark_submit_parameters="--conf spark.executor.cores=2",
            execution_timeout_minutes=60,
            job_run_name="features",
            retry_policies=[RetryPolicy(["Step.SERVICE_FAULT"], max_attempts=3)],
            cache="P1D",
        )
        report = EMRServerlessStep(
            task_id="report",
            application_config={"name": "report-app", "releaseLabel": "emr-7.2.0", "type": "SPARK"},
            execution_role_arn=ROLE,
            job_driver={"sparkSubmit": {"entryPoint": "s3://bucket/code/report.py"}},
            configuration_overrides={"monitoringConfiguration": {
                "s3MonitoringConfiguration": {"logUri": "s3://bucket/logs/"}}},
            job_run_tags={"team": "ml"},
        )
        gate = ConditionStep(
            task_id="gate",
            condition=C.eq(features.properties.jobRun.state, "SUCCESS"),
            if_true=[report],
            if_false=[FailStep(task_id="failed", error_message="feature job did not succeed")],
        )
