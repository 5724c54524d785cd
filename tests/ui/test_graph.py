"""Definition -> graph (edge kinds, statuses) and the layered layout, on hand-made and golden definitions."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from airflow_sagemaker_mlops.ui.graph import (
    NO_EXECUTION,
    NODE_HEIGHT,
    NODE_WIDTH,
    NOT_RUN,
    DefinitionError,
    TabGraph,
    apply_statuses,
    layout,
    tab_graph,
)

GOLDEN = sorted((Path(__file__).parents[1] / "golden").glob("*.json"))


def step(name: str, type_: str = "Processing", **fields: Any) -> dict[str, Any]:
    return {"Name": name, "Type": type_, "Arguments": {}, **fields}


def get(path: str) -> dict[str, str]:
    return {"Get": path}


def kinds(graph: TabGraph) -> dict[tuple[str, str], tuple[str, str | None]]:
    return {(e.source, e.target): (e.kind, e.label) for e in graph.edges}


def test_edges_of_every_kind():
    definition = {"Steps": [
        step("prep"),
        step("fit", "Training", Arguments={"InputDataConfig": [{"DataSource": {"S3DataSource": {
            "S3Uri": get("Steps.prep.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri")}}}]}),
        step("eval", DependsOn=["fit"]),
        step("gate", "Condition", Arguments={
            "Conditions": [{"Type": "GreaterThanOrEqualTo", "LeftValue": {"Std:JsonGet": {
                "PropertyFile": get("Steps.eval.PropertyFiles.metrics"), "Path": "auc"}}, "RightValue": 0.5}],
            "IfSteps": [step("register", "RegisterModel", Arguments={
                "ModelData": get("Steps.fit.ModelArtifacts.S3ModelArtifacts")})],
            "ElseSteps": [step("stop", "Fail")]}),
        step("cleanup", DependsOn=[{"Step": "fit", "Trigger": "Failed"}, "prep"]),
        # DependsOn beside a data reference to the same step: one edge, drawn as data.
        step("report", DependsOn=["eval"], Arguments={"X": get("Steps.eval.ProcessingJobArn")}),
    ]}
    graph = tab_graph(json.dumps(definition))
    assert list(graph.steps) == ["prep", "fit", "eval", "gate", "register", "stop", "cleanup", "report"]
    assert graph.steps["register"].branch == ("gate", "true") and graph.steps["stop"].branch == ("gate", "false")
    assert kinds(graph) == {
        ("prep", "fit"): ("data", None),
        ("fit", "eval"): ("order", None),
        ("eval", "gate"): ("data", None),  # the property file read by the condition
        ("gate", "register"): ("true", "true"),
        ("fit", "register"): ("data", None),
        ("gate", "stop"): ("false", "false"),
        ("fit", "cleanup"): ("order", "on Failed"),
        ("prep", "cleanup"): ("order", None),
        ("eval", "report"): ("data", None),
    }


@pytest.mark.parametrize("bad, message", [
    ("not json", "not JSON"),
    ("{}", "no 'Steps' list"),
    ('{"Steps": [{"Type": "Processing"}]}', "has no name"),
])
def test_a_definition_that_cannot_be_drawn_says_why(bad: str, message: str):
    with pytest.raises(DefinitionError, match=message):
        tab_graph(bad)


def test_statuses_come_from_the_last_entry_of_each_step():
    graph = tab_graph({"Steps": [step("a"), step("b"), step("c")]})
    apply_statuses(graph, None)
    assert {s.status for s in graph.steps.values()} == {NO_EXECUTION}
    apply_statuses(graph, [
        {"StepName": "a", "StepStatus": "Failed", "FailureReason": "boom"},
        {"StepName": "b", "StepStatus": "Executing"},
        {"StepName": "a", "StepStatus": "Succeeded",  # RetryPipelineExecution ran it again
         "Metadata": {"ProcessingJob": {"Arn": "arn:aws:sagemaker:us-east-1:1:processing-job/x"}}},
    ])
    assert {n: s.status for n, s in graph.steps.items()} == {"a": "Succeeded", "b": "Executing", "c": NOT_RUN}
    assert graph.steps["a"].failure_reason is None
    assert graph.steps["a"].resource_arn == "arn:aws:sagemaker:us-east-1:1:processing-job/x"


def test_condition_outcome():
    graph = tab_graph({"Steps": [step("gate", "Condition", Arguments={"Conditions": []})]})
    apply_statuses(graph, [{"StepName": "gate", "StepStatus": "Succeeded",
                            "Metadata": {"Condition": {"Outcome": "False"}}}])
    assert graph.steps["gate"].outcome is False


def check_layout(graph: TabGraph) -> None:
    """Every edge goes down, nothing overlaps, everything is inside the canvas."""
    for edge in graph.edges:
        source, target = graph.steps[edge.source], graph.steps[edge.target]
        assert target.layer > source.layer, (edge.source, edge.target)
        assert edge.points[0] == (source.x + NODE_WIDTH / 2, source.y + NODE_HEIGHT)
        assert edge.points[-1] == (target.x + NODE_WIDTH / 2, target.y)
        # One waypoint pair per layer crossed: the edge bends around the steps in between.
        assert len(edge.points) == 2 + 2 * (target.layer - source.layer - 1)
    for a, b in itertools.combinations(graph.steps.values(), 2):
        apart = abs(a.x - b.x) >= NODE_WIDTH or abs(a.y - b.y) >= NODE_HEIGHT
        assert apart, (a.name, a.x, a.y, b.name, b.x, b.y)
    for s in graph.steps.values():
        assert 0 <= s.x and s.x + NODE_WIDTH <= graph.width and 0 <= s.y and s.y + NODE_HEIGHT <= graph.height


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_golden_definitions_lay_out_cleanly(path: Path):
    for spec in json.loads(path.read_text()).values():
        graph = layout(tab_graph(spec["PipelineDefinition"]))
        assert graph.steps
        check_layout(graph)


def test_layers_follow_the_longest_path_and_sources_sit_above_their_first_step():
    graph = layout(tab_graph({"Steps": [
        step("a"), step("b", DependsOn=["a"]), step("c", DependsOn=["b"]),
        step("d", DependsOn=["a", "c"]),  # a -> d skips two layers
        step("side"), step("e", DependsOn=["side", "d"]),
    ]}))
    assert {n: s.layer for n, s in graph.steps.items()} == {"a": 0, "b": 1, "c": 2, "d": 3, "side": 3, "e": 4}
    check_layout(graph)


def test_crossings_are_removed():
    # Drawn in definition order, x1 -> y2 and x2 -> y1 would cross.
    graph = layout(tab_graph({"Steps": [
        step("x1"), step("x2"), step("y1", DependsOn=["x2"]), step("y2", DependsOn=["x1"])]}))
    steps = graph.steps
    assert (steps["x1"].x < steps["x2"].x) == (steps["y2"].x < steps["y1"].x)


def test_a_cycle_is_still_drawn():
    # SageMaker rejects cycles; the page must not hang or fail on one.
    graph = layout(tab_graph({"Steps": [step("a", DependsOn=["b"]), step("b", DependsOn=["a"])]}))
    assert {(e.source, e.target) for e in graph.edges} == {("a", "b"), ("b", "a")}
    assert all(len(e.points) >= 2 for e in graph.edges)


def test_a_large_pipeline_lays_out_cleanly():
    steps = [step("s0")] + [step(f"s{i}", DependsOn=[f"s{i // 2}"]) for i in range(1, 300)]  # a binary tree
    graph = layout(tab_graph({"Steps": steps}))
    check_layout(graph)
    assert max(s.layer for s in graph.steps.values()) == 9  # s299 -> s149 -> ... -> s1 -> s0
