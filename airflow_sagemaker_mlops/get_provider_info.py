"""Provider metadata Airflow reads through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-sagemaker-mlops",
        "name": "SageMaker Pipelines (airflow-sagemaker-mlops)",
        "description": "Compile Airflow task groups into Amazon SageMaker pipelines, run them and mirror "
        "their steps into Airflow tasks.",
        "versions": ["0.1.0"],
        "integrations": [
            {
                "integration-name": "Amazon SageMaker Pipelines",
                "external-doc-url": "https://docs.aws.amazon.com/sagemaker/latest/dg/pipelines.html",
                "tags": ["aws"],
            }
        ],
        "operators": [
            {
                "integration-name": "Amazon SageMaker Pipelines",
                "python-modules": [
                    "airflow_sagemaker_mlops.operators.steps",
                    "airflow_sagemaker_mlops.operators.functions",
                    "airflow_sagemaker_mlops.operators.runtime",
                    "airflow_sagemaker_mlops.operators.lifecycle",
                    "airflow_sagemaker_mlops.operators.registry",
                    "airflow_sagemaker_mlops.operators.ram",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": "Amazon SageMaker Pipelines",
                "python-modules": ["airflow_sagemaker_mlops.sensors.pipelines",
                                   "airflow_sagemaker_mlops.sensors.registry"],
            }
        ],
        "hooks": [
            {
                "integration-name": "Amazon SageMaker Pipelines",
                "python-modules": ["airflow_sagemaker_mlops.hooks.pipelines",
                                   "airflow_sagemaker_mlops.hooks.registry",
                                   "airflow_sagemaker_mlops.hooks.ram"],
            }
        ],
        "triggers": [
            {
                "integration-name": "Amazon SageMaker Pipelines",
                "python-modules": ["airflow_sagemaker_mlops.triggers.pipelines",
                                   "airflow_sagemaker_mlops.triggers.registry"],
            }
        ],
        # ``@task.sagemaker(...)``: the same decorator as ``sagemaker_step`` (a function step in a pipeline group).
        "task-decorators": [
            {"class-name": "airflow_sagemaker_mlops.operators.functions.sagemaker_step", "name": "sagemaker"},
        ],
        "extra-links": [
            "airflow_sagemaker_mlops.links.SageMakerPipelineExecutionLink",
            "airflow_sagemaker_mlops.links.SageMakerStepJobLink",
        ],
        "config": {
            "sagemaker_mlops": {
                "description": "airflow-sagemaker-mlops at run time.",
                "options": {
                    "min_deferral_seconds": {
                        "description": "Seconds a trigger that resumes a task (PipelineExecutionTrigger, "
                        "ModelPackageApprovalTrigger) waits from its start before it fires, "
                        "so that the scheduler has processed the deferring attempt first (apache/airflow#72716: "
                        "a task resumed too soon can be failed as 'state changed externally'). 0 for "
                        "`airflow dags test`, which runs no scheduler.",
                        "version_added": "0.1.0",
                        "type": "float",
                        "example": "10",
                        "default": "10",
                    },
                    "end_from_trigger": {
                        "description": "Opt-in: a deferred step task whose step succeeded is ended by its "
                        "trigger (TaskSuccessEvent with the XComs the worker would push) instead of resuming on a "
                        "worker, which saves the resume (about a second). Only for tasks that need nothing else "
                        "of the worker: no OpenLineage, no outlets, not ConditionStep or RegisterModelStep, "
                        "job_logs=False, do_xcom_push=True; the others, and every other outcome, resume as usual.",
                        "version_added": "0.1.0",
                        "type": "boolean",
                        "example": "True",
                        "default": "False",
                    },
                },
            },
        },
    }
