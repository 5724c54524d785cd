"""The start task under IAM enforcement, driven in-process: without the generated Airflow-role policy's
PipelineStart statement it is denied StartPipelineExecution, and nothing else (the whole DAG run with the
full policy is tests/runtime/test_iam_enforced.py's)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from airflow_sagemaker_mlops.cli import load_groups
from airflow_sagemaker_mlops.iam import policy_for_group

RT_BRANCHES = Path(__file__).resolve().parents[1] / "runtime" / "dags" / "rt_branches.py"
AIRFLOW_ROLE = "arn:aws:iam::123456789012:role/AirflowStartOnly"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]})


class TI:
    dag_id, map_index, max_tries = "rt_branches", -1, 0

    def xcom_push(self, key: str, value: Any) -> None:
        raise AssertionError(f"nothing is pushed by a denied start ({key})")


def test_without_the_start_statement_the_start_task_is_denied(
        sagemaker_local_engine: Any, runtime_resources: None, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = sagemaker_local_engine
    group = next(iter(load_groups(str(RT_BRANCHES)).values()))
    policy = copy.deepcopy(policy_for_group(group, "airflow"))
    policy["Statement"] = [s for s in policy["Statement"] if s["Sid"] != "PipelineStart"]
    iam = engine.client("iam")
    name = AIRFLOW_ROLE.rsplit("/", 1)[-1]
    try:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    iam.put_role_policy(RoleName=name, PolicyName="generated", PolicyDocument=json.dumps(policy))
    # The task's connection assumes the role, as the DAG run's does.
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps({"conn_type": "aws", "extra": {
        "endpoint_url": engine.url, "region_name": "us-east-1", "role_arn": AIRFLOW_ROLE,
        "service_config": {"sts": {"endpoint_url": engine.url}}}}))
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    start = group.children["train.start"]
    start.render_template_fields({"params": {"score": "0.9", "threshold": 0.5, "sleep": "0"}})
    access = engine.engine.access
    access.clear()
    access.enabled = True
    try:
        with pytest.raises(Exception, match="not authorized to perform: sagemaker:StartPipelineExecution"):
            start.execute({"ti": TI(), "run_id": "manual__denied"})
        denied = [r.action for r in access.denied()]
        used = {r.action for r in access.actions_of(AIRFLOW_ROLE)}
    finally:
        access.enabled = False
        access.clear()
    assert denied == ["sagemaker:StartPipelineExecution"]
    # What came before the start was allowed: the code upload and the pipeline's upsert, as that role.
    assert {"s3:PutObject", "sagemaker:DescribePipeline"} <= used, used
