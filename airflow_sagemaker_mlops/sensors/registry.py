"""A sensor that waits for a model package version to be approved in the SageMaker Model Registry.

Deferred to the triggerer by default; ``deferrable=False`` polls on a worker in ``poke`` or ``reschedule``
mode. A version that is (or becomes) Rejected fails the task at once, without retries, naming the version
and the reviewer's ApprovalDescription. The XCom value is the approved version's summary.
"""

from __future__ import annotations

import datetime
from typing import Any

from airflow.providers.amazon.aws.sensors.base_aws import AwsBaseSensor

from airflow_sagemaker_mlops.compat import (
    AirflowException,
    AirflowFailException,
    PokeReturnValue,
)
from airflow_sagemaker_mlops.hooks.registry import SageMakerModelRegistryHook
from airflow_sagemaker_mlops.hooks.settings import AWS_TEMPLATE_FIELDS, AwsClientSettings, check_task_settings
from airflow_sagemaker_mlops.location import locate_keyword_errors


@locate_keyword_errors
class SageMakerModelPackageApprovalSensor(AwsBaseSensor[SageMakerModelRegistryHook]):
    """Wait until ``model_package_arn`` (templated) is Approved; fail if it is Rejected.

    Args:
        poll_interval: seconds between DescribeModelPackage calls (trigger and poke alike).
        model_package_arn: the model package version to watch. Templated.
        deferrable: wait in the triggerer (default) or poke on a worker.
    """

    aws_hook_class = SageMakerModelRegistryHook
    template_fields = (*AWS_TEMPLATE_FIELDS, "model_package_arn")
    ui_color = "#c7e9c0"

    def __init__(self, *, model_package_arn: str, deferrable: bool = True, poll_interval: float = 30.0,
                 **kwargs: Any) -> None:
        kwargs.setdefault("poke_interval", poll_interval)
        super().__init__(**kwargs)
        check_task_settings(self)
        self.model_package_arn = model_package_arn
        self.deferrable = deferrable
        self.poll_interval = poll_interval

    def _check(self) -> dict[str, Any] | None:
        from airflow_sagemaker_mlops.triggers.registry import approval_event

        if not self.model_package_arn:
            raise AirflowFailException("model_package_arn is empty: nothing to wait for")
        version = self.hook.describe_version(self.model_package_arn)
        return approval_event(self.model_package_arn, version)

    def execute(self, context: Any) -> Any:
        if not self.deferrable:
            return super().execute(context)
        done = self._check()
        if done is not None:  # already decided: no round trip through the triggerer
            return self.execute_complete(context, done)
        from airflow_sagemaker_mlops.triggers.registry import ModelPackageApprovalTrigger

        self.log.info("Waiting (deferred) for %s to be approved", self.model_package_arn)
        self.defer(trigger=ModelPackageApprovalTrigger(self.model_package_arn,
                                                       **AwsClientSettings.of(self).as_kwargs(),
                                                       poll_interval=self.poll_interval),
                   # The sensor's own timeout (BaseSensorOperator, 7 days by default) bounds the deferred wait.
                   method_name="execute_complete", timeout=datetime.timedelta(seconds=self.timeout))

    def poke(self, context: Any) -> bool | PokeReturnValue:
        done = self._check()
        if done is None:
            self.log.info("%s is still waiting for approval", self.model_package_arn)
            return False
        return PokeReturnValue(is_done=True, xcom_value=self.execute_complete(context, done))

    def execute_complete(self, context: Any, event: dict[str, Any]) -> dict[str, Any]:
        status = event.get("status")
        version = event.get("version") or {}
        if status == "rejected":
            raise AirflowFailException(
                f"model package {self.model_package_arn} was Rejected"
                f"{': ' + version['ApprovalDescription'] if version.get('ApprovalDescription') else ''}")
        if status != "approved":
            raise AirflowException(event.get("message") or f"waiting for {self.model_package_arn} failed: {event}")
        self.log.info("%s approved (%s)", self.model_package_arn,
                      version.get("ApprovalDescription") or "no description")
        return version
