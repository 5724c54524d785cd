"""The runtime tests' Airflow: ``airflow dags test`` of tests/runtime/dags against the local engine.

A module of its own (not conftest.py): test modules import it by a name no other test folder uses.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

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


