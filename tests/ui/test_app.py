"""The pipeline tab's FastAPI app on an Airflow database holding real runs on the local engine (conftest.py):
what it draws, the links, no execution yet, AWS errors, DAGs without groups, login, base paths."""

from __future__ import annotations

import json
import re
import runpy
import socket
import sys
import urllib.parse
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from airflow_sagemaker_mlops.ui.app import create_app
from airflow_sagemaker_mlops.ui.plugin import URL_PREFIX, LazyApp

DAGS = Path(__file__).parent / "dags"
UiAirflow = Any  # conftest.UiAirflow


@pytest.fixture(scope="module")
def token() -> str:
    """A UI user's JWT, signed by the configured auth manager, as the api-server issues it at login."""
    from airflow.api_fastapi.app import create_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    return create_auth_manager().generate_jwt(SimpleAuthManagerUser(username="viewer", role="viewer"))


@pytest.fixture
def client(ui_airflow: UiAirflow, token: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    # The api-server reaches AWS through the group's connection (aws_default here), like the tasks do.
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", ui_airflow.env["AIRFLOW_CONN_AWS_DEFAULT"])
    with TestClient(create_app(), headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


def steps(html: str) -> dict[str, str]:
    """step name -> drawn status."""
    return dict(re.findall(r'<g class="step" data-step="([^"]+)" data-status="([^"]+)"', html))


def edges(html: str) -> dict[tuple[str, str], tuple[str, bool]]:
    """(source, target) -> (kind, faded)."""
    found = re.findall(r'<g class="edge edge-(\w+)" data-source="([^"]+)" data-target="([^"]+)"( opacity)?', html)
    return {(s, t): (kind, bool(faded)) for kind, s, t, faded in found}


def section(html: str, group_id: str) -> str:
    match = re.search(rf'<section class="group" id="group-{group_id}">(.*?)</section>', html, re.S)
    assert match, html[:3000]
    return match.group(1)


def test_each_group_is_drawn_and_coloured_by_its_latest_execution(client: TestClient, ui_airflow: UiAirflow):
    reply = client.get("/dags/ui_pipeline")
    assert reply.status_code == 200, reply.text
    html = reply.text
    train, checks = section(html, "train"), section(html, "checks")
    assert steps(train) == {"evaluate": "Succeeded", "Audit-Run": "Succeeded", "register": "Succeeded",
                            "too_weak": "Not run", "gate": "Succeeded"}
    assert edges(train) == {
        ("evaluate", "gate"): ("data", False),        # JsonGet on evaluate's property file
        ("evaluate", "Audit-Run"): ("order", False),  # evaluate >> audit: DependsOn only
        ("gate", "register"): ("true", False),
        ("gate", "too_weak"): ("false", True),        # the branch not taken is faded
    }
    assert steps(checks) == {"stop": "Failed"}
    assert "checks failed on purpose" in unescape(checks)
    run_id = ui_airflow.run.run_id
    assert run_id in train and ">Succeeded<" in train and ">Failed<" in checks  # execution status chips
    # Links: every step to its task instance in that DAG run (the step name differs from the task id for
    # Audit-Run); the jobs and the execution to the local engine's console (the connection's endpoint is the
    # engine: the AWS console would lead nowhere).
    run_path = f"/dags/ui_pipeline/runs/{urllib.parse.quote(run_id, safe='')}"
    links = [unescape(h) for h in re.findall(r'<a href="([^"]+)"', html)]
    for task_id in ("train.evaluate", "train.audit", "train.gate", "train.register", "train.too_weak", "checks.stop"):
        assert f"{run_path}/tasks/{task_id}" in links, (task_id, links)
    console = f"{ui_airflow.engine.url}/_local/console/"
    job = ui_airflow.run.xcom("train.evaluate", "ProcessingJobName")
    assert job and f"{console}jobs/processing-job/{job}" in links, links
    package = ui_airflow.run.xcom("train.register", "ModelPackageArn")  # the model package's own page
    assert package and f"{console}model-packages/{package.split('/', 1)[1]}" in links, links
    execution_id = ui_airflow.run.xcom("train.start", "execution_arn").rsplit("/", 1)[1]
    assert f"{console}executions/{execution_id}" in links, links
    assert not any("console.aws.amazon.com" in link for link in links), links
    assert "DescribePipelineDefinitionForExecution" in train


def test_a_run_without_an_execution_is_named(client: TestClient):
    html = client.get("/dags/ui_pipeline", params={"run_id": "no-such-run"}).text
    assert "DAG run &#x27;no-such-run&#x27; started no pipeline execution" in html


def _compiled_definition(dag_file: str, group_id: str) -> str:
    sys.path.insert(0, str(DAGS))
    try:
        namespace = runpy.run_path(str(DAGS / dag_file))
    finally:
        sys.path.remove(str(DAGS))
    group = next(v for v in namespace.values() if getattr(v, "group_id", None) == group_id)
    return group.compile().spec.definition.to_json()


def test_no_execution_yet_draws_the_current_definition_grey(client: TestClient, ui_airflow: UiAirflow):
    html = client.get("/dags/ui_unrun").text
    assert "SageMaker has no pipeline &#x27;ui-unrun&#x27;" in html and 'class="pipeline"' not in html, html[:3000]
    sagemaker = ui_airflow.engine.client("sagemaker")
    sagemaker.create_pipeline(PipelineName="ui-unrun", RoleArn="arn:aws:iam::123456789012:role/SmPipeline",
                              PipelineDefinition=_compiled_definition("ui_unrun.py", "later"))
    html = client.get("/dags/ui_unrun").text
    assert steps(html) == {"placeholder": "No execution"}
    assert "No execution yet" in html and "DescribePipeline" in html
    # No DAG run: the step links to its task's page.
    assert '<a href="/dags/ui_unrun/tasks/later.placeholder"' in html


def test_aws_errors_show_a_message_per_group_not_a_500(client: TestClient, sagemaker_local_engine: Any):
    sagemaker_local_engine.faults.throttle(1.0, operations=["DescribePipelineDefinitionForExecution"])
    reply = client.get("/dags/ui_pipeline")
    assert reply.status_code == 200
    for group, pipeline in (("train", "ui-train"), ("checks", "ui-checks")):
        text = unescape(section(reply.text, group))
        assert f"Could not read pipeline '{pipeline}' from SageMaker through connection 'aws_default'" in text
        assert "Throttl" in text and 'class="pipeline"' not in text


def test_an_unreachable_endpoint_is_reported(client: TestClient, monkeypatch: pytest.MonkeyPatch):
    with socket.socket() as sock:  # a port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps({"conn_type": "aws", "extra": {
        "endpoint_url": f"http://127.0.0.1:{port}", "region_name": "us-east-1"}}))
    reply = client.get("/dags/ui_pipeline")
    assert reply.status_code == 200
    assert "Could not connect to the endpoint URL" in unescape(section(reply.text, "train")), reply.text[:3000]


def test_a_dag_without_groups_says_so(client: TestClient):
    reply = client.get("/dags/ui_plain")
    assert reply.status_code == 200
    assert "has no SageMakerPipelineGroup, so there is no SageMaker pipeline to show" in reply.text
    assert 'class="pipeline"' not in reply.text and '<a href="../help"' in reply.text
    help_page = client.get(urllib.parse.urljoin("/dags/ui_plain", "../help"))
    assert help_page.status_code == 200 and "SageMakerPipelineGroup" in help_page.text


def test_an_unknown_dag_is_a_404(client: TestClient):
    assert client.get("/dags/no_such_dag").status_code == 404


def test_the_page_needs_a_login(ui_airflow: UiAirflow, token: str):
    # `token` sets up the auth manager, which the api-server has from its start.
    with TestClient(create_app()) as anonymous:
        assert anonymous.get("/dags/ui_pipeline").status_code == 401
        assert anonymous.get("/dags/ui_pipeline", headers={"Authorization": "Bearer forged"}).status_code == 403
        assert anonymous.get("/icon.svg").headers["content-type"] == "image/svg+xml"


@pytest.mark.parametrize("base", ["", "/airflow"])
def test_links_follow_the_base_path_the_app_is_mounted_under(client: TestClient, ui_airflow: UiAirflow,
                                                             token: str, base: str):
    # As the api-server mounts it (fastapi_apps url_prefix), behind an Airflow served under `base`.
    parent = FastAPI(root_path=base)
    parent.mount(URL_PREFIX, LazyApp())
    with TestClient(parent, root_path=base, headers={"Authorization": f"Bearer {token}"}) as mounted:
        html = mounted.get(f"{base}{URL_PREFIX}/dags/ui_pipeline").text
    run = urllib.parse.quote(ui_airflow.run.run_id, safe="")
    assert f'<a href="{base}/dags/ui_pipeline/runs/{run}/tasks/train.gate"' in html, html[:2000]
