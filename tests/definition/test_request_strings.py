"""Typed pipeline values in string-only request fields become strings the way the SDK's to_string() does."""

from __future__ import annotations

from airflow_sagemaker_mlops.definition.expressions import (
    ExecutionVariable,
    Join,
    JsonGet,
    ParameterRef,
    PropertyFileRef,
    StepProperty,
)
from airflow_sagemaker_mlops.definition.expressions import Key as K
from airflow_sagemaker_mlops.definition.requests import stringify_arguments

TYPES = {"N": "Integer", "Rate": "Float", "On": "Boolean", "Name": "String"}


def p(name: str) -> ParameterRef:
    return ParameterRef(name, TYPES[name])


def test_typed_parameters_in_string_fields_are_joined():
    args = {"Environment": {"N": p("N"), "RATE": p("Rate"), "ON": p("On"), "NAME": p("Name")},
            "AppSpecification": {"ImageUri": "img", "ContainerArguments": ["--n", p("N")]},
            "ProcessingResources": {"ClusterConfig": {"InstanceCount": p("N"), "InstanceType": "ml.m5.large",
                                                      "VolumeSizeInGB": 30}}}
    out = stringify_arguments("Processing", args, TYPES)
    assert out["Environment"] == {"N": Join([p("N")]), "RATE": Join([p("Rate")]), "ON": Join([p("On")]),
                                  "NAME": p("Name")}
    assert out["AppSpecification"]["ContainerArguments"] == ["--n", Join([p("N")])]
    # An integer field keeps the Integer parameter as it is.
    assert out["ProcessingResources"] is args["ProcessingResources"]
    assert out["Environment"]["N"].to_request() == {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.N"}]}}
    assert args["Environment"]["N"] == p("N"), "the user's request is not changed in place"


def test_hyperparameters_and_numeric_step_properties():
    count = StepProperty("prep", ("ProcessingResources", "ClusterConfig", "InstanceCount"), "Processing")
    uri = StepProperty("prep", ("ProcessingOutputConfig", "Outputs", K("train"), "S3Output", "S3Uri"), "Processing")
    args = {"HyperParameters": {"epochs": p("N"), "count": count, "uri": uri,
                                "started": ExecutionVariable("StartDateTime")}}
    out = stringify_arguments("Training", args, TYPES)
    assert out["HyperParameters"] == {"epochs": Join([p("N")]), "count": Join([count]), "uri": uri,
                                      "started": ExecutionVariable("StartDateTime")}


def test_values_known_only_at_run_time_and_unknown_step_types_are_left_alone():
    value = JsonGet("a.b", property_file=PropertyFileRef("prep", "metrics"))
    args = {"Environment": {"A": value}}
    assert stringify_arguments("Processing", args, TYPES) is args
    raw = {"Environment": {"N": p("N")}}
    assert stringify_arguments("EMR", raw, TYPES) is raw
    assert stringify_arguments("Processing", {"Environment": {"N": "3"}}, TYPES) == {"Environment": {"N": "3"}}


def test_model_and_register_requests():
    model = {"PrimaryContainer": {"Image": "img", "Environment": {"THRESHOLD": p("Rate")}}}
    out = stringify_arguments("Model", model, TYPES)
    assert out["PrimaryContainer"]["Environment"]["THRESHOLD"] == Join([p("Rate")])
    register = {"InferenceSpecification": {"Containers": [{"Image": "img", "Environment": {"N": p("N")}}]}}
    out = stringify_arguments("RegisterModel", register, TYPES)
    assert out["InferenceSpecification"]["Containers"][0]["Environment"]["N"] == Join([p("N")])
