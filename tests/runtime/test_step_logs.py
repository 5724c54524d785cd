"""Step logs and metrics in Airflow: ``airflow dags test`` of tests/runtime/dags/rt_observe.py."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_a_training_step_task_logs_its_job_and_pushes_its_metrics(airflow):
    run = airflow.dags_test("rt_observe")
    assert run.states == {"model.start": "success", "model.fit": "success", "model.evaluate": "success"}, \
        run.output[-4000:]
    # The training script's own lines, from the job log in CloudWatch Logs (logged by the trigger while the
    # job ran if the task deferred, by the worker once the step had ended otherwise).
    for epoch in range(1, 6):
        assert f"epoch {epoch} loss=" in run.output
    assert "job log of step fit (CloudWatch Logs group /aws/sagemaker/TrainingJobs" in run.output
    assert run.xcom("model.fit", "metrics") == {"train:loss": 0.3277, "validation:auc": 0.9123}
    assert "Metrics of step fit" in run.output
    # The evaluation's property file, parsed.
    assert run.xcom("model.evaluate", "property_files") == {"metrics": {"metrics": {"score": 0.87}}}
    assert "Property file metrics of step evaluate" in run.output
    assert run.xcom("model.evaluate", "metrics") is None  # not a training step


def test_a_failed_step_shows_the_tail_of_its_job_log(airflow):
    run = airflow.dags_test("rt_observe_failing")
    assert run.states == {"model.start": "success", "model.fit": "failed"}, run.output[-4000:]
    # Non-deferrable: the worker logged the job's lines while polling, then failed with the log's tail,
    # which reaches further back than SageMaker's FailureReason (its last lines).
    assert "epoch 1 loss=" in run.output
    error = run.output[run.output.index("SageMaker step 'fit' failed: AlgorithmError"):]
    assert "lines of the job log (CloudWatch Logs group /aws/sagemaker/TrainingJobs" in error
    assert "epoch 10 loss=" in error and "ValueError: loss diverged at epoch 30" in error
