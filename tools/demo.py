"""`make demo`: run the churn_training example end to end on the local engine, once per branch.

Starts the local SageMaker Pipelines engine in this process (free port on 127.0.0.1), creates what the
examples need (buckets, the sign-off queue, the model package group), migrates an Airflow SQLite database
under ``.airflow-demo/`` (once; later runs reuse it), then runs ``airflow dags test churn_training`` with
MinAuc 0.5 (the model is registered and ``deploy`` runs) and with MinAuc 0.99 (the pipeline fails at the
FailStep and ``notify`` runs). For each run it prints the pipeline's steps, the condition's outcome, the
Airflow tasks that ran or were skipped, the artifacts in S3 and the model package; it stops the engine at
the end and exits non-zero when a run did not end as expected.

    python tools/demo.py [--airflow-home DIR] [--min-auc 0.5 --min-auc 0.99]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DAGS = ROOT / "dags"
DAG_ID = "churn_training"
GROUP = "train"
sys.path.insert(0, str(DAGS))

import example_settings as settings  # noqa: E402 - lives in the DAG folder, as the DAGs import it

log = logging.getLogger("demo")


@dataclass
class Expected:
    min_auc: float
    branch: bool  # the condition's outcome the run must take

    @property
    def states(self) -> dict[str, str]:
        taken, other = ("success", "skipped") if self.branch else ("skipped", "success")
        return {
            f"{GROUP}.start": "success", f"{GROUP}.preprocess": "success", f"{GROUP}.fit": "success",
            f"{GROUP}.evaluate": "success", f"{GROUP}.auc_gate": "success",
            f"{GROUP}.register": taken, "deploy": taken,
            # The FailStep fails its execution, so its task fails; notify follows the gate, not the FailStep.
            f"{GROUP}.too_weak": "skipped" if self.branch else "failed", "notify": other,
        }


@dataclass
class RunReport:
    expected: Expected
    seconds: float
    run_id: str | None = None
    run_state: str | None = None
    states: dict[str, str | None] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


# --- set-up -------------------------------------------------------------------------------------------


def airflow_env(home: Path, engine_url: str) -> dict[str, str]:
    """The environment of every Airflow command: SQLite under ``home``, dags/, connections to the engine."""
    connection = {"endpoint_url": engine_url, "region_name": settings.REGION}
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "AWS_"))},
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        # The DAGs import example_settings from their folder. The dag-processor and task runners put the DAG
        # folder on sys.path, and so does `airflow dags test` from Airflow 3.1 on; on 3.0.x it does not.
        # The caller's PYTHONPATH stays after dags/: a worktree's package then wins over an editable install.
        "PYTHONPATH": os.pathsep.join([str(DAGS), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps({"conn_type": "aws", "extra": connection}),
        # The retraining example's other-account connection. The Amazon provider never sends assume-role to
        # the global endpoint_url, so service_config points STS at the engine too (moto answers it).
        "AIRFLOW_CONN_AWS_ML_ACCOUNT": json.dumps({"conn_type": "aws", "extra": ml_account_extra(engine_url)}),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": settings.REGION,
        "EXAMPLES_POLL_INTERVAL": os.environ.get("EXAMPLES_POLL_INTERVAL", "0.5"),
    }


def ml_account_extra(engine_url: str) -> dict[str, Any]:
    """The extra of the ``aws_ml_account`` connection on the local engine."""
    return {"endpoint_url": engine_url, "region_name": settings.REGION, "role_arn": settings.ML_ACCOUNT_ROLE,
            "service_config": {"sts": {"endpoint_url": engine_url}}}


def create_example_resources(client: Any) -> None:
    """What the example DAGs expect to exist (on AWS you would create these once, see docs/examples.md).

    ``client(service)`` returns a boto3 client for the engine. Idempotent.
    """
    s3 = client("s3")
    for bucket in (settings.CODE_BUCKET, settings.DATA_BUCKET):
        s3.create_bucket(Bucket=bucket)
    client("sqs").create_queue(QueueName=settings.SIGNOFF_QUEUE)
    sm = client("sagemaker")
    groups = sm.list_model_package_groups(NameContains=settings.MODEL_PACKAGE_GROUP)["ModelPackageGroupSummaryList"]
    if not any(g["ModelPackageGroupName"] == settings.MODEL_PACKAGE_GROUP for g in groups):
        sm.create_model_package_group(ModelPackageGroupName=settings.MODEL_PACKAGE_GROUP,
                                      ModelPackageGroupDescription="churn models (examples)")


def migrate(home: Path, env: dict[str, str]) -> float:
    """``airflow db migrate`` once per home: a marker records the Airflow (binary and version) it was done with."""
    marker = home / ".migrated"
    version = subprocess.run([_airflow(), "version"], env=env, capture_output=True, text=True, timeout=300)
    wanted = f"{_airflow()} {version.stdout.strip().splitlines()[-1] if version.stdout.strip() else '?'}"
    if marker.exists() and marker.read_text() == wanted and (home / "airflow.db").exists():
        return 0.0
    home.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    result = subprocess.run([_airflow(), "db", "migrate"], env=env, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise SystemExit(f"airflow db migrate failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    # What the dag-processor does first: register the DAGs and their assets. Airflow 3.0's `dags test` leaves
    # a DAG's assets inactive otherwise and refuses to run a task with outlets (the registration asset).
    result = subprocess.run([_airflow(), "dags", "reserialize"], env=env, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise SystemExit(f"airflow dags reserialize failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    marker.write_text(wanted)
    return time.monotonic() - started


def _airflow() -> str:
    """The ``airflow`` command: ``$AIRFLOW_BIN`` (an Airflow installed elsewhere, e.g. under MWAA's constraints,
    while the engine runs here) or the one next to this interpreter."""
    return os.environ.get("AIRFLOW_BIN") or str(Path(sys.executable).parent / "airflow")


# --- one run ------------------------------------------------------------------------------------------


def run_dag(home: Path, env: dict[str, str], conf: dict[str, Any], log_file: Path) -> tuple[int, str | None]:
    """``airflow dags test`` of the example; its output goes to ``log_file``. (returncode, run_id)"""
    with sqlite3.connect(home / "airflow.db") as conn:
        before = conn.execute("SELECT max(id) FROM dag_run").fetchone()[0] or 0
    with open(log_file, "w") as out:
        # `dags test` runs triggers inline, without a scheduler to race: no minimum deferral needed.
        result = subprocess.run([_airflow(), "dags", "test", DAG_ID, "-c", json.dumps(conf)],
                                env={"AIRFLOW__SAGEMAKER_MLOPS__MIN_DEFERRAL_SECONDS": "0", **env},
                                stdout=out, stderr=subprocess.STDOUT, timeout=600)
    with sqlite3.connect(home / "airflow.db") as conn:
        row = conn.execute("SELECT run_id FROM dag_run WHERE dag_id=? AND id>? ORDER BY id DESC LIMIT 1",
                           (DAG_ID, before)).fetchone()
    return result.returncode, row[0] if row else None


def task_states(db: Path, run_id: str) -> tuple[str | None, dict[str, str | None]]:
    with sqlite3.connect(db) as conn:
        state = conn.execute("SELECT state FROM dag_run WHERE dag_id=? AND run_id=?", (DAG_ID, run_id)).fetchone()
        states = dict(conn.execute("SELECT task_id, state FROM task_instance WHERE dag_id=? AND run_id=?",
                                   (DAG_ID, run_id)).fetchall())
    return (state[0] if state else None), states


def xcom(db: Path, run_id: str, task_id: str, key: str = "return_value") -> Any:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT value FROM xcom WHERE dag_id=? AND run_id=? AND task_id=? AND key=?",
                           (DAG_ID, run_id, task_id, key)).fetchone()
    if row is None:
        return None
    return json.loads(row[0]) if isinstance(row[0], str | bytes) else row[0]


def s3_object(client: Any, uri: str) -> tuple[int, bytes]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    body = client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return len(body), body


def describe_run(client: Any, db: Path, report: RunReport) -> list[str]:
    """The summary lines of one run; adds to ``report.problems`` what differs from the expectation."""
    lines: list[str] = []
    expected = report.expected
    run_id = report.run_id
    assert run_id is not None
    sm = client("sagemaker")
    execution_arn = xcom(db, run_id, f"{GROUP}.start", "execution_arn")
    if not execution_arn:
        report.problems.append("the start task pushed no execution ARN")
        return lines
    execution = sm.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
    lines.append(f"  pipeline execution  {execution_arn}")
    lines.append(f"  execution status    {execution['PipelineExecutionStatus']}"
                 + (f" ({execution['FailureReason']})" if execution.get("FailureReason") else ""))
    steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=execution_arn, SortOrder="Ascending")
    lines.append("  pipeline steps:")
    by_name: dict[str, dict[str, Any]] = {}
    for step in steps["PipelineExecutionSteps"]:
        by_name[step["StepName"]] = step
        lines.append(f"    {step['StepName']:<12} {step['StepStatus']:<10} {_step_detail(sm, step)}")

    outcome = by_name.get("auc_gate", {}).get("Metadata", {}).get("Condition", {}).get("Outcome")
    evaluation: dict[str, Any] = {}
    artifacts: list[str] = []
    fit = by_name.get("fit", {}).get("Metadata", {}).get("TrainingJob", {}).get("Arn")
    if fit:
        model_uri = sm.describe_training_job(TrainingJobName=fit.rsplit("/", 1)[-1])["ModelArtifacts"][
            "S3ModelArtifacts"]
        size, _ = s3_object(client, model_uri)
        artifacts.append(f"    {model_uri}  ({size} bytes)")
    evaluate = by_name.get("evaluate", {}).get("Metadata", {}).get("ProcessingJob", {}).get("Arn")
    if evaluate:
        job = sm.describe_processing_job(ProcessingJobName=evaluate.rsplit("/", 1)[-1])
        prefix = job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
        _, body = s3_object(client, f"{prefix.rstrip('/')}/evaluation.json")
        evaluation = json.loads(body)
        artifacts.append(f"    {prefix.rstrip('/')}/evaluation.json  {json.dumps(evaluation)}")
    auc = evaluation.get("metrics", {}).get("auc", {}).get("value")
    relation = ">=" if outcome == "True" else "<"
    lines.append(f"  condition           AUC {auc} {relation} MinAuc {expected.min_auc} -> outcome {outcome} "
                 f"({'register the model' if outcome == 'True' else 'fail the pipeline'})")
    lines.append("  artifacts in S3:")
    lines.extend(artifacts or ["    (none)"])

    package_arn = xcom(db, run_id, f"{GROUP}.register", "ModelPackageArn")
    if package_arn:
        package = sm.describe_model_package(ModelPackageName=package_arn)
        lines.append(f"  model package       {package_arn} ({package['ModelApprovalStatus']})")
    else:
        lines.append("  model package       none registered")

    ran = [t for t, s in sorted(report.states.items()) if s == "success"]
    skipped = [t for t, s in sorted(report.states.items()) if s == "skipped"]
    failed = [t for t, s in sorted(report.states.items()) if s not in ("success", "skipped")]
    lines.append(f"  airflow tasks ran   {', '.join(ran)}")
    lines.append(f"  skipped             {', '.join(skipped) or '-'}")
    if failed:
        lines.append(f"  failed              {', '.join(f'{t} ({report.states[t]})' for t in failed)}")
    branch = "if_true -> register, deploy" if outcome == "True" else "if_false -> too_weak, notify"
    lines.append(f"  branch taken        {branch}")

    if outcome != str(expected.branch):
        report.problems.append(f"condition outcome {outcome}, expected {expected.branch}")
    if report.states != expected.states:
        diff = {t: (report.states.get(t), s) for t, s in expected.states.items() if report.states.get(t) != s}
        report.problems.append(f"task states differ (got, expected): {diff}")
    if expected.branch and not package_arn:
        report.problems.append("no model package was registered")
    if not expected.branch and not package_arn and xcom(db, run_id, "notify") is None:
        report.problems.append("notify returned nothing")
    return lines


def _step_detail(sm: Any, step: dict[str, Any]) -> str:
    meta = step.get("Metadata", {})
    if "TrainingJob" in meta:
        job = sm.describe_training_job(TrainingJobName=meta["TrainingJob"]["Arn"].rsplit("/", 1)[-1])
        metrics = ", ".join(f"{m['MetricName']}={m['Value']:.4f}" for m in job.get("FinalMetricDataList", []))
        return f"training job, {metrics}"
    if "ProcessingJob" in meta:
        return f"processing job {meta['ProcessingJob']['Arn'].rsplit('/', 1)[-1]}"
    if "Condition" in meta:
        return f"outcome {meta['Condition']['Outcome']}"
    if "RegisterModel" in meta:
        return f"registered {meta['RegisterModel']['Arn']}"
    if "Fail" in meta:
        return f"error message: {meta['Fail'].get('ErrorMessage')}"
    return step.get("FailureReason", "")


# --- main ---------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--airflow-home", type=Path, default=ROOT / ".airflow-demo",
                        help="AIRFLOW_HOME (SQLite database and logs); default .airflow-demo/")
    parser.add_argument("--min-auc", type=float, action="append",
                        help="MinAuc of one run (repeatable); default: 0.5 (register) and 0.99 (fail)")
    parser.add_argument("--expect-branch", choices=["true", "false"], action="append",
                        help="the outcome each --min-auc run must take (default: true for < 0.9, else false)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    thresholds = args.min_auc or [0.5, 0.99]
    branches = [b == "true" for b in args.expect_branch] if args.expect_branch else [t < 0.9 for t in thresholds]
    if len(branches) != len(thresholds):
        raise SystemExit("give one --expect-branch per --min-auc")
    home: Path = args.airflow_home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    (home / "demo-logs").mkdir(exist_ok=True)

    from airflow_sagemaker_mlops.local.server import LocalEngine
    from airflow_sagemaker_mlops.local.state import EngineConfig

    total = time.monotonic()
    reports: list[RunReport] = []
    with LocalEngine(EngineConfig(work_dir=home / "engine-work")) as engine:
        print(f"local SageMaker engine: {engine.url} (in this process; S3, SQS, model registry: moto)")
        create_example_resources(engine.client)
        env = airflow_env(home, engine.url)
        seconds = migrate(home, env)
        print(f"airflow home: {home} (SQLite; "
              + (f"database migrated in {seconds:.0f} s)" if seconds else "database already migrated)"))
        for number, (min_auc, branch) in enumerate(zip(thresholds, branches, strict=True), start=1):
            expected = Expected(min_auc, branch)
            print(f"\n== run {number}: airflow dags test {DAG_ID} with MinAuc={min_auc} "
                  f"(expect {'register + deploy' if branch else 'fail + notify'}) ==")
            log_file = home / "demo-logs" / f"run{number}-min-auc-{min_auc}.log"
            started = time.monotonic()
            returncode, run_id = run_dag(home, env, {"MinAuc": min_auc}, log_file)
            report = RunReport(expected, time.monotonic() - started, run_id)
            reports.append(report)
            if run_id is None:
                report.problems.append(f"airflow dags test made no run (exit {returncode}); see {log_file}")
            else:
                report.run_state, report.states = task_states(home / "airflow.db", run_id)
                print(f"  airflow dag run     {run_id}: {report.run_state} in {report.seconds:.1f} s "
                      f"(log: {log_file.relative_to(home.parent) if home.parent in log_file.parents else log_file})")
                for line in describe_run(engine.client, home / "airflow.db", report):
                    print(line)
                wanted_run_state = "success" if branch else "failed"
                if report.run_state != wanted_run_state:
                    report.problems.append(f"dag run {report.run_state}, expected {wanted_run_state}")
            print("  result              " + ("as expected" if not report.problems else
                                              "NOT as expected: " + "; ".join(report.problems)))
    print(f"\nengine stopped; {len(reports)} runs in {time.monotonic() - total:.0f} s: "
          + ", ".join(f"MinAuc={r.expected.min_auc} {'ok' if not r.problems else 'FAILED'}" for r in reports))
    return 1 if any(r.problems for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
