"""The engine writes each job's log to CloudWatch Logs where SageMaker does, while the job runs.

Read back with a plain boto3 ``logs`` client, as any CloudWatch reader would.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
import textwrap
import time
from typing import Any

from engine_helpers import ROLE, steps_of, unique, wait, wait_step

# Prints, then waits for s3://<bucket>/go before finishing: the test reads the first lines while it runs.
TRAIN = textwrap.dedent(
    """
    import os, sys, time, boto3
    print("epoch 1 loss=0.50", flush=True)
    print("epoch 2 loss=0.25", flush=True)
    s3 = boto3.client("s3")
    bucket = os.environ["GO_BUCKET"]
    for _ in range(600):
        if s3.list_objects_v2(Bucket=bucket, Prefix="go").get("KeyCount"):
            break
        time.sleep(0.1)
    print("validation:auc=0.875", flush=True)
    if os.environ.get("FAIL"):
        print("Traceback: it broke", file=sys.stderr)
        sys.exit(2)
    open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w").write("m")
    """
)


def training_step(bucket: str, name: str = "Fit", **env: str) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "Training",
        "Arguments": {
            "AlgorithmSpecification": {
                "TrainingImage": "python:3.11",
                "TrainingInputMode": "File",
                "ContainerEntrypoint": ["python3", "/opt/ml/input/data/code/train.py"],
                "MetricDefinitions": [{"Name": "validation:auc", "Regex": r"validation:auc=([0-9.]+)"}],
            },
            "InputDataConfig": [{"ChannelName": "code", "DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/code/"}}}],
            "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/models"},
            "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1},
            "StoppingCondition": {"MaxRuntimeInSeconds": 120},
            "Environment": {"GO_BUCKET": bucket, **env},
            "RoleArn": ROLE,
        },
    }


def start(sm: Any, steps: list[dict[str, Any]]) -> str:
    name = unique("logs")
    sm.create_pipeline(PipelineName=name, RoleArn=ROLE, PipelineDefinition=json.dumps(
        {"Version": "2020-12-01", "Parameters": [], "Steps": steps}))
    return sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]


def messages(logs: Any, group: str, stream: str) -> list[str]:
    return [e["message"] for e in logs.get_log_events(logGroupName=group, logStreamName=stream,
                                                      startFromHead=True)["events"]]


def streams(logs: Any, group: str, prefix: str) -> list[str]:
    try:
        found = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=prefix)["logStreams"]
    except logs.exceptions.ResourceNotFoundException:  # no job has logged to the group yet
        return []
    return [s["logStreamName"] for s in found]


def test_training_job_log_is_in_cloudwatch_while_it_runs(engine: Any, sm: Any, bucket: str) -> None:
    s3, logs = engine.client("s3"), engine.client("logs")
    s3.put_object(Bucket=bucket, Key="code/train.py", Body=TRAIN.encode())
    arn = start(sm, [training_step(bucket)])
    step = wait_step(sm, arn, "Fit", lambda s: "TrainingJob" in s.get("Metadata", {}), timeout=30)
    job = sm.describe_training_job(TrainingJobName=step["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[1])
    name = job["TrainingJobName"]

    deadline = time.monotonic() + 60
    while True:  # the job is blocked on s3://bucket/go: whatever we read now was shipped while it runs
        found = streams(logs, "/aws/sagemaker/TrainingJobs", f"{name}/")
        lines = messages(logs, "/aws/sagemaker/TrainingJobs", found[0]) if found else []
        if "epoch 2 loss=0.25" in lines or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert "epoch 2 loss=0.25" in lines, lines
    assert steps_of(sm, arn)["Fit"]["StepStatus"] == "Executing"
    assert len(found) == 1 and re.fullmatch(re.escape(name) + r"/algo-1-\d{10}", found[0]), found
    assert "validation:auc=0.875" not in lines

    s3.put_object(Bucket=bucket, Key="go", Body=b"")
    assert wait(sm, arn, timeout=60)["PipelineExecutionStatus"] == "Succeeded"
    # Complete as soon as the step has ended: the engine ships the rest before the status changes.
    lines = messages(logs, "/aws/sagemaker/TrainingJobs", found[0])
    assert lines.index("epoch 1 loss=0.50") < lines.index("validation:auc=0.875")
    assert any(line.startswith("[local] model artifacts uploaded to s3://") for line in lines)
    job = sm.describe_training_job(TrainingJobName=name)
    assert [(m["MetricName"], m["Value"]) for m in job["FinalMetricDataList"]] == [("validation:auc", 0.875)]


def test_a_failed_processing_job_logs_its_error_to_processing_jobs(engine: Any, sm: Any, bucket: str) -> None:
    s3, logs = engine.client("s3"), engine.client("logs")
    s3.put_object(Bucket=bucket, Key="code/fail.py", Body=b"import sys\nprint('reading rows')\n"
                  b"print('bad row 17', file=sys.stderr)\nsys.exit(4)\n")
    step = {"Name": "Prep", "Type": "Processing", "Arguments": {
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                  "VolumeSizeInGB": 1}},
        "AppSpecification": {"ImageUri": "python:3.11",
                             "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/fail.py"]},
        "ProcessingInputs": [{"InputName": "code", "S3Input": {
            "S3Uri": f"s3://{bucket}/code/fail.py", "LocalPath": "/opt/ml/processing/input/code",
            "S3DataType": "S3Prefix", "S3InputMode": "File"}}],
        "RoleArn": ROLE}}
    arn = start(sm, [step])
    assert wait(sm, arn, timeout=60)["PipelineExecutionStatus"] == "Failed"
    job_arn = steps_of(sm, arn)["Prep"]["Metadata"]["ProcessingJob"]["Arn"]
    name = sm.describe_processing_job(ProcessingJobName=job_arn.rsplit("/", 1)[1])["ProcessingJobName"]
    found = streams(logs, "/aws/sagemaker/ProcessingJobs", f"{name}/")
    assert len(found) == 1 and re.fullmatch(re.escape(name) + r"/algo-1-\d{10}", found[0]), found
    lines = messages(logs, "/aws/sagemaker/ProcessingJobs", found[0])
    assert lines.index("reading rows") < lines.index("bad row 17")


def test_tuning_trials_log_as_training_jobs_and_are_describable(engine: Any, sm: Any, bucket: str) -> None:
    s3, logs = engine.client("s3"), engine.client("logs")
    # A tuning job's trials run in script mode (HyperParameterAlgorithmSpecification has no entry point).
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        info = tarfile.TarInfo("train.py")
        info.size = len(TRAIN.encode())
        tar.addfile(info, io.BytesIO(TRAIN.encode()))
    s3.put_object(Bucket=bucket, Key="code/sourcedir.tar.gz", Body=archive.getvalue())
    s3.put_object(Bucket=bucket, Key="go", Body=b"")  # no waiting in this test
    definition = training_step(bucket)["Arguments"]
    definition["AlgorithmSpecification"].pop("ContainerEntrypoint")
    definition.pop("InputDataConfig")
    definition["StaticHyperParameters"] = {"sagemaker_program": '"train.py"',
                                           "sagemaker_submit_directory": f'"s3://{bucket}/code/sourcedir.tar.gz"'}
    tuning = {"Name": "Tune", "Type": "Tuning", "Arguments": {
        "HyperParameterTuningJobConfig": {
            "Strategy": "Random",
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:auc"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 2},
            "ParameterRanges": {"IntegerParameterRanges": [{"Name": "depth", "MinValue": "1", "MaxValue": "9"}]},
        },
        "TrainingJobDefinition": definition}}
    arn = start(sm, [tuning])
    desc = wait(sm, arn, timeout=90)
    listed = steps_of(sm, arn)
    assert desc["PipelineExecutionStatus"] == "Succeeded", listed["Tune"].get("FailureReason")
    tuning = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=listed["Tune"]["Metadata"]
                                                    ["TuningJob"]["Arn"].rsplit("/", 1)[1])
    # SageMaker names trials <tuning job>-NNN-<8 hex>; each logs to its own TrainingJobs stream.
    found = streams(logs, "/aws/sagemaker/TrainingJobs", f"{tuning['HyperParameterTuningJobName']}-")
    assert len(found) == 2, found
    for stream in found:
        trial = stream.split("/", 1)[0]
        assert re.fullmatch(re.escape(tuning["HyperParameterTuningJobName"]) + r"-\d{3}-[0-9a-f]{8}", trial)
        lines = messages(logs, "/aws/sagemaker/TrainingJobs", stream)
        assert "validation:auc=0.875" in lines and not any(line.startswith(f"[{trial}]") for line in lines)
    best = sm.describe_training_job(TrainingJobName=tuning["BestTrainingJob"]["TrainingJobName"])
    assert best["FinalMetricDataList"][0]["MetricName"] == "validation:auc"
