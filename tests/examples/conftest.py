"""Run the example DAGs of dags/ with the real ``airflow dags test`` against the local engine.

Adapted from tests/runtime/conftest.py: the DAG folder is dags/, and the buckets, queue, model package
group and the other-account connection are the ones the examples need (made as tools/demo.py makes them).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airflow_harness import DagRun
from examples_harness import AirflowRunner, demo


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
