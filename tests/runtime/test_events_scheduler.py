"""Under the real scheduler and triggerer (the session's shared cluster, tests/conftest.py's
``airflow_cluster``): an event wakes a step task long before its fallback poll, and an execution started
outside Airflow schedules the DAG that watches for it."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from airflow_cluster import FINISHED, AirflowCluster, wait_for

pytestmark = pytest.mark.e2e


def test_a_step_task_is_woken_by_the_event_of_its_step(airflow_cluster: AirflowCluster,
                                                       sagemaker_local_engine: Any) -> None:
    # rt_events polls every 15 s and waits through the aws_events connection, whose event queue is the
    # cluster's rt-events queue and whose fallback poll is every 300 s.
    cluster, engine = airflow_cluster, sagemaker_local_engine
    run_id = cluster.start_run("rt_events", {"step_seconds": "20"})
    state = cluster.wait_for_run("rt_events", run_id, 420)
    assert state == "success", (cluster.task_states("rt_events", run_id), cluster.log("triggerer")[-3000:])
    logs = cluster.trigger_logs("rt_events", "etl.work", run_id)
    assert "woken by events from" in logs and "polling every 300s as a fallback" in logs, logs[-3000:]
    sm = engine.client("sagemaker")
    arn = cluster.xcom("rt_events", run_id, "etl.start", "execution_arn")
    (step,) = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    ended = dt.datetime.fromisoformat(cluster.task_instance("rt_events", run_id, "etl.work")["end_date"])
    # Woken by the event: seconds, where the fallback poll would take up to 300 s (and 15 s polling ~8 s).
    assert (ended - step["EndTime"]).total_seconds() < 60


def test_an_execution_started_with_boto3_schedules_the_watching_dag(airflow_cluster: AirflowCluster,
                                                                    sagemaker_local_engine: Any) -> None:
    # rt_on_events is unpaused at creation: its asset watcher reads the cluster's rt-watch queue from the start.
    cluster, sm = airflow_cluster, sagemaker_local_engine.client("sagemaker")
    definition = {"Version": "2020-12-01", "Metadata": {}, "Parameters": [
        {"Name": "Region", "Type": "String", "DefaultValue": "eu"}], "Steps": [
        {"Name": "A", "Type": "Condition", "Arguments": {"Conditions": [
            {"Type": "Equals", "LeftValue": 1, "RightValue": 1}], "IfSteps": [], "ElseSteps": []}}]}
    try:
        sm.create_pipeline(PipelineName="rt-watched", PipelineDefinition=json.dumps(definition),
                           RoleArn="arn:aws:iam::123456789012:role/SmPipeline")
    except sm.exceptions.ClientError:
        pass
    assert not cluster.wait_for_dag("rt_on_events")["is_paused"]
    wait_for(lambda: "rt-watched" in cluster.log("triggerer") or "PipelineEventTrigger" in cluster.log("triggerer"),
             180, "the triggerer to run the asset watcher")
    arn = sm.start_pipeline_execution(PipelineName="rt-watched", PipelineParameters=[
        {"Name": "Region", "Value": "us"}])["PipelineExecutionArn"]

    def finished_run() -> Any:
        runs = cluster.get("/api/v2/dags/rt_on_events/dagRuns")["dag_runs"]
        return next((r for r in runs if r.get("state") in FINISHED), None)

    run = wait_for(finished_run, 240, "the event-scheduled DAG run")
    assert run["state"] == "success", cluster.log("scheduler")[-3000:]
    payload = cluster.xcom("rt_on_events", run["dag_run_id"], "report")
    assert payload["execution_arn"] == arn and payload["status"] == "Succeeded"
    assert payload["parameters"] == {"Region": "us"}
