"""SetupPipelineEventsOperator: the event queue, rule, target and queue policy, idempotently (hooks/events.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_sagemaker_mlops.compat import BaseOperator
from airflow_sagemaker_mlops.hooks.events import DEFAULT_QUEUE_NAME, DEFAULT_RULE_NAME, setup_with_hook
from airflow_sagemaker_mlops.hooks.settings import AWS_TEMPLATE_FIELDS, AwsClientSettings


class SetupPipelineEventsOperator(BaseOperator):
    """Create or bring up to date the SQS queue receiving SageMaker's pipeline events and its EventBridge rule.

    Returns (XCom) ``{"queue_url", "queue_arn", "rule_arn", "changed"}``; a second run changes nothing.
    Put ``queue_url`` in the AWS connection's extra as ``event_queue_url`` (or on a group) to have waiting
    tasks woken by events.

    Args:
        queue_name: the SQS queue (created if missing; its policy admits only this rule).
        rule_name: the EventBridge rule on the default bus, for SageMaker's pipeline execution and step status
            change events.
        pipeline_arns: only these pipelines' events (default: every pipeline of the account and region).
        aws_conn_id: the Airflow connection to reach AWS with.
        region_name: AWS region override.
        verify: TLS certificate verification of the AWS clients: False, or a CA bundle path.
        botocore_config: ``botocore.config.Config`` options for the AWS clients.
    """

    template_fields: Sequence[str] = (*AWS_TEMPLATE_FIELDS, "queue_name", "rule_name", "pipeline_arns")

    def __init__(self, *, queue_name: str = DEFAULT_QUEUE_NAME, rule_name: str = DEFAULT_RULE_NAME,
                 pipeline_arns: Sequence[str] = (), aws_conn_id: str | None = "aws_default",
                 region_name: str | None = None, verify: bool | str | None = None,
                 botocore_config: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.queue_name = queue_name
        self.rule_name = rule_name
        self.pipeline_arns = list(pipeline_arns)
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.verify = verify
        self.botocore_config = botocore_config

    def execute(self, context: Any) -> dict[str, Any]:
        result = setup_with_hook(AwsClientSettings.of(self), queue_name=self.queue_name, rule_name=self.rule_name,
                                 pipeline_arns=self.pipeline_arns)
        self.log.info("event queue %s, rule %s: %s", result.queue_url, result.rule_arn,
                      ", ".join(result.changed) or "already set up")
        return result.to_json()
