"""Airflow TaskGroup -> SageMaker pipeline definition."""

from __future__ import annotations

from .compile import CompiledPipeline, compile_group
from .group import SageMakerPipelineGroup

__all__ = ["CompiledPipeline", "SageMakerPipelineGroup", "compile_group"]
