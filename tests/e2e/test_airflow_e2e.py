"""The example training DAG under real Airflow, as a user runs it: api-server, scheduler (LocalExecutor),
dag-processor and triggerer against the local engine; login, trigger both branches through the REST API,
check every task, check the step waits went through the triggerer, then look at the grid, the pipeline tab
(airflow_sagemaker_mlops.ui) and a step task's log in Chromium.

The docker-compose stack runs the same components (tests/e2e/test_compose.py checks that). The screenshots
go to the test's tmp dir; E2E_SCREENSHOT_DIR=docs/screenshots also writes them there (the docs' copies).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from airflow_cluster import AirflowCluster, wait_for
from e2e_browser import Browser, find_chromium

pytestmark = pytest.mark.e2e

# DAGs only this test runs (the 50-step pipeline of the tab's picture), loaded beside the examples.
E2E_DAGS = Path(__file__).resolve().parent / "dags"
DAG_ID = "churn_training"
DEPLOY_DAG_ID = "churn_deploy"
GROUP = "train"
STEP_TASKS = [f"{GROUP}.{t}" for t in ("preprocess", "fit", "evaluate", "auc_gate", "register", "too_weak")]
# MinAuc decides the branch: the synthetic churn data gives a test AUC well inside (0.5, 0.99). Epochs makes
# training last ~30 s (~12 s for 150,000 on a loaded 2-core machine was too short: no task deferred), longer than
# the scheduler takes to start the fit task after preprocess, even under load: that task
# finds its step still running and defers (a task whose step already ended finishes without deferring).
SLOW_TRAINING = {"Epochs": 400000}
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
def cluster(airflow_cluster: AirflowCluster) -> AirflowCluster:
    # The session's shared cluster (tests/conftest.py): the examples are its DAG folder's examples/, this
    # module's own DAGs its e2e/; both tests of this module share it and its finished runs.
    require_plugin_entry_point()
    return airflow_cluster


def require_plugin_entry_point() -> None:
    """The pipeline tab's plugin loads through the package's ``airflow.plugins`` entry point (``make test``
    installs the package from this checkout); an install older than the entry point is a set-up error."""
    entry_points = importlib.metadata.distribution("airflow-sagemaker-mlops").entry_points
    assert any(e.group == "airflow.plugins" and e.name == "sagemaker_pipelines" for e in entry_points), (
        "reinstall the package (uv pip install -e .): its airflow.plugins entry point is missing")


@pytest.fixture(scope="module")
def finished(cluster: AirflowCluster) -> Finished:
    for dag_id in (DAG_ID, DEPLOY_DAG_ID):  # the deploy DAG first listens for registrations, then they happen
        cluster.wait_for_dag(dag_id)
        assert not cluster.unpause(dag_id)["is_paused"]
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


def test_the_registration_schedules_the_deploy_dag_which_deploys_after_approval(
        finished: Finished, _sagemaker_local_engine_session: Any):
    cluster, sm = finished.cluster, _sagemaker_local_engine_session.client("sagemaker")
    # The scheduler created the run from the register task's asset event; it waits (deferred) for approval.
    runs = wait_for(lambda: cluster.get(f"/api/v2/dags/{DEPLOY_DAG_ID}/dagRuns")["dag_runs"], 60, "a deploy run")
    assert [r["run_type"] for r in runs] == ["asset_triggered"]
    run_id = runs[0]["dag_run_id"]
    wait_for(lambda: cluster.task_states(DEPLOY_DAG_ID, run_id).get("wait_for_approval") == "deferred", 120,
             "the approval sensor to defer")
    def xcom(dag_id: str, run: str, task_id: str, key: str) -> Any:
        return cluster.get(f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run, safe='')}/taskInstances/"
                           f"{task_id}/xcomEntries/{key}?deserialize=true")["value"]

    registered = xcom(DAG_ID, finished.runs["register"], f"{GROUP}.register", "ModelPackageArn")
    assert xcom(DEPLOY_DAG_ID, run_id, "registered_version", "model_package_arn") == registered
    assert cluster.run(DEPLOY_DAG_ID, run_id)["state"] == "running"

    sm.update_model_package(ModelPackageArn=registered, ModelApprovalStatus="Approved", ApprovalDescription="e2e")
    assert cluster.wait_for_runs(DEPLOY_DAG_ID, [run_id], timeout=120) == {run_id: "success"}, cluster.logs()
    endpoint = sm.describe_endpoint(EndpointName="churn-staging")
    model = sm.describe_model(ModelName=sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
                              ["ProductionVariants"][0]["ModelName"])
    assert (endpoint["EndpointStatus"], model["PrimaryContainer"]["ModelPackageName"]) == ("InService", registered)


def test_openlineage_events_of_the_training_steps(finished: Finished):
    events = [json.loads(line) for line in (finished.cluster.home / "openlineage.jsonl").read_text().splitlines()]
    complete = {}
    for event in events:
        if event["eventType"] == "COMPLETE" and event["job"]["name"].startswith(f"{DAG_ID}.{GROUP}."):
            complete.setdefault(event["job"]["name"].removeprefix(f"{DAG_ID}.{GROUP}."), []).append(event)
    datasets = {task: [({(d["namespace"], "/".join(d["name"].split("/")[:2])) for d in e["inputs"]},
                        {(d["namespace"], d["name"]) for d in e["outputs"]}) for e in runs]
                for task, runs in complete.items()}
    data = "s3://mlops-examples-data"
    for inputs, outputs in datasets["fit"]:  # both runs: the splits and the source bundle in, the model out
        assert inputs == {(data, "churn/train"), (data, "churn/validation"),
                          ("s3://mlops-examples-code", "airflow-sagemaker-mlops/code")}
        [(namespace, name)] = outputs
        assert namespace == data and name.startswith("churn/models/") and name.endswith("/output/model.tar.gz")
    # The register branch's task registered; the other branch's was skipped (a COMPLETE without datasets).
    [(inputs, outputs)] = [d for d in datasets["register"] if d != (set(), set())]
    assert outputs == {("arn:aws:sagemaker:us-east-1:123456789012", "model-package-group/churn-models")}


@pytest.fixture(scope="module")  # module scope: pytest sets up wider scopes first, so it must match `finished`
def chromium() -> str:
    path = find_chromium()
    if path is None:
        pytest.skip("Chromium not found (apt-get update && apt-get install -y chromium, or CHROMIUM=/path): "
                    "no grid screenshot")
    return path


def login(browser: Browser, cluster: AirflowCluster, page: str) -> None:
    """Like a user: open a page, get sent to the login form, sign in (the UI then goes back to the page)."""
    browser.goto(page)
    browser.wait_for("!!document.querySelector('input[name=password], input[type=password]')", 60,
                     "the login form")
    browser.fill("input[name=username]", "admin")
    browser.fill("input[type=password]", cluster.password())
    browser.evaluate("document.querySelector('button[type=submit]').click()")


# `chromium` before `finished`: without a browser this test skips before starting any Airflow run.
def test_grid_view_of_the_finished_run(chromium: str, finished: Finished, tmp_path: Path):
    cluster = finished.cluster
    run_id = finished.runs["register"]
    page = f"{cluster.url}/dags/{DAG_ID}/runs/{urllib.parse.quote(run_id, safe='')}"
    with Browser(chromium) as browser:
        login(browser, cluster, page)
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



# The pipeline tab shows the latest execution: the run triggered last, the one where the model is too weak.
TAB_STATUSES = {"preprocess": "Succeeded", "fit": "Succeeded", "evaluate": "Succeeded", "auc_gate": "Succeeded",
                "too_weak": "Failed", "register": "Not run"}
FRAME = "document.querySelector('iframe')?.contentDocument"


def test_pipeline_tab_and_a_step_log(chromium: str, finished: Finished, tmp_path: Path):
    cluster = finished.cluster
    run_id = finished.runs["too_weak"]
    assert list(finished.runs) == ["register", "too_weak"]  # triggered in this order: too_weak's run is latest
    # The api-server loaded the plugin once, without import errors, with its tab on DAGs.
    plugins = {p["name"]: p for p in cluster.get("/api/v2/plugins")["plugins"]}
    assert [v["destination"] for v in plugins["sagemaker_pipelines"]["external_views"]] == ["dag"], plugins
    assert cluster.get("/api/v2/plugins/importErrors")["total_entries"] == 0
    tab = f"{cluster.url}/dags/{DAG_ID}/plugin/sagemaker-pipeline"
    with Browser(chromium, height=1100) as browser:
        login(browser, cluster, tab)
        browser.wait_for(f"location.pathname === '/dags/{DAG_ID}/plugin/sagemaker-pipeline'", 60,
                         "the redirect to the pipeline tab")
        # The tab is an iframe on the plugin's page (same origin, so its document is readable here).
        drawn = browser.wait_for(f"""(() => {{
            const steps = {FRAME}?.querySelectorAll('g.step') || [];
            return steps.length >= {len(TAB_STATUSES)} &&
                Object.fromEntries([...steps].map(g => [g.dataset.step, g.dataset.status]));
        }})()""", 90, "the pipeline graph in the tab's frame")
        frame_html = browser.evaluate(f"{FRAME}.documentElement.outerHTML")
        tabs = browser.text()
        time.sleep(0.5)
        tab_png = browser.screenshot(tmp_path / "pipeline_tab.png")

        # A step links to its task instance: clicking it opens the task (in the whole window, not the frame).
        browser.evaluate(f"""{FRAME}.querySelector('g.step[data-step="fit"] a.task-link')
            .dispatchEvent(new MouseEvent('click', {{bubbles: true, cancelable: true}}))""")
        task_path = f"/dags/{DAG_ID}/runs/{urllib.parse.quote(run_id, safe='')}/tasks/{GROUP}.fit"
        browser.wait_for(f"location.pathname === {json.dumps(task_path)}", 60, "the fit task's page")
        # Its log: what the step task logged on finishing, with the training job's outputs.
        browser.wait_for("document.body.innerText.includes('Step fit (Training) Succeeded')", 90, "the fit task's log")
        log_text = browser.text()
        time.sleep(0.5)
        log_png = browser.screenshot(tmp_path / "step_log.png")

        # The succeeded run, on the tab's own page (?run_id=), and the fit job's page in the engine's console
        # (its "job" link: the connection's endpoint is the local engine).
        succeeded = finished.runs["register"]
        browser.goto(f"{cluster.url}/sagemaker-pipelines/dags/{DAG_ID}?run_id={urllib.parse.quote(succeeded)}")
        browser.wait_for("document.querySelectorAll('g.step').length >= 6", 60, "the succeeded run's graph")
        ok_statuses = browser.evaluate("Object.fromEntries([...document.querySelectorAll('g.step')]"
                                       ".map(g => [g.dataset.step, g.dataset.status]))")
        time.sleep(0.5)
        ok_png = browser.screenshot(tmp_path / "pipeline_tab_succeeded.png")
        job_url, package_url = browser.evaluate(
            "['fit', 'register'].map(s => document.querySelector(`g.step[data-step=\"${s}\"] a.job-link`)"
            ".getAttribute('href'))")
        browser.goto(job_url)
        browser.wait_for("document.body.innerText.includes('S3 outputs')", 30, "the engine's job page")
        job_text = browser.text()
        job_png = browser.screenshot(tmp_path / "job_page.png")
        # The register step's link: the model package it registered, on the engine's console.
        browser.goto(package_url)
        browser.wait_for("document.body.innerText.includes('Inference specification')", 30,
                         "the engine's model package page")
        package_text = browser.text()
        package_png = browser.screenshot(tmp_path / "model_package_page.png")
    assert drawn == TAB_STATUSES, drawn
    assert "SageMaker pipeline" in tabs  # the tab's name among the DAG's tabs
    assert run_id in frame_html and "auc_gate" in frame_html and "job \u2197" in frame_html
    assert "Step fit (Training) Succeeded" in log_text and "train:auc" in log_text, log_text[:3000]
    # The failed execution names its failing step, why, and the Airflow task to open.
    assert "<strong>too_weak</strong> (Fail) ended the execution by design" in frame_html
    assert f"{GROUP}.too_weak</code></a>" in frame_html
    assert ok_statuses == {**TAB_STATUSES, "too_weak": "Not run", "register": "Succeeded"}, ok_statuses
    assert "/_local/console/jobs/training-job/" in job_url, job_url
    assert "TrainingJob" in job_text and "train:auc=" in job_text and "model artifacts" in job_text, job_text[:2000]
    assert "/_local/console/model-packages/churn-models/" in package_url, package_url
    assert "churn-models" in package_text and "churn logistic regression" in package_text, package_text[:2000]
    assert "text/csv" in package_text and "model.tar.gz" in package_text, package_text[:2000]
    # Approved by test_the_registration_schedules_the_deploy_dag_which_deploys_after_approval when it ran first.
    assert "PendingManualApproval" in package_text or "Approved" in package_text, package_text[:2000]
    for png in (tab_png, log_png, ok_png, job_png):
        assert png.startswith(b"\x89PNG") and len(png) > 30_000, len(png)  # blank pages are a few KB
    assert package_png.startswith(b"\x89PNG") and len(package_png) > 12_000, len(package_png)  # text only
    if SCREENSHOT_DIR:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        (SCREENSHOT_DIR / "churn_training_pipeline_tab.png").write_bytes(tab_png)
        (SCREENSHOT_DIR / "churn_training_step_log.png").write_bytes(log_png)
        (SCREENSHOT_DIR / "churn_training_pipeline_tab_succeeded.png").write_bytes(ok_png)
        (SCREENSHOT_DIR / "local_engine_job_page.png").write_bytes(job_png)
        (SCREENSHOT_DIR / "local_engine_model_package_page.png").write_bytes(package_png)
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
    # The docs show the same page through the pipeline tab (churn_training_step_log.png).
    assert png.startswith(b"\x89PNG") and len(png) > 20_000, len(png)



def test_a_designed_failure_reads_as_one_line_in_the_ui(chromium: str, finished: Finished, tmp_path: Path):
    """The too_weak Fail step task's log: the failure as one ERROR line, then Airflow's report, whose traceback
    holds a single frame of this package (operators/failures.py's one_frame) before the message."""
    cluster = finished.cluster
    run_id = finished.runs["too_weak"]
    page = (f"{cluster.url}/dags/{DAG_ID}/runs/{urllib.parse.quote(run_id, safe='')}/tasks/"
            f"{urllib.parse.quote(GROUP + '.too_weak', safe='')}")
    with Browser(chromium, height=1100) as browser:
        login(browser, cluster, page)
        browser.wait_for("document.body.innerText.includes('Next: this is the pipeline')", 90,
                         "the Fail step task's log with its failure")
        text = browser.text()
        time.sleep(0.5)
        png = browser.screenshot(tmp_path / "fail_step_log.png")
    assert "Fail step 'too_weak' ended the execution: test AUC" in text, text[-3000:]
    assert "condition step 'auc_gate' evaluated" in text, text[-3000:]
    package_frames = [line for line in text.splitlines() if "airflow_sagemaker_mlops/" in line and ".py" in line]
    assert len(package_frames) == 1 and "operators/failures.py" in package_frames[0], package_frames
    assert png.startswith(b"\x89PNG") and len(png) > 30_000, len(png)
    if SCREENSHOT_DIR:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        (SCREENSHOT_DIR / "churn_training_fail_step_log.png").write_bytes(png)

# Last in the module: its 51 tasks run after the examples' runs, not alongside them.
FIFTY_DAG_ID = "e2e_fifty_steps"


def fifty_step_names() -> list[str]:
    spec = importlib.util.spec_from_file_location("e2e_fifty_steps", E2E_DAGS / "e2e_fifty_steps.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.STEP_NAMES)


def test_a_fifty_step_pipeline_fits_the_tab(chromium: str, finished: Finished, tmp_path: Path,
                                            _sagemaker_local_engine_session: Any):
    """A real run of a 50-step pipeline (tests/e2e/dags/e2e_fifty_steps.py), then its tab in Airflow: the graph
    fits its pane at a readable scale and every step is drawn and named."""
    cluster, sm = finished.cluster, _sagemaker_local_engine_session.client("sagemaker")
    names = fifty_step_names()
    assert len(names) == 50
    began = time.monotonic()
    cluster.wait_for_dag(FIFTY_DAG_ID)
    assert not cluster.unpause(FIFTY_DAG_ID)["is_paused"]
    run_id = cluster.trigger(FIFTY_DAG_ID, {})
    # The tab shows the SageMaker execution: once it has ended, the picture is final, while Airflow's 51 tasks
    # (four at a time on this cluster) are still catching up with it.
    wait_for(lambda: cluster.task_states(FIFTY_DAG_ID, run_id).get("regions.start") == "success", 180,
             "the 50-step DAG's start task")
    arn = cluster.get(f"/api/v2/dags/{FIFTY_DAG_ID}/dagRuns/{urllib.parse.quote(run_id, safe='')}/taskInstances/"
                      "regions.start/xcomEntries/execution_arn?deserialize=true")["value"]
    wait_for(lambda: sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
             == "Succeeded", 180, "the 50-step execution")
    executed = time.monotonic() - began
    tab = f"{cluster.url}/dags/{FIFTY_DAG_ID}/plugin/sagemaker-pipeline"
    # 1600x1100, as the tab's other picture: Airflow gives the frame ~1190x860 of it (at 1600x1000, ~1190x760:
    # 50 px too short for these 8 rows at the smallest readable scale, so the pane would scroll).
    with Browser(chromium, height=1100) as browser:
        login(browser, cluster, tab)
        drawn = browser.wait_for(f"""(() => {{
            const steps = {FRAME}?.querySelectorAll('g.step') || [];
            return steps.length === 50 && [...steps].every(g => g.dataset.status === 'Succeeded') &&
                [...steps].map(g => g.querySelector('text.step-name').textContent);
        }})()""", 90, "the 50-step graph, all Succeeded, in the tab's frame")
        time.sleep(0.5)  # the fit happens on load; let the frame settle before measuring and taking the picture
        fit = browser.evaluate(f"""(() => {{
            const doc = {FRAME}, canvas = doc.querySelector('.canvas'), svg = canvas.querySelector('svg.pipeline');
            const box = svg.getBoundingClientRect(), pane = canvas.getBoundingClientRect();
            return {{scale: +svg.getAttribute('width') / svg.viewBox.baseVal.width,
                     minimum: +svg.getAttribute('data-min-scale'),
                     overflowX: canvas.scrollWidth - canvas.clientWidth,
                     overflowY: canvas.scrollHeight - canvas.clientHeight,
                     inside: box.left >= pane.left && box.top >= pane.top && box.right <= pane.right &&
                             box.bottom <= pane.bottom,
                     frame: [doc.defaultView.innerWidth, doc.defaultView.innerHeight]}};
        }})()""")
        text = browser.evaluate(f"{FRAME}.body.textContent")
        png = browser.screenshot(tmp_path / "fifty_steps.png")
    pictured = time.monotonic() - began
    # And Airflow's side of the same run: every step task mirrored its step.
    assert cluster.wait_for_runs(FIFTY_DAG_ID, [run_id], timeout=600) == {run_id: "success"}, cluster.logs()
    states = cluster.task_states(FIFTY_DAG_ID, run_id)
    print(f"50-step run: execution ended {executed:.1f} s after the trigger, picture at {pictured:.1f} s, "
          f"Airflow run done at {time.monotonic() - began:.1f} s; tab fit {fit}")
    assert states == {"regions.start": "success", **{f"regions.{n}": "success" for n in names}}, states
    assert sorted(drawn) == sorted(names), drawn  # every step drawn, with its whole name
    assert fit["overflowX"] <= 0 and fit["overflowY"] <= 0 and fit["inside"], fit  # no scrolling: it fits
    assert fit["minimum"] <= fit["scale"] <= 1, fit  # and not below the readable scale
    assert all(name in text for name in names)  # the step table names them too
    assert png.startswith(b"\x89PNG") and len(png) > 30_000, len(png)
    if SCREENSHOT_DIR:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        (SCREENSHOT_DIR / "pipeline_tab_50_steps.png").write_bytes(png)
