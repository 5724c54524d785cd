"""The pieces of a job request users otherwise write by hand: S3 inputs and outputs, code inputs, channels,
script-mode code, hyperparameter values and the best training job of a tuning step.

Each returns a plain request fragment (a dict in SageMaker's shape) with the defaults SageMaker SDK v3 writes,
so it goes into a builder or straight into a step operator's ``job=``.
"""

from __future__ import annotations

import json
import os
from typing import Any

from airflow_sagemaker_mlops.compiler.assets import CodeAsset
from airflow_sagemaker_mlops.definition.expressions import Expression, Join
from airflow_sagemaker_mlops.exceptions import PipelineDefinitionError
from airflow_sagemaker_mlops.location import locate_errors, user_site

#: Where SageMaker Processing puts inputs and takes outputs in the container, and the code input's place.
PROCESSING_ROOT = "/opt/ml/processing"
CODE_INPUT_NAME = "code"
CODE_LOCAL_PATH = "/opt/ml/processing/input/code"


def processing_path(name: str) -> str:
    """``/opt/ml/processing/<name>``: the local path a named input or output gets by default."""
    return name if name.startswith("/") else f"{PROCESSING_ROOT}/{name}"


def s3_input(name: str, uri: Any, local_path: str | None = None, *, input_mode: str = "File",
             data_type: str = "S3Prefix", distribution: str = "FullyReplicated",
             compression: str = "None") -> dict[str, Any]:
    """A ProcessingInput from S3, with the SDK's defaults (``S3Prefix``, ``File``, ``FullyReplicated``,
    no compression).

    Args:
        name: the ``InputName``.
        uri: the ``S3Uri`` to read; a pipeline expression (a parameter, another step's output) works.
        local_path: where the container sees it (``LocalPath``); default ``/opt/ml/processing/<name>`` (or
            ``name`` itself when it is an absolute path).
        input_mode: ``S3InputMode``: ``File`` (default, copied before the job starts) or ``Pipe``.
        data_type: ``S3DataType``: ``S3Prefix`` (default, every object under the prefix) or ``ManifestFile``.
        distribution: ``S3DataDistributionType``: ``FullyReplicated`` (default, every instance gets all of it)
            or ``ShardedByS3Key``.
        compression: ``S3CompressionType``: ``None`` (default, the string SageMaker takes) or ``Gzip``.

    Returns:
        A ``ProcessingInputs`` entry.
    """
    return {"InputName": name, "S3Input": {
        "S3Uri": uri, "LocalPath": local_path or processing_path(name), "S3DataType": data_type,
        "S3InputMode": input_mode, "S3DataDistributionType": distribution, "S3CompressionType": compression}}


def s3_output(name: str, uri: Any, local_path: str | None = None, *, upload_mode: str = "EndOfJob") -> dict[str, Any]:
    """A ProcessingOutput to S3 (``EndOfJob`` upload, as the SDK).

    Args:
        name: the ``OutputName`` (what a PropertyFile's ``output_name`` refers to).
        uri: the ``S3Uri`` the files are uploaded to; a pipeline expression works.
        local_path: the container directory uploaded (``LocalPath``); default ``/opt/ml/processing/<name>`` (or
            ``name`` itself when it is an absolute path).
        upload_mode: ``S3UploadMode``: ``EndOfJob`` (default) or ``Continuous``.

    Returns:
        A ``ProcessingOutputConfig.Outputs`` entry.
    """
    return {"OutputName": name, "S3Output": {"S3Uri": uri, "LocalPath": local_path or processing_path(name),
                                             "S3UploadMode": upload_mode}}


def code_input(uri: Any) -> dict[str, Any]:
    """The ProcessingInput ``code`` at ``/opt/ml/processing/input/code``, where the SDK's ScriptProcessor puts
    the script it runs (with :func:`s3_input`'s other defaults).

    Args:
        uri: the script's ``S3Uri``: an ``s3://`` URI, a ``CodeAsset`` or another pipeline expression.

    Returns:
        A ``ProcessingInputs`` entry named ``code``.
    """
    return s3_input(CODE_INPUT_NAME, uri, CODE_LOCAL_PATH)


def channel(name: str, uri: Any, *, content_type: str | None = None, input_mode: str = "File",
            data_type: str = "S3Prefix", distribution: str = "FullyReplicated",
            compression: str | None = None) -> dict[str, Any]:
    """A training Channel from S3 with ModelTrainer's defaults (``S3Prefix``, ``FullyReplicated``, ``File``).

    Args:
        name: the ``ChannelName`` (``train``, ``validation``, ...; the container reads it from
            ``/opt/ml/input/data/<name>``).
        uri: the ``S3Uri``; a pipeline expression (another step's output) works.
        content_type: the channel's ``ContentType`` (``text/csv``, ...); left out when not given.
        input_mode: the channel's ``InputMode``: ``File`` (default), ``Pipe`` or ``FastFile``.
        data_type: ``S3DataType``: ``S3Prefix`` (default), ``ManifestFile`` or ``AugmentedManifestFile``.
        distribution: ``S3DataDistributionType``: ``FullyReplicated`` (default) or ``ShardedByS3Key``.
        compression: the channel's ``CompressionType`` (``None`` or ``Gzip``); left out when not given.

    Returns:
        An ``InputDataConfig`` entry.
    """
    source: dict[str, Any] = {"S3DataType": data_type, "S3Uri": uri, "S3DataDistributionType": distribution}
    entry: dict[str, Any] = {"ChannelName": name, "DataSource": {"S3DataSource": source}}
    if content_type is not None:
        entry["ContentType"] = content_type
    if compression is not None:
        entry["CompressionType"] = compression
    entry["InputMode"] = input_mode
    return entry


def code(value: Any, bucket: str | None, what: str, *, depth: int = 2) -> Any:
    """A code argument as a definition value: a CodeAsset or an expression as given, an ``s3://`` URI as it is,
    and a local path (relative to the DAG file) as a CodeAsset uploaded to ``bucket``."""
    if isinstance(value, CodeAsset | Expression) or (isinstance(value, str) and value.startswith("s3://")):
        return value
    if not isinstance(value, str) or not value:
        raise PipelineDefinitionError(f"{what} takes a local path, an s3:// URI or a CodeAsset, got {value!r}",
                                      field=what)
    if bucket is None:
        raise PipelineDefinitionError(f"{what}={value!r} is a local path: give code_bucket=... (the bucket it is "
                                      "uploaded to), or a CodeAsset or an s3:// URI", field=what)
    site = user_site(depth)
    path = value if os.path.isabs(value) or site is None else os.path.join(os.path.dirname(site[0]), value)
    return CodeAsset(os.path.abspath(path), bucket=bucket)


def code_name(value: Any) -> str:
    """The file name of a script (what ScriptProcessor appends to the command)."""
    if isinstance(value, CodeAsset):
        return os.path.basename(value.local_path)
    if isinstance(value, str):
        return value.rstrip("/").rsplit("/", 1)[-1]
    raise PipelineDefinitionError("the script's file name is not known at parse time: give code as a local "
                                  "path, an s3:// URI or a CodeAsset", field="code")


def hyperparameter(value: Any) -> Any:
    """A hyperparameter value as SageMaker takes it (a string), as the SDK's ``safe_serialize``.

    Args:
        value: a string (kept as it is), another JSON value (written as JSON: ``5`` -> ``"5"``, ``True`` ->
            ``"true"``, ``[1, 2]`` -> ``"[1, 2]"``) or a pipeline expression (kept; typed parameters become
            strings when the group compiles).

    Returns:
        The string, or the expression.

    Raises:
        PipelineDefinitionError: a value that is neither JSON nor an expression.
    """
    if isinstance(value, str | Expression):
        return value
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        raise PipelineDefinitionError(f"a hyperparameter value must be JSON or a pipeline expression, got "
                                      f"{type(value).__name__}", field="hyperparameters") from None


@locate_errors
def top_model_s3_uri(tuning_step: Any, top_k: int = 0, *, s3_prefix: Any = None) -> Join:
    """The model artifact of the ``top_k``-th best training job of a Tuning step (0 = the best), as the SDK's
    ``TuningStep.get_top_model_s3_uri``: ``<output path>/<training job name>/output/model.tar.gz``.

    Args:
        tuning_step: the ``TuningStep`` (from ``tuning_job`` or written by hand).
        top_k: which training job, by rank (``TrainingJobSummaries[top_k]``): 0 (default) is the best; a
            non-negative integer.
        s3_prefix: the output path the training jobs wrote to; default the ``OutputDataConfig.S3OutputPath``
            of the step's training job definition (``tuning_job`` always writes one). A trailing ``/`` is
            dropped.

    Returns:
        A ``Join`` expression, resolved when the pipeline runs (e.g. a ``create_model`` ``model_data``).

    Raises:
        PipelineCompileError: ``s3_prefix`` is left out and ``tuning_step`` is not a Tuning step or its
            training job definition has no output path; or ``top_k`` is not a non-negative integer.
    """
    if s3_prefix is None:
        s3_prefix = _tuning_output_path(tuning_step)
    if isinstance(s3_prefix, str):
        s3_prefix = s3_prefix.rstrip("/")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 0:
        raise PipelineDefinitionError(f"top_k must be a non-negative integer, got {top_k!r}", field="top_k")
    name = tuning_step.properties.TrainingJobSummaries[top_k].TrainingJobName
    return Join([s3_prefix, name, "output/model.tar.gz"], on="/")


def _tuning_output_path(step: Any) -> Any:
    job = getattr(step, "job", None)
    if not isinstance(job, dict):
        raise PipelineDefinitionError("top_model_s3_uri takes a TuningStep", field="tuning_step")
    definition = job.get("TrainingJobDefinition") or (job.get("TrainingJobDefinitions") or [{}])[0]
    path = (definition.get("OutputDataConfig") or {}).get("S3OutputPath")
    if path is None:
        raise PipelineDefinitionError("the tuning step's training job definition has no OutputDataConfig."
                                      "S3OutputPath: give s3_prefix=...", field="s3_prefix")
    return path
