"""The pipeline definition JSON as the engine sees it: a flat graph of steps with their dependencies.

The engine works on the JSON itself, as SageMaker does, so any emitter (this project's compiler, SDK v3,
hand-written JSON) is interpreted the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .errors import ValidationError

STEP_NAME_RE = re.compile(r"^[A-Za-z0-9\-_]{1,64}$")
PARAMETER_TYPES = ("String", "Integer", "Float", "Boolean")
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

    @property
    def arguments(self) -> Any:
        return self.raw.get("Arguments", {})


@dataclass
class PipelineGraph:
    """A parsed definition: parameters and steps in definition order."""

    document: dict[str, Any]
    parameters: dict[str, dict[str, Any]]
    steps: dict[str, StepSpec]

    def topological_order(self) -> list[str]:
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(name: str, trail: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                cycle = " -> ".join([*trail[trail.index(name) :], name])
                raise ValidationError(f"Pipeline definition has a dependency cycle: {cycle}")
            state[name] = 1
            for dep in sorted(self.steps[name].depends_on):
                visit(dep, [*trail, name])
            state[name] = 2
            order.append(name)

        for name in self.steps:
            visit(name, [])
        return order


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


def load_document(text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"PipelineDefinition is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise ValidationError("PipelineDefinition must be a JSON object")
    return document


def parse_definition(text: str) -> PipelineGraph:
    """Parse and validate a definition; raises ValidationError with a message naming the problem."""
    document = load_document(text)
    raw_steps = document.get("Steps")
    if not isinstance(raw_steps, list):
        raise ValidationError("PipelineDefinition must have a 'Steps' list")

    parameters: dict[str, dict[str, Any]] = {}
    raw_parameters = document.get("Parameters", [])
    if not isinstance(raw_parameters, list):
        raise ValidationError("PipelineDefinition 'Parameters' must be a list")
    for param in raw_parameters:
        if not isinstance(param, dict) or not isinstance(param.get("Name"), str):
            raise ValidationError(f"Invalid parameter declaration: {param!r}")
        ptype = param.get("Type", "String")
        if ptype not in PARAMETER_TYPES:
            raise ValidationError(
                f"Parameter {param['Name']} has type {ptype!r}; expected one of {', '.join(PARAMETER_TYPES)}"
            )
        if param["Name"] in parameters:
            raise ValidationError(f"Parameter {param['Name']} is declared twice")
        parameters[param["Name"]] = param

    steps: dict[str, StepSpec] = {}

    def add(raw: Any, branch: tuple[str, str] | None) -> None:
        if not isinstance(raw, dict):
            raise ValidationError(f"Step must be a JSON object, got {raw!r}")
        name, stype = raw.get("Name"), raw.get("Type")
        if not isinstance(name, str) or not STEP_NAME_RE.match(name):
            raise ValidationError(f"Step name {name!r} must match [A-Za-z0-9\\-_]{{1,64}}")
        if not isinstance(stype, str):
            raise ValidationError(f"Step {name} has no Type")
        if name in steps:
            raise ValidationError(f"Step name {name} is used more than once")
        spec = StepSpec(name=name, type=stype, raw=raw, branch=branch)
        steps[name] = spec
        depends = raw.get("DependsOn") or []
        if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
            raise ValidationError(f"Step {name}: DependsOn must be a list of step names")
        spec.depends_on.update(depends)
        if branch is not None:
            spec.depends_on.add(branch[0])
        if stype == "Condition":
            args = raw.get("Arguments") or {}
            if not isinstance(args.get("Conditions"), list):
                raise ValidationError(f"Condition step {name} needs Arguments.Conditions (a list)")
            spec.depends_on.update(iter_step_refs(args.get("Conditions")))
            for key, label in (("IfSteps", "if"), ("ElseSteps", "else")):
                nested = args.get(key) or []
                if not isinstance(nested, list):
                    raise ValidationError(f"Condition step {name}: {key} must be a list")
                for child in nested:
                    add(child, (name, label))
        else:
            # Data dependencies can hide anywhere in the step: Arguments, PropertyFiles, step-level fields.
            spec.depends_on.update(iter_step_refs({k: v for k, v in raw.items() if k != "DependsOn"}))
        spec.depends_on.discard(name)

    for raw in raw_steps:
        add(raw, None)

    for spec in steps.values():
        missing = sorted(dep for dep in spec.depends_on if dep not in steps)
        if missing:
            raise ValidationError(f"Step {spec.name} depends on undefined step(s): {', '.join(missing)}")
        for policy in spec.raw.get("RetryPolicies") or []:
            if not isinstance(policy, dict) or not isinstance(policy.get("ExceptionType"), list):
                raise ValidationError(f"Step {spec.name}: each RetryPolicy needs an ExceptionType list")
    graph = PipelineGraph(document=document, parameters=parameters, steps=steps)
    graph.topological_order()  # raises on cycles
    return graph
