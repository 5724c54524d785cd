"""Extra links shown on the start and step tasks in the Airflow UI.

They reuse the Amazon provider's ``BaseAwsLink``: the task stores the link's fields in XCom when it runs
(``persist``) and the UI formats them, so no AWS call is made to draw a link.

Against the local engine there is no AWS console: when the connection's endpoint is the engine (it answers
``HEAD /_local/console/`` as its console), the task stores ``local_url``, a page of the engine's read-only
console (``local/console.py``), and the link opens that instead. The browser reaches the engine at the
connection extra ``local_console_url`` when set (the compose stack: the engine is ``sagemaker-local:8765``
for Airflow and ``127.0.0.1:8765`` for the browser), else at ``endpoint_url``.
"""

from __future__ import annotations

import threading
from typing import Any

from airflow.providers.amazon.aws.links.base_aws import BASE_AWS_CONSOLE_LINK, BaseAwsLink

from airflow_sagemaker_mlops.definition.step_kinds import resource_of_arn

# The SageMaker Studio pipelines page lives behind a Studio domain; the console page needs none.
_CONSOLE = BASE_AWS_CONSOLE_LINK + "/sagemaker/home?region={region_name}#"

#: The connection extra naming where a browser reaches the local engine, when not at endpoint_url.
LOCAL_CONSOLE_EXTRA = "local_console_url"


class _LocalAwareLink(BaseAwsLink):
    def format_link(self, **kwargs: Any) -> str:
        if kwargs.get("local_url"):  # stored by the task when the endpoint was the local engine
            return str(kwargs["local_url"])
        return super().format_link(**kwargs)


class SageMakerPipelineExecutionLink(_LocalAwareLink):
    """The pipeline execution in the SageMaker console (or the local engine's console)."""

    name = "SageMaker Pipeline Execution"
    key = "sagemaker_pipeline_execution"
    format_str = _CONSOLE + "/pipelines/{pipeline_name}/executions/{execution_id}"


class SageMakerStepJobLink(_LocalAwareLink):
    """The job (or model, model package, ...) a pipeline step created, in the SageMaker console (or the local
    engine's console)."""

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
    found = resource_of_arn(resource_arn)
    if found is None or not found[0].console_page:
        return {}
    resource, name = found
    return {"job_path": resource.console_page.format(name=name)}


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


# -- the local engine's console ---------------------------------------------------------------------------

_LOCAL_ENGINES: dict[str, bool] = {}
_LOCAL_LOCK = threading.Lock()


def is_local_engine(endpoint_url: str | None, timeout: float = 2.0) -> bool:
    """Whether ``endpoint_url`` is the local engine: one ``HEAD /_local/console/`` per endpoint and process
    (cached). Never called at DAG parse time: only by running tasks and the pipeline tab."""
    if not endpoint_url:
        return False
    base = endpoint_url.rstrip("/")
    with _LOCAL_LOCK:
        if base in _LOCAL_ENGINES:
            return _LOCAL_ENGINES[base]
    import urllib.request

    from airflow_sagemaker_mlops.local.console import HEADER, PREFIX

    try:
        request = urllib.request.Request(base + PREFIX, method="HEAD")
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            found = reply.headers.get(HEADER) == "1"
    except Exception:  # AWS answers 4xx, a network error: either way not the engine's console
        found = False
    with _LOCAL_LOCK:
        _LOCAL_ENGINES[base] = found
    return found


def local_console_base(endpoint_url: str | None, extra: dict[str, Any] | None = None) -> str | None:
    """Where a browser opens the local engine's console, or None when the endpoint is not the local engine."""
    if not is_local_engine(endpoint_url):
        return None
    public = (extra or {}).get(LOCAL_CONSOLE_EXTRA) or endpoint_url
    return str(public).rstrip("/")


def local_console_url(base: str | None, arn: str | None) -> str | None:
    """The console page of an execution, job, model or model package ARN (the index for other resources), under
    ``base``."""
    if not base or not arn:
        return None
    from airflow_sagemaker_mlops.local.console import PREFIX, execution_path, resource_path_of

    resource = arn.split(":", 5)[-1] if arn.count(":") >= 5 else ""
    parts = resource.split("/")
    if len(parts) >= 4 and parts[0] == "pipeline" and parts[2] == "execution":
        return base + execution_path(parts[3])
    return base + (resource_path_of(arn) or PREFIX)


def hook_console_base(hook: Any) -> str | None:
    """``local_console_base`` for an AWS hook's connection (None on AWS, or when it cannot tell)."""
    try:
        wrapper = hook.conn_config
        return local_console_base(wrapper.endpoint_url, getattr(wrapper, "extra_config", None))
    except Exception:  # links are a courtesy: never fail a task or a page over them
        return None


def local_link_fields(hook: Any, arn: str | None) -> dict[str, str]:
    """``{"local_url": ...}`` for a link's persisted fields when ``hook`` talks to the local engine, else {}."""
    url = local_console_url(hook_console_base(hook), arn)
    return {"local_url": url} if url else {}
