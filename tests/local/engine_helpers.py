"""Helpers shared by the local engine tests (fixtures are in conftest.py)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from airflow_sagemaker_mlops.local.jobs.base import JobContext, JobResult

ROLE = "arn:aws:iam::123456789012:role/SageMakerPipeline"
TERMINAL = ("Succeeded", "Failed", "Stopped")


def unique(prefix: str = "p") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def definition(steps: list[dict[str, Any]], parameters: list[dict[str, Any]] | None = None) -> str:
    document = {"Version": "2020-12-01", "Metadata": {}, "Parameters": parameters or [], "Steps": steps}
    return json.dumps(document)


def wait(sm: Any, arn: str, timeout: float = 20.0, statuses: tuple[str, ...] = TERMINAL) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        desc = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
        if desc["PipelineExecutionStatus"] in statuses:
            return desc
        if time.monotonic() > deadline:
            raise AssertionError(f"execution still {desc['PipelineExecutionStatus']} after {timeout}s")
        time.sleep(0.01)


def steps_of(sm: Any, arn: str) -> dict[str, dict[str, Any]]:
    items = []
    for page in sm.get_paginator("list_pipeline_execution_steps").paginate(PipelineExecutionArn=arn):
        items.extend(page["PipelineExecutionSteps"])
    return {s["StepName"]: s for s in items}


def wait_step(sm: Any, arn: str, step: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = steps_of(sm, arn).get(step)
        if found and predicate(found):
            return found
        time.sleep(0.01)
    raise AssertionError(f"step {step} never matched; last: {steps_of(sm, arn).get(step)}")


class FakeJobs:
    """Job runners standing in for the real ones: record calls, write outputs to S3, optionally block."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.lock = threading.Lock()
        self.running = 0
        self.max_running = 0
        self.delay = 0.0
        self.block: threading.Event | None = None
        self.files: dict[str, bytes] = {}  # S3 URI suffix under an output -> content
        self.fail_reason: str | None = None

    def runner(self, kind: str) -> Callable[[str, dict[str, Any], JobContext], JobResult]:
        def run(name: str, request: dict[str, Any], ctx: JobContext) -> JobResult:
            with self.lock:
                self.calls.append((kind, name, request))
                self.running += 1
                self.max_running = max(self.max_running, self.running)
            try:
                if self.delay:
                    time.sleep(self.delay)
                if self.block is not None:
                    while not self.block.wait(0.01):
                        if ctx.stop_event.is_set():
                            return JobResult("Stopped", {f"{kind}Name": name, f"{kind}Status": "Stopped"})
                description = dict(request)
                description[f"{kind}Name"] = name
                description[f"{kind}Status"] = "Completed"
                if kind == "ProcessingJob" and self.files:
                    s3 = ctx.client("s3")
                    for output in (request.get("ProcessingOutputConfig") or {}).get("Outputs", []):
                        uri = output["S3Output"]["S3Uri"].rstrip("/")
                        for rel, content in self.files.items():
                            bucket, _, key = f"{uri}/{rel}"[5:].partition("/")
                            s3.put_object(Bucket=bucket, Key=key, Body=content)
                if kind == "TrainingJob":
                    out = request.get("OutputDataConfig", {}).get("S3OutputPath", "s3://bucket/out").rstrip("/")
                    description["ModelArtifacts"] = {"S3ModelArtifacts": f"{out}/{name}/output/model.tar.gz"}
                    description["FinalMetricDataList"] = [{"MetricName": "auc", "Value": 0.91}]
                if self.fail_reason:
                    description[f"{kind}Status"] = "Failed"
                    return JobResult("Failed", description, self.fail_reason)
                return JobResult("Completed", description)
            finally:
                with self.lock:
                    self.running -= 1

        return run


def processing_step(name: str, bucket: str, **extra: Any) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {
                "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 30}
            },
            "AppSpecification": {"ImageUri": "local/python", "ContainerEntrypoint": ["python3", "x.py"]},
            "RoleArn": ROLE,
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": "evaluation",
                        "S3Output": {
                            "S3Uri": f"s3://{bucket}/{name}/evaluation",
                            "LocalPath": "/opt/ml/processing/evaluation",
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                ]
            },
        },
        **extra,
    }


def noop(name: str, **extra: Any) -> dict[str, Any]:
    """A step that runs nothing: a Condition with no branches that is always true."""
    return {
        "Name": name,
        "Type": "Condition",
        "Arguments": {
            "Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}],
            "IfSteps": [],
            "ElseSteps": [],
        },
        **extra,
    }
