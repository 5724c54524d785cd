"""Hyperparameter tuning jobs: trials sampled from the ranges, each a local training job.

Random and Grid strategies are implemented; Bayesian and Hyperband fall back to Random (logged).
Sampling is deterministic: the random generator is seeded from the tuning job's name, and all trial
configurations are drawn before any trial runs, so parallelism does not change them.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from airflow_sagemaker_mlops.local.jobs._s3 import JobInputError
from airflow_sagemaker_mlops.local.jobs.base import (
    COMPLETED,
    FAILED,
    STOPPED,
    JobContext,
    JobResult,
    utcnow,
)
from airflow_sagemaker_mlops.local.jobs.training import run_training_job

log = logging.getLogger(__name__)

_DEFINITION_KEYS = (
    "AlgorithmSpecification", "RoleArn", "InputDataConfig", "VpcConfig", "OutputDataConfig",
    "ResourceConfig", "StoppingCondition", "EnableNetworkIsolation", "EnableInterContainerTrafficEncryption",
    "EnableManagedSpotTraining", "CheckpointConfig", "RetryStrategy", "Environment",
)


@dataclass(frozen=True)
class Trial:
    index: int  # 0-based
    name: str
    definition_index: int
    tuned: dict[str, str]


def run_tuning_job(name: str, request: dict, ctx: JobContext) -> JobResult:
    """Run a CreateHyperParameterTuningJob request; returns a DescribeHyperParameterTuningJob-shaped dict.

    The description also carries ``TrainingJobSummaries`` (best first, as
    ListTrainingJobsForHyperParameterTuningJob sorts by objective), which pipeline properties of a
    tuning step read; the trials' own descriptions are in ``JobResult.children``.
    """
    created = utcnow()
    arn = ctx.arn(f"hyper-parameter-tuning-job/{name.lower()}")
    config = request.get("HyperParameterTuningJobConfig") or {}
    description: dict[str, Any] = {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobArn": arn,
        "HyperParameterTuningJobConfig": config,
        "HyperParameterTuningJobStatus": "InProgress",
        "CreationTime": created,
        "LastModifiedTime": created,
        "TrainingJobStatusCounters": _status_counters([]),
        "ObjectiveStatusCounters": {"Succeeded": 0, "Pending": 0, "Failed": 0},
        "TrainingJobSummaries": [],
    }
    for key in ("TrainingJobDefinition", "TrainingJobDefinitions", "WarmStartConfig", "Autotune"):
        if request.get(key):
            description[key] = request[key]
    try:
        return _run(name, arn, request, config, ctx, description)
    except JobInputError as exc:
        return _finish(description, FAILED, f"ClientError: {exc}", ctx, {})
    except Exception as exc:  # an engine bug must surface as this job's failure, not kill the engine
        log.exception("tuning job %s crashed in the local runner", name)
        return _finish(description, FAILED, f"InternalServerError: {exc!r}", ctx, {})


# --- sampling --------------------------------------------------------------------------------


def _ranges(config: dict, definition: dict) -> dict[str, list[dict]]:
    ranges = definition.get("HyperParameterRanges") or config.get("ParameterRanges") or {}
    return {
        "Integer": list(ranges.get("IntegerParameterRanges") or []),
        "Continuous": list(ranges.get("ContinuousParameterRanges") or []),
        "Categorical": list(ranges.get("CategoricalParameterRanges") or []),
    }


def _sample_integer(rng: random.Random, spec: dict) -> str:
    low, high = int(spec["MinValue"]), int(spec["MaxValue"])
    if spec.get("ScalingType") == "Logarithmic":
        if low <= 0:
            raise JobInputError(f"{spec['Name']}: Logarithmic scaling needs MinValue > 0")
        value = int(math.exp(rng.uniform(math.log(low), math.log(high + 1))))
        return str(min(max(value, low), high))
    return str(rng.randint(low, high))


def _sample_continuous(rng: random.Random, spec: dict) -> str:
    low, high = float(spec["MinValue"]), float(spec["MaxValue"])
    scaling = spec.get("ScalingType") or "Auto"
    if scaling == "Logarithmic":
        if low <= 0:
            raise JobInputError(f"{spec['Name']}: Logarithmic scaling needs MinValue > 0")
        value = math.exp(rng.uniform(math.log(low), math.log(high)))
    elif scaling == "ReverseLogarithmic":
        if not 0 <= low < high < 1:
            raise JobInputError(f"{spec['Name']}: ReverseLogarithmic scaling needs 0 <= MinValue < MaxValue < 1")
        value = 1 - math.exp(rng.uniform(math.log(1 - high), math.log(1 - low)))
    else:
        value = rng.uniform(low, high)
    return repr(min(max(value, low), high))


def _random_configs(rng: random.Random, ranges: dict[str, list[dict]], count: int) -> list[dict[str, str]]:
    configs = []
    for _ in range(count):
        tuned: dict[str, str] = {}
        for spec in ranges["Integer"]:
            tuned[spec["Name"]] = _sample_integer(rng, spec)
        for spec in ranges["Continuous"]:
            tuned[spec["Name"]] = _sample_continuous(rng, spec)
        for spec in ranges["Categorical"]:
            tuned[spec["Name"]] = str(rng.choice(list(spec["Values"])))
        configs.append(tuned)
    return configs


def _grid_configs(ranges: dict[str, list[dict]]) -> list[dict[str, str]]:
    if ranges["Continuous"]:
        names = ", ".join(s["Name"] for s in ranges["Continuous"])
        raise JobInputError(f"the Grid strategy cannot enumerate continuous ranges ({names})")
    axes: list[tuple[str, list[str]]] = [
        (s["Name"], [str(v) for v in range(int(s["MinValue"]), int(s["MaxValue"]) + 1)])
        for s in ranges["Integer"]
    ]
    axes += [(s["Name"], [str(v) for v in s["Values"]]) for s in ranges["Categorical"]]
    if not axes:
        return [{}]
    names = [n for n, _ in axes]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(v for _, v in axes))]


def plan_trials(name: str, config: dict, definitions: list[dict], ctx: JobContext) -> list[Trial]:
    """All trials of the job, decided up front from a seed derived from the job name."""
    strategy = config.get("Strategy") or "Bayesian"
    limits = config.get("ResourceLimits") or {}
    max_jobs = limits.get("MaxNumberOfTrainingJobs")
    seed = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big")
    rng = random.Random(seed)
    if strategy == "Grid":
        configs = []
        for d_index, definition in enumerate(definitions):
            configs += [(d_index, c) for c in _grid_configs(_ranges(config, definition))]
        if max_jobs:
            configs = configs[: int(max_jobs)]
    else:
        if strategy != "Random":
            ctx.log(f"[local] strategy {strategy} is not implemented locally; sampling at Random instead")
        if not max_jobs:
            raise JobInputError("ResourceLimits.MaxNumberOfTrainingJobs is required for this strategy")
        configs = []
        for i in range(int(max_jobs)):
            d_index = i % len(definitions)
            configs.append((d_index, _random_configs(rng, _ranges(config, definitions[d_index]), 1)[0]))
    trials = []
    for i, (d_index, tuned) in enumerate(configs):
        suffix = hashlib.sha256(f"{name}/{i}".encode()).hexdigest()[:8]
        # SageMaker's trial naming; the base is cut so the name stays within the 63 characters allowed.
        trials.append(Trial(index=i, name=f"{name[:50]}-{i + 1:03d}-{suffix}", definition_index=d_index,
                            tuned=tuned))
    return trials


# --- running ---------------------------------------------------------------------------------


def _objective(config: dict) -> tuple[str, str]:
    objective = config.get("HyperParameterTuningJobObjective") or {}
    metric, kind = objective.get("MetricName"), objective.get("Type")
    if not metric or kind not in ("Maximize", "Minimize"):
        raise JobInputError("HyperParameterTuningJobObjective needs MetricName and Type Maximize|Minimize")
    return metric, kind


def _run(name: str, arn: str, request: dict, config: dict, ctx: JobContext,
         description: dict[str, Any]) -> JobResult:
    definitions = list(request.get("TrainingJobDefinitions") or [])
    if request.get("TrainingJobDefinition"):
        definitions.insert(0, request["TrainingJobDefinition"])
    if not definitions:
        raise JobInputError("TrainingJobDefinition or TrainingJobDefinitions is required")
    metric, kind = _objective(config)
    for definition in definitions:
        defined = {m.get("Name") for m in
                   (definition.get("AlgorithmSpecification") or {}).get("MetricDefinitions") or []}
        if metric not in defined:
            raise JobInputError(f"objective metric {metric!r} is not in the MetricDefinitions of the "
                                "training job definition")
    if config.get("TrainingJobEarlyStoppingType") == "Auto":
        ctx.log("[local] TrainingJobEarlyStoppingType=Auto is ignored locally: every trial runs to its end")
    trials = plan_trials(name, config, definitions, ctx)
    limits = config.get("ResourceLimits") or {}
    parallel = max(1, min(int(limits.get("MaxParallelTrainingJobs") or 1), len(trials) or 1))
    target = (config.get("TuningJobCompletionCriteria") or {}).get("TargetObjectiveMetricValue")
    ctx.log(f"[local] tuning job {name}: {len(trials)} trial(s), {parallel} in parallel, "
            f"objective {kind} {metric}")

    results: dict[str, JobResult] = {}
    lock = threading.Lock()
    target_reached = threading.Event()

    def run_trial(trial: Trial) -> None:
        if ctx.stop_event.is_set() or target_reached.is_set():
            return
        definition = definitions[trial.definition_index]
        trial_request = {k: definition[k] for k in _DEFINITION_KEYS if k in definition}
        trial_request["HyperParameters"] = {**(definition.get("StaticHyperParameters") or {}),
                                            **trial.tuned}
        own_log = ctx.job_log("TrainingJob", trial.name) if ctx.job_log is not None else None

        def trial_log(line: str, prefix: str = trial.name) -> None:
            ctx.log(f"[{prefix}] {line}")
            if own_log is not None:
                own_log(line)

        trial_ctx = JobContext(
            endpoint_url=ctx.endpoint_url, region=ctx.region, account_id=ctx.account_id,
            work_dir=ctx.work_dir / "trials" / trial.name, stop_event=ctx.stop_event,
            log=trial_log, python=ctx.python,
        )
        trial_ctx.work_dir.mkdir(parents=True, exist_ok=True)
        ctx.log(f"[local] trial {trial.name}: {trial.tuned}")
        result = run_training_job(trial.name, trial_request, trial_ctx, tuning_job_arn=arn)
        value = _metric_value(result, metric)
        ctx.log(f"[local] trial {trial.name}: {result.status}, {metric}={value}")
        with lock:
            results[trial.name] = result
        if target is not None and value is not None and (
            value >= float(target) if kind == "Maximize" else value <= float(target)
        ):
            target_reached.set()

    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix=f"tuning-{name}") as pool:
        for future in [pool.submit(run_trial, t) for t in trials]:
            future.result()

    summaries = [_summary(name, t, definitions, results[t.name], metric, kind)
                 for t in trials if t.name in results]
    description["TrainingJobStatusCounters"] = _status_counters(list(results.values()))
    description["ObjectiveStatusCounters"] = {
        "Succeeded": sum(s["ObjectiveStatus"] == "Succeeded" for s in summaries),
        "Pending": 0,
        "Failed": sum(s["ObjectiveStatus"] == "Failed" for s in summaries),
    }
    scored = [s for s in summaries if s["ObjectiveStatus"] == "Succeeded"]
    sign = -1.0 if kind == "Maximize" else 1.0
    # Best first; ties go to the earlier trial (sorted() is stable over the trial order).
    ranked = sorted(scored, key=lambda s: sign * s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"])
    description["TrainingJobSummaries"] = ranked + [s for s in summaries if s not in scored]
    if ranked:
        description["BestTrainingJob"] = ranked[0]
    if target_reached.is_set():
        description["TuningJobCompletionDetails"] = {"NumberOfTrainingJobsObjectiveNotImproving": 0,
                                                     "ConvergenceDetectedTime": utcnow()}
    if ctx.stop_event.is_set():
        return _finish(description, STOPPED, None, ctx, results)
    if not ranked:
        last = next((r.failure_reason for r in reversed(list(results.values())) if r.failure_reason), None)
        reason = f"No training job of the tuning job reported the objective metric {metric}"
        return _finish(description, FAILED, f"{reason}. Last failure: {last}" if last else reason, ctx,
                       results)
    best = description["BestTrainingJob"]
    ctx.log(f"[local] best training job {best['TrainingJobName']}: "
            f"{metric}={best['FinalHyperParameterTuningJobObjectiveMetric']['Value']}")
    return _finish(description, COMPLETED, None, ctx, results)


def _metric_value(result: JobResult, metric: str) -> float | None:
    if result.status != COMPLETED:
        return None
    for item in result.description.get("FinalMetricDataList") or []:
        if item.get("MetricName") == metric:
            return float(item["Value"])
    return None


def _summary(tuning_name: str, trial: Trial, definitions: list[dict], result: JobResult, metric: str,
             kind: str) -> dict[str, Any]:
    d = result.description
    summary: dict[str, Any] = {
        "TrainingJobName": trial.name,
        "TrainingJobArn": d["TrainingJobArn"],
        "TuningJobName": tuning_name,
        "CreationTime": d["CreationTime"],
        "TrainingJobStatus": d["TrainingJobStatus"],
        "TunedHyperParameters": dict(trial.tuned),
    }
    name = definitions[trial.definition_index].get("DefinitionName")
    if name:
        summary["TrainingJobDefinitionName"] = name
    for key in ("TrainingStartTime", "TrainingEndTime", "FailureReason"):
        if d.get(key):
            summary[key] = d[key]
    value = _metric_value(result, metric)
    if value is not None:
        summary["FinalHyperParameterTuningJobObjectiveMetric"] = {"Type": kind, "MetricName": metric,
                                                                  "Value": value}
        summary["ObjectiveStatus"] = "Succeeded"
    else:
        summary["ObjectiveStatus"] = "Failed"
    return summary


def _status_counters(results: list[JobResult]) -> dict[str, int]:
    return {
        "Completed": sum(r.status == COMPLETED for r in results),
        "InProgress": 0,
        "RetryableError": 0,
        "NonRetryableError": sum(r.status == FAILED for r in results),
        "Stopped": sum(r.status == STOPPED for r in results),
    }


def _finish(description: dict[str, Any], status: str, reason: str | None, ctx: JobContext,
            children: dict[str, JobResult]) -> JobResult:
    now = utcnow()
    description["HyperParameterTuningJobStatus"] = status
    description["HyperParameterTuningEndTime"] = now
    description["LastModifiedTime"] = now
    description["ConsumedResources"] = {
        "RuntimeInSeconds": max(0, int((now - description["CreationTime"]).total_seconds()))}
    if reason:
        description["FailureReason"] = reason
        ctx.log(f"[local] {reason}")
    return JobResult(status=status, description=description, failure_reason=reason, children=children)
