"""Opt-in IAM enforcement: every AWS action the engine performs as a role is recorded and evaluated.

Two kinds of principal act on the engine:

* callers of the API (Airflow, the CLI, tests): their access key names an IAM user or an assumed-role
  session in moto (see :mod:`.identity`); their pipeline calls, and the S3 requests that go through to moto,
  are checked against that identity's policies;
* the pipeline execution role and the step (job) roles: what SageMaker does on a pipeline's behalf
  (create jobs, pass roles, read inputs, write outputs and logs, pull images, register models, send
  callback messages, invoke Lambda functions) is checked against the role's policies before the step runs
  the corresponding part.

The decision is moto's own policy evaluator (``moto.iam.access_control.IAMPolicy``) over the identity's
inline and attached policies as stored in moto's IAM: an explicit Deny wins, otherwise some statement must
allow. moto evaluates ``StringEquals`` conditions and ignores other condition operators (``StringLike``
conditions such as ``s3:prefix`` are therefore not enforced here); resource-based policies, permission
boundaries and SCPs are not evaluated. Root credentials (keys moto does not know) are not restricted, as in
AWS.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from .errors import AccessDeniedError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccessRecord:
    principal: str  # the role or user ARN the decision was made for
    action: str
    resource: str
    allowed: bool
    context: tuple[tuple[str, str], ...] = ()
    where: str = ""  # execution/step, or the API operation


@dataclass
class AccessControl:
    """Evaluates and records actions; ``enabled=False`` records nothing and allows everything."""

    enabled: bool = False
    records: list[AccessRecord] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def require(
        self,
        principal_arn: str,
        action: str,
        resource: str,
        *,
        context: dict[str, str] | None = None,
        where: str = "",
        actor: str | None = None,
    ) -> None:
        """Raise AccessDeniedError unless ``principal_arn`` (a role or user ARN) may do ``action``.

        ``actor`` is the ARN put in the error message (an assumed-role session), defaulting to the principal.
        """
        if not self.enabled:
            return
        allowed, why = evaluate(policies_of(principal_arn), action, resource, context)
        record = AccessRecord(principal_arn, action, resource, allowed, tuple(sorted((context or {}).items())), where)
        with self.lock:
            self.records.append(record)
        if not allowed:
            who = actor or principal_arn
            log.info("access denied: %s %s on %s (%s)", who, action, resource, where)
            raise AccessDeniedError(
                f"User: {who} is not authorized to perform: {action} on resource: {resource} because {why}"
            )

    def denied(self) -> list[AccessRecord]:
        with self.lock:
            return [r for r in self.records if not r.allowed]

    def actions_of(self, principal_arn: str) -> list[AccessRecord]:
        with self.lock:
            return [r for r in self.records if r.principal == principal_arn]

    def clear(self) -> None:
        with self.lock:
            self.records.clear()


def evaluate(
    policies: list[Any], action: str, resource: str, context: dict[str, str] | None = None
) -> tuple[bool, str]:
    """(allowed, reason) for one request by moto's evaluator: explicit Deny > Allow > implicit deny."""
    from moto.iam.access_control import IAMPolicy, PermissionResult

    allowed = False
    for policy in policies:
        result = IAMPolicy(policy).is_action_permitted(action, resource, None, context or {})
        if result == PermissionResult.DENIED:
            # moto also answers DENIED when a StringEquals condition of an Allow does not match.
            return False, f"an identity-based policy denies the {action} action (or its condition does not match)"
        if result == PermissionResult.PERMITTED:
            allowed = True
    if allowed:
        return True, ""
    return False, f"no identity-based policy allows the {action} action"


def policies_of(principal_arn: str) -> list[Any]:
    """Inline and attached policies of a role (``arn:aws:iam::<acct>:role/<path/>name``) or user in moto IAM."""
    from moto.iam.models import iam_backends

    account, kind, name = _split_iam_arn(principal_arn)
    backend = iam_backends[account]["aws"]
    policies: list[Any] = []
    if kind == "role":
        try:
            backend.get_role(name)
        except Exception as exc:
            raise AccessDeniedError(f"Role {principal_arn} does not exist (it cannot be assumed): {exc}") from exc
        for policy_name in backend.list_role_policies(name):
            policies.append(backend.get_role_policy(name, policy_name)[1])
        policies.extend(backend.list_attached_role_policies(name)[0])
    elif kind == "user":
        for policy_name in backend.list_user_policies(name):
            policies.append(backend.get_user_policy(name, policy_name)["policy_document"])
        policies.extend(backend.list_attached_user_policies(name)[0])
        for group in backend.get_groups_for_user(name):
            for policy_name in backend.list_group_policies(group.name):
                policies.append(backend.get_group_policy(group.name, policy_name)["policy_document"])
            policies.extend(backend.list_attached_group_policies(group.name)[0])
    return policies


def _split_iam_arn(arn: str) -> tuple[str, str, str]:
    try:
        _, _, _, _, account, resource = arn.split(":", 5)
        kind, _, rest = resource.partition("/")
    except ValueError as exc:
        raise AccessDeniedError(f"{arn!r} is not an IAM role or user ARN") from exc
    if kind not in ("role", "user") or not rest:
        raise AccessDeniedError(f"{arn!r} is not an IAM role or user ARN")
    return account, kind, rest.rsplit("/", 1)[-1]


def role_trusts_sagemaker(role_arn: str) -> bool:
    """Whether the role's trust policy lets sagemaker.amazonaws.com assume it (checked before a job runs)."""
    import json

    from moto.iam.models import iam_backends

    account, _, name = _split_iam_arn(role_arn)
    try:
        role = iam_backends[account]["aws"].get_role(name)
    except Exception:
        return False
    document = role.assume_role_policy_document
    doc = json.loads(document) if isinstance(document, str) else document
    statements = doc.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        services = (statement.get("Principal") or {}).get("Service", [])
        services = [services] if isinstance(services, str) else services
        if statement.get("Effect") == "Allow" and "sagemaker.amazonaws.com" in services:
            return True
    return False


# ---- requests that go through to moto -------------------------------------------------------------


def s3_request_action(method: str, path: str, query: str, headers: dict[str, str]) -> tuple[str, str, dict[str, str]]:
    """(IAM action, resource ARN, condition context) of a path-style S3 REST request."""
    params = parse_qs(query, keep_blank_values=True)
    bucket, _, key = unquote(path.lstrip("/")).partition("/")
    if not bucket:
        return "s3:ListAllMyBuckets", "*", {}
    if not key:
        bucket_arn = f"arn:aws:s3:::{bucket}"
        if method in ("GET", "HEAD") and "location" in params:
            return "s3:GetBucketLocation", bucket_arn, {}
        if method in ("GET", "HEAD"):
            context = {"s3:prefix": params.get("prefix", [""])[0]}
            return "s3:ListBucket", bucket_arn, context
        if method == "PUT":
            return "s3:CreateBucket", bucket_arn, {}
        if method == "DELETE":
            return "s3:DeleteBucket", bucket_arn, {}
        if method == "POST" and "delete" in params:
            return "s3:DeleteObject", f"{bucket_arn}/*", {}
        return f"s3:{method.title()}Bucket", bucket_arn, {}
    object_arn = f"arn:aws:s3:::{bucket}/{key}"
    if method in ("GET", "HEAD"):
        return "s3:GetObject", object_arn, {}
    if method in ("PUT", "POST"):
        return "s3:PutObject", object_arn, {}
    if method == "DELETE":
        if "uploadId" in params:
            return "s3:AbortMultipartUpload", object_arn, {}
        return "s3:DeleteObject", object_arn, {}
    return f"s3:{method.title()}Object", object_arn, {}


def principal_of(caller: Any) -> str | None:
    """The IAM identity whose policies apply to a caller, or None for root / internal calls."""
    if caller.internal or caller.is_root:
        return None
    if caller.role_arn:
        return str(caller.role_arn)
    return str(caller.arn)


# ---- calls the engine's job runners make as a job role ----------------------------------------------

_S3_CALL_ACTIONS = {
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
    "DeleteObject": "s3:DeleteObject",
    "ListObjects": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket",
    "HeadBucket": "s3:ListBucket",
}


def s3_call_checker(access: AccessControl, role_arn: str) -> Any:
    """A botocore ``before-parameter-build.s3`` handler checking each S3 call of a job runner as ``role_arn``."""
    account = role_arn.split(":")[4]
    actor = f"arn:aws:sts::{account}:assumed-role/{role_arn.rsplit('/', 1)[-1]}/SageMaker"

    def check(params: dict[str, Any], model: Any, **_: Any) -> None:
        action = _S3_CALL_ACTIONS.get(model.name, f"s3:{model.name}")
        request = params  # the operation's input, before botocore builds the HTTP request
        bucket, key = request.get("Bucket", ""), request.get("Key")
        if action == "s3:ListBucket":
            resource, context = f"arn:aws:s3:::{bucket}", {"s3:prefix": request.get("Prefix", "")}
        else:
            resource, context = f"arn:aws:s3:::{bucket}/{key}", {}
        access.require(role_arn, action, resource, context=context, where=f"job S3 {model.name}", actor=actor)

    return check
