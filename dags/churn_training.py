"""Churn model training: preprocess -> train -> evaluate -> AUC gate -> register the model, or fail.

The pipeline's parameters are the DAG's params, so the trigger form sets them (MinAuc decides the branch).
Downstream of the gate, Airflow tasks follow SageMaker's outcome: ``deploy`` gets the registered model
package's ARN, ``notify`` runs when the model is too weak. The step scripts in scripts/churn/ are plain
SageMaker Processing and script-mode Training code: they run unchanged on SageMaker.
"""

from __future__ import annotations

from typing import Any

import example_settings as ex

from airflow_sagemaker_mlops import ConditionStep, FailStep, Join, JsonGet, PipelineParameter, SageMakerPipelineGroup
from airflow_sagemaker_mlops import conditions as C
from airflow_sagemaker_mlops.builders import register_model, run_script, training_job
from airflow_sagemaker_mlops.compat import DAG, task

PARAMETERS = {
    "MinAuc": PipelineParameter.float(0.7),
    "Rows": PipelineParameter.integer(5000),
    "Epochs": PipelineParameter.integer(300),
    "LearningRate": PipelineParameter.string("0.1"),
    "TrainingInstanceType": PipelineParameter.string(ex.INSTANCE, enum_values=[ex.INSTANCE, "ml.m5.xlarge"]),
}


with DAG(
    "churn_training",
    schedule=None,
    start_date=ex.START,
    catchup=False,
    tags=["example", "sagemaker"],
    doc_md=__doc__,
):
    with SageMakerPipelineGroup(
        group_id="train",
        pipeline_name=ex.CHURN_PIPELINE,
        parameters=PARAMETERS,
        dag_params=True,  # every pipeline parameter is a DAG param: the trigger form sets it
        pipeline_description="Churn model: preprocess, train, evaluate, register when AUC >= MinAuc",
        **ex.GROUP_DEFAULTS,
    ) as train:
        # Typed parameters (Rows, Epochs) go into Environment/HyperParameters as they are: they become strings.
        preprocess = run_script(task_id="preprocess", code="scripts/churn/preprocess.py", **ex.JOB,
                                outputs={s: ex.run_prefix("churn", s) for s in ("train", "validation", "test")},
                                env={"ROWS": train.parameter("Rows"), "SEED": "7"})
        split_uri = preprocess.properties.ProcessingOutputConfig.Outputs
        fit = training_job(  # script mode: the framework image runs train.py from the source directory
            task_id="fit", **{**ex.JOB, "instance_type": train.parameter("TrainingInstanceType")},
            entry_point="train.py", source_dir="scripts/churn/train", output_path=f"s3://{ex.DATA_BUCKET}/churn/models",
            hyperparameters={"epochs": train.parameter("Epochs"), "learning-rate": train.parameter("LearningRate")},
            inputs={channel: split_uri[channel].S3Output.S3Uri for channel in ("train", "validation")},
            content_type="text/csv", max_runtime_in_seconds=900,
            metric_definitions={"validation:auc": r"validation:auc=([0-9.]+)", "train:auc": r"train:auc=([0-9.]+)"},
        )
        evaluate = run_script(
            task_id="evaluate", code="scripts/churn/evaluate.py", **ex.JOB,
            inputs={"input/lib": "scripts/churn/train/churn_model.py",
                    "model": fit.properties.ModelArtifacts.S3ModelArtifacts, "test": split_uri["test"].S3Output.S3Uri},
            outputs={"evaluation": ex.run_prefix("churn", "evaluation")},
            property_files={"metrics": "evaluation/evaluation.json"},
        )
        register = register_model(task_id="register", model_package_group=ex.MODEL_PACKAGE_GROUP,
                                  image_uri=ex.SKLEARN_IMAGE, model_data=fit, content_types=["text/csv"],
                                  response_types=["text/csv"], inference_instances=[ex.INSTANCE],
                                  transform_instances=[ex.INSTANCE], description="churn logistic regression")
        too_weak = FailStep(
            task_id="too_weak",
            error_message=Join(["test AUC ", JsonGet(evaluate, "metrics", "metrics.auc.value"),
                                " is below MinAuc ", train.parameter("MinAuc")]),
        )
        gate = ConditionStep(
            task_id="auc_gate",
            condition=C.ge(JsonGet(evaluate, "metrics", "metrics.auc.value"), train.parameter("MinAuc")),
            if_true=[register],
            if_false=[too_weak],
        )
        preprocess >> fit >> evaluate >> gate

    @task
    def deploy(model_package_arn: str) -> dict[str, Any]:
        """Stands for a deployment: read the package SageMaker registered and approve it for staging."""
        from airflow.providers.amazon.aws.hooks.sagemaker import SageMakerHook

        sm = SageMakerHook(aws_conn_id="aws_default").conn
        package = sm.describe_model_package(ModelPackageName=model_package_arn)
        container = package["InferenceSpecification"]["Containers"][0]
        print(f"deploying {model_package_arn}: model {container['ModelDataUrl']} on {container['Image']}")
        return {"model_package_arn": model_package_arn, "model_data": container["ModelDataUrl"],
                "status": package["ModelApprovalStatus"]}

    @task
    def notify(params: dict[str, Any] | None = None) -> str:
        """Stands for a message to the team (Slack, e-mail): the model did not pass the gate."""
        message = f"churn model not registered: test AUC below MinAuc={(params or {}).get('MinAuc')}"
        print(message)
        return message

    gate.if_true >> deploy(register.output["ModelPackageArn"])
    gate.if_false >> notify()
