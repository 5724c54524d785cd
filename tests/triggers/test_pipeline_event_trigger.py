"""PipelineEventTrigger (AssetWatcher) and PipelineEventSensor: an execution started with plain boto3 ends."""

from __future__ import annotations

import asyncio
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from pipeline_helpers import noop, spec, unique

from airflow_sagemaker_mlops.compat import AIRFLOW_V3
from airflow_sagemaker_mlops.hooks.events import setup_event_queue
from airflow_sagemaker_mlops.triggers.events import PipelineEventTrigger

# Their rules would otherwise keep receiving every later execution's events (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("forget_event_rules")

ROOT = Path(__file__).resolve().parents[2]


def pipeline(engine: Any) -> tuple[str, str]:
    s = spec([noop("A")], parameters=[{"Name": "Region", "Type": "String", "DefaultValue": "eu"}])
    sm = engine.client("sagemaker")
    request = s.to_request()
    sm.create_pipeline(**{**request, "PipelineDefinition": json.dumps(request["PipelineDefinition"])})
    name = unique("watch")
    url = setup_event_queue(engine.client("sqs"), engine.client("events"), queue_name=name, rule_name=name).queue_url
    return s.name, url


def test_the_trigger_fires_with_arn_status_and_parameters(engine: Any) -> None:
    name, url = pipeline(engine)
    sm = engine.client("sagemaker")
    trigger = PipelineEventTrigger(url, name, ["Succeeded"], aws_conn_id=None)

    async def main() -> dict[str, Any]:
        run = trigger.run()
        first = asyncio.ensure_future(anext(run))
        await asyncio.sleep(0.3)
        # Started outside Airflow, with plain boto3; another pipeline's events do not count.
        arn = await asyncio.to_thread(lambda: sm.start_pipeline_execution(
            PipelineName=name, PipelineParameters=[{"Name": "Region", "Value": "us"}])["PipelineExecutionArn"])
        event = await asyncio.wait_for(first, 30)
        await run.aclose()
        return {"arn": arn, **event.payload}

    got = asyncio.run(main())
    assert got["execution_arn"] == got["arn"] and got["status"] == "Succeeded"
    assert got["pipeline_name"] == name and got["parameters"] == {"Region": "us"}
    json.dumps(got)
    path, kwargs = trigger.serialize()
    assert PipelineEventTrigger(**kwargs).serialize() == (path, kwargs)


def test_the_sensor_returns_the_next_matching_execution(engine: Any) -> None:
    from airflow_sagemaker_mlops.sensors.events import PipelineEventSensor

    name, url = pipeline(engine)
    sm = engine.client("sagemaker")
    sensor = PipelineEventSensor(task_id="w", queue_url=url, pipeline_name=name, aws_conn_id=None, poke_interval=2)
    assert sensor.poke({}) is False
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    for _ in range(10):
        result = sensor.poke({})
        if result:
            break
    assert result.is_done and result.xcom_value["execution_arn"] == arn
    assert result.xcom_value["parameters"] == {"Region": "eu"}


@pytest.mark.skipif(not AIRFLOW_V3, reason="AssetWatcher is Airflow 3's; on 2.11 the example uses the sensor")
def test_the_example_dag_watches_the_pipeline_asset() -> None:
    import sys

    sys.path.insert(0, str(ROOT / "dags"))
    loaded = importlib.util.spec_from_file_location("on_pipeline_events", ROOT / "dags" / "on_pipeline_events.py")
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    (watcher,) = module.trained.watchers
    assert isinstance(watcher.trigger, PipelineEventTrigger) and watcher.trigger.pipeline_name == "churn-train"
