"""How a task fails, in one place: which failures Airflow may retry, and the next action each message ends with.

SageMaker's status of a step or execution is final once it is Failed or Stopped: retrying the Airflow task that
mirrors it only reads the same status again, so those fail with ``AirflowFailException`` (no retries). What can
change on a second try keeps Airflow's retries: polling that kept failing (network, throttling past botocore's
retries) and our own wait timeouts raise ``AirflowException`` or the original error.

Every message ends with what to do next, because the person reading it at 9 am wants to know whether to
retry, clear or look somewhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_sagemaker_mlops.compat import AirflowException, AirflowFailException

if TYPE_CHECKING:
    from airflow_sagemaker_mlops.operators.steps import SageMakerStepOperator


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
        return AirflowFailException(
            f"SageMaker step {name!r} was stopped: {reason}.{tail}\n"
            f"Next: someone or something stopped execution {execution_arn}; this task will not retry (the status "
            f"is final). To run it again, {_resume_hint(execution_arn, start_task_id)}, or "
            f"{_new_execution(start_task_id)}.")
    return AirflowFailException(
        f"SageMaker step {name!r} failed: {reason}{tail}\n"
        f"Next: read the step's job log above (or the job in SageMaker); this task will not retry, because "
        f"SageMaker's status is final. Once the cause is fixed, {_resume_hint(execution_arn, start_task_id)}, "
        f"or {_new_execution(start_task_id)}.")


def designed_failure(op: SageMakerStepOperator, step: dict[str, Any], start_task_id: str) -> tuple[str, str]:
    """(one-line summary, full message) of a Fail step that ran: the pipeline failed itself on purpose."""
    message = ((step.get("Metadata") or {}).get("Fail") or {}).get("ErrorMessage") or step.get("FailureReason") \
        or "no error message"
    why = reached_because(op)
    line = f"Fail step {op.step_name!r} ended the execution: {message}" + (f" ({why})" if why else "")
    return line, (f"{line}\nNext: this is the pipeline's own decision, not an error to retry; this task will not "
                  f"retry. Change what led there (the data, or the parameter values of a new DAG run), then "
                  f"trigger a new run or {_new_execution(start_task_id)}.")


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
    return AirflowFailException(
        f"{what} {execution_arn} {status}: {reason or 'no reason given'}\n"
        f"Next: the failed step and its reason are in the execution's step list (the DAG's SageMaker pipeline "
        f"tab, or `airflow-sagemaker-mlops history`); this task will not retry, because the status is final. "
        f"Once the cause is fixed, {retry_hint(execution_arn)}, or run this task again for a new execution.")


def wait_error(message: str) -> AirflowException:
    """Polling kept failing (network, credentials, throttling after botocore's retries): may pass on retry."""
    return AirflowException(
        f"{message}\nNext: the SageMaker execution itself is unaffected; Airflow retries this task if it has "
        f"retries left (it then waits for the same execution). Check the AWS connection (endpoint, "
        f"credentials, region) if this repeats.")
