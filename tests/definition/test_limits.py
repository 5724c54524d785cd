"""The SageMaker limits checked at parse time: limits.json agrees with botocore's model, every limit is in the
docs table with a bad-DAG case that exercises it, and each check holds at its boundary."""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import pytest

from airflow_sagemaker_mlops.definition import limits as L

V = importlib.import_module("airflow_sagemaker_mlops.definition.validate")  # the package exports validate()

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "troubleshooting.md"


def doc_rows() -> dict[str, list[str]]:
    text = DOC.read_text()
    table = text.split("<!-- limits-table -->")[1].split("<!-- /limits-table -->")[0]
    rows = {}
    for line in table.strip().splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0].strip("`")] = re.findall(r"`([^`]+)`", cells[3])
    return rows


def bad_dag_case_ids() -> set[str]:
    sys.path.insert(0, str(ROOT / "tests" / "compiler"))
    try:
        import test_bad_dags
    finally:
        sys.path.pop(0)
    return {case.id for case in test_bad_dags.CASES}


def test_limits_json_is_what_botocore_says():  # and request_shapes.json
    pytest.importorskip("botocore")
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import gen_limits
    finally:
        sys.path.pop(0)
    assert gen_limits.build()["limits"] == L.limits()
    # request_shapes.json too (one test: the AF2 run deselects it, its venv resolving another botocore).
    fresh = gen_limits.build_requests()
    assert {k: fresh[k] for k in ("requests", "shapes")} == {k: R._data()[k] for k in ("requests", "shapes")}


def test_every_limit_has_a_documented_row_with_cases_that_exist():
    rows = doc_rows()
    assert set(L.limits()) <= set(rows), set(L.limits()) - set(rows)
    cases = bad_dag_case_ids()
    for name, refs in rows.items():
        assert refs, f"{name}: no case"
        for ref in refs:
            if "::" in ref:
                path, function = ref.split("::")
                assert f"def {function}(" in (ROOT / path).read_text(), ref
            else:
                assert ref in cases, f"{name}: no bad-DAG case {ref!r}"


def test_the_name_patterns_in_code_agree_with_botocore():
    assert V.STEP_NAME.pattern == r"^[A-Za-z0-9\-_]{1,%s}$" % (L.limit("StepName")["max"],)  # noqa: UP031
    assert V.PARAMETER_NAME.pattern == r"^[A-Za-z0-9\-_]{1,%s}$" % (L.limit("ParameterName")["max"],)  # noqa: UP031
    assert V.PIPELINE_NAME.pattern == "^" + L.limit("PipelineName")["pattern"] + "$"
    assert V.EXPERIMENT_ENTITY_NAME.pattern == "^" + L.limit("ExperimentName")["pattern"] + "$"


@pytest.mark.parametrize("name", [n for n, s in L.limits().items() if s["type"] == "string" and "max" in s])
def test_string_lengths_at_the_boundary(name):
    spec = L.limit(name)
    filler = "a"  # matches every pattern's first character class except ARNs, checked without pattern here
    assert L.problem(name, filler * spec["max"], "x", check_pattern=False) is None
    assert "characters" in L.problem(name, filler * (spec["max"] + 1), "x", check_pattern=False)
    if spec.get("min"):
        assert "characters" in L.problem(name, "", "x", check_pattern=False)
    assert "must be a string" in L.problem(name, 5, "x")


def test_integer_bounds():
    assert L.problem("MaxParallelExecutionSteps", 1, "x") is None
    assert L.problem("MaxParallelExecutionSteps", 2**31 - 1, "x") is None
    assert "between 1 and 2147483647" in L.problem("MaxParallelExecutionSteps", 2**31, "x")
    assert "must be an integer" in L.problem("MaxParallelExecutionSteps", True, "x")


@pytest.mark.parametrize(("name", "high"), [("Tags", 50), ("PipelineParameters", 200), ("OutputParameters", 50)])
def test_counts(name, high):
    assert L.problem(name, list(range(high)), "x") is None
    assert f"at most {high}" in L.problem(name, list(range(high + 1)), "x")


@pytest.mark.parametrize(("value", "ok"), [
    ("team", True), ("équipe-1 a_b.c:d/e=f+g@h", True), ("数据", True), ("bad#key", False), ("tab\there", False),
    ("semi;colon", False),
])
def test_tag_pattern_uses_unicode_categories(value, ok):
    assert (L.problem("TagKey", value, "key") is None) is ok


@pytest.mark.parametrize(("value", "ok"), [
    ("churn-train", True), ("a--b", True), ("-a", False), ("a_b", False), ("a b", False),
])
def test_pipeline_name_pattern(value, ok):
    assert (L.problem("PipelineName", value, "name") is None) is ok


@pytest.mark.parametrize(("value", "ok"), [
    ("P30D", True), ("PT12H", True), ("P1Y2M3W4DT5H6M7.5S", True), ("P", False), ("PT", False), ("30D", False),
    ("P1DT", False), ("p30d", False),
])
def test_iso_durations(value, ok):
    from airflow_sagemaker_mlops.definition.steps import CacheConfig

    assert (CacheConfig(True, value).problems() == []) is ok


@pytest.mark.parametrize(("arn", "ok"), [
    ("arn:aws:lambda:us-east-1:111122223333:function:f", True),
    ("arn:aws:lambda:eu-west-1:111122223333:function:my-fn_2:prod", True),
    ("arn:aws-us-gov:lambda:us-gov-west-1:111122223333:function:f:$LATEST", True),
    ("arn:aws:lambda:us-east-1:111122223333:function:", False),
    ("arn:aws:lambda:us-east-1:1111:function:f", False),
    ("arn:aws:s3:::bucket", False),
])
def test_lambda_function_arns(arn, ok):
    assert bool(V.LAMBDA_FUNCTION_ARN.match(arn)) is ok


@pytest.mark.parametrize(("url", "ok"), [
    ("https://sqs.us-east-1.amazonaws.com/111122223333/approvals", True),
    ("https://sqs.us-east-1.amazonaws.com/111122223333/jobs.fifo", True),
    ("http://127.0.0.1:8765/123456789012/q", True),  # the local engine's moto queues
    ("https://sqs.us-east-1.amazonaws.com/111122223333/" + "q" * 81, False),
    ("approvals", False),
    ("https://sqs.us-east-1.amazonaws.com/approvals", False),
])
def test_sqs_queue_urls(url, ok):
    assert bool(V.SQS_QUEUE_URL.match(url)) is ok


# -- the fields inside step requests (request_shapes.json, definition/requests.py) -------------------------------
R = importlib.import_module("airflow_sagemaker_mlops.definition.requests")


def test_the_request_types_checked():
    assert R.request_types() == {"Processing", "Training", "Tuning", "Transform", "Model", "RegisterModel"}


def problems(step_type: str, arguments: dict, parameter_types: dict | None = None) -> dict[str, str]:
    return dict(R.request_problems(step_type, arguments, parameter_types))


def test_a_valid_request_has_no_problem():
    job = {"ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1,
                                                     "VolumeSizeInGB": 30}},
           "AppSpecification": {"ImageUri": "img", "ContainerArguments": ["--x", "1"]},
           "Environment": {"A": "b"}, "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
           "ProcessingInputs": [{"InputName": "in", "S3Input": {"S3Uri": "s3://b/k", "LocalPath": "/x",
                                                                "S3DataType": "S3Prefix"}}]}
    assert problems("Processing", job) == {}


def test_enum_near_miss_is_named_with_its_correction():
    found = problems("Processing", {"ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.huge"}}})
    assert list(found) == ["Arguments.ProcessingResources.ClusterConfig.InstanceType"]
    assert found["Arguments.ProcessingResources.ClusterConfig.InstanceType"].endswith("did you mean 'ml.m5.large'?")


@pytest.mark.parametrize(("value", "ok"), [(1, True), (777600, True), (0, False), (777601, False), (1.0, False),
                                            (True, False), ("60", False)])
def test_integer_range_at_its_boundary(value, ok):
    assert R._data()["shapes"]["ProcessingMaxRuntimeInSeconds"] == {"type": "integer", "min": 1, "max": 777600}
    found = problems("Processing", {"StoppingCondition": {"MaxRuntimeInSeconds": value}})
    assert (found == {}) is ok, found


def test_string_length_and_list_length_at_their_boundary():
    assert problems("Processing", {"Environment": {"K": "v" * 256}}) == {}
    assert "at most 256" in problems("Processing", {"Environment": {"K": "v" * 257}})["Arguments.Environment.K"]
    inputs = [{"InputName": f"i{n}"} for n in range(10)]
    assert problems("Processing", {"ProcessingInputs": inputs}) == {}
    assert "has 11 entries" in problems("Processing", {"ProcessingInputs": [*inputs, {"InputName": "x"}]})[
        "Arguments.ProcessingInputs"]


def test_patterns_are_checked_where_python_reads_them():
    assert problems("Processing", {"ProcessingInputs": [{"S3Input": {"S3Uri": "https://b/k"}}]}) == {}
    assert "pattern" in problems("Processing", {"ProcessingInputs": [{"S3Input": {"S3Uri": "b/k"}}]})[
        "Arguments.ProcessingInputs[0].S3Input.S3Uri"]
    # Java reads surrogate pairs in classes, Python does not: such a pattern is not checked rather than misread.
    assert R._pattern("[\\uD800\\uDC00-\\uDBFF\\uDFFF]*") is None


def test_expressions_are_checked_only_for_certain_type_mismatches():
    from airflow_sagemaker_mlops.definition.expressions import ExecutionVariable, Join, ParameterRef

    field = "Arguments.ResourceConfig.InstanceCount"
    types = {"S": "String", "N": "Integer"}
    for ok in (ParameterRef("N"), {"Get": "Steps.a.X"}, ParameterRef("Undeclared")):
        assert problems("Training", {"ResourceConfig": {"InstanceCount": ok}}, types) == {}
    for bad in (ParameterRef("S"), Join(["1"]), ExecutionVariable("PipelineExecutionId")):
        assert "is a string when the pipeline runs" in problems(
            "Training", {"ResourceConfig": {"InstanceCount": bad}}, types)[field]
    # A String parameter where a string goes, or in an enum field (its value is only known at run time).
    assert problems("Training", {"ResourceConfig": {"InstanceType": ParameterRef("S")}}, types) == {}


def test_names_sagemaker_fills_in_and_unknown_step_types_are_left_alone():
    assert problems("Training", {"TrainingJobName": "x"}) == {}  # the operator refuses it with its own message
    assert problems("Lambda", {"Anything": object()}) == {}
    assert "did you mean 'ExecutionRoleArn'" in problems("Model", {"ExecutionRoleARN": "x"})[
        "Arguments.ExecutionRoleARN"]
