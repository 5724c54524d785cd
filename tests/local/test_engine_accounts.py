"""Two accounts on one engine: pipelines are per account; RAM shares decide what the other account may do.

As AWS documents for SageMaker Pipelines: without a share, AccessDenied; the default (read-only) permission
lets the consumer describe and list, not start; the extended permission also starts, stops and retries, and
the executions run in the owner's account; the invitation must be accepted first.
"""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from engine_helpers import ROLE, definition, noop, unique, wait

from airflow_sagemaker_mlops.local.ram import ALLOW_EXECUTION, READ_ONLY

OWNER = "123456789012"
CONSUMER = "210987654321"


def clients_in(engine: Any, account: str, session_name: str = "consumer") -> Any:
    """A boto3 session with an STS session in ``account`` (moto routes its calls to that account)."""
    credentials = engine.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/CrossAccount", RoleSessionName=session_name
    )["Credentials"]
    session = boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name="us-east-1",
    )

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=engine.url, config=Config(retries={"total_max_attempts": 1}))

    return client


@pytest.fixture
def shared_pipeline(sm: Any) -> str:
    name = unique("shared")
    arn = sm.create_pipeline(
        PipelineName=name,
        PipelineDefinition=definition([noop("a"), noop("b", DependsOn=["a"])]),
        RoleArn=ROLE,
    )["PipelineArn"]
    assert f":{OWNER}:pipeline/" in arn
    return str(arn)


def share(engine: Any, pipeline_arn: str, permission: str | None, accept: bool = True) -> str:
    ram = engine.client("ram")
    request: dict[str, Any] = {"name": unique("share"), "resourceArns": [pipeline_arn], "principals": [CONSUMER]}
    if permission:
        request["permissionArns"] = [permission]
    share_arn = ram.create_resource_share(**request)["resourceShare"]["resourceShareArn"]
    consumer_ram = clients_in(engine, CONSUMER)("ram")
    invitations = consumer_ram.get_resource_share_invitations(resourceShareArns=[share_arn])
    [invitation] = invitations["resourceShareInvitations"]
    assert invitation["status"] == "PENDING" and invitation["receiverAccountId"] == CONSUMER
    if accept:
        consumer_ram.accept_resource_share_invitation(
            resourceShareInvitationArn=invitation["resourceShareInvitationArn"]
        )
    return str(share_arn)


def denied(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    assert info.value.response["Error"]["Code"] == "AccessDeniedException", info.value.response
    return str(info.value.response["Error"]["Message"])


def test_pipelines_belong_to_the_account_that_created_them(engine: Any, sm: Any, shared_pipeline: str) -> None:
    consumer = clients_in(engine, CONSUMER)("sagemaker")
    name = shared_pipeline.rsplit("/", 1)[1]
    # By name, the consumer looks in its own account.
    with pytest.raises(ClientError) as info:
        consumer.describe_pipeline(PipelineName=name)
    assert info.value.response["Error"]["Code"] == "ResourceNotFound"
    assert name not in [p["PipelineName"] for p in consumer.list_pipelines()["PipelineSummaries"]]
    own = consumer.create_pipeline(PipelineName=name, PipelineDefinition=definition([noop("x")]), RoleArn=ROLE)
    assert f":{CONSUMER}:pipeline/" in own["PipelineArn"]
    arn = consumer.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert wait(consumer, arn)["PipelineExecutionStatus"] == "Succeeded"
    assert sm.describe_pipeline(PipelineName=name)["PipelineArn"] == shared_pipeline


def test_without_a_share_the_other_account_is_denied(engine: Any, sm: Any, shared_pipeline: str) -> None:
    consumer = clients_in(engine, CONSUMER)("sagemaker")
    message = denied(consumer.describe_pipeline, PipelineName=shared_pipeline)
    assert "assumed-role/CrossAccount/consumer is not authorized to perform: sagemaker:DescribePipeline" in message
    denied(consumer.start_pipeline_execution, PipelineName=shared_pipeline)
    execution = sm.start_pipeline_execution(PipelineName=shared_pipeline)["PipelineExecutionArn"]
    denied(consumer.describe_pipeline_execution, PipelineExecutionArn=execution)
    denied(consumer.list_pipeline_execution_steps, PipelineExecutionArn=execution)
    # A pipeline that does not exist in another account is AccessDenied too: AWS reveals nothing.
    denied(consumer.describe_pipeline, PipelineName=shared_pipeline + "-missing")
    wait(sm, execution)


def test_an_unaccepted_invitation_grants_nothing(engine: Any, shared_pipeline: str) -> None:
    share(engine, shared_pipeline, ALLOW_EXECUTION, accept=False)
    denied(clients_in(engine, CONSUMER)("sagemaker").describe_pipeline, PipelineName=shared_pipeline)


def test_read_only_share_describes_but_does_not_start(engine: Any, sm: Any, shared_pipeline: str) -> None:
    share(engine, shared_pipeline, None)  # the default permission: AWSRAMDefaultPermissionSageMakerPipeline
    consumer = clients_in(engine, CONSUMER)("sagemaker")
    assert consumer.describe_pipeline(PipelineName=shared_pipeline)["PipelineArn"] == shared_pipeline
    execution = sm.start_pipeline_execution(PipelineName=shared_pipeline)["PipelineExecutionArn"]
    wait(sm, execution)
    assert consumer.describe_pipeline_execution(PipelineExecutionArn=execution)["PipelineExecutionStatus"] == (
        "Succeeded"
    )
    assert [s["StepName"] for s in consumer.list_pipeline_execution_steps(PipelineExecutionArn=execution)[
        "PipelineExecutionSteps"]] == ["b", "a"]
    listed = consumer.list_pipeline_executions(PipelineName=shared_pipeline)["PipelineExecutionSummaries"]
    assert execution in [e["PipelineExecutionArn"] for e in listed]
    message = denied(consumer.start_pipeline_execution, PipelineName=shared_pipeline)
    assert "sagemaker:StartPipelineExecution" in message
    denied(consumer.retry_pipeline_execution, PipelineExecutionArn=execution, ClientRequestToken=uuid.uuid4().hex)
    # Shared pipelines are read or run, never changed, whatever the permission.
    denied(consumer.update_pipeline, PipelineName=shared_pipeline, PipelineDescription="mine now")


def test_execution_share_starts_stops_and_retries_in_the_owner_account(
    engine: Any, sm: Any, shared_pipeline: str
) -> None:
    share(engine, shared_pipeline, ALLOW_EXECUTION)
    consumer = clients_in(engine, CONSUMER)("sagemaker")
    execution = consumer.start_pipeline_execution(PipelineName=shared_pipeline)["PipelineExecutionArn"]
    assert execution.startswith(shared_pipeline + "/execution/"), "it runs in the owner's account"
    assert wait(consumer, execution)["PipelineExecutionStatus"] == "Succeeded"
    # The owner sees it as one of its pipeline's executions.
    owned = sm.list_pipeline_executions(PipelineName=shared_pipeline)["PipelineExecutionSummaries"]
    assert execution in [e["PipelineExecutionArn"] for e in owned]
    engine.faults.fail_step("b", attempts=1, pipeline=shared_pipeline.rsplit("/", 1)[1])
    failing = consumer.start_pipeline_execution(PipelineName=shared_pipeline)["PipelineExecutionArn"]
    assert wait(consumer, failing)["PipelineExecutionStatus"] == "Failed"
    consumer.retry_pipeline_execution(PipelineExecutionArn=failing, ClientRequestToken=uuid.uuid4().hex)
    assert wait(consumer, failing)["PipelineExecutionStatus"] == "Succeeded"


def test_ram_rejects_what_it_cannot_share(engine: Any, shared_pipeline: str) -> None:
    ram = engine.client("ram")
    with pytest.raises(ClientError, match="not owned by account"):
        clients_in(engine, CONSUMER)("ram").create_resource_share(
            name="steal", resourceArns=[shared_pipeline], principals=[OWNER]
        )
    with pytest.raises(ClientError, match="shares pipelines only"):
        ram.create_resource_share(name="bucket", resourceArns=["arn:aws:s3:::bucket"], principals=[CONSUMER])
    with pytest.raises(ClientError, match="does not apply to sagemaker:Pipeline"):
        ram.create_resource_share(
            name="wrong-permission", resourceArns=[shared_pipeline], principals=[CONSUMER],
            permissionArns=["arn:aws:ram::aws:permission/AWSRAMDefaultPermissionS3Bucket"],
        )
    share_arn = share(engine, shared_pipeline, READ_ONLY)
    listed = clients_in(engine, CONSUMER)("ram").list_resources(resourceOwner="OTHER-ACCOUNTS")["resources"]
    assert {(r["arn"], r["resourceShareArn"]) for r in listed} >= {(shared_pipeline, share_arn)}
    ram.delete_resource_share(resourceShareArn=share_arn)
    denied(clients_in(engine, CONSUMER)("sagemaker").describe_pipeline, PipelineName=shared_pipeline)
