"""UpdateModelPackage on the engine: SageMaker's semantics (fields left out keep their values), which moto's
own implementation does not have."""

from __future__ import annotations

import pytest
from registry_helpers import make_group


def test_update_model_package_changes_only_what_it_names(engine, sm):
    _, (arn,) = make_group(engine, 1)
    sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="looks good")
    sm.update_model_package(ModelPackageArn=arn, CustomerMetadataProperties={"stage": "staging"})
    package = sm.describe_model_package(ModelPackageName=arn)
    assert (package["ModelApprovalStatus"], package["ApprovalDescription"]) == ("Approved", "looks good")
    assert package["CustomerMetadataProperties"] == {"trained-by": "churn_training", "stage": "staging"}
    sm.update_model_package(ModelPackageArn=arn, CustomerMetadataPropertiesToRemove=["stage"])
    assert sm.describe_model_package(ModelPackageName=arn)["CustomerMetadataProperties"] == {
        "trained-by": "churn_training"}


def test_update_model_package_rejects_bad_requests(engine, sm):
    _, (arn,) = make_group(engine, 1)
    with pytest.raises(sm.exceptions.ClientError, match="enum value set"):
        sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approve")
    with pytest.raises(sm.exceptions.ClientError, match="not found"):
        sm.update_model_package(ModelPackageArn=arn + "0", ModelApprovalStatus="Approved")
