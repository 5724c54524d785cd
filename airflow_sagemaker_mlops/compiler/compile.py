"""Airflow TaskGroup -> SageMaker pipeline definition.

The rules:
- every task in the group is a step operator (the run-time tasks the group adds itself are skipped);
- a property or property-file reference to another step is a data dependency;
- a ConditionStep's ``if_true``/``if_false`` steps are nested inside it;
- ``>>`` between steps becomes ``DependsOn`` unless a data dependency or the nesting already implies it;
- the implied edges are added to the Airflow graph too, so Airflow and SageMaker agree on the order.

Compiling is analysis only: ``compile_group`` reads the group's tasks and returns data (the definition and the
edges it implies); ``link_airflow`` is the one step that changes the Airflow graph, run once when the group closes.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_sagemaker_mlops.compat import TaskGroup, XComArg
from airflow_sagemaker_mlops.definition import (
    ConditionStep as ConditionStepDef,
)
from airflow_sagemaker_mlops.definition import (
    DependsOnTrigger,
    Expression,
    JsonGet,
    ParameterRef,
    PipelineDefinition,
    PipelineSpec,
    Problem,
    PropertyFileRef,
    Step,
    StepProperty,
)
from airflow_sagemaker_mlops.definition.limits import limit
from airflow_sagemaker_mlops.definition.limits import problem as limit_problem
from airflow_sagemaker_mlops.definition.parameters import check_run_values
from airflow_sagemaker_mlops.definition.requests import stringify_arguments
from airflow_sagemaker_mlops.definition.validate import pipeline_name_problem, problems_and_graph
from airflow_sagemaker_mlops.exceptions import PipelineCompileError
from airflow_sagemaker_mlops.operators.steps import ConditionStep, SageMakerStepOperator

from .assets import CodeAsset, code_assets

if TYPE_CHECKING:
    from .group import SageMakerPipelineGroup

ROLE_ARN = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/[\w+=,.@\-/]{1,512}$")


@dataclass
class CompiledPipeline:
    """A compiled group: what to upsert (``spec``) and what to start it with (``parameter_values``).

    Args:
        spec: the pipeline: its definition and CreatePipeline's other fields (role, parallelism, tags, ...).
        parameter_values: the group's per-run values (literals, Jinja strings, XComArgs), rendered by the start task.
        step_tasks: step name -> the Airflow task id that mirrors it.
        warnings: problems that do not stop the compile (a definition that must go through S3, ...).
        code_assets: the local code the start task uploads before the upsert.
        edges: step name -> the steps it must follow by data or nesting (what ``link_airflow`` adds to Airflow).
    """

    spec: PipelineSpec
    parameter_values: dict[str, Any]
    #: step name -> Airflow task id, for mirroring step statuses into tasks.
    step_tasks: dict[str, str]
    warnings: list[Problem] = field(default_factory=list)
    #: Local code the start task uploads before the upsert.
    code_assets: list[CodeAsset] = field(default_factory=list)
    edges: dict[str, frozenset[str]] = field(default_factory=dict)

    @property
    def definition(self) -> PipelineDefinition:
        """The pipeline definition (``spec.definition``)."""
        return self.spec.definition


def is_runtime_task(task: Any) -> bool:
    """Tasks the group adds itself at run time (start, wait) are not pipeline steps."""
    return bool(getattr(task, "sagemaker_runtime_task", False))


class _Compiler:
    def __init__(self, group: SageMakerPipelineGroup) -> None:
        self.group = group
        self.ops: list[SageMakerStepOperator] = []
        self.by_name: dict[str, SageMakerStepOperator] = {}

    # -- errors ---------------------------------------------------------------------------------
    def error(self, message: str, op: SageMakerStepOperator | None = None, field: str | None = None
              ) -> PipelineCompileError:
        if op is None:
            return self.group.error(message, field=field)
        site = op.definition_site
        field = op.argument_name(field)
        dag = self.group.dag
        return PipelineCompileError(
            message,
            dag_file=site[0] if site else getattr(dag, "fileloc", None),
            lineno=site[1] if site else None,
            dag_id=getattr(dag, "dag_id", None),
            group_id=self.group.group_id,
            task_id=op.task_id,
            field=field,
        )

    # -- steps ----------------------------------------------------------------------------------
    def collect(self) -> None:
        for child in self.group.children.values():
            if isinstance(child, TaskGroup):
                raise self.group.error(
                    f"task group {child.group_id!r} is nested inside the pipeline group; SageMaker pipelines "
                    "are flat: put its steps directly in the group (or make it a separate pipeline group)",
                    site=self.group.added_at.get(child.node_id), task_id=child.group_id,
                )
            if is_runtime_task(child):
                continue
            if not isinstance(child, SageMakerStepOperator):
                raise self.group.error(
                    f"{type(child).__name__} is a plain Airflow task; only SageMaker step operators "
                    "(ProcessingStep, TrainingStep, LambdaStep, ...) belong inside a SageMakerPipelineGroup. "
                    + _plain_task_hint(child),
                    site=self.group.added_at.get(child.node_id), task_id=child.task_id,
                )
            other = self.by_name.get(child.step_name)
            if other is not None:
                raise self.error(
                    f"step name {child.step_name!r} is already used by task {other.task_id!r}; "
                    "every step of a pipeline needs its own name (set step_name=)",
                    child, "step_name",
                )
            self.ops.append(child)
            self.by_name[child.step_name] = child

    def check_values(self, op: SageMakerStepOperator) -> set[str]:
        """Static checks on the step's values; returns the names of the steps it reads from."""
        reads: set[str] = set()
        for name, value in op.step_values().items():
            for where, item in _walk(value, name):
                if isinstance(item, _Bad):
                    raise self.error(item.why, op, where)
                if isinstance(item, XComArg):
                    raise self.error(
                        "an XCom value cannot go into the pipeline definition, which is the same for every "
                        "run: declare a pipeline parameter, use group.parameter(...) here, and pass the XCom "
                        "through the group's parameter_values",
                        op, where,
                    )
                if isinstance(item, str) and "{{" in item and "}}" in item:
                    raise self.error(
                        "a Jinja template cannot go into the pipeline definition, which is the same for every "
                        "run: declare a pipeline parameter, use group.parameter(...) here, and put the "
                        "template in the group's parameter_values",
                        op, where,
                    )
                if isinstance(item, ParameterRef) and item.origin is not None and item.origin is not self.group:
                    raise self.error(
                        f"parameter {item.name!r} belongs to group {item.origin.group_id!r}; use "
                        f"{self.group.group_id}.parameter({item.name!r}) of this group",
                        op, where,
                    )
                if isinstance(item, StepProperty) and not item.path:
                    raise self.error("use a property of the step (step.properties.Name...), not the properties "
                                     "object itself", op, where)
                ref = _step_reference(item)
                if ref is not None:
                    step_name, origin = ref
                    if origin is not None and self.by_name.get(step_name) is not origin:
                        raise self.error(
                            f"reads from task {origin.task_id!r}, which is not a step of this group: steps "
                            "can only use properties of steps in the same pipeline; to pass a value between "
                            "pipelines, use an Airflow task output in parameter_values",
                            op, where,
                        )
                    if origin is None and step_name not in self.by_name:
                        raise self.error(f"reads from unknown step {step_name!r}", op, where)
                    reads.add(step_name)
                elif not _is_static(item):
                    raise self.error(
                        f"{type(item).__name__} values cannot go into a pipeline definition: use JSON values "
                        "(str, int, float, bool, None, dict, list) or pipeline expressions",
                        op, where,
                    )
        return reads

    def outcome_triggers(self, op: SageMakerStepOperator) -> dict[str, str]:
        """upstream step name -> DependsOn trigger, from ``run_after_outcome``; also linked in Airflow."""
        triggers: dict[str, str] = {}
        for i, item in enumerate(op.run_after_outcome):
            where = f"run_after_outcome[{i}]"
            if not (isinstance(item, tuple | list) and len(item) == 2):
                raise self.error("run_after_outcome takes (step, 'Failed' | 'Stopped' | 'Any') pairs", op, where)
            upstream, trigger = item
            if not isinstance(upstream, SageMakerStepOperator) or self.by_name.get(upstream.step_name) is not upstream:
                raise self.error(f"{upstream!r} is not a step of this group", op, where)
            triggers[upstream.step_name] = trigger
            if upstream.task_id not in op.upstream_task_ids:
                upstream.set_downstream(op)
        return triggers

    def branches(self) -> dict[str, str]:
        """step name -> name of the condition step it is nested in."""
        parent: dict[str, str] = {}
        for gate in self.ops:
            if not isinstance(gate, ConditionStep):
                continue
            for outcome, branch in (("if_true", gate.if_true), ("if_false", gate.if_false)):
                for i, step in enumerate(branch):
                    if not isinstance(step, SageMakerStepOperator):
                        raise self.error(f"{outcome} takes step operators of this group, got {type(step).__name__}",
                                         gate, f"{outcome}[{i}]")
            in_true = {s.step_name for s in gate.if_true}
            for outcome, branch in (("if_true", gate.if_true), ("if_false", gate.if_false)):
                for step in branch:
                    if self.by_name.get(step.step_name) is not step:
                        raise self.error(
                            f"{outcome} lists task {step.task_id!r}, which is not a step of this group",
                            gate, outcome,
                        )
                    if step is gate:
                        raise self.error("a condition step cannot be in its own branch", gate, outcome)
                    if outcome == "if_false" and step.step_name in in_true:
                        raise self.error(
                            f"step {step.step_name!r} is in both branches; a step runs on one outcome only "
                            "(to run it either way, make it depend on the condition step with >>)",
                            gate, outcome,
                        )
                    other = parent.get(step.step_name)
                    if other is not None and other != gate.step_name:
                        raise self.error(
                            f"step {step.step_name!r} is already in a branch of condition {other!r}; a step "
                            "can be in one branch only",
                            gate, outcome,
                        )
                    if other is not None:
                        raise self.error(f"step {step.step_name!r} is listed twice in {outcome}; a step runs "
                                         "once per execution", gate, outcome)
                    parent[step.step_name] = gate.step_name
        self.check_nesting(parent)
        return parent

    def check_nesting(self, parent: dict[str, str]) -> None:
        """Condition steps nested in each other's branches (directly or around a loop) would have no place
        in the definition: SageMaker's Steps would silently lose them."""
        done: set[str] = set()
        for start in parent:
            path: list[str] = []
            node: str | None = start
            while node is not None and node not in done:
                if node in path:
                    loop = [*path[path.index(node):], node]
                    gate = self.by_name[loop[1]] if len(loop) > 1 else self.by_name[node]
                    raise self.error(
                        "condition steps are nested in each other's branches: "
                        + " -> ".join(f"{p!r}" for p in loop) + "; no step would remain at the top of the "
                        "pipeline. Put each step in one branch of a condition that is not itself inside it",
                        gate, "if_true" if self.by_name[loop[0]] in list(gate.if_true) else "if_false",
                    )
                path.append(node)
                node = parent.get(node)
            done.update(path)

    def build(self) -> CompiledPipeline:
        self.collect()
        reads = {op.step_name: self.check_values(op) for op in self.ops}
        parent = self.branches()
        task_to_name = {op.task_id: op.step_name for op in self.ops}

        steps: dict[str, Step] = {}
        parameter_types = {name: p.type for name, p in self.group.parameters.items()}
        for op in self.ops:
            implied = reads[op.step_name] | ({parent[op.step_name]} if op.step_name in parent else set())
            triggers = self.outcome_triggers(op)
            upstream = [task_to_name[t] for t in sorted(op.upstream_task_ids) if t in task_to_name]
            depends_on: list[str | DependsOnTrigger] = [
                name for name in upstream if name not in implied and name not in triggers
            ]
            depends_on += [DependsOnTrigger(name, trigger) for name, trigger in triggers.items()]
            step = op.build_step(depends_on)
            # Typed parameters in string-only fields become strings as the SDK's to_string() makes them.
            step.arguments = stringify_arguments(step.type, step.arguments, parameter_types)
            steps[op.step_name] = step

        for op in self.ops:
            if isinstance(op, ConditionStep):
                gate = steps[op.step_name]
                assert isinstance(gate, ConditionStepDef)
                gate.if_steps = [steps[s.step_name] for s in op.if_true]
                gate.else_steps = [steps[s.step_name] for s in op.if_false]

        definition = PipelineDefinition(
            parameters=dict(self.group.parameters),
            steps=[steps[op.step_name] for op in self.ops if op.step_name not in parent],
            experiment_config=self.group.experiment_config,
            mlflow_config=self.group.mlflow_config,
        )
        problems, graph = problems_and_graph(definition)
        # Role ARNs (the group's and those inside job arguments): shape, partition, account. A step role that
        # differs from the pipeline role ("info") is reported by the iam-policy output instead.
        from airflow_sagemaker_mlops.iam.roles import role_problems

        problems += [p for p in role_problems(definition, self.group.role_arn) if p.severity != "info"]
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            raise self._problem_error(errors)
        self.check_settings()
        parameter_values = self.check_parameter_values()
        spec = PipelineSpec(
            name=self.group.pipeline_name,
            definition=definition,
            role_arn=self.group.role_arn,
            description=self.group.pipeline_description,
            display_name=self.group.pipeline_display_name,
            max_parallel_steps=self.group.max_parallel_steps,
            tags=self.group.pipeline_tags,
        )
        return CompiledPipeline(
            spec=spec,
            parameter_values=parameter_values,
            step_tasks={op.step_name: op.task_id for op in self.ops},
            warnings=[p for p in problems if p.severity == "warning"] + self.display_name_warnings(),
            code_assets=list(dict.fromkeys(a for op in self.ops for a in code_assets(op.step_values()))),
            edges={name: frozenset(upstream) for name, upstream in graph.items() if upstream},
        )

    def _problem_error(self, errors: list[Problem]) -> PipelineCompileError:
        first = errors[0]
        op = self.by_name.get(first.step) if first.step else None
        message = first.message
        if op is None and first.step:
            message = f"step {first.step!r}: {message}"
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more: " + "; ".join(str(p) for p in errors[1:]) + ")"
        field = first.field
        if op is None and first.field and first.field.startswith("Parameters."):
            field = f"parameters[{first.field.split('.', 1)[1]!r}]"
        elif op is None and first.field == "Parameters":
            field = "parameters"
        return self.error(message, op, field)

    def check_settings(self) -> None:
        group = self.group
        why = pipeline_name_problem(group.pipeline_name)
        if why:
            raise self.error(why, field="pipeline_name")
        if group.role_arn is not None and not (isinstance(group.role_arn, str) and ROLE_ARN.match(group.role_arn)):
            raise self.error(
                f"role_arn {group.role_arn!r} is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)",
                field="role_arn",
            )
        if group.role_arn is not None and (why := limit_problem("RoleArn", group.role_arn, "role_arn")):
            raise self.error(why, field="role_arn")
        mps = group.max_parallel_steps
        if mps is not None and (isinstance(mps, bool) or not isinstance(mps, int) or mps < 1):
            raise self.error(f"max_parallel_steps must be a positive integer, got {mps!r}",
                             field="max_parallel_steps")
        if mps is not None and (why := limit_problem("MaxParallelExecutionSteps", mps, "max_parallel_steps")):
            raise self.error(why, field="max_parallel_steps")
        for attr, limit_name in (("pipeline_description", "PipelineDescription"),
                                 ("pipeline_display_name", "PipelineDisplayName")):
            value = getattr(group, attr)
            if value is None:
                continue
            # botocore's PipelineDisplayName pattern is the pipeline name's; SageMaker SDK users pass display
            # names with spaces, so only its length is enforced (docs/troubleshooting.md).
            why = limit_problem(limit_name, value, attr, check_pattern=False)
            if why is None and "{{" in value and "}}" in value:
                why = f"a Jinja template is not rendered in {attr}: it is the same for every run"
            if why is None and any(unicodedata.category(c) == "Cc" for c in value if c not in "\n\t\r"):
                why = f"{attr} contains control characters SageMaker refuses"
            if why is None and attr == "pipeline_display_name" and value != value.strip():
                why = f"{attr} {value!r} starts or ends with white space"
            if why:
                raise self.error(why, field=attr)
        tags = group.pipeline_tags
        if (why := limit_problem("Tags", tags, "pipeline_tags")):
            raise self.error(why, field="pipeline_tags")
        for key, value in tags.items():
            where = f"pipeline_tags[{key!r}]"
            why = limit_problem("TagKey", key, "the tag key") or limit_problem("TagValue", value, "the tag value")
            if why is None and isinstance(key, str) and key.lower().startswith("aws:"):
                why = "tag keys starting with 'aws:' are reserved for AWS"
            if why:
                raise self.error(why, field=where)
        if not self.ops:
            raise self.error("the group has no steps; add step operators inside the with block")
        self.check_pipeline_name_is_unique()

    def display_name_warnings(self) -> list[Problem]:
        """botocore (and the API reference) state PipelineDisplayName's pattern as the pipeline name's: letters,
        digits and hyphens. SageMaker SDK users give display names with spaces, and whether CreatePipeline
        refuses them is not documented beyond the pattern, so a mismatch warns instead of failing the parse."""
        value = self.group.pipeline_display_name
        if not isinstance(value, str) or limit_problem("PipelineDisplayName", value, "x") is None:
            return []
        pattern = limit("PipelineDisplayName")["pattern"]
        return [Problem(f"{value!r} does not match the pattern botocore states for PipelineDisplayName ({pattern}: "
                        "letters, digits and hyphens); CreatePipeline may refuse it", field="pipeline_display_name",
                        severity="warning")]

    def check_pipeline_name_is_unique(self) -> None:
        """Two groups of one DAG with one pipeline name would overwrite each other's pipeline at every run."""
        from .group import SageMakerPipelineGroup

        root = getattr(self.group.dag, "task_group", None)
        stack = [root] if root is not None else []
        while stack:
            node = stack.pop()
            for child in getattr(node, "children", {}).values():
                if not isinstance(child, TaskGroup):
                    continue
                stack.append(child)
                if (child is not self.group and isinstance(child, SageMakerPipelineGroup)
                        and child.pipeline_name == self.group.pipeline_name):
                    raise self.error(
                        f"pipeline name {self.group.pipeline_name!r} is also used by group {child.group_id!r} of "
                        "this DAG: each run would overwrite the other group's pipeline; give each group its own "
                        "pipeline_name", field="pipeline_name")

    def check_parameter_values(self) -> dict[str, Any]:
        values = self.group.parameter_values
        if (why := limit_problem("PipelineParameters", values, "parameter_values")):
            raise self.error(why + " (StartPipelineExecution's PipelineParameters)", field="parameter_values")
        for name, value in values.items():
            param = self.group.parameters.get(name)
            where = f"parameter_values[{name!r}]"
            if param is None:
                known = ", ".join(sorted(self.group.parameters)) or "none"
                raise self.error(f"no parameter {name!r} is declared (declared: {known})", field=where)
            if isinstance(value, XComArg):
                for producer, _ in XComArg.iter_xcom_references(value):
                    if producer.task_id in {op.task_id for op in self.ops}:
                        raise self.error(
                            f"the value comes from step task {producer.task_id!r} of this pipeline; a "
                            "pipeline's own steps cannot feed its parameters",
                            field=where,
                        )
                continue
        # Literals are checked here with the start task's own check (check_run_values); XComArgs and Jinja
        # strings are rendered per run and checked by the start task before StartPipelineExecution.
        literal = {n: v for n, v in values.items()
                   if not isinstance(v, XComArg) and not (isinstance(v, str) and "{{" in v)}
        _, problems = check_run_values(literal, {n: self.group.parameters[n] for n in literal})
        if problems:
            where, _, why = problems[0].partition(": ")
            name = where[len("parameter_values['"):-2]
            raise self.error(f"{why} (parameter {name!r} is declared {self.group.parameters[name].type})",
                             field=where)
        return dict(values)

#: Deeper values are refused before Python's recursion limit would be hit while rendering them.
MAX_NESTING = 100


@dataclass(frozen=True)
class _Bad:
    """A value _walk found wrong on the way: reported by check_values with the path."""

    why: str


def _walk(value: Any, path: str, depth: int = 0) -> Iterator[tuple[str, Any]]:
    if depth > MAX_NESTING:
        yield path, _Bad(f"the value is nested more than {MAX_NESTING} levels deep")
        return
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                yield path, _Bad(f"dict keys must be strings (JSON object keys), got {type(key).__name__} {key!r}")
                continue
            yield from _walk(item, f"{path}.{key}", depth + 1)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _walk(item, f"{path}[{i}]", depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        yield path, _Bad(f"{value!r} is not a number JSON (and SageMaker) can hold")
    elif isinstance(value, Expression):
        for i, child in enumerate(value.children()):
            yield from _walk(child, f"{path}<{type(value).__name__}[{i}]>", depth + 1)
        if isinstance(value, JsonGet) and value.property_file is not None:
            yield path, value.property_file


def _plain_task_hint(task: Any) -> str:
    """What to do instead of a plain task in a group; for a ``@task`` function: the decorator that makes it a step."""
    function = getattr(task, "python_callable", None)
    name = getattr(function, "__name__", None)
    if name and name != "<lambda>":
        return (f"To run {name}() in the pipeline, decorate it with @sagemaker_step(image=..., s3_root_uri=...) "
                "(from airflow_sagemaker_mlops; also @task.sagemaker(...)) instead of @task: it becomes a "
                "function step that runs as a SageMaker job. To keep it an Airflow task, move it outside the "
                "group and pass its result through parameter_values")
    return ("Move the task outside the group and pass its result through parameter_values, or run the code in "
            "the pipeline as a function step (@sagemaker_step), a ProcessingStep or a LambdaStep")


def _step_reference(item: Any) -> tuple[str, Any] | None:
    if isinstance(item, StepProperty):
        return item.step_name, item.origin
    if isinstance(item, PropertyFileRef):
        return item.step_name, item.origin
    return None


def _is_static(item: Any) -> bool:
    return item is None or isinstance(item, str | bool | int | float | dict | list | tuple | Expression)


def compile_group(group: SageMakerPipelineGroup) -> CompiledPipeline:
    """Analyse the group's tasks into a CompiledPipeline; the Airflow graph is left as it is."""
    return _Compiler(group).build()


def link_airflow(group: SageMakerPipelineGroup, compiled: CompiledPipeline) -> None:
    """Add the edges the definition implies (data dependencies, nesting) to the Airflow graph.

    ``compiled.edges`` is acyclic: the compile reported any cycle as an error before."""
    tasks = {t.step_name: t for t in group.children.values() if getattr(t, "step_name", None)}
    for name, upstream in compiled.edges.items():
        for up in upstream:
            if tasks[up].task_id not in tasks[name].upstream_task_ids:
                tasks[up].set_downstream(tasks[name])
