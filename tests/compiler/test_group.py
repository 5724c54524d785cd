"""SageMakerPipelineGroup behaviour beyond compiling: the tasks it adds, DAG params, the execution ARN."""

from __future__ import annotations

import pendulum
import pytest

from airflow_sagemaker_mlops import FailStep, PipelineParameter, ProcessingStep, SageMakerPipelineGroup
from airflow_sagemaker_mlops.compat import DAG
from airflow_sagemaker_mlops.exceptions import PipelineCompileError

START = pendulum.datetime(2026, 1, 1, tz="UTC")


def test_dag_params_expose_the_pipeline_parameters():
    parameters = {"MinAuc": PipelineParameter.float(0.8), "Mode": PipelineParameter.string("a", ["a", "b"]),
                  "Required": PipelineParameter.integer(), "Given": PipelineParameter.boolean(True)}
    with DAG("dp", schedule=None, start_date=START) as dag:
        with SageMakerPipelineGroup("g", pipeline_name="p", dag_params=True, parameters=parameters,
                                    parameter_values={"Given": "{{ dag_run.conf.get('given', true) }}"}) as group:
            FailStep(task_id="f", error_message="x")
    assert sorted(dag.params) == ["MinAuc", "Mode", "Required"]  # Given comes from parameter_values
    assert dag.params.get_param("MinAuc").schema["type"] == "number"
    assert dag.params["MinAuc"] == 0.8
    assert dag.params.get_param("Mode").schema == {"type": "string", "enum": ["a", "b"]}
    assert dag.params.get_param("Required").schema["type"] == "integer"
    assert group.parameter_values["Mode"] == "{{ params['Mode'] }}"
    start = dag.get_task("g.start")
    assert start.parameter_values == group.parameter_values


def test_dag_params_do_not_override_an_existing_param():
    with DAG("dp2", schedule=None, start_date=START, params={"MinAuc": 0.5}):
        with pytest.raises(PipelineCompileError, match="already has a param named 'MinAuc'"):
            SageMakerPipelineGroup("g", pipeline_name="p", dag_params=True,
                                   parameters={"MinAuc": PipelineParameter.float(0.8)})


def test_start_task_precedes_the_root_steps_and_upstream_lands_on_it():
    with DAG("rt", schedule=None, start_date=START) as dag:
        with SageMakerPipelineGroup("g", pipeline_name="p") as group:
            a = ProcessingStep(task_id="a", job={})
            b = ProcessingStep(task_id="b", job={"Environment": {"X": a.properties.ProcessingJobArn}})
    start = dag.get_task("g.start")
    assert start.downstream_task_ids == {"g.a"}
    assert b.upstream_task_ids == {"g.a"}
    assert group.execution_arn.operator is start
    assert group.execution_arn.key == "execution_arn"


def test_compiling_is_analysis_the_group_links_the_implied_edges_once_when_it_closes():
    with DAG("pure", schedule=None, start_date=START) as dag:
        with SageMakerPipelineGroup("g", pipeline_name="p") as group:
            a = ProcessingStep(task_id="a", job={})
            b = ProcessingStep(task_id="b", job={"Environment": {"X": a.properties.ProcessingJobArn}})
            assert b.upstream_task_ids == set()  # nothing is linked while the group is open
    assert group.compiled.edges == {"b": frozenset({"a"})}
    assert b.upstream_task_ids == {"g.a"}
    edges_before = {t.task_id: set(t.upstream_task_ids) for t in dag.tasks}
    again = group.compile()  # a second compile reads the graph and changes none of it
    assert {t.task_id: set(t.upstream_task_ids) for t in dag.tasks} == edges_before
    assert again.spec.to_request() == group.compiled.spec.to_request()


def test_reserved_task_id():
    with DAG("rt2", schedule=None, start_date=START):
        with pytest.raises(PipelineCompileError, match="'start' is reserved"):
            with SageMakerPipelineGroup("g", pipeline_name="p"):
                ProcessingStep(task_id="start", job={})
