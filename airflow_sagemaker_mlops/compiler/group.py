"""SageMakerPipelineGroup: an Airflow TaskGroup whose step tasks are one SageMaker pipeline."""

from __future__ import annotations

import logging
import time
import warnings
from typing import Any

from airflow_sagemaker_mlops.compat import TaskGroup
from airflow_sagemaker_mlops.definition import ExperimentConfig, ParameterRef, PipelineParameter
from airflow_sagemaker_mlops.exceptions import (
    PipelineCompileError,
    PipelineDefinitionError,
    PipelineDefinitionWarning,
)
from airflow_sagemaker_mlops.hooks.settings import AwsClientSettings, check_client_settings
from airflow_sagemaker_mlops.location import current_dag_and_group, located, unknown_operator_keywords, user_site

from .compile import CompiledPipeline, compile_group, link_airflow

log = logging.getLogger(__name__)

_DEFAULT = object()
_JSON_TYPES = {"String": "string", "Integer": "integer", "Float": "number", "Boolean": "boolean"}


class SageMakerPipelineGroup(TaskGroup):
    """A TaskGroup compiled into one SageMaker pipeline.

    Put step operators (``ProcessingStep``, ``TrainingStep``, ``ConditionStep``, ...) inside it. Leaving the
    ``with`` block compiles them, so a mistake fails the DAG import with a message naming the DAG file, the
    group and the task.

    Args:
        group_id: the TaskGroup's id (the prefix of its tasks' ids).
        pipeline_name: the SageMaker pipeline's name.
        role_arn: the pipeline execution role (passed to CreatePipeline/UpdatePipeline).
        parameters: typed pipeline parameters, by name (:class:`PipelineParameter`).
        parameter_values: per-run values, by parameter name: literals, Jinja strings or XComArgs.
            They are checked against the declared types and sent with StartPipelineExecution; they never
            enter the definition.
        dag_params: expose every parameter not in ``parameter_values`` as a DAG Param (same default, type
            and allowed values), so the trigger form in the Airflow UI sets it for the run.
        max_parallel_steps: ``ParallelismConfiguration.MaxParallelExecutionSteps``.
        experiment_config: ``PipelineExperimentConfig``; ``None`` leaves it out; by default experiment
            and trial are named after the pipeline and the execution, as SageMaker SDK v3 does.
        mlflow_config: ``MlflowConfig`` (``{"MlflowResourceArn": ..., "MlflowExperimentName": ...}``): the
            SageMaker managed MLflow tracking server the pipeline's runs are logged to.
        pipeline_description: ``PipelineDescription``.
        pipeline_display_name: ``PipelineDisplayName``.
        pipeline_tags: tags for CreatePipeline.
        aws_conn_id: the Airflow connection to reach SageMaker with (run time).
        region_name: AWS region override (run time).
        verify: TLS certificate verification of the AWS clients: False, or a CA bundle path (run time).
        botocore_config: ``botocore.config.Config`` options for the AWS clients, e.g. proxies or timeouts
            (run time; checked at parse time). All four AWS settings are the Amazon provider operators' own.
        mirror_steps: one Airflow task per step that waits for its step (default); False: a single
            ``<group>.wait`` task waits for the execution and the step tasks resolve from its result.
        deferrable: step tasks wait in the triggerer (default) or poll on a worker.
        poll_interval: seconds between status polls (one poll per execution serves all its steps).
        event_queue_url: an SQS queue of SageMaker's pipeline events (``events setup``): events wake the
            waiting step tasks, and polls happen every ``event_fallback_interval`` seconds (default 300)
            instead (docs/operations.md). Default: the AWS connection's extra ``event_queue_url``, if any.
        event_fallback_interval: seconds between polls when events are configured (default 300).
        stop_on_kill: stop the execution when a user kills a waiting step task (marks it or its run failed,
            or clears it), deferred or not.
        definition_bucket: S3 bucket for definitions over 100 KiB (default ``sagemaker-<region>-<account>``).
        job_logs: step tasks show their job's log (CloudWatch Logs) while it runs and when it ends.
        job_log_tail_lines: lines of the job log a failed step task adds to its error (0: none).
    """

    #: Task ids of the tasks the group adds itself (relative to the group).
    START_TASK = "start"
    WAIT_TASK = "wait"

    @property
    def start_task_id(self) -> str:
        """The task id of the group's start task (``<group>.start``)."""
        return self.child_id(self.START_TASK)

    @property
    def wait_task_id(self) -> str:
        """The task id of the group's wait task (``<group>.wait``, only with ``mirror_steps=False``)."""
        return self.child_id(self.WAIT_TASK)

    @property
    def execution_arn(self) -> Any:
        """The ARN of this run's execution, as an XComArg of the start task (for lifecycle operators, such as
        a SageMakerPipelineCallbackOperator answering one of the group's Callback steps)."""
        start = self.children.get(self.start_task_id)
        if start is None:
            raise self.error("the execution ARN exists once the group's with block has closed")
        return start.output["execution_arn"]

    def __init__(
        self,
        group_id: str,
        *,
        pipeline_name: str | None = None,
        role_arn: str | None = None,
        parameters: dict[str, PipelineParameter] | None = None,
        parameter_values: dict[str, Any] | None = None,
        dag_params: bool = False,
        max_parallel_steps: int | None = None,
        experiment_config: ExperimentConfig | Any | None = _DEFAULT,
        mlflow_config: dict[str, Any] | None = None,
        pipeline_description: str | None = None,
        pipeline_display_name: str | None = None,
        pipeline_tags: dict[str, str] | None = None,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | None = None,
        mirror_steps: bool = True,
        deferrable: bool = True,
        poll_interval: float = 15.0,
        stop_on_kill: bool = True,
        definition_bucket: str | None = None,
        job_logs: bool = True,
        job_log_tail_lines: int = 50,
        event_queue_url: str | None = None,
        event_fallback_interval: float | None = None,
        **kwargs: Any,
    ) -> None:
        self.definition_site = user_site()
        #: task id -> (file, line) where the task was created inside the group (for plain Airflow tasks,
        #: which record no line of their own).
        self.added_at: dict[str, tuple[str, int] | None] = {}
        try:
            if unknown := unknown_operator_keywords(type(self), kwargs):  # with a did-you-mean, before Airflow's
                raise unknown
            super().__init__(group_id=group_id, **kwargs)
        except Exception as exc:  # Airflow's own: a duplicate group id, an invalid id, an unknown argument
            dag = kwargs.get("dag") or current_dag_and_group()[0]
            error = located(exc, site=self.definition_site, dag=dag)
            raise PipelineCompileError(error.problem, dag_file=error.dag_file, lineno=error.lineno,
                                       dag_id=error.dag_id, group_id=str(group_id), field=error.field) from exc
        for what, value in (("parameters", parameters), ("parameter_values", parameter_values),
                            ("pipeline_tags", pipeline_tags)):
            if value is not None and not isinstance(value, dict):
                raise self.error(f"{what} takes a dict, got {type(value).__name__}", field=what)
            for key in value or {}:
                if what != "pipeline_tags" and not isinstance(key, str):
                    raise self.error(f"{what} are named by strings, got {key!r}", field=f"{what}[{key!r}]")
        if isinstance(poll_interval, bool) or not isinstance(poll_interval, int | float) or not poll_interval > 0:
            raise self.error(f"poll_interval must be a positive number of seconds, got {poll_interval!r}",
                             field="poll_interval")
        if pipeline_name is None:
            raise self.error("pipeline_name is required: the name of the SageMaker pipeline the group compiles to",
                             field="pipeline_name")
        self.pipeline_name = pipeline_name
        self.role_arn = role_arn
        self.parameters = dict(parameters or {})
        self.parameter_values = dict(parameter_values or {})
        self.max_parallel_steps = max_parallel_steps
        self.experiment_config = ExperimentConfig() if experiment_config is _DEFAULT else experiment_config
        self.mlflow_config = mlflow_config
        self.pipeline_description = pipeline_description
        self.pipeline_display_name = pipeline_display_name
        self.pipeline_tags = dict(pipeline_tags or {})
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.verify = verify
        self.botocore_config = botocore_config
        try:
            check_client_settings(verify, botocore_config)
        except PipelineDefinitionError as exc:
            raise self.error(str(exc), field=exc.field) from None
        self.mirror_steps = mirror_steps
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        # Events wake the step tasks' triggers (triggers/events.py); None: the connection's extra decides.
        if event_fallback_interval is not None and (isinstance(event_fallback_interval, bool) or not isinstance(
                event_fallback_interval, int | float) or not event_fallback_interval > 0):
            raise self.error(f"event_fallback_interval must be a positive number of seconds, got "
                             f"{event_fallback_interval!r}", field="event_fallback_interval")
        self.event_queue_url = event_queue_url
        self.event_fallback_interval = event_fallback_interval
        self.stop_on_kill = stop_on_kill
        self.definition_bucket = definition_bucket
        self.job_logs = job_logs
        if isinstance(job_log_tail_lines, bool) or not isinstance(job_log_tail_lines, int) or job_log_tail_lines < 0:
            raise self.error(f"job_log_tail_lines must be a non-negative integer, got {job_log_tail_lines!r}",
                             field="job_log_tail_lines")
        self.job_log_tail_lines = job_log_tail_lines
        self._runtime_tasks_added = False
        #: The CompiledPipeline, once the group has closed.
        self.compiled: CompiledPipeline | None = None
        for name, param in self.parameters.items():
            if not isinstance(param, PipelineParameter):
                raise self.error(
                    f"parameters[{name!r}] must be a PipelineParameter (PipelineParameter.string/integer/"
                    f"float/boolean), got {type(param).__name__}", field=f"parameters[{name!r}]"
                )
        if dag_params:
            self._expose_dag_params()

    def _expose_dag_params(self) -> None:
        from airflow_sagemaker_mlops.compat import Param

        params = self.dag.params
        for name, param in self.parameters.items():
            if name in self.parameter_values:
                continue
            if name in params:
                raise self.error(f"dag_params: the DAG already has a param named {name!r}; pass the parameter's "
                                 "value through parameter_values instead", field=f"parameters[{name!r}]")
            schema: dict[str, Any] = {"type": _JSON_TYPES[param.type],
                                      "description": f"SageMaker pipeline parameter {name} ({param.type})"}
            if param.enum_values:
                schema["enum"] = list(param.enum_values)
            # No default: the trigger form requires a value (SageMaker would reject the start without one).
            params[name] = Param(param.default, **schema) if param.default is not None else Param(**schema)
            self.parameter_values[name] = "{{ params[" + repr(name) + "] }}"

    def parameter(self, name: str) -> ParameterRef:
        """The pipeline parameter ``name`` as a value for step arguments and conditions.

        Args:
            name: a parameter declared in ``parameters``; another name fails the DAG import.

        Returns:
            ``{"Get": "Parameters.<name>"}``, typed as the parameter is.
        """
        param = self.parameters.get(name) if isinstance(name, str) else None
        if param is None:
            known = ", ".join(sorted(self.parameters)) or "none"
            shown = repr(name) if len(repr(name)) <= 80 else repr(name)[:77] + "..."
            raise self.error(f"unknown parameter {shown} (declared: {known})", site=user_site(),
                             field=f"parameter({shown})")
        return ParameterRef(name, param.type, origin=self)

    def add(self, task: Any) -> Any:
        # Where each task was created, for errors about tasks that record no line themselves.
        self.added_at.setdefault(getattr(task, "node_id", None) or getattr(task, "task_id", ""), user_site())
        return super().add(task)

    def error(self, message: str, *, site: tuple[str, int] | None = None, **where: Any) -> PipelineCompileError:
        """A PipelineCompileError about this group, at ``site`` (default: the line that creates the group).

        Args:
            message: the problem.
            site: ``(file, line)`` to name instead of the group's own line.
            **where: ``task_id`` and ``field``, as PipelineCompileError takes them.
        """
        site = site or getattr(self, "definition_site", None)
        dag = getattr(self, "dag", None)
        return PipelineCompileError(
            message,
            dag_file=site[0] if site else getattr(dag, "fileloc", None),
            lineno=site[1] if site else None,
            dag_id=getattr(dag, "dag_id", None),
            group_id=self.group_id,
            **where,
        )

    def compile(self) -> CompiledPipeline:
        """Compile the group's current tasks (pure Python: no network, no SageMaker SDK; the Airflow graph is left
        as it is: the group links the implied edges once, when it closes)."""
        started = time.perf_counter()
        try:
            compiled = compile_group(self)
        except PipelineCompileError:
            raise
        except Exception as exc:  # nothing but a located project error leaves a DAG file's parse
            raise located(exc, site=self.definition_site, dag=self.dag, group=self) from exc
        for warning in compiled.warnings:
            warnings.warn(str(self.error(str(warning))), PipelineDefinitionWarning, stacklevel=2)
        log.debug("compiled group %s (%d steps) in %.1f ms", self.group_id,
                  len(compiled.spec.definition.all_steps()), (time.perf_counter() - started) * 1000)
        return compiled

    def __exit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        super().__exit__(exc_type, exc_val, exc_tb)
        if exc_type is None:
            # Fail the DAG import here, at the line that closes the group, rather than at run time. The result
            # is kept: the start task, IAM and the CLI read it instead of compiling again.
            self.compiled = self.compile()
            link_airflow(self, self.compiled)
            self._add_runtime_tasks()
            self._hand_settings()

    def _hand_settings(self) -> None:
        """Give every task of the group the frozen settings it needs at run time (operators/runtime.py)."""
        from airflow_sagemaker_mlops.operators.runtime import GroupRunSettings

        tasks = [t for t in self.children.values() if hasattr(t, "task_id")]
        settings = GroupRunSettings(
            group_id=self.group_id, start_task_id=self.start_task_id, wait_task_id=self.wait_task_id,
            mirror_steps=self.mirror_steps, aws=AwsClientSettings.of(self), poll_interval=self.poll_interval,
            deferrable=self.deferrable, stop_on_kill=self.stop_on_kill, job_logs=self.job_logs,
            job_log_tail_lines=self.job_log_tail_lines, event_queue_url=self.event_queue_url,
            event_fallback_interval=self.event_fallback_interval,
            step_tasks=tuple((t.task_id, t.step_name) for t in tasks if getattr(t, "step_name", None)),
            compiled=self.compiled,
        )
        for task in tasks:
            task.pipeline_settings = settings

    def _add_runtime_tasks(self) -> None:
        """Insert ``start`` (and ``wait``) ahead of the step tasks, so ``upstream >> group`` lands on them."""
        if self._runtime_tasks_added:
            return
        from airflow_sagemaker_mlops.operators.runtime import (
            SageMakerPipelineStartOperator,
            SageMakerPipelineWaitOperator,
        )

        for reserved in (self.START_TASK,) if self.mirror_steps else (self.START_TASK, self.WAIT_TASK):
            if self.child_id(reserved) in self.children:
                task = self.children[self.child_id(reserved)]
                raise self.error(f"task id {reserved!r} is reserved for the task the group adds; rename the step",
                                 task_id=self.child_id(reserved), field="task_id",
                                 site=getattr(task, "definition_site", None) or self.added_at.get(task.node_id))
        roots = [t for t in self.children.values() if not (t.upstream_task_ids & set(self.children))]
        step_task_ids = {t.step_name: t.task_id for t in self.children.values() if hasattr(t, "step_name")}
        start = SageMakerPipelineStartOperator(
            task_id=self.START_TASK, task_group=self, dag=self.dag, parameter_values=self.parameter_values,
            **AwsClientSettings.of(self).as_kwargs(), definition_bucket=self.definition_bucket,
            pipeline_name=self.pipeline_name, step_task_ids=step_task_ids,
        )
        first = start
        if not self.mirror_steps:
            wait = SageMakerPipelineWaitOperator(
                task_id=self.WAIT_TASK, task_group=self, dag=self.dag, **AwsClientSettings.of(self).as_kwargs(),
                poll_interval=self.poll_interval, deferrable=self.deferrable,
                stop_on_kill=self.stop_on_kill,
            )
            start >> wait
            first = wait
        for root in roots:
            first >> root
        self._runtime_tasks_added = True
