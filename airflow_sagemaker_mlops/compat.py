"""The Airflow names this package uses, taken from wherever the running Airflow keeps them.

Airflow 3 moved the DAG-authoring names to ``airflow.sdk``; Airflow 2.11 keeps them in ``airflow.models``,
``airflow.sensors`` and ``airflow.datasets`` (where an asset is still a *dataset*). The common-compat
provider's ``sdk`` module makes the same choice, but only from version 1.8: Amazon MWAA pins 1.7.0 (Airflow
2.11.0) and 1.7.3 (Airflow 3.0.6), so requiring it would shut those environments out. Every Airflow import
of the package's parse-time and run-time code goes through this module; nothing else branches on the version.
"""

from __future__ import annotations

from typing import Any

from airflow import __version__ as AIRFLOW_VERSION

AIRFLOW_V3 = int(AIRFLOW_VERSION.split(".", 1)[0]) >= 3

if AIRFLOW_V3:
    from airflow.providers.standard.operators.branch import BranchMixIn
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.sdk import (
        DAG,
        Asset,
        AssetAlias,
        BaseOperator,
        BaseSensorOperator,
        Param,
        PokeReturnValue,
        TaskGroup,
        XComArg,
        task,
    )

    try:  # Airflow 3 event-driven scheduling (triggers/events.PipelineEventTrigger)
        from airflow.sdk import AssetWatcher
    except ImportError:  # pragma: no cover - Airflow 3.0 without it
        AssetWatcher = None  # type: ignore[assignment,misc]

    # The `with DAG(...)` / `with TaskGroup(...)` stacks (where a DAG file's code is being built)
    from airflow.sdk.definitions._internal.contextmanager import DagContext, TaskGroupContext

    try:  # Airflow 3.1+: the task SDK owns the exceptions (airflow.exceptions re-exports them)
        from airflow.sdk.exceptions import (
            AirflowException,
            AirflowFailException,
            AirflowSkipException,
            TaskDeferred,
        )
    except ImportError:  # Airflow 3.0
        from airflow.exceptions import (  # type: ignore[assignment,no-redef]
            AirflowException,
            AirflowFailException,
            AirflowSkipException,
            TaskDeferred,
        )
else:  # Airflow 2.11
    from airflow.datasets import Dataset as Asset  # type: ignore[no-redef,assignment]

    AssetWatcher = None  # type: ignore[assignment,misc]  # Airflow 2.11: PipelineEventSensor instead
    from airflow.datasets import DatasetAlias as AssetAlias  # type: ignore[no-redef,assignment]
    from airflow.decorators import task  # type: ignore[no-redef,assignment]
    from airflow.exceptions import (  # type: ignore[no-redef,assignment]
        AirflowException,
        AirflowFailException,
        AirflowSkipException,
        TaskDeferred,
    )
    from airflow.models.baseoperator import BaseOperator  # type: ignore[no-redef,assignment]
    from airflow.models.dag import DAG, DagContext  # type: ignore[no-redef,assignment]
    from airflow.models.param import Param  # type: ignore[no-redef,assignment]
    from airflow.models.xcom_arg import XComArg  # type: ignore[no-redef,assignment]
    from airflow.operators.branch import BranchMixIn  # type: ignore[no-redef,assignment]
    from airflow.operators.empty import EmptyOperator  # type: ignore[no-redef,assignment]
    from airflow.sensors.base import BaseSensorOperator, PokeReturnValue  # type: ignore[no-redef,assignment]
    from airflow.utils.task_group import TaskGroup, TaskGroupContext  # type: ignore[no-redef,assignment]

from airflow.configuration import conf  # noqa: E402  # the same on every version

__all__ = [
    "AIRFLOW_V3",
    "AIRFLOW_VERSION",
    "DAG",
    "AirflowException",
    "AirflowFailException",
    "AirflowSkipException",
    "Asset",
    "AssetAlias",
    "AssetWatcher",
    "BaseOperator",
    "BaseSensorOperator",
    "BranchMixIn",
    "DagContext",
    "EmptyOperator",
    "Param",
    "PokeReturnValue",
    "TaskDeferred",
    "TaskGroup",
    "TaskGroupContext",
    "XComArg",
    "conf",
    "current_dag",
    "current_task_group",
    "task",
    "task_states",
    "xcom_push",
]


def xcom_push(ti: Any, key: str, value: Any) -> None:
    """Push one XCom, leaving out ``None``: Airflow 3.0's Execution API refuses a ``None`` value (HTTP 422),
    and a missing key reads back as ``None`` on every version, so downstream tasks see the same thing."""
    if value is not None:
        ti.xcom_push(key=key, value=value)


def current_dag() -> Any:
    """The DAG of the innermost ``with DAG(...)`` block, or None."""
    return DagContext.get_current() if AIRFLOW_V3 else DagContext.get_current_dag()


def current_task_group(dag: Any) -> Any:
    """The task group of the innermost ``with TaskGroup(...)`` block of ``dag`` (its root group outside one)."""
    return TaskGroupContext.get_current(dag) if AIRFLOW_V3 else TaskGroupContext.get_current_task_group(dag)


def task_states(ti: Any, task_ids: list[str]) -> dict[str, str | None]:
    """The states of ``task_ids`` in the running task's DAG run (None: not yet scheduled, e.g. just cleared).

    Airflow 3 asks the Execution API (tasks have no database access); Airflow 2.11 reads the metadata
    database, as its tasks may.
    """
    if AIRFLOW_V3:
        from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

        found = RuntimeTaskInstance.get_task_states(dag_id=ti.dag_id, task_ids=task_ids, run_ids=[ti.run_id])
        states = found.get(ti.run_id, {})
    else:
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils.session import create_session

        with create_session() as session:
            states = dict(session.query(TaskInstance.task_id, TaskInstance.state).filter(
                TaskInstance.dag_id == ti.dag_id, TaskInstance.run_id == ti.run_id,
                TaskInstance.task_id.in_(task_ids)).all())
    # A state may be an enum member (str subclass): its value is the plain name.
    return {task_id: (str(getattr(states[task_id], "value", states[task_id])) if states[task_id] is not None
                      else None) for task_id in task_ids if task_id in states}
