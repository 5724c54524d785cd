"""Benchmark of job logs: what shipping to CloudWatch Logs costs the local engine, and reading them back.

    python bench/job_logs.py [--lines 20000] [--repeat 3]

1. A Processing job whose script prints N lines, run through the engine with the job log shipped to the
   engine's CloudWatch Logs (as always) and with shipping switched off (``local.logs.LOG_GROUPS`` emptied):
   wall time from StartPipelineExecution to Succeeded, best of ``--repeat``; then that every line is there.
2. Reading the job's log back with ``SageMakerJobLogsHook``: a drain of all N lines (calls, seconds), and an
   idle incremental read once caught up (calls).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from airflow_sagemaker_mlops.local import logs as engine_logs
from airflow_sagemaker_mlops.local.server import LocalEngine

ROLE = "arn:aws:iam::123456789012:role/Bench"


def processing(bucket: str) -> dict[str, Any]:
    return {"Name": "Print", "Type": "Processing", "Arguments": {
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                  "VolumeSizeInGB": 1}},
        "AppSpecification": {"ImageUri": "python:3.11",
                             "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/print.py"]},
        "ProcessingInputs": [{"InputName": "code", "S3Input": {
            "S3Uri": f"s3://{bucket}/print.py", "LocalPath": "/opt/ml/processing/input/code",
            "S3DataType": "S3Prefix", "S3InputMode": "File"}}],
        "RoleArn": ROLE}}


def run(engine: Any, name: str) -> tuple[float, str]:
    sm = engine.client("sagemaker")
    started = time.perf_counter()
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    while sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Executing":
        time.sleep(0.005)
    elapsed = time.perf_counter() - started
    step = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"][0]
    assert step["StepStatus"] == "Succeeded", step
    job = sm.describe_processing_job(ProcessingJobName=step["Metadata"]["ProcessingJob"]["Arn"].rsplit("/", 1)[1])
    return elapsed, job["ProcessingJobName"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    engine = LocalEngine().start()
    try:
        s3 = engine.client("s3")
        s3.create_bucket(Bucket="bench")
        s3.put_object(Bucket="bench", Key="print.py",
                      Body=f"for i in range({args.lines}):\n    print('line', i, 'x' * 60)\n".encode())
        sm = engine.client("sagemaker")
        sm.create_pipeline(PipelineName="bench-logs", RoleArn=ROLE, PipelineDefinition=json.dumps(
            {"Version": "2020-12-01", "Parameters": [], "Steps": [processing("bench")]}))
        run(engine, "bench-logs")  # warm-up: clients, sandbox probe
        groups = dict(engine_logs.LOG_GROUPS)
        shipped, job = min(run(engine, "bench-logs") for _ in range(args.repeat))
        engine_logs.LOG_GROUPS.clear()
        try:
            unshipped = min(run(engine, "bench-logs")[0] for _ in range(args.repeat))
        finally:
            engine_logs.LOG_GROUPS.update(groups)

        from airflow_sagemaker_mlops.hooks.logs import SageMakerJobLogsHook, location_for

        os.environ.setdefault("AWS_ACCESS_KEY_ID", "x")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "x")
        os.environ["AWS_ENDPOINT_URL"] = engine.url
        hook = SageMakerJobLogsHook(aws_conn_id=None, region_name="us-east-1")
        calls: list[str] = []
        hook.conn.meta.events.register("before-call.logs", lambda model, **_: calls.append(model.name))
        location = location_for("ProcessingJob", job)
        started = time.perf_counter()
        batch = hook.read(location, None, max_lines=args.lines + 10, drain=True)
        drain_seconds = time.perf_counter() - started
        printed = [line for line in batch.lines if line.message.startswith("line ")]
        assert len(printed) == args.lines, len(printed)  # plus the engine's own [local] notes
        drain_calls = len(calls)
        calls.clear()
        idle = hook.read(location, batch.cursor)
        assert idle.lines == []
        print(json.dumps({
            "lines": args.lines,
            "lines_in_cloudwatch": len(batch.lines),
            "job_seconds_with_cloudwatch": round(shipped, 3),
            "job_seconds_without": round(unshipped, 3),
            "overhead_ms_per_1000_lines": round((shipped - unshipped) / args.lines * 1000 * 1000, 2),
            "drain_seconds": round(drain_seconds, 3),
            "drain_calls": drain_calls,
            "idle_read_calls": len(calls),
        }, indent=1))
    finally:
        engine.stop()


if __name__ == "__main__":
    main()
