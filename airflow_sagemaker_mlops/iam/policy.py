"""Least-privilege IAM policies derived from a compiled pipeline.

Three kinds of role act for a pipeline:

- the **pipeline execution role** (the group's ``role_arn``): SageMaker Pipelines uses it to start each
  step's job or call (CreateProcessingJob, lambda:InvokeFunction, sqs:SendMessage, ...), to pass roles to
  those jobs and to read property files;
- the **job roles** (``RoleArn``/``ExecutionRoleArn`` inside a step's arguments): the job runs as it, so it
  reads the step's S3 inputs, writes its outputs, pulls its image and writes its logs. Usually the same
  role as the pipeline role, in which case those permissions are in the pipeline role's policy;
- the **Airflow role** (MWAA execution role, or whatever the ``aws_conn_id`` resolves to): the calls this
  plugin's hooks and operators make (upsert, start, poll, stop, retry, answer callbacks, upload code).

Everything is derived from the definition, never from AWS: the result is a pure function of the compiled
group, stable from run to run (statements, actions and resources sorted; Sids derived from content).
Every statement keeps the reasons that produced it, and every widening (a resource broader than a literal
value) is listed, so :func:`explain` can say why each permission is there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from airflow_sagemaker_mlops.definition.expressions import Expression, JsonGet, Key, StepProperty
from airflow_sagemaker_mlops.definition.pipeline import (
    S3_DEFINITION_THRESHOLD_BYTES,
    PipelineDefinition,
    PipelineSpec,
)
from airflow_sagemaker_mlops.definition.step_kinds import (
    PROCESSING_JOB,
    STEP_KINDS,
    TRAINING_JOB,
    TRANSFORM_JOB,
    StepKind,
)
from airflow_sagemaker_mlops.definition.steps import ConditionStep, Step
from airflow_sagemaker_mlops.definition.validate import Problem

from .roles import SAGEMAKER_PRINCIPAL, RoleArn, role_problems, step_roles
from .values import Resolved, S3Location, literal_prefix, s3_location

POLICY_VERSION = "2012-10-17"
PIPELINE = "pipeline"
AIRFLOW = "airflow"

#: Where the hooks put definitions too large to send inline (see ``hooks.pipelines.DEFINITION_PREFIX``;
#: repeated here because importing the hooks would import botocore).
DEFINITION_PREFIX = "sagemaker-mlops/pipelines"


# ---- SageMaker job-like step types: definition/step_kinds.py ------------------------------------
def _kind(step_type: str) -> StepKind:
    # A type the registry does not know (validation names it) gets no job permissions and a note.
    return STEP_KINDS.get(step_type) or StepKind(step_type, None)


_AUTOML_V2 = ("sagemaker:CreateAutoMLJobV2", "sagemaker:DescribeAutoMLJobV2", "sagemaker:StopAutoMLJob",
              "sagemaker:AddTags")

#: Keys under which a step's arguments hold S3 locations the job writes (everything else is read).
_WRITE_KEYS = frozenset({"ProcessingOutputConfig", "OutputDataConfig", "TransformOutput", "DebugHookConfig",
                         "ProfilerConfig", "TensorBoardOutputConfig", "OutputConfig", "S3OutputPath"})
_READ_WRITE_KEYS = frozenset({"CheckpointConfig"})

_SERVICE_SIDS = {"sagemaker.amazonaws.com": "SageMaker", "elasticmapreduce.amazonaws.com": "Emr",
                 "emr-serverless.amazonaws.com": "EmrServerless"}

_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repo>[a-z0-9][a-z0-9._/-]*?)(?::[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})?$"
)


# ---- grants and documents -------------------------------------------------------------------------

@dataclass(frozen=True, order=True)
class Condition:
    operator: str
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Grant:
    """One permission one role needs, and why (``step``: the step that needs it, None: the pipeline)."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    reason: str
    step: str | None = None
    conditions: tuple[Condition, ...] = ()


@dataclass
class StatementReport:
    sid: str
    statement: dict[str, Any]
    reasons: list[str]
    steps: list[str]


@dataclass
class PolicyReport:
    """A generated policy with what produced it.

    ``role``: ``"pipeline"``, ``"airflow"`` or the ARN of a step's job role. ``grants`` are the raw
    requirements (with the step each comes from), for tools that check a policy against what a run did.
    """

    role: str
    role_arn: str | None
    document: dict[str, Any]
    statements: list[StatementReport]
    widenings: list[str]
    notes: list[str]
    problems: list[Problem]
    grants: list[Grant]

    def to_json(self) -> str:
        return json.dumps(self.document, indent=2)


def _sid(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", text)[:100] or "Statement"


def build_document(grants: Iterable[Grant]) -> tuple[dict[str, Any], list[StatementReport]]:
    """Merge grants into statements: one per (Sid, actions, conditions), resources unioned, all sorted.

    Grants that share a Sid but not the same actions or conditions get numbered Sids rather than being
    merged, so merging never gives an action a resource it was not granted for.
    """
    groups: dict[tuple[str, tuple[str, ...], tuple[Condition, ...]], list[Grant]] = {}
    merged: dict[tuple[str, tuple[str, ...], str, str], tuple[str, tuple[str, ...], tuple[Condition, ...]]] = {}
    for grant in grants:
        sid, actions = _sid(grant.sid), tuple(sorted(set(grant.actions)))
        conditions = tuple(sorted(set(grant.conditions)))
        if len(conditions) == 1:
            # One condition key: values of one key are ORed, so grants that differ only in those values
            # merge into one statement (several s3:prefix patterns on one bucket).
            (cond,) = conditions
            slot = (sid, actions, cond.operator, cond.key)
            previous = merged.get(slot)
            if previous is not None:
                members = groups.pop(previous)
                values = tuple(sorted(set(previous[2][0].values) | set(cond.values)))
                conditions = (Condition(cond.operator, cond.key, values),)
                groups[(sid, actions, conditions)] = members
            merged[slot] = (sid, actions, conditions)
        groups.setdefault((sid, actions, conditions), []).append(grant)
    reports: list[StatementReport] = []
    used: dict[str, int] = {}
    for sid, actions, conditions in sorted(groups):
        members = groups[(sid, actions, conditions)]
        used[sid] = used.get(sid, 0) + 1
        final_sid = sid if used[sid] == 1 else f"{sid}{used[sid]}"
        resources = sorted({r for g in members for r in g.resources})
        statement: dict[str, Any] = {
            "Sid": final_sid,
            "Effect": "Allow",
            "Action": list(actions),
            "Resource": resources if len(resources) != 1 else resources[0],
        }
        if conditions:
            block: dict[str, dict[str, Any]] = {}
            for cond in conditions:
                values = sorted(set(cond.values))
                block.setdefault(cond.operator, {})[cond.key] = values if len(values) != 1 else values[0]
            statement["Condition"] = block
        reasons = sorted(dict.fromkeys(g.reason for g in members))
        steps = sorted({g.step for g in members if g.step})
        reports.append(StatementReport(final_sid, statement, reasons, steps))
    reports.sort(key=lambda r: r.sid)
    return {"Version": POLICY_VERSION, "Statement": [r.statement for r in reports]}, reports


# ---- the analysis ---------------------------------------------------------------------------------

def _lower_name(name: str) -> list[str]:
    # SageMaker writes resource names lower-case in ARNs; IAM compares ARNs case-sensitively.
    return sorted({name.lower(), name})


@dataclass
class _Analysis:
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

    # -- helpers --
    def arn(self, service: str, resource: str, *, region: str | None = None, account: str | None = None) -> str:
        return f"arn:{self.partition}:{service}:{region or self.region}:{account or self.account}:{resource}"

    def sm(self, resource: str) -> str:
        return self.arn("sagemaker", resource)

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

    def resolve(self, value: Any) -> Resolved | None:
        return literal_prefix(value, self.definition, self.assumed)

    def role_key(self, arn: str | None) -> str:
        if arn is None or (self.pipeline_role is not None and arn == self.pipeline_role.arn):
            return PIPELINE
        return arn


def _walk(value: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, (*path, str(key)))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _walk(item, path)
    else:
        yield path, value


def _get(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _s3_actions(mode: str) -> tuple[str, ...]:
    if mode == "read":
        return ("s3:GetObject",)
    if mode == "write":
        return ("s3:AbortMultipartUpload", "s3:PutObject")
    return ("s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject")


class _Analyser:
    def __init__(self, a: _Analysis) -> None:
        self.a = a
        self.steps = {s.name: s for s in a.definition.all_steps()}

    # -- S3 --
    def grant_s3(self, role: str, loc: S3Location, mode: str, reason: str, step: str | None, *,
                 listing: bool = True) -> None:
        a = self.a
        bucket = loc.bucket + ("*" if loc.bucket_pattern else "")
        # Even an exact URI gets a trailing *: SageMaker treats S3Uri values as key prefixes (S3Prefix inputs,
        # output paths under which each job writes its own keys).
        objects = f"arn:{a.partition}:s3:::{bucket}/{loc.key_prefix}*"
        a.add(role, {"read": "S3Read", "write": "S3Write", "readwrite": "S3ReadWrite"}[mode], _s3_actions(mode),
              [objects], f"{reason}: {loc.display}", step)
        if listing and mode in ("read", "readwrite"):
            # Listing is needed for S3Prefix inputs; the condition keeps it to the same prefix.
            a.add(role, f"S3ListBucket{bucket}", ("s3:ListBucket",), [f"arn:{a.partition}:s3:::{bucket}"],
                  f"{reason}: list {loc.display}", step,
                  [Condition("StringLike", "s3:prefix", (f"{loc.key_prefix}*",))])

    def s3_value(self, role: str, value: Any, mode: str, reason: str, step: Step, *, listing: bool = True) -> None:
        a = self.a
        if isinstance(value, StepProperty):
            self.property_s3(role, value, reason, step)
            return
        resolved = self.resolve_logged(role, value)
        if resolved is None:
            if isinstance(value, Expression):
                a.note(role, f"step {step.name}: {reason} is only known at run time; no S3 permission was "
                             "generated for it (pass extra_s3_uris= to add one)")
            return
        loc = s3_location(resolved)
        if loc is None:
            return
        self.grant_s3(role, loc, mode, reason, step.name, listing=listing)

    def resolve_logged(self, role: str, value: Any) -> Resolved | None:
        resolved = self.a.resolve(value)
        if resolved is not None:
            self.log_widenings(role, resolved)
        return resolved

    def log_widenings(self, role: str, resolved: Resolved) -> None:
        for why in resolved.widenings:
            self.a.widen(role, why)

    def property_s3(self, role: str, prop: StepProperty, reason: str, step: Step) -> None:
        """An S3 URI another step produced: covered by that step's output locations."""
        a = self.a
        locations = self.producer_outputs(prop)
        if not locations:
            a.note(role, f"{reason}: the value is {prop.step_name}.{prop.path_text}, whose S3 location is not "
                         "known before the run; no S3 permission was generated for it (pass extra_s3_uris= to "
                         "add one)")
            return
        for loc in locations:
            a.widen(role, f"step {step.name} reads {prop.step_name}.{prop.path_text}: covered by the output "
                          f"location of step {prop.step_name}, {loc.display}")
            self.grant_s3(role, loc, "read", f"{reason} (output of step {prop.step_name})", step.name)

    def producer_outputs(self, prop: StepProperty) -> list[S3Location]:
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

    def write_locations(self, step: Step) -> list[tuple[str | None, S3Location]]:
        """Where a step writes: (processing output name or None, location)."""
        found: list[tuple[str | None, S3Location]] = []
        if not _kind(step.type).data:
            return found
        args = step.arguments if isinstance(step.arguments, dict) else {}
        for out in _get(args, "ProcessingOutputConfig", "Outputs") or []:
            if isinstance(out, dict):
                uri = _get(out, "S3Output", "S3Uri")
                loc = self._static_location(uri)
                if loc is not None:
                    found.append((out.get("OutputName"), loc))
        for path, value in _walk(args, ()):
            if "ProcessingOutputConfig" in path:
                continue
            if set(path) & (_WRITE_KEYS | _READ_WRITE_KEYS):
                loc = self._static_location(value)
                if loc is not None:
                    found.append((None, loc))
        return found

    def _static_location(self, value: Any) -> S3Location | None:
        resolved = self.a.resolve(value)
        return s3_location(resolved) if resolved is not None else None

    def json_get_reads(self, step: Step) -> None:
        """Property files and JsonGet S3 URIs are read by Pipelines itself, as the pipeline role."""
        values = list(step.values())
        if isinstance(step, ConditionStep):
            values = [op for cond in step.conditions for c in cond.conditions() for op in c.operands()]
        from airflow_sagemaker_mlops.definition.expressions import iter_expressions

        for value in values:
            for expr in iter_expressions(value):
                if not isinstance(expr, JsonGet):
                    continue
                if expr.property_file is not None:
                    self.property_file_read(step, expr)
                else:
                    self.s3_value(PIPELINE, expr.s3_uri, "read", "JsonGet reads a JSON file", step, listing=False)

    def property_file_read(self, step: Step, expr: JsonGet) -> None:
        a = self.a
        ref = expr.property_file
        assert ref is not None
        producer = self.steps.get(ref.step_name)
        declared = {f.name: f for f in (producer.property_files if producer else [])}
        prop_file = declared.get(ref.name)
        if producer is None or prop_file is None:
            return
        locations = [loc for name, loc in self.write_locations(producer) if name == prop_file.output_name]
        if not locations:
            a.note(PIPELINE, f"step {step.name}: property file {ref.name} of step {producer.name} is in an output "
                             "whose S3 location is not known before the run; no S3 permission was generated")
        for loc in locations:
            a.add(PIPELINE, "PropertyFiles", ("s3:GetObject",), [property_file_arn(a, loc, prop_file.path)],
                  f"step {step.name} reads property file {ref.name} ({prop_file.path} in output "
                  f"{prop_file.output_name} of step {producer.name})", step.name)

    # -- roles --
    def runner(self, step: Step) -> str:
        """The role key the step's job runs as."""
        a = self.a
        args = step.arguments if isinstance(step.arguments, dict) else {}
        if step.type == "Tuning":
            value = _get(args, "TrainingJobDefinition", "RoleArn")
            if value is None:
                defs = args.get("TrainingJobDefinitions") or []
                value = _get(defs[0], "RoleArn") if defs else None
        elif step.type == "Model":
            value = args.get("ExecutionRoleArn")
        elif step.type == "Transform":
            model = args.get("ModelName")
            producer = self.steps.get(model.step_name) if isinstance(model, StepProperty) else None
            if producer is not None and producer.type == "Model":
                return self.runner(producer)
            a.note(PIPELINE, f"step {step.name}: the transform job runs as its model's execution role, which is "
                             "not a step of this pipeline; its S3, ECR and logs permissions are put in the pipeline "
                             "role's policy: move them to the model's role if it is another one")
            return PIPELINE
        else:
            value = args.get("RoleArn")
        if value is None:
            return PIPELINE
        resolved = a.resolve(value)
        if resolved is None or RoleArn.parse(resolved.text) is None:
            return PIPELINE
        return a.role_key(resolved.text)

    def pass_roles(self) -> None:
        a = self.a
        for role in step_roles(a.definition, a.assumed):
            if role.arn is None or RoleArn.parse(role.arn) is None:
                a.note(PIPELINE, f"step {role.step}: the role in {role.field} is not known before the run; no "
                                 "iam:PassRole was generated for it")
                continue
            if role.parameter:
                a.widen(PIPELINE, f"iam:PassRole on {role.arn}: the default of parameter {role.parameter} "
                                  f"(step {role.step}, {role.field}); passing another role at run time will be "
                                  "denied")
            a.add(PIPELINE, f"PassRoleTo{_SERVICE_SIDS.get(role.service, role.service.split('.')[0])}",
                  ("iam:PassRole",), [role.arn],
                  f"step {role.step} passes {role.arn} ({role.field}) to {role.service}", role.step,
                  [Condition("StringEquals", "iam:PassedToService", (role.service,))])
            if role.arn != (a.pipeline_role.arn if a.pipeline_role else None):
                a.note(PIPELINE, f"step {role.step} runs as {role.arn}, not the pipeline role: generate that "
                                 f"role's policy with role={role.arn!r}")

    # -- per step --
    def step(self, step: Step) -> None:
        a = self.a
        name = step.name
        args = step.arguments if isinstance(step.arguments, dict) else {}
        self.json_get_reads(step)
        if not _kind(step.type).needs_permissions:
            return
        job = _kind(step.type).resource
        if job is not None and job.iam_sid:
            actions = job.iam_actions
            if step.type == "AutoML" and "AutoMLProblemTypeConfig" in args:
                actions = _AUTOML_V2
            a.add(PIPELINE, job.iam_sid, actions, [a.sm(f"{job.arn_type}/{job.iam_name_pattern}")],
                  f"{step.type} step {name}: start, watch and stop its job (Pipelines tags every job it starts)",
                  name)
            self.job_permissions(step)
            if step.type == "AutoML":
                self.automl_runner(step)
            if step.type == "QualityCheck" and step.extra.get("ModelPackageGroupName"):
                self.model_package_group_read(step, step.extra["ModelPackageGroupName"])
            return
        handler = getattr(self, f"step_{step.type.lower()}", None)
        if handler is None:
            a.note(PIPELINE, f"step {name}: no IAM mapping for step type {step.type} yet; add its permissions "
                             "by hand")
            return
        handler(step, args)

    def job_permissions(self, step: Step) -> None:
        """What the job itself does as its role: S3 in and out, image pulls, logs, metrics, VPC, KMS."""
        a = self.a
        role = self.runner(step)
        a.runners[step.name] = role
        args = step.arguments if isinstance(step.arguments, dict) else {}
        images: set[str] = set()
        for path, value in _walk(args, ()):
            keys = set(path)
            if path and path[-1] in ("RoleArn", "ExecutionRoleArn"):
                continue
            if isinstance(value, StepProperty):
                s3_field = bool(path) and path[-1] in ("S3Uri", "S3OutputPath", "ModelDataUrl")
                if keys & _WRITE_KEYS or not (s3_field or self._looks_like_s3_property(value)):
                    continue
                self.property_s3(role, value, f"{step.type} step {step.name} reads {'.'.join(path)}", step)
                continue
            resolved = a.resolve(value)  # widenings are logged below, only for values that get a permission
            if resolved is None:
                if isinstance(value, Expression) and path and path[-1] in ("S3Uri", "S3OutputPath", "S3DataSource"):
                    a.note(role, f"step {step.name}: {'.'.join(path)} is only known at run time; no S3 "
                                 "permission was generated for it (pass extra_s3_uris= to add one)")
                continue
            loc = s3_location(resolved)
            if loc is not None:
                self.log_widenings(role, resolved)
                mode = ("readwrite" if keys & _READ_WRITE_KEYS else "write" if keys & _WRITE_KEYS else "read")
                verb = {"read": "reads", "write": "writes", "readwrite": "reads and writes"}[mode]
                self.grant_s3(role, loc, mode, f"{step.type} step {step.name} {verb} {'.'.join(path)}", step.name)
                continue
            match = _ECR_IMAGE.match(resolved.text) if isinstance(resolved.text, str) else None
            if match is not None:
                self.log_widenings(role, resolved)
                images.add(resolved.text)
                repo = self.a.arn("ecr", f"repository/{match['repo']}", region=match["region"],
                                  account=match["account"])
                a.add(role, "EcrPullImages", ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                                              "ecr:GetDownloadUrlForLayer"), [repo],
                      f"{step.type} step {step.name} runs image {resolved.text}", step.name)
            elif path and path[-1] in ("KmsKeyId", "VolumeKmsKeyId"):
                self.log_widenings(role, resolved)
                self.kms(role, resolved.text, step)
        if images:
            a.add(role, "EcrAuthorization", ("ecr:GetAuthorizationToken",), ["*"],
                  "pulling from ECR needs an authorization token, which IAM cannot scope to a repository",
                  step.name)
        if step.type == "Model":
            return  # the model's role acts when the model is used (transform, endpoint), covered there
        log_groups = a.arn("logs", "log-group:/aws/sagemaker/*")
        a.add(role, "CloudWatchLogs", ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams",
                                       "logs:PutLogEvents"), [log_groups, log_groups + ":log-stream:*"],
              f"{step.type} step {step.name}: the job writes its logs to /aws/sagemaker/*", step.name)
        a.add(role, "CloudWatchMetrics", ("cloudwatch:PutMetricData",), ["*"],
              f"{step.type} step {step.name}: the job publishes metrics (PutMetricData has no resource; the "
              "condition keeps it to SageMaker's namespaces)", step.name,
              [Condition("StringLike", "cloudwatch:namespace", ("/aws/sagemaker/*",))])
        if any("VpcConfig" in path for path, _ in _walk(args, ())):
            a.add(role, "VpcNetworkInterfaces", (
                "ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
                "ec2:DeleteNetworkInterfacePermission", "ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"), ["*"],
                f"{step.type} step {step.name} runs in a VPC: SageMaker creates network interfaces in it "
                "(these EC2 actions take no resource-level scoping)", step.name)

    @staticmethod
    def _looks_like_s3_property(prop: StepProperty) -> bool:
        last = prop.path[-1] if prop.path else ""
        return isinstance(last, str) and (last in ("S3Uri", "S3ModelArtifacts", "S3OutputPath")
                                          or last.endswith("S3Uri"))

    def kms(self, role: str, key: str, step: Step) -> None:
        a = self.a
        if key.startswith("arn:"):
            resource = key
        elif key.startswith("alias/"):
            # A policy cannot name a key through its alias: allow the account's keys, and say so.
            resource = a.arn("kms", "key/*")
            a.widen(role, f"step {step.name} uses KMS alias {key}: the policy allows every key of the account "
                          "because IAM authorizes keys, not aliases (replace the alias with the key ARN)")
        else:
            resource = a.arn("kms", f"key/{key}")
        a.add(role, "KmsKeys", ("kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt",
                                "kms:GenerateDataKey"), [resource],
              f"step {step.name} encrypts with KMS key {key}", step.name)

    def automl_runner(self, step: Step) -> None:
        a = self.a
        role = a.runners.get(step.name, PIPELINE)
        a.note(role, f"step {step.name}: Autopilot starts processing, training and transform jobs as the AutoML "
                     "role; the generated statements cover them, but AWS documents broader Autopilot "
                     "permissions: check them with enforcement before relying on this policy")
        for job in (PROCESSING_JOB, TRAINING_JOB, TRANSFORM_JOB):
            a.add(role, f"AutoML{job.iam_sid}", job.iam_actions, [a.sm(f"{job.arn_type}/*")],
                  f"AutoML step {step.name}: Autopilot runs its candidates as this role", step.name)

    def model_package_group_read(self, step: Step, group: Any) -> None:
        a = self.a
        resolved = self.resolve_logged(PIPELINE, group)
        names = _lower_name(resolved.text) if resolved else ["*"]
        a.add(PIPELINE, "ModelRegistryRead", ("sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"),
              sorted({a.sm(f"model-package/{n}/*") for n in names} | {a.sm(f"model-package-group/{n}")
                                                                      for n in names}),
              f"{step.type} step {step.name} looks up the latest approved baseline in model package group "
              f"{resolved.text if resolved else '(run-time value)'}", step.name)

    def step_model(self, step: Step, args: dict[str, Any]) -> None:
        a = self.a
        name = self.resolve_logged(PIPELINE, args.get("ModelName")) if args.get("ModelName") else None
        resources = [a.sm(f"model/{n}") for n in _lower_name(name.text)] if name and name.exact else [a.sm("model/*")]
        a.add(PIPELINE, "SageMakerModels", ("sagemaker:AddTags", "sagemaker:CreateModel", "sagemaker:DescribeModel"),
              resources, f"Model step {step.name}: create the model", step.name)
        self.job_permissions(step)

    def step_registermodel(self, step: Step, args: dict[str, Any]) -> None:
        a = self.a
        group = args.get("ModelPackageGroupName")
        resolved = self.resolve_logged(PIPELINE, group) if group is not None else None
        if resolved is not None and resolved.text.startswith("arn:"):
            # A registry in another account: Pipelines registers into it but does not create it.
            group_arn = resolved.text
            package_arn = group_arn.replace(":model-package-group/", ":model-package/") + "/*"
            a.add(PIPELINE, "ModelRegistry", ("sagemaker:AddTags", "sagemaker:CreateModelPackage",
                                              "sagemaker:DescribeModelPackage"), [group_arn, package_arn],
                  f"RegisterModel step {step.name}: register a model version in {group_arn}", step.name)
            return
        names = _lower_name(resolved.text) if resolved is not None and resolved.exact else None
        if names is None:
            names = [resolved.text + "*"] if resolved is not None and resolved.text else ["*"]
            a.widen(PIPELINE, f"RegisterModel step {step.name}: the model package group name is not a literal; "
                              f"the policy allows groups matching {names[0]}")
        groups = [a.sm(f"model-package-group/{n}") for n in names]
        packages = [a.sm(f"model-package/{n}/*") for n in names]
        a.add(PIPELINE, "ModelRegistry", ("sagemaker:AddTags", "sagemaker:CreateModelPackage",
                                          "sagemaker:DescribeModelPackage"), groups + packages,
              f"RegisterModel step {step.name}: register a model version in group {', '.join(names)}", step.name)
        a.add(PIPELINE, "ModelRegistryGroups", ("sagemaker:AddTags", "sagemaker:CreateModelPackageGroup",
                                                "sagemaker:DescribeModelPackageGroup"), groups,
              f"RegisterModel step {step.name}: Pipelines creates the model package group on first registration",
              step.name)

    def step_callback(self, step: Step, args: dict[str, Any]) -> None:
        a = self.a
        for arn in self.queue_arns(PIPELINE, step):
            a.add(PIPELINE, "CallbackQueues", ("sqs:SendMessage",), [arn],
                  f"Callback step {step.name} sends its token and inputs to the queue", step.name)

    def queue_arns(self, role: str, step: Step) -> list[str]:
        a = self.a
        url = step.extra.get("SqsQueueUrl")
        resolved = self.resolve_logged(role, url) if url is not None else None
        arn = queue_arn(resolved.text, a.partition) if resolved is not None and resolved.exact else None
        if arn is None and resolved is not None:
            arn = queue_arn(resolved.text, a.partition)
        if arn is None:
            a.widen(role, f"Callback step {step.name}: the queue URL is not known before the run; the policy "
                          "allows every queue of the account")
            return [a.arn("sqs", "*")]
        return [arn]

    def step_lambda(self, step: Step, args: dict[str, Any]) -> None:
        a = self.a
        value = step.extra.get("FunctionArn")
        resolved = self.resolve_logged(PIPELINE, value) if value is not None else None
        if resolved is None:
            resource = a.arn("lambda", "function:*")
            a.widen(PIPELINE, f"Lambda step {step.name}: the function is not known before the run; the policy "
                              "allows invoking every function of the account")
        elif resolved.text.startswith("arn:"):
            resource = resolved.text if resolved.exact else resolved.text + "*"
        else:
            resource = a.arn("lambda", f"function:{resolved.text}{'' if resolved.exact else '*'}")
        a.add(PIPELINE, "LambdaInvoke", ("lambda:InvokeFunction",), [resource],
              f"Lambda step {step.name} invokes the function", step.name)

    def step_emr(self, step: Step, args: dict[str, Any]) -> None:
        a = self.a
        cluster = args.get("ClusterId")
        resolved = self.resolve_logged(PIPELINE, cluster) if cluster is not None else None
        cluster_arn = a.arn("elasticmapreduce", f"cluster/{resolved.text if resolved and resolved.exact else '*'}")
        rules = ["SageMakerPipelineExecutionEMRStepStatusUpdateRule"]
        if cluster is None:
            # A ClusterConfig: Pipelines creates the cluster for the step and terminates it afterwards.
            rules.append("SageMakerPipelineExecutionEMRClusterStatusUpdateRule")
            a.add(PIPELINE, "EmrClusters", ("elasticmapreduce:DescribeCluster", "elasticmapreduce:RunJobFlow",
                                            "elasticmapreduce:TerminateJobFlows"), ["*"],
                  f"EMR step {step.name} runs on a cluster Pipelines creates (RunJobFlow takes no resource)",
                  step.name)
            a.note(PIPELINE, f"step {step.name}: a new EMR cluster also needs iam:PassRole on its EC2 instance "
                             "profile's role (passed to ec2.amazonaws.com), which the definition does not name")
        a.add(PIPELINE, "EmrSteps", ("elasticmapreduce:AddJobFlowSteps", "elasticmapreduce:CancelSteps",
                                     "elasticmapreduce:DescribeCluster", "elasticmapreduce:DescribeStep"),
              [cluster_arn], f"EMR step {step.name} adds its step to the cluster and follows it", step.name)
        a.add(PIPELINE, "EmrStepEvents", ("events:DescribeRule", "events:PutRule", "events:PutTargets"),
              [a.arn("events", f"rule/{r}") for r in rules],
              f"EMR step {step.name}: Pipelines follows EMR through an EventBridge rule it manages", step.name)
        a.note(PIPELINE, f"step {step.name}: S3 locations in an EMR step are read by the cluster's roles, not by "
                         "the pipeline role; no S3 permission was generated for them")

    def step_emrserverless(self, step: Step, args: dict[str, Any]) -> None:
        a = self.a
        app = args.get("ApplicationId")
        resolved = self.resolve_logged(PIPELINE, app) if app is not None else None
        app_id = resolved.text if resolved and resolved.exact else "*"
        a.add(PIPELINE, "EmrServerlessJobs", ("emr-serverless:CancelJobRun", "emr-serverless:GetJobRun",
                                              "emr-serverless:StartJobRun"),
              [a.arn("emr-serverless", f"/applications/{app_id}"),
               a.arn("emr-serverless", f"/applications/{app_id}/jobruns/*")],
              f"EMRServerless step {step.name} starts and follows a job run", step.name)

    def step_endpointconfig(self, step: Step, args: dict[str, Any]) -> None:
        a = self.a
        name = args.get("EndpointConfigName")
        resolved = self.resolve_logged(PIPELINE, name) if name is not None else None
        names = _lower_name(resolved.text) if resolved and resolved.exact else ["*"]
        a.add(PIPELINE, "SageMakerEndpointConfigs", ("sagemaker:AddTags", "sagemaker:CreateEndpointConfig",
                                                     "sagemaker:DescribeEndpointConfig"),
              [a.sm(f"endpoint-config/{n}") for n in names], f"EndpointConfig step {step.name}", step.name)
        for path, value in _walk(args, ()):
            if path and path[-1] == "KmsKeyId":
                resolved_key = self.resolve_logged(PIPELINE, value)
                if resolved_key is not None:
                    self.kms(PIPELINE, resolved_key.text, step)

    def step_endpoint(self, step: Step, args: dict[str, Any]) -> None:
        a = self.a
        resources: list[str] = []
        for key, rtype in (("EndpointName", "endpoint"), ("EndpointConfigName", "endpoint-config")):
            value = args.get(key)
            resolved = self.resolve_logged(PIPELINE, value) if value is not None else None
            names = _lower_name(resolved.text) if resolved and resolved.exact else ["*"]
            resources += [a.sm(f"{rtype}/{n}") for n in names]
        a.add(PIPELINE, "SageMakerEndpoints", ("sagemaker:AddTags", "sagemaker:CreateEndpoint",
                                               "sagemaker:DescribeEndpoint", "sagemaker:UpdateEndpoint"),
              resources, f"Endpoint step {step.name}: create the endpoint, or update it when it exists", step.name)

    # -- pipeline level --
    def experiments(self) -> None:
        a = self.a
        config = a.definition.experiment_config
        if config is None:
            return
        pipeline_name = a.spec.name if a.spec else None
        exp = self._experiment_name(config.experiment_name, pipeline_name)
        a.add(PIPELINE, "SageMakerExperiments", (
            "sagemaker:AddTags", "sagemaker:AssociateTrialComponent", "sagemaker:CreateExperiment",
            "sagemaker:CreateTrial", "sagemaker:DescribeExperiment", "sagemaker:DescribeTrial"),
            sorted({a.sm(f"experiment/{e}") for e in exp} | {a.sm("experiment-trial/*"),
                                                             a.sm("experiment-trial-component/*")}),
            "PipelineExperimentConfig: Pipelines records each run as a trial of an experiment and associates the "
            "jobs' trial components with it")

    def _experiment_name(self, value: Any, pipeline_name: str | None) -> list[str]:
        from airflow_sagemaker_mlops.definition.expressions import ExecutionVariable

        if isinstance(value, ExecutionVariable) and value.name == "PipelineName" and pipeline_name:
            return _lower_name(pipeline_name)
        resolved = self.resolve_logged(PIPELINE, value)
        if resolved is None:
            return ["*"]
        return _lower_name(resolved.text) if resolved.exact else [resolved.text.lower() + "*"]


def queue_arn(url: str, partition: str = "aws") -> str | None:
    """``https://sqs.<region>.amazonaws.com/<account>/<name>`` (and the legacy host form) -> queue ARN."""
    try:
        parsed = urlparse(url)
    except ValueError:
        return None
    host = parsed.hostname or ""
    parts = [p for p in parsed.path.split("/") if p]
    match = re.match(r"^(?:sqs\.)?([a-z0-9-]+)\.(?:queue\.)?amazonaws\.com(?:\.cn)?$", host)
    if parsed.scheme not in ("https", "http") or match is None or len(parts) != 2 or not parts[0].isdigit():
        return None
    region = match.group(1)
    if host.endswith(".cn") and partition == "aws":
        partition = "aws-cn"
    return f"arn:{partition}:sqs:{region}:{parts[0]}:{parts[1]}"


# ---- entry points ---------------------------------------------------------------------------------

def _unpack(group_or_compiled: Any) -> tuple[PipelineSpec, Any, list[Any], str | None]:
    """(spec, compiled or None, code assets, definition bucket) from a group, a compiled group or a spec."""
    compiled = group_or_compiled
    bucket = None
    if hasattr(group_or_compiled, "compile") and not isinstance(group_or_compiled, PipelineSpec):
        bucket = getattr(group_or_compiled, "definition_bucket", None)
        compiled = getattr(group_or_compiled, "compiled", None) or group_or_compiled.compile()  # frozen at close
    if isinstance(compiled, PipelineSpec):
        return compiled, None, [], bucket
    spec = getattr(compiled, "spec", None)
    if not isinstance(spec, PipelineSpec):
        raise TypeError(f"expected a SageMakerPipelineGroup, a CompiledPipeline or a PipelineSpec, "
                        f"got {type(group_or_compiled).__name__}")
    return spec, compiled, list(getattr(compiled, "code_assets", []) or []), bucket


def analyse(
    group_or_compiled: Any,
    *,
    region: str | None = None,
    account: str | None = None,
    parameter_values: dict[str, Any] | None = None,
    extra_s3_uris: dict[str, str] | None = None,
    definition_bucket: str | None = None,
) -> dict[str, PolicyReport]:
    """Every role's report: ``"pipeline"``, ``"airflow"`` and each step job role that is not the pipeline
    role (keyed by its ARN). See :func:`policy_report` for the arguments."""
    spec, _compiled, assets, group_bucket = _unpack(group_or_compiled)
    definition = spec.definition
    pipeline_role = RoleArn.parse(spec.role_arn)
    a = _Analysis(
        definition=definition,
        spec=spec,
        pipeline_role=pipeline_role,
        partition=pipeline_role.partition if pipeline_role else "aws",
        region=region or "*",
        account=account or (pipeline_role.account if pipeline_role else "*"),
        assumed=dict(parameter_values or {}),
    )
    if region is None:
        a.widen(PIPELINE, "no region given: SageMaker, logs and other regional ARNs use * for the region")
        a.widen(AIRFLOW, "no region given: the pipeline ARNs use * for the region")
    problems = role_problems(definition, spec.role_arn, expected_account=account, assumed=a.assumed)
    analyser = _Analyser(a)
    for step in definition.all_steps():
        analyser.step(step)
    analyser.pass_roles()
    analyser.experiments()
    for uri, mode in sorted((extra_s3_uris or {}).items()):
        resolved = Resolved(uri, False)
        loc = s3_location(resolved)
        if loc is None:
            raise ValueError(f"extra_s3_uris: {uri!r} is not an s3:// URI")
        analyser.grant_s3(PIPELINE, loc, mode, "given in extra_s3_uris", None)
    if spec.role_arn is None:
        a.note(PIPELINE, "the group has no role_arn: the pipeline role's ARN is unknown, so iam:PassRole in the "
                         "Airflow policy and the account in the ARNs use *")
    _airflow(a, spec, assets, definition_bucket or group_bucket)

    roles = sorted(set(a.grants) | {PIPELINE, AIRFLOW})
    reports: dict[str, PolicyReport] = {}
    for role in roles:
        document, statements = build_document(a.grants.get(role, []))
        arn = spec.role_arn if role == PIPELINE else (None if role == AIRFLOW else role)
        reports[role] = PolicyReport(
            role=role,
            role_arn=arn,
            document=document,
            statements=statements,
            widenings=sorted(a.widenings.get(role, [])),
            notes=sorted(a.notes.get(role, [])),
            problems=problems if role == PIPELINE else [],
            grants=list(a.grants.get(role, [])),
        )
    return reports


def _airflow(a: _Analysis, spec: PipelineSpec, assets: list[Any], definition_bucket: str | None) -> None:
    """The calls ``hooks/pipelines.py`` and the operators make (read them when this list changes)."""
    names = _lower_name(spec.name)
    pipelines = [a.sm(f"pipeline/{n}") for n in names]
    executions = [a.sm(f"pipeline/{n}/execution/*") for n in names]
    a.add(AIRFLOW, "PipelineUpsert", ("sagemaker:AddTags", "sagemaker:CreatePipeline", "sagemaker:DescribePipeline",
                                      "sagemaker:UpdatePipeline"), pipelines,
          "the start task upserts the pipeline: DescribePipeline, then CreatePipeline (tagged with the definition "
          "hash) or UpdatePipeline + AddTags only when the definition changed")
    a.add(AIRFLOW, "PipelineStart", ("sagemaker:StartPipelineExecution",), pipelines,
          "the start task starts an execution (idempotent through its ClientRequestToken)")
    a.add(AIRFLOW, "PipelineExecutions", ("sagemaker:DescribePipelineExecution",
                                          "sagemaker:ListPipelineExecutionSteps",
                                          "sagemaker:RetryPipelineExecution", "sagemaker:StopPipelineExecution"),
          executions, "step tasks, triggers and sensors poll the execution; stop_on_kill and the stop operator "
                      "stop it; the retry operator resumes it")
    a.add(AIRFLOW, "PipelineTab", ("sagemaker:DescribePipelineDefinitionForExecution",), executions,
          "the api-server's pipeline tab draws the definition the latest execution ran with (it also uses "
          "DescribePipeline, DescribePipelineExecution and ListPipelineExecutionSteps, granted above)")
    types = {s.type for s in spec.definition.all_steps()}
    for step_type, kind in STEP_KINDS.items():
        job = kind.resource
        if kind.described_outputs and job is not None and step_type in types:
            action = f"sagemaker:Describe{job.noun}"
            resource = f"{job.arn_type}/{job.iam_name_pattern}"
            a.add(AIRFLOW, f"StepOutputs{step_type}", (action,), [a.sm(resource)],
                  f"step tasks push the outputs of {step_type} steps to XCom (one Describe{job.noun} each)")
    if "Model" in types:
        a.add(AIRFLOW, "StepOutputsModel", ("sagemaker:DescribeModel",), [a.sm("model/*")],
              "CreateModel step tasks describe the model for their OpenLineage facets (model names are chosen "
              "at run time)")
    for step in spec.definition.all_steps():
        if step.type != "RegisterModel":
            continue
        group = step.arguments.get("ModelPackageGroupName") if isinstance(step.arguments, dict) else None
        names = _lower_name(group.split("/")[-1]) if isinstance(group, str) else ["*"]
        a.add(AIRFLOW, "StepOutputsRegisterModel", ("sagemaker:DescribeModelPackage",),
              [a.sm(f"model-package/{n}/*") for n in names],
              f"step task {step.name} describes the new model package version for its Airflow asset event and "
              "lineage", step.name)
    _airflow_step_observability(a, spec, types)
    callbacks = [s for s in spec.definition.all_steps() if s.type == "Callback"]
    if callbacks:
        a.add(AIRFLOW, "PipelineCallbacks", ("sagemaker:SendPipelineExecutionStepFailure",
                                             "sagemaker:SendPipelineExecutionStepSuccess"), executions,
              "SageMakerPipelineCallbackOperator answers the Callback steps "
              f"({', '.join(sorted(s.name for s in callbacks))})")
        analyser = _Analyser(a)
        for step in callbacks:
            for arn in analyser.queue_arns(AIRFLOW, step):
                a.add(AIRFLOW, "CallbackQueues", ("sqs:ChangeMessageVisibility", "sqs:DeleteMessage",
                                                  "sqs:ReceiveMessage"), [arn],
                      f"SageMakerPipelineCallbackOperator (read_queue=True) takes the message of Callback step "
                      f"{step.name} off its queue and gives other executions' messages back", step.name)
    if spec.role_arn is not None:
        a.add(AIRFLOW, "PassPipelineRole", ("iam:PassRole",), [spec.role_arn],
              "CreatePipeline and UpdatePipeline pass the pipeline role to SageMaker",
              conditions=[Condition("StringEquals", "iam:PassedToService", (SAGEMAKER_PRINCIPAL,))])
    else:
        a.note(AIRFLOW, "the group has no role_arn, so no iam:PassRole was generated; CreatePipeline will fail "
                        "until it has one")
    by_location: dict[tuple[str, str], list[str]] = {}
    for asset in assets:
        by_location.setdefault((asset.bucket, asset.prefix), []).append(asset.local_path)
    for (bucket, prefix), paths in sorted(by_location.items()):
        _airflow_s3(a, bucket, prefix + "/", "CodeAssets",
                    f"the start task uploads code assets ({len(paths)}) content-addressed under "
                    f"s3://{bucket}/{prefix}/ and skips those already there (HeadObject needs s3:GetObject, and "
                    "s3:ListBucket so a missing key is a 404, not a 403)")
    size = len(spec.definition.to_json().encode())
    if size >= S3_DEFINITION_THRESHOLD_BYTES:
        bucket = definition_bucket
        actions_extra: tuple[str, ...] = ()
        if bucket is None:
            bucket = f"sagemaker-{a.region}-{a.account}"
            actions_extra = ("s3:CreateBucket",)
            a.widen(AIRFLOW, f"the definition goes through the default bucket {bucket}, which the hook creates "
                             "when missing (set definition_bucket= on the group to use an existing bucket)")
        _airflow_s3(a, bucket, f"{DEFINITION_PREFIX}/{spec.name}/", "LargeDefinitions",
                    f"the definition is {size // 1024} KiB, over the {S3_DEFINITION_THRESHOLD_BYTES // 1024} KiB "
                    "threshold: the hook uploads it and passes PipelineDefinitionS3Location")
        if actions_extra:
            a.add(AIRFLOW, "LargeDefinitionsBucket", (*actions_extra, "s3:ListBucket"),
                  [f"arn:{a.partition}:s3:::{bucket}"], "HeadBucket, and CreateBucket when the bucket is missing")


def _airflow_step_observability(a: _Analysis, spec: PipelineSpec, types: set[str]) -> None:
    """What step tasks read besides the step's status (``operators/observability.py``, group ``job_logs``):
    the job log, a tuning step's best training job, the property files."""
    groups = sorted({g for t, g in (("Training", "TrainingJobs"), ("Tuning", "TrainingJobs"),
                                    ("Processing", "ProcessingJobs"), ("Transform", "TransformJobs")) if t in types})
    if groups:
        arns = [a.arn("logs", f"log-group:/aws/sagemaker/{g}") for g in groups]
        a.add(AIRFLOW, "StepJobLogs", ("logs:DescribeLogStreams", "logs:GetLogEvents"),
              [*arns, *(arn + ":log-stream:*" for arn in arns)],
              "step tasks show their job's log (CloudWatch Logs) while it runs and its tail when it fails")
    if "Tuning" in types:
        a.add(AIRFLOW, "StepMetricsTuning", ("sagemaker:DescribeTrainingJob",), [a.sm("training-job/*")],
              "a tuning step's task reads the metrics of the best training job (named after the tuning job)")
    analyser = _Analyser(a)
    for step in spec.definition.all_steps():
        for prop_file in step.property_files:
            for name, loc in analyser.write_locations(step):
                if name != prop_file.output_name:
                    continue
                a.add(AIRFLOW, "StepPropertyFiles", ("s3:GetObject",), [property_file_arn(a, loc, prop_file.path)],
                      f"the task of step {step.name} reads its property file {prop_file.name} into XCom", step.name)


def property_file_arn(a: _Analysis, loc: S3Location, path: str) -> str:
    """The object ARN of a property file at ``path`` in an output written to ``loc``."""
    path = path.lstrip("/")
    if not loc.exact:
        # Only the output's leading part is known (e.g. it ends in the execution id): the file is somewhere
        # below it.
        key = f"{loc.key_prefix}*/{path}"
    else:
        key = loc.key_prefix.rstrip("/") + "/" + path if loc.key_prefix else path
    return f"arn:{a.partition}:s3:::{loc.bucket}{'*' if loc.bucket_pattern else ''}/{key}"


def _airflow_s3(a: _Analysis, bucket: str, prefix: str, sid: str, reason: str) -> None:
    a.add(AIRFLOW, sid, ("s3:GetObject", "s3:PutObject"), [f"arn:{a.partition}:s3:::{bucket}/{prefix}*"], reason)
    a.add(AIRFLOW, f"{sid}List", ("s3:ListBucket",), [f"arn:{a.partition}:s3:::{bucket}"], reason, None,
          [Condition("StringLike", "s3:prefix", (f"{prefix}*",))])


def _role_key(report_roles: dict[str, PolicyReport], role: str, spec_role: str | None) -> str:
    if role in (PIPELINE, AIRFLOW):
        return role
    if spec_role is not None and role == spec_role:
        return PIPELINE
    if role in report_roles:
        return role
    known = ", ".join(r for r in report_roles if r not in (PIPELINE, AIRFLOW)) or "none"
    raise ValueError(f"role must be 'pipeline', 'airflow' or the ARN of a step role of this pipeline "
                     f"(step roles: {known}); got {role!r}")


def policy_report(
    group_or_compiled: Any,
    role: str,
    *,
    region: str | None = None,
    account: str | None = None,
    parameter_values: dict[str, Any] | None = None,
    extra_s3_uris: dict[str, str] | None = None,
    definition_bucket: str | None = None,
) -> PolicyReport:
    """The policy for one role of a pipeline, with its explanation.

    :param group_or_compiled: a ``SageMakerPipelineGroup`` (compiled here), a ``CompiledPipeline`` or a
        ``PipelineSpec``.
    :param role: ``"pipeline"`` (the pipeline execution role, including the job permissions of every step
        that runs as it), ``"airflow"`` (the role Airflow's AWS connection uses), or the ARN of a step's job
        role that differs from the pipeline role.
    :param region: the pipeline's region; None puts ``*`` in regional ARNs (explained as a widening).
    :param account: the pipeline's account; None takes the pipeline role's account. Given, it is also
        checked against the pipeline role's account.
    :param parameter_values: values to assume for parameters instead of their defaults (for example the
        production input location), and for parameters that have no default.
    :param extra_s3_uris: ``{"s3://bucket/prefix/": "read" | "write" | "readwrite"}`` added to the pipeline
        role, for locations the definition only knows at run time.
    :param definition_bucket: the group's ``definition_bucket`` (taken from the group when one is given).
    """
    reports = analyse(group_or_compiled, region=region, account=account, parameter_values=parameter_values,
                      extra_s3_uris=extra_s3_uris, definition_bucket=definition_bucket)
    spec_role = reports[PIPELINE].role_arn
    return reports[_role_key(reports, role, spec_role)]


def policy_for_group(group_or_compiled: Any, role: str, **options: Any) -> dict[str, Any]:
    """The IAM policy document (a dict ready for ``json.dumps``) for ``role``; see :func:`policy_report`."""
    return policy_report(group_or_compiled, role, **options).document


def explain(report: PolicyReport) -> str:
    """A plain-text explanation: every statement with its reasons, then widenings, notes and problems."""
    who = {PIPELINE: "the pipeline execution role", AIRFLOW: "the Airflow (MWAA) execution role"}.get(
        report.role, "step job role")
    lines = [f"Policy for {who}" + (f" ({report.role_arn})" if report.role_arn else "")]
    for statement in report.statements:
        actions = statement.statement["Action"]
        lines.append("")
        lines.append(f"{statement.sid}: {', '.join(actions)}")
        for reason in statement.reasons:
            lines.append(f"  - {reason}")
    for title, items in (("Widenings (the policy allows more than the literal values)", report.widenings),
                         ("Notes", report.notes),
                         ("Role checks", [f"{p.severity}: {p}" for p in report.problems])):
        if items:
            lines.append("")
            lines.append(title + ":")
            lines.extend(f"  - {item}" for item in items)
    return "\n".join(lines) + "\n"


def explain_group(group_or_compiled: Any, role: str, **options: Any) -> str:
    """:func:`explain` of :func:`policy_report`: what the CLI prints with ``--explain``."""
    return explain(policy_report(group_or_compiled, role, **options))
