"""SageMaker operations the engine answers itself: request dict in, response dict out.

Shapes follow botocore's SageMaker service model. Anything not handled here goes to moto.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
import threading
from collections.abc import Callable
from typing import Any

from airflow_sagemaker_mlops.definition.step_kinds import LOCAL_JOB_TYPES, STEP_KINDS

from .errors import AccessDeniedError, ResourceNotFound, ValidationError
from .executor import Engine
from .identity import Caller
from .state import ExecutionRecord, PipelineRecord, StepRecord

PIPELINE_NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")


class NotHandled(Exception):
    """The request is not for us (e.g. a job moto created): forward it to moto."""


def _timestamp(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(value, dt.timezone.utc)
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"Invalid timestamp {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _with_token(key: str, page: list[Any], token: str | None) -> dict[str, Any]:
    response: dict[str, Any] = {key: page}
    if token:
        response["NextToken"] = token
    return response


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def _require(body: dict[str, Any], *names: str) -> None:
    missing = [n for n in names if body.get(n) in (None, "")]
    if missing:
        raise ValidationError(
            f"1 validation error detected: Value null at '{missing[0]}' failed to satisfy "
            "constraint: Member must not be null"
        )


def _check_parallelism(config: Any) -> dict[str, Any] | None:
    if config is None:
        return None
    value = config.get("MaxParallelExecutionSteps") if isinstance(config, dict) else None
    if not isinstance(value, int) or value < 1:
        raise ValidationError("ParallelismConfiguration.MaxParallelExecutionSteps must be an integer >= 1.")
    return {"MaxParallelExecutionSteps": value}


class Api:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._local = threading.local()
        # NextTokens are MACed with this key: a token the engine did not issue (for this operation) is refused.
        self._token_key = secrets.token_bytes(32)
        self.operations: dict[str, Callable[[dict[str, Any], str], dict[str, Any]]] = {
            name: getattr(self, _snake(name)) for name in OPERATIONS
        }

    def _token_mac(self, offset: int) -> str:
        message = f"{self._local.operation}:{offset}".encode()
        return hmac.new(self._token_key, message, hashlib.sha256).hexdigest()[:32]

    def _paginate(self, items: list[Any], body: dict[str, Any], default: int = 50) -> tuple[list[Any], str | None]:
        max_results = body.get("MaxResults") or default
        if not isinstance(max_results, int) or not 1 <= max_results <= 100:
            raise ValidationError("MaxResults must be an integer between 1 and 100.")
        start = 0
        token = body.get("NextToken")
        if token:
            try:
                offset, _, mac = base64.urlsafe_b64decode(token.encode()).decode().partition(".")
                start = int(offset)
            except (ValueError, UnicodeDecodeError):
                start, mac = -1, ""
            if start < 0 or not hmac.compare_digest(mac, self._token_mac(start)):
                # SageMaker answers a token it did not issue (or issued for another listing) this way.
                raise ValidationError(f"Invalid pagination token {token!r}: it was not issued for this request.")
        page = items[start : start + max_results]
        end = start + max_results
        next_token = None
        if end < len(items):
            next_token = base64.urlsafe_b64encode(f"{end}.{self._token_mac(end)}".encode()).decode()
        return page, next_token

    def handles(self, operation: str) -> bool:
        return operation in self.operations

    def call(self, operation: str, body: dict[str, Any], region: str, caller: Caller | None = None) -> dict[str, Any]:
        caller = caller or Caller(self.engine.config.account_id, f"arn:aws:iam::{self.engine.config.account_id}:root")
        self._local.caller, self._local.operation = caller, operation
        self._authorize(operation, body, region, caller)
        return self.operations[operation](body, region)

    # ---- who may call what ------------------------------------------------------------------------

    @property
    def caller(self) -> Caller:
        return self._local.caller  # type: ignore[no-any-return]

    def _authorize(self, operation: str, body: dict[str, Any], region: str, caller: Caller) -> None:
        """With IAM enforcement, the caller's identity policies must allow the operation on its resource."""
        from .access import principal_of

        principal = principal_of(caller)
        if not self.engine.access.enabled or principal is None:
            return
        resource = self._resource_of(operation, body, region, caller)
        self.engine.access.require(principal, f"sagemaker:{operation}", resource, where=operation, actor=caller.arn)
        if operation in ("CreatePipeline", "UpdatePipeline") and body.get("RoleArn"):
            self.engine.access.require(
                principal, "iam:PassRole", body["RoleArn"], where=operation, actor=caller.arn,
                context={"iam:PassedToService": "sagemaker.amazonaws.com"},
            )

    def _resource_of(self, operation: str, body: dict[str, Any], region: str, caller: Caller) -> str:
        if body.get("PipelineName"):
            name = str(body["PipelineName"])
            return name if name.startswith("arn:") else self.engine.arn(
                region, f"pipeline/{name.lower()}", caller.account_id
            )
        if body.get("PipelineExecutionArn"):
            return str(body["PipelineExecutionArn"])
        if body.get("CallbackToken"):
            entry = self.engine.scheduler.callbacks.get(str(body["CallbackToken"]))
            return entry[0].arn if entry else "*"
        if body.get("ResourceArn"):
            return str(body["ResourceArn"])
        for field_name, job in _JOB_NAME_FIELDS.items():
            if body.get(field_name):
                return self.engine.arn(region, f"{job.arn_type}/{str(body[field_name]).lower()}", caller.account_id)
        return registry_resource(self.engine, body, region, caller.account_id)

    def _shared(self, pipeline: PipelineRecord) -> PipelineRecord:
        """``pipeline`` if the caller owns it or a RAM share allows the current operation; else AccessDenied."""
        caller = self.caller
        if pipeline.account_id == caller.account_id or caller.internal:
            return pipeline
        operation = self._local.operation
        if self.engine.ram.allows(caller.account_id, pipeline.arn, operation):
            return pipeline
        raise AccessDeniedError(
            f"User: {caller.arn} is not authorized to perform: sagemaker:{operation} on resource: "
            f"{pipeline.arn} because no resource-based policy allows the sagemaker:{operation} action"
        )

    def _pipeline(self, name_or_arn: str, region: str) -> PipelineRecord:
        """A pipeline by name (the caller's account) or by ARN (any account, through a RAM share)."""
        try:
            record = self.engine.find_pipeline(region, name_or_arn, self.caller.account_id)
        except ResourceNotFound:
            if name_or_arn.startswith("arn:") and name_or_arn.split(":")[4:5] != [self.caller.account_id]:
                # AWS does not reveal whether another account's resource exists.
                raise AccessDeniedError(
                    f"User: {self.caller.arn} is not authorized to perform: sagemaker:{self._local.operation} "
                    f"on resource: {name_or_arn} because no resource-based policy allows it"
                ) from None
            raise
        return self._shared(record)

    # ---- pipelines --------------------------------------------------------------------------------

    def _definition_from(self, body: dict[str, Any], region: str) -> str | None:
        if body.get("PipelineDefinition") is not None:
            return body["PipelineDefinition"]
        location = body.get("PipelineDefinitionS3Location")
        if not location:
            return None
        _require(location, "Bucket", "ObjectKey")
        params = {"Bucket": location["Bucket"], "Key": location["ObjectKey"]}
        if location.get("VersionId"):
            params["VersionId"] = location["VersionId"]
        try:
            obj = self.engine.clients.client("s3", region, self.caller.account_id).get_object(**params)
        except Exception as exc:
            raise ValidationError(
                f"Cannot read the pipeline definition from s3://{params['Bucket']}/{params['Key']}: {exc}"
            ) from exc
        return obj["Body"].read().decode("utf-8")

    def create_pipeline(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        _require(body, "PipelineName", "RoleArn")
        name = body["PipelineName"]
        if not PIPELINE_NAME_RE.match(name):
            raise ValidationError(
                f"1 validation error detected: Value '{name}' at 'pipelineName' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: "
                "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}"
            )
        definition = self._definition_from(body, region)
        if definition is None:
            raise ValidationError("Either PipelineDefinition or PipelineDefinitionS3Location is required.")
        record = self.engine.create_pipeline(
            region,
            name,
            definition,
            body["RoleArn"],
            self.caller.account_id,
            display_name=body.get("PipelineDisplayName"),
            description=body.get("PipelineDescription"),
            parallelism=_check_parallelism(body.get("ParallelismConfiguration")),
            tags=body.get("Tags"),
            client_token=body.get("ClientRequestToken"),
        )
        with self.engine.lock:
            if record.created_by is None:
                record.created_by = record.last_modified_by = self.caller.arn
        return {"PipelineArn": record.arn}

    def update_pipeline(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        _require(body, "PipelineName")
        record = self.engine.update_pipeline(
            region,
            self._own_pipeline_name(body["PipelineName"]),
            self.caller.account_id,
            definition=self._definition_from(body, region),
            display_name=body.get("PipelineDisplayName"),
            description=body.get("PipelineDescription"),
            role_arn=body.get("RoleArn"),
            parallelism=_check_parallelism(body.get("ParallelismConfiguration")),
        )
        with self.engine.lock:
            record.last_modified_by = self.caller.arn
        return {"PipelineArn": record.arn, "PipelineVersionId": record.version_id}

    def _pipeline_view(self, record: PipelineRecord, version_id: int | None = None) -> dict[str, Any]:
        definition = record.definition
        if version_id is not None:
            version = record.versions.get(version_id)
            if version is None:
                raise ResourceNotFound(f"Pipeline '{record.name}' has no version {version_id}.")
            definition = version.definition
        return _drop_none(
            {
                "PipelineArn": record.arn,
                "PipelineName": record.name,
                "PipelineDisplayName": record.display_name,
                "PipelineDefinition": definition,
                "PipelineDescription": record.description,
                "RoleArn": record.role_arn,
                "PipelineStatus": "Active",
                "CreationTime": record.creation_time,
                "LastModifiedTime": record.last_modified_time,
                "LastRunTime": record.last_run_time,
                "ParallelismConfiguration": record.parallelism,
                "PipelineVersionDisplayName": None,
                "CreatedBy": _user_context(record.created_by),
                "LastModifiedBy": _user_context(record.last_modified_by),
            }
        )

    def describe_pipeline(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        _require(body, "PipelineName")
        record = self._pipeline(body["PipelineName"], region)
        return self._pipeline_view(record, body.get("PipelineVersionId"))

    def delete_pipeline(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        _require(body, "PipelineName")
        name = self._own_pipeline_name(body["PipelineName"])
        return {"PipelineArn": self.engine.delete_pipeline(region, name, self.caller.account_id).arn}

    def _own_pipeline_name(self, name_or_arn: str) -> str:
        """Only the owner updates or deletes a pipeline: a shared one's ARN is refused."""
        if name_or_arn.startswith("arn:") and name_or_arn.split(":")[4:5] != [self.caller.account_id]:
            raise AccessDeniedError(
                f"User: {self.caller.arn} is not authorized to perform: sagemaker:{self._local.operation} on "
                f"resource: {name_or_arn}: shared pipelines can be read or run, not changed"
            )
        return name_or_arn

    def list_pipelines(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        prefix = body.get("PipelineNamePrefix") or ""
        after, before = _timestamp(body.get("CreatedAfter")), _timestamp(body.get("CreatedBefore"))
        with self.engine.lock:
            records = [
                p for (a, r, _), p in self.engine.pipelines.items() if r == region and a == self.caller.account_id
            ]
        records = [
            p
            for p in records
            if p.name.startswith(prefix)
            and (after is None or p.creation_time > after)
            and (before is None or p.creation_time < before)
        ]
        sort_by = body.get("SortBy") or "CreationTime"
        key: Callable[[PipelineRecord], Any] = (
            (lambda p: p.name) if sort_by == "Name" else (lambda p: p.creation_time)
        )
        records.sort(key=key, reverse=(body.get("SortOrder") or "Descending") == "Descending")
        page, token = self._paginate(records, body)
        summaries = [
            _drop_none(
                {
                    "PipelineArn": p.arn,
                    "PipelineName": p.name,
                    "PipelineDisplayName": p.display_name,
                    "PipelineDescription": p.description,
                    "RoleArn": p.role_arn,
                    "CreationTime": p.creation_time,
                    "LastModifiedTime": p.last_modified_time,
                    "LastExecutionTime": p.last_run_time,
                }
            )
            for p in page
        ]
        return _with_token("PipelineSummaries", summaries, token)

    # ---- executions -------------------------------------------------------------------------------

    def start_pipeline_execution(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        _require(body, "PipelineName")
        parameters = body.get("PipelineParameters") or []
        for item in parameters:
            if not isinstance(item, dict) or "Name" not in item or "Value" not in item:
                raise ValidationError("Each PipelineParameters entry needs Name and Value.")
        selective = body.get("SelectiveExecutionConfig")
        pipeline = self._pipeline(body["PipelineName"], region)
        ex = self.engine.start_execution(
            pipeline.region,
            pipeline.name,
            account=pipeline.account_id,
            client_token=body.get("ClientRequestToken"),
            parameters=parameters,
            display_name=body.get("PipelineExecutionDisplayName"),
            description=body.get("PipelineExecutionDescription"),
            parallelism=_check_parallelism(body.get("ParallelismConfiguration")),
            selective=selective,
            version_id=body.get("PipelineVersionId"),
            mlflow_experiment_name=body.get("MlflowExperimentName"),
        )
        return {"PipelineExecutionArn": ex.arn}

    def _execution(self, body: dict[str, Any]) -> ExecutionRecord:
        _require(body, "PipelineExecutionArn")
        ex = self.engine.find_execution(body["PipelineExecutionArn"])
        self._shared(ex.pipeline)
        return ex

    def describe_pipeline_execution(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        ex = self._execution(body)
        with self.engine.lock:
            return _drop_none(
                {
                    "PipelineArn": ex.pipeline.arn,
                    "PipelineExecutionArn": ex.arn,
                    "PipelineExecutionDisplayName": ex.display_name,
                    "PipelineExecutionStatus": ex.status,
                    "PipelineExecutionDescription": ex.description,
                    "PipelineExperimentConfig": ex.experiment_config,
                    "FailureReason": ex.failure_reason,
                    "CreationTime": ex.creation_time,
                    "LastModifiedTime": ex.last_modified_time,
                    "ParallelismConfiguration": ex.parallelism or ex.pipeline.parallelism,
                    "SelectiveExecutionConfig": ex.selective,
                    "PipelineVersionId": ex.version_id,
                    "MLflowConfig": ex.mlflow_config,
                }
            )

    def list_pipeline_executions(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        _require(body, "PipelineName")
        pipeline = self._pipeline(body["PipelineName"], region)
        after, before = _timestamp(body.get("CreatedAfter")), _timestamp(body.get("CreatedBefore"))
        with self.engine.lock:
            records = [
                ex
                for ex in self.engine.executions.values()
                if ex.pipeline is pipeline
                and (after is None or ex.creation_time > after)
                and (before is None or ex.creation_time < before)
            ]
            if (body.get("SortBy") or "CreationTime") == "PipelineExecutionArn":
                records.sort(key=lambda e: e.arn)
            else:
                records.sort(key=lambda e: e.creation_time)
            if (body.get("SortOrder") or "Descending") == "Descending":
                records.reverse()
            page, token = self._paginate(records, body)
            summaries = [
                _drop_none(
                    {
                        "PipelineExecutionArn": ex.arn,
                        "StartTime": ex.creation_time,
                        "PipelineExecutionStatus": ex.status,
                        "PipelineExecutionDescription": ex.description,
                        "PipelineExecutionDisplayName": ex.display_name,
                        "PipelineExecutionFailureReason": ex.failure_reason,
                    }
                )
                for ex in page
            ]
        return _with_token("PipelineExecutionSummaries", summaries, token)

    @staticmethod
    def step_view(record: StepRecord) -> dict[str, Any]:
        raw = record.spec.raw
        return _drop_none(
            {
                "StepName": record.name,
                "StepDisplayName": raw.get("DisplayName"),
                "StepDescription": raw.get("Description"),
                "StartTime": record.start_time,
                "EndTime": record.end_time,
                "StepStatus": record.status,
                "CacheHitResult": {"SourcePipelineExecutionArn": record.cache_source}
                if record.cache_source
                else None,
                "FailureReason": record.failure_reason,
                "Metadata": record.metadata,
                "AttemptCount": record.attempt_count,
                "SelectiveExecutionResult": (
                    {"SourcePipelineExecutionArn": record.selective_source}
                    if record.selective_source
                    else None
                ),
            }
        )

    def list_pipeline_execution_steps(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        ex = self._execution(body)
        with self.engine.lock:
            records = sorted(ex.steps.values(), key=lambda r: r.start_time)
            if (body.get("SortOrder") or "Descending") == "Descending":
                records.reverse()
            views = [self.step_view(r) for r in records]
        page, token = self._paginate(views, body)
        return _with_token("PipelineExecutionSteps", page, token)

    def stop_pipeline_execution(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        ex = self._execution(body)
        return {"PipelineExecutionArn": self.engine.stop_execution(ex.arn).arn}

    def retry_pipeline_execution(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        ex = self.engine.retry_execution(
            self._execution(body).arn, _check_parallelism(body.get("ParallelismConfiguration")),
            client_token=body.get("ClientRequestToken"),
        )
        return {"PipelineExecutionArn": ex.arn}

    def update_pipeline_execution(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        ex = self._execution(body)
        with self.engine.lock:
            if body.get("PipelineExecutionDescription") is not None:
                ex.description = body["PipelineExecutionDescription"]
            if body.get("PipelineExecutionDisplayName") is not None:
                ex.display_name = body["PipelineExecutionDisplayName"]
            if body.get("ParallelismConfiguration") is not None:
                ex.parallelism = _check_parallelism(body["ParallelismConfiguration"])
                self.engine.scheduler.schedule(ex)
        return {"PipelineExecutionArn": ex.arn}

    def send_pipeline_execution_step_success(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        _require(body, "CallbackToken")
        outputs = body.get("OutputParameters") or []
        for item in outputs:
            if not isinstance(item, dict) or "Name" not in item or "Value" not in item:
                raise ValidationError("Each OutputParameters entry needs Name and Value.")
        self._callback_owner(body["CallbackToken"])
        ex = self.engine.complete_callback(body["CallbackToken"], output_parameters=outputs, success=True)
        return {"PipelineExecutionArn": ex.arn}

    def send_pipeline_execution_step_failure(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        _require(body, "CallbackToken")
        self._callback_owner(body["CallbackToken"])
        ex = self.engine.complete_callback(
            body["CallbackToken"], failure_reason=body.get("FailureReason"), success=False
        )
        return {"PipelineExecutionArn": ex.arn}

    def _callback_owner(self, token: str) -> None:
        entry = self.engine.scheduler.callbacks.get(token)
        if entry is not None:
            self._shared(entry[0].pipeline)

    def list_pipeline_parameters_for_execution(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        ex = self._execution(body)
        page, token = self._paginate(list(ex.parameter_list), body)
        return _with_token("PipelineParameters", page, token)

    def describe_pipeline_definition_for_execution(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        ex = self._execution(body)
        return {"PipelineDefinition": ex.definition, "CreationTime": ex.creation_time}

    # ---- tags on pipelines ------------------------------------------------------------------------

    def _tagged_pipeline(self, body: dict[str, Any], region: str) -> PipelineRecord:
        arn = body.get("ResourceArn") or ""
        if ":pipeline/" not in arn or "/execution/" in arn:
            raise NotHandled
        try:
            record = self.engine.find_pipeline(region, arn)
        except ResourceNotFound:
            raise NotHandled from None
        if record.account_id != self.caller.account_id:
            raise AccessDeniedError(f"User: {self.caller.arn} cannot tag {arn}: it belongs to another account")
        return record

    def add_tags(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        record = self._tagged_pipeline(body, region)
        with self.engine.lock:
            new = {t["Key"]: t.get("Value", "") for t in body.get("Tags") or []}
            record.tags = [t for t in record.tags if t["Key"] not in new]
            record.tags += [{"Key": k, "Value": v} for k, v in new.items()]
            return {"Tags": list(record.tags)}

    def list_tags(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        record = self._tagged_pipeline(body, region)
        page, token = self._paginate(list(record.tags), body)
        return _with_token("Tags", page, token)

    def delete_tags(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        record = self._tagged_pipeline(body, region)
        keys = set(body.get("TagKeys") or [])
        with self.engine.lock:
            record.tags = [t for t in record.tags if t["Key"] not in keys]
        return {}

    # ---- jobs the steps created -------------------------------------------------------------------

    def _describe_job(self, step_type: str, body: dict[str, Any], region: str) -> dict[str, Any]:
        job = STEP_KINDS[step_type].resource
        _require(body, job.name_field)
        description = self.engine.jobs.get(job.noun, region, body[job.name_field])
        if description is None:
            raise NotHandled  # maybe a job created directly in moto
        return dict(description)

    def describe_processing_job(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        return self._describe_job("Processing", body, region)

    def describe_training_job(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        return self._describe_job("Training", body, region)

    def describe_transform_job(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        return self._describe_job("Transform", body, region)

    def describe_hyper_parameter_tuning_job(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        return self._describe_job("Tuning", body, region)

    def _list_jobs(
        self, kind: str, body: dict[str, Any], region: str, summary_key: str, fields: tuple[str, ...]
    ) -> dict[str, Any]:
        jobs = self.engine.jobs.list(kind, region)
        if not jobs:
            raise NotHandled  # nothing of ours: moto answers (with its own jobs, if any)
        name_field, status_field = f"{kind}Name", f"{kind}Status"
        contains = body.get("NameContains")
        status = body.get("StatusEquals")
        after, before = _timestamp(body.get("CreationTimeAfter")), _timestamp(body.get("CreationTimeBefore"))
        selected = [
            j
            for j in jobs
            if (not contains or contains in j.get(name_field, ""))
            and (not status or j.get(status_field) == status)
            and (after is None or j["CreationTime"] > after)
            and (before is None or j["CreationTime"] < before)
        ]
        sort_by = body.get("SortBy") or "CreationTime"
        sort_key = {"Name": name_field, "Status": status_field}.get(sort_by, "CreationTime")
        selected.sort(
            key=lambda j: j.get(sort_key) or "",
            reverse=(body.get("SortOrder") or "Descending") == "Descending",
        )
        page, token = self._paginate(selected, body, default=10)
        summaries = [
            {k: j[k] for k in (name_field, f"{kind}Arn", status_field, *fields) if k in j} for j in page
        ]
        return _with_token(summary_key, summaries, token)

    def list_processing_jobs(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        return self._list_jobs(
            "ProcessingJob",
            body,
            region,
            "ProcessingJobSummaries",
            ("CreationTime", "ProcessingEndTime", "LastModifiedTime", "FailureReason", "ExitMessage"),
        )

    def list_training_jobs(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        return self._list_jobs(
            "TrainingJob",
            body,
            region,
            "TrainingJobSummaries",
            ("CreationTime", "TrainingEndTime", "LastModifiedTime"),
        )

    def list_transform_jobs(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        return self._list_jobs(
            "TransformJob",
            body,
            region,
            "TransformJobSummaries",
            ("CreationTime", "TransformEndTime", "LastModifiedTime", "FailureReason"),
        )

    def list_hyper_parameter_tuning_jobs(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        return self._list_jobs(
            "HyperParameterTuningJob",
            body,
            region,
            "HyperParameterTuningJobSummaries",
            (
                "Strategy",
                "CreationTime",
                "HyperParameterTuningEndTime",
                "LastModifiedTime",
                "TrainingJobStatusCounters",
                "ObjectiveStatusCounters",
                "ResourceLimits",
            ),
        )

    # ---- model registry ---------------------------------------------------------------------------

    def describe_experiment(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        """moto's DescribeExperiment, with SageMaker's ResourceNotFound for an unknown name (moto: a 500)."""
        from .experiments import backend

        name = str(body.get("ExperimentName") or "")
        account = self.caller.account_id
        found = backend(account, region).experiments.get(name)
        arn = self.engine.arn(region, f"experiment/{name.lower()}", account)  # SageMaker lower-cases ARNs
        if found is None:
            raise ResourceNotFound(f"Experiment '{arn}' does not exist.")
        return {"ExperimentName": found.experiment_name, "ExperimentArn": arn,
                "DisplayName": found.experiment_name, "CreationTime": found.creation_time,
                "LastModifiedTime": found.last_modified_time}

    def update_model_package(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        """UpdateModelPackage as SageMaker does it: fields the request leaves out keep their values.
        moto resets them (an approval alone erases ApprovalDescription and CustomerMetadataProperties),
        so the engine updates moto's model package itself."""
        from moto.sagemaker.models import sagemaker_backends

        _require(body, "ModelPackageArn")
        backend = sagemaker_backends[self.engine.config.account_id][region]
        arn = body["ModelPackageArn"]
        with self.engine.lock:
            package = backend.model_packages.get(backend.model_package_name_mapping.get(arn, arn))
            if package is None:
                raise ValidationError(f"Model package {arn} not found")
            status = body.get("ModelApprovalStatus")
            if status is not None:
                if status not in ("Approved", "Rejected", "PendingManualApproval"):
                    raise ValidationError(f"Value '{status}' at 'modelApprovalStatus' failed to satisfy constraint: "
                                          "Member must satisfy enum value set: [Approved, Rejected, "
                                          "PendingManualApproval]")
                package.model_approval_status = status
            if "ApprovalDescription" in body:
                package.approval_description = body["ApprovalDescription"]
            properties = dict(package.customer_metadata_properties or {})
            properties.update(body.get("CustomerMetadataProperties") or {})
            for key in body.get("CustomerMetadataPropertiesToRemove") or []:
                properties.pop(key, None)
            package.customer_metadata_properties = properties or None
            if body.get("AdditionalInferenceSpecificationsToAdd"):
                package.add_additional_inference_specifications(body["AdditionalInferenceSpecificationsToAdd"])
            package.modifications_done()
        return {"ModelPackageArn": package.arn}


def _user_context(arn: str | None) -> dict[str, Any] | None:
    """SageMaker's UserContext for an IAM caller (no Studio user profile here)."""
    return {"IamIdentity": {"Arn": arn}} if arn else None


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower().replace("hyper_parameter", "hyper_parameter")


def registry_resource(engine: Engine, body: dict[str, Any], region: str, account: str) -> str:
    """The resource ARN IAM checks for model registry and model calls (most of them answered by moto)."""
    for field_name in ("ModelPackageArn", "ModelPackageName"):
        value = str(body.get(field_name) or "")
        if value.startswith("arn:"):
            return value
        if value:
            return engine.arn(region, f"model-package/{value.lower()}", account)
    group = str(body.get("ModelPackageGroupName") or "")
    if group:
        if group.startswith("arn:"):
            return group
        return engine.arn(region, f"model-package-group/{group.lower()}", account)
    if body.get("ModelName"):
        return engine.arn(region, f"model/{str(body['ModelName']).lower()}", account)
    if body.get("ResourceArn"):
        return str(body["ResourceArn"])
    return "*"



#: Request field naming a job the engine runs -> the job's resource (for the resource of an IAM check).
_JOB_NAME_FIELDS = {STEP_KINDS[t].resource.name_field: STEP_KINDS[t].resource for t in LOCAL_JOB_TYPES}

OPERATIONS = (
    "CreatePipeline",
    "UpdatePipeline",
    "DescribePipeline",
    "DeletePipeline",
    "ListPipelines",
    "StartPipelineExecution",
    "DescribePipelineExecution",
    "ListPipelineExecutions",
    "ListPipelineExecutionSteps",
    "StopPipelineExecution",
    "RetryPipelineExecution",
    "UpdatePipelineExecution",
    "SendPipelineExecutionStepSuccess",
    "SendPipelineExecutionStepFailure",
    "ListPipelineParametersForExecution",
    "DescribePipelineDefinitionForExecution",
    "AddTags",
    "ListTags",
    "DeleteTags",
    "DescribeProcessingJob",
    "DescribeTrainingJob",
    "DescribeTransformJob",
    "DescribeHyperParameterTuningJob",
    "ListProcessingJobs",
    "ListTrainingJobs",
    "ListTransformJobs",
    "ListHyperParameterTuningJobs",
    "UpdateModelPackage",
    "DescribeExperiment",
)


def to_json(value: Any) -> Any:
    """Datetimes become epoch seconds, as the JSON 1.1 protocol sends timestamps."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.timestamp()
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value


def dumps(value: Any) -> bytes:
    return json.dumps(to_json(value), default=str).encode("utf-8")
