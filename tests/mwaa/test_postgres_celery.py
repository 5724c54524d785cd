"""MWAA's components for real: Airflow (the MWAA 3.3.1 venv) on PostgreSQL with the CeleryExecutor and a Redis
broker — api-server, scheduler, dag-processor, triggerer and a Celery worker as separate processes — runs the
churn_training example on both branches against the local engine, with the step waits deferred to the
triggerer. PostgreSQL and Redis are Debian's (`make services`), started here on 127.0.0.1 in temporary folders.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mwaa_env import ROOT, MwaaVenv

sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from airflow_cluster import COMPONENTS, AirflowCluster, free_port, wait_for
from test_airflow_e2e import BRANCHES, DAG_ID, EXPECTED, RUN_STATE, STEP_TASKS

pytestmark = pytest.mark.e2e
DAGS = ROOT / "dags"


def _as_postgres_user() -> list[str]:
    # PostgreSQL refuses to run as root: CI runs as root, so the servers run as Debian's `postgres` user.
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    initdb = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    assert initdb, "PostgreSQL is not installed: `make services` installs Debian's postgresql"
    bindir = Path(initdb[-1]).parent
    folder = Path(tempfile.mkdtemp(prefix="mwaa-postgres-"))
    folder.chmod(0o755)
    data = folder / "data"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    subprocess.run([*_as_postgres_user(), str(bindir / "initdb"), "-D", str(data), "-U", "airflow", "--auth=trust",
                    "-E", "UTF8"], check=True, capture_output=True, timeout=120)
    port = free_port()
    server = subprocess.Popen([*_as_postgres_user(), str(bindir / "postgres"), "-D", str(data), "-p", str(port),
                               "-h", "127.0.0.1", "-k", str(data)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: subprocess.run([str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                                        capture_output=True).returncode == 0, 60, "PostgreSQL")
        subprocess.run([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "airflow", "airflow"],
                       check=True, capture_output=True, timeout=60)
        yield f"airflow@127.0.0.1:{port}/airflow"
    finally:
        server.terminate()
        server.wait(timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def redis() -> Iterator[str]:
    binary = shutil.which("redis-server")
    assert binary, "Redis is not installed: `make services` installs Debian's redis-server"
    port = free_port()
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True,
                                        text=True).stdout.strip() == "PONG", 30, "Redis")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def cluster(mwaa: MwaaVenv, postgres: str, redis: str, _sagemaker_local_engine_session: Any,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowCluster]:
    home = tmp_path_factory.mktemp("mwaa-celery-airflow")
    cluster = AirflowCluster(home, DAGS, _sagemaker_local_engine_session.url, env={
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{postgres}",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": redis,
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://{postgres}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",
        "EXAMPLES_POLL_INTERVAL": "3",
    }, components={**COMPONENTS, "celery-worker": ["celery", "worker", "--skip-serve-logs"]})
    setup = subprocess.run([sys.executable, str(ROOT / "docker" / "create_example_resources.py"), str(DAGS)],
                           env={**cluster.env}, capture_output=True, text=True, timeout=120)
    assert setup.returncode == 0, setup.stderr
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def test_churn_training_on_postgres_and_celery_both_branches_with_deferral(mwaa: MwaaVenv, cluster: AirflowCluster):
    assert mwaa.version == "3.3.1"
    cluster.login()
    cluster.wait_for_dag(DAG_ID)
    assert not cluster.unpause(DAG_ID)["is_paused"]
    runs = {branch: cluster.trigger(DAG_ID, conf) for branch, conf in BRANCHES.items()}
    states = cluster.wait_for_runs(DAG_ID, list(runs.values()), timeout=420)
    for branch, run_id in runs.items():
        assert cluster.task_states(DAG_ID, run_id) == EXPECTED[branch], (branch, cluster.logs())
        assert states[run_id] == RUN_STATE[branch]
    waited = {(branch, task) for branch, run_id in runs.items() for task in STEP_TASKS
              if "waiting for step" in cluster.trigger_logs(DAG_ID, task, run_id)}
    assert waited, cluster.log("triggerer")[-3000:]
    # The tasks ran on the Celery worker (through Redis), the metadata lives in PostgreSQL.
    worker = cluster.log("celery-worker")
    assert "train.start" in worker, worker[-3000:]
    assert "postgresql" in cluster.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
