"""SageMakerJobLogsHook: finding a job's streams by prefix and reading new events with continuation."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest
from pipeline_helpers import CallCounter

from airflow_sagemaker_mlops.hooks.logs import (
    JobLogLocation,
    LogCursor,
    SageMakerJobLogsAsyncHook,
    SageMakerJobLogsHook,
    format_lines,
    job_of_step,
    location_for,
)
from airflow_sagemaker_mlops.local.pytest_plugin import ENV


@pytest.fixture(scope="session")
def _session_logs_hook(_sagemaker_local_engine_session: Any) -> SageMakerJobLogsHook:
    with pytest.MonkeyPatch.context() as mp:
        for key, value in ENV.items():
            mp.setenv(key, value)
        mp.setenv("AWS_ENDPOINT_URL", _sagemaker_local_engine_session.url)
        hook = SageMakerJobLogsHook(aws_conn_id=None)
        _ = hook.conn
    return hook


@pytest.fixture
def logs_hook(engine: Any, _session_logs_hook: SageMakerJobLogsHook) -> SageMakerJobLogsHook:
    return _session_logs_hook


@pytest.fixture
def logs_calls(logs_hook: SageMakerJobLogsHook) -> Any:
    counter = CallCounter().attach(logs_hook.conn)
    yield counter
    counter.detach(logs_hook.conn)


class Writer:
    """Puts events into the engine's CloudWatch Logs as a SageMaker job would."""

    def __init__(self, engine: Any, group: str) -> None:
        self.logs = engine.client("logs")
        self.group = group
        try:
            self.logs.create_log_group(logGroupName=group)
        except self.logs.exceptions.ResourceAlreadyExistsException:
            pass
        self.clock = int(time.time() * 1000)

    def put(self, stream: str, *messages: str) -> None:
        try:
            self.logs.create_log_stream(logGroupName=self.group, logStreamName=stream)
        except self.logs.exceptions.ResourceAlreadyExistsException:
            pass
        events = []
        for message in messages:
            self.clock += 1
            events.append({"timestamp": self.clock, "message": message})
        self.logs.put_log_events(logGroupName=self.group, logStreamName=stream, logEvents=events)


def job() -> str:
    return f"pipelines-x-Fit-{uuid.uuid4().hex[:10]}"


def test_reads_new_lines_with_continuation(engine: Any, logs_hook: SageMakerJobLogsHook, logs_calls: Any) -> None:
    name = job()
    writer = Writer(engine, "/aws/sagemaker/TrainingJobs")
    writer.put(f"{name}-other/algo-1-1", "another job whose name starts the same")
    location = location_for("TrainingJob", name)
    assert logs_hook.read(location).lines == []  # no stream yet: nothing, no error

    writer.put(f"{name}/algo-1-1700000000", "line 1", "line 2")
    first = logs_hook.read(location)
    assert [line.message for line in first.lines] == ["line 1", "line 2"] and not first.more

    logs_calls.ops.clear()
    again = logs_hook.read(location, first.cursor)
    assert again.lines == []
    # Caught up and nothing ingested since: only the stream listing is called.
    assert dict(logs_calls.ops) == {"DescribeLogStreams": 1}

    writer.put(f"{name}/algo-1-1700000000", "line 3")
    cursor = LogCursor.from_json(first.cursor.to_json())  # survives JSON (a TriggerEvent payload)
    assert [line.message for line in logs_hook.read(location, cursor).lines] == ["line 3"]


def test_bounded_reads_continue_where_they_stopped(engine: Any, logs_hook: SageMakerJobLogsHook) -> None:
    name = job()
    Writer(engine, "/aws/sagemaker/ProcessingJobs").put(f"{name}/algo-1-1", *[f"row {i}" for i in range(25)])
    location = location_for("ProcessingJob", name)
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        batch = logs_hook.read(location, cursor, max_lines=10)
        seen += [line.message for line in batch.lines]
        cursor = batch.cursor
        if not batch.more:
            break
    assert seen == [f"row {i}" for i in range(25)]
    drained = logs_hook.read(location, None, max_lines=100, drain=True)
    assert len(drained.lines) == 25 and not drained.more


def test_tail_and_tuning_trials(engine: Any, logs_hook: SageMakerJobLogsHook) -> None:
    tuning = f"tune-{uuid.uuid4().hex[:8]}"
    writer = Writer(engine, "/aws/sagemaker/TrainingJobs")
    writer.put(f"{tuning}-001-0a1b2c3d/algo-1-1", "trial 1 starts", "trial 1 auc=0.7")
    writer.put(f"{tuning}-002-4e5f6a7b/algo-1-1", "trial 2 starts", "Traceback", "ValueError: boom")
    writer.put(f"{tuning}-extra/algo-1-1", "not a trial of this tuning job")
    location = location_for("TuningJob", tuning)
    batch = logs_hook.read(location)
    assert {line.stream.split("/")[0] for line in batch.lines} == {f"{tuning}-001-0a1b2c3d", f"{tuning}-002-4e5f6a7b"}
    formatted = format_lines(batch.lines, location)
    assert "[002-4e5f6a7b/algo-1-1] ValueError: boom" in formatted
    tail = logs_hook.tail(location, 2)
    assert [line.message for line in tail] == ["Traceback", "ValueError: boom"]


def test_async_hook_reads_the_same(engine: Any, logs_hook: SageMakerJobLogsHook) -> None:
    name = job()
    Writer(engine, "/aws/sagemaker/TransformJobs").put(f"{name}/i-0abc-1700000000", "predicting", "done")
    location = location_for("TransformJob", name)

    async def main() -> list[str]:
        with pytest.MonkeyPatch.context() as mp:
            for key, value in ENV.items():
                mp.setenv(key, value)
            mp.setenv("AWS_ENDPOINT_URL", engine.url)
            hook = SageMakerJobLogsAsyncHook(aws_conn_id=None)
            async with await hook.open_client() as client:
                batch = await hook.read(client, location)
                later = await hook.read(client, location, batch.cursor)
        return [line.message for line in batch.lines] + [line.message for line in later.lines]

    assert asyncio.run(main()) == ["predicting", "done"]


def test_job_of_step_and_location() -> None:
    step = {"StepName": "Fit", "Metadata": {"TrainingJob": {"Arn": "arn:aws:sagemaker:us-east-1:1:training-job/x"}}}
    assert job_of_step(step) == ("TrainingJob", "arn:aws:sagemaker:us-east-1:1:training-job/x")
    assert job_of_step({"Metadata": {"Condition": {"Outcome": "True"}}}) is None
    assert location_for("ProcessingJob", "Job-A") == JobLogLocation("Job-A", "/aws/sagemaker/ProcessingJobs", "Job-A/")
    loc = JobLogLocation.from_json(location_for("TuningJob", "t").to_json())
    assert loc.matches("t-001-0123abcd/algo-1-5") and not loc.matches("t-x/algo-1-5")
