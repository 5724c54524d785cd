"""operators/observability.py: the worker's job log streaming, metrics of training and tuning steps, tables."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from pipeline_helpers import ROLE, spec, unique

from airflow_sagemaker_mlops.local.jobs.base import JobResult
from airflow_sagemaker_mlops.operators.observability import (
    WorkerLogStreamer,
    flatten,
    outputs_table,
    step_metrics,
    step_summary,
    table,
)
from airflow_sagemaker_mlops.triggers.pipelines import wait_for_step


class RecordingLogger:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message: str, *args: Any, **kwargs: Any) -> None:
        self.lines.append(message % args if args else message)

    warning = info


def start(hook: Any, steps: list[dict[str, Any]]) -> str:
    s = spec(steps)
    hook.upsert_pipeline(s)
    return hook.start_execution(s.name, client_request_token=hook.execution_token("obs", unique()))


def job_step(name: str, step_type: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"Name": name, "Type": step_type, "Arguments": arguments or {"RoleArn": ROLE}}


def test_the_worker_logs_job_lines_while_it_polls(hook: Any, logs: Any, engine: Any) -> None:
    release = threading.Event()

    def job(name: str, request: dict[str, Any], ctx: Any) -> JobResult:
        ctx.log("loading data")
        ctx.log("fitting")
        release.wait(30)
        ctx.log("done")
        return JobResult("Completed", {"TrainingJobName": name, "FinalMetricDataList": []})

    engine.config.job_runners["Training"] = job
    arn = start(hook, [job_step("Fit", "Training")])
    logger = RecordingLogger()
    streamer = WorkerLogStreamer("Fit", hook, logs, logger)
    seen_while_running: list[str] = []

    def on_poll(steps: list[dict[str, Any]]) -> None:
        streamer(steps)
        if "fitting" in logger.lines and not release.is_set():
            seen_while_running.extend(logger.lines)
            release.set()

    event = wait_for_step(hook, arn, "Fit", 0.05, timeout=60, raise_on_timeout=True, on_poll=on_poll)
    assert event["status"] == "succeeded"
    assert seen_while_running[0].startswith("job log of step Fit (CloudWatch Logs group /aws/sagemaker/TrainingJobs")
    assert seen_while_running[1:] == ["loading data", "fitting"]
    # What the worker hands to the end-of-step drain: it continues after "fitting".
    job_log = streamer.job_log()
    assert job_log["job_arn"] == event["step"]["Metadata"]["TrainingJob"]["Arn"]
    from airflow_sagemaker_mlops.hooks.logs import JobLogLocation, LogCursor

    rest = logs.read(JobLogLocation.from_json(job_log["location"]), LogCursor.from_json(job_log["cursor"]),
                     drain=True)
    assert [line.message for line in rest.lines] == ["done"]


def test_tuning_metrics_come_from_the_best_training_job(hook: Any, engine: Any) -> None:
    now = dt.datetime.now(dt.timezone.utc)

    def tuning(name: str, request: dict[str, Any], ctx: Any) -> JobResult:
        trials = {}
        for i, auc in ((1, 0.71), (2, 0.84)):
            trial = f"{name}-00{i}-0000000{i}"
            trials[trial] = JobResult("Completed", {
                "TrainingJobName": trial, "TrainingJobArn": ctx.arn(f"training-job/{trial}"),
                "TrainingJobStatus": "Completed", "CreationTime": now,
                "FinalMetricDataList": [{"MetricName": "validation:auc", "Value": auc, "Timestamp": now},
                                        {"MetricName": "train:auc", "Value": auc + 0.05, "Timestamp": now}]})
        best = f"{name}-002-00000002"
        return JobResult("Completed", {"HyperParameterTuningJobName": name, "BestTrainingJob": {
            "TrainingJobName": best, "FinalHyperParameterTuningJobObjectiveMetric": {
                "MetricName": "validation:auc", "Value": 0.84}}}, children=trials)

    engine.config.job_runners["Tuning"] = tuning
    arn = start(hook, [job_step("Tune", "Tuning", {"TrainingJobDefinition": {"RoleArn": ROLE}})])
    event = wait_for_step(hook, arn, "Tune", 0.05, timeout=30)
    outputs = hook.step_outputs(event["step"])
    assert step_metrics(outputs, hook) == {"validation:auc": 0.84, "train:auc": 0.89}
    assert step_metrics({"StepType": "Processing"}, hook) is None


def test_tables_for_the_task_log() -> None:
    assert flatten({"metrics": {"auc": 0.8, "f1": [0.5, 0.6]}, "n": 3}) == [
        ("metrics.auc", 0.8), ("metrics.f1[0]", 0.5), ("metrics.f1[1]", 0.6), ("n", 3)]
    assert table(["metric", "value"], [("validation:auc", 0.912345678), ("n", 3)]).splitlines() == [
        "metric          value",
        "--------------  --------",
        "validation:auc  0.912346",
        "n               3",
    ]
    assert len(flatten({"x": list(range(100))})) == 50  # bounded


def test_a_job_without_a_log_reads_as_empty(logs: Any) -> None:
    # No group or stream (a job that never started): no lines and no error, for the drain and the tail.
    from airflow_sagemaker_mlops.hooks.logs import location_for

    assert logs.read(location_for("TrainingJob", unique("never-ran")), drain=True).lines == []
    assert logs.tail(location_for("TrainingJob", unique("never-ran"))) == []


PROCESSING_OUTPUTS = {
    "StepName": "prep", "StepType": "Processing", "StepStatus": "Succeeded", "FailureReason": None,
    "AttemptCount": 2, "CacheHit": False, "CacheSourceExecutionArn": None,
    "StartTime": "2026-01-01T09:00:00+00:00", "EndTime": "2026-01-01T09:01:04.5+00:00",
    "Arn": "arn:aws:sagemaker:us-east-1:123456789012:processing-job/prep-1", "Metadata": {"ProcessingJob": {}},
    "ProcessingJobName": "prep-1", "ProcessingOutputs": {"train": "s3://b/train", "test": "s3://b/test"},
    "Notes": "x" * 500,
}


def test_a_step_is_one_summary_line_and_a_table_of_what_it_produced() -> None:
    assert step_summary(PROCESSING_OUTPUTS) == "Step prep (Processing) Succeeded in 1m 04s, attempt 2"
    lines = outputs_table(PROCESSING_OUTPUTS).splitlines()
    assert lines[0].split() == ["output", "value"]
    assert [line.split()[0] for line in lines[2:]] == ["Arn", "ProcessingJobName", "ProcessingOutputs.train",
                                                       "ProcessingOutputs.test", "Notes"]
    assert lines[4].split() == ["ProcessingOutputs.train", "s3://b/train"]
    assert lines[-1].endswith("…") and len(lines[-1].split()[1]) == 160  # long values are cut; XCom has them


def test_a_step_without_outputs_has_no_table() -> None:
    assert outputs_table({"StepName": "f", "StepType": "Fail", "StepStatus": "Failed", "Metadata": {}}) is None
    assert step_summary({"StepName": "f", "StepType": "Fail", "StepStatus": "Failed"}) == "Step f (Fail) Failed"
