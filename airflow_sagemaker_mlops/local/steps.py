"""Step runners: what one attempt of each step type does.

Engine-native: Condition, Fail, Callback, Lambda, Model, RegisterModel. Processing, Training, Transform
and Tuning hand the resolved request to the job runners of ``local.jobs``. Any other type fails with a
FailureReason saying the local engine cannot run it.

Every runner is ``run_x(ctx: StepContext) -> StepOutcome``: it gets what the step needs (``local/context.py``),
never the engine, and reports what happened in the outcome the scheduler records.
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import re
import subprocess
import textwrap
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_sagemaker_mlops.definition.step_kinds import (
    LOCAL_JOB_TYPES,
    LOCAL_STEP_TYPES,
    RESOURCES_BY_NOUN,
    STEP_KINDS,
)

from . import experiments
from .context import StepContext
from .errors import AccessDeniedError
from .expressions import ExpressionError, to_text
from .faults import CAPACITY_ERROR, JOB_INTERNAL_ERROR, RESOURCE_LIMIT, SERVICE_FAULT, THROTTLING
from .state import FAILED, PENDING, STOPPED, SUCCEEDED, StepOutcome, StepRecord

log = logging.getLogger(__name__)

def _job(step_type: str) -> tuple[str, str, str, str]:
    """(resource noun as in Describe<noun>, metadata key, name field, ARN field) of a job step type."""
    kind = STEP_KINDS[step_type]
    job = kind.resource
    return job.noun, kind.metadata_key, job.name_field, job.arn_field


def _status_field(noun: str) -> str:
    return RESOURCES_BY_NOUN[noun].status_field


def run_step(ctx: StepContext) -> StepOutcome:
    """One attempt of the step ``ctx`` describes, by the runner of its type."""
    runner = RUNNERS.get(ctx.spec.type)
    if runner is None:
        if ctx.spec.type in LOCAL_JOB_TYPES:
            return run_job(ctx)
        return StepOutcome.failed(
            f"ClientError: the local SageMaker engine cannot run steps of type {ctx.spec.type} "
            f"(step {ctx.name}); it runs {', '.join(LOCAL_STEP_TYPES)}."
        )
    return runner(ctx)


# ---- Condition / Fail ---------------------------------------------------------------------------


def run_condition(ctx: StepContext) -> StepOutcome:
    conditions = ctx.spec.arguments.get("Conditions") or []
    outcome = ctx.resolver.evaluate_all(conditions)
    text = "True" if outcome else "False"
    return StepOutcome(
        status=SUCCEEDED,
        properties={"Outcome": outcome},
        metadata={"Condition": {"Outcome": text}},
        outcome=outcome,
    )


def run_fail(ctx: StepContext) -> StepOutcome:
    message = to_text(ctx.resolve(ctx.spec.arguments.get("ErrorMessage", "")))
    return StepOutcome.failed(message, metadata={"Fail": {"ErrorMessage": message}})


# ---- Callback -----------------------------------------------------------------------------------


def run_callback(ctx: StepContext) -> StepOutcome:
    arguments = ctx.arguments()
    queue_url = to_text(ctx.resolve(ctx.spec.raw.get("SqsQueueUrl", "")))
    if not queue_url:
        return StepOutcome.failed("ClientError: Callback step has no SqsQueueUrl")
    token = ctx.register_callback()
    metadata = {"Callback": {"CallbackToken": token, "SqsQueueUrl": queue_url}}
    ctx.publish_metadata(metadata)
    message = {
        "token": token, "pipelineExecutionArn": ctx.execution.arn, "arguments": arguments, "status": "Executing"
    }
    try:
        from ..iam.values import queue_arn

        ctx.as_pipeline_role("sqs:SendMessage", queue_arn(queue_url) or queue_url)
        ctx.client("sqs").send_message(QueueUrl=queue_url, MessageBody=json.dumps(message))
    except Exception as exc:
        ctx.withdraw_callback(token)
        return StepOutcome.failed(
            f"ClientError: cannot send the callback message to {queue_url}: {exc}", metadata=metadata
        )
    return StepOutcome(status=PENDING, metadata=metadata)


def _typed_output(value: Any, otype: str) -> Any:
    try:
        if otype == "Integer":
            return int(value)
        if otype == "Float":
            return float(value)
        if otype == "Boolean":
            return str(value).strip().lower() == "true" if not isinstance(value, bool) else value
    except (TypeError, ValueError):
        return value
    return value if isinstance(value, str) else to_text(value)


def _outputs(record: StepRecord, given: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    declared = {
        o.get("OutputName"): o.get("OutputType", "String")
        for o in record.spec.raw.get("OutputParameters") or []
    }
    typed = {name: _typed_output(value, declared.get(name, "String")) for name, value in given.items()}
    listed = [{"Name": name, "Value": to_text(value)} for name, value in typed.items()]
    return typed, listed


def callback_success(record: StepRecord, output_parameters: list[dict[str, Any]]) -> StepOutcome:
    typed, listed = _outputs(record, {p["Name"]: p.get("Value") for p in output_parameters})
    metadata = {"Callback": {**record.metadata.get("Callback", {}), "OutputParameters": listed}}
    return StepOutcome(status=SUCCEEDED, properties={"OutputParameters": typed}, metadata=metadata)


# ---- Lambda -------------------------------------------------------------------------------------


def run_lambda(ctx: StepContext) -> StepOutcome:
    arn = to_text(ctx.resolve(ctx.spec.raw.get("FunctionArn", "")))
    event = ctx.arguments()
    metadata: dict[str, Any] = {"Lambda": {"Arn": arn}}
    handler = _lambda_handler(ctx.config.lambda_handlers, arn)
    work_dir = ctx.work_dir()
    try:
        ctx.as_pipeline_role("lambda:InvokeFunction", arn)
        if handler is not None:
            result = handler(event, None)
        else:
            result = _run_moto_lambda(ctx, arn, event, work_dir)
    except (_LambdaMissing, AccessDeniedError) as exc:
        return StepOutcome.failed(str(exc), metadata=metadata)
    except Exception as exc:
        return StepOutcome.failed(
            f"ClientError: Lambda function {arn} failed: {type(exc).__name__}: {exc}", metadata=metadata
        )
    if not isinstance(result, dict):
        return StepOutcome.failed(
            f"ClientError: Lambda function {arn} must return a JSON object, got {type(result).__name__}",
            metadata=metadata,
        )
    declared = [o.get("OutputName") for o in ctx.spec.raw.get("OutputParameters") or []]
    missing = [name for name in declared if name not in result]
    if missing:
        return StepOutcome.failed(
            f"ClientError: Lambda function {arn} returned no value for output(s) {', '.join(missing)}",
            metadata=metadata,
        )
    typed, listed = _outputs(ctx.record, {name: result[name] for name in declared})
    metadata["Lambda"]["OutputParameters"] = listed
    return StepOutcome(status=SUCCEEDED, properties={"OutputParameters": typed}, metadata=metadata)


class _LambdaMissing(Exception):
    pass


def _lambda_handler(handlers: dict[str, Any], arn: str) -> Callable[[Any, Any], Any] | None:
    name = arn.split(":function:", 1)[-1].split(":", 1)[0] if ":function:" in arn else arn
    target = handlers.get(arn) or handlers.get(name)
    if target is None:
        return None
    if isinstance(target, str):
        module, _, attr = target.partition(":")
        return getattr(importlib.import_module(module), attr or "handler")
    return target


_BOOTSTRAP = textwrap.dedent(
    """
    import importlib, json, sys
    module, _, func = sys.argv[1].rpartition(".")
    event = json.load(sys.stdin)
    result = getattr(importlib.import_module(module), func)(event, None)
    sys.stdout.write("\\n__LOCAL_LAMBDA_RESULT__" + json.dumps(result))
    """
)


def _run_moto_lambda(ctx: StepContext, arn: str, event: Any, work_dir: Path) -> Any:
    """Run a function created in moto's Lambda (zip package, Python) as a local process."""
    try:
        from moto.awslambda.models import lambda_backends

        function = lambda_backends[ctx.account_id][ctx.region].get_function(arn)
    except Exception as exc:
        raise _LambdaMissing(
            f"ClientError: no local handler for Lambda function {arn}: map it with lambda_handlers "
            f"(--lambda ARN=module:function) or create it in the engine's Lambda with a zip package ({exc})"
        ) from exc
    code = getattr(function, "code_bytes", b"")
    if not code:
        raise _LambdaMissing(
            f"ClientError: Lambda function {arn} has no zip package the local engine can run"
        )
    code_dir = work_dir / "lambda"
    code_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(code)) as archive:
        archive.extractall(code_dir)
    proc = subprocess.run(
        [ctx.config.python, "-c", _BOOTSTRAP, function.handler],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        cwd=code_dir,
        env={
            "PYTHONPATH": str(code_dir),
            "PATH": "/usr/bin:/bin",
            "AWS_ENDPOINT_URL": ctx.clients.endpoint_url,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": ctx.region,
        },
        timeout=900,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
        )
    _, marker, payload = proc.stdout.rpartition("__LOCAL_LAMBDA_RESULT__")
    if not marker:
        raise RuntimeError("the handler produced no result")
    return json.loads(payload)


# ---- Model / RegisterModel ----------------------------------------------------------------------


def _client_failure(exc: Exception, what: str) -> StepOutcome:
    from botocore.exceptions import ClientError

    if isinstance(exc, AccessDeniedError):
        return StepOutcome.failed(f"AccessDenied: {exc.message}")
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "Error")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
        kind = THROTTLING if "Throttl" in code else SERVICE_FAULT if status >= 500 else None
        return StepOutcome.failed(
            f"{code}: {what}: {exc.response.get('Error', {}).get('Message', exc)}", kind
        )
    from botocore.exceptions import ParamValidationError

    if isinstance(exc, ParamValidationError):
        return StepOutcome.failed(f"ValidationException: {what}: {exc}")
    return StepOutcome.failed(f"InternalServerError: {what}: {exc}", SERVICE_FAULT)


def run_model(ctx: StepContext) -> StepOutcome:
    request = dict(ctx.arguments())
    request.setdefault("ModelName", ctx.resource_name())
    sm = ctx.client("sagemaker")
    try:
        model_arn = ctx.arn(f"model/{request['ModelName'].lower()}")
        ctx.as_pipeline_role("sagemaker:CreateModel", model_arn)
        if request.get("Tags"):
            ctx.as_pipeline_role("sagemaker:AddTags", model_arn)
        if request.get("ExecutionRoleArn"):
            ctx.pass_role(request["ExecutionRoleArn"])
        ctx.as_pipeline_role("sagemaker:DescribeModel", model_arn)
        sm.create_model(**request)
        description = sm.describe_model(ModelName=request["ModelName"])
    except Exception as exc:
        return _client_failure(exc, "CreateModel failed")
    description.pop("ResponseMetadata", None)
    return StepOutcome(
        status=SUCCEEDED, properties=description, metadata={"Model": {"Arn": description["ModelArn"]}}
    )


def run_register_model(ctx: StepContext) -> StepOutcome:
    request = dict(ctx.arguments())
    sm = ctx.client("sagemaker")
    group = request.get("ModelPackageGroupName")
    try:
        if group and not str(group).startswith("arn:"):
            group_arn = ctx.arn(f"model-package-group/{str(group).lower()}")
            ctx.as_pipeline_role("sagemaker:DescribeModelPackageGroup", group_arn)
            # SageMaker Pipelines creates the model package group on first registration.
            try:
                sm.describe_model_package_group(ModelPackageGroupName=group)
                versions = sm.list_model_packages(ModelPackageGroupName=group, MaxResults=100)
                next_version = len(versions.get("ModelPackageSummaryList", [])) + 1
            except Exception:
                ctx.as_pipeline_role("sagemaker:CreateModelPackageGroup", group_arn)
                sm.create_model_package_group(ModelPackageGroupName=group)
                next_version = 1
            package_arn = ctx.arn(f"model-package/{str(group).lower()}/{next_version}")
            ctx.as_pipeline_role("sagemaker:CreateModelPackage", package_arn)
            if request.get("Tags"):
                ctx.as_pipeline_role("sagemaker:AddTags", package_arn)
            ctx.as_pipeline_role("sagemaker:DescribeModelPackage", package_arn)
        arn = sm.create_model_package(**request)["ModelPackageArn"]
        description = sm.describe_model_package(ModelPackageName=arn)
    except Exception as exc:
        return _client_failure(exc, "CreateModelPackage failed")
    description.pop("ResponseMetadata", None)
    return StepOutcome(status=SUCCEEDED, properties=description, metadata={"RegisterModel": {"Arn": arn}})


# ---- jobs ---------------------------------------------------------------------------------------


def _job_runner(ctx: StepContext, step_type: str) -> Callable[..., Any]:
    custom = ctx.config.job_runners.get(step_type)
    if custom is not None:
        return custom
    from . import jobs  # imported lazily: the runners are heavier than the engine

    runner = getattr(jobs, STEP_KINDS[step_type].local_runner or "", None)
    if runner is None:
        raise _LambdaMissing(f"ClientError: the local engine has no runner for {step_type} jobs yet")
    return runner


def _classify_job_failure(reason: str | None) -> str | None:
    text = reason or ""
    if text.startswith("InternalServerError"):
        return JOB_INTERNAL_ERROR
    if text.startswith("CapacityError"):
        return CAPACITY_ERROR
    if "ResourceLimitExceeded" in text:
        return RESOURCE_LIMIT
    return None


def run_job(ctx: StepContext) -> StepOutcome:
    """A Processing, Training, Transform or Tuning step: its job, run by the job runner of its type."""
    ex, record = ctx.execution, ctx.record
    kind, meta_key, name_field, arn_field = _job(ctx.spec.type)
    with_experiment = ctx.kind.experiment_config
    request = ctx.arguments()
    if not isinstance(request, dict):
        raise ExpressionError(f"{ctx.spec.type} step {ctx.name} Arguments must be an object")
    name = ctx.job_name()
    if ex.experiment_config and with_experiment and "ExperimentConfig" not in request:
        # As SageMaker does: each job becomes a run (trial component) of the execution's trial.
        request = {**request, "ExperimentConfig": {**ex.experiment_config, "TrialComponentDisplayName": record.name}}
    arn = ctx.arn(f"{RESOURCES_BY_NOUN[kind].arn_type}/{name.lower()}")
    metadata = {meta_key: {"Arn": arn}}
    from .state import utcnow

    provisional = {
        **request,
        name_field: name,
        arn_field: arn,
        _status_field(kind): "InProgress",
        "CreationTime": utcnow(),
        "LastModifiedTime": utcnow(),
    }
    ctx.jobs.put(kind, ctx.region, name, provisional)
    ctx.publish_metadata(metadata)
    if with_experiment:
        experiments.start_job(ex, kind, name, arn, display_name=record.name)
    try:
        return _run_job(ctx, _Job(kind, name, arn, request, provisional, metadata))
    finally:
        if with_experiment:
            described = ctx.jobs.get(kind, ctx.region, name) or {}
            experiments.end_job(ex, kind, name, described.get(_status_field(kind), "Failed"))


@dataclass(frozen=True)
class _Job:
    """The job a job step creates: its kind (Describe<noun>), name, ARN, request, first description."""

    kind: str
    name: str
    arn: str
    request: dict[str, Any]
    provisional: dict[str, Any]
    metadata: dict[str, Any]


def _run_job(ctx: StepContext, job: _Job) -> StepOutcome:
    kind, name, metadata = job.kind, job.name, job.metadata
    try:
        runner = _job_runner(ctx, ctx.spec.type)
    except _LambdaMissing as exc:
        return StepOutcome.failed(str(exc), metadata=metadata)
    try:
        job_role = authorize_job(ctx, kind, name, job.arn, job.request)
    except AccessDeniedError as exc:
        reason = f"AccessDenied: {exc.message}"
        failed = {**job.provisional, _status_field(kind): "Failed", "FailureReason": reason}
        ctx.jobs.put(kind, ctx.region, name, failed)
        return StepOutcome.failed(reason, metadata=metadata)
    from .logs import JobLogs

    # The job's lines go to CloudWatch Logs where SageMaker puts them, while it runs; closed (everything
    # shipped) before the step's status changes, so a reader that sees the step end sees the whole log.
    job_logs = JobLogs(lambda: ctx.client("logs"))
    cloudwatch = job_logs.open(kind, name)

    def job_log(line: str) -> None:
        ctx.log(line)
        if cloudwatch is not None:
            cloudwatch.write(line)

    try:
        result = runner(name, job.request, _job_context(ctx, job, job_role, job_log, job_logs.sink))
    except Exception as exc:
        log.exception("job runner for step %s raised", ctx.name)
        description = {**job.provisional, _status_field(kind): "Failed", "FailureReason": str(exc)}
        ctx.jobs.put(kind, ctx.region, name, description)
        return StepOutcome.failed(
            f"InternalServerError: job runner error: {type(exc).__name__}: {exc}",
            JOB_INTERNAL_ERROR,
            metadata=metadata,
        )
    finally:
        job_logs.close()
    return _job_outcome(ctx, job, result)


def _job_context(ctx: StepContext, job: _Job, job_role: str | None, job_log: Callable[[str], None],
                 sink: Any) -> Any:
    from .jobs.base import JobContext

    account = ctx.account_id
    return JobContext(
        endpoint_url=ctx.clients.endpoint_url,
        region=ctx.region,
        account_id=account,
        work_dir=ctx.work_dir(),
        stop_event=ctx.stop_event,
        log=job_log,
        python=ctx.config.python,
        credentials=None if account == ctx.config.account_id else ctx.clients.credentials_for(account),
        user_credentials=ctx.clients.role_credentials(_job_role(ctx, job.kind, job.request), ctx.region),
        role_arn=job_role,
        access=ctx.access,
        job_log=sink,
    )


def _job_outcome(ctx: StepContext, job: _Job, result: Any) -> StepOutcome:
    """The step's outcome from the job runner's result; the job's description stored for Describe<Kind>."""
    kind, name = job.kind, job.name
    _, meta_key, name_field, arn_field = _job(ctx.spec.type)
    for child_name, child in getattr(result, "children", {}).items():
        # A tuning job's training jobs: DescribeTrainingJob works for them, as on SageMaker.
        ctx.jobs.put("TrainingJob", ctx.region, child_name, child.description)
    description = dict(result.description or {})
    description.setdefault(name_field, name)
    description.setdefault(arn_field, job.arn)
    description.setdefault(_status_field(kind), result.status)
    description.setdefault("CreationTime", job.provisional["CreationTime"])
    if result.failure_reason and "FailureReason" not in description:
        description["FailureReason"] = result.failure_reason
    ctx.jobs.put(kind, ctx.region, name, description)
    metadata = {meta_key: {"Arn": description[arn_field]}}
    if result.status == "Completed":
        return StepOutcome(status=SUCCEEDED, properties=description, metadata=metadata)
    if result.status == "Stopped":
        return StepOutcome(status=STOPPED, properties=description, metadata=metadata)
    reason = result.failure_reason or description.get("FailureReason") or f"{kind} {name} failed"
    return StepOutcome(
        status=FAILED,
        properties=description,
        metadata=metadata,
        failure_reason=reason,
        exception_type=_classify_job_failure(reason),
    )


# ---- what SageMaker does as the pipeline role and as the job role (checked with IAM enforcement on) --

_ECR_IMAGE = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/([^:@]+)")


def _job_role_and_image(ctx: StepContext, kind: str, request: dict[str, Any]) -> tuple[Any, Any]:
    if kind == "ProcessingJob":
        return request.get("RoleArn"), (request.get("AppSpecification") or {}).get("ImageUri")
    if kind == "TrainingJob":
        return request.get("RoleArn"), (request.get("AlgorithmSpecification") or {}).get("TrainingImage")
    if kind == "HyperParameterTuningJob":
        definition = request.get("TrainingJobDefinition") or {}
        return definition.get("RoleArn"), (definition.get("AlgorithmSpecification") or {}).get("TrainingImage")
    # A transform job runs as its model's execution role, with the model's image.
    try:
        model = ctx.client("sagemaker").describe_model(ModelName=request.get("ModelName", ""))
    except Exception:
        return None, None
    container = model.get("PrimaryContainer") or (model.get("Containers") or [{}])[0]
    return model.get("ExecutionRoleArn"), container.get("Image")


def _job_role(ctx: StepContext, kind: str, request: dict[str, Any]) -> str | None:
    if kind == "TransformJob" and not request.get("ModelName"):
        return None
    role = _job_role_and_image(ctx, kind, request)[0]
    return str(role) if role else None


def authorize_job(ctx: StepContext, kind: str, name: str, arn: str, request: dict[str, Any]) -> str | None:
    """Check what creating and running a job takes; returns the job's role (its S3 calls are checked later).

    As the pipeline role: Create/Describe<Kind>Job, AddTags when tagged, iam:PassRole of the job's role,
    associating the job with the execution's trial. As the job's role: CloudWatch Logs and metrics, and
    ECR pulls of an ECR image.
    """
    if not ctx.access.enabled:
        return None
    operation = "HyperParameterTuningJob" if kind == "HyperParameterTuningJob" else kind
    ctx.as_pipeline_role(f"sagemaker:Create{operation}", arn)
    if request.get("Tags"):
        ctx.as_pipeline_role("sagemaker:AddTags", arn)
    role, image = _job_role_and_image(ctx, kind, request)
    if kind != "TransformJob" and role:
        ctx.pass_role(str(role))
    ctx.as_pipeline_role(f"sagemaker:Describe{operation}", arn)
    if ctx.execution.experiment_config:
        component = f"{name}-aws-{RESOURCES_BY_NOUN[kind].arn_type}".lower()
        ctx.as_pipeline_role("sagemaker:AssociateTrialComponent", ctx.arn(f"experiment-trial-component/{component}"))
    if not role:
        return None
    role = str(role)
    from .access import role_trusts_sagemaker

    if not role_trusts_sagemaker(role):
        raise AccessDeniedError(f"SageMaker cannot assume role {role}: its trust policy does not name "
                                "sagemaker.amazonaws.com (or the role does not exist)")
    _authorize_job_role(ctx, role, kind, name, image)
    return role


def _authorize_job_role(ctx: StepContext, role: str, kind: str, name: str, image: Any) -> None:
    """What the job does as its own role: CloudWatch Logs and metrics, ECR pulls of an ECR image."""
    ex = ctx.execution
    where = f"{ex.pipeline.name}/{ex.id}/{ctx.name} job {name}"
    group = RESOURCES_BY_NOUN[kind].log_group
    group_arn = f"arn:aws:logs:{ctx.region}:{ctx.account_id}:log-group:{group}"
    ctx.as_role(role, "logs:CreateLogGroup", group_arn, where)
    ctx.as_role(role, "logs:DescribeLogStreams", group_arn, where)
    stream_arn = f"{group_arn}:log-stream:{name}/algo-1"
    ctx.as_role(role, "logs:CreateLogStream", stream_arn, where)
    ctx.as_role(role, "logs:PutLogEvents", stream_arn, where)
    ctx.as_role(role, "cloudwatch:PutMetricData", "*", where, {"cloudwatch:namespace": group})
    match = _ECR_IMAGE.match(str(image or ""))
    if match:
        repository = f"arn:aws:ecr:{match.group(2)}:{match.group(1)}:repository/{match.group(3)}"
        ctx.as_role(role, "ecr:GetAuthorizationToken", "*", where)
        for action in ("ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"):
            ctx.as_role(role, action, repository, where)


#: Step type -> runner, for the engine-native types (job types go to :func:`run_job`).
RUNNERS: dict[str, Callable[[StepContext], StepOutcome]] = {
    "Condition": run_condition,
    "Fail": run_fail,
    "Callback": run_callback,
    "Lambda": run_lambda,
    "Model": run_model,
    "RegisterModel": run_register_model,
}
