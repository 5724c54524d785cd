"""step_outputs() on real executions: the engine runs the Processing/Training scripts as local processes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pipeline_helpers import ROLE, condition, fail, spec, steps_by_name, unique, wait_execution

from airflow_sagemaker_mlops.hooks.pipelines import SageMakerPipelinesHook

PREPROCESS = """\
import os
rows = open('/opt/ml/processing/input/data/data.csv').read().splitlines()
os.makedirs('/opt/ml/processing/output/train', exist_ok=True)
open('/opt/ml/processing/output/train/train.csv', 'w').write('\\n'.join(rows) + '\\n')
print('rows', len(rows))
"""

TRAIN = """\
import json, os
rows = open(os.path.join(os.environ['SM_CHANNEL_TRAIN'], 'train.csv')).read().splitlines()
print(f'validation:auc={0.5 + len(rows) / 100:.4f}')
json.dump({'rows': len(rows)}, open('/opt/ml/model/model.json', 'w'))
"""


def token() -> str:
    return SageMakerPipelinesHook.execution_token("outputs", unique())


@pytest.fixture
def ml_pipeline(hook: Any, bucket: str, tmp_path: Any, engine: Any) -> dict[str, Any]:
    """Prep (Processing) -> Fit (Training, script mode) -> CreateModel, Register -> Gate (Condition)."""
    engine.client("s3").put_object(Bucket=bucket, Key="raw/data.csv", Body=b"a,b\n1,2\n3,4\n")
    prep_script = tmp_path / "prep.py"
    prep_script.write_text(PREPROCESS)
    prep_code = hook.upload_code_asset(str(prep_script), bucket, "code")
    sourcedir = tmp_path / "train"
    sourcedir.mkdir()
    (sourcedir / "train.py").write_text(TRAIN)
    train_code = hook.upload_code_asset(str(sourcedir), bucket, "code")

    def s3_input(name: str, uri: str, local: str) -> dict[str, Any]:
        return {
            "InputName": name,
            "S3Input": {"S3Uri": uri, "LocalPath": local, "S3DataType": "S3Prefix", "S3InputMode": "File"},
        }

    prep = {
        "Name": "Prep",
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {
                "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 30}
            },
            "AppSpecification": {
                "ImageUri": "local/python",
                "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/prep.py"],
            },
            "RoleArn": ROLE,
            "ProcessingInputs": [
                s3_input("code", prep_code, "/opt/ml/processing/input/code"),
                s3_input("data", f"s3://{bucket}/raw/", "/opt/ml/processing/input/data"),
            ],
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": "train",
                        "S3Output": {
                            "S3Uri": f"s3://{bucket}/prep/train",
                            "LocalPath": "/opt/ml/processing/output/train",
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                ]
            },
        },
    }
    fit = {
        "Name": "Fit",
        "Type": "Training",
        "Arguments": {
            "AlgorithmSpecification": {
                "TrainingImage": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
                "TrainingInputMode": "File",
                "MetricDefinitions": [{"Name": "validation:auc", "Regex": r"validation:auc=([0-9.]+)"}],
            },
            "HyperParameters": {
                "sagemaker_program": json.dumps("train.py"),
                "sagemaker_submit_directory": json.dumps(train_code),
            },
            "InputDataConfig": [
                {
                    "ChannelName": "train",
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": {"Get": "Steps.Prep.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"},
                            "S3DataDistributionType": "FullyReplicated",
                        }
                    },
                }
            ],
            "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/models"},
            "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 10},
            "StoppingCondition": {"MaxRuntimeInSeconds": 300},
            "RoleArn": ROLE,
        },
    }
    container = {
        "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1",
        "ModelDataUrl": {"Get": "Steps.Fit.ModelArtifacts.S3ModelArtifacts"},
    }
    model = {
        "Name": "CreateModel",
        "Type": "Model",
        "Arguments": {"ExecutionRoleArn": ROLE, "PrimaryContainer": container},
    }
    group = unique("group")
    register = {
        "Name": "Register",
        "Type": "RegisterModel",
        "Arguments": {
            "ModelPackageGroupName": group,
            "ModelApprovalStatus": "PendingManualApproval",
            "InferenceSpecification": {
                "Containers": [container],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        },
    }
    gate = condition(
        "Gate",
        [{"Type": "LessThanOrEqualTo", "LeftValue": {"Get": "Parameters.MinAuc"}, "RightValue": 0.9}],
        [register],
        [fail("TooWeak", "auc too low")],
        DependsOn=["CreateModel"],
    )
    s = spec([prep, fit, model, gate], [{"Name": "MinAuc", "Type": "Float", "DefaultValue": 0.5}])
    hook.upsert_pipeline(s)
    arn = hook.start_execution(s.name, client_request_token=token())
    desc = wait_execution(hook, arn, timeout=60)
    steps = steps_by_name(hook, arn)
    assert desc["PipelineExecutionStatus"] == "Succeeded", {k: v.get("FailureReason") for k, v in steps.items()}
    return {"arn": arn, "steps": steps, "bucket": bucket, "group": group}


def test_processing_training_model_register_condition_outputs(hook: Any, ml_pipeline: dict) -> None:
    steps, bucket = ml_pipeline["steps"], ml_pipeline["bucket"]
    assert "TooWeak" not in steps  # the branch not taken never ran

    prep = hook.step_outputs(steps["Prep"])
    assert prep["StepType"] == "Processing"
    assert prep["StepStatus"] == "Succeeded"
    assert prep["AttemptCount"] == 1
    assert prep["CacheHit"] is False
    assert prep["Arn"].startswith("arn:aws:sagemaker:us-east-1:123456789012:processing-job/")
    assert prep["ProcessingOutputs"] == {"train": f"s3://{bucket}/prep/train"}

    fit = hook.step_outputs(steps["Fit"])
    assert fit["StepType"] == "Training"
    assert fit["S3ModelArtifacts"].startswith(f"s3://{bucket}/models/")
    assert fit["S3ModelArtifacts"].endswith("/output/model.tar.gz")
    assert fit["Metrics"] == {"validation:auc": pytest.approx(0.53)}
    assert fit["FinalMetricDataList"][0]["MetricName"] == "validation:auc"

    model = hook.step_outputs(steps["CreateModel"])
    assert model["ModelArn"].startswith("arn:aws:sagemaker:us-east-1:123456789012:model/")
    assert model["ModelName"] == model["ModelArn"].rsplit("/", 1)[1]

    register = hook.step_outputs(steps["Register"])
    assert register["StepType"] == "RegisterModel"
    assert ":model-package/" in register["ModelPackageArn"]
    assert hook.conn.describe_model_package(ModelPackageName=register["ModelPackageArn"])[
        "ModelPackageGroupName"
    ] == ml_pipeline["group"]

    gate = hook.step_outputs(steps["Gate"])
    assert (gate["StepType"], gate["Outcome"]) == ("Condition", True)
    for outputs in (prep, fit, model, register, gate):
        json.dumps(outputs)  # XCom- and TriggerEvent-safe


def lambda_score(event: dict, context: Any) -> dict:
    return {"score": event["x"] / 10, "label": "weak"}


def test_lambda_condition_false_and_fail_outputs(hook: Any, engine: Any) -> None:
    fn = f"arn:aws:lambda:us-east-1:123456789012:function:{unique('score')}"
    engine.config.lambda_handlers[fn] = lambda_score
    score = {
        "Name": "Score",
        "Type": "Lambda",
        "Arguments": {"x": 3},
        "FunctionArn": fn,
        "OutputParameters": [
            {"OutputName": "score", "OutputType": "Float"},
            {"OutputName": "label", "OutputType": "String"},
        ],
    }
    message = {"Std:Join": {"On": " ", "Values": ["score", {"Get": "Steps.Score.OutputParameters['label']"}]}}
    gate = condition(
        "Gate",
        [{"Type": "GreaterThan", "LeftValue": {"Get": "Steps.Score.OutputParameters['score']"}, "RightValue": 0.5}],
        [],
        [fail("TooWeak", message)],
    )
    s = spec([score, gate])
    hook.upsert_pipeline(s)
    arn = hook.start_execution(s.name, client_request_token=token())
    assert wait_execution(hook, arn)["PipelineExecutionStatus"] == "Failed"
    steps = steps_by_name(hook, arn)

    lam = hook.step_outputs(steps["Score"])
    assert lam["StepType"] == "Lambda"
    assert lam["FunctionArn"] == fn
    assert lam["OutputParameters"] == {"score": "0.3", "label": "weak"}

    assert hook.step_outputs(steps["Gate"])["Outcome"] is False
    failed = hook.step_outputs(steps["TooWeak"])
    assert failed["StepType"] == "Fail"
    assert failed["StepStatus"] == "Failed"
    assert failed["ErrorMessage"] == "score weak"


def test_job_outputs_survive_a_failing_describe(hook: Any) -> None:
    entry = {
        "StepName": "Fit",
        "StepStatus": "Succeeded",
        "Metadata": {"TrainingJob": {"Arn": "arn:aws:sagemaker:us-east-1:123456789012:training-job/gone"}},
    }
    outputs = hook.step_outputs(entry)
    assert outputs["StepType"] == "Training"
    assert outputs["Arn"].endswith("/gone")
    assert "DescribeError" in outputs


def test_emr_serverless_outputs_come_from_the_step_metadata() -> None:
    """No Describe call: SageMaker's EMRServerless metadata names the application and job run."""
    hook = SageMakerPipelinesHook.__new__(SageMakerPipelinesHook)  # step_outputs makes no call for this type
    step = {"StepName": "features", "StepStatus": "Succeeded", "Metadata": {"EMRServerless": {
        "ApplicationId": "00fabc", "JobRunId": "00fjr1", "JobRunName": "features",
        "LogFilePath": "s3://logs/applications/00fabc/jobs/00fjr1"}}}
    outputs = hook.step_outputs(step)
    assert outputs["StepType"] == "EMRServerless"
    assert (outputs["ApplicationId"], outputs["JobRunId"], outputs["JobRunName"]) == ("00fabc", "00fjr1", "features")
    assert outputs["LogFilePath"].endswith("/00fjr1") and outputs["Arn"] is None
