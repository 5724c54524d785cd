"""Scheduled on pipeline events: runs when rt-watched's execution (started with boto3) succeeds.

Unpaused at creation: Airflow runs the asset watcher of an unpaused DAG only, and decides that when it parses
the file (the shared test cluster parses each file once), so it watches from the start.
"""

from __future__ import annotations

import os
from typing import Any

from rt_common import START

from airflow_sagemaker_mlops.compat import AIRFLOW_V3, DAG, Asset, AssetWatcher, task
from airflow_sagemaker_mlops.triggers.events import PipelineEventTrigger

QUEUE = os.environ.get("RT_WATCH_QUEUE_URL", "http://127.0.0.1:1/123456789012/unset")


@task
def report(**context: Any) -> dict[str, Any]:
    events = context["triggering_asset_events"]
    payload = next(e.extra["payload"] for evs in events.values() for e in evs)
    print(f"triggered by {payload['execution_arn']} {payload['status']} {payload['parameters']}")
    return payload


if AIRFLOW_V3 and AssetWatcher is not None:
    watched = Asset("sagemaker-pipeline://rt-watched/succeeded", watchers=[AssetWatcher(
        name="rt_watched_succeeded", trigger=PipelineEventTrigger(QUEUE, "rt-watched", ["Succeeded"]))])
    with DAG("rt_on_events", schedule=[watched], start_date=START, catchup=False, is_paused_upon_creation=False):
        report()
