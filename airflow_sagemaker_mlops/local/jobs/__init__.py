"""Local runners for SageMaker Processing, Training, Transform and Tuning jobs (no Docker, no AWS).

Each runner takes the job name, the Create<Kind>Job request (as boto3 takes it, without the name)
and a :class:`JobContext`, runs the job's code as local processes in a per-job sandbox where
``/opt/ml/...`` resolves, and returns a :class:`JobResult` whose ``description`` has the shape of
the Describe<Kind>Job response.
"""

from __future__ import annotations

from airflow_sagemaker_mlops.local.jobs.base import JobContext, JobResult


def run_processing_job(name: str, request: dict, ctx: JobContext) -> JobResult:
    from airflow_sagemaker_mlops.local.jobs.processing import run_processing_job as run

    return run(name, request, ctx)


def run_training_job(name: str, request: dict, ctx: JobContext) -> JobResult:
    from airflow_sagemaker_mlops.local.jobs.training import run_training_job as run

    return run(name, request, ctx)


def run_transform_job(name: str, request: dict, ctx: JobContext) -> JobResult:
    from airflow_sagemaker_mlops.local.jobs.transform import run_transform_job as run

    return run(name, request, ctx)


def run_tuning_job(name: str, request: dict, ctx: JobContext) -> JobResult:
    from airflow_sagemaker_mlops.local.jobs.tuning import run_tuning_job as run

    return run(name, request, ctx)


__all__ = [
    "JobContext",
    "JobResult",
    "run_processing_job",
    "run_training_job",
    "run_transform_job",
    "run_tuning_job",
]
