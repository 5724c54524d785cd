"""The lifecycle operators on their own: start a pipeline by ARN, sense it (poke and deferred), branch on its
condition step, stop it."""

from __future__ import annotations

from rt_common import GROUP_DEFAULTS, START, processing_job

from airflow_sagemaker_mlops import (
    ConditionStep,
    PipelineParameter,
    ProcessingStep,
    SageMakerPipelineConditionBranchOperator,
    SageMakerPipelineExecutionSensor,
    SageMakerPipelineGroup,
    SageMakerPipelineStepSensor,
    SageMakerStartPipelineExecutionOperator,
    SageMakerStopPipelineExecutionOperator,
)
from airflow_sagemaker_mlops import conditions as C
from airflow_sagemaker_mlops.compat import DAG, EmptyOperator

PARAMETERS = {"Mode": PipelineParameter.string("full", enum_values=["full", "incremental"])}
# As a pipeline shared from another account would be addressed.
PIPELINE_ARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/rt-lifecycle"

with DAG("rt_lifecycle", schedule=None, start_date=START):
    with SageMakerPipelineGroup(group_id="base", pipeline_name="rt-lifecycle", parameters=PARAMETERS,
                                **GROUP_DEFAULTS) as base:
        first = ProcessingStep(task_id="first", job=processing_job("report.py", "first", {"NOTE": "1"}))
        gate = ConditionStep(task_id="is_full", condition=C.eq(base.parameter("Mode"), "full"))
        first >> gate

    start = SageMakerStartPipelineExecutionOperator(task_id="start_by_arn", pipeline=PIPELINE_ARN,
                                                    parameters={"Mode": "incremental"},
                                                    declared_parameters=PARAMETERS)
    poke = SageMakerPipelineExecutionSensor(task_id="wait_poke", execution_arn=start.output, deferrable=False,
                                            mode="poke", poll_interval=0.2)
    step = SageMakerPipelineStepSensor(task_id="first_step", execution_arn=start.output, step_name="first",
                                       poll_interval=0.2)
    branch = SageMakerPipelineConditionBranchOperator(task_id="branch", execution_arn=start.output,
                                                      step_name="is_full", if_true="full_path",
                                                      if_false="incremental_path", poll_interval=0.2)
    stop = SageMakerStopPipelineExecutionOperator(task_id="stop", execution_arn=start.output)
    base >> start
    branch >> [EmptyOperator(task_id="full_path"), EmptyOperator(task_id="incremental_path")]
    [poke, step] >> stop
