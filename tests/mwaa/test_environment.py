"""The package in an Airflow installed the way Amazon MWAA installs it: MWAA's pins untouched, the DAG folder
imports, the provider and the plugin register, and the local engine's extra where those pins allow it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mwaa_env import ROOT, MwaaVenv, normalise, parse_pins

DAGS = ROOT / "dags"
UV = str(ROOT / ".venv" / "bin" / "uv")
PROJECT = "airflow-sagemaker-mlops"
# Whether `airflow-sagemaker-mlops[local]` installs under the version's constraints: MWAA 2.11.0 pins moto
# 5.0.11, older than the engine needs (>= 5.1.10), so there the engine runs from its own environment beside
# Airflow (docs/mwaa.md), which is how every test of this matrix runs it anyway.
ENGINE_INSTALLS = {"2.11.0": False, "3.0.6": True, "3.3.1": True}


def wheel() -> Path:
    [path] = (ROOT / "dist").glob("airflow_sagemaker_mlops-*.whl")
    return path


def airflow_env(tmp_path: Path) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "AWS_"))},
            "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS)}


def json_list(stdout: str) -> list[dict]:
    """The JSON list an `airflow ... -o json` command prints among its log lines."""
    for line in stdout.splitlines():
        if line.startswith("[{") or line == "[]":
            return json.loads(line)
    raise AssertionError(f"no JSON list in:\n{stdout[-2000:]}")


def test_installing_the_wheel_changed_no_pinned_package(mwaa: MwaaVenv):
    before = parse_pins((mwaa.path / "mwaa-freeze.txt").read_text())
    pinned = parse_pins(mwaa.constraints.read_text())
    now = mwaa.freeze()
    assert now.get(PROJECT) == "@", f"{PROJECT} is not installed from the wheel"
    changed = {name: (version, now.get(name)) for name, version in before.items() if now.get(name) != version}
    assert not changed, f"installing the wheel changed (before, after): {changed}"
    off_pin = {name: (pinned[name], version) for name, version in now.items()
               if name in pinned and version != pinned[name]}
    assert not off_pin, f"packages off MWAA's pins (pinned, installed): {off_pin}"
    assert now["apache-airflow"] == mwaa.version


def test_the_dag_folder_imports_as_the_dag_processor_parses_it(mwaa: MwaaVenv, tmp_path: Path):
    code = (
        "import json, sys\n"
        f"sys.path.append({str(DAGS)!r})  # what the dag-processor does with the DAG folder\n"
        "try:\n"
        "    from airflow.dag_processing.dagbag import DagBag\n"
        "except ImportError:\n"
        "    from airflow.models.dagbag import DagBag\n"
        f"bag = DagBag({str(DAGS)!r})\n"
        "import airflow_sagemaker_mlops.compat as compat\n"
        "print(json.dumps({'errors': {k: str(v) for k, v in bag.import_errors.items()}, 'dags': sorted(bag.dag_ids),"
        " 'airflow_v3': compat.AIRFLOW_V3}))\n"
    )
    result = subprocess.run([mwaa.python, "-c", code], capture_output=True, text=True, timeout=300,
                            env=airflow_env(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["errors"] == {}
    assert report["dags"] == ["batch_scoring", "churn_deploy", "churn_training", "customer_quality", "on_churn_trained",
                              "retraining"]
    assert report["airflow_v3"] is mwaa.airflow_3


def test_validate_compiles_the_examples_with_this_airflow(mwaa: MwaaVenv, tmp_path: Path):
    files = [str(DAGS / name) for name in ("churn_training.py", "batch_scoring.py", "churn_deploy.py")]
    for path in files:
        result = subprocess.run([mwaa.python, "-m", "airflow_sagemaker_mlops", "validate", path],
                                capture_output=True, text=True, timeout=300,
                                env={**airflow_env(tmp_path), "PYTHONPATH": str(DAGS)})
        assert result.returncode == 0, (path, result.stdout[-2000:], result.stderr[-3000:])


def test_the_provider_and_the_plugin_register(mwaa: MwaaVenv, tmp_path: Path):
    env = airflow_env(tmp_path)
    providers = subprocess.run([mwaa.airflow, "providers", "list", "-o", "json"], capture_output=True, text=True,
                               timeout=300, env=env)
    assert providers.returncode == 0, providers.stderr[-3000:]
    assert PROJECT in {p["package_name"] for p in json_list(providers.stdout)}
    plugins = subprocess.run([mwaa.airflow, "plugins", "-o", "json"], capture_output=True, text=True, timeout=300,
                             env=env)
    assert plugins.returncode == 0, plugins.stderr[-3000:]
    text = plugins.stdout
    ours = [p for p in json_list(text) if p.get("name") == "sagemaker_pipelines"]
    if mwaa.airflow_3:
        # 3.0 mounts the page's app (no external views yet: no tab, docs/observability.md); 3.1+ adds the tab.
        assert ours, text[-2000:]
        assert "sagemaker-pipelines" in json.dumps(ours)
    else:
        # Airflow 2's Flask UI: the plugin loads and adds nothing.
        assert all(not p.get("fastapi_apps") and not p.get("external_views") for p in ours), ours


def _install_local_extra(mwaa: MwaaVenv, *, dry_run: bool) -> subprocess.CompletedProcess[str]:
    command = [UV, "pip", "install", "--python", mwaa.python, "-c", str(mwaa.constraints), f"{wheel()}[demo]"]
    return subprocess.run(command + (["--dry-run"] if dry_run else []), capture_output=True, text=True, timeout=600)


def test_the_local_extra_under_mwaa_constraints(mwaa: MwaaVenv):
    result = _install_local_extra(mwaa, dry_run=True)
    if ENGINE_INSTALLS[mwaa.version]:
        assert result.returncode == 0, result.stderr[-3000:]
    else:
        assert result.returncode != 0
        assert "moto" in result.stderr, result.stderr[-3000:]


def test_engine_and_airflow_in_the_mwaa_venv_run_both_branches(mwaa: MwaaVenv, tmp_path: Path):
    if not ENGINE_INSTALLS[mwaa.version]:
        pytest.skip(f"MWAA {mwaa.version} pins a moto the engine cannot use: the engine runs beside Airflow "
                    "(tests/examples with AIRFLOW_BIN, in this same matrix step)")
    install = _install_local_extra(mwaa, dry_run=False)
    assert install.returncode == 0, install.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "AWS_"))}
    env["EXAMPLES_POLL_INTERVAL"] = "0.2"
    # tools/demo.py with the MWAA venv's interpreter: the engine in-process there, its own `airflow` beside it.
    result = subprocess.run([mwaa.python, str(ROOT / "tools" / "demo.py"), "--airflow-home", str(tmp_path / "home")],
                            capture_output=True, text=True, timeout=900, env=env)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-3000:]
    assert "MinAuc=0.5 ok, MinAuc=0.99 ok" in result.stdout
    # The engine's extra kept MWAA's pins too.
    pinned = parse_pins(mwaa.constraints.read_text())
    off_pin = {n: v for n, v in mwaa.freeze().items() if n in pinned and v != pinned[n]}
    assert not off_pin, off_pin
    assert normalise("moto") in mwaa.freeze()


def test_this_interpreter_is_the_engine_side() -> None:
    # The examples' runs in this matrix step start the engine in the test process: .venv, not the MWAA venv.
    assert Path(sys.executable).parent.parent == ROOT / ".venv"
    assert os.environ["AIRFLOW_BIN"].startswith(os.environ["MWAA_VENV"])
