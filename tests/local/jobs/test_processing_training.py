from __future__ import annotations

import json
import threading
import time

import pytest
from _jobs_harness import ACCOUNT, REGION, ROLE, SKLEARN_IMAGE, Harness

from airflow_sagemaker_mlops.local.jobs import run_processing_job, run_training_job

CSV = "a,b,label\n" + "".join(f"{i % 7},{(i * 3) % 5},{i % 2}\n" for i in range(40))


def processing_request(h: Harness, script: str, *, args: list[str] | None = None, env: dict | None = None) -> dict:
    code = h.put_script(f"code/{script}", script)
    data = h.put("raw/data.csv", CSV)
    return {
        "ProcessingInputs": [
            {
                "InputName": "code",
                "S3Input": {
                    "S3Uri": code,
                    "LocalPath": "/opt/ml/processing/input/code",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                },
            },
            {
                "InputName": "data",
                "S3Input": {
                    "S3Uri": data.rsplit("/", 1)[0] + "/",
                    "LocalPath": "/opt/ml/processing/input/data",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                },
            },
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "train",
                    "S3Output": {
                        "S3Uri": f"s3://{h.bucket}/out/train",
                        "LocalPath": "/opt/ml/processing/output/train",
                        "S3UploadMode": "EndOfJob",
                    },
                },
                {
                    "OutputName": "test",
                    "S3Output": {
                        "S3Uri": f"s3://{h.bucket}/out/test",
                        "LocalPath": "/opt/ml/processing/output/test",
                        "S3UploadMode": "EndOfJob",
                    },
                },
            ]
        },
        "ProcessingResources": {
            "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 30}
        },
        "AppSpecification": {
            "ImageUri": SKLEARN_IMAGE,
            "ContainerEntrypoint": ["python3", f"/opt/ml/processing/input/code/{script}"],
            "ContainerArguments": args or [],
        },
        "Environment": env or {},
        "RoleArn": ROLE,
    }


def training_request(h: Harness, script: str, hps: dict[str, str] | None = None, **extra) -> dict:
    sourcedir = h.put_sourcedir("code/sourcedir.tar.gz", script)
    h.put("data/train/train.csv", CSV)
    request = {
        "AlgorithmSpecification": {
            "TrainingImage": SKLEARN_IMAGE,
            "TrainingInputMode": "File",
            "MetricDefinitions": [
                {"Name": "validation:auc", "Regex": r"validation:auc=([0-9.]+)"},
                {"Name": "train:loss", "Regex": r"loss=([0-9.]+)"},
            ],
        },
        "HyperParameters": {
            "sagemaker_program": json.dumps(script),
            "sagemaker_submit_directory": json.dumps(sourcedir),
            **(hps or {}),
        },
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"s3://{h.bucket}/data/train",
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
                "ContentType": "text/csv",
            }
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{h.bucket}/models/"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        "RoleArn": ROLE,
    }
    request.update(extra)
    return request


def test_processing_splits_csv_and_uploads_outputs(harness: Harness) -> None:
    request = processing_request(harness, "preprocess.py", args=["--train-ratio", "0.5"], env={"GREETING": "hello"})
    result = run_processing_job("prep-1", request, harness.ctx())
    assert result.status == "Completed", result.failure_reason
    d = result.description
    assert d["ProcessingJobArn"] == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:processing-job/prep-1"
    assert d["ProcessingJobStatus"] == "Completed"
    assert d["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"].endswith("/out/train")
    assert d["ProcessingStartTime"].tzinfo is not None and d["ProcessingEndTime"] >= d["ProcessingStartTime"]
    assert harness.keys("out/") == ["out/test/test.csv", "out/train/train.csv"]
    assert harness.get("out/train/train.csv").decode().count("\n") == 21
    assert "rows=40 train=20 test=20 env=hello" in harness.lines["job"]
    assert (harness.tmp / "job" / "logs" / "job.log").read_text().count("rows=40") == 1


def test_processing_failure_reports_tail(harness: Harness) -> None:
    request = processing_request(harness, "preprocess.py", args=["--train-ratio", "not-a-number"])
    result = run_processing_job("prep-fail", request, harness.ctx())
    assert result.status == "Failed"
    assert result.failure_reason.startswith("AlgorithmError: ExecuteUserScriptError")
    assert "invalid float value" in result.failure_reason
    assert result.description["FailureReason"] == result.failure_reason
    assert harness.keys("out/") == []


def test_processing_without_entrypoint_fails_clearly(harness: Harness) -> None:
    request = processing_request(harness, "preprocess.py")
    del request["AppSpecification"]["ContainerEntrypoint"]
    result = run_processing_job("prep-noentry", request, harness.ctx())
    assert result.status == "Failed"
    assert "ContainerEntrypoint" in result.failure_reason


def test_training_script_mode_numpy(harness: Harness, backend: str) -> None:
    # numpy writes /opt/ml/model/weights.npy through a literal path: remapped in both backends.
    request = training_request(harness, "train_numpy.py", {"epochs": "30", "lr": "0.5"})
    result = run_training_job("train-1", request, harness.ctx())
    assert result.status == "Completed", result.failure_reason
    d = result.description
    assert d["TrainingJobArn"] == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/train-1"
    assert d["ModelArtifacts"]["S3ModelArtifacts"] == f"s3://{harness.bucket}/models/train-1/output/model.tar.gz"
    metrics = {m["MetricName"]: m["Value"] for m in d["FinalMetricDataList"]}
    assert metrics["validation:auc"] == pytest.approx(0.7)
    # The last loss printed wins, as on SageMaker.
    last_loss = next(line for line in harness.lines["job"] if line.startswith("epoch=20"))
    assert metrics["train:loss"] == pytest.approx(float(last_loss.split("loss=")[1]))
    model = harness.untar("models/train-1/output/model.tar.gz")
    assert set(model) == {"weights.npy", "meta.json"}
    meta = json.loads(model["meta.json"])
    assert meta["hps"] == {"epochs": 30, "lr": 0.5}
    assert harness.untar("models/train-1/output/output.tar.gz") == {"report.txt": b"auc=0.7\n"}
    assert [t["Status"] for t in d["SecondaryStatusTransitions"]] == [
        "Starting",
        "Downloading",
        "Training",
        "Uploading",
        "Completed",
    ]
    assert d["TrainingTimeInSeconds"] >= 1


def test_training_environment_and_config_files(harness: Harness) -> None:
    request = training_request(harness, "inspect_env.py", {"alpha": "0.25", "name": '"x"'})
    result = run_training_job("train-env", request, harness.ctx())
    assert result.status == "Completed", result.failure_reason
    seen = json.loads(harness.untar("models/train-env/output/model.tar.gz")["seen.json"])
    assert seen["argv"] == ["--alpha", "0.25", "--name", "x"]
    assert "inspect_env.py" in seen["cwd_files"]
    config = seen["config"]
    assert config["hyperparameters.json"]["alpha"] == "0.25"
    assert config["resourceconfig.json"]["current_host"] == "algo-1"
    assert config["inputdataconfig.json"]["train"]["TrainingInputMode"] == "File"
    env = seen["env"]
    assert json.loads(env["SM_HPS"]) == {"alpha": 0.25, "name": "x"}
    assert env["SM_HP_ALPHA"] == "0.25" and env["SM_HP_NAME"] == "x"
    assert json.loads(env["SM_CHANNELS"]) == ["train"]
    assert env["SM_CHANNEL_TRAIN"].endswith("/input/data/train")
    assert env["SM_MODEL_DIR"].endswith("/model") and env["SM_OUTPUT_DATA_DIR"].endswith("/output/data")
    assert env["SM_CURRENT_HOST"] == "algo-1" and json.loads(env["SM_HOSTS"]) == ["algo-1"]
    assert env["SM_NUM_GPUS"] == "0" and int(env["SM_NUM_CPUS"]) >= 1
    assert json.loads(env["SM_TRAINING_ENV"])["job_name"] == "train-env"
    assert env["TRAINING_JOB_NAME"] == "train-env"
    assert env["AWS_ENDPOINT_URL"] == harness.url
    assert seen["channel_files"] == ["train/train.csv"]


def test_training_failure_uses_failure_file(harness: Harness) -> None:
    request = training_request(harness, "train_numpy.py", {"fail": "yes"})
    result = run_training_job("train-fail", request, harness.ctx())
    assert result.status == "Failed"
    assert result.failure_reason == "AlgorithmError: bad hyperparameter: fail=yes"
    assert result.description["TrainingJobStatus"] == "Failed"
    assert result.description["SecondaryStatus"] == "Failed"


def test_training_exception_reports_traceback_tail(harness: Harness) -> None:
    request = training_request(harness, "train_numpy.py", {"epochs": "many"})
    result = run_training_job("train-crash", request, harness.ctx())
    assert result.status == "Failed"
    assert "ExitCode 2" in result.failure_reason and "invalid int value" in result.failure_reason
    assert len(result.failure_reason) <= 1024


def test_training_container_entrypoint(harness: Harness) -> None:
    code = harness.put_script("custom/inspect_env.py", "inspect_env.py")
    request = training_request(harness, "inspect_env.py")
    request["HyperParameters"] = {"k": "v"}
    request["InputDataConfig"].append(
        {
            "ChannelName": "code",
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": code}},
        }
    )
    request["AlgorithmSpecification"].update(
        ContainerEntrypoint=["python3"], ContainerArguments=["/opt/ml/input/data/code/inspect_env.py", "--x"]
    )
    result = run_training_job("train-custom", request, harness.ctx())
    assert result.status == "Completed", result.failure_reason
    seen = json.loads(harness.untar("models/train-custom/output/model.tar.gz")["seen.json"])
    assert seen["argv"] == ["--x"]
    assert seen["channel_files"] == ["code/inspect_env.py", "train/train.csv"]


def test_training_builtin_image_is_refused(harness: Harness) -> None:
    request = training_request(harness, "train_numpy.py")
    request["HyperParameters"] = {"num_round": "10"}
    result = run_training_job("train-xgb", request, harness.ctx())
    assert result.status == "Failed"
    assert "ContainerEntrypoint" in result.failure_reason


def test_training_max_runtime(harness: Harness) -> None:
    request = training_request(harness, "sleepy.py", StoppingCondition={"MaxRuntimeInSeconds": 1})
    started = time.monotonic()
    result = run_training_job("train-slow", request, harness.ctx())
    assert time.monotonic() - started < 15
    assert result.status == "Failed"
    assert result.description["SecondaryStatus"] == "MaxRuntimeExceeded"
    assert result.failure_reason.startswith("MaxRuntimeExceeded")


def test_training_stop_event_kills_the_process(harness: Harness) -> None:
    stop = threading.Event()
    ctx = harness.ctx(stop_event=stop)
    request = training_request(harness, "sleepy.py")
    box: dict = {}
    worker = threading.Thread(target=lambda: box.setdefault("r", run_training_job("train-stop", request, ctx)))
    worker.start()
    deadline = time.monotonic() + 20
    while "started" not in harness.lines["job"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "started" in harness.lines["job"]
    stop.set()
    stopped_at = time.monotonic()
    worker.join(timeout=15)
    assert not worker.is_alive()
    assert time.monotonic() - stopped_at < 5
    result = box["r"]
    assert result.status == "Stopped"
    assert result.description["TrainingJobStatus"] == "Stopped"


def test_opt_ml_remap_in_both_backends(harness: Harness, backend: str) -> None:
    request = processing_request(harness, "remap_probe.py", env={"JOB_TAG": backend})
    request["ProcessingOutputConfig"]["Outputs"] = [
        {
            "OutputName": "probe",
            "S3Output": {
                "S3Uri": f"s3://{harness.bucket}/probe",
                "LocalPath": "/opt/ml/processing/output/probe",
                "S3UploadMode": "EndOfJob",
            },
        }
    ]
    result = run_processing_job("probe", request, harness.ctx())
    assert result.status == "Completed", result.failure_reason
    assert harness.keys("probe/") == [
        "probe/child.txt",
        "probe/nested/copy.txt",
        "probe/o.txt",
        "probe/p.txt",
        "probe/t.tar.gz",
    ]
    assert harness.get("probe/o.txt") == backend.encode()
    lines = harness.lines["job"]
    assert "exists True" in lines
    # Only the mount namespace remaps paths for non-Python programs the script starts itself.
    assert ("shell 0" in lines) == (backend == "namespace")
    assert not any("/opt/ml" in p.name for p in (harness.tmp / "job").iterdir())


def test_concurrent_jobs_are_isolated(harness: Harness, backend: str) -> None:
    requests = {}
    for tag in ("left", "right"):
        request = processing_request(harness, "remap_probe.py", env={"JOB_TAG": tag})
        request["ProcessingOutputConfig"]["Outputs"] = [
            {
                "OutputName": "probe",
                "S3Output": {"S3Uri": f"s3://{harness.bucket}/{tag}", "LocalPath": "/opt/ml/processing/output/probe"},
            }
        ]
        requests[tag] = request
    results: dict = {}
    threads = [
        threading.Thread(
            target=lambda t=t: results.setdefault(t, run_processing_job(f"iso-{t}", requests[t], harness.ctx(t)))
        )
        for t in requests
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for tag in requests:
        assert results[tag].status == "Completed", results[tag].failure_reason
        assert harness.get(f"{tag}/o.txt") == tag.encode()
        assert harness.get(f"{tag}/nested/copy.txt") == tag.encode()
