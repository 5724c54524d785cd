"""A failed execution retried from Airflow: SageMaker resumes from the failed step."""

from __future__ import annotations

from rt_common import GROUP_DEFAULTS, START, processing_job

from airflow_sagemaker_mlops import ProcessingStep, SageMakerPipelineGroup, SageMakerRetryPipelineExecutionOperator
from airflow_sagemaker_mlops.compat import DAG

with DAG("rt_retry", schedule=None, start_date=START):
    with SageMakerPipelineGroup(group_id="etl", pipeline_name="rt-retry", **GROUP_DEFAULTS) as etl:
        first = ProcessingStep(task_id="first", job=processing_job("report.py", "first", {"NOTE": "1"}))
        flaky = ProcessingStep(task_id="flaky", job=processing_job("report.py", "flaky", {"NOTE": "2"}))
        first >> flaky

    resume = SageMakerRetryPipelineExecutionOperator(task_id="resume", execution_arn=etl.execution_arn,
                                                     wait_for_completion=True, poll_interval=0.2,
                                                     trigger_rule="one_failed")
    flaky >> resume
