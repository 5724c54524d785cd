"""The example training DAG under real Airflow, as a user runs it: api-server, scheduler (LocalExecutor),
dag-processor and triggerer against the local engine; login, trigger both branches through the REST API,
check every task, check the step waits went through the triggerer, then look at the grid in Chromium.

The docker-compose stack runs the same components (tests/e2e/test_compose.py checks that). The screenshot
goes to the test's tmp dir; E2E_SCREENSHOT_DIR=docs/screenshots also writes it there (the docs' copy).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from e2e_browser import Browser, find_chromium
from e2e_cluster import AirflowCluster

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"
DAG_ID = "churn_training"
GROUP = "train"
STEP_TASKS = [f"{GROUP}.{t}" for t in ("preprocess", "fit", "evaluate", "auc_gate", "register", "too_weak")]
# MinAuc decides the branch: the synthetic churn data gives a test AUC well inside (0.5, 0.99). Epochs makes
# training last ~15 s, longer than the scheduler takes to start the fit task after preprocess: that task
# finds its step still running and defers (a task whose step already ended finishes without deferring).
SLOW_TRAINING = {"Epochs": 150000}
BRANCHES = {"register": {"MinAuc": 0.5, **SLOW_TRAINING}, "too_weak": {"MinAuc": 0.99, **SLOW_TRAINING}}
EXPECTED: dict[str, dict[str, str]] = {
    "register": {f"{GROUP}.start": "success", f"{GROUP}.preprocess": "success", f"{GROUP}.fit": "success",
                 f"{GROUP}.evaluate": "success", f"{GROUP}.auc_gate": "success", f"{GROUP}.register": "success",
                 f"{GROUP}.too_weak": "skipped", "deploy": "success", "notify": "skipped"},
    "too_weak": {f"{GROUP}.start": "success", f"{GROUP}.preprocess": "success", f"{GROUP}.fit": "success",
                 f"{GROUP}.evaluate": "success", f"{GROUP}.auc_gate": "success", f"{GROUP}.register": "skipped",
                 f"{GROUP}.too_weak": "failed", "deploy": "skipped", "notify": "success"},
}
RUN_STATE = {"register": "success", "too_weak": "failed"}
SCREENSHOT_DIR = Path(os.environ.get("E2E_SCREENSHOT_DIR", "")) if os.environ.get("E2E_SCREENSHOT_DIR") else None


@dataclass
class Finished:
    cluster: AirflowCluster
    runs: dict[str, str]  # branch -> run id
    run_states: dict[str, str]
    task_states: dict[str, dict[str, str | None]]


@pytest.fixture(scope="module")
def cluster(_sagemaker_local_engine_session: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowCluster]:
    # The session engine (the function-scoped `sagemaker_local_engine` fixture wraps it): the Airflow
    # processes outlive single tests, and both tests of this module share one cluster and its finished runs.
    engine = _sagemaker_local_engine_session
    home = tmp_path_factory.mktemp("e2e-airflow")
    cluster = AirflowCluster(home, DAGS, engine.url, env={
        # The examples poll every second by default; slower than the scheduler loop (1 s) avoids a trigger
        # firing before the scheduler has processed the deferral (see tests/runtime/test_scheduler.py).
        "EXAMPLES_POLL_INTERVAL": "3",
    })
    # The buckets, queue and model package group the examples use, made by the script docker-compose runs.
    setup = subprocess.run([sys.executable, str(REPO / "docker" / "create_example_resources.py"), str(DAGS)],
                           env={**cluster.env}, capture_output=True, text=True, timeout=120)
    assert setup.returncode == 0, setup.stderr
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def finished(cluster: AirflowCluster) -> Finished:
    cluster.login()
    cluster.wait_for_dag(DAG_ID)
    assert not cluster.unpause(DAG_ID)["is_paused"]
    runs = {branch: cluster.trigger(DAG_ID, conf) for branch, conf in BRANCHES.items()}
    run_states = cluster.wait_for_runs(DAG_ID, list(runs.values()), timeout=240)
    task_states = {branch: cluster.task_states(DAG_ID, run_id) for branch, run_id in runs.items()}
    return Finished(cluster, runs, {b: run_states[r] for b, r in runs.items()}, task_states)


def test_both_branches_through_the_rest_api(finished: Finished):
    cluster = finished.cluster
    for branch in BRANCHES:
        assert finished.task_states[branch] == EXPECTED[branch], (branch, finished.task_states, cluster.logs())
        assert finished.run_states[branch] == RUN_STATE[branch], (branch, finished.run_states)
    # At least one step task found its step still running and deferred: the wait went through the
    # triggerer, which logged it beside the task's log.
    waited = {(branch, task) for branch, run_id in finished.runs.items() for task in STEP_TASKS
              if "waiting for step" in cluster.trigger_logs(DAG_ID, task, run_id)}
    print("deferred through the triggerer:", sorted(waited))
    assert waited, cluster.log("triggerer")[-3000:]


@pytest.fixture(scope="module")  # module scope: pytest sets up wider scopes first, so it must match `finished`
def chromium() -> str:
    path = find_chromium()
    if path is None:
        pytest.skip("Chromium not found (apt-get update && apt-get install -y chromium, or CHROMIUM=/path): "
                    "no grid screenshot")
    return path


# `chromium` before `finished`: without a browser this test skips before starting any Airflow run.
def test_grid_view_of_the_finished_run(chromium: str, finished: Finished, tmp_path: Path):
    cluster = finished.cluster
    run_id = finished.runs["register"]
    page = f"{cluster.url}/dags/{DAG_ID}/runs/{urllib.parse.quote(run_id, safe='')}"
    with Browser(chromium) as browser:
        # Like a user: open the run, get sent to the login form, sign in, land back on the run.
        browser.goto(page)
        browser.wait_for("!!document.querySelector('input[name=password], input[type=password]')", 60,
                         "the login form")
        browser.fill("input[name=username]", "admin")
        browser.fill("input[type=password]", cluster.password())
        browser.evaluate("document.querySelector('button[type=submit]').click()")
        browser.wait_for(f"location.pathname.startsWith('/dags/{DAG_ID}/runs/')", 60, "the redirect to the run")
        # The grid: one row per task, one cell per (run, task). The pipeline group starts collapsed; "Expand
        # all task groups" (idempotent, so pressing it again while the grid is still loading is harmless)
        # until this run has a cell for every task, the step tasks included.
        cells = json.dumps([f"grid-{run_id}-{task}" for task in EXPECTED["register"]])
        browser.wait_for(f"""(() => {{
            const missing = {cells}.filter(id => !document.querySelector(`[data-testid="${{id}}"]`));
            if (missing.length) document.querySelector('button[aria-label="Expand all task groups"]')?.click();
            return missing.length === 0;
        }})()""", 60, "a grid cell for every task of the run")
        rows = browser.evaluate("[...document.querySelectorAll('[data-testid^=\"task-\"]')].map(e => e.innerText)")
        text = browser.text()
        time.sleep(1)  # the group's chevron animates for 0.5 s after expanding
        png = browser.screenshot(tmp_path / "grid.png")
    # The run's page (its id and state), not the login form or an error page.
    assert run_id in text and "Success" in text, text[:2000]
    assert not any(word in text for word in ("Sign in", "Sign In", "Not Found", "Forbidden")), text[:2000]
    assert {"train", "preprocess", "fit", "evaluate", "auc_gate", "register", "too_weak", "deploy",
            "notify"} <= {row.strip() for row in rows}, rows
    assert png.startswith(b"\x89PNG") and len(png) > 20_000, len(png)  # a blank page compresses to a few KB
    if SCREENSHOT_DIR:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        (SCREENSHOT_DIR / "churn_training_grid.png").write_bytes(png)



def test_step_task_log_in_the_ui(chromium: str, finished: Finished, tmp_path: Path):
    """The fit step task's log page: the training job's own lines (from CloudWatch Logs) and its metrics."""
    cluster = finished.cluster
    run_id = finished.runs["register"]
    page = (f"{cluster.url}/dags/{DAG_ID}/runs/{urllib.parse.quote(run_id, safe='')}/tasks/"
            f"{urllib.parse.quote(GROUP + '.fit', safe='')}")
    with Browser(chromium) as browser:
        browser.goto(page)
        browser.wait_for("!!document.querySelector('input[name=password], input[type=password]')", 60,
                         "the login form")
        browser.fill("input[name=username]", "admin")
        browser.fill("input[type=password]", cluster.password())
        browser.evaluate("document.querySelector('button[type=submit]').click()")
        browser.wait_for("document.body.innerText.includes('job log of step fit')", 90,
                         "the task log with the job's log")
        browser.wait_for("document.body.innerText.includes('Metrics of step fit')", 30, "the metrics table")
        text = browser.text()
        time.sleep(1)
        png = browser.screenshot(tmp_path / "fit_log.png")
    assert "/aws/sagemaker/TrainingJobs" in text and "validation:auc=" in text, text[-3000:]
    assert png.startswith(b"\x89PNG") and len(png) > 20_000, len(png)
    if SCREENSHOT_DIR:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        (SCREENSHOT_DIR / "churn_training_fit_log.png").write_bytes(png)
