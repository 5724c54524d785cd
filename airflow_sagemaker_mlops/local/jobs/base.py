"""Shared types and helpers of the local job runners (Processing, Training, Transform, Tuning)."""

from __future__ import annotations

import datetime as dt
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# boto3 clients are thread-safe but slow to create (service models load per session): share them
# between the contexts of all jobs that talk to the same engine.
_CLIENTS: dict[tuple[str, str, str], Any] = {}
_CLIENTS_LOCK = threading.Lock()

COMPLETED = "Completed"
FAILED = "Failed"
STOPPED = "Stopped"


@dataclass
class JobContext:
    """Everything a job runner needs from the engine for one step attempt."""

    endpoint_url: str  # the engine's own URL; moto answers S3/SQS/SageMaker model calls behind it
    region: str
    account_id: str
    work_dir: Path  # per-step-attempt sandbox directory, created by the caller
    stop_event: threading.Event  # set when the execution is stopped: kill the process, return Stopped
    log: Callable[[str], None]  # appends one line to the step's log
    python: str = sys.executable  # interpreter for user code
    # Credentials of the pipeline's account (moto routes by access key); None: the default account.
    credentials: dict[str, str] | None = None
    # What the user process gets as AWS credentials: an STS session of the job's role (None: dummy ones).
    user_credentials: dict[str, str] | None = None
    # With IAM enforcement: S3 calls are checked as this role (the job's RoleArn) before they are made.
    role_arn: str | None = None
    access: Any = None  # local.access.AccessControl
    # A line sink for the log of another job this job runs, by (Describe kind, job name): a tuning job's
    # training jobs each log to their own CloudWatch stream, as on SageMaker. None: no separate logs.
    job_log: Callable[[str, str], Callable[[str], None]] | None = None

    def client(self, service: str) -> Any:
        """A boto3 client for ``endpoint_url``, shared per (service, endpoint, region, credentials, role)."""
        credentials = self.credentials or {"AccessKeyId": "test", "SecretAccessKey": "test"}
        enforced = self.access is not None and self.access.enabled and self.role_arn and service == "s3"
        role = self.role_arn if enforced else None
        key = (service, self.endpoint_url, self.region, credentials["AccessKeyId"], role)
        with _CLIENTS_LOCK:
            cached = _CLIENTS.get(key)
            if cached is None:
                import boto3
                from botocore.config import Config

                # A private session: creating clients from boto3's default session is not thread-safe.
                session = boto3.session.Session(
                    aws_access_key_id=credentials["AccessKeyId"],
                    aws_secret_access_key=credentials["SecretAccessKey"],
                    aws_session_token=credentials.get("SessionToken") or None,
                    region_name=self.region,
                )
                cached = session.client(
                    service,
                    endpoint_url=self.endpoint_url,
                    config=Config(retries={"max_attempts": 3, "mode": "standard"}, max_pool_connections=32),
                )
                if role is not None:
                    from ..access import s3_call_checker

                    cached.meta.events.register("before-parameter-build.s3", s3_call_checker(self.access, role))
                _CLIENTS[key] = cached
            return cached

    def arn(self, resource: str) -> str:
        """``arn:aws:sagemaker:<region>:<account>:<resource>``."""
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:{resource}"


@dataclass
class JobResult:
    """Outcome of one job: its terminal status and its Describe<Kind>Job-shaped description."""

    status: str  # "Completed" | "Failed" | "Stopped"
    description: dict  # Describe<Kind>Job response-shaped dict; datetimes as aware UTC datetime objects
    failure_reason: str | None = None
    # Jobs this job ran itself, by name: a tuning job's training jobs, for DescribeTrainingJob and
    # ListTrainingJobsForHyperParameterTuningJob. Empty for the other kinds.
    children: dict[str, JobResult] = field(default_factory=dict)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
