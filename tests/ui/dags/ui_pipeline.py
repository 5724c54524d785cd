"""Two pipeline groups: a condition with both branches, a DependsOn-only step with its own step name; and a
group whose only step fails."""

from __future__ import annotations

from ui_common import GROUP_DEFAULTS, MODEL_GROUP, START, processing_job

from airflow_sagemaker_mlops import (
    ConditionStep,
    FailStep,
    JsonGet,
    PipelineParameter,
    ProcessingStep,
    PropertyFile,
    RegisterModelStep,
    SageMakerPipelineGroup,
)
from airflow_sagemaker_mlops import conditions as C
from airflow_sagemaker_mlops.compat import DAG

with DAG("ui_pipeline", schedule=None, start_date=START, params={"score": "0.9"}):
    with SageMakerPipelineGroup(
        group_id="train", pipeline_name="ui-train",
        parameters={"Score": PipelineParameter.string("0.9"), "Threshold": PipelineParameter.float(0.5)},
        parameter_values={"Score": "{{ params.score }}"},
        **GROUP_DEFAULTS,
    ) as train:
        evaluate = ProcessingStep(
            task_id="evaluate", job=processing_job("evaluate.py", "evaluation", {"SCORE": train.parameter("Score")}),
            property_files=[PropertyFile("metrics", output_name="evaluation", path="evaluation.json")],
        )
        audit = ProcessingStep(task_id="audit", step_name="Audit-Run", job=processing_job("audit.py", "audit"))
        register = RegisterModelStep(task_id="register", model_package_group=MODEL_GROUP, image_uri="local/python",
                                     model_data="s3://ui-data/model.tar.gz")
        too_weak = FailStep(task_id="too_weak", error_message="score below the threshold")
        score = JsonGet(evaluate, "metrics", "metrics.score")
        gate = ConditionStep(task_id="gate", condition=C.ge(score, train.parameter("Threshold")),
                             if_true=[register], if_false=[too_weak])
        evaluate >> audit

    with SageMakerPipelineGroup(group_id="checks", pipeline_name="ui-checks", **GROUP_DEFAULTS):
        FailStep(task_id="stop", error_message="checks failed on purpose")
