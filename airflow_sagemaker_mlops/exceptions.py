"""The project's exceptions: every error a user can cause is one of these."""

from __future__ import annotations


class SageMakerMlopsError(Exception):
    """Base class of every error this package raises on purpose."""


class PipelineDefinitionError(SageMakerMlopsError, ValueError):
    """A pipeline definition SageMaker would reject, or that cannot be built at all."""
