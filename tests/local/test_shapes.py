"""Requests checked against botocore's SageMaker input shapes (local/shapes.py), worded as AWS words its
ValidationException. The wording is pinned in request_shape_errors.json beside this file; regenerate after an
intended change with ``UPDATE_GOLDEN=1 pytest tests/local/test_shapes.py``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from airflow_sagemaker_mlops.local.errors import ValidationError
from airflow_sagemaker_mlops.local.shapes import MAX_ERRORS, validate_request

GOLDEN = Path(__file__).with_name("request_shape_errors.json")

# One row a rule: every member type, required members, enums, lengths, ranges, nesting in lists and maps.
CASES: list[tuple[str, str, Any]] = [
    ("enum", "ListPipelines", {"SortBy": "Colour"}),
    ("range above", "ListPipelines", {"MaxResults": 1000}),
    ("range below", "UpdatePipeline", {"PipelineName": "p", "ParallelismConfiguration": {
        "MaxParallelExecutionSteps": 0}}),
    ("bool is no integer", "ListPipelines", {"MaxResults": True}),
    ("string is no integer", "ListPipelines", {"MaxResults": "5"}),
    ("float is no integer", "StartPipelineExecution", {"PipelineName": "p", "ParallelismConfiguration": {
        "MaxParallelExecutionSteps": 1.5}}),
    ("bool is no timestamp", "ListPipelines", {"CreatedAfter": True}),
    ("timestamp as text, token as number", "ListPipelines", {"CreatedAfter": "2026-01-01", "NextToken": 7}),
    ("bytes are no string", "DescribePipelineExecution", {"PipelineExecutionArn": b"x"}),
    ("string too short", "StartPipelineExecution", {"PipelineName": "p", "ClientRequestToken": "short"}),
    ("string too long, list too long", "SendPipelineExecutionStepSuccess", {
        "CallbackToken": "t" * 20, "OutputParameters": [{"Name": "n", "Value": "v"}] * 60}),
    ("long value shown cut", "ListPipelines", {"SortBy": "x" * 300}),
    ("object is no list", "StartPipelineExecution", {"PipelineName": "p", "PipelineParameters": {"a": 1}}),
    ("list items: required member, object", "StartPipelineExecution", {
        "PipelineName": "p", "PipelineParameters": [{"Name": "a"}, 5]}),
    ("list too short", "StartPipelineExecution", {"PipelineName": "p", "SelectiveExecutionConfig": {
        "SelectedSteps": []}}),
    ("required member", "CreatePipeline", {"PipelineName": "p"}),
    ("body no object", "CreatePipeline", "not an object"),
    ("nested string", "AddTags", {"ResourceArn": "arn", "Tags": [{"Key": "k", "Value": 5}]}),
    ("nested required", "CreateExperiment", {"ExperimentName": "e", "Tags": [{"Key": "k"}]}),
    ("map value", "CreateModelPackage", {"ModelPackageGroupName": "g", "CustomerMetadataProperties": {"k": 5}}),
    ("map key", "CreateModelPackage", {"ModelPackageGroupName": "g", "CustomerMetadataProperties": {"": "v"}}),
    ("enum in a nested operation", "ListModelPackageGroups", {"CrossAccountFilterOption": "x", "MaxResults": 5}),
    ("boolean", "CreateModelPackage", {"ModelPackageGroupName": "g", "CertifyForMarketplace": "yes"}),
    ("double in a map's structure", "CreateTrialComponent", {"TrialComponentName": "t", "Parameters": {
        "lr": {"NumberValue": "0.1"}}}),
    ("double given an integer, bool no double", "CreateTrialComponent", {"TrialComponentName": "t", "Parameters": {
        "epochs": {"NumberValue": 3}, "flag": {"NumberValue": False}}}),
    ("many errors, first ten shown", "CreatePipeline", {
        "PipelineName": 1, "RoleArn": 2, "ClientRequestToken": 3, "PipelineDescription": 4, "Tags": 5,
        "PipelineDefinition": 6, "PipelineDisplayName": 7, "ParallelismConfiguration": 8,
        "PipelineDefinitionS3Location": 9, "MlflowConfig": 10, "Extra": 11}),
    ("a good request", "DescribePipeline", {"PipelineName": "p"}),
    ("idempotency token left to the SDKs", "StartPipelineExecution", {"PipelineName": "p"}),
    ("every type right", "CreateTrialComponent", {
        "TrialComponentName": "t", "StartTime": "2026-12-03T00:00:00Z", "Parameters": {"lr": {"NumberValue": 0.1}},
        "Tags": [{"Key": "k", "Value": "v"}]}),
]


def _answer(operation: str, body: Any) -> str | None:
    try:
        validate_request(operation, body)
    except ValidationError as exc:
        return str(exc)
    return None


def test_request_shape_errors_are_worded_as_aws_words_them() -> None:
    answers = {label: _answer(operation, body) for label, operation, body in CASES}
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(answers, indent=2, ensure_ascii=False) + "\n")
    assert answers == json.loads(GOLDEN.read_text())


def test_the_count_is_of_every_error_and_the_list_of_the_first_ten() -> None:
    body = {"Tags": [{"Key": 1, "Value": 2}] * 20}
    message = _answer("AddTags", body) or ""
    assert message.startswith("41 validation errors detected: ")  # ResourceArn missing + 2 per tag
    assert message.count("failed to satisfy constraint") == MAX_ERRORS

