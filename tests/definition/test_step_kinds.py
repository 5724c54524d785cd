"""The step-kind registry against what botocore's SageMaker model says, and every layer reading it."""

from __future__ import annotations

import botocore.session
import pytest
from botocore import xform_name

from airflow_sagemaker_mlops.definition import step_kinds as K
from airflow_sagemaker_mlops.definition.steps import StepType

MODEL = botocore.session.get_session().get_service_model("sagemaker")
OPERATIONS = {xform_name(name): name for name in MODEL.operation_names}
#: botocore's metadata members whose step types SageMaker SDK v3 has no step class for (yet): the hook
#: names such an entry by its own key.
UNTYPED_METADATA = {"BedrockCustomModel", "BedrockCustomModelDeployment", "BedrockProvisionedModelThroughput",
                    "BedrockModelImport", "Athena"}


def test_every_metadata_key_botocore_knows_is_a_step_kind():
    # A subset check: an older botocore (the declared minimum) knows fewer members, never other ones.
    members = set(MODEL.shape_for("PipelineExecutionStepMetadata").members)
    assert members - UNTYPED_METADATA <= set(K.BY_METADATA_KEY)


def test_the_step_types_are_the_ones_the_definition_model_names():
    assert K.KNOWN_STEP_TYPES == {v for k, v in vars(StepType).items() if k.isupper()}


@pytest.mark.parametrize("resource", sorted(K.RESOURCES_BY_NOUN.values(), key=lambda r: r.noun),
                         ids=lambda r: r.noun)
def test_resources_name_real_operations_and_fields(resource):
    operation = MODEL.operation_model(OPERATIONS[resource.describe])
    assert operation.name == f"Describe{resource.noun}"
    assert resource.name_field in operation.input_shape.members
    output = operation.output_shape.members
    for field in (resource.status_field, resource.arn_field):
        assert field is None or field in output, field
    for action in resource.iam_actions:
        service, name = action.split(":")
        assert service == "sagemaker" and name in MODEL.operation_names, action


@pytest.mark.parametrize("kind", [k for k in K.STEP_KINDS.values() if k.request], ids=lambda k: k.type)
def test_requests_are_operations(kind):
    assert kind.request in MODEL.operation_names
    if kind.resource is not None and kind.resource.iam_sid:
        assert f"sagemaker:{kind.request}" in kind.resource.iam_actions


def test_metadata_of_a_step_names_its_type():
    assert K.step_type_of_metadata({"TuningJob": {"Arn": "a"}}) == "Tuning"
    assert K.step_type_of_metadata({"EMRServerless": {"JobRunId": "1"}}) == "EMRServerless"
    assert K.step_type_of_metadata({"Athena": {}}) == "Athena"  # unknown to us: its own key
    assert K.step_type_of_metadata(None) is None


def test_resource_of_arn():
    resource, name = K.resource_of_arn("arn:aws:sagemaker:us-east-1:111111111111:training-job/pipelines-x")
    assert resource is K.TRAINING_JOB and name == "pipelines-x"
    assert K.resource_of_arn("arn:aws:sagemaker:us-east-1:111111111111:pipeline/p") is None
    assert K.resource_of_arn("not an arn") is None


def test_local_engine_runs_what_the_registry_says():
    from airflow_sagemaker_mlops.local import jobs, steps

    assert set(K.LOCAL_JOB_TYPES) == {"Processing", "Training", "Tuning", "Transform"}
    for step_type in K.LOCAL_JOB_TYPES:
        assert callable(getattr(jobs, K.STEP_KINDS[step_type].local_runner))
    assert set(steps.RUNNERS) | set(K.LOCAL_JOB_TYPES) == set(K.LOCAL_STEP_TYPES)


def test_every_layer_reads_the_registry():
    """The tables that used to be kept per layer are the registry's."""
    from airflow_sagemaker_mlops import links
    from airflow_sagemaker_mlops.hooks import logs, pipelines
    from airflow_sagemaker_mlops.local import console

    assert links.job_link_fields("arn:aws:sagemaker:r:1:inference-component/ic") == {
        "job_path": "/inference-components/ic"}
    assert set(logs._JOBS) >= {"ProcessingJob", "TrainingJob", "TransformJob", "TuningJob"}
    assert set(console.JOB_PAGES) == {"processing-job", "training-job", "transform-job",
                                      "hyper-parameter-tuning-job"}
    described = {t for t, k in K.STEP_KINDS.items() if k.described_outputs}
    assert set(pipelines._OUTPUT_READERS) == described
    assert pipelines.SageMakerPipelinesHook.step_type({"Metadata": {"EMRServerless": {}}}) == "EMRServerless"


def test_the_exported_json_get_answers_isinstance():
    """JsonGet is what a DAG file calls and what it checks values against (it used to be a function)."""
    from airflow_sagemaker_mlops import JsonGet
    from airflow_sagemaker_mlops.definition.expressions import JsonGet as Expression

    value = JsonGet(s3_uri="s3://b/k.json", path="a.b")
    assert isinstance(value, JsonGet) and isinstance(value, Expression)
    assert not isinstance("s3://b/k.json", JsonGet)
