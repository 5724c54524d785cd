"""PipelineEventSensor: wait for the next execution of a named pipeline (started anywhere) to reach a status.

The Airflow 2.11 counterpart of an ``AssetWatcher`` on :class:`~..triggers.events.PipelineEventTrigger`
(Airflow 3): it reads the same SQS queue of SageMaker pipeline events (``events setup``), deletes what it
reads, and returns (XCom) ``{"execution_arn", "status", "pipeline_arn", "pipeline_name", "parameters",
"execution_end_time"}`` of the first matching execution event.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_sagemaker_mlops.compat import BaseSensorOperator, PokeReturnValue
from airflow_sagemaker_mlops.definition.events import matching_execution_event, parse_event
from airflow_sagemaker_mlops.hooks.settings import AWS_TEMPLATE_FIELDS, AwsClientSettings


class PipelineEventSensor(BaseSensorOperator):
    """Wait for the next execution of ``pipeline_name`` (started anywhere) reaching one of ``statuses``, read
    from an SQS queue of SageMaker's pipeline events: the Airflow 2.11 counterpart of
    :class:`PipelineEventTrigger` in an AssetWatcher. Its XCom return value is ``{"execution_arn", "status",
    "pipeline_arn", "pipeline_name", "parameters", "execution_end_time"}``. Every message it reads is deleted,
    matching or not: give it a queue of its own.

    Args:
        queue_url: the SQS queue subscribed to the events (``events setup``).
        pipeline_name: the pipeline whose executions count.
        statuses: the execution statuses that end the wait (default ``Succeeded``).
        aws_conn_id: the Airflow connection to reach AWS with.
        region_name: AWS region override.
        verify: TLS certificate verification of the AWS clients: False, or a CA bundle path.
        botocore_config: ``botocore.config.Config`` options for the AWS clients.
    """

    template_fields: Sequence[str] = (*AWS_TEMPLATE_FIELDS, "queue_url", "pipeline_name")

    def __init__(self, *, queue_url: str, pipeline_name: str, statuses: Sequence[str] = ("Succeeded",),
                 aws_conn_id: str | None = "aws_default", region_name: str | None = None,
                 verify: bool | str | None = None, botocore_config: dict[str, Any] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.queue_url = queue_url
        self.pipeline_name = pipeline_name
        self.statuses = tuple(statuses)
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.verify = verify
        self.botocore_config = botocore_config

    def poke(self, context: Any) -> PokeReturnValue | bool:
        # The AWS clients here, not at import: the DAG file using the sensor parses without boto3.
        from airflow_sagemaker_mlops.hooks.events import SageMakerEventQueueHook
        from airflow_sagemaker_mlops.hooks.pipelines import SageMakerPipelinesHook

        aws = AwsClientSettings.of(self)
        sqs = aws.hook(SageMakerEventQueueHook).conn
        wait = int(max(0, min(20, self.poke_interval)))
        messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                                       WaitTimeSeconds=wait).get("Messages", [])
        found = None
        for msg in messages:
            detail = matching_execution_event(parse_event(msg.get("Body", "")), self.pipeline_name, self.statuses)
            sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=msg["ReceiptHandle"])
            if detail is not None and found is None:
                found = detail
        if found is None:
            return False
        arn = found["pipelineExecutionArn"]
        sm = aws.hook(SageMakerPipelinesHook).conn
        parameters = {p["Name"]: p["Value"] for page in
                      sm.get_paginator("list_pipeline_parameters_for_execution").paginate(PipelineExecutionArn=arn)
                      for p in page.get("PipelineParameters", [])}
        pipeline_arn = found.get("pipelineArn", "")
        self.log.info("%s of %s: %s", arn, self.pipeline_name, found.get("currentPipelineExecutionStatus"))
        return PokeReturnValue(True, {"execution_arn": arn, "status": found.get("currentPipelineExecutionStatus"),
                                      "pipeline_arn": pipeline_arn, "pipeline_name": pipeline_arn.rsplit("/", 1)[-1],
                                      "parameters": parameters, "execution_end_time": found.get("executionEndTime")})
