"""The pipeline execution role's statements, and those of the step job roles.

SageMaker Pipelines uses the pipeline role to start each step's job or call, to pass roles to those jobs and
to read property files; a job runs as its own role (``RoleArn``), usually the pipeline role. Per step type,
:data:`STEP_RULES` says what to grant: the step types whose registry entry (``definition/step_kinds.py``)
names a resource with IAM actions get :func:`job_step` (start, watch and stop the job, plus what the job
does as its role); the others have a rule of their own here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from airflow_sagemaker_mlops.definition.expressions import (
    ExecutionVariable,
    Expression,
    JsonGet,
    StepProperty,
    iter_expressions,
)
from airflow_sagemaker_mlops.definition.step_kinds import PROCESSING_JOB, STEP_KINDS, TRAINING_JOB, TRANSFORM_JOB
from airflow_sagemaker_mlops.definition.steps import ConditionStep, Step

from .analysis import PIPELINE, READ_WRITE_KEYS, WRITE_KEYS, Analysis, arguments, lower_name, step_kind, walk
from .document import Condition
from .roles import RoleArn, step_roles
from .values import Resolved, S3Location, s3_location

_AUTOML_V2 = ("sagemaker:CreateAutoMLJobV2", "sagemaker:DescribeAutoMLJobV2", "sagemaker:StopAutoMLJob",
              "sagemaker:AddTags")

_SERVICE_SIDS = {"sagemaker.amazonaws.com": "SageMaker", "elasticmapreduce.amazonaws.com": "Emr",
                 "emr-serverless.amazonaws.com": "EmrServerless"}

_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repo>[a-z0-9][a-z0-9._/-]*?)(?::[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})?$"
)
_KMS_KEYS = ("KmsKeyId", "VolumeKmsKeyId")

#: A step type's rule: the grants for one step of that type (``args``: its Arguments, a dict).
Rule = Callable[[Analysis, Step, dict[str, Any]], None]


# ---- S3 -------------------------------------------------------------------------------------------

def _s3_actions(mode: str) -> tuple[str, ...]:
    if mode == "read":
        return ("s3:GetObject",)
    if mode == "write":
        return ("s3:AbortMultipartUpload", "s3:PutObject")
    return ("s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject")


def grant_s3(a: Analysis, role: str, loc: S3Location, mode: str, reason: str, step: str | None, *,
             listing: bool = True) -> None:
    """Objects under ``loc`` for ``mode`` (read, write, readwrite), and listing them when read."""
    bucket = loc.bucket + ("*" if loc.bucket_pattern else "")
    # Even an exact URI gets a trailing *: SageMaker treats S3Uri values as key prefixes (S3Prefix inputs,
    # output paths under which each job writes its own keys).
    a.add(role, {"read": "S3Read", "write": "S3Write", "readwrite": "S3ReadWrite"}[mode], _s3_actions(mode),
          [a.s3(bucket, f"{loc.key_prefix}*")], f"{reason}: {loc.display}", step)
    if listing and mode in ("read", "readwrite"):
        # Listing is needed for S3Prefix inputs; the condition keeps it to the same prefix.
        a.add(role, f"S3ListBucket{bucket}", ("s3:ListBucket",), [a.s3(bucket)], f"{reason}: list {loc.display}",
              step, [Condition("StringLike", "s3:prefix", (f"{loc.key_prefix}*",))])


def _s3_value(a: Analysis, role: str, value: Any, mode: str, reason: str, step: Step, *,
              listing: bool = True) -> None:
    if isinstance(value, StepProperty):
        _property_s3(a, role, value, reason, step)
        return
    resolved = a.resolve_logged(role, value)
    if resolved is None:
        if isinstance(value, Expression):
            a.note(role, f"step {step.name}: {reason} is only known at run time; no S3 permission was "
                         "generated for it (pass extra_s3_uris= to add one)")
        return
    loc = s3_location(resolved)
    if loc is not None:
        grant_s3(a, role, loc, mode, reason, step.name, listing=listing)


def _property_s3(a: Analysis, role: str, prop: StepProperty, reason: str, step: Step) -> None:
    """An S3 URI another step produced: covered by that step's output locations."""
    locations = a.producer_outputs(prop)
    if not locations:
        a.note(role, f"{reason}: the value is {prop.step_name}.{prop.path_text}, whose S3 location is not "
                     "known before the run; no S3 permission was generated for it (pass extra_s3_uris= to "
                     "add one)")
        return
    for loc in locations:
        a.widen(role, f"step {step.name} reads {prop.step_name}.{prop.path_text}: covered by the output "
                      f"location of step {prop.step_name}, {loc.display}")
        grant_s3(a, role, loc, "read", f"{reason} (output of step {prop.step_name})", step.name)


def _json_get_reads(a: Analysis, step: Step) -> None:
    """Property files and JsonGet S3 URIs are read by Pipelines itself, as the pipeline role."""
    values = list(step.values())
    if isinstance(step, ConditionStep):
        values = [op for cond in step.conditions for c in cond.conditions() for op in c.operands()]
    for value in values:
        for expr in iter_expressions(value):
            if not isinstance(expr, JsonGet):
                continue
            if expr.property_file is not None:
                _property_file_read(a, step, expr)
            else:
                _s3_value(a, PIPELINE, expr.s3_uri, "read", "JsonGet reads a JSON file", step, listing=False)


def _property_file_read(a: Analysis, step: Step, expr: JsonGet) -> None:
    ref = expr.property_file
    assert ref is not None
    producer = a.steps.get(ref.step_name)
    declared = {f.name: f for f in (producer.property_files if producer else [])}
    prop_file = declared.get(ref.name)
    if producer is None or prop_file is None:
        return
    locations = [loc for name, loc in a.write_locations(producer) if name == prop_file.output_name]
    if not locations:
        a.note(PIPELINE, f"step {step.name}: property file {ref.name} of step {producer.name} is in an output "
                         "whose S3 location is not known before the run; no S3 permission was generated")
    for loc in locations:
        a.add(PIPELINE, "PropertyFiles", ("s3:GetObject",), [a.property_file_arn(loc, prop_file.path)],
              f"step {step.name} reads property file {ref.name} ({prop_file.path} in output "
              f"{prop_file.output_name} of step {producer.name})", step.name)


# ---- what a job does as its role ------------------------------------------------------------------

def job_permissions(a: Analysis, step: Step) -> None:
    """What the job itself does as its role: S3 in and out, image pulls, logs, metrics, VPC, KMS."""
    role = a.runner(step)
    a.runners[step.name] = role
    args = arguments(step)
    images = False
    for path, value in walk(args):
        if path and path[-1] in ("RoleArn", "ExecutionRoleArn"):
            continue
        if isinstance(value, StepProperty):
            _job_property(a, role, step, path, value)
        else:
            images = _job_value(a, role, step, path, value) or images
    if images:
        a.add(role, "EcrAuthorization", ("ecr:GetAuthorizationToken",), ["*"],
              "pulling from ECR needs an authorization token, which IAM cannot scope to a repository", step.name)
    if step.type != "Model":  # the model's role acts when the model is used (transform, endpoint), covered there
        _job_runtime(a, role, step, args)


def _looks_like_s3_property(prop: StepProperty) -> bool:
    last = prop.path[-1] if prop.path else ""
    return isinstance(last, str) and (last in ("S3Uri", "S3ModelArtifacts", "S3OutputPath") or last.endswith("S3Uri"))


def _job_property(a: Analysis, role: str, step: Step, path: tuple[str, ...], value: StepProperty) -> None:
    s3_field = bool(path) and path[-1] in ("S3Uri", "S3OutputPath", "ModelDataUrl")
    if set(path) & WRITE_KEYS or not (s3_field or _looks_like_s3_property(value)):
        return
    _property_s3(a, role, value, f"{step.type} step {step.name} reads {'.'.join(path)}", step)


def _job_value(a: Analysis, role: str, step: Step, path: tuple[str, ...], value: Any) -> bool:
    """Grants for one literal-ish argument value; True when it is an ECR image."""
    resolved = a.resolve(value)  # widenings are logged below, only for values that get a permission
    if resolved is None:
        if isinstance(value, Expression) and path and path[-1] in ("S3Uri", "S3OutputPath", "S3DataSource"):
            a.note(role, f"step {step.name}: {'.'.join(path)} is only known at run time; no S3 "
                         "permission was generated for it (pass extra_s3_uris= to add one)")
        return False
    loc = s3_location(resolved)
    if loc is not None:
        a.log_widenings(role, resolved)
        keys = set(path)
        mode = ("readwrite" if keys & READ_WRITE_KEYS else "write" if keys & WRITE_KEYS else "read")
        verb = {"read": "reads", "write": "writes", "readwrite": "reads and writes"}[mode]
        grant_s3(a, role, loc, mode, f"{step.type} step {step.name} {verb} {'.'.join(path)}", step.name)
        return False
    if _ecr_image(a, role, step, resolved):
        return True
    if path and path[-1] in _KMS_KEYS:
        a.log_widenings(role, resolved)
        _kms(a, role, resolved.text, step)
    return False


def _ecr_image(a: Analysis, role: str, step: Step, resolved: Resolved) -> bool:
    match = _ECR_IMAGE.match(resolved.text) if isinstance(resolved.text, str) else None
    if match is None:
        return False
    a.log_widenings(role, resolved)
    repo = a.arn("ecr", f"repository/{match['repo']}", region=match["region"], account=match["account"])
    a.add(role, "EcrPullImages", ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                                  "ecr:GetDownloadUrlForLayer"), [repo],
          f"{step.type} step {step.name} runs image {resolved.text}", step.name)
    return True


def _job_runtime(a: Analysis, role: str, step: Step, args: dict[str, Any]) -> None:
    """A running job's logs, metrics and (in a VPC) network interfaces."""
    log_groups = a.arn("logs", "log-group:/aws/sagemaker/*")
    a.add(role, "CloudWatchLogs", ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams",
                                   "logs:PutLogEvents"), [log_groups, log_groups + ":log-stream:*"],
          f"{step.type} step {step.name}: the job writes its logs to /aws/sagemaker/*", step.name)
    a.add(role, "CloudWatchMetrics", ("cloudwatch:PutMetricData",), ["*"],
          f"{step.type} step {step.name}: the job publishes metrics (PutMetricData has no resource; the "
          "condition keeps it to SageMaker's namespaces)", step.name,
          [Condition("StringLike", "cloudwatch:namespace", ("/aws/sagemaker/*",))])
    if any("VpcConfig" in path for path, _ in walk(args)):
        a.add(role, "VpcNetworkInterfaces", (
            "ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
            "ec2:DeleteNetworkInterfacePermission", "ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"), ["*"],
            f"{step.type} step {step.name} runs in a VPC: SageMaker creates network interfaces in it "
            "(these EC2 actions take no resource-level scoping)", step.name)


def _kms(a: Analysis, role: str, key: str, step: Step) -> None:
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


# ---- the step rules -------------------------------------------------------------------------------

def job_step(a: Analysis, step: Step, args: dict[str, Any]) -> None:
    """A step that starts a SageMaker job: the registry's actions on its jobs, and the job's own permissions."""
    job = step_kind(step.type).resource
    assert job is not None
    actions = job.iam_actions
    if step.type == "AutoML" and "AutoMLProblemTypeConfig" in args:
        actions = _AUTOML_V2
    a.add(PIPELINE, job.iam_sid or "", actions, [a.sm(f"{job.arn_type}/{job.iam_name_pattern}")],
          f"{step.type} step {step.name}: start, watch and stop its job (Pipelines tags every job it starts)",
          step.name)
    job_permissions(a, step)


def _automl_candidates(a: Analysis, step: Step, args: dict[str, Any]) -> None:
    role = a.runners.get(step.name, PIPELINE)
    a.note(role, f"step {step.name}: Autopilot starts processing, training and transform jobs as the AutoML "
                 "role; the generated statements cover them, but AWS documents broader Autopilot "
                 "permissions: check them with enforcement before relying on this policy")
    for job in (PROCESSING_JOB, TRAINING_JOB, TRANSFORM_JOB):
        a.add(role, f"AutoML{job.iam_sid}", job.iam_actions, [a.sm(f"{job.arn_type}/*")],
              f"AutoML step {step.name}: Autopilot runs its candidates as this role", step.name)


def _baseline_registry(a: Analysis, step: Step, args: dict[str, Any]) -> None:
    """A QualityCheck step with a model package group looks up the latest approved baseline in it."""
    group = step.extra.get("ModelPackageGroupName")
    if not group:
        return
    resolved = a.resolve_logged(PIPELINE, group)
    names = lower_name(resolved.text) if resolved else ["*"]
    a.add(PIPELINE, "ModelRegistryRead", ("sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"),
          sorted({a.sm(f"model-package/{n}/*") for n in names} | {a.sm(f"model-package-group/{n}")
                                                                  for n in names}),
          f"{step.type} step {step.name} looks up the latest approved baseline in model package group "
          f"{resolved.text if resolved else '(run-time value)'}", step.name)


def _model(a: Analysis, step: Step, args: dict[str, Any]) -> None:
    name = a.resolve_logged(PIPELINE, args.get("ModelName")) if args.get("ModelName") else None
    resources = [a.sm(f"model/{n}") for n in lower_name(name.text)] if name and name.exact else [a.sm("model/*")]
    a.add(PIPELINE, "SageMakerModels", ("sagemaker:AddTags", "sagemaker:CreateModel", "sagemaker:DescribeModel"),
          resources, f"Model step {step.name}: create the model", step.name)
    job_permissions(a, step)


def _register_model(a: Analysis, step: Step, args: dict[str, Any]) -> None:
    group = args.get("ModelPackageGroupName")
    resolved = a.resolve_logged(PIPELINE, group) if group is not None else None
    if resolved is not None and resolved.text.startswith("arn:"):
        # A registry in another account: Pipelines registers into it but does not create it.
        group_arn = resolved.text
        package_arn = group_arn.replace(":model-package-group/", ":model-package/") + "/*"
        a.add(PIPELINE, "ModelRegistry", ("sagemaker:AddTags", "sagemaker:CreateModelPackage",
                                          "sagemaker:DescribeModelPackage"), [group_arn, package_arn],
              f"RegisterModel step {step.name}: register a model version in {group_arn}", step.name)
        return
    names = lower_name(resolved.text) if resolved is not None and resolved.exact else None
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


def _callback(a: Analysis, step: Step, args: dict[str, Any]) -> None:
    for arn in a.queue_arns(PIPELINE, step):
        a.add(PIPELINE, "CallbackQueues", ("sqs:SendMessage",), [arn],
              f"Callback step {step.name} sends its token and inputs to the queue", step.name)


def _lambda(a: Analysis, step: Step, args: dict[str, Any]) -> None:
    value = step.extra.get("FunctionArn")
    resolved = a.resolve_logged(PIPELINE, value) if value is not None else None
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


def _emr(a: Analysis, step: Step, args: dict[str, Any]) -> None:
    cluster = args.get("ClusterId")
    resolved = a.resolve_logged(PIPELINE, cluster) if cluster is not None else None
    cluster_arn = a.arn("elasticmapreduce", f"cluster/{resolved.text if resolved and resolved.exact else '*'}")
    rules = ["SageMakerPipelineExecutionEMRStepStatusUpdateRule"]
    if cluster is None:
        # A ClusterConfig: Pipelines creates the cluster for the step and terminates it afterwards.
        rules.append("SageMakerPipelineExecutionEMRClusterStatusUpdateRule")
        a.add(PIPELINE, "EmrClusters", ("elasticmapreduce:DescribeCluster", "elasticmapreduce:RunJobFlow",
                                        "elasticmapreduce:TerminateJobFlows"), ["*"],
              f"EMR step {step.name} runs on a cluster Pipelines creates (RunJobFlow takes no resource)", step.name)
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


def _emr_serverless(a: Analysis, step: Step, args: dict[str, Any]) -> None:
    app = args.get("ApplicationId")
    resolved = a.resolve_logged(PIPELINE, app) if app is not None else None
    app_id = resolved.text if resolved and resolved.exact else "*"
    a.add(PIPELINE, "EmrServerlessJobs", ("emr-serverless:CancelJobRun", "emr-serverless:GetJobRun",
                                          "emr-serverless:StartJobRun"),
          [a.arn("emr-serverless", f"/applications/{app_id}"),
           a.arn("emr-serverless", f"/applications/{app_id}/jobruns/*")],
          f"EMRServerless step {step.name} starts and follows a job run", step.name)


def _literal_names(a: Analysis, value: Any) -> list[str]:
    """The resource names a literal value stands for (both cases), or ``*`` when it is not a literal."""
    resolved = a.resolve_logged(PIPELINE, value) if value is not None else None
    return lower_name(resolved.text) if resolved and resolved.exact else ["*"]


def _endpoint_config(a: Analysis, step: Step, args: dict[str, Any]) -> None:
    names = _literal_names(a, args.get("EndpointConfigName"))
    a.add(PIPELINE, "SageMakerEndpointConfigs", ("sagemaker:AddTags", "sagemaker:CreateEndpointConfig",
                                                 "sagemaker:DescribeEndpointConfig"),
          [a.sm(f"endpoint-config/{n}") for n in names], f"EndpointConfig step {step.name}", step.name)
    for path, value in walk(args):
        if path and path[-1] == "KmsKeyId":
            resolved_key = a.resolve_logged(PIPELINE, value)
            if resolved_key is not None:
                _kms(a, PIPELINE, resolved_key.text, step)


def _endpoint(a: Analysis, step: Step, args: dict[str, Any]) -> None:
    resources: list[str] = []
    for key, rtype in (("EndpointName", "endpoint"), ("EndpointConfigName", "endpoint-config")):
        resources += [a.sm(f"{rtype}/{n}") for n in _literal_names(a, args.get(key))]
    a.add(PIPELINE, "SageMakerEndpoints", ("sagemaker:AddTags", "sagemaker:CreateEndpoint",
                                           "sagemaker:DescribeEndpoint", "sagemaker:UpdateEndpoint"),
          resources, f"Endpoint step {step.name}: create the endpoint, or update it when it exists", step.name)


#: Step type -> its rules, in order. Keyed by the registry: every type whose resource has IAM actions runs
#: :func:`job_step`; a type missing here that needs permissions gets a note (add its rule here).
STEP_RULES: dict[str, tuple[Rule, ...]] = {
    **{t: (job_step,) for t, k in STEP_KINDS.items() if k.resource is not None and k.resource.iam_sid},
    "AutoML": (job_step, _automl_candidates),
    "QualityCheck": (job_step, _baseline_registry),
    "Model": (_model,),
    "RegisterModel": (_register_model,),
    "Callback": (_callback,),
    "Lambda": (_lambda,),
    "EMR": (_emr,),
    "EMRServerless": (_emr_serverless,),
    "EndpointConfig": (_endpoint_config,),
    "Endpoint": (_endpoint,),
}


def step_statements(a: Analysis, step: Step) -> None:
    """Everything one step needs from the pipeline role (and from its job role)."""
    _json_get_reads(a, step)
    if not step_kind(step.type).needs_permissions:
        return
    rules = STEP_RULES.get(step.type)
    if rules is None:
        a.note(PIPELINE, f"step {step.name}: no IAM mapping for step type {step.type} yet; add its permissions "
                         "by hand")
        return
    for rule in rules:
        rule(a, step, arguments(step))


# ---- pipeline level -------------------------------------------------------------------------------

def _pass_roles(a: Analysis) -> None:
    for role in step_roles(a.definition, a.assumed):
        if role.arn is None or RoleArn.parse(role.arn) is None:
            a.note(PIPELINE, f"step {role.step}: the role in {role.field} is not known before the run; no "
                             "iam:PassRole was generated for it")
            continue
        if role.parameter:
            a.widen(PIPELINE, f"iam:PassRole on {role.arn}: the default of parameter {role.parameter} "
                              f"(step {role.step}, {role.field}); passing another role at run time will be denied")
        a.add(PIPELINE, f"PassRoleTo{_SERVICE_SIDS.get(role.service, role.service.split('.')[0])}",
              ("iam:PassRole",), [role.arn],
              f"step {role.step} passes {role.arn} ({role.field}) to {role.service}", role.step,
              [Condition("StringEquals", "iam:PassedToService", (role.service,))])
        if role.arn != (a.pipeline_role.arn if a.pipeline_role else None):
            a.note(PIPELINE, f"step {role.step} runs as {role.arn}, not the pipeline role: generate that "
                             f"role's policy with role={role.arn!r}")


def _experiments(a: Analysis) -> None:
    config = a.definition.experiment_config
    if config is None:
        return
    exp = _experiment_names(a, config.experiment_name, a.spec.name if a.spec else None)
    a.add(PIPELINE, "SageMakerExperiments", (
        "sagemaker:AddTags", "sagemaker:AssociateTrialComponent", "sagemaker:CreateExperiment",
        "sagemaker:CreateTrial", "sagemaker:DescribeExperiment", "sagemaker:DescribeTrial"),
        sorted({a.sm(f"experiment/{e}") for e in exp} | {a.sm("experiment-trial/*"),
                                                         a.sm("experiment-trial-component/*")}),
        "PipelineExperimentConfig: Pipelines records each run as a trial of an experiment and associates the "
        "jobs' trial components with it")


def _experiment_names(a: Analysis, value: Any, pipeline_name: str | None) -> list[str]:
    if isinstance(value, ExecutionVariable) and value.name == "PipelineName" and pipeline_name:
        return lower_name(pipeline_name)
    resolved = a.resolve_logged(PIPELINE, value)
    if resolved is None:
        return ["*"]
    return lower_name(resolved.text) if resolved.exact else [resolved.text.lower() + "*"]


def _extra_s3(a: Analysis, extra_s3_uris: dict[str, str]) -> None:
    for uri, mode in sorted(extra_s3_uris.items()):
        loc = s3_location(Resolved(uri, False))
        if loc is None:
            raise ValueError(f"extra_s3_uris: {uri!r} is not an s3:// URI")
        grant_s3(a, PIPELINE, loc, mode, "given in extra_s3_uris", None)


def pipeline_statements(a: Analysis, extra_s3_uris: dict[str, str] | None = None) -> None:
    """The pipeline role's (and the step job roles') grants: every step, the roles passed, the experiment,
    the S3 locations given by hand."""
    for step in a.definition.all_steps():
        step_statements(a, step)
    _pass_roles(a)
    _experiments(a)
    _extra_s3(a, extra_s3_uris or {})
    if a.spec is not None and a.spec.role_arn is None:
        a.note(PIPELINE, "the group has no role_arn: the pipeline role's ARN is unknown, so iam:PassRole in the "
                         "Airflow policy and the account in the ARNs use *")
