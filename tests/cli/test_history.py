"""``history``: recent executions of a pipeline with status, duration, parameters and condition outcomes."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from airflow_sagemaker_mlops.cli import load_groups, main
from airflow_sagemaker_mlops.local.pytest_plugin import ENV

DAG_FILE = str(Path(__file__).parent / "dags" / "history_dag.py")


@pytest.fixture(scope="module")
def runs(_sagemaker_local_engine_session: Any) -> dict[str, str]:
    """Three executions of the DAG file's pipeline, oldest first: accepted, rejected, failed."""
    from airflow_sagemaker_mlops.hooks.pipelines import SageMakerPipelinesHook

    engine = _sagemaker_local_engine_session
    with pytest.MonkeyPatch.context() as mp:
        for key, value in ENV.items():
            mp.setenv(key, value)
        mp.setenv("AWS_ENDPOINT_URL", engine.url)
        (group,) = load_groups(DAG_FILE).values()
        spec = group.compile().spec
        hook = SageMakerPipelinesHook(aws_conn_id=None)
        hook.upsert_pipeline(spec)
        arns = {}
        for label, values in (("accepted", {"Score": 0.9}), ("rejected", {"Score": 0.2}), ("failed", {"Mode": "fail"})):
            arns[label] = hook.start_execution(spec.name, parameters=values, declared=spec.definition.parameters,
                                               client_request_token=uuid.uuid4().hex)
            engine.wait(arns[label])
    return arns


def history(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["history", *args])
    out, err = capsys.readouterr()
    return status, out, err


def last_line(err: str) -> str:
    """The CLI's one-line error; Airflow's structlog loggers (the Amazon provider's "No connection ID provided")
    may print to stderr before it."""
    return err.rstrip("\n").splitlines()[-1]


def test_table_lists_executions_newest_first_with_outcomes(sagemaker_local_engine, runs, capsys):
    status, out, err = history(capsys, DAG_FILE, "--group", "scoring", "--endpoint-url", sagemaker_local_engine.url)
    assert status == 0, err
    title, header, *rows = out.splitlines()
    assert title == "pipeline cli-history: 3 most recent executions, newest first"
    assert header.split("  ")[0] == "EXECUTION" and "FAILURE REASON" in header
    ids = {label: arn.rsplit("/", 1)[1] for label, arn in runs.items()}
    assert [row.split()[0] for row in rows] == [ids["failed"], ids["rejected"], ids["accepted"]]
    # Aligned: every column starts where its header does.
    for column in ("STATUS", "DURATION", "PARAMETERS", "CONDITIONS"):
        start = header.index(column)
        assert all(row[start - 2:start] == "  " and row[start] != " " for row in rows), (column, out)
    failed, rejected, accepted = rows
    status_at = header.index("STATUS")
    assert [row[status_at:].split()[0] for row in rows] == ["Failed", "Succeeded", "Succeeded"]
    assert "Mode=fail" in failed and "gate=True accept=True" in failed and failed.endswith("boom: asked to fail")
    assert "Score=0.2" in rejected and "gate=False reject=True" in rejected
    assert "Score=0.9" in accepted and "gate=True accept=False" in accepted


def test_json_by_pipeline_name_with_a_limit(sagemaker_local_engine, runs, capsys):
    status, out, err = history(capsys, "--pipeline", "cli-history", "--limit", "2", "--json",
                               "--endpoint-url", sagemaker_local_engine.url)
    assert status == 0, err
    document = json.loads(out)
    assert document["pipeline"] == "cli-history"
    assert document["pipeline_arn"].endswith(":pipeline/cli-history")
    failed, rejected = document["executions"]
    assert (failed["execution_arn"], rejected["execution_arn"]) == (runs["failed"], runs["rejected"])
    assert (failed["status"], rejected["status"]) == ("Failed", "Succeeded")
    assert failed["failure_reason"] and failed["failed_steps"] == {"boom": "asked to fail"}
    assert rejected["failure_reason"] is None and rejected["failed_steps"] == {}
    assert rejected["parameters"] == {"Score": "0.2", "Threshold": "0.5", "Mode": "normal"}
    assert failed["parameters"]["Mode"] == "fail"
    assert rejected["conditions"] == [{"step": "gate", "outcome": False, "status": "Succeeded"},
                                      {"step": "reject", "outcome": True, "status": "Succeeded"}]
    assert {c["step"]: c["outcome"] for c in failed["conditions"]} == {"gate": True, "accept": True}
    for execution in document["executions"]:
        assert isinstance(execution["duration_seconds"], int | float) and execution["duration_seconds"] >= 0
        assert execution["start_time"] <= execution["end_time"]


def test_pipeline_by_arn(sagemaker_local_engine, runs, capsys):
    arn = runs["accepted"].rsplit("/execution/", 1)[0]
    status, out, err = history(capsys, "--pipeline", arn, "--json", "--endpoint-url", sagemaker_local_engine.url)
    assert status == 0, err
    assert [e["execution_arn"] for e in json.loads(out)["executions"]] == [
        runs["failed"], runs["rejected"], runs["accepted"]]


def test_a_running_execution_has_no_end_and_its_duration_so_far(sagemaker_local_engine, capsys):
    engine = sagemaker_local_engine
    queue = engine.client("sqs").create_queue(QueueName=f"history-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    name = f"history-running-{uuid.uuid4().hex[:8]}"
    sm = engine.client("sagemaker")
    sm.create_pipeline(PipelineName=name, RoleArn="arn:aws:iam::123456789012:role/SmPipeline",
                       PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": [
                           {"Name": "wait_for_me", "Type": "Callback", "Arguments": {}, "SqsQueueUrl": queue,
                            "OutputParameters": []}]}))
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    try:
        status, out, err = history(capsys, "--pipeline", name, "--json", "--endpoint-url", engine.url)
        assert status == 0, err
        (running,) = json.loads(out)["executions"]
        assert running["status"] == "Executing" and running["end_time"] is None
        assert isinstance(running["duration_seconds"], float) and running["duration_seconds"] >= 0
        status, out, err = history(capsys, "--pipeline", name, "--endpoint-url", engine.url)
        header, row = out.splitlines()[1:]
        assert row[header.index("DURATION"):].split()[0].endswith("s+")  # still counting
    finally:
        sm.stop_pipeline_execution(PipelineExecutionArn=arn)


def test_through_an_airflow_connection(sagemaker_local_engine, runs, capsys, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL")  # the endpoint must come from the connection
    monkeypatch.setenv("AIRFLOW_CONN_HISTORY_ENGINE", json.dumps({"conn_type": "aws", "extra": {
        "endpoint_url": sagemaker_local_engine.url, "region_name": "us-east-1"}}))
    status, out, err = history(capsys, "--pipeline", "cli-history", "--aws-conn-id", "history_engine", "--json")
    assert status == 0, err
    assert len(json.loads(out)["executions"]) == 3


def test_unknown_pipeline_is_named(sagemaker_local_engine, capsys):
    status, out, err = history(capsys, "--pipeline", "no-such-pipeline", "--endpoint-url", sagemaker_local_engine.url)
    assert (status, out) == (2, "")
    assert last_line(err).startswith("error: pipeline 'no-such-pipeline' not found in region us-east-1")


def test_pipeline_of_a_group_that_never_ran(sagemaker_local_engine, capsys, tmp_path):
    source = Path(DAG_FILE).read_text().replace('"cli-history"', '"cli-history-never-ran"')
    (tmp_path / "never_ran.py").write_text(source)
    status, _, err = history(capsys, str(tmp_path / "never_ran.py"), "--endpoint-url", sagemaker_local_engine.url)
    assert status == 2
    assert "pipeline 'cli-history-never-ran' (group history_dag.scoring of " in last_line(err)
    assert "the group's start task creates it on the first run" in last_line(err)


def test_no_credentials_says_so(capsys, monkeypatch, tmp_path):
    for key in (*ENV, "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    status, out, err = history(capsys, "--pipeline", "p", "--region", "us-east-1",
                               "--endpoint-url", "http://127.0.0.1:9")
    assert (status, out) == (2, "")
    assert last_line(err).startswith("error: no AWS credentials found")


@pytest.mark.parametrize(("args", "message"), [
    ([], "give either DAG_FILE"),
    ([DAG_FILE, "--pipeline", "p"], "give either DAG_FILE"),
    (["--pipeline", "p", "--group", "g"], "--group goes with DAG_FILE"),
    (["--pipeline", "p", "--limit", "0"], "--limit must be a positive number"),
    ([DAG_FILE, "--group", "nope"], "no pipeline group 'nope'"),
    (["--pipeline", "p", "--aws-conn-id", "no_such_conn"], "Airflow connection 'no_such_conn' not found"),
])
def test_usage_errors(capsys, args, message):
    status, out, err = history(capsys, *args)
    assert (status, out) == (2, "")
    assert last_line(err).startswith("error: ") and message in last_line(err)


def test_nothing_heavy_at_import():
    code = ("import sys, airflow_sagemaker_mlops.cli, airflow_sagemaker_mlops.history; "
            "print(sorted(m for m in ('botocore', 'boto3', 'airflow') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
