"""Hooks for the SageMaker Model Registry: list a group's versions, describe one, approve or reject it.

Same plumbing as the pipeline hooks (Amazon provider connection, botocore standard retries, errors as
:class:`~airflow_sagemaker_mlops.hooks.errors.SageMakerApiError`); everything returned is JSON-serialisable.

A *version* here is the summary of one model package version::

    {"ModelPackageArn", "ModelPackageGroupName", "ModelPackageVersion", "ModelApprovalStatus",
     "ModelPackageStatus", "CreationTime", "ModelPackageDescription", "ApprovalDescription",
     "ModelMetrics": {"ModelQuality.Statistics": {"S3Uri", "ContentType"}, ...},
     "CustomerMetadataProperties": {...},
     "Metrics": {"ModelQuality.Statistics": <the JSON document>, ...}}   # only with load_metrics=True
"""

from __future__ import annotations

import json
import logging
from typing import Any

from botocore.exceptions import ClientError

from .errors import wrap_client_error
from .pipelines import SageMakerApiHook, _RetryingAsyncAwsHook, jsonable

log = logging.getLogger(__name__)

APPROVAL_STATUSES = ("Approved", "Rejected", "PendingManualApproval")
#: Largest metrics document load_metrics reads; a bigger one is reported by reference only.
MAX_METRICS_BYTES = 1024 * 1024

_SUMMARY_KEYS = ("ModelPackageArn", "ModelPackageGroupName", "ModelPackageVersion", "ModelApprovalStatus",
                 "ModelPackageStatus", "CreationTime", "ModelPackageDescription", "ApprovalDescription")


def check_approval_status(status: str) -> str:
    if status not in APPROVAL_STATUSES:
        raise ValueError(f"approval status {status!r} is not one of {', '.join(APPROVAL_STATUSES)}")
    return status


def metric_references(model_metrics: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """``ModelMetrics`` flattened to ``{"Section.Kind": {"S3Uri", "ContentType"}}``
    (``ModelQuality.Statistics``, ``Bias.PreTrainingReport``, ...)."""
    refs: dict[str, dict[str, Any]] = {}
    for section, kinds in (model_metrics or {}).items():
        for kind, source in (kinds or {}).items():
            if isinstance(source, dict) and source.get("S3Uri"):
                refs[f"{section}.{kind}"] = {"S3Uri": source["S3Uri"], "ContentType": source.get("ContentType")}
    return refs


def version_summary(package: dict[str, Any]) -> dict[str, Any]:
    """A version's summary (see the module docstring) from a DescribeModelPackage response."""
    package = jsonable(package)
    summary = {key: package.get(key) for key in _SUMMARY_KEYS}
    summary["ModelMetrics"] = metric_references(package.get("ModelMetrics"))
    summary["CustomerMetadataProperties"] = package.get("CustomerMetadataProperties") or {}
    return summary


class SageMakerModelRegistryHook(SageMakerApiHook):
    """Synchronous Model Registry calls."""

    def describe_version(self, model_package_arn: str) -> dict[str, Any]:
        """The version's summary (DescribeModelPackage).

        Args:
            model_package_arn: the version's ARN.
        """
        return version_summary(self._call("describe_model_package", ModelPackageName=model_package_arn))

    def list_versions(
        self,
        group: str,
        *,
        approval_status: str | None = None,
        max_versions: int | None = None,
        load_metrics: bool = False,
    ) -> list[dict[str, Any]]:
        """The group's versions, newest first (ListModelPackages, then one DescribeModelPackage each for the
        metrics and descriptions the list leaves out).

        Args:
            group: the model package group's name or ARN.
            approval_status: only versions with this ``ModelApprovalStatus``.
            max_versions: at most this many, newest first.
            load_metrics: also read the JSON documents ``ModelMetrics`` points at.
        """
        kwargs: dict[str, Any] = {"ModelPackageGroupName": group, "SortBy": "CreationTime",
                                  "SortOrder": "Descending"}
        if approval_status is not None:
            kwargs["ModelApprovalStatus"] = check_approval_status(approval_status)
        arns: list[str] = []
        try:
            for page in self.conn.get_paginator("list_model_packages").paginate(**kwargs):
                arns.extend(s["ModelPackageArn"] for s in page.get("ModelPackageSummaryList", []))
                if max_versions is not None and len(arns) >= max_versions:
                    break
        except ClientError as exc:
            raise wrap_client_error(exc) from exc
        if max_versions is not None:
            arns = arns[:max_versions]
        versions = [self.describe_version(arn) for arn in arns]
        if load_metrics:
            for version in versions:
                version["Metrics"] = self.load_metrics(version["ModelMetrics"])
        return versions

    def load_metrics(self, references: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """The JSON metrics documents the references point at (others, and unreadable ones, are left out
        with a log line: metrics are a courtesy, the version is the fact).

        Args:
            references: ``ModelMetrics`` (its ``S3Uri`` entries are read).
        """
        s3 = self.get_session(region_name=self.region_name).client(
            "s3", endpoint_url=self.conn_config.get_service_endpoint_url("s3"), config=self._get_config(),
            verify=self.verify)
        loaded: dict[str, Any] = {}
        for key, ref in references.items():
            if "json" not in str(ref.get("ContentType") or "json"):
                continue
            bucket, _, object_key = str(ref["S3Uri"]).removeprefix("s3://").partition("/")
            try:
                head = s3.head_object(Bucket=bucket, Key=object_key)
                if head["ContentLength"] > MAX_METRICS_BYTES:
                    log.info("metrics %s at %s: %d bytes, not loaded", key, ref["S3Uri"], head["ContentLength"])
                    continue
                loaded[key] = json.loads(s3.get_object(Bucket=bucket, Key=object_key)["Body"].read())
            except (ClientError, ValueError) as exc:
                log.warning("cannot read metrics %s at %s: %s", key, ref["S3Uri"], exc)
        return loaded

    def set_approval(self, model_package_arn: str, status: str, description: str | None = None) -> dict[str, Any]:
        """UpdateModelPackage with ``ModelApprovalStatus`` (and ``ApprovalDescription``); the version after it.

        Args:
            model_package_arn: the version.
            status: ``Approved``, ``Rejected`` or ``PendingManualApproval``.
            description: ``ApprovalDescription``.
        """
        kwargs: dict[str, Any] = {"ModelPackageArn": model_package_arn,
                                  "ModelApprovalStatus": check_approval_status(status)}
        if description is not None:
            kwargs["ApprovalDescription"] = description
        self._call("update_model_package", **kwargs)
        return self.describe_version(model_package_arn)


class SageMakerModelRegistryAsyncHook(_RetryingAsyncAwsHook):
    """What the approval trigger calls, on aiobotocore."""

    aws_service = "sagemaker"

    async def describe_version(self, model_package_arn: str, *, client: Any) -> dict[str, Any]:
        try:
            return version_summary(await client.describe_model_package(ModelPackageName=model_package_arn))
        except ClientError as exc:
            raise wrap_client_error(exc) from exc


__all__ = [
    "APPROVAL_STATUSES",
    "SageMakerModelRegistryAsyncHook",
    "SageMakerModelRegistryHook",
    "check_approval_status",
    "metric_references",
    "version_summary",
]
