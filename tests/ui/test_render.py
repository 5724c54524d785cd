"""The page and its SVG: colours, labels, links, escaping, auto-refresh."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from itertools import pairwise

from airflow_sagemaker_mlops.ui.graph import NODE_HEIGHT, NODE_WIDTH, apply_statuses, layout, tab_graph
from airflow_sagemaker_mlops.ui.render import (
    MIN_FIT_SCALE,
    REFRESH_SECONDS,
    STATUS_COLOURS,
    GroupView,
    human_time,
    render_help,
    render_no_pipeline,
    render_page,
    render_svg,
)

NOW = dt.datetime(2026, 3, 4, 9, 30, 0, tzinfo=dt.timezone.utc)

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
    graph = tab_graph(DEFINITION)
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
    graph = layout(tab_graph(definition))
    apply_statuses(graph, [])
    html = render_page("<dag>", [GroupView("g", "p", graph=graph, error="<img src=x onerror=alert(1)>",
                                           execution={"PipelineExecutionStatus": "Failed",
                                                      "FailureReason": "<b>bad</b>"})])
    assert "<script>alert" not in html and "<img" not in html and "<b>bad" not in html and "<dag>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_page_updates_itself_only_while_an_execution_runs():
    running = GroupView("g", "p", graph=drawn(), execution={"PipelineExecutionStatus": "Executing"})
    done = GroupView("g", "p", graph=drawn(), execution={"PipelineExecutionStatus": "Succeeded"})
    live = render_page("d", [running, done])
    assert f'<body data-refresh="{REFRESH_SECONDS}">' in live and '<main id="content">' in live
    # Without scripts, a meta refresh does it.
    assert f'<noscript><meta http-equiv="refresh" content="{REFRESH_SECONDS}"></noscript>' in live
    assert " · live</span>" in live
    quiet = render_page("d", [done])
    assert "refresh" not in quiet.split("<script>")[0] and " · live" not in quiet


def test_page_sections_and_messages():
    views = [GroupView("train", "churn", graph=drawn(), execution={
                 "PipelineExecutionStatus": "Failed", "PipelineExecutionDisplayName": "run-1",
                 "FailureReason": "Step stop failed"},
                 execution_url="https://console.example/exec", dag_run_id="manual__1", dag_run_url="/dags/d/runs/m"),
             GroupView("later", "other", note="No execution yet")]
    html = render_page("d", views)
    assert html.count('<section class="group"') == 2
    assert '<a href="https://console.example/exec" target="_blank" rel="noopener">run-1</a>' in html
    assert '<a href="/dags/d/runs/m">manual__1</a>' in html
    assert "No execution yet" in html
    assert "no pipeline" in render_page("d", [], "no pipeline")


def failed_view(**kwargs):
    entries = [
        {"StepName": "evaluate", "StepStatus": "Succeeded", "StartTime": "2026-03-04T09:00:00+00:00",
         "EndTime": "2026-03-04T09:01:04+00:00"},
        {"StepName": "gate", "StepStatus": "Succeeded", "Metadata": {"Condition": {"Outcome": "false"}}},
        {"StepName": "stop", "StepStatus": "Failed", "FailureReason": "AUC 0.61 is below MinAuc 0.7",
         "StartTime": "2026-03-04T09:01:05+00:00", "EndTime": "2026-03-04T09:01:05.2+00:00"},
    ]
    return GroupView("train", "churn", graph=drawn(entries), execution={
        "PipelineExecutionStatus": "Failed", "FailureReason": "Step failure: One or multiple steps failed.",
        "CreationTime": "2026-03-04T08:59:58+00:00", "LastModifiedTime": "2026-03-04T09:01:06+00:00"},
        task_ids={"stop": "train.stop", "evaluate": "train.evaluate"},
        task_urls={"stop": "/dags/d/runs/r/tasks/train.stop"}, **kwargs)


def test_a_failed_execution_names_the_failing_step_its_reason_and_the_task_to_open():
    html = render_page("d", [failed_view()], now=NOW)
    failure = re.search(r'<div class="failure">(.*?)</div>', html).group(1)
    assert failure.startswith("<strong>stop</strong> (Fail) ended the execution by design (a Fail step): "
                              '<span class="reason">AUC 0.61 is below MinAuc 0.7</span>')
    assert ('Look at Airflow task <a href="/dags/d/runs/r/tasks/train.stop"><code>train.stop</code></a>'
            in failure)
    assert "One or multiple steps failed" not in failure  # the step's own reason says more
    succeeded = GroupView("g", "p", graph=drawn(), execution={"PipelineExecutionStatus": "Succeeded"})
    assert 'class="failure"' not in render_page("d", [succeeded])


def test_an_execution_stopped_before_any_step_failed_shows_its_own_reason():
    view = GroupView("g", "p", graph=drawn([]), execution={"PipelineExecutionStatus": "Stopped",
                                                           "FailureReason": "stopped by <user>"})
    assert '<div class="failure">Execution Stopped: <span class="reason">stopped by &lt;user&gt;</span></div>' \
        in render_page("d", [view])


def test_times_read_as_clock_times_with_how_long_ago_and_durations():
    assert human_time("2026-03-04T09:26:00+00:00", NOW) == "09:26:00 UTC (4 min ago)"
    assert human_time("2026-03-04T09:29:30Z", NOW) == "09:29:30 UTC (just now)"
    assert human_time("2026-03-01T07:00:00+00:00", NOW) == "2026-03-01 07:00 UTC (3 days ago)"
    assert human_time("2026-03-04T06:00:00+00:00", NOW) == "06:00:00 UTC (3 h ago)"
    assert human_time("yesterday", NOW) == "yesterday"
    html = render_page("d", [failed_view()], now=NOW)
    meta = re.search(r'<p class="meta">(Latest execution.*?)</p>', html).group(1)
    assert "started 08:59:58 UTC (30 min ago) · ran 1m 08s" in meta
    running = GroupView("g", "p", graph=drawn(), execution={"PipelineExecutionStatus": "Executing",
                                                            "CreationTime": "2026-03-04T09:29:00+00:00"})
    assert "running for 1m 00s" in render_page("d", [running], now=NOW)
    assert "2026-03-04T" not in html.split("<script>")[0]  # no raw ISO strings anywhere on the page


def test_every_step_has_a_row_in_reading_order_with_its_times():
    html = render_page("d", [failed_view()], now=NOW)
    rows = re.findall(r'<tr data-step="([^"]+)">(.*?)</tr>', html)
    assert [name for name, _ in rows] == ["evaluate", "gate", "register", "stop"]
    cells = dict(rows)
    assert "09:00:00 UTC (30 min ago)" in cells["evaluate"] and "ran 1m 04s" in cells["evaluate"]
    assert 'href="/dags/d/runs/r/tasks/train.stop"' in cells["stop"] and "AUC 0.61" in cells["stop"]


def test_the_graph_scales_to_its_pane_and_has_zoom_controls():
    html = render_page("d", [failed_view()], now=NOW)
    svg = re.search(r"<svg [^>]*class=\"pipeline\"[^>]*>", html).group(0)
    assert re.search(r'viewBox="0 0 \d+ \d+"', svg) and f'data-min-scale="{MIN_FIT_SCALE}"' in svg
    assert [b for b in re.findall(r'data-zoom="([^"]+)"', html)] == ["fit", "out", "in", "1"]


def fifty_steps():
    """A realistic wide pipeline: prepare, 12 regions x (train, evaluate, gate -> register | fail), report."""
    steps = [{"Name": "prepare", "Type": "Processing", "Arguments": {}}]
    for r in range(12):
        steps.append({"Name": f"train-{r}", "Type": "Training", "DependsOn": ["prepare"], "Arguments": {}})
        steps.append({"Name": f"evaluate-{r}", "Type": "Processing", "DependsOn": [f"train-{r}"], "Arguments": {}})
        steps.append({"Name": f"gate-{r}", "Type": "Condition", "DependsOn": [f"evaluate-{r}"], "Arguments": {
            "Conditions": [], "IfSteps": [{"Name": f"register-{r}", "Type": "RegisterModel", "Arguments": {}}],
            "ElseSteps": []}})
    steps.append({"Name": "report", "Type": "Processing", "DependsOn": [f"register-{r}" for r in range(12)],
                  "Arguments": {}})
    return {"Steps": steps}


def test_fifty_steps_keep_readable_boxes_without_overlaps():
    graph = layout(tab_graph(fifty_steps()))
    apply_statuses(graph, [])
    assert len(graph.steps) == 50
    boxes = sorted((s.y, s.x) for s in graph.steps.values())
    for (y0, x0), (y1, x1) in pairwise(boxes):
        assert y1 > y0 or x1 - x0 >= NODE_WIDTH, "boxes overlap"
    assert all(s.y + NODE_HEIGHT <= graph.height and s.x + NODE_WIDTH <= graph.width for s in graph.steps.values())
    html = render_page("d", [GroupView("g", "p", graph=graph, execution={"PipelineExecutionStatus": "Executing"})])
    assert len(re.findall(r'<tr data-step="', html)) == 50
    assert '<details class="steps"><summary>50 steps</summary>' in html  # folded: the graph comes first


def test_a_dag_without_a_pipeline_gets_one_line_and_a_help_link():
    html = render_no_pipeline("<plain>")
    body = html.split("<body>")[1].split("<script>")[0]
    assert body.count("<p") == 1 and "&lt;plain&gt;" in body and "<plain>" not in html
    assert '<a href="../help" target="_blank" rel="noopener">How to add one</a>' in body
    assert "SageMakerPipelineGroup" in render_help()
