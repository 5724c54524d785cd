"""Every condition kind, including AND flattened at the top and rewritten (De Morgan) inside Or/Not."""

from __future__ import annotations

import pendulum

from airflow_sagemaker_mlops import (
    ConditionStep,
    FailStep,
    JsonGet,
    PipelineParameter,
    ProcessingStep,
    PropertyFile,
    SageMakerPipelineGroup,
)
from airflow_sagemaker_mlops import conditions as C
from airflow_sagemaker_mlops.compat import DAG

with DAG("conditions", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    with SageMakerPipelineGroup(
        group_id="gates",
        pipeline_name="conditions",
        parameters={"Min": PipelineParameter.float(0.5), "Max": PipelineParameter.integer(10),
                    "Region": PipelineParameter.string("eu"), "Enabled": PipelineParameter.boolean(True)},
    ) as g:
        ev = ProcessingStep(task_id="evaluate", job={"AppSpecification": {"ImageUri": "img"}},
                            property_files=[PropertyFile("m", output_name="out", path="m.json")])
        score = JsonGet(ev, "m", "score")
        ok = FailStep(task_id="all_passed", error_message="(placeholder for the true branch)")
        bad = FailStep(task_id="failed", error_message="a condition did not hold")
        ConditionStep(
            task_id="every_kind",
            condition=[
                C.eq(g.parameter("Enabled"), True),
                C.gt(score, g.parameter("Min")),
                C.ge(score, 0.1),
                C.lt(JsonGet(ev, "m", "count"), g.parameter("Max")),
                C.le(1, g.parameter("Max")),
                C.in_(g.parameter("Region"), ["eu", "us"]),
                C.not_(C.eq(g.parameter("Region"), "cn")),
                C.or_(C.gt(score, 0.9), C.and_(C.ge(score, 0.5), C.le(JsonGet(ev, "m", "count"), 100))),
                C.and_(C.lt(score, 1.0), C.gt(score, 0.0)),
            ],
            if_true=[ok],
            if_false=[bad],
        )
