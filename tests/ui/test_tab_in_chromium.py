"""The pipeline tab's page in headless Chromium, without Airflow: a 50-step graph too wide for its pane is shown
at the smallest readable scale (and panned), zooms and fits again; its screenshot stays in the test's tmp dir
(the docs' 50-step picture is of a real run: tests/e2e/test_airflow_e2e.py)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from e2e_browser import Browser, find_chromium
from test_render import fifty_steps

from airflow_sagemaker_mlops.ui.graph import apply_statuses, layout, tab_graph
from airflow_sagemaker_mlops.ui.render import MIN_FIT_SCALE, GroupView, render_page

pytestmark = pytest.mark.e2e

NOW = dt.datetime(2026, 3, 4, 9, 30, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def chromium() -> str:
    path = find_chromium()
    if path is None:
        pytest.skip("Chromium not found (apt-get update && apt-get install -y chromium, or CHROMIUM=/path)")
    return path


def running_fifty_steps() -> GroupView:
    """12 regions half way: trained and evaluated in some, training in others, one failed evaluation."""
    def at(minutes: float) -> str:
        return (NOW - dt.timedelta(minutes=minutes)).isoformat()

    entries = [{"StepName": "prepare", "StepStatus": "Succeeded", "StartTime": at(30), "EndTime": at(26)}]
    for r in range(12):
        entries.append({"StepName": f"train-{r}", "StepStatus": "Succeeded" if r < 8 else "Executing",
                        "StartTime": at(26), **({"EndTime": at(14 - r)} if r < 8 else {})})
        if r < 8:
            failed = r == 5
            entries.append({"StepName": f"evaluate-{r}", "StepStatus": "Failed" if failed else "Succeeded",
                            "StartTime": at(13 - r), "EndTime": at(12 - r),
                            **({"FailureReason": "AlgorithmError: no rows for region 5"} if failed else {})})
        if r < 5:
            entries.append({"StepName": f"gate-{r}", "StepStatus": "Succeeded", "StartTime": at(11 - r),
                            "EndTime": at(11 - r), "Metadata": {"Condition": {"Outcome": "true"}}})
            entries.append({"StepName": f"register-{r}", "StepStatus": "Succeeded", "StartTime": at(10 - r),
                            "EndTime": at(10 - r)})
    graph = tab_graph(fifty_steps())
    apply_statuses(graph, entries)
    return GroupView("regions", "churn-by-region", graph=layout(graph),
                     execution={"PipelineExecutionStatus": "Executing", "PipelineExecutionDisplayName": "nightly-0304",
                                "CreationTime": at(30)},
                     source="Definition this execution ran with, coloured by its steps.",
                     task_ids={s: f"regions.{s}" for s in graph.steps}, task_urls={s: "#" for s in graph.steps},
                     dag_run_id="scheduled__2026-03-04T09:00:00+00:00", dag_run_url="#")


def test_fifty_steps_fit_the_pane_readably_and_zoom(chromium: str, tmp_path: Path):
    view = running_fifty_steps()
    page = tmp_path / "fifty.html"
    # No live refresh from a file: the page would fetch itself; the view stays Executing for the picture.
    page.write_text(render_page("churn_by_region", [view], now=NOW).replace(' data-refresh="10"', ""))
    natural = view.graph.width
    with Browser(chromium) as browser:
        browser.goto(page.as_uri())
        sized = (f"(() => {{ const s = document.querySelector('svg.pipeline'); const w = s && +s.getAttribute('width');"
                 f" return w !== {natural:.0f} && w; }})()")
        width = browser.wait_for(sized, 30, "the graph sized to its pane")
        pane = browser.evaluate("document.querySelector('.canvas').clientWidth")
        png = browser.screenshot(tmp_path / "fifty.png")
        browser.evaluate("document.querySelector('button[data-zoom=\"in\"]').click()")
        zoomed = browser.evaluate("+document.querySelector('svg.pipeline').getAttribute('width')")
        browser.evaluate("document.querySelector('button[data-zoom=\"fit\"]').click()")
        fitted = browser.evaluate("+document.querySelector('svg.pipeline').getAttribute('width')")
        rows = browser.evaluate("document.querySelectorAll('tr[data-step]').length")
    scale = width / natural
    # Fitted to the pane's width where that stays readable, else at the smallest readable scale (then panned).
    assert scale == pytest.approx(max(MIN_FIT_SCALE, min(1.0, (pane - 2) / natural)), abs=0.01), (width, pane, natural)
    assert zoomed == pytest.approx(width * 1.25, abs=2) and fitted == pytest.approx(width, abs=2)
    assert rows == 50
    assert png.startswith(b"\x89PNG") and len(png) > 30_000, len(png)
