"""The run-time bridge under the real Airflow components: api-server, scheduler (LocalExecutor),
dag-processor and triggerer, so step tasks defer through the triggerer as in production (the session's
shared cluster, tests/conftest.py's ``airflow_cluster``)."""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest
from airflow_cluster import AirflowCluster, wait_for
from cpu_stress import cpu_stress

pytestmark = pytest.mark.e2e


def test_step_tasks_defer_through_the_triggerer(airflow_cluster: AirflowCluster, sagemaker_local_engine: Any):
    # evaluate runs long enough for its task (and the gate's) to find it still running and defer. Both cores
    # are kept busy meanwhile: a loaded scheduler is where Airflow failed a resumed task whose step had
    # succeeded (apache/airflow#72716; the triggers' minimum deferral avoids it).
    cluster = airflow_cluster
    with cpu_stress():
        run_id = cluster.start_run("rt_branches", {"score": "0.7", "threshold": 0.5, "sleep": "20"})
        state = cluster.wait_for_run("rt_branches", run_id, 600)
    states = cluster.task_states("rt_branches", run_id)
    assert state == "success", (states, cluster.log("scheduler")[-3000:], cluster.log("triggerer")[-3000:])
    assert states == {"train.start": "success", "train.evaluate": "success", "train.gate": "success",
                      "train.register": "success", "train.report": "skipped", "deploy": "success",
                      "notify": "skipped"}
    # The waits of the steps still running when their task started went through the triggerer.
    waited = [t for t in ("train.evaluate", "train.gate")
              if "waiting for step" in cluster.trigger_logs("rt_branches", t, run_id)]
    assert waited, cluster.log("triggerer")[-3000:]


def test_marking_the_run_failed_stops_the_execution(airflow_cluster: AirflowCluster, sagemaker_local_engine: Any):
    cluster = airflow_cluster
    run_id = cluster.start_run("rt_slow")
    wait_for(lambda: cluster.task_states("rt_slow", run_id).get("etl.slow") == "deferred", 300,
             "the step task to defer")
    # Deferred in the database is not yet running in the triggerer: kill the wait once it really waits.
    wait_for(lambda: "waiting for step" in cluster.trigger_logs("rt_slow", "etl.slow", run_id), 120,
             "the triggerer to run the step's trigger")
    # The job's own output, read from CloudWatch Logs by the trigger while the step runs, is in the task's log.
    wait_for(lambda: "report: sleeping 300 s" in cluster.trigger_logs("rt_slow", "etl.slow", run_id), 120,
             "the job's log line in the task's trigger log")
    sm = sagemaker_local_engine.client("sagemaker")
    execution_arn = sm.list_pipeline_executions(PipelineName="rt-slow")["PipelineExecutionSummaries"][0][
        "PipelineExecutionArn"]
    assert sm.describe_pipeline_execution(PipelineExecutionArn=execution_arn)["PipelineExecutionStatus"] == \
        "Executing"
    cluster.request("PATCH", f"/api/v2/dags/rt_slow/dagRuns/{urllib.parse.quote(run_id, safe='')}",
                    {"state": "failed"})
    status = wait_for(
        lambda: (s := sm.describe_pipeline_execution(PipelineExecutionArn=execution_arn)["PipelineExecutionStatus"])
        in ("Stopping", "Stopped") and s, 120, "the execution to stop")
    assert status in ("Stopping", "Stopped")
    assert "the waiting task was killed: stopping" in cluster.trigger_logs("rt_slow", "etl.slow", run_id)


def test_clearing_failed_step_tasks_resumes_the_same_execution_once(airflow_cluster: AirflowCluster,
                                                                    sagemaker_local_engine: Any):
    cluster, faults = airflow_cluster, sagemaker_local_engine.faults
    for step in ("left", "right"):
        faults.fail_step(step, "InternalServerError: injected", attempts=1, pipeline="rt-resume")
    run_id = cluster.start_run("rt_resume")
    state = cluster.wait_for_run("rt_resume", run_id, 420)
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
    state = cluster.wait_for_run("rt_resume", run_id, 420)
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
    logs = "\n".join(cluster.task_log("rt_resume", t, run_id) for t in ("etl.left", "etl.right"))
    assert logs.count("resumed it (RetryPipelineExecution)") >= 1, logs[-3000:]

    # Clearing a succeeded step task with its downstream re-runs exactly those steps: one selective execution.
    faults.clear()  # (the faults fail the first attempt in every execution)
    cluster.request("POST", "/api/v2/dags/rt_resume/clearTaskInstances",
                    {"dry_run": False, "dag_run_id": run_id, "task_ids": ["etl.left"], "include_downstream": True,
                     "only_failed": False})
    state = cluster.wait_for_run("rt_resume", run_id, 420)
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
