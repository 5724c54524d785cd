"""Builders: write SageMaker steps the way the SageMaker SDK writes jobs, and get the same step operators.

See docs/authoring.md. ``run_script``, ``training_job``, ``transform_job``, ``create_model``, ``register_model``
and ``tuning_job`` return ProcessingStep, TrainingStep, TransformStep, CreateModelStep, RegisterModelStep and
TuningStep; ``image_uri`` looks up a SageMaker framework image without the SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_sagemaker_mlops._lazy import lazy_exports

# Loaded on first use: ``image_uri`` and the S3 helpers need no Airflow (docker/create_example_resources.py
# imports the examples' settings with boto3 alone), the step builders do.
_EXPORTS = {
    "image_uri": ".images",
    **dict.fromkeys(("channel", "code_input", "hyperparameter", "s3_input", "s3_output", "top_model_s3_uri"), ".io"),
    **dict.fromkeys(("categorical", "continuous", "create_model", "integer", "register_model", "run_script",
                     "training_job", "training_request", "transform_job", "tuning_job"), ".steps"),
}

__all__ = [
    "categorical", "channel", "code_input", "continuous", "create_model", "hyperparameter", "image_uri", "integer",
    "register_model", "run_script", "s3_input", "s3_output", "top_model_s3_uri", "training_job",
    "training_request", "transform_job", "tuning_job",
]

if TYPE_CHECKING:
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


__getattr__ = lazy_exports(__name__, _EXPORTS)
