"""AWS RAM for SageMaker pipelines: resource shares, invitations, and what a share lets another account do.

moto's RAM refuses the ``sagemaker:Pipeline`` resource type, so the engine answers RAM itself (REST-JSON,
``/createresourceshare`` and friends) for pipeline shares. As AWS documents for pipelines: sharing a
pipeline shares all its executions; the consumer account must accept the invitation; the default
permission (``AWSRAMDefaultPermissionSageMakerPipeline``) is read-only, the extended one
(``AWSRAMPermissionSageMakerPipelineAllowExecution``) also lets the consumer start, stop and retry
executions, which then run in the owner's account with the owner's pipeline role.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from .errors import ServiceError

PERMISSION_PREFIX = "arn:aws:ram::aws:permission/"
READ_ONLY = PERMISSION_PREFIX + "AWSRAMDefaultPermissionSageMakerPipeline"
ALLOW_EXECUTION = PERMISSION_PREFIX + "AWSRAMPermissionSageMakerPipelineAllowExecution"

READ_ACTIONS = frozenset(
    {
        "DescribePipeline",
        "DescribePipelineDefinitionForExecution",
        "DescribePipelineExecution",
        "ListPipelineExecutions",
        "ListPipelineExecutionSteps",
        "ListPipelineParametersForExecution",
        "Search",
    }
)
EXECUTION_ACTIONS = READ_ACTIONS | {
    "StartPipelineExecution",
    "StopPipelineExecution",
    "RetryPipelineExecution",
    "UpdatePipelineExecution",
    "SendPipelineExecutionStepSuccess",
    "SendPipelineExecutionStepFailure",
}
PERMISSIONS = {READ_ONLY: READ_ACTIONS, ALLOW_EXECUTION: EXECUTION_ACTIONS}


class RamError(ServiceError):
    status = 400

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.status = code, status


@dataclass
class Share:
    arn: str
    name: str
    owner: str
    region: str
    resources: list[str]
    permissions: list[str]
    principals: dict[str, str]  # account id -> ASSOCIATING (invited) | ASSOCIATED | DISASSOCIATED
    invitations: dict[str, dict[str, Any]] = field(default_factory=dict)  # invitation arn -> view
    status: str = "ACTIVE"
    allow_external: bool = True
    tags: list[dict[str, str]] = field(default_factory=list)
    created: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))


class Ram:
    """Resource shares of SageMaker pipelines, per owner account."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.shares: dict[str, Share] = {}

    # ---- what the engine asks ---------------------------------------------------------------------

    def allows(self, account: str, pipeline_arn: str, operation: str) -> bool:
        """Whether ``account`` may call ``operation`` on the pipeline (or its executions) through a share."""
        with self.lock:
            for share in self.shares.values():
                if share.status != "ACTIVE" or share.principals.get(account) != "ASSOCIATED":
                    continue
                if not any(r.lower() == pipeline_arn.lower() for r in share.resources):
                    continue
                if any(operation in PERMISSIONS.get(p, ()) for p in share.permissions):
                    return True
        return False

    # ---- the RAM API ------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: str, body: bytes, caller: Any, region: str) -> dict[str, Any]:
        operation = path.strip("/").lower()
        data: dict[str, Any] = json.loads(body or b"{}") if method != "DELETE" else {}
        if method == "DELETE":
            data = {k: v[0] for k, v in parse_qs(query).items()}
        handler = getattr(self, f"_op_{operation}", None)
        if handler is None:
            raise RamError(
                "OperationNotPermittedException",
                f"the local engine's RAM models SageMaker pipeline shares only; {operation!r} is not supported",
            )
        with self.lock:
            return handler(data, caller, region)

    def _op_createresourceshare(self, data: dict[str, Any], caller: Any, region: str) -> dict[str, Any]:
        name = data.get("name")
        if not name:
            raise RamError("MissingRequiredParameterException", "name is required")
        resources = list(data.get("resourceArns") or [])
        for arn in resources:
            self._check_pipeline(arn, caller.account_id, region)
        permissions = list(data.get("permissionArns") or [READ_ONLY])
        for permission in permissions:
            if permission.split(":permission/")[-1].split("/")[0] not in {p.split("/")[-1] for p in PERMISSIONS}:
                raise RamError(
                    "UnknownResourceException",
                    f"permission {permission!r} does not apply to sagemaker:Pipeline; use {READ_ONLY} or "
                    f"{ALLOW_EXECUTION}",
                )
        share = Share(
            arn=f"arn:aws:ram:{region}:{caller.account_id}:resource-share/{uuid.uuid4()}",
            name=name,
            owner=caller.account_id,
            region=region,
            resources=resources,
            permissions=[p if p.startswith(PERMISSION_PREFIX) else PERMISSION_PREFIX + p for p in permissions],
            principals={},
            allow_external=bool(data.get("allowExternalPrincipals", True)),
            tags=list(data.get("tags") or []),
        )
        self._invite(share, data.get("principals") or [], caller)
        self.shares[share.arn] = share
        return {"resourceShare": self._share_view(share), "clientToken": data.get("clientToken")}

    def _op_associateresourceshare(self, data: dict[str, Any], caller: Any, region: str) -> dict[str, Any]:
        share = self._owned(data.get("resourceShareArn"), caller)
        for arn in data.get("resourceArns") or []:
            self._check_pipeline(arn, caller.account_id, region)
            if arn not in share.resources:
                share.resources.append(arn)
        self._invite(share, data.get("principals") or [], caller)
        return {"resourceShareAssociations": self._associations(share), "clientToken": data.get("clientToken")}

    def _op_disassociateresourceshare(self, data: dict[str, Any], caller: Any, region: str) -> dict[str, Any]:
        share = self._owned(data.get("resourceShareArn"), caller)
        for arn in data.get("resourceArns") or []:
            if arn in share.resources:
                share.resources.remove(arn)
        for principal in data.get("principals") or []:
            if principal in share.principals:
                share.principals[principal] = "DISASSOCIATED"
        return {"resourceShareAssociations": self._associations(share), "clientToken": data.get("clientToken")}

    def _op_deleteresourceshare(self, data: dict[str, Any], caller: Any, region: str) -> dict[str, Any]:
        share = self._owned(data.get("resourceShareArn"), caller)
        share.status = "DELETED"
        return {"returnValue": True, "clientToken": data.get("clientToken")}

    def _op_getresourceshares(self, data: dict[str, Any], caller: Any, region: str) -> dict[str, Any]:
        owner = data.get("resourceOwner")
        if owner not in ("SELF", "OTHER-ACCOUNTS"):
            raise RamError("InvalidParameterException", "resourceOwner must be SELF or OTHER-ACCOUNTS")
        wanted = set(data.get("resourceShareArns") or [])
        shares = [
            s
            for s in self.shares.values()
            if self._visible(s, caller.account_id, owner)
            and (not wanted or s.arn in wanted)
            and (not data.get("name") or s.name == data["name"])
            and (not data.get("resourceShareStatus") or s.status == data["resourceShareStatus"])
        ]
        return {"resourceShares": [self._share_view(s) for s in shares]}

    def _op_getresourceshareinvitations(self, data: dict[str, Any], caller: Any, region: str) -> dict[str, Any]:
        wanted = set(data.get("resourceShareInvitationArns") or [])
        shares = set(data.get("resourceShareArns") or [])
        found = [
            dict(invitation)
            for share in self.shares.values()
            for invitation in share.invitations.values()
            if caller.account_id in (invitation["receiverAccountId"], invitation["senderAccountId"])
            and (not wanted or invitation["resourceShareInvitationArn"] in wanted)
            and (not shares or share.arn in shares)
        ]
        return {"resourceShareInvitations": found}

    def _op_acceptresourceshareinvitation(self, data: dict[str, Any], caller: Any, region: str) -> dict[str, Any]:
        return self._answer(data, caller, "ACCEPTED")

    def _op_rejectresourceshareinvitation(self, data: dict[str, Any], caller: Any, region: str) -> dict[str, Any]:
        return self._answer(data, caller, "REJECTED")

    def _op_listresources(self, data: dict[str, Any], caller: Any, region: str) -> dict[str, Any]:
        owner = data.get("resourceOwner")
        if owner not in ("SELF", "OTHER-ACCOUNTS"):
            raise RamError("InvalidParameterException", "resourceOwner must be SELF or OTHER-ACCOUNTS")
        resources = []
        for share in self.shares.values():
            if not self._visible(share, caller.account_id, owner) or share.status != "ACTIVE":
                continue
            for arn in share.resources:
                resources.append(
                    {
                        "arn": arn,
                        "type": "sagemaker:Pipeline",
                        "resourceShareArn": share.arn,
                        "status": "AVAILABLE",
                        "creationTime": share.created.timestamp(),
                        "lastUpdatedTime": share.created.timestamp(),
                    }
                )
        return {"resources": resources}

    def _op_listpermissions(self, data: dict[str, Any], caller: Any, region: str) -> dict[str, Any]:
        return {
            "permissions": [
                {"arn": arn, "name": arn.split("/")[-1], "resourceType": "sagemaker:Pipeline",
                 "defaultVersion": True, "isResourceTypeDefault": arn == READ_ONLY, "status": "ATTACHABLE"}
                for arn in PERMISSIONS
            ]
        }

    # ---- helpers ----------------------------------------------------------------------------------

    @staticmethod
    def _visible(share: Share, account: str, owner: str) -> bool:
        if owner == "SELF":
            return share.owner == account
        return share.principals.get(account) == "ASSOCIATED"

    @staticmethod
    def _check_pipeline(arn: str, account: str, region: str) -> None:
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[2] != "sagemaker" or not parts[5].startswith("pipeline/"):
            raise RamError(
                "MalformedArnException",
                f"{arn!r} is not a SageMaker pipeline ARN; the local engine's RAM shares pipelines only",
            )
        if parts[4] != account:
            raise RamError("UnknownResourceException", f"{arn} is not owned by account {account}")
        if parts[3] != region:
            raise RamError("UnknownResourceException", f"{arn} is not in region {region}")

    def _invite(self, share: Share, principals: list[str], caller: Any) -> None:
        for principal in principals:
            if not (len(principal) == 12 and principal.isdigit()):
                raise RamError(
                    "InvalidParameterException",
                    f"principal {principal!r}: the local engine shares pipelines with AWS account IDs only",
                )
            if principal == caller.account_id:
                raise RamError("InvalidParameterException", "a resource share cannot include its owner account")
            if not share.allow_external:
                raise RamError(
                    "OperationNotPermittedException",
                    f"account {principal} is outside the owner's organization and allowExternalPrincipals is false",
                )
            if share.principals.get(principal) in ("ASSOCIATING", "ASSOCIATED"):
                continue  # already invited or a member: no second invitation
            share.principals[principal] = "ASSOCIATING"
            arn = f"arn:aws:ram:{share.region}:{share.owner}:resource-share-invitation/{uuid.uuid4()}"
            share.invitations[arn] = {
                "resourceShareInvitationArn": arn,
                "resourceShareName": share.name,
                "resourceShareArn": share.arn,
                "senderAccountId": share.owner,
                "receiverAccountId": principal,
                "invitationTimestamp": dt.datetime.now(dt.timezone.utc).timestamp(),
                "status": "PENDING",
            }

    def _answer(self, data: dict[str, Any], caller: Any, status: str) -> dict[str, Any]:
        arn = data.get("resourceShareInvitationArn")
        for share in self.shares.values():
            invitation = share.invitations.get(arn or "")
            if invitation is None:
                continue
            if invitation["receiverAccountId"] != caller.account_id:
                raise RamError(
                    "OperationNotPermittedException",
                    f"invitation {arn} was sent to account {invitation['receiverAccountId']}, "
                    f"not to {caller.account_id}",
                )
            if invitation["status"] != "PENDING":
                raise RamError(
                    "ResourceShareInvitationAlreadyAcceptedException"
                    if invitation["status"] == "ACCEPTED"
                    else "ResourceShareInvitationAlreadyRejectedException",
                    f"invitation {arn} is already {invitation['status']}",
                )
            invitation["status"] = status
            share.principals[caller.account_id] = "ASSOCIATED" if status == "ACCEPTED" else "DISASSOCIATED"
            return {"resourceShareInvitation": dict(invitation), "clientToken": data.get("clientToken")}
        raise RamError("UnknownResourceException", f"no resource share invitation {arn!r}")

    def _owned(self, arn: Any, caller: Any) -> Share:
        share = self.shares.get(arn or "")
        if share is None or share.status == "DELETED":
            raise RamError("UnknownResourceException", f"no resource share {arn!r}")
        if share.owner != caller.account_id:
            raise RamError("OperationNotPermittedException", f"resource share {arn} is owned by {share.owner}")
        return share

    @staticmethod
    def _share_view(share: Share) -> dict[str, Any]:
        return {
            "resourceShareArn": share.arn,
            "name": share.name,
            "owningAccountId": share.owner,
            "allowExternalPrincipals": share.allow_external,
            "status": share.status,
            "tags": share.tags,
            "creationTime": share.created.timestamp(),
            "lastUpdatedTime": share.created.timestamp(),
            "featureSet": "STANDARD",
        }

    @staticmethod
    def _associations(share: Share) -> list[dict[str, Any]]:
        return [
            {"resourceShareArn": share.arn, "associatedEntity": p, "associationType": "PRINCIPAL", "status": s}
            for p, s in share.principals.items()
        ] + [
            {"resourceShareArn": share.arn, "associatedEntity": r, "associationType": "RESOURCE",
             "status": "ASSOCIATED"}
            for r in share.resources
        ]

