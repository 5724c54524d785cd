"""The RAM operators' checks and behaviour on the local engine (the full cross-account run is
tests/runtime/test_cross_account.py)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from airflow_sagemaker_mlops.exceptions import PipelineCompileError
from airflow_sagemaker_mlops.hooks.ram import SageMakerPipelineShareHook, permission_arn
from airflow_sagemaker_mlops.operators.ram import (
    SageMakerAcceptPipelineShareOperator,
    SageMakerSharePipelineOperator,
)

CONSUMER = "210987654321"


def test_bad_arguments_are_refused_when_the_dag_is_parsed() -> None:
    here = f"{__file__}:"
    with pytest.raises(PipelineCompileError, match="permission 'write' is not a SageMaker pipeline permission") as exc:
        SageMakerSharePipelineOperator(task_id="share", pipeline="p", principals=[CONSUMER], permission="write")
    assert exc.value.dag_file == __file__ and exc.value.task_id == "share" and exc.value.field == "permission"
    assert str(exc.value).startswith(here)
    with pytest.raises(PipelineCompileError, match="task 'share', field principals: principals must be a non-empty"):
        SageMakerSharePipelineOperator(task_id="share", pipeline="p", principals=CONSUMER)
    with pytest.raises(PipelineCompileError, match="task 'accept': give share_arn, sender_account or share_name"):
        SageMakerAcceptPipelineShareOperator(task_id="accept")
    assert permission_arn("execution").endswith("/AWSRAMPermissionSageMakerPipelineAllowExecution")


def test_share_is_idempotent_and_accept_reports_what_it_accepted(sagemaker_local_engine: Any) -> None:
    engine = sagemaker_local_engine
    name = f"ram-{uuid.uuid4().hex[:8]}"
    definition = '{"Version": "2020-12-01", "Steps": [{"Name": "a", "Type": "Fail", "Arguments": {}}]}'
    arn = engine.client("sagemaker").create_pipeline(
        PipelineName=name, PipelineDefinition=definition, RoleArn="arn:aws:iam::123456789012:role/R"
    )["PipelineArn"]
    owner = SageMakerPipelineShareHook(aws_conn_id=None, region_name="us-east-1")
    first = owner.share(f"share-{name}", arn, [CONSUMER], "read-only")
    assert owner.share(f"share-{name}", arn, [CONSUMER], "read-only") == first

    credentials = engine.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{CONSUMER}:role/Airflow", RoleSessionName="airflow")["Credentials"]
    consumer = SageMakerPipelineShareHook(aws_conn_id=None, region_name="us-east-1")
    import boto3

    consumer.__dict__["conn"] = boto3.client(
        "ram", endpoint_url=engine.url, region_name="us-east-1", aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"], aws_session_token=credentials["SessionToken"])
    assert consumer.accept(share_arn=first) == [first]
    assert consumer.accept(share_arn=first) == [first], "accepting twice is fine"
    assert consumer.accept(sender_account="999999999999") == []
