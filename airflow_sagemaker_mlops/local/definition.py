"""The pipeline definition JSON as the engine runs it: a flat graph of steps with their dependencies.

Reading and checking the JSON is not done here: :func:`airflow_sagemaker_mlops.definition.read.read_definition`
is the one check shared with the compiler, so the engine accepts exactly what the compiler's validator
accepts. This module only lays the checked definition out for the executor, which works on the JSON itself
(as SageMaker does), so any emitter (this project's compiler, SDK v3, hand-written JSON) runs the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from airflow_sagemaker_mlops.definition.read import read_definition
from airflow_sagemaker_mlops.exceptions import PipelineDefinitionError

from .errors import ValidationError

_STEP_REF_RE = re.compile(r"^Steps\.([A-Za-z0-9\-_]+)(?:$|[.\[])")


@dataclass
class StepSpec:
    """One step of the definition, wherever it is nested."""

    name: str
    type: str
    raw: dict[str, Any]
    # Steps this one waits for: DependsOn, data references, and the condition step owning its branch.
    depends_on: set[str] = field(default_factory=set)
    # (condition step name, "if" | "else") for a step nested in a condition branch, else None.
    branch: tuple[str, str] | None = None
    # upstream step -> DependsOn trigger ("Failed", "Stopped", "Any"): wait for that outcome, not success.
    triggers: dict[str, str] = field(default_factory=dict)

    @property
    def arguments(self) -> Any:
        return self.raw.get("Arguments", {})


@dataclass
class PipelineGraph:
    """A checked definition: parameters and steps in definition order."""

    document: dict[str, Any]
    parameters: dict[str, dict[str, Any]]
    steps: dict[str, StepSpec]



def iter_step_refs(value: Any) -> Iterator[str]:
    """Names of the steps a JSON value refers to through ``{"Get": "Steps.X..."}`` expressions."""
    if isinstance(value, dict):
        get = value.get("Get")
        if isinstance(get, str) and len(value) == 1:
            match = _STEP_REF_RE.match(get)
            if match:
                yield match.group(1)
            return
        for item in value.values():
            yield from iter_step_refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from iter_step_refs(item)


def _walk(raw_steps: list[dict[str, Any]], branch: tuple[str, str] | None
          ) -> Iterator[tuple[dict[str, Any], tuple[str, str] | None]]:
    for raw in raw_steps:
        yield raw, branch
        if raw.get("Type") == "Condition":
            args = raw.get("Arguments") or {}
            for key, label in (("IfSteps", "if"), ("ElseSteps", "else")):
                yield from _walk(args.get(key) or [], (raw["Name"], label))


def parse_definition(text: str) -> PipelineGraph:
    """Check a definition with the shared reader and lay it out; raises ValidationError naming the problems."""
    try:
        read = read_definition(text)
    except PipelineDefinitionError as exc:
        raise ValidationError(str(exc)) from None
    document = read.document
    parameters = {p["Name"]: p for p in document.get("Parameters") or []}
    steps: dict[str, StepSpec] = {}
    for raw, branch in _walk(document["Steps"], None):
        triggers = {d["Step"]: d["Trigger"] for d in raw.get("DependsOn") or [] if isinstance(d, dict)}
        steps[raw["Name"]] = StepSpec(name=raw["Name"], type=raw["Type"], raw=raw, branch=branch,
                                      depends_on=set(read.graph.get(raw["Name"], ())), triggers=triggers)
    return PipelineGraph(document=document, parameters=parameters, steps=steps)
