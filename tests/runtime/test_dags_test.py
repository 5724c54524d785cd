"""The run-time bridge end to end: ``airflow dags test`` of real DAGs against the local engine."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.e2e


def executions(engine: Any, pipeline: str) -> list[dict[str, Any]]:
    sm = engine.client("sagemaker")
    return sm.list_pipeline_executions(PipelineName=pipeline)["PipelineExecutionSummaries"]


def steps(engine: Any, execution_arn: str) -> dict[str, dict[str, Any]]:
    sm = engine.client("sagemaker")
    return {s["StepName"]: s for s in sm.list_pipeline_execution_steps(PipelineExecutionArn=execution_arn)
            ["PipelineExecutionSteps"]}


def s3_text(engine: Any, uri: str) -> str:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return engine.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()


@pytest.mark.parametrize(("conf", "branch"), [({"score": "0.9", "threshold": 0.5}, True),
                                              ({"score": "0.2", "threshold": 0.5}, False)])
def test_both_branches_of_a_condition_reach_downstream_tasks(airflow, sagemaker_local_engine, conf, branch):
    run = airflow.dags_test("rt_branches", conf)
    taken, other = ("success", "skipped") if branch else ("skipped", "success")
    assert run.states == {
        "train.start": "success",
        "train.evaluate": "success",
        "train.gate": "success",
        "train.register": taken,
        "train.report": other,
        "deploy": taken,
        "notify": other,
    }, run.output[-4000:]
    execution_arn = run.xcom("train.start", "execution_arn")
    ran = steps(sagemaker_local_engine, execution_arn)
    assert ran["gate"]["Metadata"]["Condition"]["Outcome"] == str(branch).lower().capitalize()
    assert ("register" in ran) is branch and ("report" in ran) is not branch
    assert run.xcom("train.gate", "Outcome") in (branch, str(branch))
    if branch:
        package_arn = run.xcom("train.register", "ModelPackageArn")
        assert package_arn.startswith("arn:aws:sagemaker:us-east-1:123456789012:model-package/rt-models/")
        assert run.xcom("deploy") == package_arn
    parameters = sagemaker_local_engine.client("sagemaker").list_pipeline_parameters_for_execution(
        PipelineExecutionArn=execution_arn)["PipelineParameters"]
    assert {p["Name"]: p["Value"] for p in parameters}["Score"] == conf["score"]


def test_a_failing_step_fails_its_task_with_the_reason(airflow, sagemaker_local_engine):
    run = airflow.dags_test("rt_failing")
    assert run.states == {
        "etl.start": "success",
        "etl.broken": "failed",
        "etl.after": "upstream_failed",
        "cleanup": "success",       # trigger_rule one_failed
        "publish": "upstream_failed",
    }, run.output[-4000:]
    assert "bad data: 42 rows without a label" in run.output
    execution_arn = run.xcom("etl.start", "execution_arn")
    described = sagemaker_local_engine.client("sagemaker").describe_pipeline_execution(
        PipelineExecutionArn=execution_arn)
    assert described["PipelineExecutionStatus"] == "Failed"


def test_a_callback_answered_from_airflow_feeds_a_later_step(airflow, sagemaker_local_engine):
    run = airflow.dags_test("rt_callback")
    assert run.states == {"review.start": "success", "answer": "success", "review.approve": "success",
                          "review.publish": "success"}, run.output[-4000:]
    outputs = run.xcom("review.approve", "OutputParameters")
    assert outputs["note"] == "reviewed s3://rt-data/model.tar.gz"
    assert str(outputs["approved"]).lower() == "true"  # SageMaker lists output parameters as strings
    execution_id = run.xcom("review.start", "execution_arn").rsplit("/", 1)[-1]
    assert s3_text(sagemaker_local_engine, f"s3://rt-data/report/{execution_id}/note.txt") == \
        "reviewed s3://rt-data/model.tar.gz"


def test_retry_of_a_failed_execution_resumes_from_the_failed_step(airflow, sagemaker_local_engine):
    sagemaker_local_engine.faults.fail_step("flaky", "InternalServerError: injected", attempts=1,
                                            pipeline="rt-retry")
    run = airflow.dags_test("rt_retry")
    assert run.states == {"etl.start": "success", "etl.first": "success", "etl.flaky": "failed",
                          "resume": "success"}, run.output[-4000:]
    execution_arn = run.xcom("etl.start", "execution_arn")
    after = steps(sagemaker_local_engine, execution_arn)
    assert after["flaky"]["StepStatus"] == "Succeeded" and after["flaky"]["AttemptCount"] == 2
    assert after["first"]["AttemptCount"] == 1  # kept, not re-run
    status = sagemaker_local_engine.client("sagemaker").describe_pipeline_execution(
        PipelineExecutionArn=execution_arn)["PipelineExecutionStatus"]
    assert status == "Succeeded"


def test_a_retried_start_task_reattaches_instead_of_starting_twice(airflow, sagemaker_local_engine, tmp_path):
    before = len(executions(sagemaker_local_engine, "rt-crash")) if _exists(sagemaker_local_engine, "rt-crash") else 0
    marker = tmp_path / "crashed"
    run = airflow.dags_test("rt_crash", RT_CRASH_MARKER=str(marker))
    assert marker.exists(), "the simulated crash did not happen"
    assert run.states == {"etl.start": "success", "etl.only": "success"}, run.output[-4000:]
    assert "simulated worker crash" in run.output
    assert len(executions(sagemaker_local_engine, "rt-crash")) == before + 1
    assert run.xcom("etl.start", "execution_arn") == marker.read_text()


def test_the_dag_succeeds_with_30_percent_of_engine_calls_throttled(airflow, sagemaker_local_engine, monkeypatch):
    faults = sagemaker_local_engine.faults
    decisions: list[bool] = []
    decide = faults.should_throttle

    def counting(operation: str) -> bool:
        decisions.append(decide(operation))
        return decisions[-1]

    monkeypatch.setattr(faults, "should_throttle", counting)
    faults.throttle(0.3, seed=7)
    run = airflow.dags_test("rt_branches", {"score": "0.8", "threshold": 0.5})
    faults.clear()
    assert run.states["deploy"] == "success" and run.states["notify"] == "skipped", run.output[-4000:]
    # Every engine call drew from the 30% throttle, and the throttled ones were retried transparently.
    assert len(decisions) > 10 and sum(decisions) >= 3, (sum(decisions), len(decisions))


def _exists(engine: Any, pipeline: str) -> bool:
    sm = engine.client("sagemaker")
    return any(p["PipelineName"] == pipeline for p in sm.list_pipelines()["PipelineSummaries"])


def test_collapsed_group_polls_once_and_mirrors_from_the_wait_task(airflow, sagemaker_local_engine):
    run = airflow.dags_test("rt_collapsed")
    assert run.states == {"etl.start": "success", "etl.wait": "success", "etl.first": "success",
                          "etl.is_full": "success", "etl.full": "success", "incremental_only": "skipped"}, \
        run.output[-4000:]
    assert {s["StepName"] for s in run.xcom("etl.wait", "steps")} == {"first", "is_full", "full"}


def test_lifecycle_operators_on_a_pipeline_started_by_arn(airflow, sagemaker_local_engine):
    run = airflow.dags_test("rt_lifecycle")
    assert run.states == {
        "base.start": "success", "base.first": "success", "base.is_full": "success",
        "start_by_arn": "success", "wait_poke": "success", "first_step": "success", "branch": "success",
        "full_path": "skipped", "incremental_path": "success", "stop": "success",
    }, run.output[-4000:]
    execution_arn = run.xcom("start_by_arn")
    assert execution_arn != run.xcom("base.start", "execution_arn")
    parameters = sagemaker_local_engine.client("sagemaker").list_pipeline_parameters_for_execution(
        PipelineExecutionArn=execution_arn)["PipelineParameters"]
    assert {p["Name"]: p["Value"] for p in parameters} == {"Mode": "incremental"}
    assert run.xcom("first_step", "StepStatus") == "Succeeded"
    assert run.xcom("branch", "Outcome") in (False, "False", "false")
