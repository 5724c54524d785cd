"""SelectiveExecutionConfig: which steps of an execution run, and which it copies from a source execution.

The selected steps run; every other step that succeeded in the source execution is copied, with its
properties, as a succeeded step (``SelectiveExecutionResult.SourcePipelineExecutionArn``); the rest are
skipped. Called under the engine's lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import ConflictError, ResourceNotFound, ValidationError
from .state import SUCCEEDED, TERMINAL_EXECUTION_STATUSES, ExecutionRecord, StepRecord


def prepare_selective(
    ex: ExecutionRecord, selective: dict[str, Any], executions: Mapping[str, ExecutionRecord]
) -> None:
    """Check ``selective`` against the graph and the source execution; copy the source's results into ``ex``."""
    selected = _selected_steps(ex, selective)
    source = _source_execution(ex, selective.get("SourcePipelineExecutionArn"), executions)
    _check_dependencies(ex, selected, source)
    ex.selective = {
        "SourcePipelineExecutionArn": source.arn,
        "SelectedSteps": [{"StepName": s} for s in sorted(selected)],
    }
    ex.selected_steps = selected
    _copy_source_steps(ex, selected, source)


def is_selected(ex: ExecutionRecord, name: str) -> bool:
    """Whether step ``name`` runs: every step does, unless the execution is selective."""
    return ex.selected_steps is None or name in ex.selected_steps


def _selected_steps(ex: ExecutionRecord, selective: dict[str, Any]) -> set[str]:
    selected = {s.get("StepName") for s in selective.get("SelectedSteps") or []}
    if not selected:
        raise ValidationError("SelectiveExecutionConfig.SelectedSteps must name at least one step.")
    unknown = sorted(s for s in selected if s not in ex.graph.steps)
    if unknown:
        raise ValidationError(f"Selected step(s) not in the pipeline definition: {', '.join(unknown)}")
    return selected  # type: ignore[return-value]


def _source_execution(
    ex: ExecutionRecord, source_arn: str | None, executions: Mapping[str, ExecutionRecord]
) -> ExecutionRecord:
    if source_arn:
        source = executions.get(source_arn)
        if source is None:
            raise ResourceNotFound(f"Source pipeline execution '{source_arn}' does not exist.")
    else:
        # Without a source, SageMaker uses the latest successful execution of the pipeline.
        candidates = [e for e in executions.values() if e.pipeline is ex.pipeline and e.status == SUCCEEDED]
        if not candidates:
            raise ValidationError("No successful execution to use as SourcePipelineExecutionArn.")
        source = max(candidates, key=lambda e: e.creation_time)
    if source.pipeline is not ex.pipeline:
        raise ValidationError("SourcePipelineExecutionArn must be an execution of the same pipeline.")
    if source.status not in TERMINAL_EXECUTION_STATUSES:
        raise ConflictError(f"Source pipeline execution '{source.arn}' is still {source.status}.")
    return source


def _check_dependencies(ex: ExecutionRecord, selected: set[str], source: ExecutionRecord) -> None:
    """Every dependency of a selected step must be selected or have succeeded in the source."""
    for name in selected:
        for dep in ex.graph.steps[name].depends_on:
            if dep in selected:
                continue
            src = source.steps.get(dep)
            if src is None or src.status != SUCCEEDED:
                raise ValidationError(
                    f"Step '{name}' depends on '{dep}', which is not selected and did not succeed in the "
                    "source execution."
                )


def _copy_source_steps(ex: ExecutionRecord, selected: set[str], source: ExecutionRecord) -> None:
    for name, src in source.steps.items():
        if name in selected or src.status != SUCCEEDED or name not in ex.graph.steps:
            continue
        ex.steps[name] = StepRecord(
            spec=ex.graph.steps[name],
            status=SUCCEEDED,
            start_time=src.start_time,
            end_time=src.end_time,
            attempt_count=src.attempt_count,
            metadata=src.metadata,
            properties=src.properties,
            outcome=src.outcome,
            selective_source=src.selective_source or source.arn,
        )
