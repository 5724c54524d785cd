"""The Airflow role's statements: the calls this plugin's hooks, operators, triggers and UI make.

The role is the MWAA execution role, or whatever the group's ``aws_conn_id`` resolves to. The calls are those
of ``hooks/pipelines.py``, the step operators and ``operators/observability.py``, the callback operator, the
event-queue trigger (``triggers/events.py``) and the api-server's pipeline tab: read them when this list
changes.
"""

from __future__ import annotations

from typing import Any

from airflow_sagemaker_mlops.definition.pipeline import S3_DEFINITION_THRESHOLD_BYTES, PipelineSpec
from airflow_sagemaker_mlops.definition.step_kinds import STEP_KINDS

from .analysis import AIRFLOW, Analysis, lower_name
from .document import Condition
from .events import CONSUMER_ACTIONS
from .roles import SAGEMAKER_PRINCIPAL
from .values import queue_arn

#: Where the hooks put definitions too large to send inline (see ``hooks.pipelines.DEFINITION_PREFIX``;
#: repeated here because importing the hooks would import botocore).
DEFINITION_PREFIX = "sagemaker-mlops/pipelines"


def airflow_statements(a: Analysis, spec: PipelineSpec, assets: list[Any], definition_bucket: str | None,
                       event_queue_url: str | None = None) -> None:
    """The Airflow role's grants for the pipeline of ``spec``, its code ``assets`` and (``event_queue_url``)
    the event queue its waiting tasks consume."""
    executions = _pipeline_calls(a, spec)
    types = {s.type for s in spec.definition.all_steps()}
    _step_outputs(a, spec, types)
    _step_observability(a, spec, types)
    _callbacks(a, spec, executions)
    _pass_pipeline_role(a, spec)
    _code_assets(a, assets)
    _large_definition(a, spec, definition_bucket)
    if event_queue_url is not None:
        _event_queue(a, event_queue_url)


def _pipeline_calls(a: Analysis, spec: PipelineSpec) -> list[str]:
    """Upsert, start, follow, stop, retry and draw the pipeline; returns the executions' ARNs."""
    names = lower_name(spec.name)
    pipelines = [a.sm(f"pipeline/{n}") for n in names]
    executions = [a.sm(f"pipeline/{n}/execution/*") for n in names]
    a.add(AIRFLOW, "PipelineUpsert", ("sagemaker:AddTags", "sagemaker:CreatePipeline", "sagemaker:DescribePipeline",
                                      "sagemaker:UpdatePipeline"), pipelines,
          "the start task upserts the pipeline: DescribePipeline, then CreatePipeline (tagged with the definition "
          "hash) or UpdatePipeline + AddTags only when the definition changed")
    a.add(AIRFLOW, "PipelineStart", ("sagemaker:StartPipelineExecution",), pipelines,
          "the start task starts an execution (idempotent through its ClientRequestToken)")
    a.add(AIRFLOW, "PipelineExecutions", ("sagemaker:DescribePipelineExecution",
                                          "sagemaker:ListPipelineExecutionSteps",
                                          "sagemaker:RetryPipelineExecution", "sagemaker:StopPipelineExecution"),
          executions, "step tasks, triggers and sensors poll the execution; stop_on_kill and the stop operator "
                      "stop it; the retry operator resumes it")
    a.add(AIRFLOW, "PipelineTab", ("sagemaker:DescribePipelineDefinitionForExecution",), executions,
          "the api-server's pipeline tab draws the definition the latest execution ran with (it also uses "
          "DescribePipeline, DescribePipelineExecution and ListPipelineExecutionSteps, granted above)")
    return executions


def _step_outputs(a: Analysis, spec: PipelineSpec, types: set[str]) -> None:
    """Step tasks describe what their step created for the outputs they push to XCom."""
    for step_type, kind in STEP_KINDS.items():
        job = kind.resource
        if kind.described_outputs and job is not None and step_type in types:
            resource = f"{job.arn_type}/{job.iam_name_pattern}"
            a.add(AIRFLOW, f"StepOutputs{step_type}", (f"sagemaker:Describe{job.noun}",), [a.sm(resource)],
                  f"step tasks push the outputs of {step_type} steps to XCom (one Describe{job.noun} each)")
    if "Model" in types:
        a.add(AIRFLOW, "StepOutputsModel", ("sagemaker:DescribeModel",), [a.sm("model/*")],
              "CreateModel step tasks describe the model for their OpenLineage facets (model names are chosen "
              "at run time)")
    for step in spec.definition.all_steps():
        if step.type != "RegisterModel":
            continue
        group = step.arguments.get("ModelPackageGroupName") if isinstance(step.arguments, dict) else None
        names = lower_name(group.split("/")[-1]) if isinstance(group, str) else ["*"]
        a.add(AIRFLOW, "StepOutputsRegisterModel", ("sagemaker:DescribeModelPackage",),
              [a.sm(f"model-package/{n}/*") for n in names],
              f"step task {step.name} describes the new model package version for its Airflow asset event and "
              "lineage", step.name)


def _step_observability(a: Analysis, spec: PipelineSpec, types: set[str]) -> None:
    """What step tasks read besides the step's status (``operators/observability.py``, group ``job_logs``):
    the job log, a tuning step's best training job, the property files."""
    groups = sorted({g for t, g in (("Training", "TrainingJobs"), ("Tuning", "TrainingJobs"),
                                    ("Processing", "ProcessingJobs"), ("Transform", "TransformJobs")) if t in types})
    if groups:
        arns = [a.arn("logs", f"log-group:/aws/sagemaker/{g}") for g in groups]
        a.add(AIRFLOW, "StepJobLogs", ("logs:DescribeLogStreams", "logs:GetLogEvents"),
              [*arns, *(arn + ":log-stream:*" for arn in arns)],
              "step tasks show their job's log (CloudWatch Logs) while it runs and its tail when it fails")
    if "Tuning" in types:
        a.add(AIRFLOW, "StepMetricsTuning", ("sagemaker:DescribeTrainingJob",), [a.sm("training-job/*")],
              "a tuning step's task reads the metrics of the best training job (named after the tuning job)")
    for step in spec.definition.all_steps():
        for prop_file in step.property_files:
            for name, loc in a.write_locations(step):
                if name != prop_file.output_name:
                    continue
                a.add(AIRFLOW, "StepPropertyFiles", ("s3:GetObject",), [a.property_file_arn(loc, prop_file.path)],
                      f"the task of step {step.name} reads its property file {prop_file.name} into XCom", step.name)


def _callbacks(a: Analysis, spec: PipelineSpec, executions: list[str]) -> None:
    callbacks = [s for s in spec.definition.all_steps() if s.type == "Callback"]
    if not callbacks:
        return
    a.add(AIRFLOW, "PipelineCallbacks", ("sagemaker:SendPipelineExecutionStepFailure",
                                         "sagemaker:SendPipelineExecutionStepSuccess"), executions,
          "SageMakerPipelineCallbackOperator answers the Callback steps "
          f"({', '.join(sorted(s.name for s in callbacks))})")
    for step in callbacks:
        for arn in a.queue_arns(AIRFLOW, step):
            a.add(AIRFLOW, "CallbackQueues", ("sqs:ChangeMessageVisibility", "sqs:DeleteMessage",
                                              "sqs:ReceiveMessage"), [arn],
                  f"SageMakerPipelineCallbackOperator (read_queue=True) takes the message of Callback step "
                  f"{step.name} off its queue and gives other executions' messages back", step.name)


def _pass_pipeline_role(a: Analysis, spec: PipelineSpec) -> None:
    if spec.role_arn is None:
        a.note(AIRFLOW, "the group has no role_arn, so no iam:PassRole was generated; CreatePipeline will fail "
                        "until it has one")
        return
    a.add(AIRFLOW, "PassPipelineRole", ("iam:PassRole",), [spec.role_arn],
          "CreatePipeline and UpdatePipeline pass the pipeline role to SageMaker",
          conditions=[Condition("StringEquals", "iam:PassedToService", (SAGEMAKER_PRINCIPAL,))])


def _s3_prefix(a: Analysis, bucket: str, prefix: str, sid: str, reason: str) -> None:
    a.add(AIRFLOW, sid, ("s3:GetObject", "s3:PutObject"), [a.s3(bucket, f"{prefix}*")], reason)
    a.add(AIRFLOW, f"{sid}List", ("s3:ListBucket",), [a.s3(bucket)], reason, None,
          [Condition("StringLike", "s3:prefix", (f"{prefix}*",))])


def _code_assets(a: Analysis, assets: list[Any]) -> None:
    by_location: dict[tuple[str, str], list[str]] = {}
    for asset in assets:
        by_location.setdefault((asset.bucket, asset.prefix), []).append(asset.local_path)
    for (bucket, prefix), paths in sorted(by_location.items()):
        _s3_prefix(a, bucket, prefix + "/", "CodeAssets",
                   f"the start task uploads code assets ({len(paths)}) content-addressed under "
                   f"s3://{bucket}/{prefix}/ and skips those already there (HeadObject needs s3:GetObject, and "
                   "s3:ListBucket so a missing key is a 404, not a 403)")


def _large_definition(a: Analysis, spec: PipelineSpec, definition_bucket: str | None) -> None:
    size = len(spec.definition.to_json().encode())
    if size < S3_DEFINITION_THRESHOLD_BYTES:
        return
    bucket = definition_bucket
    if bucket is None:
        bucket = f"sagemaker-{a.region}-{a.account}"
        a.widen(AIRFLOW, f"the definition goes through the default bucket {bucket}, which the hook creates "
                         "when missing (set definition_bucket= on the group to use an existing bucket)")
    _s3_prefix(a, bucket, f"{DEFINITION_PREFIX}/{spec.name}/", "LargeDefinitions",
               f"the definition is {size // 1024} KiB, over the {S3_DEFINITION_THRESHOLD_BYTES // 1024} KiB "
               "threshold: the hook uploads it and passes PipelineDefinitionS3Location")
    if definition_bucket is None:
        a.add(AIRFLOW, "LargeDefinitionsBucket", ("s3:CreateBucket", "s3:ListBucket"), [a.s3(bucket)],
              "HeadBucket, and CreateBucket when the bucket is missing")


def _event_queue(a: Analysis, url: str) -> None:
    arn = queue_arn(url, a.partition)
    if arn is None:
        raise ValueError(f"event_queue_url: {url!r} is not an SQS queue URL "
                         "(https://sqs.<region>.amazonaws.com/<account>/<queue>)")
    a.add(AIRFLOW, "ConsumePipelineEvents", CONSUMER_ACTIONS, [arn],
          f"the triggerer's waiting tasks consume SageMaker's pipeline events from the event queue {url} "
          "(receive, give back the other pipelines' events, delete)")
