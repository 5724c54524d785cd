"""Generate ``airflow_sagemaker_mlops/definition/limits.json``: the limits botocore's SageMaker model states
for the values a SageMakerPipelineGroup emits (names, lengths, patterns, counts, integer bounds).

The compiler checks them at DAG parse time, where importing botocore and loading its sagemaker model would
cost about a second; the JSON costs a millisecond. Limits botocore does not state (the definition schema's own
rules: retry policy bounds, condition shapes, Lambda and SQS ARNs) live in the code that checks them, each
with its source in the table of docs/troubleshooting.md.

Output format::

    {"botocore": "<version>",
     "limits": {"<limit name>": {"source": "<Shape>.<member>", "type": "string" | "integer" | "list",
                                 "min": n, "max": n, "pattern": "<botocore pattern>"}, ...}}

``pattern`` is botocore's (implicitly anchored at both ends; ``\\p{L}``-style classes are Unicode categories).

It also generates ``airflow_sagemaker_mlops/definition/request_shapes.json``: the request shape of each step
type whose ``Arguments`` are a SageMaker API request (``REQUESTS``), with every structure, list, map and
scalar those requests reach, so ``definition/requests.py`` checks the fields inside ``job=``, ``model=`` and
``request=`` at parse time::

    {"botocore": "<version>",
     "requests": {"<step Type>": {"operation": "<API operation>", "shape": "<input shape>",
                                  "filled": ["<member SageMaker fills in>", ...]}, ...},
     "shapes": {"<shape>": {"type": "structure", "members": {"<member>": "<shape>"}, "required": [...]}
                         | {"type": "list", "member": "<shape>", "min": n, "max": n}
                         | {"type": "map", "key": "<shape>", "value": "<shape>", "min": n, "max": n}
                         | {"type": "string", "min": n, "max": n, "pattern": "...", "enum": [...]}
                         | {"type": "integer" | "float", "min": n, "max": n}
                         | {"type": "boolean" | "timestamp" | "blob" | "any"}, ...}}

Usage: python tools/gen_limits.py [--output PATH] [--requests-output PATH] [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import botocore
import botocore.session

DEFINITION = Path(__file__).resolve().parent.parent / "airflow_sagemaker_mlops" / "definition"
DEFAULT_OUTPUT = DEFINITION / "limits.json"
DEFAULT_REQUESTS_OUTPUT = DEFINITION / "request_shapes.json"

#: limit name -> (structure, member) in botocore's sagemaker model.
LIMITS: dict[str, tuple[str, str]] = {
    "PipelineName": ("CreatePipelineRequest", "PipelineName"),
    "PipelineDisplayName": ("CreatePipelineRequest", "PipelineDisplayName"),
    "PipelineDescription": ("CreatePipelineRequest", "PipelineDescription"),
    "PipelineDefinition": ("CreatePipelineRequest", "PipelineDefinition"),
    "RoleArn": ("CreatePipelineRequest", "RoleArn"),
    "Tags": ("CreatePipelineRequest", "Tags"),
    "TagKey": ("Tag", "Key"),
    "TagValue": ("Tag", "Value"),
    "MaxParallelExecutionSteps": ("ParallelismConfiguration", "MaxParallelExecutionSteps"),
    "PipelineParameters": ("StartPipelineExecutionRequest", "PipelineParameters"),
    "ParameterName": ("Parameter", "Name"),
    "ParameterValue": ("Parameter", "Value"),
    "StepName": ("PipelineExecutionStep", "StepName"),
    "StepDisplayName": ("PipelineExecutionStep", "StepDisplayName"),
    "StepDescription": ("PipelineExecutionStep", "StepDescription"),
    "ExperimentName": ("PipelineExperimentConfig", "ExperimentName"),
    "TrialName": ("PipelineExperimentConfig", "TrialName"),
    "MlflowResourceArn": ("MlflowConfig", "MlflowResourceArn"),
    "MlflowExperimentName": ("MlflowConfig", "MlflowExperimentName"),
    "OutputParameters": ("SendPipelineExecutionStepSuccessRequest", "OutputParameters"),
    "OutputParameterName": ("OutputParameter", "Name"),
}

#: step Type -> (API operation whose request is the step's ``Arguments``, the members SageMaker Pipelines fills
#: in itself). The operators refuse the name members (operators/steps.py), as SageMaker SDK v3 leaves them out.
REQUESTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Processing": ("CreateProcessingJob", ("ProcessingJobName",)),
    "Training": ("CreateTrainingJob", ("TrainingJobName",)),
    "Tuning": ("CreateHyperParameterTuningJob", ("HyperParameterTuningJobName",)),
    "Transform": ("CreateTransformJob", ("TransformJobName",)),
    "Model": ("CreateModel", ("ModelName",)),
    "RegisterModel": ("CreateModelPackage", ()),
}

SCALARS = {"string": "string", "integer": "integer", "long": "integer", "float": "float", "double": "float",
           "boolean": "boolean", "timestamp": "timestamp", "blob": "blob"}

# botocore's integer type is a signed 32-bit number: the upper bound where the model states none.
INT32_MAX = 2**31 - 1


def build() -> dict[str, Any]:
    model = botocore.session.get_session().get_service_model("sagemaker")
    limits: dict[str, Any] = {}
    for name, (structure, member) in LIMITS.items():
        shape = model.shape_for(structure).members[member]
        entry: dict[str, Any] = {"source": f"{structure}.{member}", "type": shape.type_name}
        if shape.type_name == "long":
            entry["type"] = "integer"
        for key in ("min", "max", "pattern"):
            if key in shape.metadata:
                entry[key] = shape.metadata[key]
        if entry["type"] == "integer" and "max" not in entry:
            entry["max"] = INT32_MAX
        limits[name] = entry
    return {"botocore": botocore.__version__, "limits": limits}


def _shape(shape: Any, shapes: dict[str, Any]) -> str:
    """The name of ``shape``, adding it and every shape it reaches to ``shapes``."""
    name = shape.name
    if name in shapes:
        return name
    kind = shape.type_name
    if shape.metadata.get("document"):
        shapes[name] = {"type": "any"}
        return name
    entry: dict[str, Any] = {"type": SCALARS.get(kind, kind)}
    shapes[name] = entry  # before its members: recursive shapes end at the name
    for key in ("min", "max", "pattern"):
        if key in shape.metadata:
            entry[key] = shape.metadata[key]
    if kind == "structure":
        entry["members"] = {member: _shape(sub, shapes) for member, sub in shape.members.items()}
        if shape.required_members:
            entry["required"] = list(shape.required_members)
    elif kind == "list":
        entry["member"] = _shape(shape.member, shapes)
    elif kind == "map":
        entry["key"] = _shape(shape.key, shapes)
        entry["value"] = _shape(shape.value, shapes)
    elif kind == "string" and getattr(shape, "enum", None):
        entry["enum"] = list(shape.enum)
    elif kind not in SCALARS:
        raise ValueError(f"unexpected botocore shape type {kind!r} ({name})")
    return name


def build_requests() -> dict[str, Any]:
    model = botocore.session.get_session().get_service_model("sagemaker")
    shapes: dict[str, Any] = {}
    requests: dict[str, Any] = {}
    for step_type, (operation, filled) in REQUESTS.items():
        input_shape = model.operation_model(operation).input_shape
        requests[step_type] = {"operation": operation, "shape": _shape(input_shape, shapes), "filled": list(filled)}
    return {"botocore": botocore.__version__, "requests": requests,
            "shapes": {name: shapes[name] for name in sorted(shapes)}}


def render_requests(data: dict[str, Any]) -> str:
    # One shape per line: compact, yet a botocore upgrade shows up as a readable diff.
    lines = ["{", f'"botocore": {json.dumps(data["botocore"])},',
             f'"requests": {json.dumps(data["requests"], sort_keys=True)},', '"shapes": {']
    items = list(data["shapes"].items())
    for i, (name, entry) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        lines.append(f"{json.dumps(name)}: {json.dumps(entry, separators=(',', ':'), sort_keys=True)}{comma}")
    lines += ["}", "}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--requests-output", type=Path, default=DEFAULT_REQUESTS_OUTPUT)
    parser.add_argument("--check", action="store_true", help="exit 1 when the file differs from botocore's model")
    args = parser.parse_args(argv)
    text = json.dumps(build(), indent=1, sort_keys=True) + "\n"
    requests_text = render_requests(build_requests())
    if args.check:
        stale = []
        if json.loads(args.output.read_text())["limits"] != json.loads(text)["limits"]:
            stale.append(args.output)
        current = json.loads(args.requests_output.read_text()) if args.requests_output.exists() else {}
        fresh = json.loads(requests_text)
        if {k: current.get(k) for k in ("requests", "shapes")} != {k: fresh[k] for k in ("requests", "shapes")}:
            stale.append(args.requests_output)
        for path in stale:
            print(f"{path} is out of date with botocore {botocore.__version__}; regenerate it", file=sys.stderr)
        return 1 if stale else 0
    args.output.write_text(text)
    args.requests_output.write_text(requests_text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
