"""Run the DAGs under tests/runtime/dags with the real ``airflow dags test`` against the local engine."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airflow_harness import DagRun, dags_test, migrate

DAGS = Path(__file__).parent / "dags"


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
        migrate(self.env)

    def dags_test(self, dag_id: str, conf: dict[str, Any] | None = None, **env: str) -> DagRun:
        return dags_test(self.home, {**self.env, **env}, dag_id, conf)


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
