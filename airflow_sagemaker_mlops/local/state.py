"""In-memory records of pipelines, executions and steps, and small helpers shared by the engine."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import string
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .definition import PipelineGraph, StepSpec
from .faults import FaultConfig

# Execution statuses
EXECUTING = "Executing"
STOPPING = "Stopping"
STOPPED = "Stopped"
FAILED = "Failed"
SUCCEEDED = "Succeeded"
# Step statuses (plus the three shared ones above)
STARTING = "Starting"
ACTIVE_STEP_STATUSES = (STARTING, EXECUTING, STOPPING)
TERMINAL_EXECUTION_STATUSES = (STOPPED, FAILED, SUCCEEDED)

EXECUTION_FAILURE_REASON = "Step failure: One or multiple steps failed."

_ALNUM = string.ascii_lowercase + string.digits


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def random_id(length: int = 12, alphabet: str = _ALNUM) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def short_hash(*parts: Any, length: int = 10) -> str:
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
    return digest[:length]


_DURATION_RE = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def parse_iso_duration(text: str) -> dt.timedelta:
    """ISO 8601 duration as used by CacheConfig.ExpireAfter (``PT1H``, ``P30D``, ``P1Y2M``...)."""
    match = _DURATION_RE.match(text or "")
    if not match or text in ("P", "PT"):
        raise ValueError(f"invalid ISO 8601 duration {text!r}")
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    days = parts.get("years", 0) * 365 + parts.get("months", 0) * 30 + parts.get("weeks", 0) * 7
    days += parts.get("days", 0)
    return dt.timedelta(
        days=days,
        hours=parts.get("hours", 0),
        minutes=parts.get("minutes", 0),
        seconds=parts.get("seconds", 0),
    )


@dataclass
class EngineConfig:
    """How the engine runs.

    ``retry_interval_scale`` multiplies every RetryPolicy interval and expiry (tests use 0.001).
    ``lambda_handlers`` maps a Lambda function ARN or name to a callable ``(event, context) -> dict`` or
    to a ``"module:function"`` string. ``job_runners`` maps a step type (Processing, Training, Transform,
    Tuning) to a runner ``(name, request, JobContext) -> JobResult``, replacing the built-in one.
    """

    region: str = "us-east-1"
    account_id: str = "123456789012"
    max_workers: int = 16
    retry_interval_scale: float = 1.0
    lambda_handlers: dict[str, Any] = field(default_factory=dict)
    job_runners: dict[str, Callable[..., Any]] = field(default_factory=dict)
    work_dir: Path | None = None
    faults: FaultConfig | None = None
    python: str = sys.executable
    # Opt-in IAM enforcement (local/access.py): API callers and pipeline/step roles are checked against
    # their policies in moto IAM.
    enforce_iam: bool = False


@dataclass
class PipelineVersion:
    version_id: int
    definition: str
    graph: PipelineGraph
    creation_time: dt.datetime


@dataclass
class PipelineRecord:
    name: str
    arn: str
    region: str
    role_arn: str
    definition: str
    graph: PipelineGraph
    creation_time: dt.datetime
    last_modified_time: dt.datetime
    display_name: str | None = None
    description: str | None = None
    parallelism: dict[str, Any] | None = None
    tags: list[dict[str, str]] = field(default_factory=list)
    last_run_time: dt.datetime | None = None
    version_id: int = 1
    versions: dict[int, PipelineVersion] = field(default_factory=dict)
    client_token: str | None = None
    account_id: str = "123456789012"
    created_by: str | None = None  # the caller's ARN (DescribePipeline CreatedBy.IamIdentity)
    last_modified_by: str | None = None


@dataclass
class StepRecord:
    """One step of one execution, as ListPipelineExecutionSteps reports it."""

    spec: StepSpec
    status: str
    start_time: dt.datetime
    end_time: dt.datetime | None = None
    attempt_count: int = 0
    attempts_this_run: int = 0
    first_attempt_time: dt.datetime | None = None
    failure_reason: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] | None = None
    outcome: bool | None = None  # a Condition step's result
    cache_source: str | None = None
    selective_source: str | None = None
    callback_token: str | None = None
    waiting_callback: bool = False
    retry_timer: Any = None
    log: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass
class ExecutionRecord:
    arn: str
    id: str
    pipeline: PipelineRecord
    region: str
    definition: str
    graph: PipelineGraph
    parameters: dict[str, Any]
    parameter_list: list[dict[str, str]]
    creation_time: dt.datetime
    status: str = EXECUTING
    last_modified_time: dt.datetime | None = None
    failure_reason: str | None = None
    display_name: str | None = None
    description: str | None = None
    parallelism: dict[str, Any] | None = None
    selective: dict[str, Any] | None = None
    selected_steps: set[str] | None = None
    version_id: int = 1
    # PipelineExperimentConfig and MLflowConfig as DescribePipelineExecution reports them (resolved at start).
    experiment_config: dict[str, str] | None = None
    mlflow_config: dict[str, str] | None = None
    steps: dict[str, StepRecord] = field(default_factory=dict)
    skipped: set[str] = field(default_factory=set)
    # Steps started after a failure through a DependsOn trigger, and the steps that run after them.
    recovering: set[str] = field(default_factory=set)
    prior_attempts: dict[str, int] = field(default_factory=dict)
    #: RetryPipelineExecution calls that resumed it (idempotent repeats not counted).
    retries: int = 0
    stop_event: threading.Event = field(default_factory=threading.Event)
    property_files: dict[tuple[str, str], Any] = field(default_factory=dict)
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def max_parallel(self) -> int | None:
        config = self.parallelism or self.pipeline.parallelism
        if config and config.get("MaxParallelExecutionSteps"):
            return int(config["MaxParallelExecutionSteps"])
        return None


@dataclass
class StepOutcome:
    """What one attempt of a step produced."""

    status: str  # SUCCEEDED | FAILED | STOPPED, or "Pending" while a callback waits
    properties: dict[str, Any] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    failure_reason: str | None = None
    exception_type: str | None = None
    outcome: bool | None = None
    cache_source: str | None = None

    @classmethod
    def failed(cls, reason: str, exception_type: str | None = None, **kw: Any) -> StepOutcome:
        return cls(status=FAILED, failure_reason=reason, exception_type=exception_type, **kw)


PENDING = "Pending"


class JobStore:
    """The descriptions of the jobs the engine's steps ran, by (kind, region, name); thread-safe.

    SageMaker job names are unique ignoring case and ARNs carry them lower-cased: keys are lower-cased.
    """

    def __init__(self) -> None:
        self._jobs: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()

    def put(self, kind: str, region: str, name: str, description: dict[str, Any]) -> None:
        with self._lock:
            self._jobs[(kind, region, name.lower())] = description

    def get(self, kind: str, region: str, name: str) -> dict[str, Any] | None:
        with self._lock:
            return self._jobs.get((kind, region, name.lower()))

    def list(self, kind: str, region: str) -> list[dict[str, Any]]:
        with self._lock:
            return [d for (k, r, _), d in self._jobs.items() if k == kind and r == region]

    def named(self, kind: str, name: str) -> list[dict[str, Any]]:
        """Jobs of ``kind`` called ``name`` in any region."""
        with self._lock:
            return [d for (k, _, n), d in self._jobs.items() if k == kind and n == name.lower()]

    def clear(self) -> None:
        with self._lock:
            self._jobs.clear()
