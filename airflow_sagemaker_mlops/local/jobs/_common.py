"""Pieces shared by the job runners: user environment, failure texts, metrics, channel downloads."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_sagemaker_mlops.local.jobs._s3 import JobInputError
from airflow_sagemaker_mlops.local.jobs.base import JobContext, utcnow

FAILURE_REASON_MAX = 1024  # SageMaker's limit on FailureReason

# A SageMaker job's environment comes from its image and its request, never from whoever called the API.
# Locally, only these neutral settings of the engine's environment pass (finding programs, locale, time
# zone, BLAS/OpenMP threading, which some machines need to run numpy at all); nothing else does: no
# AIRFLOW_*, no tokens, no AWS_* of the engine (docs/local-jobs.md).
_PASSED_NAMES = ("PATH", "LANG", "LANGUAGE", "TZ")
_PASSED_PREFIXES = ("LC_", "OPENBLAS_", "OMP_", "MKL_")


def user_env(ctx: JobContext, *layers: Mapping[str, str] | None) -> dict[str, str]:
    """The environment of a user process: neutral host settings, the job's role on the engine, ``layers``."""
    env = {k: v for k, v in os.environ.items() if k in _PASSED_NAMES or k.startswith(_PASSED_PREFIXES)}
    env.setdefault("PATH", os.defpath)
    home = Path(ctx.work_dir) / "home"
    home.mkdir(parents=True, exist_ok=True)
    credentials = ctx.user_credentials or {"AccessKeyId": "test", "SecretAccessKey": "test"}
    env.update(
        HOME=str(home),  # not the user's home: caches and dotfiles stay in the sandbox
        AWS_ENDPOINT_URL=ctx.endpoint_url,
        AWS_ACCESS_KEY_ID=credentials["AccessKeyId"],
        AWS_SECRET_ACCESS_KEY=credentials["SecretAccessKey"],
        AWS_REGION=ctx.region,
        AWS_DEFAULT_REGION=ctx.region,
        PYTHONUNBUFFERED="1",  # line-by-line logs and metrics, as in SageMaker's containers
        # Tells our function/notebook runner not to pip-install requirements into the engine's Python.
        SAGEMAKER_LOCAL_ENGINE="1",
    )
    if credentials.get("SessionToken"):
        env["AWS_SESSION_TOKEN"] = credentials["SessionToken"]
    for layer in layers:
        if layer:
            env.update({str(k): str(v) for k, v in layer.items()})
    return env


def clip_reason(text: str) -> str:
    """Keep a FailureReason within SageMaker's 1024 characters, favouring its start and its end."""
    if len(text) <= FAILURE_REASON_MAX:
        return text
    head = text[:300]
    return head + "\n...\n" + text[-(FAILURE_REASON_MAX - len(head) - 5) :]


def algorithm_error(exit_code: int | None, tail: Iterable[str], command: Iterable[str],
                    failure_file_text: str | None = None) -> str:
    """A FailureReason shaped like the ones SageMaker reports for a failing user script."""
    if failure_file_text and failure_file_text.strip():
        return clip_reason(f"AlgorithmError: {failure_file_text.strip()}")
    lines = [line for line in tail if line.strip()][-12:]
    message = "\n".join(lines)
    return clip_reason(
        "AlgorithmError: ExecuteUserScriptError:\n"
        f"ExitCode {exit_code}\n"
        f'ErrorMessage "{message}"\n'
        f'Command "{" ".join(command)}", exit code: {exit_code}'
    )


@dataclass
class MetricCollector:
    """Applies MetricDefinitions regexes to log lines; keeps the last value per metric like SageMaker."""

    definitions: list[dict[str, str]]
    _compiled: list[tuple[str, re.Pattern[str]]] = field(init=False)
    final: dict[str, tuple[float, dt.datetime]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._compiled = []
        for definition in self.definitions or []:
            try:
                self._compiled.append((definition["Name"], re.compile(definition["Regex"])))
            except (KeyError, re.error) as exc:
                raise JobInputError(f"invalid MetricDefinition {definition!r}: {exc}") from exc

    def feed(self, line: str) -> None:
        for name, pattern in self._compiled:
            match = pattern.search(line)
            if not match:
                continue
            raw = match.group(1) if match.groups() else match.group(0)
            try:
                value = float(raw)
            except (TypeError, ValueError):
                continue
            if value != value or value in (float("inf"), float("-inf")):
                continue  # SageMaker drops NaN and infinities
            self.final[name] = (value, utcnow())

    def final_metric_data_list(self) -> list[dict[str, Any]]:
        return [
            {"MetricName": name, "Value": value, "Timestamp": ts}
            for name, (value, ts) in sorted(self.final.items())
        ]


def transition(transitions: list[dict[str, Any]], status: str, message: str) -> None:
    """Append to SecondaryStatusTransitions, closing the previous entry."""
    now = utcnow()
    if transitions and "EndTime" not in transitions[-1]:
        transitions[-1]["EndTime"] = now
    transitions.append({"Status": status, "StartTime": now, "StatusMessage": message})


def close_transitions(transitions: list[dict[str, Any]]) -> None:
    if transitions and "EndTime" not in transitions[-1]:
        transitions[-1]["EndTime"] = utcnow()


def read_text(path: os.PathLike[str] | str, limit: int = 4096) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(limit)
    except OSError:
        return None
