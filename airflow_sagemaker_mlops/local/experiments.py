"""SageMaker Experiments as a pipeline execution leaves them: the experiment, the trial, the jobs' runs.

With a ``PipelineExperimentConfig`` (the SDK's default: experiment = pipeline name, trial = execution id)
SageMaker creates the experiment the first time a pipeline runs, a trial per execution, and a trial
component per job step (``<job name>-aws-<job kind>``) associated with that trial. The records live in moto's
SageMaker backend (same process), so DescribeExperiment, ListTrials, ListTrialComponents and the teardown
the Amazon provider's system tests run (disassociate, delete components, trials, experiment) answer as on
SageMaker.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from airflow_sagemaker_mlops.definition.step_kinds import STEP_KINDS

if TYPE_CHECKING:
    from .state import ExecutionRecord

log = logging.getLogger(__name__)

# moto's SageMaker backend is shared by every engine in the process; its experiment records change under this.
_LOCK = threading.RLock()

#: Job kind -> the trial component's suffix and ``Source.SourceType``, as SageMaker names them, for the
#: jobs whose request takes an ExperimentConfig.
COMPONENT_KINDS = {
    kind.resource.noun: (f"aws-{kind.resource.arn_type}", f"SageMaker{kind.resource.noun}")
    for kind in STEP_KINDS.values() if kind.experiment_config and kind.resource is not None
}
#: Job status -> the trial component's PrimaryStatus.
COMPONENT_STATUS = {"Completed": "Completed", "Failed": "Failed", "Stopped": "Stopped", "InProgress": "InProgress"}


def backend(account: str, region: str) -> Any:
    from moto.sagemaker.models import sagemaker_backends

    return sagemaker_backends[account][region]


def names(ex: ExecutionRecord) -> tuple[str, str] | None:
    config = ex.experiment_config or {}
    if not config.get("ExperimentName"):
        return None
    return config["ExperimentName"], config.get("TrialName") or ex.id


def record_execution(ex: ExecutionRecord) -> None:
    """The experiment (once per name) and the execution's trial (reused when the name already exists)."""
    found = names(ex)
    if found is None:
        return
    experiment, trial = found
    sagemaker = backend(ex.pipeline.account_id, ex.region)
    with _LOCK:
        if experiment not in sagemaker.experiments:
            sagemaker.create_experiment(experiment)
        if trial not in sagemaker.trials:
            sagemaker.create_trial(trial_name=trial, experiment_name=experiment)
    log.info("execution %s recorded under experiment %s, trial %s", ex.id, experiment, trial)


def component_name(kind: str, job_name: str) -> str:
    return f"{job_name}-{COMPONENT_KINDS[kind][0]}"


def start_job(ex: ExecutionRecord, kind: str, job_name: str, job_arn: str,
              display_name: str | None = None) -> None:
    """The job's trial component, InProgress, associated with the execution's trial."""
    found = names(ex)
    if found is None or kind not in COMPONENT_KINDS:
        return
    _, trial = found
    sagemaker = backend(ex.pipeline.account_id, ex.region)
    name = component_name(kind, job_name)
    from .state import utcnow

    with _LOCK:
        sagemaker.create_trial_component(
            trial_component_name=name, trial_name=trial, status={"PrimaryStatus": "InProgress"},
            start_time=None, end_time=None, display_name=display_name, parameters=None, input_artifacts=None,
            output_artifacts=None, metadata_properties=None,
        )
        component = sagemaker.trial_components[name]
        component.start_time = _like_moto(component.creation_time, utcnow())
        component.sources = [{"SourceArn": job_arn, "SourceType": COMPONENT_KINDS[kind][1]}]
        if trial in sagemaker.trials:
            sagemaker.associate_trial_component(trial_name=trial, trial_component_name=name)


def _like_moto(reference: Any, when: Any) -> Any:
    """``when`` in the representation moto gave ``reference`` (a time it set itself): older moto (5.1.10,
    the [local] minimum) keeps trial component times as strings and json-dumps them as they are."""
    return when.strftime("%Y-%m-%d %H:%M:%S") if isinstance(reference, str) else when


def end_job(ex: ExecutionRecord, kind: str, job_name: str, status: str) -> None:
    found = names(ex)
    if found is None or kind not in COMPONENT_KINDS:
        return
    from .state import utcnow

    sagemaker = backend(ex.pipeline.account_id, ex.region)
    with _LOCK:
        component = sagemaker.trial_components.get(component_name(kind, job_name))
        if component is not None:  # the user may have deleted it meanwhile
            component.status = {"PrimaryStatus": COMPONENT_STATUS.get(status, status)}
            component.end_time = component.last_modified_time = _like_moto(component.creation_time, utcnow())
