"""``airflow dags test`` of a DAG against the local engine, and what the run left in Airflow's SQLite database.

Shared by tests/runtime (the run-time bridge's own DAGs) and tests/examples (dags/); each directory's
conftest builds the environment (DAG folder, connections) and calls :func:`dags_test`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# $AIRFLOW_BIN runs the DAGs on an Airflow installed elsewhere (the MWAA matrix: Airflow under MWAA's
# constraints, the engine in this interpreter's environment).
AIRFLOW = os.environ.get("AIRFLOW_BIN") or str(Path(sys.executable).parent / "airflow")


def airflow_env(home: Path, dags_folder: Path, engine_url: str, **settings: str) -> dict[str, str]:
    """The environment of an Airflow command or component of the tests: this process's environment without its
    Airflow and AWS settings, its own home and DAG folder, fake credentials and the engine as ``aws_default``
    (the engine's URL as ``AWS_ENDPOINT_URL`` too only where a caller adds it: the DAGs' own boto3 clients)."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "AWS_"))},
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps({"conn_type": "aws", "extra": {
            "endpoint_url": engine_url, "region_name": "us-east-1"}}),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        **settings,
    }


@dataclass
class DagRun:
    dag_id: str
    run_id: str
    returncode: int
    output: str
    state: str
    states: dict[str, str | None]
    db: Path

    def xcom(self, task_id: str, key: str = "return_value") -> Any:
        with sqlite3.connect(self.db) as conn:
            row = conn.execute("SELECT value FROM xcom WHERE dag_id=? AND run_id=? AND task_id=? AND key=?",
                               (self.dag_id, self.run_id, task_id, key)).fetchone()
        if row is None:
            return None
        return json.loads(row[0]) if isinstance(row[0], str | bytes) else row[0]


def migrate(env: dict[str, str]) -> None:
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=600)


def dags_test(home: Path, env: dict[str, str], dag_id: str, conf: dict[str, Any] | None = None) -> DagRun:
    """Run ``airflow dags test`` and read the run's state and task states back from the database."""
    command = [AIRFLOW, "dags", "test", dag_id]
    if conf is not None:
        command += ["-c", json.dumps(conf)]
    # `dags test` runs triggers inline, without a scheduler to race: no minimum deferral needed.
    env = {"AIRFLOW__SAGEMAKER_MLOPS__MIN_DEFERRAL_SECONDS": "0", **env}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    db = home / "airflow.db"
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT run_id, state FROM dag_run WHERE dag_id=? ORDER BY id DESC LIMIT 1",
                           (dag_id,)).fetchone()
        if row is None:
            raise AssertionError(f"no run of {dag_id}:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
        states = dict(conn.execute("SELECT task_id, state FROM task_instance WHERE dag_id=? AND run_id=?",
                                   (dag_id, row[0])).fetchall())
    return DagRun(dag_id, row[0], result.returncode, result.stdout + result.stderr, row[1], states, db)
