"""The first design sketch: preprocess -> train -> evaluate -> condition -> register / fail."""

from __future__ import annotations

import pendulum

from airflow_sagemaker_mlops import (
    ConditionStep,
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

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ROLE = "arn:aws:iam::111122223333:role/SmPipeline"

with DAG("churn_model", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         params={"min_auc": 0.8}):

    @task
    def extract_features() -> str:
        return "s3://bucket/features/"

    @task
    def deploy(model_package_arn: str) -> None:
        print(model_package_arn)

    @task
    def notify() -> None:
        print("model too weak")

    features = extract_features()

    with SageMakerPipelineGroup(
        group_id="train",
        pipeline_name="churn-train",
        role_arn=ROLE,
        parameters={
            "InputData": PipelineParameter.string("s3://bucket/raw/"),
            "MinAuc": PipelineParameter.float(0.8),
            "InstanceType": PipelineParameter.string("ml.m5.large", enum_values=["ml.m5.large", "ml.m5.xlarge"]),
        },
        parameter_values={"InputData": features, "MinAuc": "{{ params.min_auc }}"},
        max_parallel_steps=4,
    ) as train:
        prep = ProcessingStep(
            task_id="preprocess",
            job={
                "RoleArn": ROLE,
                "AppSpecification": {"ImageUri": IMAGE,
                                     "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/prep.py"]},
                "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1,
                                                          "InstanceType": train.parameter("InstanceType"),
                                                          "VolumeSizeInGB": 30}},
                "ProcessingInputs": [
                    {"InputName": "raw", "S3Input": {"S3Uri": train.parameter("InputData"),
                                                     "LocalPath": "/opt/ml/processing/input",
                                                     "S3DataType": "S3Prefix", "S3InputMode": "File"}},
                ],
                "ProcessingOutputConfig": {"Outputs": [
                    {"OutputName": "train", "S3Output": {"S3Uri": "s3://bucket/churn/train",
                                                         "LocalPath": "/opt/ml/processing/train",
                                                         "S3UploadMode": "EndOfJob"}},
                ]},
            },
        )
        fit = TrainingStep(
            task_id="fit",
            job={
                "RoleArn": ROLE,
                "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
                "HyperParameters": {"max_depth": "5"},
                "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": prep.properties.ProcessingOutputConfig.Outputs["train"].S3Output.S3Uri,
                }}}],
                "OutputDataConfig": {"S3OutputPath": "s3://bucket/churn/models"},
                "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 30},
                "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
            },
        )
        evaluate = ProcessingStep(
            task_id="evaluate",
            job={
                "RoleArn": ROLE,
                "AppSpecification": {"ImageUri": IMAGE,
                                     "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/eval.py"]},
                "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                          "VolumeSizeInGB": 30}},
                "ProcessingInputs": [{"InputName": "model", "S3Input": {
                    "S3Uri": fit.properties.ModelArtifacts.S3ModelArtifacts,
                    "LocalPath": "/opt/ml/processing/model", "S3DataType": "S3Prefix", "S3InputMode": "File"}}],
                "ProcessingOutputConfig": {"Outputs": [
                    {"OutputName": "evaluation", "S3Output": {"S3Uri": "s3://bucket/churn/eval",
                                                              "LocalPath": "/opt/ml/processing/evaluation",
                                                              "S3UploadMode": "EndOfJob"}},
                ]},
            },
            property_files=[PropertyFile("metrics", output_name="evaluation", path="evaluation.json")],
        )
        register = RegisterModelStep(
            task_id="register",
            model_package_group="churn",
            image_uri=IMAGE,
            model_data=fit.properties.ModelArtifacts.S3ModelArtifacts,
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=["ml.m5.large"],
            transform_instances=["ml.m5.large"],
        )
        too_weak = FailStep(task_id="too_weak",
                            error_message=Join(["AUC below ", train.parameter("MinAuc")]))
        gate = ConditionStep(
            task_id="auc_gate",
            condition=C.ge(JsonGet(evaluate, "metrics", "classification.auc"), train.parameter("MinAuc")),
            if_true=[register],
            if_false=[too_weak],
        )
        prep >> fit >> evaluate >> gate

    gate.if_true >> deploy(register.output["ModelPackageArn"])
    gate.if_false >> notify()
    features >> train
