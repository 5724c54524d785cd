"""SageMaker's answers where clients rely on them (issue 12, Fidelity)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from engine_helpers import noop, wait
from test_engine_guard import send

SIGN = ("testing", "testing")
JSON = {"Content-Type": "application/x-amz-json-1.1"}


def call(engine: Any, target: str | None, body: bytes) -> tuple[int, dict[str, Any]]:
    headers = dict(JSON, **({"X-Amz-Target": target} if target else {}))
    status, _, payload = send(engine, "POST", "/", body, headers=headers, sign=SIGN)
    return status, json.loads(payload or b"{}")


# Each row: what AWS answers 400 to (SageMaker API reference constraints, JSON 1.1 protocol).
MALFORMED = [
    ("unknown operation", "SageMaker.DoesNotExist", b"{}", "UnknownOperationException"),
    ("target without the SageMaker. prefix", "Foo.ListPipelines", b"{}", "UnknownOperationException"),
    ("no X-Amz-Target", None, b"{}", "UnknownOperationException"),
    ("PipelineName a number", "SageMaker.DescribePipeline", b'{"PipelineName": 5}', "ValidationException"),
    ("NextToken a number", "SageMaker.ListPipelines", b'{"NextToken": 7}', "ValidationException"),
    ("CallbackToken a number", "SageMaker.SendPipelineExecutionStepSuccess", b'{"CallbackToken": 1}',
     "ValidationException"),
    ("SortBy outside the enum", "SageMaker.ListPipelines", b'{"SortBy": "Colour"}', "ValidationException"),
    ("SortOrder outside the enum", "SageMaker.ListPipelineExecutions",
     b'{"PipelineName": "p", "SortOrder": "Sideways"}', "ValidationException"),
    ("ClientRequestToken under 32 characters", "SageMaker.StartPipelineExecution",
     b'{"PipelineName": "p", "ClientRequestToken": "short"}', "ValidationException"),
    ("inline definition over 1 MiB", "SageMaker.CreatePipeline",
     json.dumps({"PipelineName": "big", "RoleArn": "arn:aws:iam::123456789012:role/R",
                 "PipelineDefinition": "x" * (1024 * 1024 + 1)}).encode(), "ValidationException"),
    ("deeply nested JSON", "SageMaker.ListPipelines", b"[" * 100000 + b"]" * 100000, "SerializationException"),
    ("body not JSON", "SageMaker.ListPipelines", b"{nope", "SerializationException"),
    ("body a JSON array", "SageMaker.ListPipelines", b"[]", "SerializationException"),
    ("MaxResults out of range", "SageMaker.ListPipelines", b'{"MaxResults": 1000}', "ValidationException"),
]


@pytest.mark.parametrize(("what", "target", "body", "code"), MALFORMED, ids=[row[0] for row in MALFORMED])
def test_malformed_requests_get_a_4xx_json_error(engine: Any, sm: Any, what: str, target: str | None,
                                                 body: bytes, code: str) -> None:
    status, error = call(engine, target, body)
    assert 400 <= status < 500, (what, status, error)
    assert error["__type"] == code and error["message"]
    assert "PipelineSummaries" in sm.list_pipelines()  # the engine stays up


def test_stop_after_the_end_answers_like_sagemaker_for_the_provider_hook(
    engine: Any, sm: Any, make_pipeline: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Airflow's SageMakerHook.stop_pipeline matches ValidationException "Only pipelines with 'Executing'
    status can be stopped" to treat an ended execution as nothing to stop."""
    from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook

    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps(
        {"conn_type": "aws", "login": "testing", "password": "testing",
         "extra": {"endpoint_url": engine.url, "region_name": "us-east-1"}}))
    arn = sm.start_pipeline_execution(PipelineName=make_pipeline([noop("A")]))["PipelineExecutionArn"]
    assert wait(sm, arn)["PipelineExecutionStatus"] == "Succeeded"
    assert SageMakerHook(aws_conn_id="aws_default").stop_pipeline(arn) == "Succeeded"


def test_moto_reset_resets_the_engine_too(engine: Any, sm: Any, make_pipeline: Any) -> None:
    name = make_pipeline([noop("A")])
    status, _, _ = send(engine, "POST", "/moto-api/reset", headers=engine.control_headers())
    assert status == 200
    assert not any(p["PipelineName"] == name for p in sm.list_pipelines()["PipelineSummaries"])


def test_describe_pipeline_says_who_created_and_changed_it(engine: Any, sm: Any, make_pipeline: Any) -> None:
    """DescribePipeline CreatedBy/LastModifiedBy (UserContext.IamIdentity.Arn), as SageMaker reports them."""
    import boto3

    name = make_pipeline([noop("A")])
    root = "arn:aws:iam::123456789012:root"
    described = sm.describe_pipeline(PipelineName=name)
    assert described["CreatedBy"]["IamIdentity"]["Arn"] == root
    iam = engine.client("iam")
    user = f"editor-{name}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    editor = boto3.client("sagemaker", endpoint_url=engine.url, region_name="us-east-1",
                          aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    editor.update_pipeline(PipelineName=name, PipelineDescription="changed")
    described = sm.describe_pipeline(PipelineName=name)
    assert described["CreatedBy"]["IamIdentity"]["Arn"] == root
    assert described["LastModifiedBy"]["IamIdentity"]["Arn"] == f"arn:aws:iam::123456789012:user/{user}"


def test_a_missing_input_bucket_is_a_client_error_not_an_internal_one(engine: Any, sm: Any) -> None:
    """Retry policies on SageMaker.JOB_INTERNAL_ERROR must not retry a request's own mistake."""
    from test_engine_sandbox import processing_step, run

    step = processing_step("print('ran')", inputs=[{"InputName": "in", "S3Input": {
        "S3Uri": "s3://no-such-bucket-anywhere/in", "LocalPath": "/opt/ml/processing/in",
        "S3DataType": "S3Prefix", "S3InputMode": "File"}}])
    status, record = run(sm, step)
    assert status == "Failed"
    assert record["FailureReason"].startswith("ClientError:") and "NoSuchBucket" in record["FailureReason"]


def _job(name: str, **extra: Any) -> dict[str, Any]:
    return {"Name": name, "Type": "Processing", "Arguments": {"AppSpecification": {"ImageUri": "img"}}, **extra}


# CreatePipeline/UpdatePipeline answer ValidationException "Unable to parse pipeline definition." for a
# definition that does not follow the pipeline definition JSON schema or refers to what it does not declare.
BAD_DEFINITIONS = [
    ("unknown Parameters.X reference",
     {"Steps": [_job("A", Arguments={"AppSpecification": {"ImageUri": {"Get": "Parameters.Image"}}})]},
     "unknown parameter 'Image'"),
    ("unknown step type", {"Steps": [{"Name": "A", "Type": "Teleport", "Arguments": {}}]},
     "unsupported step type 'Teleport'"),
    ("Arguments not an object", {"Steps": [{"Name": "A", "Type": "Processing", "Arguments": ["x"]}]},
     "Arguments must be an object"),
    ("Integer default that is not an integer",
     {"Parameters": [{"Name": "Count", "Type": "Integer", "DefaultValue": "abc"}], "Steps": [_job("A")]},
     "'abc' (str) is not a Integer"),
    ("Float default that is not a number",
     {"Parameters": [{"Name": "Rate", "Type": "Float", "DefaultValue": "fast"}], "Steps": [_job("A")]},
     "is not a Float"),
    ("Boolean default that is not a boolean",
     {"Parameters": [{"Name": "On", "Type": "Boolean", "DefaultValue": "yes"}], "Steps": [_job("A")]},
     "is not a Boolean"),
    ("reference to an unknown step",
     {"Steps": [_job("A", Arguments={"AppSpecification": {"ImageUri": {"Get": "Steps.nope.ProcessingJobName"}}})]},
     "unknown step 'nope'"),
    ("duplicate step names", {"Steps": [_job("A"), _job("A")]}, "duplicate step name"),
    ("a DependsOn trigger outside Failed/Stopped/Any",
     {"Steps": [_job("A"), _job("B", DependsOn=[{"Step": "A", "Trigger": "Sometimes"}])]}, "DependsOn entry"),
]


@pytest.mark.parametrize(("what", "document", "fragment"), BAD_DEFINITIONS, ids=[r[0] for r in BAD_DEFINITIONS])
def test_create_and_update_reject_what_sagemaker_rejects(sm: Any, make_pipeline: Any, what: str,
                                                         document: dict[str, Any], fragment: str) -> None:
    from botocore.exceptions import ClientError
    from engine_helpers import ROLE, unique

    text = json.dumps({"Version": "2020-12-01", **document})
    name = unique()
    with pytest.raises(ClientError) as created:
        sm.create_pipeline(PipelineName=name, PipelineDefinition=text, RoleArn=ROLE)
    error = created.value.response["Error"]
    assert error["Code"] == "ValidationException", what
    assert error["Message"].startswith("Unable to parse pipeline definition.") and fragment in error["Message"]
    assert not any(p["PipelineName"] == name for p in sm.list_pipelines()["PipelineSummaries"])  # nothing half made
    existing = make_pipeline([noop("A")])
    with pytest.raises(ClientError) as updated:
        sm.update_pipeline(PipelineName=existing, PipelineDefinition=text)
    assert fragment in updated.value.response["Error"]["Message"]
    assert json.loads(sm.describe_pipeline(PipelineName=existing)["PipelineDefinition"])["Steps"][0]["Name"] == "A"


def test_the_compilers_golden_definitions_pass_the_engines_check(sm: Any) -> None:
    """One check for both: what the compiler emits is what the engine accepts (definition.read)."""
    from pathlib import Path

    from engine_helpers import ROLE, unique

    golden = sorted((Path(__file__).parents[1] / "golden").glob("*.json"))
    assert golden
    for path in golden:
        for request in json.loads(path.read_text()).values():
            name = unique()
            sm.create_pipeline(PipelineName=name, PipelineDefinition=json.dumps(request["PipelineDefinition"]),
                               RoleArn=ROLE)
            sm.delete_pipeline(PipelineName=name)


def test_a_next_token_the_engine_did_not_issue_is_refused(sm: Any, make_pipeline: Any) -> None:
    """ListPipelines NextToken: "If the result of the previous ListPipelines request was truncated, the
    response includes a NextToken" - only such a token continues a listing."""
    import base64

    from botocore.exceptions import ClientError

    for _ in range(3):
        make_pipeline([noop("A")])
    first = sm.list_pipelines(MaxResults=1)
    assert len(sm.list_pipelines(MaxResults=1, NextToken=first["NextToken"])["PipelineSummaries"]) == 1
    forged = [base64.urlsafe_b64encode(b"offset:1").decode(), base64.urlsafe_b64encode(b"1.0000").decode(),
              first["NextToken"][:-4] + "AAAA", "garbage!!"]
    for token in forged:
        with pytest.raises(ClientError) as refused:
            sm.list_pipelines(MaxResults=1, NextToken=token)
        assert refused.value.response["Error"]["Code"] == "ValidationException", token
    # Issued for another listing: refused too.
    arn = sm.start_pipeline_execution(PipelineName=make_pipeline([noop("A")]))["PipelineExecutionArn"]
    wait(sm, arn)
    with pytest.raises(ClientError):
        sm.list_pipeline_execution_steps(PipelineExecutionArn=arn, NextToken=first["NextToken"])
