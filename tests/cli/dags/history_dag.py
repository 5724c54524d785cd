"""A pipeline without jobs whose runs differ only by parameters: gate -> accept | reject, accept may fail."""

from __future__ import annotations

import pendulum

from airflow_sagemaker_mlops import ConditionStep, FailStep, PipelineParameter, SageMakerPipelineGroup
from airflow_sagemaker_mlops import conditions as C
from airflow_sagemaker_mlops.compat import DAG

with DAG("history_dag", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    with SageMakerPipelineGroup(
        group_id="scoring",
        pipeline_name="cli-history",
        role_arn="arn:aws:iam::123456789012:role/SmPipeline",
        parameters={"Score": PipelineParameter.float(0.9), "Threshold": PipelineParameter.float(0.5),
                    "Mode": PipelineParameter.string("normal", enum_values=["normal", "fail"])},
    ) as scoring:
        boom = FailStep(task_id="boom", error_message="asked to fail")
        accept = ConditionStep(task_id="accept", condition=C.eq(scoring.parameter("Mode"), "fail"), if_true=[boom])
        reject = ConditionStep(task_id="reject", condition=C.ge(scoring.parameter("Score"), 0.0))
        ConditionStep(task_id="gate", condition=C.ge(scoring.parameter("Score"), scoring.parameter("Threshold")),
                      if_true=[accept], if_false=[reject])
