"""`make demo`'s script end to end: both branches, its summary, its exit code."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from examples_harness import ROOT, AirflowRunner

pytestmark = pytest.mark.e2e


def test_demo_runs_both_branches(examples_airflow: AirflowRunner, tmp_path: Path) -> None:
    # Start from the session's migrated database (the demo migrates a new home itself; that is not the point).
    home = tmp_path / "home"
    home.mkdir()
    for name in ("airflow.db", ".migrated"):
        shutil.copy(examples_airflow.home / name, home / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "AWS_")) or k == "AIRFLOW_BIN"}
    env["EXAMPLES_POLL_INTERVAL"] = "0.2"
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "demo.py"), "--airflow-home", str(home)],
                            capture_output=True, text=True, timeout=400, env=env)
    out = result.stdout
    assert result.returncode == 0, out[-4000:] + result.stderr[-4000:]
    assert "database already migrated" in out
    first, second = out.split("== run 2")
    assert "MinAuc=0.5" in first and "execution status    Succeeded" in first
    assert re.search(r"fit +Succeeded +training job, train:auc=0\.\d+, validation:auc=0\.\d+", first)
    assert re.search(r"auc_gate +Succeeded +outcome True", first)
    assert re.search(r"model package +arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-models/\d+ "
                     r"\(PendingManualApproval\)", first)
    assert re.search(r"s3://mlops-examples-data/churn/models/\S+/output/model\.tar\.gz", first)
    assert re.search(r'evaluation\.json +\{"metrics": \{"auc": \{"value": 0\.\d+\}', first)
    assert "branch taken        if_true -> register, deploy" in first
    assert "skipped             notify, train.too_weak" in first
    assert "MinAuc=0.99" in second and "execution status    Failed" in second
    assert re.search(r"too_weak +Failed +error message: test AUC 0\.\d+ is below MinAuc 0\.99", second)
    assert "model package       none registered" in second
    assert "branch taken        if_false -> too_weak, notify" in second
    assert "skipped             deploy, train.register" in second
    assert out.count("result              as expected") == 2
    assert "MinAuc=0.5 ok, MinAuc=0.99 ok" in out

