"""The start task checks the run's parameter values with the same checker as the hook
(definition.parameters.check_run_values): every problem named, final (no Airflow retry), before any call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_sagemaker_mlops.cli import load_groups
from airflow_sagemaker_mlops.compat import AirflowFailException
from airflow_sagemaker_mlops.definition.parameters import PipelineParameter, check_run_values
from airflow_sagemaker_mlops.hooks.errors import PipelineParameterError
from airflow_sagemaker_mlops.hooks.pipelines import SageMakerPipelinesHook
from airflow_sagemaker_mlops.operators import runtime
from airflow_sagemaker_mlops.operators.failures import is_final
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


RT_BRANCHES = Path(__file__).resolve().parents[1] / "runtime" / "dags" / "rt_branches.py"


class NoCalls:
    """A hook that fails the test on any use: the values are checked before any AWS call."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the start task used the hook ({name}) before checking the values")


def test_the_start_task_rejects_a_wrong_typed_value_of_the_runs_conf_before_any_call(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # (Moved from an `airflow dags test` run: tests/runtime/test_dags_test.py runs the same DAG's conf path.)
    group = next(iter(load_groups(str(RT_BRANCHES)).values()))
    start = group.children["train.start"]
    # The conf's values reach parameter_values through the DAG's params, as Airflow renders them.
    start.render_template_fields({"params": {"score": "0.9", "threshold": "high", "sleep": "0"}})
    assert start.parameter_values == {"Score": "0.9", "Threshold": "high", "Sleep": "0"}
    monkeypatch.setattr(runtime, "pipelines_hook", lambda settings: NoCalls())
    with pytest.raises(AirflowFailException) as failed:
        start.execute({"ti": None, "run_id": "manual__1"})
    assert str(failed.value).splitlines()[0] == "parameter_values['Threshold']: 'high' (str) is not a valid Float"
    # An AirflowFailException (no retry) reported as a final status, and the group's step tasks are
    # downstream of the start task: Airflow marks them upstream_failed, none starts.
    assert is_final(failed.value)
    assert {"train.evaluate", "train.gate"} <= start.get_flat_relative_ids(upstream=False)
