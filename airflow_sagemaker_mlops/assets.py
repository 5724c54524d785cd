"""Airflow Assets for the SageMaker Model Registry: a model package group as something DAGs are scheduled on.

A RegisterModelStep task has the asset of its model package group as an outlet; when SageMaker registers a
version, the task's asset event carries the version in its ``extra``::

    {"model_package_arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/3",
     "model_package_group": "churn", "model_package_version": 3,
     "model_approval_status": "PendingManualApproval",
     "pipeline_execution_arn": "...", "step_name": "register"}

so a deploy DAG declares ``schedule=[model_package_group_asset("churn")]`` and reads the version from
``triggering_asset_events``.

URI convention: ``x-sagemaker-model-package-group://<group name>``. Airflow 3 passes a scheme starting with
``x-`` through unchanged (no provider lookup, so building the asset at DAG parse time stays cheap) and
reserves only ``airflow``; group names (letters, digits, hyphens, up to 63 characters) are valid URI
authorities as they are. The asset is keyed on the group's name alone: one Airflow deployment talks to
one registry per group name (the account and region of its connection).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_sagemaker_mlops.compat import Asset

MODEL_PACKAGE_GROUP_SCHEME = "x-sagemaker-model-package-group"

# SageMaker's ModelPackageGroupName pattern.
_GROUP_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_GROUP_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package-group/(?P<name>[^/]+)$")


def model_package_group_name(group: str) -> str:
    """The group's name from a name or a model package group ARN; anything else is a ValueError."""
    match = _GROUP_ARN.match(group)
    name = match.group("name") if match else group
    if not _GROUP_NAME.match(name):
        raise ValueError(f"{group!r} is not a model package group name (letters, digits and hyphens, "
                         "up to 63 characters) or model package group ARN")
    return name


def model_package_group_uri(group: str) -> str:
    return f"{MODEL_PACKAGE_GROUP_SCHEME}://{model_package_group_name(group)}"


def model_package_group_asset(group: str) -> Asset:
    """The Airflow Asset of a model package group (name or ARN), for ``schedule=`` and ``outlets=``.

    Args:
        group: the model package group's name or ARN.
    """
    from airflow_sagemaker_mlops.compat import Asset

    # uri= only: Airflow 3 names the asset after it, and Airflow 2's Dataset takes nothing else.
    return Asset(uri=model_package_group_uri(group))


def registration_extra(package: dict[str, Any], execution_arn: str | None, step_name: str) -> dict[str, Any]:
    """The asset event's ``extra`` for a registered version (``package``: DescribeModelPackage)."""
    return {
        "model_package_arn": package.get("ModelPackageArn"),
        "model_package_group": package.get("ModelPackageGroupName"),
        "model_package_version": package.get("ModelPackageVersion"),
        "model_approval_status": package.get("ModelApprovalStatus"),
        "pipeline_execution_arn": execution_arn,
        "step_name": step_name,
    }


#: The AssetAlias a RegisterModelStep has as outlet when its group is a pipeline expression.
REGISTRATIONS_ALIAS = "sagemaker-model-package-registrations"


def registrations_alias() -> Any:
    from airflow_sagemaker_mlops.compat import AssetAlias

    return AssetAlias(name=REGISTRATIONS_ALIAS)


def emit_registration_event(op: Any, context: Any) -> dict[str, Any] | None:
    """Put the version a RegisterModelStep task's step registered into its outlet's asset event.

    Called after the step succeeded (the task then emits one event per outlet). The group's own asset gets
    the ``extra``; the registrations alias gets the actual group's asset added with it. Returns the extra,
    or None when the step registered nothing.
    """
    from airflow_sagemaker_mlops.compat import Asset, AssetAlias
    from airflow_sagemaker_mlops.hooks.pipelines import jsonable
    from airflow_sagemaker_mlops.operators.runtime import execution_arn_of, pipeline_settings, pipelines_hook

    arn = ((getattr(op, "sagemaker_step", None) or {}).get("Metadata") or {}).get("RegisterModel", {}).get("Arn")
    if not arn:
        return None
    package = jsonable(pipelines_hook(pipeline_settings(op).aws)._call(
        "describe_model_package", ModelPackageName=arn))
    extra = registration_extra(package, execution_arn_of(op, context), op.step_name)
    uri = model_package_group_uri(package["ModelPackageGroupName"])
    events = context["outlet_events"]
    for outlet in op.outlets or []:
        if isinstance(outlet, AssetAlias) and outlet.name == REGISTRATIONS_ALIAS:
            events[outlet].add(model_package_group_asset(package["ModelPackageGroupName"]), extra=extra)
        elif isinstance(outlet, Asset) and outlet.uri == uri:
            events[outlet].extra = extra
    op.log.info("Registered %s (version %s, %s): asset %s", arn, extra["model_package_version"],
                extra["model_approval_status"], uri)
    return extra
