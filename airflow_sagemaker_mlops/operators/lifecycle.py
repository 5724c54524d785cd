"""Pipeline lifecycle operators, usable without a SageMakerPipelineGroup: start (by name, or by ARN for a
pipeline shared from another account), stop, retry, and answer a Callback step from Airflow."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator

from airflow_sagemaker_mlops.compat import AirflowException, xcom_push
from airflow_sagemaker_mlops.definition.parameters import PipelineParameter
from airflow_sagemaker_mlops.definition.statuses import step_ended
from airflow_sagemaker_mlops.hooks.pipelines import SageMakerPipelinesHook
from airflow_sagemaker_mlops.hooks.settings import AWS_TEMPLATE_FIELDS, AwsClientSettings, check_task_settings
from airflow_sagemaker_mlops.links import (
    SageMakerPipelineExecutionLink,
    execution_link_fields,
    local_link_fields,
    region_and_partition,
)
from airflow_sagemaker_mlops.location import locate_keyword_errors
from airflow_sagemaker_mlops.operators.failures import one_frame
from airflow_sagemaker_mlops.operators.runtime import _jsonable
from airflow_sagemaker_mlops.sensors.pipelines import SageMakerPipelineStepSensor


def _token(hook: Any, context: Any, task_id: str) -> str:
    """Same token on an automatic retry of the task (reattach), a new one after a clear (max_tries grows)."""
    ti = context["ti"]
    return hook.execution_token(ti.dag_id, context["run_id"], task_id, str(getattr(ti, "map_index", -1)),
                                str(getattr(ti, "max_tries", 0)))


class _ExecutionOperator(AwsBaseOperator[SageMakerPipelinesHook]):
    """Takes what the Amazon provider's AWS operators take (``aws_conn_id``, ``region_name``, ``verify``,
    ``botocore_config``); ``self.hook`` is the task's SageMakerPipelinesHook."""

    aws_hook_class = SageMakerPipelinesHook
    operator_extra_links = (SageMakerPipelineExecutionLink(),)
    ui_color = "#ff9900"

    def __init__(self, *, wait_for_completion: bool = False, deferrable: bool = True, poll_interval: float = 15.0,
                 stop_on_kill: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_task_settings(self)
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.stop_on_kill = stop_on_kill
        self._execution_arn: str | None = None

    def _started(self, context: Any, execution_arn: str) -> Any:
        self._execution_arn = execution_arn
        xcom_push(context["ti"], "execution_arn", execution_arn)
        from airflow_sagemaker_mlops.operators.experiments import report_tracking

        report_tracking(self.hook, execution_arn, context["ti"], self.log)  # experiment/trial, MLflow: log + XCom
        region, partition = region_and_partition(execution_arn, self.region_name)
        SageMakerPipelineExecutionLink.persist(context=context, operator=self, region_name=region,
                                               aws_partition=partition, **execution_link_fields(execution_arn),
                                               **local_link_fields(self.hook, execution_arn))
        if not self.wait_for_completion:
            return execution_arn
        from airflow_sagemaker_mlops.triggers.pipelines import PipelineExecutionTrigger, wait_or_defer

        trigger = PipelineExecutionTrigger(execution_arn, **AwsClientSettings.of(self).as_kwargs(),
                                           poll_interval=self.poll_interval, stop_on_kill=self.stop_on_kill)
        timeout = self.execution_timeout.total_seconds() if self.execution_timeout else None
        return self.execute_complete(context, wait_or_defer(self, self.hook, trigger, deferrable=self.deferrable,
                                                            timeout=timeout))

    @one_frame
    def execute_complete(self, context: Any, event: dict[str, Any]) -> str:
        from airflow_sagemaker_mlops.operators import failures

        if event.get("status") == "error":  # polling kept failing: transient, keeps Airflow's retries
            raise failures.wait_error(event.get("message", "waiting for the execution failed"))
        execution = event.get("execution") or {}
        arn = execution.get("arn") or context["ti"].xcom_pull(task_ids=self.task_id, key="execution_arn")
        if execution.get("status") != "Succeeded":  # final: no Airflow retry
            raise failures.execution_failed(arn, execution.get("status"), execution.get("failure_reason"),
                                            what="pipeline execution")
        return arn

    def on_kill(self) -> None:
        if self.stop_on_kill and self._execution_arn:
            self.log.info("Stopping %s because the task was killed", self._execution_arn)
            self.hook.stop_execution(self._execution_arn)


@locate_keyword_errors
class SageMakerStartPipelineExecutionOperator(_ExecutionOperator):
    """Start an execution of ``pipeline`` (a name, or the ARN of a pipeline in another account shared through
    AWS RAM, reached with a connection that assumes a role there).

    Parameter values are checked against ``declared_parameters`` (when given) before any call. An automatic
    retry of this task reattaches to the execution it started (same ClientRequestToken); a cleared task starts
    a new one. Returns the execution ARN (also in XCom under ``execution_arn``).

    Args:
        pipeline: the pipeline's name, or its ARN (a pipeline shared from another account). Templated.
        parameters: per-run parameter values by name (StartPipelineExecution's ``PipelineParameters``). Templated.
        declared_parameters: the pipeline's parameter declarations (:class:`PipelineParameter` by name); when given,
            ``parameters`` are checked and converted to the declared types before the call.
        display_name: ``PipelineExecutionDisplayName``. Templated.
        description: ``PipelineExecutionDescription`` (default: the DAG id and run id). Templated.
        max_parallel_steps: ``ParallelismConfiguration.MaxParallelExecutionSteps`` for this execution.
        selective_execution: ``SelectiveExecutionConfig`` (``{"SourcePipelineExecutionArn": ..., "SelectedSteps":
            [...]}``): run only these steps, reusing the source execution's other results.
        wait_for_completion: wait until the execution ends and fail unless it succeeded (default: return once started).
        deferrable: with ``wait_for_completion``, wait in the triggerer (default) or poll on the worker.
        poll_interval: seconds between status polls while waiting.
        stop_on_kill: stop the execution when the waiting task is killed (marked failed, cleared).
    """

    template_fields = (*AWS_TEMPLATE_FIELDS, "pipeline", "parameters", "display_name", "description")
    template_fields_renderers = {"parameters": "json"}

    def __init__(self, *, pipeline: str, parameters: dict[str, Any] | None = None,
                 declared_parameters: dict[str, PipelineParameter] | None = None, display_name: str | None = None,
                 description: str | None = None, max_parallel_steps: int | None = None,
                 selective_execution: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pipeline = pipeline
        self.parameters = parameters
        self.declared_parameters = declared_parameters
        self.display_name = display_name
        self.description = description
        self.max_parallel_steps = max_parallel_steps
        self.selective_execution = selective_execution

    @one_frame  # with wait_for_completion, a failed execution: its message, not the calls
    def execute(self, context: Any) -> Any:
        hook = self.hook
        arn = hook.start_execution(
            self.pipeline,
            parameters=self.parameters or {},
            declared=self.declared_parameters,
            client_request_token=_token(hook, context, self.task_id),
            display_name=self.display_name,
            description=self.description or f"Airflow dag_id={context['ti'].dag_id} run_id={context['run_id']}",
            max_parallel_steps=self.max_parallel_steps,
            selective_execution=self.selective_execution,
        )
        return self._started(context, arn)  # the hook logged the start


@locate_keyword_errors
class SageMakerRetryPipelineExecutionOperator(_ExecutionOperator):
    """Retry a failed execution: SageMaker resumes it from the failed steps (succeeded steps are kept).

    Args:
        execution_arn: the failed execution to retry. Templated.
        max_parallel_steps: ``ParallelismConfiguration.MaxParallelExecutionSteps`` for the retry.
        wait_for_completion: wait until the execution ends and fail unless it succeeded (default: return once started).
        deferrable: with ``wait_for_completion``, wait in the triggerer (default) or poll on the worker.
        poll_interval: seconds between status polls while waiting.
        stop_on_kill: stop the execution when the waiting task is killed (marked failed, cleared).
    """

    template_fields = (*AWS_TEMPLATE_FIELDS, "execution_arn")

    def __init__(self, *, execution_arn: str, max_parallel_steps: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.execution_arn = execution_arn
        self.max_parallel_steps = max_parallel_steps

    @one_frame  # with wait_for_completion, a failed execution: its message, not the calls
    def execute(self, context: Any) -> Any:
        hook = self.hook
        arn = hook.retry_execution(self.execution_arn, client_request_token=_token(hook, context, self.task_id),
                                   max_parallel_steps=self.max_parallel_steps)
        self.log.info("Retrying %s", arn)
        return self._started(context, arn)


@locate_keyword_errors
class SageMakerStopPipelineExecutionOperator(AwsBaseOperator[SageMakerPipelinesHook]):
    """Stop an execution (a no-op when it has already ended).

    Args:
        execution_arn: the execution to stop. Templated.
    """

    aws_hook_class = SageMakerPipelinesHook
    template_fields = (*AWS_TEMPLATE_FIELDS, "execution_arn")

    def __init__(self, *, execution_arn: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_task_settings(self)
        self.execution_arn = execution_arn

    def execute(self, context: Any) -> str:
        self.hook.stop_execution(self.execution_arn)
        return self.execution_arn


@locate_keyword_errors
class SageMakerPipelineCallbackOperator(SageMakerPipelineStepSensor):
    """Answer a Callback step from Airflow.

    Waits until the step ``step_name`` of ``execution_arn`` is waiting for its callback, runs
    ``python_callable(arguments, context)`` (``arguments``: the step's inputs, read from the step's SQS message
    when ``read_queue`` is True) and sends SendPipelineExecutionStepSuccess with the returned dict as output
    parameters, or SendPipelineExecutionStepFailure with the exception's message (and fails the task).

    Args:
        python_callable: ``f(arguments, context) -> dict | None``: the output parameters to send back.
        read_queue: read the step's arguments from its SQS message (default); False: ``arguments`` is ``{}``.
    """

    wait_for = "callback"

    def __init__(self, *, python_callable: Callable[..., dict[str, Any] | None], read_queue: bool = True,
                 **kwargs: Any) -> None:
        kwargs.setdefault("skip_if_not_run", False)
        super().__init__(**kwargs)
        self.python_callable = python_callable
        self.read_queue = read_queue

    def finish(self, context: Any, event: dict[str, Any]) -> Any:
        """Answer the step once it waits for its callback (the sensor's result handler).

        Args:
            context: the task's Airflow context.
            event: the wait's result: the execution and the step as ListPipelineExecutionSteps has it.

        Returns:
            The output parameters sent.
        """
        step = event.get("step")
        callback = (step or {}).get("Metadata", {}).get("Callback", {})
        token = callback.get("CallbackToken")
        if not token:
            if step is not None and step_ended(step.get("StepStatus")):
                return super().finish(context, event)  # already answered elsewhere: mirror the result
            raise AirflowException(f"step {self.step_name!r} never waited for a callback "
                                   f"(execution {(event.get('execution') or {}).get('status')})")
        arguments = self._arguments(callback, token) if self.read_queue else {}
        hook = self.hook
        try:
            outputs = self.python_callable(arguments, context) or {}
        except Exception as exc:
            hook.send_step_failure(token, f"{type(exc).__name__}: {exc}"[:256])
            raise
        if not isinstance(outputs, dict):
            hook.send_step_failure(token, "the Airflow callback returned no dict of output parameters")
            raise AirflowException(f"python_callable must return a dict of output parameters, got {outputs!r}")
        hook.send_step_success(token, outputs)
        self.log.info("Answered callback of %s with %s", self.step_name, outputs)
        return _jsonable(outputs)

    def _arguments(self, callback: dict[str, Any], token: str) -> dict[str, Any]:
        """The step's inputs travel only in its SQS message: take ours (matched by token) off the queue."""
        queue_url = callback.get("QueueUrl") or callback.get("SqsQueueUrl")
        if not queue_url:
            return {}
        from airflow.providers.amazon.aws.hooks.sqs import SqsHook

        sqs = AwsClientSettings.of(self).hook(SqsHook).get_conn()
        for _ in range(5):
            reply = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                        VisibilityTimeout=30)
            for message in reply.get("Messages", []):
                body = json.loads(message.get("Body") or "{}")
                if body.get("token") == token:
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                    return body.get("arguments") or {}
                # Another execution's message: give it back at once.
                sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"],
                                              VisibilityTimeout=0)
        self.log.warning("No message with this callback's token on %s; calling without arguments", queue_url)
        return {}
