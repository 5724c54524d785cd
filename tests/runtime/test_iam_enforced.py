"""The generated Airflow-role policy covers a whole DAG run, with IAM enforcement on in the local engine.

Airflow's connection assumes a role that holds exactly ``iam-policy --role airflow`` for the group; the
pipeline runs as a role that holds exactly ``iam-policy --role pipeline``. Every SageMaker call and every S3
request the run makes is evaluated against those policies (local/access.py). That the start task is denied
without the policy's PipelineStart statement is tests/operators/test_start_task_access.py's (in-process).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_sagemaker_mlops.cli import load_groups
from airflow_sagemaker_mlops.iam import policy_for_group

DAG_FILE = Path(__file__).parent / "dags" / "rt_branches.py"
AIRFLOW_ROLE = "arn:aws:iam::123456789012:role/AirflowExecution"
CONF = {"score": "0.9", "threshold": 0.5}


def trust(service: str | None) -> str:
    principal = {"Service": service} if service else {"AWS": "arn:aws:iam::123456789012:root"}
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]})


def put_role(iam: Any, arn: str, document: dict[str, Any], service: str | None) -> None:
    name = arn.rsplit("/", 1)[-1]
    try:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(service))
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    iam.put_role_policy(RoleName=name, PolicyName="generated", PolicyDocument=json.dumps(document))


@pytest.fixture
def enforced(airflow: Any, sagemaker_local_engine: Any) -> Iterator[tuple[Any, dict[str, Any]]]:
    group = next(iter(load_groups(str(DAG_FILE)).values()))
    iam = sagemaker_local_engine.client("iam")
    put_role(iam, group.role_arn, policy_for_group(group, "pipeline"), "sagemaker.amazonaws.com")
    airflow_policy = policy_for_group(group, "airflow")
    put_role(iam, AIRFLOW_ROLE, airflow_policy, None)
    access = sagemaker_local_engine.engine.access
    access.clear()
    access.enabled = True
    try:
        yield access, airflow_policy
    finally:
        access.enabled = False
        access.clear()


def connection(engine: Any) -> str:
    return json.dumps({"conn_type": "aws", "extra": {
        "endpoint_url": engine.url, "region_name": "us-east-1", "role_arn": AIRFLOW_ROLE,
        "service_config": {"sts": {"endpoint_url": engine.url}}}})


def test_the_airflow_role_policy_covers_a_dag_run(airflow: Any, sagemaker_local_engine: Any, enforced: Any) -> None:
    access, _ = enforced
    run = airflow.dags_test("rt_branches", CONF, AIRFLOW_CONN_AWS_DEFAULT=connection(sagemaker_local_engine))
    assert run.state == "success", run.output[-4000:]
    assert not access.denied(), access.denied()
    by_airflow = {r.action for r in access.actions_of(AIRFLOW_ROLE)}
    assert {"sagemaker:DescribePipeline", "sagemaker:StartPipelineExecution", "sagemaker:DescribePipelineExecution",
            "sagemaker:ListPipelineExecutionSteps", "s3:GetObject"} <= by_airflow, by_airflow
    assert any(r.action == "iam:PassRole" for r in access.records), "the pipeline passes its role to its jobs"
