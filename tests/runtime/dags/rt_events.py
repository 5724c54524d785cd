"""One step of ``step_seconds`` seconds (run conf): how soon its task succeeds after the step ends
(tests/runtime/test_events_scheduler.py, bench/events_latency.py).

The group polls every 15 s (production's default) through the ``aws_events`` connection: with an event queue
on it, the queue's events wake the wait and the connection's fallback interval replaces the 15 s polls.
"""

from __future__ import annotations

from rt_common import ROLE, START, processing_job

from airflow_sagemaker_mlops import PipelineParameter, ProcessingStep, SageMakerPipelineGroup
from airflow_sagemaker_mlops.compat import DAG

with DAG("rt_events", schedule=None, start_date=START, params={"step_seconds": "25"}):
    with SageMakerPipelineGroup(group_id="etl", pipeline_name="rt-events", role_arn=ROLE, poll_interval=15,
                                aws_conn_id="aws_events", parameters={"Sleep": PipelineParameter.string("25")},
                                parameter_values={"Sleep": "{{ params.step_seconds }}"}) as etl:
        ProcessingStep(task_id="work", job=processing_job("report.py", "report", {"SLEEP": etl.parameter("Sleep")}))
