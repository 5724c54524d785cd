"""Retry policies (step and job exception types, attempts and expiry), caching, names and descriptions."""

from __future__ import annotations

import pendulum

from airflow_sagemaker_mlops import (
    CacheConfig,
    CallbackStep,
    ProcessingStep,
    RetryPolicy,
    SageMakerPipelineGroup,
    TrainingStep,
)
from airflow_sagemaker_mlops.compat import DAG

with DAG("retries_caching", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    with SageMakerPipelineGroup(group_id="robust", pipeline_name="retries-caching",
                                pipeline_description="retries and caching",
                                pipeline_display_name="Retries and caching",
                                pipeline_tags={"team": "ml", "cost-center": "42"},
                                mlflow_config={"MlflowResourceArn": "arn:aws:sagemaker:us-east-1:111122223333:"
                                                                    "mlflow-tracking-server/ml",
                                               "MlflowExperimentName": "retries"}):
        prep = ProcessingStep(
            task_id="prep",
            step_name="Prepare-Data_v2",
            display_name="Prepare data",
            step_description="Cleans the raw data",
            job={"AppSpecification": {"ImageUri": "img"}},
            cache="P30D",
            retry_policies=[
                RetryPolicy(["Step.SERVICE_FAULT", "Step.THROTTLING"], interval_seconds=2, backoff_rate=1.5,
                            max_attempts=5),
                RetryPolicy(["SageMaker.JOB_INTERNAL_ERROR", "SageMaker.CAPACITY_ERROR",
                             "SageMaker.RESOURCE_LIMIT"], interval_seconds=60, expire_after_minutes=120),
            ],
        )
        fit = TrainingStep(task_id="fit", job={"AlgorithmSpecification": {"TrainingImage": "img"}},
                           cache=True, retry_policies=[RetryPolicy(["SageMaker.CAPACITY_ERROR"], max_attempts=3)])
        wait = CallbackStep(task_id="wait", sqs_queue_url="https://sqs.us-east-1.amazonaws.com/111122223333/q",
                            inputs={"model": fit.properties.ModelArtifacts.S3ModelArtifacts},
                            outputs=["verdict"], cache=CacheConfig(enabled=False))
        # DependsOn triggers: clean up only when training failed, audit whatever happened.
        cleanup = ProcessingStep(task_id="cleanup", job={"AppSpecification": {"ImageUri": "img"}},
                                 run_after_outcome=[(fit, "Failed")])
        audit = ProcessingStep(task_id="audit", job={"AppSpecification": {"ImageUri": "img"}},
                               run_after_outcome=[(wait, "Any"), (cleanup, "Stopped")])
        prep >> fit >> wait
        prep >> audit
