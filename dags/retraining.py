"""Retraining on new data: an Airflow Asset schedules it; it starts the churn pipeline in the ML account.

When a producer (an ingestion DAG, or an API call) updates the asset ``s3://.../churn/new-data``, Airflow
runs this DAG. ``start_training`` starts the churn-training pipeline **by ARN** through the connection
``aws_ml_account``, whose extra holds ``role_arn``: Airflow assumes that role (STS) in the account that owns
the pipeline, so this Airflow needs no SageMaker rights of its own there. It waits for the execution; when
the execution fails, ``retry_training`` retries it (RetryPipelineExecution: SageMaker resumes from the
failed step, the steps that succeeded are kept) and waits again. ``report`` runs after whichever ended well.

On the local engine, assume-role goes to the engine's STS (moto) and works with any role ARN.
"""

from __future__ import annotations

from typing import Any

from example_settings import CHURN_PIPELINE_ARN, DATA_BUCKET, ML_ACCOUNT_CONN_ID, POLL_INTERVAL, START

from airflow_sagemaker_mlops import (
    PipelineParameter,
    SageMakerRetryPipelineExecutionOperator,
    SageMakerStartPipelineExecutionOperator,
)
from airflow_sagemaker_mlops.compat import DAG, Asset, task

NEW_DATA = Asset(f"s3://{DATA_BUCKET}/churn/new-data")
# The parameters this DAG sets, as the other account's pipeline declares them: checked before the call.
DECLARED = {"MinAuc": PipelineParameter.float(0.7), "Rows": PipelineParameter.integer(5000)}

with DAG(
    "retraining",
    schedule=[NEW_DATA],
    start_date=START,
    catchup=False,
    tags=["example", "sagemaker"],
    doc_md=__doc__,
):
    start = SageMakerStartPipelineExecutionOperator(
        task_id="start_training",
        pipeline=CHURN_PIPELINE_ARN,
        aws_conn_id=ML_ACCOUNT_CONN_ID,
        parameters={"MinAuc": 0.7, "Rows": 8000},
        declared_parameters=DECLARED,
        wait_for_completion=True,
        poll_interval=POLL_INTERVAL,
    )
    # The start task pushed the execution ARN before it waited, so it is there when the wait failed.
    retry = SageMakerRetryPipelineExecutionOperator(
        task_id="retry_training",
        execution_arn="{{ ti.xcom_pull(task_ids='start_training', key='execution_arn') }}",
        aws_conn_id=ML_ACCOUNT_CONN_ID,
        wait_for_completion=True,
        poll_interval=POLL_INTERVAL,
        trigger_rule="all_failed",  # only when the first execution failed
    )

    @task(trigger_rule="one_success")
    def report(**context: Any) -> dict[str, str]:
        from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

        ti = context["ti"]
        arn = ti.xcom_pull(task_ids="retry_training") or ti.xcom_pull(task_ids="start_training")
        # Who the connection acts as in the ML account: the assumed role, not this Airflow's own identity.
        identity = AwsBaseHook(aws_conn_id=ML_ACCOUNT_CONN_ID, client_type="sts").conn.get_caller_identity()
        print(f"churn model retrained by {arn} as {identity['Arn']}")
        return {"execution_arn": arn, "acting_as": identity["Arn"]}

    done = report()
    start >> retry >> done
    start >> done
