"""The start task dies right after StartPipelineExecution, before pushing its XCom; its automatic retry must
reattach to the same execution (the crash is simulated by wrapping the hook in this test DAG only)."""

from __future__ import annotations

import os

from rt_common import GROUP_DEFAULTS, START, processing_job

from airflow_sagemaker_mlops import ProcessingStep, SageMakerPipelineGroup
from airflow_sagemaker_mlops.compat import DAG
from airflow_sagemaker_mlops.hooks.pipelines import SageMakerPipelinesHook

_real_start = SageMakerPipelinesHook.start_execution


def _start_then_crash(self, *args, **kwargs):
    arn = _real_start(self, *args, **kwargs)
    marker = os.environ["RT_CRASH_MARKER"]
    if not os.path.exists(marker):
        with open(marker, "w") as handle:
            handle.write(arn)
        raise SystemError("simulated worker crash after StartPipelineExecution")
    return arn


# `airflow dags test` parses the whole DAG folder in one process: patch only in the test that asks for it.
if os.environ.get("RT_CRASH_MARKER"):
    SageMakerPipelinesHook.start_execution = _start_then_crash

with DAG("rt_crash", schedule=None, start_date=START, default_args={"retries": 1, "retry_delay": 0}):
    with SageMakerPipelineGroup(group_id="etl", pipeline_name="rt-crash", **GROUP_DEFAULTS):
        ProcessingStep(task_id="only", job=processing_job("report.py", "only", {"NOTE": "x"}))
