"""Events wake the waiting triggers; polling stays as the slow fallback.

With an event queue configured (``event_queue_url`` on the AWS connection's extra, or on the
SageMakerPipelineGroup; see :func:`configure_events`), a :class:`~.pipelines.PipelineExecutionTrigger`
polls at the fallback interval (default 300 s) and acquires the one :class:`EventQueueConsumer` of that queue
in its triggerer process (keyed like the pollers: event loop, AWS client settings, queue URL). The consumer
long-polls the queue (aiobotocore, 20 s waits, 10 messages a call) and, for an event that can end a wait
here, wakes that execution's :class:`~.pipelines.ExecutionPoller`: it polls at once and judges the snapshot
with the same ``evaluate`` as ever. The event is a wake-up, never the source of truth, so a lost, late or
duplicated event costs time (at most the fallback interval), never correctness.

Which events wake a poller: a step event whose step reached an ended status (or ``Executing``, for a
``wait_for="callback"`` waiter) and some trigger here waits on that step; an execution event with an ended
status and some trigger here waits on that execution. Events that cannot end any wait here (a step that
started, a pipeline nobody waits on) cost no SageMaker call.

Several triggerers on one queue (HA): SQS hands each message to one of them. A message this process has a
waiter for is handled and deleted. A message for a step or execution nobody here waits on is put back
(visible again after :data:`PASS_VISIBILITY` seconds) so another triggerer can take it, and deleted once it
has been received :data:`MAX_RECEIVES` times or is older than :data:`MAX_PASS_AGE` seconds: nobody needed
it, or the fallback poll covers whoever did. The one case an event reaches the "wrong" triggerer for good is
an execution's end that waiters in two triggerers need (e.g. steps that never ran): the second learns it on
its fallback poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from airflow_sagemaker_mlops.definition.events import EXECUTION_STATUS_CHANGE, matching_execution_event, parse_event
from airflow_sagemaker_mlops.definition.statuses import execution_ended, step_ended
from airflow_sagemaker_mlops.hooks.settings import AwsClientSettings

log = logging.getLogger(__name__)

#: Seconds a message nobody here waits for stays invisible before another consumer may take it.
PASS_VISIBILITY = 1
#: Receives after which a message nobody waited for is deleted.
MAX_RECEIVES = 3
#: Age (seconds since it was sent) after which a message nobody waited for is deleted.
MAX_PASS_AGE = 30.0
#: Long-poll wait of one ReceiveMessage call (SQS's maximum).
WAIT_SECONDS = 20
MAX_BACKOFF = 60.0


@dataclass
class ConsumerStats:
    receives: int = 0  # ReceiveMessage calls
    messages: int = 0
    woken: int = 0  # pollers woken
    deleted: int = 0
    passed: int = 0  # put back for another consumer
    failures: int = 0


def relevant_pollers(event: dict[str, Any], pollers: list[Any]) -> list[Any]:
    """The pollers of this event's execution that have a waiter the event may release."""
    detail = event["detail"]
    arn = detail["pipelineExecutionArn"]
    found = []
    for poller in pollers:
        if poller.execution_arn != arn:
            continue
        subs = [s for s in poller.subscribers if not s.future.done()]
        if event["detail-type"] == EXECUTION_STATUS_CHANGE:
            status = detail.get("currentPipelineExecutionStatus")
            wanted = bool(subs) and bool(status) and execution_ended(status)
        else:
            status = detail.get("currentStepStatus")
            name = detail.get("stepName")
            wanted = bool(status) and any(
                s.step_name == name and (step_ended(status) or (s.wait_for == "callback" and status == "Executing"))
                for s in subs
            )
        if wanted:
            found.append(poller)
    return found


@dataclass(eq=False)
class EventQueueConsumer:
    """Consumes one queue for every trigger of this triggerer process that uses it; see the module docstring."""

    key: tuple[Any, ...]
    queue_url: str
    aws: AwsClientSettings
    users: int = 0
    stats: ConsumerStats = field(default_factory=ConsumerStats)
    task: asyncio.Task[None] | None = None

    def acquire(self) -> None:
        self.users += 1
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run(), name=f"sagemaker-events:{self.queue_url}")

    def release(self) -> None:
        self.users -= 1
        if self.users <= 0:
            if _CONSUMERS.get(self.key) is self:
                del _CONSUMERS[self.key]
            if self.task is not None and not self.task.done():
                self.task.cancel()

    def handle(self, event: dict[str, Any], sent: float | None = None) -> bool:
        """Wake the pollers this event concerns; False when nobody here waits for it. ``sent``: when SQS
        received the message (epoch seconds), for the log line."""
        from airflow_sagemaker_mlops.triggers.pipelines import active_pollers

        loop_id = self.key[0]
        pollers = [p for p in active_pollers() if p.key[0] == loop_id]
        woken = relevant_pollers(event, pollers)
        for poller in woken:
            poller.wake()
        self.stats.woken += len(woken)
        if woken:
            detail = event["detail"]
            # When each wake-up happened and how old its event was (bench/events_latency.py reads this line).
            log.info("event %s %s woke the poll of %s (queued %.3f s before)", detail.get("stepName") or "execution",
                     detail.get("currentStepStatus") or detail.get("currentPipelineExecutionStatus"),
                     detail["pipelineExecutionArn"], max(0.0, time.time() - (sent or time.time())))
            return True
        # Waited on here, but not an event that can end a wait (a step started): handled, nothing to do.
        arn = event["detail"]["pipelineExecutionArn"]
        return any(p.execution_arn == arn and p.subscribers for p in pollers)

    async def _run(self) -> None:
        from airflow_sagemaker_mlops.hooks.events import SageMakerEventQueueAsyncHook

        failures = 0
        hook = self.aws.hook(SageMakerEventQueueAsyncHook)
        async with hook.client() as client:
            while self.users > 0:
                try:
                    response = await client.receive_message(
                        QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=WAIT_SECONDS,
                        MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"])
                    self.stats.receives += 1
                    failures = 0
                    await self._process(client, response.get("Messages", []))
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    # Polling goes on at the fallback interval meanwhile: nothing fails over this.
                    failures += 1
                    self.stats.failures += 1
                    delay = min(MAX_BACKOFF, 2.0 ** failures)
                    log.warning("reading the event queue %s failed (%s); retrying in %.0fs", self.queue_url, exc, delay)
                    await asyncio.sleep(delay)

    async def _process(self, client: Any, messages: list[dict[str, Any]]) -> None:
        delete: list[dict[str, str]] = []
        for msg in messages:
            self.stats.messages += 1
            event = parse_event(msg.get("Body", ""))
            sent = int(msg.get("Attributes", {}).get("SentTimestamp", "0")) / 1000.0 or None
            handled = event is None or self.handle(event, sent)  # not a pipeline event: nobody ever wants it
            if not handled:
                attrs = msg.get("Attributes", {})
                receives = int(attrs.get("ApproximateReceiveCount", "1"))
                age = time.time() - int(attrs.get("SentTimestamp", "0")) / 1000.0
                if receives < MAX_RECEIVES and age < MAX_PASS_AGE:
                    self.stats.passed += 1
                    with contextlib.suppress(Exception):
                        await client.change_message_visibility(
                            QueueUrl=self.queue_url, ReceiptHandle=msg["ReceiptHandle"],
                            VisibilityTimeout=PASS_VISIBILITY)
                    continue
            delete.append({"Id": str(len(delete)), "ReceiptHandle": msg["ReceiptHandle"]})
        if delete:
            await client.delete_message_batch(QueueUrl=self.queue_url, Entries=delete)
            self.stats.deleted += len(delete)


#: (event loop id, client settings, queue URL) -> the consumer of that queue in this process.
_CONSUMERS: dict[tuple[Any, ...], EventQueueConsumer] = {}


def get_consumer(aws: AwsClientSettings, queue_url: str) -> EventQueueConsumer:
    key = (id(asyncio.get_running_loop()), aws.key, queue_url)
    consumer = _CONSUMERS.get(key)
    if consumer is None:
        consumer = _CONSUMERS[key] = EventQueueConsumer(key, queue_url, aws)
    return consumer


def active_consumers() -> list[EventQueueConsumer]:
    return list(_CONSUMERS.values())


def _group_setting(task: Any, name: str) -> Any:
    # The settings a SageMakerPipelineGroup handed its tasks (operators.runtime.GroupRunSettings).
    return getattr(getattr(task, "pipeline_settings", None), name, None)


def configure_events(task: Any, hook: Any, trigger: Any) -> None:
    """Give ``trigger`` the event queue and fallback interval that apply to ``task`` (on the worker, before
    deferring): the trigger's own, else the task's or its group's ``event_queue_url`` /
    ``event_fallback_interval``, else the AWS connection's extra ``event_queue_url`` /
    ``event_fallback_interval``. Without a queue the trigger polls at its ``poll_interval`` as before."""
    from airflow_sagemaker_mlops.hooks.events import DEFAULT_FALLBACK_INTERVAL, connection_event_settings

    queue = trigger.event_queue_url or getattr(task, "event_queue_url", None) or _group_setting(task, "event_queue_url")
    fallback = trigger.fallback_interval or getattr(task, "event_fallback_interval", None) or _group_setting(
        task, "event_fallback_interval")
    if queue is None or fallback is None:
        conn_queue, conn_fallback = connection_event_settings(hook)
        queue = queue or conn_queue
        fallback = fallback or conn_fallback
    trigger.event_queue_url = queue or None
    trigger.fallback_interval = float(fallback) if fallback else DEFAULT_FALLBACK_INTERVAL


# ---- DAGs scheduled on pipeline events (Airflow 3 AssetWatcher) ------------------------------------

try:  # Airflow 3: event-driven scheduling
    from airflow.triggers.base import BaseEventTrigger as _EventTriggerBase
except ImportError:  # Airflow 2.11: no AssetWatcher (PipelineEventSensor does the job there)
    from airflow.triggers.base import BaseTrigger as _EventTriggerBase

from airflow.triggers.base import TriggerEvent  # noqa: E402


async def event_payload(aws: AwsClientSettings, detail: dict[str, Any]) -> dict[str, Any]:
    """What a pipeline event gives a DAG: execution ARN, status, pipeline, and the execution's parameters."""
    from airflow_sagemaker_mlops.hooks.pipelines import SageMakerPipelinesAsyncHook

    arn = detail["pipelineExecutionArn"]
    parameters: dict[str, str] = {}
    try:
        async with aws.hook(SageMakerPipelinesAsyncHook).client() as sm:
            paginator = sm.get_paginator("list_pipeline_parameters_for_execution")
            async for page in paginator.paginate(PipelineExecutionArn=arn):
                parameters.update({p["Name"]: p["Value"] for p in page.get("PipelineParameters", [])})
    except Exception as exc:  # the event still counts; say why the parameters are missing
        log.warning("cannot read the parameters of %s: %s", arn, exc)
    return {"execution_arn": arn, "status": detail.get("currentPipelineExecutionStatus"),
            "pipeline_arn": detail.get("pipelineArn"), "pipeline_name": str(detail.get("pipelineArn", "")).rsplit(
                "/", 1)[-1], "parameters": parameters, "execution_end_time": detail.get("executionEndTime")}


class PipelineEventTrigger(_EventTriggerBase):  # type: ignore[misc,valid-type]
    """Fires for each execution of ``pipeline_name`` (started anywhere) reaching one of ``statuses``, read from
    an SQS queue subscribed to SageMaker's pipeline events (``events setup``). For an ``AssetWatcher``: the
    asset event's extra gets the payload ``{"execution_arn", "status", "pipeline_arn", "pipeline_name",
    "parameters", "execution_end_time"}``.

    The queue should be this watcher's own (not the one waking the step tasks): every message it receives is
    deleted, matching or not.

    Args:
        queue_url: the SQS queue subscribed to the events (``events setup``).
        pipeline_name: the pipeline whose executions count.
        statuses: the execution statuses that fire the trigger (default ``Succeeded``).
        aws_conn_id: the Airflow connection to reach AWS with.
        region_name: AWS region override.
        verify: TLS certificate verification of the AWS clients: False, or a CA bundle path.
        botocore_config: ``botocore.config.Config`` options for the AWS clients.
    """

    def __init__(self, queue_url: str, pipeline_name: str, statuses: list[str] | tuple[str, ...] = ("Succeeded",),
                 *, aws_conn_id: str | None = "aws_default", region_name: str | None = None,
                 verify: bool | str | None = None, botocore_config: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.queue_url = queue_url
        self.pipeline_name = pipeline_name
        self.statuses = tuple(statuses)
        self.aws = AwsClientSettings(aws_conn_id, region_name, verify, botocore_config)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (f"{type(self).__module__}.{type(self).__qualname__}",
                {"queue_url": self.queue_url, "pipeline_name": self.pipeline_name, "statuses": list(self.statuses),
                 **self.aws.as_kwargs()})

    async def run(self) -> Any:
        from airflow_sagemaker_mlops.hooks.events import SageMakerEventQueueAsyncHook

        hook = self.aws.hook(SageMakerEventQueueAsyncHook)
        self.log.info("watching %s for executions of %s reaching %s", self.queue_url, self.pipeline_name,
                      ", ".join(self.statuses))
        async with hook.client() as client:
            while True:
                try:
                    response = await client.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                                                            WaitTimeSeconds=WAIT_SECONDS)
                except Exception as exc:
                    log.warning("reading %s failed: %s", self.queue_url, exc)
                    await asyncio.sleep(5)
                    continue
                for msg in response.get("Messages", []):
                    detail = matching_execution_event(parse_event(msg.get("Body", "")), self.pipeline_name,
                                                      self.statuses)
                    payload = await event_payload(self.aws, detail) if detail is not None else None
                    await client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=msg["ReceiptHandle"])
                    if payload is not None:
                        self.log.info("%s of %s: %s", payload["execution_arn"], self.pipeline_name, payload["status"])
                        yield TriggerEvent(payload)
