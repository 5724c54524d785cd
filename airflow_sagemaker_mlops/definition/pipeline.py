"""A whole pipeline: its definition JSON and the pipeline-level settings that sit beside it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from airflow_sagemaker_mlops.exceptions import PipelineDefinitionError
from airflow_sagemaker_mlops.location import locate_init_errors

from .expressions import Execution, parse_value, render
from .parameters import PipelineParameter
from .steps import Step, step_from_request

DEFINITION_VERSION = "2020-12-01"

#: SageMaker takes a definition up to this size inline; anything larger must come from S3.
MAX_INLINE_DEFINITION_BYTES = 1024 * 1024
#: Above this size the upsert goes through ``PipelineDefinitionS3Location``, as SageMaker SDK v3 does.
S3_DEFINITION_THRESHOLD_BYTES = 100 * 1024


@locate_init_errors
@dataclass(frozen=True)
class ExperimentConfig:
    """``PipelineExperimentConfig``: which SageMaker experiment and trial a run's jobs are recorded under.

    The default names them after the pipeline and the execution, as SageMaker SDK v3 does.

    Args:
        experiment_name: ``ExperimentName``: a string or an expression (default ``Execution.PipelineName``).
        trial_name: ``TrialName``: a string or an expression (default ``Execution.PipelineExecutionId``).
    """

    experiment_name: Any = Execution.PipelineName
    trial_name: Any = Execution.PipelineExecutionId

    def to_request(self) -> dict[str, Any]:
        """The ``PipelineExperimentConfig`` of the definition."""
        return {"ExperimentName": render(self.experiment_name), "TrialName": render(self.trial_name)}

    @classmethod
    def from_request(cls, request: dict[str, Any]) -> ExperimentConfig:
        """Read a definition's ``PipelineExperimentConfig``.

        Args:
            request: ``{"ExperimentName": ..., "TrialName": ...}``.
        """
        return cls(parse_value(request["ExperimentName"]), parse_value(request["TrialName"]))


@dataclass
class PipelineDefinition:
    """The document SageMaker stores as a pipeline's ``PipelineDefinition``."""

    parameters: dict[str, PipelineParameter] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    experiment_config: ExperimentConfig | None = field(default_factory=ExperimentConfig)
    metadata: dict[str, Any] = field(default_factory=dict)
    version: str = DEFINITION_VERSION
    #: ``MlflowConfig`` (``{"MlflowResourceArn": ..., "MlflowExperimentName": ...}``), passed through.
    mlflow_config: dict[str, Any] | None = None

    def to_request(self) -> dict[str, Any]:
        request: dict[str, Any] = {
            "Version": self.version,
            "Metadata": dict(self.metadata),
            "Parameters": [p.to_request(name) for name, p in self.parameters.items()],
        }
        if self.experiment_config is not None:
            request["PipelineExperimentConfig"] = self.experiment_config.to_request()
        if self.mlflow_config is not None:
            request["MlflowConfig"] = render(self.mlflow_config)
        request["Steps"] = [s.to_request() for s in self.steps]
        return request

    def to_json(self, *, indent: int | None = None) -> str:
        """The JSON SageMaker receives; stable for a given definition (key order is fixed)."""
        separators = (",", ":") if indent is None else (",", ": ")
        return json.dumps(self.to_request(), indent=indent, separators=separators, allow_nan=False)

    def content_hash(self) -> str:
        """sha256 of the canonical JSON: equal for equal definitions, whatever their key order."""
        canonical = json.dumps(self.to_request(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def all_steps(self) -> list[Step]:
        """Every step, top level and nested in condition branches, parents before children."""
        return [nested for step in self.steps for nested in step.walk()]

    @classmethod
    def from_request(cls, request: dict[str, Any]) -> PipelineDefinition:
        if not isinstance(request, dict) or "Steps" not in request:
            raise PipelineDefinitionError("a pipeline definition is a JSON object with a 'Steps' list")
        params: dict[str, PipelineParameter] = {}
        for item in request.get("Parameters", []):
            name, param = PipelineParameter.from_request(item)
            params[name] = param
        exp = request.get("PipelineExperimentConfig")
        return cls(
            parameters=params,
            steps=[step_from_request(s) for s in request["Steps"]],
            experiment_config=ExperimentConfig.from_request(exp) if exp is not None else None,
            metadata=dict(request.get("Metadata") or {}),
            version=request.get("Version", DEFINITION_VERSION),
            mlflow_config=parse_value(request["MlflowConfig"]) if request.get("MlflowConfig") else None,
        )

    @classmethod
    def from_json(cls, text: str) -> PipelineDefinition:
        try:
            return cls.from_request(json.loads(text))
        except json.JSONDecodeError as exc:
            raise PipelineDefinitionError(f"the pipeline definition is not valid JSON: {exc}") from None


@dataclass
class PipelineSpec:
    """What an upsert sends: the definition plus pipeline-level settings (CreatePipeline's other fields)."""

    name: str
    definition: PipelineDefinition
    role_arn: str | None = None
    description: str | None = None
    display_name: str | None = None
    max_parallel_steps: int | None = None
    tags: dict[str, str] = field(default_factory=dict)

    def parallelism_configuration(self) -> dict[str, int] | None:
        if self.max_parallel_steps is None:
            return None
        return {"MaxParallelExecutionSteps": self.max_parallel_steps}

    def to_request(self) -> dict[str, Any]:
        """The settings as CreatePipeline takes them, with the definition as an object (not a string)."""
        request: dict[str, Any] = {"PipelineName": self.name}
        if self.display_name:
            request["PipelineDisplayName"] = self.display_name
        if self.description:
            request["PipelineDescription"] = self.description
        if self.role_arn:
            request["RoleArn"] = self.role_arn
        parallelism = self.parallelism_configuration()
        if parallelism:
            request["ParallelismConfiguration"] = parallelism
        if self.tags:
            request["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(self.tags.items())]
        request["PipelineDefinition"] = self.definition.to_request()
        return request
