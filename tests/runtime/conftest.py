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
def airflow(sagemaker_local_engine: Any, runtime_resources: None, _airflow_home: Path) -> Iterator[AirflowRunner]:
    runner = AirflowRunner(_airflow_home, sagemaker_local_engine.url)
    if not (_airflow_home / "airflow.db").exists():
        runner.migrate()
    yield runner
