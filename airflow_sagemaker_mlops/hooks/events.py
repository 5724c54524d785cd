"""SageMaker pipeline events through EventBridge and SQS: the queue set-up and the consumer's client.

SageMaker sends a "SageMaker Model Building Pipeline Execution Status Change" event on every execution status
change and a "... Step Status Change" event on every step status change to the account's default event bus.
:func:`setup_event_queue` creates (idempotently) what brings them to an SQS queue: the queue, an EventBridge
rule matching the two detail types (optionally only some pipelines), the rule's target (the queue), and the
queue policy letting ``events.amazonaws.com`` send to the queue on behalf of that rule only. The triggerer
consumes that queue (``triggers/events.py``) to wake waiting tasks at once; the event-scheduled DAGs of
``triggers/events.py`` consume a queue of their own.

Connection extra keys (on the AWS connection the tasks use)::

    {"event_queue_url": "https://sqs.<region>.amazonaws.com/<account>/<queue>",
     "event_fallback_interval": 300}
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from airflow_sagemaker_mlops.definition.events import event_pattern, queue_policy
from airflow_sagemaker_mlops.hooks.pipelines import _RetryingAsyncAwsHook, _RetryingAwsHook

#: Connection extra keys.
QUEUE_EXTRA = "event_queue_url"
FALLBACK_EXTRA = "event_fallback_interval"
#: Poll interval of a waiting task when events wake it (seconds): a lost event costs at most this.
DEFAULT_FALLBACK_INTERVAL = 300.0
DEFAULT_RULE_NAME = "sagemaker-mlops-pipeline-events"
DEFAULT_QUEUE_NAME = "sagemaker-mlops-pipeline-events"
#: An event older than this is of no use to a waiter (the fallback poll has seen the change by then).
DEFAULT_RETENTION_SECONDS = 3600
TARGET_ID = "sagemaker-mlops-queue"


@dataclass(frozen=True)
class EventQueueSetup:
    queue_url: str
    queue_arn: str
    rule_arn: str
    #: What this call created or changed (empty: everything was already as wanted).
    changed: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"queue_url": self.queue_url, "queue_arn": self.queue_arn, "rule_arn": self.rule_arn,
                "changed": list(self.changed)}


def setup_event_queue(
    sqs: Any,
    events: Any,
    *,
    queue_name: str = DEFAULT_QUEUE_NAME,
    rule_name: str = DEFAULT_RULE_NAME,
    pipeline_arns: Sequence[str] = (),
    retention_seconds: int = DEFAULT_RETENTION_SECONDS,
) -> EventQueueSetup:
    """Create or bring up to date the queue, rule, target and queue policy (boto3 clients ``sqs``, ``events``).

    Idempotent: a second call with the same arguments changes nothing and says so (``changed`` empty).
    """
    changed: list[str] = []
    try:
        queue_url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        queue_url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
        changed.append("queue")
    attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    queue_arn = attrs["QueueArn"]
    pattern = json.dumps(event_pattern(pipeline_arns), sort_keys=True)
    try:
        rule = events.describe_rule(Name=rule_name)
        same = (json.loads(rule.get("EventPattern") or "{}") == json.loads(pattern)
                and rule.get("State") == "ENABLED")
        rule_arn = rule["Arn"]
    except events.exceptions.ResourceNotFoundException:
        same = False
    if not same:
        rule_arn = events.put_rule(Name=rule_name, EventPattern=pattern, State="ENABLED",
                                   Description="SageMaker pipeline status changes for Airflow (airflow-sagemaker-mlops)"
                                   )["RuleArn"]
        changed.append("rule")
    targets = events.list_targets_by_rule(Rule=rule_name).get("Targets", [])
    if not any(t.get("Id") == TARGET_ID and t.get("Arn") == queue_arn for t in targets):
        events.put_targets(Rule=rule_name, Targets=[{"Id": TARGET_ID, "Arn": queue_arn}])
        changed.append("target")
    wanted: dict[str, str] = {
        "Policy": json.dumps(queue_policy(queue_arn, rule_arn), sort_keys=True),
        "MessageRetentionPeriod": str(int(retention_seconds)),
        # Long polling by default, also for consumers that do not ask for it.
        "ReceiveMessageWaitTimeSeconds": "20",
    }
    update = {}
    for name, value in wanted.items():
        current = attrs.get(name)
        if name == "Policy" and current:
            if json.loads(current) == json.loads(value):
                continue
        elif current == value:
            continue
        update[name] = value
    if update:
        sqs.set_queue_attributes(QueueUrl=queue_url, Attributes=update)
        changed.extend(f"queue {name}" for name in sorted(update))
    return EventQueueSetup(queue_url, queue_arn, rule_arn, tuple(changed))


def setup_with_hook(aws: Any, **kwargs: Any) -> EventQueueSetup:
    """:func:`setup_event_queue` with the clients of a task's AWS settings (hooks.settings.AwsClientSettings)."""
    sqs = aws.hook(SageMakerEventQueueHook).conn
    events = aws.hook(SageMakerEventBusHook).conn
    return setup_event_queue(sqs, events, **kwargs)


class SageMakerEventQueueHook(_RetryingAwsHook):
    """SQS client (sync) with our retries."""

    aws_service = "sqs"


class SageMakerEventBusHook(_RetryingAwsHook):
    """EventBridge client (sync) with our retries."""

    aws_service = "events"


class SageMakerEventQueueAsyncHook(_RetryingAsyncAwsHook):
    """The triggerer's SQS client, on aiobotocore (long polling)."""

    aws_service = "sqs"


def connection_event_settings(hook: Any) -> tuple[str | None, float | None]:
    """``event_queue_url`` and ``event_fallback_interval`` from the extra of a hook's AWS connection."""
    try:
        extra = hook.conn_config.extra_config or {}
    except Exception:  # no connection (environment credentials): no extra
        return None, None
    queue = extra.get(QUEUE_EXTRA) or None
    fallback = extra.get(FALLBACK_EXTRA)
    return queue, float(fallback) if fallback not in (None, "") else None
