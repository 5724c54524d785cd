"""Mutations of a valid group (types, values, NaN/inf, nesting, names, keys): whatever a careless user writes,
parsing the DAG either succeeds with a definition that is valid JSON, or fails with a PipelineCompileError
located in this file, naming the DAG and the group. Nothing else escapes (PipelineDefinitionWarning may be
issued). Version-neutral: runs on Airflow 2.11 and 3.

3,000 examples, derandomized (the same ones every run): about 15 s on this 2-core machine. The plan's job requests
hold members of every kind botocore's request shapes check (enums, ranges, patterns, lists, maps, expressions).
"""

from __future__ import annotations

import copy
import itertools
import math
import os
import warnings
from typing import Any

import pendulum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_sagemaker_mlops import (
    CallbackStep,
    ConditionStep,
    FailStep,
    Join,
    JsonGet,
    LambdaStep,
    PipelineParameter,
    ProcessingStep,
    PropertyFile,
    RetryPolicy,
    SageMakerPipelineGroup,
    TrainingStep,
)
from airflow_sagemaker_mlops import conditions as C
from airflow_sagemaker_mlops.compat import DAG
from airflow_sagemaker_mlops.definition import PipelineDefinition
from airflow_sagemaker_mlops.exceptions import PipelineCompileError, PipelineDefinitionWarning

THIS_FILE = __file__
START = pendulum.datetime(2026, 1, 1, tz="UTC")
_dag_ids = itertools.count()

# Tokens stand for objects built at DAG time; index 0 (the tag) is never mutated, their arguments are.
# ["param", name] ["ref", step index, "Path.To.Member"] ["jsonget", step index, file, path] ["join", values, on]
# ["retry", exception types, kwargs] ["file", name, output, path] ["cond", function name, left, right]
BASE: dict[str, Any] = {
    "group": {
        "pipeline_name": "mut",
        "role_arn": "arn:aws:iam::111122223333:role/SmPipeline",
        "parameters": {"Threshold": ["pfloat", 0.5], "Mode": ["pstring", "a", ["a", "b"]], "Count": ["pint", 3],
                       "Data": ["pstring", "s3://bucket/raw/"]},
        "parameter_values": {"Mode": "b", "Count": "{{ params.count }}"},
        "max_parallel_steps": 4,
        "pipeline_description": "a pipeline",
        "pipeline_display_name": "Mutations",
        "pipeline_tags": {"team": "ml"},
        "mlflow_config": {"MlflowResourceArn": "arn:aws:sagemaker:us-east-1:111122223333:mlflow-tracking-server/ml"},
    },
    "steps": [
        {"kind": "processing", "task_id": "prep", "display_name": "Prep", "step_description": "prepares",
         "cache": "P30D", "property_files": [["file", "metrics", "out", "m.json"]],
         "retry_policies": [["retry", ["Step.THROTTLING"], {"max_attempts": 3, "backoff_rate": 2.0}]],
         "job": {"AppSpecification": {"ImageUri": "img"}, "Environment": {"MODE": ["param", "Mode"]},
                 "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                           "VolumeSizeInGB": 30}},
                 "ProcessingInputs": [{"InputName": "in", "S3Input": {
                     "S3Uri": ["param", "Data"], "LocalPath": "/opt/ml/processing/in", "S3DataType": "S3Prefix",
                     "S3InputMode": "File"}}],
                 "StoppingCondition": {"MaxRuntimeInSeconds": 600}}},
        {"kind": "training", "task_id": "fit",
         "job": {"AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File"},
                 "HyperParameters": {"n": "3", "src": ["ref", 0, "ProcessingJobArn"]},
                 "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
                 "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": ["param", "Count"],
                                    "VolumeSizeInGB": 30},
                 "OutputDataConfig": {"S3OutputPath": ["join", ["s3://bucket/", ["param", "Mode"]], ""]},
                 "EnableManagedSpotTraining": False}},
        {"kind": "condition", "task_id": "gate", "if_true": [3], "if_false": [4],
         "condition": [["cond", "ge", ["jsonget", 0, "metrics", "auc"], ["param", "Threshold"]],
                       ["cond", "in_", ["param", "Mode"], ["a", "b"]]]},
        {"kind": "lambda", "task_id": "notify", "function_arn": "arn:aws:lambda:us-east-1:111122223333:function:f",
         "inputs": {"model": ["ref", 1, "ModelArtifacts.S3ModelArtifacts"]}, "outputs": {"ok": "Boolean"}},
        {"kind": "fail", "task_id": "stop", "error_message": ["join", ["auc too low: ", ["jsonget", 0, "metrics",
                                                                                         "auc"]], " "]},
        {"kind": "callback", "task_id": "ask", "sqs_queue_url": "https://sqs.us-east-1.amazonaws.com/111122223333/q",
         "inputs": {"n": ["param", "Count"]}, "outputs": ["answer"], "upstream": [1]},
    ],
}
TAGS = {"param", "ref", "jsonget", "join", "retry", "file", "cond", "pfloat", "pstring", "pint"}

WEIRD: list[Any] = [
    None, 0, -1, 2**31, 1.5, math.nan, math.inf, -math.inf, True, False, "", " ", "x" * 300, "y" * 5000,
    "{{ ds }}", "has space", "under_score", "lower", "Ünïcödé", "tab\there", "bell\x07", "a.b", [], {}, [1, "a"],
    {"a": 1}, {1: "x"}, {"Get": "Steps.nope.X"}, {"Get": "Parameters.Nope"}, {"Get": 5}, {"Std:Join": "x"},
    {"Std:JsonGet": {"Path": "a"}}, b"bytes", (1, 2), {"a": {"b": {"c": [math.nan]}}}, object(), -0.0, 10**40,
    # Near misses for the fields of job requests (enums, patterns, ranges) and expressions in them.
    "ml.m5.huge", "ml.m5.large", "s3://bucket/key", "bucket/key", "File", "Pipe", "S3Prefix", 86400 * 30,
    ["param", "Mode"], ["param", "Count"], ["join", ["a", "b"], "-"], ["ref", 0, "ProcessingJobArn"],
]
OPERATIONS = ["replace", "replace", "replace", "delete", "rename_key", "wrap_list", "wrap_dict", "deep"]


def _is_token(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and isinstance(value[0], str) and value[0] in TAGS


def _slots(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in the plan a mutation can hit (paths of keys and indexes)."""
    # Whole sections and whole steps stay: the builder needs their shape; everything inside them varies.
    out = [path] if (len(path) > 1 and path[:1] != ("steps",)) or len(path) > 2 else []
    if isinstance(value, dict):
        for key, item in value.items():
            out += _slots(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if _is_token(value) and (i == 0 or (i == 1 and value[0] == "cond")):
                continue
            out += _slots(item, (*path, i))
    return out


SLOTS = _slots(BASE)


def _deep(value: Any) -> Any:
    for _ in range(300):
        value = {"a": value}
    return value


def _has(container: Any, key: Any) -> bool:
    if isinstance(container, dict):
        return key in container
    return isinstance(container, list) and isinstance(key, int) and key < len(container)


def mutate(plan: dict[str, Any], path: tuple[Any, ...], operation: str, weird: Any) -> None:
    """Apply one mutation at ``path``; a path an earlier mutation removed is left alone."""
    parent: Any = plan
    for key in path[:-1]:
        if not _has(parent, key):
            return
        parent = parent[key]
    last = path[-1]
    if not _has(parent, last):
        return
    if operation == "delete":
        if isinstance(parent, dict):
            del parent[last]
        elif not _is_token(parent) or last > 1:
            del parent[last]
    elif operation == "rename_key" and isinstance(parent, dict):
        new_key = weird if isinstance(weird, str | int | float | bool | bytes | tuple) or weird is None else "k"
        parent[new_key] = parent.pop(last)
    elif operation == "wrap_list":
        parent[last] = [parent[last]]
    elif operation == "wrap_dict":
        parent[last] = {"x": parent[last]}
    elif operation == "deep":
        parent[last] = _deep(parent[last])
    else:
        parent[last] = weird


class _Builder:
    def __init__(self, group: SageMakerPipelineGroup) -> None:
        self.group = group
        self.ops: list[Any] = []

    def value(self, value: Any) -> Any:
        if _is_token(value):
            return self.token(value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value

    def step(self, index: Any) -> Any:
        return self.ops[index] if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(
            self.ops) else index

    def token(self, token: list[Any]) -> Any:
        tag, *args = token
        args = [self.value(a) for a in args]
        if tag == "param":
            return self.group.parameter(*args)
        if tag == "ref":
            step, path = [*args, None, None][:2]
            prop = getattr(self.step(step), "properties", None)
            if prop is None or not isinstance(path, str):
                return step
            for member in path.split("."):
                prop = getattr(prop, member)
            return prop
        if tag == "jsonget":
            return JsonGet(self.step(args[0]) if args else None, *args[1:])
        if tag == "join":
            return Join(*args)
        if tag == "retry":
            kwargs = args[1] if len(args) > 1 and isinstance(args[1], dict) else {}
            return RetryPolicy(*args[:1], **{str(k): v for k, v in kwargs.items()})
        if tag == "file":
            return PropertyFile(*args)
        if tag == "cond":
            return getattr(C, token[1])(*args[1:])
        return None  # parameters are built in build()


def _parameter(token: Any) -> Any:
    if not _is_token(token):
        return token
    tag, *args = token
    make = {"pfloat": PipelineParameter.float, "pstring": PipelineParameter.string, "pint": PipelineParameter.integer}
    return make[tag](*args) if tag in make else token  # another token mutated in: a wrong value to declare


KINDS = {"processing": ProcessingStep, "training": TrainingStep, "condition": ConditionStep, "lambda": LambdaStep,
         "fail": FailStep, "callback": CallbackStep}


def build(plan: dict[str, Any]) -> SageMakerPipelineGroup:
    group_kwargs = dict(plan["group"])
    if isinstance(group_kwargs.get("parameters"), dict):
        group_kwargs["parameters"] = {k: _parameter(v) for k, v in group_kwargs["parameters"].items()}
    group_kwargs = {str(k): v for k, v in group_kwargs.items()}
    with DAG(f"mut_{next(_dag_ids)}", schedule=None, start_date=START):
        with SageMakerPipelineGroup("g", **group_kwargs) as group:
            builder = _Builder(group)
            for spec in plan["steps"]:
                spec = dict(spec) if isinstance(spec, dict) else {"kind": "fail", "task_id": spec}
                kind = spec.pop("kind", None)
                make = KINDS.get(kind, FailStep) if isinstance(kind, str) else FailStep
                upstream = spec.pop("upstream", [])
                kwargs = {str(k): builder.value(v) for k, v in spec.items()}
                for branch in ("if_true", "if_false"):
                    if isinstance(kwargs.get(branch), list):
                        kwargs[branch] = [builder.step(i) for i in kwargs[branch]]
                if isinstance(kwargs.get("if_true"), list) or isinstance(kwargs.get("if_false"), list):
                    # Branch steps come later in the plan: attach them once they exist.
                    later = {b: kwargs.pop(b) for b in ("if_true", "if_false") if isinstance(kwargs.get(b), list)}
                    op = make(**kwargs)
                    op._later_branches = later
                else:
                    op = make(**kwargs)
                builder.ops.append(op)
                for i in upstream if isinstance(upstream, list) else [upstream]:
                    other = builder.step(i)
                    if other is not op and hasattr(other, "set_downstream"):
                        other >> op
            for op in builder.ops:
                for branch, items in getattr(op, "_later_branches", {}).items():
                    getattr(op, branch).steps.extend(builder.step(i) for i in items)
    return group


@settings(max_examples=int(os.environ.get('MUTATION_EXAMPLES', 3000)), deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(st.tuples(st.sampled_from(SLOTS), st.sampled_from(OPERATIONS), st.sampled_from(WEIRD)),
                min_size=1, max_size=3))
def test_mutated_groups_fail_only_with_a_located_compile_error(mutations):
    plan = copy.deepcopy(BASE)
    for path, operation, weird in mutations:
        mutate(plan, path, operation, weird)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PipelineDefinitionWarning)
        try:
            group = build(plan)
        except PipelineCompileError as error:
            message = str(error)
            assert error.dag_file == THIS_FILE and error.lineno, message
            assert message.startswith(f"{THIS_FILE}:{error.lineno}: DAG 'mut_"), message
            assert "\n" not in message
            return
    # Accepted: the definition is JSON SageMaker can read (no NaN, no non-string keys) and reads back.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PipelineDefinitionWarning)
        compiled = group.compile()
    text = compiled.definition.to_json()
    assert PipelineDefinition.from_json(text).to_json() == text


def test_the_base_plan_is_valid():
    group = build(copy.deepcopy(BASE))
    compiled = group.compile()
    assert [s.name for s in compiled.definition.all_steps()] == ["prep", "fit", "gate", "notify", "stop", "ask"]
    assert len(SLOTS) > 80
