"""Equivalence with SageMaker SDK v3: the same pipeline built both ways yields the same definition.

Each DAG file under ``sdk_dags/`` has a twin builder here (``_sdk_<stem>``) that builds the pipeline with
``sagemaker.mlops.workflow.pipeline.Pipeline`` and serialises ``definition()`` offline. The two JSON
documents must be equal after :func:`normalise`.

The SDK is the reference emitter (docs/architecture.md), but it is slow to import (~10 s) and needs some
care to stay offline, so all SDK pipelines are built once, in one module-scoped fixture, with:

- ``AWS_ENDPOINT_URL`` pointing at a closed local port: any AWS call the SDK tries fails at once with
  ``EndpointConnectionError`` instead of reaching AWS (or hanging on the instance metadata service);
- fake credentials and region ``us-east-1`` (``tests/conftest.py``); the region matters: the SDK only
  applies its default experiment config in regions where SageMaker Experiments is GA;
- ``SAGEMAKER_VALIDATE_ROLE=false``: ``ModelTrainer`` otherwise simulates the role's IAM policies;
- telemetry off by replacing ``telemetry_logging._send_telemetry_request`` with a no-op. The SDK's own
  opt-out is a defaults config file, which it re-validates on every lookup (docs/architecture.md: 3x
  slower) and which would have to be written to the user's config directory;
- a ``PipelineSession`` with an explicit ``default_bucket``, so nothing asks S3 which bucket to use.

Job steps go through the SDK's real producers (``Processor.run``, ``ModelTrainer.train``) so the oracle
includes the defaults the SDK fills in. RegisterModel goes through the SDK's
``create_model_package_from_containers`` (what ``ModelBuilder.register`` calls last) and ``ModelStep``:
``ModelBuilder`` itself uploads code to S3 while preparing the container, which offline it cannot do.
"""

from __future__ import annotations

import json
import time
import types
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_sagemaker_mlops.cli import load_groups

pytestmark = pytest.mark.sdk

SDK_DAGS = Path(__file__).parent / "sdk_dags"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ROLE = "arn:aws:iam::111122223333:role/SmPipeline"
REGION = "us-east-1"


# -- normalisation --------------------------------------------------------------------------------------
def normalise(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition with the differences that carry no meaning for SageMaker removed.

    Each item is something the SDK and this package may write differently for the same pipeline:

    1. **Key order** of every object: JSON objects are unordered, and SageMaker parses the definition.
       Handled by comparing dicts (Python dict equality ignores insertion order) and by sorting keys
       when printing a diff.
    2. **Top-level steps as a set keyed by name**: SageMaker orders steps by their dependencies
       (``DependsOn`` and property references), never by list position, and step names are unique, so
       ``Steps`` becomes ``{name: step}``. Branch steps (``IfSteps``/``ElseSteps``) stay lists: both
       emitters keep the order the user gave, and the tests prove it.
    3. **Top-level keys whose value is null**: the SDK always writes ``MlflowConfig`` (and
       ``PipelineExperimentConfig`` when disabled) and sets it to ``null`` when not configured;
       SageMaker treats null as absent, and this package leaves unset keys out.

    The default experiment config is not normalised away: both emitters write the same
    ``{"ExperimentName": Execution.PipelineName, "TrialName": Execution.PipelineExecutionId}``, so it is
    compared like everything else.
    """
    out = {key: value for key, value in definition.items() if value is not None}
    steps = out.get("Steps", [])
    names = [step["Name"] for step in steps]
    assert len(names) == len(set(names)), f"duplicate top-level step names: {names}"
    out["Steps"] = {step["Name"]: step for step in steps}
    return out


def _diff(ours: dict[str, Any], sdk: dict[str, Any]) -> str:
    import difflib

    a = json.dumps(ours, indent=1, sort_keys=True).splitlines(True)
    b = json.dumps(sdk, indent=1, sort_keys=True).splitlines(True)
    return "".join(difflib.unified_diff(b, a, "sdk", "ours", n=4))


def assert_equivalent(ours: dict[str, Any], sdk: dict[str, Any]) -> None:
    ours_n, sdk_n = normalise(ours), normalise(sdk)
    if ours_n != sdk_n:
        pytest.fail("definitions differ after normalisation:\n" + _diff(ours_n, sdk_n))


def compile_dag(stem: str) -> dict[str, Any]:
    """The definition of the one pipeline group in ``sdk_dags/<stem>.py``, compiled as the CLI does."""
    groups = load_groups(str(SDK_DAGS / f"{stem}.py"))
    (group,) = groups.values()
    return group.compile().definition.to_request()


# -- the SDK side ---------------------------------------------------------------------------------------
class _Sdk:
    """The SDK names the builders use, imported once (the import is the slow part)."""

    def __init__(self) -> None:
        import boto3
        import sagemaker.core.telemetry.telemetry_logging as telemetry
        from sagemaker.core import model_registry, shapes
        from sagemaker.core import processing as sm_processing
        from sagemaker.core.lambda_helper import Lambda
        from sagemaker.core.workflow import conditions, execution_variables, functions, parameters, properties
        from sagemaker.core.workflow.pipeline_context import PipelineSession
        from sagemaker.mlops.workflow import (
            callback_step,
            condition_step,
            fail_step,
            lambda_step,
            model_step,
            pipeline,
            pipeline_experiment_config,
            retry,
            steps,
        )
        from sagemaker.train import configs as train_configs
        from sagemaker.train.model_trainer import ModelTrainer

        self.telemetry = telemetry
        self.session = PipelineSession(boto_session=boto3.Session(region_name=REGION), default_bucket="bucket")
        self.shapes, self.processing, self.model_registry = shapes, sm_processing, model_registry
        self.Lambda = Lambda
        self.C, self.ExecutionVariables = conditions, execution_variables.ExecutionVariables
        self.Join, self.JsonGet = functions.Join, functions.JsonGet
        self.P, self.PropertyFile = parameters, properties.PropertyFile
        self.steps, self.retry, self.pipeline = steps, retry, pipeline
        self.ConditionStep, self.FailStep = condition_step.ConditionStep, fail_step.FailStep
        self.CallbackStep, self.CallbackOutput = callback_step.CallbackStep, callback_step.CallbackOutput
        self.CallbackOutputType = callback_step.CallbackOutputTypeEnum
        self.LambdaStep, self.LambdaOutput = lambda_step.LambdaStep, lambda_step.LambdaOutput
        self.LambdaOutputType = lambda_step.LambdaOutputTypeEnum
        self.ModelStep = model_step.ModelStep
        self.PipelineExperimentConfig = pipeline_experiment_config.PipelineExperimentConfig
        self.train_configs, self.ModelTrainer = train_configs, ModelTrainer

    # helpers shared by the builders
    def processor(self, instance_type: Any = "ml.m5.large", entrypoint: list[str] | None = None) -> Any:
        return self.processing.Processor(role=ROLE, image_uri=IMAGE, instance_count=1, instance_type=instance_type,
                                         entrypoint=entrypoint, sagemaker_session=self.session)

    def s3_input(self, name: str, uri: Any, local_path: str) -> Any:
        return self.shapes.ProcessingInput(input_name=name, s3_input=self.shapes.ProcessingS3Input(
            s3_uri=uri, local_path=local_path, s3_data_type="S3Prefix"))

    def s3_output(self, name: str, uri: Any, local_path: str) -> Any:
        return self.shapes.ProcessingOutput(output_name=name, s3_output=self.shapes.ProcessingS3Output(
            s3_uri=uri, local_path=local_path, s3_upload_mode="EndOfJob"))

    def register_args(self, **model_package_args: Any) -> Any:
        """What ``ModelBuilder.register()`` returns under a PipelineSession, without its code upload."""
        holder = types.SimpleNamespace(sagemaker_session=self.session)
        self.session.init_model_step_arguments(holder)
        self.model_registry.create_model_package_from_containers(
            self.session, **self.model_registry.get_model_package_args(**model_package_args))
        args, self.session.context = self.session.context, None
        return args

    def definition(self, name: str, parameters: list[Any], steps: list[Any], **kwargs: Any) -> dict[str, Any]:
        pipeline = self.pipeline.Pipeline(name=name, parameters=parameters, steps=steps,
                                          sagemaker_session=self.session, **kwargs)
        return json.loads(pipeline.definition())


def _sdk_churn(sdk: _Sdk) -> dict[str, Any]:
    P, retry = sdk.P, sdk.retry
    input_data = P.ParameterString("InputData", "s3://bucket/raw/")
    min_auc = P.ParameterFloat("MinAuc", 0.8)
    instance_type = P.ParameterString("InstanceType", "ml.m5.large", enum_values=["ml.m5.large", "ml.m5.xlarge"])

    prep = sdk.steps.ProcessingStep(
        name="preprocess",
        step_args=sdk.processor(instance_type, ["python3", "/opt/ml/processing/input/code/prep.py"]).run(
            inputs=[sdk.s3_input("raw", input_data, "/opt/ml/processing/input")],
            outputs=[sdk.s3_output("train", "s3://bucket/churn/train", "/opt/ml/processing/train")],
        ),
        retry_policies=[
            retry.StepRetryPolicy([retry.StepExceptionTypeEnum.SERVICE_FAULT,
                                   retry.StepExceptionTypeEnum.THROTTLING], max_attempts=3),
            retry.SageMakerJobStepRetryPolicy(exception_types=[retry.SageMakerJobExceptionTypeEnum.CAPACITY_ERROR],
                                              interval_seconds=30, backoff_rate=1.5, expire_after_mins=60),
        ],
        cache_config=sdk.steps.CacheConfig(enable_caching=True, expire_after="P30D"),
    )
    trainer = sdk.ModelTrainer(
        sagemaker_session=sdk.session, role=ROLE, training_image=IMAGE,
        compute=sdk.train_configs.Compute(instance_type="ml.m5.large", instance_count=1, volume_size_in_gb=30),
        stopping_condition=sdk.train_configs.StoppingCondition(max_runtime_in_seconds=3600),
        output_data_config=sdk.train_configs.OutputDataConfig(s3_output_path="s3://bucket/churn/models"),
        hyperparameters={"max_depth": "5"},
    )
    fit = sdk.steps.TrainingStep(name="fit", step_args=trainer.train(input_data_config=[
        sdk.train_configs.InputData(
            channel_name="train", data_source=prep.properties.ProcessingOutputConfig.Outputs["train"].S3Output.S3Uri),
    ]))
    metrics = sdk.PropertyFile(name="metrics", output_name="evaluation", path="evaluation.json")
    evaluate = sdk.steps.ProcessingStep(
        name="evaluate",
        step_args=sdk.processor().run(
            inputs=[sdk.s3_input("model", fit.properties.ModelArtifacts.S3ModelArtifacts, "/opt/ml/processing/model")],
            outputs=[sdk.s3_output("evaluation", "s3://bucket/churn/eval", "/opt/ml/processing/evaluation")],
        ),
        property_files=[metrics],
    )
    register = sdk.ModelStep(name="register", step_args=sdk.register_args(
        content_types=["text/csv"], response_types=["text/csv"],
        inference_instances=["ml.m5.large"], transform_instances=["ml.m5.large"],
        model_package_group_name="churn", approval_status="PendingManualApproval",
        container_def_list=[{"Image": IMAGE, "ModelDataUrl": fit.properties.ModelArtifacts.S3ModelArtifacts}],
    ))
    too_weak = sdk.FailStep(name="too_weak", error_message=sdk.Join(on="", values=["AUC below ", min_auc]))
    gate = sdk.ConditionStep(
        name="auc_gate",
        conditions=[sdk.C.ConditionGreaterThanOrEqualTo(
            left=sdk.JsonGet(step_name="evaluate", property_file=metrics, json_path="classification.auc"),
            right=min_auc)],
        if_steps=[register],
        else_steps=[too_weak],
    )
    return sdk.definition("churn-train", [input_data, min_auc, instance_type], [prep, fit, evaluate, gate])


def _sdk_gates(sdk: _Sdk) -> dict[str, Any]:
    P, C, EV, Join = sdk.P, sdk.C, sdk.ExecutionVariables, sdk.Join
    threshold = P.ParameterInteger("Threshold", 10)
    ratio = P.ParameterFloat("Ratio", 0.5)
    enabled = P.ParameterBoolean(name="Enabled", default_value=True)
    env = P.ParameterString("Env", "dev", enum_values=["dev", "test", "prod"])
    owner = P.ParameterString(name="Owner")

    def job(name: str, output_uri: Any, instance_count: Any = 1, **kwargs: Any) -> Any:
        processor = sdk.processing.Processor(role=ROLE, image_uri=IMAGE, instance_count=instance_count,
                                             instance_type="ml.m5.large", sagemaker_session=sdk.session)
        return sdk.steps.ProcessingStep(
            name=name, step_args=processor.run(outputs=[sdk.s3_output("out", output_uri, "/opt/ml/processing/out")]),
            **kwargs)

    stats_file = sdk.PropertyFile(name="stats", output_name="out", path="stats.json")
    stats = job("stats", Join(on="/", values=["s3://bucket/stats", EV.PIPELINE_EXECUTION_ID]),
                property_files=[stats_file])
    audit = job("audit", Join(on="/", values=["s3://bucket/audit", owner, EV.START_DATETIME]), depends_on=[stats],
                display_name="Audit the run", description="Writes who started the run and when.")
    final = job("final", "s3://bucket/final", depends_on=[audit, stats])
    big = job("big", "s3://bucket/big", threshold)
    big_report = job("big_report", "s3://bucket/big-report", depends_on=[big])
    small = job("small", "s3://bucket/small")
    inner = sdk.ConditionStep(
        name="inner",
        conditions=[
            C.ConditionGreaterThan(left=sdk.JsonGet(step_name="stats", property_file=stats_file,
                                                    json_path="rows.count"), right=threshold),
            C.ConditionLessThan(left=ratio, right=1.0),
            C.ConditionLessThanOrEqualTo(left=sdk.JsonGet(step_name="stats", property_file=stats_file,
                                                          json_path="rows.nulls"), right=100),
        ],
        if_steps=[big, big_report],
        else_steps=[small],
    )
    stop = sdk.FailStep(name="stop", error_message=Join(
        on=" ", values=["disabled for", env, "in", EV.PIPELINE_EXECUTION_ARN]))
    outer = sdk.ConditionStep(
        name="outer",
        depends_on=[stats],
        conditions=[
            C.ConditionOr([C.ConditionEquals(left=enabled, right=True),
                           C.ConditionNot(C.ConditionIn(value=env, in_values=["dev", "test"]))]),
            C.ConditionGreaterThanOrEqualTo(left=threshold, right=0),
        ],
        if_steps=[inner],
        else_steps=[stop],
    )
    experiment = sdk.PipelineExperimentConfig(
        experiment_name="gates-experiments", trial_name=Join(on="-", values=["run", EV.PIPELINE_EXECUTION_ID]))
    return sdk.definition("sdk-gates", [threshold, ratio, enabled, env, owner], [stats, audit, final, outer],
                          pipeline_experiment_config=experiment)


def _sdk_callbacks(sdk: _Sdk) -> dict[str, Any]:
    P, C, Join = sdk.P, sdk.C, sdk.Join
    model_name = P.ParameterString("ModelName", "churn")
    min_score = P.ParameterFloat("MinScore", 0.5)
    CallbackOutput, LambdaOutput = sdk.CallbackOutput, sdk.LambdaOutput
    callback_type, lambda_type = sdk.CallbackOutputType, sdk.LambdaOutputType

    # Downstream steps read outputs through ``step.properties.Outputs[name]``: a property reference, so
    # the SDK also sees the data dependency. (Passing the CallbackOutput object itself breaks inside a Join
    # in SDK v3: Join renders its bound ``expr`` method.)
    ask = sdk.CallbackStep(
        name="ask",
        sqs_queue_url="https://sqs.us-east-1.amazonaws.com/111122223333/approvals",
        inputs={"model": model_name, "execution": sdk.ExecutionVariables.PIPELINE_EXECUTION_ARN},
        outputs=[CallbackOutput(output_name="approved", output_type=callback_type.Boolean),
                 CallbackOutput(output_name="reviewer", output_type=callback_type.String),
                 CallbackOutput(output_name="attempts", output_type=callback_type.Integer)],
        cache_config=sdk.steps.CacheConfig(enable_caching=True, expire_after="PT1H"),
    )
    approved, reviewer = ask.properties.Outputs["approved"], ask.properties.Outputs["reviewer"]
    score = sdk.LambdaStep(
        name="score",
        lambda_func=sdk.Lambda(function_arn="arn:aws:lambda:us-east-1:111122223333:function:score",
                               session=sdk.session),
        inputs={"reviewer": reviewer, "model": model_name},
        outputs=[LambdaOutput(output_name="score", output_type=lambda_type.Float),
                 LambdaOutput(output_name="label", output_type=lambda_type.String)],
        cache_config=sdk.steps.CacheConfig(enable_caching=True, expire_after="P1D"),
    )
    score_value, label = score.properties.Outputs["score"], score.properties.Outputs["label"]
    notifier = "arn:aws:lambda:us-east-1:111122223333:function:notify"
    publish = sdk.LambdaStep(
        name="publish",
        lambda_func=sdk.Lambda(function_arn=notifier, session=sdk.session),
        inputs={"message": Join(on=" ", values=["approved by", reviewer, "label", label])},
    )
    rejected = sdk.FailStep(name="rejected", error_message=Join(on="", values=["score ", score_value]))
    gate = sdk.ConditionStep(
        name="gate",
        conditions=[C.ConditionEquals(left=approved, right=True),
                    C.ConditionGreaterThanOrEqualTo(left=score_value, right=min_score)],
        if_steps=[publish],
        else_steps=[rejected],
    )
    heartbeat = sdk.LambdaStep(name="heartbeat", lambda_func=sdk.Lambda(function_arn=notifier, session=sdk.session),
                               inputs={"stage": "asked"}, depends_on=[ask])
    return sdk.definition("sdk-callbacks", [model_name, min_score], [ask, score, gate, heartbeat],
                          pipeline_experiment_config=None)


def _sdk_register_helper(sdk: _Sdk) -> dict[str, Any]:
    model_data = sdk.P.ParameterString("ModelData", "s3://bucket/model.tar.gz")
    approval = sdk.P.ParameterString("Approval", "PendingManualApproval")
    register = sdk.ModelStep(name="register", step_args=sdk.register_args(
        content_types=["text/csv"], response_types=["text/csv"],
        inference_instances=["ml.m5.large"], transform_instances=["ml.m5.large"],
        model_package_group_name="churn", approval_status=approval, description="churn model",
        container_def_list=[{"Image": IMAGE, "ModelDataUrl": model_data}],
    ))
    return sdk.definition("sdk-register-helper", [model_data, approval], [register])


def _sdk_builders(sdk: _Sdk) -> dict[str, Any]:
    """The builders' twin: the SDK's own producers, the image from its own lookup."""
    from sagemaker.core import image_uris
    from sagemaker.core.processing import ScriptProcessor
    from sagemaker.core.transformer import Transformer

    image = image_uris.retrieve("sklearn", REGION, version="1.2-1", instance_type="ml.m5.large")
    input_data = sdk.P.ParameterString("Input", "s3://bucket/raw")
    processor = ScriptProcessor(role=ROLE, image_uri=image, command=["python3"], instance_count=1,
                                instance_type="ml.m5.large", sagemaker_session=sdk.session, env={"SEED": "7"})
    prep = sdk.steps.ProcessingStep(name="prep", step_args=processor.run(
        code="s3://bucket/code/prep.py", arguments=["--rows", "100"],
        inputs=[sdk.s3_input("raw", input_data, "/opt/ml/processing/raw")],
        outputs=[sdk.s3_output("train", "s3://bucket/train", "/opt/ml/processing/train"),
                 sdk.s3_output("test", "s3://bucket/test", "/opt/ml/processing/test")]))
    outputs = prep.properties.ProcessingOutputConfig.Outputs
    trainer = sdk.ModelTrainer(
        sagemaker_session=sdk.session, role=ROLE, training_image=image,
        compute=sdk.train_configs.Compute(instance_type="ml.m5.large", instance_count=1),
        output_data_config=sdk.train_configs.OutputDataConfig(s3_output_path="s3://bucket/models"),
        hyperparameters={"epochs": 10, "rate": "0.1"})
    fit = sdk.steps.TrainingStep(name="fit", step_args=trainer.train(input_data_config=[
        sdk.train_configs.InputData(channel_name="train", data_source=outputs["train"].S3Output.S3Uri)]))
    transformer = Transformer(model_name="churn-model", instance_count=1, instance_type="ml.m5.large",
                              output_path="s3://bucket/scores", accept="text/csv", assemble_with="Line",
                              strategy="MultiRecord", base_transform_job_name="score", sagemaker_session=sdk.session)
    score = sdk.steps.TransformStep(name="score", step_args=transformer.transform(
        data=outputs["test"].S3Output.S3Uri, content_type="text/csv", split_type="Line", join_source="Input"))
    register = sdk.ModelStep(name="register", step_args=sdk.register_args(
        content_types=["text/csv"], response_types=["text/csv"],
        inference_instances=["ml.m5.large"], transform_instances=["ml.m5.large"],
        model_package_group_name="churn", approval_status="PendingManualApproval",
        container_def_list=[{"Image": image, "ModelDataUrl": fit.properties.ModelArtifacts.S3ModelArtifacts}],
    ))
    return sdk.definition("sdk-builders", [input_data], [prep, fit, score, register])


def _sdk_job_name_variables(sdk: _Sdk) -> dict[str, Any]:
    """SDK-only: the execution variables ``ProcessingJobName``/``TrainingJobName`` (no DAG can say them yet)."""
    EV = sdk.ExecutionVariables
    processor = sdk.processor()
    step = sdk.steps.ProcessingStep(name="prep", step_args=processor.run(outputs=[sdk.s3_output(
        "out", sdk.Join(on="/", values=["s3://bucket/out", EV.PROCESSING_JOB_NAME]), "/opt/ml/processing/out")]))
    fail = sdk.FailStep(name="never", error_message=sdk.Join(on=" ", values=["job", EV.TRAINING_JOB_NAME]))
    return sdk.definition("sdk-job-names", [], [step, fail])


def _sdk_emr_serverless(sdk: _Sdk) -> dict[str, Any]:
    from sagemaker.mlops.workflow.emr_serverless_step import EMRServerlessJobConfig, EMRServerlessStep

    role = "arn:aws:iam::111122223333:role/EmrServerlessJob"
    app_id = sdk.P.ParameterString("ApplicationId", "00fabc1234567890")
    features = EMRServerlessStep(
        name="features", display_name=None, description=None, application_id=app_id,
        job_config=EMRServerlessJobConfig(
            job_driver={"sparkSubmit": {
                "entryPoint": "s3://bucket/code/features.py",
                "entryPointArguments": ["--input", "s3://bucket/raw/", "--output", "s3://bucket/features/"],
                "sparkSubmitParameters": "--conf spark.executor.cores=2"}},
            execution_role_arn=role, execution_timeout_minutes=60, name="features"),
        retry_policies=[sdk.retry.StepRetryPolicy(exception_types=[sdk.retry.StepExceptionTypeEnum.SERVICE_FAULT],
                                                  max_attempts=3)],
        cache_config=sdk.steps.CacheConfig(enable_caching=True, expire_after="P1D"),
    )
    report = EMRServerlessStep(
        name="report", display_name=None, description=None, application_id=None,
        application_config={"name": "report-app", "releaseLabel": "emr-7.2.0", "type": "SPARK"},
        job_config=EMRServerlessJobConfig(
            job_driver={"sparkSubmit": {"entryPoint": "s3://bucket/code/report.py"}}, execution_role_arn=role,
            configuration_overrides={"monitoringConfiguration": {
                "s3MonitoringConfiguration": {"logUri": "s3://bucket/logs/"}}},
            tags={"team": "ml"}),
    )
    # SDK v3 loads no emr-serverless shapes, so ``features.properties.jobRun`` raises AttributeError there; the
    # reference is built by hand (ours resolves it against GetJobRunResponse).
    from sagemaker.core.workflow.properties import Properties

    state = Properties(step_name="features", path="jobRun.state", step=features)
    gate = sdk.ConditionStep(
        name="gate", conditions=[sdk.C.ConditionEquals(left=state, right="SUCCESS")],
        if_steps=[report], else_steps=[sdk.FailStep(name="failed", error_message="feature job did not succeed")],
    )
    return sdk.definition("sdk-emr-serverless", [app_id], [features, gate])


#: DAG file stem under sdk_dags/ -> the SDK builder of the same pipeline.
SDK_BUILDERS: dict[str, Callable[[_Sdk], dict[str, Any]]] = {
    "builders": _sdk_builders,
    "callbacks": _sdk_callbacks,
    "churn": _sdk_churn,
    "emr_serverless": _sdk_emr_serverless,
    "gates": _sdk_gates,
    "register_helper": _sdk_register_helper,
}
#: SDK pipelines without a DAG twin, for the tests that read SDK definitions into our model.
SDK_ONLY_BUILDERS: dict[str, Callable[[_Sdk], dict[str, Any]]] = {
    "job_name_variables": _sdk_job_name_variables,
}

#: Known divergences from the SDK, each an expected failure of test_definition_equals_sdk that turns into
#: an (strict) error once fixed, so the marker gets removed.
DIVERGENCES: dict[str, str] = {}


@pytest.fixture(scope="module")
def sdk_definitions() -> Iterator[dict[str, dict[str, Any]]]:
    """Every SDK pipeline's definition, built offline in one go (one slow import for all)."""
    # Here rather than at module level: importing the SDK takes seconds, which collecting the suite with
    # ``-m "not sdk"`` should not pay.
    pytest.importorskip("sagemaker.mlops", reason="needs the sdk extra (sagemaker-mlops)")
    with pytest.MonkeyPatch.context() as mp:
        # A closed port: an AWS call the SDK should not make fails at once, visibly.
        mp.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        mp.setenv("AWS_DEFAULT_REGION", REGION)
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("SAGEMAKER_VALIDATE_ROLE", "false")
        started = time.perf_counter()
        with warnings.catch_warnings():
            # "Running within a PipelineSession, there will be No Wait, No Logs, ..." and friends.
            warnings.simplefilter("ignore")
            sdk = _Sdk()
            mp.setattr(sdk.telemetry, "_send_telemetry_request", lambda *args, **kwargs: None)
            built = {stem: build(sdk) for stem, build in {**SDK_BUILDERS, **SDK_ONLY_BUILDERS}.items()}
        print(f"SDK import + build of {len(built)} pipelines: {time.perf_counter() - started:.1f} s")
        yield built


def _xfail(stem: str) -> Any:
    if stem in DIVERGENCES:
        return pytest.param(stem, marks=pytest.mark.xfail(strict=True, reason=DIVERGENCES[stem]))
    return stem


@pytest.mark.parametrize("stem", [_xfail(stem) for stem in sorted(SDK_BUILDERS)])
def test_definition_equals_sdk(stem: str, sdk_definitions: dict[str, dict[str, Any]]) -> None:
    assert_equivalent(compile_dag(stem), sdk_definitions[stem])


@pytest.mark.parametrize("stem", sorted({**SDK_BUILDERS, **SDK_ONLY_BUILDERS}))
def test_sdk_definition_reads_back(stem: str, sdk_definitions: dict[str, dict[str, Any]]) -> None:
    """What the SDK emits reads into our definition model and renders back to the same JSON: a pipeline
    created with the SDK can be diffed, validated and run by this package."""
    from airflow_sagemaker_mlops.definition import PipelineDefinition, find_problems

    sdk = sdk_definitions[stem]
    definition = PipelineDefinition.from_request(sdk)
    assert [p for p in find_problems(definition) if p.severity == "error"] == []
    assert_equivalent(definition.to_request(), sdk)


def test_condition_step_rejects_cache_and_retries_like_the_sdk() -> None:
    """SDK v3's ConditionStep takes neither (TypeError); ours used to drop them silently (fixed in d17367d)."""
    import pendulum
    from airflow.sdk import DAG

    from airflow_sagemaker_mlops import (
        ConditionStep,
        FailStep,
        PipelineParameter,
        RetryPolicy,
        SageMakerMlopsError,
        SageMakerPipelineGroup,
    )
    from airflow_sagemaker_mlops import conditions as C

    with pytest.raises(SageMakerMlopsError):
        with DAG("condition_extras", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
            with SageMakerPipelineGroup(group_id="g", pipeline_name="condition-extras",
                                        parameters={"A": PipelineParameter.integer(1)}) as g:
                stop = FailStep(task_id="stop", error_message="a is 1")
                ConditionStep(task_id="gate", condition=C.eq(g.parameter("A"), 1), if_true=[stop], cache=True,
                              retry_policies=[RetryPolicy(("Step.THROTTLING",), max_attempts=2)])


def test_normalise_ignores_only_what_it_documents() -> None:
    step_a = {"Name": "a", "Type": "Fail", "Arguments": {"ErrorMessage": "x"}}
    step_b = {"Type": "Fail", "Name": "b", "Arguments": {"ErrorMessage": "y"}}
    base = {"Version": "2020-12-01", "Parameters": [], "Steps": [step_a, step_b]}
    reordered = {"Steps": [step_b, step_a], "MlflowConfig": None, "Parameters": [], "Version": "2020-12-01"}
    assert normalise(base) == normalise(reordered)
    for changed in (
        {**base, "Steps": [step_a]},
        {**base, "Parameters": [{"Name": "P", "Type": "String"}]},
        {**base, "PipelineExperimentConfig": {"ExperimentName": "e", "TrialName": "t"}},
        {**base, "Steps": [step_a, {**step_b, "DependsOn": ["a"]}]},
    ):
        assert normalise(base) != normalise(changed)
    branch = {"Name": "c", "Type": "Condition", "Arguments": {"Conditions": [], "IfSteps": [step_a, step_b]}}
    swapped = {**branch, "Arguments": {**branch["Arguments"], "IfSteps": [step_b, step_a]}}
    assert normalise({**base, "Steps": [branch]}) != normalise({**base, "Steps": [swapped]})


def test_every_sdk_dag_has_a_twin() -> None:
    assert sorted(p.stem for p in SDK_DAGS.glob("*.py")) == sorted(SDK_BUILDERS)
    assert len(SDK_BUILDERS) >= 3
