"""Batch transform jobs: a local inference entry point run over the input objects.

The model comes from DescribeModel (moto stores it): its ``ModelDataUrl`` is extracted to /opt/ml/model
and its ``SAGEMAKER_PROGRAM`` / ``SAGEMAKER_SUBMIT_DIRECTORY`` environment name the entry point, which
runs in a sandboxed subprocess (``_transform_worker.py``) with the inference toolkit's handler
conventions. The runner itself splits (``SplitType`` None/Line), batches (``BatchStrategy``), applies
``DataProcessing`` filters and joins, and writes ``<S3OutputPath>/<input path>.out`` assembled per
``AssembleWith``. The model's image is never pulled or run.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_sagemaker_mlops.local.jobs import _s3
from airflow_sagemaker_mlops.local.jobs._common import algorithm_error, user_env
from airflow_sagemaker_mlops.local.jobs._jsonpath import JsonPath
from airflow_sagemaker_mlops.local.jobs._s3 import JobInputError, S3Uri
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

MODEL_DIR = "/opt/ml/model"
CODE_DIR = "/opt/ml/code"
_WORKER = Path(__file__).with_name("_transform_worker.py")
_DEFAULT_MAX_PAYLOAD_MB = 6


def run_transform_job(name: str, request: dict, ctx: JobContext) -> JobResult:
    """Run a CreateTransformJob request; returns a DescribeTransformJob-shaped description."""
    created = utcnow()
    description: dict[str, Any] = {
        "TransformJobName": name,
        "TransformJobArn": ctx.arn(f"transform-job/{name.lower()}"),
        "TransformJobStatus": "InProgress",
        "ModelName": request.get("ModelName", ""),
        "TransformInput": request.get("TransformInput") or {},
        "TransformOutput": request.get("TransformOutput") or {},
        "TransformResources": request.get("TransformResources") or {},
        "CreationTime": created,
    }
    for key in ("MaxConcurrentTransforms", "ModelClientConfig", "MaxPayloadInMB", "BatchStrategy",
                "Environment", "DataProcessing", "DataCaptureConfig", "ExperimentConfig"):
        if request.get(key) is not None:
            description[key] = request[key]
    try:
        return _run(name, request, ctx, description)
    except JobInputError as exc:
        return _finish(description, FAILED, f"ClientError: {exc}", ctx)
    except Exception as exc:  # an engine bug must surface as this job's failure, not kill the engine
        log.exception("transform job %s crashed in the local runner", name)
        return _finish(description, FAILED, f"InternalServerError: {exc!r}", ctx)


# --- records ---------------------------------------------------------------------------------


def _format_of(content_type: str | None) -> str | None:
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == "text/csv":
        return "csv"
    if kind in ("application/json", "application/jsonlines", "application/x-jsonlines"):
        return "json"
    return None


def _parse_record(text: str, fmt: str) -> Any:
    if fmt == "csv":
        return next(csv.reader([text]), [])
    try:
        return json.loads(text)
    except ValueError as exc:
        raise JobInputError(f"record is not JSON: {text[:80]!r}") from exc


def _dump_record(value: Any, fmt: str) -> str:
    if fmt == "csv":
        fields = value if isinstance(value, list) else [value]
        buf = io.StringIO()
        csv.writer(buf, lineterminator="").writerow(
            [json.dumps(f) if isinstance(f, (dict, list)) else f for f in fields])
        return buf.getvalue()
    return json.dumps(value, separators=(",", ":"))


@dataclass
class _Processing:
    """DataProcessing: InputFilter, JoinSource, OutputFilter."""

    input_filter: JsonPath | None
    output_filter: JsonPath | None
    join: bool
    input_fmt: str | None
    output_fmt: str | None

    @classmethod
    def from_request(cls, request: dict) -> _Processing:
        config = request.get("DataProcessing") or {}
        in_filter = config.get("InputFilter")
        out_filter = config.get("OutputFilter")
        join = (config.get("JoinSource") or "None") == "Input"
        input_fmt = _format_of((request.get("TransformInput") or {}).get("ContentType"))
        output_fmt = _format_of((request.get("TransformOutput") or {}).get("Accept")) or input_fmt
        parsed = cls(
            JsonPath.parse(in_filter) if in_filter and in_filter.strip() != "$" else None,
            JsonPath.parse(out_filter) if out_filter and out_filter.strip() != "$" else None,
            join, input_fmt, output_fmt,
        )
        if (parsed.input_filter or parsed.join) and input_fmt is None:
            raise JobInputError("InputFilter/JoinSource need CSV or JSON input (TransformInput.ContentType)")
        if parsed.output_filter and (output_fmt or input_fmt) is None:
            raise JobInputError("OutputFilter needs CSV or JSON output (TransformOutput.Accept)")
        return parsed

    @property
    def per_record(self) -> bool:
        return bool(self.join or self.output_filter)

    def filter_input(self, record: str) -> str:
        if not self.input_filter or self.input_fmt is None:
            return record
        return _dump_record(self.input_filter.apply(_parse_record(record, self.input_fmt)), self.input_fmt)

    def combine(self, source: str, output: str) -> str:
        fmt = (self.input_fmt if self.join else self.output_fmt) or self.output_fmt or "json"
        value = _parse_record(output, fmt) if fmt == "csv" else _loose_json(output)
        if self.join:
            original = _parse_record(source, fmt)
            if fmt == "csv":
                value = [*original, *(value if isinstance(value, list) else [value])]
            elif isinstance(original, dict):
                value = {**original, "SageMakerOutput": value}
            elif isinstance(original, list):
                value = [*original, value]
            else:
                raise JobInputError("JoinSource=Input needs JSON objects or arrays as input records")
        if self.output_filter:
            value = self.output_filter.apply(value)
        return _dump_record(value, fmt)


def _loose_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _split_records(body: bytes, split_type: str) -> list[str]:
    text = body.decode("utf-8")
    if split_type == "None":
        return [text]
    if split_type == "Line":
        return [line for line in text.splitlines() if line.strip()]
    raise JobInputError(f"SplitType {split_type} is not supported locally (None and Line are)")


def _batches(records: list[str], strategy: str, max_bytes: int) -> list[list[str]]:
    if strategy != "MultiRecord":
        return [[r] for r in records]
    batches: list[list[str]] = []
    current: list[str] = []
    size = 0
    for record in records:
        extra = len(record.encode()) + 1
        if current and size + extra > max_bytes:
            batches.append(current)
            current, size = [], 0
        current.append(record)
        size += extra
    if current:
        batches.append(current)
    return batches


@dataclass
class _Object:
    """One input object and the requests made from it."""

    key: str
    rel: str
    originals: list[str] = field(default_factory=list)  # records before InputFilter, for JoinSource
    batches: list[list[str]] = field(default_factory=list)  # filtered records per request
    request_ids: list[int] = field(default_factory=list)


# --- the job ---------------------------------------------------------------------------------


def _model_container(ctx: JobContext, model_name: str) -> dict[str, Any]:
    try:
        model = ctx.client("sagemaker").describe_model(ModelName=model_name)
    except Exception as exc:
        raise JobInputError(f"model {model_name!r} not found: {exc}") from exc
    containers = model.get("Containers") or []
    if model.get("PrimaryContainer"):
        return model["PrimaryContainer"]
    if len(containers) == 1:
        return containers[0]
    raise JobInputError(f"model {model_name!r} has {len(containers)} containers; the local engine runs one")


def _input_objects(s3: Any, source: dict) -> list[tuple[S3Uri, str]]:
    uri = source["S3Uri"]
    data_type = source.get("S3DataType", "S3Prefix")
    parsed = S3Uri.parse(uri)
    if data_type == "S3Prefix":
        keys = _s3.list_keys(s3, parsed)
        if not keys:
            raise JobInputError(f"no S3 objects found under {uri}")
        return [(S3Uri(parsed.bucket, k), _s3.relative_key(parsed.key, k)) for k in keys]
    if data_type == "ManifestFile":
        manifest = json.loads(s3.get_object(Bucket=parsed.bucket, Key=parsed.key)["Body"].read())
        prefix = S3Uri.parse(manifest[0]["prefix"])
        return [(S3Uri(prefix.bucket, prefix.key + str(rel)), str(rel)) for rel in manifest[1:]]
    raise JobInputError(f"S3DataType {data_type!r} is not supported locally")


def _run(name: str, request: dict, ctx: JobContext, description: dict[str, Any]) -> JobResult:
    transform_input = request.get("TransformInput") or {}
    transform_output = request.get("TransformOutput") or {}
    source = (transform_input.get("DataSource") or {}).get("S3DataSource")
    if not source:
        raise JobInputError("TransformInput.DataSource.S3DataSource is required")
    if not transform_output.get("S3OutputPath"):
        raise JobInputError("TransformOutput.S3OutputPath is required")
    processing = _Processing.from_request(request)
    split_type = transform_input.get("SplitType") or "None"
    strategy = request.get("BatchStrategy") or "MultiRecord"
    max_bytes = int(request.get("MaxPayloadInMB") or _DEFAULT_MAX_PAYLOAD_MB) * 1024 * 1024
    content_type = transform_input.get("ContentType")
    accept = transform_output.get("Accept") or content_type or "application/json"

    container = _model_container(ctx, request["ModelName"])
    env_model = dict(container.get("Environment") or {})
    sandbox = Sandbox(ctx.work_dir)
    s3 = ctx.client("s3")
    ctx.log(f"[local] transform job {name}: sandbox {sandbox.root} ({sandbox.backend} backend)")
    model_dir = sandbox.real(MODEL_DIR)
    model_dir.mkdir(parents=True, exist_ok=True)
    if container.get("ModelDataUrl"):
        _s3.download_and_extract(s3, container["ModelDataUrl"], model_dir, sandbox.internal / "scratch")
    code_dir, program = _entry_point(s3, sandbox, env_model)

    # Requests: every input object split into records, filtered, batched.
    io_dir = sandbox.internal / "transform"
    (io_dir / "requests").mkdir(parents=True, exist_ok=True)
    (io_dir / "responses").mkdir(parents=True, exist_ok=True)
    objects: list[_Object] = []
    manifest_requests: list[dict[str, str]] = []
    for uri, rel in _input_objects(s3, source):
        body = s3.get_object(Bucket=uri.bucket, Key=uri.key)["Body"].read()
        if transform_input.get("CompressionType") == "Gzip":
            body = gzip.decompress(body)
        originals = _split_records(body, split_type)
        records = [processing.filter_input(r) for r in originals]
        obj = _Object(key=uri.key, rel=rel, originals=originals,
                      batches=_batches(records, strategy, max_bytes))
        for batch in obj.batches:
            index = len(manifest_requests)
            payload = "\n".join(batch).encode() if split_type != "None" else batch[0].encode()
            if len(payload) > max_bytes:
                raise JobInputError(
                    f"a request from {uri} is {len(payload)} bytes, over MaxPayloadInMB; use SplitType Line")
            request_path = io_dir / "requests" / f"{index:06d}.bin"
            request_path.write_bytes(payload)
            manifest_requests.append({
                "body": str(request_path),
                "response": str(io_dir / "responses" / f"{index:06d}.bin"),
                "content_type": content_type or "",
                "accept": accept,
            })
            obj.request_ids.append(index)
        objects.append(obj)
    manifest = {
        "code_dir": sandbox.visible(code_dir),
        "program": program,
        "model_dir": sandbox.visible(MODEL_DIR),
        "requests": manifest_requests,
    }
    manifest_path = io_dir / "manifest.json"
    manifest_path.write_text(json.dumps(manifest))
    ctx.log(f"[local] {len(objects)} input object(s), {len(manifest_requests)} request(s) to {program}")

    env = user_env(
        ctx, env_model, request.get("Environment"),
        {"SAGEMAKER_PROGRAM": program, "SM_MODEL_DIR": sandbox.visible(MODEL_DIR),
         "TRANSFORM_JOB_NAME": name},
    )
    worker = sandbox.internal / "_transform_worker.py"
    worker.write_bytes(_WORKER.read_bytes())
    argv = ["python", str(worker), str(manifest_path)]
    description["TransformStartTime"] = utcnow()
    outcome = sandbox.run(argv, env, code_dir, ctx)
    description["TransformEndTime"] = utcnow()
    if outcome.stopped:
        return _finish(description, STOPPED, None, ctx)
    if outcome.exit_code != 0:
        return _finish(description, FAILED,
                       algorithm_error(outcome.exit_code, outcome.tail, ["serve", program]), ctx)

    out_root = S3Uri.parse(transform_output["S3OutputPath"])
    assemble = transform_output.get("AssembleWith") or "None"
    for obj in objects:
        body = _assemble(obj, io_dir, processing, assemble, strategy)
        target = out_root.join(obj.rel + ".out")
        s3.put_object(Bucket=target.bucket, Key=target.key, Body=body)
        ctx.log(f"[local] wrote {target}")
    return _finish(description, COMPLETED, None, ctx)


def _entry_point(s3: Any, sandbox: Sandbox, env: dict[str, str]) -> tuple[str, str]:
    """(virtual code dir, program) of the inference script, from the model's environment."""
    program = env.get("SAGEMAKER_PROGRAM")
    submit = env.get("SAGEMAKER_SUBMIT_DIRECTORY", "")
    if submit.startswith("s3://"):
        _s3.download_and_extract(s3, submit, sandbox.real(CODE_DIR), sandbox.internal / "scratch")
        code_dir = CODE_DIR
    elif submit and is_opt_ml(submit):
        code_dir = submit.rstrip("/")  # e.g. /opt/ml/model/code, packed into model.tar.gz
    else:
        code_dir = f"{MODEL_DIR}/code"
    if not program and sandbox.real(code_dir).joinpath("inference.py").is_file():
        program = "inference.py"
    if not program:
        raise JobInputError(
            "the model names no inference script (container Environment SAGEMAKER_PROGRAM): the local "
            "engine runs script-mode entry points with model_fn/input_fn/predict_fn/output_fn; the model's "
            "image is not run")
    if not sandbox.real(code_dir).joinpath(program).is_file():
        raise JobInputError(f"inference script {program!r} not found in {submit or code_dir}")
    return code_dir, program


def _assemble(obj: _Object, io_dir: Path, processing: _Processing, assemble: str, strategy: str) -> bytes:
    responses = [(io_dir / "responses" / f"{i:06d}.bin").read_bytes() for i in obj.request_ids]
    line = assemble == "Line"
    if not processing.per_record:
        if not line:
            return b"".join(responses)
        return b"".join(r if r.endswith(b"\n") else r + b"\n" for r in responses)
    out: list[str] = []
    sources = iter(obj.originals)
    for batch, response in zip(obj.batches, responses, strict=True):
        outputs = _response_records(response.decode("utf-8"), len(batch))
        out.extend(processing.combine(next(sources), output) for output in outputs)
    separator = "\n" if line else ""
    return (separator.join(out) + separator).encode()


def _response_records(text: str, count: int) -> list[str]:
    """Split one response into the records of its batch, to join or filter them one by one."""
    stripped = text.strip()
    if count == 1:
        return [stripped]
    lines = [line for line in stripped.splitlines() if line.strip()]
    if len(lines) == count:
        return lines
    parsed = _loose_json(stripped)
    if isinstance(parsed, list) and len(parsed) == count:
        return [json.dumps(v) for v in parsed]
    raise JobInputError(
        f"a response holds {len(lines)} line(s) for {count} input records; JoinSource/OutputFilter need "
        "one output record per input record")


def _finish(description: dict[str, Any], status: str, reason: str | None, ctx: JobContext) -> JobResult:
    description["TransformJobStatus"] = status
    description.setdefault("TransformEndTime", utcnow())
    if reason:
        description["FailureReason"] = reason
        ctx.log(f"[local] {reason}")
    return JobResult(status=status, description=description, failure_reason=reason)
