"""An Airflow database with the DAGs of tests/ui/dags serialized and ui_pipeline run once on the local engine.

The subprocesses (``airflow db migrate``, ``dags reserialize``, ``dags test``) write the database this test
process is configured with (tests/conftest.py's AIRFLOW_HOME), so the pipeline tab's app, running in-process,
reads the serialized DAGs, runs and XComs the way the api-server reads them.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from airflow_harness import AIRFLOW, DagRun, airflow_env, dags_test, migrate

DAGS = Path(__file__).parent / "dags"


@dataclass
class UiAirflow:
    env: dict[str, str]
    engine: Any
    run: DagRun  # ui_pipeline's run


@pytest.fixture(scope="module")
def ui_airflow(_sagemaker_local_engine_session: Any) -> Iterator[UiAirflow]:
    from airflow.configuration import conf

    engine = _sagemaker_local_engine_session
    home = Path(os.environ["AIRFLOW_HOME"])
    env = airflow_env(home, DAGS, engine.url,
                      AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=conf.get("database", "sql_alchemy_conn"))
    migrate(env)
    reserialized = subprocess.run([AIRFLOW, "dags", "reserialize"], env=env, capture_output=True, text=True,
                                  timeout=300)
    assert reserialized.returncode == 0, reserialized.stderr[-3000:]
    s3 = engine.client("s3")
    for bucket in ("ui-code", "ui-data"):
        s3.create_bucket(Bucket=bucket)
    engine.client("sagemaker").create_model_package_group(ModelPackageGroupName="ui-models")
    run = dags_test(home, env, "ui_pipeline")
    yield UiAirflow(env, engine, run)
