"""OpenLineage datasets of each step type, from SageMaker's descriptions of the step's job (no engine needed)."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_sagemaker_mlops.lineage import (
    DatasetRef,
    Lineage,
    model_package_dataset,
    operator_lineage,
    s3_dataset,
    start_lineage,
    step_lineage,
)

NS = "arn:aws:sagemaker:us-east-1:123456789012"


class Describe:
    """A stand-in for SageMakerPipelinesHook._call: canned responses by (operation, name), calls recorded."""

    def __init__(self, responses: dict[tuple[str, str], dict[str, Any]]) -> None:
        self.responses = responses
        self.calls: list[tuple[str, str]] = []

    def __call__(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        key = (operation, next(iter(kwargs.values())))
        self.calls.append(key)
        if key not in self.responses:
            raise RuntimeError(f"unexpected call {key}")
        return self.responses[key]


def step(kind: str, arn: str) -> dict[str, Any]:
    return {"StepName": "s", "StepStatus": "Succeeded", "Metadata": {kind: {"Arn": arn}}}


def s3(*uris: str) -> list[DatasetRef]:
    return [ref for ref in map(s3_dataset, uris) if ref is not None]


def test_s3_naming_follows_openlineage():
    assert s3_dataset("s3://bucket/a/b/") == DatasetRef("s3://bucket", "a/b")
    assert s3_dataset("s3://bucket") == DatasetRef("s3://bucket", "/")
    assert s3_dataset("file:///tmp/x") is None and s3_dataset(None) is None


def test_processing_inputs_and_outputs():
    describe = Describe({("describe_processing_job", "job-1"): {
        "ProcessingInputs": [{"S3Input": {"S3Uri": "s3://code/prep.py"}}, {"S3Input": {"S3Uri": "s3://data/raw"}},
                             {"DatasetDefinition": {"AthenaDatasetDefinition": {}}}],
        "ProcessingOutputConfig": {"Outputs": [{"S3Output": {"S3Uri": "s3://data/train/exec-1"}}]}}})
    lineage = step_lineage(step("ProcessingJob", f"{NS}:processing-job/job-1"), describe)
    assert lineage.inputs == s3("s3://code/prep.py", "s3://data/raw")
    assert lineage.outputs == s3("s3://data/train/exec-1")
    assert lineage.external_id == (f"{NS}:processing-job/job-1", "sagemaker")


def test_training_reads_channels_and_source_bundle_and_writes_the_model():
    describe = Describe({("describe_training_job", "train-1"): {
        "InputDataConfig": [{"DataSource": {"S3DataSource": {"S3Uri": "s3://data/train"}}},
                            {"DataSource": {"S3DataSource": {"S3Uri": "s3://data/validation"}}}],
        "HyperParameters": {"sagemaker_submit_directory": '"s3://code/sourcedir.tar.gz"', "epochs": "3"},
        "OutputDataConfig": {"S3OutputPath": "s3://data/models"},
        "ModelArtifacts": {"S3ModelArtifacts": "s3://data/models/train-1/output/model.tar.gz"}}})
    lineage = step_lineage(step("TrainingJob", f"{NS}:training-job/train-1"), describe)
    assert lineage.inputs == s3("s3://data/train", "s3://data/validation", "s3://code/sourcedir.tar.gz")
    assert lineage.outputs == s3("s3://data/models/train-1/output/model.tar.gz")


def test_tuning_reports_the_best_training_jobs_model():
    describe = Describe({
        ("describe_hyper_parameter_tuning_job", "tune-1"): {
            "TrainingJobDefinition": {"InputDataConfig": [{"DataSource": {"S3DataSource": {"S3Uri": "s3://d/t"}}}],
                                      "OutputDataConfig": {"S3OutputPath": "s3://d/models"}},
            "BestTrainingJob": {"TrainingJobName": "tune-1-003"}},
        ("describe_training_job", "tune-1-003"): {"ModelArtifacts": {"S3ModelArtifacts": "s3://d/models/3/model.tar.gz"}},
    })
    lineage = step_lineage(step("TuningJob", f"{NS}:hyper-parameter-tuning-job/tune-1"), describe)
    assert (lineage.inputs, lineage.outputs) == (s3("s3://d/t"), s3("s3://d/models/3/model.tar.gz"))


def test_transform_reads_data_and_model():
    describe = Describe({("describe_transform_job", "score-1"): {
        "TransformJobArn": f"{NS}:transform-job/score-1", "ModelName": "churn-v3",
        "TransformInput": {"DataSource": {"S3DataSource": {"S3Uri": "s3://d/batch"}}},
        "TransformOutput": {"S3OutputPath": "s3://d/scores"}}})
    lineage = step_lineage(step("TransformJob", f"{NS}:transform-job/score-1"), describe)
    assert lineage.inputs == [*s3("s3://d/batch"), DatasetRef(NS, "model/churn-v3", "MODEL", "sagemaker-model")]
    assert lineage.outputs == s3("s3://d/scores")


PACKAGE = {"ModelPackageArn": f"{NS}:model-package/churn/3", "ModelPackageGroupName": "churn",
           "ModelPackageVersion": 3,
           "InferenceSpecification": {"Containers": [{"Image": "img", "ModelDataUrl": "s3://d/model.tar.gz"}]},
           "ModelMetrics": {"ModelQuality": {"Statistics": {"ContentType": "application/json",
                                                            "S3Uri": "s3://d/evaluation.json"}}}}


def test_register_model_outputs_the_model_package_version():
    describe = Describe({("describe_model_package", PACKAGE["ModelPackageArn"]): PACKAGE})
    lineage = step_lineage(step("RegisterModel", PACKAGE["ModelPackageArn"]), describe)
    assert lineage.inputs == s3("s3://d/model.tar.gz", "s3://d/evaluation.json")
    assert lineage.outputs == [DatasetRef(NS, "model-package-group/churn", "MODEL", "sagemaker-model-package", "3",
                                          ((NS, "model-package/churn/3", "MODEL_PACKAGE"),))]


def test_create_model_from_a_package():
    describe = Describe({
        ("describe_model", "m-1"): {"ModelArn": f"{NS}:model/m-1",
                                    "PrimaryContainer": {"ModelPackageName": PACKAGE["ModelPackageArn"]}},
        ("describe_model_package", PACKAGE["ModelPackageArn"]): PACKAGE,
    })
    lineage = step_lineage(step("Model", f"{NS}:model/m-1"), describe)
    assert lineage.inputs == [model_package_dataset(PACKAGE)]
    assert lineage.outputs == [DatasetRef(NS, "model/m-1", "MODEL", "sagemaker-model")]


def test_steps_without_a_job_and_failing_describes_give_empty_lineage():
    describe = Describe({})
    assert step_lineage({"StepName": "gate", "Metadata": {"Condition": {"Outcome": "True"}}}, describe) == Lineage()
    broken = step_lineage(step("ProcessingJob", f"{NS}:processing-job/gone"), describe)  # describe raises
    assert (broken.inputs, broken.outputs) == ([], [])
    assert broken.external_id == (f"{NS}:processing-job/gone", "sagemaker")


def test_start_lineage_and_the_openlineage_objects():
    pytest.importorskip("airflow.providers.openlineage")
    lineage = start_lineage({"execution_arn": f"{NS}:pipeline/p/execution/e1",
                             "code_assets": ["s3://code/x/evaluate.py", "s3://code/x/evaluate.py"]})
    result = operator_lineage(lineage)
    assert [(d.namespace, d.name) for d in result.outputs] == [("s3://code", "x/evaluate.py")]
    assert result.run_facets["externalQuery"].externalQueryId == f"{NS}:pipeline/p/execution/e1"
    package = operator_lineage(Lineage(outputs=[model_package_dataset(PACKAGE)])).outputs[0]
    assert package.facets["version"].datasetVersion == "3"
    assert package.facets["datasetType"].datasetType == "MODEL"
    assert package.facets["symlinks"].identifiers[0].name == "model-package/churn/3"
