"""Where the pipeline tab's picture comes from.

The api-server never parses DAG files, so the page works from two sources:

- the **serialized DAG** (Airflow's database): each group's ``<group>.start`` task keeps the pipeline name,
  the AWS connection and region, and the step name -> task id map as template fields (what serialization
  keeps of an operator); the start task's ``execution_arn`` XCom of the latest DAG run that has one names the
  execution to draw;
- **SageMaker**, through the group's own connection: the graph is the definition that execution ran with
  (DescribePipelineDefinitionForExecution), coloured by its step list (ListPipelineExecutionSteps). With no
  execution yet, it is the pipeline's current definition (DescribePipeline), drawn grey.

The definition is read from SageMaker rather than kept in the serialized DAG because that is what ran: the
statuses belong to it even after the DAG file changed, and the serialized DAG (stored per DAG version, sent to
every component) does not grow with the definition's size (up to 1 MiB and more).
"""

from __future__ import annotations

import logging
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from airflow_sagemaker_mlops.links import (
    execution_console_url,
    hook_console_base,
    job_console_url,
    local_console_url,
)

from .graph import DefinitionError, apply_statuses, layout, tab_graph
from .render import GroupView

log = logging.getLogger(__name__)

START_OPERATOR = "SageMakerPipelineStartOperator"
START_MODULE = "airflow_sagemaker_mlops.operators.runtime"
EXECUTION_ARN_KEY = "execution_arn"  # operators.runtime.EXECUTION_ARN_KEY, without importing the operators


@dataclass
class GroupInfo:
    """A SageMakerPipelineGroup as its serialized start task describes it."""

    group_id: str
    start_task_id: str
    pipeline_name: str
    aws_conn_id: str | None = "aws_default"
    region_name: str | None = None
    step_task_ids: dict[str, str] = field(default_factory=dict)
    verify: bool | str | None = None
    botocore_config: dict[str, Any] | None = None


@dataclass
class LatestExecution:
    run_id: str
    execution_arn: str


def pipeline_groups(dag: Any) -> list[GroupInfo]:
    """The pipeline groups of a (serialized) DAG, found by their start tasks, in task order."""
    groups = []
    for task in dag.tasks:
        if getattr(task, "task_type", None) != START_OPERATOR or getattr(task, "_task_module", START_MODULE) \
                != START_MODULE:
            continue
        group = getattr(task, "task_group", None)
        group_id = getattr(group, "group_id", None) or task.task_id.rpartition(".")[0]
        groups.append(GroupInfo(
            group_id=group_id,
            start_task_id=task.task_id,
            pipeline_name=getattr(task, "pipeline_name", None) or "",
            aws_conn_id=getattr(task, "aws_conn_id", "aws_default"),
            region_name=getattr(task, "region_name", None),
            verify=getattr(task, "verify", None),
            botocore_config=getattr(task, "botocore_config", None) or None,
            step_task_ids=dict(getattr(task, "step_task_ids", None) or {}),
        ))
    return groups


def latest_execution(session: Any, dag_id: str, start_task_id: str, run_id: str | None = None
                     ) -> LatestExecution | None:
    """The execution ARN the start task pushed in the latest DAG run that has one (or in ``run_id``)."""
    from airflow.models.dagrun import DagRun
    from airflow.models.xcom import XComModel
    from sqlalchemy import select

    query = (select(XComModel).join(DagRun, DagRun.id == XComModel.dag_run_id)
             .where(XComModel.dag_id == dag_id, XComModel.task_id == start_task_id,
                    XComModel.key == EXECUTION_ARN_KEY, XComModel.map_index == -1)
             .order_by(DagRun.run_after.desc(), DagRun.id.desc()).limit(1))
    if run_id is not None:
        query = query.where(XComModel.run_id == run_id)
    row = session.scalars(query).first()
    if row is None:
        return None
    arn = XComModel.deserialize_value(row)
    return LatestExecution(row.run_id, arn) if isinstance(arn, str) and arn else None


@dataclass
class AirflowUrls:
    """Links into the Airflow UI, under the api-server's base path."""

    base: str = ""

    def dag_run(self, dag_id: str, run_id: str) -> str:
        return f"{self.base}/dags/{_q(dag_id)}/runs/{_q(run_id)}"

    def task_instance(self, dag_id: str, run_id: str | None, task_id: str) -> str:
        if run_id is None:  # no run yet: the task's own page
            return f"{self.base}/dags/{_q(dag_id)}/tasks/{_q(task_id)}"
        return f"{self.dag_run(dag_id, run_id)}/tasks/{_q(task_id)}"


def _q(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def ui_hook(group: GroupInfo) -> Any:
    """The group's hook, with short timeouts and few retries: a page must answer, not ride out throttling.
    The group's own botocore options (proxies, ...) hold, except where a page needs shorter waits."""
    from airflow_sagemaker_mlops.hooks.pipelines import SageMakerPipelinesHook
    from airflow_sagemaker_mlops.hooks.settings import AwsClientSettings

    config = {**(group.botocore_config or {}), "connect_timeout": 5, "read_timeout": 20,
              "retries": {"mode": "standard", "max_attempts": 3}}
    return AwsClientSettings(group.aws_conn_id, group.region_name, group.verify, config).hook(SageMakerPipelinesHook)


def group_view(dag_id: str, group: GroupInfo, latest: LatestExecution | None, urls: AirflowUrls,
               hook: Any | None = None) -> GroupView:
    """Everything the page shows of one group; an AWS or definition error becomes the view's error."""
    run_id = latest.run_id if latest else None
    view = GroupView(group.group_id, group.pipeline_name, dag_run_id=run_id,
                     dag_run_url=urls.dag_run(dag_id, run_id) if run_id else None)
    view.task_ids = dict(group.step_task_ids)
    view.task_urls = {step: urls.task_instance(dag_id, run_id, task_id)
                      for step, task_id in group.step_task_ids.items()}
    if not group.pipeline_name:
        view.error = (f"The serialized task {group.start_task_id!r} has no pipeline name: the DAG was last parsed "
                      "by a version of airflow-sagemaker-mlops without the pipeline tab; it gets one when the "
                      "dag-processor parses the file again.")
        return view
    try:
        hook = hook or ui_hook(group)
        local = hook_console_base(hook)  # the local engine's console instead of AWS's, when that is the endpoint
        if latest is not None:
            definition = hook.execution_definition(latest.execution_arn)
            view.execution = hook.describe_execution(latest.execution_arn)
            entries: list[dict[str, Any]] | None = hook.list_steps(latest.execution_arn)
            view.execution_url = (local_console_url(local, latest.execution_arn) if local
                                  else execution_console_url(latest.execution_arn, group.region_name))
            view.source = ("Definition this execution ran with (DescribePipelineDefinitionForExecution), "
                           "coloured by its steps.")
        else:
            described = hook.describe_pipeline(group.pipeline_name)
            if described is None:
                view.note = (f"No execution yet, and SageMaker has no pipeline {group.pipeline_name!r}: the "
                             f"task {group.start_task_id!r} creates it on the DAG's first run.")
                return view
            definition, entries = described["PipelineDefinition"], None
            view.note = "No execution yet: the pipeline's current definition (DescribePipeline), not run."
        graph = tab_graph(definition)
        apply_statuses(graph, entries)
        view.graph = layout(graph)
        view.job_urls = {name: url for name, step in graph.steps.items()
                         if (url := (local_console_url(local, step.resource_arn) if local
                                     else job_console_url(step.resource_arn, group.region_name)))}
    except DefinitionError as exc:
        view.error = f"Cannot draw the definition of pipeline {group.pipeline_name!r}: {exc}"
    except Exception as exc:  # an AWS or connection error in one group must not take the page down
        log.warning("pipeline tab: reading %s through connection %s failed", group.pipeline_name,
                    group.aws_conn_id, exc_info=True)
        view.error = (f"Could not read pipeline {group.pipeline_name!r} from SageMaker through connection "
                      f"{group.aws_conn_id!r}: {type(exc).__name__}: {exc}")
    return view
