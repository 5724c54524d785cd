"""end_from_trigger (triggers/task_end.py): one step task it may end, one it may not (outlets), and a task using
the first one's XCom (tests/runtime/test_end_from_trigger.py)."""

from __future__ import annotations

import os
from typing import Any

from rt_common import GROUP_DEFAULTS, START, processing_job

from airflow_sagemaker_mlops import ProcessingStep, SageMakerPipelineGroup
from airflow_sagemaker_mlops.compat import DAG, Asset, task

with DAG("rt_end_from_trigger", schedule=None, start_date=START):
    with SageMakerPipelineGroup(group_id="etl", pipeline_name="rt-end-from-trigger", job_logs=False,
                                **GROUP_DEFAULTS):
        # Long enough for the worker's first poll to find it running: the task defers.
        work = ProcessingStep(task_id="work", job=processing_job(
            "report.py", "report", {"SLEEP": os.environ.get("RT_STEP_SECONDS", "3")}))
        published = ProcessingStep(task_id="published", job=processing_job("report.py", "report"),
                                   outlets=[Asset("x-rt://end-from-trigger/published")])
        work >> published

    @task
    def use(outputs: dict[str, Any]) -> str:
        return outputs["report"]

    use(work.output["ProcessingOutputs"])
