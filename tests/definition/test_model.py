"""The pure definition model: JSON shapes, round trips, parameters and validation without Airflow."""

from __future__ import annotations

import json

import pytest

from airflow_sagemaker_mlops.definition import (
    CacheConfig,
    ConditionStep,
    Execution,
    ExecutionVariable,
    Join,
    JsonGet,
    Key,
    ParameterRef,
    PipelineDefinition,
    PipelineParameter,
    PipelineSpec,
    PropertyFile,
    PropertyFileRef,
    RetryPolicy,
    Step,
    StepProperty,
    find_problems,
    validate,
)
from airflow_sagemaker_mlops.definition import conditions as C
from airflow_sagemaker_mlops.definition.expressions import format_path, parse_path, parse_value
from airflow_sagemaker_mlops.definition.parameters import check_value, coerce_value
from airflow_sagemaker_mlops.exceptions import PipelineDefinitionError


def test_the_model_imports_neither_airflow_nor_boto3():
    import subprocess
    import sys

    code = (
        "import sys, airflow_sagemaker_mlops.definition as d; d.PipelineDefinition();"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('airflow', 'boto3', 'botocore', 'sagemaker')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


@pytest.mark.parametrize(("expr", "request_json"), [
    (ParameterRef("X"), {"Get": "Parameters.X"}),
    (Execution.PipelineExecutionId, {"Get": "Execution.PipelineExecutionId"}),
    (StepProperty("Train", parse_path("ModelArtifacts.S3ModelArtifacts")),
     {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}),
    (StepProperty("Prep", parse_path("ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri")),
     {"Get": "Steps.Prep.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"}),
    (StepProperty("Tune", ("TrainingJobSummaries", 0, "TrainingJobName")),
     {"Get": "Steps.Tune.TrainingJobSummaries[0].TrainingJobName"}),
    (Join(["a", ParameterRef("B")], on="/"), {"Std:Join": {"On": "/", "Values": ["a", {"Get": "Parameters.B"}]}}),
    (JsonGet("a.b", property_file=PropertyFileRef("Eval", "F")),
     {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Eval.PropertyFiles.F"}, "Path": "a.b"}}),
    (JsonGet("x", s3_uri=Join(["s3://", ParameterRef("B")])),
     {"Std:JsonGet": {"S3Uri": {"Std:Join": {"On": "", "Values": ["s3://", {"Get": "Parameters.B"}]}},
                      "Path": "x"}}),
])
def test_expression_json_and_back(expr, request_json):
    assert expr.to_request() == request_json
    assert parse_value(request_json).to_request() == request_json


@pytest.mark.parametrize("path", ["A", "A.B", "A['k'].B", "A[0]", "A[12]['x y'].C", "Outputs['a.b']"])
def test_property_paths_round_trip(path):
    assert format_path(parse_path(path)) == path


@pytest.mark.parametrize("path", ["", ".A", "A..B", "A[", "A['x]", "A[-1]", "1A"])
def test_malformed_property_paths(path):
    with pytest.raises(PipelineDefinitionError):
        parse_path(path)


def test_path_segments_are_typed():
    assert parse_path("A['k'][3]") == ("A", Key("k"), 3)


def test_unknown_execution_variable():
    with pytest.raises(PipelineDefinitionError, match="PipelineExecutionId"):
        ExecutionVariable("Nope")


def test_formatting_an_expression_is_refused():
    with pytest.raises(PipelineDefinitionError, match="Join"):
        f"{ParameterRef('X')}"


def test_conditions_json():
    left = ParameterRef("A")
    assert C.eq(left, 1).to_request() == {"Type": "Equals", "LeftValue": {"Get": "Parameters.A"}, "RightValue": 1}
    assert C.in_(left, ["a", "b"]).to_request() == {"Type": "In", "QueryValue": {"Get": "Parameters.A"},
                                                    "Values": ["a", "b"]}
    assert C.not_(C.lt(1, 2)).to_request() == {"Type": "Not", "Condition": {"Type": "LessThan", "LeftValue": 1,
                                                                             "RightValue": 2}}
    assert C.or_(C.gt(1, 2), C.le(1, 2)).to_request()["Conditions"][1]["Type"] == "LessThanOrEqualTo"


def test_and_is_flattened_at_the_top_and_rewritten_below():
    a, b, c = C.gt(1, 0), C.lt(1, 2), C.eq(1, 1)
    assert C.flatten([C.and_(a, C.and_(b, c))]) == [a, b, c]
    nested = C.or_(C.and_(a, C.not_(b)), c).to_request()
    # a and not b == not (not a or b)
    assert nested["Conditions"][0] == {"Type": "Not", "Condition": {"Type": "Or", "Conditions": [
        {"Type": "Not", "Condition": a.to_request()}, b.to_request()]}}


@pytest.mark.parametrize(("type_", "good", "bad"), [
    ("String", "x", 1),
    ("Integer", 3, True),
    ("Integer", -2, 2.0),
    ("Float", 0.5, "0.5"),
    ("Float", 2, float("nan")),
    ("Boolean", False, 0),
])
def test_parameter_value_types(type_, good, bad):
    assert check_value(type_, good) is None
    assert check_value(type_, bad) is not None


@pytest.mark.parametrize(("type_", "value", "expected"), [
    ("Integer", "42", 42), ("Integer", 3.0, 3), ("Float", "0.25", 0.25), ("Float", 1, 1.0),
    ("Boolean", "True", True), ("Boolean", "false", False), ("String", 5, "5"),
])
def test_per_run_values_are_coerced_to_the_declared_type(type_, value, expected):
    result = coerce_value(type_, value)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(("type_", "value"), [
    ("Integer", "4.5"), ("Integer", True), ("Float", "inf"), ("Float", "abc"), ("Boolean", "yes"),
    ("String", None), ("Boolean", 1),
])
def test_per_run_values_that_do_not_fit(type_, value):
    with pytest.raises(PipelineDefinitionError, match=type_):
        coerce_value(type_, value)


def sample_definition() -> PipelineDefinition:
    prep = Step("Prep", "Processing", {"ProcessingInputs": [{"S3Input": {"S3Uri": ParameterRef("In")}}]},
                property_files=[PropertyFile("m", "eval", "m.json")], cache_config=CacheConfig(True, "P1D"),
                retry_policies=[RetryPolicy(["Step.THROTTLING"], max_attempts=3)], display_name="Prep",
                description="prepare")
    fail = Step("Stop", "Fail", {"ErrorMessage": Join(["low: ", JsonGet("auc", PropertyFileRef("Prep", "m"))])})
    cb = Step("Ask", "Callback", {"x": 1}, depends_on=["Prep"],
              extra={"SqsQueueUrl": "https://sqs.us-east-1.amazonaws.com/111122223333/q",
                     "OutputParameters": [{"OutputName": "ok", "OutputType": "Boolean"}]})
    gate = ConditionStep("Gate", conditions=[C.ge(JsonGet("auc", PropertyFileRef("Prep", "m")), 0.5)],
                         if_steps=[cb], else_steps=[fail])
    return PipelineDefinition(
        parameters={"In": PipelineParameter.string("s3://b/"), "Mode": PipelineParameter.string("a", ["a", "b"]),
                    "N": PipelineParameter.integer(3), "R": PipelineParameter.float(),
                    "B": PipelineParameter.boolean(True)},
        steps=[prep, gate],
    )


def test_definition_round_trips_through_json():
    definition = sample_definition()
    text = definition.to_json()
    again = PipelineDefinition.from_json(text)
    assert again.to_json() == text
    assert again == PipelineDefinition.from_json(text)
    assert validate(definition) == []


def test_content_hash_ignores_key_order_but_not_content():
    definition = sample_definition()
    shuffled = json.loads(definition.to_json(), object_pairs_hook=lambda kv: dict(reversed(kv)))
    assert PipelineDefinition.from_request(shuffled).content_hash() == definition.content_hash()
    other = sample_definition()
    other.steps[0].arguments["ProcessingInputs"][0]["S3Input"]["S3Uri"] = "s3://else/"
    assert other.content_hash() != definition.content_hash()


def test_spec_request_carries_parallelism_and_settings():
    spec = PipelineSpec("p", sample_definition(), role_arn="arn:aws:iam::111122223333:role/R",
                        max_parallel_steps=2, tags={"b": "2", "a": "1"}, description="d")
    request = spec.to_request()
    assert request["ParallelismConfiguration"] == {"MaxParallelExecutionSteps": 2}
    assert request["Tags"] == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    assert request["PipelineDefinition"]["Version"] == "2020-12-01"


def test_nested_steps_are_found_and_unique():
    definition = sample_definition()
    assert [s.name for s in definition.all_steps()] == ["Prep", "Gate", "Ask", "Stop"]
    definition.steps.append(Step("Ask", "Processing"))
    assert any("duplicate step name" in str(p) for p in find_problems(definition))


def test_problems_name_step_and_field():
    definition = sample_definition()
    definition.steps.append(Step("Late", "Training", {"In": StepProperty("Nope", ("X",))}, depends_on=["Ghost"]))
    problems = {str(p) for p in find_problems(definition)}
    assert "step 'Late', field Arguments.In: reads a property of unknown step 'Nope'" in problems
    assert "step 'Late', field DependsOn: depends on unknown step 'Ghost'" in problems


def test_from_request_rejects_what_is_not_a_definition():
    with pytest.raises(PipelineDefinitionError):
        PipelineDefinition.from_json("{not json")
    with pytest.raises(PipelineDefinitionError, match="Steps"):
        PipelineDefinition.from_request({"Version": "2020-12-01"})
    with pytest.raises(PipelineDefinitionError, match="missing required key 'Type'"):
        PipelineDefinition.from_request({"Steps": [{"Name": "a"}]})


@pytest.mark.parametrize(
    ("step_type", "key", "value", "message"),
    [
        ("Callback", "SqsQueueUrl", None, "a Callback step needs an SQS queue URL"),
        ("Callback", "SqsQueueUrl", 7, "the SQS queue URL must be a string or a pipeline expression, got int"),
        ("Callback", "SqsQueueUrl", "https://example.com/q",
         "'https://example.com/q' is not an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<queue>)"),
        ("Lambda", "FunctionArn", "", "a Lambda step needs a function ARN"),
        ("Lambda", "FunctionArn", ["arn"], "the function ARN must be a string or a pipeline expression, got list"),
        ("Lambda", "FunctionArn", "arn:aws:s3:::bucket",
         "'arn:aws:s3:::bucket' is not a Lambda function ARN "
         "(arn:aws:lambda:<region>:<account>:function:<name>[:<version or alias>])"),
    ],
)
def test_the_queue_or_function_a_step_calls_is_checked(step_type: str, key: str, value: object, message: str):
    extra = {} if value is None else {key: value}
    definition = PipelineDefinition(steps=[Step("Call", step_type, {}, extra=extra)])
    problems = [p for p in find_problems(definition) if p.field == key]
    assert [(p.step, p.message) for p in problems] == [("Call", message)]


@pytest.mark.parametrize("step_type, key, value", [
    ("Callback", "SqsQueueUrl", "https://sqs.eu-west-1.amazonaws.com/123456789012/q"),
    ("Lambda", "FunctionArn", "arn:aws:lambda:eu-west-1:123456789012:function:score:live"),
    ("Lambda", "FunctionArn", ParameterRef("Fn")),
])
def test_a_well_formed_queue_or_function_passes(step_type: str, key: str, value: object):
    definition = PipelineDefinition(parameters={"Fn": PipelineParameter("String", "x")},
                                    steps=[Step("Call", step_type, {}, extra={key: value})])
    assert [p for p in find_problems(definition) if p.field == key] == []
