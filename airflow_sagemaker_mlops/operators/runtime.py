"""What a SageMakerPipelineGroup does when its DAG runs.

- ``<group>.start`` upserts the pipeline (only when the definition changed) and starts an execution with the
  run's parameter values. Its ClientRequestToken is derived from the DAG run, the task and ``max_tries``:
  an automatic retry of the task (after a crash) sends the same token and gets the execution it already
  started back; clearing the task raises ``max_tries`` and so starts a fresh execution, as documented.
- each step task waits for its step (deferred to the triggerer, or polling), pushes the step's outputs to XCom
  and fails with SageMaker's FailureReason; a ConditionStep task then branches on the outcome.
- with ``mirror_steps=False`` a single ``<group>.wait`` task waits for the execution and the step tasks
  resolve from its XCom without calling AWS.

Everything here runs on workers and triggerers only: it is imported lazily, never at DAG parse time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_sagemaker_mlops.compat import (
    AirflowException,
    AirflowFailException,
    AirflowSkipException,
    BaseOperator,
    TaskGroup,
    XComArg,
    task_states,
    xcom_push,
)
from airflow_sagemaker_mlops.definition.statuses import (
    EXECUTION_RUNNING,
    RESUMABLE,
    SUCCEEDED,
    execution_ended,
    step_ended,
)
from airflow_sagemaker_mlops.hooks.settings import AWS_TEMPLATE_FIELDS, AwsClientSettings
from airflow_sagemaker_mlops.links import (
    SageMakerPipelineExecutionLink,
    SageMakerStepJobLink,
    execution_link_fields,
    job_link_fields,
    local_link_fields,
    region_and_partition,
)
from airflow_sagemaker_mlops.operators.failures import final, one_frame

if TYPE_CHECKING:
    from airflow_sagemaker_mlops.hooks.pipelines import SageMakerPipelinesHook
    from airflow_sagemaker_mlops.operators.steps import ConditionStep, SageMakerStepOperator

log = logging.getLogger(__name__)

#: XCom key of the execution ARN pushed by the start task.
EXECUTION_ARN_KEY = "execution_arn"
#: XCom keys of the wait task (mirror_steps=False).
STEPS_KEY = "steps"
EXECUTION_KEY = "execution"


def pipelines_hook(aws: AwsClientSettings) -> SageMakerPipelinesHook:
    from airflow_sagemaker_mlops.hooks.pipelines import SageMakerPipelinesHook

    return aws.hook(SageMakerPipelinesHook)


@dataclass(frozen=True)
class GroupRunSettings:
    """What the tasks of a SageMakerPipelineGroup need at run time, handed to each of them (as
    ``task.pipeline_settings``) when the group closes: run-time code reads this, never the group or the
    compiler, and the compiled pipeline is the one frozen at parse time, not compiled again."""

    group_id: str
    start_task_id: str
    wait_task_id: str
    mirror_steps: bool
    aws: AwsClientSettings
    poll_interval: float
    deferrable: bool
    stop_on_kill: bool
    job_logs: bool
    job_log_tail_lines: int
    #: The group's SQS queue of pipeline events and its fallback poll interval (None: the connection's).
    event_queue_url: str | None
    event_fallback_interval: float | None
    #: (step task id, step name) of every step task of the group.
    step_tasks: tuple[tuple[str, str], ...]
    #: The group's CompiledPipeline (compiler/compile.py), compiled once when the group closed.
    compiled: Any = field(compare=False, repr=False)


def pipeline_settings(task: BaseOperator) -> GroupRunSettings:
    settings = getattr(task, "pipeline_settings", None)
    if settings is None:
        raise AirflowException(f"task {task.task_id!r} must be inside a SageMakerPipelineGroup to run")
    return settings


class SageMakerPipelineStartOperator(BaseOperator):
    """``<group>.start``: upsert the group's pipeline and start an execution (inserted by the group)."""

    # Template fields are what Airflow keeps of an operator in the serialized DAG, so the ones after
    # parameter_values are there for the api-server, which never parses DAG files: the pipeline tab
    # (airflow_sagemaker_mlops.ui) reads the pipeline, connection and step tasks from them. The Amazon
    # provider's operators template aws_conn_id, region_name and verify too.
    template_fields = ("parameter_values", "pipeline_name", *AWS_TEMPLATE_FIELDS, "botocore_config",
                       "step_task_ids")
    template_fields_renderers = {"parameter_values": "json", "step_task_ids": "json"}
    ui_color = "#ff9900"
    operator_extra_links = (SageMakerPipelineExecutionLink(),)
    #: Not a pipeline step: the compiler skips it.
    sagemaker_runtime_task = True

    def __init__(
        self,
        *,
        parameter_values: dict[str, Any] | None = None,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | None = None,
        definition_bucket: str | None = None,
        pipeline_name: str | None = None,
        step_task_ids: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.parameter_values = dict(parameter_values or {})
        #: Informational (the group's compiled definition is what runs): pipeline name and step name -> task id.
        self.pipeline_name = pipeline_name
        self.step_task_ids = dict(step_task_ids or {})
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.verify = verify
        self.botocore_config = botocore_config
        self.definition_bucket = definition_bucket

    @one_frame
    def execute(self, context: Any) -> dict[str, Any]:
        settings = pipeline_settings(self)
        compiled = settings.compiled
        spec = compiled.spec
        values = check_parameter_values(  # before any AWS call
            {k: v for k, v in self.parameter_values.items() if v is not None}, spec.definition.parameters)
        hook = pipelines_hook(AwsClientSettings.of(self))
        upload_code_assets(hook, compiled.code_assets)
        # The hook logs what it did (uploaded/created/updated/started); the task does not repeat it.
        upsert = hook.upsert_pipeline(spec, definition_bucket=self.definition_bucket)

        ti = context["ti"]
        dag_id, run_id = ti.dag_id, context["run_id"]
        token = hook.execution_token(dag_id, run_id, self.task_id, str(getattr(ti, "map_index", -1)),
                                     str(getattr(ti, "max_tries", 0)))
        execution_arn = hook.start_execution(
            spec.name,
            parameters=values,  # checked and coerced above, before any call: not checked twice
            client_request_token=token,
            display_name=_display_name(run_id),
            description=f"Airflow dag_id={dag_id} run_id={run_id} group={settings.group_id}",
            max_parallel_steps=spec.max_parallel_steps,
        )
        xcom_push(ti, EXECUTION_ARN_KEY, execution_arn)
        from airflow_sagemaker_mlops.operators.experiments import report_tracking

        tracking = report_tracking(hook, execution_arn, ti, self.log)  # experiment/trial, MLflow: log + XCom
        region, partition = region_and_partition(execution_arn, hook.conn_region_name)
        SageMakerPipelineExecutionLink.persist(context=context, operator=self, region_name=region,
                                               aws_partition=partition, **execution_link_fields(execution_arn),
                                               **local_link_fields(hook, execution_arn))
        self.lineage_state = {"execution_arn": execution_arn, "code_assets": [a.s3_uri for a in compiled.code_assets]}
        return {
            "execution_arn": execution_arn,
            "pipeline_arn": upsert.pipeline_arn,
            "upsert": upsert.action,
            "definition_hash": upsert.definition_hash,
            "parameters": values,
            "tracking": tracking,
        }

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        from airflow_sagemaker_mlops.lineage import start_facets

        return start_facets(self)


_FIX_VALUES = ("Next: this task will not retry (the values would fail again). Fix the value (the DAG run's "
               "conf, or the group's parameter_values) and trigger a new run.")


def check_parameter_values(values: dict[str, Any], declared: dict[str, Any]) -> dict[str, Any]:
    """Per-run values coerced to their declared types; a value that does not fit fails the task before any
    AWS call, naming the parameter. Deterministic: the same values would fail the same way on a retry."""
    from airflow_sagemaker_mlops.definition.parameters import check_run_values

    coerced, problems = check_run_values(values, declared)
    if problems:
        raise final(AirflowFailException("\n".join([*problems, _FIX_VALUES])))
    return coerced


def upload_code_assets(hook: SageMakerPipelinesHook, assets: list[Any]) -> None:
    """Upload each CodeAsset (skipped when its content-addressed key is already there)."""
    for asset in assets:
        # A CodeBundle (function and notebook steps) uploads its generated files itself.
        uri = asset.upload(hook) if hasattr(asset, "upload") else hook.upload_code_asset(
            asset.local_path, asset.bucket, asset.prefix)
        if uri != asset.s3_uri:  # the file changed between parsing and now: the definition would be stale
            raise AirflowException(f"code asset {asset.local_path} changed since the DAG was parsed "
                                   f"({asset.s3_uri} != {uri}); run the task again")


def _display_name(run_id: str) -> str:
    # PipelineExecutionDisplayName: up to 82 characters, letters, digits and single hyphens.
    cleaned = "".join(c if c.isalnum() else "-" for c in run_id)
    while "--" in cleaned:
        cleaned = cleaned.replace("--", "-")
    return cleaned.strip("-")[:82] or "airflow-run"


class SageMakerPipelineWaitOperator(BaseOperator):
    """``<group>.wait`` (``mirror_steps=False``): wait for the whole execution, then hand every step's
    result to the step tasks through XCom."""

    ui_color = "#ffcc80"
    sagemaker_runtime_task = True

    def __init__(self, *, aws_conn_id: str | None = "aws_default", region_name: str | None = None,
                 verify: bool | str | None = None, botocore_config: dict[str, Any] | None = None,
                 poll_interval: float = 15.0, deferrable: bool = True, stop_on_kill: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.verify = verify
        self.botocore_config = botocore_config
        self.poll_interval = poll_interval
        self.deferrable = deferrable
        self.stop_on_kill = stop_on_kill
        self._execution_arn: str | None = None

    def execute(self, context: Any) -> Any:
        arn = self._execution_arn = execution_arn_of(self, context)
        from airflow_sagemaker_mlops.triggers.pipelines import PipelineExecutionTrigger, wait_or_defer

        aws = AwsClientSettings.of(self)
        hook = pipelines_hook(aws)
        follow_after_clear(self, context, hook, arn, None)
        trigger = PipelineExecutionTrigger(arn, **aws.as_kwargs(), poll_interval=self.poll_interval,
                                           stop_on_kill=self.stop_on_kill)
        return self.execute_complete(context, wait_or_defer(self, hook, trigger,
                                                            deferrable=self.deferrable,
                                                            timeout=self._timeout_seconds()))

    def on_kill(self) -> None:
        stop_killed_execution(self, self.stop_on_kill, self._execution_arn, AwsClientSettings.of(self))

    def _timeout_seconds(self) -> float | None:
        return self.execution_timeout.total_seconds() if self.execution_timeout else None

    @one_frame
    def execute_complete(self, context: Any, event: dict[str, Any]) -> dict[str, Any]:
        from airflow_sagemaker_mlops.operators import failures

        if event.get("status") == "error":
            raise failures.wait_error(event.get("message", "waiting for the execution failed"))
        arn = execution_arn_of(self, context)
        hook = pipelines_hook(AwsClientSettings.of(self))
        steps = [_jsonable(s) for s in hook.list_steps(arn)]
        execution = _jsonable(hook.describe_execution(arn))
        ti = context["ti"]
        xcom_push(ti, STEPS_KEY, steps)
        xcom_push(ti, EXECUTION_KEY, execution)
        status = execution.get("PipelineExecutionStatus")
        if status != "Succeeded":
            failed = [f"{s['StepName']}: {s.get('FailureReason', s.get('StepStatus'))}" for s in steps
                      if s.get("StepStatus") in ("Failed", "Stopped")]
            raise failures.execution_failed(arn, status, execution.get("FailureReason") or "; ".join(failed))
        return {"status": status, "steps": {s["StepName"]: s.get("StepStatus") for s in steps}}


def execution_arn_of(task: BaseOperator, context: Any) -> str:
    settings = pipeline_settings(task)
    arn = context["ti"].xcom_pull(task_ids=settings.start_task_id, key=EXECUTION_ARN_KEY)
    if not arn:
        raise AirflowException(f"no execution ARN from {settings.start_task_id!r}: did the start task run?")
    return arn


# -- step tasks ----------------------------------------------------------------------------------------
def run_step(op: SageMakerStepOperator, context: Any) -> Any:
    settings = pipeline_settings(op)
    if not settings.mirror_steps:
        ti = context["ti"]
        steps = ti.xcom_pull(task_ids=settings.wait_task_id, key=STEPS_KEY) or []
        execution = ti.xcom_pull(task_ids=settings.wait_task_id, key=EXECUTION_KEY) or {}
        step = next((s for s in steps if s.get("StepName") == op.step_name), None)
        return finish_step(op, context, step, execution)
    aws = settings.aws
    hook = pipelines_hook(aws)
    from airflow_sagemaker_mlops.triggers.pipelines import PipelineExecutionTrigger, wait_or_defer

    follow = follow_after_clear(op, context, hook, execution_arn_of(op, context), op.step_name)
    arn = op.execution_arn = follow.execution_arn
    xcom_push(context["ti"], EXECUTION_ARN_KEY, arn)  # which execution this task follows
    _persist_job_link(op, context, hook, None, settings.aws.region_name)  # until the step's job is known (deferral)
    trigger = PipelineExecutionTrigger(arn, step_name=op.step_name, **aws.as_kwargs(),
                                       poll_interval=settings.poll_interval, stop_on_kill=settings.stop_on_kill,
                                       stream_logs=settings.job_logs, resumed_from=follow.resumed_from,
                                       end_task=task_end_for(op, settings, hook))
    streamer = None
    if settings.job_logs and not settings.deferrable:  # the job log while the step runs (the trigger does it deferred)
        from airflow_sagemaker_mlops.operators.observability import WorkerLogStreamer, logs_hook

        streamer = WorkerLogStreamer(op.step_name, hook, logs_hook(aws), op.log)
    timeout = op.execution_timeout.total_seconds() if op.execution_timeout else None
    event = wait_or_defer(op, hook, trigger, deferrable=settings.deferrable, timeout=timeout, on_poll=streamer)
    if streamer is not None:
        event["job_log"] = streamer.job_log()
    return complete_step(op, context, event)


def end_from_trigger_blocker(op: SageMakerStepOperator, settings: GroupRunSettings) -> str | None:
    """Why this step task must resume on a worker even with ``end_from_trigger`` (None: it need not).
    triggers/task_end.py says what ending in the triggerer does, and why each of these needs the worker."""
    from airflow_sagemaker_mlops.operators.steps import ConditionStep, RegisterModelStep

    if not settings.deferrable:
        return "the group does not defer"
    if isinstance(op, ConditionStep | RegisterModelStep):
        return f"a {type(op).__name__} ends on the worker (branching, asset events)"
    if op.outlets:
        return "the task has outlets (their asset events are emitted by the worker)"
    if settings.job_logs:
        return "job_logs=True (the worker drains the job log and reads the metrics)"
    if not op.do_xcom_push:
        return "do_xcom_push=False"
    if _openlineage_enabled():
        return "OpenLineage is enabled (its listener runs on the worker)"
    return None


def _openlineage_enabled() -> bool:
    try:
        from airflow.providers.openlineage.conf import is_disabled
    except ImportError:  # the provider is not installed
        return False
    return not is_disabled()


def task_end_for(op: SageMakerStepOperator, settings: GroupRunSettings,
                 hook: SageMakerPipelinesHook) -> dict[str, Any] | None:
    """The trigger's ``end_task`` (triggers/task_end.py): set when ``end_from_trigger`` is on and safe here."""
    from airflow_sagemaker_mlops.triggers.task_end import TaskEnd, end_from_trigger_configured

    if not end_from_trigger_configured():
        return None
    blocker = end_from_trigger_blocker(op, settings)
    if blocker is not None:
        op.log.info("end_from_trigger: this task resumes on a worker: %s", blocker)
        return None
    from airflow_sagemaker_mlops.links import hook_console_base

    # The same defaults as the worker's _persist_job_link.
    return TaskEnd(region_name=settings.aws.region_name, console_base=hook_console_base(hook)).to_json()


def was_cleared(task: BaseOperator, context: Any) -> bool:
    """Whether a user cleared this task instance since it was created: Airflow raises ``max_tries`` above
    the task's ``retries`` on a clear, never on one of its own retries."""
    return int(getattr(context["ti"], "max_tries", 0) or 0) > int(task.retries or 0)


@dataclass(frozen=True)
class Follow:
    """What a (possibly cleared) task follows: an execution, and the step attempt that execution re-runs."""

    execution_arn: str
    #: StartTime of the step's attempt being re-run (the wait ignores it while the execution runs).
    resumed_from: str | None = None


#: Task instance states of a task that is done in this DAG run (anything else is pending: e.g. just cleared).
_DONE_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})


def follow_after_clear(task: BaseOperator, context: Any, hook: SageMakerPipelinesHook, execution_arn: str,
                       step_name: str | None) -> Follow:
    """Clear to resume (docs/operations.md has the whole mapping of Airflow actions to SageMaker calls).

    A task a user cleared (``max_tries`` above ``retries``) whose execution has ended:

    - its step did not succeed and the execution ended Failed or Stopped: resume that same execution with
      RetryPipelineExecution and follow the retried step. Exactly once however many cleared tasks notice
      it: the ClientRequestToken is derived from the execution and the moment it ended (LastModifiedTime),
      so every task seeing the same failure sends the same token (SageMaker runs it once), and SageMaker
      refuses to retry an execution that already runs again (the hook then returns its ARN). A later failure
      ends at another moment: clearing again resumes again.
    - its step succeeded: re-run exactly the cleared steps of the group as a selective execution of that
      execution (SelectiveExecutionConfig; the other steps' results are reused) and follow it. The cleared
      tasks all send one token (the execution and the DAG run's clear count), so they share one execution.

    Otherwise (never cleared, or still running) the task follows ``execution_arn`` as it is.
    """
    if not was_cleared(task, context):
        return Follow(execution_arn)
    from airflow_sagemaker_mlops.triggers.pipelines import find_step

    execution = hook.describe_execution(execution_arn)
    status = execution.get("PipelineExecutionStatus")
    step = find_step(hook.list_steps(execution_arn), step_name) if step_name is not None else None
    step_status = step.get("StepStatus") if step is not None else None
    if step_status == SUCCEEDED:
        if not execution_ended(status):
            return Follow(execution_arn)
        return Follow(rerun_cleared_steps(task, context, hook, execution_arn))
    if status in RESUMABLE:
        token = hook.execution_token("resume", execution_arn, str(execution.get("LastModifiedTime")))
        hook.retry_execution(execution_arn, client_request_token=token)
        task.log.info("Cleared after execution %s ended %s: resumed it (RetryPipelineExecution); following %s "
                      "in the same execution", execution_arn, status, f"step {step_name!r}" if step_name else "it")
    elif status not in EXECUTION_RUNNING:
        return Follow(execution_arn)
    return Follow(execution_arn, str(step.get("StartTime") or "") if step is not None and step_ended(step_status)
                  else None)


def rerun_cleared_steps(task: BaseOperator, context: Any, hook: SageMakerPipelinesHook, source_arn: str) -> str:
    """A selective execution of ``source_arn`` running the steps whose tasks are cleared in this DAG run."""
    settings = pipeline_settings(task)
    step_tasks = dict(settings.step_tasks)
    ti = context["ti"]
    states = task_states(ti, list(step_tasks))
    pending = {task_id for task_id, state in states.items() if state not in _DONE_STATES} | {task.task_id}
    selected = sorted(step_tasks[t] for t in pending if t in step_tasks)
    clears = getattr(context.get("dag_run"), "clear_number", None)
    token = hook.execution_token("selective", source_arn, str(clears))
    arn = hook.start_execution(
        source_arn.split("/execution/")[0],  # the pipeline's ARN
        parameters=hook.execution_parameters(source_arn),
        client_request_token=token,
        description=f"Airflow dag_id={ti.dag_id} run_id={ti.run_id} group={settings.group_id}: re-run of "
                    f"{', '.join(selected)} (selective execution of {source_arn})",
        selective_execution={"SourcePipelineExecutionArn": source_arn,
                             "SelectedSteps": [{"StepName": name} for name in selected]},
    )
    task.log.info("Cleared after step %r succeeded: re-running %s as selective execution %s of %s",
                  getattr(task, "step_name", task.task_id), ", ".join(selected), arn, source_arn)
    return arn


def stop_killed_execution(task: BaseOperator, enabled: bool, execution_arn: str | None,
                          aws: AwsClientSettings) -> None:
    """on_kill of a task that was waiting on a worker (deferred waits stop through the trigger's on_kill)."""
    if enabled and execution_arn:
        task.log.info("Task killed: stopping %s", execution_arn)
        pipelines_hook(aws).stop_execution(execution_arn)


def _persist_job_link(op: Any, context: Any, hook: SageMakerPipelinesHook, resource_arn: str | None,
                      default_region: str | None) -> None:
    """The step's job link. Also without a job (a condition, a Fail step, a deferring attempt): Airflow 3
    reads every extra link's XCom when an attempt ends and logs an ERROR for a missing one; no fields, no link."""
    region, partition = region_and_partition(resource_arn or "", default_region)
    fields = job_link_fields(resource_arn) | local_link_fields(hook, resource_arn) if resource_arn else {}
    SageMakerStepJobLink.persist(context=context, operator=op, region_name=region, aws_partition=partition, **fields)


def complete_step(op: SageMakerStepOperator, context: Any, event: dict[str, Any]) -> Any:
    if event.get("status") == "error":  # polling kept failing: transient, keeps Airflow's retries
        from airflow_sagemaker_mlops.operators.failures import wait_error

        raise wait_error(event.get("message", f"waiting for step {op.step_name!r} failed"))
    return finish_step(op, context, event.get("step"), event.get("execution") or {}, event.get("job_log"))


def finish_step(op: SageMakerStepOperator, context: Any, step: dict[str, Any] | None,
                execution: dict[str, Any], job_log: dict[str, Any] | None = None) -> Any:
    settings = pipeline_settings(op)
    ti = context["ti"]
    if step is None:
        status = execution.get("status") or execution.get("PipelineExecutionStatus") or "ended"
        raise AirflowSkipException(f"SageMaker did not run step {op.step_name!r} (execution {status})")
    op.sagemaker_step = step  # what its OpenLineage facets and asset event describe
    hook = pipelines_hook(settings.aws)
    outputs = _jsonable(hook.step_outputs(step))
    for key, value in outputs.items():
        xcom_push(ti, key, value)
    _persist_job_link(op, context, hook, _resource_arn(step), settings.aws.region_name)
    status = step.get("StepStatus")
    from airflow_sagemaker_mlops.operators import failures
    from airflow_sagemaker_mlops.operators.observability import outputs_table, step_summary
    from airflow_sagemaker_mlops.operators.steps import FailStep

    designed = isinstance(op, FailStep) and status == "Failed"
    table = None if designed else outputs_table(outputs)  # a Fail step's only output is its message
    op.log.info("%s%s", step_summary(outputs), f"; outputs (also in XCom):\n{table}" if table else "")
    if designed:  # the pipeline failed itself on purpose: one clear line, no job log to show
        line, failure = failures.designed_failure(op, step, settings.start_task_id)
        op.log.error("%s", line)
        raise failure
    tail = ""
    if settings.job_logs:  # job log (rest of it), metrics and property files; see operators/observability.py
        from airflow_sagemaker_mlops.operators.observability import report_step

        report = report_step(op, context, step, outputs, hook, settings.aws, job_log,
                             settings.job_log_tail_lines)
        if report.tail:
            tail = (f"\nLast {len(report.tail)} lines of the job log ({report.location.describe()}):\n"
                    + "\n".join(report.tail))
    if step_ended(status) and status != SUCCEEDED:  # final in SageMaker: retrying this task cannot change it
        arn = execution.get("arn") or execution.get("PipelineExecutionArn") or op.execution_arn
        raise failures.step_failed(op.step_name, step, arn, settings.start_task_id, tail)
    if status != SUCCEEDED:  # still running although its execution ended: not final, Airflow may retry
        raise AirflowException(f"SageMaker step {op.step_name!r} ended {status}: {step.get('FailureReason', '')}"
                               f"{tail}")
    from airflow_sagemaker_mlops.operators.steps import ConditionStep

    if isinstance(op, ConditionStep):
        outcome = _outcome(step)
        if outcome is None:
            raise AirflowException(f"condition step {op.step_name!r} succeeded without an outcome in its metadata")
        op.do_branch(context, branch_targets(op, outcome))
    return outputs


def _outcome(step: dict[str, Any]) -> bool | None:
    value = step.get("Metadata", {}).get("Condition", {}).get("Outcome")
    return None if value is None else str(value).lower() == "true"


def _fail_message(step: dict[str, Any]) -> str | None:
    return step.get("Metadata", {}).get("Fail", {}).get("ErrorMessage")


def _resource_arn(step: dict[str, Any]) -> str | None:
    for value in step.get("Metadata", {}).values():
        if isinstance(value, dict) and isinstance(value.get("Arn"), str):
            return value["Arn"]
    return None


def node_ids(target: Any) -> list[str]:
    """Task ids (or group ids, which Airflow's branching expands) a ``>>`` target stands for."""
    if isinstance(target, list | tuple):
        return [i for t in target for i in node_ids(t)]
    if isinstance(target, XComArg):
        return [op.task_id for op, _ in XComArg.iter_xcom_references(target)]
    if isinstance(target, TaskGroup):
        return [target.group_id] if target.group_id else []
    task_id = getattr(target, "task_id", None)
    return [task_id] if task_id else []


def branch_targets(gate: ConditionStep, outcome: bool) -> list[str]:
    """Direct downstream tasks of the gate to keep: everything but the other branch's steps and followers."""
    chosen, other = (gate.if_true, gate.if_false) if outcome else (gate.if_false, gate.if_true)
    keep = {s.task_id for s in chosen} | {i for f in chosen.followers for i in node_ids(f)}
    drop = ({s.task_id for s in other} | {i for f in other.followers for i in node_ids(f)}) - keep
    downstream: Iterable[str] = gate.downstream_task_ids
    dag = gate.dag
    # Followers given as task groups: skip_all_except works on direct downstream task ids.
    expanded_drop = set()
    for node in drop:
        group = dag.task_group_dict.get(node) if dag is not None else None
        expanded_drop |= {r.task_id for r in group.roots} if group is not None else {node}
    return sorted(t for t in downstream if t not in expanded_drop)


def _jsonable(value: Any) -> Any:
    """XCom-safe copy: datetimes as ISO strings, everything else JSON-native."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
