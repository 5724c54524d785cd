"""Function steps (@sagemaker_step, @task.sagemaker) and a notebook step: arguments of every kind."""

import pendulum

from airflow_sagemaker_mlops import (
    ConditionStep,
    FailStep,
    Join,
    NotebookStep,
    PipelineParameter,
    ProcessingStep,
    SageMakerPipelineGroup,
    sagemaker_step,
)
from airflow_sagemaker_mlops import conditions as C
from airflow_sagemaker_mlops.compat import DAG, task

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ROLE = "arn:aws:iam::111122223333:role/SmPipeline"
ROOT = "s3://golden-code/functions"


@sagemaker_step(image=IMAGE, s3_root_uri=ROOT, instance_type="ml.m5.xlarge", requirements=["numpy>=1.26"],
                environment={"MODE": "golden"})
def prepare(rows: int, source: str, options: dict) -> dict:
    import random

    rnd = random.Random(options["seed"])
    return {"rows": rows, "source": source, "values": [rnd.random() for _ in range(rows)]}


@task.sagemaker(image=IMAGE, s3_root_uri=ROOT, retry_policies=None, cache="P1D")
def score(data: dict, threshold: float, run: str) -> dict:
    mean = sum(data["values"]) / len(data["values"])
    return {"mean": mean, "passed": mean >= threshold, "run": run}


with DAG("function_steps", schedule=None, start_date=pendulum.datetime(2026, 1, 1)):
    with SageMakerPipelineGroup(
        group_id="fn", pipeline_name="function-steps", role_arn=ROLE,
        parameters={"Rows": PipelineParameter.integer(100), "Threshold": PipelineParameter.float(0.4),
                    "Label": PipelineParameter.string("golden")},
    ) as fn:
        extract = ProcessingStep(task_id="extract", job={
            "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                      "VolumeSizeInGB": 30}},
            "AppSpecification": {"ImageUri": IMAGE},
            "RoleArn": ROLE,
            "ProcessingOutputConfig": {"Outputs": [{"OutputName": "raw", "S3Output": {
                "S3Uri": "s3://golden-data/raw", "LocalPath": "/opt/ml/processing/raw", "S3UploadMode": "EndOfJob"}}]},
        })
        data = prepare(fn.parameter("Rows"), extract.properties.ProcessingOutputConfig.Outputs["raw"].S3Output.S3Uri,
                       {"seed": 7, "literal": {"$sm": "kept"}})
        scored = score(data, threshold=fn.parameter("Threshold"),
                       run=Join([fn.parameter("Label"), "-run"]))
        report = NotebookStep(task_id="report", notebook="notebooks/golden_report.ipynb", image=IMAGE,
                              s3_root_uri=ROOT, parameters={"mean": scored["mean"], "rows": data["rows"],
                                                            "label": fn.parameter("Label")},
                              outputs=["summary"])
        low = FailStep(task_id="low", error_message=Join(["mean below threshold for ", scored["run"]]))
        ConditionStep(task_id="gate", condition=C.eq(scored["passed"], True), if_true=[report], if_false=[low])
