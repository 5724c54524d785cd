"""A Callback step answered from Airflow; a later step uses the callback's output parameter."""

from __future__ import annotations

from typing import Any

from rt_common import GROUP_DEFAULTS, START, processing_job

from airflow_sagemaker_mlops import (
    CallbackStep,
    ProcessingStep,
    SageMakerPipelineCallbackOperator,
    SageMakerPipelineGroup,
)
from airflow_sagemaker_mlops.compat import DAG

QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/rt-approvals"


def review(arguments: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"approved": True, "note": f"reviewed {arguments['model']}"}


with DAG("rt_callback", schedule=None, start_date=START):
    with SageMakerPipelineGroup(group_id="review", pipeline_name="rt-callback", **GROUP_DEFAULTS) as group:
        approve = CallbackStep(task_id="approve", sqs_queue_url=QUEUE_URL,
                               inputs={"model": "s3://rt-data/model.tar.gz"},
                               outputs={"approved": "Boolean", "note": "String"})
        ProcessingStep(task_id="publish",
                       job=processing_job("report.py", "report", {"NOTE": approve.output_parameter("note")}))

    answer = SageMakerPipelineCallbackOperator(task_id="answer", execution_arn=group.execution_arn,
                                               step_name="approve", python_callable=review, poll_interval=0.2)
    # `airflow dags test` runs one task at a time: answer before the approve task waits for the step to end.
    # (Under the scheduler both run at once and no such edge is needed.)
    answer >> approve
