"""Golden files: each DAG file under dags/ compiles to the checked-in JSON under tests/golden/.

Regenerate after an intended change with ``UPDATE_GOLDEN=1 pytest tests/compiler/test_golden.py`` and
review the diff.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

import pytest

from airflow_sagemaker_mlops.cli import load_groups
from airflow_sagemaker_mlops.definition import PipelineDefinition

DAGS = Path(__file__).parent / "dags"
GOLDEN = Path(__file__).parents[1] / "golden"
DAG_FILES = sorted(DAGS.glob("*.py"))


def compiled_document(dag_file: Path) -> dict:
    return {key: group.compile().spec.to_request() for key, group in load_groups(str(dag_file)).items()}


def test_there_are_enough_golden_cases():
    assert len(DAG_FILES) >= 8


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda p: p.stem)
def test_compiles_to_golden(dag_file: Path):
    actual = json.dumps(compiled_document(dag_file), indent=2) + "\n"
    golden = GOLDEN / f"{dag_file.stem}.json"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(actual)
    expected = golden.read_text() if golden.exists() else ""
    if actual != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                            str(golden), f"compiled {dag_file.name}"))
        pytest.fail(f"{dag_file.name} no longer compiles to {golden.name}:\n{diff}")


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda p: p.stem)
def test_golden_definitions_round_trip(dag_file: Path):
    """Every golden definition reads back into the model and renders to the same JSON."""
    for key, request in json.loads((GOLDEN / f"{dag_file.stem}.json").read_text()).items():
        definition = request["PipelineDefinition"]
        again = PipelineDefinition.from_request(definition).to_request()
        assert again == definition, key
        assert json.dumps(again) == json.dumps(definition), f"{key}: key order changed"
