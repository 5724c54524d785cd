from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

# The hook tests' helpers (tests/ has no packages; modules are imported by name).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "hooks"))

from airflow_sagemaker_mlops.hooks.pipelines import SageMakerPipelinesHook
from airflow_sagemaker_mlops.local.pytest_plugin import ENV


@pytest.fixture(scope="session")
def _trigger_session_hook(_sagemaker_local_engine_session: Any) -> SageMakerPipelinesHook:
    # One sync hook for the session (loading the SageMaker model per test costs most of a second).
    with pytest.MonkeyPatch.context() as mp:
        for key, value in ENV.items():
            mp.setenv(key, value)
        mp.setenv("AWS_ENDPOINT_URL", _sagemaker_local_engine_session.url)
        hook = SageMakerPipelinesHook(aws_conn_id=None)
        _ = hook.conn
    return hook


@pytest.fixture
def engine(sagemaker_local_engine: Any) -> Any:
    return sagemaker_local_engine


@pytest.fixture
def hook(engine: Any, _trigger_session_hook: SageMakerPipelinesHook) -> SageMakerPipelinesHook:
    return _trigger_session_hook
