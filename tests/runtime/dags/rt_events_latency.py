"""One step of RT_STEP_SECONDS: how soon its task succeeds after the step ends (bench/events_latency.py).

``job_logs=False`` in every mode of the benchmark, so that end_from_trigger (which needs it) is compared on the
same DAG as the polling and events modes.
"""

from __future__ import annotations

import os

from rt_common import GROUP_DEFAULTS, START, processing_job

from airflow_sagemaker_mlops import ProcessingStep, SageMakerPipelineGroup
from airflow_sagemaker_mlops.compat import DAG

with DAG("rt_events_latency", schedule=None, start_date=START):
    with SageMakerPipelineGroup(group_id="etl", pipeline_name="rt-events-latency", job_logs=False, **GROUP_DEFAULTS):
        ProcessingStep(task_id="work", job=processing_job("report.py", "report",
                                                          {"SLEEP": os.environ.get("RT_STEP_SECONDS", "25")}))
