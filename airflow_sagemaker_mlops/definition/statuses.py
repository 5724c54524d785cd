"""SageMaker's status vocabulary for executions and steps, in one place.

Written as the statuses that mean *still going*, as the Amazon provider writes its waiters: a status AWS
adds later (``CompletedWithFailures`` was one) then ends a wait instead of hanging it. Values are botocore's
``PipelineExecutionStatus`` and ``StepStatus`` enums.
"""

from __future__ import annotations

#: PipelineExecutionStatus values of an execution that has not ended.
EXECUTION_RUNNING = frozenset({"Executing", "Stopping"})
#: StepStatus values of a step that has not ended.
STEP_RUNNING = frozenset({"Starting", "Executing", "Stopping"})
#: The one status of success, for executions and steps alike.
SUCCEEDED = "Succeeded"
#: An execution that can still be stopped.
STOPPABLE = frozenset({"Executing"})
#: Executions RetryPipelineExecution resumes (from their failed or stopped steps).
RESUMABLE = frozenset({"Failed", "Stopped"})


def execution_ended(status: str | None) -> bool:
    """True once the execution is over, whatever the status (None: not known yet)."""
    return status is not None and status not in EXECUTION_RUNNING


def step_ended(status: str | None) -> bool:
    """True once the step is over, whatever the status (None: not listed yet)."""
    return status is not None and status not in STEP_RUNNING
