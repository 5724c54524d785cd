"""The start task checks the run's parameter values with the same checker as the hook
(definition.parameters.check_run_values): every problem named, final (no Airflow retry), before any call."""

from __future__ import annotations

import pytest

from airflow_sagemaker_mlops.compat import AirflowFailException
from airflow_sagemaker_mlops.definition.parameters import PipelineParameter, check_run_values
from airflow_sagemaker_mlops.hooks.errors import PipelineParameterError
from airflow_sagemaker_mlops.hooks.pipelines import SageMakerPipelinesHook
from airflow_sagemaker_mlops.operators.runtime import check_parameter_values

DECLARED = {
    "Mode": PipelineParameter.string("fast", enum_values=["fast", "slow"]),
    "Threshold": PipelineParameter.float(0.5),
    "Input": PipelineParameter.string(),
}


def test_values_are_coerced_and_defaults_left_to_sagemaker() -> None:
    assert check_run_values({"Threshold": "0.8", "Input": "s3://b/k", "Mode": None}, DECLARED) == (
        {"Threshold": 0.8, "Input": "s3://b/k"}, [])


def test_every_problem_is_named_once_in_the_start_task_and_the_hook_alike() -> None:
    values = {"Mode": "medium", "Threshold": "high", "Typo": 1}
    _, problems = check_run_values(values, DECLARED)
    assert problems == [
        "parameter_values['Typo']: no such pipeline parameter (declared: Input, Mode, Threshold)",
        "parameter_values['Mode']: 'medium' is not one of the enum values ['fast', 'slow']",
        "parameter_values['Threshold']: 'high' (str) is not a valid Float",
        "parameter_values['Input']: parameter 'Input' has no default value and no value was given",
    ]
    with pytest.raises(AirflowFailException) as failed:
        check_parameter_values(values, DECLARED)
    assert str(failed.value).splitlines()[:4] == problems and "Next: " in str(failed.value)
    with pytest.raises(PipelineParameterError) as refused:
        SageMakerPipelinesHook.pipeline_parameters(values, DECLARED)
    assert all(p in str(refused.value) for p in problems)
