"""What installing the package pulls in, and the declared minimums (pyproject.toml) for real.

``make test-minimums`` runs this file (MINIMUMS=1) in a venv that uv resolved to the lowest direct
dependencies: there every declared minimum must be exactly what is installed, so the minimum-version suites
that run beside it prove the minimums. Elsewhere each installed version must satisfy its minimum.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
UV = ROOT / ".venv" / "bin" / "uv"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# What only the local engine needs (moto's server and its dependencies): never in a production install.
ENGINE_ONLY = {"moto", "flask", "flask-cors", "werkzeug", "sympy", "cfn-lint", "networkx", "docker",
               "openapi-spec-validator", "py-partiql-parser", "aws-xray-sdk"}


def minimums(requirements: list[str]) -> dict[str, str]:
    found = {}
    for requirement in requirements:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?>=([0-9.]+)", requirement.replace(" ", ""))
        if match:
            found[match.group(1)] = match.group(2)
    return found


def as_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def test_every_dependency_declares_a_minimum():
    for requirement in PYPROJECT["dependencies"] + PYPROJECT["optional-dependencies"]["local"]:
        assert ">=" in requirement, f"{requirement!r} declares no minimum version"


@pytest.mark.parametrize("name,minimum", sorted(
    (minimums(PYPROJECT["dependencies"]) | minimums(PYPROJECT["optional-dependencies"]["local"])).items()))
def test_installed_versions_against_the_declared_minimums(name: str, minimum: str):
    installed = version(name)
    if os.environ.get("MINIMUMS"):
        assert as_tuple(installed) == as_tuple(minimum), f"{name}: {installed} installed, minimum {minimum}"
    else:
        assert as_tuple(installed) >= as_tuple(minimum), f"{name}: {installed} is older than the minimum {minimum}"


def test_python_minimum():
    floor = as_tuple(PYPROJECT["requires-python"])
    assert sys.version_info[: len(floor)] >= floor
    if os.environ.get("MINIMUMS"):
        assert sys.version_info[: len(floor)] == floor


def _resolve(extra: str | None, tmp_path: Path) -> set[str]:
    out = tmp_path / "resolved.txt"
    command = [str(UV), "pip", "compile", "-q", str(ROOT / "pyproject.toml"), "--python-version", "3.12",
               "-o", str(out)]
    if extra:
        command += ["--extra", extra]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return {line.split("==", 1)[0].strip().lower() for line in out.read_text().splitlines() if "==" in line}


def test_a_plain_install_pulls_no_engine_package_and_the_local_extra_does(tmp_path: Path):
    core = _resolve(None, tmp_path)
    assert not core & ENGINE_ONLY, f"`pip install airflow-sagemaker-mlops` pulls {sorted(core & ENGINE_ONLY)}"
    assert {"apache-airflow", "apache-airflow-providers-amazon", "boto3", "aiobotocore"} <= core
    local = _resolve("local", tmp_path)
    assert {"moto", "flask", "werkzeug"} <= local
    print(f"core: {len(core)} packages; [local] adds {len(local - core)}: {sorted(local - core)}")
