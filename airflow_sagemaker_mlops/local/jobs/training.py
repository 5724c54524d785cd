"""Training jobs as local processes, with the script-mode conventions of SageMaker's framework containers.

Two ways to say what runs, as on SageMaker:
- ``AlgorithmSpecification.ContainerEntrypoint`` (+ ``ContainerArguments``): that command (SDK v3's
  ModelTrainer uses this with its ``sm_train.sh`` driver);
- script mode: hyperparameters ``sagemaker_program`` and ``sagemaker_submit_directory`` (an S3
  ``sourcedir.tar.gz``), run as ``python <program> --<hp> <value> ...`` in ``/opt/ml/code``.
The training image itself is never pulled or run: the local interpreter (ctx.python) runs the code.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from airflow_sagemaker_mlops.local.jobs import _s3
from airflow_sagemaker_mlops.local.jobs._common import (
    MetricCollector,
    algorithm_error,
    close_transitions,
    read_text,
    transition,
    user_env,
)
from airflow_sagemaker_mlops.local.jobs._s3 import JobInputError, S3Uri
from airflow_sagemaker_mlops.local.jobs.base import (
    COMPLETED,
    FAILED,
    STOPPED,
    JobContext,
    JobResult,
    utcnow,
)
from airflow_sagemaker_mlops.local.jobs.sandbox import Sandbox

log = logging.getLogger(__name__)

HOST = "algo-1"
CODE_DIR = "/opt/ml/code"
_FRAMEWORK_PARAMS = {
    "sagemaker_program", "sagemaker_submit_directory", "sagemaker_container_log_level",
    "sagemaker_job_name", "sagemaker_region", "sagemaker_enable_cloudwatch_metrics",
    "sagemaker_estimator_class_name", "sagemaker_estimator_module",
}


def decode_hyperparameter(value: str) -> Any:
    """SDK v2 JSON-encodes every hyperparameter value; the training toolkit decodes when it can."""
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def _arg_value(value: Any) -> str:
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def _env_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def hyperparameters_to_args(hps: dict[str, Any]) -> list[str]:
    args: list[str] = []
    for key in sorted(hps):
        args += [f"--{key}", _arg_value(hps[key])]
    return args


def run_training_job(
    name: str,
    request: dict,
    ctx: JobContext,
    *,
    tuning_job_arn: str | None = None,
) -> JobResult:
    """Run a CreateTrainingJob request; returns a DescribeTrainingJob-shaped description."""
    created = utcnow()
    description = _initial_description(name, request, ctx, created, tuning_job_arn)
    transitions: list[dict[str, Any]] = description["SecondaryStatusTransitions"]
    try:
        return _run(name, request, ctx, description, transitions)
    except JobInputError as exc:
        return _finish(description, transitions, FAILED, f"ClientError: {exc}", ctx)
    except Exception as exc:  # an engine bug must surface as this job's failure, not kill the engine
        log.exception("training job %s crashed in the local runner", name)
        return _finish(description, transitions, FAILED, f"InternalServerError: {exc!r}", ctx)


def _initial_description(
    name: str, request: dict, ctx: JobContext, created: Any, tuning_job_arn: str | None
) -> dict[str, Any]:
    description: dict[str, Any] = {
        "TrainingJobName": name,
        "TrainingJobArn": ctx.arn(f"training-job/{name.lower()}"),
        "TrainingJobStatus": "InProgress",
        "SecondaryStatus": "Starting",
        "HyperParameters": dict(request.get("HyperParameters") or {}),
        "AlgorithmSpecification": request.get("AlgorithmSpecification") or {},
        "RoleArn": request.get("RoleArn", ""),
        "InputDataConfig": request.get("InputDataConfig") or [],
        "OutputDataConfig": request.get("OutputDataConfig") or {},
        "ResourceConfig": request.get("ResourceConfig") or {},
        "StoppingCondition": request.get("StoppingCondition") or {},
        "CreationTime": created,
        "LastModifiedTime": created,
        "SecondaryStatusTransitions": [],
        "EnableNetworkIsolation": bool(request.get("EnableNetworkIsolation", False)),
        "EnableInterContainerTrafficEncryption": bool(
            request.get("EnableInterContainerTrafficEncryption", False)
        ),
        "EnableManagedSpotTraining": bool(request.get("EnableManagedSpotTraining", False)),
        "ModelArtifacts": {"S3ModelArtifacts": ""},
        "FinalMetricDataList": [],
    }
    for key in ("Environment", "CheckpointConfig", "VpcConfig", "ExperimentConfig", "RetryStrategy",
                "DebugHookConfig", "ProfilerConfig", "TensorBoardOutputConfig"):
        if request.get(key):
            description[key] = request[key]
    if tuning_job_arn:
        description["TuningJobArn"] = tuning_job_arn
    return description


def _run(
    name: str, request: dict, ctx: JobContext, description: dict[str, Any], transitions: list
) -> JobResult:
    algo = request.get("AlgorithmSpecification") or {}
    metrics = MetricCollector(algo.get("MetricDefinitions") or [])
    output_path = (request.get("OutputDataConfig") or {}).get("S3OutputPath")
    if not output_path:
        raise JobInputError("OutputDataConfig.S3OutputPath is required")
    job_output = S3Uri.parse(output_path).join(name, "output")
    resources = request.get("ResourceConfig") or {}
    if int(resources.get("InstanceCount", 1) or 1) > 1:
        ctx.log(f"[local] InstanceCount={resources['InstanceCount']}: the local engine runs one host")

    sandbox = Sandbox(ctx.work_dir)
    s3 = ctx.client("s3")
    transition(transitions, "Starting", "Preparing the local sandbox")
    ctx.log(f"[local] training job {name}: sandbox {sandbox.root} ({sandbox.backend} backend)")
    for sub in ("input/config", "input/data", "model", "output/data", "output/intermediate", "code"):
        sandbox.real(f"/opt/ml/{sub}").mkdir(parents=True, exist_ok=True)

    raw_hps: dict[str, str] = {str(k): str(v) for k, v in (request.get("HyperParameters") or {}).items()}
    decoded = {k: decode_hyperparameter(v) for k, v in raw_hps.items()}
    user_hps = {k: v for k, v in decoded.items() if k not in _FRAMEWORK_PARAMS}

    transition(transitions, "Downloading", "Downloading input data")
    channels = _download_channels(request, ctx, sandbox, s3)
    checkpoint = request.get("CheckpointConfig") or {}
    checkpoint_dir = checkpoint.get("LocalPath") or "/opt/ml/checkpoints"
    if checkpoint.get("S3Uri"):
        _sync_down_optional(s3, checkpoint["S3Uri"], sandbox.real(_must_opt_ml(checkpoint_dir)))

    program = decoded.get("sagemaker_program")
    entrypoint = algo.get("ContainerEntrypoint")
    if entrypoint:
        argv = [*entrypoint, *(algo.get("ContainerArguments") or [])]
        cwd = "/"
    elif program:
        submit = decoded.get("sagemaker_submit_directory")
        if isinstance(submit, str) and submit.startswith("s3://"):
            _s3.download_and_extract(s3, submit, sandbox.real(CODE_DIR), sandbox.internal / "scratch")
        elif submit:
            ctx.log(f"[local] sagemaker_submit_directory {submit!r} is not on S3; using {CODE_DIR} as is")
        if not sandbox.real(CODE_DIR).joinpath(str(program)).is_file():
            raise JobInputError(f"sagemaker_program {program!r} not found in the submitted source directory")
        if sandbox.real(CODE_DIR).joinpath("requirements.txt").is_file():
            ctx.log("[local] requirements.txt is not installed by the local engine; "
                    "install it into the interpreter that runs the job")
        argv = _program_argv(str(program), user_hps)
        cwd = CODE_DIR
    else:
        image = algo.get("TrainingImage") or algo.get("AlgorithmName") or "<none>"
        raise JobInputError(
            f"training image {image} would run its own entry point, which the local engine cannot do: "
            "give the job a script (hyperparameters sagemaker_program + sagemaker_submit_directory) "
            "or AlgorithmSpecification.ContainerEntrypoint"
        )

    resource, data_config = _write_config(name, request, sandbox, raw_hps, channels)
    env = user_env(
        ctx,
        _sm_environment(name, request, sandbox, user_hps, channels, str(program or ""), decoded,
                        resource, data_config),
        {"TRAINING_JOB_NAME": name, "TRAINING_JOB_ARN": description["TrainingJobArn"]},
        request.get("Environment"),
    )
    max_runtime = (request.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")

    transition(transitions, "Training", "Training image download completed. Training in progress.")
    started = utcnow()
    description["TrainingStartTime"] = started
    outcome = sandbox.run(argv, env, cwd, ctx, timeout=float(max_runtime) if max_runtime else None,
                          on_line=metrics.feed)
    ended = utcnow()
    description["TrainingEndTime"] = ended
    description["FinalMetricDataList"] = metrics.final_metric_data_list()
    seconds = max(1, int((ended - started).total_seconds()))
    description["TrainingTimeInSeconds"] = description["BillableTimeInSeconds"] = seconds

    if outcome.stopped:
        _upload_artifacts(s3, sandbox, job_output, description, transitions, ctx, checkpoint, checkpoint_dir)
        return _finish(description, transitions, STOPPED, None, ctx)
    transition(transitions, "Uploading", "Uploading generated training model")
    _upload_artifacts(s3, sandbox, job_output, description, transitions, ctx, checkpoint, checkpoint_dir,
                      model=outcome.exit_code == 0 or outcome.timed_out)
    if outcome.timed_out:
        return _finish(description, transitions, FAILED,
                       f"MaxRuntimeExceeded: training job ran longer than MaxRuntimeInSeconds={max_runtime}",
                       ctx, secondary="MaxRuntimeExceeded")
    if outcome.exit_code != 0:
        failure = read_text(sandbox.real("/opt/ml/output/failure"))
        return _finish(description, transitions, FAILED,
                       algorithm_error(outcome.exit_code, outcome.tail, argv, failure), ctx)
    return _finish(description, transitions, COMPLETED, None, ctx)


def _must_opt_ml(path: str) -> str:
    if not (path == "/opt/ml" or path.startswith("/opt/ml/")):
        raise JobInputError(f"local path {path!r} must be under /opt/ml")
    return path


def _program_argv(program: str, user_hps: dict[str, Any]) -> list[str]:
    args = hyperparameters_to_args(user_hps)
    if program.endswith(".py"):
        return ["python", program, *args]
    if program.endswith(".sh"):
        return ["/bin/sh", program, *args]
    return [f"./{program}", *args]


def _download_channels(request: dict, ctx: JobContext, sandbox: Sandbox, s3: Any) -> dict[str, dict]:
    channels: dict[str, dict] = {}
    for channel in request.get("InputDataConfig") or []:
        channel_name = channel["ChannelName"]
        source = channel.get("DataSource") or {}
        s3_source = source.get("S3DataSource")
        if not s3_source:
            raise JobInputError(f"channel {channel_name}: only S3DataSource is supported locally")
        mode = channel.get("InputMode") or (request.get("AlgorithmSpecification") or {}).get(
            "TrainingInputMode", "File")
        if mode != "File":
            ctx.log(f"[local] channel {channel_name}: InputMode {mode} runs as File mode locally")
        target = sandbox.real(f"/opt/ml/input/data/{channel_name}")
        files = _s3.download_input(s3, s3_source.get("S3DataType", "S3Prefix"), s3_source["S3Uri"], target)
        ctx.log(f"[local] channel {channel_name}: {len(files)} object(s) from {s3_source['S3Uri']}")
        channels[channel_name] = channel
    return channels


def _sync_down_optional(s3: Any, uri: str, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    parsed = S3Uri.parse(uri)
    if _s3.list_keys(s3, parsed):
        _s3.download_prefix(s3, uri.rstrip("/") + "/", target)


def _write_config(name: str, request: dict, sandbox: Sandbox, raw_hps: dict[str, str],
                  channels: dict[str, dict]) -> tuple[dict, dict]:
    """Write /opt/ml/input/config/*.json as SageMaker does; returns resource and input data config."""
    config = sandbox.real("/opt/ml/input/config")
    instance_type = (request.get("ResourceConfig") or {}).get("InstanceType", "local")
    resource = {
        "current_host": HOST,
        "current_instance_type": instance_type,
        "current_group_name": "homogeneousCluster",
        "hosts": [HOST],
        "instance_groups": [
            {"instance_group_name": "homogeneousCluster", "instance_type": instance_type, "hosts": [HOST]}
        ],
        "network_interface_name": "eth0",
    }
    data_config = {}
    for channel_name, channel in channels.items():
        s3_source = channel["DataSource"]["S3DataSource"]
        entry = {
            "TrainingInputMode": "File",
            "S3DistributionType": s3_source.get("S3DataDistributionType", "FullyReplicated"),
            "RecordWrapperType": channel.get("RecordWrapperType", "None"),
        }
        if channel.get("ContentType"):
            entry["ContentType"] = channel["ContentType"]
        data_config[channel_name] = entry
    files = {
        "hyperparameters.json": raw_hps,
        "resourceconfig.json": resource,
        "inputdataconfig.json": data_config,
        "trainingjobconfig.json": {"TrainingJobName": name, **request},
    }
    if request.get("CheckpointConfig"):
        checkpoint = request["CheckpointConfig"]
        files["checkpointconfig.json"] = {
            "LocalPath": checkpoint.get("LocalPath", "/opt/ml/checkpoints"), "S3Uri": checkpoint.get("S3Uri")}
    for filename, content in files.items():
        (config / filename).write_text(json.dumps(content, default=str, indent=1))
    return resource, data_config


def _sm_environment(name: str, request: dict, sandbox: Sandbox, user_hps: dict[str, Any],
                    channels: dict[str, dict], program: str, decoded: dict[str, Any],
                    resource: dict, data_config: dict) -> dict[str, str]:
    """The SM_* variables sagemaker-training-toolkit exports to the user script."""
    v = sandbox.visible
    instance_type = (request.get("ResourceConfig") or {}).get("InstanceType", "local")
    channel_dirs = {c: v(f"/opt/ml/input/data/{c}") for c in sorted(channels)}
    module_name = program[:-3] if program.endswith(".py") else program
    training_env: dict[str, Any] = {
        "additional_framework_parameters": {},
        "channel_input_dirs": channel_dirs,
        "current_host": HOST,
        "current_instance_type": instance_type,
        "hosts": [HOST],
        "hyperparameters": user_hps,
        "input_config_dir": v("/opt/ml/input/config"),
        "input_data_config": data_config,
        "input_dir": v("/opt/ml/input"),
        "is_master": True,
        "job_name": name,
        "log_level": 20,
        "master_hostname": HOST,
        "model_dir": v("/opt/ml/model"),
        "module_dir": str(decoded.get("sagemaker_submit_directory", "")),
        "module_name": module_name,
        "network_interface_name": "eth0",
        "num_cpus": os.cpu_count() or 1,
        "num_gpus": 0,
        "num_neurons": 0,
        "output_data_dir": v("/opt/ml/output/data"),
        "output_dir": v("/opt/ml/output"),
        "output_intermediate_dir": v("/opt/ml/output/intermediate"),
        "resource_config": resource,
        "user_entry_point": program,
    }
    env = {
        "SM_HOSTS": json.dumps([HOST]),
        "SM_CURRENT_HOST": HOST,
        "SM_CURRENT_INSTANCE_TYPE": instance_type,
        "SM_NETWORK_INTERFACE_NAME": "eth0",
        "SM_HPS": json.dumps(user_hps),
        "SM_USER_ENTRY_POINT": program,
        "SM_FRAMEWORK_PARAMS": "{}",
        "SM_RESOURCE_CONFIG": json.dumps(resource),
        "SM_INPUT_DATA_CONFIG": json.dumps(data_config),
        "SM_CHANNELS": json.dumps(sorted(channels)),
        "SM_MODULE_NAME": module_name,
        "SM_MODULE_DIR": str(decoded.get("sagemaker_submit_directory", "")),
        "SM_LOG_LEVEL": "20",
        "SM_NUM_CPUS": str(os.cpu_count() or 1),
        "SM_NUM_GPUS": "0",
        "SM_NUM_NEURONS": "0",
        "SM_IS_MASTER": "true",
        "SM_MASTER_HOSTNAME": HOST,
        "SM_MODEL_DIR": v("/opt/ml/model"),
        "SM_INPUT_DIR": v("/opt/ml/input"),
        "SM_INPUT_CONFIG_DIR": v("/opt/ml/input/config"),
        "SM_OUTPUT_DIR": v("/opt/ml/output"),
        "SM_OUTPUT_DATA_DIR": v("/opt/ml/output/data"),
        "SM_OUTPUT_INTERMEDIATE_DIR": v("/opt/ml/output/intermediate"),
        "SM_USER_ARGS": json.dumps(hyperparameters_to_args(user_hps)),
        "SM_TRAINING_ENV": json.dumps(training_env),
    }
    for channel_name, path in channel_dirs.items():
        env[f"SM_CHANNEL_{channel_name.upper()}"] = path
    for key, value in user_hps.items():
        env[f"SM_HP_{key.upper()}"] = _env_value(value)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (v(CODE_DIR), os.environ.get("PYTHONPATH", "")) if p)
    return env


def _upload_artifacts(s3: Any, sandbox: Sandbox, job_output: S3Uri, description: dict[str, Any],
                      transitions: list, ctx: JobContext, checkpoint: dict, checkpoint_dir: str,
                      *, model: bool = True) -> None:
    scratch = sandbox.internal / "artifacts"
    if model:
        archive = _s3.make_tar(sandbox.real("/opt/ml/model"), scratch / "model.tar.gz")
        target = job_output.join("model.tar.gz")
        s3.upload_file(str(archive), target.bucket, target.key)
        description["ModelArtifacts"] = {"S3ModelArtifacts": str(target)}
        ctx.log(f"[local] model artifacts uploaded to {target}")
    data_dir = sandbox.real("/opt/ml/output/data")
    if data_dir.is_dir() and any(data_dir.iterdir()):
        archive = _s3.make_tar(data_dir, scratch / "output.tar.gz")
        target = job_output.join("output.tar.gz")
        s3.upload_file(str(archive), target.bucket, target.key)
        ctx.log(f"[local] output data uploaded to {target}")
    if checkpoint.get("S3Uri"):
        _s3.upload_dir(s3, sandbox.real(_must_opt_ml(checkpoint_dir)), checkpoint["S3Uri"], within=sandbox.root)


def _finish(description: dict[str, Any], transitions: list, status: str, reason: str | None,
            ctx: JobContext, *, secondary: str | None = None) -> JobResult:
    secondary = secondary or status
    messages = {COMPLETED: "Training job completed", FAILED: "Training job failed",
                STOPPED: "Training job stopped"}
    transition(transitions, secondary, reason or messages[status])
    close_transitions(transitions)
    description["TrainingJobStatus"] = status
    description["SecondaryStatus"] = secondary
    description["LastModifiedTime"] = utcnow()
    description.setdefault("TrainingEndTime", description["LastModifiedTime"])
    if reason:
        description["FailureReason"] = reason
        ctx.log(f"[local] {reason}")
    return JobResult(status=status, description=description, failure_reason=reason)
