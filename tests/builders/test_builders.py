"""Builders return the ordinary step operators, fill the SDK's defaults, and name wrong keywords."""

from __future__ import annotations

import pendulum
import pytest

from airflow_sagemaker_mlops import PipelineCompileError, ProcessingStep, SageMakerPipelineGroup, TrainingStep
from airflow_sagemaker_mlops.builders import run_script, s3_input, top_model_s3_uri, training_job, tuning_job
from airflow_sagemaker_mlops.compat import DAG

ROLE = "arn:aws:iam::111122223333:role/SmPipeline"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def group(name: str):
    dag = DAG(name, schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"))
    return dag, SageMakerPipelineGroup(group_id="g", pipeline_name=name.replace("_", "-"), role_arn=ROLE, dag=dag)


def test_builders_return_step_operators_with_properties_and_edges():
    dag, g = group("builder_ops")
    with dag, g:
        prep = run_script(task_id="prep", code="s3://b/prep.py", image_uri=IMAGE, role=ROLE,
                          instance_type="ml.m5.large", outputs={"train": "s3://b/train"})
        fit = training_job(task_id="fit", image_uri=IMAGE, role=ROLE, instance_type="ml.m5.large",
                           output_path="s3://b/models",
                           inputs={"train": prep.properties.ProcessingOutputConfig.Outputs["train"].S3Output.S3Uri})
        prep >> fit
    assert isinstance(prep, ProcessingStep) and isinstance(fit, TrainingStep)
    assert fit.upstream_task_ids == {"g.prep"}
    assert fit.job["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}
    assert prep.job["ProcessingInputs"][-1]["InputName"] == "code"
    definition = g.compile().definition.to_request()
    assert [s["Name"] for s in definition["Steps"]] == ["prep", "fit"]


def test_wrong_keyword_names_the_accepted_ones_with_a_did_you_mean():
    dag, g = group("builder_typo")
    with pytest.raises(PipelineCompileError) as info, dag, g:
        run_script(task_id="prep", code="s3://b/prep.py", image_uri=IMAGE, role=ROLE, instance_type="ml.m5.large",
                   ouputs={"train": "s3://b/train"})
    message = str(info.value)
    assert "'ouputs'" in message and "did you mean 'outputs'?" in message
    assert "instance_type" in message and "test_builders.py" in message


def test_operator_keywords_pass_through():
    dag, g = group("builder_kwargs")
    with dag, g:
        step = run_script(task_id="prep", code="s3://b/prep.py", image_uri=IMAGE, role=ROLE,
                          instance_type="ml.m5.large", cache=True, step_name="Prep", retries=0)
    assert step.step_name == "Prep" and step.cache_config is not None


def test_local_code_needs_a_bucket_and_becomes_a_code_asset():
    dag, g = group("builder_code")
    with pytest.raises(PipelineCompileError, match="code_bucket"), dag, g:
        run_script(task_id="prep", code="scripts/prep.py", image_uri=IMAGE, role=ROLE, instance_type="ml.m5.large")
    dag, g = group("builder_code2")
    with dag, g:
        step = run_script(task_id="prep", code="test_builders.py", code_bucket="code", image_uri=IMAGE, role=ROLE,
                          instance_type="ml.m5.large")
    code = step.job["ProcessingInputs"][-1]["S3Input"]["S3Uri"]
    assert code.s3_uri.startswith("s3://code/") and code.s3_uri.endswith("/test_builders.py")
    assert step.job["AppSpecification"]["ContainerEntrypoint"] == ["python3",
                                                                   "/opt/ml/processing/input/code/test_builders.py"]


def test_script_mode_needs_entry_point_and_source_dir():
    dag, g = group("builder_script")
    with pytest.raises(PipelineCompileError, match="both entry_point and source_dir"), dag, g:
        training_job(task_id="fit", image_uri=IMAGE, role=ROLE, instance_type="ml.m5.large", output_path="s3://b/m",
                     entry_point="train.py")


def test_top_model_needs_an_output_path():
    dag, g = group("builder_top")
    with dag, g:
        tune = tuning_job(task_id="tune", training={"AlgorithmSpecification": {}}, objective_metric="m",
                          hyperparameter_ranges={})
    with pytest.raises(PipelineCompileError, match="s3_prefix"):
        top_model_s3_uri(tune)
    assert top_model_s3_uri(tune, 1, s3_prefix="s3://b/t/").to_request()["Std:Join"]["Values"][0] == "s3://b/t"


def test_s3_input_defaults():
    assert s3_input("raw", "s3://b/raw") == {"InputName": "raw", "S3Input": {
        "S3Uri": "s3://b/raw", "LocalPath": "/opt/ml/processing/raw", "S3DataType": "S3Prefix",
        "S3InputMode": "File", "S3DataDistributionType": "FullyReplicated", "S3CompressionType": "None"}}
