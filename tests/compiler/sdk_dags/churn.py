"""SDK equivalence 1: Processing with a property file, Training, RegisterModel, a Condition on JsonGet and a
parameter, a Fail with Join, retry policies and cache config.

``tests/compiler/test_sdk_equivalence.py`` builds the same pipeline with SageMaker SDK v3
(``_sdk_churn``); the two definitions must be equal after normalisation. The request shapes below
spell out what the SDK fills in itself (``S3InputMode``, ``VolumeSizeInGB``, ``CompressionType``, ...):
this package never invents defaults, so an equal definition needs them written down.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_sagemaker_mlops import (
    CacheConfig,
    ConditionStep,
    FailStep,
    Join,
    JsonGet,
    PipelineParameter,
    ProcessingStep,
    PropertyFile,
    RegisterModelStep,
    RetryPolicy,
    SageMakerPipelineGroup,
    TrainingStep,
)
from airflow_sagemaker_mlops import conditions as C

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ROLE = "arn:aws:iam::111122223333:role/SmPipeline"


def s3_input(name: str, uri: object, local_path: str) -> dict:
    return {"InputName": name, "S3Input": {
        "S3Uri": uri, "LocalPath": local_path, "S3DataType": "S3Prefix", "S3InputMode": "File",
        "S3DataDistributionType": "FullyReplicated", "S3CompressionType": "None"}}


def s3_output(name: str, uri: str, local_path: str) -> dict:
    return {"OutputName": name, "S3Output": {"S3Uri": uri, "LocalPath": local_path, "S3UploadMode": "EndOfJob"}}


with DAG("sdk_churn", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    with SageMakerPipelineGroup(
        group_id="train",
        pipeline_name="churn-train",
        parameters={
            "InputData": PipelineParameter.string("s3://bucket/raw/"),
            "MinAuc": PipelineParameter.float(0.8),
            "InstanceType": PipelineParameter.string("ml.m5.large", enum_values=["ml.m5.large", "ml.m5.xlarge"]),
        },
    ) as train:
        prep = ProcessingStep(
            task_id="preprocess",
            job={
                "ProcessingResources": {"ClusterConfig": {
                    "InstanceType": train.parameter("InstanceType"), "InstanceCount": 1, "VolumeSizeInGB": 30}},
                "AppSpecification": {"ImageUri": IMAGE,
                                     "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/prep.py"]},
                "RoleArn": ROLE,
                "ProcessingInputs": [s3_input("raw", train.parameter("InputData"), "/opt/ml/processing/input")],
                "ProcessingOutputConfig": {"Outputs": [
                    s3_output("train", "s3://bucket/churn/train", "/opt/ml/processing/train")]},
            },
            retry_policies=[
                RetryPolicy(("Step.SERVICE_FAULT", "Step.THROTTLING"), max_attempts=3),
                RetryPolicy(("SageMaker.CAPACITY_ERROR",), interval_seconds=30, backoff_rate=1.5,
                            expire_after_minutes=60),
            ],
            cache=CacheConfig(True, "P30D"),
        )
        fit = TrainingStep(
            task_id="fit",
            job={
                "AlgorithmSpecification": {"TrainingInputMode": "File", "TrainingImage": IMAGE},
                "HyperParameters": {"max_depth": "5"},
                "InputDataConfig": [{
                    "ChannelName": "train",
                    "DataSource": {"S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": prep.properties.ProcessingOutputConfig.Outputs["train"].S3Output.S3Uri,
                        "S3DataDistributionType": "FullyReplicated"}},
                    "InputMode": "File",
                }],
                "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30},
                "RoleArn": ROLE,
                "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
                "OutputDataConfig": {"S3OutputPath": "s3://bucket/churn/models", "CompressionType": "GZIP"},
            },
        )
        evaluate = ProcessingStep(
            task_id="evaluate",
            job={
                "ProcessingResources": {"ClusterConfig": {
                    "InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30}},
                "AppSpecification": {"ImageUri": IMAGE},
                "RoleArn": ROLE,
                "ProcessingInputs": [s3_input("model", fit.properties.ModelArtifacts.S3ModelArtifacts,
                                              "/opt/ml/processing/model")],
                "ProcessingOutputConfig": {"Outputs": [
                    s3_output("evaluation", "s3://bucket/churn/eval", "/opt/ml/processing/evaluation")]},
            },
            property_files=[PropertyFile("metrics", output_name="evaluation", path="evaluation.json")],
        )
        # The whole CreateModelPackage request, as the SDK writes it. The helper fields (image_uri=,
        # model_data=, ...) leave out SkipModelValidation: see register_helper.py and its xfail.
        register = RegisterModelStep(
            task_id="register",
            request={
                "ModelPackageGroupName": "churn",
                "InferenceSpecification": {
                    "Containers": [{"Image": IMAGE, "ModelDataUrl": fit.properties.ModelArtifacts.S3ModelArtifacts}],
                    "SupportedContentTypes": ["text/csv"],
                    "SupportedResponseMIMETypes": ["text/csv"],
                    "SupportedRealtimeInferenceInstanceTypes": ["ml.m5.large"],
                    "SupportedTransformInstanceTypes": ["ml.m5.large"],
                },
                "ModelApprovalStatus": "PendingManualApproval",
                "SkipModelValidation": "None",
            },
        )
        too_weak = FailStep(task_id="too_weak", error_message=Join(["AUC below ", train.parameter("MinAuc")]))
        gate = ConditionStep(
            task_id="auc_gate",
            condition=C.ge(JsonGet(evaluate, "metrics", "classification.auc"), train.parameter("MinAuc")),
            if_true=[register],
            if_false=[too_weak],
        )
        prep >> fit >> evaluate >> gate
