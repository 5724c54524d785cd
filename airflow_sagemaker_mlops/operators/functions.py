"""Python function steps and notebook steps: code from the DAG folder run as a SageMaker Processing job.

``@sagemaker_step(image=..., instance_type=..., s3_root_uri=...)`` (also ``@task.sagemaker(...)``, registered
through the provider's ``task-decorators``) turns a function into a step factory: calling it inside a
``SageMakerPipelineGroup`` adds a :class:`FunctionStep` and returns its :class:`StepResult`, which later
steps take as an argument (another function step: the result file is mounted as an input), as a value
(``JsonGet`` of the step's ``result`` property file: conditions, other steps' requests) or, through
``result.xcom``, downstream Airflow tasks. :class:`NotebookStep` runs a ``.ipynb`` the same way with
papermill-style parameters, and writes the executed notebook and its HTML to S3.

Why Processing jobs and not Training jobs (which SageMaker SDK v3's ``@step`` and ``NotebookJobStep`` use):
a Processing job's outputs are uploaded as plain files, so the result is a PropertyFile SageMaker itself
reads with ``JsonGet`` and the notebook and its HTML are S3 objects one can open (a Training job tars
``/opt/ml/output/data``); the runner then needs neither boto3 nor S3 access, only Python. What Training
jobs have and this gives up: managed spot, warm pools, metric definitions.

Parse time stays cheap: the function's source is read from its file in the DAG folder (as ``@task.virtualenv``
does, the function must be self-contained: imports inside its body), hashed and referenced by the
definition; the start task uploads it. Nothing touches the network or the SageMaker SDK.
"""

from __future__ import annotations

import ast
import builtins
import dis
import inspect
import json
import os
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType
from typing import Any, ClassVar

from airflow_sagemaker_mlops.compiler.assets import _files
from airflow_sagemaker_mlops.compiler.bundles import CodeBundle
from airflow_sagemaker_mlops.definition.expressions import (
    Execution,
    Expression,
    Join,
    PropertyFileRef,
)
from airflow_sagemaker_mlops.definition.expressions import JsonGet as _JsonGet
from airflow_sagemaker_mlops.definition.steps import PropertyFile
from airflow_sagemaker_mlops.exceptions import PipelineCompileError, PipelineDefinitionError
from airflow_sagemaker_mlops.location import current_dag_and_group, located, user_site
from airflow_sagemaker_mlops.operators.failures import one_frame
from airflow_sagemaker_mlops.operators.steps import ProcessingStep

RUNNER_FILE = "_sagemaker_mlops_runner.py"
MANIFEST_FILE = "manifest.json"
CODE_DIR = "/opt/ml/processing/input/code"
RESULT_DIR = "/opt/ml/processing/output/result"
RESULT_OUTPUT = "result"
RESULT_PROPERTY_FILE = "result"
RESULT_FILE = "result.json"
RETURN_KEY = "Result"
DEFAULT_INSTANCE_TYPE = "ml.m5.large"
DEFAULT_VOLUME_GB = 30
DEFAULT_MAX_RUNTIME = 86400  # SageMaker SDK v3's @step default (24 h)
#: ContainerArguments: at most 100 items (each `--value N v:...` takes three).
MAX_RUNTIME_VALUES = 30


def _runner_source() -> bytes:
    return (Path(__file__).resolve().parent.parent / "compiler" / "job_runner.py").read_bytes()


# ---- the result of a function step -----------------------------------------------------------------


@dataclass(frozen=True)
class StepResult(_JsonGet):
    """A function step's return value (or a part of it: ``result["auc"]``, ``result[0]``).

    As a value it is ``JsonGet`` of the step's ``result`` property file at ``Result['auc']`` (the path
    SageMaker SDK v3's ``@step`` results use); passed to another function step it is read from the result
    file itself (JSON in full, any size). ``result.xcom`` is the step task's XCom return value (the whole
    return value) for downstream Airflow tasks; ``a >> b`` orders steps as with ``@task``.

    Made by calling a ``@sagemaker_step`` function inside a group, not by hand.

    Args:
        path: the JsonGet path in the result file (``Result['auc']``).
        property_file: the producing step's ``result`` property file.
        s3_uri: unused here (JsonGet's S3 form).
        producer: the FunctionStep (or NotebookStep) that returns the value.
        keys: the keys and indexes taken so far (``("auc",)``).
    """

    producer: Any = field(default=None, compare=False, repr=False)
    keys: tuple[str | int, ...] = ()

    def __getitem__(self, key: str | int) -> StepResult:
        if isinstance(key, bool) or not isinstance(key, str | int):
            raise located(PipelineDefinitionError(
                f"a function result is indexed by a string key or an integer, got {key!r}",
                field=f"{self.producer.task_id}[{key!r}]"))
        keys = (*self.keys, key)
        return StepResult(result_path(keys), property_file=self.property_file, producer=self.producer, keys=keys)

    def __iter__(self) -> Any:
        raise TypeError(f"the result of {self.producer.task_id!r} is only known at run time: index it "
                        "(result['key'], result[0]) instead of unpacking it")

    @property
    def step(self) -> FunctionStep:
        """The step that returns this value."""
        return self.producer

    @property
    def xcom(self) -> Any:
        """The step task's return value (the whole result) as an XComArg, for Airflow tasks after the group."""
        if self.keys:
            raise located(PipelineDefinitionError(
                f"{self.producer.task_id}{''.join(f'[{k!r}]' for k in self.keys)}.xcom: XCom holds the whole "
                f"return value; pass {self.producer.task_id}'s result.xcom and index it in the task",
                field="xcom"))
        return self.producer.output

    def __rshift__(self, other: Any) -> Any:
        return self.producer >> (other.producer if isinstance(other, StepResult) else other)

    def __lshift__(self, other: Any) -> Any:
        return self.producer << (other.producer if isinstance(other, StepResult) else other)

    def __rrshift__(self, other: Any) -> Any:
        other >> self.producer
        return self

    def __rlshift__(self, other: Any) -> Any:
        other << self.producer
        return self


def result_path(keys: Iterable[str | int]) -> str:
    """The JsonGet path of a part of a result: ``Result['auc']``, ``Result[0]`` (SDK v3's form)."""
    path = RETURN_KEY
    for key in keys:
        path += f"[{key}]" if isinstance(key, int) else f"['{key}']"
    return path


# ---- arguments -> templates and ContainerArguments ----------------------------------------------------


@dataclass
class _Arguments:
    """What the compiler turns a call's arguments into: the runner's templates, the run-time values (as
    ``--value N v:<expr>`` ContainerArguments) and the inputs (other function steps' result outputs)."""

    owner: str
    values: list[tuple[Expression, str]] = field(default_factory=list)
    inputs: dict[str, Any] = field(default_factory=dict)  # input name -> producing FunctionStep

    def template(self, value: Any, where: str) -> Any:
        from airflow_sagemaker_mlops.compat import XComArg

        if isinstance(value, StepResult):
            producer = value.producer
            name = f"fn-{producer.step_name}"[:64]
            self.inputs[name] = producer
            return {"$sm": "result", "step": producer.step_name, "keys": list(value.keys),
                    "path": f"/opt/ml/processing/input/{name}/{RESULT_FILE}"}
        if isinstance(value, XComArg):
            raise PipelineDefinitionError(
                "an XCom value cannot be a step's argument (the pipeline definition is the same for every run): "
                "declare a pipeline parameter, pass group.parameter(...) here and the XCom through the group's "
                "parameter_values", field=where)
        if isinstance(value, Expression):
            if len(self.values) >= MAX_RUNTIME_VALUES:
                raise PipelineDefinitionError(
                    f"at most {MAX_RUNTIME_VALUES} run-time values (parameters, properties) per step: "
                    "SageMaker takes 100 ContainerArguments", field=where)
            type_name = value.type_name  # known for parameters, Join, execution variables; else Auto
            self.values.append((value, type_name or "Auto"))
            return {"$sm": "value", "index": len(self.values) - 1, "type": type_name or "Auto"}
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if not isinstance(key, str):
                    raise PipelineDefinitionError(f"dict keys must be strings (JSON), got {key!r}", field=where)
                out[key] = self.template(item, f"{where}[{key!r}]")
            return {"$sm": "literal", "value": out} if "$sm" in out else out
        if isinstance(value, list | tuple):
            return [self.template(item, f"{where}[{i}]") for i, item in enumerate(value)]
        if value is None or isinstance(value, str | bool | int | float):
            try:
                json.dumps(value, allow_nan=False)
            except ValueError:
                raise PipelineDefinitionError(f"{value!r} is not a JSON number", field=where) from None
            return value
        raise PipelineDefinitionError(
            f"{type(value).__name__} cannot be a step's argument: use JSON values (str, int, float, bool, None, "
            "dict, list), pipeline parameters, step properties or other function steps' results", field=where)

    def container_arguments(self) -> list[Any]:
        arguments: list[Any] = ["--manifest", f"{CODE_DIR}/{MANIFEST_FILE}"]
        for i, (expr, _) in enumerate(self.values):
            # "v:" + the value as text, as the SDK's to_string() does for typed values (a Join), and so that
            # an empty string or one starting with "--" stays one argument.
            arguments += ["--value", str(i), Join(["v:", expr])]
        return arguments


# ---- reading the function -------------------------------------------------------------------------------


def function_source(fn: Callable[..., Any]) -> str:
    """The function's own source, dedented, without its decorators, read from its file (DAG folder)."""
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError) as exc:
        raise PipelineDefinitionError(f"cannot read the source of {getattr(fn, '__name__', fn)!r}: {exc}; "
                                      "function steps ship the function's source from its file") from None
    tree = ast.parse(source)
    node = next((n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)), None)
    if node is None or node.name != fn.__name__:
        raise PipelineDefinitionError(f"{fn.__name__!r} is not a plain def: function steps need a named function")
    if isinstance(node, ast.AsyncFunctionDef):
        raise PipelineDefinitionError(f"{fn.__name__!r} is async; a function step runs a plain function")
    lines = source.splitlines(keepends=True)
    return "".join(lines[node.lineno - 1:])


def _global_names(code: CodeType) -> set[str]:
    names = {i.argval for i in dis.get_instructions(code) if i.opname in ("LOAD_GLOBAL", "LOAD_NAME")}
    for const in code.co_consts:
        if isinstance(const, CodeType):
            names |= _global_names(const)
    return names


def check_self_contained(fn: Callable[..., Any]) -> None:
    """The function runs alone in its job (as with ``@task.virtualenv``): no closures, no module-level names."""
    if fn.__code__.co_freevars:
        raise PipelineDefinitionError(
            f"{fn.__name__!r} is a closure (uses {', '.join(fn.__code__.co_freevars)} of an enclosing function); "
            "a function step ships only its own source: define it at module level")
    unknown = sorted(n for n in _global_names(fn.__code__) if n != fn.__name__ and not hasattr(builtins, n))
    if unknown:
        raise PipelineDefinitionError(
            f"{fn.__name__!r} uses module-level name(s) {', '.join(unknown)}, which do not exist where it runs: "
            "a function step ships only the function's source (as @task.virtualenv does), so import modules "
            "inside the function, pass values as arguments, and put shared helpers in source_dir=")


def _requirements(requirements: str | Iterable[str] | None, base: str) -> bytes | None:
    if requirements is None:
        return None
    if isinstance(requirements, str):
        path = requirements if os.path.isabs(requirements) else os.path.join(base, requirements)
        if not os.path.isfile(path):
            raise PipelineDefinitionError(f"requirements file {requirements!r} does not exist ({path})",
                                          field="requirements")
        return Path(path).read_bytes()
    items = list(requirements)
    if not all(isinstance(r, str) and r.strip() for r in items):
        raise PipelineDefinitionError("requirements takes a requirements.txt path or a list of requirement "
                                      "strings", field="requirements")
    return ("\n".join(items) + "\n").encode()


def _source_files(source_dir: str | None, base: str) -> dict[str, bytes]:
    if source_dir is None:
        return {}
    root = source_dir if os.path.isabs(source_dir) else os.path.join(base, source_dir)
    if not os.path.isdir(root):
        raise PipelineDefinitionError(f"source_dir {source_dir!r} is not a directory ({root})", field="source_dir")
    return {"src/" + os.path.relpath(p, root).replace(os.sep, "/"): Path(p).read_bytes() for p in _files(root)}


def _s3_root(s3_root_uri: Any) -> tuple[str, str]:
    if not isinstance(s3_root_uri, str) or not s3_root_uri.startswith("s3://") or len(s3_root_uri) <= 5:
        raise PipelineDefinitionError(
            f"s3_root_uri must be an s3://bucket[/prefix] string known at parse time, got {s3_root_uri!r}: the "
            "step's code is uploaded there and its results written below it", field="s3_root_uri")
    bucket, _, prefix = s3_root_uri[5:].partition("/")
    return bucket, prefix.strip("/")


# ---- the steps ------------------------------------------------------------------------------------------


class _RunnerStep(ProcessingStep):
    """A Processing step whose code is our runner plus a generated bundle (function or notebook)."""

    #: Files the job writes besides result.json (under the result output), for XCom: key -> file name.
    output_files: ClassVar[dict[str, str]] = {}

    def _build_job(self, *, bundle_files: dict[str, bytes], manifest: dict[str, Any], arguments: _Arguments,
                   described: str, image: Any, instance_type: Any, instance_count: int, volume_size_gb: int,
                   s3_root_uri: Any, role: Any, environment: dict[str, Any] | None, max_runtime_seconds: int,
                   group: Any) -> dict[str, Any]:
        if image is None:
            raise PipelineDefinitionError("image is required: the container image the job runs (any image with "
                                          "Python 3 and the packages the code imports)", field="image")
        bucket, prefix = _s3_root(s3_root_uri)
        role = role if role is not None else getattr(group, "role_arn", None)
        if role is None:
            raise PipelineDefinitionError("role is required (or set role_arn on the group): the job's execution "
                                          "role", field="role")
        manifest = {**manifest, "output": RESULT_DIR}
        files = {**bundle_files, RUNNER_FILE: _runner_source(),
                 MANIFEST_FILE: json.dumps(manifest, sort_keys=True, indent=1).encode()}
        self.code_bundle = CodeBundle(files, bucket=bucket, prefix="/".join(p for p in (prefix, "code") if p),
                                      described=described)
        inputs = [_s3_input("code", self.code_bundle, CODE_DIR)]
        for name, producer in arguments.inputs.items():
            uri = producer.properties.ProcessingOutputConfig.Outputs[RESULT_OUTPUT].S3Output.S3Uri
            inputs.append(_s3_input(name, uri, f"/opt/ml/processing/input/{name}"))
        root = f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"
        output_uri = Join([root, Execution.PipelineName, Execution.PipelineExecutionId, self.step_name,
                           RESULT_OUTPUT], on="/")
        job: dict[str, Any] = {
            "ProcessingResources": {"ClusterConfig": {"InstanceCount": instance_count, "InstanceType": instance_type,
                                                      "VolumeSizeInGB": volume_size_gb}},
            "AppSpecification": {"ImageUri": image, "ContainerEntrypoint": ["python3", f"{CODE_DIR}/{RUNNER_FILE}"],
                                 "ContainerArguments": arguments.container_arguments()},
            "RoleArn": role,
            "ProcessingInputs": inputs,
            "ProcessingOutputConfig": {"Outputs": [{
                "OutputName": RESULT_OUTPUT, "AppManaged": False,
                "S3Output": {"S3Uri": output_uri, "LocalPath": RESULT_DIR, "S3UploadMode": "EndOfJob"}}]},
            "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime_seconds},
        }
        if environment:
            if not isinstance(environment, dict):
                raise PipelineDefinitionError("environment takes a dict of name -> value", field="environment")
            job["Environment"] = dict(environment)
        return job

    def property_files(self) -> list[PropertyFile]:
        return [*super().property_files(), PropertyFile(RESULT_PROPERTY_FILE, RESULT_OUTPUT, RESULT_FILE)]

    def result_ref(self) -> StepResult:
        ref = PropertyFileRef(self.step_name, RESULT_PROPERTY_FILE, origin=self)
        return StepResult(RETURN_KEY, property_file=ref, producer=self)

    # -- run time: the task's return value is the step's result, read from S3 through the hook ---------
    @one_frame
    def execute(self, context: Any) -> Any:
        super().execute(context)
        return self._result(context)

    @one_frame
    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        super().execute_complete(context, event)
        return self._result(context)

    def _result(self, context: Any) -> Any:
        from airflow_sagemaker_mlops.compat import xcom_push
        from airflow_sagemaker_mlops.operators.observability import read_property_files
        from airflow_sagemaker_mlops.operators.runtime import pipeline_settings, pipelines_hook

        hook = pipelines_hook(pipeline_settings(self).aws)
        outputs = hook.step_outputs(self.sagemaker_step or {})
        base = (outputs.get("ProcessingOutputs") or {}).get(RESULT_OUTPUT)
        for key, name in self.output_files.items():
            if base:
                xcom_push(context["ti"], key, f"{base.rstrip('/')}/{name}")
        files = read_property_files(self, outputs, hook)
        if RESULT_PROPERTY_FILE not in files:
            raise PipelineDefinitionError(f"step {self.step_name!r} succeeded but its result file could not be "
                                          f"read from {base}/{RESULT_FILE}")
        value = files[RESULT_PROPERTY_FILE].get(RETURN_KEY)
        self.log.info("Result of %s: %s", self.step_name, json.dumps(value)[:1000])
        return value


def _s3_input(name: str, uri: Any, local: str) -> dict[str, Any]:
    return {"InputName": name, "AppManaged": False,
            "S3Input": {"S3Uri": uri, "LocalPath": local, "S3DataType": "S3Prefix", "S3InputMode": "File",
                        "S3DataDistributionType": "FullyReplicated"}}


_JOB_OPTIONS = ("image", "instance_type", "instance_count", "volume_size_gb", "s3_root_uri", "role",
                "environment", "requirements", "source_dir", "max_runtime_seconds")


class FunctionStep(_RunnerStep):
    """A Processing step that calls ``function(*args, **kwargs)`` with our runner; made by ``@sagemaker_step``.

    Args:
        function: a module-level, self-contained function (imports inside its body).
        args: positional arguments: JSON values, pipeline parameters, step properties, ``Join``/``JsonGet``,
            other function steps' results (or parts of them), nested in lists and dicts.
        kwargs: keyword arguments, the same kinds.
        image: the container image (any image with Python 3 and what the function imports).
        instance_type: ``ml.m5.large`` by default.
        instance_count: 1 by default (the function runs on the first instance only).
        volume_size_gb: 30 by default (the SDK's).
        s3_root_uri: ``s3://bucket[/prefix]``: the code goes to ``<root>/code/<sha256>/``, the result to
            ``<root>/<pipeline>/<execution id>/<step>/result/result.json``.
        role: the job's role (default: the group's ``role_arn``).
        environment: the job's ``Environment`` (values may be expressions).
        requirements: a requirements.txt path (relative to the function's file) or a list of requirement
            strings; the runner pip-installs the ones the image lacks (never on the local engine).
        source_dir: a directory (relative to the function's file) shipped with the function and put on
            ``sys.path``, for helper modules it imports.
        max_runtime_seconds: ``StoppingCondition.MaxRuntimeInSeconds`` (default 86400, the SDK's).
    """

    def __init__(self, *, function: Callable[..., Any], args: Iterable[Any] = (), kwargs: dict[str, Any] | None = None,
                 image: Any = None, instance_type: Any = DEFAULT_INSTANCE_TYPE, instance_count: int = 1,
                 volume_size_gb: int = DEFAULT_VOLUME_GB, s3_root_uri: Any = None, role: Any = None,
                 environment: dict[str, Any] | None = None, requirements: str | Iterable[str] | None = None,
                 source_dir: str | None = None, max_runtime_seconds: int = DEFAULT_MAX_RUNTIME,
                 **step_kwargs: Any) -> None:
        self.definition_site = user_site()
        if not callable(function) or not hasattr(function, "__code__"):
            raise PipelineDefinitionError(f"function must be a Python function, got {type(function).__name__}",
                                          field="function")
        check_self_contained(function)
        source = function_source(function)
        base = os.path.dirname(os.path.abspath(inspect.getsourcefile(function) or "."))
        _, group = current_dag_and_group()
        group = step_kwargs.get("task_group") or group
        # The job needs its name (the step name) first, then the arguments reference the step itself.
        super().__init__(job={}, **step_kwargs)
        arguments = _Arguments(self.task_id)
        templates = [arguments.template(a, f"args[{i}]") for i, a in enumerate(args)]
        keyword_templates = {k: arguments.template(v, f"kwargs[{k!r}]") for k, v in (kwargs or {}).items()}
        module_name = f"{function.__name__}.py"
        files = {module_name: f"# {function.__name__} from {os.path.basename(inspect.getsourcefile(function) or '')}"
                              f", shipped by airflow-sagemaker-mlops\n{source}".encode()}
        files.update(_source_files(source_dir, base))
        reqs = _requirements(requirements, base)
        if reqs is not None:
            files["requirements.txt"] = reqs
        manifest = {"kind": "function", "module": module_name, "function": function.__name__,
                    "args": templates, "kwargs": keyword_templates,
                    "requirements": "requirements.txt" if reqs is not None else None,
                    "source_dir": "src" if source_dir is not None else None}
        self.function = function
        self.job = self._build_job(bundle_files=files, manifest=manifest, arguments=arguments,
                                   described=f"function {function.__name__}", image=image,
                                   instance_type=instance_type, instance_count=instance_count,
                                   volume_size_gb=volume_size_gb, s3_root_uri=s3_root_uri, role=role,
                                   environment=environment, max_runtime_seconds=max_runtime_seconds, group=group)
        self.result = self.result_ref()


class NotebookStep(_RunnerStep):
    """A Processing step that executes a Jupyter notebook from the DAG folder with ``parameters``.

    The parameters are injected as a cell after the one tagged ``parameters`` (papermill's convention; at
    the top when no cell has the tag). Our runner executes the code cells with plain Python (``!command``
    lines through the shell; IPython magics are not supported) and writes ``<name>.ipynb`` (executed, with
    outputs) and ``<name>.html`` to the step's ``result`` output, also when a cell fails. XCom:
    ``output_notebook`` and ``output_html`` (S3 URIs) and, as the return value, the ``outputs`` variables.

    Args:
        notebook: the ``.ipynb`` path, relative to the DAG file.
        parameters: name -> value (JSON values or pipeline expressions, resolved at run time).
        outputs: names of variables the notebook defines, returned as the step's result
            (``nb.result["accuracy"]`` for later steps, ``JsonGet``-able).
        image: the container image (any image with Python 3 and what the notebook imports).
        instance_type: ``ml.m5.large`` by default.
        instance_count: 1 by default (the notebook runs on the first instance only).
        volume_size_gb: 30 by default (the SDK's).
        s3_root_uri: ``s3://bucket[/prefix]``: the code goes to ``<root>/code/<sha256>/``, the outputs to
            ``<root>/<pipeline>/<execution id>/<step>/result/``.
        role: the job's role (default: the group's ``role_arn``).
        environment: the job's ``Environment`` (values may be expressions).
        requirements: a requirements.txt path (relative to the DAG file) or a list of requirement
            strings; the runner pip-installs the ones the image lacks (never on the local engine).
        source_dir: a directory (relative to the DAG file) shipped with the notebook: its working directory,
            on ``sys.path``, for helper modules it imports.
        max_runtime_seconds: ``StoppingCondition.MaxRuntimeInSeconds`` (default 86400, the SDK's).
    """

    output_files: ClassVar[dict[str, str]] = {}

    def __init__(self, *, notebook: str, parameters: dict[str, Any] | None = None,
                 outputs: Iterable[str] | None = None, image: Any = None,
                 instance_type: Any = DEFAULT_INSTANCE_TYPE, instance_count: int = 1,
                 volume_size_gb: int = DEFAULT_VOLUME_GB, s3_root_uri: Any = None, role: Any = None,
                 environment: dict[str, Any] | None = None, requirements: str | Iterable[str] | None = None,
                 source_dir: str | None = None, max_runtime_seconds: int = DEFAULT_MAX_RUNTIME,
                 **step_kwargs: Any) -> None:
        self.definition_site = site = user_site()
        _, group = current_dag_and_group()
        group = step_kwargs.get("task_group") or group
        base = os.path.dirname(os.path.abspath(site[0])) if site else os.getcwd()
        super().__init__(job={}, **step_kwargs)
        path = notebook if os.path.isabs(notebook) else os.path.join(base, notebook)
        if not isinstance(notebook, str) or not notebook.endswith(".ipynb") or not os.path.isfile(path):
            raise PipelineDefinitionError(f"notebook {notebook!r} is not an .ipynb file ({path})", field="notebook")
        content = Path(path).read_bytes()
        try:
            parsed = json.loads(content)
            if not isinstance(parsed.get("cells"), list):
                raise ValueError("no cells")
        except ValueError as exc:
            raise PipelineDefinitionError(f"notebook {notebook!r} is not a Jupyter notebook (nbformat 4 JSON): "
                                          f"{exc}", field="notebook") from None
        if parameters is not None and not isinstance(parameters, dict):
            raise PipelineDefinitionError("parameters takes a dict of name -> value", field="parameters")
        for name in parameters or {}:
            if not isinstance(name, str) or not name.isidentifier():
                raise PipelineDefinitionError(f"parameter {name!r} is not a Python identifier", field="parameters")
        names = list(outputs or [])
        if isinstance(outputs, str) or not all(isinstance(n, str) and n.isidentifier() for n in names):
            raise PipelineDefinitionError("outputs takes a list of variable names", field="outputs")
        arguments = _Arguments(self.task_id)
        templates = {k: arguments.template(v, f"parameters[{k!r}]") for k, v in (parameters or {}).items()}
        name = os.path.basename(path)
        files = {name: content, **_source_files(source_dir, base)}
        reqs = _requirements(requirements, base)
        if reqs is not None:
            files["requirements.txt"] = reqs
        manifest = {"kind": "notebook", "notebook": name, "parameters": templates, "outputs": names,
                    "requirements": "requirements.txt" if reqs is not None else None,
                    "source_dir": "src" if source_dir is not None else None}
        stem = os.path.splitext(name)[0]
        self.output_files = {"output_notebook": f"{stem}.ipynb", "output_html": f"{stem}.html"}
        self.notebook = notebook
        self.parameters = dict(parameters or {})
        self.job = self._build_job(bundle_files=files, manifest=manifest, arguments=arguments,
                                   described=f"notebook {name}", image=image, instance_type=instance_type,
                                   instance_count=instance_count, volume_size_gb=volume_size_gb,
                                   s3_root_uri=s3_root_uri, role=role, environment=environment,
                                   max_runtime_seconds=max_runtime_seconds, group=group)
        self.result = self.result_ref()

    def _output_uri(self, file: str) -> Join:
        return Join([self.properties.ProcessingOutputConfig.Outputs[RESULT_OUTPUT].S3Output.S3Uri, file], on="/")

    @property
    def notebook_uri(self) -> Join:
        """The executed notebook's S3 URI, as a pipeline value."""
        return self._output_uri(self.output_files["output_notebook"])

    @property
    def html_uri(self) -> Join:
        """The executed notebook's HTML, as a pipeline value."""
        return self._output_uri(self.output_files["output_html"])


# ---- the decorator --------------------------------------------------------------------------------------


class SageMakerFunction:
    """What ``@sagemaker_step(...)`` makes of a function: calling it inside a SageMakerPipelineGroup adds a
    :class:`FunctionStep` and returns its :class:`StepResult`. ``.function`` is the plain function (for
    unit tests); ``.override(task_id=..., instance_type=..., ...)`` changes options for one call, as with
    ``@task``."""

    def __init__(self, function: Callable[..., Any], options: dict[str, Any]) -> None:
        self.function = function
        self.options = options
        self.__name__ = function.__name__
        self.__doc__ = function.__doc__
        self.__wrapped__ = function

    def override(self, **options: Any) -> SageMakerFunction:
        return SageMakerFunction(self.function, {**self.options, **options})

    def __call__(self, *args: Any, **kwargs: Any) -> StepResult:
        dag, group = current_dag_and_group()
        if group is None or not hasattr(group, "pipeline_name"):
            raise located(
                f"{self.function.__name__}() is a SageMaker function step: call it inside a "
                "`with SageMakerPipelineGroup(...)` block (its code runs as a pipeline step). To run it in "
                "Airflow instead, decorate it with @task", site=user_site())
        options = dict(self.options)
        task_id = options.pop("task_id", None) or _unique_task_id(dag, group, self.function.__name__)
        try:
            step = FunctionStep(task_id=task_id, function=self.function, args=args, kwargs=kwargs, **options)
        except PipelineCompileError:
            raise
        return step.result

    def __repr__(self) -> str:
        return f"<SageMaker function step {self.function.__name__}>"


def _unique_task_id(dag: Any, group: Any, name: str) -> str:
    """``name``, or ``name__1``, ``name__2``, ... when the group has it already (as Airflow's @task does)."""
    taken = set(getattr(dag, "task_dict", {}) or {})
    candidate, n = name, 0
    while group.child_id(candidate) in taken:
        n += 1
        candidate = f"{name}__{n}"
    return candidate


def sagemaker_step(function: Callable[..., Any] | None = None, **options: Any) -> Any:
    """Decorator: run the function as a SageMaker pipeline step (a Processing job with our runner).

    ``@sagemaker_step(image=IMAGE, s3_root_uri="s3://bucket/prefix", instance_type="ml.m5.large",
    requirements=["numpy"], environment={...})``; also registered as ``@task.sagemaker(...)``. Options are
    :class:`FunctionStep`'s, plus the step options (``task_id``, ``step_name``, ``retry_policies``,
    ``cache``, ``display_name``, ...). See docs/function-steps.md.

    Args:
        function: the function, when used bare (``@sagemaker_step``) rather than called with options.
        **options: FunctionStep's job options and the step options.
    """
    unknown = sorted(set(options) - set(_JOB_OPTIONS) - _STEP_OPTIONS)
    if unknown:
        import difflib

        known = sorted({*_JOB_OPTIONS, *_STEP_OPTIONS})
        hints = [f"{u!r}" + (f" (did you mean {close[0]!r}?)" if (close := difflib.get_close_matches(u, known, 1))
                             else "") for u in unknown]
        raise located(f"sagemaker_step got unknown option(s) {', '.join(hints)}; it takes {', '.join(known)}",
                      site=user_site(), field="sagemaker_step")

    def decorate(fn: Callable[..., Any]) -> SageMakerFunction:
        return SageMakerFunction(fn, options)

    return decorate(function) if function is not None else decorate


#: Options every step takes (SageMakerStepOperator) and BaseOperator ones that make sense on a step.
_STEP_OPTIONS = {"task_id", "step_name", "display_name", "step_description", "retry_policies", "cache",
                 "run_after_outcome", "property_files", "doc_md", "owner", "execution_timeout"}
