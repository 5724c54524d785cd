"""A Fail step reached by design (the condition's false branch), in a DAG whose tasks have retries: the step's
task fails once, with the Fail step's message and the condition that led there, and is not retried."""

from __future__ import annotations

from datetime import timedelta

from rt_common import GROUP_DEFAULTS, START, processing_job

from airflow_sagemaker_mlops import (
    ConditionStep,
    FailStep,
    Join,
    JsonGet,
    PipelineParameter,
    ProcessingStep,
    PropertyFile,
    SageMakerPipelineGroup,
)
from airflow_sagemaker_mlops import conditions as C
from airflow_sagemaker_mlops.compat import DAG

with DAG("rt_fail_step", schedule=None, start_date=START,
         default_args={"retries": 2, "retry_delay": timedelta(seconds=1)}):
    with SageMakerPipelineGroup(group_id="train", pipeline_name="rt-fail-step",
                                parameters={"MinScore": PipelineParameter.float(0.5)}, **GROUP_DEFAULTS) as train:
        evaluate = ProcessingStep(
            task_id="evaluate",
            job=processing_job("evaluate.py", "evaluation", {"SCORE": "0.2", "SLEEP": "0"}),
            property_files=[PropertyFile("metrics", output_name="evaluation", path="evaluation.json")],
        )
        score = JsonGet(evaluate, "metrics", "metrics.score")
        too_weak = FailStep(task_id="too_weak", error_message=Join(["score ", score, " is below MinScore ",
                                                                    train.parameter("MinScore")]))
        gate = ConditionStep(task_id="gate", condition=C.ge(score, train.parameter("MinScore")),
                             if_false=[too_weak])
