"""mirror_steps=False (start + wait; step tasks resolve from the wait's result) polling on the worker."""

from __future__ import annotations

from rt_common import GROUP_DEFAULTS, START, processing_job

from airflow_sagemaker_mlops import ConditionStep, PipelineParameter, ProcessingStep, SageMakerPipelineGroup
from airflow_sagemaker_mlops import conditions as C
from airflow_sagemaker_mlops.compat import DAG, task

with DAG("rt_collapsed", schedule=None, start_date=START):
    with SageMakerPipelineGroup(group_id="etl", pipeline_name="rt-collapsed", mirror_steps=False,
                                deferrable=False, parameters={"Mode": PipelineParameter.string("full")},
                                **GROUP_DEFAULTS) as etl:
        first = ProcessingStep(task_id="first", job=processing_job("report.py", "first", {"NOTE": "1"}))
        full = ProcessingStep(task_id="full", job=processing_job("report.py", "full", {"NOTE": "2"}))
        gate = ConditionStep(task_id="is_full", condition=C.eq(etl.parameter("Mode"), "full"), if_true=[full])
        first >> gate

    @task
    def incremental_only() -> None:
        print("not a full run")

    gate.if_false >> incremental_only()
