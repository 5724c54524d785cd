"""A 50-step pipeline for the end-to-end test's picture of the pipeline tab (tests/e2e/test_airflow_e2e.py).

One shared step, then seven regions, each a chain of seven steps: a wide and deep graph as a real per-region
pipeline draws it (7 columns, 8 rows: at the smallest readable scale it fits the tab's pane in a 1600x1100
window, where Airflow gives the tab's frame about 1190x860 pixels). Every step is a Processing job running
``python3 -c pass`` (the local engine's fastest real job), eight at a time, so the execution takes seconds; the
picture is about the tab, not the jobs.
"""

from __future__ import annotations

from typing import Any

import pendulum

from airflow_sagemaker_mlops import ProcessingStep, SageMakerPipelineGroup
from airflow_sagemaker_mlops.compat import DAG

ROLE = "arn:aws:iam::123456789012:role/SmPipeline"
REGIONS = ("us-east", "us-west", "eu-west", "eu-central", "ap-south", "ap-east", "sa-east")
STAGES = ("extract", "clean", "features", "train", "evaluate", "score", "publish")
STEP_NAMES = ["prepare", *(f"{region}-{stage}" for region in REGIONS for stage in STAGES)]


def no_op_job() -> dict[str, Any]:
    return {
        "RoleArn": ROLE,
        "AppSpecification": {"ImageUri": "local/python", "ContainerEntrypoint": ["python3", "-c", "pass"]},
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.t3.medium",
                                                  "VolumeSizeInGB": 1}},
    }


with DAG("e2e_fifty_steps", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False,
         tags=["e2e"]):
    with SageMakerPipelineGroup(group_id="regions", pipeline_name="e2e-fifty-steps", role_arn=ROLE,
                                max_parallel_steps=8, poll_interval=2):
        prepare = ProcessingStep(task_id="prepare", job=no_op_job())
        for region in REGIONS:
            upstream = prepare
            for stage in STAGES:
                step = ProcessingStep(task_id=f"{region}-{stage}", job=no_op_job())
                upstream >> step
                upstream = step
