"""Batch scoring with a data-quality sign-off from Airflow (cross-system orchestration).

``latest_model`` (Airflow) picks the newest model package of the churn-models group (run churn_training
first). The pipeline then draws the batch of customers to score, waits at a Callback step until Airflow
signs the batch off (``signoff``: reads the batch from S3, checks it, answers with output parameters),
creates a SageMaker Model from the package's artifact with the sign-off's decision threshold in its
environment, and runs a batch Transform with the model_fn/predict_fn entry point in
scripts/churn/train/inference.py. ``summarise`` reads the predictions afterwards.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import example_settings as ex

from airflow_sagemaker_mlops import (
    CallbackStep,
    PipelineParameter,
    SageMakerPipelineCallbackOperator,
    SageMakerPipelineGroup,
)
from airflow_sagemaker_mlops.builders import create_model, run_script, transform_job
from airflow_sagemaker_mlops.compat import DAG, Param, task

PARAMETERS = {
    "ModelData": PipelineParameter.string(f"s3://{ex.DATA_BUCKET}/churn/models/latest/model.tar.gz"),
    "Customers": PipelineParameter.integer(500),
}


def read_s3(uri: str) -> str:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    bucket, _, key = uri.removeprefix("s3://").partition("/")
    hook = S3Hook(aws_conn_id="aws_default")
    # Step outputs are prefixes: read every object below it, in key order (one object reads itself).
    return "".join(hook.read_key(k, bucket) for k in sorted(hook.list_keys(bucket, prefix=key)))


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def signoff_batch(arguments: dict[str, Any], context: Any) -> dict[str, Any]:
    """The data-quality sign-off: fail the step (and the pipeline) when the batch is not fit to score.

    Plain Python on purpose: this runs on the Airflow worker, where MWAA's images need not have numpy.
    """
    rows = list(csv.reader(io.StringIO(read_s3(arguments["batch"]))))
    problems = []
    if len(rows) < 10:
        problems.append(f"only {len(rows)} rows")
    widths = sorted({len(row) for row in rows})
    if widths != [5]:
        problems.append(f"{', '.join(map(str, widths)) or 'no'} columns, expected 5")
    if not all(math.isfinite(_number(value)) for row in rows for value in row):
        problems.append("missing or infinite values")
    if problems:
        raise ValueError("batch rejected: " + ", ".join(problems))
    print(f"batch of {len(rows)} rows signed off")
    return {"rows": len(rows), "threshold": str(context["params"]["threshold"]), "signed_off_by": "airflow"}


with DAG(
    "batch_scoring",
    schedule=None,
    start_date=ex.START,
    catchup=False,
    tags=["example", "sagemaker"],
    doc_md=__doc__,
    params={"threshold": Param(0.5, type="number", minimum=0, maximum=1,
                               description="churn probability from which a customer is flagged")},
):

    @task
    def latest_model() -> str:
        """The artifact of the newest model package in the churn-models group."""
        from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook

        sm = SageMakerHook(aws_conn_id="aws_default").conn
        packages = sm.list_model_packages(ModelPackageGroupName=ex.MODEL_PACKAGE_GROUP, SortBy="CreationTime",
                                          SortOrder="Descending")["ModelPackageSummaryList"]
        if not packages:
            raise ValueError(f"no model package in {ex.MODEL_PACKAGE_GROUP}: run the churn_training DAG first")
        package = sm.describe_model_package(ModelPackageName=packages[0]["ModelPackageArn"])
        print(f"scoring with {package['ModelPackageArn']}")
        return package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]

    with SageMakerPipelineGroup(
        group_id="scoring",
        pipeline_name="churn-batch-scoring",
        parameters=PARAMETERS,
        parameter_values={"ModelData": latest_model()},
        dag_params=True,  # Customers becomes a DAG param; ModelData comes from latest_model
        **ex.GROUP_DEFAULTS,
    ) as scoring:
        customers = run_script(task_id="customers", code="scripts/churn/new_customers.py", **ex.JOB,
                               inputs={"input/lib": "scripts/churn/preprocess.py"},
                               outputs={"batch": ex.run_prefix("scoring", "batch")},
                               env={"ROWS": scoring.parameter("Customers")})
        batch_uri = customers.properties.ProcessingOutputConfig.Outputs["batch"].S3Output.S3Uri
        # SageMaker sends {token, arguments} to the queue and waits; Airflow's signoff task answers.
        signoff = CallbackStep(task_id="signoff", sqs_queue_url=ex.SIGNOFF_QUEUE_URL, inputs={"batch": batch_uri},
                               outputs={"rows": "Integer", "threshold": "String", "signed_off_by": "String"})
        # The training source directory holds inference.py too: one tarball trains and serves.
        model = create_model(task_id="model", image_uri=ex.SKLEARN_IMAGE, role=ex.ROLE, code_bucket=ex.CODE_BUCKET,
                             model_data=scoring.parameter("ModelData"), entry_point="inference.py",
                             source_dir="scripts/churn/train",
                             environment={"CHURN_THRESHOLD": signoff.output_parameter("threshold")})
        score = transform_job(  # each output line: the customer's features, then probability,churn
            task_id="score", model_name=model, data=batch_uri, output_path=ex.run_prefix("scoring", "predictions"),
            instance_type=ex.INSTANCE, content_type="text/csv", split_type="Line", accept="text/csv",
            assemble_with="Line", join_source="Input", strategy="MultiRecord")
        customers >> signoff >> model >> score

    answer = SageMakerPipelineCallbackOperator(task_id="answer_signoff", execution_arn=scoring.execution_arn,
                                               step_name="signoff", python_callable=signoff_batch,
                                               poll_interval=ex.POLL_INTERVAL)
    # `airflow dags test` runs one task at a time: the answer has to come before the signoff task waits for
    # the step to end. (Under the scheduler both could run at once; the edge does no harm there.)
    answer >> signoff

    @task
    def summarise(output_prefix: str) -> dict[str, Any]:
        lines = [line for line in read_s3(output_prefix.rstrip("/") + "/").splitlines() if line]
        churners = sum(line.rsplit(",", 1)[1] == "1" for line in lines)
        print(f"{len(lines)} customers scored, {churners} flagged as likely to churn")
        return {"scored": len(lines), "churners": churners}

    summarise(score.output["TransformOutputPath"])
