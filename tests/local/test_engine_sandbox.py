"""Steps stay in their sandbox (issue 12): LocalPath as SageMaker validates it, the job environment is
SageMaker's and not the engine's, job processes end with the engine, stale work dirs are removed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import ROLE, steps_of, unique, wait

from airflow_sagemaker_mlops.local.jobs._s3 import JobInputError
from airflow_sagemaker_mlops.local.jobs.processing import check_local_path
from airflow_sagemaker_mlops.local.workdir import OWNER_FILE, remove_stale_work_dirs


def processing_step(code: str, *, inputs: list | None = None, outputs: list | None = None) -> dict[str, Any]:
    return {
        "Name": "Step",
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                      "VolumeSizeInGB": 1}},
            "AppSpecification": {"ImageUri": "python:3", "ContainerEntrypoint": ["python3", "-c", code]},
            "RoleArn": ROLE,
            "ProcessingInputs": inputs or [],
            "ProcessingOutputConfig": {"Outputs": outputs or []},
        },
    }


def run(sm: Any, step: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = unique("sandbox")
    sm.create_pipeline(PipelineName=name, RoleArn=ROLE,
                       PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": [step]}))
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    status = wait(sm, arn, timeout=60)["PipelineExecutionStatus"]
    return status, steps_of(sm, arn)["Step"]


def output(bucket: str, local: str = "/opt/ml/processing/out") -> dict[str, Any]:
    return {"OutputName": "out", "S3Output": {"S3Uri": f"s3://{bucket}/out", "LocalPath": local,
                                               "S3UploadMode": "EndOfJob"}}


@pytest.mark.parametrize(
    ("path", "accepted"),
    [
        ("/opt/ml/processing/input", True),
        ("/opt/ml/processing/input/data/", True),
        ("/opt/ml/processing/../../../etc", False),
        ("/opt/ml/processing/input/../../../../tmp", False),
        ("/opt/ml/processing/./input", False),
        ("/opt/ml/processing/", False),
        ("/opt/ml/input", False),
        ("/etc", False),
        ("/opt/ml/processing/" + "x" * 240, False),  # 259 characters: SageMaker's maximum is 256
        (None, False),
    ],
)
def test_local_path_rule(path: Any, accepted: bool) -> None:
    if accepted:
        assert check_local_path(path, "ProcessingInputs[x]") == path.rstrip("/")
    else:
        with pytest.raises(JobInputError, match="LocalPath"):
            check_local_path(path, "ProcessingInputs[x]")


def test_input_traversal_is_refused_and_writes_nothing(engine: Any, sm: Any, bucket: str, tmp_path: Path) -> None:
    engine.client("s3").put_object(Bucket=bucket, Key="in/payload.txt", Body=b"planted")
    target = tmp_path / "escaped"
    # From <work_dir>/opt_ml/processing/ this many '..' reach / on any work dir depth.
    local = "/opt/ml/processing/" + "../" * 40 + str(target).lstrip("/")
    step = processing_step("print('ran')", inputs=[{"InputName": "in", "S3Input": {
        "S3Uri": f"s3://{bucket}/in", "LocalPath": local, "S3DataType": "S3Prefix", "S3InputMode": "File"}}])
    status, record = run(sm, step)
    assert status == "Failed"
    assert "LocalPath" in record["FailureReason"] and record["FailureReason"].startswith("ClientError")
    assert not target.exists()


def test_output_traversal_is_refused_and_uploads_nothing(engine: Any, sm: Any, bucket: str) -> None:
    step = processing_step("print('ran')", outputs=[output(bucket, "/opt/ml/processing/" + "../" * 40 + "etc")])
    status, record = run(sm, step)
    assert status == "Failed" and "LocalPath" in record["FailureReason"]
    assert engine.client("s3").list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_output_symlinks_out_of_the_sandbox_are_not_uploaded(engine: Any, sm: Any, bucket: str,
                                                              tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("host file")
    # The host paths travel in the environment: an entry point string is at most 256 characters.
    code = (
        "import os; o = '/opt/ml/processing/out/'; os.makedirs(o, exist_ok=True); e = os.environ; "
        "os.symlink(e['SECRET'], o + 'leak.txt'); os.symlink(e['HOST_DIR'], o + 'leakdir'); "
        "open(o + 'own.txt', 'w').write('mine')"
    )
    step = processing_step(code, outputs=[output(bucket)])
    step["Arguments"]["Environment"] = {"SECRET": str(secret), "HOST_DIR": str(tmp_path)}
    status, _ = run(sm, step)
    assert status == "Succeeded"
    keys = [o["Key"] for o in engine.client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["out/own.txt"]


def test_a_step_sees_sagemakers_environment_not_the_engines(engine: Any, sm: Any, bucket: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # The engine runs in this process: what it has in its environment, a step must not see.
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", "postgres://user:hunter2@db/prod")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret")
    code = (
        "import json, os, boto3; os.makedirs('/opt/ml/processing/out', exist_ok=True); "
        "who = boto3.client('sts').get_caller_identity()['Arn']; "
        "json.dump({'env': dict(os.environ), 'who': who}, open('/opt/ml/processing/out/env.json', 'w'))"
    )
    step = processing_step(code, outputs=[output(bucket)])
    step["Arguments"]["Environment"] = {"MY_SETTING": "from-the-request"}
    status, record = run(sm, step)
    assert status == "Succeeded", record.get("FailureReason")
    seen = json.loads(engine.client("s3").get_object(Bucket=bucket, Key="out/env.json")["Body"].read())
    env = seen["env"]
    assert "AIRFLOW_CONN_WAREHOUSE" not in env and "GITHUB_TOKEN" not in env
    assert not any("hunter2" in value for value in env.values())
    assert env["MY_SETTING"] == "from-the-request"
    assert env["PROCESSING_JOB_NAME"].startswith("pipelines-")
    assert env["AWS_ENDPOINT_URL"] == engine.url
    assert env["HOME"] != os.environ.get("HOME")
    # Credentials of the job's role, as SageMaker gives a job (an STS session the engine can verify).
    assert seen["who"] == f"arn:aws:sts::123456789012:assumed-role/{ROLE.rsplit('/', 1)[1]}/SageMaker"
    assert env["AWS_SESSION_TOKEN"]


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path("/proc", entry, "cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline:
            found.append(int(entry))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_killing_the_engine_leaves_no_job_process(tmp_path: Path) -> None:
    import boto3

    marker = f"sm-local-orphan-{uuid.uuid4().hex}"
    code = ("import subprocess, sys, time; "
            f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', {marker!r}]); "
            "time.sleep(300)")
    serve = ("from airflow_sagemaker_mlops.local.server import serve; "
             f"serve(port=0, token_file={str(tmp_path / 'token')!r})")
    proc = subprocess.Popen([sys.executable, "-c", serve], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    try:
        url = proc.stdout.readline().strip().removeprefix("listening on ")
        sm = boto3.client("sagemaker", endpoint_url=url, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
        step = processing_step(code)
        step["Arguments"]["AppSpecification"]["ContainerArguments"] = [marker]
        sm.create_pipeline(PipelineName="orphans", RoleArn=ROLE,
                           PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": [step]}))
        sm.start_pipeline_execution(PipelineName="orphans")
        deadline = time.monotonic() + 60
        while len(_processes_with(marker)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(_processes_with(marker)) >= 2, "the job and its child never started"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _processes_with(marker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _processes_with(marker) == []
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in _processes_with(marker):
            os.kill(pid, signal.SIGKILL)


def test_stale_work_dirs_are_removed(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale, live, old_style = (tmp_path / f"sagemaker-local-{n}" for n in ("stale", "live", "old"))
    for folder in (stale, live, old_style):
        folder.mkdir()
    (stale / OWNER_FILE).write_text(str(dead.pid))
    (live / OWNER_FILE).write_text(str(os.getpid()))
    day_ago = time.time() - 2 * 86400
    os.utime(old_style, (day_ago, day_ago))
    removed = remove_stale_work_dirs(str(tmp_path))
    assert sorted(removed) == sorted([stale, old_style])
    assert live.exists() and not stale.exists()
