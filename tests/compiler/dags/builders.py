"""Every builder: run_script, training_job (script mode, channels from another step, typed hyperparameters),
tuning_job with top_model_s3_uri, create_model, transform_job, register_model, and the image lookup."""

from __future__ import annotations

import pendulum

from airflow_sagemaker_mlops import PipelineParameter, PropertyFile, SageMakerPipelineGroup
from airflow_sagemaker_mlops.builders import (
    continuous,
    create_model,
    image_uri,
    integer,
    register_model,
    run_script,
    top_model_s3_uri,
    training_job,
    training_request,
    transform_job,
    tuning_job,
)
from airflow_sagemaker_mlops.compat import DAG

ROLE = "arn:aws:iam::111122223333:role/SmPipeline"
IMAGE = image_uri("sklearn", "1.2-1", "us-east-1", instance_type="ml.m5.large")

with DAG("builders", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    with SageMakerPipelineGroup(
        group_id="build",
        pipeline_name="builders",
        role_arn=ROLE,
        parameters={"Rows": PipelineParameter.integer(100), "Rate": PipelineParameter.float(0.1),
                    "Input": PipelineParameter.string("s3://bucket/raw")},
    ) as g:
        prep = run_script(
            task_id="prep", code="s3://bucket/code/prep.py", image_uri=IMAGE, role=ROLE,
            instance_type="ml.m5.large", inputs={"raw": g.parameter("Input")},
            outputs={"train": "s3://bucket/train", "test": "s3://bucket/test"},
            arguments=["--rows", g.parameter("Rows")], env={"ROWS": g.parameter("Rows")},
            property_files=[PropertyFile("stats", output_name="train", path="stats.json")],
        )
        outputs = prep.properties.ProcessingOutputConfig.Outputs
        fit = training_job(
            task_id="fit", image_uri=IMAGE, role=ROLE, instance_type="ml.m5.large", output_path="s3://bucket/models",
            entry_point="train.py", source_dir="s3://bucket/code/sourcedir.tar.gz",
            hyperparameters={"epochs": 10, "rate": g.parameter("Rate"), "rows": g.parameter("Rows"), "flag": True},
            inputs={"train": outputs["train"].S3Output.S3Uri}, content_type="text/csv",
            metric_definitions={"validation:auc": r"validation:auc=([0-9.]+)"},
        )
        tune = tuning_job(
            task_id="tune",
            training=training_request(image_uri=IMAGE, role=ROLE, instance_type="ml.m5.large",
                                      output_path="s3://bucket/tuning", hyperparameters={"epochs": 10, "rate": 0.1},
                                      inputs={"train": outputs["train"].S3Output.S3Uri},
                                      metric_definitions={"validation:auc": r"validation:auc=([0-9.]+)"}),
            objective_metric="validation:auc", hyperparameter_ranges={"rate": continuous(0.01, 0.2),
                                                                      "epochs": integer(5, 50)},
            max_jobs=4, max_parallel_jobs=2,
        )
        model = create_model(task_id="model", image_uri=IMAGE, role=ROLE, model_data=top_model_s3_uri(tune),
                             entry_point="inference.py", source_dir="s3://bucket/code/sourcedir.tar.gz",
                             environment={"THRESHOLD": g.parameter("Rate")})
        score = transform_job(task_id="score", model_name=model, data=outputs["test"].S3Output.S3Uri,
                              output_path="s3://bucket/scores", instance_type="ml.m5.large", content_type="text/csv",
                              split_type="Line", accept="text/csv", assemble_with="Line", join_source="Input")
        register = register_model(task_id="register", model_package_group="churn", image_uri=IMAGE, model_data=fit,
                                  content_types=["text/csv"], response_types=["text/csv"],
                                  inference_instances=["ml.m5.large"], transform_instances=["ml.m5.large"])
        prep >> fit >> register
