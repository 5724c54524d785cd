"""Every expression kind: parameters of each type, execution variables, property paths with attribute,
['key'] and [0] segments, Join (nested), JsonGet over a property file and over an S3 URI, output parameters."""

from __future__ import annotations

import pendulum

from airflow_sagemaker_mlops import (
    Execution,
    FailStep,
    Join,
    JsonGet,
    LambdaStep,
    PipelineParameter,
    ProcessingStep,
    PropertyFile,
    SageMakerPipelineGroup,
    TuningStep,
)
from airflow_sagemaker_mlops.compat import DAG

with DAG("expressions", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    with SageMakerPipelineGroup(
        group_id="exprs",
        pipeline_name="expressions",
        parameters={
            "Bucket": PipelineParameter.string("bucket"),
            "Mode": PipelineParameter.string("full", enum_values=["full", "incremental"]),
            "Epochs": PipelineParameter.integer(10),
            "Rate": PipelineParameter.float(0.1),
            "Debug": PipelineParameter.boolean(False),
            "NoDefault": PipelineParameter.string(),
        },
        parameter_values={"Epochs": 3, "Rate": "0.5", "Debug": "true", "Mode": "incremental"},
    ) as g:
        prefix = Join(["s3:/", g.parameter("Bucket"), "runs", Execution.PipelineExecutionId], on="/")
        prep = ProcessingStep(task_id="prep", job={
            "AppSpecification": {"ImageUri": "img"},
            "Environment": {"MODE": g.parameter("Mode"), "EPOCHS": g.parameter("Epochs"),
                            "RATE": g.parameter("Rate"), "DEBUG": g.parameter("Debug"),
                            "PIPELINE": Execution.PipelineName, "ARN": Execution.PipelineExecutionArn,
                            "PIPELINE_ARN": Execution.PipelineArn, "STARTED": Execution.StartDateTime,
                            "NOW": Execution.CurrentDateTime, "EXTRA": g.parameter("NoDefault")},
            "ProcessingOutputConfig": {"Outputs": [
                {"OutputName": "report", "S3Output": {"S3Uri": Join([prefix, "report"], on="/"),
                                                      "LocalPath": "/opt/ml/processing/report",
                                                      "S3UploadMode": "EndOfJob"}}]},
        }, property_files=[PropertyFile("report", output_name="report", path="report.json")])
        tune = TuningStep(task_id="tune", job={
            "HyperParameterTuningJobConfig": {"Strategy": "Random"},
            "TrainingJobDefinition": {"StaticHyperParameters": {"report": prep.properties.ProcessingOutputConfig
                                                                .Outputs["report"].S3Output.S3Uri}},
        })
        notify = LambdaStep(
            task_id="notify",
            function_arn="arn:aws:lambda:us-east-1:111122223333:function:notify",
            inputs={
                "best": tune.properties.BestTrainingJob.TrainingJobName,
                "first": tune.properties.TrainingJobSummaries[0].TrainingJobName,
                "score": JsonGet(prep, "report", "scores[0].value"),
                "external": JsonGet(s3_uri=Join(["s3://", g.parameter("Bucket"), "/config.json"]),
                                    path="threshold"),
            },
            outputs={"status": "String", "count": "Integer"},
        )
        FailStep(task_id="explain", error_message=Join(["status=", notify.output_parameter("status"), " count=",
                                                         notify.properties.OutputParameters["count"]]))
