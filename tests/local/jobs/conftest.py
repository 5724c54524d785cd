from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from _jobs_harness import REGION, Harness, free_port
from moto.server import ThreadedMotoServer


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def harness(moto_url: str, tmp_path: Path) -> Harness:
    s3 = boto3.client(
        "s3", endpoint_url=moto_url, region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test"
    )
    bucket = f"bucket-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    return Harness(url=moto_url, tmp=tmp_path, bucket=bucket, s3=s3)


@pytest.fixture(params=["namespace", "python"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a test under each sandbox backend (the namespace one only where the kernel allows it)."""
    from airflow_sagemaker_mlops.local.jobs.sandbox import namespace_supported

    if request.param == "namespace" and not namespace_supported():
        pytest.skip("unprivileged mount namespaces are unavailable here")
    monkeypatch.setenv("SAGEMAKER_LOCAL_SANDBOX", request.param)
    return request.param
