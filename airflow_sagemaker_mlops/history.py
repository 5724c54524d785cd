"""Run history of a pipeline: its recent executions with status, timing, parameter values and condition outcomes.

Used by the ``history`` command (``python -m airflow_sagemaker_mlops history``) and usable from Python:
``pipeline_history(SageMakerPipelinesHook(...), "churn-train", limit=10)``. Per execution it makes three calls
(DescribePipelineExecution, ListPipelineParametersForExecution, ListPipelineExecutionSteps) on top of the
ListPipelineExecutions pages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_sagemaker_mlops.definition.statuses import execution_ended

if TYPE_CHECKING:
    from airflow_sagemaker_mlops.hooks.pipelines import SageMakerPipelinesHook


@dataclass(frozen=True)
class ConditionOutcome:
    """A Condition step of one execution: ``outcome`` is None when it did not evaluate (failed, still running)."""

    step: str
    outcome: bool | None
    status: str | None


@dataclass
class ExecutionHistory:
    execution_arn: str
    status: str
    start_time: dt.datetime | None
    #: When the execution ended (its LastModifiedTime once in a terminal status); None while it runs.
    end_time: dt.datetime | None
    #: End (or now, while running) minus start, in seconds.
    duration_seconds: float | None
    display_name: str | None = None
    failure_reason: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    conditions: list[ConditionOutcome] = field(default_factory=list)
    #: Steps that ended Failed, with SageMaker's FailureReason (a Fail step's ErrorMessage).
    failed_steps: dict[str, str] = field(default_factory=dict)

    @property
    def execution_id(self) -> str:
        return self.execution_arn.rsplit("/", 1)[-1]

    def to_json(self) -> dict[str, Any]:
        return {
            "execution_arn": self.execution_arn,
            "execution_id": self.execution_id,
            "display_name": self.display_name,
            "status": self.status,
            "start_time": self.start_time.isoformat() if self.start_time else None,
            "end_time": self.end_time.isoformat() if self.end_time else None,
            "duration_seconds": self.duration_seconds,
            "parameters": dict(self.parameters),
            "conditions": [{"step": c.step, "outcome": c.outcome, "status": c.status} for c in self.conditions],
            "failure_reason": self.failure_reason,
            "failed_steps": dict(self.failed_steps),
        }


def pipeline_history(hook: SageMakerPipelinesHook, pipeline: str, *, limit: int = 10,
                     now: dt.datetime | None = None) -> list[ExecutionHistory]:
    """The ``limit`` most recent executions of ``pipeline`` (name or ARN), newest first."""
    now = now or dt.datetime.now(dt.timezone.utc)
    records = []
    for summary in hook.list_executions(pipeline, limit=limit):
        arn = summary["PipelineExecutionArn"]
        described = hook.describe_execution(arn)
        status = described.get("PipelineExecutionStatus") or summary.get("PipelineExecutionStatus") or "Unknown"
        start = _time(described.get("CreationTime") or summary.get("StartTime"))
        end = _time(described.get("LastModifiedTime")) if execution_ended(status) else None
        duration = ((end or now) - start).total_seconds() if start else None
        steps = hook.list_steps(arn)
        records.append(ExecutionHistory(
            execution_arn=arn,
            status=status,
            start_time=start,
            end_time=end,
            duration_seconds=round(max(duration, 0.0), 3) if duration is not None else None,
            display_name=described.get("PipelineExecutionDisplayName") or summary.get("PipelineExecutionDisplayName"),
            failure_reason=described.get("FailureReason") or summary.get("PipelineExecutionFailureReason"),
            parameters=hook.execution_parameters(arn),
            conditions=[
                ConditionOutcome(step["StepName"], hook.condition_outcome(step), step.get("StepStatus"))
                for step in steps
                if "Condition" in (step.get("Metadata") or {})
            ],
            failed_steps={
                step["StepName"]: step.get("FailureReason")
                or ((step.get("Metadata") or {}).get("Fail") or {}).get("ErrorMessage") or "no reason given"
                for step in steps
                if step.get("StepStatus") == "Failed"
            },
        ))
    return records


def _time(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def duration_between(start: Any, end: Any) -> str | None:
    """``1m 04s`` between two times (datetimes or ISO strings), or None when either is missing."""
    begin, finish = _time(start), _time(end)
    if begin is None or finish is None:
        return None
    return format_duration(max(0.0, (finish - begin).total_seconds()))


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def format_table(records: list[ExecutionHistory]) -> str:
    """An aligned text table, one execution per line, newest first."""
    headers = ["EXECUTION", "DISPLAY NAME", "STATUS", "STARTED (UTC)", "DURATION", "PARAMETERS", "CONDITIONS"]
    with_reason = any(r.failure_reason or r.failed_steps for r in records)
    if with_reason:
        headers.append("FAILURE REASON")
    rows = []
    for r in records:
        started = r.start_time.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if r.start_time else "-"
        duration = format_duration(r.duration_seconds) + ("" if r.end_time or r.duration_seconds is None else "+")
        row = [
            r.execution_id,
            r.display_name or "-",
            r.status,
            started,
            duration,
            " ".join(f"{k}={v}" for k, v in r.parameters.items()) or "-",
            " ".join(f"{c.step}={_outcome_text(c)}" for c in r.conditions) or "-",
        ]
        if with_reason:
            # The failed steps' own reasons say more than the execution's generic "Step failure: ...".
            reasons = "; ".join(f"{name}: {why}" for name, why in r.failed_steps.items())
            row.append(_one_line(reasons or r.failure_reason or ""))
        rows.append(row)
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in [headers, *rows]]
    return "\n".join(lines)


def _outcome_text(condition: ConditionOutcome) -> str:
    if condition.outcome is None:
        return f"({condition.status or 'not evaluated'})"
    return str(condition.outcome)


def _one_line(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
