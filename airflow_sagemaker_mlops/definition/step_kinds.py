"""What each SageMaker Pipelines step type is, for every layer, in one place.

Per step ``Type`` of a pipeline definition: the key its ListPipelineExecutionSteps entry carries its
metadata under, the resource it creates (ARN type, Describe call, status and name fields, console page, log
group, the IAM actions that create and follow it), whether SageMaker caches and retries it, whether its job
reads and writes the S3 URIs of its arguments, whether its Create*Job request takes an ExperimentConfig,
and how the local engine runs it. The hooks, links, logs, lineage, IAM, the compiler's checks and the local
engine read this module instead of keeping their own tables.

Where botocore can say it, the tests hold this table to it (``tests/definition/test_step_kinds.py``: every
member of ``PipelineExecutionStepMetadata`` is a ``metadata_key`` here, every Describe call and field
exists, every ``request`` is an operation); the rest (caching, retries, console pages) is SageMaker's
documentation, restated. Pure data: no Airflow, no boto3.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Job names SageMaker Pipelines gives the jobs it starts (``pipelines-<execution id>-<step>-<hash>``).
PIPELINE_JOB_PREFIX = "pipelines-"


@dataclass(frozen=True)
class Resource:
    """A SageMaker resource a step creates: a job, a model, a model package, an endpoint."""

    #: The noun of its API operations: Create<noun>, Describe<noun> (``HyperParameterTuningJob``).
    noun: str
    #: The resource type in its ARN (``arn:aws:sagemaker:r:a:<arn_type>/<name>``).
    arn_type: str
    #: boto3's Describe method and the request field naming the resource.
    describe: str
    name_field: str
    #: The Describe response's status and ARN fields (None: the resource has no status).
    status_field: str | None = None
    arn_field: str | None = None
    #: The path of its page in the SageMaker console, ``{name}`` filled in (None: no page).
    console_page: str | None = None
    #: The CloudWatch Logs group its containers write to (None: it writes no job log).
    log_group: str | None = None
    #: IAM: the statement id and the actions the pipeline role needs to start, watch and stop it; the
    #: name pattern of the resources SageMaker Pipelines creates.
    iam_sid: str | None = None
    iam_actions: tuple[str, ...] = ()
    iam_name_pattern: str = "*"


def _job(noun: str, arn_type: str, describe: str, page: str, log_group: str | None, sid: str,
         pattern: str = PIPELINE_JOB_PREFIX + "*", extra_actions: tuple[str, ...] = ()) -> Resource:
    return Resource(
        noun=noun, arn_type=arn_type, describe=describe, name_field=f"{noun}Name",
        status_field=f"{noun}Status", arn_field=f"{noun}Arn", console_page=page, log_group=log_group,
        iam_sid=sid, iam_name_pattern=pattern,
        iam_actions=(f"sagemaker:Create{noun}", f"sagemaker:Describe{noun}", f"sagemaker:Stop{noun}",
                     *extra_actions, "sagemaker:AddTags"),
    )


PROCESSING_JOB = _job("ProcessingJob", "processing-job", "describe_processing_job", "/processing-jobs/{name}",
                      "/aws/sagemaker/ProcessingJobs", "SageMakerProcessingJobs")
TRAINING_JOB = _job("TrainingJob", "training-job", "describe_training_job", "/jobs/{name}",
                    "/aws/sagemaker/TrainingJobs", "SageMakerTrainingJobs")
TRANSFORM_JOB = _job("TransformJob", "transform-job", "describe_transform_job", "/transform-jobs/{name}",
                     "/aws/sagemaker/TransformJobs", "SageMakerTransformJobs")
# Tuning job names are capped at 32 characters, so Pipelines does not use the pipelines- prefix; its trials
# are training jobs and log to the training jobs' group.
TUNING_JOB = _job("HyperParameterTuningJob", "hyper-parameter-tuning-job", "describe_hyper_parameter_tuning_job",
                  "/hyper-tuning-jobs/{name}", "/aws/sagemaker/TrainingJobs", "SageMakerTuningJobs", pattern="*",
                  extra_actions=("sagemaker:ListTrainingJobsForHyperParameterTuningJob",))
AUTOML_JOB = _job("AutoMLJob", "automl-job", "describe_auto_ml_job", "/automl-jobs/{name}", None,
                  "SageMakerAutoMLJobs", pattern="*")
MODEL = Resource("Model", "model", "describe_model", "ModelName", arn_field="ModelArn",
                 console_page="/models/{name}")
MODEL_PACKAGE = Resource("ModelPackage", "model-package", "describe_model_package", "ModelPackageName",
                         status_field="ModelPackageStatus", arn_field="ModelPackageArn",
                         console_page="/model-packages/{name}")
ENDPOINT = Resource("Endpoint", "endpoint", "describe_endpoint", "EndpointName", status_field="EndpointStatus",
                    arn_field="EndpointArn", console_page="/endpoints/{name}")
ENDPOINT_CONFIG = Resource("EndpointConfig", "endpoint-config", "describe_endpoint_config", "EndpointConfigName",
                           arn_field="EndpointConfigArn", console_page="/endpointConfig/{name}")
INFERENCE_COMPONENT = Resource("InferenceComponent", "inference-component", "describe_inference_component",
                               "InferenceComponentName", status_field="InferenceComponentStatus",
                               arn_field="InferenceComponentArn", console_page="/inference-components/{name}")

#: How the local engine runs a step type: a job process (``job``, with the runner of ``local/jobs``), one of
#: the engine's own runners (``condition``, ``fail``, ...), or not at all (None: the step fails, naming why).
LOCAL_JOB = "job"


@dataclass(frozen=True)
class StepKind:
    """One SageMaker Pipelines step type, as every layer needs it."""

    #: The ``Type`` of the definition (as SageMaker SDK v3 writes it).
    type: str
    #: The key of its ListPipelineExecutionSteps ``Metadata``.
    metadata_key: str | None
    #: The resource it creates, if any.
    resource: Resource | None = None
    #: The SageMaker API operation whose request its ``Arguments`` are (None: a shape of its own).
    request: str | None = None
    #: SageMaker caches it (``CacheConfig``) and retries it (``RetryPolicies``).
    cacheable: bool = False
    retryable: bool = False
    #: Its job reads and writes the S3 URIs in its arguments (IAM grants them to the job's role).
    data: bool = False
    #: It needs no permission at all (it runs inside SageMaker Pipelines).
    needs_permissions: bool = True
    #: Its Create*Job request takes an ExperimentConfig (Pipelines adds the execution's run).
    experiment_config: bool = False
    #: Step tasks describe its resource for the outputs they push to XCom (``hooks.pipelines.step_outputs``).
    described_outputs: bool = False
    #: How the local engine runs it (see LOCAL_JOB); ``local_runner`` names the job runner in local/jobs.
    local: str | None = None
    local_runner: str | None = None


STEP_KINDS: dict[str, StepKind] = {k.type: k for k in (
    StepKind("Processing", "ProcessingJob", PROCESSING_JOB, "CreateProcessingJob", cacheable=True,
             retryable=True, data=True, experiment_config=True, described_outputs=True, local=LOCAL_JOB,
             local_runner="run_processing_job"),
    StepKind("Training", "TrainingJob", TRAINING_JOB, "CreateTrainingJob", cacheable=True, retryable=True,
             data=True, experiment_config=True, described_outputs=True, local=LOCAL_JOB,
             local_runner="run_training_job"),
    StepKind("Tuning", "TuningJob", TUNING_JOB, "CreateHyperParameterTuningJob", cacheable=True, retryable=True,
             data=True, described_outputs=True, local=LOCAL_JOB, local_runner="run_tuning_job"),
    StepKind("Transform", "TransformJob", TRANSFORM_JOB, "CreateTransformJob", cacheable=True, retryable=True,
             data=True, experiment_config=True, described_outputs=True, local=LOCAL_JOB,
             local_runner="run_transform_job"),
    StepKind("Model", "Model", MODEL, "CreateModel", retryable=True, data=True, local="model"),
    StepKind("RegisterModel", "RegisterModel", MODEL_PACKAGE, "CreateModelPackage", retryable=True,
             local="register_model"),
    StepKind("Condition", "Condition", needs_permissions=False, local="condition"),
    StepKind("Fail", "Fail", needs_permissions=False, local="fail"),
    StepKind("Callback", "Callback", cacheable=True, local="callback"),
    StepKind("Lambda", "Lambda", cacheable=True, local="lambda"),
    # Quality and Clarify checks run as processing jobs (the model monitor and Clarify containers).
    StepKind("QualityCheck", "QualityCheck", PROCESSING_JOB, cacheable=True, data=True),
    StepKind("ClarifyCheck", "ClarifyCheck", PROCESSING_JOB, cacheable=True, data=True),
    StepKind("EMR", "EMR", cacheable=True),
    StepKind("EMRServerless", "EMRServerless", cacheable=True, retryable=True),
    StepKind("AutoML", "AutoMLJob", AUTOML_JOB, "CreateAutoMLJob", cacheable=True, retryable=True, data=True),
    StepKind("EndpointConfig", "EndpointConfig", ENDPOINT_CONFIG, "CreateEndpointConfig", cacheable=True,
             retryable=True),
    StepKind("Endpoint", "Endpoint", ENDPOINT, "CreateEndpoint", cacheable=True),
    StepKind("InferenceComponent", "InferenceComponent", INFERENCE_COMPONENT, "CreateInferenceComponent"),
    StepKind("Lineage", "Lineage"),
    StepKind("Job", "Job", cacheable=True, retryable=True),
    StepKind("Cleanup", "Cleanup"),
    StepKind("ForEach", "ForEach"),
)}

#: Metadata key of a ListPipelineExecutionSteps entry -> step type. Keys botocore knows that no step type
#: of this table writes (Bedrock, Athena: SageMaker's newer step types) are left to the entry's own key.
BY_METADATA_KEY: dict[str, str] = {k.metadata_key: k.type for k in STEP_KINDS.values() if k.metadata_key}
#: ARN resource type -> the resource.
RESOURCES_BY_ARN_TYPE: dict[str, Resource] = {
    k.resource.arn_type: k.resource for k in STEP_KINDS.values() if k.resource is not None
}
#: Resource noun (Describe<noun>) -> the resource.
RESOURCES_BY_NOUN: dict[str, Resource] = {r.noun: r for r in RESOURCES_BY_ARN_TYPE.values()}

KNOWN_STEP_TYPES = frozenset(STEP_KINDS)
CACHEABLE_STEP_TYPES = frozenset(t for t, k in STEP_KINDS.items() if k.cacheable)
RETRYABLE_STEP_TYPES = frozenset(t for t, k in STEP_KINDS.items() if k.retryable)
#: The step types the local engine runs.
LOCAL_STEP_TYPES = tuple(t for t, k in STEP_KINDS.items() if k.local)
#: The step types the local engine runs as a job process.
LOCAL_JOB_TYPES = tuple(t for t, k in STEP_KINDS.items() if k.local == LOCAL_JOB)


def resource_of(step_type: str) -> Resource | None:
    kind = STEP_KINDS.get(step_type)
    return kind.resource if kind is not None else None


def resource_of_arn(arn: str | None) -> tuple[Resource, str] | None:
    """``(resource, name)`` of a SageMaker ARN (``arn:aws:sagemaker:r:a:training-job/name``)."""
    if not arn or arn.count(":") < 5:
        return None
    arn_type, _, name = arn.split(":", 5)[-1].partition("/")
    resource = RESOURCES_BY_ARN_TYPE.get(arn_type)
    return (resource, name) if resource is not None and name else None


def step_type_of_metadata(metadata: dict[str, object] | None) -> str | None:
    """The step type of a ListPipelineExecutionSteps entry's ``Metadata`` (its first key when unknown)."""
    for key in metadata or {}:
        if key in BY_METADATA_KEY:
            return BY_METADATA_KEY[key]
    return next(iter(metadata or {}), None)
