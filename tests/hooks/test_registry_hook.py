"""SageMakerModelRegistryHook against the local engine."""

from __future__ import annotations

from typing import Any

import pytest
from registry_helpers import make_group

from airflow_sagemaker_mlops.hooks.errors import SageMakerValidationError
from airflow_sagemaker_mlops.hooks.registry import SageMakerModelRegistryHook


@pytest.fixture
def registry(engine: Any) -> SageMakerModelRegistryHook:
    return SageMakerModelRegistryHook(aws_conn_id=None)


def test_list_versions_newest_first_with_metrics(engine, registry):
    group, (v1, v2) = make_group(engine)
    versions = registry.list_versions(group, load_metrics=True)
    assert [(v["ModelPackageArn"], v["ModelPackageVersion"], v["ModelApprovalStatus"]) for v in versions] == [
        (v2, 2, "PendingManualApproval"), (v1, 1, "PendingManualApproval")]
    newest, oldest = versions
    assert newest["ModelPackageDescription"] == "v2" and isinstance(newest["CreationTime"], str)
    assert newest["ModelMetrics"] == {"ModelQuality.Statistics": {"S3Uri": f"s3://{group}/evaluation.json",
                                                                  "ContentType": "application/json"}}
    assert newest["Metrics"] == {"ModelQuality.Statistics": {"auc": {"value": 0.91}}}
    assert newest["CustomerMetadataProperties"] == {"trained-by": "churn_training"}
    assert oldest["ModelMetrics"] == {} and oldest["Metrics"] == {}
    assert [v["ModelPackageVersion"] for v in registry.list_versions(group, max_versions=1)] == [2]
    assert "Metrics" not in registry.list_versions(group)[0]


def test_approve_and_reject_keep_what_the_update_does_not_name(engine, registry):
    group, (v1, v2) = make_group(engine)
    approved = registry.set_approval(v2, "Approved", "AUC 0.91 on holdout")
    assert (approved["ModelApprovalStatus"], approved["ApprovalDescription"]) == ("Approved", "AUC 0.91 on holdout")
    assert approved["CustomerMetadataProperties"] == {"trained-by": "churn_training"}
    registry.set_approval(v1, "Rejected", "superseded")
    assert [v["ModelPackageArn"] for v in registry.list_versions(
        group, approval_status="Approved")] == [v2]
    assert registry.describe_version(v1)["ModelApprovalStatus"] == "Rejected"


def test_bad_input_is_named(engine, registry):
    group, (v1,) = make_group(engine, 1)
    with pytest.raises(ValueError, match="approval status 'Approve' is not one of"):
        registry.set_approval(v1, "Approve")
    with pytest.raises(ValueError, match="approval status"):
        registry.list_versions(group, approval_status="approved")
    with pytest.raises(SageMakerValidationError, match="not found"):
        registry.describe_version(v1[:-1] + "9")
