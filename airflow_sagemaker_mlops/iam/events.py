"""IAM for SageMaker pipeline events through EventBridge and SQS (hooks/events.py, triggers/events.py). Pure."""

from __future__ import annotations

from typing import Any

#: What ``events setup`` (the CLI command or SetupPipelineEventsOperator) calls.
SETUP_SQS_ACTIONS = ("sqs:CreateQueue", "sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:SetQueueAttributes")
SETUP_EVENTS_ACTIONS = ("events:DescribeRule", "events:PutRule", "events:ListTargetsByRule", "events:PutTargets")
#: What the triggerer (and the event-scheduled DAGs' watcher) calls on the queue: ``triggers/events.py``
#: receives, gives other pipelines' events back (visibility 0) and deletes (DeleteMessageBatch is authorized
#: as sqs:DeleteMessage); ``sensors/events.py`` receives and deletes.
CONSUMER_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility")


def _arns(region: str, account: str, queue_name: str, rule_name: str, partition: str) -> tuple[str, str]:
    return (f"arn:{partition}:sqs:{region}:{account}:{queue_name}",
            f"arn:{partition}:events:{region}:{account}:rule/{rule_name}")


def consumer_statements(queue_arn: str) -> list[dict[str, Any]]:
    return [{"Sid": "ConsumePipelineEvents", "Effect": "Allow", "Action": list(CONSUMER_ACTIONS),
             "Resource": queue_arn}]


def events_policy(*, region: str, account: str, queue_name: str, rule_name: str, setup: bool = True,
                  partition: str = "aws") -> dict[str, Any]:
    """The Airflow role's statements for the event queue: consuming it, and (``setup``) creating it."""
    queue_arn, rule_arn = _arns(region, account, queue_name, rule_name, partition)
    statements = consumer_statements(queue_arn)
    if setup:
        statements += [
            {"Sid": "SetUpPipelineEventQueue", "Effect": "Allow", "Action": list(SETUP_SQS_ACTIONS),
             "Resource": queue_arn},
            {"Sid": "SetUpPipelineEventRule", "Effect": "Allow", "Action": list(SETUP_EVENTS_ACTIONS),
             "Resource": rule_arn},
        ]
    return {"Version": "2012-10-17", "Statement": statements}
