"""What a step runner gets: :class:`StepContext`, the narrow interface between the scheduler and a step.

A runner (``local/steps.py``) receives one frozen context per attempt and returns a ``StepOutcome``. It
never sees the engine: the context carries the resolved view of the step (its spec, a resolver for its
arguments), the names SageMaker gives its resources, the engine's clients and job store, the IAM checks
SageMaker makes as the pipeline role, a log sink and the execution's stop event. The few engine changes a
runner makes (publishing the step's metadata while it runs, registering a callback token) go through
callables the scheduler binds, which take the engine's lock themselves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .state import EngineConfig, ExecutionRecord, JobStore, StepRecord, short_hash

if TYPE_CHECKING:
    from ..definition.step_kinds import StepKind
    from .access import AccessControl
    from .clients import EngineClients
    from .definition import StepSpec
    from .expressions import Resolver


def job_name(ex: ExecutionRecord, record: StepRecord) -> str:
    """``pipelines-<execution id>-<step>-<hash>`` like SageMaker; tuning jobs are limited to 32 chars."""
    digest = short_hash(ex.arn, record.name, record.attempt_count, length=10)
    if record.spec.type == "Tuning":
        return f"{ex.id}-{record.name[:8].strip('-_')}-{digest[:9]}".replace("_", "-")[:32]
    step = record.name[: 63 - len("pipelines-") - len(ex.id) - 2 - len(digest)]
    return f"pipelines-{ex.id}-{step}-{digest}".replace("_", "-")


def resource_name(ex: ExecutionRecord, record: StepRecord) -> str:
    """The name of a resource a step creates without naming it (a Model step's model)."""
    return f"pipelines-{ex.id}-{record.name}"[:63].replace("_", "-")


def session_arn(role_arn: str, session: str) -> str:
    account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else "?"
    return f"arn:aws:sts::{account}:assumed-role/{role_arn.rsplit('/', 1)[-1]}/{session}"


def as_role(
    access: AccessControl, role_arn: str, action: str, resource: str, where: str,
    context: dict[str, str] | None = None,
) -> None:
    """Check (with IAM enforcement) that SageMaker, acting as ``role_arn``, may do ``action``."""
    access.require(
        role_arn, action, resource, context=context, where=where, actor=session_arn(role_arn, "SageMaker")
    )


def as_pipeline_role(
    access: AccessControl, ex: ExecutionRecord, record: StepRecord | None, action: str, resource: str,
    context: dict[str, str] | None = None,
) -> None:
    """As :func:`as_role`, for the execution's pipeline role (``record``: the step it acts for)."""
    where = f"{ex.pipeline.name}/{ex.id}" + (f"/{record.name}" if record is not None else "")
    as_role(access, ex.pipeline.role_arn, action, resource, where, context)


@dataclass(frozen=True)
class StepContext:
    """One attempt of one step, as its runner sees it.

    ``execution`` and ``record`` are read, not changed (the scheduler records the returned outcome);
    ``publish_metadata`` shows metadata on the step while it runs (ListPipelineExecutionSteps);
    ``register_callback``/``withdraw_callback`` hand out and take back a Callback step's token.
    """

    execution: ExecutionRecord
    record: StepRecord
    resolver: Resolver
    clients: EngineClients
    jobs: JobStore
    access: AccessControl
    config: EngineConfig
    base_work_dir: Path
    publish_metadata: Callable[[dict[str, Any]], None]
    register_callback: Callable[[], str]
    withdraw_callback: Callable[[str], None]

    # ---- what the step is -----------------------------------------------------------------------

    @property
    def spec(self) -> StepSpec:
        return self.record.spec

    @property
    def kind(self) -> StepKind:
        from ..definition.step_kinds import STEP_KINDS

        return STEP_KINDS[self.spec.type]

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def region(self) -> str:
        return self.execution.region

    @property
    def account_id(self) -> str:
        """The pipeline's account: where the step's resources are created."""
        return self.execution.pipeline.account_id

    @property
    def stop_event(self) -> threading.Event:
        return self.execution.stop_event

    def resolve(self, value: Any) -> Any:
        """``value`` (a part of the step's definition) with Get, Std:Join, JsonGet... resolved."""
        return self.resolver.resolve(value)

    def arguments(self) -> Any:
        """The step's ``Arguments``, resolved."""
        return self.resolver.resolve(self.spec.arguments)

    # ---- names, places, clients -------------------------------------------------------------------

    def job_name(self) -> str:
        return job_name(self.execution, self.record)

    def resource_name(self) -> str:
        return resource_name(self.execution, self.record)

    def arn(self, resource: str) -> str:
        """A SageMaker ARN in the step's region and account."""
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:{resource}"

    def work_dir(self) -> Path:
        """This attempt's own directory (created on first use)."""
        path = self.base_work_dir / self.execution.id / self.name / f"attempt-{self.record.attempt_count}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def client(self, service: str) -> Any:
        """An engine client in the step's region and account."""
        return self.clients.client(service, self.region, self.account_id)

    def log(self, line: str) -> None:
        """One line of the step's log (the console shows it)."""
        self.record.log.append(line)

    # ---- what SageMaker does as the pipeline role (checked with IAM enforcement on) ----------------

    def as_pipeline_role(self, action: str, resource: str, context: dict[str, str] | None = None) -> None:
        as_pipeline_role(self.access, self.execution, self.record, action, resource, context)

    def as_role(self, role_arn: str, action: str, resource: str, where: str,
                context: dict[str, str] | None = None) -> None:
        as_role(self.access, role_arn, action, resource, where, context)

    def pass_role(self, role_arn: str) -> None:
        self.as_pipeline_role("iam:PassRole", role_arn, {"iam:PassedToService": "sagemaker.amazonaws.com"})
