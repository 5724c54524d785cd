"""Deferrable waiting for a model package version's approval decision.

Event payloads (JSON-serialisable)::

    {"status": "approved" | "rejected"    # ModelApprovalStatus reached Approved / Rejected
               | "error",                 # polling kept failing (see "message")
     "model_package_arn": ..., "version": <version summary, see hooks/registry.py>, "message": ...}
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_sagemaker_mlops.hooks.errors import (
    SageMakerApiError,
    SageMakerResourceNotFoundError,
    SageMakerValidationError,
)
from airflow_sagemaker_mlops.hooks.registry import SageMakerModelRegistryAsyncHook
from airflow_sagemaker_mlops.hooks.settings import AwsClientSettings

APPROVED = "approved"
REJECTED = "rejected"
ERROR = "error"

#: Consecutive failed polls (each already retried by botocore) before the trigger gives up.
MAX_POLL_FAILURES = 5


def approval_event(model_package_arn: str, version: dict[str, Any]) -> dict[str, Any] | None:
    """The payload for this version's state, or None while it waits for a decision."""
    status = version.get("ModelApprovalStatus")
    if status == "Approved":
        return {"status": APPROVED, "model_package_arn": model_package_arn, "version": version}
    if status == "Rejected":
        return {"status": REJECTED, "model_package_arn": model_package_arn, "version": version}
    return None


class ModelPackageApprovalTrigger(BaseTrigger):
    """Fires when the model package version is Approved or Rejected (one DescribeModelPackage per poll)."""

    def __init__(self, model_package_arn: str, *, aws_conn_id: str | None = "aws_default",
                 region_name: str | None = None, verify: bool | str | None = None,
                 botocore_config: dict[str, Any] | None = None, poll_interval: float = 30.0) -> None:
        super().__init__()
        if poll_interval <= 0:
            raise ValueError("poll_interval must be positive")
        self.model_package_arn = model_package_arn
        self.aws = AwsClientSettings(aws_conn_id, region_name, verify, botocore_config)
        self.poll_interval = float(poll_interval)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (f"{type(self).__module__}.{type(self).__qualname__}",
                {"model_package_arn": self.model_package_arn, **self.aws.as_kwargs(),
                 "poll_interval": self.poll_interval})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        # A decision made right after the sensor deferred (the e2e approves at once) must not resume it within
        # Airflow's stale-executor-event window: see triggers.pipelines.min_deferral_seconds.
        from airflow_sagemaker_mlops.triggers.pipelines import hold_until_min_deferral

        started = asyncio.get_running_loop().time()
        hook = self.aws.hook(SageMakerModelRegistryAsyncHook)
        failures = 0
        self.log.info("waiting for an approval decision on %s", self.model_package_arn)
        async with hook.client() as client:
            while True:
                try:
                    version = await hook.describe_version(self.model_package_arn, client=client)
                    failures = 0
                except SageMakerApiError as exc:
                    # A wrong ARN does not get better by waiting.
                    permanent = isinstance(exc, SageMakerResourceNotFoundError | SageMakerValidationError)
                    failures = MAX_POLL_FAILURES if permanent else failures + 1
                    self.log.warning("describing %s failed (%d/%d): %s", self.model_package_arn, failures,
                                     MAX_POLL_FAILURES, exc)
                    if failures >= MAX_POLL_FAILURES:
                        await hold_until_min_deferral(started)
                        yield TriggerEvent({"status": ERROR, "model_package_arn": self.model_package_arn,
                                            "message": f"cannot describe {self.model_package_arn}: {exc}"})
                        return
                else:
                    payload = approval_event(self.model_package_arn, version)
                    if payload is not None:
                        self.log.info("%s: %s", self.model_package_arn, version.get("ModelApprovalStatus"))
                        await hold_until_min_deferral(started)
                        yield TriggerEvent(payload)
                        return
                await asyncio.sleep(self.poll_interval)
