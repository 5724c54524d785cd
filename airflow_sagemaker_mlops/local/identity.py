"""Who is calling: the account and principal behind a request's access key.

moto keeps IAM users' access keys and STS sessions per account; the engine asks moto's backends (in this
process) which account and principal an access key belongs to, exactly as moto routes its own requests.
Keys moto does not know (``test``, ``x``, ...) are the default account's root, as they are for moto.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]*)/([^/]*)/")


@dataclass(frozen=True)
class Caller:
    account_id: str
    arn: str  # arn:aws:iam::<acct>:root | ...:user/<name> | arn:aws:sts::<acct>:assumed-role/<role>/<session>
    access_key: str = ""
    service: str = ""  # the credential scope's service: sagemaker, s3, ram, ...
    role_arn: str | None = None  # the IAM role behind an assumed-role session
    user_name: str | None = None
    internal: bool = False  # the engine's own calls

    @property
    def is_root(self) -> bool:
        return self.arn.endswith(":root")


def credential_of(environ: dict[str, Any]) -> tuple[str, str, str]:
    """(access key, region, service) from a SigV4 Authorization header or a presigned URL's query."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = _CREDENTIAL.search(auth)
    if match is None:
        from urllib.parse import parse_qs

        credential = parse_qs(environ.get("QUERY_STRING", "")).get("X-Amz-Credential", [""])[0]
        match = _CREDENTIAL.search(f"Credential={credential}")
    if match is None:
        return "", "", ""
    return match.group(1), match.group(2), match.group(3)


def resolve(access_key: str, default_account: str, *, service: str = "", internal: bool = False) -> Caller:
    """The caller behind ``access_key``, looked up in moto's IAM backends."""
    if not access_key:
        return Caller(default_account, f"arn:aws:iam::{default_account}:root", service=service, internal=internal)
    from moto.iam.models import iam_backends

    for account, partitions in list(iam_backends.items()):
        key = partitions["aws"].access_keys.get(access_key)
        if key is None:
            continue
        role_arn = getattr(key, "role_arn", None)
        if role_arn:
            role = role_arn.rsplit("/", 1)[-1]
            arn = f"arn:aws:sts::{account}:assumed-role/{role}/{_session_name(account, access_key) or 'session'}"
            return Caller(account, arn, access_key, service, role_arn=role_arn, internal=internal)
        user = _user_of(account, access_key)
        if user is not None:
            arn = f"arn:aws:iam::{account}:user/{user}"
            return Caller(account, arn, access_key, service, user_name=user, internal=internal)
    return Caller(default_account, f"arn:aws:iam::{default_account}:root", access_key, service, internal=internal)


def moto_secret(access_key: str) -> str | None:
    """The secret moto holds for an IAM user's access key or an STS session's key; None if unknown."""
    from moto.iam.models import iam_backends

    for _, partitions in list(iam_backends.items()):
        key = partitions["aws"].access_keys.get(access_key)
        if key is not None:
            return str(key.secret_access_key)
    return None


def _session_name(account: str, access_key: str) -> str | None:
    from moto.sts.models import sts_backends

    for role in sts_backends[account]["aws"].assumed_roles:
        if role.access_key_id == access_key:
            return str(role.session_name)
    return None


def _user_of(account: str, access_key: str) -> str | None:
    from moto.iam.models import iam_backends

    backend = iam_backends[account]["aws"]
    for user in backend.users.values():
        if any(k.access_key_id == access_key for k in user.access_keys):
            return str(user.name)
    return None
