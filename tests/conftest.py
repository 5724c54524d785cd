from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from airflow_cluster import ROOT, AirflowCluster, shared_dag_folder

CLUSTER = pytest.StashKey[AirflowCluster]()

# Airflow reads its configuration on import: give every test session its own home, no examples.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="airflow-home-"))
if worker := os.environ.get("PYTEST_XDIST_WORKER"):
    # Each xdist worker its own home and SQLite database (a worker inherits the controller's environment).
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix=f"airflow-home-{worker}-")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
# Triggers run in-process here, with no scheduler to race (triggers/pipelines.min_deferral_seconds).
os.environ.setdefault("AIRFLOW__SAGEMAKER_MLOPS__MIN_DEFERRAL_SECONDS", "0")
# Nothing in the tests may reach AWS: fake credentials and a region, endpoints are set per test.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def ensure_runtime_resources(engine: Any) -> None:
    """The buckets, approval queue and model package group of tests/runtime/dags, made when missing: the session
    engine keeps them, but a test of the engine's reset (tests/local) wipes them for the tests after it."""
    s3, sagemaker = engine.client("s3"), engine.client("sagemaker")
    existing = {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}
    for bucket in {"rt-code", "rt-data"} - existing:
        s3.create_bucket(Bucket=bucket)
    engine.client("sqs").create_queue(QueueName="rt-approvals")  # idempotent
    groups = sagemaker.list_model_package_groups(NameContains="rt-models")["ModelPackageGroupSummaryList"]
    if not any(group["ModelPackageGroupName"] == "rt-models" for group in groups):
        sagemaker.create_model_package_group(ModelPackageGroupName="rt-models")


@pytest.fixture
def runtime_resources(_sagemaker_local_engine_session: Any) -> None:
    ensure_runtime_resources(_sagemaker_local_engine_session)


@pytest.fixture
def forget_event_rules(_sagemaker_local_engine_session: Any) -> Iterator[None]:
    """Removes the EventBridge rules a test made. A rule left behind keeps costing every later execution of the
    session engine: each of its events is matched and sent to the rule's queue, which nobody reads any more."""
    events = _sagemaker_local_engine_session.client("events")
    before = {rule["Name"] for rule in events.list_rules()["Rules"]}
    yield
    for rule in events.list_rules()["Rules"]:
        if rule["Name"] in before:
            continue
        targets = [target["Id"] for target in events.list_targets_by_rule(Rule=rule["Name"])["Targets"]]
        if targets:
            events.remove_targets(Rule=rule["Name"], Ids=targets)
        events.delete_rule(Name=rule["Name"])


@pytest.fixture(scope="session")
def airflow_cluster(_sagemaker_local_engine_session: Any, tmp_path_factory: pytest.TempPathFactory,
                    request: pytest.FixtureRequest) -> Iterator[AirflowCluster]:
    """One Airflow (api-server, scheduler, dag-processor, triggerer; logged in) for every test that needs the
    real components: tests/e2e over the examples and tests/runtime's scheduler tests over their DAGs.

    Those tests run one after the other (pytest_collection_modifyitems below: last serially, first on one
    xdist worker), so the cluster starts once, and it stops after the last of them (pytest_runtest_teardown),
    so its processes do not load the machine while the other tests run. What a DAG needs of it is a DAG-level
    setting or its run's conf, never a cluster setting of one test; the event queues exist before it starts.
    """
    from airflow_sagemaker_mlops.hooks.events import setup_event_queue

    engine = _sagemaker_local_engine_session
    ensure_runtime_resources(engine)
    home = tmp_path_factory.mktemp("airflow-cluster")
    folder, pythonpath = shared_dag_folder(home / "dags")
    # rt_events waits through its own connection's event queue; rt_on_events' asset watcher reads another.
    events, watched = (setup_event_queue(engine.client("sqs"), engine.client("events"), queue_name=name,
                                         rule_name=name) for name in ("rt-events", "rt-watch"))
    cluster = AirflowCluster(home, folder, engine.url, env={
        "PYTHONPATH": pythonpath,
        # The DAGs do not change while the tests run: one parse each, not one per 30 s on 2 busy cores.
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "3600",
        # Polls slower than the scheduler loop (1 s): a trigger firing within a scheduler loop of the deferral
        # can race the scheduler's processing of the deferring attempt's exit (Airflow then fails the resumed
        # task, apache/airflow#72716); the triggers also wait 10 s at least, as in production.
        "EXAMPLES_POLL_INTERVAL": "3",
        "RT_POLL_INTERVAL": "3",
        "AIRFLOW__SAGEMAKER_MLOPS__MIN_DEFERRAL_SECONDS": "10",
        "AIRFLOW_CONN_AWS_EVENTS": json.dumps({"conn_type": "aws", "extra": {
            "endpoint_url": engine.url, "region_name": "us-east-1", "event_queue_url": events.queue_url,
            "event_fallback_interval": 300}}),
        "RT_WATCH_QUEUE_URL": watched.queue_url,
        # OpenLineage events of every task, as lines of a file (the facets of deferred step tasks too).
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps({"type": "file", "log_file_path": str(home / "openlineage.jsonl"),
                                                       "append": True}),
    })
    # The buckets, queue and model package group the examples use, made by the script docker-compose runs.
    setup = subprocess.run([sys.executable, str(ROOT / "docker" / "create_example_resources.py"), str(ROOT / "dags")],
                           env=cluster.env, capture_output=True, text=True, timeout=120)
    assert setup.returncode == 0, setup.stderr
    with cluster:
        cluster.login()
        request.config.stash[CLUSTER] = cluster
        yield cluster


def _uses_cluster(item: pytest.Item | None) -> bool:
    return item is not None and "airflow_cluster" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    distributed = getattr(config.option, "dist", "no") != "no"
    # Serially, the shared cluster's tests last, in their order (a stable sort): see airflow_cluster. Under
    # `-n 2 --dist loadgroup --no-loadscope-reorder` (the Makefile's suites) one worker runs all of them, one
    # cluster for them, first, while the other worker runs the rest; every other module stays whole on one
    # worker, as in a serial run: its module fixtures are made once and no other module's test (the engine's
    # reset) runs between its tests.
    items.sort(key=lambda item: _uses_cluster(item) != distributed)
    if distributed:
        for item in items:
            group = "airflow_cluster" if _uses_cluster(item) else item.nodeid.split("::")[0]
            item.add_marker(pytest.mark.xdist_group(group))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    # A cluster test that fails says what the components logged, whichever assertion gave up: a timeout
    # alone does not tell a slow scheduler from a failed task.
    if report.failed and _uses_cluster(item) and (cluster := item.config.stash.get(CLUSTER, None)):
        report.sections.append(("the Airflow cluster's logs (tails)", cluster.logs()))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    yield
    # After its last test the cluster stops, not at the session's end: under xdist its worker goes on with other
    # tests, which its four idle-looping components would otherwise slow down.
    if _uses_cluster(item) and not _uses_cluster(nextitem) and (cluster := item.config.stash.get(CLUSTER, None)):
        cluster.stop()
