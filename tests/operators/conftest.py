from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

# The hook tests' helpers (tests/ has no packages; modules are imported by name).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "hooks"))

from airflow_sagemaker_mlops.hooks.logs import SageMakerJobLogsHook
from airflow_sagemaker_mlops.hooks.pipelines import SageMakerPipelinesHook
from airflow_sagemaker_mlops.local.pytest_plugin import ENV


@pytest.fixture(scope="session")
def _hooks(_sagemaker_local_engine_session: Any) -> tuple[SageMakerPipelinesHook, SageMakerJobLogsHook]:
    with pytest.MonkeyPatch.context() as mp:
        for key, value in ENV.items():
            mp.setenv(key, value)
        mp.setenv("AWS_ENDPOINT_URL", _sagemaker_local_engine_session.url)
        pipelines, logs = SageMakerPipelinesHook(aws_conn_id=None), SageMakerJobLogsHook(aws_conn_id=None)
        _ = pipelines.conn, pipelines.s3, logs.conn
    return pipelines, logs


@pytest.fixture
def engine(sagemaker_local_engine: Any) -> Any:
    return sagemaker_local_engine


@pytest.fixture
def hook(engine: Any, _hooks: tuple[SageMakerPipelinesHook, SageMakerJobLogsHook]) -> SageMakerPipelinesHook:
    return _hooks[0]


@pytest.fixture
def logs(engine: Any, _hooks: tuple[SageMakerPipelinesHook, SageMakerJobLogsHook]) -> SageMakerJobLogsHook:
    return _hooks[1]
