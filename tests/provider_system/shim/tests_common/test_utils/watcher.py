"""Shim (see tests/provider_system/shim/README.md): fail the run when any task failed.

A system test's teardown tasks run ``all_done`` and usually succeed, which would mark a run with a failed
body as successful; every task of the DAG is upstream of this one, which runs only if one of them failed.
"""

from __future__ import annotations

from typing import Any

from airflow_sagemaker_mlops.compat import AirflowException, task


@task(trigger_rule="one_failed", retries=0)
def watcher() -> Any:
    raise AirflowException("Failing the run: an upstream task failed.")
