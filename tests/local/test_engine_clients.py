"""Clients nobody here wrote, pointed at the engine: the AWS CLI, SageMaker SDK v3, Airflow's provider."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import ROLE, definition, noop, unique, wait

AWS_CLI = str(Path(sys.executable).with_name("aws"))

FAIL_IF_BIG = [
    {
        "Name": "Check",
        "Type": "Condition",
        "Arguments": {
            "Conditions": [{"Type": "GreaterThanOrEqualTo", "LeftValue": {"Get": "Parameters.X"}, "RightValue": 5}],
            "IfSteps": [{"Name": "TooBig", "Type": "Fail", "Arguments": {"ErrorMessage": "X too big"}}],
            "ElseSteps": [],
        },
    }
]
X_PARAM = [{"Name": "X", "Type": "Integer", "DefaultValue": 1}]


def aws(engine: Any, *args: str) -> Any:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_PAGER": "",
    }
    proc = subprocess.run(
        [AWS_CLI, "--endpoint-url", engine.url, "--output", "json", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0:
        raise AssertionError(f"aws {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    return json.loads(proc.stdout) if proc.stdout.strip() else None


@pytest.mark.skipif(not Path(AWS_CLI).exists(), reason="awscli not installed in this environment")
def test_aws_cli(engine: Any, sm: Any, tmp_path: Path) -> None:
    name = unique()
    doc = tmp_path / "definition.json"
    doc.write_text(definition(FAIL_IF_BIG, X_PARAM))
    created = aws(
        engine,
        "sagemaker",
        "create-pipeline",
        "--pipeline-name",
        name,
        "--role-arn",
        ROLE,
        "--pipeline-definition",
        f"file://{doc}",
    )
    assert created["PipelineArn"].endswith(f"pipeline/{name}")
    listed = aws(engine, "sagemaker", "list-pipelines", "--pipeline-name-prefix", name)
    assert [p["PipelineName"] for p in listed["PipelineSummaries"]] == [name]
    arn = aws(
        engine,
        "sagemaker",
        "start-pipeline-execution",
        "--pipeline-name",
        name,
        "--pipeline-parameters",
        "Name=X,Value=9",
    )["PipelineExecutionArn"]
    assert wait(sm, arn)["PipelineExecutionStatus"] == "Failed"
    steps = aws(engine, "sagemaker", "list-pipeline-execution-steps", "--pipeline-execution-arn", arn)
    by_name = {s["StepName"]: s for s in steps["PipelineExecutionSteps"]}
    assert by_name["TooBig"]["Metadata"]["Fail"]["ErrorMessage"] == "X too big"
    # The CLI's own error path: exit code 254/255 and the server's message.
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t", "AWS_DEFAULT_REGION": "us-east-1"}
    proc = subprocess.run(
        [AWS_CLI, "--endpoint-url", engine.url, "sagemaker", "describe-pipeline", "--pipeline-name", "nope-nope"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode != 0
    assert "ResourceNotFound" in proc.stderr and "nope-nope" in proc.stderr


@pytest.mark.sdk
def test_sagemaker_sdk_v3_pipeline(engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGEMAKER_VALIDATE_ROLE", "false")
    import boto3
    from sagemaker.core.helper.session_helper import Session
    from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo
    from sagemaker.core.workflow.functions import Join
    from sagemaker.core.workflow.parameters import ParameterInteger
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.pipeline import Pipeline

    boto_session = boto3.session.Session()
    session = Session(
        boto_session=boto_session,
        sagemaker_client=boto_session.client("sagemaker", endpoint_url=engine.url),
        default_bucket="sdk-default-bucket",
    )
    x = ParameterInteger(name="X", default_value=1)
    fail = FailStep(name="TooBig", error_message=Join(on=" ", values=["X is", x]))
    check = ConditionStep(
        name="Check", conditions=[ConditionGreaterThanOrEqualTo(left=x, right=5)], if_steps=[fail], else_steps=[]
    )
    name = unique("sdk")
    pipeline = Pipeline(name=name, parameters=[x], steps=[check], sagemaker_session=session)
    created = pipeline.upsert(role_arn=ROLE)
    assert created["PipelineArn"].endswith(name)
    updated = pipeline.upsert(role_arn=ROLE)  # exists: the SDK must recognise our error and update
    assert updated["PipelineVersionId"] == 2
    assert json.loads(pipeline.describe()["PipelineDefinition"]) == json.loads(pipeline.definition())

    big = pipeline.start(parameters={"X": 7})
    with pytest.raises(Exception, match="Failed"):
        big.wait(delay=0.1, max_attempts=100)
    assert big.describe()["PipelineExecutionStatus"] == "Failed"
    steps = {s["StepName"]: s for s in big.list_steps()}
    assert steps["TooBig"]["Metadata"]["Fail"]["ErrorMessage"] == "X is 7"
    assert steps["Check"]["Metadata"]["Condition"]["Outcome"] == "True"
    assert big.list_parameters()["PipelineParameters"] == [{"Name": "X", "Value": "7"}]

    small = pipeline.start()
    small.wait(delay=0.1, max_attempts=100)
    assert small.describe()["PipelineExecutionStatus"] == "Succeeded"
    assert [s["StepName"] for s in small.list_steps()] == ["Check"]


@pytest.fixture
def airflow_aws_connection(engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = {
        "conn_type": "aws",
        "login": "testing",
        "password": "testing",
        "extra": {"endpoint_url": engine.url, "region_name": "us-east-1"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps(conn))


def test_airflow_start_pipeline_operator_and_sensor(engine: Any, sm: Any, airflow_aws_connection: None) -> None:
    from airflow.providers.amazon.aws.operators.sagemaker import SageMakerStartPipelineOperator
    from airflow.providers.amazon.aws.sensors.sagemaker import SageMakerPipelineSensor

    name = unique()
    sm.create_pipeline(PipelineName=name, PipelineDefinition=definition(FAIL_IF_BIG, X_PARAM), RoleArn=ROLE)
    operator = SageMakerStartPipelineOperator(
        task_id="start",
        pipeline_name=name,
        pipeline_params={"X": "2"},
        wait_for_completion=True,
        check_interval=0.05,
    )
    arn = operator.execute({})
    assert sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Succeeded"
    sensor = SageMakerPipelineSensor(task_id="sense", pipeline_exec_arn=arn, poke_interval=0.05)
    assert sensor.poke({}) is True

    failing = SageMakerStartPipelineOperator(
        task_id="start_failing",
        pipeline_name=name,
        pipeline_params={"X": "8"},
        wait_for_completion=True,
        check_interval=0.05,
    )
    with pytest.raises(Exception, match="Step failure"):
        failing.execute({})
    failed_arn = sm.list_pipeline_executions(PipelineName=name)["PipelineExecutionSummaries"][0]["PipelineExecutionArn"]
    with pytest.raises(Exception, match=r"Failed|failed"):
        SageMakerPipelineSensor(task_id="sense_failed", pipeline_exec_arn=failed_arn).poke({})


def test_airflow_sensor_pokes_false_while_executing(engine: Any, sm: Any, airflow_aws_connection: None) -> None:
    from airflow.providers.amazon.aws.sensors.sagemaker import SageMakerPipelineSensor

    queue = engine.client("sqs").create_queue(QueueName=unique("q"))["QueueUrl"]
    name = unique()
    sm.create_pipeline(
        PipelineName=name,
        RoleArn=ROLE,
        PipelineDefinition=definition([{"Name": "Wait", "Type": "Callback", "Arguments": {}, "SqsQueueUrl": queue}]),
    )
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    try:
        assert SageMakerPipelineSensor(task_id="sense", pipeline_exec_arn=arn).poke({}) is False
    finally:
        sm.stop_pipeline_execution(PipelineExecutionArn=arn)
        wait(sm, arn)


def test_aiobotocore_client(engine: Any, make_pipeline: Any) -> None:
    import asyncio

    from aiobotocore.session import get_session

    name = make_pipeline([noop("A")])

    async def go() -> str:
        session = get_session()
        async with session.create_client(
            "sagemaker",
            endpoint_url=engine.url,
            region_name="us-east-1",
            aws_access_key_id="t",
            aws_secret_access_key="t",
        ) as client:
            arn = (await client.start_pipeline_execution(PipelineName=name))["PipelineExecutionArn"]
            for _ in range(200):
                desc = await client.describe_pipeline_execution(PipelineExecutionArn=arn)
                if desc["PipelineExecutionStatus"] != "Executing":
                    return desc["PipelineExecutionStatus"]
                await asyncio.sleep(0.01)
        return "timeout"

    assert asyncio.run(go()) == "Succeeded"
