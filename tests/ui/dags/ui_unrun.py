"""A group never run: the tab draws SageMaker's current definition grey, or says the pipeline is missing."""

from __future__ import annotations

from ui_common import GROUP_DEFAULTS, START

from airflow_sagemaker_mlops import FailStep, SageMakerPipelineGroup
from airflow_sagemaker_mlops.compat import DAG

with DAG("ui_unrun", schedule=None, start_date=START):
    with SageMakerPipelineGroup(group_id="later", pipeline_name="ui-unrun", **GROUP_DEFAULTS) as later:
        FailStep(task_id="placeholder", error_message="never run")
