"""Fault injection for tests: throttled calls, failing steps, added latency.

Faults can be set when the engine starts (``EngineConfig.faults`` / CLI flags) and changed on a running
server through ``POST /_local/faults`` (same JSON as :meth:`FaultConfig.to_dict`), read with
``GET /_local/faults`` and cleared with ``DELETE /_local/faults``.

Throttling and latency apply to SageMaker JSON operations sent by clients (the engine's own calls to moto
are never throttled); other services (S3, SQS, ...) are left alone because their protocols express
throttling differently.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

SERVICE_FAULT = "Step.SERVICE_FAULT"
THROTTLING = "Step.THROTTLING"
JOB_INTERNAL_ERROR = "SageMaker.JOB_INTERNAL_ERROR"
CAPACITY_ERROR = "SageMaker.CAPACITY_ERROR"
RESOURCE_LIMIT = "SageMaker.RESOURCE_LIMIT"
EXCEPTION_TYPES = (SERVICE_FAULT, THROTTLING, JOB_INTERNAL_ERROR, CAPACITY_ERROR, RESOURCE_LIMIT)


@dataclass
class StepFault:
    """Make step ``step`` fail.

    ``attempts``: fail only the first N attempts of the step in each execution (None: every attempt),
    so retry policies and RetryPipelineExecution can be exercised. ``exception_type`` is what retry
    policies match on (one of EXCEPTION_TYPES, or None for a non-retryable failure).
    ``pipeline``: restrict to one pipeline name (None: any).
    """

    step: str
    reason: str = "InternalServerError: fault injected by the local engine"
    attempts: int | None = None
    exception_type: str | None = JOB_INTERNAL_ERROR
    pipeline: str | None = None

    @classmethod
    def parse(cls, text: str) -> StepFault:
        """The ``--fail-step`` CLI form: ``STEP[:ATTEMPTS][=REASON]`` (step names hold neither ':' nor '=')."""
        head, sep, reason = text.partition("=")
        step, _, attempts = head.partition(":")
        if not step:
            raise ValueError(f"--fail-step expects STEP[:ATTEMPTS][=REASON], got {text!r}")
        fault = cls(step=step, attempts=int(attempts) if attempts else None)
        if sep:
            fault.reason = reason
        return fault

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepFault:
        known = {k: data[k] for k in ("step", "reason", "attempts", "exception_type", "pipeline") if k in data}
        if "step" not in known:
            raise ValueError("a step fault needs 'step'")
        if known.get("exception_type") not in (None, *EXCEPTION_TYPES):
            raise ValueError(f"exception_type must be one of {EXCEPTION_TYPES} or null")
        return cls(**known)


@dataclass
class FaultConfig:
    """Faults to inject. ``throttle_rate`` is the share (0..1) of matching calls answered with
    ThrottlingException; ``operations`` restricts throttling and latency to these operation names
    (None: every SageMaker operation); ``latency_ms`` is added to every matching call."""

    throttle_rate: float = 0.0
    latency_ms: float = 0.0
    operations: list[str] | None = None
    seed: int | None = None
    step_failures: list[StepFault] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultConfig:
        unknown = set(data) - {"throttle_rate", "latency_ms", "operations", "seed", "step_failures"}
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
        rate = float(data.get("throttle_rate", 0.0))
        if not 0.0 <= rate <= 1.0:
            raise ValueError("throttle_rate must be between 0 and 1")
        latency = float(data.get("latency_ms", 0.0))
        if latency < 0:
            raise ValueError("latency_ms must be >= 0")
        operations = data.get("operations")
        if operations is not None and not (
            isinstance(operations, list) and all(isinstance(o, str) for o in operations)
        ):
            raise ValueError("operations must be a list of operation names")
        return cls(
            throttle_rate=rate,
            latency_ms=latency,
            operations=operations,
            seed=data.get("seed"),
            step_failures=[
                f if isinstance(f, StepFault) else StepFault.from_dict(f) for f in data.get("step_failures", [])
            ],
        )


class Faults:
    """Thread-safe holder of the active FaultConfig with its seeded RNG."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self._config = FaultConfig()
        self._rng = random.Random()
        self.configure(config or FaultConfig())

    @property
    def config(self) -> FaultConfig:
        with self._lock:
            return self._config

    def configure(self, config: FaultConfig) -> None:
        with self._lock:
            self._config = config
            self._rng = random.Random(config.seed)

    def update(self, data: dict[str, Any]) -> FaultConfig:
        """Replace the configuration from a JSON object (the control endpoint's body)."""
        config = FaultConfig.from_dict(data)
        self.configure(config)
        return config

    def clear(self) -> None:
        self.configure(FaultConfig())

    # Convenience setters for the Python API.
    def throttle(self, rate: float, *, operations: list[str] | None = None, seed: int | None = None) -> None:
        with self._lock:
            self._config.throttle_rate = rate
            self._config.operations = operations
            self._config.seed = seed
            self._rng = random.Random(seed)

    def latency(self, ms: float) -> None:
        with self._lock:
            self._config.latency_ms = ms

    def fail_step(
        self,
        step: str,
        reason: str | None = None,
        *,
        attempts: int | None = None,
        exception_type: str | None = JOB_INTERNAL_ERROR,
        pipeline: str | None = None,
    ) -> None:
        fault = StepFault(step=step, attempts=attempts, exception_type=exception_type, pipeline=pipeline)
        if reason is not None:
            fault.reason = reason
        with self._lock:
            self._config.step_failures.append(fault)

    # Queries used by the server and the executor.
    def _matches(self, operation: str) -> bool:
        ops = self._config.operations
        return ops is None or operation in ops

    def should_throttle(self, operation: str) -> bool:
        with self._lock:
            if self._config.throttle_rate <= 0 or not self._matches(operation):
                return False
            return self._rng.random() < self._config.throttle_rate

    def latency_for(self, operation: str) -> float:
        """Seconds to sleep before answering ``operation``."""
        with self._lock:
            if self._config.latency_ms <= 0 or not self._matches(operation):
                return 0.0
            return self._config.latency_ms / 1000.0

    def step_failure(self, pipeline: str, step: str, attempt: int) -> StepFault | None:
        """The fault to apply to attempt ``attempt`` (1-based) of ``step``, if any."""
        with self._lock:
            for fault in self._config.step_failures:
                if fault.step != step or (fault.pipeline is not None and fault.pipeline != pipeline):
                    continue
                if fault.attempts is None or attempt <= fault.attempts:
                    return fault
        return None
