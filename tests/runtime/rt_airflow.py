"""The runtime tests' Airflow: ``airflow dags test`` of tests/runtime/dags against the local engine.

A module of its own (not conftest.py): test modules import it by a name no other test folder uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow_harness import DagRun, airflow_env, dags_test, migrate

DAGS = Path(__file__).parent / "dags"


class AirflowRunner:
    def __init__(self, home: Path, engine_url: str) -> None:
        self.home = home
        self.env = airflow_env(home, DAGS, engine_url)

    def migrate(self) -> None:
        migrate(self.env)

    def dags_test(self, dag_id: str, conf: dict[str, Any] | None = None, **env: str) -> DagRun:
        return dags_test(self.home, {**self.env, **env}, dag_id, conf)


