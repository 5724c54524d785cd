"""definition.read: the one check the compiler's reader and the local engine share."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_sagemaker_mlops.definition.read import UNPARSABLE, read_definition
from airflow_sagemaker_mlops.exceptions import PipelineDefinitionError

GOLDEN = sorted((Path(__file__).parents[1] / "golden").glob("*.json"))


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_the_compilers_output_passes_unchanged(path: Path) -> None:
    for key, request in json.loads(path.read_text()).items():
        document = request["PipelineDefinition"]
        read = read_definition(json.dumps(document))
        assert read.document == document, key
        assert read.definition.to_request() == document, key
        assert set(read.graph) == {s.name for s in read.definition.all_steps()}


def test_the_graph_holds_depends_on_triggers_data_references_and_branches() -> None:
    document = {"Steps": [
        {"Name": "Fit", "Type": "Training", "Arguments": {}},
        {"Name": "Gate", "Type": "Condition", "Arguments": {
            "Conditions": [{"Type": "Equals", "LeftValue": {"Get": "Steps.Fit.TrainingJobStatus"},
                            "RightValue": "Completed"}],
            "IfSteps": [{"Name": "Tell", "Type": "Fail", "Arguments": {}}], "ElseSteps": []}},
        {"Name": "Clean", "Type": "Processing", "Arguments": {}, "DependsOn": [{"Step": "Fit", "Trigger": "Failed"}]},
    ]}
    graph = read_definition(document).graph
    assert graph == {"Fit": set(), "Gate": {"Fit"}, "Tell": {"Gate"}, "Clean": {"Fit"}}


@pytest.mark.parametrize(("text", "fragment"), [
    ("{nope", "not valid JSON"),
    ("[]", "must be a JSON object"),
    (json.dumps({"Steps": [{"Name": "A", "Type": "Fail", "Arguments": 5}]}), "Arguments must be an object"),
    (json.dumps({"Parameters": [{"Name": "P", "Type": "String"}, {"Name": "P", "Type": "String"}],
                 "Steps": []}), "declared twice"),
    (json.dumps({"Steps": [{"Name": "A", "Type": "Fail", "Arguments": {"ErrorMessage": {"Get": "Parameters.Q"}}},
                           {"Name": "B", "Type": "Nope", "Arguments": {}}]}), "unknown parameter 'Q'"),
])
def test_refusals_use_sagemakers_prefix_and_name_the_problem(text: str, fragment: str) -> None:
    with pytest.raises(PipelineDefinitionError) as refused:
        read_definition(text)
    assert str(refused.value).startswith(UNPARSABLE) and fragment in str(refused.value)


def test_every_problem_is_reported_at_once() -> None:
    text = json.dumps({"Steps": [{"Name": "A", "Type": "Fail", "Arguments": {"ErrorMessage": {"Get": "Parameters.Q"}}},
                                 {"Name": "B", "Type": "Nope", "Arguments": {}}]})
    with pytest.raises(PipelineDefinitionError) as refused:
        read_definition(text)
    assert "unknown parameter 'Q'" in str(refused.value) and "unsupported step type 'Nope'" in str(refused.value)
