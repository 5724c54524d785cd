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

Usage: python tools/gen_limits.py [--output PATH] [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import botocore
import botocore.session

DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "airflow_sagemaker_mlops" / "definition" / "limits.json"

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--check", action="store_true", help="exit 1 when the file differs from botocore's model")
    args = parser.parse_args(argv)
    text = json.dumps(build(), indent=1, sort_keys=True) + "\n"
    if args.check:
        current = json.loads(args.output.read_text())
        fresh = json.loads(text)
        if current["limits"] != fresh["limits"]:
            print(f"{args.output} is out of date with botocore {botocore.__version__}; regenerate it",
                  file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
