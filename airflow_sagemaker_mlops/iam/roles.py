"""IAM roles in a pipeline: the pipeline execution role and the roles its steps pass to their jobs.

Pure functions over the definition model (no boto3, no Airflow), cheap enough for DAG parsing. Problems are
:class:`~airflow_sagemaker_mlops.definition.validate.Problem` objects naming the step and the field path
(``Arguments.TrainingJobDefinition.RoleArn``), so the compiler reports them like any other definition
problem. Severities: ``error`` (SageMaker or IAM would reject the pipeline), ``warning`` (cannot be checked
at parse time), ``info`` (legitimate but worth knowing: a step role other than the pipeline role, which
needs its own ``iam:PassRole``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from airflow_sagemaker_mlops.definition.expressions import Expression, ParameterRef
from airflow_sagemaker_mlops.definition.pipeline import PipelineDefinition
from airflow_sagemaker_mlops.definition.steps import ConditionStep, Step
from airflow_sagemaker_mlops.definition.validate import Problem

#: ``arn:<partition>:iam::<12-digit account>:role/<optional path/>name``. Role names are at most 64
#: characters of ``[\w+=,.@-]``; the path (``/a/b/``) may add up to 512 more.
ROLE_ARN = re.compile(
    r"^arn:(?P<partition>aws|aws-cn|aws-us-gov|aws-iso|aws-iso-[a-z]|aws-eusc):iam::(?P<account>\d{12}):"
    r"role/(?P<path>(?:[\w+=,.@\-]+/)*)(?P<name>[\w+=,.@\-]{1,64})$"
)

SAGEMAKER_PRINCIPAL = "sagemaker.amazonaws.com"

#: Keys that hold a role a step passes, and the service it is passed to (``iam:PassedToService``).
#: EMR's ``JobFlowRole`` is an instance profile name, not a role ARN, so it is not listed.
_ROLE_KEYS: dict[str, str] = {
    "RoleArn": SAGEMAKER_PRINCIPAL,
    "ExecutionRoleArn": SAGEMAKER_PRINCIPAL,
}
_SERVICE_BY_STEP_TYPE_AND_KEY: dict[tuple[str, str], str] = {
    ("EMR", "ServiceRole"): "elasticmapreduce.amazonaws.com",
    ("EMR", "AutoScalingRole"): "elasticmapreduce.amazonaws.com",
    ("EMRServerless", "ExecutionRoleArn"): "emr-serverless.amazonaws.com",
}


@dataclass(frozen=True)
class RoleArn:
    """A parsed IAM role ARN."""

    arn: str
    partition: str
    account: str
    path: str
    name: str

    @classmethod
    def parse(cls, value: Any) -> RoleArn | None:
        match = ROLE_ARN.match(value) if isinstance(value, str) else None
        if match is None:
            return None
        return cls(value, match["partition"], match["account"], "/" + match["path"], match["name"])


def role_arn_problem(value: Any) -> str | None:
    """None when ``value`` is a well-formed IAM role ARN, else what is wrong with it."""
    if RoleArn.parse(value) is not None:
        return None
    if not isinstance(value, str):
        return f"{value!r} is not an IAM role ARN (a string arn:<partition>:iam::<12-digit account>:role/<name>)"
    parts = value.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and parts[2] == "iam":
        if parts[3]:
            return f"{value!r}: IAM ARNs have no region (arn:{parts[1]}:iam::<account>:role/<name>)"
        if not re.fullmatch(r"\d{12}", parts[4]):
            return f"{value!r}: the account must be 12 digits, got {parts[4]!r}"
        if not parts[5].startswith("role/"):
            return f"{value!r} is an IAM {parts[5].split('/', 1)[0]!r}, not a role: SageMaker only takes roles"
    return f"{value!r} is not an IAM role ARN (arn:<partition>:iam::<12-digit account>:role/<path/name>)"


@dataclass(frozen=True)
class StepRole:
    """A role a step passes to the job or service it starts.

    ``arn`` is the literal value, or the default (or assumed value) of the parameter it comes from
    (``parameter``); None when it cannot be known at parse time.
    """

    step: str
    step_type: str
    field: str
    arn: str | None
    service: str
    parameter: str | None = None
    expression: bool = False


def _role_service(step_type: str, key: str) -> str | None:
    return _SERVICE_BY_STEP_TYPE_AND_KEY.get((step_type, key)) or _ROLE_KEYS.get(key)


def _walk_roles(value: Any, path: str, step_type: str) -> Iterator[tuple[str, str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            service = _role_service(step_type, str(key))
            if service is not None and (isinstance(item, str | Expression)):
                yield where, service, item
            else:
                yield from _walk_roles(item, where, step_type)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _walk_roles(item, f"{path}[{i}]", step_type)


def step_roles(definition: PipelineDefinition, assumed: dict[str, Any] | None = None) -> list[StepRole]:
    """Every role the steps pass (nested branch steps included), in definition order.

    ``assumed`` gives parameter values to use instead of the declared defaults.
    """
    out: list[StepRole] = []
    for step in definition.all_steps():
        out.extend(_roles_of(step, definition, assumed or {}))
    return out


def _roles_of(step: Step, definition: PipelineDefinition, assumed: dict[str, Any]) -> Iterator[StepRole]:
    if isinstance(step, ConditionStep):
        return
    for source, base in ((step.arguments, "Arguments"), (step.extra, "")):
        for where, service, value in _walk_roles(source, base, step.type):
            if isinstance(value, ParameterRef):
                param = definition.parameters.get(value.name)
                arn = assumed.get(value.name, param.default if param else None)
                yield StepRole(step.name, step.type, where, arn if isinstance(arn, str) else None, service,
                               parameter=value.name, expression=True)
            elif isinstance(value, Expression):
                yield StepRole(step.name, step.type, where, None, service, expression=True)
            else:
                yield StepRole(step.name, step.type, where, value, service)


def role_problems(
    definition: PipelineDefinition,
    pipeline_role_arn: str | None,
    *,
    expected_account: str | None = None,
    assumed: dict[str, Any] | None = None,
) -> list[Problem]:
    """Check the pipeline role and every step role: shape, partition, account.

    - a malformed ARN is an error (field ``role_arn`` for the pipeline role);
    - a step role in another partition or account than the pipeline role is an error: ``iam:PassRole``
      only passes roles of the caller's own account;
    - ``expected_account`` (the account the pipeline is deployed to, when known): a pipeline role of another
      account is an error;
    - a step role from a parameter is checked through its default, with a warning that the run-time
      value is not checked; one from another expression is a warning;
    - a step role other than the pipeline role is ``info``: the pipeline role needs ``iam:PassRole`` on it,
      and it needs the job permissions of its steps (see ``policy_for_group(..., role=<that ARN>)``).
    """
    pipeline = RoleArn.parse(pipeline_role_arn)
    problems = _pipeline_role_problems(pipeline_role_arn, pipeline, expected_account)
    anchor = pipeline  # the roles' partition and account: the pipeline role's, else the first step role's
    for role in step_roles(definition, assumed):
        parsed, found = _step_role_shape(role)
        problems += found
        if parsed is None:
            continue
        if anchor is None:
            anchor = parsed
        problem = _step_role_placement(role, parsed, anchor, pipeline)
        if problem is not None:
            problems.append(problem)
    return problems


def _pipeline_role_problems(arn: str | None, pipeline: RoleArn | None, expected_account: str | None,
                            ) -> list[Problem]:
    """The pipeline role's own checks: a well-formed ARN, of the account the pipeline is deployed to."""
    if arn is not None and pipeline is None:
        return [Problem(str(role_arn_problem(arn)), field="role_arn")]
    if pipeline is not None and expected_account is not None and pipeline.account != expected_account:
        return [Problem(
            f"the pipeline role {pipeline.arn} is in account {pipeline.account}, but the pipeline is deployed to "
            f"account {expected_account}: SageMaker only accepts a role of the pipeline's own account",
            field="role_arn",
        )]
    return []


def _step_role_shape(role: StepRole) -> tuple[RoleArn | None, list[Problem]]:
    """A step role's ARN, when it is known and well-formed, and what is wrong or unchecked about it."""
    if role.arn is None:
        what = f"parameter {role.parameter!r}, which has no default" if role.parameter else "an expression"
        return None, [Problem(
            f"the role comes from {what}: it cannot be checked at parse time, and the generated policy "
            "cannot scope iam:PassRole to it",
            step=role.step, field=role.field, severity="warning",
        )]
    parsed = RoleArn.parse(role.arn)
    if parsed is None:
        why = str(role_arn_problem(role.arn))
        if role.parameter:
            why = f"the default of parameter {role.parameter!r} is not a role ARN: {why}"
        return None, [Problem(why, step=role.step, field=role.field)]
    if role.parameter:
        return parsed, [Problem(
            f"the role comes from parameter {role.parameter!r}; its default {parsed.arn} was checked, a "
            "value passed at run time is not, and the generated iam:PassRole only covers the default",
            step=role.step, field=role.field, severity="warning",
        )]
    return parsed, []


def _step_role_placement(role: StepRole, parsed: RoleArn, anchor: RoleArn, pipeline: RoleArn | None,
                         ) -> Problem | None:
    """A step role against the pipeline's roles: same partition and account; another role than the pipeline
    role is worth knowing (it needs iam:PassRole and its own job permissions)."""
    if parsed.partition != anchor.partition:
        return Problem(
            f"role {parsed.arn} is in partition {parsed.partition!r}, the pipeline's roles in "
            f"{anchor.partition!r}: a pipeline cannot use roles across partitions",
            step=role.step, field=role.field,
        )
    if parsed.account != anchor.account:
        return Problem(
            f"role {parsed.arn} is in account {parsed.account}, the pipeline role in {anchor.account}: "
            "iam:PassRole only passes roles of the pipeline's own account",
            step=role.step, field=role.field,
        )
    if pipeline is not None and parsed.arn != pipeline.arn:
        return Problem(
            f"runs as {parsed.arn}, not the pipeline role: the pipeline role needs iam:PassRole on it "
            f"(passed to {role.service}), and it needs its own job permissions",
            step=role.step, field=role.field, severity="info",
        )
    return None
