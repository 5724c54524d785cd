"""The Amazon provider's own system test ``example_sagemaker_pipeline.py``, unchanged, on the local engine.

The DAG (tests/provider_system/data, a verbatim copy) creates a 31-step pipeline with the SDK's default
PipelineExperimentConfig, starts it twice, stops the first execution (the provider's hook relies on
SageMaker's "Only pipelines with 'Executing' status can be stopped" when it already ended), waits for the
second with the provider's sensor, then tears down: DeletePipeline and the experiment (its trials, their
components, the experiment) exactly as the provider's system tests do. Its test-tree imports come from our
shim (tests/provider_system/shim/README.md).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
from airflow_harness import airflow_env, dags_test, migrate
from botocore.exceptions import ClientError

pytestmark = pytest.mark.e2e

HERE = Path(__file__).parent
EXAMPLE = HERE / "data" / "example_sagemaker_pipeline.py.txt"
#: sha256 of the provider's file at apache/airflow 0120e087a97c265a2b88873057d94214654d2c49.
EXAMPLE_SHA256 = "0f43f72d332394a1479456a4b9875a8b3237ff9e58a7cc10ec697209609a6d40"
ROLE = "arn:aws:iam::123456789012:role/SageMakerPipeline"


def test_the_example_is_the_providers_file_unchanged() -> None:
    assert hashlib.sha256(EXAMPLE.read_bytes()).hexdigest() == EXAMPLE_SHA256


def test_providers_sagemaker_pipeline_system_test_runs_green(sagemaker_local_engine: Any, tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    shutil.copyfile(EXAMPLE, dags / "example_sagemaker_pipeline.py")
    home = tmp_path / "home"
    home.mkdir()
    env_id = f"sys{uuid.uuid4().hex[:8]}"
    engine_url = sagemaker_local_engine.url
    env = airflow_env(home, dags, engine_url, **{
        "PYTHONPATH": os.pathsep.join([str(HERE / "shim"), str(HERE.parents[1]), os.environ.get("PYTHONPATH", "")]),
        # The example's own boto3 clients (create/delete pipeline, teardown) reach the engine this way.
        "AWS_ENDPOINT_URL": engine_url,
        # The system-test context (shim): env id and the role the pipeline runs as.
        "SYSTEM_TESTS_ENV_ID": env_id,
        "ROLE_ARN": ROLE,
    })
    migrate(env)
    run = dags_test(home, env, "example_sagemaker_pipeline")
    assert run.state == "success", run.output[-6000:]
    assert run.states == {
        "variable_fetcher": "success",
        "create_pipeline": "success",
        "start_pipeline1": "success",
        "start_pipeline2": "success",
        "stop_pipeline1": "success",
        "await_pipeline2": "success",
        "delete_pipeline": "success",
        "delete_experiments": "success",
        "watcher": "skipped",
    }, run.output[-6000:]
    first, second = run.xcom("start_pipeline1"), run.xcom("start_pipeline2")
    assert first != second and first.startswith(f"arn:aws:sagemaker:us-east-1:123456789012:pipeline/{env_id}")
    # The teardown deleted what the executions created: the experiment (one per pipeline) and its trials.
    sm = sagemaker_local_engine.client("sagemaker")
    pipeline = f"{env_id}-pipeline"
    with pytest.raises(ClientError) as gone:
        sm.describe_experiment(ExperimentName=pipeline)
    assert gone.value.response["Error"]["Code"] == "ResourceNotFound"
    assert sm.list_trials(ExperimentName=pipeline)["TrialSummaries"] == []
    assert not any(p["PipelineName"] == pipeline for p in sm.list_pipelines()["PipelineSummaries"])
