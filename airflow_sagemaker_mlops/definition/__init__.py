"""The pure model of a SageMaker pipeline definition: no Airflow, no boto3, no network."""

from __future__ import annotations

from . import conditions
from .conditions import Condition
from .expressions import (
    Execution,
    ExecutionVariable,
    Expression,
    Join,
    JsonGet,
    Key,
    ParameterRef,
    PropertyFileRef,
    StepProperty,
    render,
)
from .parameters import PipelineParameter
from .pipeline import ExperimentConfig, PipelineDefinition, PipelineSpec
from .steps import CacheConfig, ConditionStep, DependsOnTrigger, PropertyFile, RetryPolicy, Step, StepType
from .validate import Problem, find_problems, validate

__all__ = [
    "CacheConfig",
    "Condition",
    "ConditionStep",
    "DependsOnTrigger",
    "Execution",
    "ExecutionVariable",
    "ExperimentConfig",
    "Expression",
    "Join",
    "JsonGet",
    "Key",
    "ParameterRef",
    "PipelineDefinition",
    "PipelineParameter",
    "PipelineSpec",
    "Problem",
    "PropertyFile",
    "PropertyFileRef",
    "RetryPolicy",
    "Step",
    "StepProperty",
    "StepType",
    "conditions",
    "find_problems",
    "render",
    "validate",
]
