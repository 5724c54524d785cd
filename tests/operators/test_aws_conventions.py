"""Every AWS task takes what the Amazon provider's AWS operators take (aws_conn_id, region_name, verify,
botocore_config), is built on its AwsBaseOperator/AwsBaseSensor, and hands the settings to every client and
trigger: a proxy or a private CA set on a task also holds in the triggerer."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.sensors.base_aws import AwsBaseSensor

from airflow_sagemaker_mlops import (
    ProcessingStep,
    SageMakerAcceptPipelineShareOperator,
    SageMakerApproveModelPackageOperator,
    SageMakerListModelPackageVersionsOperator,
    SageMakerModelPackageApprovalSensor,
    SageMakerPipelineCallbackOperator,
    SageMakerPipelineConditionBranchOperator,
    SageMakerPipelineExecutionSensor,
    SageMakerPipelineGroup,
    SageMakerPipelineStepSensor,
    SageMakerRejectModelPackageOperator,
    SageMakerRetryPipelineExecutionOperator,
    SageMakerSharePipelineOperator,
    SageMakerStartPipelineExecutionOperator,
    SageMakerStopPipelineExecutionOperator,
    SageMakerUpdateModelPackageApprovalOperator,
)
from airflow_sagemaker_mlops.compat import DAG, TaskDeferred
from airflow_sagemaker_mlops.exceptions import PipelineCompileError
from airflow_sagemaker_mlops.hooks.settings import AwsClientSettings
from airflow_sagemaker_mlops.operators import runtime
from airflow_sagemaker_mlops.triggers import pipelines as pipeline_triggers

ARN = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/p/execution/abc"
PACKAGE = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/g/1"
ROLE = "arn:aws:iam::123456789012:role/SageMakerPipeline"
SETTINGS = {"aws_conn_id": "aws_ml", "region_name": "eu-west-1", "verify": "/etc/ssl/corp-ca.pem",
            "botocore_config": {"connect_timeout": 3, "proxies": {"https": "http://proxy.corp:3128"}}}

TASKS: list[tuple[type, dict[str, Any]]] = [
    (SageMakerStartPipelineExecutionOperator, {"pipeline": "p"}),
    (SageMakerRetryPipelineExecutionOperator, {"execution_arn": ARN}),
    (SageMakerStopPipelineExecutionOperator, {"execution_arn": ARN}),
    (SageMakerPipelineCallbackOperator, {"execution_arn": ARN, "step_name": "s", "python_callable": dict}),
    (SageMakerPipelineExecutionSensor, {"execution_arn": ARN}),
    (SageMakerPipelineStepSensor, {"execution_arn": ARN, "step_name": "s"}),
    (SageMakerPipelineConditionBranchOperator, {"execution_arn": ARN, "step_name": "s"}),
    (SageMakerModelPackageApprovalSensor, {"model_package_arn": PACKAGE}),
    (SageMakerListModelPackageVersionsOperator, {"model_package_group": "g"}),
    (SageMakerUpdateModelPackageApprovalOperator, {"model_package_arn": PACKAGE, "approval_status": "Approved"}),
    (SageMakerApproveModelPackageOperator, {"model_package_arn": PACKAGE}),
    (SageMakerRejectModelPackageOperator, {"model_package_arn": PACKAGE}),
    (SageMakerSharePipelineOperator, {"pipeline": "p", "principals": ["210987654321"]}),
    (SageMakerAcceptPipelineShareOperator, {"share_name": "s"}),
]


@pytest.mark.parametrize(("cls", "kwargs"), TASKS, ids=[cls.__name__ for cls, _ in TASKS])
def test_every_aws_task_is_a_provider_aws_task_with_its_four_settings(cls: type, kwargs: dict[str, Any]) -> None:
    task = cls(task_id="t", **kwargs, **SETTINGS)
    assert isinstance(task, AwsBaseOperator | AwsBaseSensor)
    assert {"aws_conn_id", "region_name", "verify"} <= set(task.template_fields)
    assert AwsClientSettings.of(task) == AwsClientSettings(**SETTINGS)
    hook = task.hook
    assert hook.aws_conn_id == "aws_ml" and hook.region_name == "eu-west-1" and hook.verify == SETTINGS["verify"]
    assert hook.config.connect_timeout == 3 and hook.config.proxies == SETTINGS["botocore_config"]["proxies"]


@pytest.mark.parametrize(("cls", "kwargs"), TASKS[:3], ids=[cls.__name__ for cls, _ in TASKS[:3]])
def test_a_botocore_option_typo_is_named_at_parse_time(cls: type, kwargs: dict[str, Any]) -> None:
    with pytest.raises(PipelineCompileError, match="'conect_timeout' is not a botocore Config option; did you "
                                                   "mean 'connect_timeout'") as exc:
        cls(task_id="t", **kwargs, botocore_config={"conect_timeout": 3})
    assert exc.value.dag_file == __file__ and exc.value.lineno and exc.value.task_id == "t"
    assert exc.value.field == "botocore_config.conect_timeout"


def test_the_provider_default_connection_and_region_apply() -> None:
    task = SageMakerStopPipelineExecutionOperator(task_id="t", execution_arn=ARN)
    assert AwsClientSettings.of(task) == AwsClientSettings("aws_default", None, None, None)


@pytest.fixture
def running(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every execution is still running: the task defers (no AWS call is made)."""
    monkeypatch.setattr(pipeline_triggers, "check_once", lambda *args, **kwargs: None)


def test_sensors_hand_the_settings_to_their_trigger(running: None) -> None:
    for task in (SageMakerPipelineStepSensor(task_id="s", execution_arn=ARN, step_name="fit", **SETTINGS),
                 SageMakerPipelineExecutionSensor(task_id="e", execution_arn=ARN, **SETTINGS)):
        with pytest.raises(TaskDeferred) as deferred:
            task.execute({})
        _, kwargs = deferred.value.trigger.serialize()
        assert {k: kwargs[k] for k in SETTINGS} == SETTINGS


def test_a_group_hands_the_settings_to_its_start_task_step_tasks_and_their_triggers(
    running: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with DAG("d", schedule=None), SageMakerPipelineGroup(group_id="g", pipeline_name="p", role_arn=ROLE,
                                                         **SETTINGS) as group:
        step = ProcessingStep(task_id="prep", job={"AppSpecification": {"ImageUri": "i"}, "RoleArn": ROLE,
                                                   "ProcessingResources": {"ClusterConfig": {
                                                       "InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                       "VolumeSizeInGB": 30}}})
    start = group.children["g.start"]
    assert AwsClientSettings.of(start) == AwsClientSettings(**SETTINGS)
    assert {"aws_conn_id", "region_name", "verify", "botocore_config"} <= set(start.template_fields)
    monkeypatch.setattr(runtime, "execution_arn_of", lambda *args: ARN)
    ti = type("TI", (), {"max_tries": 0, "xcom_push": lambda self, key, value: None})()
    with pytest.raises(TaskDeferred) as deferred:
        runtime.run_step(step, {"ti": ti})
    _, kwargs = deferred.value.trigger.serialize()
    assert {k: kwargs[k] for k in SETTINGS} == SETTINGS


def test_a_group_names_a_bad_setting_at_its_line() -> None:
    with pytest.raises(PipelineCompileError, match="group 'g', field verify: verify must be True, False") as exc:
        with DAG("d", schedule=None), SageMakerPipelineGroup(group_id="g", pipeline_name="p", role_arn=ROLE,
                                                             verify=1):
            pass
    assert exc.value.dag_file == __file__ and exc.value.lineno
