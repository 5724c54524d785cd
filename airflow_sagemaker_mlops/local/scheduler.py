"""The scheduler: runs pipeline executions step by step on a bounded thread pool.

State changes happen under the engine's lock and are event driven: a step finishing (or a callback
arriving, or a retry timer firing) calls :meth:`Scheduler.schedule`, which starts whatever became ready.
Nothing ever blocks a worker waiting on another step, so any number of executions share the pool
without deadlock: Callback steps wait without a thread, retry back-off waits on a timer.

Each attempt of a step runs ``steps.run_step`` with a :class:`~.context.StepContext`; what it returns
(a ``StepOutcome``) is recorded here, retried by the step's RetryPolicies, cached by its CacheConfig.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from airflow_sagemaker_mlops.definition.step_kinds import LOCAL_JOB_TYPES, STEP_KINDS

from . import events
from . import steps as step_runners
from .context import StepContext
from .definition import StepSpec
from .expressions import ExpressionError, Resolver
from .resolver import execution_resolver, s3_json_reader
from .selective import is_selected
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
    ExecutionRecord,
    StepOutcome,
    StepRecord,
    parse_iso_duration,
    random_id,
    short_hash,
    utcnow,
)

if TYPE_CHECKING:
    from .executor import Engine

log = logging.getLogger(__name__)

#: The engine caches the jobs it runs (SageMaker also caches Callback/Lambda/... steps, which it does not).
CACHEABLE_TYPES = tuple(t for t in LOCAL_JOB_TYPES if STEP_KINDS[t].cacheable)
_TOKEN_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


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


# ---- which steps are ready ----------------------------------------------------------------------


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


def _on_untaken_branch(ex: ExecutionRecord, spec: StepSpec) -> bool:
    """Whether ``spec`` sits in the branch its Condition step did not take."""
    if spec.branch is None:
        return False
    cond = ex.steps.get(spec.branch[0])
    if cond is None or cond.status != SUCCEEDED or cond.outcome is None:
        return False
    return cond.outcome != (spec.branch[1] == "if")


def _readiness(ex: ExecutionRecord, spec: StepSpec, after_failure: bool) -> str:
    """"skip" (never runs), "wait" or "ready"."""
    # Selective execution runs only the selected steps; the rest keep the source's results.
    if not is_selected(ex, spec.name) or _on_untaken_branch(ex, spec):
        return "skip"
    states = {_dependency_state(ex, spec, dep) for dep in spec.depends_on}
    if "never" in states:
        # An upstream step was skipped, or ended with an outcome this step does not wait for.
        return "skip"
    if "wait" in states:
        return "wait"
    if after_failure and not any(dep in spec.triggers or dep in ex.recovering for dep in spec.depends_on):
        return "wait"
    return "ready"


def ready_steps(ex: ExecutionRecord, after_failure: bool = False) -> list[StepSpec]:
    """Steps whose dependencies are met; marks the steps that will never run as skipped.

    After a step failed, only the steps a ``DependsOn`` trigger starts (and what runs after them) still
    start: the failure's handling, not the rest of the graph.
    """
    ready: list[StepSpec] = []
    changed = True
    while changed:
        changed = False
        ready = []
        for spec in ex.graph.steps.values():
            if spec.name in ex.steps or spec.name in ex.skipped:
                continue
            state = _readiness(ex, spec, after_failure)
            if state == "skip":
                ex.skipped.add(spec.name)
                changed = True
            elif state == "ready":
                ready.append(spec)
    if after_failure:
        ex.recovering.update(spec.name for spec in ready)
    return ready


class Scheduler:
    """Steps of every execution of one engine: starting, attempts, retries, callbacks, the step cache."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.lock = engine.lock
        self.config = engine.config
        self.callbacks: dict[str, tuple[ExecutionRecord, StepRecord]] = {}
        self.cache: dict[str, list[tuple[dt.datetime, str, StepRecord]]] = {}
        self._pool = ThreadPoolExecutor(max_workers=self.config.max_workers, thread_name_prefix="local-step")
        self._timer = Timer()
        self.closed = False

    def close(self) -> None:
        self.closed = True
        self._timer.close()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def reset(self) -> None:
        with self.lock:
            self.callbacks.clear()
            self.cache.clear()

    # ---- scheduling -------------------------------------------------------------------------------

    def schedule(self, ex: ExecutionRecord) -> None:
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
            limit = ex.max_parallel
            for spec in ready_steps(ex, after_failure=failed):
                if limit is not None and running >= limit:
                    break
                self._start_step(ex, spec)
                running += 1
            if running == 0:
                self._finish_execution(ex, FAILED if failed else SUCCEEDED)

    def stop_steps(self, ex: ExecutionRecord) -> None:
        """``ex`` is stopping: steps nothing runs for stop now, running ones when their runner returns."""
        with self.lock:
            for record in ex.steps.values():
                if record.status not in ACTIVE_STEP_STATUSES:
                    continue
                if record.waiting_callback or record.retry_timer is not None:
                    Timer.cancel(record.retry_timer)
                    record.retry_timer = None
                    self.finish_step(ex, record, StepOutcome(status=STOPPED))
                else:
                    record.status = STOPPING
                    events.step_changed(self.engine, ex, record)
            self.schedule(ex)

    def _start_step(self, ex: ExecutionRecord, spec: StepSpec) -> None:
        record = StepRecord(spec=spec, status=STARTING, start_time=utcnow())
        record.attempt_count = ex.prior_attempts.get(spec.name, 0)
        ex.steps[spec.name] = record
        ex.last_modified_time = record.start_time
        events.step_changed(self.engine, ex, record)
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
        events.execution_changed(self.engine, ex)
        ex.done.set()

    # ---- one attempt of a step --------------------------------------------------------------------

    def _attempt(self, ex: ExecutionRecord, record: StepRecord) -> None:
        with self.lock:
            record.retry_timer = None
            if record.status not in ACTIVE_STEP_STATUSES:
                return  # stopped while queued
            if ex.status == STOPPING or record.status == STOPPING:
                self.finish_step(ex, record, StepOutcome(status=STOPPED))
                self.schedule(ex)
                return
            record.status = EXECUTING
            events.step_changed(self.engine, ex, record)
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
        fault = self.engine.faults.step_failure(ex.pipeline.name, record.name, attempt)
        if fault is not None:
            log.info("fault injected into step %s attempt %s", record.name, attempt)
            return StepOutcome.failed(fault.reason, fault.exception_type)
        ctx = self.step_context(ex, record)
        spec = record.spec
        cache_key = None
        if spec.type in CACHEABLE_TYPES and (spec.raw.get("CacheConfig") or {}).get("Enabled"):
            cache_key = short_hash(ex.pipeline.arn, spec.name, spec.type, ctx.arguments(), length=64)
            hit = self._cache_lookup(cache_key, spec.raw["CacheConfig"])
            if hit is not None:
                source_arn, source = hit
                return StepOutcome(
                    status=SUCCEEDED,
                    properties=source.properties,
                    metadata=source.metadata,
                    cache_source=source_arn,
                )
        outcome = step_runners.run_step(ctx)
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
                    self.finish_step(ex, record, StepOutcome(status=STOPPED))
                    self.schedule(ex)
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
            self.finish_step(ex, record, outcome)
            self.schedule(ex)

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

    def finish_step(self, ex: ExecutionRecord, record: StepRecord, outcome: StepOutcome) -> None:
        """Record ``outcome`` as the end of ``record`` (no-op when it already ended). Under the lock."""
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
        events.step_changed(self.engine, ex, record)

    # ---- what a step's runner gets ----------------------------------------------------------------

    def resolver(self, ex: ExecutionRecord, record: StepRecord | None = None) -> Resolver:
        engine = self.engine
        return execution_resolver(
            ex, record, lock=self.lock, read_s3_json=s3_json_reader(engine.clients, engine.access, ex)
        )

    def step_context(self, ex: ExecutionRecord, record: StepRecord) -> StepContext:
        engine = self.engine

        def publish_metadata(metadata: dict[str, Any]) -> None:
            with self.lock:
                record.metadata = metadata

        return StepContext(
            execution=ex,
            record=record,
            resolver=self.resolver(ex, record),
            clients=engine.clients,
            jobs=engine.jobs,
            access=engine.access,
            config=self.config,
            base_work_dir=engine.work_dir,
            publish_metadata=publish_metadata,
            register_callback=lambda: self._register_callback(ex, record),
            withdraw_callback=lambda token: self._withdraw_callback(record, token),
        )

    def _register_callback(self, ex: ExecutionRecord, record: StepRecord) -> str:
        with self.lock:
            token = random_id(10, _TOKEN_ALPHABET)
            record.callback_token = token
            record.waiting_callback = True
            self.callbacks[token] = (ex, record)
            return token

    def _withdraw_callback(self, record: StepRecord, token: str) -> None:
        """The callback message could not be sent: nobody can complete the step with ``token``."""
        with self.lock:
            self.callbacks.pop(token, None)
            record.waiting_callback = False
