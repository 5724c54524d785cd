"""Run the example DAGs of dags/ with the real ``airflow dags test`` against the local engine.

Adapted from tests/runtime/conftest.py: the DAG folder is dags/, and the buckets, queue, model package
group and the other-account connection are the ones the examples need (made as tools/demo.py makes them).
"""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "dags"
AIRFLOW = str(Path(sys.executable).parent / "airflow")


def load_demo() -> ModuleType:
    """tools/demo.py as a module (tools/ is not a package): its environment and set-up helpers."""
    spec = importlib.util.spec_from_file_location("examples_demo", ROOT / "tools" / "demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


demo = load_demo()


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


class AirflowRunner:
    def __init__(self, home: Path, engine_url: str) -> None:
        self.home = home
        self.env = {**demo.airflow_env(home, engine_url), "EXAMPLES_POLL_INTERVAL": "0.2"}

    def dags_test(self, dag_id: str, conf: dict[str, Any] | None = None) -> DagRun:
        command = [AIRFLOW, "dags", "test", dag_id]
        if conf is not None:
            command += ["-c", json.dumps(conf)]
        result = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=600)
        db = self.home / "airflow.db"
        with sqlite3.connect(db) as conn:
            row = conn.execute("SELECT run_id, state FROM dag_run WHERE dag_id=? ORDER BY id DESC LIMIT 1",
                               (dag_id,)).fetchone()
            if row is None:
                raise AssertionError(f"no run of {dag_id}:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
            states = dict(conn.execute("SELECT task_id, state FROM task_instance WHERE dag_id=? AND run_id=?",
                                       (dag_id, row[0])).fetchall())
        return DagRun(dag_id, row[0], result.returncode, result.stdout + result.stderr, row[1], states, db)


@pytest.fixture(scope="session")
def _examples_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("examples-airflow-home")


@pytest.fixture
def examples_airflow(sagemaker_local_engine: Any, _examples_home: Path) -> Iterator[AirflowRunner]:
    runner = AirflowRunner(_examples_home, sagemaker_local_engine.url)
    demo.migrate(_examples_home, runner.env)
    demo.create_example_resources(sagemaker_local_engine.client)
    yield runner


@pytest.fixture
def trained_churn(examples_airflow: AirflowRunner) -> DagRun:
    """One successful churn_training run per session: the pipeline and a registered model package that
    batch_scoring and retraining build on."""
    global _TRAINED
    if _TRAINED is None:
        run = examples_airflow.dags_test("churn_training", {"MinAuc": 0.5})
        assert run.state == "success", run.output[-4000:]
        _TRAINED = run
    return _TRAINED


_TRAINED: DagRun | None = None
