"""Cross-account runs with real Airflow (``airflow dags test``) on a two-account local engine.

This Airflow's identity is an IAM user of account 210987654321; the pipeline belongs to 123456789012. The
DAG shares it (owner connection), accepts the share, then starts, senses, branches on, stops and retries
it by ARN, both through the RAM execution share and through a connection that assumes a role in the
owner's account (dags/rt_cross_account.py).
"""

from __future__ import annotations

import json
from typing import Any

CONSUMER = "210987654321"
OWNER = "123456789012"


def consumer_user(engine: Any) -> dict[str, str]:
    """An IAM user (with an access key) in the consumer account, made with an STS session there."""
    import boto3

    credentials = engine.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{CONSUMER}:role/Admin", RoleSessionName="setup"
    )["Credentials"]
    iam = boto3.client(
        "iam", endpoint_url=engine.url, region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    try:
        iam.create_user(UserName="airflow")
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    key = iam.create_access_key(UserName="airflow")["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def test_run_a_pipeline_of_another_account_by_arn(airflow: Any, sagemaker_local_engine: Any) -> None:
    engine = sagemaker_local_engine
    connection = {"endpoint_url": engine.url, "region_name": "us-east-1"}
    env = {
        **consumer_user(engine),
        "AIRFLOW_CONN_AWS_OWNER": json.dumps(
            {"conn_type": "aws", "login": "testing", "password": "testing", "extra": connection}),
        "AIRFLOW_CONN_AWS_OWNER_ROLE": json.dumps({"conn_type": "aws", "extra": {
            **connection, "role_arn": f"arn:aws:iam::{OWNER}:role/AirflowPipelineRunner",
            "service_config": {"sts": {"endpoint_url": engine.url}}}}),
    }
    run = airflow.dags_test("rt_cross_account", **env)
    assert run.states == {
        "owner.start": "success", "owner.first": "success", "owner.is_full": "success",
        "share": "success", "accept": "success",
        "start_shared": "success", "wait_shared": "success", "branch": "success",
        "full_path": "skipped", "incremental_path": "success",
        "start_as_owner_role": "success", "stop_as_owner_role": "success", "wait_stopped": "success",
        "retry_shared": "success", "wait_retried": "success",
    }, run.output[-4000:]
    pipeline_arn = f"arn:aws:sagemaker:us-east-1:{OWNER}:pipeline/rt-cross-account"
    shared = run.xcom("start_shared")
    assert shared.startswith(pipeline_arn + "/execution/"), "it runs in the owner's account"
    sm = engine.client("sagemaker")  # the owner's view
    assert sm.describe_pipeline_execution(PipelineExecutionArn=shared)["PipelineExecutionStatus"] == "Succeeded"
    slow = run.xcom("start_as_owner_role")
    steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=slow)["PipelineExecutionSteps"]
    first = next(s for s in steps if s["StepName"] == "first")
    assert first["StepStatus"] == "Succeeded" and first["AttemptCount"] == 2, first  # stopped once, then retried
    ram = engine.client("ram")
    [share] = ram.get_resource_shares(resourceOwner="SELF", resourceShareArns=[run.xcom("share")])["resourceShares"]
    assert share["status"] == "ACTIVE"
