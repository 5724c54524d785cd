"""Under the real scheduler and triggerer: an event wakes a step task long before its fallback poll."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from test_scheduler import FINISHED, Cluster

from airflow_sagemaker_mlops.hooks.events import setup_event_queue

pytestmark = pytest.mark.e2e


def test_a_step_task_is_woken_by_the_event_of_its_step(airflow: Any, sagemaker_local_engine: Any,
                                                       tmp_path: Path) -> None:
    engine = sagemaker_local_engine
    setup = setup_event_queue(engine.client("sqs"), engine.client("events"), queue_name="rt-events",
                              rule_name="rt-events")
    cluster = Cluster(tmp_path / "home", engine.url)
    cluster.home.mkdir()
    cluster.runner.env.update({
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps({"conn_type": "aws", "extra": {
            "endpoint_url": engine.url, "region_name": "us-east-1", "event_queue_url": setup.queue_url,
            "event_fallback_interval": 300}}),
        "RT_POLL_INTERVAL": "15",
        "RT_STEP_SECONDS": "20",
    })
    cluster.start()
    try:
        run_id = cluster.trigger("rt_events", {})
        state = cluster.wait_for(lambda: (s := cluster.run_state("rt_events", run_id)) in FINISHED and s, 420,
                                 "the DAG run")
        assert state == "success", (cluster.task_states("rt_events", run_id), cluster.log("triggerer")[-3000:])
        logs = cluster.trigger_logs("rt_events", "etl.work")
        assert "woken by events from" in logs and "polling every 300s as a fallback" in logs, logs[-3000:]
        sm = engine.client("sagemaker")
        arn = sm.list_pipeline_executions(PipelineName="rt-events", SortOrder="Descending")[
            "PipelineExecutionSummaries"][0]["PipelineExecutionArn"]
        (step,) = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
        with sqlite3.connect(cluster.home / "airflow.db") as db:
            (end,) = db.execute("SELECT end_date FROM task_instance WHERE dag_id='rt_events' AND run_id=? AND "
                                "task_id='etl.work'", (run_id,)).fetchone()
        ended = dt.datetime.fromisoformat(str(end))
        ended = ended if ended.tzinfo else ended.replace(tzinfo=dt.timezone.utc)
        # Woken by the event: seconds, where the fallback poll would take up to 300 s (and 15 s polling ~8 s).
        assert (ended - step["EndTime"]).total_seconds() < 60
    finally:
        cluster.stop()


def test_an_execution_started_with_boto3_schedules_the_watching_dag(airflow: Any, sagemaker_local_engine: Any,
                                                                    tmp_path: Path) -> None:
    engine = sagemaker_local_engine
    setup = setup_event_queue(engine.client("sqs"), engine.client("events"), queue_name="rt-watch",
                              rule_name="rt-watch")
    sm = engine.client("sagemaker")
    definition = {"Version": "2020-12-01", "Metadata": {}, "Parameters": [
        {"Name": "Region", "Type": "String", "DefaultValue": "eu"}], "Steps": [
        {"Name": "A", "Type": "Condition", "Arguments": {"Conditions": [
            {"Type": "Equals", "LeftValue": 1, "RightValue": 1}], "IfSteps": [], "ElseSteps": []}}]}
    try:
        sm.create_pipeline(PipelineName="rt-watched", PipelineDefinition=json.dumps(definition),
                           RoleArn="arn:aws:iam::123456789012:role/SmPipeline")
    except sm.exceptions.ClientError:
        pass
    cluster = Cluster(tmp_path / "home", engine.url)
    cluster.home.mkdir()
    cluster.runner.env["RT_WATCH_QUEUE_URL"] = setup.queue_url
    cluster.start()
    try:
        cluster.wait_for(lambda: cluster._get("/api/v2/dags/rt_on_events"), 240, "the DAG to load")
        cluster.wait_for(lambda: "rt-watched" in cluster.log("triggerer") or "PipelineEventTrigger" in
                         cluster.log("triggerer"), 180, "the triggerer to run the asset watcher")
        arn = sm.start_pipeline_execution(PipelineName="rt-watched", PipelineParameters=[
            {"Name": "Region", "Value": "us"}])["PipelineExecutionArn"]

        def finished_run() -> Any:
            runs = (cluster._get("/api/v2/dags/rt_on_events/dagRuns") or {}).get("dag_runs", [])
            return next((r for r in runs if r.get("state") in FINISHED), None)

        run = cluster.wait_for(finished_run, 240, "the event-scheduled DAG run")
        assert run["state"] == "success", cluster.log("scheduler")[-3000:]
        payload = cluster.xcom("rt_on_events", run["dag_run_id"], "report", "return_value")
        assert payload["execution_arn"] == arn and payload["status"] == "Succeeded"
        assert payload["parameters"] == {"Region": "us"}
    finally:
        cluster.stop()
