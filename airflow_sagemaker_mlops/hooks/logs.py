"""Reading a pipeline step's job log from CloudWatch Logs (on AWS, and on the local engine alike).

SageMaker sends a job's stdout/stderr to CloudWatch Logs: Processing jobs to ``/aws/sagemaker/ProcessingJobs``,
Training jobs to ``/aws/sagemaker/TrainingJobs``, Transform jobs to ``/aws/sagemaker/TransformJobs``, one
stream per instance named ``<job name>/...``; a tuning job has no log of its own, its training jobs
(``<tuning job>-NNN-xxxxxxxx``) log as training jobs. The local engine writes to the same places, so this
module is the one code path for both.

Reading is incremental: a :class:`LogCursor` (JSON-serialisable, so it travels in a TriggerEvent from the
triggerer to the worker) remembers each stream's forward token. One read costs one DescribeLogStreams plus
one GetLogEvents per stream that has new events (streams whose ``lastIngestionTime`` has not moved since we
caught up are skipped, except when draining at the end), bounded in streams and lines per read.

The request/response logic is written once, as generators that yield ``(operation, kwargs)`` and receive
the response (:func:`_read_plan`, :func:`_tail_plan`); the sync and async hooks only drive them.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from airflow_sagemaker_mlops.definition.step_kinds import STEP_KINDS

from .pipelines import _RetryingAwsHook

#: Lines logged per read (per poll while a step runs): bounds what one poll costs and adds to a task log.
DEFAULT_MAX_LINES = 500
#: Streams read per poll (a tuning job has one per training job).
DEFAULT_MAX_STREAMS = 10
#: Lines the end-of-step drain reads at most; beyond that the task log points at CloudWatch.
DEFAULT_DRAIN_LINES = 10_000
#: Lines of the job log a failed step shows (in the task log and its error message).
DEFAULT_TAIL_LINES = 50
_DESCRIBE_PAGES = 4  # 50 streams per page
#: Logs are a courtesy: a throttled read gives up soon (the next poll reads on) instead of riding out
#: minutes of backoff like the pipeline calls (DEFAULT_RETRIES), which would hold up the shared poller.
LOGS_RETRIES: dict[str, Any] = {"mode": "standard", "max_attempts": 3}

# Metadata key of a ListPipelineExecutionSteps entry -> the job it ran, for the kinds that write a job log.
_JOBS = {
    kind.metadata_key: kind.resource for kind in STEP_KINDS.values()
    if kind.metadata_key and kind.resource is not None and kind.resource.log_group
}


@dataclass(frozen=True)
class JobLogLocation:
    """Where one job's log streams are: a log group and a stream name prefix (plus a pattern for tuning)."""

    job_name: str
    log_group: str
    stream_prefix: str
    stream_pattern: str | None = None  # full-match regex on the stream's job part (tuning trials)

    def matches(self, stream: str) -> bool:
        if not stream.startswith(self.stream_prefix):
            return False
        return self.stream_pattern is None or re.fullmatch(self.stream_pattern, stream.split("/", 1)[0]) is not None

    def describe(self) -> str:
        return f"CloudWatch Logs group {self.log_group}, streams {self.stream_prefix}*"

    def to_json(self) -> dict[str, Any]:
        return {"job_name": self.job_name, "log_group": self.log_group, "stream_prefix": self.stream_prefix,
                "stream_pattern": self.stream_pattern}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobLogLocation:
        return cls(data["job_name"], data["log_group"], data["stream_prefix"], data.get("stream_pattern"))


def job_of_step(step: dict[str, Any]) -> tuple[str, str] | None:
    """``(metadata key, job ARN)`` of a ListPipelineExecutionSteps entry whose step runs a job with a log."""
    for key, value in (step.get("Metadata") or {}).items():
        if key in _JOBS and isinstance(value, dict) and isinstance(value.get("Arn"), str):
            return key, value["Arn"]
    return None


def describe_request(kind: str, job_arn: str) -> tuple[str, dict[str, Any]]:
    """The Describe*Job call giving the job's real name (ARNs carry it lower-cased; log streams do not)."""
    job = _JOBS[kind]
    return job.describe, {job.name_field: job_arn.rsplit("/", 1)[-1]}


def location_for(kind: str, job_name: str) -> JobLogLocation:
    """The log location of a job of ``kind`` (a Metadata key: TrainingJob, ProcessingJob, ...)."""
    group = _JOBS[kind].log_group
    if kind == "TuningJob":
        return JobLogLocation(job_name, group, f"{job_name}-", re.escape(job_name) + r"-\d{3}-[0-9a-f]{8}")
    return JobLogLocation(job_name, group, f"{job_name}/")


def location_from_description(kind: str, description: dict[str, Any]) -> JobLogLocation | None:
    name = description.get(_JOBS[kind].name_field)
    return location_for(kind, name) if name else None


@dataclass(frozen=True)
class LogLine:
    stream: str
    timestamp: int
    message: str


@dataclass
class LogCursor:
    """How far each stream has been read: forward token and the ``lastIngestionTime`` caught up to."""

    tokens: dict[str, str] = field(default_factory=dict)
    caught_up: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"tokens": dict(self.tokens), "caught_up": dict(self.caught_up)}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> LogCursor:
        data = data or {}
        return cls(dict(data.get("tokens") or {}), {k: int(v) for k, v in (data.get("caught_up") or {}).items()})


@dataclass
class LogBatch:
    lines: list[LogLine]
    cursor: LogCursor
    more: bool  # a bound stopped the read before the end of every stream


def format_lines(lines: list[LogLine], location: JobLogLocation) -> list[str]:
    """Lines for a task log: prefixed with the stream's instance (and trial) part when there are several."""
    if len({line.stream for line in lines}) <= 1 and location.stream_pattern is None:
        return [line.message for line in lines]
    out = []
    for line in lines:
        label = line.stream[len(location.job_name) + 1:] if location.stream_pattern is not None else \
            line.stream.split("/", 1)[-1]
        out.append(f"[{label}] {line.message}")
    return out


Call = tuple[str, dict[str, Any]]
_NOT_FOUND = {"__not_found__": True}


def _read_plan(location: JobLogLocation, cursor: LogCursor | None, max_lines: int, max_streams: int,
               drain: bool) -> Generator[Call, dict[str, Any], LogBatch]:
    cursor = LogCursor.from_json(cursor.to_json() if cursor else None)
    streams: list[dict[str, Any]] = []
    token = None
    for _ in range(_DESCRIBE_PAGES):
        request: dict[str, Any] = {"logGroupName": location.log_group, "logStreamNamePrefix": location.stream_prefix}
        if token:
            request["nextToken"] = token
        response = yield "describe_log_streams", request
        if response is _NOT_FOUND:  # the group does not exist yet: nothing logged so far
            return LogBatch([], cursor, False)
        streams.extend(s for s in response.get("logStreams") or [] if location.matches(s["logStreamName"]))
        token = response.get("nextToken")
        if not token:
            break
    pending = []
    for stream in sorted(streams, key=lambda s: s["logStreamName"]):
        name = stream["logStreamName"]
        ingested = stream.get("lastIngestionTime")
        if not drain and ingested is not None and cursor.caught_up.get(name, -1) >= int(ingested):
            continue  # nothing new since we read it to its end
        pending.append((name, ingested))
    lines: list[LogLine] = []
    more = bool(token) or len(pending) > max_streams
    for name, ingested in pending[:max_streams]:
        while len(lines) < max_lines:
            request = {"logGroupName": location.log_group, "logStreamName": name, "startFromHead": True,
                       "limit": min(max_lines - len(lines), 10_000)}
            if name in cursor.tokens:
                request["nextToken"] = cursor.tokens[name]
            response = yield "get_log_events", request
            if response is _NOT_FOUND:
                break
            events = response.get("events") or []
            lines.extend(LogLine(name, int(e.get("timestamp") or 0), str(e.get("message", "")).rstrip("\n"))
                         for e in events)
            new_token = response.get("nextForwardToken")
            ended = not events or new_token == cursor.tokens.get(name)
            if new_token:
                cursor.tokens[name] = new_token
            if ended or len(events) < request["limit"]:
                if ingested is not None:
                    cursor.caught_up[name] = int(ingested)
                break
            if not drain:
                more = True
                break
        else:
            more = True
    lines.sort(key=lambda line: line.timestamp)  # stable: order within a stream is kept
    return LogBatch(lines, cursor, more)


def _tail_plan(location: JobLogLocation, count: int) -> Generator[Call, dict[str, Any], list[LogLine]]:
    response = yield "describe_log_streams", {"logGroupName": location.log_group,
                                              "logStreamNamePrefix": location.stream_prefix}
    if response is _NOT_FOUND:
        return []
    streams = [s for s in response.get("logStreams") or [] if location.matches(s["logStreamName"])]
    # The streams that logged last (a tuning job's failing trial, a multi-instance job's last instance).
    streams.sort(key=lambda s: s.get("lastIngestionTime") or s.get("creationTime") or 0, reverse=True)
    lines: list[LogLine] = []
    for stream in streams[:DEFAULT_MAX_STREAMS]:
        events = yield "get_log_events", {"logGroupName": location.log_group,
                                          "logStreamName": stream["logStreamName"], "startFromHead": False,
                                          "limit": max(1, count)}
        if events is _NOT_FOUND:
            continue
        lines.extend(LogLine(stream["logStreamName"], int(e.get("timestamp") or 0),
                             str(e.get("message", "")).rstrip("\n")) for e in events.get("events") or [])
    lines.sort(key=lambda line: line.timestamp)
    return lines[-count:] if count > 0 else []


def _not_found(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException"


class _LogsHook(_RetryingAwsHook):
    aws_service = "logs"
    default_retries = LOGS_RETRIES


class SageMakerJobLogsHook(_LogsHook):
    """CloudWatch Logs reads of SageMaker job logs (sync: workers)."""

    def _drive(self, plan: Generator[Call, dict[str, Any], Any]) -> Any:
        try:
            operation, kwargs = next(plan)
            while True:
                try:
                    response = getattr(self.conn, operation)(**kwargs)
                except ClientError as exc:
                    if not _not_found(exc):
                        raise
                    response = _NOT_FOUND
                operation, kwargs = plan.send(response)
        except StopIteration as stop:
            return stop.value

    def read(self, location: JobLogLocation, cursor: LogCursor | None = None, *,
             max_lines: int = DEFAULT_MAX_LINES, max_streams: int = DEFAULT_MAX_STREAMS,
             drain: bool = False) -> LogBatch:
        """New lines since ``cursor`` (from the start without one). ``drain``: read every stream to its end
        (up to ``max_lines``), not only those with newer ingestion, and page through each."""
        return self._drive(_read_plan(location, cursor, max_lines, max_streams, drain))

    def tail(self, location: JobLogLocation, lines: int = DEFAULT_TAIL_LINES) -> list[LogLine]:
        """The last ``lines`` lines of the job's log (across its streams, by time)."""
        return self._drive(_tail_plan(location, lines))


class SageMakerJobLogsAsyncHook(_LogsHook):
    """The same reads on aiobotocore, for the trigger's poller (which passes its open client)."""

    async def open_client(self) -> Any:
        """An aiobotocore client context manager (enter it with ``async with``)."""
        return await self.get_async_conn()

    @staticmethod
    async def _drive(client: Any, plan: Generator[Call, dict[str, Any], Any]) -> Any:
        try:
            operation, kwargs = next(plan)
            while True:
                try:
                    response = await getattr(client, operation)(**kwargs)
                except ClientError as exc:
                    if not _not_found(exc):
                        raise
                    response = _NOT_FOUND
                operation, kwargs = plan.send(response)
        except StopIteration as stop:
            return stop.value

    async def read(self, client: Any, location: JobLogLocation, cursor: LogCursor | None = None, *,
                   max_lines: int = DEFAULT_MAX_LINES, max_streams: int = DEFAULT_MAX_STREAMS) -> LogBatch:
        return await self._drive(client, _read_plan(location, cursor, max_lines, max_streams, False))


__all__ = [
    "DEFAULT_DRAIN_LINES",
    "DEFAULT_MAX_LINES",
    "DEFAULT_MAX_STREAMS",
    "DEFAULT_TAIL_LINES",
    "JobLogLocation",
    "LogBatch",
    "LogCursor",
    "LogLine",
    "SageMakerJobLogsAsyncHook",
    "SageMakerJobLogsHook",
    "describe_request",
    "format_lines",
    "job_of_step",
    "location_for",
    "location_from_description",
]
