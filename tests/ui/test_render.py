"""The page and its SVG: colours, labels, links, escaping, auto-refresh."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from airflow_sagemaker_mlops.ui.graph import apply_statuses, layout, parse_definition
from airflow_sagemaker_mlops.ui.render import STATUS_COLOURS, GroupView, render_page, render_svg

SVG = "{http://www.w3.org/2000/svg}"
DEFINITION = {"Steps": [
    {"Name": "evaluate", "Type": "Processing", "Arguments": {}},
    {"Name": "gate", "Type": "Condition", "Arguments": {
        "Conditions": [{"Type": "Equals", "LeftValue": {"Get": "Steps.evaluate.ProcessingJobStatus"},
                        "RightValue": "Completed"}],
        "IfSteps": [{"Name": "register", "Type": "RegisterModel", "Arguments": {}}],
        "ElseSteps": [{"Name": "stop", "Type": "Fail", "Arguments": {}}]}},
]}
ENTRIES = [
    {"StepName": "evaluate", "StepStatus": "Succeeded",
     "Metadata": {"ProcessingJob": {"Arn": "arn:aws:sagemaker:eu-west-1:1:processing-job/p-1"}}},
    {"StepName": "gate", "StepStatus": "Succeeded", "Metadata": {"Condition": {"Outcome": "false"}}},
    {"StepName": "stop", "StepStatus": "Failed", "FailureReason": "AUC <0.5 & too weak"},
]


def drawn(entries=ENTRIES):
    graph = parse_definition(DEFINITION)
    apply_statuses(graph, entries)
    return layout(graph)


def test_svg_is_well_formed_with_a_coloured_box_per_step():
    svg = ET.fromstring(render_svg(drawn()))
    boxes = {g.get("data-step"): g for g in svg.iter(f"{SVG}g") if g.get("class") == "step"}
    assert {name: g.get("data-status") for name, g in boxes.items()} == {
        "evaluate": "Succeeded", "gate": "Succeeded", "register": "Not run", "stop": "Failed"}
    for g in boxes.values():
        rect = next(g.iter(f"{SVG}rect"))
        assert (rect.get("fill"), rect.get("stroke")) == STATUS_COLOURS[g.get("data-status")]
    texts = ["".join(t.itertext()) for t in boxes["gate"].iter(f"{SVG}text")]
    assert texts == ["gate", "Condition \u00b7 Succeeded \u00b7 false"]
    assert "FailureReason: AUC <0.5 & too weak" in "".join(boxes["stop"].find(f"{SVG}title").itertext())


def test_branches_are_labelled_and_the_one_not_taken_is_faded():
    svg = ET.fromstring(render_svg(drawn()))
    edges = {(g.get("data-source"), g.get("data-target")): g for g in svg.iter(f"{SVG}g")
             if (g.get("class") or "").startswith("edge ")}
    assert set(edges) == {("evaluate", "gate"), ("gate", "register"), ("gate", "stop")}
    assert "".join(edges[("gate", "register")].find(f"{SVG}text").itertext()) == "true"
    assert "".join(edges[("gate", "stop")].find(f"{SVG}text").itertext()) == "false"
    assert edges[("gate", "register")].get("opacity") == "0.35"  # outcome false: the true branch did not run
    assert edges[("gate", "stop")].get("opacity") is None
    assert edges[("evaluate", "gate")].find(f"{SVG}path").get("stroke-dasharray") == "6 4"  # data reference


def test_steps_link_to_their_task_and_job():
    svg = ET.fromstring(render_svg(drawn(), {"evaluate": "/dags/d/runs/r/tasks/g.evaluate"},
                                   {"evaluate": "https://console.example/p-1"}))
    box = next(g for g in svg.iter(f"{SVG}g") if g.get("data-step") == "evaluate")
    links = {a.get("class"): a for a in box.iter(f"{SVG}a")}
    assert links["task-link"].get("href") == "/dags/d/runs/r/tasks/g.evaluate"
    assert links["job-link"].get("href") == "https://console.example/p-1"
    assert links["job-link"].get("target") == "_blank"


def test_no_execution_draws_grey_boxes_with_the_step_type_only():
    graph = drawn(entries=None)
    svg = ET.fromstring(render_svg(graph))
    statuses = {g.get("data-status") for g in svg.iter(f"{SVG}g") if g.get("class") == "step"}
    assert statuses == {"No execution"}
    assert "Processing" in ["".join(t.itertext()) for t in svg.iter(f"{SVG}text")]


def test_names_and_messages_from_aws_are_escaped():
    definition = {"Steps": [{"Name": "<script>alert(1)</script>", "Type": "Processing"}]}
    graph = layout(parse_definition(definition))
    apply_statuses(graph, [])
    html = render_page("<dag>", [GroupView("g", "p", graph=graph, error="<img src=x onerror=alert(1)>",
                                           execution={"PipelineExecutionStatus": "Failed",
                                                      "FailureReason": "<b>bad</b>"})])
    assert "<script>alert" not in html and "<img" not in html and "<b>bad" not in html and "<dag>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_page_refreshes_itself_only_while_an_execution_runs():
    running = GroupView("g", "p", graph=drawn(), execution={"PipelineExecutionStatus": "Executing"})
    done = GroupView("g", "p", graph=drawn(), execution={"PipelineExecutionStatus": "Succeeded"})
    assert re.search(r'<meta http-equiv="refresh" content="\d+">', render_page("d", [running, done]))
    assert "refresh" not in render_page("d", [done])


def test_page_sections_and_messages():
    views = [GroupView("train", "churn", graph=drawn(), execution={
                 "PipelineExecutionStatus": "Failed", "PipelineExecutionDisplayName": "run-1",
                 "FailureReason": "Step stop failed"},
                 execution_url="https://console.example/exec", dag_run_id="manual__1", dag_run_url="/dags/d/runs/m"),
             GroupView("later", "other", note="No execution yet")]
    html = render_page("d", views)
    assert html.count('<section class="group"') == 2
    assert '<a href="https://console.example/exec" target="_blank" rel="noopener">run-1</a>' in html
    assert '<a href="/dags/d/runs/m">manual__1</a>' in html and "Step stop failed" in html
    assert "No execution yet" in html
    assert "no pipeline" in render_page("d", [], "no pipeline")
