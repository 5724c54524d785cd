"""Airflow TaskGroup -> SageMaker pipeline definition.

The names load on first use, so ``compiler.assets`` (code packaging, no Airflow) imports without Airflow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {"CompiledPipeline": "compile", "compile_group": "compile", "SageMakerPipelineGroup": "group"}

__all__ = ["CompiledPipeline", "SageMakerPipelineGroup", "compile_group"]

if TYPE_CHECKING:
    from .compile import CompiledPipeline, compile_group
    from .group import SageMakerPipelineGroup


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value
