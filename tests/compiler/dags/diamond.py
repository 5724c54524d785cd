"""A diamond with mixed data and order dependencies: >> becomes DependsOn only where no data
dependency already implies it."""

from __future__ import annotations

import pendulum

from airflow_sagemaker_mlops import ProcessingStep, SageMakerPipelineGroup, TrainingStep
from airflow_sagemaker_mlops.compat import DAG

with DAG("diamond", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    with SageMakerPipelineGroup(group_id="d", pipeline_name="diamond"):
        top = ProcessingStep(task_id="top", job={"AppSpecification": {"ImageUri": "img"},
                                                  "ProcessingOutputConfig": {"Outputs": [
                                                      {"OutputName": "a", "S3Output": {
                                                          "S3Uri": "s3://b/a", "LocalPath": "/opt/ml/processing/a",
                                                          "S3UploadMode": "EndOfJob"}}]}})
        left = TrainingStep(task_id="left", job={"InputDataConfig": [{"ChannelName": "a", "DataSource": {
            "S3DataSource": {"S3DataType": "S3Prefix",
                             "S3Uri": top.properties.ProcessingOutputConfig.Outputs["a"].S3Output.S3Uri}}}]})
        right = ProcessingStep(task_id="right", job={"AppSpecification": {"ImageUri": "img"}})
        bottom = ProcessingStep(task_id="bottom", job={"AppSpecification": {"ImageUri": "img"},
                                                        "Environment": {"MODEL": left.properties.ModelArtifacts
                                                                        .S3ModelArtifacts}})
        top >> [left, right]  # top >> left is also a data dependency: no DependsOn for it
        [left, right] >> bottom
