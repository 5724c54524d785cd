"""Hooks for SageMaker Pipelines: upsert, start, describe, list steps, stop, retry, callbacks, step outputs.

Built on the Amazon provider's ``AwsBaseHook`` so connections, regions, assumed roles and ``endpoint_url``
(the local engine) work as for every other AWS hook. Both hooks default to botocore's *standard* retry mode
with many attempts: SageMaker throttles its control plane per account, and a DAG with many groups
starting together must ride that out instead of failing tasks. Errors that survive the retries are raised
as :class:`~airflow_sagemaker_mlops.hooks.errors.SageMakerApiError` subclasses carrying AWS's code and
message.

Everything these hooks return is JSON-serialisable (timestamps become ISO 8601 strings), so it can go to
XCom or into a TriggerEvent as is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, Literal

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from botocore.config import Config
from botocore.exceptions import ClientError

from airflow_sagemaker_mlops.definition.parameters import PipelineParameter, check_run_values
from airflow_sagemaker_mlops.definition.pipeline import S3_DEFINITION_THRESHOLD_BYTES, PipelineSpec
from airflow_sagemaker_mlops.definition.statuses import STOPPABLE
from airflow_sagemaker_mlops.definition.step_kinds import STEP_KINDS, step_type_of_metadata
from airflow_sagemaker_mlops.exceptions import PipelineDefinitionError, SageMakerMlopsError

from .errors import (
    PipelineParameterError,
    SageMakerApiError,
    SageMakerConflictError,
    SageMakerResourceNotFoundError,
    SageMakerValidationError,
    wrap_client_error,
)

log = logging.getLogger(__name__)

#: botocore retries for every client these hooks make, unless the connection sets its own ``retries``.
#: Standard mode retries throttling and transient (5xx, connection) errors with jittered exponential
#: backoff capped at 20 s; 12 attempts ride out a couple of minutes of heavy throttling.
DEFAULT_RETRIES: dict[str, Any] = {"mode": "standard", "max_attempts": 12}

#: Tag holding the content hash of the definition last upserted, so drift from console edits is visible.
DEFINITION_HASH_TAG = "sagemaker-mlops:definition-hash"
#: S3 prefix of content-addressed definitions too large to send inline.
DEFINITION_PREFIX = "sagemaker-mlops/pipelines"

def jsonable(value: Any) -> Any:
    """``value`` with datetimes as ISO 8601 strings and botocore's ResponseMetadata dropped."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def definition_hash(definition_json: str) -> str:
    """The content hash of a definition as stored by SageMaker, comparable with ``content_hash()``."""
    canonical = json.dumps(json.loads(definition_json), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def format_value(value: Any) -> str:
    """A parameter or output value as the string SageMaker's APIs carry (booleans as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, separators=(",", ":"))


@dataclass(frozen=True)
class UpsertResult:
    """What an upsert did.

    Args:
        pipeline_arn: the pipeline's ARN.
        action: ``created``, ``updated`` or ``unchanged`` (the definition hash matched: no UpdatePipeline call).
        definition_hash: sha256 of the canonical definition JSON.
    """

    pipeline_arn: str
    action: Literal["created", "updated", "unchanged"]
    definition_hash: str


#: Loggers whose INFO lines repeat on every client a task makes ("Found credentials in environment variables.").
CHATTY_LOGGERS = ("botocore.credentials", "aiobotocore.credentials")


class _DemoteToDebug(logging.Filter):
    """Turns a record into a DEBUG one, kept only where DEBUG is enabled."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.DEBUG and record.levelno < logging.WARNING:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


def quiet_credential_chatter() -> None:
    """Credential discovery at DEBUG: which provider found the keys is no news on the tenth client of a task.
    Warnings (expired tokens, ...) stay as they are. Idempotent."""
    for name in CHATTY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DemoteToDebug) for f in logger.filters):
            logger.addFilter(_DemoteToDebug())


class _RetryingAwsHook(AwsBaseHook):
    """AwsBaseHook for one ``aws_service`` whose clients default to ``default_retries`` (a connection's own
    ``retries`` wins)."""

    aws_service: ClassVar[str]
    default_retries: ClassVar[dict[str, Any]] = DEFAULT_RETRIES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        quiet_credential_chatter()
        kwargs["client_type"] = self.aws_service
        super().__init__(*args, **kwargs)

    @property
    def config(self) -> Config:
        base = super().config
        if base.retries:
            return base
        return base.merge(Config(retries=dict(self.default_retries)))


class _RetryingAsyncAwsHook(_RetryingAwsHook):
    """The same on aiobotocore: a poller opens one client with :meth:`client` and passes it to every call
    (creating one loads the service model, which is costly)."""

    @asynccontextmanager
    async def client(self) -> AsyncIterator[Any]:
        async with await self.get_async_conn() as client:
            yield client


class SageMakerApiHook(_RetryingAwsHook):
    """A SageMaker client with our retries; ``_call`` turns ClientErrors into SageMakerApiError subclasses."""

    aws_service = "sagemaker"

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return getattr(self.conn, operation)(**kwargs)
        except ClientError as exc:
            raise wrap_client_error(exc) from exc


class SageMakerPipelinesHook(SageMakerApiHook):
    """Synchronous SageMaker Pipelines calls; see the module docstring for retries and errors."""

    #: ListPipelineExecutionSteps page size (SageMaker's maximum): fewest calls per poll.
    steps_page_size = 100

    # ---- plumbing ---------------------------------------------------------------------------------

    def _service_client(self, service: str) -> Any:
        return self.get_session(region_name=self.region_name).client(
            service,
            endpoint_url=self.conn_config.get_service_endpoint_url(service),
            config=self._get_config(),
            verify=self.verify,
        )

    @cached_property
    def s3(self) -> Any:
        return self._service_client("s3")

    @contextmanager
    def _s3_errors(self) -> Iterator[None]:
        try:
            yield
        except ClientError as exc:
            raise wrap_client_error(exc) from exc

    def _s3_object_exists(self, bucket: str, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code"))
            if code in ("404", "NoSuchKey", "NotFound"):
                return False
            raise wrap_client_error(exc) from exc
        return True

    def _ensure_bucket(self, bucket: str) -> None:
        try:
            self.s3.head_bucket(Bucket=bucket)
            return
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) not in ("404", "NoSuchBucket", "NotFound"):
                raise wrap_client_error(exc) from exc
        region = self.conn_region_name
        kwargs: dict[str, Any] = {"Bucket": bucket}
        if region and region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        log.info("creating S3 bucket %s for pipeline definitions", bucket)
        try:
            self.s3.create_bucket(**kwargs)
        except ClientError as exc:
            # Another task created it between our HEAD and CREATE: fine.
            if exc.response.get("Error", {}).get("Code") not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise wrap_client_error(exc) from exc

    def default_bucket(self) -> str:
        """``sagemaker-<region>-<account>``, SageMaker SDK's default bucket name."""
        return f"sagemaker-{self.conn_region_name}-{self.account_id}"

    # ---- pipelines --------------------------------------------------------------------------------

    def describe_pipeline(self, pipeline: str) -> dict[str, Any] | None:
        """DescribePipeline, or None when the pipeline does not exist.

        Args:
            pipeline: the pipeline's name or ARN.
        """
        try:
            return self._call("describe_pipeline", PipelineName=pipeline)
        except SageMakerResourceNotFoundError:
            return None

    def upsert_pipeline(self, spec: PipelineSpec, *, definition_bucket: str | None = None) -> UpsertResult:
        """Create the pipeline, or update it only when its definition or settings changed.

        Unchanged (no UpdatePipeline call) means the deployed definition has the same content hash and
        every pipeline setting the spec gives (role, description, display name, parallelism) matches;
        settings the spec leaves as None are left as deployed.

        Args:
            spec: the pipeline (a compiled group's ``spec``).
            definition_bucket: the S3 bucket for definitions of 100 KiB or more (default
                ``sagemaker-<region>-<account>``).
        """
        digest = spec.definition.content_hash()
        body = spec.definition.to_json()
        deployed = self.describe_pipeline(spec.name)
        if deployed is None:
            try:
                arn = self._create_pipeline(spec, body, digest, definition_bucket)
                log.info("created pipeline %s (definition %s)", spec.name, digest[:12])
                return UpsertResult(arn, "created", digest)
            except SageMakerValidationError as exc:
                if "already exists" not in exc.message:
                    raise
                # Another task created it since our describe: compare against what it deployed.
                log.info("pipeline %s was created concurrently; updating instead", spec.name)
                deployed = self._call("describe_pipeline", PipelineName=spec.name)
        changed = self._differences(spec, digest, deployed)
        arn = deployed["PipelineArn"]
        if not changed:
            log.info("pipeline %s unchanged (definition %s)", spec.name, digest[:12])
            return UpsertResult(arn, "unchanged", digest)
        log.info("updating pipeline %s: %s changed", spec.name, ", ".join(changed))
        request: dict[str, Any] = {"PipelineName": spec.name}
        request.update(self._settings(spec))
        request.update(self._definition_argument(spec.name, body, digest, definition_bucket))
        arn = self._call("update_pipeline", **request).get("PipelineArn", arn)
        tags = {**spec.tags, DEFINITION_HASH_TAG: digest}
        self._call("add_tags", ResourceArn=arn, Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())])
        return UpsertResult(arn, "updated", digest)

    @staticmethod
    def _settings(spec: PipelineSpec) -> dict[str, Any]:
        settings: dict[str, Any] = {}
        if spec.role_arn:
            settings["RoleArn"] = spec.role_arn
        if spec.description is not None:
            settings["PipelineDescription"] = spec.description
        if spec.display_name:
            settings["PipelineDisplayName"] = spec.display_name
        parallelism = spec.parallelism_configuration()
        if parallelism:
            settings["ParallelismConfiguration"] = parallelism
        return settings

    def _create_pipeline(
        self, spec: PipelineSpec, body: str, digest: str, definition_bucket: str | None
    ) -> str:
        if not spec.role_arn:
            raise PipelineDefinitionError(f"pipeline {spec.name!r} does not exist and creating it needs a role_arn")
        tags = {**spec.tags, DEFINITION_HASH_TAG: digest}
        request: dict[str, Any] = {
            "PipelineName": spec.name,
            # Same name + same definition -> same token: a create replayed after a timeout, or racing
            # another task deploying the same definition, returns the pipeline instead of failing.
            "ClientRequestToken": self.execution_token("create-pipeline", spec.name, digest),
            "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())],
        }
        request.update(self._settings(spec))
        request.update(self._definition_argument(spec.name, body, digest, definition_bucket))
        return self._call("create_pipeline", **request)["PipelineArn"]

    @staticmethod
    def _differences(spec: PipelineSpec, digest: str, deployed: dict[str, Any]) -> list[str]:
        changed = []
        text = deployed.get("PipelineDefinition")
        try:
            deployed_digest = definition_hash(text) if text else None
        except ValueError:
            deployed_digest = None
        if deployed_digest != digest:
            changed.append("definition")
        if spec.role_arn and spec.role_arn != deployed.get("RoleArn"):
            changed.append("role")
        if spec.description is not None and spec.description != deployed.get("PipelineDescription", ""):
            changed.append("description")
        if spec.display_name and spec.display_name != deployed.get("PipelineDisplayName"):
            changed.append("display name")
        if spec.max_parallel_steps is not None and spec.max_parallel_steps != (
            deployed.get("ParallelismConfiguration") or {}
        ).get("MaxParallelExecutionSteps"):
            changed.append("parallelism")
        return changed

    def _definition_argument(
        self, name: str, body: str, digest: str, definition_bucket: str | None
    ) -> dict[str, Any]:
        size = len(body.encode("utf-8"))
        if size < S3_DEFINITION_THRESHOLD_BYTES:
            return {"PipelineDefinition": body}
        bucket = definition_bucket or self.default_bucket()
        key = f"{DEFINITION_PREFIX}/{name}/{digest}.json"
        self._ensure_bucket(bucket)
        if not self._s3_object_exists(bucket, key):
            with self._s3_errors():
                self.s3.put_object(Bucket=bucket, Key=key, Body=body.encode("utf-8"), ContentType="application/json")
        log.info("pipeline %s definition is %d bytes: sending it through s3://%s/%s", name, size, bucket, key)
        return {"PipelineDefinitionS3Location": {"Bucket": bucket, "ObjectKey": key}}

    # ---- code assets ------------------------------------------------------------------------------

    def upload_code_asset(self, local_path: str, bucket: str, prefix: str) -> str:
        """Upload a file, or a directory as a deterministic ``sourcedir.tar.gz``, under its sha256.

        The key is ``<prefix>/<sha256>/<file name>`` (``sourcedir.tar.gz`` for a directory), so equal
        content always maps to the same URI (a definition that references it stays unchanged) and an
        existing key is not uploaded again.

        Args:
            local_path: the file or directory to upload (a directory goes up as ``sourcedir.tar.gz``).
            bucket: the S3 bucket.
            prefix: the key prefix (the key is ``<prefix>/<sha256>/<file name>``).
        """
        from airflow_sagemaker_mlops.compiler.assets import package

        try:
            payload, filename = package(local_path)
        except PipelineDefinitionError as exc:
            raise SageMakerMlopsError(str(exc)) from None
        digest = hashlib.sha256(payload).hexdigest()
        key = "/".join(part for part in (prefix.strip("/"), digest, filename) if part)
        if self._s3_object_exists(bucket, key):
            log.info("code asset %s already at s3://%s/%s", local_path, bucket, key)
        else:
            with self._s3_errors():
                self.s3.put_object(Bucket=bucket, Key=key, Body=payload)
            log.info("uploaded code asset %s to s3://%s/%s (%d bytes)", local_path, bucket, key, len(payload))
        return f"s3://{bucket}/{key}"

    # ---- executions -------------------------------------------------------------------------------

    @staticmethod
    def execution_token(*parts: str) -> str:
        """A deterministic ClientRequestToken (64 hex characters: within the field's 32..128 limit)."""
        if not parts:
            raise ValueError("execution_token needs at least one part")
        return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()

    @staticmethod
    def pipeline_parameters(
        parameters: dict[str, Any] | None, declared: dict[str, PipelineParameter] | None = None
    ) -> list[dict[str, str]]:
        """``PipelineParameters`` for StartPipelineExecution, checked against ``declared`` when given.

        Values are coerced to the declared type (``"0.8"`` -> 0.8 for a Float); None means "use the
        default". Raises PipelineParameterError naming every bad value; nothing is sent.

        Args:
            parameters: the run's values by name.
            declared: the pipeline's declarations; None: the values are sent as given.
        """
        parameters = dict(parameters or {})
        if declared is not None:
            values, problems = check_run_values(parameters, declared)
        else:
            values = {k: v for k, v in parameters.items() if v is not None}
            problems = [f"parameter {name!r}: {value!r} is not a finite number" for name, value in values.items()
                        if isinstance(value, float) and not math.isfinite(value)]
        if problems:
            raise PipelineParameterError("invalid pipeline parameters: " + "; ".join(problems))
        return [{"Name": name, "Value": format_value(value)} for name, value in values.items()]

    def start_execution(
        self,
        pipeline: str,
        *,
        parameters: dict[str, Any] | None = None,
        declared: dict[str, PipelineParameter] | None = None,
        client_request_token: str,
        display_name: str | None = None,
        description: str | None = None,
        max_parallel_steps: int | None = None,
        selective_execution: dict[str, Any] | None = None,
    ) -> str:
        """StartPipelineExecution; returns the execution ARN.

        ``pipeline`` is a name or an ARN (an ARN works for a pipeline shared from another account).
        The same ``client_request_token`` returns the execution already started with it, which is how a
        retried start task reattaches instead of starting a second execution.

        Args:
            pipeline: the pipeline's name or ARN.
            parameters: the run's parameter values by name.
            declared: the pipeline's declarations to check ``parameters`` against (see ``pipeline_parameters``).
            client_request_token: the idempotency token: a repeated call with the same token returns the same execution.
            display_name: ``PipelineExecutionDisplayName``.
            description: ``PipelineExecutionDescription``.
            max_parallel_steps: ``ParallelismConfiguration.MaxParallelExecutionSteps``.
            selective_execution: ``SelectiveExecutionConfig``: run only the selected steps.
        """
        request: dict[str, Any] = {
            "PipelineName": pipeline,
            "PipelineParameters": self.pipeline_parameters(parameters, declared),
            "ClientRequestToken": client_request_token,
        }
        if display_name:
            request["PipelineExecutionDisplayName"] = display_name
        if description:
            # Free text: cut rather than fail a run over a long description.
            request["PipelineExecutionDescription"] = description[:3072]
        if max_parallel_steps is not None:
            request["ParallelismConfiguration"] = {"MaxParallelExecutionSteps": max_parallel_steps}
        if selective_execution:
            request["SelectiveExecutionConfig"] = selective_execution
        arn = self._call("start_pipeline_execution", **request)["PipelineExecutionArn"]
        log.info("pipeline execution %s (token %s)", arn, client_request_token[:12])
        return arn

    def describe_execution(self, execution_arn: str) -> dict[str, Any]:
        """DescribePipelineExecution's response.

        Args:
            execution_arn: the execution.
        """
        return jsonable(self._call("describe_pipeline_execution", PipelineExecutionArn=execution_arn))

    def execution_definition(self, execution_arn: str) -> str:
        """The definition JSON the execution ran with (DescribePipelineDefinitionForExecution): what the
        pipeline looked like then, even if it has been updated since.

        Args:
            execution_arn: the execution.
        """
        reply = self._call("describe_pipeline_definition_for_execution", PipelineExecutionArn=execution_arn)
        return reply["PipelineDefinition"]

    def list_steps(self, execution_arn: str) -> list[dict[str, Any]]:
        """Every step entry of the execution (all pages), oldest first.

        Args:
            execution_arn: the execution.
        """
        steps: list[dict[str, Any]] = []
        paginator = self.conn.get_paginator("list_pipeline_execution_steps")
        try:
            for page in paginator.paginate(
                PipelineExecutionArn=execution_arn,
                SortOrder="Ascending",
                PaginationConfig={"PageSize": self.steps_page_size},
            ):
                steps.extend(page.get("PipelineExecutionSteps", []))
        except ClientError as exc:
            raise wrap_client_error(exc) from exc
        return jsonable(steps)

    def list_executions(self, pipeline: str, *, limit: int | None = None) -> list[dict[str, Any]]:
        """ListPipelineExecutions of a pipeline (name or ARN), newest first, at most ``limit`` (None: all).

        Args:
            pipeline: the pipeline's name or ARN.
            limit: at most this many (default: all).
        """
        summaries: list[dict[str, Any]] = []
        paginator = self.conn.get_paginator("list_pipeline_executions")
        page_size = 100 if limit is None else max(1, min(limit, 100))
        try:
            for page in paginator.paginate(PipelineName=pipeline, SortBy="CreationTime", SortOrder="Descending",
                                           PaginationConfig={"PageSize": page_size}):
                summaries.extend(page.get("PipelineExecutionSummaries", []))
                if limit is not None and len(summaries) >= limit:
                    break
        except ClientError as exc:
            raise wrap_client_error(exc) from exc
        return jsonable(summaries[:limit] if limit is not None else summaries)

    def execution_parameters(self, execution_arn: str) -> dict[str, str]:
        """The parameter values an execution ran with (ListPipelineParametersForExecution, all pages), by name,
        as the strings SageMaker reports.

        Args:
            execution_arn: the execution.
        """
        values: dict[str, str] = {}
        paginator = self.conn.get_paginator("list_pipeline_parameters_for_execution")
        try:
            for page in paginator.paginate(PipelineExecutionArn=execution_arn):
                values.update({p["Name"]: p.get("Value", "") for p in page.get("PipelineParameters", [])})
        except ClientError as exc:
            raise wrap_client_error(exc) from exc
        return values

    def stop_execution(self, execution_arn: str) -> None:
        """StopPipelineExecution; a no-op when the execution is already stopping or has ended.

        Args:
            execution_arn: the execution.
        """
        try:
            self._call(
                "stop_pipeline_execution",
                PipelineExecutionArn=execution_arn,
                ClientRequestToken=self.execution_token("stop", execution_arn),
            )
        except (SageMakerConflictError, SageMakerValidationError):
            status = self.describe_execution(execution_arn).get("PipelineExecutionStatus")
            if status is not None and status not in STOPPABLE:
                log.info("execution %s is already %s; nothing to stop", execution_arn, status)
                return
            raise
        log.info("stopping execution %s", execution_arn)

    def retry_execution(
        self, execution_arn: str, *, client_request_token: str, max_parallel_steps: int | None = None
    ) -> str:
        """RetryPipelineExecution: resume a Failed or Stopped execution from its failed steps.

        If the execution is already Executing (this retry was sent before a crash), its ARN is returned.

        Args:
            execution_arn: the failed execution.
            client_request_token: the idempotency token.
            max_parallel_steps: ``ParallelismConfiguration.MaxParallelExecutionSteps`` for the retry.
        """
        request: dict[str, Any] = {"PipelineExecutionArn": execution_arn, "ClientRequestToken": client_request_token}
        if max_parallel_steps is not None:
            request["ParallelismConfiguration"] = {"MaxParallelExecutionSteps": max_parallel_steps}
        try:
            return self._call("retry_pipeline_execution", **request)["PipelineExecutionArn"]
        except (SageMakerConflictError, SageMakerValidationError):
            status = self.describe_execution(execution_arn).get("PipelineExecutionStatus")
            if status == "Executing":
                log.warning("execution %s is already Executing; not retrying it again", execution_arn)
                return execution_arn
            raise

    def send_step_success(
        self, callback_token: str, outputs: dict[str, Any] | None = None, *, client_request_token: str | None = None
    ) -> None:
        """Answer a Callback step: success, with output parameters (values sent as strings).

        Args:
            callback_token: the token of the Callback step's message.
            outputs: the step's output parameters by name.
            client_request_token: the idempotency token.
        """
        output_list = [{"Name": k, "Value": format_value(v)} for k, v in (outputs or {}).items()]
        if len(output_list) > 50:
            raise SageMakerValidationError(
                f"{len(output_list)} output parameters; SageMaker takes at most 50", code="ValidationException"
            )
        request: dict[str, Any] = {"CallbackToken": callback_token, "OutputParameters": output_list}
        if client_request_token:
            request["ClientRequestToken"] = client_request_token
        self._call("send_pipeline_execution_step_success", **request)

    def send_step_failure(self, callback_token: str, reason: str, *, client_request_token: str | None = None) -> None:
        """Answer a Callback step: failure with ``reason`` (the step's FailureReason).

        Args:
            callback_token: the token of the Callback step's message.
            reason: the failure reason the step reports.
            client_request_token: the idempotency token.
        """
        request: dict[str, Any] = {"CallbackToken": callback_token, "FailureReason": reason[:256]}
        if client_request_token:
            request["ClientRequestToken"] = client_request_token
        self._call("send_pipeline_execution_step_failure", **request)

    # ---- step outputs -----------------------------------------------------------------------------

    @staticmethod
    def step_type(step: dict[str, Any]) -> str | None:
        """The step's type (``Training``, ``Condition``, ...) as its metadata names it, or None.

        Args:
            step: a ListPipelineExecutionSteps entry.
        """
        return step_type_of_metadata(step.get("Metadata"))

    @staticmethod
    def condition_outcome(step: dict[str, Any]) -> bool | None:
        """A Condition step's outcome, or None when it has none (not a condition, or not evaluated).

        Args:
            step: a ListPipelineExecutionSteps entry.
        """
        outcome = ((step.get("Metadata") or {}).get("Condition") or {}).get("Outcome")
        if outcome is None:
            return None
        return str(outcome).lower() == "true"

    def step_outputs(self, step: dict[str, Any]) -> dict[str, Any]:
        """What a step produced, from its ListPipelineExecutionSteps entry (plus a Describe*Job call for
        job steps), as a JSON-serialisable dict with SageMaker's names:

        always ``StepName``, ``StepType``, ``StepStatus``, ``FailureReason``, ``AttemptCount``,
        ``CacheHit`` (+ ``CacheSourceExecutionArn``), ``StartTime``, ``EndTime``, ``Arn`` (job/resource
        ARN) and the raw ``Metadata``; then per type: Training ``TrainingJobName``, ``S3ModelArtifacts``,
        ``FinalMetricDataList``, ``Metrics`` ({name: value}); Processing ``ProcessingJobName``,
        ``ProcessingOutputs`` ({output name: S3 URI}); Transform ``TransformOutputPath``; Tuning
        ``BestTrainingJob``, ``BestTrainingJobName``; RegisterModel ``ModelPackageArn``; Model
        ``ModelArn``, ``ModelName``; Callback/Lambda ``OutputParameters`` ({name: value string});
        Condition ``Outcome`` (bool); Fail ``ErrorMessage``; EMRServerless ``ApplicationId``, ``JobRunId``,
        ``JobRunName``, ``LogFilePath``. A failed Describe*Job call is logged and
        reported as ``DescribeError`` instead of failing: outputs are a courtesy, the status is the fact.

        Args:
            step: a ListPipelineExecutionSteps entry.
        """
        step = jsonable(step)
        metadata: dict[str, Any] = step.get("Metadata") or {}
        step_type = self.step_type(step)
        cache = step.get("CacheHitResult") or {}
        out: dict[str, Any] = {
            "StepName": step.get("StepName"),
            "StepType": step_type,
            "StepStatus": step.get("StepStatus"),
            "FailureReason": step.get("FailureReason"),
            "AttemptCount": step.get("AttemptCount"),
            "CacheHit": bool(cache.get("SourcePipelineExecutionArn")),
            "CacheSourceExecutionArn": cache.get("SourcePipelineExecutionArn"),
            "StartTime": step.get("StartTime"),
            "EndTime": step.get("EndTime"),
            "Arn": None,
            "Metadata": metadata,
        }
        for entry in metadata.values():
            if isinstance(entry, dict) and isinstance(entry.get("Arn"), str):
                out["Arn"] = entry["Arn"]
                break
        arn = out["Arn"]
        reader = _OUTPUT_READERS.get(step_type or "")
        if reader is not None and arn:
            resource = STEP_KINDS[step_type].resource
            try:
                desc = jsonable(self._call(resource.describe, **{resource.name_field: _resource_name(arn)}))
            except SageMakerApiError as exc:
                log.warning("cannot describe the job of step %s (%s): %s", out["StepName"], arn, exc)
                out["DescribeError"] = str(exc)
            else:
                out[resource.name_field] = desc.get(resource.name_field)
                reader(desc, out)
        if step_type == "RegisterModel":
            out["ModelPackageArn"] = arn
        elif step_type == "Model":
            out["ModelArn"] = arn
            out["ModelName"] = _resource_name(arn) if arn else None
        elif step_type in ("Callback", "Lambda"):
            entry = metadata.get(step_type) or {}
            out["OutputParameters"] = {p["Name"]: p.get("Value") for p in entry.get("OutputParameters") or []}
            if step_type == "Lambda":
                out["FunctionArn"] = entry.get("Arn")
        elif step_type == "Condition":
            out["Outcome"] = self.condition_outcome(step)
        elif step_type == "Fail":
            out["ErrorMessage"] = (metadata.get("Fail") or {}).get("ErrorMessage")
        elif step_type == "EMRServerless":
            entry = metadata.get("EMRServerless") or {}
            out.update({k: entry.get(k) for k in ("ApplicationId", "JobRunId", "JobRunName", "LogFilePath")})
        return out



def _training_outputs(desc: dict[str, Any], out: dict[str, Any]) -> None:
    metrics = desc.get("FinalMetricDataList") or []
    out["S3ModelArtifacts"] = (desc.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
    out["FinalMetricDataList"] = metrics
    out["Metrics"] = {m["MetricName"]: m.get("Value") for m in metrics if "MetricName" in m}


def _processing_outputs(desc: dict[str, Any], out: dict[str, Any]) -> None:
    outputs = (desc.get("ProcessingOutputConfig") or {}).get("Outputs") or []
    out["ProcessingOutputs"] = {
        o["OutputName"]: (o.get("S3Output") or {}).get("S3Uri") for o in outputs if "OutputName" in o
    }


def _transform_outputs(desc: dict[str, Any], out: dict[str, Any]) -> None:
    out["TransformOutputPath"] = (desc.get("TransformOutput") or {}).get("S3OutputPath")


def _tuning_outputs(desc: dict[str, Any], out: dict[str, Any]) -> None:
    best = desc.get("BestTrainingJob")
    out["BestTrainingJob"] = best
    out["BestTrainingJobName"] = (best or {}).get("TrainingJobName")


#: What step_outputs reads from the Describe response of the step types whose kind has described_outputs.
_OUTPUT_READERS: dict[str, Callable[[dict[str, Any], dict[str, Any]], None]] = {
    "Training": _training_outputs,
    "Processing": _processing_outputs,
    "Transform": _transform_outputs,
    "Tuning": _tuning_outputs,
}


class SageMakerPipelinesAsyncHook(_RetryingAsyncAwsHook):
    """The calls a trigger makes, on aiobotocore with the same retry policy; without ``client=`` a call opens
    and closes its own client."""

    aws_service = "sagemaker"
    steps_page_size = SageMakerPipelinesHook.steps_page_size

    async def describe_execution(self, execution_arn: str, *, client: Any = None) -> dict[str, Any]:
        if client is None:
            async with self.client() as own:
                return await self.describe_execution(execution_arn, client=own)
        try:
            response = await client.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
        except ClientError as exc:
            raise wrap_client_error(exc) from exc
        return jsonable(response)

    async def list_steps(self, execution_arn: str, *, client: Any = None) -> list[dict[str, Any]]:
        if client is None:
            async with self.client() as own:
                return await self.list_steps(execution_arn, client=own)
        steps: list[dict[str, Any]] = []
        paginator = client.get_paginator("list_pipeline_execution_steps")
        try:
            async for page in paginator.paginate(
                PipelineExecutionArn=execution_arn,
                SortOrder="Ascending",
                PaginationConfig={"PageSize": self.steps_page_size},
            ):
                steps.extend(page.get("PipelineExecutionSteps", []))
        except ClientError as exc:
            raise wrap_client_error(exc) from exc
        return jsonable(steps)


def _resource_name(arn: str) -> str:
    """``arn:aws:sagemaker:r:a:training-job/name`` -> ``name``."""
    return arn.rsplit("/", 1)[-1]


# Files that change with every run of the code and never belong in a source bundle.
__all__ = [
    "DEFAULT_RETRIES",
    "DEFINITION_HASH_TAG",
    "SageMakerPipelinesAsyncHook",
    "SageMakerPipelinesHook",
    "UpsertResult",
    "definition_hash",
    "format_value",
    "jsonable",
]
