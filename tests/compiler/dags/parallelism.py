"""Fan-out / fan-in with ParallelismConfiguration, a custom experiment config, explicit DependsOn only."""

from __future__ import annotations

import pendulum

from airflow_sagemaker_mlops import (
    Execution,
    ExperimentConfig,
    Join,
    ProcessingStep,
    SageMakerPipelineGroup,
)
from airflow_sagemaker_mlops.compat import DAG

JOB = {"AppSpecification": {"ImageUri": "img"}}

with DAG("parallelism", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    with SageMakerPipelineGroup(
        group_id="fan",
        pipeline_name="fan-out-in",
        max_parallel_steps=3,
        experiment_config=ExperimentConfig("churn-experiments", Join(["run-", Execution.PipelineExecutionId])),
    ):
        split = ProcessingStep(task_id="split", job=JOB)
        shards = [ProcessingStep(task_id=f"shard_{i}", job=JOB) for i in range(6)]
        merge = ProcessingStep(task_id="merge", job=JOB)
        split >> shards >> merge
