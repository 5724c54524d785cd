"""A generated code bundle: several files uploaded under one content-addressed S3 prefix.

Function and notebook steps (``operators/functions.py``) ship their code, our runner and a manifest as a
``CodeBundle``: ``s3://<bucket>/<prefix>/<sha256>/`` holding each file, which the job mounts as one
``S3Prefix`` ProcessingInput (no archive to unpack, so the runner needs nothing but Python). Like
``CodeAsset`` the hash is computed at parse time from the bytes the DAG folder holds, the definition
refers to the hash, and the group's start task uploads the files once (``manifest.json`` last, and its
presence means the bundle is complete).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any, ClassVar

from .assets import CodeAsset

log = logging.getLogger(__name__)

#: Uploaded last: its presence in S3 means the whole bundle is there.
COMPLETION_FILE = "manifest.json"


def bundle_digest(files: dict[str, bytes]) -> str:
    """sha256 over the sorted (name, content hash) pairs: the same files always give the same prefix."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).hexdigest().encode() + b"\n")
    return digest.hexdigest()


@dataclass(frozen=True, eq=False)
class CodeBundle(CodeAsset):
    """Files (name -> bytes) as the S3 prefix they are uploaded to.

    :param files: relative names (``/``-separated) to content.
    :param bucket: the S3 bucket.
    :param prefix: key prefix; the files go to ``<prefix>/<sha256>/<name>``.
    :param described: what the bundle holds, for logs (``function train of dags/churn.py``).
    """

    files: dict[str, bytes]
    described: str
    value_type: ClassVar[str | None] = "String"

    def __init__(self, files: dict[str, bytes], *, bucket: str, prefix: str, described: str) -> None:
        if COMPLETION_FILE not in files:
            raise ValueError(f"a code bundle needs {COMPLETION_FILE}")
        object.__setattr__(self, "files", dict(files))
        object.__setattr__(self, "described", described)
        object.__setattr__(self, "local_path", described)
        object.__setattr__(self, "bucket", bucket)
        object.__setattr__(self, "prefix", prefix.strip("/"))
        object.__setattr__(self, "key", "/".join(p for p in (self.prefix, bundle_digest(self.files)) if p))

    @property
    def s3_uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}/"

    def upload(self, hook: Any) -> str:
        """Upload the files through ``hook.s3`` unless the bundle is already complete; returns the URI."""
        if hook._s3_object_exists(self.bucket, f"{self.key}/{COMPLETION_FILE}"):
            log.info("code bundle %s already at %s", self.described, self.s3_uri)
            return self.s3_uri
        with hook._s3_errors():
            for name in sorted(self.files, key=lambda n: n == COMPLETION_FILE):
                hook.s3.put_object(Bucket=self.bucket, Key=f"{self.key}/{name}", Body=self.files[name])
        log.info("uploaded code bundle %s to %s (%d files, %d bytes)", self.described, self.s3_uri,
                 len(self.files), sum(len(b) for b in self.files.values()))
        return self.s3_uri
