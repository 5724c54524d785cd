"""Churn model training: preprocess -> train -> evaluate -> AUC gate -> register the model, or fail.

The pipeline's parameters are the DAG's params, so the trigger form sets them (MinAuc decides the branch).
Downstream of the gate, Airflow tasks follow SageMaker's outcome: ``deploy`` gets the registered model
package's ARN, ``notify`` runs when the model is too weak. The step scripts in scripts/churn/ are plain
SageMaker Processing and script-mode Training code: they run unchanged on SageMaker.
"""

from __future__ import annotations

from typing import Any

from example_settings import (
    CHURN_PIPELINE,
    CODE_BUCKET,
    DATA_BUCKET,
    GROUP_DEFAULTS,
    INSTANCE,
    MODEL_PACKAGE_GROUP,
    ROLE,
    SKLEARN_IMAGE,
    START,
    code_input,
    processing_resources,
    s3_input,
    s3_output,
)

from airflow_sagemaker_mlops import (
    CodeAsset,
    ConditionStep,
    Execution,
    FailStep,
    Join,
    JsonGet,
    PipelineParameter,
    ProcessingStep,
    PropertyFile,
    RegisterModelStep,
    SageMakerPipelineGroup,
    TrainingStep,
)
from airflow_sagemaker_mlops import conditions as C
from airflow_sagemaker_mlops.compat import DAG, task

PARAMETERS = {
    "MinAuc": PipelineParameter.float(0.7),
    "Rows": PipelineParameter.integer(5000),
    "Epochs": PipelineParameter.integer(300),
    "LearningRate": PipelineParameter.string("0.1"),
    "TrainingInstanceType": PipelineParameter.string(INSTANCE, enum_values=[INSTANCE, "ml.m5.xlarge"]),
}


def as_string(value: Any) -> Join:
    """Environment and hyperparameter values are strings: a typed parameter goes in as the SDK's to_string()."""
    return Join([value], on="")


def run_prefix(name: str) -> Join:
    """s3://<data bucket>/churn/<name>/<execution id>: every execution writes its own prefix."""
    return Join([f"s3://{DATA_BUCKET}", "churn", name, Execution.PipelineExecutionId], on="/")


with DAG(
    "churn_training",
    schedule=None,
    start_date=START,
    catchup=False,
    tags=["example", "sagemaker"],
    doc_md=__doc__,
):
    with SageMakerPipelineGroup(
        group_id="train",
        pipeline_name=CHURN_PIPELINE,
        parameters=PARAMETERS,
        dag_params=True,  # every pipeline parameter is a DAG param: the trigger form sets it
        pipeline_description="Churn model: preprocess, train, evaluate, register when AUC >= MinAuc",
        **GROUP_DEFAULTS,
    ) as train:
        preprocess = ProcessingStep(
            task_id="preprocess",
            job={
                "RoleArn": ROLE,
                "AppSpecification": {"ImageUri": SKLEARN_IMAGE, "ContainerEntrypoint": [
                    "python3", "/opt/ml/processing/input/code/preprocess.py"]},
                "ProcessingResources": processing_resources(),
                "ProcessingInputs": [code_input(CodeAsset("scripts/churn/preprocess.py", bucket=CODE_BUCKET))],
                "ProcessingOutputConfig": {"Outputs": [
                    s3_output(split, run_prefix(split)) for split in ("train", "validation", "test")]},
                "Environment": {"ROWS": as_string(train.parameter("Rows")), "SEED": "7"},
            },
        )
        split_uri = preprocess.properties.ProcessingOutputConfig.Outputs
        fit = TrainingStep(
            task_id="fit",
            job={
                "RoleArn": ROLE,
                "AlgorithmSpecification": {"TrainingImage": SKLEARN_IMAGE, "TrainingInputMode": "File",
                                           "MetricDefinitions": [
                                               {"Name": "validation:auc", "Regex": r"validation:auc=([0-9.]+)"},
                                               {"Name": "train:auc", "Regex": r"train:auc=([0-9.]+)"}]},
                # Script mode: the framework image runs sagemaker_program from the source tarball.
                "HyperParameters": {
                    "sagemaker_program": "train.py",
                    "sagemaker_submit_directory": CodeAsset("scripts/churn/train", bucket=CODE_BUCKET),
                    "epochs": as_string(train.parameter("Epochs")),
                    "learning-rate": train.parameter("LearningRate"),
                },
                "InputDataConfig": [
                    {"ChannelName": channel, "ContentType": "text/csv", "DataSource": {"S3DataSource": {
                        "S3DataType": "S3Prefix", "S3Uri": split_uri[channel].S3Output.S3Uri,
                        "S3DataDistributionType": "FullyReplicated"}}}
                    for channel in ("train", "validation")],
                "OutputDataConfig": {"S3OutputPath": f"s3://{DATA_BUCKET}/churn/models"},
                "ResourceConfig": {"InstanceCount": 1, "InstanceType": train.parameter("TrainingInstanceType"),
                                   "VolumeSizeInGB": 10},
                "StoppingCondition": {"MaxRuntimeInSeconds": 900},
            },
        )
        evaluate = ProcessingStep(
            task_id="evaluate",
            job={
                "RoleArn": ROLE,
                "AppSpecification": {"ImageUri": SKLEARN_IMAGE, "ContainerEntrypoint": [
                    "python3", "/opt/ml/processing/input/code/evaluate.py"]},
                "ProcessingResources": processing_resources(),
                "ProcessingInputs": [
                    code_input(CodeAsset("scripts/churn/evaluate.py", bucket=CODE_BUCKET)),
                    s3_input("input/lib", CodeAsset("scripts/churn/train/churn_model.py", bucket=CODE_BUCKET)),
                    s3_input("model", fit.properties.ModelArtifacts.S3ModelArtifacts),
                    s3_input("test", split_uri["test"].S3Output.S3Uri),
                ],
                "ProcessingOutputConfig": {"Outputs": [s3_output("evaluation", run_prefix("evaluation"))]},
            },
            property_files=[PropertyFile("metrics", output_name="evaluation", path="evaluation.json")],
        )
        register = RegisterModelStep(
            task_id="register",
            model_package_group=MODEL_PACKAGE_GROUP,
            image_uri=SKLEARN_IMAGE,
            model_data=fit.properties.ModelArtifacts.S3ModelArtifacts,
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=[INSTANCE],
            transform_instances=[INSTANCE],
            approval_status="PendingManualApproval",
            model_package_description="churn logistic regression",
        )
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
