"""The engine's read-only console (local/console.py): execution and job pages a browser opens from Airflow."""

from __future__ import annotations

import datetime as dt
import re
import urllib.error
import urllib.request
from typing import Any

import pytest
from engine_helpers import processing_step, wait

from airflow_sagemaker_mlops.local.console import execution_path, job_path_of
from airflow_sagemaker_mlops.local.jobs.base import JobResult

EVIL = "<script>alert('x')</script>"


def get(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, dict(reply.headers), reply.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


@pytest.fixture
def failed_run(engine: Any, sm: Any, make_pipeline: Any, bucket: str) -> dict[str, Any]:
    def run(name: str, request: dict[str, Any], ctx: Any) -> JobResult:
        ctx.log("loading 42 rows")
        ctx.log(f"bad row: {EVIL}")
        return JobResult("Failed", {**request, "ProcessingJobName": name, "ProcessingJobStatus": "Failed",
                                    "ProcessingStartTime": dt.datetime(2026, 3, 4, 9, 0, tzinfo=dt.timezone.utc),
                                    "ProcessingEndTime": dt.datetime(2026, 3, 4, 9, 1, 4, tzinfo=dt.timezone.utc)},
                         f"AlgorithmError: {EVIL}")

    engine.config.job_runners["Processing"] = run
    pipeline = make_pipeline([processing_step("prep", bucket)],
                             [{"Name": "Note", "Type": "String", "DefaultValue": "x"}])
    arn = sm.start_pipeline_execution(PipelineName=pipeline, PipelineParameters=[
        {"Name": "Note", "Value": '"><img src=x onerror=alert(1)>'}])["PipelineExecutionArn"]
    wait(sm, arn)
    step = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"][0]
    return {"arn": arn, "job_arn": step["Metadata"]["ProcessingJob"]["Arn"], "pipeline": pipeline, "bucket": bucket}


def test_the_execution_page_lists_its_steps_with_reasons_and_job_links(engine: Any, failed_run: dict[str, Any]):
    execution_id = failed_run["arn"].rsplit("/", 1)[-1]
    status, headers, html = get(engine.url + execution_path(execution_id))
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert failed_run["pipeline"] in html and ">Failed</span>" in html
    job_link = job_path_of(failed_run["job_arn"])
    assert job_link and f'<a href="{job_link}">' in html
    row = re.search(r"<tr><td>prep</td>(.*?)</tr>", html).group(1)
    assert "Processing" in row and "AlgorithmError: &lt;script&gt;" in row


def test_the_job_page_shows_status_timings_log_outputs_and_request(engine: Any, failed_run: dict[str, Any]):
    status, headers, html = get(engine.url + job_path_of(failed_run["job_arn"]))
    assert status == 200
    for heading in ("S3 outputs", "Log", "Request"):
        assert f"<h2>{heading}</h2>" in html
    assert "loading 42 rows" in html and "bad row: &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert f"s3://{failed_run['bucket']}/prep/evaluation" in html  # the processing output
    assert "&quot;AppSpecification&quot;" in html  # the request, as JSON
    assert "<th>started</th><td>2026-03-04 09:00:00 UTC</td>" in html
    assert "<th>duration</th><td>1m 04s</td>" in html
    assert "default-src 'none'" in headers["Content-Security-Policy"]  # no script would run anyway


def test_nothing_from_users_reaches_the_page_unescaped(engine: Any, failed_run: dict[str, Any]):
    execution_id = failed_run["arn"].rsplit("/", 1)[-1]
    pages = [get(engine.url + execution_path(execution_id))[2], get(engine.url + job_path_of(failed_run["job_arn"]))[2],
             get(engine.url + "/_local/console/")[2]]
    for html in pages:
        assert "<script" not in html and "<img" not in html


def test_the_console_only_reads(engine: Any, failed_run: dict[str, Any]):
    execution_id = failed_run["arn"].rsplit("/", 1)[-1]
    for method in ("POST", "PUT", "DELETE"):
        # The engine's guard refuses an unauthenticated write before the console sees it; with the control
        # token it reaches the console, which answers that it only reads.
        assert get(engine.url + execution_path(execution_id), method)[0] == 403
        status, headers, _ = get(engine.url + execution_path(execution_id), method, engine.control_headers())
        assert status == 405 and headers["Allow"] == "GET, HEAD"
    status, _, body = get(engine.url + execution_path(execution_id), "HEAD")
    assert status == 200 and body == ""


def test_unknown_pages_are_404s_that_say_why(engine: Any):
    assert get(engine.url + execution_path("nope"))[0] == 404
    status, _, html = get(engine.url + "/_local/console/jobs/training-job/nope")
    assert status == 404 and "No training-job &#x27;nope&#x27;" in html
    assert get(engine.url + "/_local/console/whatever")[0] == 404
    status, _, html = get(engine.url + "/_local/console")
    assert status == 200 and "<h1>Executions</h1>" in html


def test_paths_from_arns():
    assert job_path_of("arn:aws:sagemaker:us-east-1:123456789012:training-job/fit-1") == \
        "/_local/console/jobs/training-job/fit-1"
    assert job_path_of("arn:aws:sagemaker:us-east-1:123456789012:model-package/g/1") is None
    assert execution_path("a/b") == "/_local/console/executions/a%2Fb"
