"""The executor: runs pipeline executions step by step on a bounded thread pool.

State changes happen under one engine lock and are event driven: a step finishing (or a callback
arriving, or a retry timer firing) calls :meth:`Engine._schedule`, which starts whatever became ready.
Nothing ever blocks a worker waiting on another step, so any number of executions share the pool
without deadlock: Callback steps wait without a thread, retry back-off waits on a timer.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import json
import logging
import os
import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from airflow_sagemaker_mlops.definition.step_kinds import LOCAL_JOB_TYPES, STEP_KINDS

from . import events, experiments
from . import steps as step_runners
from .definition import PipelineGraph, StepSpec, parse_definition
from .errors import ConflictError, ResourceNotFound, ValidationError
from .expressions import ExpressionError, Resolver, format_datetime, to_text
from .faults import Faults
from .state import (
    ACTIVE_STEP_STATUSES,
    EXECUTING,
    EXECUTION_FAILURE_REASON,
    FAILED,
    PENDING,
    STARTING,
    STOPPED,
    STOPPING,
    SUCCEEDED,
    TERMINAL_EXECUTION_STATUSES,
    EngineConfig,
    ExecutionRecord,
    PipelineRecord,
    PipelineVersion,
    StepOutcome,
    StepRecord,
    parse_iso_duration,
    random_id,
    short_hash,
    utcnow,
)

log = logging.getLogger(__name__)

#: The engine caches the jobs it runs (SageMaker also caches Callback/Lambda/... steps, which it does not).
CACHEABLE_TYPES = tuple(t for t in LOCAL_JOB_TYPES if STEP_KINDS[t].cacheable)
INTERNAL_ACCESS_KEY = "LOCALENGINEINTERNAL"


WORK_DIR_PREFIX = "sagemaker-local-"
OWNER_FILE = ".engine-pid"


def remove_stale_work_dirs(base: str | None = None) -> list[Path]:
    """Remove the temporary work dirs of engines that died without cleaning up (killed, crashed).

    A dir is stale when the engine pid it records is gone; dirs from before that record, when unused for a day.
    """
    import time

    removed = []
    for path in Path(base or tempfile.gettempdir()).glob(f"{WORK_DIR_PREFIX}*"):
        try:
            if not path.is_dir() or path.owner() != _user_name():
                continue
            owner = path / OWNER_FILE
            if owner.exists():
                stale = not _alive(int(owner.read_text().strip() or 0))
            else:
                stale = time.time() - path.stat().st_mtime > 86400
        except (OSError, ValueError, KeyError):
            continue
        if stale:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    if removed:
        log.info("removed %d stale work dir(s) of engines that are gone", len(removed))
    return removed


def _user_name() -> str:
    import getpass

    return getpass.getuser()


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _dependency_state(ex: ExecutionRecord, spec: StepSpec, dep: str) -> str:
    """"met", "wait" or "never": ``dep`` as ``spec`` waits for it (success, or its DependsOn trigger)."""
    if dep in ex.skipped:
        return "never"
    record = ex.steps.get(dep)
    if record is None or record.status not in (SUCCEEDED, FAILED, STOPPED):
        return "wait"
    wanted = spec.triggers.get(dep)
    if wanted is None:
        return "met" if record.status == SUCCEEDED else "never"
    return "met" if wanted == "Any" or record.status == wanted else "never"


class Timer:
    """One thread running delayed callbacks (retry back-off); cancellable handles."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, list[Any]]] = []
        self._cond = threading.Condition()
        self._counter = itertools.count()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="local-engine-timer", daemon=True)
        self._thread.start()

    def call_later(self, delay: float, fn: Callable[[], None]) -> list[Any]:
        import time

        entry: list[Any] = [fn]  # entry[0] = None cancels
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + max(delay, 0.0), next(self._counter), entry))
            self._cond.notify()
        return entry

    @staticmethod
    def cancel(entry: list[Any] | None) -> None:
        if entry is not None:
            entry[0] = None

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()

    def _run(self) -> None:
        import time

        while True:
            with self._cond:
                while not self._closed and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(timeout)
                if self._closed:
                    return
                _, _, entry = heapq.heappop(self._heap)
            fn = entry[0]
            if fn is not None:
                try:
                    fn()
                except Exception:
                    log.exception("timer callback failed")


class Engine:
    """Pipelines, executions, jobs and their scheduling. Thread-safe; one per server."""

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self.faults = Faults(self.config.faults)
        self.endpoint_url = ""  # set by the server once bound
        self.lock = threading.RLock()
        self.pipelines: dict[tuple[str, str, str], PipelineRecord] = {}  # (account, region, name)
        self.executions: dict[str, ExecutionRecord] = {}
        # (pipeline or execution arn, client token) -> execution arn: StartPipelineExecution and Retry are idempotent
        self.tokens: dict[tuple[str, str], str] = {}
        self.callbacks: dict[str, tuple[ExecutionRecord, StepRecord]] = {}
        self.jobs: dict[tuple[str, str, str], dict[str, Any]] = {}  # (kind, region, name) -> description
        self.cache: dict[str, list[tuple[dt.datetime, str, StepRecord]]] = {}
        from .access import AccessControl
        from .ram import Ram

        self.access = AccessControl(enabled=self.config.enforce_iam)
        self.ram = Ram()
        # Access keys of the engine's own clients (one STS session per account beyond the default one).
        self.internal_keys: set[str] = {INTERNAL_ACCESS_KEY}
        # Random per engine: the internal key skips faults and sees every account, so it must be unforgeable.
        self.internal_secret = secrets.token_urlsafe(24)
        self._account_sessions: dict[str, Any] = {}
        self._account_credentials: dict[str, dict[str, str]] = {}
        self.experiments: set[tuple[str, str, str]] = set()  # (account, region, name) created so far
        self._pool = ThreadPoolExecutor(max_workers=self.config.max_workers, thread_name_prefix="local-step")
        self._timer = Timer()
        self._clients: dict[tuple[str, str], Any] = {}
        self._clients_lock = threading.Lock()
        self._session: Any = None
        self._own_work_dir = self.config.work_dir is None
        if self._own_work_dir:
            remove_stale_work_dirs()
        self.work_dir = Path(self.config.work_dir or tempfile.mkdtemp(prefix=WORK_DIR_PREFIX))
        if self._own_work_dir:
            (self.work_dir / OWNER_FILE).write_text(str(os.getpid()))
        self.closed = False

    # ---- infrastructure ---------------------------------------------------------------------------

    def close(self) -> None:
        self.closed = True
        with self.lock:
            for ex in self.executions.values():
                ex.stop_event.set()
        self._timer.close()
        from .jobs.sandbox import terminate_jobs_under

        # Job processes end with the engine, even those whose runner thread would not get to it.
        terminate_jobs_under(self.work_dir)
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._own_work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def reset(self) -> None:
        """Forget every pipeline, execution, job and cache entry (``POST /moto-api/reset`` resets moto too)."""
        with self.lock:
            for ex in self.executions.values():
                ex.stop_event.set()
            self.pipelines.clear()
            self.executions.clear()
            self.tokens.clear()
            self.callbacks.clear()
            self.jobs.clear()
            self.cache.clear()
            self.experiments.clear()
            # moto forgets the STS sessions of other accounts: make new ones when needed.
            self._account_sessions.clear()
            self._account_credentials.clear()
            self.internal_keys = {INTERNAL_ACCESS_KEY}
        log.info("engine state reset")

    def client(self, service: str, region: str | None = None, account: str | None = None) -> Any:
        """A boto3 client to this engine (moto behind it), marked internal so faults skip it.

        ``account`` other than the default one gets credentials of an STS session in that account, so
        moto serves that account's S3, IAM, ... (moto routes requests by the access key's account).
        """
        region = region or self.config.region
        account = account or self.config.account_id
        key = (service, region, account)
        with self._clients_lock:
            cached = self._clients.get(key)
            if cached is None:
                from botocore.config import Config

                cached = self._session_for(account).client(
                    service,
                    region_name=region,
                    endpoint_url=self.endpoint_url,
                    config=Config(retries={"max_attempts": 2, "mode": "standard"}, max_pool_connections=50),
                )
                self._clients[key] = cached
            return cached

    def _session_for(self, account: str) -> Any:
        import boto3

        if self._session is None:
            # One session for all internal clients: loading service models is the slow part.
            self._session = boto3.session.Session(
                aws_access_key_id=INTERNAL_ACCESS_KEY, aws_secret_access_key=self.internal_secret
            )
        if account == self.config.account_id:
            return self._session
        session = self._account_sessions.get(account)
        if session is None:
            credentials = self.credentials_for(account)
            session = boto3.session.Session(
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
            )
            self._account_sessions[account] = session
        return session

    def credentials_for(self, account: str) -> dict[str, str]:
        """Credentials of the engine acting in ``account`` (an STS session moto maps to that account)."""
        if account == self.config.account_id:
            return {"AccessKeyId": INTERNAL_ACCESS_KEY, "SecretAccessKey": self.internal_secret, "SessionToken": ""}
        cached = self._account_credentials.get(account)
        if cached is None:
            sts = self.client("sts", self.config.region)
            cached = sts.assume_role(
                RoleArn=f"arn:aws:iam::{account}:role/local-engine-internal", RoleSessionName="local-engine"
            )["Credentials"]
            self._account_credentials[account] = cached
            self.internal_keys.add(cached["AccessKeyId"])
        return cached

    def role_credentials(self, role_arn: str | None, region: str) -> dict[str, str] | None:
        """An STS session of ``role_arn`` (in the role's account), as SageMaker gives a job its role.

        Its key is moto's, so the request guard verifies its signatures and, with IAM enforcement, the
        job's own calls are checked against the role's policies. None (dummy credentials) without a role.
        """
        if not role_arn or not role_arn.startswith("arn:") or ":role/" not in role_arn:
            return None
        account = role_arn.split(":")[4] or self.config.account_id
        try:
            credentials = self.client("sts", region, account).assume_role(
                RoleArn=role_arn, RoleSessionName="SageMaker", DurationSeconds=43200
            )["Credentials"]
        except Exception as exc:  # the job still runs, with dummy credentials, as before
            log.warning("cannot assume job role %s: %s", role_arn, exc)
            return None
        return {key: str(credentials[key]) for key in ("AccessKeyId", "SecretAccessKey", "SessionToken")}

    def secret_for(self, access_key: str) -> str | None:
        """The secret of ``access_key`` when the engine knows it (the request guard verifies signatures)."""
        if access_key == INTERNAL_ACCESS_KEY:
            return self.internal_secret
        from .guard import DEFAULT_TEST_KEYS
        from .identity import moto_secret

        return moto_secret(access_key) or DEFAULT_TEST_KEYS.get(access_key)

    def arn(self, region: str, resource: str, account: str | None = None) -> str:
        return f"arn:aws:sagemaker:{region}:{account or self.config.account_id}:{resource}"

    # ---- pipelines --------------------------------------------------------------------------------

    def find_pipeline(self, region: str, name_or_arn: str, account: str | None = None) -> PipelineRecord:
        """A pipeline by name (in ``account``) or by ARN (in the ARN's account and region)."""
        name, account = name_or_arn, account or self.config.account_id
        if name_or_arn.startswith("arn:"):
            parts = name_or_arn.split(":", 5)
            if len(parts) == 6:
                region, account = parts[3] or region, parts[4] or account
            name = name_or_arn.split(":pipeline/", 1)[-1].split("/", 1)[0]
        with self.lock:
            record = self.pipelines.get((account, region, name))
            if record is None:
                for (acct, reg, _), candidate in self.pipelines.items():
                    if acct == account and reg == region and candidate.name.lower() == name.lower():
                        return candidate
                raise ResourceNotFound(f"Pipeline '{name_or_arn}' does not exist.")
            return record

    def create_pipeline(
        self, region: str, name: str, definition: str, role_arn: str, account: str | None = None, **extra: Any
    ) -> PipelineRecord:
        graph = parse_definition(definition)
        now = utcnow()
        account = account or self.config.account_id
        with self.lock:
            existing = self.pipelines.get((account, region, name))
            if existing is not None:
                token = extra.get("client_token")
                if token and token == existing.client_token:
                    return existing
                # SageMaker's wording; the SDK's upsert() matches ValidationException + "already exists".
                raise ValidationError(
                    f"Pipeline names must be unique within an AWS account and region. Pipeline with name "
                    f"({name}) already exists."
                )
            record = PipelineRecord(
                name=name,
                arn=self.arn(region, f"pipeline/{name.lower()}", account),
                region=region,
                account_id=account,
                role_arn=role_arn,
                definition=definition,
                graph=graph,
                creation_time=now,
                last_modified_time=now,
                display_name=extra.get("display_name") or name,
                description=extra.get("description"),
                parallelism=extra.get("parallelism"),
                tags=extra.get("tags") or [],
                client_token=extra.get("client_token"),
            )
            record.versions[1] = PipelineVersion(1, definition, graph, now)
            self.pipelines[(account, region, name)] = record
            return record

    def update_pipeline(self, region: str, name: str, account: str | None = None, **changes: Any) -> PipelineRecord:
        record = self.find_pipeline(region, name, account)
        definition = changes.get("definition")
        graph = parse_definition(definition) if definition is not None else None
        with self.lock:
            if graph is not None:
                record.definition, record.graph = definition, graph
                record.version_id += 1
                record.versions[record.version_id] = PipelineVersion(
                    record.version_id, definition, graph, utcnow()
                )
            for key in ("display_name", "description", "role_arn", "parallelism"):
                if changes.get(key) is not None:
                    setattr(record, key, changes[key])
            record.last_modified_time = utcnow()
            return record

    def delete_pipeline(self, region: str, name: str, account: str | None = None) -> PipelineRecord:
        record = self.find_pipeline(region, name, account)
        with self.lock:
            running = [
                ex.arn
                for ex in self.executions.values()
                if ex.pipeline is record and ex.status in (EXECUTING, STOPPING)
            ]
            if running:
                # SageMaker deletes anyway and stops nothing; refusing is friendlier to tests and clearer.
                raise ConflictError(
                    f"Pipeline '{record.name}' has {len(running)} running execution(s); "
                    "stop them before deleting."
                )
            del self.pipelines[(record.account_id, record.region, record.name)]
            for arn in [a for a, ex in self.executions.items() if ex.pipeline is record]:
                del self.executions[arn]
            return record

    # ---- executions -------------------------------------------------------------------------------

    def find_execution(self, arn: str) -> ExecutionRecord:
        with self.lock:
            ex = self.executions.get(arn)
        if ex is None:
            raise ResourceNotFound(f"Pipeline execution '{arn}' does not exist.")
        return ex

    def coerce_parameters(
        self, graph: PipelineGraph, given: list[dict[str, Any]]
    ) -> tuple[dict[str, Any], list]:
        """Typed values for every declared parameter: overrides checked against the declared types."""
        overrides: dict[str, str] = {}
        for item in given:
            name = item.get("Name")
            if name not in graph.parameters:
                declared = ", ".join(sorted(graph.parameters)) or "none"
                raise ValidationError(
                    f"Parameter '{name}' is not defined in the pipeline definition (declared: {declared})."
                )
            if name in overrides:
                raise ValidationError(f"Parameter '{name}' is given more than once.")
            overrides[name] = item.get("Value")
        values: dict[str, Any] = {}
        listed: list[dict[str, str]] = []
        for name, decl in graph.parameters.items():
            ptype = decl.get("Type", "String")
            if name in overrides:
                raw: Any = overrides[name]
            elif "DefaultValue" in decl:
                raw = decl["DefaultValue"]
            else:
                raise ValidationError(f"Parameter '{name}' has no default value and no value was given.")
            values[name] = _coerce(name, ptype, raw)
            enum = decl.get("EnumValues")
            if enum and ptype == "String" and values[name] not in enum:
                raise ValidationError(f"Parameter '{name}' value {values[name]!r} is not one of {enum}.")
            listed.append({"Name": name, "Value": to_text(values[name])})
        return values, listed

    def start_execution(
        self,
        region: str,
        pipeline_name: str,
        *,
        client_token: str | None = None,
        parameters: list[dict[str, Any]] | None = None,
        display_name: str | None = None,
        description: str | None = None,
        parallelism: dict[str, Any] | None = None,
        selective: dict[str, Any] | None = None,
        version_id: int | None = None,
        account: str | None = None,
        mlflow_experiment_name: str | None = None,
    ) -> ExecutionRecord:
        pipeline = self.find_pipeline(region, pipeline_name, account)
        region = pipeline.region
        with self.lock:
            if client_token and (pipeline.arn, client_token) in self.tokens:
                return self.executions[self.tokens[(pipeline.arn, client_token)]]
            version = pipeline.versions.get(version_id or pipeline.version_id)
            if version is None:
                raise ResourceNotFound(f"Pipeline '{pipeline.name}' has no version {version_id}.")
            values, listed = self.coerce_parameters(version.graph, parameters or [])
            exec_id = random_id()
            ex = ExecutionRecord(
                arn=f"{pipeline.arn}/execution/{exec_id}",
                id=exec_id,
                pipeline=pipeline,
                region=region,
                definition=version.definition,
                graph=version.graph,
                parameters=values,
                parameter_list=listed,
                creation_time=utcnow(),
                display_name=display_name or f"execution-{int(utcnow().timestamp() * 1000)}",
                description=description,
                parallelism=parallelism,
                version_id=version.version_id,
            )
            ex.last_modified_time = ex.creation_time
            self._resolve_tracking(ex, mlflow_experiment_name)
            if selective:
                self._prepare_selective(ex, selective)
            self.executions[ex.arn] = ex
            if client_token:
                self.tokens[(pipeline.arn, client_token)] = ex.arn
            pipeline.last_run_time = ex.creation_time
            log.info("execution %s of %s started", ex.id, pipeline.name)
            events.execution_changed(self, ex)
            denied = self._authorize_experiment(ex)
            if denied is not None:
                ex.failure_reason = denied
                ex.status = FAILED
                events.execution_changed(self, ex)
                ex.done.set()
                return ex
            experiments.record_execution(self, ex)
            self._schedule(ex)
            return ex

    def _authorize_experiment(self, ex: ExecutionRecord) -> str | None:
        """With IAM enforcement: the pipeline role creates the experiment (once) and the execution's trial."""
        config = ex.experiment_config or {}
        if not self.access.enabled or not config.get("ExperimentName"):
            return None
        from .errors import AccessDeniedError
        from .steps import as_pipeline_role

        experiment, trial = config["ExperimentName"], config.get("TrialName") or ex.id
        account = ex.pipeline.account_id
        experiment_arn = self.arn(ex.region, f"experiment/{experiment.lower()}", account)
        try:
            as_pipeline_role(self, ex, None, "sagemaker:DescribeExperiment", experiment_arn)
            if (account, ex.region, experiment.lower()) not in self.experiments:
                as_pipeline_role(self, ex, None, "sagemaker:CreateExperiment", experiment_arn)
                self.experiments.add((account, ex.region, experiment.lower()))
            trial_arn = self.arn(ex.region, f"experiment-trial/{trial.lower()}", account)
            as_pipeline_role(self, ex, None, "sagemaker:CreateTrial", trial_arn)
        except AccessDeniedError as exc:
            return f"AccessDenied: {exc.message}"
        return None

    def _resolve_tracking(self, ex: ExecutionRecord, mlflow_experiment_name: str | None) -> None:
        """PipelineExperimentConfig and MlflowConfig of the definition, resolved for this execution.

        Their values may use parameters and execution variables (``Execution.PipelineName``,
        ``Execution.PipelineExecutionId``, ``Std:Join``), never step properties: SageMaker fixes them when
        the execution starts. StartPipelineExecution's ``MlflowExperimentName`` overrides the definition's.
        """
        document = ex.graph.document
        resolver = self.resolver(ex)

        def resolve(section: str, key: str, value: Any) -> str:
            try:
                resolved = resolver.resolve(value)
            except ExpressionError as exc:
                raise ValidationError(f"PipelineDefinition {section}.{key} cannot be resolved: {exc}") from exc
            return resolved if isinstance(resolved, str) else to_text(resolved)

        experiment = document.get("PipelineExperimentConfig")
        if isinstance(experiment, dict):
            ex.experiment_config = {
                key: resolve("PipelineExperimentConfig", key, experiment[key])
                for key in ("ExperimentName", "TrialName")
                if experiment.get(key) is not None
            }
        mlflow = document.get("MlflowConfig")
        config = {
            key: resolve("MlflowConfig", key, mlflow[key])
            for key in ("MlflowResourceArn", "MlflowExperimentName")
            if isinstance(mlflow, dict) and mlflow.get(key) is not None
        }
        if mlflow_experiment_name:
            config["MlflowExperimentName"] = mlflow_experiment_name
        ex.mlflow_config = config or None

    def _prepare_selective(self, ex: ExecutionRecord, selective: dict[str, Any]) -> None:
        selected = {s.get("StepName") for s in selective.get("SelectedSteps") or []}
        if not selected:
            raise ValidationError("SelectiveExecutionConfig.SelectedSteps must name at least one step.")
        unknown = sorted(s for s in selected if s not in ex.graph.steps)
        if unknown:
            raise ValidationError(f"Selected step(s) not in the pipeline definition: {', '.join(unknown)}")
        source_arn = selective.get("SourcePipelineExecutionArn")
        if source_arn:
            source = self.executions.get(source_arn)
            if source is None:
                raise ResourceNotFound(f"Source pipeline execution '{source_arn}' does not exist.")
        else:
            # Without a source, SageMaker uses the latest successful execution of the pipeline.
            candidates = [
                e for e in self.executions.values() if e.pipeline is ex.pipeline and e.status == SUCCEEDED
            ]
            if not candidates:
                raise ValidationError("No successful execution to use as SourcePipelineExecutionArn.")
            source = max(candidates, key=lambda e: e.creation_time)
            source_arn = source.arn
        if source.pipeline is not ex.pipeline:
            raise ValidationError("SourcePipelineExecutionArn must be an execution of the same pipeline.")
        if source.status not in TERMINAL_EXECUTION_STATUSES:
            raise ConflictError(f"Source pipeline execution '{source_arn}' is still {source.status}.")
        # Every dependency of a selected step must be selected or have succeeded in the source.
        for name in selected:
            for dep in ex.graph.steps[name].depends_on:
                if dep in selected:
                    continue
                src = source.steps.get(dep)
                if src is None or src.status != SUCCEEDED:
                    raise ValidationError(
                        f"Step '{name}' depends on '{dep}', which is not selected and did not succeed in the "
                        "source execution."
                    )
        ex.selective = {
            "SourcePipelineExecutionArn": source_arn,
            "SelectedSteps": [{"StepName": s} for s in sorted(selected)],
        }
        ex.selected_steps = selected
        for name, src in source.steps.items():
            if name in selected or src.status != SUCCEEDED or name not in ex.graph.steps:
                continue
            copy = StepRecord(
                spec=ex.graph.steps[name],
                status=SUCCEEDED,
                start_time=src.start_time,
                end_time=src.end_time,
                attempt_count=src.attempt_count,
                metadata=src.metadata,
                properties=src.properties,
                outcome=src.outcome,
                selective_source=src.selective_source or source_arn,
            )
            ex.steps[name] = copy

    def stop_execution(self, arn: str) -> ExecutionRecord:
        ex = self.find_execution(arn)
        with self.lock:
            if ex.status == STOPPING:
                return ex
            if ex.status != EXECUTING:
                # SageMaker's wording: Airflow's SageMakerHook.stop_pipeline matches on it.
                raise ValidationError(
                    f"Pipeline execution with ARN {arn} status {ex.status}. "
                    "Only pipelines with 'Executing' status can be stopped"
                )
            ex.status = STOPPING
            ex.last_modified_time = utcnow()
            events.execution_changed(self, ex)
            ex.stop_event.set()
            for record in ex.steps.values():
                if record.status not in ACTIVE_STEP_STATUSES:
                    continue
                if record.waiting_callback or record.retry_timer is not None:
                    # Nothing runs for these: they stop at once.
                    Timer.cancel(record.retry_timer)
                    record.retry_timer = None
                    self._finish_step(ex, record, StepOutcome(status=STOPPED))
                else:
                    record.status = STOPPING
                    events.step_changed(self, ex, record)
            self._schedule(ex)
            return ex

    def retry_execution(self, arn: str, parallelism: dict[str, Any] | None = None,
                        client_token: str | None = None) -> ExecutionRecord:
        ex = self.find_execution(arn)
        with self.lock:
            # ClientRequestToken: "an idempotent operation completes no more than once" (API reference).
            if client_token and (arn, client_token) in self.tokens:
                return ex
            if ex.status not in (FAILED, STOPPED):
                raise ConflictError(
                    f"Pipeline execution '{arn}' is {ex.status}; only a Failed or Stopped one can be retried."
                )
            for name, record in list(ex.steps.items()):
                if record.status in (FAILED, STOPPED):
                    ex.prior_attempts[name] = record.attempt_count
                    del ex.steps[name]
            ex.skipped.clear()
            ex.stop_event = threading.Event()
            ex.done = threading.Event()
            ex.status = EXECUTING
            ex.failure_reason = None
            ex.last_modified_time = utcnow()
            events.execution_changed(self, ex)
            if parallelism:
                ex.parallelism = parallelism
            if client_token:
                self.tokens[(arn, client_token)] = arn
            ex.retries += 1
            log.info("execution %s retried", ex.id)
            self._schedule(ex)
            return ex

    # ---- scheduling -------------------------------------------------------------------------------

    def _schedule(self, ex: ExecutionRecord) -> None:
        """Start every step that became ready; finish the execution when nothing is left. Holds the lock."""
        with self.lock:
            if ex.status in TERMINAL_EXECUTION_STATUSES:
                return
            running = sum(1 for r in ex.steps.values() if r.status in ACTIVE_STEP_STATUSES)
            if ex.status == STOPPING:
                if running == 0:
                    self._finish_execution(ex, STOPPED)
                return
            failed = any(r.status in (FAILED, STOPPED) for r in ex.steps.values())
            ready = self._ready_steps(ex, after_failure=failed)
            limit = ex.max_parallel
            for spec in ready:
                if limit is not None and running >= limit:
                    break
                self._start_step(ex, spec)
                running += 1
            if running == 0:
                self._finish_execution(ex, FAILED if failed else SUCCEEDED)

    def _ready_steps(self, ex: ExecutionRecord, after_failure: bool = False) -> list[StepSpec]:
        """Steps whose dependencies are met. After a step failed, only the steps a ``DependsOn`` trigger
        starts (and what runs after them) still start: the failure's handling, not the rest of the graph."""
        ready: list[StepSpec] = []
        changed = True
        while changed:
            changed = False
            ready = []
            for spec in ex.graph.steps.values():
                name = spec.name
                if name in ex.steps or name in ex.skipped:
                    continue
                if ex.selected_steps is not None and name not in ex.selected_steps:
                    # Selective execution runs only the selected steps; the rest keep the source's results.
                    ex.skipped.add(name)
                    changed = True
                    continue
                if spec.branch is not None:
                    cond = ex.steps.get(spec.branch[0])
                    if cond is not None and cond.status == SUCCEEDED and cond.outcome is not None:
                        if cond.outcome != (spec.branch[1] == "if"):
                            ex.skipped.add(name)
                            changed = True
                            continue
                states = {dep: _dependency_state(ex, spec, dep) for dep in spec.depends_on}
                if "never" in states.values():
                    # An upstream step was skipped, or ended with an outcome this step does not wait for.
                    ex.skipped.add(name)
                    changed = True
                    continue
                if any(state == "wait" for state in states.values()):
                    continue
                if after_failure and not any(
                    dep in spec.triggers or dep in ex.recovering for dep in spec.depends_on
                ):
                    continue
                ready.append(spec)
        if after_failure:
            ex.recovering.update(spec.name for spec in ready)
        return ready

    def _start_step(self, ex: ExecutionRecord, spec: StepSpec) -> None:
        record = StepRecord(spec=spec, status=STARTING, start_time=utcnow())
        record.attempt_count = ex.prior_attempts.get(spec.name, 0)
        ex.steps[spec.name] = record
        ex.last_modified_time = record.start_time
        events.step_changed(self, ex, record)
        self._submit(ex, record)

    def _submit(self, ex: ExecutionRecord, record: StepRecord) -> None:
        if self.closed:
            return
        self._pool.submit(self._attempt, ex, record)

    def _finish_execution(self, ex: ExecutionRecord, status: str) -> None:
        ex.status = status
        ex.last_modified_time = utcnow()
        if status == FAILED:
            ex.failure_reason = EXECUTION_FAILURE_REASON
        log.info("execution %s of %s %s", ex.id, ex.pipeline.name, status)
        events.execution_changed(self, ex)
        ex.done.set()

    # ---- one attempt of a step --------------------------------------------------------------------

    def _attempt(self, ex: ExecutionRecord, record: StepRecord) -> None:
        with self.lock:
            record.retry_timer = None
            if record.status not in ACTIVE_STEP_STATUSES:
                return  # stopped while queued
            if ex.status == STOPPING or record.status == STOPPING:
                self._finish_step(ex, record, StepOutcome(status=STOPPED))
                self._schedule(ex)
                return
            record.status = EXECUTING
            events.step_changed(self, ex, record)
            record.attempt_count += 1
            record.attempts_this_run += 1
            if record.first_attempt_time is None:
                record.first_attempt_time = utcnow()
            attempt = record.attempt_count
        try:
            outcome = self._run_attempt(ex, record, attempt)
        except ExpressionError as exc:
            outcome = StepOutcome.failed(f"ClientError: {exc}")
        except Exception as exc:
            log.exception("step %s of execution %s raised", record.name, ex.id)
            outcome = StepOutcome.failed(
                f"InternalServerError: {type(exc).__name__}: {exc}", "Step.SERVICE_FAULT"
            )
        self._complete(ex, record, outcome)

    def _run_attempt(self, ex: ExecutionRecord, record: StepRecord, attempt: int) -> StepOutcome:
        fault = self.faults.step_failure(ex.pipeline.name, record.name, attempt)
        if fault is not None:
            log.info("fault injected into step %s attempt %s", record.name, attempt)
            return StepOutcome.failed(fault.reason, fault.exception_type)
        resolver = self.resolver(ex, record)
        spec = record.spec
        cache_key = None
        if spec.type in CACHEABLE_TYPES and (spec.raw.get("CacheConfig") or {}).get("Enabled"):
            arguments = resolver.resolve(spec.arguments)
            cache_key = short_hash(ex.pipeline.arn, spec.name, spec.type, arguments, length=64)
            hit = self._cache_lookup(cache_key, spec.raw["CacheConfig"])
            if hit is not None:
                source_arn, source = hit
                return StepOutcome(
                    status=SUCCEEDED,
                    properties=source.properties,
                    metadata=source.metadata,
                    cache_source=source_arn,
                )
        outcome = step_runners.run_step(self, ex, record, resolver)
        if cache_key is not None and outcome.status == SUCCEEDED:
            with self.lock:
                self.cache.setdefault(cache_key, []).append((utcnow(), ex.arn, record))
        return outcome

    def _cache_lookup(self, key: str, cache_config: dict[str, Any]) -> tuple[str, StepRecord] | None:
        expire = cache_config.get("ExpireAfter")
        try:
            window = parse_iso_duration(expire) if expire else None
        except ValueError:
            window = None
        now = utcnow()
        with self.lock:
            for when, arn, source in reversed(self.cache.get(key, [])):
                if source.status != SUCCEEDED:
                    continue
                if window is not None and now - when > window:
                    continue
                return source.cache_source or arn, source
        return None

    def _complete(self, ex: ExecutionRecord, record: StepRecord, outcome: StepOutcome) -> None:
        with self.lock:
            if outcome.status == PENDING:
                # The callback may already have arrived and finished the step; nothing to do then.
                if record.status not in ACTIVE_STEP_STATUSES:
                    return
                if ex.status == STOPPING or record.status == STOPPING:
                    self._finish_step(ex, record, StepOutcome(status=STOPPED))
                    self._schedule(ex)
                return
            if outcome.status == FAILED and ex.status == EXECUTING:
                delay = self._retry_delay(record, outcome)
                if delay is not None:
                    log.info(
                        "step %s failed (%s); retrying in %.3fs", record.name, outcome.failure_reason, delay
                    )
                    record.metadata = outcome.metadata or record.metadata
                    record.retry_timer = self._timer.call_later(delay, lambda: self._submit(ex, record))
                    return
            self._finish_step(ex, record, outcome)
            self._schedule(ex)

    def _retry_delay(self, record: StepRecord, outcome: StepOutcome) -> float | None:
        if outcome.exception_type is None:
            return None
        retries_done = record.attempts_this_run - 1
        scale = self.config.retry_interval_scale
        for policy in record.spec.raw.get("RetryPolicies") or []:
            if outcome.exception_type not in policy.get("ExceptionType", []):
                continue
            interval = (
                float(policy.get("IntervalSeconds", 1))
                * float(policy.get("BackoffRate", 2.0)) ** retries_done
            )
            if "MaxAttempts" in policy and retries_done >= int(policy["MaxAttempts"]):
                return None
            if "ExpireAfterMin" in policy:
                started = record.first_attempt_time or record.start_time
                budget = dt.timedelta(minutes=float(policy["ExpireAfterMin"]) * scale)
                if utcnow() + dt.timedelta(seconds=interval * scale) - started > budget:
                    return None
            return interval * scale
        return None

    def _finish_step(self, ex: ExecutionRecord, record: StepRecord, outcome: StepOutcome) -> None:
        if record.status not in ACTIVE_STEP_STATUSES:
            return
        if record.callback_token:
            self.callbacks.pop(record.callback_token, None)
        record.waiting_callback = False
        record.status = outcome.status
        record.end_time = utcnow()
        record.failure_reason = outcome.failure_reason
        if outcome.metadata:
            record.metadata = outcome.metadata
        if outcome.properties is not None:
            record.properties = outcome.properties
        if outcome.outcome is not None:
            record.outcome = outcome.outcome
        record.cache_source = outcome.cache_source
        ex.last_modified_time = record.end_time
        log.info("step %s of execution %s %s", record.name, ex.id, record.status)
        events.step_changed(self, ex, record)

    # ---- callbacks --------------------------------------------------------------------------------

    def register_callback(self, ex: ExecutionRecord, record: StepRecord) -> str:
        with self.lock:
            token = random_id(10, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
            record.callback_token = token
            record.waiting_callback = True
            self.callbacks[token] = (ex, record)
            return token

    def complete_callback(
        self,
        token: str,
        *,
        output_parameters: list[dict[str, Any]] | None = None,
        failure_reason: str | None = None,
        success: bool,
    ) -> ExecutionRecord:
        with self.lock:
            entry = self.callbacks.get(token)
            if entry is None:
                if any(
                    r.callback_token == token for ex in self.executions.values() for r in ex.steps.values()
                ):
                    raise ConflictError(
                        f"Callback token '{token}' belongs to a step that is no longer waiting."
                    )
                raise ResourceNotFound(f"Callback token '{token}' does not exist.")
            ex, record = entry
            if not record.waiting_callback:
                raise ConflictError(f"Callback token '{token}' belongs to a step that is not waiting yet.")
            if success:
                outcome = step_runners.callback_success(record, output_parameters or [])
            else:
                outcome = StepOutcome.failed(failure_reason or "Callback step failed.")
                outcome.metadata = record.metadata
            self._finish_step(ex, record, outcome)
            self._schedule(ex)
            return ex

    # ---- expression context -----------------------------------------------------------------------

    def resolver(self, ex: ExecutionRecord, record: StepRecord | None = None) -> Resolver:
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
                return step_runners.job_name(ex, record)
            raise ExpressionError(f"Unknown execution variable {name!r}")

        def step_properties(name: str) -> dict[str, Any]:
            with self.lock:
                step = ex.steps.get(name)
            if step is None or step.status != SUCCEEDED or step.properties is None:
                state = "has not run" if step is None else f"is {step.status}"
                raise ExpressionError(f"Step {name} {state}; its properties are not available")
            return step.properties

        def property_file(step: str, name: str) -> Any:
            key = (step, name)
            if key not in ex.property_files:
                ex.property_files[key] = self._load_property_file(ex, step, name, step_properties(step))
            return ex.property_files[key]

        return Resolver(
            parameters=ex.parameters,
            execution_variables=execution_variable,
            step_properties=step_properties,
            property_file=property_file,
            read_s3_json=lambda uri: self.read_s3_json(uri, ex),
        )

    def _load_property_file(
        self, ex: ExecutionRecord, step: str, name: str, properties: dict[str, Any]
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
        return self.read_s3_json(f"{base}/{pf.get('FilePath', '').lstrip('/')}", ex)

    def read_s3_json(self, uri: str, ex: ExecutionRecord) -> Any:
        """A JSON object from S3, read as the execution's pipeline role (JsonGet, property files)."""
        if not uri.startswith("s3://"):
            raise ExpressionError(f"Not an S3 URI: {uri!r}")
        bucket, _, key = uri[5:].partition("/")
        try:
            if self.access.enabled:
                from .steps import as_pipeline_role

                as_pipeline_role(self, ex, None, "s3:GetObject", f"arn:aws:s3:::{bucket}/{key}")
            client = self.client("s3", ex.region, ex.pipeline.account_id)
            body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except Exception as exc:
            raise ExpressionError(f"Cannot read {uri}: {exc}") from exc
        try:
            return json.loads(body)
        except ValueError as exc:
            raise ExpressionError(f"{uri} is not JSON: {exc}") from exc

    # ---- jobs -------------------------------------------------------------------------------------

    def put_job(self, kind: str, region: str, name: str, description: dict[str, Any]) -> None:
        with self.lock:
            # SageMaker job names are unique ignoring case and ARNs carry them lower-cased.
            self.jobs[(kind, region, name.lower())] = description

    def get_job(self, kind: str, region: str, name: str) -> dict[str, Any] | None:
        with self.lock:
            return self.jobs.get((kind, region, name.lower()))

    def list_jobs(self, kind: str, region: str) -> list[dict[str, Any]]:
        with self.lock:
            return [d for (k, r, _), d in self.jobs.items() if k == kind and r == region]

    def wait(self, arn: str, timeout: float | None = None) -> ExecutionRecord:
        """Block until an execution is terminal (Python API helper)."""
        ex = self.find_execution(arn)
        if not ex.done.wait(timeout):
            raise TimeoutError(f"execution {arn} still {ex.status} after {timeout}s")
        return ex


def _coerce(name: str, ptype: str, raw: Any) -> Any:
    try:
        if ptype == "Integer":
            if isinstance(raw, bool):
                raise ValueError
            if isinstance(raw, float) and not raw.is_integer():
                raise ValueError
            return int(raw) if not isinstance(raw, str) else int(raw.strip())
        if ptype == "Float":
            if isinstance(raw, bool):
                raise ValueError
            return float(raw)
        if ptype == "Boolean":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("true", "false"):
                return text == "true"
            raise ValueError
        return raw if isinstance(raw, str) else to_text(raw)
    except (TypeError, ValueError):
        raise ValidationError(f"Parameter '{name}' value {raw!r} is not a valid {ptype}.") from None
