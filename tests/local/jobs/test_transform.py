from __future__ import annotations

import json
import uuid

import boto3
import pytest
from _jobs_harness import ACCOUNT, REGION, ROLE, SKLEARN_IMAGE, Harness

from airflow_sagemaker_mlops.local.jobs import run_transform_job
from airflow_sagemaker_mlops.local.jobs._jsonpath import JsonPath
from airflow_sagemaker_mlops.local.jobs._s3 import JobInputError


def create_model(h: Harness, script: str | None, model_files: dict[str, bytes]) -> str:
    name = f"model-{uuid.uuid4().hex[:8]}"
    model_url = h.put_tar(f"{name}/model.tar.gz", model_files)
    env = {}
    if script:
        env = {
            "SAGEMAKER_PROGRAM": script,
            "SAGEMAKER_SUBMIT_DIRECTORY": h.put_sourcedir(f"{name}/sourcedir.tar.gz", script),
        }
    sm = boto3.client(
        "sagemaker", endpoint_url=h.url, region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test"
    )
    sm.create_model(
        ModelName=name,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": SKLEARN_IMAGE, "ModelDataUrl": model_url, "Environment": env},
    )
    return name


def transform_request(h: Harness, model: str, input_uri: str, **overrides) -> dict:
    request = {
        "ModelName": model,
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": input_uri}},
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        "TransformOutput": {
            "S3OutputPath": f"s3://{h.bucket}/predictions",
            "Accept": "text/csv",
            "AssembleWith": "Line",
        },
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        "BatchStrategy": "MultiRecord",
    }
    request.update(overrides)
    return request


LINEAR = {"model.json": json.dumps({"weights": [1.0, 10.0], "bias": 0.5}).encode()}


def test_transform_csv_lines_with_filters_and_join(harness: Harness) -> None:
    model = create_model(harness, "inference.py", LINEAR)
    harness.put("batch/in/part-1.csv", "a,1,2\nb,3,4\n")
    harness.put("batch/in/sub/part-2.csv", "c,0,1\n")
    request = transform_request(
        harness,
        model,
        f"s3://{harness.bucket}/batch/in/",
        DataProcessing={"InputFilter": "$[1:]", "JoinSource": "Input", "OutputFilter": "$[0,-1]"},
    )
    result = run_transform_job("tr-1", request, harness.ctx())
    assert result.status == "Completed", result.failure_reason
    assert harness.get("predictions/part-1.csv.out").decode() == "a,21.50\nb,43.50\n"
    assert harness.get("predictions/sub/part-2.csv.out").decode() == "c,10.50\n"
    d = result.description
    assert d["TransformJobArn"] == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:transform-job/tr-1"
    assert d["TransformOutput"]["S3OutputPath"] == f"s3://{harness.bucket}/predictions"
    assert d["TransformEndTime"] >= d["TransformStartTime"]
    # MultiRecord: one request per object.
    assert harness.lines["job"].count("batch of 2") == 1


def test_transform_single_record_without_processing(harness: Harness) -> None:
    model = create_model(harness, "inference.py", LINEAR)
    harness.put("batch/x.csv", "1,2\n3,4\n")
    request = transform_request(harness, model, f"s3://{harness.bucket}/batch/x.csv", BatchStrategy="SingleRecord")
    result = run_transform_job("tr-single", request, harness.ctx())
    assert result.status == "Completed", result.failure_reason
    assert harness.get("predictions/x.csv.out").decode() == "21.50\n43.50\n"
    assert harness.lines["job"].count("batch of 1") == 2


def test_transform_default_handlers_json(harness: Harness) -> None:
    model = create_model(harness, "default_handlers.py", {"marker.txt": b"ok"})
    harness.put("json/in.json", json.dumps([[1, 2], [3, 4]]))
    request = transform_request(
        harness,
        model,
        f"s3://{harness.bucket}/json/",
        TransformInput={
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{harness.bucket}/json/"}},
            "ContentType": "application/json",
        },
        TransformOutput={"S3OutputPath": f"s3://{harness.bucket}/json-out/"},
    )
    result = run_transform_job("tr-json", request, harness.ctx())
    assert result.status == "Completed", result.failure_reason
    assert json.loads(harness.get("json-out/in.json.out")) == [3, 7]


def test_transform_model_without_script_fails_clearly(harness: Harness) -> None:
    model = create_model(harness, None, LINEAR)
    harness.put("batch/x.csv", "1,2\n")
    result = run_transform_job(
        "tr-noscript", transform_request(harness, model, f"s3://{harness.bucket}/batch/"), harness.ctx()
    )
    assert result.status == "Failed"
    assert "SAGEMAKER_PROGRAM" in result.failure_reason


def test_transform_unsupported_jsonpath_names_it(harness: Harness) -> None:
    model = create_model(harness, "inference.py", LINEAR)
    harness.put("batch/x.csv", "1,2\n")
    request = transform_request(
        harness, model, f"s3://{harness.bucket}/batch/", DataProcessing={"InputFilter": "$..features"}
    )
    result = run_transform_job("tr-badpath", request, harness.ctx())
    assert result.status == "Failed"
    assert "unsupported JSONPath '$..features'" in result.failure_reason


def test_transform_user_error_fails_with_traceback(harness: Harness) -> None:
    model = create_model(harness, "inference.py", LINEAR)
    harness.put("batch/x.csv", "1,not-a-number\n")
    result = run_transform_job(
        "tr-err", transform_request(harness, model, f"s3://{harness.bucket}/batch/"), harness.ctx()
    )
    assert result.status == "Failed"
    assert "could not convert string to float" in result.failure_reason
    assert harness.keys("predictions/") == []


@pytest.mark.parametrize(
    ("expression", "record", "expected"),
    [
        ("$", [1, 2], [1, 2]),
        ("$[1:]", ["id", "1", "2"], ["1", "2"]),
        ("$[0,-1]", ["a", "b", "c"], ["a", "c"]),
        ("$[-1]", ["a", "b"], "b"),
        ("$[:-1]", ["a", "b", "c"], ["a", "b"]),
        ("$.features", {"features": [1, 2], "id": 3}, [1, 2]),
        ("$['SageMakerOutput'].score", {"SageMakerOutput": {"score": 0.5}}, 0.5),
        ("$.a[0]", {"a": [7, 8]}, 7),
    ],
)
def test_jsonpath_subset(expression: str, record: object, expected: object) -> None:
    assert JsonPath.parse(expression).apply(record) == expected


@pytest.mark.parametrize("expression", ["features", "$..x", "$[*]", "$[?(@.a)]"])
def test_jsonpath_rejects_the_rest(expression: str) -> None:
    with pytest.raises(JobInputError, match="JSONPath"):
        JsonPath.parse(expression)
