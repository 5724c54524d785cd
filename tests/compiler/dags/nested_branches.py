"""A condition nested in another's branch, DependsOn into and out of branches, empty branches."""

from __future__ import annotations

import pendulum

from airflow_sagemaker_mlops import (
    ConditionStep,
    FailStep,
    PipelineParameter,
    ProcessingStep,
    RawStep,
    SageMakerPipelineGroup,
)
from airflow_sagemaker_mlops import conditions as C
from airflow_sagemaker_mlops.compat import DAG

JOB = {"AppSpecification": {"ImageUri": "img"}, "ProcessingResources": {"ClusterConfig": {
    "InstanceCount": 1, "InstanceType": "ml.t3.medium", "VolumeSizeInGB": 1}}}

with DAG("nested_branches", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    with SageMakerPipelineGroup(group_id="tree", pipeline_name="nested-branches",
                                parameters={"Size": PipelineParameter.integer(5),
                                            "Env": PipelineParameter.string("dev")}) as g:
        begin = ProcessingStep(task_id="begin", job=JOB)
        small = ProcessingStep(task_id="small", job=JOB)
        medium = ProcessingStep(task_id="medium", job=JOB)
        large = ProcessingStep(task_id="large", job=JOB)
        prod_only = RawStep(task_id="prod_only", step_type="EMR",
                            arguments={"ClusterId": "j-XYZ", "StepConfig": {"HadoopJarStep": {"Jar": "x.jar"}}})
        not_prod = FailStep(task_id="not_prod", error_message="large runs need prod")
        env_gate = ConditionStep(task_id="env_gate", condition=C.eq(g.parameter("Env"), "prod"),
                                 if_true=[large, prod_only], if_false=[not_prod])
        size_gate = ConditionStep(task_id="size_gate", condition=C.le(g.parameter("Size"), 10),
                                  if_true=[small, medium], if_false=[env_gate])
        noop_gate = ConditionStep(task_id="noop_gate", condition=C.gt(g.parameter("Size"), 0))
        begin >> size_gate
        small >> medium  # DependsOn between two steps of one branch
        begin >> noop_gate
        large >> prod_only
