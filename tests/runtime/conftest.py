"""Run the DAGs under tests/runtime/dags with the real ``airflow dags test`` against the local engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rt_airflow import AirflowRunner


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
