"""How the engine runs executions: branches, properties, retries, stop, retry, cache, selective runs."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError
from engine_helpers import ROLE, processing_step, steps_of, unique, wait, wait_step

NOOP_CONDITION = [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}]


def retryable(name: str, **extra: Any) -> dict[str, Any]:
    """A Processing step (run by the fake_jobs runner): SageMaker takes retry policies on job steps only."""
    return {"Name": name, "Type": "Processing", "Arguments": {"AppSpecification": {"ImageUri": "img"}}, **extra}


def cond(
    name: str,
    conditions: list[dict[str, Any]],
    if_steps: list | None = None,
    else_steps: list | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "Condition",
        "Arguments": {"Conditions": conditions, "IfSteps": if_steps or [], "ElseSteps": else_steps or []},
        **extra,
    }


def fail(name: str, message: Any = "boom", **extra: Any) -> dict[str, Any]:
    return {"Name": name, "Type": "Fail", "Arguments": {"ErrorMessage": message}, **extra}


def training_step(name: str, bucket: str, **extra: Any) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "Training",
        "Arguments": {
            "AlgorithmSpecification": {"TrainingImage": "local/python", "TrainingInputMode": "File"},
            "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/models"},
            "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 10},
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
            "RoleArn": ROLE,
        },
        **extra,
    }


def run(sm: Any, make_pipeline: Any, steps: list, params: list | None = None, **start: Any) -> tuple[str, dict]:
    name = make_pipeline(steps, params)
    arn = sm.start_pipeline_execution(PipelineName=name, **start)["PipelineExecutionArn"]
    return arn, wait(sm, arn)


# ---- conditions and branches ---------------------------------------------------------------------


def test_branches_run_only_the_taken_side_and_its_dependents(sm: Any, make_pipeline: Any) -> None:
    steps = [
        cond(
            "Gate",
            [{"Type": "LessThan", "LeftValue": {"Get": "Parameters.X"}, "RightValue": 5}],
            if_steps=[cond("Small", NOOP_CONDITION)],
            else_steps=[cond("Large", NOOP_CONDITION)],
        ),
        cond("AfterSmall", NOOP_CONDITION, DependsOn=["Small"]),
        cond("AfterLarge", NOOP_CONDITION, DependsOn=["Large"]),
        cond("Independent", NOOP_CONDITION),
    ]
    params = [{"Name": "X", "Type": "Integer", "DefaultValue": 1}]
    arn, desc = run(sm, make_pipeline, steps, params)
    assert desc["PipelineExecutionStatus"] == "Succeeded"
    listed = steps_of(sm, arn)
    assert set(listed) == {"Gate", "Small", "AfterSmall", "Independent"}
    assert listed["Gate"]["Metadata"]["Condition"]["Outcome"] == "True"
    assert all(s["StepStatus"] == "Succeeded" and s["AttemptCount"] == 1 for s in listed.values())


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"Type": "Equals", "LeftValue": "a", "RightValue": "a"}, True),
        ({"Type": "Equals", "LeftValue": 1, "RightValue": 1.0}, True),
        ({"Type": "GreaterThan", "LeftValue": 2, "RightValue": 2}, False),
        ({"Type": "GreaterThanOrEqualTo", "LeftValue": 2, "RightValue": 2}, True),
        ({"Type": "LessThan", "LeftValue": 1.5, "RightValue": 2}, True),
        ({"Type": "LessThanOrEqualTo", "LeftValue": 3, "RightValue": 2}, False),
        ({"Type": "In", "QueryValue": "b", "Values": ["a", "b"]}, True),
        ({"Type": "In", "QueryValue": "z", "Values": ["a", "b"]}, False),
        ({"Type": "Not", "Condition": {"Type": "Equals", "LeftValue": 1, "RightValue": 2}}, True),
        (
            {
                "Type": "Or",
                "Conditions": [
                    {"Type": "Equals", "LeftValue": 1, "RightValue": 2},
                    {"Type": "Equals", "LeftValue": 2, "RightValue": 2},
                ],
            },
            True,
        ),
    ],
)
def test_condition_types(sm: Any, make_pipeline: Any, condition: dict, expected: bool) -> None:
    arn, _ = run(sm, make_pipeline, [cond("C", [condition])])
    assert steps_of(sm, arn)["C"]["Metadata"]["Condition"]["Outcome"] == str(expected)


def test_conditions_list_is_a_conjunction(sm: Any, make_pipeline: Any) -> None:
    conditions = [
        {"Type": "Equals", "LeftValue": 1, "RightValue": 1},
        {"Type": "Equals", "LeftValue": 1, "RightValue": 2},
    ]
    arn, _ = run(sm, make_pipeline, [cond("C", conditions)])
    assert steps_of(sm, arn)["C"]["Metadata"]["Condition"]["Outcome"] == "False"


def test_fail_step_fails_the_execution_with_its_message(sm: Any, make_pipeline: Any) -> None:
    message = {
        "Std:Join": {
            "On": " ",
            "Values": ["threshold", {"Get": "Parameters.T"}, "not met by", {"Get": "Execution.PipelineName"}],
        }
    }
    params = [{"Name": "T", "Type": "Float", "DefaultValue": 0.8}]
    name = make_pipeline([cond("Gate", NOOP_CONDITION, if_steps=[fail("Stop", message)])], params)
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    desc = wait(sm, arn)
    assert desc["PipelineExecutionStatus"] == "Failed"
    assert desc["FailureReason"]
    step = steps_of(sm, arn)["Stop"]
    assert step["StepStatus"] == "Failed"
    assert step["Metadata"]["Fail"]["ErrorMessage"] == f"threshold 0.8 not met by {name}"
    assert step["FailureReason"] == f"threshold 0.8 not met by {name}"


def test_failure_stops_scheduling_but_not_running_steps(sm: Any, make_pipeline: Any) -> None:
    steps = [fail("Broken"), cond("Later", NOOP_CONDITION, DependsOn=["Broken"])]
    arn, desc = run(sm, make_pipeline, steps)
    assert desc["PipelineExecutionStatus"] == "Failed"
    assert set(steps_of(sm, arn)) == {"Broken"}


def test_execution_variables_and_join(sm: Any, make_pipeline: Any, engine: Any) -> None:
    values = [
        "PipelineExecutionId",
        "PipelineExecutionArn",
        "PipelineName",
        "PipelineArn",
        "StartDateTime",
        "CurrentDateTime",
    ]
    message = {"Std:Join": {"On": "|", "Values": [{"Get": f"Execution.{v}"} for v in values]}}
    name = make_pipeline([fail("Show", message)])
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    wait(sm, arn)
    parts = steps_of(sm, arn)["Show"]["Metadata"]["Fail"]["ErrorMessage"].split("|")
    pipeline_arn = sm.describe_pipeline(PipelineName=name)["PipelineArn"]
    assert parts[:4] == [arn.rsplit("/", 1)[1], arn, name, pipeline_arn]
    assert parts[4].endswith("Z") and parts[4] <= parts[5]


# ---- data flow between steps ---------------------------------------------------------------------


def test_properties_property_files_and_json_get(
    sm: Any, make_pipeline: Any, fake_jobs: Any, bucket: str, engine: Any
) -> None:
    fake_jobs.files = {"evaluation.json": json.dumps({"metrics": {"auc": {"value": 0.93}}, "list": [4, 5]}).encode()}
    evaluate = processing_step(
        "Evaluate",
        bucket,
        PropertyFiles=[{"PropertyFileName": "Metrics", "OutputName": "evaluation", "FilePath": "evaluation.json"}],
    )
    fit = training_step("Fit", bucket)
    # Training reads the processing output through a property path with a keyed list element.
    fit["Arguments"]["InputDataConfig"] = [
        {
            "ChannelName": "train",
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": {"Get": "Steps.Evaluate.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"},
                }
            },
        }
    ]
    auc = {
        "Std:JsonGet": {"PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Metrics"}, "Path": "metrics.auc.value"}
    }
    by_uri = {
        "Std:JsonGet": {
            "S3Uri": {
                "Std:Join": {
                    "On": "/",
                    "Values": [
                        {"Get": "Steps.Evaluate.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"},
                        "evaluation.json",
                    ],
                }
            },
            "Path": "list[1]",
        }
    }
    gate = cond(
        "Gate",
        [
            {"Type": "GreaterThanOrEqualTo", "LeftValue": auc, "RightValue": {"Get": "Parameters.MinAuc"}},
            {"Type": "Equals", "LeftValue": by_uri, "RightValue": 5},
            {"Type": "Equals", "LeftValue": {"Get": "Steps.Fit.FinalMetricDataList['auc'].Value"}, "RightValue": 0.91},
        ],
        if_steps=[
            fail(
                "Report",
                {"Std:Join": {"On": " ", "Values": [{"Get": "Steps.Fit.ModelArtifacts.S3ModelArtifacts"}, auc]}},
            )
        ],
    )
    params = [{"Name": "MinAuc", "Type": "Float", "DefaultValue": 0.9}]
    arn, _ = run(sm, make_pipeline, [evaluate, fit, gate], params)
    listed = steps_of(sm, arn)
    assert listed["Gate"]["Metadata"]["Condition"]["Outcome"] == "True"
    # Data dependency: Fit waited for Evaluate and received its resolved output URI.
    fit_request = next(r for kind, _, r in fake_jobs.calls if kind == "TrainingJob")
    s3_uri = fit_request["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"]
    assert s3_uri == f"s3://{bucket}/Evaluate/evaluation"
    job_name = listed["Fit"]["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[1]
    message = listed["Report"]["Metadata"]["Fail"]["ErrorMessage"]
    assert message.endswith(" 0.93") and job_name in message.lower()


def test_unresolvable_reference_fails_the_step_with_a_reason(sm: Any, make_pipeline: Any, fake_jobs: Any) -> None:
    steps = [
        retryable("A"),
        # A valid path that this execution never fills: checked at create time, unresolvable at run time.
        cond("B", [{"Type": "Equals", "LeftValue": {"Get": "Steps.A.Environment['MISSING']"}, "RightValue": "x"}]),
    ]
    arn, desc = run(sm, make_pipeline, steps)
    assert desc["PipelineExecutionStatus"] == "Failed"
    assert "Environment" in steps_of(sm, arn)["B"]["FailureReason"]


def test_job_steps_metadata_and_describe_calls(sm: Any, make_pipeline: Any, fake_jobs: Any, bucket: str) -> None:
    arn, desc = run(sm, make_pipeline, [processing_step("Prep", bucket), training_step("Fit", bucket)])
    assert desc["PipelineExecutionStatus"] == "Succeeded"
    listed = steps_of(sm, arn)
    exec_id = arn.rsplit("/", 1)[1]
    proc_arn = listed["Prep"]["Metadata"]["ProcessingJob"]["Arn"]
    train_arn = listed["Fit"]["Metadata"]["TrainingJob"]["Arn"]
    assert proc_arn.startswith(f"arn:aws:sagemaker:us-east-1:123456789012:processing-job/pipelines-{exec_id}-prep-")
    proc_name = proc_arn.rsplit("/", 1)[1]
    train_name = train_arn.rsplit("/", 1)[1]
    proc = sm.describe_processing_job(ProcessingJobName=proc_name)
    assert proc["ProcessingJobStatus"] == "Completed"
    assert proc["ProcessingJobArn"] == proc_arn
    training = sm.describe_training_job(TrainingJobName=train_name)
    assert training["ModelArtifacts"]["S3ModelArtifacts"].endswith("model.tar.gz")
    names = [j["TrainingJobName"] for j in sm.list_training_jobs(NameContains=exec_id)["TrainingJobSummaries"]]
    assert names == [training["TrainingJobName"]]
    assert training["TrainingJobName"].lower() == train_name
    with pytest.raises(ClientError):
        sm.describe_training_job(TrainingJobName="not-a-job-anyone-made")


def test_job_failure_reason_reaches_the_step(sm: Any, make_pipeline: Any, fake_jobs: Any, bucket: str) -> None:
    fake_jobs.fail_reason = "AlgorithmError: script exited with 1"
    arn, desc = run(sm, make_pipeline, [training_step("Fit", bucket)])
    assert desc["PipelineExecutionStatus"] == "Failed"
    assert steps_of(sm, arn)["Fit"]["FailureReason"] == "AlgorithmError: script exited with 1"


# ---- parallelism ---------------------------------------------------------------------------------


def test_parallelism_limits_concurrent_steps(sm: Any, make_pipeline: Any, fake_jobs: Any, bucket: str) -> None:
    """Jobs block until the limit is reached (however slow the machine), then all run: never more at once."""
    steps = [processing_step(f"P{i}", bucket) for i in range(6)]
    name = make_pipeline(steps, ParallelismConfiguration={"MaxParallelExecutionSteps": 2})

    def run_with_limit(limit: int, **start: Any) -> None:
        fake_jobs.max_running = 0
        fake_jobs.block = threading.Event()
        arn = sm.start_pipeline_execution(PipelineName=name, **start)["PipelineExecutionArn"]
        deadline = time.monotonic() + 30
        while fake_jobs.running < limit and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)  # room for a step over the limit to start, were the limit not kept
        fake_jobs.block.set()
        assert wait(sm, arn)["PipelineExecutionStatus"] == "Succeeded"
        assert fake_jobs.max_running == limit

    run_with_limit(2)
    # The execution's own setting overrides the pipeline's.
    run_with_limit(3, ParallelismConfiguration={"MaxParallelExecutionSteps": 3})


def test_dependencies_order_steps(sm: Any, make_pipeline: Any) -> None:
    steps = [
        cond("C", NOOP_CONDITION, DependsOn=["B"]),
        cond("B", NOOP_CONDITION, DependsOn=["A"]),
        cond("A", NOOP_CONDITION),
    ]
    arn, _ = run(sm, make_pipeline, steps)
    listed = steps_of(sm, arn)
    assert listed["A"]["EndTime"] <= listed["B"]["StartTime"] <= listed["B"]["EndTime"] <= listed["C"]["StartTime"]
    ordered = [
        s["StepName"]
        for s in sm.list_pipeline_execution_steps(PipelineExecutionArn=arn, SortOrder="Ascending")[
            "PipelineExecutionSteps"
        ]
    ]
    assert ordered == ["A", "B", "C"]


def test_list_steps_paginates(sm: Any, make_pipeline: Any) -> None:
    arn, _ = run(sm, make_pipeline, [cond(f"S{i}", NOOP_CONDITION) for i in range(5)])
    first = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn, MaxResults=2)
    assert len(first["PipelineExecutionSteps"]) == 2 and first["NextToken"]
    second = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn, MaxResults=2, NextToken=first["NextToken"])
    assert len(second["PipelineExecutionSteps"]) == 2
    assert len(steps_of(sm, arn)) == 5
    with pytest.raises(ClientError) as excinfo:
        sm.list_pipeline_execution_steps(PipelineExecutionArn=arn, NextToken="garbage!!")
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"


# ---- retries -------------------------------------------------------------------------------------


def test_retry_policy_retries_matching_failures(sm: Any, make_pipeline: Any, engine: Any, fake_jobs: Any) -> None:
    name = make_pipeline(
        [
            retryable(
                "Flaky",
                RetryPolicies=[
                    {
                        "ExceptionType": ["SageMaker.JOB_INTERNAL_ERROR"],
                        "IntervalSeconds": 1,
                        "BackoffRate": 2.0,
                        "MaxAttempts": 3,
                    }
                ],
            )
        ]
    )
    engine.faults.fail_step("Flaky", attempts=2, pipeline=name)
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert wait(sm, arn)["PipelineExecutionStatus"] == "Succeeded"
    step = steps_of(sm, arn)["Flaky"]
    assert step["AttemptCount"] == 3
    assert step["StepStatus"] == "Succeeded"


def test_retry_policy_gives_up_after_max_attempts(sm: Any, make_pipeline: Any, engine: Any, fake_jobs: Any) -> None:
    name = make_pipeline(
        [
            retryable(
                "Flaky",
                RetryPolicies=[
                    {
                        "ExceptionType": ["SageMaker.CAPACITY_ERROR"],
                        "IntervalSeconds": 1,
                        "BackoffRate": 1.0,
                        "MaxAttempts": 1,
                    }
                ],
            )
        ]
    )
    engine.faults.fail_step(
        "Flaky", "CapacityError: no ml.p4d", exception_type="SageMaker.CAPACITY_ERROR", pipeline=name
    )
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert wait(sm, arn)["PipelineExecutionStatus"] == "Failed"
    step = steps_of(sm, arn)["Flaky"]
    assert (step["AttemptCount"], step["FailureReason"]) == (2, "CapacityError: no ml.p4d")


def test_retry_policy_ignores_other_exception_types(sm: Any, make_pipeline: Any, engine: Any, fake_jobs: Any) -> None:
    name = make_pipeline(
        [
            retryable(
                "Flaky",
                RetryPolicies=[
                    {
                        "ExceptionType": ["Step.THROTTLING"],
                        "IntervalSeconds": 1,
                        "BackoffRate": 1.0,
                        "ExpireAfterMin": 10,
                    }
                ],
            )
        ]
    )
    engine.faults.fail_step("Flaky", attempts=1, pipeline=name)
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert wait(sm, arn)["PipelineExecutionStatus"] == "Failed"
    assert steps_of(sm, arn)["Flaky"]["AttemptCount"] == 1


def test_retry_with_the_same_client_request_token_resumes_once(sm: Any, make_pipeline: Any, engine: Any) -> None:
    # RetryPipelineExecution's ClientRequestToken: "an idempotent operation completes no more than once"
    # (API reference); clear to resume sends one token per failure from every cleared task.
    name = make_pipeline([cond("Slow", NOOP_CONDITION), cond("Flaky", NOOP_CONDITION, DependsOn=["Slow"])])
    engine.faults.fail_step("Flaky", attempts=2, pipeline=name)
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert wait(sm, arn)["PipelineExecutionStatus"] == "Failed"
    def retry(token: str) -> str:
        return sm.retry_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=token)["PipelineExecutionArn"]

    assert retry("t" * 40) == arn
    assert wait(sm, arn)["PipelineExecutionStatus"] == "Failed"  # the second attempt fails too
    # The same token again (a task that saw the first failure): no second retry.
    assert retry("t" * 40) == arn
    assert engine.engine.executions[arn].retries == 1
    assert sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Failed"
    # A new failure, a new token: resumed again.
    retry("u" * 40)
    assert wait(sm, arn)["PipelineExecutionStatus"] == "Succeeded"
    assert engine.engine.executions[arn].retries == 2


def test_retry_pipeline_execution_reruns_failed_and_unrun_steps(sm: Any, make_pipeline: Any, engine: Any) -> None:
    steps = [
        cond("Ok", NOOP_CONDITION),
        cond("Flaky", NOOP_CONDITION, DependsOn=["Ok"]),
        cond("After", NOOP_CONDITION, DependsOn=["Flaky"]),
    ]
    name = make_pipeline(steps)
    engine.faults.fail_step("Flaky", "InternalServerError: transient", attempts=1, pipeline=name)
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert wait(sm, arn)["PipelineExecutionStatus"] == "Failed"
    before = steps_of(sm, arn)
    assert set(before) == {"Ok", "Flaky"}
    assert before["Flaky"]["FailureReason"] == "InternalServerError: transient"

    assert sm.retry_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionArn"] == arn
    desc = wait(sm, arn)
    assert desc["PipelineExecutionStatus"] == "Succeeded"
    assert "FailureReason" not in desc
    after = steps_of(sm, arn)
    assert set(after) == {"Ok", "Flaky", "After"}
    assert after["Ok"]["StartTime"] == before["Ok"]["StartTime"]  # kept, not re-run
    assert after["Flaky"]["AttemptCount"] == 2
    assert after["Flaky"]["StepStatus"] == "Succeeded"
    with pytest.raises(ClientError) as excinfo:
        sm.retry_pipeline_execution(PipelineExecutionArn=arn)
    assert excinfo.value.response["Error"]["Code"] == "ConflictException"


# ---- stop ----------------------------------------------------------------------------------------


def test_stop_ends_running_steps_stopped(sm: Any, make_pipeline: Any, fake_jobs: Any, bucket: str) -> None:
    fake_jobs.block = threading.Event()  # the job runs until stopped
    steps = [processing_step("Long", bucket), cond("After", NOOP_CONDITION, DependsOn=["Long"])]
    name = make_pipeline(steps)
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    wait_step(sm, arn, "Long", lambda s: s["StepStatus"] == "Executing")
    sm.stop_pipeline_execution(PipelineExecutionArn=arn)
    desc = wait(sm, arn)
    assert desc["PipelineExecutionStatus"] == "Stopped"
    listed = steps_of(sm, arn)
    assert set(listed) == {"Long"}
    assert listed["Long"]["StepStatus"] == "Stopped"
    job = listed["Long"]["Metadata"]["ProcessingJob"]["Arn"].rsplit("/", 1)[1]
    assert sm.describe_processing_job(ProcessingJobName=job)["ProcessingJobStatus"] == "Stopped"
    # A stopped execution can be retried: the stopped step runs again.
    fake_jobs.block = None
    sm.retry_pipeline_execution(PipelineExecutionArn=arn)
    assert wait(sm, arn)["PipelineExecutionStatus"] == "Succeeded"
    assert set(steps_of(sm, arn)) == {"Long", "After"}


def test_stop_during_retry_backoff(sm: Any, make_pipeline: Any, engine: Any, fake_jobs: Any) -> None:
    name = make_pipeline(
        [
            retryable(
                "Flaky",
                RetryPolicies=[
                    {
                        "ExceptionType": ["Step.SERVICE_FAULT"],
                        "IntervalSeconds": 3600,
                        "BackoffRate": 1.0,
                        "MaxAttempts": 5,
                    }
                ],
            )
        ]
    )
    engine.faults.fail_step("Flaky", exception_type="Step.SERVICE_FAULT", pipeline=name)
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    wait_step(sm, arn, "Flaky", lambda s: s["AttemptCount"] >= 1)
    sm.stop_pipeline_execution(PipelineExecutionArn=arn)
    assert wait(sm, arn)["PipelineExecutionStatus"] == "Stopped"
    assert steps_of(sm, arn)["Flaky"]["StepStatus"] == "Stopped"


# ---- cache and selective execution ---------------------------------------------------------------


def test_cache_hit_reports_the_source_execution(sm: Any, make_pipeline: Any, fake_jobs: Any, bucket: str) -> None:
    step = processing_step("Prep", bucket, CacheConfig={"Enabled": True, "ExpireAfter": "PT1H"})
    step["Arguments"]["Environment"] = {"MODE": {"Get": "Parameters.Mode"}}
    params = [{"Name": "Mode", "Type": "String", "DefaultValue": "a"}]
    name = make_pipeline([step], params)
    first = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    wait(sm, first)
    second = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    wait(sm, second)
    third = sm.start_pipeline_execution(PipelineName=name, PipelineParameters=[{"Name": "Mode", "Value": "b"}])[
        "PipelineExecutionArn"
    ]
    wait(sm, third)
    assert len(fake_jobs.calls) == 2
    hit = steps_of(sm, second)["Prep"]
    assert hit["CacheHitResult"] == {"SourcePipelineExecutionArn": first}
    assert hit["Metadata"] == steps_of(sm, first)["Prep"]["Metadata"]
    assert "CacheHitResult" not in steps_of(sm, third)["Prep"]


def test_selective_execution_runs_only_selected_steps(sm: Any, make_pipeline: Any, fake_jobs: Any, bucket: str) -> None:
    steps = [
        processing_step("Prep", bucket),
        training_step("Fit", bucket),
        cond(
            "Check",
            [{"Type": "Equals", "LeftValue": {"Get": "Steps.Prep.ProcessingJobStatus"}, "RightValue": "Completed"}],
            DependsOn=["Fit"],
        ),
    ]
    name = make_pipeline(steps)
    source = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    wait(sm, source)
    calls = len(fake_jobs.calls)
    selected = sm.start_pipeline_execution(
        PipelineName=name,
        SelectiveExecutionConfig={"SourcePipelineExecutionArn": source, "SelectedSteps": [{"StepName": "Check"}]},
    )["PipelineExecutionArn"]
    desc = wait(sm, selected)
    assert desc["PipelineExecutionStatus"] == "Succeeded"
    assert desc["SelectiveExecutionConfig"]["SourcePipelineExecutionArn"] == source
    assert len(fake_jobs.calls) == calls  # Prep and Fit were not re-run
    listed = steps_of(sm, selected)
    assert listed["Check"]["Metadata"]["Condition"]["Outcome"] == "True"
    assert "SelectiveExecutionResult" not in listed["Check"]
    assert listed["Prep"]["SelectiveExecutionResult"] == {"SourcePipelineExecutionArn": source}

    with pytest.raises(ClientError) as excinfo:
        sm.start_pipeline_execution(
            PipelineName=name,
            SelectiveExecutionConfig={"SourcePipelineExecutionArn": source, "SelectedSteps": [{"StepName": "Nope"}]},
        )
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"


# ---- engine-native step types --------------------------------------------------------------------


def test_callback_step_round_trip(sm: Any, make_pipeline: Any, engine: Any) -> None:
    sqs = engine.client("sqs")
    queue = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    callback = {
        "Name": "Approve",
        "Type": "Callback",
        "Arguments": {"model": {"Get": "Parameters.Model"}, "n": 3},
        "SqsQueueUrl": queue,
        "OutputParameters": [
            {"OutputName": "approved", "OutputType": "Boolean"},
            {"OutputName": "score", "OutputType": "Float"},
        ],
    }
    gate = cond(
        "Gate",
        [
            {"Type": "Equals", "LeftValue": {"Get": "Steps.Approve.OutputParameters['approved']"}, "RightValue": True},
            {"Type": "GreaterThan", "LeftValue": {"Get": "Steps.Approve.OutputParameters['score']"}, "RightValue": 0.5},
        ],
    )
    name = make_pipeline([callback, gate], [{"Name": "Model", "Type": "String", "DefaultValue": "m1"}])
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    messages = []
    deadline = time.monotonic() + 10
    while not messages and time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", [])
    body = json.loads(messages[0]["Body"])
    assert body["pipelineExecutionArn"] == arn
    assert body["arguments"] == {"model": "m1", "n": 3}
    assert body["status"] == "Executing"
    step = steps_of(sm, arn)["Approve"]
    assert step["StepStatus"] == "Executing"
    assert step["Metadata"]["Callback"] == {"CallbackToken": body["token"], "SqsQueueUrl": queue}

    sm.send_pipeline_execution_step_success(
        CallbackToken=body["token"],
        OutputParameters=[{"Name": "approved", "Value": "true"}, {"Name": "score", "Value": "0.75"}],
    )
    assert wait(sm, arn)["PipelineExecutionStatus"] == "Succeeded"
    listed = steps_of(sm, arn)
    assert listed["Gate"]["Metadata"]["Condition"]["Outcome"] == "True"
    assert listed["Approve"]["Metadata"]["Callback"]["OutputParameters"] == [
        {"Name": "approved", "Value": "true"},
        {"Name": "score", "Value": "0.75"},
    ]
    with pytest.raises(ClientError) as excinfo:
        sm.send_pipeline_execution_step_success(CallbackToken=body["token"])
    assert excinfo.value.response["Error"]["Code"] == "ConflictException"
    with pytest.raises(ClientError) as excinfo:
        sm.send_pipeline_execution_step_success(CallbackToken="unknown123")
    assert excinfo.value.response["Error"]["Code"] == "ResourceNotFound"


def test_callback_failure(sm: Any, make_pipeline: Any, engine: Any) -> None:
    queue = engine.client("sqs").create_queue(QueueName=unique("q"))["QueueUrl"]
    name = make_pipeline([{"Name": "Ask", "Type": "Callback", "Arguments": {}, "SqsQueueUrl": queue}])
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    token = wait_step(sm, arn, "Ask", lambda s: "CallbackToken" in s.get("Metadata", {}).get("Callback", {}))[
        "Metadata"
    ]["Callback"]["CallbackToken"]
    sm.send_pipeline_execution_step_failure(CallbackToken=token, FailureReason="rejected by reviewer")
    assert wait(sm, arn)["PipelineExecutionStatus"] == "Failed"
    assert steps_of(sm, arn)["Ask"]["FailureReason"] == "rejected by reviewer"


def test_callback_to_missing_queue_fails_the_step(sm: Any, make_pipeline: Any, engine: Any) -> None:
    queue = f"{engine.url}/123456789012/no-such-queue-{uuid.uuid4().hex[:6]}"
    arn, desc = run(sm, make_pipeline, [{"Name": "Ask", "Type": "Callback", "Arguments": {}, "SqsQueueUrl": queue}])
    assert desc["PipelineExecutionStatus"] == "Failed"
    assert "no-such-queue" in steps_of(sm, arn)["Ask"]["FailureReason"]


def lambda_double(event: dict, context: Any) -> dict:
    return {"doubled": event["x"] * 2, "label": f"x={event['x']}"}


def test_lambda_step_with_mapped_handler(sm: Any, make_pipeline: Any, engine: Any) -> None:
    arn_fn = "arn:aws:lambda:us-east-1:123456789012:function:doubler"
    engine.config.lambda_handlers[arn_fn] = lambda_double
    step = {
        "Name": "Double",
        "Type": "Lambda",
        "Arguments": {"x": {"Get": "Parameters.X"}},
        "FunctionArn": arn_fn,
        "OutputParameters": [
            {"OutputName": "doubled", "OutputType": "Integer"},
            {"OutputName": "label", "OutputType": "String"},
        ],
    }
    gate = cond(
        "Gate", [{"Type": "Equals", "LeftValue": {"Get": "Steps.Double.OutputParameters['doubled']"}, "RightValue": 42}]
    )
    arn, desc = run(sm, make_pipeline, [step, gate], [{"Name": "X", "Type": "Integer", "DefaultValue": 21}])
    assert desc["PipelineExecutionStatus"] == "Succeeded"
    listed = steps_of(sm, arn)
    assert listed["Gate"]["Metadata"]["Condition"]["Outcome"] == "True"
    assert listed["Double"]["Metadata"]["Lambda"] == {
        "Arn": arn_fn,
        "OutputParameters": [{"Name": "doubled", "Value": "42"}, {"Name": "label", "Value": "x=21"}],
    }


def test_lambda_step_by_name_and_module_string(sm: Any, make_pipeline: Any, engine: Any) -> None:
    engine.config.lambda_handlers["doubler2"] = "test_engine_execution:lambda_double"
    step = {
        "Name": "Double",
        "Type": "Lambda",
        "Arguments": {"x": 2},
        "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:doubler2",
        "OutputParameters": [{"OutputName": "doubled", "OutputType": "Integer"}],
    }
    _, desc = run(sm, make_pipeline, [step])
    assert desc["PipelineExecutionStatus"] == "Succeeded"


def test_lambda_step_runs_a_zip_created_in_the_engines_lambda(sm: Any, make_pipeline: Any, engine: Any) -> None:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return {'sum': event['a'] + event['b']}\n")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = engine.client("iam").create_role(RoleName=unique("role"), AssumeRolePolicyDocument=json.dumps(trust))
    function = engine.client("lambda").create_function(
        FunctionName=unique("fn"),
        Runtime="python3.11",
        Role=role["Role"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": buffer.getvalue()},
    )
    step = {
        "Name": "Add",
        "Type": "Lambda",
        "Arguments": {"a": 2, "b": 3},
        "FunctionArn": function["FunctionArn"],
        "OutputParameters": [{"OutputName": "sum", "OutputType": "Integer"}],
    }
    arn, desc = run(sm, make_pipeline, [step])
    assert desc["PipelineExecutionStatus"] == "Succeeded", steps_of(sm, arn)["Add"].get("FailureReason")
    assert steps_of(sm, arn)["Add"]["Metadata"]["Lambda"]["OutputParameters"] == [{"Name": "sum", "Value": "5"}]


def test_lambda_without_handler_fails_with_a_reason(sm: Any, make_pipeline: Any) -> None:
    step = {
        "Name": "L",
        "Type": "Lambda",
        "Arguments": {},
        "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:nobody-made-this",
    }
    arn, desc = run(sm, make_pipeline, [step])
    assert desc["PipelineExecutionStatus"] == "Failed"
    assert "lambda_handlers" in steps_of(sm, arn)["L"]["FailureReason"]


def test_model_and_register_model_steps_create_moto_resources(
    sm: Any, make_pipeline: Any, fake_jobs: Any, bucket: str
) -> None:
    group = unique("group")
    container = {
        "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1",
        "ModelDataUrl": {"Get": "Steps.Fit.ModelArtifacts.S3ModelArtifacts"},
    }
    model = {
        "Name": "CreateModel",
        "Type": "Model",
        "Arguments": {"ExecutionRoleArn": ROLE, "PrimaryContainer": container},
    }
    register = {
        "Name": "Register",
        "Type": "RegisterModel",
        "Arguments": {
            "ModelPackageGroupName": group,
            "ModelApprovalStatus": "PendingManualApproval",
            "InferenceSpecification": {
                "Containers": [container],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        },
    }
    arn, desc = run(sm, make_pipeline, [training_step("Fit", bucket), model, register])
    assert desc["PipelineExecutionStatus"] == "Succeeded", steps_of(sm, arn)
    listed = steps_of(sm, arn)
    model_arn = listed["CreateModel"]["Metadata"]["Model"]["Arn"]
    model_desc = sm.describe_model(ModelName=model_arn.rsplit("/", 1)[1])
    assert model_desc["PrimaryContainer"]["ModelDataUrl"].endswith("model.tar.gz")
    package_arn = listed["Register"]["Metadata"]["RegisterModel"]["Arn"]
    package = sm.describe_model_package(ModelPackageName=package_arn)
    assert package["ModelPackageGroupName"] == group
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    assert sm.describe_model_package_group(ModelPackageGroupName=group)["ModelPackageGroupName"] == group
    # A second registration adds version 2 to the existing group.
    arn2 = sm.start_pipeline_execution(PipelineName=arn.split("/")[1])["PipelineExecutionArn"]
    wait(sm, arn2)
    packages = sm.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"]
    assert len(packages) == 2


EMR_SERVERLESS = {"ExecutionRoleArn": "arn:aws:iam::123456789012:role/Emr", "ApplicationId": "00f1",
                  "JobConfig": {"executionRoleArn": "arn:aws:iam::123456789012:role/Emr", "applicationId": "00f1",
                                "jobDriver": {"sparkSubmit": {"entryPoint": "s3://b/job.py"}}}}


@pytest.mark.parametrize("step_type", ["EMR", "EMRServerless", "QualityCheck", "ClarifyCheck", "AutoML",
                                       "EndpointConfig"])
def test_unsupported_step_types_fail_saying_so(sm: Any, make_pipeline: Any, step_type: str) -> None:
    arguments = EMR_SERVERLESS if step_type == "EMRServerless" else {}
    arn, desc = run(sm, make_pipeline, [{"Name": "X", "Type": step_type, "Arguments": arguments}])
    assert desc["PipelineExecutionStatus"] == "Failed"
    reason = steps_of(sm, arn)["X"]["FailureReason"]
    assert f"cannot run steps of type {step_type}" in reason


# ---- scale ---------------------------------------------------------------------------------------


def test_200_concurrent_executions_finish(sm: Any, make_pipeline: Any, engine: Any) -> None:
    steps = [
        cond("A", NOOP_CONDITION),
        cond("B", NOOP_CONDITION, DependsOn=["A"]),
        cond("C", NOOP_CONDITION, DependsOn=["A"]),
    ]
    name = make_pipeline(steps)
    arns = [sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"] for _ in range(200)]
    statuses = {engine.wait(arn, timeout=60) for arn in arns}
    assert statuses == {"Succeeded"}
