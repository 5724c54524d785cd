"""A DAG without any pipeline group."""

from __future__ import annotations

from airflow.providers.common.compat.sdk import DAG, task
from ui_common import START

with DAG("ui_plain", schedule=None, start_date=START):

    @task
    def hello() -> str:
        return "hello"

    hello()
