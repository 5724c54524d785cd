"""The model package group Asset: URI convention, and the RegisterModelStep's outlet set at parse time."""

from __future__ import annotations

import pytest

from airflow_sagemaker_mlops import PipelineParameter, RegisterModelStep, SageMakerPipelineGroup
from airflow_sagemaker_mlops.assets import REGISTRATIONS_ALIAS, model_package_group_asset, registration_extra
from airflow_sagemaker_mlops.compat import DAG, Asset, AssetAlias
from airflow_sagemaker_mlops.exceptions import PipelineDefinitionError

ROLE = "arn:aws:iam::123456789012:role/SmPipeline"


def test_the_asset_uri_convention():
    asset = model_package_group_asset("churn-models")
    assert asset.uri == "x-sagemaker-model-package-group://churn-models"
    # A group ARN names the same asset as its name: one schedule whichever the DAG author wrote.
    assert model_package_group_asset("arn:aws:sagemaker:us-east-1:123456789012:model-package-group/churn-models") \
        == asset
    for bad in ("churn_models", "", "-x", "a" * 64, "arn:aws:sagemaker:us-east-1:1:model-package/churn/1"):
        with pytest.raises(ValueError, match="model package group name"):
            model_package_group_asset(bad)


def test_register_step_has_its_group_as_outlet():
    with DAG("d"), SageMakerPipelineGroup(group_id="g", pipeline_name="p", role_arn=ROLE,
                                          parameters={"Group": PipelineParameter.string("churn")}) as group:
        literal = RegisterModelStep(task_id="literal", model_package_group="churn-models", image_uri="i",
                                    model_data="s3://b/m.tar.gz")
        by_request = RegisterModelStep(task_id="by_request", request={"ModelPackageGroupName": "other"})
        dynamic = RegisterModelStep(task_id="dynamic", model_package_group=group.parameter("Group"), image_uri="i",
                                    model_data="s3://b/m.tar.gz")
        own = RegisterModelStep(task_id="own", model_package_group="churn-models", image_uri="i",
                                model_data="s3://b/m.tar.gz", outlets=[Asset(uri="s3://b/registered")])
    assert literal.outlets == [model_package_group_asset("churn-models")]
    assert by_request.outlets == [model_package_group_asset("other")]
    # A group chosen per run: its asset is only known at run time and joins the alias then.
    assert dynamic.outlets == [AssetAlias(name=REGISTRATIONS_ALIAS)]
    assert own.outlets == [Asset(uri="s3://b/registered")]


def test_a_bad_group_name_is_a_parse_time_error():
    with pytest.raises(PipelineDefinitionError, match="task 'r', field model_package_group: "
                                                     "'churn_models' is not a model package group name"), DAG("d"):
        RegisterModelStep(task_id="r", model_package_group="churn_models", image_uri="i", model_data="s3://b/m")


def test_registration_extra():
    package = {"ModelPackageArn": "arn:aws:sagemaker:us-east-1:1:model-package/churn/2",
               "ModelPackageGroupName": "churn", "ModelPackageVersion": 2, "ModelApprovalStatus": "Approved"}
    assert registration_extra(package, "exec-arn", "register") == {
        "model_package_arn": package["ModelPackageArn"], "model_package_group": "churn", "model_package_version": 2,
        "model_approval_status": "Approved", "pipeline_execution_arn": "exec-arn", "step_name": "register"}


class FakeHook:
    def __init__(self, package: dict) -> None:
        self.package = package

    def _call(self, operation: str, **kwargs: str) -> dict:
        assert (operation, kwargs) == ("describe_model_package", {"ModelPackageName": self.package["ModelPackageArn"]})
        return self.package


@pytest.mark.parametrize("dynamic", [False, True])
def test_the_registered_version_goes_into_the_outlets_event(monkeypatch, dynamic):
    try:
        from airflow.sdk.execution_time.context import OutletEventAccessors
    except ImportError:  # Airflow 2.11
        from airflow.utils.context import OutletEventAccessors

    from airflow_sagemaker_mlops.assets import emit_registration_event
    from airflow_sagemaker_mlops.operators import runtime

    arn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-models/4"
    package = {"ModelPackageArn": arn, "ModelPackageGroupName": "churn-models", "ModelPackageVersion": 4,
               "ModelApprovalStatus": "PendingManualApproval"}
    monkeypatch.setattr(runtime, "pipelines_hook", lambda *_: FakeHook(package))
    monkeypatch.setattr(runtime, "execution_arn_of", lambda *_: "exec-arn")
    with DAG("d"), SageMakerPipelineGroup(group_id="g", pipeline_name="p", role_arn=ROLE,
                                          parameters={"Group": PipelineParameter.string("churn-models")}) as group:
        register = RegisterModelStep(task_id="register", image_uri="i", model_data="s3://b/m.tar.gz",
                                     model_package_group=group.parameter("Group") if dynamic else "churn-models")
    register.sagemaker_step = {"StepName": "register", "Metadata": {"RegisterModel": {"Arn": arn}}}
    events = OutletEventAccessors()
    extra = emit_registration_event(register, {"outlet_events": events})
    assert extra == registration_extra(package, "exec-arn", "register")
    [outlet] = register.outlets
    if dynamic:  # the alias gets the actual group's asset, with the extra
        accessor = events[outlet]
        if hasattr(accessor, "asset_alias_events"):
            [added] = accessor.asset_alias_events
            uri = added.dest_asset_key.uri
        else:  # Airflow 2.11: datasets
            [added] = accessor.dataset_alias_events
            uri = added["dest_dataset_uri"]
        assert (uri, added.extra if hasattr(added, "extra") else added["extra"]) == (
            "x-sagemaker-model-package-group://churn-models", extra)
    else:
        assert events[outlet].extra == extra
    # A step that registered nothing (no ARN in its metadata) adds nothing.
    register.sagemaker_step = {"StepName": "register", "Metadata": {}}
    assert emit_registration_event(register, {"outlet_events": OutletEventAccessors()}) is None
