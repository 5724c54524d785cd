"""Every example in dags/ parses, and every SageMakerPipelineGroup in it compiles and validates (no engine)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from airflow_sagemaker_mlops.cli import main

DAGS = Path(__file__).resolve().parents[2] / "dags"
EXAMPLES = sorted(p.name for p in DAGS.glob("*.py") if p.name != "example_settings.py")
WITH_GROUPS = {"churn_training.py": ["churn_training.train"], "batch_scoring.py": ["batch_scoring.scoring"],
               "customer_quality.py": ["customer_quality.quality"]}


def printed_json(out: str) -> dict[str, Any]:
    """The JSON the CLI printed, after any log lines Airflow's import wrote to stdout."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("{"))
    return json.loads("\n".join(lines[start:]))


def test_the_examples_are_the_documented_ones() -> None:
    assert EXAMPLES == ["batch_scoring.py", "churn_deploy.py", "churn_training.py", "customer_quality.py",
                        "on_pipeline_events.py",
                        "retraining.py"]


@pytest.mark.parametrize("name", sorted(WITH_GROUPS))
def test_validate_and_compile(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(DAGS / name)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("ok: ")
    assert main(["compile", str(DAGS / name)]) == 0
    assert sorted(printed_json(capsys.readouterr().out)) == WITH_GROUPS[name]


def test_churn_training_definition(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", str(DAGS / "churn_training.py"), "--group", "train"]) == 0
    definition = printed_json(capsys.readouterr().out)
    assert {p["Name"]: p["Type"] for p in definition["Parameters"]} == {
        "MinAuc": "Float", "Rows": "Integer", "Epochs": "Integer", "LearningRate": "String",
        "TrainingInstanceType": "String"}
    steps = {s["Name"]: s for s in definition["Steps"]}
    assert list(steps) == ["preprocess", "fit", "evaluate", "auc_gate"]
    fit = steps["fit"]["Arguments"]
    assert fit["HyperParameters"]["sagemaker_program"] == "train.py"
    assert fit["HyperParameters"]["sagemaker_submit_directory"].endswith("/sourcedir.tar.gz")
    assert fit["AlgorithmSpecification"]["MetricDefinitions"][0]["Name"] == "validation:auc"
    gate = steps["auc_gate"]["Arguments"]
    assert [s["Type"] for s in gate["IfSteps"]] == ["RegisterModel"]
    assert [s["Type"] for s in gate["ElseSteps"]] == ["Fail"]


def test_the_dag_folder_parses_without_import_errors(tmp_path: Path) -> None:
    """The DAG folder as Airflow parses it (retraining has no group, so `validate` does not cover it); the
    .airflowignore keeps the step scripts and the settings module out."""
    code = (
        "import json\n"
        "from pathlib import Path\n"
        "from airflow.dag_processing.dagbag import BundleDagBag\n"
        f"bag = BundleDagBag({str(DAGS)!r}, bundle_path=Path({str(DAGS)!r}), bundle_name='dags-folder')\n"
        "print(json.dumps({'errors': {k: str(v) for k, v in bag.import_errors.items()}, 'dags': sorted(bag.dag_ids),"
        " 'files': sorted(bag.file_last_changed)}))\n"
    )
    # The dag processor puts the bundle (the DAG folder) on sys.path: the DAGs import example_settings.
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["errors"] == {}
    assert report["dags"] == ["batch_scoring", "churn_deploy", "churn_training", "customer_quality", "on_churn_trained",
                              "retraining"]
    assert [Path(f).name for f in report["files"]] == EXAMPLES


def test_pipeline_parameters_are_dag_params() -> None:
    """The trigger form sets the pipeline's parameters (dag_params=True); ModelData comes from a task."""
    from airflow_sagemaker_mlops.cli import load_groups

    train = load_groups(str(DAGS / "churn_training.py"))["churn_training.train"]
    assert sorted(train.dag.params) == ["Epochs", "LearningRate", "MinAuc", "Rows", "TrainingInstanceType"]
    assert train.dag.params.get_param("TrainingInstanceType").schema["enum"] == ["ml.m5.large", "ml.m5.xlarge"]
    scoring = load_groups(str(DAGS / "batch_scoring.py"))["batch_scoring.scoring"]
    assert sorted(scoring.dag.params) == ["Customers", "threshold"]
