"""S3 transfer helpers of the job runners (the S3 behind the engine is moto)."""

from __future__ import annotations

import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class JobInputError(Exception):
    """A request the local runner cannot satisfy; its message becomes the job's FailureReason."""


@dataclass(frozen=True)
class S3Uri:
    bucket: str
    key: str

    @classmethod
    def parse(cls, uri: str) -> S3Uri:
        if not uri.startswith("s3://"):
            raise JobInputError(f"not an S3 URI: {uri!r}")
        bucket, _, key = uri[len("s3://") :].partition("/")
        if not bucket:
            raise JobInputError(f"S3 URI without a bucket: {uri!r}")
        return cls(bucket, key)

    def join(self, *parts: str) -> S3Uri:
        key = self.key.rstrip("/")
        for part in parts:
            part = part.strip("/")
            if part:
                key = f"{key}/{part}" if key else part
        return S3Uri(self.bucket, key)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def list_keys(s3: Any, uri: S3Uri) -> list[str]:
    """Keys under a prefix (object keys only; folder placeholders ending in '/' are skipped)."""
    from botocore.exceptions import ClientError

    keys: list[str] = []
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=uri.bucket, Prefix=uri.key):
            keys.extend(obj["Key"] for obj in page.get("Contents", []) if not obj["Key"].endswith("/"))
    except ClientError as exc:
        # The request's fault (no such bucket, access denied), not SageMaker's: a ClientError, which
        # job-internal-error retry policies do not retry.
        error = exc.response.get("Error", {})
        raise JobInputError(f"cannot list {uri}: {error.get('Code')}: {error.get('Message')}") from exc
    return keys


def relative_key(prefix: str, key: str) -> str:
    """The path of ``key`` below an S3 prefix as SageMaker lays it out locally.

    ``data/train`` and ``data/train/`` both put ``data/train/a/b.csv`` at ``<local>/a/b.csv``; a prefix
    that is an object key itself (``code/script.py``) puts the object at ``<local>/script.py``; an
    object that only shares the prefix's leading characters (``data/train-2.csv``) keeps its name.
    """
    if key == prefix:
        return key.rsplit("/", 1)[-1]
    directory = prefix if prefix.endswith("/") else prefix + "/"
    if key.startswith(directory):
        return key[len(directory) :]
    base = prefix.rsplit("/", 1)[0] + "/" if "/" in prefix else ""
    return key[len(base) :]


def _safe_join(root: Path, rel: str) -> Path:
    target = (root / rel).resolve()
    if target != root.resolve() and root.resolve() not in target.parents:
        raise JobInputError(f"S3 key escapes its local directory: {rel!r}")
    return target


def download_prefix(s3: Any, uri: str, local: Path) -> list[Path]:
    """Download every object under an S3 prefix into ``local`` (S3Prefix data type)."""
    parsed = S3Uri.parse(uri)
    keys = list_keys(s3, parsed)
    if not keys:
        raise JobInputError(f"no S3 objects found under {uri}")
    local.mkdir(parents=True, exist_ok=True)
    written = []
    for key in keys:
        target = _safe_join(local, relative_key(parsed.key, key))
        target.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(parsed.bucket, key, str(target))
        written.append(target)
    return written


def download_manifest(s3: Any, uri: str, local: Path) -> list[Path]:
    """Download the objects a ManifestFile lists: ``[{"prefix": "s3://b/p/"}, "rel1", ...]``."""
    parsed = S3Uri.parse(uri)
    body = s3.get_object(Bucket=parsed.bucket, Key=parsed.key)["Body"].read()
    try:
        manifest = json.loads(body)
        prefix = S3Uri.parse(manifest[0]["prefix"])
        entries = [str(e) for e in manifest[1:]]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise JobInputError(f"malformed manifest file {uri}: {exc}") from exc
    local.mkdir(parents=True, exist_ok=True)
    written = []
    for rel in entries:
        target = _safe_join(local, rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(prefix.bucket, prefix.key + rel, str(target))
        written.append(target)
    return written


def download_input(s3: Any, data_type: str, uri: str, local: Path) -> list[Path]:
    if data_type == "S3Prefix":
        return download_prefix(s3, uri, local)
    if data_type == "ManifestFile":
        return download_manifest(s3, uri, local)
    raise JobInputError(f"S3DataType {data_type!r} is not supported by the local engine")


def upload_dir(s3: Any, local: Path, uri: str, *, within: Path | None = None,
               log: Any = None) -> list[str]:
    """Upload every file below ``local`` to ``<uri>/<relative path>``; returns the written URIs.

    Symbolic links are not followed out of ``within`` (the sandbox): a job's output that links to a host
    file (``ln -s /etc out/etc``) uploads nothing of it, as on SageMaker where the host is not there.
    """
    parsed = S3Uri.parse(uri)
    written: list[str] = []
    if not local.is_dir():
        return written
    boundary = (within or local).resolve()
    files = []
    for folder, dirs, names in os.walk(local, followlinks=False):
        for name in [*names, *dirs]:
            path = Path(folder, name)
            if path.is_symlink():
                target = path.resolve()
                if target != boundary and boundary not in target.parents:
                    if log is not None:
                        log(f"[local] not uploading {path.relative_to(local)}: it links outside the sandbox")
                    continue
            if path.is_file():
                files.append(path)
    for path in sorted(files):
        target = parsed.join(path.relative_to(local).as_posix())
        s3.upload_file(str(path), target.bucket, target.key)
        written.append(str(target))
    return written


def make_tar(source: Path, target: Path) -> Path:
    """``tar czf target -C source .`` as SageMaker packs model.tar.gz and output.tar.gz."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(target, "w:gz") as tar:
        if source.is_dir():
            for entry in sorted(source.iterdir()):
                tar.add(entry, arcname=entry.name)
    return target


def extract_tar(archive: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        # The "data" filter refuses absolute paths, '..' and device files in user archives.
        if hasattr(tarfile, "data_filter"):
            tar.extractall(target, filter="data")
        else:  # pragma: no cover - Python < 3.10.12
            for member in tar.getmembers():
                if member.name.startswith("/") or ".." in Path(member.name).parts:
                    raise JobInputError(f"unsafe path in archive {archive.name}: {member.name}")
            tar.extractall(target)


def download_and_extract(s3: Any, uri: str, target: Path, scratch: Path) -> None:
    """Fetch a .tar.gz from S3 and unpack it into ``target``."""
    parsed = S3Uri.parse(uri)
    scratch.mkdir(parents=True, exist_ok=True)
    archive = scratch / (os.path.basename(parsed.key) or "archive.tar.gz")
    try:
        s3.download_file(parsed.bucket, parsed.key, str(archive))
    except Exception as exc:
        raise JobInputError(f"cannot download {uri}: {exc}") from exc
    try:
        extract_tar(archive, target)
    except tarfile.TarError as exc:
        raise JobInputError(f"{uri} is not a readable tar archive: {exc}") from exc
    finally:
        archive.unlink(missing_ok=True)
