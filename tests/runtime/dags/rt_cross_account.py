"""A pipeline in one account run from Airflow in another: through a RAM execution share, and through a
connection that assumes a role in the owner's account.

Connections (tests/runtime/test_cross_account.py sets them): ``aws_owner`` acts in the pipeline's account
(123456789012); ``aws_default`` is this Airflow's own identity in 210987654321; ``aws_owner_role`` assumes
``AirflowPipelineRunner`` in 123456789012 from that identity.
"""

from __future__ import annotations

from rt_common import GROUP_DEFAULTS, START, processing_job

from airflow_sagemaker_mlops import (
    ConditionStep,
    PipelineParameter,
    ProcessingStep,
    SageMakerAcceptPipelineShareOperator,
    SageMakerPipelineConditionBranchOperator,
    SageMakerPipelineExecutionSensor,
    SageMakerPipelineGroup,
    SageMakerRetryPipelineExecutionOperator,
    SageMakerSharePipelineOperator,
    SageMakerStartPipelineExecutionOperator,
    SageMakerStopPipelineExecutionOperator,
)
from airflow_sagemaker_mlops import conditions as C
from airflow_sagemaker_mlops.compat import DAG, EmptyOperator

CONSUMER = "210987654321"
PARAMETERS = {
    "Mode": PipelineParameter.string("full", enum_values=["full", "incremental"]),
    "Sleep": PipelineParameter.string("0"),
}
PIPELINE_ARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/rt-cross-account"

with DAG("rt_cross_account", schedule=None, start_date=START):
    with SageMakerPipelineGroup(group_id="owner", pipeline_name="rt-cross-account", parameters=PARAMETERS,
                                **{**GROUP_DEFAULTS, "aws_conn_id": "aws_owner"}) as owner:
        first = ProcessingStep(task_id="first", job=processing_job(
            "report.py", "first", {"NOTE": "1", "SLEEP": owner.parameter("Sleep")}))
        gate = ConditionStep(task_id="is_full", condition=C.eq(owner.parameter("Mode"), "full"))
        first >> gate

    share = SageMakerSharePipelineOperator(task_id="share", pipeline=PIPELINE_ARN, principals=[CONSUMER],
                                           permission="execution", aws_conn_id="aws_owner")
    accept = SageMakerAcceptPipelineShareOperator(task_id="accept", share_arn=share.output)

    # Through the share, with this Airflow's own identity.
    start = SageMakerStartPipelineExecutionOperator(task_id="start_shared", pipeline=PIPELINE_ARN,
                                                    parameters={"Mode": "incremental"},
                                                    declared_parameters=PARAMETERS)
    wait = SageMakerPipelineExecutionSensor(task_id="wait_shared", execution_arn=start.output, poll_interval=0.2)
    branch = SageMakerPipelineConditionBranchOperator(task_id="branch", execution_arn=start.output,
                                                      step_name="is_full", if_true="full_path",
                                                      if_false="incremental_path", poll_interval=0.2)

    # Through the assumed role: start a slow execution, stop it, see it Stopped; retry it through the share
    # (a Stopped execution resumes like a Failed one); sense the end.
    slow = SageMakerStartPipelineExecutionOperator(task_id="start_as_owner_role", pipeline=PIPELINE_ARN,
                                                   parameters={"Sleep": "10"}, aws_conn_id="aws_owner_role")
    stop = SageMakerStopPipelineExecutionOperator(task_id="stop_as_owner_role", execution_arn=slow.output,
                                                  aws_conn_id="aws_owner_role")
    stopped = SageMakerPipelineExecutionSensor(task_id="wait_stopped", execution_arn=slow.output,
                                               poll_interval=0.2, aws_conn_id="aws_owner_role",
                                               fail_on=("Failed", "Succeeded"))
    retry = SageMakerRetryPipelineExecutionOperator(task_id="retry_shared", execution_arn=slow.output)
    resumed = SageMakerPipelineExecutionSensor(task_id="wait_retried", execution_arn=slow.output,
                                               poll_interval=0.2)

    owner >> share >> accept >> start >> [wait, branch]
    branch >> [EmptyOperator(task_id="full_path"), EmptyOperator(task_id="incremental_path")]
    accept >> slow >> stop >> stopped >> retry >> resumed
