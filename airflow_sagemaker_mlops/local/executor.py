"""The engine: pipelines, executions and their lifecycle; one per server, thread-safe.

The facade the API (``local/api.py``), the server and the Python API call. What it delegates:

* :mod:`.scheduler`: running the steps of executions (parallelism, retries, callbacks, the step cache);
* :mod:`.clients`: the boto3 clients the engine uses against its own server (moto behind it);
* :mod:`.resolver`: the expression context of an execution (parameters, properties, JsonGet);
* :mod:`.selective`: SelectiveExecutionConfig (which steps run, which are copied from the source);
* :class:`~.state.JobStore`: the descriptions of the jobs the steps ran.

All state changes happen under :attr:`Engine.lock`.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from . import events, experiments
from . import steps as step_runners
from .clients import EngineClients
from .context import as_pipeline_role
from .definition import PipelineGraph, parse_definition
from .errors import ConflictError, ResourceNotFound, ValidationError
from .expressions import ExpressionError, to_text
from .faults import Faults
from .scheduler import Scheduler
from .selective import prepare_selective
from .state import (
    EXECUTING,
    FAILED,
    STOPPED,
    STOPPING,
    EngineConfig,
    ExecutionRecord,
    JobStore,
    PipelineRecord,
    PipelineVersion,
    StepOutcome,
    random_id,
    utcnow,
)
from .workdir import OWNER_FILE, WORK_DIR_PREFIX, remove_stale_work_dirs

log = logging.getLogger(__name__)


class Engine:
    """Pipelines, executions, jobs and their scheduling. Thread-safe; one per server."""

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self.faults = Faults(self.config.faults)
        self.lock = threading.RLock()
        self.pipelines: dict[tuple[str, str, str], PipelineRecord] = {}  # (account, region, name)
        self.executions: dict[str, ExecutionRecord] = {}
        # (pipeline or execution arn, client token) -> execution arn: StartPipelineExecution and Retry are idempotent
        self.tokens: dict[tuple[str, str], str] = {}
        self.jobs = JobStore()
        from .access import AccessControl
        from .ram import Ram

        self.access = AccessControl(enabled=self.config.enforce_iam)
        self.ram = Ram()
        self.clients = EngineClients(self.config)
        self.experiments: set[tuple[str, str, str]] = set()  # (account, region, name) created so far
        self._own_work_dir = self.config.work_dir is None
        if self._own_work_dir:
            remove_stale_work_dirs()
        self.work_dir = Path(self.config.work_dir or tempfile.mkdtemp(prefix=WORK_DIR_PREFIX))
        if self._own_work_dir:
            (self.work_dir / OWNER_FILE).write_text(str(os.getpid()))
        self.scheduler = Scheduler(self)

    # ---- infrastructure ---------------------------------------------------------------------------

    def close(self) -> None:
        self.scheduler.close()  # first: nothing starts any more
        with self.lock:
            for ex in self.executions.values():
                ex.stop_event.set()
        from .jobs.sandbox import terminate_jobs_under

        # Job processes end with the engine, even those whose runner thread would not get to it.
        terminate_jobs_under(self.work_dir)
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
            self.scheduler.reset()
            self.jobs.clear()
            self.experiments.clear()
            self.clients.reset()
        log.info("engine state reset")

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
                prepare_selective(ex, selective, self.executions)
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
            experiments.record_execution(ex)
            self.scheduler.schedule(ex)
            return ex

    def _authorize_experiment(self, ex: ExecutionRecord) -> str | None:
        """With IAM enforcement: the pipeline role creates the experiment (once) and the execution's trial."""
        config = ex.experiment_config or {}
        if not self.access.enabled or not config.get("ExperimentName"):
            return None
        from .errors import AccessDeniedError

        experiment, trial = config["ExperimentName"], config.get("TrialName") or ex.id
        account = ex.pipeline.account_id
        experiment_arn = self.arn(ex.region, f"experiment/{experiment.lower()}", account)
        try:
            as_pipeline_role(self.access, ex, None, "sagemaker:DescribeExperiment", experiment_arn)
            if (account, ex.region, experiment.lower()) not in self.experiments:
                as_pipeline_role(self.access, ex, None, "sagemaker:CreateExperiment", experiment_arn)
                self.experiments.add((account, ex.region, experiment.lower()))
            trial_arn = self.arn(ex.region, f"experiment-trial/{trial.lower()}", account)
            as_pipeline_role(self.access, ex, None, "sagemaker:CreateTrial", trial_arn)
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
        resolver = self.scheduler.resolver(ex)

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
            self.scheduler.stop_steps(ex)
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
            self.scheduler.schedule(ex)
            return ex

    # ---- callbacks (SendPipelineExecutionStepSuccess/Failure) -------------------------------------

    def complete_callback(
        self,
        token: str,
        *,
        output_parameters: list[dict[str, Any]] | None = None,
        failure_reason: str | None = None,
        success: bool,
    ) -> ExecutionRecord:
        with self.lock:
            entry = self.scheduler.callbacks.get(token)
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
            self.scheduler.finish_step(ex, record, outcome)
            self.scheduler.schedule(ex)
            return ex

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
