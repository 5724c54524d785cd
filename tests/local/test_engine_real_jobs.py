"""A real pipeline through the engine and the real job runners: Processing -> Training -> Evaluation
(property file) -> Condition -> RegisterModel | Fail, on small generated data, both branches."""

from __future__ import annotations

import io
import json
import tarfile
import textwrap
from typing import Any

import pytest
from engine_helpers import ROLE, steps_of, wait

PREP = textwrap.dedent(
    """
    import os, random
    random.seed(int(os.environ.get("SEED", "1")))
    rows = [(x, 2.0 * x + random.gauss(0, 0.1)) for x in (i / 10 for i in range(60))]
    for name, part in (("train", rows[:40]), ("test", rows[40:])):
        os.makedirs(f"/opt/ml/processing/{name}", exist_ok=True)
        with open(f"/opt/ml/processing/{name}/{name}.csv", "w") as f:
            f.writelines(f"{x},{y}\\n" for x, y in part)
    print("prepared", len(rows), "rows")
    """
)
TRAIN = textwrap.dedent(
    """
    import json, os
    path = os.path.join(os.environ["SM_CHANNEL_TRAIN"], "train.csv")
    rows = [tuple(map(float, line.split(","))) for line in open(path)]
    slope = sum(x * y for x, y in rows) / sum(x * x for x, _ in rows)
    mse = sum((y - slope * x) ** 2 for x, y in rows) / len(rows)
    print(f"train_mse={mse:.6f}")
    with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.json"), "w") as f:
        json.dump({"slope": slope}, f)
    """
)
EVALUATE = textwrap.dedent(
    """
    import json, os, tarfile
    with tarfile.open("/opt/ml/processing/model/model.tar.gz") as t:
        t.extractall("/opt/ml/processing/model")
    slope = json.load(open("/opt/ml/processing/model/model.json"))["slope"]
    rows = [tuple(map(float, l.split(","))) for l in open("/opt/ml/processing/test/test.csv")]
    mse = sum((y - slope * x) ** 2 for x, y in rows) / len(rows)
    os.makedirs("/opt/ml/processing/evaluation", exist_ok=True)
    with open("/opt/ml/processing/evaluation/evaluation.json", "w") as f:
        json.dump({"regression_metrics": {"mse": {"value": mse}}}, f)
    """
)


def processing(name: str, code_uri: str, script: str, inputs: list, outputs: list, **extra: Any) -> dict:
    code_input = {
        "InputName": "code",
        "S3Input": {
            "S3Uri": code_uri,
            "LocalPath": "/opt/ml/processing/input/code",
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
        },
    }
    return {
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {
                "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 10}
            },
            "AppSpecification": {
                "ImageUri": "python:3.11",
                "ContainerEntrypoint": ["python3", f"/opt/ml/processing/input/code/{script}"],
            },
            "RoleArn": ROLE,
            "ProcessingInputs": [code_input, *inputs],
            "ProcessingOutputConfig": {"Outputs": outputs},
        },
        **extra,
    }


def s3_input(name: str, uri: Any, local: str) -> dict:
    return {
        "InputName": name,
        "S3Input": {"S3Uri": uri, "LocalPath": local, "S3DataType": "S3Prefix", "S3InputMode": "File"},
    }


def s3_output(name: str, uri: Any, local: str) -> dict:
    return {"OutputName": name, "S3Output": {"S3Uri": uri, "LocalPath": local, "S3UploadMode": "EndOfJob"}}


def build(bucket: str) -> tuple[list, list]:
    base = f"s3://{bucket}"
    prep = processing(
        "Prep",
        f"{base}/code/prep",
        "prep.py",
        [],
        [
            s3_output("train", f"{base}/data/train", "/opt/ml/processing/train"),
            s3_output("test", f"{base}/data/test", "/opt/ml/processing/test"),
        ],
    )
    train = {
        "Name": "Train",
        "Type": "Training",
        "Arguments": {
            "AlgorithmSpecification": {
                "TrainingImage": "python:3.11",
                "TrainingInputMode": "File",
                "ContainerEntrypoint": ["python3", "/opt/ml/input/data/code/train.py"],
                "MetricDefinitions": [{"Name": "train:mse", "Regex": "train_mse=([0-9.]+)"}],
            },
            "InputDataConfig": [
                {
                    "ChannelName": "train",
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": {"Get": "Steps.Prep.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"},
                        }
                    },
                },
                {
                    "ChannelName": "code",
                    "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"{base}/code/train"}},
                },
            ],
            "OutputDataConfig": {"S3OutputPath": f"{base}/models"},
            "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 10},
            "StoppingCondition": {"MaxRuntimeInSeconds": 300},
            "RoleArn": ROLE,
        },
    }
    evaluate = processing(
        "Evaluate",
        f"{base}/code/evaluate",
        "evaluate.py",
        [
            s3_input("model", {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}, "/opt/ml/processing/model"),
            s3_input(
                "test",
                {"Get": "Steps.Prep.ProcessingOutputConfig.Outputs['test'].S3Output.S3Uri"},
                "/opt/ml/processing/test",
            ),
        ],
        [
            s3_output(
                "evaluation",
                {"Std:Join": {"On": "/", "Values": [base, "reports", {"Get": "Execution.PipelineExecutionId"}]}},
                "/opt/ml/processing/evaluation",
            )
        ],
        PropertyFiles=[{"PropertyFileName": "Evaluation", "OutputName": "evaluation", "FilePath": "evaluation.json"}],
    )
    register = {
        "Name": "Register",
        "Type": "RegisterModel",
        "Arguments": {
            "ModelPackageGroupName": f"{bucket}-models",
            "ModelApprovalStatus": "PendingManualApproval",
            "InferenceSpecification": {
                "Containers": [
                    {
                        "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/linear:1",
                        "ModelDataUrl": {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"},
                    }
                ],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        },
    }
    mse = {
        "Std:JsonGet": {
            "PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Evaluation"},
            "Path": "regression_metrics.mse.value",
        }
    }
    too_weak = {
        "Name": "TooWeak",
        "Type": "Fail",
        "Arguments": {"ErrorMessage": {"Std:Join": {"On": " ", "Values": ["MSE above", {"Get": "Parameters.MaxMse"}]}}},
    }
    gate = {
        "Name": "MseGate",
        "Type": "Condition",
        "Arguments": {
            "Conditions": [{"Type": "LessThanOrEqualTo", "LeftValue": mse, "RightValue": {"Get": "Parameters.MaxMse"}}],
            "IfSteps": [register],
            "ElseSteps": [too_weak],
        },
    }
    params = [{"Name": "MaxMse", "Type": "Float", "DefaultValue": 0.1}]
    return [prep, train, evaluate, gate], params


@pytest.mark.parametrize(("max_mse", "expected"), [(0.1, "Succeeded"), (0.000001, "Failed")])
def test_real_pipeline_both_branches(engine: Any, sm: Any, bucket: str, max_mse: float, expected: str) -> None:
    s3 = engine.client("s3")
    for key, body in (
        ("code/prep/prep.py", PREP),
        ("code/train/train.py", TRAIN),
        ("code/evaluate/evaluate.py", EVALUATE),
    ):
        s3.put_object(Bucket=bucket, Key=key, Body=body.encode())
    steps, params = build(bucket)
    name = f"real-{bucket}"
    sm.create_pipeline(
        PipelineName=name,
        RoleArn=ROLE,
        PipelineDefinition=json.dumps({"Version": "2020-12-01", "Parameters": params, "Steps": steps}),
    )
    arn = sm.start_pipeline_execution(
        PipelineName=name, PipelineParameters=[{"Name": "MaxMse", "Value": str(max_mse)}]
    )["PipelineExecutionArn"]
    desc = wait(sm, arn, timeout=180)
    listed = steps_of(sm, arn)
    assert desc["PipelineExecutionStatus"] == expected, {k: v.get("FailureReason") for k, v in listed.items()}

    training = sm.describe_training_job(
        TrainingJobName=listed["Train"]["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[1]
    )
    assert training["TrainingJobStatus"] == "Completed"
    assert [m["MetricName"] for m in training["FinalMetricDataList"]] == ["train:mse"]
    model_uri = training["ModelArtifacts"]["S3ModelArtifacts"]
    bucket_name, _, key = model_uri[5:].partition("/")
    with tarfile.open(fileobj=io.BytesIO(s3.get_object(Bucket=bucket_name, Key=key)["Body"].read())) as archive:
        assert "model.json" in archive.getnames()
    exec_id = arn.rsplit("/", 1)[1]
    report = json.loads(s3.get_object(Bucket=bucket, Key=f"reports/{exec_id}/evaluation.json")["Body"].read())
    assert report["regression_metrics"]["mse"]["value"] < 0.1

    if expected == "Succeeded":
        assert listed["MseGate"]["Metadata"]["Condition"]["Outcome"] == "True"
        package = sm.describe_model_package(ModelPackageName=listed["Register"]["Metadata"]["RegisterModel"]["Arn"])
        assert package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == model_uri
        assert "TooWeak" not in listed
    else:
        assert listed["MseGate"]["Metadata"]["Condition"]["Outcome"] == "False"
        assert listed["TooWeak"]["Metadata"]["Fail"]["ErrorMessage"] == f"MSE above {max_mse}"
        assert "Register" not in listed
