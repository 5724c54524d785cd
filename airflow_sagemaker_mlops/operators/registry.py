"""Operators on the SageMaker Model Registry: list a group's versions, approve or reject a version.

They work on any model package group, not only those a SageMakerPipelineGroup registers to. Version
summaries (ARN, version, approval status, creation time, metrics) are described in hooks/registry.py.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator

from airflow_sagemaker_mlops.compat import AirflowException
from airflow_sagemaker_mlops.hooks.registry import APPROVAL_STATUSES, SageMakerModelRegistryHook
from airflow_sagemaker_mlops.hooks.settings import AWS_TEMPLATE_FIELDS, check_task_settings
from airflow_sagemaker_mlops.location import locate_keyword_errors, located


class _RegistryOperator(AwsBaseOperator[SageMakerModelRegistryHook]):
    """Takes what the Amazon provider's AWS operators take (``aws_conn_id``, ``region_name``, ``verify``,
    ``botocore_config``); ``self.hook`` is the task's SageMakerModelRegistryHook."""

    aws_hook_class = SageMakerModelRegistryHook
    ui_color = "#c7e9c0"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_task_settings(self)


@locate_keyword_errors
class SageMakerListModelPackageVersionsOperator(_RegistryOperator):
    """List the versions of ``model_package_group`` (templated), newest first; XCom: the list of summaries.

    Args:
        approval_status: only versions with this ModelApprovalStatus.
        max_versions: at most this many (the newest).
        load_metrics: also read the JSON documents ``ModelMetrics`` points at into ``Metrics``.
        model_package_group: the model package group's name (or ARN). Templated.
    """

    template_fields = (*AWS_TEMPLATE_FIELDS, "model_package_group", "approval_status")

    def __init__(self, *, model_package_group: str, approval_status: str | None = None,
                 max_versions: int | None = None, load_metrics: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model_package_group = model_package_group
        self.approval_status = approval_status
        self.max_versions = max_versions
        self.load_metrics = load_metrics

    def execute(self, context: Any) -> list[dict[str, Any]]:
        try:
            versions = self.hook.list_versions(self.model_package_group, approval_status=self.approval_status or None,
                                               max_versions=self.max_versions, load_metrics=self.load_metrics)
        except ValueError as exc:  # a bad approval_status, before any call
            raise AirflowException(f"{self.task_id}: {exc}") from None
        for v in versions:
            self.log.info("%s v%s %s (created %s)", v["ModelPackageGroupName"], v["ModelPackageVersion"],
                          v["ModelApprovalStatus"], v["CreationTime"])
        return versions


@locate_keyword_errors
class SageMakerUpdateModelPackageApprovalOperator(_RegistryOperator):
    """Set a version's ModelApprovalStatus (``Approved``, ``Rejected`` or ``PendingManualApproval``) with an
    optional ApprovalDescription; XCom: the version's summary afterwards.

    ``model_package_arn`` and ``approval_description`` are templated: the ARN typically comes from a
    RegisterModelStep's XCom or from the triggering asset event.

    Args:
        model_package_arn: the version to update. Templated.
        approval_status: ``Approved``, ``Rejected`` or ``PendingManualApproval`` (checked at parse time).
        approval_description: ``ApprovalDescription``. Templated.
    """

    template_fields = (*AWS_TEMPLATE_FIELDS, "model_package_arn", "approval_description")

    def __init__(self, *, model_package_arn: str, approval_status: str, approval_description: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if approval_status not in APPROVAL_STATUSES:  # a DAG-file mistake: name it at parse time
            raise located(f"approval_status {approval_status!r} is not one of {', '.join(APPROVAL_STATUSES)}",
                          task_id=self.task_id, field="approval_status")
        self.model_package_arn = model_package_arn
        self.approval_status = approval_status
        self.approval_description = approval_description

    def execute(self, context: Any) -> dict[str, Any]:
        if not self.model_package_arn:
            raise AirflowException(f"{self.task_id}: model_package_arn is empty")
        version = self.hook.set_approval(self.model_package_arn, self.approval_status,
                                         self.approval_description or None)
        self.log.info("%s is now %s (%s)", self.model_package_arn, version["ModelApprovalStatus"],
                      version.get("ApprovalDescription") or "no description")
        return version


@locate_keyword_errors
class SageMakerApproveModelPackageOperator(SageMakerUpdateModelPackageApprovalOperator):
    """Approve a model package version (see :class:`SageMakerUpdateModelPackageApprovalOperator`).

    Args:
        model_package_arn: the version. Templated.
        approval_description: ``ApprovalDescription``. Templated.
    """

    def __init__(self, *, model_package_arn: str, approval_description: str | None = None, **kwargs: Any) -> None:
        super().__init__(model_package_arn=model_package_arn, approval_status="Approved",
                         approval_description=approval_description, **kwargs)


@locate_keyword_errors
class SageMakerRejectModelPackageOperator(SageMakerUpdateModelPackageApprovalOperator):
    """Reject a model package version (see :class:`SageMakerUpdateModelPackageApprovalOperator`).

    Args:
        model_package_arn: the version. Templated.
        approval_description: ``ApprovalDescription``. Templated.
    """

    def __init__(self, *, model_package_arn: str, approval_description: str | None = None, **kwargs: Any) -> None:
        super().__init__(model_package_arn=model_package_arn, approval_status="Rejected",
                         approval_description=approval_description, **kwargs)
