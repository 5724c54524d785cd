"""Step end -> task success latency and SageMaker calls per execution: polling (15 s) vs events (5 min fallback).

    python bench/events_latency.py [--runs 3] [--step-seconds 25]

Runs the real Airflow components (api-server, scheduler with the LocalExecutor, dag-processor, triggerer; the
tests' cluster harness, tests/airflow_cluster.py) against the local engine in this process, once polling every
15 s and once with an event queue on the connection (events wake the triggerer's poller; 300 s fallback polls).
The DAG (tests/runtime/dags/rt_events.py, on its connection aws_events) has one Processing step sleeping
--step-seconds (its run conf), longer than the
triggers' 10 s minimum deferral (triggers/pipelines.min_deferral_seconds). Latency: the step's EndTime
(ListPipelineExecutionSteps) to the end_date of its Airflow task. Calls: SageMaker calls clients made during
the DAG run (the engine counts them; the start task's upsert and start included), and the waits' own share
(DescribePipelineExecution + ListPipelineExecutionSteps).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "runtime")]

from airflow_sagemaker_mlops.hooks.events import setup_event_queue  # noqa: E402
from airflow_sagemaker_mlops.local.pytest_plugin import ENV  # noqa: E402
from airflow_sagemaker_mlops.local.server import LocalEngine  # noqa: E402

WAIT_CALLS = ("DescribePipelineExecution", "ListPipelineExecutionSteps")


def run_mode(engine: Any, home: Path, mode: str, runs: int, step_seconds: int) -> list[dict[str, Any]]:
    from airflow_cluster import AirflowCluster

    extra: dict[str, Any] = {"endpoint_url": engine.url, "region_name": "us-east-1"}
    if mode == "events":
        setup = setup_event_queue(engine.client("sqs"), engine.client("events"), queue_name="bench-events",
                                  rule_name="bench-events")
        extra.update(event_queue_url=setup.queue_url, event_fallback_interval=300)
    cluster = AirflowCluster(home, ROOT / "tests" / "runtime" / "dags", engine.url, env={
        "AIRFLOW_CONN_AWS_EVENTS": json.dumps({"conn_type": "aws", "extra": extra}),
        # Triggers wait 10 s at least, as in production (triggers/pipelines.min_deferral_seconds).
        "AIRFLOW__SAGEMAKER_MLOPS__MIN_DEFERRAL_SECONDS": "10",
    })
    results = []
    with cluster:
        cluster.login()
        sm = engine.client("sagemaker")
        for _ in range(runs):
            before = dict(engine.engine.__dict__.get("api_calls", {}))
            run_id = cluster.start_run("rt_events", {"step_seconds": str(step_seconds)})
            state = cluster.wait_for_run("rt_events", run_id, 600)
            after = dict(engine.engine.__dict__.get("api_calls", {}))
            calls = {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)}
            arn = sm.list_pipeline_executions(PipelineName="rt-events", SortOrder="Descending")[
                "PipelineExecutionSummaries"][0]["PipelineExecutionArn"]
            (step,) = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
            with sqlite3.connect(home / "airflow.db") as db:
                (end,) = db.execute("SELECT end_date FROM task_instance WHERE dag_id='rt_events' AND run_id=? "
                                    "AND task_id='etl.work'", (run_id,)).fetchone()
            ended = dt.datetime.fromisoformat(str(end))
            ended = ended if ended.tzinfo else ended.replace(tzinfo=dt.timezone.utc)
            latency = (ended - step["EndTime"]).total_seconds()
            results.append({"mode": mode, "state": state, "latency_s": round(latency, 2), "calls": sum(calls.values()),
                            "wait_calls": sum(calls.get(k, 0) for k in WAIT_CALLS), "by_operation": calls})
            print(json.dumps(results[-1]), flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--step-seconds", type=int, default=25)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "events_latency.md")
    args = parser.parse_args()
    for key, value in ENV.items():
        os.environ[key] = value
    engine = LocalEngine().start()
    os.environ["AWS_ENDPOINT_URL"] = engine.url
    for bucket in ("rt-code", "rt-data"):
        engine.client("s3").create_bucket(Bucket=bucket)
    rows: list[dict[str, Any]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-events-") as tmp:
            for mode in ("polling", "events"):
                rows += run_mode(engine, Path(tmp) / mode, mode, args.runs, args.step_seconds)
    finally:
        engine.stop()
    lines = ["# Step end -> task success, polling (15 s) vs events (300 s fallback)", "",
             f"`python bench/events_latency.py --runs {args.runs} --step-seconds {args.step_seconds}` "
             f"({time.strftime('%Y-%m-%d', time.gmtime())}; real scheduler + triggerer, LocalExecutor, 2 shared cores)",
             "", "| mode | runs | median latency (s) | max latency (s) | SageMaker calls per run (median) "
             "| of which waiting (Describe + ListSteps) |", "|---|---|---|---|---|---|"]
    for mode in ("polling", "events"):
        mine = [r for r in rows if r["mode"] == mode and r["state"] == "success"]
        if not mine:
            lines.append(f"| {mode} | 0 successful | | | | |")
            continue
        lat = [r["latency_s"] for r in mine]
        lines.append(f"| {mode} | {len(mine)} | {statistics.median(lat):.1f} | {max(lat):.1f} | "
                     f"{statistics.median(r['calls'] for r in mine):.0f} | "
                     f"{statistics.median(r['wait_calls'] for r in mine):.0f} |")
    lines += ["", "Runs:", "", "```", *(json.dumps(r) for r in rows), "```", ""]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
