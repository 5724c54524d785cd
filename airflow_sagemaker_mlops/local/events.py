"""The EventBridge events SageMaker sends for pipelines, emitted by the local engine.

SageMaker sends "SageMaker Model Building Pipeline Execution Status Change" on every execution status change
and "SageMaker Model Building Pipeline Execution Step Status Change" on every step status change, with source
``aws.sagemaker``, to the account's default event bus. The engine does the same: the executor calls
:func:`execution_changed` / :func:`step_changed` (under its lock) and this module builds the event with the
``detail`` of AWS's documented examples (camelCase keys, ISO 8601 times, the step's metadata with
lower-camel keys) and hands it to moto's events backend, which matches the default bus's rules (their event
patterns) and delivers to their targets: an SQS queue target gets the event JSON as the message body, as on
AWS.

Delivery runs on one thread per engine, in the order the changes happened, so the engine's lock is never
held across moto calls. A status already announced is not announced again (the executor may report the
same record twice); AWS documents that it may send duplicates, and consumers must not rely on either.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import queue
import threading
from typing import TYPE_CHECKING, Any

from airflow_sagemaker_mlops.definition.events import EXECUTION_STATUS_CHANGE, SOURCE, STEP_STATUS_CHANGE

if TYPE_CHECKING:
    from .executor import Engine
    from .state import ExecutionRecord, StepRecord

log = logging.getLogger(__name__)



def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _lower_camel(value: Any) -> Any:
    """``{"ProcessingJob": {"Arn": ...}}`` -> ``{"processingJob": {"arn": ...}}`` (the events' metadata)."""
    if isinstance(value, dict):
        return {(k[:1].lower() + k[1:] if isinstance(k, str) else k): _lower_camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lower_camel(v) for v in value]
    return value


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def execution_detail(ex: ExecutionRecord, previous: str | None) -> dict[str, Any]:
    """AWS's documented execution event; ``failureReason`` (only when Failed) is the engine's addition."""
    ended = ex.status in ("Succeeded", "Failed", "Stopped")
    return _drop_none({
        "pipelineExecutionDisplayName": ex.display_name,
        "currentPipelineExecutionStatus": ex.status,
        "previousPipelineExecutionStatus": previous,
        "executionStartTime": _iso(ex.creation_time),
        "executionEndTime": _iso(ex.last_modified_time) if ended else None,
        "pipelineExecutionDescription": ex.description,
        "pipelineArn": ex.pipeline.arn,
        "pipelineExecutionArn": ex.arn,
        "failureReason": ex.failure_reason if ex.status == "Failed" else None,
    })


def step_detail(ex: ExecutionRecord, record: StepRecord, previous: str | None) -> dict[str, Any]:
    """AWS's documented step event: "If there is a cache hit, the event contains the ``cacheHitResult``
    field. If the value of ``currentStepStatus`` is ``Failed``, the event contains the ``failureReason``
    field" (automating-sagemaker-with-eventbridge, "Pipeline step state change"); ``cacheHitResult`` has the
    lower-camel keys of ListPipelineExecutionSteps' ``CacheHitResult``, as ``metadata`` does."""
    return _drop_none({
        "metadata": _lower_camel(record.metadata) if record.metadata else {},
        "stepStartTime": _iso(record.start_time),
        "stepEndTime": _iso(record.end_time),
        "stepName": record.name,
        "stepType": record.spec.type,
        "previousStepStatus": previous,
        "currentStepStatus": record.status,
        "cacheHitResult": {"sourcePipelineExecutionArn": record.cache_source} if record.cache_source else None,
        "failureReason": record.failure_reason if record.status == "Failed" else None,
        "pipelineArn": ex.pipeline.arn,
        "pipelineExecutionArn": ex.arn,
    })


class EventEmitter:
    """One engine's outgoing events: who was announced in which status, and the delivery thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.announced: dict[tuple[str, str | None], str] = {}
        self.sent = 0
        self._queue: queue.Queue[tuple[str, str, dict[str, Any], list[str], float] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._deliver_loop, name="local-events", daemon=True)
        self._thread.start()

    def _announce(self, key: tuple[str, str | None], status: str) -> str | bool | None:
        """The previous announced status (None for the first), or False when ``status`` was just announced."""
        previous = self.announced.get(key)
        if previous == status:
            return False
        self.announced[key] = status
        return previous

    def execution(self, ex: ExecutionRecord) -> None:
        previous = self._announce((ex.arn, None), ex.status)
        if previous is False:
            return
        detail = execution_detail(ex, previous)  # type: ignore[arg-type]
        self._put(ex, EXECUTION_STATUS_CHANGE, detail, [ex.pipeline.arn, ex.arn])

    def step(self, ex: ExecutionRecord, record: StepRecord) -> None:
        previous = self._announce((ex.arn, record.name), record.status)
        if previous is False:
            return
        detail = step_detail(ex, record, previous)  # type: ignore[arg-type]
        self._put(ex, STEP_STATUS_CHANGE, detail, [ex.pipeline.arn, ex.arn])

    def _put(self, ex: ExecutionRecord, detail_type: str, detail: dict[str, Any], resources: list[str]) -> None:
        account = ex.pipeline.account_id
        self._queue.put((account, ex.region, {"detail_type": detail_type, "detail": detail}, resources,
                         dt.datetime.now(dt.timezone.utc).timestamp()))

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until every event so far went to moto (tests)."""
        done = threading.Event()
        self._queue.put(("", "", {"flush": done}, [], 0.0))
        done.wait(timeout)

    def close(self) -> None:
        self._queue.put(None)

    def _deliver_loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            account, region, body, resources, when = item
            if "flush" in body:
                body["flush"].set()
                continue
            try:
                deliver(account, region, body["detail_type"], body["detail"], resources, when)
                self.sent += 1
            except Exception:  # an event must never break the engine
                log.exception("could not deliver %s", body["detail_type"])


def deliver(account: str, region: str, detail_type: str, detail: dict[str, Any], resources: list[str],
            when: float) -> None:
    """Match one event against the enabled rules of the default bus in moto's events backend (moto's own
    pattern matching) and send it to their SQS targets as AWS does: the whole event as the message body.

    Not moto's ``put_events``: its default delivery template drops ``account``, and it delivers to disabled
    rules too. Targets other than SQS queues get nothing from the engine.
    """
    import uuid

    from moto.events.models import events_backends
    from moto.sqs.models import sqs_backends

    bus = events_backends[account][region].event_buses.get("default")
    if bus is None or not bus.rules:
        return  # nobody listens
    event = {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": detail_type, "source": SOURCE,
        "account": account, "time": dt.datetime.fromtimestamp(when, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region, "resources": resources, "detail": detail,
    }
    body = json.dumps(event)
    for rule in list(bus.rules.values()):
        if getattr(rule, "state", "ENABLED") != "ENABLED" or not rule.event_pattern.matches_event(event):
            continue
        for target in list(rule.targets):
            parts = str(target.get("Arn", "")).split(":")
            if len(parts) == 6 and parts[2] == "sqs":
                group = target.get("SqsParameters", {}).get("MessageGroupId")
                sqs_backends[parts[4]][parts[3]].send_message(queue_name=parts[5], message_body=body,
                                                              group_id=group)


def emitter(engine: Engine) -> EventEmitter:
    found = getattr(engine, "_event_emitter", None)
    if found is None:
        with engine.lock:
            found = getattr(engine, "_event_emitter", None)
            if found is None:
                found = EventEmitter(engine)
                engine._event_emitter = found  # type: ignore[attr-defined]
    return found


def execution_changed(engine: Engine, ex: ExecutionRecord) -> None:
    """The executor changed ``ex.status``: announce it (called under the engine's lock)."""
    emitter(engine).execution(ex)


def step_changed(engine: Engine, ex: ExecutionRecord, record: StepRecord) -> None:
    """The executor changed ``record.status``: announce it (called under the engine's lock)."""
    emitter(engine).step(ex, record)
