"""The examples' Airflow: ``airflow dags test`` of dags/ against the local engine, set up as tools/demo.py does.

A module of its own (not conftest.py): test modules import it by a name no other test folder uses.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from airflow_harness import DagRun, dags_test

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "dags"


def load_demo() -> ModuleType:
    """tools/demo.py as a module (tools/ is not a package): its environment and set-up helpers."""
    spec = importlib.util.spec_from_file_location("examples_demo", ROOT / "tools" / "demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


demo = load_demo()


class AirflowRunner:
    def __init__(self, home: Path, engine_url: str) -> None:
        self.home = home
        self.env = {**demo.airflow_env(home, engine_url), "EXAMPLES_POLL_INTERVAL": "0.2"}
        # This checkout's package first (a git worktree beside the editable install), then the DAG folder.
        self.env["PYTHONPATH"] = os.pathsep.join([str(ROOT), self.env["PYTHONPATH"]])

    def dags_test(self, dag_id: str, conf: dict[str, Any] | None = None) -> DagRun:
        return dags_test(self.home, self.env, dag_id, conf)


