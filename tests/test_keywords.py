"""The one wrong-keyword check (location.keyword_error and its users) beyond the bad-DAG table."""

from __future__ import annotations

import pytest

from airflow_sagemaker_mlops import location
from airflow_sagemaker_mlops.definition.steps import RetryPolicy
from airflow_sagemaker_mlops.exceptions import PipelineCompileError
from airflow_sagemaker_mlops.location import keyword_error, unknown_operator_keywords
from airflow_sagemaker_mlops.operators.steps import ProcessingStep


def test_several_wrong_keywords_are_named_together_with_their_closest_names():
    error = keyword_error(["max_attemps", "backof_rate", "zzz"], ["max_attempts", "backoff_rate"], what="RetryPolicy")
    assert error is not None and error.field == "max_attemps"
    assert str(error) == ("RetryPolicy got unexpected keyword arguments 'max_attemps' (did you mean 'max_attempts'?), "
                          "'backof_rate' (did you mean 'backoff_rate'?), 'zzz'; it takes max_attempts, backoff_rate")


def test_accepted_keywords_pass():
    assert keyword_error(["a"], ["a", "b"], what="f") is None
    assert unknown_operator_keywords(ProcessingStep, {"task_id": "p", "job": {}, "retries": 2, "doc_md": "x"}) is None


def test_an_operator_did_you_mean_searches_airflows_arguments_but_lists_only_ours():
    error = unknown_operator_keywords(ProcessingStep, {"task_id": "p", "job": {}, "execution_timout": 5})
    assert error is not None
    assert "(did you mean 'execution_timeout'?)" in str(error)
    assert str(error).endswith("run_after_outcome, and Airflow's BaseOperator arguments")
    assert "owner" not in str(error)


def test_a_users_subclass_taking_kwargs_turns_the_check_off():
    class MyStep(ProcessingStep):
        def __init__(self, *, flavour: str = "x", **kwargs):
            kwargs.pop("anything", None)
            super().__init__(**kwargs)

    MyStep.__module__ = "my_dags.helpers"
    assert unknown_operator_keywords(MyStep, {"task_id": "p", "job": {}, "anything": 1}) is None


def test_airflow_2s_allow_illegal_arguments_is_honoured_for_operators_only(monkeypatch):
    monkeypatch.setattr(location, "_illegal_arguments_allowed", lambda: True)
    assert unknown_operator_keywords(ProcessingStep, {"task_id": "p", "job": {}, "jobs": {}}) is None
    with pytest.raises(PipelineCompileError, match="did you mean 'max_attempts'"):
        RetryPolicy(["Step.THROTTLING"], max_attemps=3)  # our own dataclass: no Airflow setting applies
