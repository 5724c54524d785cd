"""Step runners driven directly with a hand-built StepContext: no engine, no server, no moto."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import ROLE, definition

from airflow_sagemaker_mlops.local import steps
from airflow_sagemaker_mlops.local.access import AccessControl
from airflow_sagemaker_mlops.local.context import StepContext
from airflow_sagemaker_mlops.local.definition import parse_definition
from airflow_sagemaker_mlops.local.errors import AccessDeniedError
from airflow_sagemaker_mlops.local.expressions import ExpressionError
from airflow_sagemaker_mlops.local.jobs.base import JobContext, JobResult
from airflow_sagemaker_mlops.local.resolver import execution_resolver
from airflow_sagemaker_mlops.local.state import (
    EXECUTING,
    FAILED,
    PENDING,
    SUCCEEDED,
    EngineConfig,
    ExecutionRecord,
    JobStore,
    PipelineRecord,
    StepRecord,
)

QUEUE = "http://127.0.0.1/123456789012/approvals"
WHEN = dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)


class FakeClient:
    """Records the calls made to it; ``fail`` makes every call raise."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail = fail

    def __getattr__(self, operation: str) -> Any:
        def call(**kwargs: Any) -> dict[str, Any]:
            if self.fail is not None:
                raise self.fail
            self.calls.append((operation, kwargs))
            return {}

        return call


class FakeClients:
    """Stands in for EngineClients: one FakeClient per service, in whatever region/account is asked."""

    endpoint_url = "http://127.0.0.1:1"

    def __init__(self, **clients: FakeClient) -> None:
        self.clients = clients
        self.asked: list[tuple[str, str | None, str | None]] = []

    def client(self, service: str, region: str | None = None, account: str | None = None) -> FakeClient:
        self.asked.append((service, region, account))
        return self.clients.setdefault(service, FakeClient())

    def credentials_for(self, account: str) -> dict[str, str]:
        raise AssertionError("the pipeline's account is the engine's: no credentials to make")

    def role_credentials(self, role_arn: str | None, region: str) -> dict[str, str] | None:
        return {"AccessKeyId": f"key-of-{role_arn}", "SecretAccessKey": "s", "SessionToken": "t"} if role_arn else None


class Seen:
    """What the runner did through the context's callables."""

    def __init__(self) -> None:
        self.metadata: list[dict[str, Any]] = []
        self.registered = 0
        self.withdrawn: list[str] = []

    def register(self) -> str:
        self.registered += 1
        return f"token-{self.registered}"


def execution(step: dict[str, Any], parameters: list[dict[str, Any]] | None = None,
              values: dict[str, Any] | None = None) -> tuple[ExecutionRecord, StepRecord]:
    graph = parse_definition(definition([step], parameters))
    pipeline = PipelineRecord(name="ctx-pipeline", arn="arn:aws:sagemaker:eu-west-1:123456789012:pipeline/ctx-pipeline",
                              region="eu-west-1", role_arn=ROLE, definition="{}", graph=graph,
                              creation_time=WHEN, last_modified_time=WHEN)
    ex = ExecutionRecord(arn=f"{pipeline.arn}/execution/abc123", id="abc123", pipeline=pipeline, region="eu-west-1",
                         definition="{}", graph=graph, parameters=values or {}, parameter_list=[],
                         creation_time=WHEN)
    record = StepRecord(spec=graph.steps[step["Name"]], status=EXECUTING, start_time=WHEN, attempt_count=1)
    return ex, record


def context(ex: ExecutionRecord, record: StepRecord, tmp_path: Path, seen: Seen, clients: FakeClients | None = None,
            config: EngineConfig | None = None, access: AccessControl | None = None,
            jobs: JobStore | None = None) -> StepContext:
    def no_s3(uri: str) -> Any:
        raise ExpressionError(f"no S3 here: {uri}")

    return StepContext(
        execution=ex, record=record,
        resolver=execution_resolver(ex, record, lock=threading.RLock(), read_s3_json=no_s3),
        clients=clients or FakeClients(),  # type: ignore[arg-type]
        jobs=jobs or JobStore(), access=access or AccessControl(), config=config or EngineConfig(),
        base_work_dir=tmp_path, publish_metadata=seen.metadata.append, register_callback=seen.register,
        withdraw_callback=seen.withdrawn.append,
    )


def test_the_context_is_frozen(tmp_path: Path) -> None:
    ex, record = execution({"Name": "Stop", "Type": "Fail", "Arguments": {"ErrorMessage": "x"}})
    ctx = context(ex, record, tmp_path, Seen())
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.record = record  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.jobs = JobStore()  # type: ignore[misc]


def test_a_fail_step_resolves_its_message_from_the_parameters(tmp_path: Path) -> None:
    step = {"Name": "Stop", "Type": "Fail",
            "Arguments": {"ErrorMessage": {"Std:Join": {"On": " ", "Values": [
                "threshold", {"Get": "Parameters.Threshold"}, "in", {"Get": "Execution.PipelineName"}]}}}}
    ex, record = execution(step, [{"Name": "Threshold", "Type": "Float", "DefaultValue": 0.5}], {"Threshold": 0.75})
    outcome = steps.run_step(context(ex, record, tmp_path, Seen()))
    assert outcome.status == FAILED
    assert outcome.failure_reason == "threshold 0.75 in ctx-pipeline"
    assert outcome.metadata == {"Fail": {"ErrorMessage": "threshold 0.75 in ctx-pipeline"}}


def test_a_condition_step_evaluates_against_the_parameters(tmp_path: Path) -> None:
    step = {"Name": "Check", "Type": "Condition", "Arguments": {"Conditions": [
        {"Type": "GreaterThanOrEqualTo", "LeftValue": {"Get": "Parameters.Auc"}, "RightValue": 0.8}],
        "IfSteps": [], "ElseSteps": []}}
    parameters = [{"Name": "Auc", "Type": "Float", "DefaultValue": 0.0}]
    for auc, expected in ((0.9, True), (0.7, False)):
        ex, record = execution(step, parameters, {"Auc": auc})
        outcome = steps.run_step(context(ex, record, tmp_path, Seen()))
        assert (outcome.status, outcome.outcome) == (SUCCEEDED, expected)
        assert outcome.metadata == {"Condition": {"Outcome": str(expected)}}


def test_a_callback_step_registers_a_token_publishes_it_and_sends_the_message(tmp_path: Path) -> None:
    step = {"Name": "Approve", "Type": "Callback", "SqsQueueUrl": QUEUE, "Arguments": {"model": "m1"},
            "OutputParameters": []}
    ex, record = execution(step)
    seen, clients = Seen(), FakeClients()
    outcome = steps.run_step(context(ex, record, tmp_path, seen, clients))
    assert outcome.status == PENDING
    assert seen.registered == 1 and seen.withdrawn == []
    assert seen.metadata == [{"Callback": {"CallbackToken": "token-1", "SqsQueueUrl": QUEUE}}]
    (operation, sent), = clients.clients["sqs"].calls
    assert operation == "send_message" and sent["QueueUrl"] == QUEUE
    assert '"token": "token-1"' in sent["MessageBody"] and '"model": "m1"' in sent["MessageBody"]
    # The execution's region and the pipeline's account.
    assert clients.asked == [("sqs", "eu-west-1", "123456789012")]


def test_a_callback_whose_message_cannot_be_sent_withdraws_its_token(tmp_path: Path) -> None:
    step = {"Name": "Approve", "Type": "Callback", "SqsQueueUrl": QUEUE, "Arguments": {}, "OutputParameters": []}
    ex, record = execution(step)
    seen = Seen()
    clients = FakeClients(sqs=FakeClient(fail=RuntimeError("queue is gone")))
    outcome = steps.run_step(context(ex, record, tmp_path, seen, clients))
    assert outcome.status == FAILED and "queue is gone" in (outcome.failure_reason or "")
    assert seen.withdrawn == ["token-1"]


def test_a_job_step_runs_its_runner_and_stores_the_job(tmp_path: Path) -> None:
    got: dict[str, Any] = {}

    def runner(name: str, request: dict[str, Any], job: JobContext) -> JobResult:
        got.update(name=name, request=request, job=job)
        job.log("training...")
        return JobResult("Completed", {"TrainingJobStatus": "Completed", "FinalMetricDataList": []})

    step = {"Name": "Fit", "Type": "Training",
            "Arguments": {"RoleArn": ROLE, "HyperParameters": {"epochs": {"Get": "Parameters.Epochs"}}}}
    ex, record = execution(step, [{"Name": "Epochs", "Type": "String", "DefaultValue": "1"}], {"Epochs": "3"})
    seen, clients, jobs = Seen(), FakeClients(), JobStore()
    ctx = context(ex, record, tmp_path, seen, clients, EngineConfig(job_runners={"Training": runner}), jobs=jobs)
    outcome = steps.run_step(ctx)

    name = ctx.job_name()
    assert name.startswith("pipelines-abc123-Fit-") and got["name"] == name
    assert got["request"]["HyperParameters"] == {"epochs": "3"}
    job: JobContext = got["job"]
    assert (job.region, job.account_id, job.endpoint_url) == ("eu-west-1", "123456789012", clients.endpoint_url)
    assert job.work_dir == tmp_path / "abc123" / "Fit" / "attempt-1" and job.work_dir.is_dir()
    assert job.stop_event is ex.stop_event
    assert job.user_credentials == {"AccessKeyId": f"key-of-{ROLE}", "SecretAccessKey": "s", "SessionToken": "t"}
    arn = f"arn:aws:sagemaker:eu-west-1:123456789012:training-job/{name.lower()}"
    assert seen.metadata == [{"TrainingJob": {"Arn": arn}}]
    assert outcome.status == SUCCEEDED and outcome.metadata == {"TrainingJob": {"Arn": arn}}
    stored = jobs.get("TrainingJob", "eu-west-1", name.upper())  # job names ignore case
    assert stored is not None and stored["TrainingJobStatus"] == "Completed" and stored["TrainingJobArn"] == arn
    assert record.log == ["training..."]
    # The job's line also went to its CloudWatch Logs stream, shipped before the runner returned.
    logs = clients.clients["logs"].calls
    assert [c[0] for c in logs] == ["create_log_group", "create_log_stream", "put_log_events"]
    assert [e["message"] for e in logs[2][1]["logEvents"]] == ["training..."]


def test_with_iam_enforcement_a_denied_job_fails_before_its_runner_runs(tmp_path: Path) -> None:
    ran: list[str] = []
    step = {"Name": "Fit", "Type": "Training", "Arguments": {"RoleArn": ROLE}}
    ex, record = execution(step)

    class Denying(AccessControl):
        def require(self, principal_arn: str, action: str, resource: str, **kw: Any) -> None:
            raise AccessDeniedError(f"{principal_arn} may not {action}")

    jobs = JobStore()
    config = EngineConfig(job_runners={"Training": lambda *a: ran.append("ran")})
    ctx = context(ex, record, tmp_path, Seen(), config=config, access=Denying(enabled=True), jobs=jobs)
    outcome = steps.run_step(ctx)
    assert ran == []
    assert outcome.status == FAILED
    assert outcome.failure_reason == f"AccessDenied: {ROLE} may not sagemaker:CreateTrainingJob"
    stored = jobs.get("TrainingJob", "eu-west-1", ctx.job_name())
    assert stored is not None and stored["TrainingJobStatus"] == "Failed"


def test_names_depend_on_the_attempt(tmp_path: Path) -> None:
    ex, record = execution({"Name": "Fit", "Type": "Training", "Arguments": {}})
    first = context(ex, record, tmp_path, Seen()).job_name()
    again = context(ex, record, tmp_path, Seen()).job_name()
    retried = context(ex, dataclasses.replace(record, attempt_count=2), tmp_path, Seen())
    assert first == again != retried.job_name()
    assert retried.work_dir() == tmp_path / "abc123" / "Fit" / "attempt-2"
    assert retried.resource_name() == "pipelines-abc123-Fit"
