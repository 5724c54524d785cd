"""Parse-time validation: each mistake is a PipelineCompileError naming the DAG file, group, task, field."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any

import pendulum
import pytest

from airflow_sagemaker_mlops import (
    ConditionStep,
    FailStep,
    JsonGet,
    LambdaStep,
    PipelineParameter,
    ProcessingStep,
    PropertyFile,
    RawStep,
    RetryPolicy,
    SageMakerPipelineGroup,
    TrainingStep,
)
from airflow_sagemaker_mlops import conditions as C
from airflow_sagemaker_mlops.compat import DAG, EmptyOperator, TaskGroup, task
from airflow_sagemaker_mlops.definition import StepProperty
from airflow_sagemaker_mlops.definition.expressions import parse_path
from airflow_sagemaker_mlops.exceptions import (
    PipelineCompileError,
    PipelineDefinitionError,
    PipelineDefinitionWarning,
)

THIS_FILE = __file__
JOB: dict[str, Any] = {"AppSpecification": {"ImageUri": "img"}}


def build(body: Callable[[SageMakerPipelineGroup], Any], **group_kwargs: Any) -> SageMakerPipelineGroup:
    kwargs: dict[str, Any] = {"pipeline_name": "p"} | group_kwargs
    with DAG("dag_under_test", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
        with SageMakerPipelineGroup(group_id="grp", **kwargs) as group:
            body(group)
    return group


def compile_error(body: Callable[[SageMakerPipelineGroup], Any], **group_kwargs: Any) -> PipelineCompileError:
    with pytest.raises(PipelineCompileError) as info:
        build(body, **group_kwargs)
    error = info.value
    message = str(error)
    # Every error says where: the DAG file (this test file), the DAG and the group.
    assert THIS_FILE in message
    assert "DAG 'dag_under_test'" in message
    assert "group 'grp'" in message
    return error


def test_error_points_at_the_line_of_the_task():
    def body(g):
        ProcessingStep(task_id="ok", job=JOB)
        ProcessingStep(task_id="bad", step_name="has space", job=JOB)  # the line the error names

    error = compile_error(body)
    assert error.task_id == "grp.bad"
    assert error.lineno is not None
    assert "has space" in open(THIS_FILE).read().splitlines()[error.lineno - 1]
    assert re.search(rf"{re.escape(THIS_FILE)}:{error.lineno}: ", str(error))


@pytest.mark.parametrize("name", ["has space", "x" * 65, "dots.not.allowed", ""])
def test_invalid_step_names(name):
    error = compile_error(lambda g: ProcessingStep(task_id="t", step_name=name, job=JOB))
    assert "step name" in error.problem and "1-64" in error.problem


@pytest.mark.parametrize("name", ["under_score", "-leading", "trailing-", "x" * 257, "spa ce"])
def test_invalid_pipeline_names(name):
    error = compile_error(lambda g: ProcessingStep(task_id="t", job=JOB), pipeline_name=name)
    assert error.field == "pipeline_name"
    assert "pipeline name" in error.problem


def test_duplicate_step_names():
    def body(g):
        ProcessingStep(task_id="a", step_name="same", job=JOB)
        ProcessingStep(task_id="b", step_name="same", job=JOB)

    error = compile_error(body)
    assert error.task_id == "grp.b"
    assert "already used by task 'grp.a'" in error.problem


def test_cycle_through_data_and_order_dependencies():
    def body(g):
        a = ProcessingStep(task_id="a", job=JOB)
        b = TrainingStep(task_id="b", job={"Environment": {"X": a.properties.ProcessingJobArn}})
        c = ProcessingStep(task_id="c", job={"Environment": {"M": b.properties.ModelArtifacts.S3ModelArtifacts}})
        c >> a

    error = compile_error(body)
    assert "cycle" in error.problem
    assert re.search(r"a -> b -> c -> a|b -> c -> a -> b|c -> a -> b -> c", error.problem)


def test_reference_to_a_step_of_another_group():
    with DAG("dag_under_test", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
        with SageMakerPipelineGroup(group_id="other", pipeline_name="other"):
            foreign = ProcessingStep(task_id="foreign", job=JOB)
        with pytest.raises(PipelineCompileError) as info:
            with SageMakerPipelineGroup(group_id="grp", pipeline_name="p"):
                TrainingStep(task_id="t", job={"Environment": {"X": foreign.properties.ProcessingJobArn}})
    assert "task 'other.foreign', which is not a step of this group" in str(info.value)
    assert info.value.field == "job.Environment.X"
    assert info.value.task_id == "grp.t"


def test_reference_to_an_unknown_step():
    error = compile_error(lambda g: RawStep(task_id="t", step_type="EMR", arguments={
        "ClusterId": StepProperty("ghost", parse_path("ClusterId"))}))
    assert "unknown step 'ghost'" in error.problem


def test_unknown_parameter_is_reported_at_once():
    def body(g):
        g.parameter("Nope")

    error = compile_error(body, parameters={"Known": PipelineParameter.string("x")})
    assert "unknown parameter 'Nope' (declared: Known)" in error.problem


def test_parameter_of_another_group():
    with DAG("dag_under_test", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
        with SageMakerPipelineGroup(group_id="other", pipeline_name="other",
                                    parameters={"X": PipelineParameter.string("a")}) as other:
            FailStep(task_id="f", error_message="x")
        with pytest.raises(PipelineCompileError) as info:
            with SageMakerPipelineGroup(group_id="grp", pipeline_name="p",
                                        parameters={"X": PipelineParameter.string("a")}):
                FailStep(task_id="f", error_message=other.parameter("X"))
    assert "belongs to group 'other'" in str(info.value)


@pytest.mark.parametrize(("param", "why"), [
    (PipelineParameter.integer("5"), "'5' (str) is not a Integer"),
    (PipelineParameter.float(True), "is not a Float"),
    (PipelineParameter.boolean("true"), "is not a Boolean"),
    (PipelineParameter.string(3), "is not a String"),
    (PipelineParameter.string("c", enum_values=["a", "b"]), "not one of the enum values"),
])
def test_parameter_default_of_the_wrong_type(param, why):
    error = compile_error(lambda g: FailStep(task_id="f", error_message="x"), parameters={"P": param})
    assert why in error.problem
    assert error.field == "parameters['P']"


def test_step_in_both_branches():
    def body(g):
        s = ProcessingStep(task_id="s", job=JOB)
        ConditionStep(task_id="gate", condition=C.eq(1, 1), if_true=[s], if_false=[s])

    error = compile_error(body)
    assert "in both branches" in error.problem
    assert error.task_id == "grp.gate"


def test_step_in_branches_of_two_conditions():
    def body(g):
        s = ProcessingStep(task_id="s", job=JOB)
        ConditionStep(task_id="one", condition=C.eq(1, 1), if_true=[s])
        ConditionStep(task_id="two", condition=C.eq(1, 1), if_false=[s])

    assert "already in a branch of condition 'one'" in compile_error(body).problem


def test_step_in_a_branch_and_upstream_of_its_condition():
    def body(g):
        s = ProcessingStep(task_id="s", job=JOB)
        gate = ConditionStep(task_id="gate", condition=C.eq(1, 1), if_true=[s])
        s >> gate  # s would have to run before the gate and on its outcome

    assert "cycle" in compile_error(body).problem


def test_empty_condition():
    error = compile_error(lambda g: ConditionStep(task_id="gate", condition=[]))
    assert "condition is empty" in error.problem
    assert error.task_id == "grp.gate"


def test_plain_airflow_task_inside_the_group_says_what_to_use_instead():
    def body(g):
        ProcessingStep(task_id="s", job=JOB)
        EmptyOperator(task_id="plain")

    error = compile_error(body)
    assert error.task_id == "grp.plain"
    assert "EmptyOperator is a plain Airflow task" in error.problem
    assert "parameter_values" in error.problem and "LambdaStep" in error.problem


def test_taskflow_task_inside_the_group():
    @task
    def hello() -> str:
        return "x"

    def body(g):
        hello()

    problem = compile_error(body).problem
    assert "plain Airflow task" in problem
    # The message names the decorator that makes the function a pipeline step.
    assert "To run hello() in the pipeline, decorate it with @sagemaker_step(" in problem
    assert "@task.sagemaker(" in problem


def test_nested_task_group_is_unsupported():
    def body(g):
        with TaskGroup("inner"):
            ProcessingStep(task_id="s", job=JOB)

    assert "nested inside the pipeline group" in compile_error(body).problem


def test_unsupported_step_type_is_named():
    error = compile_error(lambda g: RawStep(task_id="nb", step_type="Notebook", arguments={}))
    assert "unsupported step type 'Notebook'" in error.problem
    assert error.field == "step_type"


@pytest.mark.parametrize(("kwargs", "why"), [
    ({"cache": True}, "Fail steps cannot be cached"),
    ({"retry_policies": [RetryPolicy(["Step.SERVICE_FAULT"], max_attempts=2)]}, "Fail steps take no retry"),
])
def test_unsupported_settings_on_a_step_type(kwargs, why):
    assert why in compile_error(lambda g: FailStep(task_id="f", error_message="x", **kwargs)).problem


def test_invalid_retry_policy():
    error = compile_error(lambda g: ProcessingStep(
        task_id="p", job=JOB, retry_policies=[RetryPolicy(["Step.OOPS"], max_attempts=2, expire_after_minutes=5)]))
    assert "unknown retry exception type 'Step.OOPS'" in error.problem
    assert "not both" in error.problem  # every problem of the step in one message


def test_xcom_in_a_step_argument():
    @task
    def upstream() -> str:
        return "s3://x"

    def body(g):
        ProcessingStep(task_id="p", job={"ProcessingInputs": [{"S3Input": {"S3Uri": upstream()}}]})

    with DAG("dag_under_test", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
        value = upstream()
        with pytest.raises(PipelineCompileError) as info:
            with SageMakerPipelineGroup(group_id="grp", pipeline_name="p"):
                ProcessingStep(task_id="p", job={"ProcessingInputs": [{"S3Input": {"S3Uri": value}}]})
    assert info.value.field == "job.ProcessingInputs[0].S3Input.S3Uri"
    assert "declare a pipeline parameter" in str(info.value)


def test_jinja_in_a_step_argument():
    error = compile_error(lambda g: ProcessingStep(task_id="p", job={"Environment": {"DS": "{{ ds }}"}}))
    assert error.field == "job.Environment.DS"
    assert "Jinja template" in error.problem


def test_non_json_value_in_a_step_argument():
    error = compile_error(lambda g: ProcessingStep(task_id="p", job={"Environment": {"WHEN": pendulum.now()}}))
    assert "DateTime values cannot go into a pipeline definition" in error.problem


def test_property_path_typo_has_a_suggestion():
    def body(g):
        fit = TrainingStep(task_id="fit", job={})
        ProcessingStep(task_id="p", job={"Environment": {"M": fit.properties.ModelArtifact.S3ModelArtifacts}})

    error = compile_error(body)
    assert "did you mean 'ModelArtifacts'" in error.problem
    assert error.task_id == "grp.p"


def test_unknown_property_file_in_json_get():
    def body(g):
        ev = ProcessingStep(task_id="ev", job=JOB, property_files=[PropertyFile("metrics", "out", "m.json")])
        ConditionStep(task_id="gate", condition=C.gt(JsonGet(ev, "metricz", "auc"), 0.5))

    error = compile_error(body)
    assert "property file 'metricz'" in error.problem and "declared: metrics" in error.problem


def test_unknown_output_parameter():
    def body(g):
        fn = LambdaStep(task_id="fn", function_arn="arn:aws:lambda:us-east-1:111122223333:function:f",
                        outputs=["a"])
        FailStep(task_id="f", error_message=fn.output_parameter("b"))

    assert "has no output parameter 'b' (declared: a)" in compile_error(body).problem


@pytest.mark.parametrize(("condition", "why"), [
    (lambda g: C.gt(g.parameter("S"), 1), "GreaterThan compares numbers, but its left value is a String"),
    (lambda g: C.eq(g.parameter("S"), 1), "Equals compares a String with a Integer"),
    (lambda g: C.le(g.parameter("B"), g.parameter("N")), "left value is a Boolean"),
    (lambda g: C.in_(g.parameter("N"), ["a"]), "In looks a Integer up among values that include a String"),
])
def test_condition_types_that_do_not_match(condition, why):
    params = {"S": PipelineParameter.string("x"), "N": PipelineParameter.integer(1),
              "B": PipelineParameter.boolean(True)}
    error = compile_error(lambda g: ConditionStep(task_id="gate", condition=condition(g)), parameters=params)
    assert why in error.problem


def test_numbers_of_both_kinds_compare_fine():
    group = build(lambda g: ConditionStep(task_id="gate", condition=C.ge(g.parameter("F"), g.parameter("N"))),
                  parameters={"F": PipelineParameter.float(0.5), "N": PipelineParameter.integer(1)})
    assert group.compile().definition.steps[0].type == "Condition"


@pytest.mark.parametrize(("values", "why"), [
    ({"Nope": "x"}, "no parameter 'Nope' is declared"),
    ({"N": "seven"}, "'seven' (str) is not a valid Integer (parameter 'N' is declared Integer)"),
    ({"N": 1.5}, "is not a valid Integer"),
])
def test_parameter_values_checked_when_they_are_literals(values, why):
    error = compile_error(lambda g: FailStep(task_id="f", error_message="x"),
                          parameters={"N": PipelineParameter.integer(1)}, parameter_values=values)
    assert why in error.problem
    assert error.field and error.field.startswith("parameter_values[")


def test_parameter_values_from_jinja_and_literals_that_fit():
    group = build(lambda g: FailStep(task_id="f", error_message="x"),
                  parameters={"N": PipelineParameter.integer(1), "F": PipelineParameter.float(1.0)},
                  parameter_values={"N": "{{ params.n }}", "F": "2.5"})
    compiled = group.compile()
    assert compiled.parameter_values == {"N": "{{ params.n }}", "F": "2.5"}
    assert "2.5" not in compiled.definition.to_json()  # per-run values never enter the definition


def test_invalid_role_arn():
    error = compile_error(lambda g: FailStep(task_id="f", error_message="x"), role_arn="SmPipelineRole")
    assert error.field == "role_arn"


def test_invalid_max_parallel_steps():
    error = compile_error(lambda g: FailStep(task_id="f", error_message="x"), max_parallel_steps=0)
    assert error.field == "max_parallel_steps"


def test_empty_group():
    assert "the group has no steps" in compile_error(lambda g: None).problem


def test_definition_over_one_mebibyte_warns_it_will_go_through_s3():
    # Five training jobs, each with SageMaker's most hyperparameters (100) of the longest values (2,500).
    big = {"HyperParameters": {f"K{i}": "x" * 2500 for i in range(100)}}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        build(lambda g: [TrainingStep(task_id=f"big{i}", job=big) for i in range(5)])
    messages = [str(w.message) for w in caught if issubclass(w.category, PipelineDefinitionWarning)]
    assert len(messages) == 1
    assert "PipelineDefinitionS3Location" in messages[0] and "group 'grp'" in messages[0]


@pytest.mark.parametrize("make", [
    lambda: ProcessingStep(task_id="p", job=["not", "a", "dict"]),
    lambda: ProcessingStep(task_id="p", job={"ProcessingJobName": "fixed"}),
    lambda: ConditionStep(task_id="c", condition="x > 1"),
    lambda: ConditionStep(task_id="c", condition=C.eq(1, 1), if_true=[EmptyOperator(task_id="e")]),
    lambda: FailStep(task_id="f", error_message=42),
    lambda: LambdaStep(task_id="l", function_arn="arn", outputs={"a": "Text"}),
    lambda: JsonGet("not a step", "f", "p"),
    lambda: C.in_(1, "abc"),
])
def test_bad_arguments_raise_the_project_error_at_once(make):
    with DAG("dag_under_test", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
        with pytest.raises(PipelineDefinitionError):
            make()


def test_formatting_an_expression_into_a_string_is_an_error():
    def body(g):
        ProcessingStep(task_id="p", job={"Environment": {"X": f"prefix-{g.parameter('P')}"}})

    with pytest.raises(PipelineDefinitionError, match="Use Join"):
        build(body, parameters={"P": PipelineParameter.string("a")})


def test_step_role_in_another_account_than_the_pipeline_role():
    error = compile_error(
        lambda g: ProcessingStep(task_id="p", job=JOB | {"RoleArn": "arn:aws:iam::999999999999:role/Other"}),
        role_arn="arn:aws:iam::111122223333:role/SmPipeline")
    assert error.task_id == "grp.p"
    assert "999999999999" in error.problem


@pytest.mark.parametrize(("display_name", "warns"), [("Retries and caching", True), ("nightly_run", True),
                                                     ("churn-model-v2", False)])
def test_pipeline_display_name_off_the_pattern_warns(display_name, warns):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        build(lambda g: ProcessingStep(task_id="p", job=JOB), pipeline_display_name=display_name)
    messages = [str(w.message) for w in caught if issubclass(w.category, PipelineDefinitionWarning)]
    assert len(messages) == int(warns), messages
    if warns:
        assert "field pipeline_display_name" in messages[0] and "[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}" in messages[0]
        assert messages[0].startswith(f"{__file__}:")
