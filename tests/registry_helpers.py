"""A model package group with versions on the local engine, for the registry hook, operator, sensor and
trigger tests (tests/ is on sys.path: the modules here are imported by name)."""

from __future__ import annotations

import json
import uuid
from typing import Any


def make_group(engine: Any, versions: int = 2, *, metrics: dict[str, Any] | None = None) -> tuple[str, list[str]]:
    """A new group with ``versions`` PendingManualApproval versions (oldest first); the last one has a
    ModelQuality statistics document in S3 (``metrics``) and customer metadata."""
    sm, s3 = engine.client("sagemaker"), engine.client("s3")
    group = f"models-{uuid.uuid4().hex[:10]}"
    sm.create_model_package_group(ModelPackageGroupName=group)
    s3.create_bucket(Bucket=group)
    s3.put_object(Bucket=group, Key="evaluation.json", Body=json.dumps(metrics or {"auc": {"value": 0.91}}))
    arns = []
    for number in range(1, versions + 1):
        extra: dict[str, Any] = {}
        if number == versions:
            extra = {"ModelMetrics": {"ModelQuality": {"Statistics": {
                        "ContentType": "application/json", "S3Uri": f"s3://{group}/evaluation.json"}}},
                     "CustomerMetadataProperties": {"trained-by": "churn_training"}}
        arns.append(sm.create_model_package(
            ModelPackageGroupName=group, ModelPackageDescription=f"v{number}",
            InferenceSpecification={"Containers": [{"Image": "img", "ModelDataUrl": f"s3://{group}/m{number}.tar.gz"}],
                                    "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]},
            ModelApprovalStatus="PendingManualApproval", **extra)["ModelPackageArn"])
    return group, arns
