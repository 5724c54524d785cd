"""Role checks: shape, partition, account, parameter-driven roles, roles other than the pipeline role."""

from __future__ import annotations

import pytest

from airflow_sagemaker_mlops.definition import ParameterRef, PipelineDefinition, PipelineParameter, Step
from airflow_sagemaker_mlops.iam import RoleArn, role_arn_problem, role_problems, step_roles

PIPELINE_ROLE = "arn:aws:iam::111122223333:role/SmPipeline"


def definition(*steps: Step, **parameters: PipelineParameter) -> PipelineDefinition:
    return PipelineDefinition(parameters=dict(parameters), steps=list(steps))


def training(name: str, role: object) -> Step:
    return Step(name, "Training", {"RoleArn": role, "AlgorithmSpecification": {"TrainingImage": "img"}})


@pytest.mark.parametrize("arn", [
    "arn:aws:iam::111122223333:role/SmPipeline",
    "arn:aws:iam::111122223333:role/service-role/AmazonSageMaker-ExecutionRole-20240101T000000",
    "arn:aws-cn:iam::111122223333:role/a/b/c/Name+=,.@-_",
    "arn:aws-us-gov:iam::111122223333:role/x",
])
def test_valid_role_arns(arn: str):
    assert role_arn_problem(arn) is None
    parsed = RoleArn.parse(arn)
    assert parsed is not None and parsed.account == "111122223333"


@pytest.mark.parametrize(("arn", "why"), [
    ("arn:aws:iam::1111:role/x", "12 digits"),
    ("arn:aws:iam:us-east-1:111122223333:role/x", "no region"),
    ("arn:aws:iam::111122223333:user/x", "not a role"),
    ("arn:aws:s3:::bucket", "not an IAM role ARN"),
    ("SmPipeline", "not an IAM role ARN"),
    (None, "not an IAM role ARN"),
    ("arn:aws:iam::111122223333:role/" + "x" * 65, "not an IAM role ARN"),
])
def test_invalid_role_arns(arn: object, why: str):
    problem = role_arn_problem(arn)
    assert problem is not None and why in problem


def test_malformed_pipeline_role_is_an_error_on_role_arn():
    (problem,) = role_problems(definition(), "arn:aws:iam::1:role/x")
    assert (problem.severity, problem.field, problem.step) == ("error", "role_arn", None)


def test_malformed_step_role_names_step_and_field():
    tune = Step("tune", "Tuning", {"TrainingJobDefinition": {"RoleArn": "SmPipeline"}})
    (problem,) = role_problems(definition(tune), PIPELINE_ROLE)
    assert (problem.severity, problem.step) == ("error", "tune")
    assert problem.field == "Arguments.TrainingJobDefinition.RoleArn"


def test_same_role_everywhere_has_no_problem():
    model = Step("model", "Model", {"ExecutionRoleArn": PIPELINE_ROLE})
    assert role_problems(definition(training("fit", PIPELINE_ROLE), model), PIPELINE_ROLE) == []


def test_other_step_role_is_reported_as_info():
    (problem,) = role_problems(definition(training("fit", "arn:aws:iam::111122223333:role/Trainer")), PIPELINE_ROLE)
    assert problem.severity == "info" and problem.step == "fit" and "iam:PassRole" in problem.message


def test_step_role_of_another_account_is_an_error():
    (problem,) = role_problems(definition(training("fit", "arn:aws:iam::444455556666:role/Trainer")), PIPELINE_ROLE)
    assert problem.severity == "error" and "444455556666" in problem.message


def test_step_role_of_another_partition_is_an_error():
    (problem,) = role_problems(definition(training("fit", "arn:aws-cn:iam::111122223333:role/T")), PIPELINE_ROLE)
    assert problem.severity == "error" and "partition" in problem.message


def test_step_roles_are_checked_against_each_other_without_a_pipeline_role():
    steps = definition(training("a", "arn:aws:iam::111122223333:role/T"),
                       training("b", "arn:aws:iam::444455556666:role/T"))
    problems = role_problems(steps, None)
    assert [(p.step, p.severity) for p in problems] == [("b", "error")]


def test_expected_account():
    (problem,) = role_problems(definition(), PIPELINE_ROLE, expected_account="444455556666")
    assert problem.severity == "error" and problem.field == "role_arn"
    assert role_problems(definition(), PIPELINE_ROLE, expected_account="111122223333") == []


def test_parameter_role_is_checked_through_its_default():
    good = definition(training("fit", ParameterRef("Role")), Role=PipelineParameter.string(PIPELINE_ROLE))
    (problem,) = role_problems(good, PIPELINE_ROLE)
    assert problem.severity == "warning" and "parameter 'Role'" in problem.message
    bad = definition(training("fit", ParameterRef("Role")), Role=PipelineParameter.string("nope"))
    (problem,) = role_problems(bad, PIPELINE_ROLE)
    assert problem.severity == "error" and "default of parameter 'Role'" in problem.message
    unknown = definition(training("fit", ParameterRef("Role")), Role=PipelineParameter.string())
    (problem,) = role_problems(unknown, PIPELINE_ROLE)
    assert problem.severity == "warning" and "no default" in problem.message
    assumed = role_problems(unknown, PIPELINE_ROLE, assumed={"Role": PIPELINE_ROLE})
    assert [p.severity for p in assumed] == ["warning"]


def test_step_roles_lists_services():
    emr = Step("emr", "EMR", {"ClusterConfig": {"ServiceRole": "arn:aws:iam::111122223333:role/EMR",
                                                "JobFlowRole": "EMR_EC2_DefaultRole"}})
    roles = step_roles(definition(training("fit", PIPELINE_ROLE), emr))
    assert [(r.step, r.field, r.service) for r in roles] == [
        ("fit", "Arguments.RoleArn", "sagemaker.amazonaws.com"),
        ("emr", "Arguments.ClusterConfig.ServiceRole", "elasticmapreduce.amazonaws.com"),
    ]
