"""Deferrable waiting on a pipeline execution or one of its steps, with one shared poller per execution.

The Amazon provider's pattern (one waiter per trigger) costs one DescribePipelineExecution per step per
interval: 50 mirrored steps make 50 calls where one would do, and SageMaker throttles its control plane
per account. Here every :class:`PipelineExecutionTrigger` of the same (connection, region, execution ARN)
in a triggerer process subscribes to one :class:`ExecutionPoller`. Each poll makes one
DescribePipelineExecution and the ListPipelineExecutionSteps pages (one page up to 100 steps) however
many triggers wait, hands the snapshot to every subscriber, and stops when the last subscriber leaves.
The triggerer runs all triggers in one event loop, so a module-level registry (keyed by loop too) is the
natural home of the pollers.

Event payloads (``TriggerEvent.payload`` and :func:`wait_for_step`'s return value) are JSON-serialisable::

    {"status": "succeeded" | "failed" | "stopped"   # the watched step (or the execution) ended so
               | "not_run"                          # the execution ended and the step never ran
               | "callback"                         # wait_for="callback": the step's token is there
               | "error",                           # polling kept failing (see "message")
     "execution": {"arn", "status", "failure_reason"},
     "step_name": ..., "step": <ListPipelineExecutionSteps entry or None>,
     "reason": <why, for humans>, "message": <only for "error">}
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_sagemaker_mlops.hooks.errors import PipelineWaitTimeout
from airflow_sagemaker_mlops.hooks.pipelines import (
    TERMINAL_EXECUTION_STATUSES,
    TERMINAL_STEP_STATUSES,
    SageMakerPipelinesAsyncHook,
    SageMakerPipelinesHook,
)

log = logging.getLogger(__name__)

SUCCEEDED = "succeeded"
FAILED = "failed"
STOPPED = "stopped"
NOT_RUN = "not_run"
CALLBACK = "callback"
ERROR = "error"
WAIT_FOR = ("end", "callback")

#: Consecutive failed polls before subscribers hear about it (botocore already retried each call).
MAX_POLL_FAILURES = 5
#: Longest pause between failed polls, in seconds (or the poll interval, if that is longer).
MAX_BACKOFF = 60.0

_STATUS_WORD = {"Succeeded": SUCCEEDED, "Failed": FAILED, "Stopped": STOPPED}


# ---- what a snapshot means for one waiter (shared by the trigger and the sync helper) -------------


def _execution_summary(execution: dict[str, Any], arn: str) -> dict[str, Any]:
    return {
        "arn": execution.get("PipelineExecutionArn", arn),
        "status": execution.get("PipelineExecutionStatus"),
        "failure_reason": execution.get("FailureReason"),
    }


def find_step(steps: list[dict[str, Any]], step_name: str) -> dict[str, Any] | None:
    """The latest entry named ``step_name`` (a retried execution may list a step more than once)."""
    found = None
    for entry in steps:
        if entry.get("StepName") == step_name and (
            found is None or str(entry.get("StartTime") or "") >= str(found.get("StartTime") or "")
        ):
            found = entry
    return found


def evaluate(
    execution_arn: str,
    execution: dict[str, Any],
    steps: list[dict[str, Any]],
    step_name: str | None = None,
    wait_for: str = "end",
) -> dict[str, Any] | None:
    """The event payload this snapshot (DescribePipelineExecution + all steps) gives a waiter, or None.

    The snapshot must be taken describe-first: then a terminal execution status implies the step list
    that follows is final, and a step absent from it never ran.
    """
    summary = _execution_summary(execution, execution_arn)
    status = summary["status"]
    ended = status in TERMINAL_EXECUTION_STATUSES
    base = {"execution": summary, "step_name": step_name}
    if step_name is None:
        if not ended:
            return None
        return {**base, "status": _STATUS_WORD[status], "step": None, "reason": summary["failure_reason"]}
    step = find_step(steps, step_name)
    step_status = step.get("StepStatus") if step else None
    if step_status in TERMINAL_STEP_STATUSES:
        return {**base, "status": _STATUS_WORD[step_status], "step": step, "reason": step.get("FailureReason")}
    if wait_for == "callback" and step_status == "Executing":
        token = ((step.get("Metadata") or {}).get("Callback") or {}).get("CallbackToken")
        if token:
            return {**base, "status": CALLBACK, "step": step, "reason": "the callback token is available"}
    if not ended:
        return None
    if step is None:
        reason = f"execution {status} without running step {step_name}"
        return {**base, "status": NOT_RUN, "step": None, "reason": reason}
    # Not seen on SageMaker (steps end before their execution); report the execution's end, not a hang.
    reason = f"execution {status} while step {step_name} was {step_status}"
    return {**base, "status": _STATUS_WORD[status], "step": step, "reason": reason}


def _error_payload(execution_arn: str, step_name: str | None, message: str) -> dict[str, Any]:
    return {
        "status": ERROR,
        "message": message,
        "reason": message,
        "execution": {"arn": execution_arn, "status": None, "failure_reason": None},
        "step_name": step_name,
        "step": None,
    }


# ---- the shared poller ----------------------------------------------------------------------------


@dataclass(eq=False)
class Subscription:
    step_name: str | None
    wait_for: str
    poll_interval: float
    #: Only snapshots from polls started after this (monotonic) time count: an older one may predate
    #: a RetryPipelineExecution the subscriber is waiting on.
    since: float
    future: asyncio.Future[dict[str, Any]]


@dataclass
class PollerStats:
    polls: int = 0
    api_calls: int = 0
    failures: int = 0


@dataclass(eq=False)
class ExecutionPoller:
    """Polls one execution for all its subscribers; see the module docstring."""

    key: tuple[Any, ...]
    execution_arn: str
    hook_factory: Callable[[], SageMakerPipelinesAsyncHook]
    subscribers: list[Subscription] = field(default_factory=list)
    stats: PollerStats = field(default_factory=PollerStats)
    task: asyncio.Task[None] | None = None
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def interval(self) -> float:
        return min((s.poll_interval for s in self.subscribers), default=15.0)

    def subscribe(self, step_name: str | None, wait_for: str, poll_interval: float) -> Subscription:
        loop = asyncio.get_running_loop()
        sub = Subscription(step_name, wait_for, poll_interval, time.monotonic(), loop.create_future())
        self.subscribers.append(sub)
        if self.task is None:
            self.task = loop.create_task(self._run(), name=f"sagemaker-poller:{self.execution_arn}")
        elif poll_interval < self.interval:
            self._wake.set()  # re-sleep with the shorter interval
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self.subscribers:
            self.subscribers.remove(sub)
        if not sub.future.done():
            sub.future.cancel()
        if not self.subscribers:
            # Leave the registry now, so a trigger arriving later starts a fresh poller instead of
            # joining one that is shutting down.
            if _POLLERS.get(self.key) is self:
                del _POLLERS[self.key]
            if self.task is not None and not self.task.done() and self.task is not asyncio.current_task():
                self.task.cancel()

    async def _poll(self, client: Any, hook: SageMakerPipelinesAsyncHook) -> tuple[dict[str, Any], list[dict]]:
        # Describe first: a terminal status then guarantees the step list below is final.
        execution = await hook.describe_execution(self.execution_arn, client=client)
        steps = await hook.list_steps(self.execution_arn, client=client)
        return execution, steps

    def _count_call(self, **kwargs: Any) -> None:
        # botocore "before-call" handler: one per operation call (retries of a call are not counted).
        # Must return None: a value would short-circuit the request.
        self.stats.api_calls += 1

    def _deliver(self, started: float, execution: dict[str, Any], steps: list[dict[str, Any]]) -> None:
        for sub in list(self.subscribers):
            if sub.future.done() or sub.since > started:
                continue
            try:
                payload = evaluate(self.execution_arn, execution, steps, sub.step_name, sub.wait_for)
            except Exception as exc:  # a malformed response must not take every waiter down silently
                payload = _error_payload(self.execution_arn, sub.step_name, f"cannot read the execution: {exc}")
            if payload is not None:
                sub.future.set_result(payload)

    def _fail_all(self, message: str) -> None:
        for sub in list(self.subscribers):
            if not sub.future.done():
                sub.future.set_result(_error_payload(self.execution_arn, sub.step_name, message))

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            pass

    async def _run(self) -> None:
        failures = 0
        try:
            hook = self.hook_factory()
            async with hook.client() as client:
                client.meta.events.register("before-call.sagemaker", self._count_call)
                while self.subscribers:
                    started = time.monotonic()
                    try:
                        execution, steps = await self._poll(client, hook)
                    except Exception as exc:
                        failures += 1
                        self.stats.failures += 1
                        if failures >= MAX_POLL_FAILURES:
                            log.error("polling %s failed %d times: %s", self.execution_arn, failures, exc)
                            self._fail_all(f"polling {self.execution_arn} failed {failures} times: {exc}")
                            failures = 0
                        else:
                            delay = min(self.interval * 2**failures, max(MAX_BACKOFF, self.interval))
                            log.warning(
                                "polling %s failed (%s); retrying in %.1fs", self.execution_arn, exc, delay
                            )
                            await self._sleep(delay)
                        continue
                    failures = 0
                    self.stats.polls += 1
                    self._deliver(started, execution, steps)
                    if self.subscribers:
                        await self._sleep(self.interval)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # creating the client failed (bad connection, ...)
            log.exception("poller for %s crashed", self.execution_arn)
            self._fail_all(f"cannot poll {self.execution_arn}: {type(exc).__name__}: {exc}")
        finally:
            if _POLLERS.get(self.key) is self:
                del _POLLERS[self.key]


#: (event loop id, connection id, region, execution ARN) -> the poller serving it in this process.
_POLLERS: dict[tuple[Any, ...], ExecutionPoller] = {}


def get_poller(aws_conn_id: str | None, region_name: str | None, execution_arn: str) -> ExecutionPoller:
    """The poller for this execution in the running event loop, created on first use."""
    loop = asyncio.get_running_loop()
    key = (id(loop), aws_conn_id, region_name, execution_arn)
    poller = _POLLERS.get(key)
    if poller is None or (poller.task is not None and poller.task.done()):
        poller = ExecutionPoller(
            key=key,
            execution_arn=execution_arn,
            hook_factory=lambda: SageMakerPipelinesAsyncHook(aws_conn_id=aws_conn_id, region_name=region_name),
        )
        _POLLERS[key] = poller
    return poller


def active_pollers() -> list[ExecutionPoller]:
    """Pollers alive in this process (for tests and benchmarks)."""
    return list(_POLLERS.values())


# ---- the trigger ----------------------------------------------------------------------------------


class PipelineExecutionTrigger(BaseTrigger):
    """Fires when an execution ends, or when one of its steps ends / never runs / awaits its callback.

    :param execution_arn: the pipeline execution to watch.
    :param step_name: None to wait for the execution; a step name to wait for that step.
    :param wait_for: ``"end"`` (the step's terminal status), or ``"callback"``: also fire as soon as a
        Callback step is Executing with its CallbackToken in the step Metadata.
    :param poll_interval: seconds between polls; triggers sharing a poller poll at the shortest one.
    :param stop_on_kill: stop the execution when a user kills the waiting task (marks it failed, clears it,
        or marks its run failed); triggerer restarts and redistribution do not count (``BaseTrigger.on_kill``).
    """

    def __init__(
        self,
        execution_arn: str,
        *,
        step_name: str | None = None,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        poll_interval: float = 15.0,
        wait_for: str = "end",
        stop_on_kill: bool = False,
    ) -> None:
        super().__init__()
        if wait_for not in WAIT_FOR:
            raise ValueError(f"wait_for must be one of {WAIT_FOR}, not {wait_for!r}")
        if wait_for == "callback" and step_name is None:
            raise ValueError("wait_for='callback' needs the step_name of a Callback step")
        if poll_interval <= 0:
            raise ValueError("poll_interval must be positive")
        self.execution_arn = execution_arn
        self.step_name = step_name
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.poll_interval = float(poll_interval)
        self.wait_for = wait_for
        self.stop_on_kill = stop_on_kill

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "execution_arn": self.execution_arn,
                "step_name": self.step_name,
                "aws_conn_id": self.aws_conn_id,
                "region_name": self.region_name,
                "poll_interval": self.poll_interval,
                "wait_for": self.wait_for,
                "stop_on_kill": self.stop_on_kill,
            },
        )

    async def on_kill(self) -> None:
        if not self.stop_on_kill:
            return
        self.log.info("the waiting task was killed: stopping %s", self.execution_arn)
        hook = SageMakerPipelinesHook(aws_conn_id=self.aws_conn_id, region_name=self.region_name)
        # A single, short call: run the blocking client off the event loop.
        await asyncio.to_thread(hook.stop_execution, self.execution_arn)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        poller = get_poller(self.aws_conn_id, self.region_name, self.execution_arn)
        sub = poller.subscribe(self.step_name, self.wait_for, self.poll_interval)
        what = f"step {self.step_name}" if self.step_name else "the execution"
        self.log.info("waiting for %s of %s (%s)", what, self.execution_arn, self.wait_for)
        try:
            payload = await sub.future
        finally:
            # Also on cancellation (the task was cleared, or the triggerer is shutting down).
            poller.unsubscribe(sub)
        self.log.info("%s of %s: %s", what, self.execution_arn, payload["status"])
        yield TriggerEvent(payload)


# ---- synchronous helper for poke/reschedule sensors ----------------------------------------------


def check_once(
    hook: SageMakerPipelinesHook, execution_arn: str, step_name: str | None = None, wait_for: str = "end"
) -> dict[str, Any] | None:
    """One poll: the payload a trigger would fire with now, or None."""
    execution = hook.describe_execution(execution_arn)
    steps = hook.list_steps(execution_arn) if step_name is not None else []
    return evaluate(execution_arn, execution, steps, step_name, wait_for)


def wait_for_step(
    hook: SageMakerPipelinesHook,
    execution_arn: str,
    step_name: str | None,
    poll_interval: float = 15.0,
    timeout: float | None = None,
    *,
    wait_for: str = "end",
    raise_on_timeout: bool = False,
) -> dict[str, Any] | None:
    """Poll until the step (or, with step_name None, the execution) gives an event; return its payload.

    Same payloads as the trigger (errors raise instead of becoming ``"error"`` payloads). ``timeout``
    None waits forever; ``timeout=0`` is a single poll (a poke). On timeout returns None, or raises
    PipelineWaitTimeout when ``raise_on_timeout``.
    """
    if wait_for not in WAIT_FOR:
        raise ValueError(f"wait_for must be one of {WAIT_FOR}, not {wait_for!r}")
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        payload = check_once(hook, execution_arn, step_name, wait_for)
        if payload is not None:
            return payload
        if deadline is not None and time.monotonic() + poll_interval > deadline:
            if raise_on_timeout:
                what = f"step {step_name}" if step_name else "execution"
                raise PipelineWaitTimeout(f"{what} of {execution_arn} not done after {timeout}s")
            return None
        time.sleep(poll_interval)
