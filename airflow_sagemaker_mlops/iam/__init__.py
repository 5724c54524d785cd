"""IAM for pipelines: role checks at parse time and least-privilege policies from a compiled group.

``policy_for_group(group, "pipeline" | "airflow" | <step role ARN>)`` returns a policy document;
``explain_group(...)`` the reasons for every statement and every widening; ``role_problems(...)`` the role
checks the compiler runs. Nothing here imports boto3/botocore or Airflow: it is safe at DAG parse time.
"""

from __future__ import annotations

import importlib
from typing import Any

# The compiler needs only the role checks at DAG parse time; the policy builder loads on first use.
_EXPORTS = {
    **dict.fromkeys(("AIRFLOW", "PIPELINE"), "analysis"),
    **dict.fromkeys(("Condition", "Grant", "PolicyReport", "StatementReport", "build_document"), "document"),
    **dict.fromkeys(("analyse", "explain", "explain_group", "policy_for_group", "policy_report"), "policy"),
    "queue_arn": "values",
    **dict.fromkeys(("RoleArn", "StepRole", "role_arn_problem", "role_problems", "step_roles"), "roles"),
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


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
