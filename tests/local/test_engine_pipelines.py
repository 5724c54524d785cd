"""The engine through boto3: pipeline CRUD, executions, parameters, and errors in AWS's shape."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError
from engine_helpers import ROLE, definition, noop, steps_of, unique, wait


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = excinfo.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def test_create_describe_update_list_delete(sm: Any) -> None:
    name = unique()
    doc = definition([noop("A")])
    arn = sm.create_pipeline(
        PipelineName=name,
        PipelineDefinition=doc,
        RoleArn=ROLE,
        PipelineDescription="first",
        ParallelismConfiguration={"MaxParallelExecutionSteps": 3},
    )["PipelineArn"]
    assert arn == f"arn:aws:sagemaker:us-east-1:123456789012:pipeline/{name.lower()}"

    desc = sm.describe_pipeline(PipelineName=name)
    assert desc["PipelineDefinition"] == doc
    assert desc["PipelineStatus"] == "Active"
    assert desc["RoleArn"] == ROLE
    assert desc["PipelineDescription"] == "first"
    assert desc["ParallelismConfiguration"] == {"MaxParallelExecutionSteps": 3}
    assert sm.describe_pipeline(PipelineName=arn)["PipelineName"] == name

    new_doc = definition([noop("A"), noop("B")])
    updated = sm.update_pipeline(PipelineName=name, PipelineDefinition=new_doc, PipelineDescription="second")
    assert updated["PipelineArn"] == arn
    assert updated["PipelineVersionId"] == 2
    assert sm.describe_pipeline(PipelineName=name)["PipelineDefinition"] == new_doc
    assert sm.describe_pipeline(PipelineName=name, PipelineVersionId=1)["PipelineDefinition"] == doc

    names = [p["PipelineName"] for p in sm.list_pipelines(PipelineNamePrefix=name)["PipelineSummaries"]]
    assert names == [name]

    assert sm.delete_pipeline(PipelineName=name)["PipelineArn"] == arn
    with pytest.raises(ClientError) as excinfo:
        sm.describe_pipeline(PipelineName=name)
    code, message, status = error_of(excinfo)
    assert (code, status) == ("ResourceNotFound", 400)
    assert name in message


def test_duplicate_create_is_a_validation_error_the_sdk_recognises(sm: Any) -> None:
    name = unique()
    sm.create_pipeline(PipelineName=name, PipelineDefinition=definition([noop("A")]), RoleArn=ROLE)
    with pytest.raises(ClientError) as excinfo:
        sm.create_pipeline(PipelineName=name, PipelineDefinition=definition([noop("A")]), RoleArn=ROLE)
    code, message, _ = error_of(excinfo)
    assert code == "ValidationException"
    assert "already exists" in message


@pytest.mark.parametrize(
    ("doc", "fragment"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"Version": "2020-12-01"}), "'Steps'"),
        (definition([noop("A"), noop("A")]), "duplicate step name"),
        (definition([noop("A", DependsOn=["Missing"])]), "unknown step 'Missing'"),
        (definition([noop("A", DependsOn=["B"]), noop("B", DependsOn=["A"])]), "cycle"),
        (definition([noop("bad name")]), "'bad name' is not valid"),
        (definition([noop("A")], [{"Name": "P", "Type": "Decimal"}]), "type"),
    ],
)
def test_invalid_definitions_are_rejected_with_a_reason(sm: Any, doc: str, fragment: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        sm.create_pipeline(PipelineName=unique(), PipelineDefinition=doc, RoleArn=ROLE)
    code, message, status = error_of(excinfo)
    assert (code, status) == ("ValidationException", 400)
    assert fragment in message


def test_invalid_pipeline_name_is_rejected(engine: Any) -> None:
    # botocore does not check patterns client-side: the server must.
    sm = engine.client("sagemaker")
    with pytest.raises(ClientError) as excinfo:
        sm.create_pipeline(PipelineName="bad_name", PipelineDefinition=definition([noop("A")]), RoleArn=ROLE)
    assert error_of(excinfo)[0] == "ValidationException"


def test_definition_from_s3(sm: Any, engine: Any, bucket: str) -> None:
    doc = definition([noop("FromS3")])
    engine.client("s3").put_object(Bucket=bucket, Key="defs/p.json", Body=doc.encode())
    name = unique()
    sm.create_pipeline(
        PipelineName=name,
        PipelineDefinitionS3Location={"Bucket": bucket, "ObjectKey": "defs/p.json"},
        RoleArn=ROLE,
    )
    assert sm.describe_pipeline(PipelineName=name)["PipelineDefinition"] == doc
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert wait(sm, arn)["PipelineExecutionStatus"] == "Succeeded"

    with pytest.raises(ClientError) as excinfo:
        sm.create_pipeline(
            PipelineName=unique(),
            PipelineDefinitionS3Location={"Bucket": bucket, "ObjectKey": "defs/missing.json"},
            RoleArn=ROLE,
        )
    code, message, _ = error_of(excinfo)
    assert code == "ValidationException" and "defs/missing.json" in message


def test_list_pipelines_sorts_and_paginates(sm: Any) -> None:
    prefix = f"lp-{uuid.uuid4().hex[:6]}"
    names = [f"{prefix}-{i}" for i in range(5)]
    for name in names:
        sm.create_pipeline(PipelineName=name, PipelineDefinition=definition([noop("A")]), RoleArn=ROLE)
    page = sm.list_pipelines(PipelineNamePrefix=prefix, MaxResults=2, SortBy="Name", SortOrder="Ascending")
    assert [p["PipelineName"] for p in page["PipelineSummaries"]] == names[:2]
    assert page["NextToken"]
    seen = []
    for page in sm.get_paginator("list_pipelines").paginate(
        PipelineNamePrefix=prefix, SortBy="Name", SortOrder="Descending", PaginationConfig={"PageSize": 2}
    ):
        seen += [p["PipelineName"] for p in page["PipelineSummaries"]]
    assert seen == list(reversed(names))


def test_parameters_defaults_overrides_and_types(sm: Any, make_pipeline: Any) -> None:
    params = [
        {"Name": "S", "Type": "String", "DefaultValue": "abc"},
        {"Name": "I", "Type": "Integer", "DefaultValue": 2},
        {"Name": "F", "Type": "Float", "DefaultValue": 0.5},
        {"Name": "B", "Type": "Boolean", "DefaultValue": False},
        {"Name": "E", "Type": "String", "DefaultValue": "red", "EnumValues": ["red", "blue"]},
    ]
    gate = {
        "Name": "Gate",
        "Type": "Condition",
        "Arguments": {
            "Conditions": [
                {"Type": "Equals", "LeftValue": {"Get": "Parameters.I"}, "RightValue": 7},
                {"Type": "GreaterThan", "LeftValue": {"Get": "Parameters.F"}, "RightValue": 1.0},
                {"Type": "Equals", "LeftValue": {"Get": "Parameters.B"}, "RightValue": True},
                {"Type": "Equals", "LeftValue": {"Get": "Parameters.E"}, "RightValue": "blue"},
            ],
            "IfSteps": [noop("Yes")],
            "ElseSteps": [noop("No")],
        },
    }
    name = make_pipeline([gate], params)
    defaults = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    wait(sm, defaults)
    assert set(steps_of(sm, defaults)) == {"Gate", "No"}
    listed = sm.list_pipeline_parameters_for_execution(PipelineExecutionArn=defaults)["PipelineParameters"]
    assert {p["Name"]: p["Value"] for p in listed} == {
        "S": "abc",
        "I": "2",
        "F": "0.5",
        "B": "false",
        "E": "red",
    }

    overridden = sm.start_pipeline_execution(
        PipelineName=name,
        PipelineParameters=[
            {"Name": "I", "Value": "7"},
            {"Name": "F", "Value": "1.5"},
            {"Name": "B", "Value": "true"},
            {"Name": "E", "Value": "blue"},
        ],
    )["PipelineExecutionArn"]
    wait(sm, overridden)
    assert set(steps_of(sm, overridden)) == {"Gate", "Yes"}
    assert steps_of(sm, overridden)["Gate"]["Metadata"] == {"Condition": {"Outcome": "True"}}


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ([{"Name": "Nope", "Value": "1"}], "not defined"),
        ([{"Name": "I", "Value": "1.5"}], "not a valid Integer"),
        ([{"Name": "F", "Value": "abc"}], "not a valid Float"),
        ([{"Name": "B", "Value": "yes"}], "not a valid Boolean"),
        ([{"Name": "E", "Value": "green"}], "not one of"),
    ],
)
def test_bad_parameters_are_rejected(sm: Any, make_pipeline: Any, params: list, fragment: str) -> None:
    name = make_pipeline(
        [noop("A")],
        [
            {"Name": "I", "Type": "Integer", "DefaultValue": 1},
            {"Name": "F", "Type": "Float", "DefaultValue": 1.0},
            {"Name": "B", "Type": "Boolean", "DefaultValue": True},
            {"Name": "E", "Type": "String", "DefaultValue": "red", "EnumValues": ["red"]},
        ],
    )
    with pytest.raises(ClientError) as excinfo:
        sm.start_pipeline_execution(PipelineName=name, PipelineParameters=params)
    code, message, _ = error_of(excinfo)
    assert code == "ValidationException"
    assert fragment in message


def test_parameter_without_default_must_be_given(sm: Any, make_pipeline: Any) -> None:
    name = make_pipeline([noop("A")], [{"Name": "Required", "Type": "String"}])
    with pytest.raises(ClientError) as excinfo:
        sm.start_pipeline_execution(PipelineName=name)
    assert "Required" in error_of(excinfo)[1]
    arn = sm.start_pipeline_execution(PipelineName=name, PipelineParameters=[{"Name": "Required", "Value": "x"}])[
        "PipelineExecutionArn"
    ]
    assert wait(sm, arn)["PipelineExecutionStatus"] == "Succeeded"


def test_start_is_idempotent_on_client_request_token(sm: Any, make_pipeline: Any) -> None:
    name = make_pipeline([noop("A")])
    token = uuid.uuid4().hex
    first = sm.start_pipeline_execution(PipelineName=name, ClientRequestToken=token)["PipelineExecutionArn"]
    second = sm.start_pipeline_execution(PipelineName=name, ClientRequestToken=token)["PipelineExecutionArn"]
    third = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert first == second != third
    executions = sm.list_pipeline_executions(PipelineName=name)["PipelineExecutionSummaries"]
    assert len(executions) == 2
    # Most recent first, as SageMaker sorts by default.
    assert executions[0]["PipelineExecutionArn"] == third


def test_start_on_missing_pipeline_is_resource_not_found(sm: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        sm.start_pipeline_execution(PipelineName="does-not-exist")
    assert error_of(excinfo)[0] == "ResourceNotFound"
    with pytest.raises(ClientError) as excinfo:
        sm.describe_pipeline_execution(
            PipelineExecutionArn="arn:aws:sagemaker:us-east-1:123456789012:pipeline/x/execution/nope"
        )
    assert error_of(excinfo)[0] == "ResourceNotFound"


def test_describe_execution_and_definition_for_execution(sm: Any, make_pipeline: Any) -> None:
    name = make_pipeline([noop("A")])
    arn = sm.start_pipeline_execution(
        PipelineName=name,
        PipelineExecutionDisplayName="nightly",
        PipelineExecutionDescription="d",
        ParallelismConfiguration={"MaxParallelExecutionSteps": 2},
    )["PipelineExecutionArn"]
    assert arn.startswith(f"arn:aws:sagemaker:us-east-1:123456789012:pipeline/{name}/execution/")
    desc = wait(sm, arn)
    assert desc["PipelineExecutionStatus"] == "Succeeded"
    assert desc["PipelineExecutionDisplayName"] == "nightly"
    assert desc["PipelineExecutionDescription"] == "d"
    assert desc["ParallelismConfiguration"] == {"MaxParallelExecutionSteps": 2}
    assert desc["PipelineArn"] == sm.describe_pipeline(PipelineName=name)["PipelineArn"]
    assert "FailureReason" not in desc
    original = sm.describe_pipeline(PipelineName=name)["PipelineDefinition"]
    sm.update_pipeline(PipelineName=name, PipelineDefinition=definition([noop("Changed")]))
    assert sm.describe_pipeline_definition_for_execution(PipelineExecutionArn=arn)["PipelineDefinition"] == original
    assert sm.describe_pipeline(PipelineName=name)["LastRunTime"] >= desc["CreationTime"]


def test_update_pipeline_execution(sm: Any, make_pipeline: Any) -> None:
    arn = sm.start_pipeline_execution(PipelineName=make_pipeline([noop("A")]))["PipelineExecutionArn"]
    wait(sm, arn)
    sm.update_pipeline_execution(PipelineExecutionArn=arn, PipelineExecutionDescription="annotated")
    assert sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionDescription"] == "annotated"


def test_pipeline_tags(sm: Any) -> None:
    name = unique()
    arn = sm.create_pipeline(
        PipelineName=name,
        PipelineDefinition=definition([noop("A")]),
        RoleArn=ROLE,
        Tags=[{"Key": "team", "Value": "ml"}],
    )["PipelineArn"]
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "env", "Value": "test"}])
    assert {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=arn)["Tags"]} == {"team": "ml", "env": "test"}
    sm.delete_tags(ResourceArn=arn, TagKeys=["team"])
    assert [t["Key"] for t in sm.list_tags(ResourceArn=arn)["Tags"]] == ["env"]


def test_delete_refuses_while_running_and_stop_rules(sm: Any, make_pipeline: Any, engine: Any, bucket: str) -> None:
    queue = engine.client("sqs").create_queue(QueueName=unique("q"))["QueueUrl"]
    name = make_pipeline([{"Name": "Wait", "Type": "Callback", "Arguments": {}, "SqsQueueUrl": queue}])
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    with pytest.raises(ClientError) as excinfo:
        sm.delete_pipeline(PipelineName=name)
    assert error_of(excinfo)[0] == "ConflictException"
    with pytest.raises(ClientError) as excinfo:
        sm.retry_pipeline_execution(PipelineExecutionArn=arn)
    assert error_of(excinfo)[0] == "ConflictException"
    sm.stop_pipeline_execution(PipelineExecutionArn=arn)
    assert wait(sm, arn)["PipelineExecutionStatus"] == "Stopped"
    with pytest.raises(ClientError) as excinfo:
        sm.stop_pipeline_execution(PipelineExecutionArn=arn)
    # SageMaker: ValidationException "... Only pipelines with 'Executing' status can be stopped"
    assert error_of(excinfo)[0] == "ValidationException"
    assert "Only pipelines with 'Executing' status can be stopped" in error_of(excinfo)[1]
    sm.delete_pipeline(PipelineName=name)
