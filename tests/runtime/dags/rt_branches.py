"""Condition -> register (true) or report (false), with downstream Airflow tasks on each branch."""

from __future__ import annotations

from rt_common import DATA_BUCKET, GROUP_DEFAULTS, START, processing_job

from airflow_sagemaker_mlops import (
    ConditionStep,
    JsonGet,
    PipelineParameter,
    ProcessingStep,
    PropertyFile,
    RegisterModelStep,
    SageMakerPipelineGroup,
)
from airflow_sagemaker_mlops import conditions as C
from airflow_sagemaker_mlops.compat import DAG, task

with DAG("rt_branches", schedule=None, start_date=START, params={"score": "0.9", "threshold": 0.5, "sleep": "0"}):
    with SageMakerPipelineGroup(
        group_id="train",
        pipeline_name="rt-branches",
        parameters={"Score": PipelineParameter.string("0.9"), "Threshold": PipelineParameter.float(0.5),
                    "Sleep": PipelineParameter.string("0")},
        parameter_values={"Score": "{{ params.score }}", "Threshold": "{{ params.threshold }}",
                          "Sleep": "{{ params.sleep }}"},
        **GROUP_DEFAULTS,
    ) as train:
        evaluate = ProcessingStep(
            task_id="evaluate",
            job=processing_job("evaluate.py", "evaluation", {"SCORE": train.parameter("Score"),
                                                                     "SLEEP": train.parameter("Sleep")}),
            property_files=[PropertyFile("metrics", output_name="evaluation", path="evaluation.json")],
        )
        register = RegisterModelStep(task_id="register", model_package_group="rt-models", image_uri="local/python",
                                     model_data=f"s3://{DATA_BUCKET}/model.tar.gz")
        report = ProcessingStep(task_id="report", job=processing_job("report.py", "report", {"NOTE": "too weak"}))
        score = JsonGet(evaluate, "metrics", "metrics.score")
        gate = ConditionStep(task_id="gate", condition=C.ge(score, train.parameter("Threshold")),
                             if_true=[register], if_false=[report])

    @task
    def deploy(model_package_arn: str) -> str:
        print("deploying", model_package_arn)
        return model_package_arn

    @task
    def notify() -> str:
        return "model too weak"

    gate.if_true >> deploy(register.output["ModelPackageArn"])
    gate.if_false >> notify()
