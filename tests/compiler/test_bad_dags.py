"""Bad DAG files, one kind of mistake each: every one fails its import with a PipelineCompileError located at
``<dag file>:<line>:`` and naming the DAG, the group, the task (where one applies) and the field.

Each case is a snippet placed in a DAG file template and written under ``<tmp>/airflow/dags/`` (the shape of
``~/airflow/dags`` and MWAA's ``/usr/local/airflow/dags``). The line the error must name is marked ``#<`` in
the snippet; without a mark it is the line that opens the group. Version-neutral: runs on Airflow 2.11 and 3.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from airflow_sagemaker_mlops.compat import AIRFLOW_V3
from airflow_sagemaker_mlops.exceptions import PipelineCompileError

TEMPLATE = '''\
import math

import pendulum
from airflow_sagemaker_mlops.compat import DAG, TaskGroup, task
from airflow_sagemaker_mlops.compat import EmptyOperator

from airflow_sagemaker_mlops import (
    CacheConfig, CallbackStep, ConditionStep, CreateModelStep, EMRServerlessStep, ExperimentConfig, FailStep, JsonGet,
    LambdaStep,
    PipelineParameter, ProcessingStep, PropertyFile, RawStep, RegisterModelStep, RetryPolicy,
    SageMakerPipelineGroup, TrainingStep, TransformStep, TuningStep,
)
from airflow_sagemaker_mlops import conditions as C
from airflow_sagemaker_mlops.definition import StepProperty
from airflow_sagemaker_mlops.definition.expressions import parse_path

JOB = {{"AppSpecification": {{"ImageUri": "img"}}}}
ARN = "arn:aws:lambda:us-east-1:111122223333:function:f"
QUEUE = "https://sqs.us-east-1.amazonaws.com/111122223333/q"
ROLE = "arn:aws:iam::111122223333:role/SmPipeline"
MLFLOW = "arn:aws:sagemaker:us-east-1:111122223333:mlflow-tracking-server/ml"
P = {{"S": PipelineParameter.string("x"), "N": PipelineParameter.integer(1), "B": PipelineParameter.boolean(True),
     "M": PipelineParameter.string("a", ["a", "b"])}}
with DAG("bad_dag", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
{prelude}
    with SageMakerPipelineGroup("g", pipeline_name="p", parameters=P, {kwargs}) as g:  # group line
{body}
'''


@dataclass(frozen=True)
class Case:
    id: str
    body: str = "FailStep(task_id='f', error_message='x')"
    task: str | None = None
    field: str | None = None
    why: str = ""  # a piece of the problem's text
    kwargs: str = ""
    prelude: str = ""
    group: str | None = "g"


def T(id: str, body: str, task: str | None, field: str | None, why: str = "", **kw: str) -> Case:
    return Case(id, body, task, field, why, **kw)


def G(id: str, kwargs: str, field: str | None, why: str = "", **kw: str) -> Case:
    """A mistake in the group's own arguments: reported at the line that opens the group."""
    return Case(id, kwargs=kwargs, field=field, why=why, **kw)


TWO_STEPS = "a = ProcessingStep(task_id='a', job=JOB)\n"
EV = "ev = ProcessingStep(task_id='ev', job=JOB, property_files=[PropertyFile('metrics', 'out', 'm.json')])\n"
DEEP = "deep = {}\ncur = deep\nfor _ in range(150):\n    cur['a'] = {}\n    cur = cur['a']\n"
OTHER = ("    with SageMakerPipelineGroup('other', pipeline_name='other',\n"
         "                                parameters={'X': PipelineParameter.string('a')}) as other:\n"
         "        foreign = ProcessingStep(task_id='foreign', job=JOB)")
XCOM = "    @task\n    def up():\n        return 's3://x'\n    value = up()"

CASES = [
    # -- the group's own arguments --------------------------------------------------------------------
    G("pipeline_name_underscore", "pipeline_name='under_score'", "pipeline_name", "pipeline name"),
    G("pipeline_name_empty", "pipeline_name=''", "pipeline_name", "pipeline name"),
    G("pipeline_name_too_long", "pipeline_name='x' * 257", "pipeline_name", "pipeline name"),
    G("pipeline_name_not_a_string", "pipeline_name=5", "pipeline_name", "pipeline name"),
    G("role_arn_not_an_arn", "role_arn='SmPipelineRole'", "role_arn", "not an IAM role ARN"),
    G("role_arn_not_a_string", "role_arn=123", "role_arn", "not an IAM role ARN"),
    G("role_arn_too_long", "role_arn=ROLE + 'x' * 2048", "role_arn", "not an IAM role ARN"),
    G("max_parallel_zero", "max_parallel_steps=0", "max_parallel_steps", "positive integer"),
    G("max_parallel_bool", "max_parallel_steps=True", "max_parallel_steps", "positive integer"),
    G("max_parallel_string", "max_parallel_steps='3'", "max_parallel_steps", "positive integer"),
    G("max_parallel_over_int32", "max_parallel_steps=2**31", "max_parallel_steps", "2147483647"),
    G("description_too_long", "pipeline_description='x' * 3073", "pipeline_description", "0-3072"),
    G("description_not_a_string", "pipeline_description=5", "pipeline_description", "must be a string"),
    G("description_jinja", "pipeline_description='{{ ds }}'", "pipeline_description", "Jinja"),
    G("display_name_too_long", "pipeline_display_name='x' * 257", "pipeline_display_name", "1-256"),
    G("display_name_empty", "pipeline_display_name=''", "pipeline_display_name", "1-256"),
    G("display_name_control_character", "pipeline_display_name='bad\\x07name'", "pipeline_display_name",
      "control characters"),
    G("display_name_padded", "pipeline_display_name=' padded '", "pipeline_display_name", "white space"),
    G("display_name_jinja", "pipeline_display_name='{{ ds }}'", "pipeline_display_name", "Jinja"),
    G("tags_as_a_list", "pipeline_tags=['team']", "pipeline_tags", "takes a dict"),
    G("tag_value_too_long", "pipeline_tags={'team': 'v' * 257}", "pipeline_tags['team']", "0-256"),
    G("tag_value_not_a_string", "pipeline_tags={'team': 5}", "pipeline_tags['team']", "must be a string"),
    G("tag_key_empty", "pipeline_tags={'': 'v'}", "pipeline_tags['']", "1-128"),
    G("tag_key_too_long", "pipeline_tags={'k' * 129: 'v'}", f"pipeline_tags[{'k' * 129!r}]", "1-128"),
    G("tag_key_not_a_string", "pipeline_tags={5: 'v'}", "pipeline_tags[5]", "must be a string"),
    G("tag_key_bad_character", "pipeline_tags={'bad#key': 'v'}", "pipeline_tags['bad#key']", "refuses"),
    G("tag_key_reserved_prefix", "pipeline_tags={'aws:team': 'v'}", "pipeline_tags['aws:team']", "reserved"),
    G("too_many_tags", "pipeline_tags={f'k{i}': 'v' for i in range(51)}", "pipeline_tags", "at most 50"),
    G("parameters_as_a_list", "parameters=['S']", "parameters", "takes a dict"),
    G("parameter_not_declared_with_the_class", "parameters={'S': 'x'}", "parameters['S']", "PipelineParameter"),
    G("parameter_name_with_space", "parameters={'bad name': PipelineParameter.string('a')}",
      "parameters['bad name']", "parameter name"),
    G("parameter_name_too_long", "parameters={'Q' * 257: PipelineParameter.string('a')}",
      f"parameters[{'Q' * 257!r}]", "1-256"),
    G("integer_default_string", "parameters={'Q': PipelineParameter.integer('5')}", "parameters['Q']",
      "is not a Integer"),
    G("float_default_bool", "parameters={'Q': PipelineParameter.float(True)}", "parameters['Q']", "not a Float"),
    G("float_default_nan", "parameters={'Q': PipelineParameter.float(math.nan)}", "parameters['Q']", "not a Float"),
    G("float_default_inf", "parameters={'Q': PipelineParameter.float(math.inf)}", "parameters['Q']", "not a Float"),
    G("boolean_default_string", "parameters={'Q': PipelineParameter.boolean('true')}", "parameters['Q']",
      "not a Boolean"),
    G("string_default_over_value_limit", "parameters={'Q': PipelineParameter.string('v' * 1025)}",
      "parameters['Q']", "Parameter.Value"),
    G("enum_value_over_value_limit", "parameters={'Q': PipelineParameter.string('a', ['a', 'v' * 1025])}",
      "parameters['Q']", "at most 1024"),
    G("too_many_parameters", "parameters={f'P{i}': PipelineParameter.integer(i) for i in range(201)}", "parameters",
      "201 parameters are declared; SageMaker takes at most 200"),
    G("string_default_int", "parameters={'Q': PipelineParameter.string(3)}", "parameters['Q']", "not a String"),
    G("default_outside_enum", "parameters={'Q': PipelineParameter.string('c', ['a', 'b'])}", "parameters['Q']",
      "not one of the enum values"),
    G("enum_on_integer", "parameters={'Q': PipelineParameter('Integer', 1, ('a',))}", "parameters['Q']",
      "only allowed on String"),
    G("empty_enum", "parameters={'Q': PipelineParameter.string('a', [])}", "parameters['Q']", "must not be empty"),
    G("enum_of_numbers", "parameters={'Q': PipelineParameter('String', None, (1, 2))}", "parameters['Q']",
      "must all be strings"),
    G("unknown_parameter_type", "parameters={'Q': PipelineParameter('Strin')}", "PipelineParameter.type",
      "unknown parameter type", group=None),
    G("parameter_value_undeclared", "parameter_values={'Nope': 'x'}", "parameter_values['Nope']",
      "no parameter 'Nope'"),
    G("parameter_value_not_an_integer", "parameter_values={'N': 'seven'}", "parameter_values['N']",
      "not a valid Integer"),
    G("parameter_value_fraction", "parameter_values={'N': 1.5}", "parameter_values['N']", "not a valid Integer"),
    G("parameter_value_outside_enum", "parameter_values={'M': 'c'}", "parameter_values['M']",
      "not one of the enum values"),
    G("parameter_value_too_long", "parameter_values={'S': 'x' * 1025}", "parameter_values['S']", "0-1024"),
    G("parameter_value_nan", "parameter_values={'F': math.nan}, parameters={'F': PipelineParameter.float(1.0)}",
      "parameter_values['F']", "not a valid Float"),
    G("parameter_values_as_a_list", "parameter_values=['S']", "parameter_values", "takes a dict"),
    G("too_many_parameter_values",
      "parameters={f'P{i}': PipelineParameter.string('a') for i in range(201)}, "
      "parameter_values={f'P{i}': 'b' for i in range(201)}", "parameters", "at most 200"),
    G("poll_interval_zero", "poll_interval=0", "poll_interval", "positive number"),
    G("job_log_tail_lines_negative", "job_log_tail_lines=-1", "job_log_tail_lines", "non-negative"),
    G("experiment_config_string", "experiment_config='exp'", "PipelineExperimentConfig", "ExperimentConfig"),
    G("experiment_name_invalid", "experiment_config=ExperimentConfig('bad_name', 'trial')",
      "PipelineExperimentConfig.ExperimentName", "experiment or trial name"),
    G("experiment_from_a_step_property",
      "experiment_config=ExperimentConfig(StepProperty('f', parse_path('FailureReason')), 't')",
      "PipelineExperimentConfig.ExperimentName", "not available here"),
    G("mlflow_config_string", "mlflow_config='x'", "MlflowConfig", "must be a dict"),
    G("mlflow_config_unknown_key", "mlflow_config={'Nope': 1, 'MlflowResourceArn': MLFLOW}", "MlflowConfig",
      "unknown key 'Nope'"),
    G("mlflow_config_no_arn", "mlflow_config={}", "MlflowConfig.MlflowResourceArn", "required"),
    G("mlflow_config_bad_arn", "mlflow_config={'MlflowResourceArn': 'arn:nope'}", "MlflowConfig.MlflowResourceArn",
      "not a SageMaker MLflow ARN"),
    G("mlflow_experiment_name_too_long", "mlflow_config={'MlflowResourceArn': MLFLOW, 'MlflowExperimentName': "
      "'e' * 257}", "MlflowConfig.MlflowExperimentName", "1-256"),
    G("experiment_trial_name_too_long", "experiment_config=ExperimentConfig('exp', 't' * 121)",
      "PipelineExperimentConfig.TrialName", "experiment or trial name"),
    G("unknown_group_argument", "no_such_argument=1", "no_such_argument",
      "unexpected keyword argument 'no_such_argument'"),
    Case("no_steps", body="pass", why="the group has no steps"),
    Case("duplicate_group_id", prelude="    with SageMakerPipelineGroup('g', pipeline_name='q'):\n"
         "        FailStep(task_id='f', error_message='x')", why="group_id 'g'"),
    Case("duplicate_pipeline_name_in_the_dag", prelude="    with SageMakerPipelineGroup('h', pipeline_name='p'):\n"
         "        FailStep(task_id='f', error_message='x')", field="pipeline_name", why="also used by group 'h'"),
    # -- step arguments checked while the operator is built -------------------------------------------
    T("cache_number", "ProcessingStep(task_id='p', job=JOB, cache=5)  #<", "g.p", "cache", "cache must be"),
    T("cache_not_iso", "ProcessingStep(task_id='p', job=JOB, cache='30 days')  #<", "g.p", "cache",
      "ISO 8601"),
    T("cache_empty_duration", "ProcessingStep(task_id='p', job=JOB, cache=CacheConfig(True, 'P'))  #<", "g.p",
      "cache", "ISO 8601"),
    T("cache_enabled_string", "ProcessingStep(task_id='p', job=JOB, cache=CacheConfig('yes'))  #<", "g.p",
      "cache", "True or False"),
    T("job_string", "ProcessingStep(task_id='p', job='x')  #<", "g.p", "job", "must be a dict"),
    T("job_list", "ProcessingStep(task_id='p', job=['x'])  #<", "g.p", "job", "must be a dict"),
    T("processing_job_name", "ProcessingStep(task_id='p', job={'ProcessingJobName': 'x'})  #<", "g.p",
      "job.ProcessingJobName", "SageMaker names the job"),
    T("training_job_name", "TrainingStep(task_id='t', job={'TrainingJobName': 'x'})  #<", "g.t",
      "job.TrainingJobName", "SageMaker names the job"),
    T("tuning_job_name", "TuningStep(task_id='t', job={'HyperParameterTuningJobName': 'x'})  #<", "g.t",
      "job.HyperParameterTuningJobName", "SageMaker names the job"),
    T("transform_job_name", "TransformStep(task_id='t', job={'TransformJobName': 'x'})  #<", "g.t",
      "job.TransformJobName", "SageMaker names the job"),
    T("model_name", "CreateModelStep(task_id='m', model={'ModelName': 'x'})  #<", "g.m", "model.ModelName",
      "SageMaker names the model"),
    T("model_string", "CreateModelStep(task_id='m', model='x')  #<", "g.m", "model", "must be a dict"),
    T("register_without_anything", "RegisterModelStep(task_id='r')  #<", "g.r", "model_package_group",
      "give request="),
    T("register_request_string", "RegisterModelStep(task_id='r', request='x')  #<", "g.r", "request",
      "must be a dict"),
    T("fail_message_number", "FailStep(task_id='f', error_message=42)  #<", "g.f", "error_message",
      "string or a pipeline expression"),
    T("lambda_output_type", "LambdaStep(task_id='l', function_arn=ARN, outputs={'a': 'Text'})  #<", "g.l",
      "outputs['a']", "use String, Integer"),
    T("lambda_outputs_string", "LambdaStep(task_id='l', function_arn=ARN, outputs='abc')  #<", "g.l", "outputs",
      "list of names"),
    T("lambda_output_name_number", "LambdaStep(task_id='l', function_arn=ARN, outputs=[5])  #<", "g.l", "outputs",
      "must be a string"),
    T("lambda_inputs_string", "LambdaStep(task_id='l', function_arn=ARN, inputs='x')  #<", "g.l", "inputs",
      "must be a dict"),
    T("lambda_arn_malformed", "LambdaStep(task_id='l', function_arn='arn')  #<", "g.l", "function_arn",
      "not a Lambda function ARN"),
    T("lambda_arn_number", "LambdaStep(task_id='l', function_arn=5)  #<", "g.l", "function_arn", "must be a string"),
    T("lambda_arn_empty", "LambdaStep(task_id='l', function_arn='')  #<", "g.l", "function_arn", "needs a function"),
    T("lambda_too_many_outputs", "LambdaStep(task_id='l', function_arn=ARN, outputs=[f'o{i}' for i in range(51)])"
      "  #<", "g.l", "outputs", "at most 50"),
    T("lambda_output_name_too_long", "LambdaStep(task_id='l', function_arn=ARN, outputs=['o' * 257])  #<", "g.l",
      "outputs[0]", "0-256"),
    T("callback_queue_number", "CallbackStep(task_id='c', sqs_queue_url=5)  #<", "g.c", "sqs_queue_url",
      "must be a string"),
    T("callback_queue_not_a_url", "CallbackStep(task_id='c', sqs_queue_url='approvals')  #<", "g.c", "sqs_queue_url",
      "not an SQS queue URL"),
    T("callback_queue_none", "CallbackStep(task_id='c', sqs_queue_url=None)  #<", "g.c", "sqs_queue_url", "needs"),
    T("condition_string", "ConditionStep(task_id='c', condition='x > 1')  #<", "g.c", "condition",
      "expects conditions"),
    T("condition_plain_task_in_branch", "e = EmptyOperator(task_id='e')\n"
      "ConditionStep(task_id='c', condition=C.eq(1, 1), if_true=[e])  #<", "g.c", "if_true[0]",
      "takes step operators"),
    T("condition_branch_string", "ConditionStep(task_id='c', condition=C.eq(1, 1), if_false='abc')  #<", "g.c",
      "if_false", "takes a list"),
    T("condition_empty", "ConditionStep(task_id='c', condition=[])  #<", "g.c", "condition", "condition is empty"),
    T("condition_retries", "ConditionStep(task_id='c', condition=C.eq(1, 1), retry_policies=[RetryPolicy("
      "['Step.THROTTLING'], max_attempts=2)])  #<", "g.c", "retry_policies", "take no retry policies"),
    T("condition_cached", "ConditionStep(task_id='c', condition=C.eq(1, 1), cache=True)  #<", "g.c", "cache",
      "cannot be cached"),
    T("fail_cached", "FailStep(task_id='x', error_message='x', cache=True)  #<", "g.x", "cache",
      "cannot be cached"),
    T("step_name_space", "ProcessingStep(task_id='p', step_name='has space', job=JOB)  #<", "g.p", "step_name",
      "step name"),
    T("step_name_too_long", "ProcessingStep(task_id='p', step_name='s' * 65, job=JOB)  #<", "g.p", "step_name",
      "1-64"),
    T("step_name_number", "ProcessingStep(task_id='p', step_name=5, job=JOB)  #<", "g.p", "step_name",
      "must be a string"),
    T("duplicate_step_name", "ProcessingStep(task_id='a', step_name='same', job=JOB)\n"
      "ProcessingStep(task_id='b', step_name='same', job=JOB)  #<", "g.b", "step_name", "already used"),
    T("duplicate_task_id", "ProcessingStep(task_id='a', job=JOB)\nProcessingStep(task_id='a', job=JOB)  #<",
      "g.a", None, "g.a"),
    T("display_name_number", "ProcessingStep(task_id='p', job=JOB, display_name=5)  #<", "g.p", "display_name",
      "must be a string"),
    T("step_display_name_line_break", "ProcessingStep(task_id='p', job=JOB, display_name='two\\nlines')  #<", "g.p",
      "display_name", "line breaks"),
    T("step_display_name_too_long", "ProcessingStep(task_id='p', job=JOB, display_name='d' * 257)  #<", "g.p",
      "display_name", "0-256"),
    T("step_display_name_jinja", "ProcessingStep(task_id='p', job=JOB, display_name='{{ ds }}')  #<", "g.p",
      "display_name", "Jinja"),
    T("step_description_too_long", "ProcessingStep(task_id='p', job=JOB, step_description='d' * 3073)  #<", "g.p",
      "step_description", "0-3072"),
    T("step_description_jinja", "ProcessingStep(task_id='p', job=JOB, step_description='run {{ ds }}')  #<", "g.p",
      "step_description", "Jinja"),
    T("retry_policies_not_a_list", "ProcessingStep(task_id='p', job=JOB, retry_policies=RetryPolicy("
      "['Step.THROTTLING'], max_attempts=2))  #<", "g.p", "retry_policies", "takes a list"),
    T("retry_policy_string", "ProcessingStep(task_id='p', job=JOB, retry_policies=['x'])  #<", "g.p",
      "retry_policies[0]", "RetryPolicy objects"),
    T("retry_unknown_exception", "ProcessingStep(task_id='p', job=JOB, retry_policies=[RetryPolicy(['Step.OOPS'], "
      "max_attempts=2)])  #<", "g.p", "retry_policies[0]", "unknown retry exception type"),
    T("retry_attempts_string", "ProcessingStep(task_id='p', job=JOB, retry_policies=[RetryPolicy("
      "['Step.THROTTLING'], max_attempts='3')])  #<", "g.p", "retry_policies[0]", "must be an integer"),
    T("retry_attempts_over_20", "ProcessingStep(task_id='p', job=JOB, retry_policies=[RetryPolicy("
      "['Step.THROTTLING'], max_attempts=21)])  #<", "g.p", "retry_policies[0]", "between 1 and 20"),
    T("retry_expiry_over_limit", "ProcessingStep(task_id='p', job=JOB, retry_policies=[RetryPolicy("
      "['Step.THROTTLING'], expire_after_minutes=14401)])  #<", "g.p", "retry_policies[0]", "between 0 and 14400"),
    T("retry_backoff_nan", "ProcessingStep(task_id='p', job=JOB, retry_policies=[RetryPolicy("
      "['Step.THROTTLING'], max_attempts=2, backoff_rate=math.nan)])  #<", "g.p", "retry_policies[0]",
      "finite number"),
    T("retry_backoff_inf", "ProcessingStep(task_id='p', job=JOB, retry_policies=[RetryPolicy("
      "['Step.THROTTLING'], max_attempts=2, backoff_rate=math.inf)])  #<", "g.p", "retry_policies[0]",
      "finite number"),
    T("retry_backoff_negative", "ProcessingStep(task_id='p', job=JOB, retry_policies=[RetryPolicy("
      "['Step.THROTTLING'], max_attempts=2, backoff_rate=-1)])  #<", "g.p", "retry_policies[0]", "not be negative"),
    T("retry_types_string", "ProcessingStep(task_id='p', job=JOB, retry_policies=[RetryPolicy("
      "'Step.THROTTLING', max_attempts=2)])  #<", "g.p", "retry_policies[0]", "takes a list"),
    T("retry_types_number", "ProcessingStep(task_id='p', job=JOB, retry_policies=[RetryPolicy(5, max_attempts=2)])"
      "  #<", "g.p", "retry_policies[0]", "takes a list"),
    T("retry_neither_bound", "ProcessingStep(task_id='p', job=JOB, retry_policies=[RetryPolicy("
      "['Step.THROTTLING'])])  #<", "g.p", "retry_policies[0]", "exactly one"),
    T("retry_interval_negative", "ProcessingStep(task_id='p', job=JOB, retry_policies=[RetryPolicy("
      "['Step.THROTTLING'], interval_seconds=-1, max_attempts=1)])  #<", "g.p", "retry_policies[0]",
      "between 0 and 43200"),
    T("retry_no_exception_types", "ProcessingStep(task_id='p', job=JOB, retry_policies=[RetryPolicy([], "
      "max_attempts=1)])  #<", "g.p", "retry_policies[0]", "at least one exception type"),
    T("run_after_outcome_not_pairs", "ProcessingStep(task_id='p', job=JOB, run_after_outcome=[('x',)])  #<", "g.p",
      "run_after_outcome[0]", "pairs"),
    T("run_after_outcome_unknown_trigger", TWO_STEPS + "ProcessingStep(task_id='p', job=JOB, run_after_outcome=[(a,"
      " 'Nope')])  #<", "g.p", "DependsOn", "trigger 'Nope'"),
    T("run_after_outcome_number", "ProcessingStep(task_id='p', job=JOB, run_after_outcome=5)  #<", "g.p",
      "run_after_outcome", "takes a list"),
    T("property_files_strings", "ProcessingStep(task_id='p', job=JOB, property_files=['x'])  #<", "g.p",
      "property_files[0]", "PropertyFile objects"),
    T("property_files_not_a_list", "ProcessingStep(task_id='p', job=JOB, property_files=PropertyFile('m', 'o', "
      "'m.json'))  #<", "g.p", "property_files", "takes a list"),
    T("property_file_twice", "ProcessingStep(task_id='p', job=JOB, property_files=[PropertyFile('m', 'o', 'a'), "
      "PropertyFile('m', 'o', 'b')])  #<", "g.p", "property_files", "declared twice"),
    T("unknown_step_argument", "ProcessingStep(task_id='p', job=JOB, no_such_argument=1)  #<", "g.p",
      "no_such_argument", "unexpected keyword argument 'no_such_argument'"),
    T("missing_job", "ProcessingStep(task_id='p')  #<", "g.p", None, "job"),
    T("unsupported_step_type", "RawStep(task_id='r', step_type='Notebook', arguments={})  #<", "g.r", "step_type",
      "unsupported step type"),
    # -- EMRServerlessStep ------------------------------------------------------------------------------
    T("emr_serverless_no_application", "EMRServerlessStep(task_id='e', execution_role_arn=ROLE, "
      "entry_point='s3://b/job.py')  #<", "g.e", "application_id", "give exactly one"),
    T("emr_serverless_two_applications", "EMRServerlessStep(task_id='e', execution_role_arn=ROLE, application_id='a', "
      "application_config={'type': 'SPARK'}, entry_point='s3://b/job.py')  #<", "g.e", "application_id",
      "give exactly one"),
    T("emr_serverless_entry_point_and_driver", "EMRServerlessStep(task_id='e', execution_role_arn=ROLE, "
      "application_id='a', entry_point='s3://b/job.py', job_driver={'hive': {}})  #<", "g.e", "job_driver",
      "exactly one"),
    T("emr_serverless_unknown_driver", "EMRServerlessStep(task_id='e', execution_role_arn=ROLE, application_id='a', "
      "job_driver={'pig': {}})  #<", "g.e", "job_driver", "sparkSubmit or hive"),
    T("emr_serverless_no_role", "EMRServerlessStep(task_id='e', execution_role_arn='', application_id='a', "
      "entry_point='s3://b/job.py')  #<", "g.e", "execution_role_arn", "execution role"),
    T("emr_serverless_timeout_string", "EMRServerlessStep(task_id='e', execution_role_arn=ROLE, application_id='a', "
      "entry_point='s3://b/job.py', execution_timeout_minutes='60')  #<", "g.e", "execution_timeout_minutes",
      "whole number"),
    T("emr_serverless_property_typo", "e = EMRServerlessStep(task_id='e', execution_role_arn=ROLE, application_id='a', "
      "entry_point='s3://b/job.py')\nFailStep(task_id='f', error_message=e.properties.jobRun.stat)  #<", None,
      "e.properties.jobRun.stat", "did you mean 'state'"),
    # -- values inside step arguments ------------------------------------------------------------------
    T("nan_in_arguments", "RawStep(task_id='r', step_type='EMR', arguments={'X': math.nan})  #<", "g.r",
      "arguments.X", "not a number JSON"),
    T("inf_in_job", "ProcessingStep(task_id='p', job={'Environment': {'K': math.inf}})  #<", "g.p",
      "job.Environment.K", "not a number JSON"),
    T("non_string_key", "ProcessingStep(task_id='p', job={'Environment': {1: 'x'}})  #<", "g.p", "job.Environment",
      "keys must be strings"),
    T("deep_nesting", DEEP + "ProcessingStep(task_id='p', job=deep)  #<", "g.p", "job" + ".a" * 101,
      "nested more than 100"),
    T("datetime_value", "ProcessingStep(task_id='p', job={'When': pendulum.datetime(2026, 1, 1)})  #<", "g.p",
      "job.When", "DateTime values cannot"),
    T("xcom_value", "ProcessingStep(task_id='p', job={'X': value})  #<", "g.p", "job.X", "XCom", prelude=XCOM),
    T("jinja_value", "ProcessingStep(task_id='p', job={'X': '{{ ds }}'})  #<", "g.p", "job.X", "Jinja"),
    T("raw_get_unknown_step", "ProcessingStep(task_id='p', job={'X': {'Get': 'Steps.nope.ProcessingJobArn'}})  #<",
      "g.p", "job.X", "unknown step 'nope'"),
    T("raw_get_unknown_parameter", "ProcessingStep(task_id='p', job={'X': {'Get': 'Parameters.Nope'}})  #<", "g.p",
      "job.X", "unknown parameter 'Nope'"),
    T("raw_get_unknown_execution_variable", "ProcessingStep(task_id='p', job={'X': {'Get': 'Execution.Nope'}})  #<",
      "g.p", "job.X", "not a valid pipeline expression"),
    T("raw_get_property_typo", TWO_STEPS + "ProcessingStep(task_id='p', job={'X': {'Get': "
      "'Steps.a.ProcessingJobArnn'}})  #<", "g.p", "job.X", "did you mean 'ProcessingJobArn'"),
    T("raw_join_not_an_object", "ProcessingStep(task_id='p', job={'X': {'Std:Join': 'x'}})  #<", "g.p",
      "job.X", "not a valid pipeline expression"),
    T("raw_get_in_condition", "ConditionStep(task_id='c', condition=C.eq({'Get': 'Steps.nope.X'}, 1))  #<", "g.c",
      "condition[0]", "unknown step 'nope'"),
    T("property_typo", "fit = TrainingStep(task_id='fit', job={})\nProcessingStep(task_id='p', job={'M': "
      "fit.properties.ModelArtifact.S3ModelArtifacts})  #<", "g.p", "job.M", "did you mean 'ModelArtifacts'"),
    T("property_lower_case", TWO_STEPS + "x = a.properties.processingJobArn  #<", None,
      "a.properties.processingJobArn", "did you mean 'ProcessingJobArn'"),
    T("property_index_float", TWO_STEPS + "x = a.properties.ProcessingOutputConfig.Outputs[1.5]  #<", None,
      "a.properties.ProcessingOutputConfig.Outputs[1.5]", "non-negative integer"),
    T("property_index_negative", TWO_STEPS + "x = a.properties.ProcessingOutputConfig.Outputs[-1]  #<", None,
      "a.properties.ProcessingOutputConfig.Outputs[-1]", "non-negative integer"),
    T("properties_object_itself", TWO_STEPS + "ProcessingStep(task_id='p', job={'X': a.properties})  #<", "g.p",
      "job.X", "not the properties object"),
    T("property_of_another_group", "TrainingStep(task_id='t', job={'X': foreign.properties.ProcessingJobArn})  #<",
      "g.t", "job.X", "not a step of this group", prelude=OTHER),
    T("property_of_unknown_step", "ProcessingStep(task_id='p', job={'X': StepProperty('ghost', "
      "parse_path('ProcessingJobArn'))})  #<", "g.p", "job.X", "unknown step 'ghost'"),
    T("unknown_parameter", "x = g.parameter('Nope')  #<", None, "parameter('Nope')", "unknown parameter 'Nope'"),
    T("parameter_of_another_group", "FailStep(task_id='f', error_message=other.parameter('X'))  #<", "g.f",
      "error_message", "belongs to group 'other'", prelude=OTHER),
    T("expression_in_f_string", "x = f\"s3://{g.parameter('S')}\"  #<", None, None, "Use Join"),
    T("json_get_not_a_step", "x = JsonGet('not a step', 'f', 'p')  #<", None, "JsonGet", "JsonGet takes"),
    T("json_get_s3_without_path", "x = JsonGet(s3_uri='s3://b/k')  #<", None, "JsonGet", "JSON path"),
    T("json_get_empty_path", EV + "x = JsonGet(ev, 'metrics', '')  #<", None, "JsonGet", "JSON path"),
    T("json_get_unknown_file", EV + "ConditionStep(task_id='c', condition=C.gt(JsonGet(ev, 'metricz', 'auc'), 0.5))"
      "  #<", "g.c", "condition[0]", "property file 'metricz'"),
    T("in_with_a_string", "x = C.in_(1, 'abc')  #<", None, "in_", "needs a list"),
    T("in_with_no_values", "x = C.in_(1, [])  #<", None, "in_", "at least one value"),
    T("or_of_nothing", "x = C.or_()  #<", None, "or_", "at least one condition"),
    T("and_of_nothing", "x = C.and_()  #<", None, "and_", "at least one condition"),
    T("not_of_a_string", "x = C.not_('x')  #<", None, "not_", "expects conditions"),
    T("compare_string_with_number", "ConditionStep(task_id='c', condition=C.gt(g.parameter('S'), 1))  #<", "g.c",
      "condition[0]", "compares numbers"),
    T("equals_never_true", "ConditionStep(task_id='c', condition=C.eq(g.parameter('S'), 1))  #<", "g.c",
      "condition[0]", "can never be true"),
    T("in_mixed_types", "ConditionStep(task_id='c', condition=C.in_(g.parameter('N'), ['a']))  #<", "g.c",
      "condition[0]", "In looks a Integer up"),
    T("dict_operand", "ConditionStep(task_id='c', condition=C.eq({'a': 1}, 1))  #<", "g.c", "condition[0]",
      "single values"),
    T("none_operand", "ConditionStep(task_id='c', condition=C.eq(None, 1))  #<", "g.c", "condition[0]",
      "single values"),
    T("nan_operand", "ConditionStep(task_id='c', condition=C.gt(math.nan, 1))  #<", "g.c", "condition[0][0]",
      "not a number JSON"),
    T("unknown_output_parameter", "fn = LambdaStep(task_id='fn', function_arn=ARN, outputs=['a'])\n"
      "FailStep(task_id='x', error_message=fn.output_parameter('b'))  #<", "g.x", "error_message",
      "no output parameter 'b'"),
    T("step_role_other_account", "ProcessingStep(task_id='p', job=JOB | {'RoleArn': "
      "'arn:aws:iam::999999999999:role/Other'})  #<", "g.p", "job.RoleArn", "999999999999", kwargs="role_arn=ROLE"),
    # -- the graph -------------------------------------------------------------------------------------
    T("step_in_both_branches", "s = ProcessingStep(task_id='s', job=JOB)\n"
      "ConditionStep(task_id='c', condition=C.eq(1, 1), if_true=[s], if_false=[s])  #<", "g.c", "if_false",
      "in both branches"),
    T("step_in_two_conditions", "s = ProcessingStep(task_id='s', job=JOB)\n"
      "ConditionStep(task_id='one', condition=C.eq(1, 1), if_true=[s])\n"
      "ConditionStep(task_id='two', condition=C.eq(1, 1), if_false=[s])  #<", "g.two", "if_false",
      "already in a branch of condition 'one'"),
    T("step_twice_in_a_branch", "s = ProcessingStep(task_id='s', job=JOB)\n"
      "ConditionStep(task_id='c', condition=C.eq(1, 1), if_true=[s, s])  #<", "g.c", "if_true", "listed twice"),
    T("mutual_nesting", "c1 = ConditionStep(task_id='c1', condition=C.eq(1, 1))  #<\n"
      "c2 = ConditionStep(task_id='c2', condition=C.eq(1, 1), if_true=[c1])\nc1.if_true.steps.append(c2)",
      "g.c1", "if_true", "nested in each other's branches"),
    T("cyclic_nesting_of_three", "c1 = ConditionStep(task_id='c1', condition=C.eq(1, 1))  #<\n"
      "c2 = ConditionStep(task_id='c2', condition=C.eq(1, 1), if_false=[c1])\n"
      "c3 = ConditionStep(task_id='c3', condition=C.eq(1, 1), if_true=[c2])\nc1.if_true.steps.append(c3)",
      "g.c1", "if_true", "nested in each other's branches"),
    T("condition_in_its_own_branch", "c = ConditionStep(task_id='c', condition=C.eq(1, 1))  #<\n"
      "c.if_true.steps.append(c)", "g.c", "if_true", "its own branch"),
    T("branch_step_of_another_group", "ConditionStep(task_id='c', condition=C.eq(1, 1), if_true=[foreign])  #<",
      "g.c", "if_true", "not a step of this group", prelude=OTHER),
    T("cycle_through_data_and_order", "a = ProcessingStep(task_id='a', job=JOB)  #<\n"
      "b = TrainingStep(task_id='b', job={'Environment': {'X': a.properties.ProcessingJobArn}})\nb >> a", "g.a", None,
      "cycle"),
    T("branch_step_upstream_of_its_condition", "s = ProcessingStep(task_id='s', job=JOB)\n"
      "c = ConditionStep(task_id='c', condition=C.eq(1, 1), if_true=[s])  #<\ns >> c", "g.c", None, "cycle"),
    T("plain_task_in_group", "ProcessingStep(task_id='s', job=JOB)\nEmptyOperator(task_id='plain')  #<", "g.plain",
      None, "plain Airflow task"),
    T("taskflow_task_in_group", "@task\ndef hello():\n    return 'x'\nhello()  #<", "g.hello", None,
      "plain Airflow task"),
    T("nested_task_group", "with TaskGroup('inner'):  #<\n    ProcessingStep(task_id='s', job=JOB)", "g.inner",
      None, "nested inside the pipeline group"),
    # The fields inside a step's request, against botocore's request shapes (request_shapes.json).
    T("job_instance_type_not_in_enum", "ProcessingStep(task_id='p', job={'ProcessingResources': {'ClusterConfig': {"
      "'InstanceType': 'ml.m5.huge', 'InstanceCount': 1, 'VolumeSizeInGB': 30}}})  #<", "g.p",
      "job.ProcessingResources.ClusterConfig.InstanceType", "did you mean 'ml.m5.large'?"),
    T("job_instance_count_zero", "ProcessingStep(task_id='p', job={'ProcessingResources': {'ClusterConfig': {"
      "'InstanceType': 'ml.m5.large', 'InstanceCount': 0, 'VolumeSizeInGB': 30}}})  #<", "g.p",
      "job.ProcessingResources.ClusterConfig.InstanceCount", "out of range"),
    T("job_volume_size_a_string", "TrainingStep(task_id='t', job={'ResourceConfig': {'VolumeSizeInGB': '30'}})  #<",
      "g.t", "job.ResourceConfig.VolumeSizeInGB", "must be an integer"),
    T("job_unknown_member_typo", "TrainingStep(task_id='t', job={'StoppingCondition': {'MaxRuntimeInSecond': 60}})"
      "  #<", "g.t", "job.StoppingCondition.MaxRuntimeInSecond", "did you mean 'MaxRuntimeInSeconds'?"),
    T("job_unknown_top_level_member", "ProcessingStep(task_id='p', job={'AppSpec': {'ImageUri': 'img'}})  #<", "g.p",
      "job.AppSpec", "did you mean 'AppSpecification'?"),
    T("job_image_uri_too_long", "ProcessingStep(task_id='p', job={'AppSpecification': {'ImageUri': 'i' * 256}})  #<",
      "g.p", "job.AppSpecification.ImageUri", "0-255" if False else "at most 255"),
    T("job_s3_uri_pattern", "ProcessingStep(task_id='p', job={'ProcessingInputs': [{'InputName': 'in', 'S3Input': {"
      "'S3Uri': 'bucket/key', 'LocalPath': '/opt/ml/processing/in', 'S3DataType': 'S3Prefix'}}]})  #<", "g.p",
      "job.ProcessingInputs[0].S3Input.S3Uri", "pattern"),
    T("job_too_many_inputs", "ProcessingStep(task_id='p', job={'ProcessingInputs': [{'InputName': f'i{n}'} "
      "for n in range(11)]})  #<", "g.p", "job.ProcessingInputs", "has 11 entries; SageMaker takes at most 10"),
    T("job_list_given_a_dict", "ProcessingStep(task_id='p', job={'ProcessingInputs': {'InputName': 'in'}})  #<",
      "g.p", "job.ProcessingInputs", "must be a list"),
    T("job_environment_value_too_long", "ProcessingStep(task_id='p', job={'Environment': {'K': 'v' * 257}})  #<",
      "g.p", "job.Environment.K", "at most 256"),
    T("job_string_parameter_in_integer_field", "TrainingStep(task_id='t', job={'ResourceConfig': {"
      "'InstanceCount': g.parameter('S')}})  #<", "g.t", "job.ResourceConfig.InstanceCount",
      "String parameter 'S' is a string when the pipeline runs"),
    T("job_join_in_integer_field", "TrainingStep(task_id='t', job={'StoppingCondition': {"
      "'MaxRuntimeInSeconds': Join(['1', '2'])}})  #<", "g.t", "job.StoppingCondition.MaxRuntimeInSeconds",
      "Join is a string when the pipeline runs", prelude="    from airflow_sagemaker_mlops import Join"),
    T("job_boolean_as_string", "TrainingStep(task_id='t', job={'EnableManagedSpotTraining': 'true'})  #<", "g.t",
      "job.EnableManagedSpotTraining", "must be a boolean"),
    T("transform_strategy_not_in_enum", "TransformStep(task_id='t', job={'BatchStrategy': 'MultiRecords'})  #<",
      "g.t", "job.BatchStrategy", "did you mean 'MultiRecord'?"),
    T("tuning_strategy_not_in_enum", "TuningStep(task_id='t', job={'HyperParameterTuningJobConfig': {"
      "'Strategy': 'Baysian'}})  #<", "g.t", "job.HyperParameterTuningJobConfig.Strategy", "did you mean 'Bayesian'?"),
    T("model_container_mode_not_in_enum", "CreateModelStep(task_id='m', model={'PrimaryContainer': {"
      "'Mode': 'Single'}})  #<", "g.m", "model.PrimaryContainer.Mode", "did you mean 'SingleModel'?"),
    T("register_approval_status_not_in_enum", "RegisterModelStep(task_id='r', request={"
      "'ModelPackageGroupName': 'grp', 'ModelApprovalStatus': 'Approve'})  #<", "g.r", "request.ModelApprovalStatus",
      "did you mean 'Approved'?"),
    T("register_built_request_bad_content_type", "RegisterModelStep(task_id='r', model_package_group='grp', "
      "image_uri='img', model_data='s3://b/m.tar.gz', content_types=['x' * 257])  #<", "g.r",
      "request.InferenceSpecification.SupportedContentTypes[0]", "at most 256"),
    T("raw_expression_inside_a_join", "ProcessingStep(task_id='p', job={'Environment': {'K': Join(['a', "
      "{'Std:JsonGet': {'Path': 'a'}}])}})  #<", "g.p", "job.Environment.K", "not a valid pipeline expression",
      prelude="    from airflow_sagemaker_mlops import Join"),
    # Parameters: their values and how many a pipeline declares.
    T("reserved_task_id_start", "ProcessingStep(task_id='start', job=JOB)  #<", "g.start", "task_id", "reserved"),
    T("reserved_task_id_wait", "ProcessingStep(task_id='wait', job=JOB)  #<", "g.wait", "task_id", "reserved",
      kwargs="mirror_steps=False"),
    # Wrong keywords to our constructors: the accepted names and the closest one, not a bare TypeError.
    T("keyword_step_own", "ProcessingStep(task_id='p', jobs=JOB)  #<", "g.p", "jobs",
      "ProcessingStep got an unexpected keyword argument 'jobs' (did you mean 'job'?); it takes property_files, job"),
    T("keyword_step_base_operator", "ProcessingStep(task_id='p', job=JOB, retires=2)  #<", "g.p", "retires",
      "'retires' (did you mean 'retries'?)"),
    T("keyword_step_common", "FailStep(task_id='f', error_message='x', step_descripton='d')  #<", "g.f",
      "step_descripton", "(did you mean 'step_description'?)"),
    T("keyword_register_model", "RegisterModelStep(task_id='r', model_package_group='grp', image_uri='img', "
      "model_data='s3://b/m', content_type=['text/csv'])  #<", "g.r", "content_type",
      "(did you mean 'content_types'?)"),
    T("keyword_retry_policy", "ProcessingStep(task_id='p', job=JOB, retry_policies=[RetryPolicy("
      "['Step.THROTTLING'], max_attemps=3)])  #<", None, "max_attemps",
      "RetryPolicy got an unexpected keyword argument 'max_attemps' (did you mean 'max_attempts'?); it takes "
      "exception_types, interval_seconds, backoff_rate, max_attempts, expire_after_minutes"),
    T("keyword_cache_config", "ProcessingStep(task_id='p', job=JOB, cache=CacheConfig(expires_after='P1D'))  #<",
      None, "expires_after", "(did you mean 'expire_after'?); it takes enabled, expire_after"),
    T("keyword_property_file", "ProcessingStep(task_id='p', job=JOB, property_files=[PropertyFile("
      "'m', output='out', path='m.json')])  #<", None, "output", "(did you mean 'output_name'?)"),
    T("keyword_join", "FailStep(task_id='f', error_message=Join(valus=['a']))  #<", None, "valus",
      "Join got an unexpected keyword argument 'valus' (did you mean 'values'?); it takes values, on",
      prelude="    from airflow_sagemaker_mlops import Join"),
    # (a group's argument is built before the group exists: no group to name)
    G("keyword_parameter", "parameters={'Q': PipelineParameter.string(defualt='a')}", "defualt",
      "PipelineParameter.string got an unexpected keyword argument 'defualt' (did you mean 'default'?)", group=None),
    G("keyword_experiment_config", "experiment_config=ExperimentConfig(experiment='e')", "experiment",
      "(did you mean 'experiment_name'?); it takes experiment_name, trial_name", group=None),
    G("keyword_group_own", "max_paralel_steps=2", "max_paralel_steps", "(did you mean 'max_parallel_steps'?)"),
    G("keyword_group_task_group", "tooltp='x'", "tooltp",
      "(did you mean 'tooltip'?); it takes group_id, pipeline_name"),
    T("keyword_condition", "ConditionStep(task_id='c', condition=C.eq(left=1, rigth=2))  #<", None, "rigth",
      "eq got an unexpected keyword argument 'rigth' (did you mean 'right'?); it takes left, right"),
    T("keyword_lifecycle_operator", "pass", "s", "pipline",
      "SageMakerStartPipelineExecutionOperator got an unexpected keyword argument 'pipline' (did you mean "
      "'pipeline'?)", group=None, prelude="    from airflow_sagemaker_mlops import "
      "SageMakerStartPipelineExecutionOperator\n    SageMakerStartPipelineExecutionOperator(task_id='s', "
      "pipline='p')  #<"),
]


def _module_source(case: Case) -> tuple[str, int]:
    body = textwrap.indent(textwrap.dedent(case.body), " " * 8)
    prelude = case.prelude or "    pass"
    kwargs = case.kwargs
    source = TEMPLATE
    for own in ("parameters", "pipeline_name"):  # the case gives its own
        if f"{own}=" in kwargs:
            source = source.replace(f"{own}=P, " if own == "parameters" else 'pipeline_name="p", ', "")
    source = source.format(prelude=prelude, kwargs=kwargs, body=body)
    lines = source.splitlines()
    marked = [i for i, line in enumerate(lines, 1) if line.rstrip().endswith("#<")]
    if not marked:
        marked = [i for i, line in enumerate(lines, 1) if line.endswith("# group line")]
    assert len(marked) == 1, case.id
    return source, marked[0]


def import_dag_file(path: Path) -> None:
    module_name = "bad_dag_" + hashlib.sha1(str(path).encode()).hexdigest()
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(module_name, None)


def test_the_table_has_enough_kinds():
    assert len(CASES) >= 120
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_dag_names_file_line_group_task_and_field(case: Case, tmp_path: Path):
    source, line = _module_source(case)
    dags = tmp_path / "airflow" / "dags"  # the shape of ~/airflow/dags and MWAA's /usr/local/airflow/dags
    dags.mkdir(parents=True)
    path = dags / f"{case.id}.py"
    path.write_text(source)
    with pytest.raises(Exception) as info:
        import_dag_file(path)
    error = info.value
    if case.id == "nested_task_group" and not AIRFLOW_V3:
        # Airflow 2.11 attaches a nested TaskGroup to its parent without a frame of the user's: the error
        # names the pipeline group's own line, the line above.
        line -= 1
    assert type(error) is PipelineCompileError or isinstance(error, PipelineCompileError), repr(error)
    assert (error.dag_file, error.lineno) == (str(path), line), str(error)
    assert str(error).startswith(f"{path}:{line}: DAG 'bad_dag', "), str(error)
    assert error.dag_id == "bad_dag"
    assert (error.group_id, error.task_id, error.field) == (case.group, case.task, case.field), str(error)
    assert case.why in error.problem, str(error)
    assert "\n" not in str(error)


def test_a_plain_dag_folder_path_is_named_too(tmp_path: Path):
    path = tmp_path / "dags" / "plain.py"
    path.parent.mkdir()
    source, line = _module_source(CASES[0])
    path.write_text(source)
    with pytest.raises(PipelineCompileError) as info:
        import_dag_file(path)
    assert str(info.value).startswith(f"{path}:{line}: DAG 'bad_dag', group 'g', field pipeline_name: ")
