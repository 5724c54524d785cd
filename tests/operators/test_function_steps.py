"""Function and notebook steps at parse time: what the decorator accepts, what it rejects (located errors
with what to do), results as values, dependencies, content-addressed code."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pendulum
import pytest

from airflow_sagemaker_mlops import (
    ConditionStep,
    FailStep,
    NotebookStep,
    PipelineCompileError,
    ProcessingStep,
    SageMakerPipelineGroup,
    StepResult,
    sagemaker_step,
)
from airflow_sagemaker_mlops import conditions as C
from airflow_sagemaker_mlops.compat import DAG, task

ROLE = "arn:aws:iam::111122223333:role/SmPipeline"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
OPTIONS = {"image": IMAGE, "s3_root_uri": "s3://bucket/fn"}
THIS_FILE = Path(__file__).name
NOTEBOOK = Path(__file__).parents[1] / "local" / "function_steps" / "fs_report.ipynb"
CONSTANT = 3


@sagemaker_step(**OPTIONS)
def add(a: int, b: int = 1) -> int:
    return a + b


@sagemaker_step(**OPTIONS)
def uses_global(x: int) -> int:
    return x * CONSTANT


@sagemaker_step(**OPTIONS)
def uses_json(x: Any) -> str:
    return json.dumps(x)


def group(body: Any, **kwargs: Any) -> SageMakerPipelineGroup:
    with DAG("fn_dag", schedule=None, start_date=pendulum.datetime(2026, 1, 1)):
        with SageMakerPipelineGroup("grp", pipeline_name="fn-pipe", role_arn=ROLE, **kwargs) as g:
            body(g)
    return g


def error_of(body: Any) -> PipelineCompileError:
    with pytest.raises(PipelineCompileError) as info:
        group(body)
    assert THIS_FILE in str(info.value)
    return info.value


def steps(g: SageMakerPipelineGroup) -> dict[str, dict[str, Any]]:
    return {s["Name"]: s for s in g.compile().spec.to_request()["PipelineDefinition"]["Steps"]}


def test_a_result_feeds_another_function_step_as_a_mounted_input_and_orders_the_steps():
    def body(g):
        first = add(1, 2)
        add(first, b=5)

    g = group(body)
    compiled = steps(g)
    assert list(compiled) == ["add", "add__1"]  # task ids made unique as @task does
    inputs = compiled["add__1"]["Arguments"]["ProcessingInputs"]
    assert inputs[1]["InputName"] == "fn-add"
    assert inputs[1]["S3Input"]["S3Uri"] == {"Get": "Steps.add.ProcessingOutputConfig.Outputs['result'].S3Output.S3Uri"}
    assert "grp.add" in g.dag.get_task("grp.add__1").upstream_task_ids  # the data dependency is an Airflow edge


def test_a_result_part_is_a_json_get_in_conditions_and_other_steps():
    def body(g):
        total = add(1)
        fail = FailStep(task_id="low", error_message="low")
        ConditionStep(task_id="gate", condition=C.ge(total, 2), if_true=[], if_false=[fail])
        ProcessingStep(task_id="p", job={"Environment": {"FIRST": total["items"][0]}})

    compiled = steps(group(body))
    assert compiled["gate"]["Arguments"]["Conditions"][0]["LeftValue"] == {
        "Std:JsonGet": {"PropertyFile": {"Get": "Steps.add.PropertyFiles.result"}, "Path": "Result"}}
    assert compiled["p"]["Arguments"]["Environment"]["FIRST"]["Std:JsonGet"]["Path"] == "Result['items'][0]"
    assert compiled["add"]["PropertyFiles"] == [{"PropertyFileName": "result", "OutputName": "result",
                                                 "FilePath": "result.json"}]


def test_the_code_is_content_addressed_and_collected_for_upload():
    # Two calls with the same arguments ship the same bytes: one bundle; other arguments: another manifest.
    assert len(group(lambda g: (add(1), add.override(task_id="again")(1))).compile().code_assets) == 1
    g = group(lambda g: (add(1), add(2)))
    compiled = g.compile()
    assets = compiled.code_assets
    assert len(assets) == 2 and all(a.s3_uri.startswith("s3://bucket/fn/code/") for a in assets)
    manifest = json.loads(assets[0].files["manifest.json"])
    assert manifest["function"] == "add" and manifest["args"] == [1]
    assert assets[0].files["add.py"].decode().splitlines()[1:3] == ["def add(a: int, b: int = 1) -> int:",
                                                                   "    return a + b"]
    assert "_sagemaker_mlops_runner.py" in assets[0].files
    assert group(lambda g: add(1)).compile().code_assets[0].s3_uri == assets[0].s3_uri  # stable across parses


def test_result_xcom_is_the_step_tasks_return_value():
    holder = {}
    group(lambda g: holder.setdefault("r", add(1)))
    result = holder["r"]
    assert isinstance(result, StepResult)
    assert result.xcom.operator is result.step and result.xcom.key == "return_value"
    with pytest.raises(PipelineCompileError, match="XCom holds the whole return value"):
        _ = result["x"].xcom


def test_module_level_names_are_rejected_with_what_to_do():
    error = error_of(lambda g: uses_global(1))
    assert "uses module-level name(s) CONSTANT" in error.problem
    assert "import modules inside the function" in error.problem
    assert "json" in error_of(lambda g: uses_json(1)).problem


def test_closures_are_rejected():
    factor = 2

    @sagemaker_step(**OPTIONS)
    def scaled(x: int) -> int:
        return x * factor

    assert "is a closure" in error_of(lambda g: scaled(1)).problem


def test_outside_a_group_the_call_says_where_it_belongs():
    with pytest.raises(PipelineCompileError, match="call it inside a `with SageMakerPipelineGroup"):
        add(1)


def test_unknown_options_get_a_did_you_mean():
    with pytest.raises(PipelineCompileError, match="'instance_typ' \\(did you mean 'instance_type'\\?\\)"):
        sagemaker_step(instance_typ="ml.m5.large")


def test_xcom_values_and_objects_are_not_arguments():
    @task
    def upstream() -> int:
        return 1

    def with_xcom(g):
        add(upstream())

    with DAG("fn_xcom", schedule=None, start_date=pendulum.datetime(2026, 1, 1)):
        with pytest.raises(PipelineCompileError, match="an XCom value cannot be a step's argument"):
            with SageMakerPipelineGroup("grp", pipeline_name="fn-pipe", role_arn=ROLE) as g:
                with_xcom(g)
    assert "set cannot be a step's argument" in error_of(lambda g: add({1, 2})).problem


def test_required_options():
    bare = sagemaker_step()(add.function)
    assert "image is required" in error_of(lambda g: bare(1)).problem
    no_root = sagemaker_step(image=IMAGE)(add.function)
    assert "s3_root_uri must be an s3://" in error_of(lambda g: no_root(1)).problem


def test_requirements_and_source_dir_are_shipped(tmp_path):
    (tmp_path / "helpers").mkdir()
    (tmp_path / "helpers" / "util.py").write_text("X = 1\n")
    (tmp_path / "requirements.txt").write_text("numpy\n")
    step = add.override(requirements=str(tmp_path / "requirements.txt"), source_dir=str(tmp_path / "helpers"))
    files = group(lambda g: step(1)).compile().code_assets[0].files
    assert files["requirements.txt"] == b"numpy\n" and files["src/util.py"] == b"X = 1\n"
    listed = add.override(requirements=["pandas>=2", "numpy"])
    assert group(lambda g: listed(1)).compile().code_assets[0].files["requirements.txt"] == b"pandas>=2\nnumpy\n"


def test_notebook_step_compiles_with_parameters_and_outputs(tmp_path):
    holder = {}

    def body(g):
        total = add(1)
        holder["nb"] = NotebookStep(task_id="report", notebook=str(NOTEBOOK), parameters={"mean": total},
                                    outputs=["summary"], **OPTIONS)

    compiled = group(body).compile()
    bundle = compiled.code_assets[1]
    manifest = json.loads(bundle.files["manifest.json"])
    assert manifest["kind"] == "notebook" and manifest["outputs"] == ["summary"]
    assert manifest["parameters"]["mean"]["$sm"] == "result"
    assert bundle.files["fs_report.ipynb"] == NOTEBOOK.read_bytes()
    assert holder["nb"].output_files == {"output_notebook": "fs_report.ipynb", "output_html": "fs_report.html"}


@pytest.mark.parametrize(("kwargs", "why"), [
    ({"notebook": "missing.ipynb"}, "is not an .ipynb file"),
    ({"notebook": str(NOTEBOOK), "parameters": {"not an identifier": 1}}, "is not a Python identifier"),
    ({"notebook": str(NOTEBOOK), "outputs": "summary"}, "outputs takes a list of variable names"),
])
def test_notebook_step_errors(kwargs, why):
    assert why in error_of(lambda g: NotebookStep(task_id="nb", **OPTIONS, **kwargs)).problem


def test_a_notebook_that_is_not_json(tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text(textwrap.dedent("not json"))
    assert "is not a Jupyter notebook" in error_of(lambda g: NotebookStep(task_id="nb", notebook=str(bad),
                                                                          **OPTIONS)).problem


def test_results_use_the_key_and_path_form_of_sdk_v3s_step():
    """The one part of a function step's definition shared with SDK v3's @step: the result JSON's key and
    the JsonGet path form (the jobs differ: Processing here, Training there; docs/function-steps.md)."""
    stored = pytest.importorskip("sagemaker.core.remote_function.core.stored_function")
    from airflow_sagemaker_mlops.compiler import job_runner
    from airflow_sagemaker_mlops.operators import functions

    assert stored.JSON_SERIALIZED_RESULT_KEY == functions.RETURN_KEY == job_runner.RETURN_KEY
    step_module = pytest.importorskip("sagemaker.mlops.workflow.function_step")
    source = Path(step_module.__file__).read_text()
    # DelayedReturn._to_json_get: f"[{key}]" for ints, f"['{key}']" for strings, after the result key.
    assert "f\"[{key}]\"" in source and "f\"['{key}']\"" in source
    assert functions.result_path(["items", 0]) == "Result['items'][0]"
