"""How a task fails, in one place: which failures Airflow may retry, and the next action each message ends with.

SageMaker's status of a step or execution is final once it is Failed or Stopped: retrying the Airflow task that
mirrors it only reads the same status again, so those fail with ``AirflowFailException`` (no retries). What can
change on a second try keeps Airflow's retries: polling that kept failing (network, throttling past botocore's
retries) and our own wait timeouts raise ``AirflowException`` or the original error.

Every message ends with what to do next, because the person reading it at 9 am wants to know whether to
retry, clear or look somewhere.

A final status is not a bug in this package, so its traceback would only show how the task got there. The
exceptions made here are marked :func:`final`, and :func:`one_frame` (on the methods Airflow calls) raises them
again from its own frame with nothing below it: the traceback Airflow still prints ends in that one frame, then
the message (Airflow's own frames above it stay: see docs/troubleshooting.md, "Failures and retries").
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_sagemaker_mlops.compat import AirflowException, AirflowFailException

if TYPE_CHECKING:
    from airflow_sagemaker_mlops.operators.steps import SageMakerStepOperator

F = TypeVar("F", bound=Callable[..., Any])
#: Attribute marking an exception as a final status (see ``final``).
_FINAL = "sagemaker_final_status"


def final(exc: AirflowFailException) -> AirflowFailException:
    """Mark ``exc`` as a final status that ``one_frame`` shortens: the message is the whole story."""
    setattr(exc, _FINAL, True)
    return exc


def is_final(exc: BaseException) -> bool:
    return getattr(exc, _FINAL, False) is True


def one_frame(method: F) -> F:
    """Raise final-status failures from here with an empty traceback and no chained context, so the task log
    shows this one frame of the package and the message, not the internal calls that led to it. Any other
    exception (a bug, an AWS error) passes through untouched, with its whole traceback."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except AirflowFailException as exc:
            if not is_final(exc):
                raise
            raise exc.with_traceback(None) from None  # a final status: its message is all there is to read

    return wrapper  # type: ignore[return-value]


def retry_hint(execution_arn: str | None) -> str:
    arn = execution_arn or "<execution ARN>"
    return (f"resume the execution from the failed step (SageMakerRetryPipelineExecutionOperator, or "
            f"`aws sagemaker retry-pipeline-execution --pipeline-execution-arn {arn}`)")


def _resume_hint(execution_arn: str | None, start_task_id: str | None) -> str:
    """A group's step task resumes its execution when cleared (docs/operations.md); other tasks cannot."""
    if start_task_id is None:
        return retry_hint(execution_arn)
    arn = execution_arn or "<execution ARN>"
    return (f"clear this task (with downstream) to resume the same execution from the failed step (outside "
            f"Airflow: `aws sagemaker retry-pipeline-execution --pipeline-execution-arn {arn}`)")


def _new_execution(start_task_id: str | None) -> str:
    if start_task_id is None:
        return "run the task that started the execution again for a new one"
    return f"clear {start_task_id!r} (with downstream) to start a new execution"


def step_failed(name: str, step: dict[str, Any], execution_arn: str | None, start_task_id: str | None,
                tail: str = "") -> AirflowFailException:
    """A step SageMaker reports Failed or Stopped: final, so no Airflow retry."""
    status = step.get("StepStatus")
    reason = step.get("FailureReason") or "no reason given"
    if status == "Stopped":
        return final(AirflowFailException(
            f"SageMaker step {name!r} was stopped: {reason}.{tail}\n"
            f"Next: someone or something stopped execution {execution_arn}; this task will not retry (the status "
            f"is final). To run it again, {_resume_hint(execution_arn, start_task_id)}, or "
            f"{_new_execution(start_task_id)}."))
    return final(AirflowFailException(
        f"SageMaker step {name!r} failed: {reason}{tail}\n"
        f"Next: read the step's job log above (or the job in SageMaker); this task will not retry, because "
        f"SageMaker's status is final. Once the cause is fixed, {_resume_hint(execution_arn, start_task_id)}, "
        f"or {_new_execution(start_task_id)}."))


def designed_failure(op: SageMakerStepOperator, step: dict[str, Any],
                     start_task_id: str) -> tuple[str, AirflowFailException]:
    """(one-line summary, the final exception) of a Fail step that ran: the pipeline failed itself on purpose."""
    message = ((step.get("Metadata") or {}).get("Fail") or {}).get("ErrorMessage") or step.get("FailureReason") \
        or "no error message"
    why = reached_because(op)
    line = f"Fail step {op.step_name!r} ended the execution: {message}" + (f" ({why})" if why else "")
    return line, final(AirflowFailException(
        f"{line}\nNext: this is the pipeline's own decision, not an error to retry; this task will not retry. "
        f"Change what led there (the data, or the parameter values of a new DAG run), then trigger a new run or "
        f"{_new_execution(start_task_id)}."))


def reached_because(op: SageMakerStepOperator) -> str | None:
    """``condition step 'gate' found score >= MinScore False``: the branch that led to ``op``, if any."""
    from airflow_sagemaker_mlops.definition.conditions import describe
    from airflow_sagemaker_mlops.operators.steps import ConditionStep

    for up in op.upstream_list:
        if not isinstance(up, ConditionStep):
            continue
        for branch in (up.if_true, up.if_false):
            if any(s.task_id == op.task_id for s in branch):  # op may be a copy (prepare_for_execution)
                text = " and ".join(describe(c) for c in up.conditions)
                return f"condition step {up.step_name!r} evaluated {text} to {branch.outcome}"
    return None


def execution_failed(execution_arn: str | None, status: str | None, reason: str | None,
                     what: str = "SageMaker pipeline execution") -> AirflowFailException:
    """The execution ended Failed/Stopped: final, no retry."""
    return final(AirflowFailException(
        f"{what} {execution_arn} {status}: {reason or 'no reason given'}\n"
        f"Next: the failed step and its reason are in the execution's step list (the DAG's SageMaker pipeline "
        f"tab, or `airflow-sagemaker-mlops history`); this task will not retry, because the status is final. "
        f"Once the cause is fixed, {retry_hint(execution_arn)}, or run this task again for a new execution."))


def wait_error(message: str) -> AirflowException:
    """Polling kept failing (network, credentials, throttling after botocore's retries): may pass on retry."""
    return AirflowException(
        f"{message}\nNext: the SageMaker execution itself is unaffected; Airflow retries this task if it has "
        f"retries left (it then waits for the same execution). Check the AWS connection (endpoint, "
        f"credentials, region) if this repeats.")
