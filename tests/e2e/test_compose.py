"""docker-compose.yaml: valid against the compose specification, and the topology tests/e2e runs natively.

Docker is not available where the tests run, so the stack itself is not started here: the schema check
catches what `docker compose config` would reject, and the topology check keeps the compose services and
the natively tested components (tests/airflow_cluster.py) from drifting apart.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from airflow_cluster import COMPONENTS

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yaml"
DOCKERFILE = REPO / "docker" / "Dockerfile"
CHECK_JSONSCHEMA = str(Path(sys.executable).parent / "check-jsonschema")
ENGINE = "sagemaker-local"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def check_schema(path: Path) -> subprocess.CompletedProcess[str]:
    # The compose schema ships inside check-jsonschema (vendor.compose-spec): no download. Proxies pointed at
    # nowhere make the run fail rather than quietly fetch something, should that ever change.
    offline = {**os.environ, "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
               "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"}
    return subprocess.run([CHECK_JSONSCHEMA, "--builtin-schema", "vendor.compose-spec", str(path)],
                          capture_output=True, text=True, env=offline, timeout=120)


def test_valid_against_the_compose_schema():
    result = check_schema(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok" in result.stdout


def test_the_schema_check_rejects_a_broken_file(tmp_path: Path, compose: dict[str, Any]):
    # The check above means something only if the schema really is applied.
    broken = json.loads(json.dumps(compose))
    broken["services"]["airflow-scheduler"]["depends_on"]["postgres"]["condition"] = "service_ready"
    broken["services"][ENGINE]["healthcheck"]["retries"] = "many"
    path = tmp_path / "docker-compose.yaml"
    path.write_text(yaml.safe_dump(broken))
    result = check_schema(path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "service_ready" in result.stdout + result.stderr


def airflow_services(compose: dict[str, Any]) -> dict[str, str]:
    """Long-running Airflow services -> the `airflow` subcommand each runs."""
    found = {}
    for name, service in compose["services"].items():
        command = service.get("command") or []
        if name == ENGINE or name == "airflow-init" or "image" not in service or "airflow" not in service["image"]:
            continue
        found[name] = command[0]
    return found


def test_the_same_components_as_the_native_e2e_test(compose: dict[str, Any]):
    services = compose["services"]
    assert sorted(airflow_services(compose).values()) == sorted(COMPONENTS)
    assert set(services) == {"postgres", ENGINE, "airflow-init", *airflow_services(compose)}
    # one executor, the one the native test runs
    for name in airflow_services(compose):
        assert services[name]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor", name
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["airflow-init"]["command"][-1].endswith("docker/init.sh")


def test_the_engine_service(compose: dict[str, Any]):
    engine = compose["services"][ENGINE]
    command = engine["command"]
    assert command[:5] == ["python", "-m", "airflow_sagemaker_mlops", "local", "serve"]
    assert command[command.index("--host") + 1] == "0.0.0.0" and "--allow-non-loopback" in command
    # the Airflow containers call it by its service name: that Host must be allowed
    assert command[command.index("--allow-host") + 1] == ENGINE
    port = command[command.index("--port") + 1]
    # reachable on the compose network; on the host only through loopback
    assert engine["ports"] == [f"127.0.0.1:{port}:{port}"]
    assert "/_local/health" in " ".join(engine["healthcheck"]["test"])


def test_airflow_points_at_the_engine(compose: dict[str, Any]):
    services = compose["services"]
    port = services[ENGINE]["command"][-1]
    for name in [*airflow_services(compose), "airflow-init"]:
        service = services[name]
        connection = json.loads(service["environment"]["AIRFLOW_CONN_AWS_DEFAULT"])
        assert connection["conn_type"] == "aws"
        assert connection["extra"]["endpoint_url"] == f"http://{ENGINE}:{port}", name
        assert service["volumes"][0] == "./dags:/opt/airflow/dags", name
        assert service["build"]["dockerfile"] == "docker/Dockerfile", name
        depends = service["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends[ENGINE]["condition"] == "service_healthy", name
        if name != "airflow-init":
            assert depends["airflow-init"]["condition"] == "service_completed_successfully", name
            assert "healthcheck" in service, name
    # workers reach the execution API of the api-server service, on the port it listens on
    api = next(n for n, c in airflow_services(compose).items() if c == "api-server")
    api_port = services[api]["command"][services[api]["command"].index("--port") + 1]
    assert services[api]["environment"]["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == \
        f"http://{api}:{api_port}/execution/"
    assert services[api]["ports"] == [f"127.0.0.1:{api_port}:{api_port}"]


def test_the_image_installs_the_project():
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM apache/airflow:\$\{AIRFLOW_VERSION\}-python\$\{PYTHON_VERSION\}$", text, re.M)
    assert re.search(r"^ARG AIRFLOW_VERSION=3\.\d+\.\d+$", text, re.M)
    assert re.search(r"^ARG PYTHON_VERSION=3\.11$", text, re.M)
    assert 'pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" /opt/airflow-sagemaker-mlops' in text
    # every path the image copies exists (a renamed file would break `docker compose build`)
    for line in re.findall(r"^COPY (?:--\S+ )*(.+) \S+$", text, re.M):
        for source in line.split():
            assert (REPO / source).exists(), source
