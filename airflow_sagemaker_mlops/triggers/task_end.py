"""Ending a step task from the triggerer: ``[sagemaker_mlops] end_from_trigger = True`` (opt-in).

Normally a trigger's event resumes the deferred task on a worker (``execute_complete``): the scheduler picks
the event up, the executor starts a task process, and the process pushes the step's outputs to XCom. That
resume is most of what is left of the latency once events wake the trigger (bench/results/events_latency.md).
With ``end_from_trigger``, a trigger whose step **succeeded** ends its task itself: it reads the step's outputs
(the same ``step_outputs`` as the worker, so one Describe*Job call for job steps) and yields Airflow's
``TaskSuccessEvent`` with the XComs the worker would have pushed: every output key, ``return_value`` (the
outputs) and the step's job link. Airflow then marks the task success in the triggerer's process (and sends the
task's success callback through the DAG processor, as for any task-end event).

Only where nothing else needs the worker (operators/runtime.py ``end_from_trigger_blocker`` decides, on the
worker, before deferring): no OpenLineage (its listener runs on the worker), no outlets (asset events are
emitted by the worker), not a ConditionStep (branching) or RegisterModelStep (outlets and the registration's
asset event), ``job_logs=False`` (the worker drains the job log and reads metrics), ``do_xcom_push=True``.
Every other outcome (failed, stopped, not run, callback, polling errors) and any error while building the
event resumes the worker as before, which then decides as it always did. ``airflow dags test`` runs triggers
inline and resumes the task with the event's payload whatever it is, so there (``task_instance`` unset) the
trigger resumes the worker too.

Airflow 2.11 has the same ``TaskSuccessEvent(xcoms=...)`` (since 2.10) and it works the same way.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass
from typing import Any

from airflow_sagemaker_mlops.hooks.settings import AwsClientSettings

log = logging.getLogger(__name__)

#: XCom key of the step's job link (links.SageMakerStepJobLink.key).
JOB_LINK_KEY = "sagemaker_step_job"


def end_from_trigger_configured() -> bool:
    """``[sagemaker_mlops] end_from_trigger`` (default False)."""
    from airflow_sagemaker_mlops.compat import conf

    return conf.getboolean("sagemaker_mlops", "end_from_trigger", fallback=False)


@dataclass(frozen=True)
class TaskEnd:
    """What a trigger needs to end its step task (handed to it by the worker; JSON in the trigger's kwargs).

    ``region_name`` and ``aws_partition`` are the link's defaults when the job's ARN does not say;
    ``console_base``: the local engine's console URL (None on AWS), for the link's ``local_url``.
    """

    region_name: str | None = None
    aws_partition: str = "aws"
    console_base: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> TaskEnd | None:
        return None if data is None else cls(**data)


def job_link_value(step: dict[str, Any], end: TaskEnd) -> dict[str, Any]:
    """The job link's XCom value, as ``SageMakerStepJobLink.persist`` stores it on the worker."""
    from airflow_sagemaker_mlops.links import (
        SageMakerStepJobLink,
        job_link_fields,
        local_console_url,
        region_and_partition,
    )

    arn = next((v["Arn"] for v in (step.get("Metadata") or {}).values()
                if isinstance(v, dict) and isinstance(v.get("Arn"), str)), None)
    region, partition = region_and_partition(arn or "", end.region_name)
    fields: dict[str, Any] = {}
    if arn:
        fields = job_link_fields(arn)
        url = local_console_url(end.console_base, arn)
        if url:
            fields["local_url"] = url
    return {"region_name": region, "aws_domain": SageMakerStepJobLink.get_aws_domain(partition or end.aws_partition),
            **fields}


def success_xcoms(outputs: dict[str, Any], step: dict[str, Any], end: TaskEnd) -> dict[str, Any]:
    """The XComs the worker pushes for a succeeded step (operators/runtime.py ``finish_step``): each output
    (``None`` left out, as ``compat.xcom_push`` does), ``return_value``, and the job link."""
    xcoms = {key: value for key, value in outputs.items() if value is not None}
    xcoms["return_value"] = outputs
    xcoms[JOB_LINK_KEY] = job_link_value(step, end)
    return xcoms


async def success_event(trigger: Any, payload: dict[str, Any], end: TaskEnd) -> Any | None:
    """A ``TaskSuccessEvent`` ending ``trigger``'s task, or None to resume the worker with ``payload``.

    None unless the step succeeded, the trigger runs in a real triggerer (``task_instance`` set) and Airflow
    has task-end events; also None when reading the outputs fails (the worker then does it and reports).
    """
    if payload.get("status") != "succeeded" or not payload.get("step"):
        return None
    if getattr(trigger, "task_instance", None) is None:
        return None  # airflow dags test: the task resumes with the event's payload, whatever it is
    try:
        from airflow.triggers.base import TaskSuccessEvent
    except ImportError:  # Airflow before 2.10
        return None
    try:
        outputs = await asyncio.to_thread(_outputs, trigger.aws, payload["step"])
        xcoms = success_xcoms(outputs, payload["step"], end)
    except Exception as exc:  # the worker resumes and reads them itself
        log.warning("cannot end the task from the triggerer (%s); resuming it on a worker", exc)
        return None
    return TaskSuccessEvent(xcoms=xcoms)


#: AWS client settings -> the sync hook reading step outputs in this triggerer process: building a boto3
#: client costs most of a second, every task ending here after the first reuses it (boto3 clients are
#: thread-safe).
_HOOKS: dict[Any, Any] = {}


def _outputs(aws: AwsClientSettings, step: dict[str, Any]) -> dict[str, Any]:
    from airflow_sagemaker_mlops.hooks.pipelines import SageMakerPipelinesHook, jsonable

    hook = _HOOKS.get(aws.key)
    if hook is None:
        hook = _HOOKS[aws.key] = aws.hook(SageMakerPipelinesHook)
    return jsonable(hook.step_outputs(step))
