"""Job logs in the engine's CloudWatch Logs (moto), where SageMaker puts them.

SageMaker sends everything a job's container writes to stdout/stderr to CloudWatch Logs:

=====================  ===============================  ============================================
job                    log group                        log stream
=====================  ===============================  ============================================
Processing             ``/aws/sagemaker/ProcessingJobs``  ``<job name>/algo-1-<epoch seconds>``
Training               ``/aws/sagemaker/TrainingJobs``    ``<job name>/algo-1-<epoch seconds>``
Transform              ``/aws/sagemaker/TransformJobs``   ``<job name>/<instance id>-<epoch seconds>``
Tuning                 (none: each training job of the tuning job logs as a training job)
=====================  ===============================  ============================================

The engine writes each job's lines (the user process's output and the engine's own ``[local]`` notes)
to the same places, batched, while the job runs: a reader that works against SageMaker (the Airflow
step tasks, the SageMaker SDK, ``aws logs tail``) reads the local engine's job logs unchanged.
Shipping never fails a job: a CloudWatch error is logged once and the lines are dropped.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from airflow_sagemaker_mlops.definition.step_kinds import STEP_KINDS

log = logging.getLogger(__name__)

#: The jobs that write a log of their own (a tuning job does not: its training jobs do).
LOG_GROUPS = {STEP_KINDS[t].resource.noun: STEP_KINDS[t].resource.log_group for t in ("Processing", "Training",
                                                                                       "Transform")}
#: Seconds between background flushes of a stream: how far the CloudWatch copy lags the process.
FLUSH_INTERVAL = 0.5
# PutLogEvents limits: 10,000 events and 1,048,576 bytes per call, each event counting its UTF-8 size
# plus 26 bytes; one event at most 256 KiB.
_MAX_EVENTS = 10_000
_MAX_BATCH_BYTES = 1_048_576
_EVENT_OVERHEAD = 26
_MAX_EVENT_BYTES = 262_144 - _EVENT_OVERHEAD


def stream_name(kind: str, job_name: str, started: float) -> str:
    """The log stream SageMaker names for the (first) instance of a job started at ``started``."""
    epoch = int(started)
    if kind == "TransformJob":
        # Transform streams carry the EC2 instance id; a stable fake one per job here.
        instance = "i-0" + hashlib.sha256(job_name.encode()).hexdigest()[:16]
        return f"{job_name}/{instance}-{epoch}"
    return f"{job_name}/algo-1-{epoch}"


def _clip(message: str) -> str:
    data = message.encode("utf-8")
    if len(data) <= _MAX_EVENT_BYTES:
        return message
    return data[:_MAX_EVENT_BYTES].decode("utf-8", errors="ignore")


@dataclass(eq=False)
class CloudWatchJobLog:
    """One job's log stream: ``write`` buffers a line; a background thread ships the buffer every
    ``flush_interval`` seconds; ``close`` ships the rest and returns once it is in CloudWatch Logs."""

    client_factory: Callable[[], Any]  # called on the first flush: a job that never logs costs nothing
    group: str
    stream: str
    flush_interval: float = FLUSH_INTERVAL
    _buffer: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _send_lock: threading.Lock = field(default_factory=threading.Lock)
    _wake: threading.Event = field(default_factory=threading.Event)
    _closed: bool = False
    _created: bool = False
    _broken: bool = False
    _last_ts: int = 0
    _thread: threading.Thread | None = None
    _client: Any = None

    def write(self, line: str) -> None:
        if self._closed:
            return
        with self._lock:
            # Events of one PutLogEvents call must be in time order: never step back.
            ts = max(int(time.time() * 1000), self._last_ts)
            self._last_ts = ts
            self._buffer.append({"timestamp": ts, "message": _clip(line) or " "})
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=f"cw-log:{self.stream}", daemon=True)
                self._thread.start()

    def close(self) -> None:
        """Ship what is buffered and stop the background thread."""
        self._closed = True
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=30)
        self.flush()

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.flush_interval)
            self.flush()

    def flush(self) -> None:
        with self._send_lock:  # the thread and close() may both flush: keep the batches in order
            with self._lock:
                events, self._buffer = self._buffer, []
            if not events or self._broken:
                return
            try:
                self._ensure_stream()
                for batch in _batches(events):
                    self._client.put_log_events(logGroupName=self.group, logStreamName=self.stream, logEvents=batch)
            except Exception as exc:  # the job goes on; its log just is not in CloudWatch
                self._broken = True
                log.warning("cannot write the job log to CloudWatch Logs %s %s: %s", self.group, self.stream, exc)

    def _ensure_stream(self) -> None:
        if self._created:
            return
        self._client = client = self.client_factory()
        for call, kwargs in ((client.create_log_group, {"logGroupName": self.group}),
                             (client.create_log_stream, {"logGroupName": self.group, "logStreamName": self.stream})):
            try:
                call(**kwargs)
            except client.exceptions.ResourceAlreadyExistsException:
                pass
        self._created = True


def _batches(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    batches: list[list[dict[str, Any]]] = [[]]
    size = 0
    for event in events:
        cost = len(event["message"].encode("utf-8")) + _EVENT_OVERHEAD
        if batches[-1] and (len(batches[-1]) >= _MAX_EVENTS or size + cost > _MAX_BATCH_BYTES):
            batches.append([])
            size = 0
        batches[-1].append(event)
        size += cost
    return [b for b in batches if b]


class JobLogs:
    """The CloudWatch streams of one step attempt's jobs (the job itself, and a tuning job's trials)."""

    def __init__(self, client_factory: Callable[[], Any]) -> None:
        self._client_factory = client_factory
        self._open: list[CloudWatchJobLog] = []
        self._lock = threading.Lock()

    def open(self, kind: str, job_name: str) -> CloudWatchJobLog | None:
        """A new stream for ``job_name``, or None when SageMaker keeps no log for jobs of ``kind``."""
        group = LOG_GROUPS.get(kind)
        if group is None:
            return None
        job_log = CloudWatchJobLog(self._client_factory, group, stream_name(kind, job_name, time.time()))
        with self._lock:
            self._open.append(job_log)
        return job_log

    def sink(self, kind: str, job_name: str) -> Callable[[str], None]:
        """A line sink writing to a new stream for ``job_name`` (a no-op for kinds without logs)."""
        job_log = self.open(kind, job_name)
        return job_log.write if job_log is not None else (lambda _line: None)

    def close(self) -> None:
        with self._lock:
            open_logs, self._open = self._open, []
        for job_log in open_logs:
            job_log.close()
