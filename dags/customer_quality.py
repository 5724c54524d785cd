"""Function steps and a notebook step: check a customer extract's quality in SageMaker, then report on it.

``generate`` and ``profile`` are Python functions run as SageMaker jobs (``@sagemaker_step``): ``profile``
takes ``generate``'s return value and the ``MinQuality`` pipeline parameter; its result decides the
condition (``JsonGet`` of its result file) and reaches the notebook step (a parameter) and the Airflow task
``publish`` (XCom). ``MinQuality=0.5`` runs the report and ``publish``; ``0.99`` ends at the Fail step and
runs ``alert``. On the local engine the functions and the notebook run with the engine's own Python
(docs/function-steps.md).
"""

from __future__ import annotations

from example_settings import DATA_BUCKET, POLL_INTERVAL, ROLE, SKLEARN_IMAGE, START

from airflow_sagemaker_mlops import (
    ConditionStep,
    FailStep,
    Join,
    NotebookStep,
    PipelineParameter,
    SageMakerPipelineGroup,
    sagemaker_step,
)
from airflow_sagemaker_mlops import conditions as C
from airflow_sagemaker_mlops.compat import DAG, task

ROOT = f"s3://{DATA_BUCKET}/customer-quality"
STEP = {"image": SKLEARN_IMAGE, "s3_root_uri": ROOT, "instance_type": "ml.m5.large"}


@sagemaker_step(**STEP)
def generate(rows: int, seed: int) -> dict:
    """A synthetic customer extract: tenure in months and monthly spend, some spend values missing."""
    import random

    rnd = random.Random(seed)
    customers = []
    for i in range(rows):
        spend = round(rnd.lognormvariate(3.5, 0.6), 2) if rnd.random() > 0.15 else None
        customers.append({"id": i, "tenure": rnd.randint(1, 72), "spend": spend})
    return {"rows": rows, "customers": customers}


@task.sagemaker(**STEP, environment={"QUALITY_RULES": "spend-present,tenure-range"})
def profile(extract: dict, min_quality: float) -> dict:
    """Quality = share of customers with a spend value and a tenure within 1..72 months."""
    import os
    import statistics

    customers = extract["customers"]
    good = [c for c in customers if c["spend"] is not None and 1 <= c["tenure"] <= 72]
    quality = round(len(good) / len(customers), 4)
    print(f"rules {os.environ['QUALITY_RULES']}: {len(good)} of {len(customers)} rows pass")
    return {"quality": quality, "passed": quality >= min_quality, "rows": len(customers),
            "mean_spend": round(statistics.fmean(c["spend"] for c in good), 2)}


with DAG(
    "customer_quality",
    schedule=None,
    start_date=START,
    catchup=False,
    doc_md=__doc__,
    tags=["example", "sagemaker"],
):
    with SageMakerPipelineGroup(
        group_id="quality",
        pipeline_name="customer-quality",
        role_arn=ROLE,
        parameters={"Rows": PipelineParameter.integer(500), "MinQuality": PipelineParameter.float(0.8)},
        dag_params=True,
        poll_interval=POLL_INTERVAL,
    ) as quality:
        extract = generate(quality.parameter("Rows"), seed=42)
        stats = profile(extract, quality.parameter("MinQuality"))
        report = NotebookStep(
            task_id="report",
            notebook="notebooks/quality_report.ipynb",
            parameters={"quality": stats["quality"], "mean_spend": stats["mean_spend"], "rows": stats["rows"],
                        "min_quality": quality.parameter("MinQuality")},
            outputs=["verdict"],
            **STEP,
        )
        too_poor = FailStep(task_id="too_poor", error_message=Join(
            ["quality ", stats["quality"], " is below MinQuality ", quality.parameter("MinQuality")]))
        gate = ConditionStep(task_id="quality_gate", condition=C.eq(stats["passed"], True),
                             if_true=[report], if_false=[too_poor])

    @task
    def publish(profiled: dict) -> str:
        """An Airflow task reading the function step's return value from XCom."""
        line = f"{profiled['rows']} customers, quality {profiled['quality']:.2%}, mean spend {profiled['mean_spend']}"
        print(line)
        return line

    @task
    def alert() -> str:
        return "customer extract below the quality bar: see the quality.too_poor step"

    gate.if_true >> publish(stats.xcom)
    gate.if_false >> alert()
