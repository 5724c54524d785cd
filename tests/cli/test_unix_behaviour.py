"""The CLI as a Unix tool: a closed pipe, --help of every command, the only group as default, a fast failure
on an unreachable endpoint, documented exit statuses."""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_sagemaker_mlops import cli
from airflow_sagemaker_mlops.local.pytest_plugin import ENV

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "tests" / "compiler" / "dags"
COMMANDS = ["compile", "validate", "iam-policy", "history", "local", "local serve"]


def test_a_closed_pipe_ends_quietly_with_141():
    # The reader is gone before the command writes (as `compile ... | head` once head has its lines).
    proc = subprocess.Popen([sys.executable, "-m", "airflow_sagemaker_mlops", "compile",
                             str(DAGS / "churn_training.py")], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**ENV, "PATH": "/usr/bin:/bin",
                                                         "PYTHONPATH": str(ROOT)})
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert "Traceback" not in err and "BrokenPipeError" not in err, err


def help_text(capsys: pytest.CaptureFixture[str], command: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*command.split(), "--help"])
    assert exit_info.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_a_description_examples_and_exit_statuses(capsys, command):
    text = help_text(capsys, command)
    description, _, rest = text.partition("\nexamples:\n")
    assert cli.COMMAND_HELP[command][0].split()[:4] == description.split("\n\n")[1].split()[:4]
    examples = rest.split("\n\n")[0].splitlines()
    assert examples and all(line.startswith("  ") for line in examples)
    assert any(line.strip().startswith(f"python -m airflow_sagemaker_mlops {command}") for line in examples)
    for status in ("0 ", "1 ", "2 ", "130 ", "141 "):
        assert f"\n  {status}" in text.split("exit status:")[1]


def test_top_level_help_lists_the_exit_statuses(capsys):
    text = help_text(capsys, "")
    assert "exit status:" in text and "141" in text


def test_iam_policy_takes_the_only_group_without_group(capsys):
    status = cli.main(["iam-policy", str(DAGS / "churn_training.py"), "--role", "pipeline", "--region", "us-east-1"])
    out, err = capsys.readouterr()
    assert status == 0, err
    with_group = cli.main(["iam-policy", str(DAGS / "churn_training.py"), "--group", "train", "--role",
                           "pipeline", "--region", "us-east-1"])
    assert with_group == 0 and json.loads(out) == json.loads(capsys.readouterr().out)


def test_iam_policy_names_the_groups_to_choose_from(capsys):
    status = cli.main(["iam-policy", str(DAGS / "multi_group.py"), "--role", "pipeline"])
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "has 3 pipeline groups; choose one with --group (multi_a.first, multi_a.second, multi_b.only)" in err


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens on it once the socket is closed


def test_history_uses_a_short_connect_timeout_and_one_retry(monkeypatch):
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    args = argparse.Namespace(aws_conn_id=None, region="us-east-1", endpoint_url="http://127.0.0.1:9")
    config = cli._history_hook(args).conn.meta.config
    assert config.connect_timeout == 2
    assert config.retries["total_max_attempts"] == 2  # bench/cli_unreachable.py measures the wall time


def test_an_unreachable_endpoint_is_one_line_with_status_2(capsys, monkeypatch):
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    url = f"http://127.0.0.1:{closed_port()}"
    status = cli.main(["history", "--pipeline", "p", "--endpoint-url", url])
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert err.rstrip("\n").splitlines()[-1] == (
        f'error: cannot reach SageMaker: Could not connect to the endpoint URL: "{url}/" (check --endpoint-url, '
        "the connection's endpoint_url, or the network)")
