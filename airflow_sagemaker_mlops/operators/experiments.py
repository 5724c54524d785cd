"""Where an execution's runs are recorded: SageMaker Experiments and SageMaker managed MLflow.

The start task calls :func:`report_tracking` once the execution has started: it reads the references from
DescribePipelineExecution (``PipelineExperimentConfig`` resolved by SageMaker for this execution, and
``MLflowConfig``), logs them and pushes each to XCom under its own key, so downstream tasks can open the
trial or the MLflow experiment without knowing how the group named them.

Runs on workers only (imported lazily by the start task).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from airflow_sagemaker_mlops.compat import xcom_push

if TYPE_CHECKING:
    from airflow_sagemaker_mlops.hooks.pipelines import SageMakerPipelinesHook

log = logging.getLogger(__name__)

#: XCom key -> (DescribePipelineExecution section, field). Only the fields SageMaker reports are pushed.
TRACKING_FIELDS: dict[str, tuple[str, str]] = {
    "experiment_name": ("PipelineExperimentConfig", "ExperimentName"),
    "trial_name": ("PipelineExperimentConfig", "TrialName"),
    "mlflow_resource_arn": ("MLflowConfig", "MlflowResourceArn"),
    "mlflow_experiment_name": ("MLflowConfig", "MlflowExperimentName"),
    # DescribePipelineExecution does not report an MLflow run today (botocore's MLflowConfiguration has only
    # the two fields above); should it ever, the run is passed on under these keys.
    "mlflow_run_id": ("MLflowConfig", "MlflowRunId"),
    "mlflow_run_name": ("MLflowConfig", "MlflowRunName"),
}


def tracking_references(execution: dict[str, Any]) -> dict[str, str]:
    """The experiment, trial and MLflow references of a DescribePipelineExecution response, by XCom key."""
    refs: dict[str, str] = {}
    for key, (section, name) in TRACKING_FIELDS.items():
        value = (execution.get(section) or {}).get(name)
        if value:
            refs[key] = value
    return refs


def report_tracking(hook: SageMakerPipelinesHook, execution_arn: str, ti: Any, logger: Any = log) -> dict[str, str]:
    """Log the execution's experiment/trial and MLflow references and push each to XCom; returns them.

    A failure to describe the execution is logged, not raised: the execution has started, and failing the
    start task now would only hide that from the step tasks.
    """
    from airflow_sagemaker_mlops.exceptions import SageMakerMlopsError

    try:
        execution = hook.describe_execution(execution_arn)
    except SageMakerMlopsError as exc:
        logger.warning("Cannot read the experiment and MLflow references of %s: %s", execution_arn, exc)
        return {}
    refs = tracking_references(execution)
    if "experiment_name" in refs or "trial_name" in refs:
        logger.info("SageMaker Experiments: experiment %s, trial (run group) %s",
                    refs.get("experiment_name", "-"), refs.get("trial_name", "-"))
    else:
        logger.info("SageMaker Experiments: none (the pipeline has no PipelineExperimentConfig)")
    if "mlflow_resource_arn" in refs or "mlflow_experiment_name" in refs:
        logger.info("MLflow: tracking server %s, experiment %s%s", refs.get("mlflow_resource_arn", "-"),
                    refs.get("mlflow_experiment_name", "-"), _run_text(refs))
    for key, value in refs.items():
        xcom_push(ti, key, value)
    return refs


def _run_text(refs: dict[str, str]) -> str:
    run = refs.get("mlflow_run_id") or refs.get("mlflow_run_name")
    return f", run {run}" if run else " (SageMaker reports no MLflow run for the execution)"
