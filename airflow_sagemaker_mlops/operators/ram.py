"""Share a pipeline with other accounts (AWS RAM) and accept such a share, as Airflow tasks.

The owner account runs :class:`SageMakerSharePipelineOperator`; the consumer account runs
:class:`SageMakerAcceptPipelineShareOperator`, then starts, senses, branches on, stops or retries the
pipeline by its ARN with the lifecycle operators (docs/iam.md, "Cross-account pipelines").
"""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator

from airflow_sagemaker_mlops.compat import AirflowException
from airflow_sagemaker_mlops.hooks.pipelines import SageMakerPipelinesHook
from airflow_sagemaker_mlops.hooks.ram import SageMakerPipelineShareHook, permission_arn
from airflow_sagemaker_mlops.hooks.settings import AWS_TEMPLATE_FIELDS, AwsClientSettings, check_task_settings
from airflow_sagemaker_mlops.location import locate_keyword_errors, located


@locate_keyword_errors
class SageMakerSharePipelineOperator(AwsBaseOperator[SageMakerPipelineShareHook]):
    """Share ``pipeline`` (name or ARN) with AWS accounts through the RAM resource share ``share_name``.

    ``permission``: ``"read-only"`` (AWSRAMDefaultPermissionSageMakerPipeline: describe and list) or
    ``"execution"`` (AWSRAMPermissionSageMakerPipelineAllowExecution: also start, stop, retry), or either ARN.
    Idempotent: an existing active share of that name gets the pipeline and principals added. Returns the
    share's ARN.

    Args:
        pipeline: the pipeline's name or ARN. Templated.
        principals: the 12-digit AWS account IDs to share with. Templated.
        permission: ``"read-only"``, ``"execution"`` or a RAM permission ARN.
        share_name: the resource share's name (default ``sagemaker-pipeline-<pipeline name>``). Templated.
    """

    aws_hook_class = SageMakerPipelineShareHook
    template_fields = (*AWS_TEMPLATE_FIELDS, "pipeline", "principals", "share_name")

    def __init__(
        self,
        *,
        pipeline: str,
        principals: list[str],
        permission: str = "read-only",
        share_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_task_settings(self)
        try:
            self.permission = permission_arn(permission)
        except ValueError as exc:
            raise located(str(exc), task_id=self.task_id, field="permission") from None
        if isinstance(principals, str) or not principals:
            raise located("principals must be a non-empty list of AWS account IDs", task_id=self.task_id,
                          field="principals")
        self.pipeline = pipeline
        self.principals = principals
        self.share_name = share_name

    def execute(self, context: Any) -> str:
        bad = [p for p in self.principals if not (isinstance(p, str) and len(p) == 12 and p.isdigit())]
        if bad:
            raise AirflowException(f"task {self.task_id}: principals must be 12-digit AWS account IDs, got {bad}")
        arn = self.pipeline
        if not arn.startswith("arn:"):
            arn = AwsClientSettings.of(self).hook(SageMakerPipelinesHook).conn.describe_pipeline(
                PipelineName=self.pipeline
            )["PipelineArn"]
        name = self.share_name or f"sagemaker-pipeline-{arn.rsplit('/', 1)[-1]}"
        return self.hook.share(name, arn, list(self.principals), self.permission)


@locate_keyword_errors
class SageMakerAcceptPipelineShareOperator(AwsBaseOperator[SageMakerPipelineShareHook]):
    """Accept the RAM invitation(s) to a pipeline share, in the consumer account.

    Narrow by ``share_arn`` (e.g. the share task's XCom), ``sender_account`` or ``share_name``; at least one
    is required. Already accepted invitations count as success; none at all fails the task (the share may
    not exist yet, or was sent to another account). Returns the accepted share ARNs.

    Args:
        share_arn: accept only the invitation to this share. Templated.
        sender_account: accept only invitations from this account. Templated.
        share_name: accept only invitations to a share of this name. Templated.
    """

    aws_hook_class = SageMakerPipelineShareHook
    template_fields = (*AWS_TEMPLATE_FIELDS, "share_arn", "sender_account", "share_name")

    def __init__(
        self,
        *,
        share_arn: str | None = None,
        sender_account: str | None = None,
        share_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_task_settings(self)
        if not (share_arn or sender_account or share_name):
            raise located("give share_arn, sender_account or share_name", task_id=self.task_id)
        self.share_arn = share_arn
        self.sender_account = sender_account
        self.share_name = share_name

    def execute(self, context: Any) -> list[str]:
        accepted = self.hook.accept(self.share_arn, self.sender_account, self.share_name)
        if not accepted:
            raise AirflowException(
                f"task {self.task_id}: no resource share invitation matches share_arn={self.share_arn!r}, "
                f"sender_account={self.sender_account!r}, share_name={self.share_name!r} for this account"
            )
        return accepted
