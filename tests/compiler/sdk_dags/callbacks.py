"""SDK equivalence 3: Callback and Lambda steps with output parameters read downstream (in arguments, a
condition and a Join), cache config on both, DependsOn without a data dependency, no experiment config.

Twin of ``_sdk_callbacks`` in ``tests/compiler/test_sdk_equivalence.py``.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_sagemaker_mlops import (
    CacheConfig,
    CallbackStep,
    ConditionStep,
    Execution,
    FailStep,
    Join,
    LambdaStep,
    PipelineParameter,
    SageMakerPipelineGroup,
)
from airflow_sagemaker_mlops import conditions as C

QUEUE = "https://sqs.us-east-1.amazonaws.com/111122223333/approvals"
SCORER = "arn:aws:lambda:us-east-1:111122223333:function:score"
NOTIFIER = "arn:aws:lambda:us-east-1:111122223333:function:notify"

with DAG("sdk_callbacks", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    with SageMakerPipelineGroup(
        group_id="approval",
        pipeline_name="sdk-callbacks",
        parameters={"ModelName": PipelineParameter.string("churn"), "MinScore": PipelineParameter.float(0.5)},
        experiment_config=None,
    ) as g:
        ask = CallbackStep(
            task_id="ask",
            sqs_queue_url=QUEUE,
            inputs={"model": g.parameter("ModelName"), "execution": Execution.PipelineExecutionArn},
            outputs={"approved": "Boolean", "reviewer": "String", "attempts": "Integer"},
            cache=CacheConfig(True, "PT1H"),
        )
        score = LambdaStep(
            task_id="score",
            function_arn=SCORER,
            inputs={"reviewer": ask.output_parameter("reviewer"), "model": g.parameter("ModelName")},
            outputs={"score": "Float", "label": "String"},
            cache=CacheConfig(True, "P1D"),
        )
        publish = LambdaStep(
            task_id="publish",
            function_arn=NOTIFIER,
            inputs={"message": Join(["approved by", ask.output_parameter("reviewer"),
                                     "label", score.output_parameter("label")], on=" ")},
        )
        rejected = FailStep(task_id="rejected", error_message=Join(["score ", score.output_parameter("score")]))
        gate = ConditionStep(
            task_id="gate",
            condition=[C.eq(ask.output_parameter("approved"), True),
                       C.ge(score.output_parameter("score"), g.parameter("MinScore"))],
            if_true=[publish],
            if_false=[rejected],
        )
        heartbeat = LambdaStep(task_id="heartbeat", function_arn=NOTIFIER, inputs={"stage": "asked"})
        ask >> heartbeat  # DependsOn: heartbeat reads nothing from ask
