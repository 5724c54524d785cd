"""Clear to resume: two parallel steps fail once; clearing their failed tasks resumes the same execution."""

from __future__ import annotations

from rt_common import GROUP_DEFAULTS, START, processing_job

from airflow_sagemaker_mlops import ProcessingStep, SageMakerPipelineGroup
from airflow_sagemaker_mlops.compat import DAG

with DAG("rt_resume", schedule=None, start_date=START):
    with SageMakerPipelineGroup(group_id="etl", pipeline_name="rt-resume", **GROUP_DEFAULTS):
        first = ProcessingStep(task_id="first", job=processing_job("report.py", "first", {"NOTE": "1"}))
        left = ProcessingStep(task_id="left", job=processing_job("report.py", "left", {"NOTE": "2"}))
        right = ProcessingStep(task_id="right", job=processing_job("report.py", "right", {"NOTE": "3"}))
        last = ProcessingStep(task_id="last", job=processing_job("report.py", "last", {"NOTE": "4"}))
        first >> [left, right] >> last
