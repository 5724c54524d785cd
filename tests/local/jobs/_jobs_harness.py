"""Helpers shared by the job-runner tests (imported by name: tests/ has no packages)."""

from __future__ import annotations

import io
import socket
import tarfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_sagemaker_mlops.local.jobs.base import JobContext

SCRIPTS = Path(__file__).parent / "scripts"
REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/SageMakerRole"
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Harness:
    """A bucket in moto plus JobContext factories for one test."""

    url: str
    tmp: Path
    bucket: str
    s3: Any
    lines: dict[str, list[str]] = field(default_factory=dict)

    def ctx(self, label: str = "job", stop_event: threading.Event | None = None) -> JobContext:
        work = self.tmp / label
        work.mkdir(parents=True, exist_ok=True)
        sink = self.lines.setdefault(label, [])
        return JobContext(
            endpoint_url=self.url,
            region=REGION,
            account_id=ACCOUNT,
            work_dir=work,
            stop_event=stop_event or threading.Event(),
            log=sink.append,
        )

    def put(self, key: str, body: bytes | str) -> str:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body.encode() if isinstance(body, str) else body)
        return f"s3://{self.bucket}/{key}"

    def put_script(self, key: str, script: str) -> str:
        return self.put(key, (SCRIPTS / script).read_bytes())

    def put_tar(self, key: str, files: dict[str, bytes]) -> str:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            for name, data in files.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        return self.put(key, buf.getvalue())

    def put_sourcedir(self, key: str, *scripts: str) -> str:
        return self.put_tar(key, {s: (SCRIPTS / s).read_bytes() for s in scripts})

    def get(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def keys(self, prefix: str = "") -> list[str]:
        resp = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return sorted(o["Key"] for o in resp.get("Contents", []))

    def untar(self, key: str) -> dict[str, bytes]:
        with tarfile.open(fileobj=io.BytesIO(self.get(key))) as tar:
            return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
