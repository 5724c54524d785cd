"""Reading definition JSON back: the one check every reader of a definition shares.

The compiler's round trip, the local engine's CreatePipeline/UpdatePipeline and its executor all read a
definition through :func:`read_definition`, so what the engine accepts is exactly what the compiler's
validator accepts, and a definition from any emitter (the compiler, SageMaker SDK v3, hand-written JSON) is
judged the same way. Errors use SageMaker's CreatePipeline wording ("Unable to parse pipeline definition.")
followed by every problem found, each naming its step and field.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from airflow_sagemaker_mlops.exceptions import PipelineDefinitionError

from .pipeline import PipelineDefinition
from .steps import DEPENDS_ON_TRIGGERS, StepType
from .validate import Problem, problems_and_graph

#: SageMaker's prefix for a definition CreatePipeline/UpdatePipeline refuses.
UNPARSABLE = "Unable to parse pipeline definition."


@dataclass(frozen=True)
class ReadDefinition:
    """A definition that passed the check: its JSON, its model and who waits for whom."""

    document: dict[str, Any]
    definition: PipelineDefinition
    #: step -> the steps it waits for (DependsOn, data dependencies, the condition it is nested in).
    graph: dict[str, set[str]]
    warnings: list[Problem]


def _shape_problems(document: Any) -> Iterator[str]:
    """What the model cannot even be built from: JSON types SageMaker's schema requires."""
    if not isinstance(document, dict):
        yield f"the definition must be a JSON object, got {type(document).__name__}"
        return
    if not isinstance(document.get("Steps"), list):
        yield "the definition needs a 'Steps' list"
    params = document.get("Parameters", [])
    if not isinstance(params, list):
        yield "'Parameters' must be a list"
    else:
        seen: set[str] = set()
        for i, param in enumerate(params):
            if not isinstance(param, dict) or not isinstance(param.get("Name"), str):
                yield f"Parameters[{i}] must be an object with a string Name, got {_short(param)}"
            elif not isinstance(param.get("Type"), str):
                yield f"parameter {param['Name']!r} needs a Type (String, Integer, Float or Boolean)"
            elif param["Name"] in seen:
                yield f"parameter {param['Name']!r} is declared twice"
            else:
                seen.add(param["Name"])
    experiment = document.get("PipelineExperimentConfig")
    if experiment is not None and not (
        isinstance(experiment, dict) and {"ExperimentName", "TrialName"} <= set(experiment)
    ):
        yield "PipelineExperimentConfig must be an object with ExperimentName and TrialName"
    if isinstance(document.get("Steps"), list):
        yield from _steps_shape(document["Steps"], "Steps")


def _steps_shape(steps: list[Any], where: str) -> Iterator[str]:
    for i, step in enumerate(steps):
        at = f"{where}[{i}]"
        if not isinstance(step, dict):
            yield f"{at} must be an object, got {_short(step)}"
            continue
        name = step.get("Name")
        if not isinstance(name, str):
            yield f"{at} needs a string Name, got {_short(name)}"
            continue
        at = f"step {name!r}"
        if not isinstance(step.get("Type"), str):
            yield f"{at} needs a string Type"
        arguments = step.get("Arguments", {})
        if not isinstance(arguments, dict):
            yield f"{at}: Arguments must be an object, got {type(arguments).__name__}"
            continue
        depends = step.get("DependsOn", [])
        if not isinstance(depends, list):
            yield f"{at}: DependsOn must be a list"
        else:
            for entry in depends:
                if isinstance(entry, str):
                    continue
                if not (isinstance(entry, dict) and isinstance(entry.get("Step"), str)
                        and entry.get("Trigger") in DEPENDS_ON_TRIGGERS):
                    yield (f"{at}: a DependsOn entry is a step name or {{\"Step\": name, \"Trigger\": "
                           f"{' | '.join(DEPENDS_ON_TRIGGERS)}}}, got {_short(entry)}")
        for key in ("RetryPolicies", "PropertyFiles"):
            value = step.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                yield f"{at}: {key} must be a list of objects"
        if "CacheConfig" in step and not isinstance(step["CacheConfig"], dict):
            yield f"{at}: CacheConfig must be an object"
        if step.get("Type") == StepType.CONDITION:
            if not isinstance(arguments.get("Conditions"), list):
                yield f"{at}: a Condition step needs Arguments.Conditions (a list)"
            for key in ("IfSteps", "ElseSteps"):
                nested = arguments.get(key, [])
                if not isinstance(nested, list):
                    yield f"{at}: Arguments.{key} must be a list"
                else:
                    yield from _steps_shape(nested, f"{at} {key}")


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def load_json(text: str | bytes | dict[str, Any]) -> Any:
    if isinstance(text, dict):
        return text
    try:
        return json.loads(text)
    except (TypeError, ValueError) as exc:
        raise PipelineDefinitionError(f"{UNPARSABLE} It is not valid JSON: {exc}") from None


def read_definition(text: str | bytes | dict[str, Any]) -> ReadDefinition:
    """Parse definition JSON and check it as SageMaker does when a pipeline is created or updated.

    Raises PipelineDefinitionError naming every error (unknown parameters, steps or step types, mistyped
    parameter defaults, duplicate step names, cycles, ...); returns the definition with its warnings.
    """
    document = load_json(text)
    shape = list(_shape_problems(document))
    if shape:
        raise PipelineDefinitionError(f"{UNPARSABLE} {'; '.join(shape)}")
    try:
        definition = PipelineDefinition.from_request(document)
    except PipelineDefinitionError as exc:
        raise PipelineDefinitionError(f"{UNPARSABLE} {exc}", field=exc.field) from None
    except (TypeError, AttributeError, ValueError, KeyError) as exc:
        raise PipelineDefinitionError(f"{UNPARSABLE} {type(exc).__name__}: {exc}") from None
    # The size limit is the request's (PipelineDefinition is at most 1 MiB), checked where the request is.
    problems, graph = problems_and_graph(definition, check_size=False)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise PipelineDefinitionError(f"{UNPARSABLE} {'; '.join(str(p) for p in errors)}")
    return ReadDefinition(document, definition, graph, [p for p in problems if p.severity != "error"])
