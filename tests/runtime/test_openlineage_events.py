"""OpenLineage events and the registration asset event of a real ``airflow dags test`` run on the local engine.

The OpenLineage provider is configured with its file transport, so every event the run emits is a line of
a file the test reads back.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("airflow.providers.openlineage")
pytestmark = pytest.mark.e2e


def task_events(path: Path, event_type: str = "COMPLETE") -> dict[str, dict[str, Any]]:
    """The ``event_type`` event of each task, by task id (the job name is ``<dag_id>.<task_id>``)."""
    events = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {e["job"]["name"].split(".", 1)[1]: e for e in events if e["eventType"] == event_type
            and "." in e["job"]["name"]}


def transport(path: Path) -> dict[str, str]:
    return {"AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps({"type": "file", "log_file_path": str(path),
                                                           "append": True}),
            "AIRFLOW__OPENLINEAGE__NAMESPACE": "lineage-test"}


def names(datasets: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(d["namespace"], d["name"]) for d in datasets}


def test_lineage_of_start_and_step_tasks_and_the_registration_asset_event(airflow, sagemaker_local_engine, tmp_path):
    events_file = tmp_path / "openlineage.jsonl"
    run = airflow.dags_test("rt_branches", {"score": "0.9", "threshold": 0.5}, **transport(events_file))
    assert run.states["train.register"] == "success", run.output[-4000:]
    execution_arn = run.xcom("train.start", "execution_arn")
    execution_id = execution_arn.rsplit("/", 1)[-1]
    package_arn = run.xcom("train.register", "ModelPackageArn")
    group_ns, version = package_arn.partition(":model-package/")[0], package_arn.rsplit("/", 1)[-1]
    events = task_events(events_file)

    start = events["train.start"]
    assert start["run"]["facets"]["externalQuery"]["externalQueryId"] == execution_arn
    code = names(start["outputs"])
    # the step scripts it uploaded (content-addressed keys), including the other branch's
    assert {(ns, name.rsplit("/", 1)[-1]) for ns, name in code} == {("s3://rt-code", "evaluate.py"),
                                                                   ("s3://rt-code", "report.py")}

    evaluate = events["train.evaluate"]
    assert evaluate["run"]["facets"]["externalQuery"]["externalQueryId"].startswith(
        "arn:aws:sagemaker:us-east-1:123456789012:processing-job/")
    assert names(evaluate["inputs"]) <= code and len(evaluate["inputs"]) == 1
    assert names(evaluate["outputs"]) == {("s3://rt-data", f"evaluation/{execution_id}")}

    register = events["train.register"]
    assert names(register["inputs"]) == {("s3://rt-data", "model.tar.gz")}
    [package] = register["outputs"]
    assert (package["namespace"], package["name"]) == (group_ns, "model-package-group/rt-models")
    assert package["facets"]["version"]["datasetVersion"] == version
    assert package["facets"]["datasetType"]["datasetType"] == "MODEL"
    assert package["facets"]["symlinks"]["identifiers"][0]["name"] == f"model-package/rt-models/{version}"

    # The gate has no job and reads no data: an event without datasets.
    assert events["train.gate"]["inputs"] == [] and events["train.gate"]["outputs"] == []

    with sqlite3.connect(run.db) as conn:
        rows = conn.execute(
            "SELECT a.uri, e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id "
            "WHERE e.source_dag_id=? AND e.source_run_id=? AND e.source_task_id=?",
            (run.dag_id, run.run_id, "train.register")).fetchall()
    assert [(uri, json.loads(extra)) for uri, extra in rows] == [(
        "x-sagemaker-model-package-group://rt-models",
        {"model_package_arn": package_arn, "model_package_group": "rt-models",
         "model_package_version": int(version), "model_approval_status": "PendingManualApproval",
         "pipeline_execution_arn": execution_arn, "step_name": "register"},
    )]


def test_a_failed_step_reports_what_it_read_in_its_fail_event(airflow, tmp_path):
    events_file = tmp_path / "openlineage.jsonl"
    run = airflow.dags_test("rt_failing", **transport(events_file))
    assert run.states["etl.broken"] == "failed", run.output[-4000:]
    broken = task_events(events_file, "FAIL")["etl.broken"]
    assert [(d["namespace"], d["name"].rsplit("/", 1)[-1]) for d in broken["inputs"]] == [("s3://rt-code", "report.py")]
    assert broken["run"]["facets"]["externalQuery"]["externalQueryId"].startswith(
        "arn:aws:sagemaker:us-east-1:123456789012:processing-job/")
