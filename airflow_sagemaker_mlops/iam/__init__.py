"""IAM for pipelines: role checks at parse time and least-privilege policies from a compiled group.

``policy_for_group(group, "pipeline" | "airflow" | <step role ARN>)`` returns a policy document;
``explain_group(...)`` the reasons for every statement and every widening; ``role_problems(...)`` the role
checks the compiler runs. Nothing here imports boto3/botocore or Airflow: it is safe at DAG parse time.
"""

from __future__ import annotations

from .policy import (
    AIRFLOW,
    PIPELINE,
    Condition,
    Grant,
    PolicyReport,
    StatementReport,
    analyse,
    build_document,
    explain,
    explain_group,
    policy_for_group,
    policy_report,
    queue_arn,
)
from .roles import RoleArn, StepRole, role_arn_problem, role_problems, step_roles

__all__ = [
    "AIRFLOW",
    "PIPELINE",
    "Condition",
    "Grant",
    "PolicyReport",
    "RoleArn",
    "StatementReport",
    "StepRole",
    "analyse",
    "build_document",
    "explain",
    "explain_group",
    "policy_for_group",
    "policy_report",
    "queue_arn",
    "role_arn_problem",
    "role_problems",
    "step_roles",
]
