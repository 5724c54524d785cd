"""The engine emits SageMaker's pipeline EventBridge events to the default bus's rules and their SQS targets."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace
from typing import Any

import pytest
from engine_helpers import processing_step, unique, wait

from airflow_sagemaker_mlops.definition.events import DETAIL_TYPES, EXECUTION_STATUS_CHANGE, STEP_STATUS_CHANGE
from airflow_sagemaker_mlops.hooks.events import setup_event_queue
from airflow_sagemaker_mlops.local import events as engine_events

# Their rules would otherwise keep receiving every later execution's events (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("forget_event_rules")

NOOP = [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}]


def drain(sqs: Any, url: str, until: Any, timeout: float = 10.0) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for msg in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", []):
            got.append(json.loads(msg["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
        if until(got):
            return got
        time.sleep(0.05)
    raise AssertionError(f"events so far: {[(e['detail-type'], e['detail']) for e in got]}")


def queue_for(engine: Any, pipeline_arns: list[str] = ()) -> str:
    name = unique("ev")
    return setup_event_queue(engine.client("sqs"), engine.client("events"), queue_name=name, rule_name=name,
                             pipeline_arns=pipeline_arns).queue_url


def test_execution_and_step_events_have_aws_shapes(engine: Any, sm: Any, make_pipeline: Any, fake_jobs: Any) -> None:
    check = {"Name": "Check", "Type": "Condition", "DependsOn": ["Prep"],
             "Arguments": {"Conditions": NOOP, "IfSteps": [], "ElseSteps": []}}
    name = make_pipeline([processing_step("Prep", "bucket-ev"), check])
    pipeline_arn = sm.describe_pipeline(PipelineName=name)["PipelineArn"]
    url = queue_for(engine, [pipeline_arn])
    arn = sm.start_pipeline_execution(PipelineName=name, PipelineExecutionDisplayName="nightly")["PipelineExecutionArn"]
    wait(sm, arn)

    def ended(got: list[dict[str, Any]]) -> bool:
        return any(e["detail"].get("currentPipelineExecutionStatus") == "Succeeded" for e in got)

    got = drain(engine.client("sqs"), url, ended)
    for event in got:
        assert event["source"] == "aws.sagemaker" and event["detail-type"] in DETAIL_TYPES
        assert event["account"] == "123456789012" and event["region"] == "us-east-1"
        assert event["resources"] == [pipeline_arn, arn]
        assert event["detail"]["pipelineArn"] == pipeline_arn and event["detail"]["pipelineExecutionArn"] == arn
    executions = [e["detail"] for e in got if e["detail-type"] == EXECUTION_STATUS_CHANGE]
    assert [(d.get("previousPipelineExecutionStatus"), d["currentPipelineExecutionStatus"]) for d in executions] == [
        (None, "Executing"), ("Executing", "Succeeded")]
    last = executions[-1]
    assert last["pipelineExecutionDisplayName"] == "nightly"
    assert last["executionStartTime"].endswith("Z") and last["executionEndTime"] >= last["executionStartTime"]
    steps = [e["detail"] for e in got if e["detail-type"] == STEP_STATUS_CHANGE]
    prep = [d for d in steps if d["stepName"] == "Prep"]
    assert [(d.get("previousStepStatus"), d["currentStepStatus"]) for d in prep] == [
        (None, "Starting"), ("Starting", "Executing"), ("Executing", "Succeeded")]
    assert prep[-1]["stepType"] == "Processing" and prep[-1]["stepEndTime"] >= prep[-1]["stepStartTime"]
    assert prep[-1]["metadata"]["processingJob"]["arn"].startswith("arn:aws:sagemaker:us-east-1:123456789012:"
                                                                   "processing-job/")
    # As AWS documents it: failureReason only on a Failed step, cacheHitResult only on a cache hit.
    assert not [d for d in steps if "failureReason" in d or "cacheHitResult" in d]
    check = [d for d in steps if d["stepName"] == "Check"]
    assert check[-1]["currentStepStatus"] == "Succeeded" and check[-1]["stepType"] == "Condition"


def test_failed_step_event_carries_the_failure_reason(engine: Any, sm: Any, make_pipeline: Any) -> None:
    name = make_pipeline([{"Name": "Boom", "Type": "Fail", "Arguments": {"ErrorMessage": "bad data"}}])
    url = queue_for(engine, [sm.describe_pipeline(PipelineName=name)["PipelineArn"]])
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    wait(sm, arn)
    got = drain(engine.client("sqs"), url,
                lambda g: any(e["detail"].get("currentPipelineExecutionStatus") == "Failed" for e in g))
    (boom,) = [e["detail"] for e in got if e["detail"].get("currentStepStatus") == "Failed"]
    assert boom["stepName"] == "Boom" and "bad data" in boom["failureReason"]


def test_rules_for_other_pipelines_get_nothing(engine: Any, sm: Any, make_pipeline: Any) -> None:
    other = make_pipeline([{"Name": "C", "Type": "Condition",
                            "Arguments": {"Conditions": NOOP, "IfSteps": [], "ElseSteps": []}}])
    url = queue_for(engine, ["arn:aws:sagemaker:us-east-1:123456789012:pipeline/someone-else"])
    arn = sm.start_pipeline_execution(PipelineName=other)["PipelineExecutionArn"]
    wait(sm, arn)
    engine_events.emitter(engine.engine).flush()
    assert engine.client("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []) == []


def test_a_cache_hit_carries_the_source_execution(engine: Any, sm: Any, make_pipeline: Any, fake_jobs: Any,
                                                  bucket: str) -> None:
    name = make_pipeline([processing_step("Prep", bucket, CacheConfig={"Enabled": True, "ExpireAfter": "PT1H"})])
    url = queue_for(engine, [sm.describe_pipeline(PipelineName=name)["PipelineArn"]])
    first = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    wait(sm, first)
    second = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    wait(sm, second)

    def ended_twice(got: list[dict[str, Any]]) -> bool:
        return sum(e["detail"].get("currentPipelineExecutionStatus") == "Succeeded" for e in got) == 2

    got = drain(engine.client("sqs"), url, ended_twice)
    succeeded = {e["detail"]["pipelineExecutionArn"]: e["detail"] for e in got
                 if e["detail"].get("currentStepStatus") == "Succeeded"}
    assert "cacheHitResult" not in succeeded[first]
    assert succeeded[second]["cacheHitResult"] == {"sourcePipelineExecutionArn": first}
    assert len(fake_jobs.calls) == 1


def test_failure_reason_only_on_a_failed_step() -> None:
    # A stopped step keeps its reason in ListPipelineExecutionSteps; AWS's event has failureReason for Failed only.
    pipeline = SimpleNamespace(arn="arn:aws:sagemaker:us-east-1:123456789012:pipeline/p")
    ex = SimpleNamespace(pipeline=pipeline, arn=pipeline.arn + "/execution/e")
    record = SimpleNamespace(metadata={}, start_time=None, end_time=None, name="s",
                             spec=SimpleNamespace(type="Processing"),
                             status="Stopped", failure_reason="stopped by the user", cache_source=None)
    assert "failureReason" not in engine_events.step_detail(ex, record, "Executing")
    record.status = "Failed"
    assert engine_events.step_detail(ex, record, "Executing")["failureReason"] == "stopped by the user"
