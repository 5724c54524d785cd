"""SageMakerModelPackageApprovalSensor: deferral, poke mode, and a rejection that fails clearly."""

from __future__ import annotations

import datetime

import pytest
from registry_helpers import make_group

from airflow_sagemaker_mlops.compat import AirflowFailException, PokeReturnValue, TaskDeferred
from airflow_sagemaker_mlops.sensors.registry import SageMakerModelPackageApprovalSensor
from airflow_sagemaker_mlops.triggers.registry import ModelPackageApprovalTrigger


def sensor(arn: str, **kwargs) -> SageMakerModelPackageApprovalSensor:
    return SageMakerModelPackageApprovalSensor(task_id="approved", model_package_arn=arn, aws_conn_id=None,
                                               poll_interval=5, **kwargs)


def test_defers_while_pending_and_finishes_with_the_event(sagemaker_local_engine):
    _, (arn,) = make_group(sagemaker_local_engine, 1)
    with pytest.raises(TaskDeferred) as deferred:
        sensor(arn, timeout=7200).execute({})
    trigger = deferred.value.trigger
    assert isinstance(trigger, ModelPackageApprovalTrigger)
    assert (trigger.model_package_arn, trigger.poll_interval) == (arn, 5)
    assert deferred.value.timeout == datetime.timedelta(hours=2)  # the sensor's timeout bounds the wait
    version = sensor(arn).execute_complete({}, {"status": "approved", "version": {"ModelPackageArn": arn}})
    assert version == {"ModelPackageArn": arn}


def test_an_approved_version_needs_no_deferral(sagemaker_local_engine):
    _, (arn,) = make_group(sagemaker_local_engine, 1)
    sagemaker_local_engine.client("sagemaker").update_model_package(ModelPackageArn=arn,
                                                                    ModelApprovalStatus="Approved")
    assert sensor(arn).execute({})["ModelApprovalStatus"] == "Approved"


def test_poke_mode(sagemaker_local_engine):
    _, (arn,) = make_group(sagemaker_local_engine, 1)
    poking = sensor(arn, deferrable=False, mode="poke")
    assert poking.poke({}) is False
    sagemaker_local_engine.client("sagemaker").update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="ok")
    done = poking.poke({})
    assert isinstance(done, PokeReturnValue) and done.is_done
    assert done.xcom_value["ApprovalDescription"] == "ok"


@pytest.mark.parametrize("deferrable", [True, False])
def test_a_rejected_version_fails_without_retries(sagemaker_local_engine, deferrable):
    _, (arn,) = make_group(sagemaker_local_engine, 1)
    sagemaker_local_engine.client("sagemaker").update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Rejected", ApprovalDescription="AUC below the bar")
    check = sensor(arn, deferrable=deferrable)
    with pytest.raises(AirflowFailException, match=f"model package {arn} was Rejected: AUC below the bar"):
        check.execute({}) if deferrable else check.poke({})


def test_a_trigger_error_fails_the_task(sagemaker_local_engine):
    with pytest.raises(Exception, match="cannot describe"):
        sensor("arn:x").execute_complete({}, {"status": "error", "message": "cannot describe arn:x"})
