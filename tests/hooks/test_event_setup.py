"""The event queue set-up (hooks/events.py, the CLI's `events setup`, the operator) and its IAM (iam/events.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from typing import Any

import pytest

from airflow_sagemaker_mlops.definition.events import DETAIL_TYPES, event_pattern
from airflow_sagemaker_mlops.hooks.events import setup_event_queue
from airflow_sagemaker_mlops.iam.events import CONSUMER_ACTIONS, events_policy

# Their rules would otherwise keep receiving every later execution's events (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("forget_event_rules")


def test_setup_creates_everything_once_and_then_changes_nothing(sagemaker_local_engine: Any) -> None:
    sqs, events = sagemaker_local_engine.client("sqs"), sagemaker_local_engine.client("events")
    name = f"ev-{uuid.uuid4().hex[:8]}"
    arns = ["arn:aws:sagemaker:us-east-1:123456789012:pipeline/a"]
    first = setup_event_queue(sqs, events, queue_name=name, rule_name=name, pipeline_arns=arns)
    assert set(first.changed) >= {"queue", "rule", "target", "queue Policy"}
    second = setup_event_queue(sqs, events, queue_name=name, rule_name=name, pipeline_arns=arns)
    assert second.changed == () and second.to_json()["queue_url"] == first.queue_url
    rule = events.describe_rule(Name=name)
    assert json.loads(rule["EventPattern"]) == {"source": ["aws.sagemaker"], "detail-type": list(DETAIL_TYPES),
                                                "detail": {"pipelineArn": arns}}
    (target,) = events.list_targets_by_rule(Rule=name)["Targets"]
    assert target["Arn"] == first.queue_arn
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=first.queue_url, AttributeNames=["Policy"])[
        "Attributes"]["Policy"])
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"} and statement["Action"] == "sqs:SendMessage"
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": first.rule_arn}}
    # Widening to all pipelines updates the rule only.
    third = setup_event_queue(sqs, events, queue_name=name, rule_name=name)
    assert third.changed == ("rule",)
    assert "detail" not in json.loads(events.describe_rule(Name=name)["EventPattern"])


def test_pattern_without_pipelines_matches_both_detail_types() -> None:
    assert event_pattern() == {"source": ["aws.sagemaker"], "detail-type": list(DETAIL_TYPES)}


def test_iam_policy_scopes_the_queue_and_the_rule() -> None:
    doc = events_policy(region="eu-west-1", account="111122223333", queue_name="q", rule_name="r")
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    assert by_sid["ConsumePipelineEvents"]["Action"] == list(CONSUMER_ACTIONS)
    assert by_sid["ConsumePipelineEvents"]["Resource"] == "arn:aws:sqs:eu-west-1:111122223333:q"
    assert by_sid["SetUpPipelineEventRule"]["Resource"] == "arn:aws:events:eu-west-1:111122223333:rule/r"
    assert set(CONSUMER_ACTIONS) == {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"}
    consumer = events_policy(region="eu-west-1", account="111122223333", queue_name="q", rule_name="r", setup=False)
    assert [s["Sid"] for s in consumer["Statement"]] == ["ConsumePipelineEvents"]


def test_cli_events_setup_is_idempotent(sagemaker_local_engine: Any) -> None:
    name = f"cli-{uuid.uuid4().hex[:8]}"
    cmd = [sys.executable, "-m", "airflow_sagemaker_mlops", "events", "setup", "--queue-name", name,
           "--rule-name", name, "--endpoint-url", sagemaker_local_engine.url, "--region", "us-east-1"]
    outs = []
    for _ in range(2):
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        outs.append(json.loads(out[out.index("{\n"):]))  # after any log line Airflow's import printed
    assert "queue" in outs[0]["changed"] and outs[1]["changed"] == []
    assert outs[0]["queue_url"] == outs[1]["queue_url"]


def test_the_cli_defaults_are_the_hooks_defaults() -> None:
    from airflow_sagemaker_mlops.cli import build_parser
    from airflow_sagemaker_mlops.hooks.events import DEFAULT_QUEUE_NAME, DEFAULT_RULE_NAME

    args = build_parser().parse_args(["events", "setup"])
    assert (args.queue_name, args.rule_name) == (DEFAULT_QUEUE_NAME, DEFAULT_RULE_NAME)
