"""Processing jobs as local processes.

Inputs (S3Prefix or ManifestFile, File mode) are downloaded to their LocalPath under /opt/ml/processing,
``AppSpecification.ContainerEntrypoint`` + ``ContainerArguments`` run in the sandbox with the request's
``Environment`` (a leading ``python``/``python3`` becomes the local interpreter; the image is not
pulled), and every ProcessingOutput's LocalPath is uploaded to its S3Uri at the end.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow_sagemaker_mlops.local.jobs import _s3
from airflow_sagemaker_mlops.local.jobs._common import algorithm_error, user_env
from airflow_sagemaker_mlops.local.jobs._s3 import JobInputError
from airflow_sagemaker_mlops.local.jobs.base import (
    COMPLETED,
    FAILED,
    STOPPED,
    JobContext,
    JobResult,
    utcnow,
)
from airflow_sagemaker_mlops.local.jobs.sandbox import Sandbox, is_opt_ml

log = logging.getLogger(__name__)

PROCESSING_PREFIX = "/opt/ml/processing/"


def run_processing_job(name: str, request: dict, ctx: JobContext) -> JobResult:
    """Run a CreateProcessingJob request; returns a DescribeProcessingJob-shaped description."""
    created = utcnow()
    description: dict[str, Any] = {
        "ProcessingJobName": name,
        "ProcessingJobArn": ctx.arn(f"processing-job/{name.lower()}"),
        "ProcessingJobStatus": "InProgress",
        "ProcessingInputs": request.get("ProcessingInputs") or [],
        "ProcessingResources": request.get("ProcessingResources") or {},
        "AppSpecification": request.get("AppSpecification") or {},
        "RoleArn": request.get("RoleArn", ""),
        "CreationTime": created,
        "LastModifiedTime": created,
    }
    for key in ("ProcessingOutputConfig", "StoppingCondition", "Environment", "NetworkConfig",
                "ExperimentConfig"):
        if request.get(key):
            description[key] = request[key]
    try:
        return _run(name, request, ctx, description)
    except JobInputError as exc:
        return _finish(description, FAILED, f"ClientError: {exc}", ctx)
    except Exception as exc:  # an engine bug must surface as this job's failure, not kill the engine
        log.exception("processing job %s crashed in the local runner", name)
        return _finish(description, FAILED, f"InternalServerError: {exc!r}", ctx)


LOCAL_PATH_MAX = 256  # ProcessingS3Input/ProcessingS3Output LocalPath: Length Constraints: Maximum 256


def check_local_path(path: Any, where: str) -> str:
    """A ProcessingInput/Output ``LocalPath`` as SageMaker validates it: absolute, under
    ``/opt/ml/processing/``, at most 256 characters, and no ``.``/``..`` segment (which would leave it).
    The same rule keeps every path of the job inside its sandbox."""
    if not isinstance(path, str) or not path:
        raise JobInputError(f"{where}.LocalPath must be a non-empty string, got {path!r}")
    if len(path) > LOCAL_PATH_MAX:
        raise JobInputError(f"{where}.LocalPath is {len(path)} characters long; the maximum is {LOCAL_PATH_MAX}")
    if not path.startswith(PROCESSING_PREFIX):
        raise JobInputError(f"{where}.LocalPath {path!r} must begin with {PROCESSING_PREFIX}")
    segments = path[len(PROCESSING_PREFIX):].split("/")
    if any(part in (".", "..") for part in segments) or "\0" in path or not path[len(PROCESSING_PREFIX):].strip("/"):
        raise JobInputError(
            f"{where}.LocalPath {path!r} must name a directory below {PROCESSING_PREFIX} without '.' or '..'"
        )
    return path.rstrip("/")


def _run(name: str, request: dict, ctx: JobContext, description: dict[str, Any]) -> JobResult:
    app = request.get("AppSpecification") or {}
    entrypoint = list(app.get("ContainerEntrypoint") or [])
    if not entrypoint:
        raise JobInputError(
            f"image {app.get('ImageUri', '<none>')} would run its own entry point, which the local engine "
            "cannot do: give AppSpecification.ContainerEntrypoint (e.g. ['python3', '/opt/ml/processing/"
            "input/code/script.py'])"
        )
    sandbox = Sandbox(ctx.work_dir)
    s3 = ctx.client("s3")
    ctx.log(f"[local] processing job {name}: sandbox {sandbox.root} ({sandbox.backend} backend)")
    sandbox.real("/opt/ml/processing").mkdir(parents=True, exist_ok=True)

    for item in request.get("ProcessingInputs") or []:
        if item.get("AppManaged"):
            continue
        s3_input = item.get("S3Input")
        if not s3_input:
            what = "DatasetDefinition" if item.get("DatasetDefinition") else "this input type"
            raise JobInputError(f"input {item.get('InputName')}: {what} is not supported locally")
        local = check_local_path(s3_input.get("LocalPath"), f"ProcessingInputs[{item.get('InputName')}]")
        if s3_input.get("S3InputMode", "File") != "File":
            ctx.log(f"[local] input {item.get('InputName')}: {s3_input['S3InputMode']} mode runs as File")
        files = _s3.download_input(s3, s3_input.get("S3DataType", "S3Prefix"), s3_input["S3Uri"],
                                   sandbox.real(local))
        ctx.log(f"[local] input {item.get('InputName')}: {len(files)} object(s) from {s3_input['S3Uri']}")

    outputs = []
    for item in (request.get("ProcessingOutputConfig") or {}).get("Outputs") or []:
        if item.get("AppManaged"):
            continue
        s3_output = item.get("S3Output")
        if not s3_output:
            raise JobInputError(f"output {item.get('OutputName')}: only S3Output is supported locally")
        local = check_local_path(s3_output.get("LocalPath"), f"ProcessingOutputs[{item.get('OutputName')}]")
        sandbox.real(local).mkdir(parents=True, exist_ok=True)
        outputs.append((item.get("OutputName"), local, s3_output["S3Uri"]))

    argv = [*entrypoint, *(app.get("ContainerArguments") or [])]
    env = user_env(ctx, {"PROCESSING_JOB_NAME": name}, request.get("Environment"))
    for path in (a for a in argv if is_opt_ml(a)):
        # Scripts are usually inputs; only exec bits can be missing after an S3 download.
        real = sandbox.real(path)
        if real.is_file() and not path.endswith(".py"):
            real.chmod(real.stat().st_mode | 0o111)
    max_runtime = (request.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")
    description["ProcessingStartTime"] = utcnow()
    outcome = sandbox.run(argv, env, "/", ctx, timeout=float(max_runtime) if max_runtime else None)
    description["ProcessingEndTime"] = utcnow()
    if outcome.stopped:
        return _finish(description, STOPPED, None, ctx)
    if outcome.timed_out:
        reason = f"MaxRuntimeExceeded: processing job ran longer than MaxRuntimeInSeconds={max_runtime}"
        return _finish(description, FAILED, reason, ctx)
    if outcome.exit_code != 0:
        description["ExitMessage"] = "\n".join(outcome.tail[-5:])[-1024:]
        return _finish(description, FAILED, algorithm_error(outcome.exit_code, outcome.tail, argv), ctx)

    for output_name, local, uri in outputs:
        written = _s3.upload_dir(s3, sandbox.real(local), uri, within=sandbox.root, log=ctx.log)
        ctx.log(f"[local] output {output_name}: {len(written)} file(s) to {uri}")
    return _finish(description, COMPLETED, None, ctx)


def _finish(description: dict[str, Any], status: str, reason: str | None, ctx: JobContext) -> JobResult:
    description["ProcessingJobStatus"] = status
    description["LastModifiedTime"] = utcnow()
    if reason:
        description["FailureReason"] = reason
        ctx.log(f"[local] {reason}")
    return JobResult(status=status, description=description, failure_reason=reason)
