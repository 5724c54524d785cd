"""`make airflow`: Airflow 3 and the local SageMaker engine on this machine, for interactive use.

Starts ``python -m airflow_sagemaker_mlops local serve`` and Airflow's api-server, scheduler (LocalExecutor
on SQLite), dag-processor and triggerer, all on 127.0.0.1, with dags/ as the DAG folder and the ``aws_default``
and ``aws_ml_account`` connections pointing at the engine. Creates what the examples need (buckets, queue,
model package group), prints the URL and the login, and runs until Ctrl-C, then stops every process it
started.

    python tools/airflow_local.py [--port 8080] [--airflow-home .airflow-local]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import demo  # tools/ is not a package: the environment and set-up helpers live there

USER, PASSWORD = "admin", "admin"


def start_engine(home: Path) -> tuple[subprocess.Popen[str], str]:
    """The engine in its own process; returns it and its URL (read from its ``listening on`` line)."""
    log = open(home / "engine.log", "w")  # stays open for the child's lifetime
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "airflow_sagemaker_mlops", "local", "serve", "--port", "0",
         "--work-dir", str(home / "engine-work")],
        stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("listening on "):
        process.kill()
        raise SystemExit(f"the engine did not start: {line!r}; see {home / 'engine.log'}")
    return process, line.split()[-1]


def airflow_env(home: Path, engine_url: str, port: int) -> dict[str, str]:
    url = f"http://127.0.0.1:{port}"
    passwords = home / "simple_auth_manager_passwords.json"
    passwords.write_text(json.dumps({USER: PASSWORD}))
    return {
        **demo.airflow_env(home, engine_url),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
        "AIRFLOW__API__BASE_URL": url,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
        # A trigger that fires within one scheduler loop of the deferral can race the scheduler (see
        # tests/conftest.py, airflow_cluster): poll the engine slower than the loop.
        "EXAMPLES_POLL_INTERVAL": os.environ.get("EXAMPLES_POLL_INTERVAL", "3"),
    }


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=5) as reply:
            return reply.status == 200
    except OSError:
        return False


def stop(processes: dict[str, subprocess.Popen[Any]]) -> None:
    for process in processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for name, process in processes.items():
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            print(f"{name} did not stop in 30 s; killing it")
            os.killpg(process.pid, signal.SIGKILL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8080, help="the api-server's port on 127.0.0.1")
    parser.add_argument("--airflow-home", type=Path, default=demo.ROOT / ".airflow-local")
    args = parser.parse_args(argv)
    home: Path = args.airflow_home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{args.port}"

    processes: dict[str, subprocess.Popen[Any]] = {}
    # SIGTERM (e.g. from make or a supervisor) stops the children like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        processes["engine"], engine_url = start_engine(home)
        print(f"local SageMaker engine: {engine_url} (log: {home / 'engine.log'}); "
              f"its read-only console: {engine_url}/_local/console/")
        import boto3

        def client(service: str) -> Any:
            return boto3.client(service, endpoint_url=engine_url, region_name=demo.settings.REGION,
                                aws_access_key_id="testing", aws_secret_access_key="testing")

        demo.create_example_resources(client)
        env = airflow_env(home, engine_url, args.port)
        seconds = demo.migrate(home, env)
        print(f"airflow home: {home} (" + (f"migrated in {seconds:.0f} s)" if seconds else "already migrated)"))
        commands = {
            "api-server": ["api-server", "--host", "127.0.0.1", "--port", str(args.port)],
            "scheduler": ["scheduler", "--skip-serve-logs"],
            "dag-processor": ["dag-processor"],
            "triggerer": ["triggerer", "--skip-serve-logs"],
        }
        for name, command in commands.items():
            log = open(home / f"{name}.log", "wb")  # stays open for the child's lifetime
            processes[name] = subprocess.Popen([demo._airflow(), *command], env=env, stdout=log,
                                               stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 180
        while not healthy(url):
            dead = [n for n, p in processes.items() if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise SystemExit(f"airflow did not come up ({', '.join(dead) or 'timeout'}); logs in {home}")
            time.sleep(1)
        print(f"\nAirflow UI: {url}   login: {USER} / {PASSWORD}")
        print(f"DAG folder: {demo.DAGS}; logs: {home}/*.log")
        print("Trigger churn_training (its form sets MinAuc), batch_scoring (after a registered model), or")
        print("retraining (scheduled on an asset: materialise it from the UI). Ctrl-C stops everything.\n")
        while True:
            dead = [n for n, p in processes.items() if p.poll() is not None]
            if dead:
                print(f"{', '.join(dead)} exited; stopping the rest (logs in {home})")
                return 1
            time.sleep(2)
    except KeyboardInterrupt:
        print("\nstopping")
        return 0
    finally:
        stop(processes)


if __name__ == "__main__":
    sys.exit(main())
