"""Pure functions of the engine: paths, expressions, conditions, definitions, durations."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_sagemaker_mlops.local.definition import iter_step_refs, parse_definition
from airflow_sagemaker_mlops.local.errors import ValidationError
from airflow_sagemaker_mlops.local.expressions import (
    ExpressionError,
    Resolver,
    compare,
    json_path_get,
    parse_path,
    walk_path,
)
from airflow_sagemaker_mlops.local.state import parse_iso_duration

DESCRIPTION = {
    "ProcessingOutputConfig": {
        "Outputs": [
            {"OutputName": "train", "S3Output": {"S3Uri": "s3://b/train"}},
            {"OutputName": "test", "S3Output": {"S3Uri": "s3://b/test"}},
        ]
    },
    "FinalMetricDataList": [{"MetricName": "auc", "Value": 0.9}],
    "Environment": {"KEY": "v"},
    "CreationTime": dt.datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=dt.timezone.utc),
}


def test_parse_path() -> None:
    assert parse_path(".A.B['k'][0][\"q\"]") == ["A", "B", "k", 0, "q"]
    with pytest.raises(ExpressionError):
        parse_path(".A[")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".ProcessingOutputConfig.Outputs['test'].S3Output.S3Uri", "s3://b/test"),
        (".ProcessingOutputConfig.Outputs[0].S3Output.S3Uri", "s3://b/train"),
        (".FinalMetricDataList['auc'].Value", 0.9),
        (".Environment['KEY']", "v"),
        (".CreationTime", "2024-01-02T03:04:05.600Z"),
    ],
)
def test_walk_path(path: str, expected: Any) -> None:
    assert walk_path(DESCRIPTION, parse_path(path), "Steps.X") == expected


@pytest.mark.parametrize("path", [".Nope", ".ProcessingOutputConfig.Outputs['x']", ".FinalMetricDataList[5]"])
def test_walk_path_errors_name_the_problem(path: str) -> None:
    with pytest.raises(ExpressionError, match=r"Steps\.X"):
        walk_path(DESCRIPTION, parse_path(path), "Steps.X")


def test_json_path_get() -> None:
    doc = {"a": {"b": [{"c": 1}, {"c": 2}]}}
    assert json_path_get(doc, "a.b[1].c", "f") == 2
    assert json_path_get(doc, "$.a.b[0].c", "f") == 1
    with pytest.raises(ExpressionError, match="not found"):
        json_path_get(doc, "a.x", "f")


def resolver(**params: Any) -> Resolver:
    def fail(*_: Any) -> Any:
        raise ExpressionError("unavailable")

    return Resolver(
        parameters=params,
        execution_variables=lambda n: f"<{n}>",
        step_properties=fail,
        property_file=fail,
        read_s3_json=fail,
    )


def test_resolve_nested_expressions() -> None:
    r = resolver(N=3, F=0.5, B=True)
    value = {
        "list": [
            {"Get": "Parameters.N"},
            {
                "Std:Join": {
                    "On": "-",
                    "Values": [
                        "a",
                        {"Get": "Parameters.F"},
                        {"Get": "Parameters.B"},
                        {"Get": "Execution.PipelineName"},
                    ],
                }
            },
        ],
        "plain": 1,
    }
    assert r.resolve(value) == {"list": [3, "a-0.5-true-<PipelineName>"], "plain": 1}
    with pytest.raises(ExpressionError, match="not defined"):
        r.resolve({"Get": "Parameters.Missing"})
    with pytest.raises(ExpressionError, match="unavailable"):
        r.resolve({"Get": "Steps.A.X"})


def test_compare_coerces_numbers_but_not_two_strings() -> None:
    assert compare("Equals", "5", 5.0)
    assert compare("GreaterThan", "10", 9)
    assert not compare("GreaterThan", "10", "9")  # two strings compare as strings, as declared
    assert compare("Equals", True, "true")
    with pytest.raises(ExpressionError):
        compare("LessThan", {"a": 1}, 2)


@given(st.floats(allow_nan=False, allow_infinity=False), st.floats(allow_nan=False, allow_infinity=False))
def test_comparisons_are_consistent(a: float, b: float) -> None:
    assert compare("LessThan", a, b) == (not compare("GreaterThanOrEqualTo", a, b))
    assert compare("LessThanOrEqualTo", a, b) == (compare("LessThan", a, b) or compare("Equals", a, b))


def test_iter_step_refs() -> None:
    value = {
        "x": [
            {"Get": "Steps.A.Prop"},
            {"Get": "Parameters.P"},
            {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.B.PropertyFiles.F"}, "Path": "a"}},
        ],
        "y": {"Get": "Steps.C['k']"},
    }
    assert sorted(iter_step_refs(value)) == ["A", "B", "C"]


def test_parse_definition_flattens_branches_with_their_dependencies() -> None:
    import json

    doc = {
        "Version": "2020-12-01",
        "Steps": [
            {
                "Name": "Gate",
                "Type": "Condition",
                "Arguments": {
                    "Conditions": [{"Type": "Equals", "LeftValue": {"Get": "Steps.Prep.ProcessingJobStatus"},
                                    "RightValue": "Completed"}],
                    "IfSteps": [{"Name": "Reg", "Type": "RegisterModel", "Arguments": {}}],
                    "ElseSteps": [{"Name": "Stop", "Type": "Fail", "Arguments": {}}],
                },
            },
            {"Name": "Prep", "Type": "Processing", "Arguments": {}},
        ],
    }
    graph = parse_definition(json.dumps(doc))
    assert set(graph.steps) == {"Gate", "Reg", "Stop", "Prep"}
    assert graph.steps["Gate"].depends_on == {"Prep"}
    assert graph.steps["Reg"].branch == ("Gate", "if")
    assert graph.steps["Stop"].depends_on == {"Gate"}
    with pytest.raises(ValidationError, match="ExceptionType"):
        parse_definition(json.dumps({"Steps": [{"Name": "A", "Type": "Fail", "RetryPolicies": [{}]}]}))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT1H", dt.timedelta(hours=1)),
        ("P30D", dt.timedelta(days=30)),
        ("P1DT2H3M4S", dt.timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("P2W", dt.timedelta(weeks=2)),
    ],
)
def test_iso_durations(text: str, expected: dt.timedelta) -> None:
    assert parse_iso_duration(text) == expected


@pytest.mark.parametrize("text", ["", "P", "PT", "1H", "PT1X"])
def test_bad_iso_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_iso_duration(text)
