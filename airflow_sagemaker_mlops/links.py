"""Extra links shown on the start and step tasks in the Airflow UI.

They reuse the Amazon provider's ``BaseAwsLink``: the task stores the link's fields in XCom when it runs
(``persist``) and the UI formats them, so no AWS call is made to draw a link.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.links.base_aws import BASE_AWS_CONSOLE_LINK, BaseAwsLink

# The SageMaker Studio pipelines page lives behind a Studio domain; the console page needs none.
_CONSOLE = BASE_AWS_CONSOLE_LINK + "/sagemaker/home?region={region_name}#"

#: The console path of the job or resource each step type creates, by ARN resource prefix.
_JOB_PAGES = {
    "processing-job": "/processing-jobs/{name}",
    "training-job": "/jobs/{name}",
    "transform-job": "/transform-jobs/{name}",
    "hyper-parameter-tuning-job": "/hyper-tuning-jobs/{name}",
    "model": "/models/{name}",
    "model-package": "/model-packages/{name}",
    "automl-job": "/automl-jobs/{name}",
    "endpoint": "/endpoints/{name}",
    "endpoint-config": "/endpointConfig/{name}",
}


class SageMakerPipelineExecutionLink(BaseAwsLink):
    """The pipeline execution in the SageMaker console."""

    name = "SageMaker Pipeline Execution"
    key = "sagemaker_pipeline_execution"
    format_str = _CONSOLE + "/pipelines/{pipeline_name}/executions/{execution_id}"


class SageMakerStepJobLink(BaseAwsLink):
    """The job (or model, model package, ...) a pipeline step created."""

    name = "SageMaker Step Job"
    key = "sagemaker_step_job"
    format_str = _CONSOLE + "{job_path}"


def execution_link_fields(execution_arn: str) -> dict[str, str]:
    """``arn:aws:sagemaker:<region>:<account>:pipeline/<name>/execution/<id>`` -> link fields."""
    resource = execution_arn.split(":", 5)[-1]
    parts = resource.split("/")
    if len(parts) >= 4 and parts[0] == "pipeline" and parts[2] == "execution":
        return {"pipeline_name": parts[1], "execution_id": parts[3]}
    return {}


def job_link_fields(resource_arn: str | None) -> dict[str, Any]:
    if not resource_arn or resource_arn.count(":") < 5:
        return {}
    kind, _, name = resource_arn.split(":", 5)[-1].partition("/")
    page = _JOB_PAGES.get(kind)
    return {"job_path": page.format(name=name)} if page and name else {}


def region_and_partition(arn: str, default_region: str | None) -> tuple[str | None, str]:
    parts = arn.split(":")
    if len(parts) > 3 and parts[0] == "arn":
        return parts[3] or default_region, parts[1]
    return default_region, "aws"


def console_url(link: BaseAwsLink, arn: str | None, fields: dict[str, Any], default_region: str | None) -> str | None:
    """The console URL ``link`` would show for ``arn`` (for pages that have the ARN but no task's XCom, such
    as the pipeline tab), or None when the ARN or the fields do not make one."""
    if not arn or not fields:
        return None
    region, partition = region_and_partition(arn, default_region)
    return link.format_link(region_name=region, aws_domain=link.get_aws_domain(partition), **fields) or None


def execution_console_url(execution_arn: str | None, default_region: str | None = None) -> str | None:
    return console_url(SageMakerPipelineExecutionLink(), execution_arn,
                       execution_link_fields(execution_arn or ""), default_region)


def job_console_url(resource_arn: str | None, default_region: str | None = None) -> str | None:
    return console_url(SageMakerStepJobLink(), resource_arn, job_link_fields(resource_arn), default_region)
