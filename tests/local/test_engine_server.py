"""The server itself: serve(), loopback policy, fault injection (Python API and control endpoint)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError
from engine_helpers import noop, steps_of, wait

from airflow_sagemaker_mlops.local.faults import FaultConfig, StepFault
from airflow_sagemaker_mlops.local.server import LocalEngine, is_loopback, parse_lambda_mapping
from airflow_sagemaker_mlops.local.state import EngineConfig


def control(engine: Any, method: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{engine.url}/_local/faults", data=data, method=method, headers=engine.control_headers()
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_throttling_fault_answers_throttling_exception(engine: Any, sm: Any) -> None:
    engine.faults.throttle(1.0, operations=["ListPipelines"])
    with pytest.raises(ClientError) as excinfo:
        sm.list_pipelines()
    error = excinfo.value.response
    assert error["Error"]["Code"] == "ThrottlingException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as other:
        sm.describe_pipeline(PipelineName="missing-one")
    assert other.value.response["Error"]["Code"] == "ResourceNotFound"


def test_throttling_share_is_seeded(engine: Any, sm: Any) -> None:
    def pattern() -> list[bool]:
        engine.faults.throttle(0.5, seed=7)
        throttled = []
        for _ in range(20):
            try:
                sm.list_pipelines(MaxResults=1)
                throttled.append(False)
            except ClientError as exc:
                assert exc.response["Error"]["Code"] == "ThrottlingException"
                throttled.append(True)
        return throttled

    first = pattern()
    assert 0 < sum(first) < 20
    assert pattern() == first  # same seed, same calls throttled


def test_latency_fault(engine: Any, sm: Any) -> None:
    engine.faults.latency(150)
    started = time.monotonic()
    sm.list_pipelines()
    assert time.monotonic() - started >= 0.15


def test_control_endpoint_changes_a_running_server(engine: Any, sm: Any, make_pipeline: Any) -> None:
    name = make_pipeline([noop("A"), noop("B")])
    status, config = control(
        engine,
        "POST",
        {
            "step_failures": [
                {"step": "B", "reason": "ClientError: injected over HTTP", "attempts": 1, "pipeline": name}
            ]
        },
    )
    assert status == 200
    assert config["step_failures"][0]["step"] == "B"
    assert control(engine, "GET")[1] == config

    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert wait(sm, arn)["PipelineExecutionStatus"] == "Failed"
    assert steps_of(sm, arn)["B"]["FailureReason"] == "ClientError: injected over HTTP"
    sm.retry_pipeline_execution(PipelineExecutionArn=arn)  # attempt 2 is not faulted
    assert wait(sm, arn)["PipelineExecutionStatus"] == "Succeeded"

    status, config = control(engine, "DELETE")
    assert status == 200 and config["step_failures"] == []
    assert control(engine, "POST", {"throttle_rate": 2})[0] == 400
    assert control(engine, "POST", {"bogus": 1})[0] == 400


def test_health_endpoint(engine: Any) -> None:
    with urllib.request.urlopen(f"{engine.url}/_local/health", timeout=10) as response:
        assert json.loads(response.read())["status"] == "ok"


def test_fault_config_round_trip() -> None:
    config = FaultConfig(throttle_rate=0.25, latency_ms=5, seed=3, step_failures=[StepFault("Train", attempts=2)])
    assert FaultConfig.from_dict(config.to_dict()) == config


def test_loopback_policy() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0")
    assert not is_loopback("10.1.2.3")
    with pytest.raises(ValueError, match="non-loopback"):
        LocalEngine(host="0.0.0.0")


def test_lambda_mapping_parsing() -> None:
    assert parse_lambda_mapping(["arn:aws:lambda:us-east-1:1:function:f=pkg.mod:handler"]) == {
        "arn:aws:lambda:us-east-1:1:function:f": "pkg.mod:handler"
    }
    with pytest.raises(ValueError):
        parse_lambda_mapping(["no-target"])


def test_in_process_engine_with_its_own_config() -> None:
    with LocalEngine(EngineConfig(region="eu-west-1", faults=FaultConfig(latency_ms=1))) as engine:
        assert engine.url.startswith("http://127.0.0.1:")
        sm = engine.client("sagemaker")
        assert sm.list_pipelines()["PipelineSummaries"] == []
        assert engine.faults.config.latency_ms == 1


def test_serve_prints_its_address_and_stops_on_sigterm() -> None:
    code = "from airflow_sagemaker_mlops.local.server import serve; serve(port=0)"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:")
        url = line.removeprefix("listening on ")
        with urllib.request.urlopen(f"{url}/_local/health", timeout=10) as response:
            assert response.status == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_serve_refuses_non_loopback_host() -> None:
    code = "from airflow_sagemaker_mlops.local.server import serve; serve(host='0.0.0.0', port=0)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode != 0
    assert "non-loopback" in proc.stderr


def test_engine_cli_options() -> None:
    import argparse

    from airflow_sagemaker_mlops.local.server import add_engine_arguments, engine_options_from_args

    parser = argparse.ArgumentParser()
    add_engine_arguments(parser)
    args = parser.parse_args(
        [
            "--throttle-rate",
            "0.2",
            "--throttle-operations",
            "ListPipelines,DescribePipeline",
            "--latency-ms",
            "5",
            "--fault-seed",
            "3",
            "--fail-step",
            "Train:2=InternalServerError: flaky",
            "--fail-step",
            "Eval",
            "--lambda",
            "fn=pkg.mod:handler",
            "--retry-interval-scale",
            "0.01",
            "--region",
            "eu-west-1",
            "--enforce-iam",
        ]
    )
    options = engine_options_from_args(args)
    assert options["enforce_iam"] is True
    assert engine_options_from_args(parser.parse_args([]))["enforce_iam"] is False
    faults = options["faults"]
    assert faults.throttle_rate == 0.2 and faults.operations == ["ListPipelines", "DescribePipeline"]
    assert faults.step_failures == [
        StepFault("Train", reason="InternalServerError: flaky", attempts=2),
        StepFault("Eval"),
    ]
    assert options["lambda_handlers"] == {"fn": "pkg.mod:handler"}
    assert (options["region"], options["retry_interval_scale"]) == ("eu-west-1", 0.01)
    with pytest.raises(ValueError):
        engine_options_from_args(parser.parse_args(["--throttle-rate", "3"]))
