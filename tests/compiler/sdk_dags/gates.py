"""SDK equivalence 2: nested conditions (a ConditionStep inside another's IfSteps), every condition type,
every parameter type, execution variables, JsonGet, explicit DependsOn (also inside a branch and on two
steps), DisplayName/Description, a custom PipelineExperimentConfig.

Twin of ``_sdk_gates`` in ``tests/compiler/test_sdk_equivalence.py``.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_sagemaker_mlops import (
    ConditionStep,
    Execution,
    ExperimentConfig,
    FailStep,
    Join,
    JsonGet,
    PipelineParameter,
    ProcessingStep,
    PropertyFile,
    SageMakerPipelineGroup,
)
from airflow_sagemaker_mlops import conditions as C

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ROLE = "arn:aws:iam::111122223333:role/SmPipeline"


def job(output_uri: object, instance_count: object = 1) -> dict:
    """A CreateProcessingJob request as SDK v3's ``Processor.run`` writes it (one output, no inputs)."""
    return {
        "ProcessingResources": {"ClusterConfig": {
            "InstanceType": "ml.m5.large", "InstanceCount": instance_count, "VolumeSizeInGB": 30}},
        "AppSpecification": {"ImageUri": IMAGE},
        "RoleArn": ROLE,
        "ProcessingOutputConfig": {"Outputs": [{"OutputName": "out", "S3Output": {
            "S3Uri": output_uri, "LocalPath": "/opt/ml/processing/out", "S3UploadMode": "EndOfJob"}}]},
    }


with DAG("sdk_gates", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    with SageMakerPipelineGroup(
        group_id="gates",
        pipeline_name="sdk-gates",
        parameters={
            "Threshold": PipelineParameter.integer(10),
            "Ratio": PipelineParameter.float(0.5),
            "Enabled": PipelineParameter.boolean(True),
            "Env": PipelineParameter.string("dev", enum_values=["dev", "test", "prod"]),
            "Owner": PipelineParameter.string(),  # no default: must be given at start
        },
        experiment_config=ExperimentConfig("gates-experiments", Join(["run", Execution.PipelineExecutionId], on="-")),
    ) as g:
        stats = ProcessingStep(
            task_id="stats",
            job=job(Join(["s3://bucket/stats", Execution.PipelineExecutionId], on="/")),
            property_files=[PropertyFile("stats", output_name="out", path="stats.json")],
        )
        audit = ProcessingStep(
            task_id="audit",
            job=job(Join(["s3://bucket/audit", g.parameter("Owner"), Execution.StartDateTime], on="/")),
            display_name="Audit the run",
            step_description="Writes who started the run and when.",
        )
        final = ProcessingStep(task_id="final", job=job("s3://bucket/final"))
        big = ProcessingStep(task_id="big", job=job("s3://bucket/big", g.parameter("Threshold")))
        big_report = ProcessingStep(task_id="big_report", job=job("s3://bucket/big-report"))
        small = ProcessingStep(task_id="small", job=job("s3://bucket/small"))
        inner = ConditionStep(
            task_id="inner",
            condition=[
                C.gt(JsonGet(stats, "stats", "rows.count"), g.parameter("Threshold")),
                C.lt(g.parameter("Ratio"), 1.0),
                C.le(JsonGet(stats, "stats", "rows.nulls"), 100),
            ],
            if_true=[big, big_report],
            if_false=[small],
        )
        stop = FailStep(
            task_id="stop",
            error_message=Join(["disabled for", g.parameter("Env"), "in", Execution.PipelineExecutionArn], on=" "),
        )
        outer = ConditionStep(
            task_id="outer",
            condition=[
                C.or_(C.eq(g.parameter("Enabled"), True), C.not_(C.in_(g.parameter("Env"), ["dev", "test"]))),
                C.ge(g.parameter("Threshold"), 0),
            ],
            if_true=[inner],
            if_false=[stop],
        )
        stats >> audit
        stats >> outer  # no data dependency: an explicit DependsOn
        [audit, stats] >> final  # DependsOn on two steps (written in step-name order, as this package sorts)
        big >> big_report  # DependsOn between two steps of one branch
