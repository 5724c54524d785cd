"""A DAG without any pipeline group."""

from __future__ import annotations

from ui_common import START

from airflow_sagemaker_mlops.compat import DAG, task

with DAG("ui_plain", schedule=None, start_date=START):

    @task
    def hello() -> str:
        return "hello"

    hello()
