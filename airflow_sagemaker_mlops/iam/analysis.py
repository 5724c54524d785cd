"""What a compiled pipeline touches, as far as IAM is concerned, and the grants it needs so far.

One :class:`Analysis` per policy run: the pipeline's partition, region and account, the values assumed for its
parameters, and the steps; it resolves definition values (S3 locations a step writes, the role a step's job
runs as, a Callback step's queue, a property file's object) and collects the grants, widenings and notes the
role modules (``pipeline_role``, ``airflow_role``) derive from them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from airflow_sagemaker_mlops.definition.expressions import Key, StepProperty
from airflow_sagemaker_mlops.definition.pipeline import PipelineDefinition, PipelineSpec
from airflow_sagemaker_mlops.definition.step_kinds import STEP_KINDS, StepKind
from airflow_sagemaker_mlops.definition.steps import Step

from .document import Condition, Grant
from .roles import RoleArn
from .values import Resolved, S3Location, literal_prefix, queue_arn, s3_location

PIPELINE = "pipeline"
AIRFLOW = "airflow"

#: Keys under which a step's arguments hold S3 locations the job writes (everything else is read).
WRITE_KEYS = frozenset({"ProcessingOutputConfig", "OutputDataConfig", "TransformOutput", "DebugHookConfig",
                        "ProfilerConfig", "TensorBoardOutputConfig", "OutputConfig", "S3OutputPath"})
READ_WRITE_KEYS = frozenset({"CheckpointConfig"})


def step_kind(step_type: str) -> StepKind:
    """The registry's kind of ``step_type``; a type it does not know (validation names it) gets an empty one."""
    return STEP_KINDS.get(step_type) or StepKind(step_type, None)


def lower_name(name: str) -> list[str]:
    """``name`` and its lower-case form: SageMaker writes resource names lower-case in ARNs, and IAM compares
    ARNs case-sensitively."""
    return sorted({name.lower(), name})


def walk(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every leaf of a step's arguments with its key path (list items keep their parent's path)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, (*path, str(key)))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from walk(item, path)
    else:
        yield path, value


def get_path(value: Any, *keys: str) -> Any:
    """``value[k1][k2]...``, None where a level is missing or not a dict."""
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def arguments(step: Step) -> dict[str, Any]:
    """The step's ``Arguments`` when they are a dict, else an empty one."""
    return step.arguments if isinstance(step.arguments, dict) else {}


@dataclass
class Analysis:
    """One pipeline's policy run: where its resources are, and the grants, widenings and notes per role key
    (``"pipeline"``, ``"airflow"`` or a step job role's ARN)."""

    definition: PipelineDefinition
    spec: PipelineSpec | None
    pipeline_role: RoleArn | None
    partition: str
    region: str
    account: str
    assumed: dict[str, Any]
    grants: dict[str, list[Grant]] = field(default_factory=dict)
    widenings: dict[str, list[str]] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)
    runners: dict[str, str] = field(default_factory=dict)  # step name -> role key
    steps: dict[str, Step] = field(init=False)

    def __post_init__(self) -> None:
        self.steps = {s.name: s for s in self.definition.all_steps()}

    @classmethod
    def of(cls, spec: PipelineSpec, *, region: str | None, account: str | None,
           parameter_values: dict[str, Any] | None) -> Analysis:
        """An analysis of ``spec``: the partition and (by default) the account are the pipeline role's."""
        pipeline_role = RoleArn.parse(spec.role_arn)
        return cls(
            definition=spec.definition,
            spec=spec,
            pipeline_role=pipeline_role,
            partition=pipeline_role.partition if pipeline_role else "aws",
            region=region or "*",
            account=account or (pipeline_role.account if pipeline_role else "*"),
            assumed=dict(parameter_values or {}),
        )

    # -- ARNs and the collected results --
    def arn(self, service: str, resource: str, *, region: str | None = None, account: str | None = None) -> str:
        return f"arn:{self.partition}:{service}:{region or self.region}:{account or self.account}:{resource}"

    def sm(self, resource: str) -> str:
        return self.arn("sagemaker", resource)

    def s3(self, bucket: str, key: str | None = None) -> str:
        """A bucket's ARN, or (``key``) an object's."""
        return f"arn:{self.partition}:s3:::{bucket}" + ("" if key is None else f"/{key}")

    def add(self, role: str, sid: str, actions: Iterable[str], resources: Iterable[str], reason: str,
            step: str | None = None, conditions: Iterable[Condition] = ()) -> None:
        self.grants.setdefault(role, []).append(
            Grant(sid, tuple(actions), tuple(resources), reason, step, tuple(conditions)))

    def widen(self, role: str, text: str) -> None:
        bucket = self.widenings.setdefault(role, [])
        if text not in bucket:
            bucket.append(text)

    def note(self, role: str, text: str) -> None:
        bucket = self.notes.setdefault(role, [])
        if text not in bucket:
            bucket.append(text)

    # -- values --
    def resolve(self, value: Any) -> Resolved | None:
        return literal_prefix(value, self.definition, self.assumed)

    def resolve_logged(self, role: str, value: Any) -> Resolved | None:
        """:meth:`resolve`, recording its widenings for ``role`` (for values that get a permission)."""
        resolved = self.resolve(value)
        if resolved is not None:
            self.log_widenings(role, resolved)
        return resolved

    def log_widenings(self, role: str, resolved: Resolved) -> None:
        for why in resolved.widenings:
            self.widen(role, why)

    def static_location(self, value: Any) -> S3Location | None:
        resolved = self.resolve(value)
        return s3_location(resolved) if resolved is not None else None

    # -- S3 --
    def write_locations(self, step: Step) -> list[tuple[str | None, S3Location]]:
        """Where a step writes: (processing output name or None, location)."""
        found: list[tuple[str | None, S3Location]] = []
        if not step_kind(step.type).data:
            return found
        args = arguments(step)
        for out in get_path(args, "ProcessingOutputConfig", "Outputs") or []:
            if isinstance(out, dict):
                loc = self.static_location(get_path(out, "S3Output", "S3Uri"))
                if loc is not None:
                    found.append((out.get("OutputName"), loc))
        for path, value in walk(args):
            if "ProcessingOutputConfig" in path or not set(path) & (WRITE_KEYS | READ_WRITE_KEYS):
                continue
            loc = self.static_location(value)
            if loc is not None:
                found.append((None, loc))
        return found

    def producer_outputs(self, prop: StepProperty) -> list[S3Location]:
        """Where the S3 URI a step property names can be: the producing step's (named) output locations."""
        producer = self.steps.get(prop.step_name)
        if producer is None:
            return []
        entries = self.write_locations(producer)
        path = prop.path
        if (producer.type == "Processing" and len(path) >= 3 and path[0] == "ProcessingOutputConfig"
                and path[1] == "Outputs" and isinstance(path[2], Key)):
            named = [loc for name, loc in entries if name == path[2].key]
            if named:
                return named
        return [loc for _, loc in entries]

    def property_file_arn(self, loc: S3Location, path: str) -> str:
        """The object ARN of a property file at ``path`` in an output written to ``loc``."""
        path = path.lstrip("/")
        if not loc.exact:
            # Only the output's leading part is known (e.g. it ends in the execution id): the file is somewhere
            # below it.
            key = f"{loc.key_prefix}*/{path}"
        else:
            key = loc.key_prefix.rstrip("/") + "/" + path if loc.key_prefix else path
        return self.s3(loc.bucket + ("*" if loc.bucket_pattern else ""), key)

    # -- roles and queues --
    def role_key(self, arn: str | None) -> str:
        if arn is None or (self.pipeline_role is not None and arn == self.pipeline_role.arn):
            return PIPELINE
        return arn

    def runner(self, step: Step) -> str:
        """The role key the step's job runs as."""
        args = arguments(step)
        if step.type == "Transform":
            return self._transform_runner(step, args)
        if step.type == "Tuning":
            value = get_path(args, "TrainingJobDefinition", "RoleArn")
            if value is None:
                defs = args.get("TrainingJobDefinitions") or []
                value = get_path(defs[0], "RoleArn") if defs else None
        else:
            value = args.get("ExecutionRoleArn" if step.type == "Model" else "RoleArn")
        resolved = self.resolve(value) if value is not None else None
        if resolved is None or RoleArn.parse(resolved.text) is None:
            return PIPELINE
        return self.role_key(resolved.text)

    def _transform_runner(self, step: Step, args: dict[str, Any]) -> str:
        # A transform job runs as its model's execution role.
        model = args.get("ModelName")
        producer = self.steps.get(model.step_name) if isinstance(model, StepProperty) else None
        if producer is not None and producer.type == "Model":
            return self.runner(producer)
        self.note(PIPELINE, f"step {step.name}: the transform job runs as its model's execution role, which is "
                            "not a step of this pipeline; its S3, ECR and logs permissions are put in the pipeline "
                            "role's policy: move them to the model's role if it is another one")
        return PIPELINE

    def queue_arns(self, role: str, step: Step) -> list[str]:
        """The queue a Callback step sends to (every queue of the account when its URL is a run-time value)."""
        url = step.extra.get("SqsQueueUrl")
        resolved = self.resolve_logged(role, url) if url is not None else None
        arn = queue_arn(resolved.text, self.partition) if resolved is not None else None
        if arn is None:
            self.widen(role, f"Callback step {step.name}: the queue URL is not known before the run; the policy "
                             "allows every queue of the account")
            return [self.arn("sqs", "*")]
        return [arn]
