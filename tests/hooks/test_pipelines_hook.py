"""SageMakerPipelinesHook against the local engine: upsert, assets, start, steps, stop, retry, callbacks."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from typing import Any

import pytest
from pipeline_helpers import (
    ROLE,
    callback,
    fail,
    noop,
    spec,
    steps_by_name,
    unique,
    wait_execution,
    wait_until,
)

from airflow_sagemaker_mlops.compiler.assets import package
from airflow_sagemaker_mlops.definition import PipelineParameter
from airflow_sagemaker_mlops.exceptions import PipelineDefinitionError, SageMakerMlopsError
from airflow_sagemaker_mlops.hooks.errors import (
    PipelineParameterError,
    SageMakerApiError,
    SageMakerConflictError,
    SageMakerResourceNotFoundError,
    SageMakerValidationError,
)
from airflow_sagemaker_mlops.hooks.pipelines import (
    DEFINITION_HASH_TAG,
    SageMakerPipelinesHook,
    definition_hash,
)


def tags_of(hook: SageMakerPipelinesHook, arn: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in hook.conn.list_tags(ResourceArn=arn)["Tags"]}


def token(*parts: str) -> str:
    return SageMakerPipelinesHook.execution_token("test", unique(), *parts)


# ---- upsert ------------------------------------------------------------------------------------


def test_upsert_creates_then_leaves_unchanged_then_updates(hook: Any, calls: Any) -> None:
    first = spec([noop("A")], tags={"team": "ml"}, description="v1", max_parallel_steps=2)
    created = hook.upsert_pipeline(first)
    assert created.action == "created"
    assert created.definition_hash == first.definition.content_hash()
    assert tags_of(hook, created.pipeline_arn) == {"team": "ml", DEFINITION_HASH_TAG: created.definition_hash}
    deployed = hook.describe_pipeline(first.name)
    assert deployed["PipelineDescription"] == "v1"
    assert deployed["ParallelismConfiguration"] == {"MaxParallelExecutionSteps": 2}

    calls.calls.clear()
    again = hook.upsert_pipeline(dataclasses.replace(first))
    assert (again.action, again.pipeline_arn) == ("unchanged", created.pipeline_arn)
    assert calls.calls == {"DescribePipeline": 1}  # no UpdatePipeline, no tagging

    changed = spec([noop("A"), noop("B", DependsOn=["A"])], name=first.name, description="v1", max_parallel_steps=2)
    updated = hook.upsert_pipeline(changed)
    assert updated.action == "updated"
    assert updated.definition_hash != created.definition_hash
    assert definition_hash(hook.describe_pipeline(first.name)["PipelineDefinition"]) == updated.definition_hash
    assert tags_of(hook, created.pipeline_arn)[DEFINITION_HASH_TAG] == updated.definition_hash
    assert calls.calls["UpdatePipeline"] == 1


@pytest.mark.parametrize(
    "setting",
    [{"description": "v2"}, {"display_name": "Shown"}, {"max_parallel_steps": 5}, {"role_arn": ROLE + "2"}],
)
def test_a_changed_pipeline_setting_alone_updates(hook: Any, calls: Any, setting: dict) -> None:
    base = spec([noop("A")], description="v1", max_parallel_steps=2)
    hook.upsert_pipeline(base)
    result = hook.upsert_pipeline(dataclasses.replace(base, **setting))
    assert result.action == "updated"
    assert calls.calls["UpdatePipeline"] == 1
    # Settings the spec leaves unset are not compared: they stay as deployed.
    unset = dataclasses.replace(base, **{"description": None, "max_parallel_steps": None, **setting})
    assert hook.upsert_pipeline(unset).action == "unchanged"


def test_unchanged_compares_content_not_key_order(hook: Any) -> None:
    s = spec([noop("A"), fail("B", "no", DependsOn=["A"])])
    # Deployed by someone else with the same content but keys sorted differently.
    reordered = json.dumps(s.definition.to_request(), sort_keys=True, indent=2)
    hook.conn.create_pipeline(PipelineName=s.name, PipelineDefinition=reordered, RoleArn=ROLE)
    assert hook.upsert_pipeline(s).action == "unchanged"


def test_create_racing_another_creator_falls_back_to_update(hook: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    theirs = spec([noop("Theirs")])
    hook.upsert_pipeline(theirs)
    ours = spec([noop("Ours")], name=theirs.name)
    real_describe = hook.describe_pipeline
    seen = []

    def describe_missing_once(name: str) -> Any:
        # Our describe ran before the other task's create landed.
        if not seen:
            seen.append(name)
            return None
        return real_describe(name)

    monkeypatch.setattr(hook, "describe_pipeline", describe_missing_once)
    result = hook.upsert_pipeline(ours)
    assert result.action == "updated"
    assert definition_hash(real_describe(ours.name)["PipelineDefinition"]) == ours.definition.content_hash()


def test_create_without_role_is_refused_before_create(hook: Any, calls: Any) -> None:
    with pytest.raises(PipelineDefinitionError, match="role_arn"):
        hook.upsert_pipeline(spec([noop("A")], role_arn=None))
    assert "CreatePipeline" not in calls.calls


def test_large_definition_goes_through_s3_content_addressed(hook: Any, calls: Any, engine: Any) -> None:
    big = spec([noop("A")])
    big.definition.metadata["padding"] = "x" * (110 * 1024)
    assert len(big.definition.to_json().encode()) >= 100 * 1024
    result = hook.upsert_pipeline(big)
    assert result.action == "created"
    (sent,) = calls.sent("CreatePipeline")
    assert "PipelineDefinition" not in sent
    location = sent["PipelineDefinitionS3Location"]
    assert location["Bucket"] == "sagemaker-us-east-1-123456789012"  # created on demand
    assert result.definition_hash in location["ObjectKey"]
    stored = engine.client("s3").get_object(Bucket=location["Bucket"], Key=location["ObjectKey"])["Body"].read()
    assert stored.decode() == big.definition.to_json()
    assert definition_hash(hook.describe_pipeline(big.name)["PipelineDefinition"]) == result.definition_hash
    assert hook.upsert_pipeline(big).action == "unchanged"
    # An update of a big definition goes through S3 as well, into the given bucket.
    big.definition.metadata["padding"] = "y" * (110 * 1024)
    bucket = unique("defs")
    assert hook.upsert_pipeline(big, definition_bucket=bucket).action == "updated"
    (update,) = calls.sent("UpdatePipeline")
    assert update["PipelineDefinitionS3Location"]["Bucket"] == bucket


# ---- code assets --------------------------------------------------------------------------------


def test_upload_code_asset_is_content_addressed(hook: Any, s3_calls: Any, bucket: str, tmp_path: Any) -> None:
    script = tmp_path / "train.py"
    script.write_text("print('hi')\n")
    uri = hook.upload_code_asset(str(script), bucket, "code/")
    digest = __import__("hashlib").sha256(script.read_bytes()).hexdigest()
    assert uri == f"s3://{bucket}/code/{digest}/train.py"
    assert s3_calls.ops["PutObject"] == 1
    assert hook.upload_code_asset(str(script), bucket, "code") == uri
    assert s3_calls.ops["PutObject"] == 1  # already there: not uploaded again
    script.write_text("print('changed')\n")
    assert hook.upload_code_asset(str(script), bucket, "code") != uri


def test_directory_assets_are_deterministic_tarballs(hook: Any, bucket: str, tmp_path: Any) -> None:
    src = tmp_path / "src"
    (src / "pkg").mkdir(parents=True)
    (src / "main.py").write_text("import pkg\n")
    (src / "pkg" / "__init__.py").write_text("")
    uri = hook.upload_code_asset(str(src), bucket, "bundles")
    assert uri.endswith("/sourcedir.tar.gz")
    # Times, compiled files and caches do not change the bundle.
    os.utime(src / "main.py", (1, 1))
    (src / "pkg" / "__pycache__").mkdir()
    (src / "pkg" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"junk")
    assert hook.upload_code_asset(str(src), bucket, "bundles") == uri
    import io
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(package(str(src))[0])) as tar:
        assert tar.getnames() == ["main.py", "pkg/__init__.py"]


def test_missing_code_asset_is_an_error(hook: Any, bucket: str) -> None:
    with pytest.raises(SageMakerMlopsError, match="does not exist"):
        hook.upload_code_asset("/no/such/file.py", bucket, "code")


# ---- start --------------------------------------------------------------------------------------

TYPED = {
    "Threshold": PipelineParameter.float(0.5),
    "Epochs": PipelineParameter.integer(1),
    "Enabled": PipelineParameter.boolean(False),
    "Mode": PipelineParameter.string("fast", enum_values=["fast", "slow"]),
    "Input": PipelineParameter.string(),
}


def typed_pipeline(hook: Any) -> str:
    params = [p.to_request(name) for name, p in TYPED.items()]
    return hook.upsert_pipeline(spec([noop("A")], params)).pipeline_arn.rsplit("/", 1)[1]


def test_start_with_typed_parameters(hook: Any) -> None:
    name = typed_pipeline(hook)
    arn = hook.start_execution(
        name,
        parameters={"Threshold": "0.8", "Epochs": "3", "Enabled": "true", "Mode": "slow", "Input": "s3://b/k"},
        declared=TYPED,
        client_request_token=token(),
        display_name="run-1",
        description="dag churn / run manual__1 / group train",
        max_parallel_steps=3,
    )
    listed = hook.conn.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)["PipelineParameters"]
    values = {p["Name"]: p["Value"] for p in listed}
    assert values["Threshold"] == "0.8"
    assert values["Epochs"] == "3"
    assert values["Enabled"] == "true"
    assert values["Mode"] == "slow"
    desc = hook.describe_execution(arn)
    assert desc["PipelineExecutionDescription"] == "dag churn / run manual__1 / group train"
    assert desc["PipelineExecutionDisplayName"] == "run-1"
    assert desc["ParallelismConfiguration"] == {"MaxParallelExecutionSteps": 3}
    assert isinstance(desc["CreationTime"], str)  # JSON-safe
    assert wait_execution(hook, arn)["PipelineExecutionStatus"] == "Succeeded"


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"Threshold": "high", "Input": "x"}, "'Threshold'.*not a valid Float"),
        ({"Epochs": 1.5, "Input": "x"}, "'Epochs'.*not a valid Integer"),
        ({"Enabled": "yes", "Input": "x"}, "'Enabled'.*not a valid Boolean"),
        ({"Mode": "medium", "Input": "x"}, "'Mode'.*not one of"),
        ({"Typo": 1, "Input": "x"}, "'Typo'.*no such pipeline parameter"),
        ({"Input": "x" * 1025}, "'Input'.*0-1024"),
        ({}, "'Input' has no default"),
    ],
)
def test_wrong_parameters_are_rejected_before_any_call(hook: Any, calls: Any, parameters: dict, message: str) -> None:
    with pytest.raises(PipelineParameterError, match=message):
        hook.start_execution("whatever", parameters=parameters, declared=TYPED, client_request_token=token())
    assert calls.total() == 0


def test_same_token_returns_the_same_execution(hook: Any) -> None:
    name = hook.upsert_pipeline(spec([noop("A")])).pipeline_arn.rsplit("/", 1)[1]
    tok = token("start")
    first = hook.start_execution(name, client_request_token=tok)
    assert hook.start_execution(name, client_request_token=tok) == first
    assert hook.start_execution(name, client_request_token=token("other")) != first


def test_start_by_pipeline_arn(hook: Any) -> None:
    pipeline_arn = hook.upsert_pipeline(spec([noop("A")])).pipeline_arn
    arn = hook.start_execution(pipeline_arn, client_request_token=token())
    assert hook.describe_execution(arn)["PipelineArn"] == pipeline_arn


def test_permanent_errors_keep_sagemaker_code_and_message(hook: Any) -> None:
    with pytest.raises(SageMakerResourceNotFoundError) as excinfo:
        hook.start_execution("no-such-pipeline-" + unique(), client_request_token=token())
    assert excinfo.value.code == "ResourceNotFound"
    assert "does not exist" in excinfo.value.message
    assert excinfo.value.operation == "StartPipelineExecution"
    assert isinstance(excinfo.value, SageMakerMlopsError)


def test_execution_token_is_deterministic_and_valid() -> None:
    a = SageMakerPipelinesHook.execution_token("dag", "run", "group.start", "3")
    assert a == SageMakerPipelinesHook.execution_token("dag", "run", "group.start", "3")
    assert a != SageMakerPipelinesHook.execution_token("dag", "run", "group.start", "4")
    # Parts are delimited: shifting text between parts changes the token.
    assert SageMakerPipelinesHook.execution_token("ab", "c") != SageMakerPipelinesHook.execution_token("a", "bc")
    assert 32 <= len(a) <= 128 and re.fullmatch(r"[0-9a-f]+", a)


def test_parameters_without_declarations_are_formatted() -> None:
    assert SageMakerPipelinesHook.pipeline_parameters({"B": True, "F": 0.25, "I": 3, "S": "x", "N": None}) == [
        {"Name": "B", "Value": "true"},
        {"Name": "F", "Value": "0.25"},
        {"Name": "I", "Value": "3"},
        {"Name": "S", "Value": "x"},
    ]


# ---- steps, stop, retry, callbacks ---------------------------------------------------------------


def test_list_steps_reads_every_page(hook: Any, calls: Any) -> None:
    steps = [noop("S0")] + [noop(f"S{i}", DependsOn=[f"S{i - 1}"]) for i in range(1, 25)]
    name = hook.upsert_pipeline(spec(steps)).pipeline_arn.rsplit("/", 1)[1]
    arn = hook.start_execution(name, client_request_token=token())
    wait_execution(hook, arn)
    hook.steps_page_size = 10
    calls.calls.clear()
    listed = hook.list_steps(arn)
    assert [s["StepName"] for s in listed] == [f"S{i}" for i in range(25)]  # oldest first
    assert calls.calls["ListPipelineExecutionSteps"] == 3
    assert all(isinstance(s["StartTime"], str) for s in listed)


def test_list_steps_over_the_service_page_size(hook: Any) -> None:
    steps = [noop(f"S{i}") for i in range(120)]
    name = hook.upsert_pipeline(spec(steps)).pipeline_arn.rsplit("/", 1)[1]
    arn = hook.start_execution(name, client_request_token=token())
    wait_execution(hook, arn)
    assert len(hook.list_steps(arn)) == 120


def make_queue(engine: Any) -> str:
    return engine.client("sqs").create_queue(QueueName=unique("q"))["QueueUrl"]


def waiting_callback_token(hook: Any, arn: str, step: str = "Ask") -> str:
    def token_of() -> str | None:
        entry = steps_by_name(hook, arn).get(step)
        return ((entry or {}).get("Metadata") or {}).get("Callback", {}).get("CallbackToken")

    return wait_until(token_of)


def test_stop_is_idempotent(hook: Any, engine: Any) -> None:
    name = hook.upsert_pipeline(spec([callback("Ask", make_queue(engine))])).pipeline_arn.rsplit("/", 1)[1]
    arn = hook.start_execution(name, client_request_token=token())
    waiting_callback_token(hook, arn)
    hook.stop_execution(arn)
    hook.stop_execution(arn)  # while Stopping or Stopped: fine
    assert wait_execution(hook, arn)["PipelineExecutionStatus"] == "Stopped"
    hook.stop_execution(arn)  # ended: fine
    done = hook.start_execution(
        hook.upsert_pipeline(spec([noop("A")])).pipeline_arn, client_request_token=token()
    )
    wait_execution(hook, done)
    hook.stop_execution(done)  # a Succeeded execution: nothing to stop
    with pytest.raises(SageMakerResourceNotFoundError):
        hook.stop_execution(arn + "x")


def test_retry_resumes_from_the_failed_step(hook: Any, engine: Any) -> None:
    s = spec([noop("First"), noop("Flaky", DependsOn=["First"]), noop("Last", DependsOn=["Flaky"])])
    engine.faults.fail_step("Flaky", "transient trouble", attempts=1, exception_type=None, pipeline=s.name)
    hook.upsert_pipeline(s)
    arn = hook.start_execution(s.name, client_request_token=token())
    assert wait_execution(hook, arn)["PipelineExecutionStatus"] == "Failed"
    first_end = steps_by_name(hook, arn)["First"]["EndTime"]
    tok = token("retry")
    assert hook.retry_execution(arn, client_request_token=tok, max_parallel_steps=1) == arn
    assert wait_execution(hook, arn)["PipelineExecutionStatus"] == "Succeeded"
    steps = steps_by_name(hook, arn)
    assert steps["First"]["EndTime"] == first_end  # not rerun
    assert steps["Last"]["StepStatus"] == "Succeeded"
    with pytest.raises(SageMakerConflictError):
        hook.retry_execution(arn, client_request_token=token("again"))  # Succeeded: cannot retry


def test_callback_success_with_outputs(hook: Any, engine: Any) -> None:
    gate = {
        "Name": "Gate",
        "Type": "Condition",
        "DependsOn": ["Ask"],
        "Arguments": {
            "Conditions": [
                {"Type": "Equals", "LeftValue": {"Get": "Steps.Ask.OutputParameters['approved']"}, "RightValue": True}
            ],
            "IfSteps": [],
            "ElseSteps": [],
        },
    }
    s = spec([callback("Ask", make_queue(engine), {"approved": "Boolean", "score": "Float"}), gate])
    hook.upsert_pipeline(s)
    arn = hook.start_execution(s.name, client_request_token=token())
    hook.send_step_success(
        waiting_callback_token(hook, arn), {"approved": True, "score": 0.75}, client_request_token=token("cb")
    )
    assert wait_execution(hook, arn)["PipelineExecutionStatus"] == "Succeeded"
    steps = steps_by_name(hook, arn)
    outputs = hook.step_outputs(steps["Ask"])
    assert outputs["StepType"] == "Callback"
    assert outputs["OutputParameters"] == {"approved": "true", "score": "0.75"}
    assert hook.step_outputs(steps["Gate"])["Outcome"] is True


def test_callback_failure(hook: Any, engine: Any) -> None:
    s = spec([callback("Ask", make_queue(engine))])
    hook.upsert_pipeline(s)
    arn = hook.start_execution(s.name, client_request_token=token())
    tok = waiting_callback_token(hook, arn)
    hook.send_step_failure(tok, "rejected by reviewer")
    assert wait_execution(hook, arn)["PipelineExecutionStatus"] == "Failed"
    outputs = hook.step_outputs(steps_by_name(hook, arn)["Ask"])
    assert (outputs["StepStatus"], outputs["FailureReason"]) == ("Failed", "rejected by reviewer")
    with pytest.raises(SageMakerApiError) as excinfo:
        hook.send_step_success(tok)  # already answered
    assert excinfo.value.code == "ConflictException"


def test_validation_errors_are_value_errors(hook: Any) -> None:
    with pytest.raises(SageMakerValidationError) as excinfo:
        hook.upsert_pipeline(spec([noop("A")], name="not_a_valid_name"))
    assert isinstance(excinfo.value, ValueError)
    assert excinfo.value.code == "ValidationException"
    assert "regular expression" in str(excinfo.value)


def test_thirty_percent_throttling_is_ridden_out(hook: Any, calls: Any, engine: Any) -> None:
    engine.faults.throttle(0.3, seed=7)
    s = spec([noop("A"), noop("B", DependsOn=["A"])], [TYPED["Epochs"].to_request("Epochs")])
    assert hook.upsert_pipeline(s).action == "created"
    assert hook.upsert_pipeline(s).action == "unchanged"
    arn = hook.start_execution(s.name, parameters={"Epochs": 2}, client_request_token=token())
    assert wait_execution(hook, arn)["PipelineExecutionStatus"] == "Succeeded"
    steps = hook.list_steps(arn)
    assert [hook.step_outputs(step)["Outcome"] for step in steps] == [True, True]
    hook.stop_execution(arn)
    attempts = calls.total()
    assert attempts > sum(calls.ops.values())  # some calls were throttled and retried
