"""The run-time bridge under the real Airflow components: api-server, scheduler (LocalExecutor),
dag-processor and triggerer, so step tasks defer through the triggerer as in production."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airflow_harness import AIRFLOW
from cpu_stress import cpu_stress
from rt_airflow import AirflowRunner

pytestmark = pytest.mark.e2e

FINISHED = ("success", "failed")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    def __init__(self, home: Path, engine_url: str) -> None:
        self.runner = AirflowRunner(home, engine_url)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.runner.env.update({
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            "AIRFLOW__API__BASE_URL": self.url,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__TRIGGERER__CAPACITY": "50",
            # A trigger firing within a scheduler loop of the deferral can race the scheduler's processing of the
            # deferring attempt's exit (Airflow then fails the resumed task): the triggers wait 10 s at least
            # (triggers/pipelines.min_deferral_seconds), as in production.
            "RT_POLL_INTERVAL": "3",
            "AIRFLOW__SAGEMAKER_MLOPS__MIN_DEFERRAL_SECONDS": "10",
        })
        self.home = home
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self) -> None:
        self.runner.migrate()
        commands = {
            "api-server": ["api-server", "--host", "127.0.0.1", "--port", str(self.port)],
            "scheduler": ["scheduler", "--skip-serve-logs"],
            "dag-processor": ["dag-processor"],
            "triggerer": ["triggerer", "--skip-serve-logs"],
        }
        for name, args in commands.items():
            log = open(self.home / f"{name}.log", "wb")
            self.processes[name] = subprocess.Popen([AIRFLOW, *args], env=self.runner.env, stdout=log,
                                                    stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_for(lambda: self._get("/api/v2/monitor/health") is not None, 180, "the api-server")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, 15)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)

    def log(self, name: str) -> str:
        return (self.home / f"{name}.log").read_text(errors="replace")

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str) -> Any:
        entry = self._get(f"/api/v2/dags/{dag_id}/dagRuns/{urllib.request.quote(run_id)}/taskInstances/"
                          f"{task_id}/xcomEntries/{key}?deserialize=true")
        return entry and entry.get("value")

    def task_log(self, dag_id: str, task_id: str) -> str:
        """Every attempt's log of the task (and its triggers'), as Airflow writes them."""
        files = sorted((self.home / "logs" / f"dag_id={dag_id}").glob(f"run_id=*/task_id={task_id}/*.log"))
        return "\n".join(f.read_text(errors="replace") for f in files)

    def trigger_logs(self, dag_id: str, task_id: str) -> str:
        """What the task's triggers logged: Airflow writes it next to the task log, from the triggerer."""
        files = sorted((self.home / "logs" / f"dag_id={dag_id}").glob(f"run_id=*/task_id={task_id}/*.trigger.*.log"))
        return "\n".join(f.read_text(errors="replace") for f in files)

    def _get(self, path: str) -> Any:
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as reply:
                return json.loads(reply.read())
        except OSError:
            return None

    def request(self, method: str, path: str, body: dict[str, Any]) -> Any:
        request = urllib.request.Request(self.url + path, method=method, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as reply:
            return json.loads(reply.read())

    @staticmethod
    def wait_for(check: Any, timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(1)
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")

    def trigger(self, dag_id: str, conf: dict[str, Any]) -> str:
        self.wait_for(lambda: self._get(f"/api/v2/dags/{dag_id}"), 240, f"the dag-processor to load {dag_id}")
        run = self.request("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf})
        return run["dag_run_id"]

    def run_state(self, dag_id: str, run_id: str) -> str | None:
        run = self._get(f"/api/v2/dags/{dag_id}/dagRuns/{urllib.request.quote(run_id)}")
        return run and run.get("state")

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        with sqlite3.connect(self.home / "airflow.db") as conn:
            return dict(conn.execute("SELECT task_id, state FROM task_instance WHERE dag_id=? AND run_id=?",
                                     (dag_id, run_id)).fetchall())


@pytest.fixture
def cluster(airflow: AirflowRunner, sagemaker_local_engine: Any, tmp_path: Path) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path / "home", sagemaker_local_engine.url)
    cluster.home.mkdir()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def test_step_tasks_defer_through_the_triggerer(cluster: Cluster, sagemaker_local_engine: Any):
    # evaluate runs long enough for its task (and the gate's) to find it still running and defer. Both cores
    # are kept busy meanwhile: a loaded scheduler is where Airflow failed a resumed task whose step had
    # succeeded (apache/airflow#72716; the triggers' minimum deferral avoids it).
    with cpu_stress():
        run_id = cluster.trigger("rt_branches", {"score": "0.7", "threshold": 0.5, "sleep": "20"})
        state = cluster.wait_for(lambda: (s := cluster.run_state("rt_branches", run_id)) in FINISHED and s, 600,
                                 "the DAG run to finish")
    states = cluster.task_states("rt_branches", run_id)
    assert state == "success", (states, cluster.log("scheduler")[-3000:], cluster.log("triggerer")[-3000:])
    assert states == {"train.start": "success", "train.evaluate": "success", "train.gate": "success",
                      "train.register": "success", "train.report": "skipped", "deploy": "success",
                      "notify": "skipped"}
    # The waits of the steps still running when their task started went through the triggerer.
    waited = [t for t in ("train.evaluate", "train.gate")
              if "waiting for step" in cluster.trigger_logs("rt_branches", t)]
    assert waited, cluster.log("triggerer")[-3000:]


def test_marking_the_run_failed_stops_the_execution(cluster: Cluster, sagemaker_local_engine: Any):
    run_id = cluster.trigger("rt_slow", {})
    cluster.wait_for(lambda: cluster.task_states("rt_slow", run_id).get("etl.slow") == "deferred", 300,
                     "the step task to defer")
    # Deferred in the database is not yet running in the triggerer: kill the wait once it really waits.
    cluster.wait_for(lambda: "waiting for step" in cluster.trigger_logs("rt_slow", "etl.slow"), 120,
                     "the triggerer to run the step's trigger")
    # The job's own output, read from CloudWatch Logs by the trigger while the step runs, is in the task's log.
    cluster.wait_for(lambda: "report: sleeping 300 s" in cluster.trigger_logs("rt_slow", "etl.slow"), 120,
                     "the job's log line in the task's trigger log")
    sm = sagemaker_local_engine.client("sagemaker")
    execution_arn = sm.list_pipeline_executions(PipelineName="rt-slow")["PipelineExecutionSummaries"][0][
        "PipelineExecutionArn"]
    assert sm.describe_pipeline_execution(PipelineExecutionArn=execution_arn)["PipelineExecutionStatus"] == \
        "Executing"
    cluster.request("PATCH", f"/api/v2/dags/rt_slow/dagRuns/{urllib.request.quote(run_id)}", {"state": "failed"})
    status = cluster.wait_for(
        lambda: (s := sm.describe_pipeline_execution(PipelineExecutionArn=execution_arn)["PipelineExecutionStatus"])
        in ("Stopping", "Stopped") and s, 120, "the execution to stop")
    assert status in ("Stopping", "Stopped")
    assert "the waiting task was killed: stopping" in cluster.trigger_logs("rt_slow", "etl.slow")


def test_clearing_failed_step_tasks_resumes_the_same_execution_once(cluster: Cluster, sagemaker_local_engine: Any):
    faults = sagemaker_local_engine.faults
    for step in ("left", "right"):
        faults.fail_step(step, "InternalServerError: injected", attempts=1, pipeline="rt-resume")
    run_id = cluster.trigger("rt_resume", {})
    state = cluster.wait_for(lambda: (s := cluster.run_state("rt_resume", run_id)) in FINISHED and s, 420,
                             "the DAG run to fail")
    states = cluster.task_states("rt_resume", run_id)
    assert state == "failed" and states["etl.left"] == states["etl.right"] == "failed", states
    assert states["etl.last"] == "upstream_failed", states
    sm = sagemaker_local_engine.client("sagemaker")
    [summary] = sm.list_pipeline_executions(PipelineName="rt-resume")["PipelineExecutionSummaries"]
    arn = summary["PipelineExecutionArn"]

    # What the grid's "Clear" on both failed tasks does (with their downstream).
    cluster.request("POST", "/api/v2/dags/rt_resume/clearTaskInstances",
                    {"dry_run": False, "dag_run_id": run_id, "task_ids": ["etl.left", "etl.right"],
                     "include_downstream": True, "only_failed": True})
    state = cluster.wait_for(lambda: (s := cluster.run_state("rt_resume", run_id)) in FINISHED and s, 420,
                             "the cleared DAG run to finish")
    states = cluster.task_states("rt_resume", run_id)
    assert state == "success", (states, cluster.log("scheduler")[-3000:])
    assert set(states.values()) == {"success"}, states
    # The same execution resumed, by exactly one RetryPipelineExecution: no new execution was started.
    assert [e["PipelineExecutionArn"] for e in
            sm.list_pipeline_executions(PipelineName="rt-resume")["PipelineExecutionSummaries"]] == [arn]
    assert sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Succeeded"
    record = sagemaker_local_engine.engine.executions[arn]
    assert record.retries == 1
    attempts = {s["StepName"]: s.get("AttemptCount") for s in
                sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]}
    assert attempts == {"first": 1, "left": 2, "right": 2, "last": 1}, attempts
    logs = "\n".join(cluster.task_log("rt_resume", t) for t in ("etl.left", "etl.right"))
    assert logs.count("resumed it (RetryPipelineExecution)") >= 1, logs[-3000:]

    # Clearing a succeeded step task with its downstream re-runs exactly those steps: one selective execution.
    faults.clear()  # (the faults fail the first attempt in every execution)
    cluster.request("POST", "/api/v2/dags/rt_resume/clearTaskInstances",
                    {"dry_run": False, "dag_run_id": run_id, "task_ids": ["etl.left"], "include_downstream": True,
                     "only_failed": False})
    state = cluster.wait_for(lambda: (s := cluster.run_state("rt_resume", run_id)) in FINISHED and s, 420,
                             "the re-run to finish")
    states = cluster.task_states("rt_resume", run_id)
    assert state == "success" and set(states.values()) == {"success"}, states
    summaries = sm.list_pipeline_executions(PipelineName="rt-resume")["PipelineExecutionSummaries"]
    [rerun] = [e["PipelineExecutionArn"] for e in summaries if e["PipelineExecutionArn"] != arn]
    described = sm.describe_pipeline_execution(PipelineExecutionArn=rerun)
    assert described["PipelineExecutionStatus"] == "Succeeded"
    assert described["SelectiveExecutionConfig"]["SourcePipelineExecutionArn"] == arn
    assert sorted(s["StepName"] for s in described["SelectiveExecutionConfig"]["SelectedSteps"]) == ["last", "left"]
    for task_id in ("etl.left", "etl.last"):  # the re-run tasks say which execution they followed
        assert cluster.xcom("rt_resume", run_id, task_id, "execution_arn") == rerun
    assert cluster.xcom("rt_resume", run_id, "etl.right", "execution_arn") == arn  # not re-run
