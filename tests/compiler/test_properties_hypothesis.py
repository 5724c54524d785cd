"""Property-based tests of the compiler.

- random valid groups compile to a definition whose dependency graph equals the Airflow graph between the
  steps, and is acyclic;
- random invalid groups raise only the project's error type.
"""

from __future__ import annotations

import itertools
from typing import Any

import pendulum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_sagemaker_mlops import (
    ConditionStep,
    FailStep,
    Join,
    PipelineParameter,
    ProcessingStep,
    RawStep,
    SageMakerPipelineGroup,
    TrainingStep,
)
from airflow_sagemaker_mlops import conditions as C
from airflow_sagemaker_mlops.compat import DAG
from airflow_sagemaker_mlops.definition.validate import dependency_graph, find_cycle
from airflow_sagemaker_mlops.exceptions import SageMakerMlopsError

_dag_ids = itertools.count()
READABLE = ("processing", "training")  # steps with properties to read
START = pendulum.datetime(2026, 1, 1, tz="UTC")


@st.composite
def group_plans(draw: Any) -> dict[str, Any]:
    """A random DAG-shaped plan over n steps: only edges i -> j with i < j, so it is acyclic."""
    n = draw(st.integers(min_value=1, max_value=12))
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    order = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=20)) if pairs else []
    data = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=10)) if pairs else []
    kinds = draw(st.lists(st.sampled_from(["processing", "training", "fail", "condition"]), min_size=n, max_size=n))
    # Branch membership: a step j may be nested in an earlier condition i (one parent at most).
    branches: dict[int, tuple[int, bool]] = {}
    for j in range(n):
        parents = [i for i in range(j) if kinds[i] == "condition"]
        if parents and draw(st.booleans()):
            branches[j] = (draw(st.sampled_from(parents)), draw(st.booleans()))
    return {"n": n, "order": order, "data": data, "kinds": kinds, "branches": branches}


def build_group(plan: dict[str, Any]) -> tuple[SageMakerPipelineGroup, list[Any]]:
    with DAG(f"hyp_{next(_dag_ids)}", schedule=None, start_date=START):
        with SageMakerPipelineGroup(group_id="g", pipeline_name="hyp",
                                    parameters={"T": PipelineParameter.float(0.5)}) as group:
            ops: list[Any] = []
            for j in range(plan["n"]):
                reads = [ops[i] for i, k in plan["data"] if k == j and plan["kinds"][i] in READABLE]
                refs = [op.properties.ProcessingJobArn if isinstance(op, ProcessingStep)
                        else op.properties.TrainingJobArn
                        for op in reads]
                kind = plan["kinds"][j]
                if kind == "processing":
                    env = {f"R{i}": ref for i, ref in enumerate(refs)}
                    ops.append(ProcessingStep(task_id=f"s{j}", job={"Environment": env}))
                elif kind == "training":
                    env = {f"R{i}": ref for i, ref in enumerate(refs)}
                    ops.append(TrainingStep(task_id=f"s{j}", job={"Environment": env}))
                elif kind == "fail":
                    ops.append(FailStep(task_id=f"s{j}", error_message=Join(["failed after ", *refs])))
                else:
                    ops.append(ConditionStep(task_id=f"s{j}", condition=[
                        C.ge(group.parameter("T"), 0.1), *(C.eq(ref, "arn") for ref in refs)]))
            for j, (i, outcome) in plan["branches"].items():
                branch = ops[i].if_true if outcome else ops[i].if_false
                branch.steps.append(ops[j])
            for i, j in plan["order"]:
                ops[i] >> ops[j]
    return group, ops


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(group_plans())
def test_valid_groups_compile_to_the_airflow_graph(plan):
    group, ops = build_group(plan)
    definition = group.compile().definition
    graph = dependency_graph(definition)
    assert find_cycle(graph) is None
    assert set(graph) == {op.step_name for op in ops}
    by_task = {op.task_id: op.step_name for op in ops}
    for op in ops:
        airflow_upstream = {by_task[t] for t in op.upstream_task_ids if t in by_task}
        assert graph[op.step_name] == airflow_upstream, op.step_name
    # Every data dependency and nesting edge is in the Airflow graph too.
    for i, j in plan["data"]:
        if plan["kinds"][i] in READABLE:
            assert ops[i].task_id in ops[j].upstream_task_ids
    for j, (i, _) in plan["branches"].items():
        assert ops[i].task_id in ops[j].upstream_task_ids


@st.composite
def broken_plans(draw: Any) -> tuple[dict[str, Any], str]:
    plan = draw(group_plans())
    n = plan["n"]
    defect = draw(st.sampled_from(["back_edge", "bad_name", "dup_name", "both_branches", "bad_param_default",
                                   "self_branch", "unknown_type"]))
    return plan | {"defect": defect, "at": draw(st.integers(min_value=0, max_value=n - 1))}, defect


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(broken_plans())
def test_invalid_groups_raise_only_the_project_error(case):
    plan, defect = case
    at = plan["at"]
    try:
        with DAG(f"hyp_bad_{next(_dag_ids)}", schedule=None, start_date=START):
            params = {"T": PipelineParameter.float("high" if defect == "bad_param_default" else 0.5)}
            with SageMakerPipelineGroup(group_id="g", pipeline_name="hyp", parameters=params) as group:
                ops: list[Any] = []
                for j in range(plan["n"]):
                    name = "bad name" if defect == "bad_name" and j == at else None
                    if plan["kinds"][j] == "condition" or (defect in ("both_branches", "self_branch") and j == at):
                        ops.append(ConditionStep(task_id=f"s{j}", step_name=name,
                                                 condition=C.ge(group.parameter("T"), 0.1)))
                    else:
                        ops.append(ProcessingStep(task_id=f"s{j}", step_name=name, job={}))
                extra = ProcessingStep(task_id="extra", job={"Environment": {"X": ops[at].properties.ProcessingJobArn}},
                                       step_name=ops[at].step_name if defect == "dup_name" else None)
                if defect == "both_branches":
                    ops[at].if_true.steps.append(extra)
                    ops[at].if_false.steps.append(extra)
                if defect == "self_branch":
                    ops[at].if_true.steps.append(ops[at])
                if defect == "unknown_type":
                    RawStep(task_id="raw", step_type="NoSuchType", arguments={})
                for i, j in plan["order"]:
                    ops[i] >> ops[j]
                if defect == "back_edge":
                    extra >> ops[at]  # extra reads a property of ops[at], so it runs after it
    except SageMakerMlopsError:
        return
    raise AssertionError(f"defect {defect!r} was not reported")
