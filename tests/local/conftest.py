from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.config import Config
from engine_helpers import ROLE, FakeJobs, definition, unique


@pytest.fixture
def engine(sagemaker_local_engine: Any) -> Any:
    return sagemaker_local_engine


@pytest.fixture
def sm(engine: Any) -> Any:
    # No client-side retries: tests must see throttling and errors as the server sent them.
    return engine.client("sagemaker", config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))


@pytest.fixture
def make_pipeline(sm: Any) -> Callable[..., str]:
    def make(steps: list[dict[str, Any]], parameters: list[dict[str, Any]] | None = None, **kw: Any) -> str:
        name = unique()
        sm.create_pipeline(PipelineName=name, PipelineDefinition=definition(steps, parameters), RoleArn=ROLE, **kw)
        return name

    return make


@pytest.fixture
def fake_jobs(engine: Any) -> FakeJobs:
    fake = FakeJobs()
    engine.config.job_runners.update(
        {
            "Processing": fake.runner("ProcessingJob"),
            "Training": fake.runner("TrainingJob"),
            "Transform": fake.runner("TransformJob"),
            "Tuning": fake.runner("HyperParameterTuningJob"),
        }
    )
    return fake


@pytest.fixture
def bucket(engine: Any) -> str:
    name = f"bucket-{uuid.uuid4().hex[:12]}"
    engine.client("s3").create_bucket(Bucket=name)
    return name
