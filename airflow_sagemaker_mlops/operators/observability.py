"""What a step task shows besides its status: the step's job log, its metrics and its property files.

- While the step runs, its job log (CloudWatch Logs, on AWS and on the local engine alike) goes to the task
  log: from the trigger in deferrable mode (``PipelineExecutionTrigger(stream_logs=True)``), from the
  worker's polling loop otherwise (:class:`WorkerLogStreamer`).
- When the step has ended, :func:`report_step` logs the rest of the job log (from where the streaming
  stopped, passed along as ``job_log`` in the event), then on success pushes ``metrics`` (training:
  ``FinalMetricDataList``; tuning: the best training job's) and ``property_files`` (the JSON files the
  step declares, read from S3) to XCom and logs them as a table; on failure it returns the tail of the job
  log, which the task appends to its error.

Logs and metrics are a courtesy: reading them never fails the task (a problem is logged as a warning).
Imported lazily by the step tasks (never at DAG parse time).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_sagemaker_mlops.compat import xcom_push
from airflow_sagemaker_mlops.hooks.logs import (
    DEFAULT_DRAIN_LINES,
    JobLogLocation,
    LogCursor,
    SageMakerJobLogsHook,
    describe_request,
    format_lines,
    job_of_step,
    location_from_description,
)

if TYPE_CHECKING:
    from airflow_sagemaker_mlops.hooks.pipelines import SageMakerPipelinesHook
    from airflow_sagemaker_mlops.hooks.settings import AwsClientSettings

log = logging.getLogger(__name__)

#: XCom keys pushed by a step task on success.
METRICS_KEY = "metrics"
PROPERTY_FILES_KEY = "property_files"
#: A property file larger than this is not read into XCom (SageMaker's JsonGet reads small JSON files too).
MAX_PROPERTY_FILE_BYTES = 1_048_576

def logs_hook(aws: AwsClientSettings) -> SageMakerJobLogsHook:
    return aws.hook(SageMakerJobLogsHook)


@dataclass
class WorkerLogStreamer:
    """``on_poll`` of the worker's polling loop: logs new job lines of one step while it is Executing."""

    step_name: str
    pipelines: SageMakerPipelinesHook
    logs: SageMakerJobLogsHook
    logger: Any
    max_lines: int = 500
    job_arn: str | None = None
    location: JobLogLocation | None = None
    cursor: LogCursor | None = None
    announced: bool = False

    def __call__(self, steps: list[dict[str, Any]]) -> None:
        from airflow_sagemaker_mlops.triggers.pipelines import find_step

        step = find_step(steps, self.step_name)
        job = job_of_step(step) if step is not None and step.get("StepStatus") == "Executing" else None
        if job is None:
            return
        kind, job_arn = job
        try:
            if job_arn != self.job_arn:  # first sight, or a retried step running a new job
                self.job_arn, self.location, self.cursor, self.announced = job_arn, None, LogCursor(), False
            if self.location is None:
                operation, kwargs = describe_request(kind, job_arn)
                self.location = location_from_description(kind, self.pipelines._call(operation, **kwargs))
                if self.location is None:
                    return
            batch = self.logs.read(self.location, self.cursor, max_lines=self.max_lines)
        except Exception as exc:
            log.warning("cannot read the job log of step %s: %s", self.step_name, exc)
            return
        self.cursor = batch.cursor
        lines = format_lines(batch.lines, self.location)
        if lines and not self.announced:
            self.announced = True
            self.logger.info("job log of step %s (%s):", self.step_name, self.location.describe())
        for line in lines:
            self.logger.info("%s", line)

    def job_log(self) -> dict[str, Any] | None:
        """The same ``job_log`` a trigger puts in its event: where the drain continues."""
        if self.job_arn is None:
            return None
        return {"job_arn": self.job_arn, "location": self.location.to_json() if self.location else None,
                "cursor": self.cursor.to_json() if self.cursor else None}


@dataclass
class StepReport:
    """What :func:`report_step` found: for the task's return and error message."""

    tail: list[str]
    location: JobLogLocation | None


def report_step(op: Any, context: Any, step: dict[str, Any], outputs: dict[str, Any],
                pipelines: SageMakerPipelinesHook, aws: AwsClientSettings,
                job_log: dict[str, Any] | None, tail_lines: int) -> StepReport:
    """Drain the job log, push metrics and property files (success) or read the log tail (failure)."""
    status = step.get("StepStatus")
    report = StepReport([], None)
    job = job_of_step(step)
    if job is not None:
        report.location = _drain(op, step, outputs, job, aws, job_log)
        if status in ("Failed", "Stopped") and report.location is not None and tail_lines > 0:
            try:
                lines = logs_hook(aws).tail(report.location, tail_lines)
                report.tail = format_lines(lines, report.location)
            except Exception as exc:
                op.log.warning("cannot read the tail of the job log (%s): %s", report.location.describe(), exc)
    if status == "Succeeded":
        _push_metrics(op, context, outputs, pipelines)
        _push_property_files(op, context, outputs, pipelines)
    return report


def _drain(op: Any, step: dict[str, Any], outputs: dict[str, Any], job: tuple[str, str],
           aws: AwsClientSettings, job_log: dict[str, Any] | None) -> JobLogLocation | None:
    kind, job_arn = job
    location = None
    cursor = None
    if job_log and job_log.get("job_arn") == job_arn:  # the streaming read this job's log up to cursor
        if job_log.get("location"):
            location = JobLogLocation.from_json(job_log["location"])
        cursor = LogCursor.from_json(job_log.get("cursor"))
    if location is None:
        location = location_from_description(kind, outputs)  # outputs carry the job's name field
    if location is None:
        return None
    try:
        batch = logs_hook(aws).read(location, cursor, max_lines=DEFAULT_DRAIN_LINES, drain=True)
    except Exception as exc:
        op.log.warning("cannot read the job log (%s): %s", location.describe(), exc)
        return location
    lines = format_lines(batch.lines, location)
    if lines:
        what = "rest of the job log" if cursor is not None else "job log"
        op.log.info("%s of step %s (%s):", what, op.step_name, location.describe())
        for line in lines:
            op.log.info("%s", line)
    if batch.more:
        op.log.info("(job log cut at %d lines here; the whole log is in %s)", DEFAULT_DRAIN_LINES,
                    location.describe())
    return location


def step_metrics(outputs: dict[str, Any], pipelines: SageMakerPipelinesHook) -> dict[str, float] | None:
    """``{metric name: value}`` of a Training step, or of a Tuning step's best training job; None for
    other step types."""
    step_type = outputs.get("StepType")
    if step_type == "Training":
        return dict(outputs.get("Metrics") or {})
    if step_type == "Tuning":
        best = outputs.get("BestTrainingJobName")
        if not best:
            return {}
        described = pipelines._call("describe_training_job", TrainingJobName=best)
        return {m["MetricName"]: m.get("Value") for m in described.get("FinalMetricDataList") or []
                if "MetricName" in m}
    return None


def _push_metrics(op: Any, context: Any, outputs: dict[str, Any], pipelines: SageMakerPipelinesHook) -> None:
    if outputs.get("DescribeError"):  # the job could not be described: no metrics to tell (already warned)
        return
    try:
        metrics = step_metrics(outputs, pipelines)
    except Exception as exc:
        op.log.warning("cannot read the metrics of step %s: %s", op.step_name, exc)
        return
    if metrics is None:
        return
    xcom_push(context["ti"], METRICS_KEY, metrics)
    source = f"best training job {outputs.get('BestTrainingJobName')}" if outputs.get("StepType") == "Tuning" \
        else f"training job {outputs.get('TrainingJobName')}"
    if metrics:
        op.log.info("Metrics of step %s (%s, FinalMetricDataList):\n%s", op.step_name, source,
                    table(["metric", "value"], [(k, v) for k, v in sorted(metrics.items())]))
    else:
        op.log.info("Step %s reported no metrics (%s has an empty FinalMetricDataList: are "
                    "MetricDefinitions set?)", op.step_name, source)


def read_property_files(op: Any, outputs: dict[str, Any],
                        pipelines: SageMakerPipelinesHook) -> dict[str, Any]:
    """``{property file name: parsed JSON}`` for the PropertyFiles the step declares (Processing steps)."""
    declared = op.property_files() if callable(getattr(op, "property_files", None)) else []
    found: dict[str, Any] = {}
    uris = outputs.get("ProcessingOutputs") or {}
    for pf in declared:
        base = uris.get(pf.output_name)
        if not base:
            op.log.warning("property file %s: the step has no output %r", pf.name, pf.output_name)
            continue
        uri = f"{base.rstrip('/')}/{pf.path.lstrip('/')}"
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        try:
            head = pipelines.s3.head_object(Bucket=bucket, Key=key)
            if int(head.get("ContentLength") or 0) > MAX_PROPERTY_FILE_BYTES:
                op.log.warning("property file %s (%s) is over %d bytes: not read", pf.name, uri,
                               MAX_PROPERTY_FILE_BYTES)
                continue
            found[pf.name] = json.loads(pipelines.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        except Exception as exc:
            op.log.warning("cannot read property file %s (%s): %s", pf.name, uri, exc)
    return found


def _push_property_files(op: Any, context: Any, outputs: dict[str, Any],
                         pipelines: SageMakerPipelinesHook) -> None:
    if not callable(getattr(op, "property_files", None)) or not op.property_files():
        return
    files = read_property_files(op, outputs, pipelines)
    xcom_push(context["ti"], PROPERTY_FILES_KEY, files)
    for name, content in files.items():
        rows = flatten(content)
        op.log.info("Property file %s of step %s:\n%s", name, op.step_name, table(["path", "value"], rows))


def flatten(value: Any, prefix: str = "", limit: int = 50) -> list[tuple[str, Any]]:
    """JSON as (JSONPath-ish path, leaf value) rows, the paths ``JsonGet`` takes; at most ``limit`` rows."""
    rows: list[tuple[str, Any]] = []

    def walk(node: Any, path: str) -> None:
        if len(rows) >= limit:
            return
        if isinstance(node, dict) and node:
            for key, child in node.items():
                walk(child, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list) and node:
            for i, child in enumerate(node):
                walk(child, f"{path}[{i}]")
        else:
            rows.append((path or "$", node))

    walk(value, prefix)
    return rows


def table(headers: list[str], rows: list[tuple[Any, ...]]) -> str:
    """A small fixed-width text table for the task log."""
    cells = [[str(h) for h in headers]] + [[_cell(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


#: Fields of ``step_outputs`` the summary line already says, or that only repeat the raw entry.
_SUMMARY_FIELDS = ("StepName", "StepType", "StepStatus", "StartTime", "EndTime", "Metadata", "FailureReason",
                   "AttemptCount", "CacheHit", "CacheSourceExecutionArn", "ErrorMessage")
#: Longest value shown in a cell; the whole value is in XCom.
MAX_CELL = 160


def step_summary(outputs: dict[str, Any]) -> str:
    """``Step fit (Training) Succeeded in 1m 4s, attempt 1, from cache``: one line for the task log."""
    from airflow_sagemaker_mlops.history import duration_between

    parts = [f"Step {outputs.get('StepName')} ({outputs.get('StepType') or 'unknown type'}) "
             f"{outputs.get('StepStatus')}"]
    took = duration_between(outputs.get("StartTime"), outputs.get("EndTime"))
    if took:
        parts[0] += f" in {took}"
    if (outputs.get("AttemptCount") or 1) > 1:
        parts.append(f"attempt {outputs['AttemptCount']}")
    if outputs.get("CacheHit"):
        parts.append(f"from cache of {outputs.get('CacheSourceExecutionArn')}")
    return ", ".join(parts)


def outputs_table(outputs: dict[str, Any]) -> str | None:
    """What the step produced as a small (output, value) table; a dict value gives one row per key."""
    rows: list[tuple[str, Any]] = []
    for key, value in outputs.items():
        if key in _SUMMARY_FIELDS or value in (None, "", {}, []):
            continue
        if isinstance(value, dict):
            rows.extend((f"{key}.{k}", _short(v)) for k, v in value.items())
        else:
            rows.append((key, _short(value)))
    return table(["output", "value"], rows) if rows else None


def _short(value: Any) -> str:
    text = _cell(value)
    return text if len(text) <= MAX_CELL else text[:MAX_CELL - 1] + "…"
