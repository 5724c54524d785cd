"""Sensors on any pipeline execution (no group needed): the execution, one step, a condition's outcome.

Each waits deferred in the triggerer by default (one poller per execution serves every sensor of it), or
polls on a worker with ``deferrable=False`` in ``poke`` or ``reschedule`` mode.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from airflow.providers.amazon.aws.sensors.base_aws import AwsBaseSensor

from airflow_sagemaker_mlops.compat import (
    AirflowException,
    AirflowSkipException,
    BranchMixIn,
    PokeReturnValue,
    xcom_push,
)
from airflow_sagemaker_mlops.definition.statuses import SUCCEEDED
from airflow_sagemaker_mlops.hooks.pipelines import SageMakerPipelinesHook
from airflow_sagemaker_mlops.hooks.settings import AWS_TEMPLATE_FIELDS, AwsClientSettings, check_task_settings
from airflow_sagemaker_mlops.location import locate_keyword_errors
from airflow_sagemaker_mlops.operators.failures import one_frame
from airflow_sagemaker_mlops.operators.runtime import _jsonable, _outcome


class _PipelineSensor(AwsBaseSensor[SageMakerPipelinesHook]):
    """Takes what the Amazon provider's AWS sensors take (``aws_conn_id``, ``region_name``, ``verify``,
    ``botocore_config``); ``self.hook`` is the task's SageMakerPipelinesHook."""

    aws_hook_class = SageMakerPipelinesHook
    template_fields = (*AWS_TEMPLATE_FIELDS, "execution_arn")
    ui_color = "#ffcc80"

    def __init__(
        self,
        *,
        execution_arn: str,
        deferrable: bool = True,
        poll_interval: float = 15.0,
        stop_on_kill: bool = False,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("poke_interval", poll_interval)
        super().__init__(**kwargs)
        check_task_settings(self)
        self.execution_arn = execution_arn
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.stop_on_kill = stop_on_kill

    step_name: str | None = None
    wait_for = "end"

    @one_frame  # a failed execution or step: its message, not the calls (poke, finish) that led there
    def execute(self, context: Any) -> Any:
        if not self.deferrable:  # poke or reschedule mode: BaseSensorOperator calls poke
            return super().execute(context)
        from airflow_sagemaker_mlops.triggers.pipelines import PipelineExecutionTrigger, wait_or_defer

        trigger = PipelineExecutionTrigger(self.execution_arn, step_name=self.step_name,
                                           **AwsClientSettings.of(self).as_kwargs(), poll_interval=self.poll_interval,
                                           wait_for=self.wait_for, stop_on_kill=self.stop_on_kill)
        return self.execute_complete(context, wait_or_defer(self, self.hook, trigger, deferrable=True,
                                                            defer_timeout=self.execution_timeout))

    def poke(self, context: Any) -> bool | PokeReturnValue:
        """One poll, judged exactly as the trigger judges it."""
        from airflow_sagemaker_mlops.triggers.pipelines import check_once

        event = check_once(self.hook, self.execution_arn, self.step_name, self.wait_for)
        if event is None:
            return False
        return PokeReturnValue(is_done=True, xcom_value=self.execute_complete(context, event))

    @one_frame
    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        if event.get("status") == "error":  # polling kept failing: transient, keeps Airflow's retries
            from airflow_sagemaker_mlops.operators.failures import wait_error

            raise wait_error(event.get("message", "waiting for the pipeline execution failed"))
        return self.finish(context, event)

    def finish(self, context: Any, event: dict[str, Any]) -> Any:
        raise NotImplementedError  # pragma: no cover - subclasses define it

    def on_kill(self) -> None:
        if self.stop_on_kill and self.execution_arn:
            self.log.info("Stopping %s because the task was killed", self.execution_arn)
            self.hook.stop_execution(self.execution_arn)


@locate_keyword_errors
class SageMakerPipelineExecutionSensor(_PipelineSensor):
    """Wait until a pipeline execution ends; fail unless it succeeded (``fail_on``: statuses that fail it).

    Args:
        fail_on: the final statuses that fail the task (default Failed, Stopped, CompletedWithFailures).
        execution_arn: the execution to watch. Templated.
        deferrable: wait in the triggerer (default) or poke on a worker.
        poll_interval: seconds between polls (also the default ``poke_interval``).
        stop_on_kill: stop the execution when the waiting task is killed (default False: a sensor only watches).
    """

    def __init__(self, *, fail_on: Iterable[str] = ("Failed", "Stopped", "CompletedWithFailures"),
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fail_on = tuple(fail_on)

    def finish(self, context: Any, event: dict[str, Any]) -> Any:
        """Judge the ended wait (called by ``execute`` and ``execute_complete``).

        Args:
            context: the task's Airflow context.
            event: the wait's result: the execution and, for a step, its ListPipelineExecutionSteps entry.

        Returns:
            The execution's summary (JSON-serialisable); raises when its status is in ``fail_on``.
        """
        execution = event.get("execution") or {}
        status = execution.get("status")
        if status in self.fail_on:  # final: no Airflow retry
            from airflow_sagemaker_mlops.operators.failures import execution_failed

            raise execution_failed(self.execution_arn, status, execution.get("failure_reason"),
                                   what="pipeline execution")
        return _jsonable(execution)


@locate_keyword_errors
class SageMakerPipelineStepSensor(_PipelineSensor):
    """Wait for one step of an execution; push its outputs to XCom; fail with its FailureReason.

    A step the execution never ran (another branch, or the execution ended first) skips the task, unless
    ``skip_if_not_run=False``.

    Args:
        step_name: the step's name in the pipeline definition. Templated.
        skip_if_not_run: skip the task when the step never ran (default); False fails it.
        execution_arn: the execution to watch. Templated.
        deferrable: wait in the triggerer (default) or poke on a worker.
        poll_interval: seconds between polls (also the default ``poke_interval``).
        stop_on_kill: stop the execution when the waiting task is killed (default False: a sensor only watches).
    """

    template_fields = (*AWS_TEMPLATE_FIELDS, "execution_arn", "step_name")

    def __init__(self, *, step_name: str, skip_if_not_run: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.step_name = step_name
        self.skip_if_not_run = skip_if_not_run

    def finish(self, context: Any, event: dict[str, Any]) -> Any:
        """Judge the ended wait (called by ``execute`` and ``execute_complete``).

        Args:
            context: the task's Airflow context.
            event: the wait's result: the execution and, for a step, its ListPipelineExecutionSteps entry.

        Returns:
            The step's outputs (also pushed to XCom, one key each); raises when the step did not succeed.
        """
        step = event.get("step")
        if step is None:
            message = f"step {self.step_name!r} was not run (execution {(event.get('execution') or {}).get('status')})"
            if self.skip_if_not_run:
                raise AirflowSkipException(message)
            raise AirflowException(message)
        outputs = _jsonable(self.hook.step_outputs(step))
        for key, value in outputs.items():
            xcom_push(context["ti"], key, value)
        status = step.get("StepStatus")
        if status != SUCCEEDED:  # ended otherwise (Failed, Stopped): final, no Airflow retry
            from airflow_sagemaker_mlops.operators.failures import step_failed

            reason = step.get("FailureReason") or step.get("Metadata", {}).get("Fail", {}).get("ErrorMessage")
            raise step_failed(self.step_name, {**step, "FailureReason": reason}, self.execution_arn, None)
        return outputs


@locate_keyword_errors
class SageMakerPipelineConditionBranchOperator(SageMakerPipelineStepSensor, BranchMixIn):
    """Wait for a ConditionStep of any execution and follow ``if_true`` or ``if_false`` (task ids).

    Args:
        if_true: task id(s) to follow when the condition's outcome is True.
        if_false: task id(s) to follow when it is False.
    """

    def __init__(self, *, if_true: str | Iterable[str] = (), if_false: str | Iterable[str] = (),
                 **kwargs: Any) -> None:
        kwargs.setdefault("skip_if_not_run", False)
        super().__init__(**kwargs)
        self.if_true = [if_true] if isinstance(if_true, str) else list(if_true)
        self.if_false = [if_false] if isinstance(if_false, str) else list(if_false)

    def finish(self, context: Any, event: dict[str, Any]) -> Any:
        """Judge the ended wait (called by ``execute`` and ``execute_complete``).

        Args:
            context: the task's Airflow context.
            event: the wait's result: the execution and, for a step, its ListPipelineExecutionSteps entry.

        Returns:
            The step's outputs; the branch not taken is skipped.
        """
        outputs = super().finish(context, event)
        outcome = _outcome(event["step"])
        if outcome is None:
            raise AirflowException(f"step {self.step_name!r} has no condition outcome; is it a ConditionStep?")
        chosen, other = (self.if_true, self.if_false) if outcome else (self.if_false, self.if_true)
        keep = [t for t in self.downstream_task_ids if t in chosen or t not in other]
        self.do_branch(context, keep)
        return outputs
