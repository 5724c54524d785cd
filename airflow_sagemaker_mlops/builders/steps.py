"""Builders: SageMaker SDK-style calls that fill in a job request and return the step operator.

``run_script(...)`` is a :class:`~airflow_sagemaker_mlops.ProcessingStep`, ``training_job(...)`` a
``TrainingStep``, and so on: the same objects as when the request is written by hand, so ``.properties``,
``>>``, ``JsonGet`` and condition branches work unchanged. Each builder writes the defaults SageMaker SDK v3
writes for the same call (docs/authoring.md lists them), so the definition equals the SDK's
(``tests/compiler/test_sdk_equivalence.py``). Nothing here imports the SDK, botocore or boto3.
"""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from airflow_sagemaker_mlops.definition.expressions import Expression
from airflow_sagemaker_mlops.definition.steps import PropertyFile
from airflow_sagemaker_mlops.exceptions import PipelineCompileError, PipelineDefinitionError
from airflow_sagemaker_mlops.location import located, user_site
from airflow_sagemaker_mlops.operators.steps import (
    CreateModelStep,
    ProcessingStep,
    RegisterModelStep,
    SageMakerStepOperator,
    TrainingStep,
    TransformStep,
    TuningStep,
)

from . import io

_F = TypeVar("_F", bound=Callable[..., Any])

#: ModelTrainer's and ScriptProcessor's defaults (SageMaker SDK v3), written out so definitions are equal.
VOLUME_SIZE_IN_GB = 30
TRAINING_MAX_RUNTIME_IN_SECONDS = 3600
SCRIPT_COMMAND = ("python3",)


@functools.cache
def _operator_keywords() -> frozenset[str]:
    """The keywords every step operator takes: ours and BaseOperator's (task_id, retries, pool, ...)."""
    from airflow_sagemaker_mlops.compat import BaseOperator

    names: set[str] = set()
    for init in (SageMakerStepOperator.__init__, ProcessingStep.__init__, BaseOperator.__init__):
        init = inspect.unwrap(init)
        names.update(p.name for p in inspect.signature(init).parameters.values()
                     if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name != "self")
    return frozenset(names)


def _keywords(func: Callable[..., Any]) -> list[str]:
    return [n for n, p in inspect.signature(func).parameters.items() if p.kind is not p.VAR_KEYWORD]


def _builder(func: _F, also: Callable[..., Any] | None = None) -> _F:
    """Check a builder's keywords (a wrong one is a PipelineCompileError with the accepted names and a
    did-you-mean) and locate what goes wrong while the request is built at the user's line."""
    own = _keywords(func) + (_keywords(inspect.unwrap(also)) if also is not None else [])

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        task_id = kwargs.get("task_id")
        unknown = [k for k in kwargs if k not in own and k not in _operator_keywords()]
        if unknown:
            accepted = [*sorted(own), "(and the step operator's: step_name, retry_policies, cache, ...)"]
            close = difflib.get_close_matches(unknown[0], [*own, *_operator_keywords()], n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise located(f"{func.__name__}() got an unexpected keyword {unknown[0]!r}{hint} It takes: "
                          f"{', '.join(accepted)}", site=user_site(), task_id=task_id, field=unknown[0])
        try:
            return func(*args, **kwargs)
        except PipelineCompileError:
            raise
        except (PipelineDefinitionError, TypeError, ValueError) as exc:
            raise located(exc, site=user_site(), task_id=task_id if isinstance(task_id, str) else None) from exc

    return wrapper  # type: ignore[return-value]


_builder.also = lambda other: functools.partial(_builder, also=other)  # type: ignore[attr-defined]


def _named(items: Mapping[str, Any] | Iterable[dict[str, Any]] | None, make: Callable[[str, Any], dict[str, Any]],
           what: str) -> list[dict[str, Any]]:
    """``{name: uri}`` through ``make``, or a list of request fragments as they are."""
    if items is None:
        return []
    if isinstance(items, Mapping):
        return [make(name, uri) for name, uri in items.items()]
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        raise PipelineDefinitionError(f"{what} takes a dict of name -> S3 URI or a list, got "
                                      f"{type(items).__name__}", field=what)
    return list(items)


def _strings(values: Iterable[Any] | None, what: str) -> list[Any] | None:
    if values is None:
        return None
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise PipelineDefinitionError(f"{what} takes a list, got {type(values).__name__}", field=what)
    return [v if isinstance(v, str | Expression) else str(v) for v in values]


def _model_data(value: Any) -> Any:
    """A training step stands for its model artifact."""
    if isinstance(value, TrainingStep):
        return value.properties.ModelArtifacts.S3ModelArtifacts
    return value


def _compact(request: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in request.items() if v is not None and v != {}}


@_builder
def run_script(
    *,
    task_id: str,
    code: Any,
    image_uri: Any,
    role: Any,
    instance_type: Any,
    instance_count: Any = 1,
    command: Iterable[str] = SCRIPT_COMMAND,
    inputs: Mapping[str, Any] | Iterable[dict[str, Any]] | None = None,
    outputs: Mapping[str, Any] | Iterable[dict[str, Any]] | None = None,
    arguments: Iterable[Any] | None = None,
    env: Mapping[str, Any] | None = None,
    volume_size_in_gb: Any = VOLUME_SIZE_IN_GB,
    volume_kms_key: Any = None,
    output_kms_key: Any = None,
    max_runtime_in_seconds: Any = None,
    network_config: dict[str, Any] | None = None,
    code_bucket: str | None = None,
    property_files: Mapping[str, str] | Iterable[PropertyFile] | None = None,
    **step: Any,
) -> ProcessingStep:
    """A script run as a Processing step, as the SDK's ``ScriptProcessor(...).run(code=...)``.

    Args:
        task_id: the Airflow task id (inside the group, as for any step operator).
        code: the script: a local path (relative to the DAG file, uploaded content-addressed to
            ``code_bucket``), a ``CodeAsset`` or an ``s3://`` URI. It becomes the ``code`` input at
            ``/opt/ml/processing/input/code`` (after the other inputs), and the entry point is ``command``
            followed by that path; its file name must be known at parse time.
        image_uri: ``AppSpecification.ImageUri``: the container the script runs in (e.g. ``image_uri("sklearn",
            "1.2-1", region)``).
        role: ``RoleArn``: the IAM role the job runs as.
        instance_type: ``ClusterConfig.InstanceType`` (``ml.m5.xlarge``, ...).
        instance_count: ``ClusterConfig.InstanceCount`` (default 1).
        command: the interpreter the entry point starts with (default ``["python3"]``; the SDK defaults to it
            only for scikit-learn images).
        inputs: ``{name: s3_uri}`` (each at ``/opt/ml/processing/<name>`` with ``s3_input``'s defaults; a string
            that is not an ``s3://`` URI is a local path, uploaded like ``code``) or a list of ``s3_input``
            fragments, taken as they are.
        outputs: ``{name: s3_uri}`` (each uploaded from ``/opt/ml/processing/<name>`` at the end of the job) or
            a list of ``s3_output`` fragments.
        arguments: ``ContainerArguments``, the script's command-line arguments; non-string values become
            strings (typed parameters when the group compiles).
        env: the job's ``Environment`` (typed parameters become strings when the group compiles).
        volume_size_in_gb: ``ClusterConfig.VolumeSizeInGB`` (default 30, as the SDK).
        volume_kms_key: ``ClusterConfig.VolumeKmsKeyId``; left out when not given.
        output_kms_key: ``ProcessingOutputConfig.KmsKeyId``; written only when there are outputs.
        max_runtime_in_seconds: ``StoppingCondition.MaxRuntimeInSeconds``; no stopping condition when not
            given (as the SDK).
        network_config: the job's ``NetworkConfig`` (``VpcConfig``, ``EnableNetworkIsolation``, ...).
        code_bucket: the S3 bucket local paths (``code``, local ``inputs``) are uploaded to by the group's start
            task; required when one is a local path.
        property_files: ``PropertyFile`` objects, or ``{name: "<output name>/<file path>"}``: JSON files an
            output holds, readable downstream with ``JsonGet``.
        **step: the step operator's own keywords (``step_name``, ``display_name``, ``step_description``,
            ``retry_policies``, ``cache``, ``run_after_outcome``) and BaseOperator's (``retries``, ``pool``, ...).

    Returns:
        The ``ProcessingStep``.
    """
    script = io.code(code, code_bucket, "code", depth=2)
    cluster = _compact({"InstanceType": instance_type, "InstanceCount": instance_count,
                        "VolumeSizeInGB": volume_size_in_gb, "VolumeKmsKeyId": volume_kms_key})
    app = _compact({"ImageUri": image_uri, "ContainerArguments": _strings(arguments, "arguments"),
                    "ContainerEntrypoint": [*(_strings(command, "command") or []),
                                            f"{io.CODE_LOCAL_PATH}/{io.code_name(script)}"]})
    job: dict[str, Any] = {
        "ProcessingResources": {"ClusterConfig": cluster},
        "AppSpecification": app,
        "RoleArn": role,
        "ProcessingInputs": [*_named(inputs, lambda n, uri: io.s3_input(n, io.code(uri, code_bucket, f"inputs[{n!r}]")
                                                                         if isinstance(uri, str) else uri), "inputs"),
                             io.code_input(script)],
    }
    out = _named(outputs, io.s3_output, "outputs")
    if out:
        job["ProcessingOutputConfig"] = _compact({"Outputs": out, "KmsKeyId": output_kms_key})
    if max_runtime_in_seconds is not None:
        job["StoppingCondition"] = {"MaxRuntimeInSeconds": max_runtime_in_seconds}
    if env:
        job["Environment"] = dict(env)
    if network_config:
        job["NetworkConfig"] = network_config
    if isinstance(property_files, Mapping):
        property_files = [PropertyFile(name, *where.split("/", 1)) for name, where in property_files.items()]
    return ProcessingStep(task_id=task_id, job=job, property_files=property_files, **step)


@_builder
def training_request(
    *,
    image_uri: Any,
    role: Any,
    instance_type: Any,
    output_path: Any,
    entry_point: str | None = None,
    source_dir: Any = None,
    hyperparameters: Mapping[str, Any] | None = None,
    inputs: Mapping[str, Any] | Iterable[dict[str, Any]] | None = None,
    content_type: str | None = None,
    metric_definitions: Mapping[str, str] | Iterable[dict[str, str]] | None = None,
    instance_count: Any = 1,
    volume_size_in_gb: Any = VOLUME_SIZE_IN_GB,
    volume_kms_key: Any = None,
    max_runtime_in_seconds: Any = TRAINING_MAX_RUNTIME_IN_SECONDS,
    input_mode: str = "File",
    distribution: str = "FullyReplicated",
    compression: str = "GZIP",
    output_kms_key: Any = None,
    environment: Mapping[str, Any] | None = None,
    checkpoint_s3_uri: Any = None,
    enable_managed_spot_training: bool | None = None,
    code_bucket: str | None = None,
) -> dict[str, Any]:
    """A CreateTrainingJob request with ModelTrainer's defaults: what ``training_job`` runs, and what
    ``tuning_job`` tunes.

    Args:
        image_uri: ``AlgorithmSpecification.TrainingImage`` (e.g. ``image_uri("xgboost", "1.7-1", region)``).
        role: ``RoleArn``: the IAM role the job runs as.
        instance_type: ``ResourceConfig.InstanceType`` (``ml.m5.xlarge``, ...).
        output_path: ``OutputDataConfig.S3OutputPath``: where the model artifact is written
            (``<output_path>/<job name>/output/model.tar.gz``).
        entry_point: with ``source_dir``, script mode: the script in ``source_dir`` the framework image runs
            (the ``sagemaker_program`` hyperparameter). Give both or neither.
        source_dir: a local directory (relative to the DAG file; packed as ``sourcedir.tar.gz`` and uploaded
            content-addressed to ``code_bucket``), a ``CodeAsset`` or an ``s3://`` URI of a tarball (the
            ``sagemaker_submit_directory`` hyperparameter).
        hyperparameters: ``HyperParameters``; values become strings as the SDK serialises them (``5`` ->
            ``"5"``, ``True`` -> ``"true"``; see ``hyperparameter``), expressions stay.
        inputs: ``{channel: s3_uri}`` (through ``channel`` with ``content_type``, ``input_mode`` and
            ``distribution``; another step's output property works) or a list of ``channel`` fragments, taken as
            they are.
        content_type: the ``ContentType`` of the channels given as ``{channel: s3_uri}``.
        metric_definitions: ``AlgorithmSpecification.MetricDefinitions``: ``{name: regex}`` or a list of
            ``{"Name": ..., "Regex": ...}`` (what ``tuning_job`` can take its objective from).
        instance_count: ``ResourceConfig.InstanceCount`` (default 1).
        volume_size_in_gb: ``ResourceConfig.VolumeSizeInGB`` (default 30, as ModelTrainer).
        volume_kms_key: ``ResourceConfig.VolumeKmsKeyId``; left out when not given.
        max_runtime_in_seconds: ``StoppingCondition.MaxRuntimeInSeconds`` (default 3600, ModelTrainer's).
        input_mode: ``TrainingInputMode`` and the ``InputMode`` of the channels given as a dict: ``File``
            (default), ``Pipe`` or ``FastFile``.
        distribution: ``S3DataDistributionType`` of the channels given as a dict: ``FullyReplicated``
            (default) or ``ShardedByS3Key``.
        compression: ``OutputDataConfig.CompressionType`` of the artifact: ``GZIP`` (default) or ``NONE``.
        output_kms_key: ``OutputDataConfig.KmsKeyId``; left out when not given.
        environment: the job's ``Environment``.
        checkpoint_s3_uri: ``CheckpointConfig.S3Uri``: where checkpoints are synced; none when not given.
        enable_managed_spot_training: ``EnableManagedSpotTraining``; left out when not given.
        code_bucket: the S3 bucket a local ``source_dir`` is uploaded to by the group's start task; required
            when it is a local path.

    Returns:
        The CreateTrainingJob request without ``TrainingJobName`` (SageMaker names each execution's job).
    """
    hyper: dict[str, Any] = {}
    if entry_point is not None or source_dir is not None:
        if entry_point is None or source_dir is None:
            raise PipelineDefinitionError("script mode takes both entry_point and source_dir",
                                          field="entry_point" if entry_point is None else "source_dir")
        hyper["sagemaker_program"] = entry_point
        hyper["sagemaker_submit_directory"] = io.code(source_dir, code_bucket, "source_dir", depth=2)
    for name, value in (hyperparameters or {}).items():
        hyper[name] = io.hyperparameter(value)
    algorithm: dict[str, Any] = {"TrainingInputMode": input_mode, "TrainingImage": image_uri}
    if metric_definitions:
        algorithm["MetricDefinitions"] = ([{"Name": n, "Regex": r} for n, r in metric_definitions.items()]
                                          if isinstance(metric_definitions, Mapping) else list(metric_definitions))
    channels = _named(inputs, lambda n, uri: io.channel(n, uri, content_type=content_type, input_mode=input_mode,
                                                         distribution=distribution), "inputs")
    job: dict[str, Any] = {"AlgorithmSpecification": algorithm}
    if hyper:
        job["HyperParameters"] = hyper
    if channels:
        job["InputDataConfig"] = channels
    job["ResourceConfig"] = _compact({"InstanceType": instance_type, "InstanceCount": instance_count,
                                      "VolumeSizeInGB": volume_size_in_gb, "VolumeKmsKeyId": volume_kms_key})
    job["RoleArn"] = role
    job["StoppingCondition"] = {"MaxRuntimeInSeconds": max_runtime_in_seconds}
    job["OutputDataConfig"] = _compact({"S3OutputPath": output_path, "CompressionType": compression,
                                        "KmsKeyId": output_kms_key})
    if checkpoint_s3_uri is not None:
        job["CheckpointConfig"] = {"S3Uri": checkpoint_s3_uri}
    if environment:
        job["Environment"] = dict(environment)
    if enable_managed_spot_training is not None:
        job["EnableManagedSpotTraining"] = enable_managed_spot_training
    return job


_TRAINING_KEYWORDS = frozenset(inspect.signature(inspect.unwrap(training_request)).parameters)


@_builder.also(training_request)
def training_job(*, task_id: str, **arguments: Any) -> TrainingStep:
    """A training job as a Training step, as the SDK's ``ModelTrainer(...).train(...)``; with ``entry_point``
    and ``source_dir`` a script-mode job on a framework image.

    Args:
        task_id: the Airflow task id (inside the group, as for any step operator).
        **arguments: ``training_request``'s keywords (``image_uri``, ``role``, ``instance_type``,
            ``output_path``, ``hyperparameters``, ``inputs``, ...; the same meanings and defaults), which build
            the request; every other keyword goes to the step operator (``step_name``, ``display_name``,
            ``step_description``, ``retry_policies``, ``cache``, ``run_after_outcome``, and BaseOperator's
            ``retries``, ``pool``, ...).

    Returns:
        The ``TrainingStep``.
    """
    step = {k: arguments.pop(k) for k in list(arguments) if k not in _TRAINING_KEYWORDS}
    return TrainingStep(task_id=task_id, job=training_request.__wrapped__(**arguments), **step)


@_builder
def transform_job(
    *,
    task_id: str,
    model_name: Any,
    data: Any,
    output_path: Any,
    instance_type: Any,
    instance_count: Any = 1,
    content_type: str | None = None,
    split_type: str | None = None,
    compression_type: str | None = None,
    data_type: str = "S3Prefix",
    accept: str | None = None,
    assemble_with: str | None = None,
    output_kms_key: Any = None,
    strategy: str | None = None,
    max_payload: Any = None,
    max_concurrent_transforms: Any = None,
    environment: Mapping[str, Any] | None = None,
    input_filter: str | None = None,
    output_filter: str | None = None,
    join_source: str | None = None,
    volume_kms_key: Any = None,
    **step: Any,
) -> TransformStep:
    """A batch transform as a Transform step, as the SDK's ``Transformer(...).transform(data, ...)``.

    Args:
        task_id: the Airflow task id (inside the group, as for any step operator).
        model_name: ``ModelName``: a model name, or a ``CreateModelStep`` (from ``create_model``; its
            ``properties.ModelName``).
        data: ``TransformInput.DataSource.S3DataSource.S3Uri``: the S3 prefix (or manifest, with
            ``data_type``) to transform.
        output_path: ``TransformOutput.S3OutputPath``: where the results are written.
        instance_type: ``TransformResources.InstanceType`` (``ml.m5.xlarge``, ...).
        instance_count: ``TransformResources.InstanceCount`` (default 1).
        content_type: ``TransformInput.ContentType`` (``text/csv``, ...).
        split_type: ``TransformInput.SplitType``: ``None``, ``Line``, ``RecordIO`` or ``TFRecord``.
        compression_type: ``TransformInput.CompressionType``: ``None`` or ``Gzip``.
        data_type: ``S3DataType``: ``S3Prefix`` (default), ``ManifestFile`` or ``AugmentedManifestFile``.
        accept: ``TransformOutput.Accept``: the results' MIME type.
        assemble_with: ``TransformOutput.AssembleWith``: ``None`` or ``Line``.
        output_kms_key: ``TransformOutput.KmsKeyId``.
        strategy: ``BatchStrategy``: ``MultiRecord`` or ``SingleRecord``.
        max_payload: ``MaxPayloadInMB``.
        max_concurrent_transforms: ``MaxConcurrentTransforms``.
        environment: the container's ``Environment``.
        input_filter: ``DataProcessing.InputFilter``: a JSONPath selecting the input sent to the model.
        output_filter: ``DataProcessing.OutputFilter``: a JSONPath selecting what is written.
        join_source: ``DataProcessing.JoinSource``: ``Input`` joins each input record to its result.
        volume_kms_key: ``TransformResources.VolumeKmsKeyId``.
        **step: the step operator's own keywords (``step_name``, ``display_name``, ``step_description``,
            ``retry_policies``, ``cache``, ``run_after_outcome``) and BaseOperator's (``retries``, ``pool``, ...).

    Every optional field is left out of the request when not given (``data_type`` and ``instance_count``
    excepted).

    Returns:
        The ``TransformStep``.
    """
    if isinstance(model_name, CreateModelStep):
        model_name = model_name.properties.ModelName
    transform_input = _compact({
        "DataSource": {"S3DataSource": {"S3DataType": data_type, "S3Uri": data}},
        "ContentType": content_type, "CompressionType": compression_type, "SplitType": split_type})
    job: dict[str, Any] = {
        "ModelName": model_name,
        "TransformInput": transform_input,
        "TransformOutput": _compact({"S3OutputPath": output_path, "Accept": accept, "AssembleWith": assemble_with,
                                     "KmsKeyId": output_kms_key}),
        "TransformResources": _compact({"InstanceType": instance_type, "InstanceCount": instance_count,
                                        "VolumeKmsKeyId": volume_kms_key}),
    }
    for key, value in (("BatchStrategy", strategy), ("MaxPayloadInMB", max_payload),
                       ("MaxConcurrentTransforms", max_concurrent_transforms)):
        if value is not None:
            job[key] = value
    if environment:
        job["Environment"] = dict(environment)
    processing = _compact({"InputFilter": input_filter, "OutputFilter": output_filter, "JoinSource": join_source})
    if processing:
        job["DataProcessing"] = processing
    return TransformStep(task_id=task_id, job=job, **step)


def _container(image_uri: Any, model_data: Any, environment: Mapping[str, Any] | None, entry_point: str | None,
               source_dir: Any, code_bucket: str | None) -> dict[str, Any]:
    env = dict(environment or {})
    if entry_point is not None or source_dir is not None:
        if entry_point is None or source_dir is None:
            raise PipelineDefinitionError("serving a script takes both entry_point and source_dir",
                                          field="entry_point" if entry_point is None else "source_dir")
        # The framework images' serving convention (what the SDK's framework models write).
        env = {"SAGEMAKER_PROGRAM": entry_point,
               "SAGEMAKER_SUBMIT_DIRECTORY": io.code(source_dir, code_bucket, "source_dir", depth=2), **env}
    container: dict[str, Any] = {"Image": image_uri}
    if model_data is not None:
        container["ModelDataUrl"] = _model_data(model_data)
    if env:
        container["Environment"] = env
    return container


@_builder
def create_model(
    *,
    task_id: str,
    image_uri: Any,
    role: Any,
    model_data: Any = None,
    environment: Mapping[str, Any] | None = None,
    entry_point: str | None = None,
    source_dir: Any = None,
    vpc_config: dict[str, Any] | None = None,
    enable_network_isolation: bool | None = None,
    code_bucket: str | None = None,
    **step: Any,
) -> CreateModelStep:
    """A SageMaker Model as a Model step (CreateModel), as the SDK's ``ModelBuilder``/``Model`` in a ModelStep.

    Args:
        task_id: the Airflow task id (inside the group, as for any step operator).
        image_uri: ``PrimaryContainer.Image``: the inference image.
        role: ``ExecutionRoleArn``: the IAM role the model runs as.
        model_data: ``PrimaryContainer.ModelDataUrl``: the artifact's S3 URI, or a ``TrainingStep`` (its
            ``properties.ModelArtifacts.S3ModelArtifacts``); left out when not given.
        environment: the container's ``Environment``; its keys win over the ``SAGEMAKER_PROGRAM`` and
            ``SAGEMAKER_SUBMIT_DIRECTORY`` that ``entry_point`` and ``source_dir`` set.
        entry_point: with ``source_dir``, the inference script a framework image serves (written as
            ``SAGEMAKER_PROGRAM`` in the environment). Give both or neither.
        source_dir: a local directory (relative to the DAG file; uploaded as ``sourcedir.tar.gz`` to
            ``code_bucket``), a ``CodeAsset`` or an ``s3://`` URI of a tarball (``SAGEMAKER_SUBMIT_DIRECTORY``).
        vpc_config: the model's ``VpcConfig`` (``{"SecurityGroupIds": [...], "Subnets": [...]}``).
        enable_network_isolation: ``EnableNetworkIsolation``; left out when not given.
        code_bucket: the S3 bucket a local ``source_dir`` is uploaded to by the group's start task; required
            when it is a local path.
        **step: the step operator's own keywords (``step_name``, ``display_name``, ``step_description``,
            ``retry_policies``, ``cache``, ``run_after_outcome``) and BaseOperator's (``retries``, ``pool``, ...).

    Returns:
        The ``CreateModelStep`` (``properties.ModelName`` is the model's name, e.g. for ``transform_job``).
    """
    model: dict[str, Any] = {
        "ExecutionRoleArn": role,
        "PrimaryContainer": _container(image_uri, model_data, environment, entry_point, source_dir, code_bucket),
    }
    if vpc_config:
        model["VpcConfig"] = vpc_config
    if enable_network_isolation is not None:
        model["EnableNetworkIsolation"] = enable_network_isolation
    return CreateModelStep(task_id=task_id, model=model, **step)


@_builder
def register_model(
    *,
    task_id: str,
    model_package_group: Any,
    image_uri: Any,
    model_data: Any,
    content_types: list[str] | None = None,
    response_types: list[str] | None = None,
    inference_instances: list[str] | None = None,
    transform_instances: list[str] | None = None,
    approval_status: Any = "PendingManualApproval",
    description: Any = None,
    environment: Mapping[str, Any] | None = None,
    entry_point: str | None = None,
    source_dir: Any = None,
    model_metrics: dict[str, Any] | None = None,
    customer_metadata: dict[str, Any] | None = None,
    code_bucket: str | None = None,
    **step: Any,
) -> RegisterModelStep:
    """A model package version as a RegisterModel step, as the SDK's ``model.register(...)`` in a ModelStep.

    Args:
        task_id: the Airflow task id (inside the group, as for any step operator).
        model_package_group: ``ModelPackageGroupName``: the group the version is registered in.
        image_uri: the inference image (``InferenceSpecification.Containers[0].Image``).
        model_data: the artifact's S3 URI (``ModelDataUrl``), or a ``TrainingStep`` (its
            ``properties.ModelArtifacts.S3ModelArtifacts``).
        content_types: ``SupportedContentTypes`` (e.g. ``["text/csv"]``).
        response_types: ``SupportedResponseMIMETypes``.
        inference_instances: ``SupportedRealtimeInferenceInstanceTypes``.
        transform_instances: ``SupportedTransformInstanceTypes``.
        approval_status: ``ModelApprovalStatus`` (default ``PendingManualApproval``; None leaves it out).
        description: ``ModelPackageDescription``.
        environment: the container's ``Environment``; its keys win over the ``SAGEMAKER_PROGRAM`` and
            ``SAGEMAKER_SUBMIT_DIRECTORY`` that ``entry_point`` and ``source_dir`` set.
        entry_point: with ``source_dir``, the inference script the container serves (``SAGEMAKER_PROGRAM`` in
            the environment). Give both or neither.
        source_dir: a local directory (relative to the DAG file; uploaded as ``sourcedir.tar.gz`` to
            ``code_bucket``), a ``CodeAsset`` or an ``s3://`` URI of a tarball (``SAGEMAKER_SUBMIT_DIRECTORY``).
        model_metrics: ``ModelMetrics`` (e.g. ``{"ModelQuality": {"Statistics": {"ContentType": ...,
            "S3Uri": ...}}}``).
        customer_metadata: ``CustomerMetadataProperties``.
        code_bucket: the S3 bucket a local ``source_dir`` is uploaded to by the group's start task; required
            when it is a local path.
        **step: the step operator's own keywords (``step_name``, ``display_name``, ``step_description``,
            ``retry_policies``, ``cache``, ``run_after_outcome``) and BaseOperator's (``retries``, ``pool``, ...).

    Returns:
        The ``RegisterModelStep`` (with ``SkipModelValidation`` ``None``, as it writes by default).
    """
    container = _container(image_uri, model_data, environment, entry_point, source_dir, code_bucket)
    return RegisterModelStep(
        task_id=task_id, model_package_group=model_package_group, image_uri=container["Image"],
        model_data=container.get("ModelDataUrl"), environment=container.get("Environment"),
        content_types=content_types, response_types=response_types, inference_instances=inference_instances,
        transform_instances=transform_instances, approval_status=approval_status,
        model_package_description=description, model_metrics=model_metrics, customer_metadata=customer_metadata,
        **step)


@_builder
def tuning_job(
    *,
    task_id: str,
    training: dict[str, Any],
    objective_metric: str,
    hyperparameter_ranges: Mapping[str, dict[str, Any]],
    objective_type: str = "Maximize",
    strategy: str = "Bayesian",
    max_jobs: Any = 1,
    max_parallel_jobs: Any = 1,
    early_stopping_type: str = "Off",
    max_runtime_in_seconds: Any = None,
    **step: Any,
) -> TuningStep:
    """A hyperparameter tuning job as a Tuning step, as the SDK's ``HyperparameterTuner(...).tune()``.

    Args:
        task_id: the Airflow task id (inside the group, as for any step operator).
        training: the training job to tune, as ``training_request`` returns it (or any CreateTrainingJob
            request). Its ``AlgorithmSpecification``, ``RoleArn``, ``ResourceConfig``, ``InputDataConfig``,
            ``OutputDataConfig`` and ``StoppingCondition`` become the ``TrainingJobDefinition`` (its other
            fields, such as ``Environment`` or ``CheckpointConfig``, are not carried over); its hyperparameters
            not in ``hyperparameter_ranges`` become ``StaticHyperParameters``.
        objective_metric: the objective's ``MetricName``: one of the training job's metric definitions.
        hyperparameter_ranges: ``{name: continuous(0.01, 0.2)}`` etc. (``continuous``, ``integer``,
            ``categorical``).
        objective_type: the objective's ``Type``: ``Maximize`` (default) or ``Minimize``.
        strategy: ``Strategy``: ``Bayesian`` (default), ``Random``, ``Hyperband`` or ``Grid``.
        max_jobs: ``ResourceLimits.MaxNumberOfTrainingJobs`` (default 1, as the SDK).
        max_parallel_jobs: ``ResourceLimits.MaxParallelTrainingJobs`` (default 1).
        early_stopping_type: ``TrainingJobEarlyStoppingType``: ``Off`` (default) or ``Auto``.
        max_runtime_in_seconds: ``ResourceLimits.MaxRuntimeInSeconds`` of the whole tuning job; left out when
            not given.
        **step: the step operator's own keywords (``step_name``, ``display_name``, ``step_description``,
            ``retry_policies``, ``cache``, ``run_after_outcome``) and BaseOperator's (``retries``, ``pool``, ...).

    Returns:
        The ``TuningStep`` (``top_model_s3_uri`` gives its best model's artifact).
    """
    if not isinstance(training, Mapping):
        raise PipelineDefinitionError("training takes a CreateTrainingJob request: training_request(...)",
                                      field="training")
    job = dict(training)
    ranges: dict[str, list[dict[str, Any]]] = {"IntegerParameterRanges": [], "ContinuousParameterRanges": [],
                                               "CategoricalParameterRanges": []}
    for name, spec in hyperparameter_ranges.items():
        kind, body = spec["kind"], {k: v for k, v in spec.items() if k != "kind"}
        ranges[kind].append({"Name": name, **body})
    static = {k: v for k, v in (job.get("HyperParameters") or {}).items() if k not in hyperparameter_ranges}
    definition: dict[str, Any] = {
        "StaticHyperParameters": static,
        "RoleArn": job.get("RoleArn"),
        "OutputDataConfig": job.get("OutputDataConfig"),
        "StoppingCondition": job.get("StoppingCondition"),
        "HyperParameterRanges": {kind: items for kind, items in ranges.items() if items},
        "AlgorithmSpecification": job.get("AlgorithmSpecification"),
        "ResourceConfig": job.get("ResourceConfig"),
        "InputDataConfig": job.get("InputDataConfig"),
    }
    config: dict[str, Any] = {
        "Strategy": strategy,
        "ResourceLimits": _compact({"MaxNumberOfTrainingJobs": max_jobs, "MaxParallelTrainingJobs": max_parallel_jobs,
                                    "MaxRuntimeInSeconds": max_runtime_in_seconds}),
        "TrainingJobEarlyStoppingType": early_stopping_type,
        "HyperParameterTuningJobObjective": {"Type": objective_type, "MetricName": objective_metric},
    }
    return TuningStep(task_id=task_id, job={"HyperParameterTuningJobConfig": config,
                                            "TrainingJobDefinition": _compact(definition)}, **step)


def continuous(min_value: Any, max_value: Any, scaling: str = "Auto") -> dict[str, Any]:
    """A ContinuousParameterRange (``Auto`` scaling, as the SDK), for ``tuning_job``'s ``hyperparameter_ranges``.

    Args:
        min_value: ``MinValue`` (written as a string).
        max_value: ``MaxValue`` (written as a string).
        scaling: ``ScalingType``: ``Auto`` (default), ``Linear``, ``Logarithmic`` or ``ReverseLogarithmic``.

    Returns:
        The range, tagged with its kind for ``tuning_job``.
    """
    return {"kind": "ContinuousParameterRanges", "MinValue": str(min_value), "MaxValue": str(max_value),
            "ScalingType": scaling}


def integer(min_value: Any, max_value: Any, scaling: str = "Auto") -> dict[str, Any]:
    """An IntegerParameterRange (``Auto`` scaling, as the SDK), for ``tuning_job``'s ``hyperparameter_ranges``.

    Args:
        min_value: ``MinValue`` (written as a string).
        max_value: ``MaxValue`` (written as a string).
        scaling: ``ScalingType``: ``Auto`` (default), ``Linear`` or ``Logarithmic``.

    Returns:
        The range, tagged with its kind for ``tuning_job``.
    """
    return {"kind": "IntegerParameterRanges", "MinValue": str(min_value), "MaxValue": str(max_value),
            "ScalingType": scaling}


def categorical(values: Iterable[Any]) -> dict[str, Any]:
    """A CategoricalParameterRange, for ``tuning_job``'s ``hyperparameter_ranges``.

    Args:
        values: the ``Values`` to try (each written as a string).

    Returns:
        The range, tagged with its kind for ``tuning_job``.
    """
    return {"kind": "CategoricalParameterRanges", "Values": [str(v) for v in values]}
