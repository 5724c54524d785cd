"""The engine's read-only console (local/console.py): execution, job, model and model package pages a browser
opens from Airflow."""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.error
import urllib.request
from typing import Any

import pytest
from engine_helpers import ROLE, processing_step, steps_of, unique, wait

from airflow_sagemaker_mlops.local.console import MAX_METRICS_BYTES, execution_path, resource_path_of
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
    job_link = resource_path_of(failed_run["job_arn"])
    assert job_link and f'<a href="{job_link}">' in html
    row = re.search(r"<tr><td>prep</td>(.*?)</tr>", html).group(1)
    assert "Processing" in row and "AlgorithmError: &lt;script&gt;" in row


def test_the_job_page_shows_status_timings_log_outputs_and_request(engine: Any, failed_run: dict[str, Any]):
    status, headers, html = get(engine.url + resource_path_of(failed_run["job_arn"]))
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
    pages = [get(engine.url + execution_path(execution_id))[2],
             get(engine.url + resource_path_of(failed_run["job_arn"]))[2], get(engine.url + "/_local/console/")[2]]
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
    assert resource_path_of("arn:aws:sagemaker:us-east-1:123456789012:training-job/fit-1") == \
        "/_local/console/jobs/training-job/fit-1"
    assert resource_path_of("arn:aws:sagemaker:us-east-1:123456789012:model-package/g/1") == \
        "/_local/console/model-packages/g/1"
    assert resource_path_of("arn:aws:sagemaker:us-east-1:123456789012:model/m-1") == "/_local/console/models/m-1"
    assert resource_path_of("arn:aws:sagemaker:us-east-1:123456789012:endpoint/e") is None
    assert execution_path("a/b") == "/_local/console/executions/a%2Fb"


# -- models and model packages (what Model / CreateModel and RegisterModel steps make) ---------------------

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1"


@pytest.fixture
def registered_run(engine: Any, sm: Any, make_pipeline: Any, bucket: str) -> dict[str, Any]:
    s3 = engine.client("s3")
    metrics = {"metrics": {"auc": {"value": 0.81}}, "note": EVIL}
    s3.put_object(Bucket=bucket, Key="eval/evaluation.json", Body=json.dumps(metrics).encode())
    s3.put_object(Bucket=bucket, Key="eval/huge.json", Body=b"{" + b" " * (MAX_METRICS_BYTES + 1) + b"}")
    container = {"Image": IMAGE, "ModelDataUrl": f"s3://{bucket}/fit/model.tar.gz",
                 "Environment": {"SAGEMAKER_PROGRAM": "serve.py", "NOTE": EVIL}}
    group = unique("churn")
    model = {"Name": "make-model", "Type": "Model", "Arguments": {"ExecutionRoleArn": ROLE,
                                                                 "PrimaryContainer": container}}
    register = {"Name": "register", "Type": "RegisterModel", "Arguments": {
        "ModelPackageGroupName": group, "ModelApprovalStatus": "PendingManualApproval",
        "ModelPackageDescription": f"churn model {EVIL}",
        "InferenceSpecification": {"Containers": [container], "SupportedContentTypes": ["text/csv"],
                                   "SupportedResponseMIMETypes": ["text/csv"],
                                   "SupportedRealtimeInferenceInstanceTypes": ["ml.m5.large"]},
        "ModelMetrics": {"ModelQuality": {
            "Statistics": {"ContentType": "application/json", "S3Uri": f"s3://{bucket}/eval/evaluation.json"},
            "Constraints": {"ContentType": "application/json", "S3Uri": f"s3://{bucket}/eval/huge.json"}}},
        "CustomerMetadataProperties": {"trained_by": "console-test"}}}
    arn = sm.start_pipeline_execution(PipelineName=make_pipeline([model, register]))["PipelineExecutionArn"]
    assert wait(sm, arn)["PipelineExecutionStatus"] == "Succeeded", steps_of(sm, arn)
    steps = steps_of(sm, arn)
    return {"arn": arn, "group": group, "bucket": bucket, "model_arn": steps["make-model"]["Metadata"]["Model"]["Arn"],
            "package_arn": steps["register"]["Metadata"]["RegisterModel"]["Arn"]}


def test_the_execution_page_links_the_model_and_model_package_it_made(engine: Any, registered_run: dict[str, Any]):
    html = get(engine.url + execution_path(registered_run["arn"].rsplit("/", 1)[-1]))[2]
    for arn in (registered_run["model_arn"], registered_run["package_arn"]):
        page = resource_path_of(arn)
        assert page and f'<a href="{page}">' in html, (arn, html)


def test_the_model_page_shows_image_model_data_role_and_environment(engine: Any, registered_run: dict[str, Any]):
    status, headers, html = get(engine.url + resource_path_of(registered_run["model_arn"]))
    assert status == 200 and "default-src 'none'" in headers["Content-Security-Policy"]
    assert f"<h1>Model {registered_run['model_arn'].rsplit('/', 1)[1]}</h1>" in html
    assert f"<code>{IMAGE}</code>" in html
    assert f"<code>s3://{registered_run['bucket']}/fit/model.tar.gz</code>" in html
    assert f"<th>execution role</th><td><code>{ROLE}</code></td>" in html
    assert "<code>SAGEMAKER_PROGRAM</code></td><td><code>serve.py</code>" in html
    assert "&lt;script&gt;" in html and "<script" not in html


def test_the_model_package_page_shows_approval_inference_and_metrics(engine: Any, registered_run: dict[str, Any]):
    status, _, html = get(engine.url + resource_path_of(registered_run["package_arn"]))
    assert status == 200
    group = registered_run["group"]
    assert f"<th>group</th><td>{group}</td>" in html and "<th>version</th><td>1</td>" in html
    assert ">PendingManualApproval</span>" in html
    assert "<h2>Inference specification</h2>" in html and "<th>content types</th><td>text/csv</td>" in html
    assert "<th>real-time instances</th><td>ml.m5.large</td>" in html and f"<code>{IMAGE}</code>" in html
    # The metrics document, read from the engine's S3 and shown inline; a large one is named, not shown.
    assert "ModelQuality.Statistics" in html and f"s3://{registered_run['bucket']}/eval/evaluation.json" in html
    assert "&quot;auc&quot;: {" in html and "0.81" in html
    assert "ModelQuality.Constraints" in html and "over 64 KiB" in html
    assert "<td>trained_by</td><td>console-test</td>" in html
    assert "<script" not in html and "churn model &lt;script&gt;" in html


def test_model_pages_are_read_only_and_404_when_unknown(engine: Any, registered_run: dict[str, Any]):
    page = engine.url + resource_path_of(registered_run["package_arn"])
    assert get(page, "POST")[0] == 403  # the guard, before the console
    assert get(page, "POST", headers=engine.control_headers())[0] == 405
    assert get(page, "HEAD")[:3:2] == (200, "")
    status, _, html = get(engine.url + "/_local/console/model-packages/nope/9")
    assert status == 404 and "No model package &#x27;nope/9&#x27;" in html
    assert get(engine.url + "/_local/console/models/nope")[0] == 404
    # Through the guard's Host rules like every console page: a name the engine was not told is refused.
    assert get(page, headers={"Host": "evil.example:80"})[0] == 403
