"""DependsOn triggers (``run_after_outcome``): the compiler emits them, the engine honours them."""

from __future__ import annotations

import json
from typing import Any

import pendulum
from engine_helpers import ROLE, FakeJobs, steps_of, unique, wait

from airflow_sagemaker_mlops import ProcessingStep, SageMakerPipelineGroup, TrainingStep
from airflow_sagemaker_mlops.compat import DAG
from airflow_sagemaker_mlops.local.jobs.base import JobContext, JobResult

JOB = {"AppSpecification": {"ImageUri": "img"}}


def compiled_definition(name: str) -> str:
    with DAG(f"triggers_{name}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
        with SageMakerPipelineGroup(group_id="g", pipeline_name=name) as group:
            prep = ProcessingStep(task_id="prep", job=JOB)
            fit = TrainingStep(task_id="fit", job={"AlgorithmSpecification": {"TrainingImage": "img"}})
            # Runs only because fit failed; notify runs after it (the failure's handling goes on).
            cleanup = ProcessingStep(task_id="cleanup", job=JOB, run_after_outcome=[(fit, "Failed")])
            notify = ProcessingStep(task_id="notify", job=JOB)
            # Waits for fit's success: never runs.
            publish = ProcessingStep(task_id="publish", job=JOB)
            # Waits for prep to fail; prep succeeded, so it is skipped.
            ProcessingStep(task_id="rescue", job=JOB, run_after_outcome=[(prep, "Failed")])
            # Any outcome of fit.
            ProcessingStep(task_id="audit", job=JOB, run_after_outcome=[(fit, "Any")])
            prep >> fit >> publish
            cleanup >> notify
    return json.dumps(group.compile().spec.to_request()["PipelineDefinition"])


def test_compiled_run_after_outcome_runs_on_the_engine(engine: Any, sm: Any, fake_jobs: FakeJobs) -> None:
    def failing_training(job: str, request: dict[str, Any], ctx: JobContext) -> JobResult:
        return JobResult("Failed", {"TrainingJobName": job, "TrainingJobStatus": "Failed"}, "AlgorithmError: boom")

    engine.config.job_runners["Training"] = failing_training
    name = unique()
    document = compiled_definition(name)
    triggers = {s["Name"]: s.get("DependsOn") for s in json.loads(document)["Steps"]}
    assert triggers["cleanup"] == [{"Step": "fit", "Trigger": "Failed"}]
    sm.create_pipeline(PipelineName=name, PipelineDefinition=document, RoleArn=ROLE)
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    # A step failed: the execution fails, whatever its handling did.
    assert wait(sm, arn)["PipelineExecutionStatus"] == "Failed"
    status = {step: record["StepStatus"] for step, record in steps_of(sm, arn).items()}
    assert status == {"prep": "Succeeded", "fit": "Failed", "cleanup": "Succeeded", "notify": "Succeeded",
                      "audit": "Succeeded"}


def test_triggers_on_success_skip_failure_handlers(engine: Any, sm: Any, fake_jobs: FakeJobs) -> None:
    name = unique()
    sm.create_pipeline(PipelineName=name, PipelineDefinition=compiled_definition(name), RoleArn=ROLE)
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert wait(sm, arn)["PipelineExecutionStatus"] == "Succeeded"
    status = {step: record["StepStatus"] for step, record in steps_of(sm, arn).items()}
    assert status == {"prep": "Succeeded", "fit": "Succeeded", "publish": "Succeeded", "audit": "Succeeded"}
