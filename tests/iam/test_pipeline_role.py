"""STEP_RULES follows the step-kind registry: every rule is for a registry type, every job type has one."""

from __future__ import annotations

from airflow_sagemaker_mlops.definition import PipelineDefinition, PipelineSpec, Step
from airflow_sagemaker_mlops.definition.step_kinds import STEP_KINDS
from airflow_sagemaker_mlops.iam import policy_report
from airflow_sagemaker_mlops.iam.pipeline_role import STEP_RULES, job_step

ROLE = "arn:aws:iam::111122223333:role/SmPipeline"


def test_every_rule_is_for_a_registry_step_type():
    assert set(STEP_RULES) <= set(STEP_KINDS)


def test_every_type_with_job_actions_starts_with_the_job_rule():
    for step_type, kind in STEP_KINDS.items():
        if kind.resource is not None and kind.resource.iam_sid:
            assert STEP_RULES[step_type][0] is job_step, step_type
        elif step_type in STEP_RULES:
            assert job_step not in STEP_RULES[step_type], step_type


def test_types_without_permissions_have_no_rule():
    assert not {t for t, k in STEP_KINDS.items() if not k.needs_permissions} & set(STEP_RULES)


def test_a_type_without_a_rule_gets_a_note_and_no_grant():
    unmapped = sorted(t for t, k in STEP_KINDS.items() if k.needs_permissions and t not in STEP_RULES)
    assert unmapped  # the registry knows types IAM does not map yet (InferenceComponent, ...)
    for step_type in unmapped:
        spec = PipelineSpec("p", PipelineDefinition(steps=[Step(name="s", type=step_type, arguments={})]),
                            role_arn=ROLE)
        report = policy_report(spec, "pipeline")
        assert f"step s: no IAM mapping for step type {step_type} yet; add its permissions by hand" in report.notes
        assert [g for g in report.grants if g.step == "s"] == []
