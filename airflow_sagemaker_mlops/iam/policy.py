"""Least-privilege IAM policies derived from a compiled pipeline.

Three kinds of role act for a pipeline:

- the **pipeline execution role** (the group's ``role_arn``): SageMaker Pipelines uses it to start each
  step's job or call (CreateProcessingJob, lambda:InvokeFunction, sqs:SendMessage, ...), to pass roles to
  those jobs and to read property files;
- the **job roles** (``RoleArn``/``ExecutionRoleArn`` inside a step's arguments): the job runs as it, so it
  reads the step's S3 inputs, writes its outputs, pulls its image and writes its logs. Usually the same
  role as the pipeline role, in which case those permissions are in the pipeline role's policy;
- the **Airflow role** (MWAA execution role, or whatever the ``aws_conn_id`` resolves to): the calls this
  plugin's hooks, operators and triggers make (upsert, start, poll, stop, retry, answer callbacks, upload
  code, consume the event queue).

Everything is derived from the definition, never from AWS: the result is a pure function of the compiled
group, stable from run to run (statements, actions and resources sorted; Sids derived from content).
Every statement keeps the reasons that produced it, and every widening (a resource broader than a literal
value) is listed, so :func:`explain` can say why each permission is there.

This module holds the entry points; :mod:`.analysis` resolves what the pipeline touches, :mod:`.pipeline_role`
and :mod:`.airflow_role` turn it into each role's grants, :mod:`.document` merges grants into a document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow_sagemaker_mlops.definition.pipeline import PipelineSpec

from .airflow_role import airflow_statements
from .analysis import AIRFLOW, PIPELINE, Analysis
from .document import PolicyReport, build_document
from .pipeline_role import pipeline_statements
from .roles import role_problems


@dataclass(frozen=True)
class _Subject:
    """What the policies are derived from: the spec, its code assets, and the group's own settings."""

    spec: PipelineSpec
    assets: list[Any]
    definition_bucket: str | None = None
    event_queue_url: str | None = None


def _unpack(group_or_compiled: Any) -> _Subject:
    """The subject of a group (its settings included), a compiled group or a spec."""
    compiled = group_or_compiled
    settings: dict[str, Any] = {}
    if hasattr(group_or_compiled, "compile") and not isinstance(group_or_compiled, PipelineSpec):
        settings = {key: getattr(group_or_compiled, key, None) for key in ("definition_bucket", "event_queue_url")}
        compiled = getattr(group_or_compiled, "compiled", None) or group_or_compiled.compile()  # frozen at close
    if isinstance(compiled, PipelineSpec):
        return _Subject(compiled, [], **settings)
    spec = getattr(compiled, "spec", None)
    if not isinstance(spec, PipelineSpec):
        raise TypeError(f"expected a SageMakerPipelineGroup, a CompiledPipeline or a PipelineSpec, "
                        f"got {type(group_or_compiled).__name__}")
    return _Subject(spec, list(getattr(compiled, "code_assets", []) or []), **settings)


def analyse(
    group_or_compiled: Any,
    *,
    region: str | None = None,
    account: str | None = None,
    parameter_values: dict[str, Any] | None = None,
    extra_s3_uris: dict[str, str] | None = None,
    definition_bucket: str | None = None,
    event_queue_url: str | None = None,
) -> dict[str, PolicyReport]:
    """Every role's report: ``"pipeline"``, ``"airflow"`` and each step job role that is not the pipeline
    role (keyed by its ARN). See :func:`policy_report` for the arguments."""
    subject = _unpack(group_or_compiled)
    spec = subject.spec
    a = Analysis.of(spec, region=region, account=account, parameter_values=parameter_values)
    if region is None:
        a.widen(PIPELINE, "no region given: SageMaker, logs and other regional ARNs use * for the region")
        a.widen(AIRFLOW, "no region given: the pipeline ARNs use * for the region")
    problems = role_problems(spec.definition, spec.role_arn, expected_account=account, assumed=a.assumed)
    pipeline_statements(a, extra_s3_uris)
    airflow_statements(a, spec, subject.assets, definition_bucket or subject.definition_bucket,
                       event_queue_url or subject.event_queue_url)

    roles = sorted(set(a.grants) | {PIPELINE, AIRFLOW})
    reports: dict[str, PolicyReport] = {}
    for role in roles:
        document, statements = build_document(a.grants.get(role, []))
        arn = spec.role_arn if role == PIPELINE else (None if role == AIRFLOW else role)
        reports[role] = PolicyReport(
            role=role,
            role_arn=arn,
            document=document,
            statements=statements,
            widenings=sorted(a.widenings.get(role, [])),
            notes=sorted(a.notes.get(role, [])),
            problems=problems if role == PIPELINE else [],
            grants=list(a.grants.get(role, [])),
        )
    return reports


def _role_key(report_roles: dict[str, PolicyReport], role: str, spec_role: str | None) -> str:
    if role in (PIPELINE, AIRFLOW):
        return role
    if spec_role is not None and role == spec_role:
        return PIPELINE
    if role in report_roles:
        return role
    known = ", ".join(r for r in report_roles if r not in (PIPELINE, AIRFLOW)) or "none"
    raise ValueError(f"role must be 'pipeline', 'airflow' or the ARN of a step role of this pipeline "
                     f"(step roles: {known}); got {role!r}")


def policy_report(
    group_or_compiled: Any,
    role: str,
    *,
    region: str | None = None,
    account: str | None = None,
    parameter_values: dict[str, Any] | None = None,
    extra_s3_uris: dict[str, str] | None = None,
    definition_bucket: str | None = None,
    event_queue_url: str | None = None,
) -> PolicyReport:
    """The policy for one role of a pipeline, with its explanation.

    :param group_or_compiled: a ``SageMakerPipelineGroup`` (compiled here), a ``CompiledPipeline`` or a
        ``PipelineSpec``.
    :param role: ``"pipeline"`` (the pipeline execution role, including the job permissions of every step
        that runs as it), ``"airflow"`` (the role Airflow's AWS connection uses), or the ARN of a step's job
        role that differs from the pipeline role.
    :param region: the pipeline's region; None puts ``*`` in regional ARNs (explained as a widening).
    :param account: the pipeline's account; None takes the pipeline role's account. Given, it is also
        checked against the pipeline role's account.
    :param parameter_values: values to assume for parameters instead of their defaults (for example the
        production input location), and for parameters that have no default.
    :param extra_s3_uris: ``{"s3://bucket/prefix/": "read" | "write" | "readwrite"}`` added to the pipeline
        role, for locations the definition only knows at run time.
    :param definition_bucket: the group's ``definition_bucket`` (taken from the group when one is given).
    :param event_queue_url: the SQS queue of SageMaker's pipeline events the group's waiting tasks consume
        (``events setup`` prints it): the Airflow role gets ``ConsumePipelineEvents`` on it. Taken from the
        group's ``event_queue_url`` when a group is given; pass it when the AWS connection's extra sets it.
    """
    reports = analyse(group_or_compiled, region=region, account=account, parameter_values=parameter_values,
                      extra_s3_uris=extra_s3_uris, definition_bucket=definition_bucket,
                      event_queue_url=event_queue_url)
    spec_role = reports[PIPELINE].role_arn
    return reports[_role_key(reports, role, spec_role)]


def policy_for_group(group_or_compiled: Any, role: str, **options: Any) -> dict[str, Any]:
    """The IAM policy document (a dict ready for ``json.dumps``) for ``role``; see :func:`policy_report`."""
    return policy_report(group_or_compiled, role, **options).document


def explain(report: PolicyReport) -> str:
    """A plain-text explanation: every statement with its reasons, then widenings, notes and problems."""
    who = {PIPELINE: "the pipeline execution role", AIRFLOW: "the Airflow (MWAA) execution role"}.get(
        report.role, "step job role")
    lines = [f"Policy for {who}" + (f" ({report.role_arn})" if report.role_arn else "")]
    for statement in report.statements:
        actions = statement.statement["Action"]
        lines.append("")
        lines.append(f"{statement.sid}: {', '.join(actions)}")
        for reason in statement.reasons:
            lines.append(f"  - {reason}")
    for title, items in (("Widenings (the policy allows more than the literal values)", report.widenings),
                         ("Notes", report.notes),
                         ("Role checks", [f"{p.severity}: {p}" for p in report.problems])):
        if items:
            lines.append("")
            lines.append(title + ":")
            lines.extend(f"  - {item}" for item in items)
    return "\n".join(lines) + "\n"


def explain_group(group_or_compiled: Any, role: str, **options: Any) -> str:
    """:func:`explain` of :func:`policy_report`: what the CLI prints with ``--explain``."""
    return explain(policy_report(group_or_compiled, role, **options))
