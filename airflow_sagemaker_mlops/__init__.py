"""airflow-sagemaker-mlops: run Amazon SageMaker Pipelines from Apache Airflow.

The names below load on first use, so ``python -m airflow_sagemaker_mlops local serve`` and the local
engine never import Airflow, and a DAG file pays only for what it uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_sagemaker_mlops._lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "SageMakerPipelineGroup": "airflow_sagemaker_mlops.compiler.group",
    "CompiledPipeline": "airflow_sagemaker_mlops.compiler.compile",
    "CodeAsset": "airflow_sagemaker_mlops.compiler.assets",
    "SageMakerStartPipelineExecutionOperator": "airflow_sagemaker_mlops.operators.lifecycle",
    "SageMakerRetryPipelineExecutionOperator": "airflow_sagemaker_mlops.operators.lifecycle",
    "SageMakerStopPipelineExecutionOperator": "airflow_sagemaker_mlops.operators.lifecycle",
    "SageMakerPipelineCallbackOperator": "airflow_sagemaker_mlops.operators.lifecycle",
    "SageMakerPipelineExecutionSensor": "airflow_sagemaker_mlops.sensors.pipelines",
    "SageMakerPipelineStepSensor": "airflow_sagemaker_mlops.sensors.pipelines",
    "SageMakerPipelineConditionBranchOperator": "airflow_sagemaker_mlops.sensors.pipelines",
    "SageMakerListModelPackageVersionsOperator": "airflow_sagemaker_mlops.operators.registry",
    "SageMakerUpdateModelPackageApprovalOperator": "airflow_sagemaker_mlops.operators.registry",
    "SageMakerApproveModelPackageOperator": "airflow_sagemaker_mlops.operators.registry",
    "SageMakerRejectModelPackageOperator": "airflow_sagemaker_mlops.operators.registry",
    "SageMakerModelPackageApprovalSensor": "airflow_sagemaker_mlops.sensors.registry",
    "SageMakerSharePipelineOperator": "airflow_sagemaker_mlops.operators.ram",
    "SageMakerAcceptPipelineShareOperator": "airflow_sagemaker_mlops.operators.ram",
    "SetupPipelineEventsOperator": "airflow_sagemaker_mlops.operators.events",
    "PipelineEventSensor": "airflow_sagemaker_mlops.sensors.events",
    "PipelineEventTrigger": "airflow_sagemaker_mlops.triggers.events",
    "model_package_group_asset": "airflow_sagemaker_mlops.assets",
    "ProcessingStep": "airflow_sagemaker_mlops.operators.steps",
    "TrainingStep": "airflow_sagemaker_mlops.operators.steps",
    "TuningStep": "airflow_sagemaker_mlops.operators.steps",
    "TransformStep": "airflow_sagemaker_mlops.operators.steps",
    "CreateModelStep": "airflow_sagemaker_mlops.operators.steps",
    "RegisterModelStep": "airflow_sagemaker_mlops.operators.steps",
    "ConditionStep": "airflow_sagemaker_mlops.operators.steps",
    "FailStep": "airflow_sagemaker_mlops.operators.steps",
    "CallbackStep": "airflow_sagemaker_mlops.operators.steps",
    "LambdaStep": "airflow_sagemaker_mlops.operators.steps",
    "EMRServerlessStep": "airflow_sagemaker_mlops.operators.steps",
    "RawStep": "airflow_sagemaker_mlops.operators.steps",
    "sagemaker_step": "airflow_sagemaker_mlops.operators.functions",
    "FunctionStep": "airflow_sagemaker_mlops.operators.functions",
    "NotebookStep": "airflow_sagemaker_mlops.operators.functions",
    "StepResult": "airflow_sagemaker_mlops.operators.functions",
    "SageMakerStepOperator": "airflow_sagemaker_mlops.operators.steps",
    "JsonGet": "airflow_sagemaker_mlops.operators.steps",
    "PipelineParameter": "airflow_sagemaker_mlops.definition.parameters",
    "PropertyFile": "airflow_sagemaker_mlops.definition.steps",
    "RetryPolicy": "airflow_sagemaker_mlops.definition.steps",
    "CacheConfig": "airflow_sagemaker_mlops.definition.steps",
    "ExperimentConfig": "airflow_sagemaker_mlops.definition.pipeline",
    "Join": "airflow_sagemaker_mlops.definition.expressions",
    "Execution": "airflow_sagemaker_mlops.definition.expressions",
    "conditions": "airflow_sagemaker_mlops.definition.conditions",
    "PipelineDefinitionError": "airflow_sagemaker_mlops.exceptions",
    "PipelineCompileError": "airflow_sagemaker_mlops.exceptions",
    "SageMakerMlopsError": "airflow_sagemaker_mlops.exceptions",
    "PipelineDefinitionWarning": "airflow_sagemaker_mlops.exceptions",
    "SageMakerApiError": "airflow_sagemaker_mlops.hooks.errors",
    "PipelineParameterError": "airflow_sagemaker_mlops.hooks.errors",
    "AwsClientSettings": "airflow_sagemaker_mlops.hooks.settings",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from airflow_sagemaker_mlops.assets import model_package_group_asset
    from airflow_sagemaker_mlops.compiler.assets import CodeAsset
    from airflow_sagemaker_mlops.compiler.compile import CompiledPipeline
    from airflow_sagemaker_mlops.compiler.group import SageMakerPipelineGroup
    from airflow_sagemaker_mlops.definition import conditions
    from airflow_sagemaker_mlops.definition.expressions import Execution, Join
    from airflow_sagemaker_mlops.definition.parameters import PipelineParameter
    from airflow_sagemaker_mlops.definition.pipeline import ExperimentConfig
    from airflow_sagemaker_mlops.definition.steps import CacheConfig, PropertyFile, RetryPolicy
    from airflow_sagemaker_mlops.exceptions import (
        PipelineCompileError,
        PipelineDefinitionError,
        PipelineDefinitionWarning,
        SageMakerMlopsError,
    )
    from airflow_sagemaker_mlops.hooks.errors import PipelineParameterError, SageMakerApiError
    from airflow_sagemaker_mlops.hooks.settings import AwsClientSettings
    from airflow_sagemaker_mlops.operators.events import SetupPipelineEventsOperator
    from airflow_sagemaker_mlops.operators.functions import FunctionStep, NotebookStep, StepResult, sagemaker_step
    from airflow_sagemaker_mlops.operators.lifecycle import (
        SageMakerPipelineCallbackOperator,
        SageMakerRetryPipelineExecutionOperator,
        SageMakerStartPipelineExecutionOperator,
        SageMakerStopPipelineExecutionOperator,
    )
    from airflow_sagemaker_mlops.operators.ram import (
        SageMakerAcceptPipelineShareOperator,
        SageMakerSharePipelineOperator,
    )
    from airflow_sagemaker_mlops.operators.registry import (
        SageMakerApproveModelPackageOperator,
        SageMakerListModelPackageVersionsOperator,
        SageMakerRejectModelPackageOperator,
        SageMakerUpdateModelPackageApprovalOperator,
    )
    from airflow_sagemaker_mlops.operators.steps import (
        CallbackStep,
        ConditionStep,
        CreateModelStep,
        EMRServerlessStep,
        FailStep,
        JsonGet,
        LambdaStep,
        ProcessingStep,
        RawStep,
        RegisterModelStep,
        SageMakerStepOperator,
        TrainingStep,
        TransformStep,
        TuningStep,
    )
    from airflow_sagemaker_mlops.sensors.events import PipelineEventSensor
    from airflow_sagemaker_mlops.sensors.pipelines import (
        SageMakerPipelineConditionBranchOperator,
        SageMakerPipelineExecutionSensor,
        SageMakerPipelineStepSensor,
    )
    from airflow_sagemaker_mlops.sensors.registry import SageMakerModelPackageApprovalSensor
    from airflow_sagemaker_mlops.triggers.events import PipelineEventTrigger


__getattr__ = lazy_exports(__name__, _EXPORTS, modules=("conditions",))


def get_provider_info() -> dict[str, Any]:
    from airflow_sagemaker_mlops.get_provider_info import get_provider_info as info

    return info()
