"""One step of every type: typed operators for the common ones, RawStep for the rest."""

from __future__ import annotations

import pendulum

from airflow_sagemaker_mlops import (
    CallbackStep,
    CreateModelStep,
    FailStep,
    LambdaStep,
    PipelineParameter,
    RawStep,
    SageMakerPipelineGroup,
    TrainingStep,
    TransformStep,
    TuningStep,
)
from airflow_sagemaker_mlops.compat import DAG

ROLE = "arn:aws:iam::111122223333:role/SmPipeline"
IMAGE = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/custom-xgb:1.7"

with DAG("all_step_types", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    with SageMakerPipelineGroup(group_id="everything", pipeline_name="all-step-types", role_arn=ROLE,
                                parameters={"Data": PipelineParameter.string("s3://bucket/data/")}) as g:
        train_job = {
            "RoleArn": ROLE,
            "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File",
                                       "MetricDefinitions": [{"Name": "validation:auc",
                                                              "Regex": "validation-auc:([0-9.]+)"}]},
            "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": g.parameter("Data")}}}],
            "OutputDataConfig": {"S3OutputPath": "s3://bucket/models"},
            "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 10},
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        }
        fit = TrainingStep(task_id="fit", job=train_job)
        tune = TuningStep(task_id="tune", job={
            "HyperParameterTuningJobConfig": {
                "Strategy": "Random",
                "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:auc"},
                "ResourceLimits": {"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": 2},
                "ParameterRanges": {
                    "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "2", "MaxValue": "8"}],
                    "ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0.01", "MaxValue": "0.3"}],
                    "CategoricalParameterRanges": [{"Name": "booster", "Values": ["gbtree", "dart"]}],
                },
            },
            "TrainingJobDefinition": {k: v for k, v in train_job.items() if k != "HyperParameters"}
            | {"StaticHyperParameters": {"num_round": "50"}},
        })
        model = CreateModelStep(task_id="model", model={
            "ExecutionRoleArn": ROLE,
            "PrimaryContainer": {"Image": IMAGE, "ModelDataUrl": fit.properties.ModelArtifacts.S3ModelArtifacts},
        })
        score = TransformStep(task_id="score", job={
            "ModelName": model.properties.ModelName,
            "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                                                               "S3Uri": "s3://bucket/score/in"}},
                               "ContentType": "text/csv", "SplitType": "Line"},
            "TransformOutput": {"S3OutputPath": "s3://bucket/score/out", "AssembleWith": "Line"},
            "TransformResources": {"InstanceCount": 1, "InstanceType": "ml.m5.large"},
        })
        approve = CallbackStep(task_id="approve",
                               sqs_queue_url="https://sqs.eu-west-1.amazonaws.com/111122223333/approvals",
                               inputs={"scores": score.properties.TransformOutput.S3OutputPath},
                               outputs={"approved": "Boolean", "ticket": "String"})
        publish = LambdaStep(task_id="publish",
                             function_arn="arn:aws:lambda:eu-west-1:111122223333:function:publish",
                             inputs={"ticket": approve.output_parameter("ticket")},
                             outputs=["url"])
        emr = RawStep(task_id="emr", step_type="EMR", arguments={
            "ClusterId": "j-1ABCDEFGHIJKL",
            "StepConfig": {"HadoopJarStep": {"Jar": "command-runner.jar", "Args": ["spark-submit", "job.py"]}},
        })
        quality = RawStep(task_id="quality", step_type="QualityCheck", arguments={
            "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                      "VolumeSizeInGB": 30}},
            "AppSpecification": {"ImageUri": IMAGE},
            "RoleArn": ROLE,
        }, fields={"CheckType": "DATA_QUALITY", "ModelPackageGroupName": "churn",
                   "SkipCheck": False, "RegisterNewBaseline": True})
        clarify = RawStep(task_id="clarify", step_type="ClarifyCheck", arguments={"RoleArn": ROLE},
                          fields={"CheckType": "MODEL_BIAS", "SkipCheck": True, "RegisterNewBaseline": False})
        automl = RawStep(task_id="automl", step_type="AutoML", arguments={
            "AutoMLJobConfig": {"CompletionCriteria": {"MaxCandidates": 2}},
            "InputDataConfig": [{"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                                                                 "S3Uri": g.parameter("Data")}},
                                 "TargetAttributeName": "churn"}],
            "OutputDataConfig": {"S3OutputPath": "s3://bucket/automl"},
            "RoleArn": ROLE,
        })
        endpoint_config = RawStep(task_id="endpoint_config", step_type="EndpointConfig", arguments={
            "ProductionVariants": [{"ModelName": model.properties.ModelName, "VariantName": "AllTraffic",
                                    "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
        })
        endpoint = RawStep(task_id="endpoint", step_type="Endpoint",
                           arguments={"EndpointName": "churn", "EndpointConfigName": "churn-config"})
        stop = FailStep(task_id="stop", error_message="stopped on purpose")
        fit >> tune
        endpoint_config >> endpoint
        [publish, emr, quality, clarify, automl, endpoint, tune] >> stop
