"""A DAG that runs when the churn-train pipeline's execution succeeds, whoever started it (CI, the console,
another team): SageMaker's event, through EventBridge and an SQS queue of its own (``events setup
--queue-name churn-train-events --rule-name churn-train-events``), reaches an Airflow 3 ``AssetWatcher``; on
Airflow 2.11 a PipelineEventSensor waits for it instead. The triggering execution's ARN, status and parameter
values are in the asset event's extra (``payload``) / the sensor's XCom.
"""

from __future__ import annotations

from typing import Any

from example_settings import ACCOUNT, REGION, START

from airflow_sagemaker_mlops.compat import AIRFLOW_V3, DAG, Asset, AssetWatcher, task
from airflow_sagemaker_mlops.definition.events import pipeline_status_uri
from airflow_sagemaker_mlops.triggers.events import PipelineEventTrigger

PIPELINE = "churn-train"
EVENTS_QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/churn-train-events"


@task
def report(payload: dict[str, Any] | None = None, **context: Any) -> dict[str, Any]:
    if payload is None:  # Airflow 3: the asset event that scheduled this run
        events = context["triggering_asset_events"]
        payload = next(e.extra["payload"] for evs in events.values() for e in evs)
    print(f"{payload['pipeline_name']} execution {payload['execution_arn']} {payload['status']}; "
          f"parameters {payload['parameters']}")
    return payload


if AIRFLOW_V3 and AssetWatcher is not None:
    # x-sagemaker-pipeline://churn-train/succeeded
    trained = Asset(pipeline_status_uri(PIPELINE, "Succeeded"), watchers=[AssetWatcher(
        name="churn_train_succeeded", trigger=PipelineEventTrigger(EVENTS_QUEUE_URL, PIPELINE, ["Succeeded"]))])
    with DAG("on_churn_trained", schedule=[trained], start_date=START, catchup=False, tags=["events"]):
        report()
else:
    from airflow_sagemaker_mlops.sensors.events import PipelineEventSensor

    with DAG("on_churn_trained", schedule=None, start_date=START, catchup=False, tags=["events"]):
        wait = PipelineEventSensor(task_id="wait_for_churn_train", queue_url=EVENTS_QUEUE_URL,
                                   pipeline_name=PIPELINE, statuses=["Succeeded"], mode="reschedule")
        report(wait.output)
