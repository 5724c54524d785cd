"""A long step, to kill its waiting task: the execution must be stopped (stop_on_kill)."""

from __future__ import annotations

from rt_common import GROUP_DEFAULTS, START, processing_job

from airflow_sagemaker_mlops import ProcessingStep, SageMakerPipelineGroup
from airflow_sagemaker_mlops.compat import DAG

with DAG("rt_slow", schedule=None, start_date=START):
    with SageMakerPipelineGroup(group_id="etl", pipeline_name="rt-slow", **GROUP_DEFAULTS):
        ProcessingStep(task_id="slow", job=processing_job("report.py", "report", {"SLEEP": "300"}))
