"""Run the DAGs under tests/runtime/dags with the real ``airflow dags test`` against the local engine."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

DAGS = Path(__file__).parent / "dags"
AIRFLOW = str(Path(sys.executable).parent / "airflow")


@dataclass
class DagRun:
    dag_id: str
    run_id: str
    returncode: int
    output: str
    states: dict[str, str | None]
    db: Path

    def xcom(self, task_id: str, key: str = "return_value") -> Any:
        with sqlite3.connect(self.db) as conn:
            row = conn.execute("SELECT value FROM xcom WHERE dag_id=? AND run_id=? AND task_id=? AND key=?",
                               (self.dag_id, self.run_id, task_id, key)).fetchone()
        if row is None:
            return None
        value = row[0]
        return json.loads(value) if isinstance(value, str | bytes) else value


class AirflowRunner:
    def __init__(self, home: Path, engine_url: str) -> None:
        self.home = home
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "AWS_"))},
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW_CONN_AWS_DEFAULT": json.dumps({"conn_type": "aws", "extra": {
                "endpoint_url": engine_url, "region_name": "us-east-1"}}),
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def migrate(self) -> None:
        subprocess.run([AIRFLOW, "db", "migrate"], env=self.env, check=True, capture_output=True, timeout=600)

    def dags_test(self, dag_id: str, conf: dict[str, Any] | None = None, **env: str) -> DagRun:
        command = [AIRFLOW, "dags", "test", dag_id]
        if conf is not None:
            command += ["-c", json.dumps(conf)]
        result = subprocess.run(command, env={**self.env, **env}, capture_output=True, text=True, timeout=600)
        db = self.home / "airflow.db"
        with sqlite3.connect(db) as conn:
            run_id = conn.execute("SELECT run_id FROM dag_run WHERE dag_id=? ORDER BY id DESC LIMIT 1",
                                  (dag_id,)).fetchone()
            if run_id is None:
                raise AssertionError(f"no run of {dag_id}:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
            states = dict(conn.execute("SELECT task_id, state FROM task_instance WHERE dag_id=? AND run_id=?",
                                       (dag_id, run_id[0])).fetchall())
        return DagRun(dag_id, run_id[0], result.returncode, result.stdout + result.stderr, states, db)


@pytest.fixture(scope="session")
def _airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("airflow-home")


@pytest.fixture
def airflow(sagemaker_local_engine: Any, _airflow_home: Path) -> Iterator[AirflowRunner]:
    runner = AirflowRunner(_airflow_home, sagemaker_local_engine.url)
    if not (_airflow_home / "airflow.db").exists():
        runner.migrate()
    s3 = sagemaker_local_engine.client("s3")
    for bucket in ("rt-code", "rt-data"):
        s3.create_bucket(Bucket=bucket)
    sagemaker_local_engine.client("sqs").create_queue(QueueName="rt-approvals")
    sm = sagemaker_local_engine.client("sagemaker")
    try:
        sm.create_model_package_group(ModelPackageGroupName="rt-models")
    except sm.exceptions.ClientError:
        pass  # made by an earlier test of the session
    yield runner
