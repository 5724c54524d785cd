"""Which failures Airflow retries: ``airflow dags test`` of tests/runtime/dags/rt_fail_step.py (retries=2)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

import airflow_sagemaker_mlops

pytestmark = pytest.mark.e2e


def try_numbers(run, task_id: str) -> list[int]:
    with sqlite3.connect(run.db) as conn:
        current = conn.execute("SELECT try_number FROM task_instance WHERE dag_id=? AND run_id=? AND task_id=?",
                               (run.dag_id, run.run_id, task_id)).fetchone()
        history = conn.execute("SELECT try_number FROM task_instance_history WHERE dag_id=? AND run_id=? "
                               "AND task_id=?", (run.dag_id, run.run_id, task_id)).fetchall()
    return sorted({current[0], *(row[0] for row in history)})


def test_a_fail_step_with_retries_fails_once_with_one_clear_line(airflow):
    run = airflow.dags_test("rt_fail_step")
    assert run.states == {"train.start": "success", "train.evaluate": "success", "train.gate": "success",
                          "train.too_weak": "failed"}, run.output[-4000:]
    # retries=2 in default_args, yet the Fail step's task ran once: SageMaker's status cannot change.
    assert try_numbers(run, "train.too_weak") == [1]
    assert "up_for_retry" not in run.output
    line = ("Fail step 'too_weak' ended the execution: score 0.2 is below MinScore 0.5 (condition step 'gate' "
            "evaluated evaluate.metrics['metrics.score'] >= MinScore to False)")
    assert f"[error    ] {line}" in run.output  # logged once as its own line, before Airflow's error report
    assert "AirflowFailException: " + line + "\nNext: this is the pipeline's own decision" in run.output
    # Airflow still prints a traceback after its "Task failed with exception"; of this package it holds only
    # the frame that re-raised the final status (operators/failures.py's one_frame), then the message.
    report = run.output.split("Task failed with exception", 1)[1].split("\nNext: ", 1)[0]
    package = str(Path(airflow_sagemaker_mlops.__file__).parent)
    frames = re.findall(r'File "([^"]+)", line \d+, in (\w+)', report)
    assert frames, report
    assert [(f, name) for f, name in frames if f.startswith(package)] == \
        [(f"{package}/operators/failures.py", "wrapper")], report
    assert "During handling" not in report and "The above exception" not in report
    # The step's outputs are a table, not a dict on one line.
    assert "Step evaluate (Processing) Succeeded in " in run.output
    assert "\nProcessingOutputs.evaluation  s3://rt-data/evaluation/" in run.output
    # The start task says each thing once, and credential discovery is not news on every client.
    arn = run.xcom("train.start", "execution_arn")
    assert run.output.count(f"pipeline execution {arn} (token ") == 1
    assert run.output.count(f"{arn} (ClientRequestToken") == 0
    assert "Found credentials" not in run.output
    # A step without a job (the condition, the Fail step) stores an empty job link: Airflow 3 reads every
    # extra link's XCom when a task ends and logs an ERROR for a missing one.
    assert "XCom not found" not in run.output
