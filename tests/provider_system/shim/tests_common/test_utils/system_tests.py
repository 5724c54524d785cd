"""Shim (see tests/provider_system/shim/README.md): the provider's pytest entry for an example DAG."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def get_test_run(dag: Any) -> Callable[[], None]:
    def test_run() -> None:
        run = dag.test()
        assert run.state == "success", f"{dag.dag_id} ended {run.state}"

    return test_run
