"""What SageMaker would reject in a definition, found before anything is sent.

``find_problems`` returns every problem (so a user fixes them in one go); ``validate`` raises the first
errors together. Problems name the step and the field they are in.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from airflow_sagemaker_mlops.exceptions import PipelineDefinitionError

from . import conditions as C
from .expressions import (
    ExecutionVariable,
    Expression,
    Join,
    JsonGet,
    Key,
    ParameterRef,
    StepProperty,
    iter_expressions,
    parse_expression,
)
from .limits import limit
from .limits import problem as limit_problem
from .pipeline import MAX_INLINE_DEFINITION_BYTES, ExperimentConfig, PipelineDefinition
from .requests import request_problems
from .step_kinds import CACHEABLE_STEP_TYPES, KNOWN_STEP_TYPES, RETRYABLE_STEP_TYPES
from .steps import (
    DEPENDS_ON_TRIGGERS,
    ConditionStep,
    DependsOnTrigger,
    Step,
    StepType,
    depends_on_name,
)

# limits.json: StepName, ParameterName, PipelineName (tests check these agree with it).
STEP_NAME = re.compile(r"^[A-Za-z0-9\-_]{1,64}$")
PARAMETER_NAME = re.compile(r"^[A-Za-z0-9\-_]{1,256}$")
PIPELINE_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")
NUMERIC = frozenset({"Integer", "Float"})
# botocore's patterns for PipelineExperimentConfig names and MlflowConfig.MlflowResourceArn.
EXPERIMENT_ENTITY_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,119}$")
MLFLOW_RESOURCE_ARN = re.compile(r"^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:mlflow-[a-zA-Z-]*/.+$")
MLFLOW_CONFIG_KEYS = ("MlflowResourceArn", "MlflowExperimentName")
# From the API references (botocore's SageMaker model does not describe these): Lambda's FunctionArn and SQS
# queue URLs.
LAMBDA_FUNCTION_ARN = re.compile(
    r"^arn:aws[a-zA-Z-]*:lambda:[a-z]{2}(-gov)?-[a-z]+-\d{1}:\d{12}:function:[a-zA-Z0-9-_]{1,64}(:(\$LATEST|[a-zA-Z0-9-_]+))?$"
)
#: Problems reported per step request (a generated request can break its shape thousands of times over).
MAX_REQUEST_PROBLEMS = 10
SQS_QUEUE_URL = re.compile(r"^https?://[^/\s]+/\d{12}/[A-Za-z0-9_-]{1,80}(\.fifo)?$")


@dataclass(frozen=True)
class Problem:
    message: str
    step: str | None = None
    field: str | None = None
    severity: str = "error"

    def __str__(self) -> str:
        where = []
        if self.step:
            where.append(f"step {self.step!r}")
        if self.field:
            where.append(f"field {self.field}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


def pipeline_name_problem(name: Any) -> str | None:
    if not isinstance(name, str) or not PIPELINE_NAME.match(name):
        return (
            f"pipeline name {name!r} is not valid: SageMaker takes 1-256 letters, digits and single or "
            "repeated hyphens between them (pattern [a-zA-Z0-9](-*[a-zA-Z0-9]){0,255})"
        )
    return None


def step_name_problem(name: Any) -> str | None:
    if not isinstance(name, str) or not STEP_NAME.match(name):
        return (
            f"step name {name!r} is not valid: SageMaker takes 1-64 letters, digits, '-' and '_' "
            "(set step_name= to choose another name than the task id)"
        )
    return None


class RawExpressionError(Expression):
    """A hand-written expression dict (``{"Get": ...}``) that does not read as one; reported as a problem."""

    def __init__(self, why: str) -> None:
        self.why = why


_RAW_EXPRESSION_KEYS = frozenset({"Get", "Std:Join", "Std:JsonGet"})


def _raw_expression(value: dict[str, Any]) -> Expression:
    """A hand-written ``{"Get": "Steps.x.Y"}`` (or Std:Join, Std:JsonGet) as the expression it stands for, so
    it is checked like a built one."""
    try:
        expr = parse_expression(value)
    except (PipelineDefinitionError, KeyError, TypeError, AttributeError) as exc:
        return RawExpressionError(f"{value!r} is not a valid pipeline expression: {exc}")
    return expr if expr is not None else RawExpressionError(f"{value!r} is not a valid pipeline expression")


def _walk(value: Any, path: str) -> Iterator[tuple[str, Expression]]:
    if isinstance(value, Expression):
        yield path, value
        for child in value.children():
            # Nested expressions, and hand-written ones among a Join's values, are checked like the rest.
            if isinstance(child, Expression | dict | list | tuple):
                yield from _walk(child, path)
    elif isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in _RAW_EXPRESSION_KEYS:
            yield from _walk(_raw_expression(value), path)
            return
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _walk(item, f"{path}[{i}]")


def _step_expressions(step: Step) -> Iterator[tuple[str, Expression]]:
    if isinstance(step, ConditionStep):
        for i, cond in enumerate(step.conditions):
            for nested in cond.conditions():
                for operand in nested.operands():
                    yield from _walk(operand, f"Conditions[{i}]")
    else:
        yield from _walk(step.arguments, "Arguments")
    yield from _walk(step.extra, "")


# Walking a step's values is the bulk of validation: each step is walked once per validation and the
# result shared by the checks (keyed by id(step); steps are mutable, hence unhashable).
_Cache = dict[int, list[tuple[str, Expression]]]


def _expressions(step: Step, cache: _Cache | None) -> list[tuple[str, Expression]]:
    if cache is None:
        return list(_step_expressions(step))
    found = cache.get(id(step))
    if found is None:
        found = cache[id(step)] = list(_step_expressions(step))
    return found


def data_dependencies(step: Step, cache: _Cache | None = None) -> set[str]:
    """Names of the steps whose properties or property files this step reads (not nested steps)."""
    names: set[str] = set()
    for _, expr in _expressions(step, cache):
        if isinstance(expr, StepProperty):
            names.add(expr.step_name)
        elif isinstance(expr, JsonGet) and expr.property_file is not None:
            names.add(expr.property_file.step_name)
    return names


def dependency_graph(definition: PipelineDefinition, cache: _Cache | None = None) -> dict[str, set[str]]:
    """step -> the steps it waits for: DependsOn, data dependencies and the condition it is nested in."""
    graph: dict[str, set[str]] = {}

    def visit(step: Step, parent: str | None) -> None:
        upstream = {depends_on_name(d) for d in step.depends_on} | data_dependencies(step, cache)
        if parent is not None:
            upstream.add(parent)
        graph.setdefault(step.name, set()).update(upstream)
        if isinstance(step, ConditionStep):
            for child in (*step.if_steps, *step.else_steps):
                visit(child, step.name)

    for step in definition.steps:
        visit(step, None)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle as a list of step names (first == last), or None. Iterative: graphs can be deep."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for root in sorted(graph):
        if state.get(root):
            continue
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph.get(root, ()))))]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            for child in children:
                if child not in graph:
                    continue
                if state.get(child) == 1:
                    path = [n for n, _ in stack]
                    return [*path[path.index(child):], child]
                if not state.get(child):
                    state[child] = 1
                    stack.append((child, iter(sorted(graph.get(child, ())))))
                    break
            else:
                state[node] = 2
                stack.pop()
    return None


def _property_checks() -> tuple[Any, Any] | None:
    """The generated property schema (``properties.py``) when it is there."""
    try:
        from .properties import property_type, validate_property_path
    except ImportError:  # pragma: no cover - the schema module ships with the package
        return None
    return validate_property_path, property_type


def _operand_type(value: Any, definition: PipelineDefinition, steps: dict[str, Step]) -> str | None:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Float"
    if isinstance(value, str):
        return "String"
    if isinstance(value, ParameterRef):
        param = definition.parameters.get(value.name)
        return param.type if param else value.type
    if isinstance(value, StepProperty):
        producer = steps.get(value.step_name)
        if producer is None:
            return None
        outputs = _output_parameters(producer)
        if outputs is not None and len(value.path) == 2 and value.path[0] == "OutputParameters":
            key = value.path[1]
            return outputs.get(key.key) if isinstance(key, Key) else None
        checks = _property_checks()
        if checks is None:
            return None
        scalar = checks[1](producer.type, value.path_text)
        return {"string": "String", "integer": "Integer", "float": "Float", "boolean": "Boolean"}.get(
            scalar or ""
        )
    if isinstance(value, Expression):
        return value.type_name
    return None


def _output_parameters(step: Step) -> dict[str, str] | None:
    if step.type not in (StepType.CALLBACK, StepType.LAMBDA):
        return None
    return {
        p.get("OutputName"): p.get("OutputType", "String")
        for p in step.extra.get("OutputParameters", [])
        if isinstance(p, dict)
    }


def _check_comparison(
    cond: C.Condition, definition: PipelineDefinition, steps: dict[str, Step]
) -> str | None:
    if isinstance(cond, C.Comparison):
        left = _operand_type(cond.left, definition, steps)
        right = _operand_type(cond.right, definition, steps)
        if cond.type in C.ORDERINGS:
            for side, kind in (("left", left), ("right", right)):
                if kind is not None and kind not in NUMERIC:
                    return f"{cond.type} compares numbers, but its {side} value is a {kind}"
        elif left and right and left != right and not {left, right} <= NUMERIC:
            return f"Equals compares a {left} with a {right}: it can never be true"
    elif isinstance(cond, C.In):
        query = _operand_type(cond.value, definition, steps)
        for value in cond.values:
            kind = _operand_type(value, definition, steps)
            if query and kind and query != kind and not {query, kind} <= NUMERIC:
                return f"In looks a {query} up among values that include a {kind}"
    return None


def _operand_problem(cond: C.Condition) -> str | None:
    """Condition operands are single values: a number, string, boolean or pipeline expression."""
    if isinstance(cond, C.In) and not cond.values:
        return "In needs at least one value to look the query value up in"
    for operand in cond.operands():
        if isinstance(operand, dict) and len(operand) == 1 and next(iter(operand)) in _RAW_EXPRESSION_KEYS:
            continue  # a hand-written expression, checked with the step's other expressions
        if operand is None or not isinstance(operand, str | int | float | Expression):
            return (f"a condition compares single values (number, string, boolean or pipeline expression), not "
                    f"{type(operand).__name__} {_short(operand)}")
        if isinstance(operand, float) and not math.isfinite(operand):
            return f"{operand!r} is not a number JSON (and SageMaker) can hold"
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def find_problems(definition: PipelineDefinition, *, check_size: bool = True) -> list[Problem]:
    return problems_and_graph(definition, check_size=check_size)[0]


def problems_and_graph(definition: PipelineDefinition, *, check_size: bool = True
            ) -> tuple[list[Problem], dict[str, set[str]]]:
    """Every problem of the definition, and its dependency graph (step -> the steps it waits for)."""
    problems: list[Problem] = []
    cache: _Cache = {}

    most = limit("PipelineParameters")["max"]
    if len(definition.parameters) > most:
        problems.append(Problem(
            f"{len(definition.parameters)} parameters are declared; SageMaker takes at most {most} (an execution "
            "starts with a value for each: StartPipelineExecution's PipelineParameters)", field="Parameters"))
    for name, param in definition.parameters.items():
        if not isinstance(name, str) or not PARAMETER_NAME.match(name):
            problems.append(Problem(
                f"parameter name {name!r} is not valid: 1-256 letters, digits, '-' and '_'",
                field=f"Parameters.{name}",
            ))
        for why in param.problems():
            problems.append(Problem(why, field=f"Parameters.{name}"))

    all_steps = definition.all_steps()
    steps: dict[str, Step] = {}
    for step in all_steps:
        why = step_name_problem(step.name)
        if why:
            problems.append(Problem(why, step=str(step.name), field="Name"))
        if step.name in steps:
            problems.append(Problem(
                "duplicate step name: every step of a pipeline, nested ones included, needs its own name",
                step=step.name,
            ))
        steps.setdefault(step.name, step)

    for step in all_steps:
        problems.extend(_step_problems(step, definition, steps, cache))
    problems.extend(_tracking_problems(definition))

    graph = dependency_graph(definition, cache)
    cycle = find_cycle(graph)
    if cycle:
        order = list(reversed(cycle))  # the graph maps a step to what it waits for; show run order
        problems.append(Problem(f"the steps form a cycle: {' -> '.join(order)}", step=order[0]))

    if check_size and not problems:
        size = len(definition.to_json().encode())
        if size > MAX_INLINE_DEFINITION_BYTES:
            problems.append(Problem(
                f"the definition is {size / 1024 / 1024:.1f} MiB, over SageMaker's 1 MiB inline limit: "
                "it will be uploaded to S3 and passed as PipelineDefinitionS3Location at upsert",
                severity="warning",
            ))
    return problems, graph


def _tracking_problems(definition: PipelineDefinition) -> Iterator[Problem]:
    """PipelineExperimentConfig and MlflowConfig: right shapes, and only values known when an execution starts."""
    experiment = definition.experiment_config
    if experiment is not None and not isinstance(experiment, ExperimentConfig):
        yield Problem(f"must be an ExperimentConfig(experiment_name, trial_name) or None, got "
                      f"{type(experiment).__name__}", field="PipelineExperimentConfig")
    elif experiment is not None:
        for key, value in (("ExperimentName", experiment.experiment_name), ("TrialName", experiment.trial_name)):
            where = f"PipelineExperimentConfig.{key}"
            yield from _start_time_value_problems(value, definition, where)
            if isinstance(value, str) and not EXPERIMENT_ENTITY_NAME.match(value):
                yield Problem(f"{value!r} is not a valid experiment or trial name: 1-120 letters, digits and "
                              "hyphens, starting with a letter or digit", field=where)
    mlflow = definition.mlflow_config
    if mlflow is None:
        return
    if not isinstance(mlflow, dict):
        yield Problem(f"must be a dict with MlflowResourceArn (and MlflowExperimentName), got {type(mlflow).__name__}",
                      field="MlflowConfig")
        return
    for key in mlflow:
        if key not in MLFLOW_CONFIG_KEYS:
            yield Problem(f"unknown key {key!r}; MlflowConfig takes {' and '.join(MLFLOW_CONFIG_KEYS)}",
                          field="MlflowConfig")
    arn = mlflow.get("MlflowResourceArn")
    if arn is None:
        yield Problem("MlflowResourceArn (the MLflow tracking server or app ARN) is required",
                      field="MlflowConfig.MlflowResourceArn")
    elif isinstance(arn, str) and not MLFLOW_RESOURCE_ARN.match(arn):
        yield Problem(f"{arn!r} is not a SageMaker MLflow ARN (arn:aws:sagemaker:<region>:<account>:"
                      "mlflow-tracking-server/<name> or mlflow-app/<id>)", field="MlflowConfig.MlflowResourceArn")
    for key in MLFLOW_CONFIG_KEYS:
        if key in mlflow:
            yield from _start_time_value_problems(mlflow[key], definition, f"MlflowConfig.{key}")
            if isinstance(mlflow[key], str) and (why := limit_problem(key, mlflow[key], key, check_pattern=False)):
                yield Problem(why, field=f"MlflowConfig.{key}")


def _start_time_value_problems(value: Any, definition: PipelineDefinition, where: str) -> Iterator[Problem]:
    """A pipeline-level value SageMaker resolves when the execution starts: a string, a parameter, an
    execution variable or a Join of those; no step property (no step has run yet)."""
    if isinstance(value, str):
        if "{{" in value:
            yield Problem("Jinja templates are not rendered in pipeline settings; use a pipeline parameter and "
                          "feed it through parameter_values", field=where)
        return
    if not isinstance(value, Expression):
        yield Problem(f"must be a string or a pipeline expression (parameter, Execution variable, Join), got "
                      f"{type(value).__name__}", field=where)
        return
    for expr in iter_expressions(value):
        if isinstance(expr, ParameterRef) and expr.name not in definition.parameters:
            known = ", ".join(sorted(definition.parameters)) or "none"
            yield Problem(f"unknown parameter {expr.name!r} (declared: {known})", field=where)
        elif isinstance(expr, ExecutionVariable) and expr.name in ("TrainingJobName", "ProcessingJobName"):
            yield Problem(f"Execution.{expr.name} exists only inside a job step", field=where)
        elif not isinstance(expr, ParameterRef | ExecutionVariable | Join):
            yield Problem(f"{type(expr).__name__} is not available here: SageMaker resolves this value when the "
                          "execution starts, before any step has run; use parameters, Execution variables and "
                          "Join", field=where)


def _step_problems(step: Step, definition: PipelineDefinition, steps: dict[str, Step], cache: _Cache
                   ) -> Iterator[Problem]:
    if step.type not in KNOWN_STEP_TYPES:
        yield Problem(
            f"unsupported step type {step.type!r}: SageMaker knows {', '.join(sorted(KNOWN_STEP_TYPES))}",
            step=step.name, field="Type",
        )
    yield from _dependency_problems(step, steps)
    yield from _settings_problems(step)
    yield from _property_file_problems(step)
    if isinstance(step, ConditionStep):
        yield from _condition_problems(step, definition, steps)
    yield from _type_specific_problems(step)
    yield from _request_problems(step, definition)
    yield from _expression_problems(step, definition, steps, cache)


def _dependency_problems(step: Step, steps: dict[str, Step]) -> Iterator[Problem]:
    name = step.name
    for entry in step.depends_on:
        dep = depends_on_name(entry)
        if isinstance(entry, DependsOnTrigger) and entry.trigger not in DEPENDS_ON_TRIGGERS:
            yield Problem(f"DependsOn trigger {entry.trigger!r} for {dep!r} is not one of "
                          f"{', '.join(DEPENDS_ON_TRIGGERS)}", step=name, field="DependsOn")
        if dep == name:
            yield Problem("a step cannot depend on itself", step=name, field="DependsOn")
        elif dep not in steps:
            yield Problem(f"depends on unknown step {dep!r}", step=name, field="DependsOn")


def _settings_problems(step: Step) -> Iterator[Problem]:
    """CacheConfig, DisplayName, Description and RetryPolicies."""
    name = step.name
    if step.cache_config is not None:
        if step.type not in CACHEABLE_STEP_TYPES:
            yield Problem(f"{step.type} steps cannot be cached", step=name, field="CacheConfig")
        for why in step.cache_config.problems():
            yield Problem(why, step=name, field="CacheConfig")
    yield from _text_problems(step)
    if step.retry_policies and step.type not in RETRYABLE_STEP_TYPES:
        yield Problem(f"{step.type} steps take no retry policies", step=name, field="RetryPolicies")
    for i, policy in enumerate(step.retry_policies):
        for why in policy.problems():
            yield Problem(why, step=name, field=f"RetryPolicies[{i}]")


def _text_problems(step: Step) -> Iterator[Problem]:
    """DisplayName and Description."""
    name = step.name
    for key, text, limit_name in (("DisplayName", step.display_name, "StepDisplayName"),
                                  ("Description", step.description, "StepDescription")):
        if text is None:
            continue
        why = limit_problem(limit_name, text, f"the step's {key}")
        if why is None and any(unicodedata.category(c) == "Cc" for c in text if key == "DisplayName"):
            # botocore's pattern is ".*", and Java's "." takes no line break or other control character.
            why = f"the step's {key} {text!r} contains line breaks or control characters SageMaker refuses"
        if why:
            yield Problem(why, step=name, field=key)
        elif "{{" in text and "}}" in text:
            yield Problem(f"a Jinja template is not rendered in a step's {key}: it is the same for every run",
                          step=name, field=key)


def _property_file_problems(step: Step) -> Iterator[Problem]:
    name = step.name
    if step.property_files and step.type != StepType.PROCESSING:
        yield Problem("only Processing steps have property files", step=name, field="PropertyFiles")
    for i, pf in enumerate(step.property_files):
        for what in ("name", "output_name", "path"):
            value = getattr(pf, what, None)
            if not isinstance(value, str) or not value:
                yield Problem(f"a property file's {what} must be a non-empty string, got {value!r}", step=name,
                              field=f"PropertyFiles[{i}]")
    file_names = [f.name for f in step.property_files if isinstance(f.name, str)]
    for dup in sorted({n for n in file_names if file_names.count(n) > 1}):
        yield Problem(f"property file {dup!r} is declared twice", step=name, field="PropertyFiles")


def _condition_problems(step: ConditionStep, definition: PipelineDefinition, steps: dict[str, Step]
                        ) -> Iterator[Problem]:
    name = step.name
    if not step.conditions:
        yield Problem("the condition is empty: give at least one condition", step=name, field="Conditions")
    for i, cond in enumerate(step.conditions):
        for nested in cond.conditions():
            why = _operand_problem(nested) or _check_comparison(nested, definition, steps)
            if why:
                yield Problem(why, step=name, field=f"Conditions[{i}]")


def _request_problems(step: Step, definition: PipelineDefinition) -> Iterator[Problem]:
    name = step.name
    parameter_types = {n: p.type for n, p in definition.parameters.items()}
    request = request_problems(step.type, step.arguments, parameter_types)
    for where, why in itertools.islice(request, MAX_REQUEST_PROBLEMS):
        yield Problem(why, step=name, field=where)
    if next(request, None) is not None:
        yield Problem(f"more values of the request break its shape; only the first {MAX_REQUEST_PROBLEMS} are "
                      "shown", step=name, field="Arguments")


def _expression_problems(step: Step, definition: PipelineDefinition, steps: dict[str, Step], cache: _Cache
                         ) -> Iterator[Problem]:
    """Parameters, step properties and property files the step's expressions read."""
    name = step.name
    checks = _property_checks()
    for where, expr in _expressions(step, cache):
        field_name = where or None
        if isinstance(expr, RawExpressionError):
            yield Problem(expr.why, step=name, field=field_name)
        elif isinstance(expr, ParameterRef) and expr.name not in definition.parameters:
            known = ", ".join(sorted(definition.parameters)) or "none"
            yield Problem(f"unknown parameter {expr.name!r} (declared: {known})", step=name, field=field_name)
        elif isinstance(expr, StepProperty):
            producer = steps.get(expr.step_name)
            if expr.step_name == name:
                yield Problem("a step cannot read its own properties", step=name, field=field_name)
            elif producer is None:
                yield Problem(f"reads a property of unknown step {expr.step_name!r}", step=name, field=field_name)
            else:
                why = _property_path_problem(producer, expr, checks)
                if why:
                    yield Problem(why, step=name, field=field_name)
        elif isinstance(expr, JsonGet) and expr.property_file is not None:
            ref = expr.property_file
            producer = steps.get(ref.step_name)
            if producer is None:
                yield Problem(f"JsonGet reads a property file of unknown step {ref.step_name!r}",
                              step=name, field=field_name)
            elif ref.name not in [f.name for f in producer.property_files]:
                declared = ", ".join(str(f.name) for f in producer.property_files) or "none"
                yield Problem(
                    f"JsonGet reads property file {ref.name!r}, which step {ref.step_name!r} does not declare "
                    f"(declared: {declared})",
                    step=name, field=field_name,
                )


def _property_path_problem(producer: Step, expr: StepProperty, checks: Any) -> str | None:
    outputs = _output_parameters(producer)
    if outputs is not None and expr.path and expr.path[0] == "OutputParameters":
        key = expr.path[1] if len(expr.path) == 2 else None
        if not isinstance(key, Key):
            return f"read an output parameter of {producer.type} step {producer.name!r} as OutputParameters['name']"
        if key.key not in outputs:
            declared = ", ".join(sorted(outputs)) or "none"
            return f"{producer.type} step {producer.name!r} has no output parameter {key.key!r} (declared: {declared})"
        return None
    if checks is None:
        return None
    return checks[0](producer.type, expr.path_text)


def _type_specific_problems(step: Step) -> Iterator[Problem]:
    name = step.name
    if step.type == StepType.FAIL:
        message = step.arguments.get("ErrorMessage") if isinstance(step.arguments, dict) else None
        if message is not None and not isinstance(message, str | Expression):
            yield Problem("ErrorMessage must be a string or a pipeline expression", step=name,
                          field="Arguments.ErrorMessage")
    if step.type == StepType.CALLBACK:
        yield from _target_problems(step, "SqsQueueUrl", "an SQS queue URL", "an SQS queue URL", SQS_QUEUE_URL,
                                    "https://sqs.<region>.amazonaws.com/<account>/<queue>")
    if step.type == StepType.LAMBDA:
        yield from _target_problems(step, "FunctionArn", "a function ARN", "a Lambda function ARN",
                                    LAMBDA_FUNCTION_ARN,
                                    "arn:aws:lambda:<region>:<account>:function:<name>[:<version or alias>]")
    if step.type == StepType.EMR_SERVERLESS:
        yield from _emr_serverless_problems(step)
    yield from _output_parameter_problems(step)


def _target_problems(step: Step, key: str, needs: str, what: str, pattern: re.Pattern[str], form: str
                     ) -> Iterator[Problem]:
    """The queue a Callback step sends to, the function a Lambda step calls: ``needs`` names it in the
    message for a missing one, ``what`` and ``form`` for a malformed one."""
    value = step.extra.get(key)
    if not value:
        yield Problem(f"a {step.type} step needs {needs}", step=step.name, field=key)
    elif not isinstance(value, str | Expression):
        yield Problem(f"the {needs.split(' ', 1)[1]} must be a string or a pipeline expression, "
                      f"got {type(value).__name__}", step=step.name, field=key)
    elif isinstance(value, str) and not pattern.match(value):
        yield Problem(f"{value!r} is not {what} ({form})", step=step.name, field=key)


def _output_parameter_problems(step: Step) -> Iterator[Problem]:
    name = step.name
    outputs = step.extra.get("OutputParameters", [])
    seen: set[str] = set()
    if isinstance(outputs, list) and len(outputs) > limit("OutputParameters")["max"]:
        yield Problem(limit_problem("OutputParameters", outputs, "OutputParameters") or "", step=name,
                      field="OutputParameters")
    for i, out in enumerate(outputs if isinstance(outputs, list) else []):
        out_name = out.get("OutputName") if isinstance(out, dict) else None
        if out_name and (why := limit_problem("OutputParameterName", out_name, "the output name")):
            yield Problem(why, step=name, field=f"OutputParameters[{i}]")
        if not out_name:
            yield Problem("an output parameter needs a name", step=name, field=f"OutputParameters[{i}]")
        elif out_name in seen:
            yield Problem(f"output parameter {out_name!r} is declared twice", step=name,
                          field=f"OutputParameters[{i}]")
        seen.add(out_name or "")
        out_type = out.get("OutputType", "String") if isinstance(out, dict) else None
        if out_type not in ("String", "Integer", "Float", "Boolean"):
            yield Problem(f"output parameter type {out_type!r} is not String, Integer, Float or Boolean",
                          step=name, field=f"OutputParameters[{i}]")


def _emr_serverless_problems(step: Step) -> Iterator[Problem]:
    """SageMaker's EMRServerless Arguments: ExecutionRoleArn, JobConfig (EMR Serverless's StartJobRun fields,
    camelCase, with jobDriver) and ApplicationId or ApplicationConfig, exactly one."""
    args = step.arguments if isinstance(step.arguments, dict) else {}
    if not args.get("ExecutionRoleArn"):
        yield Problem("an EMRServerless step needs an execution role", step=step.name,
                      field="Arguments.ExecutionRoleArn")
    if ("ApplicationId" in args) == ("ApplicationConfig" in args):
        yield Problem("an EMRServerless step runs on an existing application (ApplicationId) or on one it "
                      "creates (ApplicationConfig): give exactly one", step=step.name, field="Arguments.ApplicationId")
    config = args.get("ApplicationConfig")
    if config is not None and not isinstance(config, dict):
        yield Problem(f"ApplicationConfig must be an object (an EMR Serverless CreateApplication request), got "
                      f"{type(config).__name__}", step=step.name, field="Arguments.ApplicationConfig")
    job = args.get("JobConfig")
    if not isinstance(job, dict):
        yield Problem("an EMRServerless step needs a JobConfig object with a jobDriver", step=step.name,
                      field="Arguments.JobConfig")
        return
    driver = job.get("jobDriver")
    if not isinstance(driver, dict) or len(driver) != 1 or not set(driver) <= {"sparkSubmit", "hive"}:
        yield Problem("jobDriver takes one of sparkSubmit or hive", step=step.name,
                      field="Arguments.JobConfig.jobDriver")
    elif "sparkSubmit" in driver and not (driver["sparkSubmit"] or {}).get("entryPoint"):
        yield Problem("a sparkSubmit job driver needs an entryPoint", step=step.name,
                      field="Arguments.JobConfig.jobDriver.sparkSubmit.entryPoint")
    timeout = job.get("executionTimeoutMinutes")
    if timeout is not None and not isinstance(timeout, Expression) and (
            not isinstance(timeout, int) or isinstance(timeout, bool) or not 0 <= timeout <= 1_000_000):
        yield Problem(f"executionTimeoutMinutes must be a whole number of minutes (0 to 1000000), got {timeout!r}",
                      step=step.name, field="Arguments.JobConfig.executionTimeoutMinutes")
    tags = job.get("tags")
    if tags is not None and not (isinstance(tags, dict) and all(isinstance(k, str) for k in tags)):
        yield Problem("tags must map tag names to values", step=step.name, field="Arguments.JobConfig.tags")


def validate(definition: PipelineDefinition) -> list[Problem]:
    """Raise PipelineDefinitionError listing every error; return the warnings."""
    problems = find_problems(definition)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise PipelineDefinitionError("; ".join(str(p) for p in errors))
    return [p for p in problems if p.severity == "warning"]


