"""end_from_trigger in real Airflow (``airflow dags test`` and Airflow's own task-end handling).

``airflow dags test`` runs triggers inline and resumes the task with the event's payload whatever it is, so
there the trigger resumes the worker (triggers/task_end.py); the run shows the decisions and gives the
worker's XComs. Then Airflow's own handler of trigger events (the one the triggerer calls) takes our
TaskSuccessEvent for the deferred task instance of that run, in that metadata database: the task ends
success with the very XComs the worker pushed. The latency under a real triggerer is bench/events_latency.py's.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from airflow_harness import AIRFLOW

pytestmark = pytest.mark.e2e

ON = {"AIRFLOW__SAGEMAKER_MLOPS__END_FROM_TRIGGER": "True"}

#: Run with the Airflow of the DAG runs: the deferred task instance of the run gets our event through
#: Airflow's own handler (the triggerer's), then the test reads the database.
SUBMIT = r"""
import asyncio, json, sys
from airflow.models import DagBag, DagModel, TaskInstance
try:
    from airflow.models.xcom import XComModel as XCom  # Airflow 3: the table's model
except ImportError:
    from airflow.models.xcom import XCom
from airflow.utils.session import create_session
from airflow.utils.state import TaskInstanceState
from airflow.triggers.base import TaskSuccessEvent
from airflow_sagemaker_mlops.triggers.pipelines import PipelineExecutionTrigger
from airflow_sagemaker_mlops.triggers.task_end import TaskEnd

dag_id, run_id, task_id, arn = sys.argv[1:5]
with create_session() as session:
    if session.query(DagModel).filter_by(dag_id=dag_id).one_or_none() is None:
        # Airflow 2's `dags test` writes no DAG row (a deployment's dag-processor does); the task-end handler
        # reads the DAG's file location from it for the success callback.
        DagBag(include_examples=False).sync_to_db(session=session)
with create_session() as session:
    ti = session.query(TaskInstance).filter_by(dag_id=dag_id, run_id=run_id, task_id=task_id).one()
    ti.state = TaskInstanceState.DEFERRED
    ti.end_date = None
    for key in ("return_value", "ProcessingOutputs", "sagemaker_step_job"):  # rewritten by the event
        session.query(XCom).filter_by(dag_id=dag_id, run_id=run_id, task_id=task_id, key=key).delete()
    session.flush()
    # What the worker hands its trigger (operators/runtime.task_end_for): the link's defaults.
    from airflow_sagemaker_mlops.hooks.pipelines import SageMakerPipelinesHook
    from airflow_sagemaker_mlops.links import hook_console_base
    end = TaskEnd(region_name=None, console_base=hook_console_base(SageMakerPipelinesHook(aws_conn_id="aws_default")))
    trigger = PipelineExecutionTrigger(arn, step_name="work", poll_interval=0.2, end_task=end.to_json())
    trigger.task_instance = ti  # as the triggerer does

    async def first():
        async for event in trigger.run():
            return event

    event = asyncio.run(first())
    assert isinstance(event, TaskSuccessEvent), event
    try:  # Airflow 3
        from airflow.models.trigger import handle_event_submit
    except ImportError:  # Airflow 2.10/2.11: the event handles itself
        event.handle_submit(task_instance=ti, session=session)
    else:
        handle_event_submit(event, task_instance=ti, session=session)
print(json.dumps(sorted(event.xcoms)))
"""


def read_back(stored: Any) -> Any:
    """An XCom value as Airflow reads it (``XComModel.deserialize_value``): Airflow 3's model ``xcom_push``
    (its task-end handler's) stores the JSON text of the value in the JSON column, the Execution API (the
    worker's) the value itself; readers decode the text once more when it is JSON, so both read the same."""
    value = json.loads(stored) if isinstance(stored, str | bytes) else stored
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def xcoms(db: Path, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT key, value FROM xcom WHERE dag_id=? AND run_id=? AND task_id=?",
                            (dag_id, run_id, task_id)).fetchall()
    return {key: read_back(value) for key, value in rows}


def test_a_succeeded_step_task_is_ended_by_airflows_handler_with_the_workers_xcoms(airflow: Any) -> None:
    run = airflow.dags_test("rt_end_from_trigger", **ON)
    assert run.states == {"etl.start": "success", "etl.work": "success", "etl.published": "success",
                          "use": "success"}, run.output[-4000:]
    # Decided on the worker: the task with outlets resumes there; the other was handed its TaskEnd.
    assert "end_from_trigger: this task resumes on a worker: the task has outlets" in run.output
    assert run.xcom("use").startswith("s3://rt-data/report/")
    worker = xcoms(run.db, run.dag_id, run.run_id, "etl.work")
    assert {"return_value", "ProcessingOutputs", "sagemaker_step_job", "execution_arn"} <= set(worker)

    python = str(Path(AIRFLOW).parent / "python") if AIRFLOW != str(Path(sys.executable).parent / "airflow") \
        else sys.executable
    done = subprocess.run([python, "-c", SUBMIT, run.dag_id, run.run_id, "etl.work", worker["execution_arn"]],
                          env={**airflow.env, **ON}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    with sqlite3.connect(run.db) as conn:
        (state, end_date) = conn.execute("SELECT state, end_date FROM task_instance WHERE dag_id=? AND run_id=? "
                                         "AND task_id='etl.work'", (run.dag_id, run.run_id)).fetchone()
    assert state == "success" and end_date is not None
    assert xcoms(run.db, run.dag_id, run.run_id, "etl.work") == worker

