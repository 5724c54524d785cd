"""Builders: write SageMaker steps the way the SageMaker SDK writes jobs, and get the same step operators.

See docs/authoring.md. ``run_script``, ``training_job``, ``transform_job``, ``create_model``, ``register_model``
and ``tuning_job`` return ProcessingStep, TrainingStep, TransformStep, CreateModelStep, RegisterModelStep and
TuningStep; ``image_uri`` looks up a SageMaker framework image without the SDK.
"""

from __future__ import annotations

from .images import image_uri
from .io import channel, code_input, hyperparameter, s3_input, s3_output, top_model_s3_uri
from .steps import (
    categorical,
    continuous,
    create_model,
    integer,
    register_model,
    run_script,
    training_job,
    training_request,
    transform_job,
    tuning_job,
)

__all__ = [
    "categorical", "channel", "code_input", "continuous", "create_model", "hyperparameter", "image_uri", "integer",
    "register_model", "run_script", "s3_input", "s3_output", "top_model_s3_uri", "training_job",
    "training_request", "transform_job", "tuning_job",
]
