"""Step end -> task success latency and SageMaker calls per execution: polling vs events (vs end_from_trigger).

    python bench/events_latency.py [--runs 3] [--step-seconds 25] [--modes polling,events,events-end,slow-polling]
        [--poll-interval 15] [--fallback-interval 300] [--slow-poll-interval 300]

Runs the real Airflow components (api-server, scheduler with the LocalExecutor, dag-processor, triggerer; the
tests' cluster harness, tests/airflow_cluster.py) against the local engine in this process. Modes:

- ``polling``: poll every ``--poll-interval`` s (15, the default of the groups);
- ``events``: an event queue on the connection (events wake the triggerer's poller), polling every
  ``--fallback-interval`` s as the fallback;
- ``events-end``: ``events`` plus ``[sagemaker_mlops] end_from_trigger = True`` (triggers/task_end.py);
- ``slow-polling``: no events, poll every ``--slow-poll-interval`` s (what the events' fallback interval costs
  without the events: the calls to compare with).

The DAG (tests/runtime/dags/rt_events_latency.py, ``job_logs=False``) has one Processing step sleeping
``--step-seconds``, longer than the triggers' 10 s minimum deferral (triggers/pipelines.min_deferral_seconds).
Latency: the step's EndTime (ListPipelineExecutionSteps) to the end_date of its Airflow task. Calls: SageMaker
calls clients made during the DAG run (the engine counts them; the start task's upsert and start included), and
the waits' share (DescribePipelineExecution + ListPipelineExecutionSteps). Breakdown, from the logs' timestamps:
``queued``: the event's age when the triggerer's consumer woke the poll (SQS SentTimestamp to the consumer's
log line, events modes); ``fire``: step end -> the trigger's "succeeded" line (wake-up, poll, or the polling
interval); ``resume``: that line -> the resumed attempt's first log line (triggerer loop, scheduler loop,
executor starting the task process); ``finish``: that line -> end_date (the worker's execute_complete; with
end_from_trigger, fire -> end_date: Airflow's task-end handling in the triggerer).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sqlite3
import statistics
import subprocess
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

DAG_ID, TASK_ID, PIPELINE = "rt_events_latency", "etl.work", "rt-events-latency"
WAIT_CALLS = ("DescribePipelineExecution", "ListPipelineExecutionSteps")
MODES = ("polling", "events", "events-end", "slow-polling")
_STAMP = re.compile(r'(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)')


def _when(line: str) -> dt.datetime | None:
    match = _STAMP.search(line)
    if match is None:
        return None
    value = dt.datetime.fromisoformat(match.group(1).replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _first(lines: list[str], needle: str, after: dt.datetime | None = None) -> dt.datetime | None:
    for line in lines:
        when = _when(line) if needle in line else None
        if when is not None and (after is None or when > after):
            return when
    return None


def breakdown(home: Path, run_id: str, step_end: dt.datetime, task_end: dt.datetime) -> dict[str, float | None]:
    """Where the latency went, from the task's, its trigger's and the triggerer's logs (see the docstring)."""
    run_dir = next((home / "logs" / f"dag_id={DAG_ID}").glob(f"run_id={run_id}*/task_id={TASK_ID}"), None)
    if run_dir is None:
        return {}
    task_lines = [ln for f in sorted(run_dir.glob("attempt=*.log")) if ".trigger." not in f.name
                  for ln in f.read_text(errors="replace").splitlines()]
    trigger_lines = [ln for f in sorted(run_dir.glob("*.trigger.*.log"))
                     for ln in f.read_text(errors="replace").splitlines()]
    fired = _first(trigger_lines + task_lines, "step work of", after=step_end - dt.timedelta(seconds=1))
    fired = fired if fired and fired >= step_end - dt.timedelta(seconds=1) else None
    out: dict[str, float | None] = {"queued": None, "fire": None, "resume": None, "finish": None}
    # The consumer's line lands in the triggerer's log or in the log of the trigger that started the consumer.
    triggerer = (home / "triggerer.log").read_text(errors="replace").splitlines() + trigger_lines
    ages = [float(m.group(1)) for ln in triggerer if "work Succeeded woke the poll" in ln
            and (m := re.search(r"queued ([\d.]+) s before", ln)) and (w := _when(ln)) and w >= step_end]
    if ages:
        out["queued"] = round(ages[0], 3)
    if fired is None:
        return out
    out["fire"] = round((fired - step_end).total_seconds(), 2)
    resumed = next((w for ln in task_lines if (w := _when(ln)) and w > fired), None)
    if resumed is not None and resumed < task_end:
        out["resume"] = round((resumed - fired).total_seconds(), 2)
        out["finish"] = round((task_end - resumed).total_seconds(), 2)
    else:  # ended in the triggerer (end_from_trigger): no resumed attempt
        out["finish"] = round((task_end - fired).total_seconds(), 2)
    return out


def run_mode(engine: Any, home: Path, mode: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    from airflow_cluster import AirflowCluster

    extra: dict[str, Any] = {"endpoint_url": engine.url, "region_name": "us-east-1"}
    interval = args.slow_poll_interval if mode == "slow-polling" else args.poll_interval
    if mode.startswith("events"):
        name = f"bench-{mode}"
        setup = setup_event_queue(engine.client("sqs"), engine.client("events"), queue_name=name, rule_name=name)
        extra.update(event_queue_url=setup.queue_url, event_fallback_interval=args.fallback_interval)
    cluster = AirflowCluster(home, ROOT / "tests" / "runtime" / "dags", engine.url, env={
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps({"conn_type": "aws", "extra": extra}),
        "RT_POLL_INTERVAL": str(interval),
        "RT_STEP_SECONDS": str(args.step_seconds),
        "AIRFLOW__SAGEMAKER_MLOPS__END_FROM_TRIGGER": str(mode == "events-end"),
        # Triggers wait 10 s at least, as in production (triggers/pipelines.min_deferral_seconds).
        "AIRFLOW__SAGEMAKER_MLOPS__MIN_DEFERRAL_SECONDS": "10",
    })
    results = []
    with cluster:
        cluster.login()
        sm = engine.client("sagemaker")
        for _ in range(args.runs):
            before = dict(engine.engine.__dict__.get("api_calls", {}))
            load = os.getloadavg()[0]
            run_id = cluster.start_run(DAG_ID)
            state = cluster.wait_for_run(DAG_ID, run_id, interval + 600)
            after = dict(engine.engine.__dict__.get("api_calls", {}))
            calls = {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)}
            arn = sm.list_pipeline_executions(PipelineName=PIPELINE, SortOrder="Descending")[
                "PipelineExecutionSummaries"][0]["PipelineExecutionArn"]
            (step,) = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
            with sqlite3.connect(home / "airflow.db") as db:
                (end,) = db.execute("SELECT end_date FROM task_instance WHERE dag_id=? AND run_id=? AND task_id=?",
                                    (DAG_ID, run_id, TASK_ID)).fetchone()
            ended = dt.datetime.fromisoformat(str(end))
            ended = ended if ended.tzinfo else ended.replace(tzinfo=dt.timezone.utc)
            latency = (ended - step["EndTime"]).total_seconds()
            results.append({"mode": mode, "interval": interval, "state": state, "latency_s": round(latency, 2),
                            "calls": sum(calls.values()), "wait_calls": sum(calls.get(k, 0) for k in WAIT_CALLS),
                            "load_1m": round(load, 2), "breakdown": breakdown(home, run_id, step["EndTime"], ended),
                            "by_operation": calls})
            print(json.dumps(results[-1]), flush=True)
    return results


def _median(values: list[Any]) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    median = statistics.median(values)
    return f"{median:.3f}" if median < 0.1 else f"{median:.2f}"


def table(rows: list[dict[str, Any]], args: argparse.Namespace) -> list[str]:
    lines = ["| mode | interval (s) | runs | median latency (s) | max latency (s) | SageMaker calls per run (median) "
             "| of which waiting (Describe + ListSteps) | median breakdown: queued / fire / resume / finish (s) |",
             "|---|---|---|---|---|---|---|---|"]
    for mode in args.modes:
        mine = [r for r in rows if r["mode"] == mode and r["state"] == "success"]
        if not mine:
            lines.append(f"| {mode} | | 0 successful | | | | | |")
            continue
        lat = [r["latency_s"] for r in mine]
        parts = " / ".join(_median([r["breakdown"].get(k) for r in mine]) for k in ("queued", "fire", "resume",
                                                                                     "finish"))
        label = {"events": "events", "events-end": "events + end_from_trigger"}.get(mode, mode)
        interval = f"{args.fallback_interval:g} fallback" if mode.startswith("events") else f"{mine[0]['interval']:g}"
        lines.append(f"| {label} | {interval} | {len(mine)} | {statistics.median(lat):.2f} | {max(lat):.2f} | "
                     f"{statistics.median(r['calls'] for r in mine):.0f} | "
                     f"{statistics.median(r['wait_calls'] for r in mine):.0f} | {parts} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--step-seconds", type=int, default=25)
    parser.add_argument("--modes", type=lambda v: [m for m in v.split(",") if m], default=list(MODES[:3]))
    parser.add_argument("--poll-interval", type=float, default=15.0)
    parser.add_argument("--fallback-interval", type=float, default=300.0)
    parser.add_argument("--slow-poll-interval", type=float, default=300.0)
    parser.add_argument("--out", type=Path, default=None, help="write the table and the runs (markdown) here")
    args = parser.parse_args()
    unknown = set(args.modes) - set(MODES)
    if unknown:
        parser.error(f"unknown modes {sorted(unknown)}; known: {', '.join(MODES)}")
    for key, value in ENV.items():
        os.environ[key] = value
    engine = LocalEngine().start()
    os.environ["AWS_ENDPOINT_URL"] = engine.url
    for bucket in ("rt-code", "rt-data"):
        engine.client("s3").create_bucket(Bucket=bucket)
    rows: list[dict[str, Any]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-events-") as tmp:
            for mode in args.modes:
                rows += run_mode(engine, Path(tmp) / mode, mode, args)
    finally:
        engine.stop()
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    when = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    lines = [f"`python bench/events_latency.py {' '.join(sys.argv[1:])}` ({when} UTC; real scheduler + triggerer, "
             f"LocalExecutor, 2 cores shared; `uptime` at the end: {uptime})", "",
             *table(rows, args), "", "Runs:", "", "```", *(json.dumps(r) for r in rows), "```", ""]
    if args.out is not None:
        args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
