"""The expression context of one execution (and step): what Get, Std:Join, JsonGet resolve against.

Parameters and execution variables come from the execution record, step properties from the steps that
succeeded, property files and JsonGet from S3, read as the pipeline role.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .context import as_pipeline_role, job_name
from .expressions import ExpressionError, Resolver, format_datetime
from .state import SUCCEEDED, ExecutionRecord, StepRecord, utcnow

if TYPE_CHECKING:
    from .access import AccessControl
    from .clients import EngineClients


def s3_json_reader(clients: EngineClients, access: AccessControl, ex: ExecutionRecord) -> Callable[[str], Any]:
    """Reads a JSON object from S3 as the execution's pipeline role (JsonGet, property files)."""

    def read(uri: str) -> Any:
        if not uri.startswith("s3://"):
            raise ExpressionError(f"Not an S3 URI: {uri!r}")
        bucket, _, key = uri[5:].partition("/")
        try:
            if access.enabled:
                as_pipeline_role(access, ex, None, "s3:GetObject", f"arn:aws:s3:::{bucket}/{key}")
            client = clients.client("s3", ex.region, ex.pipeline.account_id)
            body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except Exception as exc:
            raise ExpressionError(f"Cannot read {uri}: {exc}") from exc
        try:
            return json.loads(body)
        except ValueError as exc:
            raise ExpressionError(f"{uri} is not JSON: {exc}") from exc

    return read


def execution_resolver(
    ex: ExecutionRecord,
    record: StepRecord | None,
    *,
    lock: threading.RLock,
    read_s3_json: Callable[[str], Any],
) -> Resolver:
    """A resolver for ``record``'s arguments (or, without a record, for the execution's own settings).

    ``lock`` is the engine's: step records change under it while other steps run.
    """

    def execution_variable(name: str) -> Any:
        values = {
            "PipelineExecutionId": ex.id,
            "PipelineExecutionArn": ex.arn,
            "PipelineName": ex.pipeline.name,
            "PipelineArn": ex.pipeline.arn,
            "StartDateTime": format_datetime(ex.creation_time),
            "CurrentDateTime": format_datetime(utcnow()),
        }
        if name in values:
            return values[name]
        if name in ("TrainingJobName", "ProcessingJobName") and record is not None:
            return job_name(ex, record)
        raise ExpressionError(f"Unknown execution variable {name!r}")

    def step_properties(name: str) -> dict[str, Any]:
        with lock:
            step = ex.steps.get(name)
        if step is None or step.status != SUCCEEDED or step.properties is None:
            state = "has not run" if step is None else f"is {step.status}"
            raise ExpressionError(f"Step {name} {state}; its properties are not available")
        return step.properties

    def property_file(step: str, name: str) -> Any:
        key = (step, name)
        if key not in ex.property_files:
            ex.property_files[key] = _load_property_file(ex, step, name, step_properties(step), read_s3_json)
        return ex.property_files[key]

    return Resolver(
        parameters=ex.parameters,
        execution_variables=execution_variable,
        step_properties=step_properties,
        property_file=property_file,
        read_s3_json=read_s3_json,
    )


def _load_property_file(
    ex: ExecutionRecord, step: str, name: str, properties: dict[str, Any], read_s3_json: Callable[[str], Any]
) -> Any:
    spec = ex.graph.steps.get(step)
    declared = (
        [p for p in (spec.raw.get("PropertyFiles") or []) if p.get("PropertyFileName") == name]
        if spec
        else []
    )
    if not declared:
        raise ExpressionError(f"Step {step} declares no property file named {name}")
    pf = declared[0]
    outputs = (properties.get("ProcessingOutputConfig") or {}).get("Outputs") or []
    match = [o for o in outputs if o.get("OutputName") == pf.get("OutputName")]
    if not match:
        raise ExpressionError(
            f"Step {step} has no output {pf.get('OutputName')!r} for property file {name}"
        )
    base = match[0]["S3Output"]["S3Uri"].rstrip("/")
    return read_s3_json(f"{base}/{pf.get('FilePath', '').lstrip('/')}")
