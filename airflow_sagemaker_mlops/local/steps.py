"""Step runners: what one attempt of each step type does.

Engine-native: Condition, Fail, Callback, Lambda, Model, RegisterModel. Processing, Training, Transform
and Tuning hand the resolved request to the job runners of ``local.jobs``. Any other type fails with a
FailureReason saying the local engine cannot run it.
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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_sagemaker_mlops.definition.step_kinds import (
    LOCAL_JOB_TYPES,
    LOCAL_STEP_TYPES,
    RESOURCES_BY_NOUN,
    STEP_KINDS,
)

from . import experiments
from .errors import AccessDeniedError
from .expressions import ExpressionError, Resolver, to_text
from .faults import CAPACITY_ERROR, JOB_INTERNAL_ERROR, RESOURCE_LIMIT, SERVICE_FAULT, THROTTLING
from .state import FAILED, PENDING, STOPPED, SUCCEEDED, ExecutionRecord, StepOutcome, StepRecord, short_hash

if TYPE_CHECKING:
    from .executor import Engine

log = logging.getLogger(__name__)

def _job(step_type: str) -> tuple[str, str, str, str]:
    """(resource noun as in Describe<noun>, metadata key, name field, ARN field) of a job step type."""
    kind = STEP_KINDS[step_type]
    job = kind.resource
    return job.noun, kind.metadata_key, job.name_field, job.arn_field


def _status_field(noun: str) -> str:
    return RESOURCES_BY_NOUN[noun].status_field


def run_step(engine: Engine, ex: ExecutionRecord, record: StepRecord, resolver: Resolver) -> StepOutcome:
    runner = _RUNNERS.get(record.spec.type)
    if runner is None:
        if record.spec.type in LOCAL_JOB_TYPES:
            return run_job(engine, ex, record, resolver)
        return StepOutcome.failed(
            f"ClientError: the local SageMaker engine cannot run steps of type {record.spec.type} "
            f"(step {record.name}); it runs {', '.join(LOCAL_STEP_TYPES)}."
        )
    return runner(engine, ex, record, resolver)


# ---- Condition / Fail ---------------------------------------------------------------------------


def run_condition(engine: Engine, ex: ExecutionRecord, record: StepRecord, resolver: Resolver) -> StepOutcome:
    conditions = record.spec.arguments.get("Conditions") or []
    outcome = resolver.evaluate_all(conditions)
    text = "True" if outcome else "False"
    return StepOutcome(
        status=SUCCEEDED,
        properties={"Outcome": outcome},
        metadata={"Condition": {"Outcome": text}},
        outcome=outcome,
    )


def run_fail(engine: Engine, ex: ExecutionRecord, record: StepRecord, resolver: Resolver) -> StepOutcome:
    message = to_text(resolver.resolve(record.spec.arguments.get("ErrorMessage", "")))
    return StepOutcome.failed(message, metadata={"Fail": {"ErrorMessage": message}})


# ---- Callback -----------------------------------------------------------------------------------


def run_callback(engine: Engine, ex: ExecutionRecord, record: StepRecord, resolver: Resolver) -> StepOutcome:
    arguments = resolver.resolve(record.spec.arguments)
    queue_url = to_text(resolver.resolve(record.spec.raw.get("SqsQueueUrl", "")))
    if not queue_url:
        return StepOutcome.failed("ClientError: Callback step has no SqsQueueUrl")
    token = engine.register_callback(ex, record)
    metadata = {"Callback": {"CallbackToken": token, "SqsQueueUrl": queue_url}}
    with engine.lock:
        record.metadata = metadata
    message = {"token": token, "pipelineExecutionArn": ex.arn, "arguments": arguments, "status": "Executing"}
    try:
        from ..iam.values import queue_arn

        as_pipeline_role(engine, ex, record, "sqs:SendMessage", queue_arn(queue_url) or queue_url)
        sqs = engine.client("sqs", ex.region, ex.pipeline.account_id)
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(message))
    except Exception as exc:
        with engine.lock:
            engine.callbacks.pop(token, None)
            record.waiting_callback = False
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


def run_lambda(engine: Engine, ex: ExecutionRecord, record: StepRecord, resolver: Resolver) -> StepOutcome:
    arn = to_text(resolver.resolve(record.spec.raw.get("FunctionArn", "")))
    event = resolver.resolve(record.spec.arguments)
    metadata: dict[str, Any] = {"Lambda": {"Arn": arn}}
    handler = _lambda_handler(engine, arn)
    work_dir = step_work_dir(engine, ex, record)
    try:
        as_pipeline_role(engine, ex, record, "lambda:InvokeFunction", arn)
        if handler is not None:
            result = handler(event, None)
        else:
            result = _run_moto_lambda(engine, ex, arn, event, work_dir)
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
    declared = [o.get("OutputName") for o in record.spec.raw.get("OutputParameters") or []]
    missing = [name for name in declared if name not in result]
    if missing:
        return StepOutcome.failed(
            f"ClientError: Lambda function {arn} returned no value for output(s) {', '.join(missing)}",
            metadata=metadata,
        )
    typed, listed = _outputs(record, {name: result[name] for name in declared})
    metadata["Lambda"]["OutputParameters"] = listed
    return StepOutcome(status=SUCCEEDED, properties={"OutputParameters": typed}, metadata=metadata)


class _LambdaMissing(Exception):
    pass


def _lambda_handler(engine: Engine, arn: str) -> Callable[[Any, Any], Any] | None:
    handlers = engine.config.lambda_handlers
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


def _run_moto_lambda(engine: Engine, ex: ExecutionRecord, arn: str, event: Any, work_dir: Path) -> Any:
    """Run a function created in moto's Lambda (zip package, Python) as a local process."""
    try:
        from moto.awslambda.models import lambda_backends

        function = lambda_backends[ex.pipeline.account_id][ex.region].get_function(arn)
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
        [engine.config.python, "-c", _BOOTSTRAP, function.handler],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        cwd=code_dir,
        env={
            "PYTHONPATH": str(code_dir),
            "PATH": "/usr/bin:/bin",
            "AWS_ENDPOINT_URL": engine.endpoint_url,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": ex.region,
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


def run_model(engine: Engine, ex: ExecutionRecord, record: StepRecord, resolver: Resolver) -> StepOutcome:
    request = dict(resolver.resolve(record.spec.arguments))
    request.setdefault("ModelName", resource_name(ex, record))
    sm = engine.client("sagemaker", ex.region, ex.pipeline.account_id)
    try:
        model_arn = engine.arn(ex.region, f"model/{request['ModelName'].lower()}", ex.pipeline.account_id)
        as_pipeline_role(engine, ex, record, "sagemaker:CreateModel", model_arn)
        if request.get("Tags"):
            as_pipeline_role(engine, ex, record, "sagemaker:AddTags", model_arn)
        if request.get("ExecutionRoleArn"):
            pass_role(engine, ex, record, request["ExecutionRoleArn"])
        as_pipeline_role(engine, ex, record, "sagemaker:DescribeModel", model_arn)
        sm.create_model(**request)
        description = sm.describe_model(ModelName=request["ModelName"])
    except Exception as exc:
        return _client_failure(exc, "CreateModel failed")
    description.pop("ResponseMetadata", None)
    return StepOutcome(
        status=SUCCEEDED, properties=description, metadata={"Model": {"Arn": description["ModelArn"]}}
    )


def run_register_model(
    engine: Engine, ex: ExecutionRecord, record: StepRecord, resolver: Resolver
) -> StepOutcome:
    request = dict(resolver.resolve(record.spec.arguments))
    account = ex.pipeline.account_id
    sm = engine.client("sagemaker", ex.region, account)
    group = request.get("ModelPackageGroupName")
    try:
        if group and not str(group).startswith("arn:"):
            group_arn = engine.arn(ex.region, f"model-package-group/{str(group).lower()}", account)
            as_pipeline_role(engine, ex, record, "sagemaker:DescribeModelPackageGroup", group_arn)
            # SageMaker Pipelines creates the model package group on first registration.
            try:
                sm.describe_model_package_group(ModelPackageGroupName=group)
                versions = sm.list_model_packages(ModelPackageGroupName=group, MaxResults=100)
                next_version = len(versions.get("ModelPackageSummaryList", [])) + 1
            except Exception:
                as_pipeline_role(engine, ex, record, "sagemaker:CreateModelPackageGroup", group_arn)
                sm.create_model_package_group(ModelPackageGroupName=group)
                next_version = 1
            package_arn = engine.arn(ex.region, f"model-package/{str(group).lower()}/{next_version}", account)
            as_pipeline_role(engine, ex, record, "sagemaker:CreateModelPackage", package_arn)
            if request.get("Tags"):
                as_pipeline_role(engine, ex, record, "sagemaker:AddTags", package_arn)
            as_pipeline_role(engine, ex, record, "sagemaker:DescribeModelPackage", package_arn)
        arn = sm.create_model_package(**request)["ModelPackageArn"]
        description = sm.describe_model_package(ModelPackageName=arn)
    except Exception as exc:
        return _client_failure(exc, "CreateModelPackage failed")
    description.pop("ResponseMetadata", None)
    return StepOutcome(status=SUCCEEDED, properties=description, metadata={"RegisterModel": {"Arn": arn}})


# ---- jobs ---------------------------------------------------------------------------------------


def job_name(ex: ExecutionRecord, record: StepRecord) -> str:
    """``pipelines-<execution id>-<step>-<hash>`` like SageMaker; tuning jobs are limited to 32 chars."""
    digest = short_hash(ex.arn, record.name, record.attempt_count, length=10)
    if record.spec.type == "Tuning":
        return f"{ex.id}-{record.name[:8].strip('-_')}-{digest[:9]}".replace("_", "-")[:32]
    step = record.name[: 63 - len("pipelines-") - len(ex.id) - 2 - len(digest)]
    return f"pipelines-{ex.id}-{step}-{digest}".replace("_", "-")


def resource_name(ex: ExecutionRecord, record: StepRecord) -> str:
    return f"pipelines-{ex.id}-{record.name}"[:63].replace("_", "-")


def step_work_dir(engine: Engine, ex: ExecutionRecord, record: StepRecord) -> Path:
    path = engine.work_dir / ex.id / record.name / f"attempt-{record.attempt_count}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _job_runner(engine: Engine, step_type: str) -> Callable[..., Any]:
    custom = engine.config.job_runners.get(step_type)
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


def run_job(engine: Engine, ex: ExecutionRecord, record: StepRecord, resolver: Resolver) -> StepOutcome:
    kind, meta_key, name_field, arn_field = _job(record.spec.type)
    with_experiment = STEP_KINDS[record.spec.type].experiment_config
    request = resolver.resolve(record.spec.arguments)
    if not isinstance(request, dict):
        raise ExpressionError(f"{record.spec.type} step {record.name} Arguments must be an object")
    name = job_name(ex, record)
    if ex.experiment_config and with_experiment and "ExperimentConfig" not in request:
        # As SageMaker does: each job becomes a run (trial component) of the execution's trial.
        request = {**request, "ExperimentConfig": {**ex.experiment_config, "TrialComponentDisplayName": record.name}}
    arn = engine.arn(ex.region, f"{RESOURCES_BY_NOUN[kind].arn_type}/{name.lower()}", ex.pipeline.account_id)
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
    engine.put_job(kind, ex.region, name, provisional)
    with engine.lock:
        record.metadata = metadata
    if with_experiment:
        experiments.start_job(engine, ex, kind, name, arn, display_name=record.name)
    try:
        return _run_job(engine, ex, record, kind, name, arn, request, provisional, metadata)
    finally:
        if with_experiment:
            described = engine.get_job(kind, ex.region, name) or {}
            experiments.end_job(engine, ex, kind, name, described.get(_status_field(kind), "Failed"))


def _run_job(engine: Engine, ex: ExecutionRecord, record: StepRecord, kind: str, name: str, arn: str,
             request: dict[str, Any], provisional: dict[str, Any], metadata: dict[str, Any]) -> StepOutcome:
    from .jobs.base import JobContext

    _, meta_key, name_field, arn_field = _job(record.spec.type)
    try:
        runner = _job_runner(engine, record.spec.type)
    except _LambdaMissing as exc:
        return StepOutcome.failed(str(exc), metadata=metadata)
    try:
        job_role = authorize_job(engine, ex, record, kind, name, arn, request)
    except AccessDeniedError as exc:
        reason = f"AccessDenied: {exc.message}"
        failed = {**provisional, _status_field(kind): "Failed", "FailureReason": reason}
        engine.put_job(kind, ex.region, name, failed)
        return StepOutcome.failed(reason, metadata=metadata)
    account = ex.pipeline.account_id
    from .logs import JobLogs

    # The job's lines go to CloudWatch Logs where SageMaker puts them, while it runs; closed (everything
    # shipped) before the step's status changes, so a reader that sees the step end sees the whole log.
    job_logs = JobLogs(lambda: engine.client("logs", ex.region, account))
    cloudwatch = job_logs.open(kind, name)

    def job_log(line: str) -> None:
        record.log.append(line)
        if cloudwatch is not None:
            cloudwatch.write(line)

    ctx = JobContext(
        endpoint_url=engine.endpoint_url,
        region=ex.region,
        account_id=account,
        work_dir=step_work_dir(engine, ex, record),
        stop_event=ex.stop_event,
        log=job_log,
        python=engine.config.python,
        credentials=None if account == engine.config.account_id else engine.credentials_for(account),
        user_credentials=engine.role_credentials(_job_role(engine, ex, kind, request), ex.region),
        role_arn=job_role,
        access=engine.access,
        job_log=job_logs.sink,
    )
    try:
        result = runner(name, request, ctx)
    except Exception as exc:
        log.exception("job runner for step %s raised", record.name)
        description = {**provisional, _status_field(kind): "Failed", "FailureReason": str(exc)}
        engine.put_job(kind, ex.region, name, description)
        return StepOutcome.failed(
            f"InternalServerError: job runner error: {type(exc).__name__}: {exc}",
            JOB_INTERNAL_ERROR,
            metadata=metadata,
        )
    finally:
        job_logs.close()
    for child_name, child in getattr(result, "children", {}).items():
        # A tuning job's training jobs: DescribeTrainingJob works for them, as on SageMaker.
        engine.put_job("TrainingJob", ex.region, child_name, child.description)
    description = dict(result.description or {})
    description.setdefault(name_field, name)
    description.setdefault(arn_field, arn)
    description.setdefault(_status_field(kind), result.status)
    description.setdefault("CreationTime", provisional["CreationTime"])
    if result.failure_reason and "FailureReason" not in description:
        description["FailureReason"] = result.failure_reason
    engine.put_job(kind, ex.region, name, description)
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


def _session_arn(role_arn: str, session: str) -> str:
    account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else "?"
    return f"arn:aws:sts::{account}:assumed-role/{role_arn.rsplit('/', 1)[-1]}/{session}"


def as_role(
    engine: Engine, role_arn: str, action: str, resource: str, where: str, context: dict[str, str] | None = None
) -> None:
    engine.access.require(
        role_arn, action, resource, context=context, where=where, actor=_session_arn(role_arn, "SageMaker")
    )


def as_pipeline_role(
    engine: Engine, ex: ExecutionRecord, record: StepRecord | None, action: str, resource: str,
    context: dict[str, str] | None = None,
) -> None:
    where = f"{ex.pipeline.name}/{ex.id}" + (f"/{record.name}" if record is not None else "")
    as_role(engine, ex.pipeline.role_arn, action, resource, where, context)


def pass_role(engine: Engine, ex: ExecutionRecord, record: StepRecord, role_arn: str) -> None:
    as_pipeline_role(
        engine, ex, record, "iam:PassRole", role_arn, {"iam:PassedToService": "sagemaker.amazonaws.com"}
    )


def _job_role_and_image(engine: Engine, ex: ExecutionRecord, kind: str, request: dict[str, Any]) -> tuple[Any, Any]:
    if kind == "ProcessingJob":
        return request.get("RoleArn"), (request.get("AppSpecification") or {}).get("ImageUri")
    if kind == "TrainingJob":
        return request.get("RoleArn"), (request.get("AlgorithmSpecification") or {}).get("TrainingImage")
    if kind == "HyperParameterTuningJob":
        definition = request.get("TrainingJobDefinition") or {}
        return definition.get("RoleArn"), (definition.get("AlgorithmSpecification") or {}).get("TrainingImage")
    # A transform job runs as its model's execution role, with the model's image.
    try:
        model = engine.client("sagemaker", ex.region, ex.pipeline.account_id).describe_model(
            ModelName=request.get("ModelName", "")
        )
    except Exception:
        return None, None
    container = model.get("PrimaryContainer") or (model.get("Containers") or [{}])[0]
    return model.get("ExecutionRoleArn"), container.get("Image")


def _job_role(engine: Engine, ex: ExecutionRecord, kind: str, request: dict[str, Any]) -> str | None:
    if kind == "TransformJob" and not request.get("ModelName"):
        return None
    role = _job_role_and_image(engine, ex, kind, request)[0]
    return str(role) if role else None


def authorize_job(
    engine: Engine, ex: ExecutionRecord, record: StepRecord, kind: str, name: str, arn: str, request: dict[str, Any]
) -> str | None:
    """Check what creating and running a job takes; returns the job's role (its S3 calls are checked later).

    As the pipeline role: Create/Describe<Kind>Job, AddTags when tagged, iam:PassRole of the job's role,
    associating the job with the execution's trial. As the job's role: CloudWatch Logs and metrics, and
    ECR pulls of an ECR image.
    """
    if not engine.access.enabled:
        return None
    account = ex.pipeline.account_id
    operation = "HyperParameterTuningJob" if kind == "HyperParameterTuningJob" else kind
    as_pipeline_role(engine, ex, record, f"sagemaker:Create{operation}", arn)
    if request.get("Tags"):
        as_pipeline_role(engine, ex, record, "sagemaker:AddTags", arn)
    role, image = _job_role_and_image(engine, ex, kind, request)
    if kind != "TransformJob" and role:
        pass_role(engine, ex, record, str(role))
    as_pipeline_role(engine, ex, record, f"sagemaker:Describe{operation}", arn)
    if ex.experiment_config:
        component = f"{name}-aws-{RESOURCES_BY_NOUN[kind].arn_type}".lower()
        as_pipeline_role(
            engine, ex, record, "sagemaker:AssociateTrialComponent",
            engine.arn(ex.region, f"experiment-trial-component/{component}", account),
        )
    if not role:
        return None
    role = str(role)
    from .access import role_trusts_sagemaker

    if not role_trusts_sagemaker(role):
        raise AccessDeniedError(f"SageMaker cannot assume role {role}: its trust policy does not name "
                                "sagemaker.amazonaws.com (or the role does not exist)")
    where = f"{ex.pipeline.name}/{ex.id}/{record.name} job {name}"
    group = RESOURCES_BY_NOUN[kind].log_group
    group_arn = f"arn:aws:logs:{ex.region}:{account}:log-group:{group}"
    as_role(engine, role, "logs:CreateLogGroup", group_arn, where)
    as_role(engine, role, "logs:DescribeLogStreams", group_arn, where)
    stream_arn = f"{group_arn}:log-stream:{name}/algo-1"
    as_role(engine, role, "logs:CreateLogStream", stream_arn, where)
    as_role(engine, role, "logs:PutLogEvents", stream_arn, where)
    as_role(engine, role, "cloudwatch:PutMetricData", "*", where, {"cloudwatch:namespace": group})
    match = _ECR_IMAGE.match(str(image or ""))
    if match:
        repository = f"arn:aws:ecr:{match.group(2)}:{match.group(1)}:repository/{match.group(3)}"
        as_role(engine, role, "ecr:GetAuthorizationToken", "*", where)
        for action in ("ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"):
            as_role(engine, role, action, repository, where)
    return role


_RUNNERS: dict[str, Callable[..., StepOutcome]] = {
    "Condition": run_condition,
    "Fail": run_fail,
    "Callback": run_callback,
    "Lambda": run_lambda,
    "Model": run_model,
    "RegisterModel": run_register_model,
}
