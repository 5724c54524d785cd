"""The Airflow role's event-queue statement: present exactly when the group or the caller names an event queue."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_sagemaker_mlops.cli import load_groups, main
from airflow_sagemaker_mlops.iam import explain_group, policy_for_group, policy_report
from airflow_sagemaker_mlops.iam.events import CONSUMER_ACTIONS, events_policy

DAGS = Path(__file__).parents[1] / "compiler" / "dags"
CHURN = str(DAGS / "churn_training.py")
URL = "https://sqs.eu-west-1.amazonaws.com/111122223333/sagemaker-mlops-pipeline-events"
ARN = "arn:aws:sqs:eu-west-1:111122223333:sagemaker-mlops-pipeline-events"
CONSUMER = ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:ReceiveMessage"]

GROUP_WITH_QUEUE = """\
from airflow_sagemaker_mlops.compat import DAG
from airflow_sagemaker_mlops import FailStep, SageMakerPipelineGroup

with DAG("evented", schedule=None), SageMakerPipelineGroup(
        group_id="g", pipeline_name="evented", role_arn="arn:aws:iam::111122223333:role/SmPipeline",
        event_queue_url=%r):
    FailStep(task_id="f", error_message="x")
"""


@pytest.fixture(scope="module")
def churn() -> Any:
    return load_groups(CHURN)["churn_model.train"].compile()


def statements_by_sid(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in document["Statement"]}


def test_the_event_queue_adds_exactly_the_consumer_statement(churn):
    without = policy_for_group(churn, "airflow", region="eu-west-1")
    with_queue = policy_for_group(churn, "airflow", region="eu-west-1", event_queue_url=URL)
    added = statements_by_sid(with_queue)
    statement = added.pop("ConsumePipelineEvents")
    assert statement == {"Sid": "ConsumePipelineEvents", "Effect": "Allow", "Action": CONSUMER, "Resource": ARN}
    assert added == statements_by_sid(without)  # nothing else changes


def test_without_an_event_queue_nothing_reads_an_event_queue(churn):
    document = policy_for_group(churn, "airflow", region="eu-west-1")
    assert "ConsumePipelineEvents" not in statements_by_sid(document)
    assert not {a for s in document["Statement"] for a in s["Action"] if a.startswith("sqs:")}


def test_the_queue_arn_follows_the_url_and_the_partition(churn):
    cn = "https://sqs.cn-north-1.amazonaws.com.cn/111122223333/events"
    document = policy_for_group(churn, "airflow", event_queue_url=cn)
    resource = statements_by_sid(document)["ConsumePipelineEvents"]["Resource"]
    assert resource == "arn:aws-cn:sqs:cn-north-1:111122223333:events"
    legacy = "https://eu-west-1.queue.amazonaws.com/444455556666/q"
    document = policy_for_group(churn, "airflow", event_queue_url=legacy)
    assert statements_by_sid(document)["ConsumePipelineEvents"]["Resource"] == "arn:aws:sqs:eu-west-1:444455556666:q"


def test_the_pipeline_role_never_gets_the_consumer_statement(churn):
    pipeline = policy_for_group(churn, "pipeline", region="eu-west-1", event_queue_url=URL)
    assert policy_for_group(churn, "pipeline", region="eu-west-1") == pipeline


def test_a_url_that_is_not_an_sqs_queue_url_is_refused(churn):
    with pytest.raises(ValueError, match=r"event_queue_url: 'http://127.0.0.1:8765/000000000000/q' is not an SQS"):
        policy_for_group(churn, "airflow", event_queue_url="http://127.0.0.1:8765/000000000000/q")


def test_the_consumer_actions_are_the_event_setup_policys(churn):
    """One list: the group's Airflow policy and ``events iam-policy`` grant the same consumer actions."""
    assert sorted(CONSUMER_ACTIONS) == CONSUMER
    consumer = events_policy(region="eu-west-1", account="111122223333", queue_name="sagemaker-mlops-pipeline-events",
                             rule_name="r", setup=False)["Statement"]
    ours = statements_by_sid(policy_for_group(churn, "airflow", event_queue_url=URL))["ConsumePipelineEvents"]
    assert [(s["Resource"], sorted(s["Action"])) for s in consumer] == [(ours["Resource"], ours["Action"])]


def test_the_explanation_says_why(churn):
    report = policy_report(churn, "airflow", event_queue_url=URL)
    (statement,) = [s for s in report.statements if s.sid == "ConsumePipelineEvents"]
    assert statement.reasons == [f"the triggerer's waiting tasks consume SageMaker's pipeline events from the event "
                                 f"queue {URL} (receive, give back the other pipelines' events, delete)"]
    assert "ConsumePipelineEvents: sqs:ChangeMessageVisibility" in explain_group(churn, "airflow",
                                                                                event_queue_url=URL)


def test_the_groups_event_queue_url_is_used(tmp_path):
    dag = tmp_path / "evented.py"
    dag.write_text(GROUP_WITH_QUEUE % URL)
    group = load_groups(str(dag))["evented.g"]
    assert statements_by_sid(policy_for_group(group, "airflow"))["ConsumePipelineEvents"]["Resource"] == ARN
    other = "https://sqs.eu-west-1.amazonaws.com/111122223333/other"
    explicit = statements_by_sid(policy_for_group(group, "airflow", event_queue_url=other))
    assert explicit["ConsumePipelineEvents"]["Resource"] == "arn:aws:sqs:eu-west-1:111122223333:other"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_event_queue_url(capsys):
    status, out, err = run(capsys, "iam-policy", CHURN, "--group", "train", "--role", "airflow",
                           "--region", "eu-west-1", "--event-queue-url", URL)
    assert status == 0, err
    assert statements_by_sid(json.loads(out))["ConsumePipelineEvents"] == {
        "Sid": "ConsumePipelineEvents", "Effect": "Allow", "Action": CONSUMER, "Resource": ARN}
    status, out, err = run(capsys, "iam-policy", CHURN, "--group", "train", "--role", "airflow",
                           "--region", "eu-west-1")
    assert status == 0, err
    assert "ConsumePipelineEvents" not in statements_by_sid(json.loads(out))
    status, _, err = run(capsys, "iam-policy", CHURN, "--group", "train", "--role", "airflow",
                         "--event-queue-url", "not a url")
    assert status == 2 and err.startswith("error: event_queue_url: 'not a url' is not an SQS queue URL")
