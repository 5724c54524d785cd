"""Registry operators executed against the local engine."""

from __future__ import annotations

import pytest
from registry_helpers import make_group

from airflow_sagemaker_mlops.operators.registry import (
    SageMakerApproveModelPackageOperator,
    SageMakerListModelPackageVersionsOperator,
    SageMakerRejectModelPackageOperator,
    SageMakerUpdateModelPackageApprovalOperator,
)


def test_list_then_approve_and_reject(sagemaker_local_engine):
    group, (v1, v2) = make_group(sagemaker_local_engine)
    listed = SageMakerListModelPackageVersionsOperator(task_id="list", model_package_group=group, aws_conn_id=None,
                                                       load_metrics=True).execute({})
    assert [(v["ModelPackageVersion"], v["ModelApprovalStatus"]) for v in listed] == [
        (2, "PendingManualApproval"), (1, "PendingManualApproval")]
    assert listed[0]["Metrics"]["ModelQuality.Statistics"] == {"auc": {"value": 0.91}}

    approved = SageMakerApproveModelPackageOperator(task_id="approve", model_package_arn=v2, aws_conn_id=None,
                                                    approval_description="AUC 0.91").execute({})
    rejected = SageMakerRejectModelPackageOperator(task_id="reject", model_package_arn=v1, aws_conn_id=None,
                                                   approval_description="superseded by v2").execute({})
    assert (approved["ModelApprovalStatus"], approved["ApprovalDescription"]) == ("Approved", "AUC 0.91")
    assert (rejected["ModelApprovalStatus"], rejected["ApprovalDescription"]) == ("Rejected", "superseded by v2")
    only_approved = SageMakerListModelPackageVersionsOperator(task_id="list", model_package_group=group,
                                                              approval_status="Approved", aws_conn_id=None).execute({})
    assert [v["ModelPackageArn"] for v in only_approved] == [v2]


def test_a_wrong_status_is_named_at_parse_time():
    with pytest.raises(ValueError, match=r"test_registry_operators.py:\d+: task 'set', field approval_status: "
                                         "approval_status 'approved' is not one of Approved"):
        SageMakerUpdateModelPackageApprovalOperator(task_id="set", model_package_arn="arn:x",
                                                    approval_status="approved")
