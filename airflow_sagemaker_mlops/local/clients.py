"""The boto3 clients the engine uses against its own server (moto behind it), and their credentials.

Every internal client signs with :data:`INTERNAL_ACCESS_KEY` (default account) or with the key of an STS
session the engine assumed in another account: the server recognises these keys (:meth:`EngineClients.is_internal`),
lets them see every account and skips injected faults for them.
"""

from __future__ import annotations

import logging
import secrets
import threading
from typing import Any

from .state import EngineConfig

log = logging.getLogger(__name__)

INTERNAL_ACCESS_KEY = "LOCALENGINEINTERNAL"


class EngineClients:
    """boto3 clients to this engine per (service, region, account); thread-safe, cached."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self.endpoint_url = ""  # set by the server once bound
        # Random per engine: the internal key skips faults and sees every account, so it must be unforgeable.
        self.internal_secret = secrets.token_urlsafe(24)
        # Access keys of the engine's own clients (one STS session per account beyond the default one).
        self.internal_keys: set[str] = {INTERNAL_ACCESS_KEY}
        self._account_sessions: dict[str, Any] = {}
        self._account_credentials: dict[str, dict[str, str]] = {}
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._lock = threading.RLock()
        self._session: Any = None

    def reset(self) -> None:
        """moto forgets the STS sessions of other accounts: make new ones when needed."""
        with self._lock:
            self._account_sessions.clear()
            self._account_credentials.clear()
            self.internal_keys = {INTERNAL_ACCESS_KEY}

    def is_internal(self, access_key: str) -> bool:
        return access_key in self.internal_keys

    def client(self, service: str, region: str | None = None, account: str | None = None) -> Any:
        """A boto3 client to this engine (moto behind it), marked internal so faults skip it.

        ``account`` other than the default one gets credentials of an STS session in that account, so
        moto serves that account's S3, IAM, ... (moto routes requests by the access key's account).
        """
        region = region or self.config.region
        account = account or self.config.account_id
        key = (service, region, account)
        with self._lock:
            cached = self._clients.get(key)
            if cached is None:
                from botocore.config import Config

                cached = self._session_for(account).client(
                    service,
                    region_name=region,
                    endpoint_url=self.endpoint_url,
                    config=Config(retries={"max_attempts": 2, "mode": "standard"}, max_pool_connections=50),
                )
                self._clients[key] = cached
            return cached

    def _session_for(self, account: str) -> Any:
        import boto3

        if self._session is None:
            # One session for all internal clients: loading service models is the slow part.
            self._session = boto3.session.Session(
                aws_access_key_id=INTERNAL_ACCESS_KEY, aws_secret_access_key=self.internal_secret
            )
        if account == self.config.account_id:
            return self._session
        session = self._account_sessions.get(account)
        if session is None:
            credentials = self.credentials_for(account)
            session = boto3.session.Session(
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
            )
            self._account_sessions[account] = session
        return session

    def credentials_for(self, account: str) -> dict[str, str]:
        """Credentials of the engine acting in ``account`` (an STS session moto maps to that account)."""
        if account == self.config.account_id:
            return {"AccessKeyId": INTERNAL_ACCESS_KEY, "SecretAccessKey": self.internal_secret, "SessionToken": ""}
        with self._lock:
            cached = self._account_credentials.get(account)
            if cached is None:
                sts = self.client("sts", self.config.region)
                cached = sts.assume_role(
                    RoleArn=f"arn:aws:iam::{account}:role/local-engine-internal", RoleSessionName="local-engine"
                )["Credentials"]
                self._account_credentials[account] = cached
                self.internal_keys.add(cached["AccessKeyId"])
            return cached

    def role_credentials(self, role_arn: str | None, region: str) -> dict[str, str] | None:
        """An STS session of ``role_arn`` (in the role's account), as SageMaker gives a job its role.

        Its key is moto's, so the request guard verifies its signatures and, with IAM enforcement, the
        job's own calls are checked against the role's policies. None (dummy credentials) without a role.
        """
        if not role_arn or not role_arn.startswith("arn:") or ":role/" not in role_arn:
            return None
        account = role_arn.split(":")[4] or self.config.account_id
        try:
            credentials = self.client("sts", region, account).assume_role(
                RoleArn=role_arn, RoleSessionName="SageMaker", DurationSeconds=43200
            )["Credentials"]
        except Exception as exc:  # the job still runs, with dummy credentials, as before
            log.warning("cannot assume job role %s: %s", role_arn, exc)
            return None
        return {key: str(credentials[key]) for key in ("AccessKeyId", "SecretAccessKey", "SessionToken")}

    def secret_for(self, access_key: str) -> str | None:
        """The secret of ``access_key`` when the engine knows it (the request guard verifies signatures)."""
        if access_key == INTERNAL_ACCESS_KEY:
            return self.internal_secret
        from .guard import DEFAULT_TEST_KEYS
        from .identity import moto_secret

        return moto_secret(access_key) or DEFAULT_TEST_KEYS.get(access_key)
