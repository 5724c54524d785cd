"""churn_training, batch_scoring and retraining end to end: ``airflow dags test`` against the local engine."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest

pytestmark = pytest.mark.e2e


def steps(engine: Any, execution_arn: str) -> dict[str, dict[str, Any]]:
    listed = engine.client("sagemaker").list_pipeline_execution_steps(PipelineExecutionArn=execution_arn)
    return {s["StepName"]: s for s in listed["PipelineExecutionSteps"]}


def s3_text(engine: Any, uri: str) -> str:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    s3 = engine.client("s3")
    if key.endswith("/") or "." not in key.rsplit("/", 1)[-1]:
        keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=key)["Contents"])
        return "".join(s3.get_object(Bucket=bucket, Key=k)["Body"].read().decode() for k in keys)
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()


def test_churn_training_step_tasks_show_job_logs_metrics_and_property_files(trained_churn):
    # The training script prints its AUCs; the fit task logs them from the job log, and the
    # FinalMetricDataList SageMaker (here the engine) derived from them with the MetricDefinitions regexes.
    assert "job log of step fit (CloudWatch Logs group /aws/sagemaker/TrainingJobs" in trained_churn.output
    metrics = trained_churn.xcom("train.fit", "metrics")
    assert set(metrics) == {"train:auc", "validation:auc"} and all(0.5 < v < 1 for v in metrics.values())
    assert f"validation:auc={metrics['validation:auc']:.4f}" in trained_churn.output
    assert "Metrics of step fit" in trained_churn.output
    # The evaluation's property file, the one the condition step reads with JsonGet.
    report = trained_churn.xcom("train.evaluate", "property_files")["metrics"]
    assert set(report["metrics"]) == {"auc", "accuracy", "test_rows"}
    assert "Property file metrics of step evaluate" in trained_churn.output


def test_batch_scoring_with_an_airflow_signoff(examples_airflow, trained_churn, sagemaker_local_engine):
    run = examples_airflow.dags_test("batch_scoring", {"Customers": 200, "threshold": 0.4})
    assert run.states == {
        "latest_model": "success",
        "scoring.start": "success",
        "answer_signoff": "success",
        "scoring.customers": "success",
        "scoring.signoff": "success",
        "scoring.model": "success",
        "scoring.score": "success",
        "summarise": "success",
    }, run.output[-4000:]
    assert run.state == "success"
    # The model came from the package churn_training registered.
    package_arn = trained_churn.xcom("train.register", "ModelPackageArn")
    package = sagemaker_local_engine.client("sagemaker").describe_model_package(ModelPackageName=package_arn)
    assert run.xcom("latest_model") == package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    # The sign-off's output parameter reached the model's environment.
    assert run.xcom("answer_signoff") == {"rows": 200, "threshold": "0.4", "signed_off_by": "airflow"}
    model_name = run.xcom("scoring.model", "ModelName")
    env = sagemaker_local_engine.client("sagemaker").describe_model(ModelName=model_name)["PrimaryContainer"][
        "Environment"]
    assert env["CHURN_THRESHOLD"] == "0.4"
    # Each prediction line: the 5 input features joined with probability,churn.
    lines = s3_text(sagemaker_local_engine, run.xcom("scoring.score", "TransformOutputPath")).splitlines()
    assert len(lines) == 200
    for line in lines:
        *features, probability, churn = line.split(",")
        assert len(features) == 5 and 0 <= float(probability) <= 1
        assert churn == str(int(float(probability) >= 0.4))
    assert run.xcom("summarise") == {"scored": 200, "churners": sum(line.endswith(",1") for line in lines)}


def test_retraining_starts_by_arn_through_the_other_account_and_retries(examples_airflow, trained_churn,
                                                                        sagemaker_local_engine):
    # The first execution's training step fails once; the retry resumes from it.
    sagemaker_local_engine.faults.fail_step("fit", attempts=1, reason="ResourceLimitExceeded: no capacity")
    run = examples_airflow.dags_test("retraining")
    assert run.states == {"start_training": "failed", "retry_training": "success", "report": "success"}, \
        run.output[-4000:]
    assert run.state == "success"
    first = run.xcom("start_training", "execution_arn")
    assert first.startswith("arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn-training/execution/")
    assert run.xcom("retry_training") == first == run.xcom("report")["execution_arn"]
    ran = steps(sagemaker_local_engine, first)
    assert ran["preprocess"]["AttemptCount"] == 1  # kept from the first run, not run again
    assert ran["fit"]["StepStatus"] == "Succeeded"
    assert ran["register"]["StepStatus"] == "Succeeded"
    parameters = sagemaker_local_engine.client("sagemaker").list_pipeline_parameters_for_execution(
        PipelineExecutionArn=first)["PipelineParameters"]
    assert {p["Name"]: p["Value"] for p in parameters}["Rows"] == "8000"
    # The connection assumed the role in the ML account (the engine's STS, moto, answered).
    assert run.xcom("report")["acting_as"].startswith(
        "arn:aws:sts::123456789012:assumed-role/AirflowPipelineRunner/")


@pytest.mark.parametrize(("min_quality", "branch"), [(0.5, "report"), (0.99, "too_poor")])
def test_customer_quality_function_and_notebook_steps(examples_airflow, sagemaker_local_engine, min_quality, branch):
    run = examples_airflow.dags_test("customer_quality", {"MinQuality": min_quality, "Rows": 300})
    passed = branch == "report"
    expected = {"quality.start": "success", "quality.generate": "success", "quality.profile": "success",
                "quality.quality_gate": "success",
                "quality.report": "success" if passed else "skipped",
                "quality.too_poor": "skipped" if passed else "failed",
                "publish": "success" if passed else "skipped", "alert": "skipped" if passed else "success"}
    assert run.states == expected, run.output[-4000:]
    # The function's return value: the step task's XCom, which the Airflow task after the group read.
    profiled = run.xcom("quality.profile")
    assert profiled["rows"] == 300 and profiled["passed"] is passed and 0.7 < profiled["quality"] < 0.95
    assert run.xcom("quality.generate")["rows"] == 300  # Rows reached the function as an int
    if not passed:
        assert run.state == "failed"
        assert f"quality {profiled['quality']} is below MinQuality 0.99" in run.output
        return
    assert run.state == "success"
    assert run.xcom("publish") == (f"300 customers, quality {profiled['quality']:.2%}, "
                                   f"mean spend {profiled['mean_spend']}")
    # The notebook step: its parameters came from profile's result, its outputs are its return value, and
    # the executed notebook and its HTML are in S3.
    verdict = run.xcom("quality.report")["verdict"]
    assert verdict["quality"] == profiled["quality"] and verdict["margin"] == round(profiled["quality"] - 0.5, 4)
    executed = json.loads(s3_text(sagemaker_local_engine, run.xcom("quality.report", "output_notebook")))
    assert verdict["summary"] + "\n" in executed["cells"][3]["outputs"][0]["text"]
    assert verdict["summary"] in s3_text(sagemaker_local_engine, run.xcom("quality.report", "output_html"))


@pytest.mark.skipif(not os.environ.get("MWAA_VERSION", "").startswith("2."),
                    reason="dags/on_pipeline_events.py's Airflow 2.x path (PipelineEventSensor), on the MWAA 2.x venv "
                    "(make test-mwaa-2.11.0); Airflow 3's AssetWatcher runs in tests/runtime/test_events_scheduler.py")
def test_on_pipeline_events_sensor_reports_an_execution_started_with_boto3(examples_airflow, sagemaker_local_engine):
    from airflow_sagemaker_mlops.hooks.events import setup_event_queue

    engine = sagemaker_local_engine
    # The DAG's own queue and rule (as `events setup --queue-name churn-train-events` makes them).
    setup_event_queue(engine.client("sqs"), engine.client("events"), queue_name="churn-train-events",
                      rule_name="churn-train-events")
    sm = engine.client("sagemaker")
    definition = {"Version": "2020-12-01", "Parameters": [{"Name": "Region", "Type": "String", "DefaultValue": "eu"}],
                  "Steps": [{"Name": "check", "Type": "Condition", "Arguments": {
                      "Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}], "IfSteps": [],
                      "ElseSteps": []}}]}
    if "churn-train" not in {p["PipelineName"] for p in sm.list_pipelines()["PipelineSummaries"]}:
        sm.create_pipeline(PipelineName="churn-train", PipelineDefinition=json.dumps(definition),
                           RoleArn="arn:aws:iam::123456789012:role/SageMakerPipelineExecution")
    # Started outside Airflow, with plain boto3: the event waits in the queue for the sensor's first poke.
    arn = sm.start_pipeline_execution(PipelineName="churn-train",
                                      PipelineParameters=[{"Name": "Region", "Value": "us"}])["PipelineExecutionArn"]
    deadline = time.monotonic() + 60
    while sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Executing":
        assert time.monotonic() < deadline, "the execution did not end"
        time.sleep(0.2)
    run = examples_airflow.dags_test("on_churn_trained")
    assert run.states == {"wait_for_churn_train": "success", "report": "success"}, run.output[-4000:]
    payload = run.xcom("report")
    assert payload["execution_arn"] == arn and payload["status"] == "Succeeded"
    assert payload["pipeline_name"] == "churn-train" and payload["parameters"] == {"Region": "us"}
    assert f"churn-train execution {arn} Succeeded; parameters {{'Region': 'us'}}" in run.output
