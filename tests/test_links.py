"""Extra links: the AWS console on AWS, the local engine's console against the engine (links.py)."""

from __future__ import annotations

import socket
from typing import Any

from airflow_sagemaker_mlops import links

EXECUTION = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/churn/execution/abc123"
JOB = "arn:aws:sagemaker:eu-west-1:123456789012:training-job/pipelines-abc123-fit-1"


def test_a_stored_local_url_wins_over_the_console_format():
    link = links.SageMakerStepJobLink()
    fields = {"region_name": "eu-west-1", "aws_domain": "aws.amazon.com", **links.job_link_fields(JOB)}
    assert link.format_link(**fields) == \
        "https://console.aws.amazon.com/sagemaker/home?region=eu-west-1#/jobs/pipelines-abc123-fit-1"
    assert link.format_link(**fields, local_url="http://127.0.0.1:8765/_local/console/jobs/x/y") == \
        "http://127.0.0.1:8765/_local/console/jobs/x/y"


def test_console_pages_of_arns():
    base = "http://127.0.0.1:8765"
    assert links.local_console_url(base, EXECUTION) == f"{base}/_local/console/executions/abc123"
    assert links.local_console_url(base, JOB) == f"{base}/_local/console/jobs/training-job/pipelines-abc123-fit-1"
    assert links.local_console_url(base, "arn:aws:sagemaker:eu-west-1:1:model-package/g/1") == \
        f"{base}/_local/console/model-packages/g/1"
    assert links.local_console_url(base, "arn:aws:sagemaker:eu-west-1:1:endpoint/e") == f"{base}/_local/console/"
    assert links.local_console_url(None, JOB) is None


def test_the_local_engine_is_recognised_by_its_console(sagemaker_local_engine: Any):
    assert links.is_local_engine(sagemaker_local_engine.url)
    # The browser may reach the engine elsewhere (compose: sagemaker-local:8765 inside, 127.0.0.1 outside).
    assert links.local_console_base(sagemaker_local_engine.url, {"local_console_url": "http://127.0.0.1:9/"}) == \
        "http://127.0.0.1:9"
    assert links.local_console_base(sagemaker_local_engine.url + "/") == sagemaker_local_engine.url


def test_anything_else_is_aws():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    assert not links.is_local_engine(closed)
    assert not links.is_local_engine(None)
    assert links.local_console_base(closed) is None
