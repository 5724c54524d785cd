"""Failure messages and their retry semantics (airflow_sagemaker_mlops/operators/failures.py)."""

from __future__ import annotations

import traceback

import pytest

from airflow_sagemaker_mlops import ConditionStep, FailStep, SageMakerPipelineGroup
from airflow_sagemaker_mlops.compat import DAG, AirflowException, AirflowFailException
from airflow_sagemaker_mlops.definition import conditions as C
from airflow_sagemaker_mlops.definition.expressions import (
    Execution,
    Join,
    JsonGet,
    ParameterRef,
    PropertyFileRef,
    StepProperty,
)
from airflow_sagemaker_mlops.operators import failures

ARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/abc"


def test_a_failed_step_is_final_and_says_what_to_do_next():
    exc = failures.step_failed("fit", {"StepStatus": "Failed", "FailureReason": "AlgorithmError: boom"}, ARN,
                               "train.start", "\nLast 2 lines of the job log:\na\nb")
    assert isinstance(exc, AirflowFailException)
    message = str(exc)
    assert message.startswith("SageMaker step 'fit' failed: AlgorithmError: boom\nLast 2 lines")
    last = message.splitlines()[-1]
    assert last.startswith("Next: ") and f"--pipeline-execution-arn {ARN}" in last and "'train.start'" in last
    assert "clear this task (with downstream) to resume the same execution" in last


def test_a_stopped_step_is_final_too():
    exc = failures.step_failed("fit", {"StepStatus": "Stopped"}, ARN, None)
    assert isinstance(exc, AirflowFailException)
    assert "was stopped" in str(exc) and str(exc).splitlines()[-1].startswith("Next: ")


def test_polling_errors_keep_airflow_retries():
    exc = failures.wait_error("polling x failed 5 times: EndpointConnectionError")
    assert isinstance(exc, AirflowException) and not isinstance(exc, AirflowFailException)
    assert str(exc).splitlines()[-1].startswith("Next: ") and "retries this task" in str(exc)


def test_a_failed_execution_is_final():
    exc = failures.execution_failed(ARN, "Failed", "Step failure: fit")
    assert isinstance(exc, AirflowFailException)
    assert str(exc).startswith(f"SageMaker pipeline execution {ARN} Failed: Step failure: fit\nNext: ")


SCORE = JsonGet("metrics.auc", property_file=PropertyFileRef("evaluate", "metrics"))


@pytest.mark.parametrize(("condition", "text"), [
    (C.ge(SCORE, ParameterRef("MinAuc")), "evaluate.metrics['metrics.auc'] >= MinAuc"),
    (C.not_(C.eq(StepProperty("fit", ("TrainingJobStatus",)), "Completed")),
     "not (fit.TrainingJobStatus == 'Completed')"),
    (C.or_(C.lt(1, 2), C.in_(Execution.PipelineName, ["a", "b"])), "(1 < 2 or Execution.PipelineName in ['a', 'b'])"),
    (C.gt(Join(["a", ParameterRef("X")], on="-"), "a-1"), "join('-', 'a', X) > 'a-1'"),
])
def test_conditions_read_as_a_person_writes_them(condition, text):
    assert C.describe(condition) == text


def test_a_fail_step_names_its_message_and_the_condition_that_led_there():
    with DAG("d", schedule=None), SageMakerPipelineGroup(group_id="g", pipeline_name="p",
                                                               role_arn="arn:aws:iam::123456789012:role/r"):
        weak = FailStep(task_id="weak", error_message="too weak")
        ConditionStep(task_id="gate", condition=C.eq(Execution.PipelineName, "p"), if_false=[weak])
        alone = FailStep(task_id="alone", error_message="no")
    step = {"StepStatus": "Failed", "FailureReason": "x", "Metadata": {"Fail": {"ErrorMessage": "AUC 0.6 < 0.7"}}}
    line, exc = failures.designed_failure(weak, step, "g.start")
    assert line == ("Fail step 'weak' ended the execution: AUC 0.6 < 0.7 (condition step 'gate' evaluated "
                    "Execution.PipelineName == 'p' to False)")
    message = str(exc)
    assert "\n" not in line and message.startswith(line + "\nNext: ") and "'g.start'" in message
    assert isinstance(exc, AirflowFailException) and failures.is_final(exc)
    assert failures.designed_failure(alone, step, "g.start")[0] == \
        "Fail step 'alone' ended the execution: AUC 0.6 < 0.7"


# -- one_frame: a final status shows the frame of its raise, not the calls that led there ------------------


def _deep(exc: BaseException, depth: int = 3) -> None:
    if depth:
        _deep(exc, depth - 1)
    try:
        raise KeyError("while looking something up")  # an exception being handled: context to hide
    except KeyError:
        raise exc  # noqa: B904 - the chained context is what one_frame must drop


@failures.one_frame
def _execute(exc: BaseException) -> None:
    _deep(exc)


def test_a_final_failure_leaves_one_frame_of_ours_and_no_chained_context():
    with pytest.raises(AirflowFailException) as raised:
        _execute(failures.execution_failed(ARN, "Failed", "Step failure: fit"))
    frames = traceback.extract_tb(raised.value.__traceback__)
    ours = [f for f in frames if f.filename == failures.__file__]
    assert [f.name for f in ours] == ["wrapper"] and ours[0].line.startswith("raise exc.with_traceback(None) from None")
    assert not [f for f in frames if f.name in ("_deep", "_execute")]  # the calls below the raise are gone
    text = "".join(traceback.format_exception(raised.value))
    assert "KeyError" not in text and "During handling" not in text
    assert text.rstrip().endswith(str(raised.value).splitlines()[-1])  # the message, Next: line last


@pytest.mark.parametrize("exc", [AirflowFailException("not marked final: could be a bug"),
                                 AirflowException("transient"), KeyError("a bug")])
def test_other_errors_keep_their_whole_traceback(exc):
    with pytest.raises(type(exc)) as raised:
        _execute(exc)
    names = [f.name for f in traceback.extract_tb(raised.value.__traceback__)]
    assert names.count("_deep") == 4 and "_execute" in names
    assert isinstance(raised.value.__context__, KeyError)
