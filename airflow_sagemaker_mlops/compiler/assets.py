"""Code that ships with the DAG (a script, or a source directory) uploaded to S3 content-addressed.

``CodeAsset("scripts/evaluate.py", bucket="my-bucket")`` stands for ``s3://my-bucket/<prefix>/<sha256>/evaluate.py``
in the definition. The hash is taken at parse time (the file is in the DAG folder), so editing the script
changes the definition and the next run upserts the pipeline; the group's start task uploads each asset
before the upsert, and skips ones already in S3. A directory becomes a deterministic ``sourcedir.tar.gz``
(SageMaker script mode's ``sagemaker_submit_directory``).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from airflow_sagemaker_mlops.definition.expressions import Expression
from airflow_sagemaker_mlops.exceptions import PipelineDefinitionError
from airflow_sagemaker_mlops.location import locate_init_errors, user_site

DEFAULT_PREFIX = "airflow-sagemaker-mlops/code"


def package(path: str) -> tuple[bytes, str]:
    """(content, file name): the file itself, or a reproducible tar.gz of a directory (sorted entries, zeroed
    times and owners), so the same sources always give the same bytes and hash."""
    if os.path.isfile(path):
        with open(path, "rb") as handle:
            return handle.read(), os.path.basename(path)
    if not os.path.isdir(path):
        raise PipelineDefinitionError(f"code asset {path!r} does not exist")
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for full in sorted(_files(path)):
            info = tarfile.TarInfo(os.path.relpath(full, path).replace(os.sep, "/"))
            info.size = os.path.getsize(full)
            info.mode = 0o755 if os.access(full, os.X_OK) else 0o644
            with open(full, "rb") as handle:
                tar.addfile(info, handle)
    return gzip.compress(raw.getvalue(), mtime=0), "sourcedir.tar.gz"


def _files(root: str) -> Iterator[str]:
    for directory, dirs, files in os.walk(root, followlinks=True):
        dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", ".git", ".ipynb_checkpoints"))
        for name in files:
            if not name.endswith((".pyc", ".pyo")):
                yield os.path.join(directory, name)


@locate_init_errors
@dataclass(frozen=True, eq=False)
class CodeAsset(Expression):
    """A local script or directory, as the S3 URI it is uploaded to (see the module docstring).

    Args:
        path: relative to the DAG file that creates the asset, or absolute.
        bucket: the S3 bucket to upload to (known at parse time, so the definition is static).
        prefix: key prefix; the key is ``<prefix>/<sha256>/<file name>``.
    """

    local_path: str
    bucket: str
    prefix: str
    key: str
    value_type: ClassVar[str | None] = "String"

    def __init__(self, path: str, *, bucket: str, prefix: str = DEFAULT_PREFIX) -> None:
        # The DAG file (or the user's module) that creates the asset: the first frame that is not ours.
        site = user_site()
        base = os.path.dirname(os.path.abspath(site[0] if site else sys._getframe(1).f_code.co_filename))
        local = path if os.path.isabs(path) else os.path.join(base, path)
        content, name = package(local)
        digest = hashlib.sha256(content).hexdigest()
        object.__setattr__(self, "local_path", local)
        object.__setattr__(self, "bucket", bucket)
        object.__setattr__(self, "prefix", prefix.strip("/"))
        object.__setattr__(self, "key", f"{self.prefix}/{digest}/{name}")

    @property
    def s3_uri(self) -> str:
        """``s3://<bucket>/<prefix>/<sha256>/<file name>``: where the start task uploads the asset."""
        return f"s3://{self.bucket}/{self.key}"

    def to_request(self) -> Any:
        """The asset in the definition: its S3 URI (a literal string)."""
        return self.s3_uri

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CodeAsset) and other.s3_uri == self.s3_uri

    def __hash__(self) -> int:
        return hash(self.s3_uri)


def code_assets(value: Any) -> Iterator[CodeAsset]:
    """Every CodeAsset inside a nested value."""
    from airflow_sagemaker_mlops.definition.expressions import iter_expressions

    for expr in iter_expressions(value):
        if isinstance(expr, CodeAsset):
            yield expr
