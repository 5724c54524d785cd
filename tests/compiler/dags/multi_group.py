"""Two DAGs in one file, two pipeline groups in one DAG, no experiment config, step-less Airflow tasks
around the groups."""

from __future__ import annotations

import pendulum

from airflow_sagemaker_mlops import FailStep, PipelineParameter, ProcessingStep, SageMakerPipelineGroup
from airflow_sagemaker_mlops.compat import DAG, EmptyOperator

START = pendulum.datetime(2026, 1, 1, tz="UTC")

with DAG("multi_a", schedule=None, start_date=START):
    begin = EmptyOperator(task_id="begin")
    with SageMakerPipelineGroup(group_id="first", pipeline_name="multi-first", experiment_config=None,
                                parameters={"N": PipelineParameter.integer(1)}) as first:
        ProcessingStep(task_id="work", job={"AppSpecification": {"ImageUri": "img"},
                                            "Environment": {"N": first.parameter("N")}})
    with SageMakerPipelineGroup(group_id="second", pipeline_name="multi-second", mirror_steps=False) as second:
        # Same task id as in the first group: step names are per pipeline.
        ProcessingStep(task_id="work", job={"AppSpecification": {"ImageUri": "img2"}})
    begin >> first >> second

with DAG("multi_b", schedule=None, start_date=START):
    with SageMakerPipelineGroup(group_id="only", pipeline_name="multi-b"):
        FailStep(task_id="always_fails", error_message="by design")
