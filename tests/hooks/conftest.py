from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from pipeline_helpers import CallCounter

from airflow_sagemaker_mlops.hooks.pipelines import SageMakerPipelinesHook
from airflow_sagemaker_mlops.local.pytest_plugin import ENV


@pytest.fixture(scope="session")
def _session_hook(_sagemaker_local_engine_session: Any) -> SageMakerPipelinesHook:
    # One hook (and so one loaded SageMaker service model) for the whole session: a new boto3 session
    # per test would spend most of a second re-reading the model. Its clients keep the engine's URL.
    with pytest.MonkeyPatch.context() as mp:
        for key, value in ENV.items():
            mp.setenv(key, value)
        mp.setenv("AWS_ENDPOINT_URL", _sagemaker_local_engine_session.url)
        hook = SageMakerPipelinesHook(aws_conn_id=None)
        _ = hook.conn, hook.s3, hook.account_id
    return hook


@pytest.fixture
def engine(sagemaker_local_engine: Any) -> Any:
    return sagemaker_local_engine


@pytest.fixture
def hook(engine: Any, _session_hook: SageMakerPipelinesHook) -> Iterator[SageMakerPipelinesHook]:
    _session_hook.steps_page_size = SageMakerPipelinesHook.steps_page_size
    yield _session_hook
    _session_hook.__dict__.pop("steps_page_size", None)


@pytest.fixture
def calls(hook: SageMakerPipelinesHook) -> Iterator[CallCounter]:
    """SageMaker operations the hook sends during the test (HTTP attempts, by operation name)."""
    counter = CallCounter().attach(hook.conn)
    yield counter
    counter.detach(hook.conn)


@pytest.fixture
def s3_calls(hook: SageMakerPipelinesHook) -> Iterator[CallCounter]:
    counter = CallCounter().attach(hook.s3)
    yield counter
    counter.detach(hook.s3)


@pytest.fixture
def bucket(engine: Any) -> str:
    name = f"bucket-{uuid.uuid4().hex[:12]}"
    engine.client("s3").create_bucket(Bucket=name)
    return name
