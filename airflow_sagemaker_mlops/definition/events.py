"""SageMaker's pipeline events (EventBridge) as data: names, the rule's pattern, the queue policy, parsing.

SageMaker sends "SageMaker Model Building Pipeline Execution Status Change" on every execution status change
and "SageMaker Model Building Pipeline Execution Step Status Change" on every step status change, with source
``aws.sagemaker``, to the account's default event bus. Everything here is pure (no Airflow, no AWS client):
the hooks (``hooks/events.py``), the triggers, the sensor, the local engine (``local/events.py``) and DAG
files at parse time share it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

SOURCE = "aws.sagemaker"
EXECUTION_STATUS_CHANGE = "SageMaker Model Building Pipeline Execution Status Change"
STEP_STATUS_CHANGE = "SageMaker Model Building Pipeline Execution Step Status Change"
DETAIL_TYPES = (EXECUTION_STATUS_CHANGE, STEP_STATUS_CHANGE)

#: Execution statuses an event-scheduled DAG may wait for.
ENDED_STATUSES = ("Succeeded", "Failed", "Stopped")

#: URI scheme of the Airflow Asset of a pipeline reaching a status. Airflow 3 passes a scheme starting with
#: ``x-`` through unchanged (no provider lookup: building the asset at parse time stays cheap).
PIPELINE_STATUS_SCHEME = "x-sagemaker-pipeline"


def event_pattern(pipeline_arns: Sequence[str] = (), detail_types: Sequence[str] = DETAIL_TYPES) -> dict[str, Any]:
    """The rule's pattern: SageMaker's two pipeline detail types, optionally only for these pipelines."""
    pattern: dict[str, Any] = {"source": [SOURCE], "detail-type": list(detail_types)}
    if pipeline_arns:
        pattern["detail"] = {"pipelineArn": sorted(pipeline_arns)}
    return pattern


def queue_policy(queue_arn: str, rule_arn: str) -> dict[str, Any]:
    """The queue policy EventBridge needs to deliver to the queue, for that rule only."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "SageMakerPipelineEventsFromEventBridge",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
        }],
    }


def parse_event(body: str) -> dict[str, Any] | None:
    """An SQS message body as a SageMaker pipeline event, or None when it is not one."""
    try:
        event = json.loads(body)
    except (TypeError, ValueError):
        return None
    if not isinstance(event, dict) or event.get("source") != SOURCE:
        return None
    if event.get("detail-type") not in DETAIL_TYPES or not isinstance(event.get("detail"), dict):
        return None
    if not event["detail"].get("pipelineExecutionArn"):
        return None
    return event


def matching_execution_event(event: dict[str, Any] | None, pipeline_name: str,
                             statuses: Sequence[str]) -> dict[str, Any] | None:
    """The execution event's detail when it is ``pipeline_name``'s execution reaching one of ``statuses``."""
    if event is None or event.get("detail-type") != EXECUTION_STATUS_CHANGE:
        return None
    detail = event["detail"]
    name = str(detail.get("pipelineArn", "")).rsplit("/", 1)[-1]
    if name.lower() != pipeline_name.lower() or detail.get("currentPipelineExecutionStatus") not in statuses:
        return None
    return detail


def pipeline_status_uri(pipeline_name: str, status: str = "Succeeded") -> str:
    """The Asset URI of ``pipeline_name``'s executions reaching ``status``:
    ``x-sagemaker-pipeline://churn-train/succeeded`` (pipeline names are valid URI authorities as they are)."""
    if status not in ENDED_STATUSES:
        raise ValueError(f"status must be one of {ENDED_STATUSES}, not {status!r}")
    return f"{PIPELINE_STATUS_SCHEME}://{pipeline_name}/{status.lower()}"
