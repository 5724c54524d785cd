"""The project's exceptions: every error a user can cause is one of these."""

from __future__ import annotations

import re


class SageMakerMlopsError(Exception):
    """Base class of every error this package raises on purpose."""


class PipelineDefinitionError(SageMakerMlopsError, ValueError):
    """A pipeline definition SageMaker would reject, or that cannot be built at all.

    Args:
        message: the problem.
        field: the argument or request field at fault, when the raiser knows it.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class PipelineCompileError(PipelineDefinitionError):
    """A SageMakerPipelineGroup that cannot be compiled, with where the problem is.

    The message names the DAG file (and line of the task when known), the DAG, the group, the task and
    the field, so a DAG import error in the Airflow UI points straight at the cause.

    Args:
        message: the problem (made one line).
        dag_file: the DAG file.
        dag_id: the DAG's id.
        group_id: the pipeline group's id.
        task_id: the task's id.
        field: the argument or request field at fault (``job.ProcessingInputs[0].S3Input.S3Uri``).
        lineno: the line of the DAG file.
    """

    def __init__(
        self,
        message: str,
        *,
        dag_file: str | None = None,
        dag_id: str | None = None,
        group_id: str | None = None,
        task_id: str | None = None,
        field: str | None = None,
        lineno: int | None = None,
    ) -> None:
        # One line: an import error in the Airflow UI and `validate` output are read line by line.
        message = re.sub(r"\s*\n\s*", " ", message)
        self.problem = message
        self.dag_file = dag_file
        self.dag_id = dag_id
        self.group_id = group_id
        self.task_id = task_id
        self.lineno = lineno
        where = []
        if dag_file:
            where.append(f"{dag_file}:{lineno}" if lineno else dag_file)
        parts = []
        if dag_id:
            parts.append(f"DAG {dag_id!r}")
        if group_id:
            parts.append(f"group {group_id!r}")
        if task_id:
            parts.append(f"task {task_id!r}")
        if field:
            parts.append(f"field {field}")
        if parts:
            where.append(", ".join(parts))
        super().__init__(": ".join([*where, message]), field=field)


class PipelineDefinitionWarning(UserWarning):
    """Something that works but deserves attention (for example a definition that must go through S3)."""
