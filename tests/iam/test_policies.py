"""Generated policies for the golden DAGs: valid, stable, the expected actions, every action real."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from airflow_sagemaker_mlops.cli import load_groups
from airflow_sagemaker_mlops.definition import (
    Join,
    Key,
    ParameterRef,
    PipelineDefinition,
    PipelineParameter,
    PipelineSpec,
    Step,
    StepProperty,
)
from airflow_sagemaker_mlops.definition.expressions import Execution
from airflow_sagemaker_mlops.iam import analyse, explain, policy_for_group, policy_report, queue_arn

DAGS = sorted((Path(__file__).parents[1] / "compiler" / "dags").glob("*.py"))
ROLE = "arn:aws:iam::111122223333:role/SmPipeline"


@pytest.fixture(scope="module")
def groups() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for dag_file in DAGS:
        found.update({f"{dag_file.stem}:{key}": group.compile() for key, group in load_groups(str(dag_file)).items()})
    return found


@pytest.fixture(scope="module")
def documents(groups: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every role's document of every golden group, keyed ``<dag>:<dag_id.group_id>:<role>``."""
    out = {}
    for key, compiled in groups.items():
        for role, report in analyse(compiled, region="eu-west-1").items():
            out[f"{key}:{role}"] = report.document
    return out


def actions_by_sid(document: dict[str, Any]) -> dict[str, list[str]]:
    return {s["Sid"]: s["Action"] for s in document["Statement"]}


def all_actions(documents: dict[str, dict[str, Any]]) -> set[str]:
    return {a for d in documents.values() for s in d["Statement"] for a in s["Action"]}


# ---- shape and stability ----------------------------------------------------------------------

def test_every_golden_group_has_policies(groups, documents):
    assert len(groups) >= 9
    assert all(f"{key}:pipeline" in documents and f"{key}:airflow" in documents for key in groups)


def test_documents_are_valid_sorted_iam_json(documents):
    for key, document in documents.items():
        assert json.loads(json.dumps(document)) == document, key
        assert document["Version"] == "2012-10-17"
        sids = [s["Sid"] for s in document["Statement"]]
        assert sids == sorted(sids) and len(set(sids)) == len(sids), key
        for statement in document["Statement"]:
            assert set(statement) <= {"Sid", "Effect", "Action", "Resource", "Condition"}, key
            assert re.fullmatch(r"[A-Za-z0-9]+", statement["Sid"]), key
            assert statement["Effect"] == "Allow"
            assert statement["Action"] == sorted(set(statement["Action"])), key
            resources = statement["Resource"]
            if isinstance(resources, list):
                assert resources == sorted(set(resources)) and len(resources) > 1, key
            for resource in [resources] if isinstance(resources, str) else resources:
                assert resource == "*" or resource.startswith("arn:aws:"), (key, resource)
        assert len(json.dumps(document, separators=(",", ":"))) < 10240, f"{key}: over the managed-policy size limit"


def test_policies_are_stable(groups):
    for key, compiled in groups.items():
        for role in ("pipeline", "airflow"):
            first = json.dumps(policy_for_group(compiled, role))
            again = json.dumps(policy_for_group(compiled, role))
            assert first == again, key


def test_policies_are_stable_across_processes():
    """Sids and ordering do not depend on the hash seed: the golden definitions, read without Airflow in two
    processes with different seeds, give byte-identical documents."""
    golden = Path(__file__).parents[1] / "golden"
    script = (
        "import json, pathlib; from airflow_sagemaker_mlops.definition import PipelineDefinition, PipelineSpec; "
        "from airflow_sagemaker_mlops.iam import analyse; out = []\n"
        f"for path in sorted(pathlib.Path({str(golden)!r}).glob('*.json')):\n"
        "    for request in json.loads(path.read_text()).values():\n"
        "        spec = PipelineSpec(request['PipelineName'], PipelineDefinition.from_request("
        "request['PipelineDefinition']), role_arn=request.get('RoleArn'))\n"
        "        out += [r.document for r in analyse(spec).values()]\n"
        "print(json.dumps(out))"
    )
    outputs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")]
    assert outputs[0] == outputs[1] and len(json.loads(outputs[0])) >= 18


def test_golden_json_and_dag_give_the_same_policy(groups):
    """The policy depends on the definition only: compiled group and its golden JSON agree."""
    request = json.loads((Path(__file__).parents[1] / "golden" / "all_step_types.json").read_text())
    (only,) = request.values()
    spec = PipelineSpec(only["PipelineName"], PipelineDefinition.from_request(only["PipelineDefinition"]),
                        role_arn=only["RoleArn"])
    for role in ("pipeline", "airflow"):
        assert policy_for_group(spec, role) == policy_for_group(groups["all_step_types:all_step_types.everything"],
                                                                 role)


# ---- actions ----------------------------------------------------------------------------------

def test_churn_training_pipeline_role_actions(documents):
    by_sid = actions_by_sid(documents["churn_training:churn_model.train:pipeline"])
    assert by_sid == {
        "CloudWatchLogs": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams",
                           "logs:PutLogEvents"],
        "CloudWatchMetrics": ["cloudwatch:PutMetricData"],
        "EcrAuthorization": ["ecr:GetAuthorizationToken"],
        "EcrPullImages": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        "ModelRegistry": ["sagemaker:AddTags", "sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage"],
        "ModelRegistryGroups": ["sagemaker:AddTags", "sagemaker:CreateModelPackageGroup",
                                "sagemaker:DescribeModelPackageGroup"],
        "PassRoleToSageMaker": ["iam:PassRole"],
        "PropertyFiles": ["s3:GetObject"],
        "S3ListBucketbucket": ["s3:ListBucket"],
        "S3Read": ["s3:GetObject"],
        "S3Write": ["s3:AbortMultipartUpload", "s3:PutObject"],
        "SageMakerExperiments": ["sagemaker:AddTags", "sagemaker:AssociateTrialComponent",
                                 "sagemaker:CreateExperiment", "sagemaker:CreateTrial",
                                 "sagemaker:DescribeExperiment", "sagemaker:DescribeTrial"],
        "SageMakerProcessingJobs": ["sagemaker:AddTags", "sagemaker:CreateProcessingJob",
                                    "sagemaker:DescribeProcessingJob", "sagemaker:StopProcessingJob"],
        "SageMakerTrainingJobs": ["sagemaker:AddTags", "sagemaker:CreateTrainingJob",
                                  "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob"],
    }


def test_churn_training_resources(documents):
    statements = {s["Sid"]: s for s in documents["churn_training:churn_model.train:pipeline"]["Statement"]}
    assert statements["S3Read"]["Resource"] == [
        "arn:aws:s3:::bucket/churn/models*", "arn:aws:s3:::bucket/churn/train*", "arn:aws:s3:::bucket/raw/*"]
    assert statements["S3Write"]["Resource"] == [
        "arn:aws:s3:::bucket/churn/eval*", "arn:aws:s3:::bucket/churn/models*", "arn:aws:s3:::bucket/churn/train*"]
    assert statements["S3ListBucketbucket"]["Condition"] == {
        "StringLike": {"s3:prefix": ["churn/models*", "churn/train*", "raw/*"]}}
    assert statements["PropertyFiles"]["Resource"] == "arn:aws:s3:::bucket/churn/eval/evaluation.json"
    assert statements["PassRoleToSageMaker"] == {
        "Sid": "PassRoleToSageMaker", "Effect": "Allow", "Action": ["iam:PassRole"], "Resource": ROLE,
        "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}}
    assert statements["EcrPullImages"]["Resource"] == \
        "arn:aws:ecr:us-east-1:683313688378:repository/sagemaker-scikit-learn"
    assert statements["SageMakerTrainingJobs"]["Resource"] == \
        "arn:aws:sagemaker:eu-west-1:111122223333:training-job/pipelines-*"


def test_churn_training_airflow_role(documents):
    document = documents["churn_training:churn_model.train:airflow"]
    statements = {s["Sid"]: s for s in document["Statement"]}
    assert actions_by_sid(document) == {
        "PassPipelineRole": ["iam:PassRole"],
        "PipelineExecutions": ["sagemaker:DescribePipelineExecution", "sagemaker:ListPipelineExecutionSteps",
                               "sagemaker:RetryPipelineExecution", "sagemaker:StopPipelineExecution"],
        "PipelineStart": ["sagemaker:StartPipelineExecution"],
        "PipelineTab": ["sagemaker:DescribePipelineDefinitionForExecution"],
        "PipelineUpsert": ["sagemaker:AddTags", "sagemaker:CreatePipeline", "sagemaker:DescribePipeline",
                           "sagemaker:UpdatePipeline"],
        "StepOutputsProcessing": ["sagemaker:DescribeProcessingJob"],
        "StepOutputsRegisterModel": ["sagemaker:DescribeModelPackage"],
        "StepOutputsTraining": ["sagemaker:DescribeTrainingJob"],
        "StepJobLogs": ["logs:DescribeLogStreams", "logs:GetLogEvents"],
        "StepPropertyFiles": ["s3:GetObject"],
    }
    assert "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/sagemaker/TrainingJobs:log-stream:*" in \
        statements["StepJobLogs"]["Resource"]
    assert statements["PipelineStart"]["Resource"] == "arn:aws:sagemaker:eu-west-1:111122223333:pipeline/churn-train"
    assert statements["PipelineExecutions"]["Resource"] == \
        "arn:aws:sagemaker:eu-west-1:111122223333:pipeline/churn-train/execution/*"


#: The SageMaker (or other service) actions each step type needs, as the Sid that carries them.
STEP_TYPE_STATEMENTS = {
    "Training": ("SageMakerTrainingJobs", {"sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob",
                                           "sagemaker:StopTrainingJob", "sagemaker:AddTags"}),
    "Tuning": ("SageMakerTuningJobs", {"sagemaker:CreateHyperParameterTuningJob",
                                       "sagemaker:DescribeHyperParameterTuningJob",
                                       "sagemaker:StopHyperParameterTuningJob",
                                       "sagemaker:ListTrainingJobsForHyperParameterTuningJob", "sagemaker:AddTags"}),
    "Model": ("SageMakerModels", {"sagemaker:CreateModel", "sagemaker:DescribeModel", "sagemaker:AddTags"}),
    "Transform": ("SageMakerTransformJobs", {"sagemaker:CreateTransformJob", "sagemaker:DescribeTransformJob",
                                             "sagemaker:StopTransformJob", "sagemaker:AddTags"}),
    "Callback": ("CallbackQueues", {"sqs:SendMessage"}),
    "Lambda": ("LambdaInvoke", {"lambda:InvokeFunction"}),
    "EMR": ("EmrSteps", {"elasticmapreduce:AddJobFlowSteps", "elasticmapreduce:CancelSteps",
                         "elasticmapreduce:DescribeCluster", "elasticmapreduce:DescribeStep"}),
    "QualityCheck": ("SageMakerProcessingJobs", {"sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob",
                                                 "sagemaker:StopProcessingJob", "sagemaker:AddTags"}),
    "AutoML": ("SageMakerAutoMLJobs", {"sagemaker:CreateAutoMLJob", "sagemaker:DescribeAutoMLJob",
                                       "sagemaker:StopAutoMLJob", "sagemaker:AddTags"}),
    "EndpointConfig": ("SageMakerEndpointConfigs", {"sagemaker:CreateEndpointConfig",
                                                    "sagemaker:DescribeEndpointConfig", "sagemaker:AddTags"}),
    "Endpoint": ("SageMakerEndpoints", {"sagemaker:CreateEndpoint", "sagemaker:DescribeEndpoint",
                                        "sagemaker:UpdateEndpoint", "sagemaker:AddTags"}),
}


def test_all_step_types_expected_statements(documents):
    document = documents["all_step_types:all_step_types.everything:pipeline"]
    statements = {s["Sid"]: s for s in document["Statement"]}
    for step_type, (sid, actions) in STEP_TYPE_STATEMENTS.items():
        assert set(statements[sid]["Action"]) == actions, step_type
    assert statements["CallbackQueues"]["Resource"] == "arn:aws:sqs:eu-west-1:111122223333:approvals"
    assert statements["LambdaInvoke"]["Resource"] == "arn:aws:lambda:eu-west-1:111122223333:function:publish"
    assert statements["EmrSteps"]["Resource"] == \
        "arn:aws:elasticmapreduce:eu-west-1:111122223333:cluster/j-1ABCDEFGHIJKL"
    assert statements["SageMakerEndpoints"]["Resource"] == [
        "arn:aws:sagemaker:eu-west-1:111122223333:endpoint-config/churn-config",
        "arn:aws:sagemaker:eu-west-1:111122223333:endpoint/churn"]
    airflow = actions_by_sid(documents["all_step_types:all_step_types.everything:airflow"])
    assert airflow["PipelineCallbacks"] == ["sagemaker:SendPipelineExecutionStepFailure",
                                            "sagemaker:SendPipelineExecutionStepSuccess"]
    assert airflow["CallbackQueues"] == ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:ReceiveMessage"]


def test_only_present_step_types_get_actions(documents):
    sagemaker = {a for s in documents["churn_training:churn_model.train:pipeline"]["Statement"] for a in s["Action"]
                 if a.startswith("sagemaker:Create")}
    assert sagemaker == {"sagemaker:CreateProcessingJob", "sagemaker:CreateTrainingJob",
                         "sagemaker:CreateModelPackage", "sagemaker:CreateModelPackageGroup",
                         "sagemaker:CreateExperiment", "sagemaker:CreateTrial"}
    airflow = all_actions({k: d for k, d in documents.items() if k.endswith(":airflow")})
    assert not {a for a in airflow if a.startswith("sagemaker:Create") and a != "sagemaker:CreatePipeline"}


# ---- every action exists ------------------------------------------------------------------------

#: IAM service prefix -> botocore service name.
BOTOCORE_SERVICES = {"sagemaker": "sagemaker", "sqs": "sqs", "ecr": "ecr", "logs": "logs", "cloudwatch": "cloudwatch",
                     "lambda": "lambda", "s3": "s3", "iam": "iam", "elasticmapreduce": "emr", "events": "events",
                     "kms": "kms", "ec2": "ec2", "emr-serverless": "emr-serverless"}
#: IAM actions that are not API operations of the same name (permission-only actions, renamed ones).
IAM_ONLY_ACTIONS = {"iam:PassRole", "s3:ListBucket", "lambda:InvokeFunction"}


def test_every_action_is_a_botocore_operation(documents):
    import botocore.session

    session = botocore.session.get_session()
    operations: dict[str, set[str]] = {}
    for action in sorted(all_actions(documents)):
        prefix, name = action.split(":")
        if action in IAM_ONLY_ACTIONS:
            continue
        service = BOTOCORE_SERVICES[prefix]
        if service not in operations:
            operations[service] = set(session.get_service_model(service).operation_names)
        assert name in operations[service], f"{action}: no {service} operation {name}"


def test_every_action_and_resource_is_known_to_policy_sentry(documents):
    pytest.importorskip("policy_sentry")
    from policy_sentry.querying.actions import get_action_data

    for action in sorted(all_actions(documents)):
        prefix, name = action.split(":")
        data = get_action_data(prefix, name)
        assert data and data.get(prefix), f"{action} is not an IAM action"


def test_parliament_finds_nothing(documents):
    parliament = pytest.importorskip("parliament")
    for key, document in documents.items():
        findings = parliament.analyze_policy_string(json.dumps(document)).findings
        assert not findings, f"{key}: {[(f.issue, f.detail) for f in findings]}"


# ---- widenings, step roles, options -------------------------------------------------------------

def test_widening_of_a_parameter_default_is_explained(groups):
    report = policy_report(groups["churn_training:churn_model.train"], "pipeline")
    assert ("s3://bucket/raw/ comes from the default of parameter InputData: any value passed at run time must "
            "stay under it or the run will be denied") in report.widenings
    text = explain(report)
    assert "S3Read: s3:GetObject" in text and "s3://bucket/raw/ comes from the default" in text
    assert not any("InstanceType" in w for w in report.widenings), "a parameter that gets no permission widens nothing"


def test_join_is_reduced_to_its_literal_prefix(groups):
    report = policy_report(groups["expressions:expressions.exprs"], "pipeline")
    statements = {s["Sid"]: s for s in report.document["Statement"]}
    assert "arn:aws:s3:::bucket/runs/*" in statements["S3Write"]["Resource"]
    assert any("reduced to its literal prefix s3://bucket/runs/" in w for w in report.widenings)
    # The output ends in a run-time part (the execution id): the file is somewhere below the literal prefix.
    assert statements["PropertyFiles"]["Resource"] == "arn:aws:s3:::bucket/runs/*/report.json"


def spec(*steps: Step, role: str | None = ROLE, **parameters: PipelineParameter) -> PipelineSpec:
    return PipelineSpec("p", PipelineDefinition(parameters=dict(parameters), steps=list(steps)), role_arn=role)


def test_step_role_gets_its_own_policy():
    trainer = "arn:aws:iam::111122223333:role/Trainer"
    fit = Step("fit", "Training", {
        "RoleArn": trainer,
        "AlgorithmSpecification": {"TrainingImage": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/xgb:1"},
        "InputDataConfig": [{"DataSource": {"S3DataSource": {"S3Uri": "s3://data/in/"}}}],
        "OutputDataConfig": {"S3OutputPath": "s3://data/out/"},
    })
    reports = analyse(spec(fit), region="eu-west-1")
    assert set(reports) == {"pipeline", "airflow", trainer}
    pipeline = actions_by_sid(reports["pipeline"].document)
    assert "S3Read" not in pipeline and "EcrPullImages" not in pipeline
    assert reports["pipeline"].document["Statement"][0]["Sid"] == "PassRoleToSageMaker"
    assert reports["pipeline"].document["Statement"][0]["Resource"] == trainer
    assert any("role='arn:aws:iam::111122223333:role/Trainer'" in n for n in reports["pipeline"].notes)
    assert [p.severity for p in reports["pipeline"].problems] == ["info"]
    job = actions_by_sid(reports[trainer].document)
    assert {"S3Read", "S3Write", "EcrPullImages", "CloudWatchLogs"} <= set(job)
    assert "SageMakerTrainingJobs" not in job
    assert policy_for_group(spec(fit), trainer, region="eu-west-1") == reports[trainer].document
    with pytest.raises(ValueError, match="step roles"):
        policy_for_group(spec(fit), "arn:aws:iam::111122223333:role/Other")


def test_emr_serverless_step_gets_its_job_run_actions_and_pass_role():
    emr_role = "arn:aws:iam::111122223333:role/EmrJob"
    step = Step("features", "EMRServerless", {
        "ExecutionRoleArn": emr_role, "ApplicationId": "00fabc",
        "JobConfig": {"executionRoleArn": emr_role, "applicationId": "00fabc",
                      "jobDriver": {"sparkSubmit": {"entryPoint": "s3://code/job.py"}}}})
    document = analyse(spec(step), region="eu-west-1")["pipeline"].document
    statements = {s["Sid"]: s for s in document["Statement"]}
    jobs = statements["EmrServerlessJobs"]
    assert jobs["Action"] == ["emr-serverless:CancelJobRun", "emr-serverless:GetJobRun", "emr-serverless:StartJobRun"]
    assert "arn:aws:emr-serverless:eu-west-1:111122223333:/applications/00fabc/jobruns/*" in jobs["Resource"]
    passed = statements["PassRoleToEmrServerless"]
    assert passed["Resource"] == emr_role
    assert passed["Condition"] == {"StringEquals": {"iam:PassedToService": "emr-serverless.amazonaws.com"}}


def test_unknown_locations_are_noted_and_extra_uris_added():
    lam = Step("lam", "Lambda", {}, extra={"FunctionArn": "arn:aws:lambda:eu-west-1:111122223333:function:f",
                                           "OutputParameters": [{"OutputName": "uri", "OutputType": "String"}]})
    proc = Step("proc", "Processing", {"RoleArn": ROLE, "ProcessingInputs": [{"S3Input": {
        "S3Uri": StepProperty("lam", ("OutputParameters", Key("uri")))}}]})
    report = policy_report(spec(lam, proc), "pipeline")
    assert "S3Read" not in actions_by_sid(report.document)
    assert any("extra_s3_uris" in n for n in report.notes)
    report = policy_report(spec(lam, proc), "pipeline", extra_s3_uris={"s3://other/staging/": "read"})
    assert "arn:aws:s3:::other/staging/*" == {s["Sid"]: s for s in report.document["Statement"]}["S3Read"]["Resource"]


def test_parameter_values_replace_defaults():
    proc = Step("proc", "Processing", {"RoleArn": ROLE, "ProcessingInputs": [{"S3Input": {
        "S3Uri": Join(["s3://", ParameterRef("Bucket"), "/in/", Execution.PipelineExecutionId])}}]})
    s = spec(proc, Bucket=PipelineParameter.string())
    assert "S3Read" not in actions_by_sid(policy_for_group(s, "pipeline"))
    document = policy_for_group(s, "pipeline", parameter_values={"Bucket": "prod"})
    assert {x["Sid"]: x for x in document["Statement"]}["S3Read"]["Resource"] == "arn:aws:s3:::prod/in/*"


def test_large_definition_goes_through_s3():
    steps = [Step(f"s{i}", "Processing", {"RoleArn": ROLE, "Environment": {"X": "x" * 2000}}) for i in range(60)]
    document = policy_for_group(spec(*steps), "airflow", region="eu-west-1")
    statements = {s["Sid"]: s for s in document["Statement"]}
    assert statements["LargeDefinitions"]["Resource"] == \
        "arn:aws:s3:::sagemaker-eu-west-1-111122223333/sagemaker-mlops/pipelines/p/*"
    assert statements["LargeDefinitionsBucket"]["Action"] == ["s3:CreateBucket", "s3:ListBucket"]
    document = policy_for_group(spec(*steps), "airflow", definition_bucket="defs")
    assert "LargeDefinitionsBucket" not in actions_by_sid(document)


def test_uppercase_pipeline_name_is_lowercased_in_arns():
    s = spec(Step("f", "Fail", {"ErrorMessage": "x"}))
    s.name = "Churn-Train"
    document = policy_for_group(s, "airflow", region="eu-west-1")
    resources = {x["Sid"]: x["Resource"] for x in document["Statement"]}["PipelineStart"]
    assert "arn:aws:sagemaker:eu-west-1:111122223333:pipeline/churn-train" in resources


@pytest.mark.parametrize(("url", "arn"), [
    ("https://sqs.eu-west-1.amazonaws.com/111122223333/q", "arn:aws:sqs:eu-west-1:111122223333:q"),
    ("https://eu-west-1.queue.amazonaws.com/111122223333/q.fifo", "arn:aws:sqs:eu-west-1:111122223333:q.fifo"),
    ("https://sqs.cn-north-1.amazonaws.com.cn/111122223333/q", "arn:aws-cn:sqs:cn-north-1:111122223333:q"),
    ("http://localhost:4566/000000000000/q", None),
])
def test_queue_arn(url: str, arn: str | None):
    assert queue_arn(url) == arn


def test_importing_iam_loads_no_botocore_or_airflow():
    code = ("import sys, airflow_sagemaker_mlops.iam; "
            "print(sorted(m for m in ('botocore', 'boto3', 'airflow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
