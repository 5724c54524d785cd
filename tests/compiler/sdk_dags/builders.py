"""SDK equivalence of the builders: run_script (ScriptProcessor.run), training_job (ModelTrainer.train),
transform_job (Transformer.transform) and register_model (model registration), with the image from
image_uri (the SDK twin uses image_uris.retrieve). Twin: ``_sdk_builders`` in test_sdk_equivalence.py."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_sagemaker_mlops import PipelineParameter, SageMakerPipelineGroup
from airflow_sagemaker_mlops.builders import image_uri, register_model, run_script, training_job, transform_job

ROLE = "arn:aws:iam::111122223333:role/SmPipeline"
IMAGE = image_uri("sklearn", "1.2-1", "us-east-1", instance_type="ml.m5.large")

with DAG("sdk_builders", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    with SageMakerPipelineGroup(group_id="build", pipeline_name="sdk-builders",
                                parameters={"Input": PipelineParameter.string("s3://bucket/raw")}) as g:
        prep = run_script(task_id="prep", code="s3://bucket/code/prep.py", image_uri=IMAGE, role=ROLE,
                          instance_type="ml.m5.large", inputs={"raw": g.parameter("Input")},
                          outputs={"train": "s3://bucket/train", "test": "s3://bucket/test"},
                          arguments=["--rows", "100"], env={"SEED": "7"})
        outputs = prep.properties.ProcessingOutputConfig.Outputs
        fit = training_job(task_id="fit", image_uri=IMAGE, role=ROLE, instance_type="ml.m5.large",
                           output_path="s3://bucket/models", hyperparameters={"epochs": 10, "rate": "0.1"},
                           inputs={"train": outputs["train"].S3Output.S3Uri})
        score = transform_job(task_id="score", model_name="churn-model", data=outputs["test"].S3Output.S3Uri,
                              output_path="s3://bucket/scores", instance_type="ml.m5.large", content_type="text/csv",
                              split_type="Line", accept="text/csv", assemble_with="Line", strategy="MultiRecord",
                              join_source="Input")
        register = register_model(task_id="register", model_package_group="churn", image_uri=IMAGE, model_data=fit,
                                  content_types=["text/csv"], response_types=["text/csv"],
                                  inference_instances=["ml.m5.large"], transform_instances=["ml.m5.large"])
