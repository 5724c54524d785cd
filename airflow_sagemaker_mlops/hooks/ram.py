"""AWS RAM for SageMaker pipelines: share a pipeline with other accounts, accept a share's invitation.

SageMaker documents two RAM permissions for pipelines: the default one is read-only (describe and list the
pipeline and its executions); the extended one also starts, stops and retries executions, which run in the
owner's account with the owner's pipeline role.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from botocore.exceptions import ClientError

from .errors import wrap_client_error

log = logging.getLogger(__name__)

PERMISSION_PREFIX = "arn:aws:ram::aws:permission/"
PERMISSIONS = {
    "read-only": PERMISSION_PREFIX + "AWSRAMDefaultPermissionSageMakerPipeline",
    "execution": PERMISSION_PREFIX + "AWSRAMPermissionSageMakerPipelineAllowExecution",
}


def permission_arn(permission: str) -> str:
    """``read-only`` | ``execution`` | the full ARN of one of the two -> the ARN; anything else: ValueError."""
    if permission in PERMISSIONS:
        return PERMISSIONS[permission]
    if permission in PERMISSIONS.values():
        return permission
    raise ValueError(
        f"permission {permission!r} is not a SageMaker pipeline permission: use 'read-only', 'execution' or "
        f"one of {sorted(PERMISSIONS.values())}"
    )


class SageMakerPipelineShareHook(AwsBaseHook):
    """RAM calls for pipeline shares (``client_type="ram"``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["client_type"] = "ram"
        super().__init__(*args, **kwargs)

    def share(self, name: str, pipeline_arn: str, principals: list[str], permission: str) -> str:
        """Create the share ``name`` (or add the pipeline and principals to the owner's share of that name).

        Args:
            name: the resource share's name.
            pipeline_arn: the pipeline's ARN.
            principals: the AWS account IDs to share with.
            permission: the RAM permission's ARN.
        """
        permission = permission_arn(permission)
        try:
            existing = [
                s
                for s in self.conn.get_resource_shares(resourceOwner="SELF", name=name)["resourceShares"]
                if s["status"] == "ACTIVE"
            ]
            if existing:
                arn = str(existing[0]["resourceShareArn"])
                self.conn.associate_resource_share(
                    resourceShareArn=arn, resourceArns=[pipeline_arn], principals=list(principals)
                )
                log.info("Resource share %s exists: added %s for %s", arn, pipeline_arn, ", ".join(principals))
                return arn
            created = self.conn.create_resource_share(
                name=name,
                resourceArns=[pipeline_arn],
                principals=list(principals),
                permissionArns=[permission],
                allowExternalPrincipals=True,
            )
        except ClientError as exc:
            raise wrap_client_error(exc) from exc
        arn = str(created["resourceShare"]["resourceShareArn"])
        log.info("Shared %s with %s (%s): %s", pipeline_arn, ", ".join(principals), permission, arn)
        return arn

    def accept(
        self, share_arn: str | None = None, sender_account: str | None = None, share_name: str | None = None
    ) -> list[str]:
        """Accept the pending invitations that match; returns the share ARNs now accepted (also earlier ones).

        Args:
            share_arn: only the invitation to this share.
            sender_account: only invitations from this account.
            share_name: only invitations to a share of this name.
        """
        try:
            request = {"resourceShareArns": [share_arn]} if share_arn else {}
            invitations = self.conn.get_resource_share_invitations(**request)["resourceShareInvitations"]
        except ClientError as exc:
            raise wrap_client_error(exc) from exc
        matching = [
            i
            for i in invitations
            if (not sender_account or i["senderAccountId"] == sender_account)
            and (not share_name or i["resourceShareName"] == share_name)
            and i["status"] in ("PENDING", "ACCEPTED")
        ]
        accepted = []
        for invitation in matching:
            if invitation["status"] == "PENDING":
                try:
                    self.conn.accept_resource_share_invitation(
                        resourceShareInvitationArn=invitation["resourceShareInvitationArn"]
                    )
                except ClientError as exc:
                    raise wrap_client_error(exc) from exc
                log.info("Accepted the invitation to %s from %s", invitation["resourceShareArn"],
                         invitation["senderAccountId"])
            if invitation["resourceShareArn"] not in accepted:
                accepted.append(str(invitation["resourceShareArn"]))
        return accepted
