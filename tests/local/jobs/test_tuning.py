from __future__ import annotations

import json
import threading
import time

from _jobs_harness import ACCOUNT, REGION, ROLE, SKLEARN_IMAGE, Harness

from airflow_sagemaker_mlops.local.jobs import run_training_job, run_tuning_job
from airflow_sagemaker_mlops.local.jobs.tuning import plan_trials

CSV = "a,b,label\n" + "".join(f"{i % 7},{(i * 3) % 5},{i % 2}\n" for i in range(40))


def tuning_request(
    h: Harness, *, strategy: str, ranges: dict, max_jobs: int | None = 4, parallel: int = 2, static: dict | None = None
) -> dict:
    sourcedir = h.put_sourcedir("code/sourcedir.tar.gz", "train_pure.py")
    h.put("data/train/train.csv", CSV)
    limits = {"MaxParallelTrainingJobs": parallel}
    if max_jobs:
        limits["MaxNumberOfTrainingJobs"] = max_jobs
    return {
        "HyperParameterTuningJobConfig": {
            "Strategy": strategy,
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:auc"},
            "ResourceLimits": limits,
            "ParameterRanges": ranges,
        },
        "TrainingJobDefinition": {
            "StaticHyperParameters": {
                "sagemaker_program": json.dumps("train_pure.py"),
                "sagemaker_submit_directory": json.dumps(sourcedir),
                "epochs": "5",
                **(static or {}),
            },
            "AlgorithmSpecification": {
                "TrainingImage": SKLEARN_IMAGE,
                "TrainingInputMode": "File",
                "MetricDefinitions": [{"Name": "validation:auc", "Regex": r"validation:auc=([0-9.]+)"}],
            },
            "RoleArn": ROLE,
            "InputDataConfig": [
                {
                    "ChannelName": "train",
                    "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{h.bucket}/data/train/"}},
                }
            ],
            "OutputDataConfig": {"S3OutputPath": f"s3://{h.bucket}/tuning"},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
            "StoppingCondition": {"MaxRuntimeInSeconds": 300},
        },
    }


RANDOM_RANGES = {
    "ContinuousParameterRanges": [{"Name": "lr", "MinValue": "0.01", "MaxValue": "1.0", "ScalingType": "Logarithmic"}],
    "IntegerParameterRanges": [{"Name": "epochs", "MinValue": "2", "MaxValue": "8"}],
}


def test_random_tuning_picks_best_by_objective(harness: Harness) -> None:
    request = tuning_request(harness, strategy="Bayesian", ranges=RANDOM_RANGES)
    result = run_tuning_job("tune-1", request, harness.ctx())
    assert result.status == "Completed", result.failure_reason
    d = result.description
    assert d["HyperParameterTuningJobArn"] == (
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:hyper-parameter-tuning-job/tune-1"
    )
    assert d["TrainingJobStatusCounters"] == {
        "Completed": 4,
        "InProgress": 0,
        "RetryableError": 0,
        "NonRetryableError": 0,
        "Stopped": 0,
    }
    assert d["ObjectiveStatusCounters"] == {"Succeeded": 4, "Pending": 0, "Failed": 0}
    summaries = d["TrainingJobSummaries"]
    assert len(summaries) == 4 and len(result.children) == 4
    values = [s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for s in summaries]
    assert values == sorted(values, reverse=True)
    best = d["BestTrainingJob"]
    assert best == summaries[0]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == max(values)
    # auc grows with lr in the script, so the best trial has the largest sampled lr.
    assert float(best["TunedHyperParameters"]["lr"]) == max(float(s["TunedHyperParameters"]["lr"]) for s in summaries)
    assert best["TrainingJobName"].startswith("tune-1-")
    child = result.children[best["TrainingJobName"]]
    assert child.description["TuningJobArn"] == d["HyperParameterTuningJobArn"]
    assert child.description["HyperParameters"]["lr"] == best["TunedHyperParameters"]["lr"]
    model_key = f"tuning/{best['TrainingJobName']}/output/model.tar.gz"
    assert child.description["ModelArtifacts"]["S3ModelArtifacts"] == f"s3://{harness.bucket}/{model_key}"
    assert model_key in harness.keys("tuning/")
    assert any("falls back" in line or "Random instead" in line for line in harness.lines["job"])


def test_sampling_is_deterministic_per_job_name(harness: Harness) -> None:
    config = {
        "Strategy": "Random",
        "ResourceLimits": {"MaxNumberOfTrainingJobs": 5},
        "ParameterRanges": {
            **RANDOM_RANGES,
            "CategoricalParameterRanges": [{"Name": "kind", "Values": ["a", "b", "c"]}],
        },
    }
    definition = {"AlgorithmSpecification": {}}
    ctx = harness.ctx()
    first = plan_trials("job-x", config, [definition], ctx)
    assert first == plan_trials("job-x", config, [definition], ctx)
    assert first != plan_trials("job-y", config, [definition], ctx)
    for trial in first:
        assert 0.01 <= float(trial.tuned["lr"]) <= 1.0
        assert 2 <= int(trial.tuned["epochs"]) <= 8
        assert trial.tuned["kind"] in {"a", "b", "c"}


def test_grid_tuning_enumerates_all_combinations(harness: Harness) -> None:
    ranges = {
        "CategoricalParameterRanges": [{"Name": "lr", "Values": ["0.1", "0.9"]}],
        "IntegerParameterRanges": [{"Name": "epochs", "MinValue": "1", "MaxValue": "2"}],
    }
    request = tuning_request(harness, strategy="Grid", ranges=ranges, max_jobs=None)
    result = run_tuning_job("grid-1", request, harness.ctx())
    assert result.status == "Completed", result.failure_reason
    tuned = sorted(tuple(sorted(s["TunedHyperParameters"].items())) for s in result.description["TrainingJobSummaries"])
    assert tuned == [(("epochs", e), ("lr", lr)) for e in ("1", "2") for lr in ("0.1", "0.9")]
    assert result.description["BestTrainingJob"]["TunedHyperParameters"]["lr"] == "0.9"


def test_tuning_fails_when_every_trial_fails(harness: Harness) -> None:
    ranges = {"CategoricalParameterRanges": [{"Name": "lr", "Values": ["0.1"]}]}
    request = tuning_request(harness, strategy="Grid", ranges=ranges, max_jobs=None, static={"fail": "yes"})
    result = run_tuning_job("grid-fail", request, harness.ctx())
    assert result.status == "Failed"
    assert "bad hyperparameter" in result.failure_reason
    assert result.description["TrainingJobStatusCounters"]["NonRetryableError"] == 1
    assert "BestTrainingJob" not in result.description


def test_objective_metric_must_be_defined(harness: Harness) -> None:
    request = tuning_request(harness, strategy="Random", ranges=RANDOM_RANGES)
    request["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]["MetricName"] = "f1"
    result = run_tuning_job("tune-nometric", request, harness.ctx())
    assert result.status == "Failed"
    assert "'f1'" in result.failure_reason


def test_training_job_from_tuning_definition_runs_alone(harness: Harness) -> None:
    # The trial request shape is a plain CreateTrainingJob request.
    request = tuning_request(harness, strategy="Random", ranges=RANDOM_RANGES)["TrainingJobDefinition"]
    request["HyperParameters"] = {**request.pop("StaticHyperParameters"), "lr": "0.5"}
    result = run_training_job("plain", request, harness.ctx())
    assert result.status == "Completed", result.failure_reason


def test_stopping_a_tuning_job_stops_its_trials(harness: Harness) -> None:
    ranges = {"CategoricalParameterRanges": [{"Name": "lr", "Values": ["0.1", "0.2", "0.3"]}]}
    request = tuning_request(harness, strategy="Grid", ranges=ranges, max_jobs=None, parallel=1)
    request["TrainingJobDefinition"]["StaticHyperParameters"]["sagemaker_program"] = json.dumps("sleepy.py")
    request["TrainingJobDefinition"]["StaticHyperParameters"]["sagemaker_submit_directory"] = json.dumps(
        harness.put_sourcedir("code/sleepy.tar.gz", "sleepy.py")
    )
    stop = threading.Event()
    ctx = harness.ctx(stop_event=stop)
    box: dict = {}
    worker = threading.Thread(target=lambda: box.setdefault("r", run_tuning_job("tune-stop", request, ctx)))
    worker.start()
    deadline = time.monotonic() + 20
    while not any(line.endswith("] started") for line in harness.lines["job"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    worker.join(timeout=20)
    assert not worker.is_alive()
    result = box["r"]
    assert result.status == "Stopped"
    assert result.description["HyperParameterTuningJobStatus"] == "Stopped"
    assert result.description["TrainingJobStatusCounters"]["Stopped"] == 1
    assert len(result.children) == 1  # the other two trials never started
