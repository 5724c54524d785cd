"""Real Airflow, natively: api-server, scheduler (LocalExecutor on SQLite), dag-processor and triggerer as
separate processes, against the local SageMaker Pipelines engine, reached and authenticated like a user
reaches them (simple auth manager login -> bearer token -> REST API).

This is the topology of docker-compose.yaml without Docker: the same four Airflow components and the engine;
SQLite stands in for PostgreSQL. ``COMPONENTS`` is what tests/e2e/test_compose.py compares the compose
services against.

The one cluster harness of the suite: tests/conftest.py's session-scoped ``airflow_cluster`` (one cluster
for tests/e2e and tests/runtime's scheduler tests, over :func:`shared_dag_folder`), the MWAA PostgreSQL +
Celery run (tests/mwaa) and bench/events_latency.py build on it.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from airflow_harness import AIRFLOW, airflow_env

ADMIN = "admin"
FINISHED = ("success", "failed")

# The Airflow components each test run starts: name -> `airflow` arguments (the api-server's host and port
# are added at start). Log servers are skipped: task and trigger logs are read from the shared log folder,
# and `airflow standalone` (which would bind them on 0.0.0.0) is not used.
COMPONENTS: dict[str, list[str]] = {
    "api-server": ["api-server"],
    "scheduler": ["scheduler", "--skip-serve-logs"],
    "dag-processor": ["dag-processor"],
    "triggerer": ["triggerer", "--skip-serve-logs"],
}

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check: Callable[[], T], timeout: float, what: str, interval: float = 1) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class ApiError(AssertionError):
    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"{method} {path}: HTTP {status}: {body[:1000]}")
        self.status = status


class AirflowCluster:
    def __init__(self, home: Path, dags_folder: Path, engine_url: str, env: dict[str, str] | None = None,
                 components: dict[str, list[str]] | None = None) -> None:
        self.home = home
        self.components = components or COMPONENTS
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token: str | None = None
        self.env = airflow_env(home, dags_folder, engine_url, **{
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            # 2 cores: a few task processes at a time is plenty (deferred step tasks hold no slot).
            "AIRFLOW__CORE__PARALLELISM": "4",
            # Paused, as new DAGs are by default: a test unpauses the DAG it runs (unpause()), so the other DAGs
            # of the folder (some scheduled) do not run alongside it.
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            "AIRFLOW__API__BASE_URL": self.url,
            "AIRFLOW__API__WORKERS": "1",
            # All components sign or check tokens (task identity, UI and API users): one shared secret.
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            # A real login: one configured user whose password the auth manager generates into AIRFLOW_HOME.
            "AIRFLOW__CORE__AUTH_MANAGER":
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__TRIGGERER__CAPACITY": "50",
            "AWS_ENDPOINT_URL": engine_url,
            **(env or {}),
        })
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    # -- lifecycle
    def __enter__(self) -> AirflowCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        migrate = subprocess.run([AIRFLOW, "db", "migrate"], env=self.env, capture_output=True, text=True,
                                 timeout=600)
        assert migrate.returncode == 0, migrate.stdout[-3000:] + migrate.stderr[-3000:]
        try:
            for name, args in self.components.items():
                if name == "api-server":
                    args = [*args, "--host", "127.0.0.1", "--port", str(self.port)]
                with open(self.home / f"{name}.log", "wb") as log:
                    self.processes[name] = subprocess.Popen([AIRFLOW, *args], env=self.env, stdout=log,
                                                            stderr=subprocess.STDOUT, start_new_session=True)
            wait_for(lambda: self._health() or self._check_alive(), 180, "the api-server")
        except BaseException:
            self.stop()  # no orphans when a component does not come up
            raise

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, 15)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait()

    def _check_alive(self) -> bool:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise AssertionError(f"airflow {name} exited ({process.returncode}):\n{self.log(name)[-3000:]}")
        return False

    def _health(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/api/v2/monitor/health", timeout=5) as reply:
                return reply.status == 200
        except OSError:
            return False

    def log(self, name: str) -> str:
        return (self.home / f"{name}.log").read_text(errors="replace")

    def logs(self) -> str:
        """The tail of every component's log, for assertion messages."""
        return "\n".join(f"--- {name}\n{self.log(name)[-2500:]}" for name in self.processes)

    # -- as a user
    def password(self) -> str:
        """The password the simple auth manager generated for the configured user (as its log tells users)."""
        path = self.home / "simple_auth_manager_passwords.json.generated"
        return wait_for(lambda: path.exists() and json.loads(path.read_text() or "{}").get(ADMIN), 60,
                        f"{path.name}")

    def login(self, username: str = ADMIN, password: str | None = None) -> str:
        reply = self.request("POST", "/auth/token", {"username": username, "password": password or self.password()},
                             auth=False)
        self.token = reply["access_token"]
        return self.token

    def request(self, method: str, path: str, body: dict[str, Any] | None = None, auth: bool = True) -> Any:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if auth:
            assert self.token, "login() first"
            headers["Authorization"] = f"Bearer {self.token}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, method=method, data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                return json.loads(reply.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise ApiError(method, path, exc.code, exc.read().decode(errors="replace")) from None

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def wait_for_dag(self, dag_id: str, timeout: float = 240) -> dict[str, Any]:
        def loaded() -> dict[str, Any] | None:
            self._check_alive()
            try:
                return self.get(f"/api/v2/dags/{dag_id}")
            except ApiError as exc:
                if exc.status != 404:
                    raise
                return None

        dag = wait_for(loaded, timeout, f"the dag-processor to load {dag_id}")
        errors = self.get("/api/v2/importErrors")
        assert not [e for e in errors["import_errors"] if dag_id in e["filename"]], errors
        return dag

    def unpause(self, dag_id: str) -> dict[str, Any]:
        return self.request("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})

    def trigger(self, dag_id: str, conf: dict[str, Any]) -> str:
        run = self.request("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf})
        return run["dag_run_id"]

    def start_run(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        """Wait for the DAG to load, unpause it (DAGs are paused at creation) and trigger a run of it."""
        if self.wait_for_dag(dag_id)["is_paused"]:
            assert not self.unpause(dag_id)["is_paused"]
        return self.trigger(dag_id, conf or {})

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}")

    def run_state(self, dag_id: str, run_id: str) -> str:
        return self.run(dag_id, run_id)["state"]

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float) -> str:
        """The run's final state (success or failed)."""
        return self.wait_for_runs(dag_id, [run_id], timeout)[run_id]

    def wait_for_runs(self, dag_id: str, run_ids: list[str], timeout: float) -> dict[str, str]:
        def finished() -> dict[str, str] | None:
            self._check_alive()
            states = {run_id: self.run(dag_id, run_id)["state"] for run_id in run_ids}
            return states if all(s in FINISHED for s in states.values()) else None

        return wait_for(finished, timeout, f"runs {run_ids} of {dag_id} to finish", interval=2)

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        reply = self.get(f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}"
                         "/taskInstances?limit=100")
        return {ti["task_id"]: ti["state"] for ti in reply["task_instances"]}

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}/taskInstances/"
                        f"{urllib.parse.quote(task_id, safe='')}")

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}/taskInstances/"
                        f"{urllib.parse.quote(task_id, safe='')}/xcomEntries/{key}?deserialize=true")["value"]

    def task_log(self, dag_id: str, task_id: str, run_id: str | None = None) -> str:
        """Every attempt's log of the task, as Airflow writes them (the triggers' logs beside them included)."""
        run = f"run_id={run_id}" if run_id else "run_id=*"
        files = sorted((self.home / "logs" / f"dag_id={dag_id}").glob(f"{run}/task_id={task_id}/*.log"))
        return "\n".join(f.read_text(errors="replace") for f in files)

    def trigger_logs(self, dag_id: str, task_id: str, run_id: str | None = None) -> str:
        """What the task's triggers logged: the triggerer writes it beside the task's own log."""
        run = f"run_id={run_id}" if run_id else "run_id=*"
        files = sorted((self.home / "logs" / f"dag_id={dag_id}").glob(f"{run}/task_id={task_id}/*.trigger.*.log"))
        return "\n".join(f.read_text(errors="replace") for f in files)


ROOT = Path(__file__).resolve().parents[1]
#: The DAG folders the shared cluster (tests/conftest.py's ``airflow_cluster``) loads: each a subfolder of its
#: DAG folder, so every DAG keeps its step scripts beside it (each folder has its own scripts/), and each on
#: PYTHONPATH, as Airflow puts only the DAG folder itself on sys.path and their DAGs import modules beside them.
SHARED_DAG_FOLDERS = {
    "examples": ROOT / "dags",
    "e2e": ROOT / "tests" / "e2e" / "dags",
    "runtime": ROOT / "tests" / "runtime" / "dags",
}


def shared_dag_folder(folder: Path) -> tuple[Path, str]:
    """The shared cluster's DAG folder (links to :data:`SHARED_DAG_FOLDERS`) and the PYTHONPATH it needs."""
    folder.mkdir(parents=True)
    for name, source in SHARED_DAG_FOLDERS.items():
        (folder / name).symlink_to(source, target_is_directory=True)
    paths = [*map(str, SHARED_DAG_FOLDERS.values()), *filter(None, [os.environ.get("PYTHONPATH")])]
    return folder, os.pathsep.join(paths)
