"""What the pipeline tab reads of a serialized DAG: the groups, as their start tasks describe them."""

from __future__ import annotations

import pendulum
from airflow.serialization.serialized_objects import DagSerialization

from airflow_sagemaker_mlops import FailStep, SageMakerPipelineGroup
from airflow_sagemaker_mlops.compat import DAG, task
from airflow_sagemaker_mlops.ui.data import AirflowUrls, GroupInfo, group_view, pipeline_groups

ROLE = "arn:aws:iam::123456789012:role/SmPipeline"


def serialized(dag: DAG):
    """The DAG as the api-server sees it: serialized to JSON by the dag-processor and read back."""
    return DagSerialization.from_dict(DagSerialization.to_dict(dag))


def test_groups_survive_serialization_with_their_pipeline_connection_and_steps():
    with DAG("two_groups", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")) as dag:
        with SageMakerPipelineGroup(group_id="first", pipeline_name="p-first", role_arn=ROLE):
            FailStep(task_id="stop", step_name="Stop-Here", error_message="x")
        with SageMakerPipelineGroup(group_id="second", pipeline_name="p-second", role_arn=ROLE,
                                    aws_conn_id="aws_other", region_name="eu-west-1", mirror_steps=False):
            FailStep(task_id="halt", error_message="y")

        @task
        def plain() -> None:
            pass

        plain()
    assert pipeline_groups(serialized(dag)) == [
        GroupInfo("first", "first.start", "p-first", "aws_default", None, {"Stop-Here": "first.stop"}),
        GroupInfo("second", "second.start", "p-second", "aws_other", "eu-west-1", {"halt": "second.halt"}),
    ]


def test_a_dag_without_groups_has_none():
    with DAG("plain", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")) as dag:

        @task
        def hello() -> None:
            pass

        hello()
    assert pipeline_groups(serialized(dag)) == []


def test_airflow_urls_quote_ids_and_keep_the_base_path():
    urls = AirflowUrls("/airflow")
    assert urls.task_instance("d", "manual__2026-01-01T00:00:00+00:00", "g.fit") == \
        "/airflow/dags/d/runs/manual__2026-01-01T00%3A00%3A00%2B00%3A00/tasks/g.fit"
    assert urls.task_instance("d", None, "g.fit") == "/airflow/dags/d/tasks/g.fit"


def test_a_start_task_serialized_before_the_tab_existed_is_named():
    # Such a task has no pipeline name; no AWS call is made (there is nothing to ask for).
    view = group_view("d", GroupInfo("g", "g.start", ""), None, AirflowUrls())
    assert view.graph is None and "'g.start' has no pipeline name" in view.error
