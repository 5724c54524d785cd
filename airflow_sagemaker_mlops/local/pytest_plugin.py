"""pytest plugin (entry point ``sagemaker_local_engine``): the ``sagemaker_local_engine`` fixture.

The engine starts once per session on a free 127.0.0.1 port; each test gets it with faults cleared and
``AWS_ENDPOINT_URL``, region and dummy credentials set in its environment. Importing this module is cheap:
the engine is imported only when a test asks for the fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def _sagemaker_local_engine_session() -> Iterator[Any]:
    from airflow_sagemaker_mlops.local.server import LocalEngine
    from airflow_sagemaker_mlops.local.state import EngineConfig

    # Retry intervals scaled down so retry-policy tests take milliseconds, not minutes.
    engine = LocalEngine(EngineConfig(retry_interval_scale=0.001)).start()
    try:
        yield engine
    finally:
        engine.stop()


@pytest.fixture
def sagemaker_local_engine(
    _sagemaker_local_engine_session: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """The running engine: ``.url``, ``.client(service)``, ``.faults``, ``.wait(arn)``, ``.config``."""
    engine = _sagemaker_local_engine_session
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", engine.url)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    engine.faults.clear()
    saved_handlers = dict(engine.config.lambda_handlers)
    saved_runners = dict(engine.config.job_runners)
    try:
        yield engine
    finally:
        engine.faults.clear()
        engine.config.lambda_handlers.clear()
        engine.config.lambda_handlers.update(saved_handlers)
        engine.config.job_runners.clear()
        engine.config.job_runners.update(saved_runners)
