"""The request guard (local/guard.py): web pages cannot drive the engine, AWS clients still can.

The attack it stops (issue 12): a page on http://evil.example made the engine create and run a pipeline
whose Processing step ran ``python3 -c ...`` as the user, through a CORS grant, through DNS rebinding
(Host: evil.example resolving to 127.0.0.1), or unsigned; and POSTed text/plain to ``/_local/faults``.
"""

from __future__ import annotations

import datetime as dt
import http.client
import io
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from engine_helpers import ROLE, unique, wait

from airflow_sagemaker_mlops.local.guard import TOKEN_HEADER, Guard


def attack_definition(marker: Path) -> str:
    """A pipeline whose Processing step writes ``marker`` on the host: proof that code ran."""
    code = f"open({str(marker)!r}, 'w').write('pwned')"
    step = {
        "Name": "Pwn",
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                      "VolumeSizeInGB": 1}},
            "AppSpecification": {"ImageUri": "python:3", "ContainerEntrypoint": ["python3", "-c", code]},
            "RoleArn": ROLE,
        },
    }
    return json.dumps({"Version": "2020-12-01", "Parameters": [], "Steps": [step]})


def send(engine: Any, method: str, path: str, body: bytes = b"", *, headers: dict[str, str] | None = None,
         host: str | None = None, sign: tuple[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One raw HTTP request to the engine, as a browser (or anything else) could send it."""
    port = int(engine.url.rsplit(":", 1)[1])
    all_headers = {"Host": host or f"127.0.0.1:{port}", **(headers or {})}
    if sign is not None:
        request = AWSRequest(method=method, url=f"http://{all_headers['Host']}{path}", data=body,
                             headers=all_headers)
        SigV4Auth(Credentials(*sign), "sagemaker", "us-east-1").add_auth(request)
        all_headers = dict(request.headers.items())
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in all_headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def create_pipeline_call(name: str, marker: Path) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"PipelineName": name, "RoleArn": ROLE, "PipelineDefinition": attack_definition(marker)})
    return body.encode(), {"X-Amz-Target": "SageMaker.CreatePipeline",
                           "Content-Type": "application/x-amz-json-1.1"}


def pipeline_exists(sm: Any, name: str) -> bool:
    return any(p["PipelineName"] == name for p in sm.list_pipelines(PipelineNamePrefix=name)["PipelineSummaries"])


EVIL = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors"}


@pytest.mark.parametrize(
    "attack",
    [
        pytest.param({"headers": EVIL, "sign": ("testing", "testing")}, id="cross-origin-signed"),
        pytest.param({"headers": {"Origin": "http://evil.example"}}, id="cross-origin-unsigned"),
        pytest.param({"host": "evil.example:{port}", "sign": ("testing", "testing")}, id="dns-rebinding-host"),
        pytest.param({}, id="unsigned"),
        pytest.param({"sign": ("testing", "not-the-secret")}, id="wrong-secret"),
    ],
)
def test_the_attack_is_refused_and_no_code_runs(engine: Any, sm: Any, tmp_path: Path, attack: dict) -> None:
    name, marker = unique("attack"), tmp_path / "pwned"
    body, headers = create_pipeline_call(name, marker)
    port = engine.url.rsplit(":", 1)[1]
    host = attack.get("host", "").format(port=port) or None
    status, reply_headers, payload = send(engine, "POST", "/", body, headers={**headers, **attack.get("headers", {})},
                                          host=host, sign=attack.get("sign"))
    assert status == 403, payload
    assert not any(k.startswith("access-control-") for k in reply_headers)
    error = json.loads(payload)
    assert error["__type"] in ("AccessDeniedException", "MissingAuthenticationTokenException",
                               "InvalidSignatureException")
    assert not pipeline_exists(sm, name)
    # Starting an execution the same way is refused too, so nothing can run.
    start = json.dumps({"PipelineName": name}).encode()
    start_headers = {**headers, "X-Amz-Target": "SageMaker.StartPipelineExecution", **attack.get("headers", {})}
    status, _, _ = send(engine, "POST", "/", start, headers=start_headers, host=host, sign=attack.get("sign"))
    assert status == 403
    time.sleep(0.2)
    assert not marker.exists()


def test_the_same_calls_from_an_aws_client_do_run(engine: Any, sm: Any, tmp_path: Path) -> None:
    """The control case of the attack test: signed, right Host, no Origin -> the code runs."""
    name, marker = unique("attack"), tmp_path / "pwned"
    body, headers = create_pipeline_call(name, marker)
    status, _, payload = send(engine, "POST", "/", body, headers=headers, sign=("testing", "testing"))
    assert status == 200, payload
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert wait(sm, arn, timeout=60)["PipelineExecutionStatus"] == "Succeeded"
    assert marker.read_text() == "pwned"


def test_cors_preflight_gets_no_grant(engine: Any) -> None:
    status, headers, _ = send(engine, "OPTIONS", "/", headers={
        "Origin": "http://evil.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-amz-target,content-type"})
    assert status == 403
    assert not any(k.startswith("access-control-") for k in headers)


def test_moto_cors_headers_are_stripped(engine: Any) -> None:
    # moto's Flask app adds Access-Control-Allow-Origin: * to its answers (S3 here).
    status, headers, _ = send(engine, "POST", "/", json.dumps({}).encode(),
                              headers={"X-Amz-Target": "SageMaker.ListModels",
                                       "Content-Type": "application/x-amz-json-1.1"}, sign=("testing", "testing"))
    assert status == 200
    assert not any(k.startswith("access-control-") for k in headers)


def test_faults_endpoint_csrf_is_refused(engine: Any) -> None:
    before = engine.faults.config.to_dict()
    csrf = json.dumps({"throttle_rate": 1.0}).encode()
    for headers in ({"Origin": "http://evil.example", "Content-Type": "text/plain"},
                    {"Content-Type": "text/plain"},
                    {TOKEN_HEADER: "guessed", "Content-Type": "text/plain"}):
        status, _, payload = send(engine, "POST", "/_local/faults", csrf, headers=headers)
        assert status == 403, payload
    # The token with a foreign Origin is still refused: a page never gets to use it.
    status, _, _ = send(engine, "POST", "/_local/faults", csrf,
                        headers={**engine.control_headers(), "Origin": "http://evil.example"})
    assert status == 403
    assert engine.faults.config.to_dict() == before
    status, _, payload = send(engine, "POST", "/_local/faults", json.dumps({"latency_ms": 1}).encode(),
                              headers=engine.control_headers())
    assert status == 200 and json.loads(payload)["latency_ms"] == 1.0


def test_moto_control_api_needs_the_token(engine: Any) -> None:
    assert send(engine, "POST", "/moto-api/reset")[0] == 403
    assert send(engine, "GET", "/moto-api/")[0] == 403  # moto's dashboard shows every resource


def test_control_endpoint_takes_a_signed_curl(engine: Any) -> None:
    """`curl --aws-sigv4` from a shell works on the control endpoints, with a key the engine can verify."""
    common = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--aws-sigv4", "aws:amz:us-east-1:sagemaker"]
    ok = subprocess.run([*common, "--user", "testing:testing", f"{engine.url}/_local/faults"],
                        capture_output=True, text=True, check=True)
    bad = subprocess.run([*common, "--user", "testing:wrong", f"{engine.url}/_local/faults"],
                         capture_output=True, text=True, check=True)
    assert (ok.stdout, bad.stdout) == ("200", "403")


def test_known_key_with_wrong_secret_is_refused_by_boto3(engine: Any) -> None:
    import boto3

    iam = engine.client("iam")
    user = unique("user")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]

    def client(secret: str) -> Any:
        return boto3.client("sagemaker", endpoint_url=engine.url, region_name="us-east-1",
                            aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=secret)

    assert "PipelineSummaries" in client(key["SecretAccessKey"]).list_pipelines()
    with pytest.raises(ClientError) as caught:
        client("forged").list_pipelines()
    assert caught.value.response["Error"]["Code"] == "InvalidSignatureException"
    s3 = boto3.client("s3", endpoint_url=engine.url, region_name="us-east-1",
                      aws_access_key_id=key["AccessKeyId"], aws_secret_access_key="forged")
    with pytest.raises(ClientError) as caught:
        s3.list_buckets()
    assert caught.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def test_presigned_urls_work_and_tampering_is_refused(engine: Any, bucket: str) -> None:
    from botocore.config import Config

    s3 = engine.client("s3")
    s3.put_object(Bucket=bucket, Key="dir/a b+c.txt", Body=b"content")
    for config in (None, Config(signature_version="s3v4")):
        client = engine.client("s3", config=config) if config else s3
        url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "dir/a b+c.txt"})
        with urllib.request.urlopen(url, timeout=10) as reply:
            assert reply.read() == b"content"
        tampered = url.replace("a%20b", "a%20x")
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(tampered, timeout=10)
        assert caught.value.code == 403


def test_serve_writes_a_private_token_file_and_removes_it(tmp_path: Path) -> None:
    token_file = tmp_path / "engine.token"
    code = ("from airflow_sagemaker_mlops.local.server import serve; "
            f"serve(port=0, token_file={str(token_file)!r}, allowed_hosts=['engine.internal'])")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip().removeprefix("listening on ")
        assert token_file.stat().st_mode & 0o777 == 0o600
        token = token_file.read_text()
        request = urllib.request.Request(f"{url}/_local/faults", headers={TOKEN_HEADER: token})
        with urllib.request.urlopen(request, timeout=10) as reply:
            assert reply.status == 200
        port = urllib.parse.urlsplit(url).port
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for host, expected in (("engine.internal", 200), ("rebound.example", 403)):
            connection.request("GET", "/_local/health", headers={"Host": f"{host}:{port}"})
            reply = connection.getresponse()
            reply.read()
            assert reply.status == expected, host
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert not token_file.exists()
    finally:
        if proc.poll() is None:
            proc.kill()


# ---- the guard alone, on WSGI environs ----------------------------------------------------------------


def environ_of(request: AWSRequest, body: bytes = b"") -> dict[str, Any]:
    split = urllib.parse.urlsplit(request.url)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method, "PATH_INFO": urllib.parse.unquote(split.path),
        "QUERY_STRING": split.query, "RAW_URI": split.path + (f"?{split.query}" if split.query else ""),
        "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)),
    }
    for name, value in request.headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    environ.setdefault("HTTP_HOST", split.netloc)
    return environ


def signed(url: str, *, method: str = "POST", body: bytes = b"{}", secret: str = "testing",
           headers: dict[str, str] | None = None) -> dict[str, Any]:
    request = AWSRequest(method=method, url=url, data=body, headers={"X-Amz-Target": "SageMaker.ListPipelines",
                                                                     **(headers or {})})
    SigV4Auth(Credentials("testing", secret), "sagemaker", "us-east-1").add_auth(request)
    return environ_of(request, body)


@pytest.mark.parametrize(
    ("bound", "extra", "host", "allowed"),
    [
        ("127.0.0.1", (), "127.0.0.1:8765", True),
        ("127.0.0.1", (), "localhost:8765", True),
        ("127.0.0.1", (), "bucket.localhost:8765", True),
        ("127.0.0.1", (), "127.8.9.10", True),
        ("127.0.0.1", (), "[::1]:8765", True),
        ("127.0.0.1", (), "evil.example:8765", False),
        ("127.0.0.1", (), "localhost.evil.example", False),
        ("127.0.0.1", (), "10.0.0.5:8765", False),
        ("127.0.0.1", (), "", False),
        ("0.0.0.0", (), "172.18.0.3:8765", True),
        ("0.0.0.0", (), "sagemaker-local:8765", False),
        ("0.0.0.0", ("sagemaker-local",), "sagemaker-local:8765", True),
        ("0.0.0.0", ("sagemaker-local",), "bucket.sagemaker-local:8765", True),
        ("0.0.0.0", ("sagemaker-local",), "sagemaker-local.evil.example", False),
        ("192.168.1.5", (), "192.168.1.5:8765", True),
        ("192.168.1.5", (), "192.168.1.6:8765", False),
    ],
)
def test_host_allow_list(bound: str, extra: tuple[str, ...], host: str, allowed: bool) -> None:
    guard = Guard(bound_host=bound, allowed_hosts=extra)
    from airflow_sagemaker_mlops.local.guard import host_name

    assert guard.host_allowed(host_name(host)) is allowed


def test_signature_time_window() -> None:
    environ = signed("http://127.0.0.1:8765/")
    assert Guard(port=8765).check(environ) is None
    later = Guard(port=8765, now=lambda: dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=20))
    refusal = later.check(signed("http://127.0.0.1:8765/"))
    assert refusal is not None and refusal.message.startswith("Signature expired")


def test_unknown_keys_are_accepted_when_signed_but_control_needs_a_verified_one() -> None:
    def with_key(key: str, path: str = "/") -> dict[str, Any]:
        request = AWSRequest(method="POST", url=f"http://127.0.0.1:8765{path}", data=b"{}")
        SigV4Auth(Credentials(key, "anything"), "sagemaker", "us-east-1").add_auth(request)
        return environ_of(request, b"{}")

    guard = Guard(port=8765)
    assert guard.check(with_key("AKIDUNKNOWN")) is None
    assert guard.check(with_key("AKIDUNKNOWN", "/_local/faults")) is not None


def test_console_prefix_is_exempt_from_signatures_only(engine: Any) -> None:
    """The contract with the read-only console (issue 17): GET /_local/console/* needs no signature, but
    Host and Origin rules hold and nothing but GET/HEAD is exempt."""
    guard = Guard(port=8765)
    base = {"REQUEST_METHOD": "GET", "PATH_INFO": "/_local/console/pipelines", "HTTP_HOST": "127.0.0.1:8765",
            "QUERY_STRING": "", "wsgi.input": io.BytesIO(b"")}
    assert guard.check(dict(base)) is None
    assert guard.check(dict(base, HTTP_ORIGIN="http://127.0.0.1:8765")) is None  # its own origin
    assert guard.check(dict(base, HTTP_SEC_FETCH_SITE="cross-site", HTTP_SEC_FETCH_MODE="navigate")) is None
    assert guard.check(dict(base, HTTP_SEC_FETCH_SITE="cross-site", HTTP_SEC_FETCH_MODE="no-cors")) is not None
    assert guard.check(dict(base, HTTP_ORIGIN="http://evil.example")) is not None
    assert guard.check(dict(base, HTTP_HOST="evil.example:8765")) is not None
    assert guard.check(dict(base, REQUEST_METHOD="POST")) is not None
    assert guard.check(dict(base, REQUEST_METHOD="DELETE")) is not None
    # On the running engine: an unsigned GET gets past the guard to the console's index.
    status, _, _ = send(engine, "GET", "/_local/console/")
    assert status == 200


def test_engine_internal_key_cannot_be_forged(engine: Any) -> None:
    from airflow_sagemaker_mlops.local.clients import INTERNAL_ACCESS_KEY

    status, _, _ = send(engine, "POST", "/", b"{}", headers={"X-Amz-Target": "SageMaker.ListPipelines"},
                        sign=(INTERNAL_ACCESS_KEY, "internal"))
    assert status == 403


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX only")
def test_token_file_location_is_per_port(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from airflow_sagemaker_mlops.local.server import default_token_file

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_token_file(8765) == tmp_path / "airflow-sagemaker-mlops" / "local-engine-8765.token"
