"""Deferrable waiting on a pipeline execution or one of its steps, with one shared poller per execution.

The Amazon provider's pattern (one waiter per trigger) costs one DescribePipelineExecution per step per
interval: 50 mirrored steps make 50 calls where one would do, and SageMaker throttles its control plane
per account. Here every :class:`PipelineExecutionTrigger` of the same (connection, region, execution ARN)
in a triggerer process subscribes to one :class:`ExecutionPoller`. Each poll makes one
DescribePipelineExecution and the ListPipelineExecutionSteps pages (one page up to 100 steps) however
many triggers wait, hands the snapshot to every subscriber, and stops when the last subscriber leaves.
The triggerer runs all triggers in one event loop, so a module-level registry (keyed by loop too) is the
natural home of the pollers.

Triggers with ``stream_logs=True`` (step tasks, by default) also get their step's job log lines while it is
Executing: after a poll, the poller reads new CloudWatch Logs lines for those steps only (``hooks/logs.py``;
bounded per poll and in time) and hands them to the triggers, which log them in their own context, so the
triggerer puts them in the waiting task's log. Triggers without it cost exactly what they did before.

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
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, cast

from airflow.triggers.base import BaseTrigger, TriggerEvent
from botocore.exceptions import ClientError

from airflow_sagemaker_mlops.definition.statuses import execution_ended, step_ended
from airflow_sagemaker_mlops.hooks.errors import PipelineWaitTimeout, wrap_client_error
from airflow_sagemaker_mlops.hooks.pipelines import SageMakerPipelinesAsyncHook, SageMakerPipelinesHook
from airflow_sagemaker_mlops.hooks.settings import AwsClientSettings

log = logging.getLogger(__name__)

# Event statuses besides the ended execution's or step's own (lower-cased: "succeeded", "failed", "stopped",
# "completed_with_failures", or whatever AWS adds).
NOT_RUN = "not_run"
CALLBACK = "callback"
ERROR = "error"
WAIT_FOR = ("end", "callback")

#: Consecutive failed polls before subscribers hear about it (botocore already retried each call).
MAX_POLL_FAILURES = 5
#: Longest pause between failed polls, in seconds (or the poll interval, if that is longer).
MAX_BACKOFF = 60.0
#: Job log lines a poll reads per executing step for triggers with ``stream_logs`` (the rest follows
#: on later polls, or in the worker's drain once the step has ended).
MAX_LOG_LINES_PER_POLL = 500
#: Seconds a poll may spend reading job logs before delivering the snapshot anyway.
LOG_FETCH_TIMEOUT = 10.0


def _status_word(status: str) -> str:
    """An ended SageMaker status as an event status: ``CompletedWithFailures`` -> ``completed_with_failures``."""
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(status))


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
    resumed_from: str | None = None,
) -> dict[str, Any] | None:
    """The event payload this snapshot (DescribePipelineExecution + all steps) gives a waiter, or None.

    The snapshot must be taken describe-first: then a terminal execution status implies the step list
    that follows is final, and a step absent from it never ran. ``resumed_from``: the StartTime of the
    step's attempt a resumed (retried) execution is re-running; while the execution runs, that attempt and
    older ones are not the step's answer (the retried attempt has not started yet).
    """
    summary = _execution_summary(execution, execution_arn)
    status = summary["status"]
    ended = execution_ended(status)
    base = {"execution": summary, "step_name": step_name}
    if step_name is None:
        if not ended:
            return None
        return {**base, "status": _status_word(status), "step": None, "reason": summary["failure_reason"]}
    step = find_step(steps, step_name)
    if step is not None and resumed_from is not None and not ended \
            and str(step.get("StartTime") or "") <= resumed_from:
        step = None
    step_status = step.get("StepStatus") if step else None
    if step_ended(step_status):
        return {**base, "status": _status_word(step_status), "step": step, "reason": step.get("FailureReason")}
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
    return {**base, "status": _status_word(status), "step": step, "reason": reason}


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
    #: Wants the step's job log lines while the step runs (the trigger logs them in its own context, so
    #: Airflow routes them to the waiting task's log).
    stream_logs: bool = False
    #: See evaluate(): the attempt of the step a resumed execution is re-running.
    resumed_from: str | None = None
    log_lines: list[str] = field(default_factory=list)
    log_ready: asyncio.Event = field(default_factory=asyncio.Event)

    def take_log_lines(self) -> list[str]:
        lines, self.log_lines = self.log_lines, []
        self.log_ready.clear()
        return lines


@dataclass
class PollerStats:
    polls: int = 0
    api_calls: int = 0  # SageMaker calls
    failures: int = 0
    log_calls: int = 0  # CloudWatch Logs calls (only for steps whose triggers stream logs)


@dataclass
class StepLogState:
    """How far the poller has read one step's job log (reset when a retried step runs a new job)."""

    job_arn: str
    location: Any = None  # hooks.logs.JobLogLocation, once the job's name is known
    cursor: Any = None  # hooks.logs.LogCursor
    announced: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"job_arn": self.job_arn,
                "location": self.location.to_json() if self.location is not None else None,
                "cursor": self.cursor.to_json() if self.cursor is not None else None}


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
    #: Makes the async CloudWatch Logs hook; None: this poller never reads job logs.
    logs_hook_factory: Callable[[], Any] | None = None
    _logs: dict[str, StepLogState] = field(default_factory=dict)
    _logs_client: Any = None
    _exit_stack: contextlib.AsyncExitStack | None = None
    #: An event (triggers/events.py) asked for a poll now; kept until the poller next sleeps or polls.
    _woken: bool = False

    def wake(self) -> None:
        """Poll now (an event said something changed); the snapshot still decides."""
        self._woken = True
        self._wake.set()

    @property
    def interval(self) -> float:
        return min((s.poll_interval for s in self.subscribers), default=15.0)

    def subscribe(self, step_name: str | None, wait_for: str, poll_interval: float,
                  stream_logs: bool = False, resumed_from: str | None = None) -> Subscription:
        loop = asyncio.get_running_loop()
        sub = Subscription(step_name, wait_for, poll_interval, time.monotonic(), loop.create_future(),
                           stream_logs=stream_logs and step_name is not None, resumed_from=resumed_from)
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
                payload = evaluate(self.execution_arn, execution, steps, sub.step_name, sub.wait_for,
                                   sub.resumed_from)
            except Exception as exc:  # a malformed response must not take every waiter down silently
                payload = _error_payload(self.execution_arn, sub.step_name, f"cannot read the execution: {exc}")
            if payload is not None:
                state = self._logs.get(sub.step_name) if sub.stream_logs and sub.step_name else None
                if state is not None:
                    # Where the lines this trigger logged end: the worker's drain continues from there.
                    payload["job_log"] = state.to_json()
                sub.future.set_result(payload)

    # ---- job logs (only for subscribers with stream_logs) ----------------------------------------

    def _count_log_call(self, **kwargs: Any) -> None:
        self.stats.log_calls += 1

    async def _open_logs_client(self) -> Any:
        if self._logs_client is None:
            assert self.logs_hook_factory is not None and self._exit_stack is not None
            hook = self.logs_hook_factory()
            self._logs_client = await self._exit_stack.enter_async_context(await hook.open_client())
            self._logs_client.meta.events.register("before-call.logs", self._count_log_call)
        return self._logs_client

    async def _fetch_logs(self, client: Any, steps: list[dict[str, Any]]) -> None:
        """New job log lines of the executing steps some subscriber streams, handed to those subscribers.

        Costs nothing for steps nobody streams, or that are not running a job; otherwise one Describe*Job
        per job (for its real name) and, per poll, one DescribeLogStreams plus one GetLogEvents per stream
        with new events, at most MAX_LOG_LINES_PER_POLL lines.
        """
        from airflow_sagemaker_mlops.hooks.logs import (
            LogCursor,
            describe_request,
            format_lines,
            job_of_step,
            location_from_description,
        )

        wanted: dict[str, list[Subscription]] = {}
        for sub in self.subscribers:
            if sub.stream_logs and sub.step_name and not sub.future.done():
                wanted.setdefault(sub.step_name, []).append(sub)
        for step_name, subs in wanted.items():
            step = find_step(steps, step_name)
            job = job_of_step(step) if step is not None and step.get("StepStatus") == "Executing" else None
            if job is None:
                continue
            kind, job_arn = job
            state = self._logs.get(step_name)
            if state is None or state.job_arn != job_arn:
                state = self._logs[step_name] = StepLogState(job_arn, cursor=LogCursor())
            try:
                if state.location is None:
                    operation, kwargs = describe_request(kind, job_arn)
                    try:
                        description = await getattr(client, operation)(**kwargs)
                    except ClientError as exc:
                        raise wrap_client_error(exc) from exc
                    state.location = location_from_description(kind, description)
                    if state.location is None:
                        continue
                logs_client = await self._open_logs_client()
                batch = await self.logs_hook_factory().read(  # type: ignore[misc]
                    logs_client, state.location, state.cursor, max_lines=MAX_LOG_LINES_PER_POLL)
            except Exception as exc:  # logs are a courtesy: never fail or delay the waiters over them
                log.warning("cannot read the job log of step %s (%s): %s", step_name, job_arn, exc)
                continue
            state.cursor = batch.cursor
            lines = format_lines(batch.lines, state.location)
            if not lines:
                continue
            if not state.announced:
                state.announced = True
                lines.insert(0, f"job log of step {step_name} ({state.location.describe()}):")
            for sub in subs:
                sub.log_lines.extend(lines)
                sub.log_ready.set()

    def _fail_all(self, message: str) -> None:
        for sub in list(self.subscribers):
            if not sub.future.done():
                sub.future.set_result(_error_payload(self.execution_arn, sub.step_name, message))

    async def _sleep(self, seconds: float) -> None:
        if self._woken:  # an event arrived while polling: poll again at once
            self._woken = False
            return
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            pass

    async def _run(self) -> None:
        failures = 0
        try:
            hook = self.hook_factory()
            async with contextlib.AsyncExitStack() as self._exit_stack, hook.client() as client:
                client.meta.events.register("before-call.sagemaker", self._count_call)
                while self.subscribers:
                    started = time.monotonic()
                    self._woken = False
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
                    if self.logs_hook_factory is not None:
                        try:
                            await asyncio.wait_for(self._fetch_logs(client, steps), LOG_FETCH_TIMEOUT)
                        except asyncio.TimeoutError:
                            log.warning("reading job logs of %s took over %.0fs; continuing on the next poll",
                                        self.execution_arn, LOG_FETCH_TIMEOUT)
                    self._deliver(started, execution, steps)
                    if self.subscribers:
                        await self._sleep(self.interval)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # creating the client failed (bad connection, ...)
            log.exception("poller for %s crashed", self.execution_arn)
            self._fail_all(f"cannot poll {self.execution_arn}: {type(exc).__name__}: {exc}")
        finally:
            self._logs_client = self._exit_stack = None
            if _POLLERS.get(self.key) is self:
                del _POLLERS[self.key]


#: (event loop id, client settings, execution ARN) -> the poller serving it in this process.
_POLLERS: dict[tuple[Any, ...], ExecutionPoller] = {}


def get_poller(aws: AwsClientSettings, execution_arn: str) -> ExecutionPoller:
    """The poller for this execution in the running event loop, created on first use."""
    loop = asyncio.get_running_loop()
    key = (id(loop), aws.key, execution_arn)
    poller = _POLLERS.get(key)
    if poller is None or (poller.task is not None and poller.task.done()):
        poller = ExecutionPoller(
            key=key,
            execution_arn=execution_arn,
            hook_factory=lambda: aws.hook(SageMakerPipelinesAsyncHook),
            logs_hook_factory=_logs_hook_factory(aws),
        )
        _POLLERS[key] = poller
    return poller


def _logs_hook_factory(aws: AwsClientSettings) -> Callable[[], Any]:
    hooks: list[Any] = []

    def factory() -> Any:
        if not hooks:  # one hook per poller: its connection is looked up once
            from airflow_sagemaker_mlops.hooks.logs import SageMakerJobLogsAsyncHook

            hooks.append(aws.hook(SageMakerJobLogsAsyncHook))
        return hooks[0]

    return factory


def active_pollers() -> list[ExecutionPoller]:
    """Pollers alive in this process (for tests and benchmarks)."""
    return list(_POLLERS.values())


# ---- the trigger ----------------------------------------------------------------------------------


def min_deferral_seconds() -> float:
    """How long a trigger waits, from its start, before it fires: ``[sagemaker_mlops] min_deferral_seconds``
    (default 10).

    Airflow can fail a deferred task that resumes too soon: when the trigger fires before the scheduler has
    drained the executor's "success" of the deferring attempt, the scheduler sees that stale event while the
    resumed attempt runs and fails it as "state changed externally" (apache/airflow#72716, #71580; the
    scheduled/queued variants were fixed in 3.2.2). A loaded scheduler takes seconds to drain it, and a step
    that ends just after its task deferred then fails although it succeeded. Waiting a few scheduler loops
    before firing avoids the window; ``airflow dags test`` has no scheduler and can set 0.
    """
    from airflow_sagemaker_mlops.compat import conf

    return max(0.0, conf.getfloat("sagemaker_mlops", "min_deferral_seconds", fallback=10.0))


async def hold_until_min_deferral(started: float) -> None:
    """Sleep until :func:`min_deferral_seconds` have passed since ``started`` (the event loop's clock): every
    trigger that resumes a task calls it before its event."""
    loop = asyncio.get_running_loop()
    await asyncio.sleep(max(0.0, started + min_deferral_seconds() - loop.time()))


class PipelineExecutionTrigger(BaseTrigger):
    """Fires when an execution ends, or when one of its steps ends / never runs / awaits its callback.

    :param execution_arn: the pipeline execution to watch.
    :param step_name: None to wait for the execution; a step name to wait for that step.
    :param wait_for: ``"end"`` (the step's terminal status), or ``"callback"``: also fire as soon as a
        Callback step is Executing with its CallbackToken in the step Metadata.
    :param poll_interval: seconds between polls; triggers sharing a poller poll at the shortest one.
    :param stop_on_kill: stop the execution when a user kills the waiting task (marks it failed, clears it,
        or marks its run failed); triggerer restarts and redistribution do not count (``BaseTrigger.on_kill``).
    :param stream_logs: log the step's job log lines (CloudWatch Logs) while the step runs; the event then
        carries ``job_log`` (the job's log location and how far it was read) for the worker to continue.
    :param resumed_from: the StartTime of the step's attempt that a resumed execution re-runs: that
        attempt does not end the wait while the execution runs (clear to resume, operators/runtime.py).
    :param event_queue_url: an SQS queue receiving SageMaker's pipeline events (triggers/events.py): events
        wake the poll, which then runs every ``fallback_interval`` seconds instead of ``poll_interval``.
    :param fallback_interval: poll interval while events are configured (default 300).
    :param end_task: :class:`~.task_end.TaskEnd` as JSON: when the step succeeds, end the task from here
        (``TaskSuccessEvent`` with its XComs) instead of resuming it on a worker (``end_from_trigger``).
    :param aws_conn_id, region_name, verify, botocore_config: the waiting task's AWS client settings.
    """

    def __init__(
        self,
        execution_arn: str,
        *,
        step_name: str | None = None,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | None = None,
        poll_interval: float = 15.0,
        wait_for: str = "end",
        stop_on_kill: bool = False,
        stream_logs: bool = False,
        resumed_from: str | None = None,
        event_queue_url: str | None = None,
        fallback_interval: float | None = None,
        end_task: dict[str, Any] | None = None,
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
        self.aws = AwsClientSettings(aws_conn_id, region_name, verify, botocore_config)
        self.poll_interval = float(poll_interval)
        self.wait_for = wait_for
        self.stop_on_kill = stop_on_kill
        self.stream_logs = stream_logs
        self.resumed_from = resumed_from
        self.event_queue_url = event_queue_url
        self.fallback_interval = fallback_interval
        self.end_task = end_task

    @property
    def effective_interval(self) -> float:
        """Seconds between polls: the fallback interval when events wake the poller."""
        if self.event_queue_url:
            from airflow_sagemaker_mlops.hooks.events import DEFAULT_FALLBACK_INTERVAL

            return float(self.fallback_interval or DEFAULT_FALLBACK_INTERVAL)
        return self.poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "execution_arn": self.execution_arn,
                "step_name": self.step_name,
                **self.aws.as_kwargs(),
                "poll_interval": self.poll_interval,
                "wait_for": self.wait_for,
                "stop_on_kill": self.stop_on_kill,
                "stream_logs": self.stream_logs,
                "resumed_from": self.resumed_from,
                "event_queue_url": self.event_queue_url,
                "fallback_interval": self.fallback_interval,
                "end_task": self.end_task,
            },
        )

    def _log_job_lines(self, sub: Subscription) -> None:
        for line in sub.take_log_lines():
            self.log.info("%s", line)

    async def on_kill(self) -> None:
        if not self.stop_on_kill:
            return
        self.log.info("the waiting task was killed: stopping %s", self.execution_arn)
        hook = self.aws.hook(SageMakerPipelinesHook)
        # A single, short call: run the blocking client off the event loop.
        await asyncio.to_thread(hook.stop_execution, self.execution_arn)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        consumer = None
        if self.event_queue_url:
            from airflow_sagemaker_mlops.triggers.events import get_consumer

            consumer = get_consumer(self.aws, self.event_queue_url)
            consumer.acquire()
        poller = get_poller(self.aws, self.execution_arn)
        sub = poller.subscribe(self.step_name, self.wait_for, self.effective_interval, stream_logs=self.stream_logs,
                               resumed_from=self.resumed_from)
        what = f"step {self.step_name}" if self.step_name else "the execution"
        self.log.info("waiting for %s of %s (%s)", what, self.execution_arn, self.wait_for)
        if consumer is not None:
            self.log.info("woken by events from %s; polling every %.0fs as a fallback", self.event_queue_url,
                          self.effective_interval)
        try:
            while not sub.future.done():
                # Job log lines are logged here, in this trigger's own task: the triggerer routes records
                # by the task's context to the waiting task instance's log (the poller's task has the
                # context of whichever trigger created it).
                lines_ready = asyncio.ensure_future(sub.log_ready.wait())
                try:
                    await asyncio.wait({sub.future, lines_ready}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    lines_ready.cancel()
                self._log_job_lines(sub)
            payload = sub.future.result()
        finally:
            # Also on cancellation (the task was cleared, or the triggerer is shutting down).
            poller.unsubscribe(sub)
            if consumer is not None:
                consumer.release()
        await hold_until_min_deferral(started)
        self._log_job_lines(sub)
        self.log.info("%s of %s: %s", what, self.execution_arn, payload["status"])
        if self.end_task is not None:
            from airflow_sagemaker_mlops.triggers.task_end import TaskEnd, success_event

            ended = await success_event(self, payload, TaskEnd.from_json(self.end_task))
            if ended is not None:
                self.log.info("ending the task here (end_from_trigger): success, with the step's outputs in XCom")
                yield ended
                return
        yield TriggerEvent(payload)


# ---- synchronous helper for poke/reschedule sensors ----------------------------------------------


def check_once(
    hook: SageMakerPipelinesHook, execution_arn: str, step_name: str | None = None, wait_for: str = "end",
    resumed_from: str | None = None,
) -> dict[str, Any] | None:
    """One poll: the payload a trigger would fire with now, or None."""
    execution = hook.describe_execution(execution_arn)
    steps = hook.list_steps(execution_arn) if step_name is not None else []
    return evaluate(execution_arn, execution, steps, step_name, wait_for, resumed_from)


def wait_or_defer(
    task: Any,
    hook: SageMakerPipelinesHook,
    trigger: PipelineExecutionTrigger,
    *,
    deferrable: bool,
    timeout: float | None = None,
    defer_timeout: Any = None,
    on_poll: Callable[[list[dict[str, Any]]], None] | None = None,
) -> dict[str, Any]:
    """How every task waits for an execution or one of its steps: the event payload once ``trigger``'s wait
    is over. Step tasks, the group's wait task, the lifecycle operators and the sensors all come here.

    One poll first: what has already ended needs no deferral. Besides saving the round trip through the
    triggerer, that avoids Airflow's race where a trigger firing at once resumes the task before the
    scheduler has processed the deferring attempt's own exit. Then ``task.defer`` to ``trigger`` (resuming in
    ``execute_complete``; ``defer_timeout`` bounds the deferral), or poll here with the trigger's settings
    until the wait is over or ``timeout`` seconds passed (PipelineWaitTimeout).
    """
    done = check_once(hook, trigger.execution_arn, trigger.step_name, trigger.wait_for, trigger.resumed_from)
    if done is not None:
        return done
    if deferrable:
        from airflow_sagemaker_mlops.triggers.events import configure_events

        configure_events(task, hook, trigger)
        task.defer(trigger=trigger, method_name="execute_complete", timeout=defer_timeout)
    payload = wait_for_step(hook, trigger.execution_arn, trigger.step_name, trigger.poll_interval, timeout,
                            wait_for=trigger.wait_for, raise_on_timeout=True, on_poll=on_poll,
                            resumed_from=trigger.resumed_from)
    return cast("dict[str, Any]", payload)  # never None with raise_on_timeout


def wait_for_step(
    hook: SageMakerPipelinesHook,
    execution_arn: str,
    step_name: str | None,
    poll_interval: float = 15.0,
    timeout: float | None = None,
    *,
    wait_for: str = "end",
    raise_on_timeout: bool = False,
    on_poll: Callable[[list[dict[str, Any]]], None] | None = None,
    resumed_from: str | None = None,
) -> dict[str, Any] | None:
    """Poll until the step (or, with step_name None, the execution) gives an event; return its payload.

    Same payloads as the trigger (errors raise instead of becoming ``"error"`` payloads). ``timeout``
    None waits forever; ``timeout=0`` is a single poll (a poke). On timeout returns None, or raises
    PipelineWaitTimeout when ``raise_on_timeout``. ``on_poll`` gets each poll's step list (the worker's
    job log streaming) before the poll is evaluated.
    """
    if wait_for not in WAIT_FOR:
        raise ValueError(f"wait_for must be one of {WAIT_FOR}, not {wait_for!r}")
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        if on_poll is None:
            payload = check_once(hook, execution_arn, step_name, wait_for, resumed_from)
        else:
            execution = hook.describe_execution(execution_arn)
            steps = hook.list_steps(execution_arn) if step_name is not None else []
            on_poll(steps)
            payload = evaluate(execution_arn, execution, steps, step_name, wait_for, resumed_from)
        if payload is not None:
            return payload
        if deadline is not None and time.monotonic() + poll_interval > deadline:
            if raise_on_timeout:
                what = f"step {step_name}" if step_name else "execution"
                raise PipelineWaitTimeout(f"{what} of {execution_arn} not done after {timeout}s")
            return None
        time.sleep(poll_interval)
