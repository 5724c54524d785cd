"""Airflow TaskGroup -> SageMaker pipeline definition.

The names load on first use, so ``compiler.assets`` (code packaging, no Airflow) imports without Airflow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_sagemaker_mlops._lazy import lazy_exports

_EXPORTS = {"CompiledPipeline": ".compile", "compile_group": ".compile", "SageMakerPipelineGroup": ".group"}

__all__ = ["CompiledPipeline", "SageMakerPipelineGroup", "compile_group"]

if TYPE_CHECKING:
    from .compile import CompiledPipeline, compile_group
    from .group import SageMakerPipelineGroup


__getattr__ = lazy_exports(__name__, _EXPORTS)
