"""PipelineExecutionTrigger and its shared poller, against the local engine."""

from __future__ import annotations

import asyncio
import importlib
import json
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from pipeline_helpers import CallCounter, callback, condition, fail, noop, spec, unique, wait_execution

from airflow_sagemaker_mlops.hooks.pipelines import SageMakerPipelinesAsyncHook, SageMakerPipelinesHook
from airflow_sagemaker_mlops.triggers import pipelines as triggers_module
from airflow_sagemaker_mlops.triggers.pipelines import (
    PipelineExecutionTrigger,
    active_pollers,
    check_once,
    wait_for_step,
)

FAST = 0.05


def token() -> str:
    return SageMakerPipelinesHook.execution_token("trigger-test", unique())


def trigger(arn: str, step: str | None = None, **kw: Any) -> PipelineExecutionTrigger:
    return PipelineExecutionTrigger(arn, step_name=step, aws_conn_id=None, poll_interval=FAST, **kw)


async def first_payload(t: PipelineExecutionTrigger) -> dict[str, Any]:
    async for event in t.run():
        return event.payload
    raise AssertionError("the trigger ended without an event")


def run_triggers(
    triggers: list[PipelineExecutionTrigger],
    meanwhile: Callable[[], Awaitable[Any]] | None = None,
    timeout: float = 30.0,
) -> list[dict[str, Any]]:
    async def main() -> list[dict[str, Any]]:
        tasks = [asyncio.create_task(first_payload(t)) for t in triggers]
        if meanwhile is not None:
            await meanwhile()
        payloads = await asyncio.wait_for(asyncio.gather(*tasks), timeout)
        await asyncio.sleep(0)  # let the poller see its last subscriber leave
        assert not active_pollers()
        return payloads

    payloads = asyncio.run(main())
    for payload in payloads:
        json.dumps(payload)  # a TriggerEvent payload must be JSON-serialisable
    return payloads


def start(hook: Any, steps: list[dict[str, Any]]) -> str:
    s = spec(steps)
    hook.upsert_pipeline(s)
    return hook.start_execution(s.name, client_request_token=token())


@pytest.fixture
def counted_clients(monkeypatch: pytest.MonkeyPatch) -> list[CallCounter]:
    """A CallCounter on every aiobotocore client a poller opens (one per poller)."""
    counters: list[CallCounter] = []
    original = SageMakerPipelinesAsyncHook.client

    @asynccontextmanager
    async def counting_client(self: SageMakerPipelinesAsyncHook) -> Any:
        async with original(self) as client:
            counters.append(CallCounter().attach(client))
            yield client

    monkeypatch.setattr(SageMakerPipelinesAsyncHook, "client", counting_client)
    return counters


# ---- serialisation -------------------------------------------------------------------------------


def test_serialize_round_trips() -> None:
    original = PipelineExecutionTrigger(
        "arn:aws:sagemaker:eu-west-1:111122223333:pipeline/p/execution/abc",
        step_name="Approve",
        aws_conn_id="aws_prod",
        region_name="eu-west-1",
        verify="/etc/ssl/corp-ca.pem",
        botocore_config={"connect_timeout": 3, "proxies": {"https": "http://proxy.corp:3128"}},
        poll_interval=7.5,
        wait_for="callback",
    )
    path, kwargs = original.serialize()
    assert kwargs["verify"] == "/etc/ssl/corp-ca.pem" and kwargs["botocore_config"]["connect_timeout"] == 3
    module, _, name = path.rpartition(".")
    rebuilt = getattr(importlib.import_module(module), name)(**kwargs)
    assert type(rebuilt) is PipelineExecutionTrigger
    assert rebuilt.serialize() == (path, kwargs)
    json.dumps(kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"wait_for": "start"}, "wait_for"),
        ({"wait_for": "callback"}, "step_name"),
        ({"poll_interval": 0}, "poll_interval"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PipelineExecutionTrigger("arn:x", **kwargs)


# ---- events --------------------------------------------------------------------------------------


def test_execution_end_events(hook: Any) -> None:
    ok = start(hook, [noop("A")])
    failed = start(hook, [noop("A"), fail("Stop", "no good", DependsOn=["A"])])
    good, bad = run_triggers([trigger(ok), trigger(failed)])
    assert good["status"] == "succeeded"
    assert good["execution"] == {"arn": ok, "status": "Succeeded", "failure_reason": None}
    assert good["step"] is None
    assert bad["status"] == "failed"
    assert bad["execution"]["status"] == "Failed"
    assert bad["reason"] == bad["execution"]["failure_reason"] and bad["reason"]


def test_step_done_events(hook: Any, engine: Any) -> None:
    s = spec([noop("A"), noop("B", DependsOn=["A"]), noop("C", DependsOn=["A"])])
    engine.faults.fail_step("C", "C broke", exception_type=None, pipeline=s.name)
    hook.upsert_pipeline(s)
    arn = hook.start_execution(s.name, client_request_token=token())
    b, c = run_triggers([trigger(arn, "B"), trigger(arn, "C")])
    assert b["status"] == "succeeded"
    assert b["step_name"] == "B"
    assert b["step"]["StepName"] == "B" and b["step"]["Metadata"]["Condition"]["Outcome"] == "True"
    assert isinstance(b["step"]["StartTime"], str)
    assert (c["status"], c["reason"]) == ("failed", "C broke")
    assert c["execution"]["arn"] == arn


def test_step_that_never_runs(hook: Any) -> None:
    gate = condition("Gate", [{"Type": "Equals", "LeftValue": 1, "RightValue": 2}], [noop("Taken")], [noop("Other")])
    arn = start(hook, [gate])
    skipped, ran = run_triggers([trigger(arn, "Taken"), trigger(arn, "Other")])
    assert skipped["status"] == "not_run"
    assert skipped["step"] is None
    assert skipped["execution"]["status"] == "Succeeded"
    assert "without running step Taken" in skipped["reason"]
    assert ran["status"] == "succeeded"


def test_callback_token_event_then_step_end(hook: Any, engine: Any) -> None:
    queue = engine.client("sqs").create_queue(QueueName=unique("q"))["QueueUrl"]
    arn = start(hook, [callback("Ask", queue, {"ok": "Boolean"})])
    (ready,) = run_triggers([trigger(arn, "Ask", wait_for="callback")])
    assert ready["status"] == "callback"
    assert ready["step"]["StepStatus"] == "Executing"
    callback_token = ready["step"]["Metadata"]["Callback"]["CallbackToken"]

    async def answer() -> None:
        await asyncio.sleep(3 * FAST)
        await asyncio.to_thread(hook.send_step_success, callback_token, {"ok": True})

    (done,) = run_triggers([trigger(arn, "Ask")], meanwhile=answer)
    assert done["status"] == "succeeded"
    assert done["step"]["Metadata"]["Callback"]["OutputParameters"] == [{"Name": "ok", "Value": "true"}]


def test_stopped_execution(hook: Any, engine: Any) -> None:
    queue = engine.client("sqs").create_queue(QueueName=unique("q"))["QueueUrl"]
    arn = start(hook, [callback("Ask", queue), noop("After", DependsOn=["Ask"])])

    async def stop() -> None:
        await asyncio.sleep(3 * FAST)
        await asyncio.to_thread(hook.stop_execution, arn)

    ex, ask, after = run_triggers([trigger(arn), trigger(arn, "Ask"), trigger(arn, "After")], meanwhile=stop)
    assert ex["status"] == "stopped"
    assert ask["status"] == "stopped"
    assert after["status"] == "not_run"


# ---- the shared poller ---------------------------------------------------------------------------


def blocked_pipeline(hook: Any, engine: Any, n_steps: int) -> tuple[str, Callable[[], Awaitable[None]]]:
    """An execution whose n steps wait on a Callback step, and a coroutine releasing it after a while."""
    queue = engine.client("sqs").create_queue(QueueName=unique("q"))["QueueUrl"]
    steps = [callback("Ask", queue)] + [noop(f"S{i}", DependsOn=["Ask"]) for i in range(n_steps)]
    arn = start(hook, steps)

    async def release() -> None:
        # Let a dozen polls happen while everybody waits.
        for _ in range(400):
            pollers = active_pollers()
            assert len(pollers) <= 1
            if pollers and pollers[0].stats.polls >= 12:
                break
            await asyncio.sleep(FAST)
        tok = await asyncio.to_thread(
            lambda: check_once(hook, arn, "Ask", "callback")["step"]["Metadata"]["Callback"]["CallbackToken"]
        )
        await asyncio.to_thread(hook.send_step_success, tok)

    return arn, release


@pytest.mark.parametrize("n", [1, 40])
def test_api_calls_per_poll_do_not_grow_with_the_number_of_triggers(
    hook: Any, engine: Any, counted_clients: list[CallCounter], n: int
) -> None:
    arn, release = blocked_pipeline(hook, engine, n)
    triggers = [trigger(arn, f"S{i}") for i in range(n)] + [trigger(arn)]
    payloads = run_triggers(triggers, meanwhile=release)
    assert [p["status"] for p in payloads] == ["succeeded"] * (n + 1)
    (counter,) = counted_clients  # one poller, one client, for all n + 1 triggers
    describes = counter.calls["DescribePipelineExecution"]
    lists = counter.calls["ListPipelineExecutionSteps"]
    assert describes >= 10
    # One describe and one page of steps per poll (the last poll may be cut short after its describe).
    assert describes - 1 <= lists <= describes
    assert counter.total() == describes + lists


def test_poller_stats_count_calls(hook: Any, engine: Any) -> None:
    arn = start(hook, [noop("A")])
    wait_execution(hook, arn)
    seen: list[Any] = []

    async def main() -> dict[str, Any]:
        t = asyncio.create_task(first_payload(trigger(arn, "A")))
        await asyncio.sleep(0)
        seen.extend(active_pollers())
        return await t

    assert asyncio.run(main())["status"] == "succeeded"
    (poller,) = seen
    assert (poller.stats.polls, poller.stats.api_calls, poller.stats.failures) == (1, 2, 0)


def test_cancelled_triggers_unsubscribe_and_the_last_one_stops_the_poller(hook: Any, engine: Any) -> None:
    queue = engine.client("sqs").create_queue(QueueName=unique("q"))["QueueUrl"]
    arn = start(hook, [callback("Ask", queue)])

    async def until(condition: Any, what: str) -> None:
        # The first poll opens an aiobotocore client (it loads the SageMaker model): no fixed sleep is enough.
        deadline = asyncio.get_running_loop().time() + 30
        while not condition():
            assert asyncio.get_running_loop().time() < deadline, f"timed out waiting until {what}"
            await asyncio.sleep(FAST / 5)

    async def main() -> None:
        first = asyncio.create_task(first_payload(trigger(arn, "Ask")))
        second = asyncio.create_task(first_payload(trigger(arn)))
        await until(lambda: active_pollers() and active_pollers()[0].stats.polls >= 1, "the first poll")
        (poller,) = active_pollers()
        assert len(poller.subscribers) == 2
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)
        assert len(poller.subscribers) == 1
        assert not poller.task.done()
        polls = poller.stats.polls
        await until(lambda: poller.stats.polls > polls, "another poll")  # still polling for the other trigger
        second.cancel()
        await asyncio.gather(second, return_exceptions=True)
        assert not active_pollers()
        await until(poller.task.done, "the poller stops")
        # A trigger arriving later gets a fresh poller.
        third = asyncio.create_task(first_payload(trigger(arn)))
        await until(active_pollers, "a new poller")
        (fresh,) = active_pollers()
        assert fresh is not poller
        third.cancel()
        await asyncio.gather(third, return_exceptions=True)

    asyncio.run(main())
    hook.stop_execution(arn)


def test_triggers_of_different_executions_get_their_own_pollers(hook: Any) -> None:
    one, two = start(hook, [noop("A")]), start(hook, [noop("A")])
    payloads = run_triggers([trigger(one, "A"), trigger(two, "A"), trigger(one)])
    assert [p["execution"]["arn"] for p in payloads] == [one, two, one]


def test_repeated_poll_failures_are_reported_once_retries_are_spent(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(triggers_module, "MAX_POLL_FAILURES", 3)
    arn = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/nope/execution/nothing"
    seen: list[Any] = []

    async def main() -> list[dict[str, Any]]:
        tasks = [asyncio.create_task(first_payload(trigger(arn, s))) for s in (None, "A")]
        await asyncio.sleep(0)
        seen.extend(active_pollers())
        return await asyncio.gather(*tasks)

    payloads = asyncio.run(main())
    assert [p["status"] for p in payloads] == ["error", "error"]
    assert "failed 3 times" in payloads[0]["message"]
    assert "does not exist" in payloads[0]["message"]
    assert seen[0].stats.failures == 3


def test_thirty_percent_throttling_still_fires(hook: Any, engine: Any) -> None:
    arn = start(hook, [noop("A"), noop("B", DependsOn=["A"])])
    engine.faults.throttle(0.3, seed=11)
    payloads = run_triggers([trigger(arn, "A"), trigger(arn, "B"), trigger(arn)])
    assert [p["status"] for p in payloads] == ["succeeded"] * 3


# ---- the synchronous helper ----------------------------------------------------------------------


def test_wait_for_step_sync(hook: Any, engine: Any) -> None:
    queue = engine.client("sqs").create_queue(QueueName=unique("q"))["QueueUrl"]
    arn = start(hook, [callback("Ask", queue), noop("After", DependsOn=["Ask"])])
    assert wait_for_step(hook, arn, "After", FAST, timeout=0) is None  # one poke: not yet
    ready = wait_for_step(hook, arn, "Ask", FAST, timeout=10, wait_for="callback")
    assert ready["status"] == "callback"
    hook.send_step_success(ready["step"]["Metadata"]["Callback"]["CallbackToken"])
    assert wait_for_step(hook, arn, "After", FAST, timeout=10)["status"] == "succeeded"
    assert wait_for_step(hook, arn, None, FAST, timeout=10)["status"] == "succeeded"
    from airflow_sagemaker_mlops.hooks.errors import PipelineWaitTimeout

    other = start(hook, [callback("Ask", queue)])
    with pytest.raises(PipelineWaitTimeout):
        wait_for_step(hook, other, "Ask", FAST, timeout=2 * FAST, raise_on_timeout=True)
    hook.stop_execution(other)


# ---- job logs while a step runs (stream_logs) ----------------------------------------------------


def processing(name: str) -> dict[str, Any]:
    return {"Name": name, "Type": "Processing", "Arguments": {
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                  "VolumeSizeInGB": 1}},
        "AppSpecification": {"ImageUri": "local/python"}, "RoleArn": "arn:aws:iam::123456789012:role/R"}}


class RecordingLogger:
    """Stands in for a trigger's ``self.log`` (what Airflow routes to the waiting task's log)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message: str, *args: Any, **kwargs: Any) -> None:
        self.lines.append(message % args if args else message)

    warning = error = exception = debug = info


def test_streaming_triggers_log_job_lines_while_the_step_runs(
    hook: Any, engine: Any, counted_clients: list[CallCounter]
) -> None:
    import threading
    import time

    from airflow_sagemaker_mlops.local.jobs.base import JobResult

    release = threading.Event()

    def job(name: str, request: dict[str, Any], ctx: Any) -> JobResult:
        for i in range(3):
            ctx.log(f"working {i}")
        release.wait(30)
        ctx.log("finished")
        return JobResult("Completed", {"ProcessingJobName": name})

    engine.config.job_runners["Processing"] = job
    arn = start(hook, [processing("Job")])
    streaming, plain, execution = trigger(arn, "Job", stream_logs=True), trigger(arn, "Job"), trigger(arn)
    loggers = [RecordingLogger() for _ in range(3)]
    for t, logger in zip([streaming, plain, execution], loggers, strict=True):
        t._log = logger
    while_running: list[str] = []

    async def meanwhile() -> None:
        deadline = time.monotonic() + 20
        while "working 2" not in loggers[0].lines and time.monotonic() < deadline:
            await asyncio.sleep(FAST)
        while_running.extend(loggers[0].lines)  # logged while the job was blocked
        release.set()

    payloads = run_triggers([streaming, plain, execution], meanwhile=meanwhile)
    assert [p["status"] for p in payloads] == ["succeeded"] * 3
    assert [line for line in while_running if line.startswith("working")] == ["working 0", "working 1", "working 2"]
    assert any(line.startswith("job log of step Job (CloudWatch Logs group /aws/sagemaker/ProcessingJobs")
               for line in while_running)
    assert not any("working" in line for logger in loggers[1:] for line in logger.lines)
    job_log = payloads[0]["job_log"]
    assert job_log["job_arn"] == payloads[0]["step"]["Metadata"]["ProcessingJob"]["Arn"]
    assert job_log["location"]["log_group"] == "/aws/sagemaker/ProcessingJobs" and job_log["cursor"]["tokens"]
    assert "job_log" not in payloads[1] and "job_log" not in payloads[2]
    # SageMaker calls: the usual describe + steps page per poll, plus one DescribeProcessingJob for the
    # job's name; the log reads go to CloudWatch Logs (its own client and quota).
    (counter,) = counted_clients
    describes, lists = counter.calls["DescribePipelineExecution"], counter.calls["ListPipelineExecutionSteps"]
    assert counter.calls["DescribeProcessingJob"] == 1
    assert counter.total() == describes + lists + 1


def test_triggers_without_stream_logs_never_touch_cloudwatch(hook: Any, engine: Any) -> None:
    arn = start(hook, [noop("A")])
    seen: list[Any] = []

    async def main() -> dict[str, Any]:
        t = asyncio.create_task(first_payload(trigger(arn, "A")))
        await asyncio.sleep(0)
        seen.extend(active_pollers())
        return await t

    assert asyncio.run(main())["status"] == "succeeded"
    assert seen[0].stats.log_calls == 0 and seen[0]._logs_client is None


@pytest.mark.parametrize("floor", [0.0, 1.5])
def test_a_trigger_fires_no_sooner_than_the_minimum_deferral(hook: Any, monkeypatch: pytest.MonkeyPatch,
                                                             floor: float) -> None:
    # Airflow's stale-executor-event race (apache/airflow#72716): see triggers.pipelines.min_deferral_seconds.
    arn = start(hook, [noop("A")])
    assert wait_for_step(hook, arn, None, 0.05, 20)["status"] == "succeeded"  # ended before the trigger starts
    monkeypatch.setenv("AIRFLOW__SAGEMAKER_MLOPS__MIN_DEFERRAL_SECONDS", str(floor))
    began = time.monotonic()
    assert run_triggers([trigger(arn)])[0]["status"] == "succeeded"
    elapsed = time.monotonic() - began
    assert elapsed >= floor and (floor or elapsed < 1.0), elapsed
