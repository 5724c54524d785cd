"""Step operators: the tasks users place inside a SageMakerPipelineGroup, one per pipeline step.

At parse time each operator describes its step (``build_step``); the group compiles them into a
definition. Arguments are SageMaker's own request shapes (what boto3 takes), where any value may be a
pipeline expression: a parameter (``group.parameter("X")``), a step property (``step.properties.A.B``),
``Join``, ``JsonGet`` or an execution variable.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from airflow_sagemaker_mlops.compat import BaseOperator, BranchMixIn
from airflow_sagemaker_mlops.definition import conditions as C
from airflow_sagemaker_mlops.definition.expressions import (
    Expression,
    Key,
    PathSegment,
    PropertyFileRef,
    StepProperty,
)
from airflow_sagemaker_mlops.definition.expressions import JsonGet as _JsonGet
from airflow_sagemaker_mlops.definition.steps import (
    CacheConfig,
    DependsOnTrigger,
    PropertyFile,
    RetryPolicy,
    Step,
    StepType,
)
from airflow_sagemaker_mlops.definition.steps import (
    ConditionStep as _ConditionStepDef,
)
from airflow_sagemaker_mlops.exceptions import PipelineCompileError, PipelineDefinitionError
from airflow_sagemaker_mlops.links import SageMakerStepJobLink
from airflow_sagemaker_mlops.location import (
    current_dag_and_group,
    locate_errors,
    locate_init_errors,
    located,
    unknown_operator_keywords,
    user_site,
)
from airflow_sagemaker_mlops.operators.failures import one_frame


def _locating(init: Any) -> Any:
    """Wrap an operator's ``__init__`` (outside Airflow's own wrapper, so its missing-argument errors are
    caught too): whatever goes wrong while the step is described is a PipelineCompileError at the line of
    the DAG file that creates the step, naming the DAG, group, task and field."""

    @functools.wraps(init)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        # Wrong keywords: checked once, by the class being built (not by the super().__init__ calls below it).
        if type(self).__init__ is wrapper and (unknown := unknown_operator_keywords(type(self), kwargs)):
            raise _construction_error(self, unknown, kwargs)
        try:
            init(self, *args, **kwargs)
        except PipelineCompileError:
            raise
        except Exception as exc:
            raise _construction_error(self, exc, kwargs) from exc

    # Airflow compares ``self.__init__.__wrapped__`` with the class's own __init__ to run its post-init once.
    wrapper.__wrapped__ = getattr(init, "__wrapped__", init)  # type: ignore[attr-defined]
    return wrapper


def _construction_error(op: Any, exc: Exception, kwargs: dict[str, Any]) -> PipelineCompileError:
    dag = kwargs.get("dag") or op.__dict__.get("_dag")
    group = kwargs.get("task_group") or op.__dict__.get("_task_group") or op.__dict__.get("task_group")
    if dag is None or group is None:
        current_dag, current_group = current_dag_and_group()
        dag = dag or current_dag
        group = group or current_group
    task_id = kwargs.get("task_id")
    if isinstance(task_id, str) and group is not None and getattr(group, "group_id", None):
        task_id = group.child_id(task_id)
    site = op.__dict__.get("definition_site") or user_site()
    return located(exc, site=site, dag=dag, group=group, task_id=task_id if isinstance(task_id, str) else None)


class _StepOperatorMeta(type(BaseOperator)):  # type: ignore[misc]
    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any) -> Any:
        cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        if "__init__" in namespace:
            cls.__init__ = _locating(cls.__init__)
        return cls


class PropertyPath(StepProperty):
    """``step.properties.ModelArtifacts.S3ModelArtifacts``: builds a step property reference.

    Attribute access appends a property name, ``["key"]`` a map key and ``[0]`` a list index.
    SageMaker property names start with a capital letter, except in the camelCase responses of other services
    (EMR Serverless's ``jobRun.state``), which the property schema knows; anything else is a normal attribute
    lookup.
    """

    def __getattr__(self, name: str) -> PropertyPath:
        if not name[:1].isupper():
            if name.startswith("_"):  # Python's and libraries' protocol probes (__deepcopy__, _repr_html_, ...)
                raise AttributeError(name)
            if name not in _members(self):
                raise _property_name_error(self, name)
        return PropertyPath(self.step_name, (*self.path, name), self.step_type, self.origin)

    def __getitem__(self, key: str | int) -> PropertyPath:
        segment: PathSegment
        if isinstance(key, bool) or not isinstance(key, str | int) or (isinstance(key, int) and key < 0):
            raise located(PipelineDefinitionError(
                f"a property index is a string key or a non-negative integer, got {key!r}",
                field=f"{self.step_name}.properties{'.' + self.path_text if self.path else ''}[{key!r}]"))
        segment = Key(key) if isinstance(key, str) else key
        return PropertyPath(self.step_name, (*self.path, segment), self.step_type, self.origin)

    def __iter__(self) -> Iterator[Any]:
        # Without this, Python would try __getitem__(0), (1), ... forever.
        raise TypeError(f"step properties of {self.step_name!r} cannot be iterated at parse time")

    def to_request(self) -> dict[str, Any]:
        """``{"Get": "Steps.<step>.<path>"}``."""
        if not self.path:
            raise PipelineDefinitionError(
                f"step {self.step_name!r}: use a property of the step (step.properties.Name...), "
                "not the properties object itself"
            )
        return super().to_request()


class PropertyNameError(PipelineCompileError, AttributeError):
    """A property name that does not start with a capital letter (``properties.modelArtifacts``).

    Also an AttributeError, so ``hasattr``/``getattr(..., default)`` on a properties object keep working."""


def _members(prop: PropertyPath) -> list[str]:
    from airflow_sagemaker_mlops.definition.properties import property_members

    return property_members(prop.step_type or "", prop.path) or []


def _property_name_error(prop: PropertyPath, name: str) -> PropertyNameError:
    where = f"{prop.step_name}.properties{'.' + prop.path_text if prop.path else ''}.{name}"
    members = _members(prop)
    if any(m[:1].islower() for m in members):  # a camelCase response (EMR Serverless): a typo, not a case slip
        close = difflib.get_close_matches(name, members, n=1)
        problem = f"{prop.step_type} step properties have no {name!r} here"
    else:
        close = [m for m in members if m.lower() == name.lower()]
        problem = f"SageMaker property names start with a capital letter, {name!r} does not"
    hint = f"; did you mean {close[0]!r}?" if close else ""
    error = located(problem + hint, field=where, site=user_site())
    named = PropertyNameError(error.problem, dag_file=error.dag_file, lineno=error.lineno, dag_id=error.dag_id,
                              group_id=error.group_id, field=error.field)
    return named


class SageMakerStepOperator(BaseOperator, metaclass=_StepOperatorMeta):
    """Base class of the step operators.

    Args:
        step_name: the step's name in SageMaker (default: the task id without the group prefix).
        display_name: ``DisplayName`` shown in SageMaker Studio.
        step_description: the step's ``Description``.
        retry_policies: ``RetryPolicies`` (list of :class:`RetryPolicy`).
        cache: ``CacheConfig``: True, an ISO 8601 expiry such as ``"P30D"``, or a CacheConfig.
        run_after_outcome: ``[(step, "Failed" | "Stopped" | "Any")]``: run after another step of the
            group ends with that outcome instead of succeeding (SageMaker's ``DependsOn`` triggers).
        task_id: the Airflow task id (inside the group; the group's prefix is added as usual).
    """

    step_type: ClassVar[str]
    #: Definition fields (as validation names them) -> the operator argument they come from, so errors name
    #: what the user wrote: ``Arguments.ProcessingInputs[0]`` is ``job.ProcessingInputs[0]``.
    argument_names: ClassVar[dict[str, str]] = {}
    _COMMON_ARGUMENT_NAMES: ClassVar[dict[str, str]] = {
        "Name": "step_name", "DisplayName": "display_name", "Description": "step_description",
        "CacheConfig": "cache", "RetryPolicies": "retry_policies", "PropertyFiles": "property_files",
        "Type": "step_type", "Conditions": "condition",
    }
    ui_color = "#ffe4c2"
    operator_extra_links = (SageMakerStepJobLink(),)
    # Per-run values go through pipeline parameters, never through Jinja in the step definition.
    template_fields = ()

    def __init__(
        self,
        *,
        task_id: str,
        step_name: str | None = None,
        display_name: str | None = None,
        step_description: str | None = None,
        retry_policies: Iterable[RetryPolicy] | None = None,
        cache: bool | str | CacheConfig | None = None,
        run_after_outcome: Iterable[tuple[SageMakerStepOperator, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        self.definition_site = user_site()
        super().__init__(task_id=task_id, **kwargs)
        self.step_name = step_name if step_name is not None else task_id
        if not isinstance(self.step_name, str):
            raise PipelineDefinitionError(f"step_name must be a string, got {type(step_name).__name__}",
                                          field="step_name")
        for what, text in (("display_name", display_name), ("step_description", step_description)):
            if text is not None and not isinstance(text, str):
                raise PipelineDefinitionError(f"{what} must be a string, got {type(text).__name__}", field=what)
        self.display_name = display_name
        self.step_description = step_description
        self.retry_policies = _list(retry_policies, "retry_policies")
        for i, policy in enumerate(self.retry_policies):
            if not isinstance(policy, RetryPolicy):
                raise PipelineDefinitionError(f"retry_policies takes RetryPolicy objects, got {type(policy).__name__}",
                                              field=f"retry_policies[{i}]")
        self.cache_config = _cache_config(cache)
        self.run_after_outcome = _list(run_after_outcome, "run_after_outcome")
        self.properties = PropertyPath(self.step_name, (), self.step_type, self)

    # -- run time: mirror the step of the group's execution (operators/runtime.py) -------------------
    # one_frame: a final status (a Fail step, a failed job) shows this frame and its message, not the calls below.
    @one_frame
    def execute(self, context: Any) -> Any:
        from airflow_sagemaker_mlops.operators.runtime import run_step

        outputs = run_step(self, context)
        self.step_succeeded(context)
        return outputs

    @one_frame
    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        from airflow_sagemaker_mlops.operators.runtime import complete_step

        outputs = complete_step(self, context, event)
        self.step_succeeded(context)
        return outputs

    def step_succeeded(self, context: Any) -> None:
        """Called once the task has mirrored a step that succeeded: for subclasses (RegisterModelStep).

        Args:
            context: the task's Airflow context.
        """

    #: Set while the task waits on a worker (deferrable=False), so on_kill can stop the execution.
    execution_arn: str | None = None

    #: The step's ListPipelineExecutionSteps entry once it ended (set by the run-time bridge).
    sagemaker_step: dict[str, Any] | None = None

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        from airflow_sagemaker_mlops.lineage import step_facets

        return step_facets(self)

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> Any:
        from airflow_sagemaker_mlops.lineage import step_facets

        return step_facets(self)

    def on_kill(self) -> None:
        from airflow_sagemaker_mlops.operators.runtime import pipeline_settings, stop_killed_execution

        settings = pipeline_settings(self)
        stop_killed_execution(self, settings.stop_on_kill, self.execution_arn, settings.aws)

    # -- what the compiler reads --------------------------------------------------------------
    def argument_name(self, field: str | None) -> str | None:
        """The operator argument a definition field comes from (``Arguments.X`` -> ``job.X``).

        Args:
            field: a field path as validation names it (``Arguments.ProcessingInputs[0]``).

        Returns:
            The path as the user wrote it (``job.ProcessingInputs[0]``); unknown paths unchanged.
        """
        if not field:
            return field
        names = {**self._COMMON_ARGUMENT_NAMES, **self.argument_names}
        for prefix in sorted(names, key=len, reverse=True):
            if field == prefix or field.startswith((prefix + ".", prefix + "[")):
                return names[prefix] + field[len(prefix):]
        return field

    def step_values(self) -> dict[str, Any]:
        """The user-supplied values of this step, by field name, for static checks and references."""
        return {}

    def step_arguments(self) -> Any:
        """The step's ``Arguments`` in the definition (a request shape, with expressions inside)."""
        return {}

    def step_extra(self) -> dict[str, Any]:
        """The step's type-specific top-level keys (``SqsQueueUrl``, ``FunctionArn``, ``OutputParameters``)."""
        return {}

    def property_files(self) -> list[PropertyFile]:
        """The step's ``PropertyFiles`` (only Processing steps have any)."""
        return []

    def build_step(self, depends_on: list[str | DependsOnTrigger]) -> Step:
        """The step as the definition model has it (the compiler calls this when the group closes).

        Args:
            depends_on: the step's ``DependsOn``: step names, or triggers for another outcome than success.

        Returns:
            The definition's Step.
        """
        return Step(
            name=self.step_name,
            type=self.step_type,
            arguments=self.step_arguments(),
            depends_on=depends_on,
            display_name=self.display_name,
            description=self.step_description,
            retry_policies=list(self.retry_policies),
            cache_config=self.cache_config,
            property_files=self.property_files(),
            extra=self.step_extra(),
        )


def _list(items: Any, what: str) -> list[Any]:
    """An optional iterable argument as a list; a string or a single object is a mistake worth naming."""
    if items is None:
        return []
    if isinstance(items, str | bytes | dict) or not isinstance(items, Iterable):
        raise PipelineDefinitionError(f"{what} takes a list, got {type(items).__name__}", field=what)
    return list(items)


def _cache_config(cache: bool | str | CacheConfig | None) -> CacheConfig | None:
    if cache is None or cache is False:
        return None
    if cache is True:
        return CacheConfig(True)
    if isinstance(cache, str):
        return CacheConfig(True, cache)
    if isinstance(cache, CacheConfig):
        return cache
    raise PipelineDefinitionError(f"cache must be True, an ISO 8601 duration or a CacheConfig, got {cache!r}",
                                  field="cache")


def _request(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PipelineDefinitionError(f"{what} must be a dict in the SageMaker API's request shape, "
                                      f"got {type(value).__name__}", field=what.rsplit(".", 1)[-1])
    return value


class _JobStep(SageMakerStepOperator):
    """A step whose ``Arguments`` are a Create*Job request (without the job name)."""

    #: The request key SageMaker fills in itself; giving it is a mistake worth naming.
    name_key: ClassVar[str] = ""
    argument_names: ClassVar[dict[str, str]] = {"Arguments": "job"}

    def __init__(self, *, job: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job = _request(job, f"{type(self).__name__}.job")
        if self.name_key and self.name_key in self.job:
            raise PipelineDefinitionError(
                f"remove {self.name_key} from job; SageMaker names the job of each execution itself",
                field=f"job.{self.name_key}",
            )

    def step_values(self) -> dict[str, Any]:
        return {"job": self.job}

    def step_arguments(self) -> Any:
        return self.job


class ProcessingStep(_JobStep):
    """A Processing step: ``job`` is a CreateProcessingJob request.

    Args:
        job: the CreateProcessingJob request without ``ProcessingJobName`` (SageMaker names each execution's
            job); any value may be a pipeline expression.
        property_files: JSON files written to an output, readable downstream with ``JsonGet``.
    """

    step_type = StepType.PROCESSING
    name_key = "ProcessingJobName"

    def __init__(self, *, property_files: Iterable[PropertyFile] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._property_files = _list(property_files, "property_files")
        for i, pf in enumerate(self._property_files):
            if not isinstance(pf, PropertyFile):
                raise PipelineDefinitionError(f"property_files takes PropertyFile objects, got {type(pf).__name__}",
                                              field=f"property_files[{i}]")

    def property_files(self) -> list[PropertyFile]:
        return list(self._property_files)

    def property_file(self, name: str) -> PropertyFileRef:
        """This step's property file ``name`` as a value for ``JsonGet``.

        Args:
            name: the ``PropertyFile``'s name.
        """
        return PropertyFileRef(self.step_name, name, origin=self)


class TrainingStep(_JobStep):
    """A Training step: ``job`` is a CreateTrainingJob request.

    Args:
        job: the CreateTrainingJob request without ``TrainingJobName``; any value may be a pipeline expression.
    """

    step_type = StepType.TRAINING
    name_key = "TrainingJobName"


class TuningStep(_JobStep):
    """A Tuning step: ``job`` is a CreateHyperParameterTuningJob request
    (``HyperParameterTuningJobConfig``, ``TrainingJobDefinition`` or ``TrainingJobDefinitions``, ...).

    Args:
        job: the CreateHyperParameterTuningJob request without ``HyperParameterTuningJobName``; any value may
            be a pipeline expression.
    """

    step_type = StepType.TUNING
    name_key = "HyperParameterTuningJobName"


class TransformStep(_JobStep):
    """A Transform step: ``job`` is a CreateTransformJob request.

    Args:
        job: the CreateTransformJob request without ``TransformJobName``; any value may be a pipeline expression.
    """

    step_type = StepType.TRANSFORM
    name_key = "TransformJobName"


class CreateModelStep(SageMakerStepOperator):
    """A CreateModel step (SageMaker type ``Model``): ``model`` is a CreateModel request.

    Args:
        model: the CreateModel request without ``ModelName`` (SageMaker names each execution's model).
    """

    step_type = StepType.CREATE_MODEL
    argument_names: ClassVar[dict[str, str]] = {"Arguments": "model"}

    def __init__(self, *, model: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = _request(model, "CreateModelStep.model")
        if "ModelName" in self.model:
            raise PipelineDefinitionError("remove ModelName from model; SageMaker names the model of each "
                                          "execution itself", field="model.ModelName")

    def step_values(self) -> dict[str, Any]:
        return {"model": self.model}

    def step_arguments(self) -> Any:
        return self.model


class RegisterModelStep(SageMakerStepOperator):
    """A RegisterModel step: registers a model package version in a model package group.

    Either give ``request`` (a CreateModelPackage request) or the common fields, from which the request
    is built: ``model_package_group``, ``image_uri``, ``model_data`` and the optional rest.

    Args:
        model_package_group: ``ModelPackageGroupName``: the group the version is registered in.
        image_uri: the inference image (``InferenceSpecification.Containers[0].Image``).
        model_data: the model artifact's S3 URI (``ModelDataUrl``), typically
            ``fit.properties.ModelArtifacts.S3ModelArtifacts``.
        content_types: ``SupportedContentTypes`` (e.g. ``["text/csv"]``).
        response_types: ``SupportedResponseMIMETypes``.
        inference_instances: ``SupportedRealtimeInferenceInstanceTypes``.
        transform_instances: ``SupportedTransformInstanceTypes``.
        approval_status: ``ModelApprovalStatus`` (default ``PendingManualApproval``; None leaves it out).
        model_package_description: ``ModelPackageDescription``.
        environment: the container's ``Environment``.
        model_metrics: ``ModelMetrics`` (e.g. ``{"ModelQuality": {"Statistics": {"ContentType": ..., "S3Uri": ...}}}``).
        customer_metadata: ``CustomerMetadataProperties``.
        skip_model_validation: ``SkipModelValidation`` (default ``"None"``, written out as SDK v3 does).
        request: a whole CreateModelPackage request instead of the fields above.
    """

    step_type = StepType.REGISTER_MODEL
    argument_names: ClassVar[dict[str, str]] = {"Arguments": "request"}

    def __init__(
        self,
        *,
        model_package_group: Any = None,
        image_uri: Any = None,
        model_data: Any = None,
        content_types: list[str] | None = None,
        response_types: list[str] | None = None,
        inference_instances: list[str] | None = None,
        transform_instances: list[str] | None = None,
        approval_status: Any = "PendingManualApproval",
        model_package_description: Any = None,
        environment: dict[str, Any] | None = None,
        model_metrics: dict[str, Any] | None = None,
        customer_metadata: dict[str, Any] | None = None,
        skip_model_validation: str | None = "None",
        request: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        group = request.get("ModelPackageGroupName") if isinstance(request, dict) else model_package_group
        if "outlets" not in kwargs and group is not None:
            kwargs["outlets"] = [_registration_outlet(group, kwargs.get("task_id"))]
        super().__init__(**kwargs)
        if request is not None:
            self.request = _request(request, "RegisterModelStep.request")
            return
        missing = [n for n, v in (("model_package_group", model_package_group), ("image_uri", image_uri),
                                  ("model_data", model_data)) if v is None]
        if missing:
            raise PipelineDefinitionError(f"give request=... or {', '.join(missing)}", field=missing[0])
        container: dict[str, Any] = {"Image": image_uri, "ModelDataUrl": model_data}
        if environment:
            container["Environment"] = environment
        spec: dict[str, Any] = {"Containers": [container]}
        if content_types:
            spec["SupportedContentTypes"] = content_types
        if response_types:
            spec["SupportedResponseMIMETypes"] = response_types
        if inference_instances:
            spec["SupportedRealtimeInferenceInstanceTypes"] = inference_instances
        if transform_instances:
            spec["SupportedTransformInstanceTypes"] = transform_instances
        req: dict[str, Any] = {"ModelPackageGroupName": model_package_group, "InferenceSpecification": spec}
        if model_package_description is not None:
            req["ModelPackageDescription"] = model_package_description
        if approval_status is not None:
            req["ModelApprovalStatus"] = approval_status
        if model_metrics:
            req["ModelMetrics"] = model_metrics
        if customer_metadata:
            req["CustomerMetadataProperties"] = customer_metadata
        if skip_model_validation is not None:
            # SageMaker's default, written out as SDK v3 does, so both give the same definition.
            req["SkipModelValidation"] = skip_model_validation
        self.request = req

    # Run time: after mirroring the step, the outlet's asset event carries the registered version.
    def step_succeeded(self, context: Any) -> None:
        from airflow_sagemaker_mlops.assets import emit_registration_event

        emit_registration_event(self, context)

    def step_values(self) -> dict[str, Any]:
        return {"request": self.request}

    def step_arguments(self) -> Any:
        return self.request


def _registration_outlet(group: Any, task_id: str | None) -> Any:
    """The model package group's Asset (a literal group), or the registrations AssetAlias (a group given by
    a pipeline expression: the actual group's asset is added to the alias at run time)."""
    from airflow_sagemaker_mlops import assets

    if not isinstance(group, str):
        return assets.registrations_alias()
    try:
        return assets.model_package_group_asset(group)
    except ValueError as exc:
        raise PipelineDefinitionError(str(exc), field="model_package_group") from None


class FailStep(SageMakerStepOperator):
    """A Fail step: ends the execution as Failed with ``error_message`` (a string or expression).

    Args:
        error_message: the execution's failure reason: a string or a pipeline expression (``Join``, a parameter).
    """

    step_type = StepType.FAIL
    ui_color = "#f4c7c3"
    argument_names: ClassVar[dict[str, str]] = {"Arguments.ErrorMessage": "error_message", "Arguments": "arguments"}

    def __init__(self, *, error_message: Any = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(error_message, str | Expression):
            raise PipelineDefinitionError(f"error_message must be a string or a pipeline expression, got "
                                          f"{type(error_message).__name__}", field="error_message")
        self.error_message = error_message

    def step_values(self) -> dict[str, Any]:
        return {"error_message": self.error_message}

    def step_arguments(self) -> Any:
        return {"ErrorMessage": self.error_message}


def _output_parameters(outputs: dict[str, str] | Iterable[str] | None, task_id: str) -> list[dict[str, str]]:
    if outputs is None:
        return []
    if isinstance(outputs, str) or not isinstance(outputs, dict | Iterable):
        raise PipelineDefinitionError(f"outputs takes a list of names or a dict of name -> type, got "
                                      f"{type(outputs).__name__}", field="outputs")
    items = outputs.items() if isinstance(outputs, dict) else ((name, "String") for name in outputs)
    result = []
    for name, type_ in items:
        if not isinstance(name, str):
            raise PipelineDefinitionError(f"an output name must be a string, got {name!r}", field="outputs")
        if type_ not in ("String", "Integer", "Float", "Boolean"):
            raise PipelineDefinitionError(f"output {name!r} has type {type_!r}; use String, Integer, Float or "
                                          "Boolean", field=f"outputs[{name!r}]")
        result.append({"OutputName": name, "OutputType": type_})
    return result


class _OutputStep(SageMakerStepOperator):
    """A step whose results are named output parameters (Callback, Lambda)."""

    argument_names: ClassVar[dict[str, str]] = {"Arguments": "inputs", "OutputParameters": "outputs",
                                                "SqsQueueUrl": "sqs_queue_url", "FunctionArn": "function_arn"}

    def __init__(self, *, inputs: dict[str, Any] | None = None,
                 outputs: dict[str, str] | Iterable[str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.inputs = _request(inputs or {}, f"{type(self).__name__}.inputs")
        self.outputs = _output_parameters(outputs, self.task_id)

    def output_parameter(self, name: str) -> PropertyPath:
        """``{"Get": "Steps.<step>.OutputParameters['name']"}``.

        Args:
            name: one of the step's ``outputs``.
        """
        return self.properties.OutputParameters[name]

    def step_values(self) -> dict[str, Any]:
        return {"inputs": self.inputs}

    def step_arguments(self) -> Any:
        return self.inputs


class CallbackStep(_OutputStep):
    """A Callback step: SageMaker sends ``inputs`` and a token to ``sqs_queue_url`` and waits until someone
    calls SendPipelineExecutionStepSuccess/Failure with that token (and ``outputs``).

    Args:
        sqs_queue_url: the SQS queue SageMaker sends the callback message (with its token) to.

        inputs: the ``Arguments`` sent to the step (values may be pipeline expressions).
        outputs: the output parameters: a list of names (String), or a dict name -> ``String``, ``Integer``,
            ``Float`` or ``Boolean``; read them with ``step.output_parameter(name)``.
    """

    step_type = StepType.CALLBACK

    def __init__(self, *, sqs_queue_url: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sqs_queue_url = sqs_queue_url

    def step_values(self) -> dict[str, Any]:
        return {**super().step_values(), "sqs_queue_url": self.sqs_queue_url}

    def step_extra(self) -> dict[str, Any]:
        return {"SqsQueueUrl": self.sqs_queue_url, "OutputParameters": self.outputs}


class LambdaStep(_OutputStep):
    """A Lambda step: invokes ``function_arn`` with ``inputs``; the function returns ``outputs``.

    Args:
        function_arn: the Lambda function's ARN.

        inputs: the ``Arguments`` sent to the step (values may be pipeline expressions).
        outputs: the output parameters: a list of names (String), or a dict name -> ``String``, ``Integer``,
            ``Float`` or ``Boolean``; read them with ``step.output_parameter(name)``.
    """

    step_type = StepType.LAMBDA

    def __init__(self, *, function_arn: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.function_arn = function_arn

    def step_values(self) -> dict[str, Any]:
        return {**super().step_values(), "function_arn": self.function_arn}

    def step_extra(self) -> dict[str, Any]:
        return {"FunctionArn": self.function_arn, "OutputParameters": self.outputs}


class EMRServerlessStep(SageMakerStepOperator):
    """An EMR Serverless step: one job run on an EMR Serverless application, an existing one
    (``application_id``) or one SageMaker creates for the run from ``application_config`` (a CreateApplication
    request of EMR Serverless; exactly one of the two).

    Its properties are EMR Serverless's GetJobRun response (``step.properties.jobRun.state``). The local
    engine does not run EMR Serverless jobs: such a step fails there, naming the step type.

    Args:
        execution_role_arn: the role the job run assumes (SageMaker passes it to
            emr-serverless.amazonaws.com).
        application_id: the existing EMR Serverless application to run on.
        application_config: a CreateApplication request: SageMaker creates the application for the run.
        entry_point: a Spark job's script or jar (``s3://...``); with ``entry_point_arguments`` and
            ``spark_submit_parameters`` it is EMR Serverless's ``sparkSubmit`` job driver.
        entry_point_arguments: the Spark job's arguments.
        spark_submit_parameters: ``spark-submit`` options (``--conf spark.executor.cores=2``).
        job_driver: the whole ``jobDriver`` instead (``{"sparkSubmit": {...}}`` or ``{"hive": {...}}``).
        configuration_overrides: ``configurationOverrides`` (application configuration, monitoring).
        execution_timeout_minutes: ``executionTimeoutMinutes`` of the job run.
        job_run_name: ``name`` of the job run.
        job_run_tags: ``tags`` of the job run.
    """

    step_type = StepType.EMR_SERVERLESS
    argument_names: ClassVar[dict[str, str]] = {
        "Arguments.ExecutionRoleArn": "execution_role_arn",
        "Arguments.ApplicationId": "application_id",
        "Arguments.ApplicationConfig": "application_config",
        "Arguments.JobConfig.jobDriver": "job_driver",
        "Arguments.JobConfig.configurationOverrides": "configuration_overrides",
        "Arguments.JobConfig.executionTimeoutMinutes": "execution_timeout_minutes",
        "Arguments.JobConfig.name": "job_run_name",
        "Arguments.JobConfig.tags": "job_run_tags",
        "Arguments.JobConfig.executionRoleArn": "execution_role_arn",
        "Arguments.JobConfig.applicationId": "application_id",
        "Arguments": "arguments",
    }

    def __init__(
        self,
        *,
        execution_role_arn: Any,
        application_id: Any = None,
        application_config: dict[str, Any] | None = None,
        entry_point: Any = None,
        entry_point_arguments: Iterable[Any] | None = None,
        spark_submit_parameters: Any = None,
        job_driver: dict[str, Any] | None = None,
        configuration_overrides: dict[str, Any] | None = None,
        execution_timeout_minutes: Any = None,
        job_run_name: Any = None,
        job_run_tags: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if (entry_point is None) == (job_driver is None):
            raise PipelineDefinitionError("give entry_point (a Spark job) or job_driver, exactly one",
                                          field="entry_point" if entry_point is None else "job_driver")
        if job_driver is None:
            spark: dict[str, Any] = {"entryPoint": entry_point}
            if entry_point_arguments is not None:
                spark["entryPointArguments"] = _list(entry_point_arguments, "entry_point_arguments")
            if spark_submit_parameters is not None:
                spark["sparkSubmitParameters"] = spark_submit_parameters
            job_driver = {"sparkSubmit": spark}
        elif entry_point_arguments is not None or spark_submit_parameters is not None:
            raise PipelineDefinitionError("entry_point_arguments and spark_submit_parameters go with entry_point; "
                                          "with job_driver put them in its sparkSubmit",
                                          field="entry_point_arguments" if entry_point_arguments is not None
                                          else "spark_submit_parameters")
        job: dict[str, Any] = {"executionRoleArn": execution_role_arn, "jobDriver": job_driver}
        if application_id is not None:
            job["applicationId"] = application_id
        for key, value in (("configurationOverrides", configuration_overrides),
                           ("executionTimeoutMinutes", execution_timeout_minutes),
                           ("name", job_run_name), ("tags", job_run_tags)):
            if value is not None:
                job[key] = value
        # Key order as SageMaker SDK v3's EMRServerlessStep writes it.
        self.arguments: dict[str, Any] = {"ExecutionRoleArn": execution_role_arn, "JobConfig": job}
        if application_id is not None:
            self.arguments["ApplicationId"] = application_id
        if application_config is not None:
            self.arguments["ApplicationConfig"] = application_config

    def step_values(self) -> dict[str, Any]:
        return {"arguments": self.arguments}

    def step_arguments(self) -> Any:
        return self.arguments


class RawStep(SageMakerStepOperator):
    """Any other step type, with its ``Arguments`` (and extra top-level keys) as SageMaker takes them:
    EMR, QualityCheck, ClarifyCheck, AutoML, EndpointConfig, Endpoint, ...

    Args:
        step_type: the step's SageMaker ``Type`` (``EMR``, ``QualityCheck``, ``Endpoint``, ...).
        arguments: the step's ``Arguments``, as SageMaker takes them.
        fields: other top-level keys of the step (e.g. ``ClusterId`` of an EMR step).
    """

    argument_names: ClassVar[dict[str, str]] = {"Arguments": "arguments"}

    def __init__(self, *, step_type: str, arguments: Any, fields: dict[str, Any] | None = None,
                 **kwargs: Any) -> None:
        # step_type is per instance here; PropertyPath needs it before the base init creates it.
        self.step_type = step_type  # type: ignore[misc]
        super().__init__(**kwargs)
        self.arguments = arguments
        self.fields = dict(fields or {})

    def step_values(self) -> dict[str, Any]:
        return {"arguments": self.arguments, "fields": self.fields}

    def step_arguments(self) -> Any:
        return self.arguments

    def step_extra(self) -> dict[str, Any]:
        return self.fields


@locate_init_errors
class ConditionBranch:
    """``gate.if_true`` / ``gate.if_false``: the steps of one branch, and a handle for Airflow tasks.

    ``gate.if_true >> deploy`` makes ``deploy`` follow the gate and run only when the condition's
    outcome selects this branch.

    Args:
        gate: the condition step.
        outcome: True for ``if_true``, False for ``if_false``.
        steps: the branch's steps.
    """

    def __init__(self, gate: ConditionStep, outcome: bool, steps: list[SageMakerStepOperator]) -> None:
        self.gate = gate
        self.outcome = outcome
        self.steps = steps
        self.followers: list[Any] = []

    def __iter__(self) -> Iterator[SageMakerStepOperator]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __rshift__(self, other: Any) -> Any:
        targets = other if isinstance(other, list | tuple) else [other]
        for target in targets:
            self.followers.append(target)
            self.gate.set_downstream(target)
        return other

    def __repr__(self) -> str:
        return f"<{'if_true' if self.outcome else 'if_false'} of {self.gate.task_id}: {[s.task_id for s in self]}>"


class ConditionStep(SageMakerStepOperator, BranchMixIn):
    """A Condition step: evaluates ``condition`` (one condition or a list, all of which must hold) and runs
    the ``if_true`` or the ``if_false`` steps. Those steps are nested inside it in the definition.

    At run time its task is a branch on SageMaker's outcome: the other branch's steps, and the Airflow tasks
    attached with ``gate.if_true >> task`` / ``gate.if_false >> task``, are skipped.

    Args:
        condition: a condition (``conditions.ge(...)``) or a list of conditions that must all hold.
        if_true: the steps of the group run when the conditions hold (nested in ``IfSteps``).
        if_false: the steps run otherwise (``ElseSteps``).
    """

    step_type = StepType.CONDITION
    ui_color = "#fff6b3"

    def __init__(
        self,
        *,
        condition: C.Condition | list[C.Condition],
        if_true: Iterable[SageMakerStepOperator] = (),
        if_false: Iterable[SageMakerStepOperator] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        try:
            self.conditions = C.flatten(condition)
        except PipelineDefinitionError as exc:
            raise PipelineDefinitionError(str(exc), field="condition") from None
        self.if_true = ConditionBranch(self, True, _steps(if_true, self.task_id, "if_true"))
        self.if_false = ConditionBranch(self, False, _steps(if_false, self.task_id, "if_false"))

    def step_values(self) -> dict[str, Any]:
        return {"condition": [list(c.operands()) for cond in self.conditions for c in cond.conditions()]}

    def build_step(self, depends_on: list[str | DependsOnTrigger]) -> Step:
        # The compiler fills in the nested branch steps.
        return _ConditionStepDef(
            name=self.step_name,
            depends_on=depends_on,
            display_name=self.display_name,
            description=self.step_description,
            # Not valid on a condition: kept so that validation names them instead of dropping them.
            retry_policies=list(self.retry_policies),
            cache_config=self.cache_config,
            conditions=list(self.conditions),
        )


def _steps(items: Iterable[Any], task_id: str, what: str) -> list[SageMakerStepOperator]:
    items = [items] if isinstance(items, BaseOperator) else _list(items, what)
    for i, item in enumerate(items):
        if not isinstance(item, SageMakerStepOperator):
            raise PipelineDefinitionError(
                f"{what} takes step operators of the same group, got {type(item).__name__}; to run Airflow "
                f"tasks on an outcome, use gate.{what} >> task", field=f"{what}[{i}]"
            )
    return items


class _JsonGetType(type):
    # The exported JsonGet builds the definition's JsonGet expression; isinstance() answers for the expression
    # class, so ``isinstance(value, JsonGet)`` works whichever way the value was made (also a StepResult).
    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, _JsonGet)


class JsonGet(metaclass=_JsonGetType):
    """``JsonGet(evaluate, "metrics", "auc")``: read ``auc`` from property file ``metrics`` of step
    ``evaluate`` at run time; or ``JsonGet(s3_uri=..., path=...)`` to read any JSON object in S3.

    Args:
        step: the Processing step that writes the property file (or its ``step.property_file(name)``).
        property_file: the property file's name.
        path: the JSON path inside the file (``classification.auc``).
        s3_uri: instead of a step's property file: the S3 URI of a JSON document (a string or an expression).

    Returns:
        The ``Std:JsonGet`` expression.
    """

    def __new__(  # type: ignore[misc]
        cls,
        step: ProcessingStep | PropertyFileRef | None = None,
        property_file: str | None = None,
        path: str | None = None,
        *,
        s3_uri: Any = None,
    ) -> _JsonGet:
        return _json_get(step, property_file, path, s3_uri)


@locate_errors
def _json_get(step: Any, property_file: str | None, path: str | None, s3_uri: Any) -> _JsonGet:
    if s3_uri is not None:
        if step is not None or not isinstance(path, str) or not path:
            raise PipelineDefinitionError("JsonGet(s3_uri=..., path=...) takes a JSON path and no step",
                                          field="JsonGet")
        return _JsonGet(path, s3_uri=s3_uri)
    if isinstance(step, PropertyFileRef):
        ref = step
        path = property_file if path is None else path
    elif isinstance(step, ProcessingStep) and property_file is not None:
        ref = step.property_file(property_file)
    else:
        raise PipelineDefinitionError(
            "JsonGet takes (processing_step, property_file_name, json_path) or (s3_uri=..., path=...)",
            field="JsonGet",
        )
    if not isinstance(path, str) or not path:
        raise PipelineDefinitionError("JsonGet needs a JSON path such as 'metrics.auc'", field="JsonGet")
    return _JsonGet(path, property_file=ref)
