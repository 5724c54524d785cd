"""Function steps and a notebook step compiled by the group and run by the engine's real Processing runner:
our runner in the job, results read through JsonGet by a condition, by the next function step (mounted
as an input) and by the notebook (a parameter), the executed notebook and its HTML in S3."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pendulum
import pytest
from engine_helpers import ROLE, steps_of, unique, wait

from airflow_sagemaker_mlops import (
    ConditionStep,
    FailStep,
    NotebookStep,
    PipelineParameter,
    SageMakerPipelineGroup,
)
from airflow_sagemaker_mlops import conditions as C
from airflow_sagemaker_mlops.compat import DAG

HERE = Path(__file__).parent / "function_steps"
sys.path.insert(0, str(HERE))
import fs_functions  # noqa: E402


def build(bucket: str) -> SageMakerPipelineGroup:
    prepare = fs_functions.step(fs_functions.prepare, bucket)
    score = fs_functions.step(fs_functions.score, bucket)
    with DAG(unique("fs"), schedule=None, start_date=pendulum.datetime(2026, 1, 1)):
        with SageMakerPipelineGroup("g", pipeline_name=unique("fs"), role_arn=ROLE, experiment_config=None,
                                    parameters={"Rows": PipelineParameter.integer(20),
                                                "Threshold": PipelineParameter.float(0.3)}) as group:
            data = prepare(group.parameter("Rows"), seed=7)
            scored = score(data, group.parameter("Threshold"), label="run-1")
            report = NotebookStep(task_id="report", notebook=str(HERE / "fs_report.ipynb"),
                                  image=fs_functions.IMAGE, s3_root_uri=f"s3://{bucket}/fn",
                                  parameters={"mean": scored["mean"], "rows": data["rows"],
                                              "label": scored["label"]},
                                  outputs=["summary"])
            low = FailStep(task_id="low", error_message="mean below threshold")
            ConditionStep(task_id="gate", condition=C.eq(scored["passed"], True), if_true=[report],
                          if_false=[low])
    return group


class _S3Hook:
    """What CodeBundle.upload needs of SageMakerPipelinesHook."""

    def __init__(self, s3: Any) -> None:
        self.s3 = s3

    def _s3_object_exists(self, bucket: str, key: str) -> bool:
        return "Contents" in self.s3.list_objects_v2(Bucket=bucket, Prefix=key)

    def _s3_errors(self) -> Any:
        import contextlib

        return contextlib.nullcontext()


def read(s3: Any, uri: str) -> bytes:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


@pytest.mark.parametrize(("threshold", "branch"), [(0.3, "report"), (0.99, "low")])
def test_function_and_notebook_steps_run_on_the_engine(engine: Any, sm: Any, bucket: str, threshold: float,
                                                       branch: str) -> None:
    group = build(bucket)
    compiled = group.compile()
    s3 = engine.client("s3")
    for asset in compiled.code_assets:
        asset.upload(_S3Hook(s3))
    request = compiled.spec.to_request()
    sm.create_pipeline(PipelineName=request["PipelineName"], RoleArn=ROLE,
                       PipelineDefinition=json.dumps(request["PipelineDefinition"]))
    arn = sm.start_pipeline_execution(PipelineName=request["PipelineName"], PipelineParameters=[
        {"Name": "Threshold", "Value": str(threshold)}])["PipelineExecutionArn"]
    desc = wait(sm, arn, timeout=120)
    steps = steps_of(sm, arn)
    expected = "Succeeded" if branch == "report" else "Failed"
    assert desc["PipelineExecutionStatus"] == expected, {k: v.get("FailureReason") for k, v in steps.items()}
    assert steps["gate"]["Metadata"]["Condition"]["Outcome"] == ("True" if branch == "report" else "False")

    def result(step: str) -> Any:
        job = steps[step]["Metadata"]["ProcessingJob"]["Arn"].rsplit("/", 1)[-1]
        described = sm.describe_processing_job(ProcessingJobName=job)
        uri = described["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
        return uri, json.loads(read(s3, f"{uri}/result.json"))["Result"]

    _, prepared = result("prepare")
    assert prepared["rows"] == 20 and len(prepared["values"]) == 20  # the Integer parameter arrived as an int
    _, scored = result("score")
    mean = sum(prepared["values"]) / 20
    assert scored == {"mean": pytest.approx(mean), "passed": mean >= threshold, "label": "run-1"}
    if branch == "low":
        assert "report" not in steps
        return
    uri, summary = result("report")
    assert summary == {"summary": {"mean": round(mean, 3), "rows": 20, "label": "run-1"}}
    executed = json.loads(read(s3, f"{uri}/fs_report.ipynb"))
    injected = executed["cells"][2]
    assert injected["metadata"]["tags"] == ["injected-parameters"]
    assert f"mean = {mean!r}" in injected["source"]
    assert executed["cells"][3]["outputs"][0]["text"] == "report for run-1 20\n"
    html = read(s3, f"{uri}/fs_report.html").decode()
    assert "report for run-1 20" in html and "<h1>fs_report.ipynb</h1>" in html
