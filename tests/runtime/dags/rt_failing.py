"""A step that fails: its task fails with SageMaker's reason; downstream tasks follow their trigger rules."""

from __future__ import annotations

from rt_common import GROUP_DEFAULTS, START, processing_job

from airflow_sagemaker_mlops import ProcessingStep, SageMakerPipelineGroup
from airflow_sagemaker_mlops.compat import DAG, task

with DAG("rt_failing", schedule=None, start_date=START):
    with SageMakerPipelineGroup(group_id="etl", pipeline_name="rt-failing", **GROUP_DEFAULTS) as etl:
        broken = ProcessingStep(task_id="broken", job=processing_job(
            "report.py", "report", {"FAIL_WITH": "bad data: 42 rows without a label"}))
        after = ProcessingStep(task_id="after", job=processing_job("report.py", "after", {"NOTE": "x"}))
        broken >> after

    @task(trigger_rule="one_failed")
    def cleanup() -> str:
        return "cleaned up"

    @task
    def publish() -> str:
        return "published"

    etl >> cleanup()
    etl >> publish()
