"""Step property paths: the parser, the checker and its messages, the generated schema."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from airflow_sagemaker_mlops.definition.properties import (
    format_property_path,
    parse_property_path,
    property_members,
    property_type,
    schema_step_types,
    validate_property_path,
)

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "airflow_sagemaker_mlops" / "definition" / "step_properties.json"
TOOL = REPO / "tools" / "gen_step_properties.py"

# One path that exists (with the type at its end) and one that does not, for every step type with a schema.
VALID = {
    "Processing": ("ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri", "string"),
    "Training": ("ModelArtifacts.S3ModelArtifacts", "string"),
    "Tuning": ("TrainingJobSummaries[0].TrainingJobName", "string"),
    "Transform": ("TransformOutput.S3OutputPath", "string"),
    "Model": ("ModelName", "string"),
    "RegisterModel": ("ModelPackageArn", "string"),
    "Condition": ("Outcome", "string"),
    "Callback": ("OutputParameters['token']", "any"),
    "Lambda": ("OutputParameters['count']", "any"),
    "EMR": ("Status.State", "string"),
    "EMRServerless": ("jobRun.state", "string"),
    "QualityCheck": ("CalculatedBaselineStatistics", "string"),
    "ClarifyCheck": ("CalculatedBaselineConstraints", "string"),
    "AutoML": ("BestCandidateProperties.ModelInsightsJsonReportPath", "string"),
    "Endpoint": ("EndpointArn", "string"),
    "EndpointConfig": ("ProductionVariants[0].VariantName", "string"),
    "InferenceComponent": ("Specification.ComputeResourceRequirements.NumberOfCpuCoresRequired", "float"),
    "Job": ("JobArn", "string"),
    "Lineage": ("ArtifactArns['dataset']", "string"),
    "ForEach": ("InputItemCount", "integer"),
}
INVALID = {
    "Processing": ("ProcessingOutputConfig.Output['train']", "did you mean 'Outputs'?"),
    "Training": ("ModelArtifact.S3ModelArtifacts", "did you mean 'ModelArtifacts'?"),
    "Tuning": ("BestTrainingJobs", "did you mean 'BestTrainingJob'?"),
    "Transform": ("TransformOutput.S3OutputPth", "did you mean 'S3OutputPath'?"),
    "Model": ("ModelNme", "did you mean 'ModelName'?"),
    "RegisterModel": ("ModelPackageARN", "did you mean 'ModelPackageArn'?"),
    "Condition": ("Result", "valid: Outcome"),
    "Callback": ("Outputs['token']", "did you mean 'OutputParameters'?"),
    "Lambda": ("OutputParameters.count", "index it (OutputParameters['<key>'])"),
    "EMR": ("Status.Sate", "did you mean 'State'?"),
    "EMRServerless": ("jobRun.State", "did you mean 'state'?"),
    "QualityCheck": ("CalculatedBaselineStatistic", "did you mean 'CalculatedBaselineStatistics'?"),
    "ClarifyCheck": ("CalculatedBaselineStatistics", "did you mean 'CalculatedBaselineConstraints'?"),
    "AutoML": ("BestCandidate.CandidateNam", "did you mean 'CandidateName'?"),
    "Endpoint": ("EndpointStatuses", "did you mean 'EndpointStatus'?"),
    "EndpointConfig": ("ProductionVariants.VariantName", "index it (ProductionVariants[0]"),
    "InferenceComponent": ("InferenceComponentArm", "did you mean 'InferenceComponentArn'?"),
    "Job": ("JobArm", "did you mean 'JobArn'?"),
    "Lineage": ("ArtifactArns[0]", "index it by key (ArtifactArns['<key>']), not [0]"),
    "ForEach": ("IterationOutputs['a']", "index it by position (IterationOutputs[0])"),
    "Fail": ("ErrorMessage", "Fail steps have no properties"),
    "Cleanup": ("Anything", "Cleanup steps have no properties"),
}


def test_every_step_type_is_covered() -> None:
    assert set(VALID) | {"Fail", "Cleanup"} == schema_step_types()
    assert set(INVALID) == schema_step_types()


@pytest.mark.parametrize("step_type", sorted(VALID))
def test_valid_path(step_type: str) -> None:
    path, expected_type = VALID[step_type]
    assert validate_property_path(step_type, path) is None
    assert property_type(step_type, path) == expected_type


@pytest.mark.parametrize("step_type", sorted(INVALID))
def test_invalid_path(step_type: str) -> None:
    path, fragment = INVALID[step_type]
    message = validate_property_path(step_type, path)
    assert message is not None and fragment in message, message
    assert property_type(step_type, path) is None


def test_did_you_mean_message() -> None:
    assert validate_property_path("Training", "ModelArtifact.S3ModelArtifacts") == (
        "'ModelArtifact' is not a property of a Training step; did you mean 'ModelArtifacts'?"
    )
    assert validate_property_path("Training", "ModelArtifacts.S3ModelArtifact") == (
        "'S3ModelArtifact' is not a member of ModelArtifacts in a Training step; "
        "did you mean 'S3ModelArtifacts'?"
    )
    # Case slips are the commonest typo; difflib alone ranks them poorly.
    assert validate_property_path("Training", "modelartifacts").endswith("did you mean 'ModelArtifacts'?")
    assert "an AutoML step" in validate_property_path("AutoML", "Nope")


def test_no_close_match_lists_choices() -> None:
    message = validate_property_path("Training", "Xyzzy")
    assert message.startswith("'Xyzzy' is not a property of a Training step; valid: AlgorithmSpecification, ")
    assert "in all)" in message  # a Training step has too many members to list them all
    assert validate_property_path("Condition", "Xyzzy").endswith("valid: Outcome")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("ProcessingOutputConfig.Outputs[0].S3Output.S3Uri", None),
        ("ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri", None),
        ("ProcessingOutputConfig.Outputs['it\\'s'].OutputName", None),
        ("ProcessingOutputConfig.Outputs.S3Output", "is a list of ProcessingOutput: index it"),
        ("ProcessingOutputConfig['Outputs']", "did you mean 'ProcessingOutputConfig.Outputs'?"),
        ("Environment['MY_VAR']", None),
        ("Environment[0]", "is a map of strings: index it by key (Environment['<key>']), not [0]"),
        ("ProcessingInputs[0].S3Input.S3Uri", None),
        ("ProcessingJobName[0]", "is a string, not a list"),
        ("ProcessingJobName.Foo", "is a string and has no member 'Foo'"),
    ],
)
def test_list_and_map_indexing(path: str, expected: str | None) -> None:
    message = validate_property_path("Processing", path)
    if expected is None:
        assert message is None
    else:
        assert message is not None and expected in message, message


def test_named_elements_only_on_lists_of_structures() -> None:
    assert validate_property_path("Training", "FinalMetricDataList['validation:auc'].Value") is None
    assert property_type("Training", "FinalMetricDataList['validation:auc'].Value") == "float"
    message = validate_property_path("EMR", "Config.Args['x']")
    assert "list of strings, which have no names" in message


def test_any_accepts_everything_below() -> None:
    assert validate_property_path("ForEach", "IterationOutputs[3].ProcessItem.OutputParameters['n']") is None
    assert validate_property_path("ForEach", "Selected.OutputParameters['n']") is None
    assert property_type("ForEach", "Selected.anything[0]") == "any"


def test_job_config_document_can_be_descended() -> None:
    # The service parses the JSON string when a path goes below it (SDK JobStep docstring).
    assert property_type("Job", "JobConfigDocument") == "string"
    assert validate_property_path("Job", "JobConfigDocument.OutputModelPackageArn") is None
    assert property_type("Job", "JobConfigDocument.OutputModelPackageArn") == "any"
    assert "did you mean 'JobConfigDocument'?" in validate_property_path("Job", "JobConfigDoc.X")


def test_property_type_of_containers_and_scalars() -> None:
    assert property_type("Training", "ModelArtifacts") == "structure"
    assert property_type("Training", "HyperParameters") == "map"
    assert property_type("Training", "FinalMetricDataList") == "list"
    assert property_type("Training", "TrainingTimeInSeconds") == "integer"
    assert property_type("Training", "EnableNetworkIsolation") == "boolean"
    assert property_type("Training", "CreationTime") == "timestamp"
    best = "BestTrainingJob.FinalHyperParameterTuningJobObjectiveMetric.Value"
    assert property_type("Tuning", best) == "float"


def test_unknown_step_types_are_not_checked() -> None:
    assert validate_property_path("SomethingNew", "Any.Path[0]") is None
    assert property_type("SomethingNew", "Any.Path") is None
    assert property_members("SomethingNew") is None


def test_property_members() -> None:
    assert property_members("Condition") == ["Outcome"]
    assert "S3Uri" in property_members("Processing", "ProcessingOutputConfig.Outputs['x'].S3Output")
    assert property_members("Processing", "ProcessingJobName") is None
    assert property_members("Processing", "Nope") is None


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("ModelArtifacts.S3ModelArtifacts", ["ModelArtifacts", "S3ModelArtifacts"]),
        ("A.B['k'].C[0]", ["A", "B", ("k",), "C", 0]),
        ("Outputs['a.b[0]']", ["Outputs", ("a.b[0]",)]),
        ("Outputs['it\\'s']", ["Outputs", ("it's",)]),
        ("A[0][1]['x']", ["A", 0, 1, ("x",)]),
    ],
)
def test_parse_and_format_round_trip(text: str, segments: list) -> None:
    assert parse_property_path(text) == segments
    assert format_property_path(segments) == text


@pytest.mark.parametrize("text", ["", ".A", "A..B", "A.", "A B", "A[x]", "A['x", "A.[0]", "A.0", "A[\"k\"]"])
def test_malformed_paths(text: str) -> None:
    with pytest.raises(ValueError, match="property path"):
        parse_property_path(text)
    assert "property path" in validate_property_path("Training", text)


def test_accepts_split_paths() -> None:
    @dataclass(frozen=True)
    class Key:  # the definition model's map-key segment
        key: str

    split = ("ProcessingOutputConfig", "Outputs", Key("t"), "S3Output")
    assert validate_property_path("Processing", split) is None
    assert property_type("Training", ["HyperParameters", ("lr",)]) == "string"
    assert "did you mean" in validate_property_path("Training", ["ModelArtifact"])


def test_schema_load_does_not_import_botocore() -> None:
    code = (
        "import sys, time\n"
        "t = time.perf_counter()\n"
        "from airflow_sagemaker_mlops.definition import properties as p\n"
        "p.validate_property_path('Training', 'ModelArtifact')\n"
        "print(time.perf_counter() - t, 'botocore' in sys.modules)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.split()[1] == "False"


def _tool():
    spec = importlib.util.spec_from_file_location("gen_step_properties", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_schema_is_up_to_date(tmp_path: Path) -> None:
    fresh = tmp_path / "step_properties.json"
    assert _tool().main(["--output", str(fresh)]) == 0
    assert fresh.read_text() == SCHEMA.read_text(), (
        "step_properties.json is stale (botocore upgraded?): run python tools/gen_step_properties.py"
    )


def test_schema_is_closed() -> None:
    """Every ref in the file names a scalar, ``any`` or a structure the file defines."""
    schema = json.loads(SCHEMA.read_text())
    scalars = {"string", "integer", "float", "boolean", "timestamp", "any", "json"}

    def check(ref: str) -> None:
        if ref[:1] in "[{":
            check(ref[1:-1])
        else:
            assert ref in scalars or ref in schema["shapes"], ref

    for root in schema["steps"].values():
        check(root)
    for members in schema["shapes"].values():
        for ref in members.values():
            check(ref)


# --- SageMaker SDK v3 as the oracle -------------------------------------------------------------------------

SDK_ROOTS = {  # step type -> (file under sagemaker/mlops/workflow, shape names the SDK passes)
    "Processing": ("steps.py", ["DescribeProcessingJobResponse"]),
    "Training": ("steps.py", ["DescribeTrainingJobResponse"]),
    "Transform": ("steps.py", ["DescribeTransformJobResponse"]),
    "Tuning": (
        "steps.py",
        ["DescribeHyperParameterTuningJobResponse", "ListTrainingJobsForHyperParameterTuningJobResponse"],
    ),
    "Job": ("steps.py", ["DescribeJobResponse"]),
    "Model": ("model_step.py", ["DescribeModelOutput"]),
    "RegisterModel": ("model_step.py", ["DescribeModelPackageOutput"]),
    "Endpoint": ("endpoint_step.py", ["DescribeEndpointOutput"]),
    "EndpointConfig": ("endpoint_step.py", ["DescribeEndpointConfigOutput"]),
    "InferenceComponent": ("inference_component_step.py", ["DescribeInferenceComponentOutput"]),
    "AutoML": ("automl_step.py", ["DescribeAutoMLJobResponse"]),
    "EMR": ("emr_step.py", ["Step"]),
}


def _sdk_workflow_dir() -> Path:
    spec = importlib.util.find_spec("sagemaker")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("SageMaker SDK v3 is not installed (test extra)")
    return Path(next(iter(spec.submodule_search_locations))) / "mlops" / "workflow"


@pytest.mark.sdk
def test_roots_match_the_sdk_source() -> None:
    """The step type -> Describe shape table restates the SDK: each shape is named in the step's module."""
    workflow = _sdk_workflow_dir()
    for step_type, (module, shapes) in SDK_ROOTS.items():
        source = (workflow / module).read_text()
        for shape in shapes:
            assert f'"{shape}"' in source, (step_type, module, shape)


def _sdk_paths(prop, depth: int) -> set[str]:
    """Every path the SDK's eagerly built ``Properties`` tree offers, lists and maps indexed once."""
    from sagemaker.core.workflow.properties import PropertiesList, PropertiesMap

    out = set()
    for name, child in vars(prop).items():
        if not name[:1].isupper() or not hasattr(child, "expr"):
            continue
        out.add(child.path)
        if depth > 1:
            if isinstance(child, PropertiesList):
                element = child[0]
                out.add(element.path)
                out |= _sdk_paths(element, depth - 1)
            elif isinstance(child, PropertiesMap):
                out.add(child["k"].path)
            else:
                out |= _sdk_paths(child, depth - 1)
    return out


@pytest.mark.sdk
@pytest.mark.parametrize("step_type", sorted(SDK_ROOTS))
def test_sdk_paths_validate(step_type: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every path the SDK builds (four levels deep) passes, and the top level is exactly the SDK's."""
    _sdk_workflow_dir()
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # the SDK's import needs a region
    from sagemaker.core.workflow.properties import Properties

    _, shapes = SDK_ROOTS[step_type]
    service = "emr" if step_type == "EMR" else "sagemaker"
    root = Properties(step_name="s", shape_names=shapes, service_name=service)
    paths = _sdk_paths(root, depth=4)
    assert len(paths) > 5
    bad = {path: validate_property_path(step_type, path) for path in sorted(paths)}
    assert {k: v for k, v in bad.items() if v} == {}
    top = {name for name, child in vars(root).items() if name[:1].isupper() and hasattr(child, "expr")}
    extra = {"BestCandidateProperties"} if step_type == "AutoML" else set()
    assert set(property_members(step_type)) == top | extra
