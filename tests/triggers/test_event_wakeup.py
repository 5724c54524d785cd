"""Events wake the triggers' shared pollers; polling stays as the slow fallback (triggers/events.py)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from pipeline_helpers import callback, noop, spec, unique

from airflow_sagemaker_mlops.hooks.events import setup_event_queue
from airflow_sagemaker_mlops.hooks.pipelines import SageMakerPipelinesHook
from airflow_sagemaker_mlops.triggers import events as trigger_events
from airflow_sagemaker_mlops.triggers.pipelines import PipelineExecutionTrigger, active_pollers, check_once

# Their rules would otherwise keep receiving every later execution's events (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("forget_event_rules")

FALLBACK = 120.0  # far longer than any test here may take: a wake-up can only come from an event


def start(hook: Any, steps: list[dict[str, Any]]) -> str:
    s = spec(steps)
    hook.upsert_pipeline(s)
    return hook.start_execution(s.name, client_request_token=SageMakerPipelinesHook.execution_token("ev", unique()))


def event_queue(engine: Any) -> str:
    name = unique("evq")
    return setup_event_queue(engine.client("sqs"), engine.client("events"), queue_name=name,
                             rule_name=name).queue_url


def blocked(hook: Any, engine: Any) -> tuple[str, str]:
    queue = engine.client("sqs").create_queue(QueueName=unique("cb"))["QueueUrl"]
    return start(hook, [callback("Ask", queue), noop("After", DependsOn=["Ask"])]), queue


async def release(hook: Any, arn: str) -> float:
    token = await asyncio.to_thread(
        lambda: check_once(hook, arn, "Ask", "callback")["step"]["Metadata"]["Callback"]["CallbackToken"])
    await asyncio.to_thread(hook.send_step_success, token)
    return time.monotonic()


def test_an_event_wakes_the_poller_long_before_its_fallback_interval(hook: Any, engine: Any) -> None:
    url = event_queue(engine)
    arn, _ = blocked(hook, engine)
    trigger = PipelineExecutionTrigger(arn, step_name="After", aws_conn_id=None, poll_interval=0.05,
                                       event_queue_url=url, fallback_interval=FALLBACK)
    assert trigger.effective_interval == FALLBACK
    seen: dict[str, Any] = {}

    async def main() -> tuple[dict[str, Any], float, float]:
        task = asyncio.create_task(anext(trigger.run()))
        for _ in range(200):  # until the first poll is done; the next one is FALLBACK seconds away
            await asyncio.sleep(0.05)
            if active_pollers() and active_pollers()[0].stats.polls:
                break
        await asyncio.sleep(0.3)
        (poller,) = active_pollers()
        (consumer,) = trigger_events.active_consumers()
        seen.update(poller=poller, consumer=consumer, polls_before=poller.stats.polls)
        released = await release(hook, arn)
        event = await asyncio.wait_for(task, 15)
        return event.payload, released, time.monotonic()

    payload, released, fired = asyncio.run(main())
    assert payload["status"] == "succeeded" and payload["step_name"] == "After"
    assert fired - released < 5.0
    assert seen["polls_before"] == 1
    # Woken only by the events that can end the wait: no poll for Starting/Executing of "After".
    assert seen["poller"].stats.polls <= 3
    assert seen["consumer"].stats.woken >= 1 and seen["consumer"].stats.deleted >= 1
    assert not trigger_events.active_consumers()  # the last trigger released the consumer


def test_without_events_the_fallback_poll_still_ends_the_wait(hook: Any, engine: Any) -> None:
    # A queue no rule sends to: events are lost, the (here short) fallback interval still finds the end.
    url = engine.client("sqs").create_queue(QueueName=unique("silent"))["QueueUrl"]
    arn, _ = blocked(hook, engine)
    trigger = PipelineExecutionTrigger(arn, step_name="After", aws_conn_id=None, event_queue_url=url,
                                       fallback_interval=1.0)

    async def main() -> dict[str, Any]:
        task = asyncio.create_task(anext(trigger.run()))
        await asyncio.sleep(0.5)
        await release(hook, arn)
        return (await asyncio.wait_for(task, 20)).payload

    assert asyncio.run(main())["status"] == "succeeded"


def test_messages_nobody_here_waits_for_are_put_back_then_dropped(hook: Any, engine: Any,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trigger_events, "MAX_RECEIVES", 2)
    url = event_queue(engine)
    sqs = engine.client("sqs")
    foreign = {"source": "aws.sagemaker", "detail-type": "SageMaker Model Building Pipeline Execution Status Change",
               "detail": {"pipelineExecutionArn": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/x/execution/y",
                          "currentPipelineExecutionStatus": "Succeeded"}}
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(foreign))
    sqs.send_message(QueueUrl=url, MessageBody="not an event")
    arn, _ = blocked(hook, engine)
    trigger = PipelineExecutionTrigger(arn, step_name="After", aws_conn_id=None, event_queue_url=url,
                                       fallback_interval=FALLBACK)

    async def main() -> trigger_events.ConsumerStats:
        task = asyncio.create_task(anext(trigger.run()))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            consumers = trigger_events.active_consumers()
            if consumers and consumers[0].stats.passed >= 1 and consumers[0].stats.deleted >= 2:
                break
        stats = trigger_events.active_consumers()[0].stats
        task.cancel()
        return stats

    stats = asyncio.run(main())
    assert stats.passed >= 1  # offered to another triggerer first
    assert stats.deleted >= 2  # then dropped, as was the message that is no pipeline event
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_triggers_serialize_their_event_settings() -> None:
    t = PipelineExecutionTrigger("arn:x", event_queue_url="https://q", fallback_interval=60)
    _path, kwargs = t.serialize()
    assert kwargs["event_queue_url"] == "https://q" and kwargs["fallback_interval"] == 60
    assert PipelineExecutionTrigger(**kwargs).effective_interval == 60
    assert PipelineExecutionTrigger("arn:x", poll_interval=7).effective_interval == 7


def test_configure_events_prefers_the_group_then_the_connection() -> None:
    class Settings:  # what the group hands its tasks (operators.runtime.GroupRunSettings)
        event_queue_url = "https://group-queue"
        event_fallback_interval = None

    class Task:
        pipeline_settings = Settings()

    class Hook:
        class conn_config:  # stands in for AwsConnectionWrapper
            extra_config = {"event_queue_url": "https://conn-queue", "event_fallback_interval": "90"}

    t = PipelineExecutionTrigger("arn:x")
    trigger_events.configure_events(Task(), Hook(), t)
    assert (t.event_queue_url, t.fallback_interval) == ("https://group-queue", 90.0)
    t2 = PipelineExecutionTrigger("arn:x")
    trigger_events.configure_events(object(), Hook(), t2)
    assert t2.event_queue_url == "https://conn-queue"
    t3 = PipelineExecutionTrigger("arn:x")
    trigger_events.configure_events(object(), object(), t3)
    assert t3.event_queue_url is None and t3.effective_interval == 15.0


def test_a_group_carries_the_event_settings_to_its_step_tasks() -> None:
    from airflow_sagemaker_mlops import ProcessingStep, SageMakerPipelineGroup
    from airflow_sagemaker_mlops.compat import DAG

    with DAG("ev_group", schedule=None), SageMakerPipelineGroup(
            group_id="g", pipeline_name="ev-group", role_arn="arn:aws:iam::123456789012:role/R",
            event_queue_url="https://group-q", event_fallback_interval=120):
        step = ProcessingStep(task_id="p", job={
            "RoleArn": "arn:aws:iam::123456789012:role/R",
            "AppSpecification": {"ImageUri": "img"},
            "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                      "VolumeSizeInGB": 1}}})
    t = PipelineExecutionTrigger("arn:x")
    trigger_events.configure_events(step, object(), t)
    assert (t.event_queue_url, t.effective_interval) == ("https://group-q", 120.0)
