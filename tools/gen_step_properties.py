"""Generate ``airflow_sagemaker_mlops/definition/step_properties.json`` from botocore's service models.

A step's ``properties`` are the members of the Describe response that backs it (the SageMaker Pipelines
service resolves ``{"Get": "Steps.<name>.<path>"}`` against that response). Which response backs which step
type is decided by SageMaker SDK v3 (sagemaker-mlops 1.27, ``sagemaker/mlops/workflow/*.py`` and
``sagemaker/core/workflow/properties.py``); ``ROOTS`` below restates those facts, so this tool needs botocore
only. The JSON is read at DAG parse time, where importing botocore (and loading its 3 MB sagemaker model)
would cost far more than the check itself.

Output format (kept small: every structure appears once, by name):

    {"botocore": "<version>",
     "steps": {"<step Type>": "<root structure name>", ...},
     "shapes": {"<structure name>": {"<member>": "<ref>", ...}, ...}}

A ``<ref>`` is a structure name, a scalar type (``string``, ``integer``, ``float``, ``boolean``,
``timestamp``), ``any`` (a value the service does not describe: callback outputs, ForEach iteration outputs;
any deeper path is accepted), ``json`` (a string holding a JSON document the service descends into: any
deeper path is accepted), ``[<ref>]`` (a list of <ref>) or ``{<ref>}`` (a map from string to <ref>).
Structures of the EMR models are prefixed with their service (``emr.Step``); synthetic roots that the SDK
assembles by hand start with ``@``.

Usage: python tools/gen_step_properties.py [--output PATH] [--check]
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from pathlib import Path
from typing import Any

import botocore
import botocore.loaders

DEFAULT_OUTPUT = (
    Path(__file__).resolve().parent.parent / "airflow_sagemaker_mlops" / "definition" / "step_properties.json"
)

# botocore scalar types folded onto the types pipeline conditions know; long/double are only wider encodings.
SCALARS = {
    "string": "string",
    "integer": "integer",
    "long": "integer",
    "float": "float",
    "double": "float",
    "boolean": "boolean",
    "timestamp": "timestamp",
    "blob": "string",
}

# Step Type -> the botocore structures the SDK builds ``properties`` from, as (service, shape) pairs, merged
# in order (TuningStep passes two shapes: the tuning job and the list of its training jobs, which is where
# ``TrainingJobSummaries`` comes from), plus members the SDK adds by hand. ``None`` = no botocore shape.
ROOTS: dict[str, dict[str, Any]] = {
    # steps.py: ProcessingStep / TrainingStep (also @step functions and NotebookJobStep) / TransformStep
    "Processing": {"shapes": [("sagemaker", "DescribeProcessingJobResponse")]},
    "Training": {"shapes": [("sagemaker", "DescribeTrainingJobResponse")]},
    "Transform": {"shapes": [("sagemaker", "DescribeTransformJobResponse")]},
    "Tuning": {
        "shapes": [
            ("sagemaker", "DescribeHyperParameterTuningJobResponse"),
            ("sagemaker", "ListTrainingJobsForHyperParameterTuningJobResponse"),
        ]
    },
    # steps.py: JobStep (CreateJob). JobConfigDocument is a JSON string that the service parses when a path
    # descends into it (JobStep docstring: JobConfigDocument.OutputModelPackageArn), though the SDK's own
    # Properties stops at the string.
    "Job": {"shapes": [("sagemaker", "DescribeJobResponse")], "override": {"JobConfigDocument": "json"}},
    # model_step.py: ModelStep emits a "Model" step for create() and a "RegisterModel" step for register()
    "Model": {"shapes": [("sagemaker", "DescribeModelOutput")]},
    "RegisterModel": {"shapes": [("sagemaker", "DescribeModelPackageOutput")]},
    # endpoint_step.py, inference_component_step.py
    "EndpointConfig": {"shapes": [("sagemaker", "DescribeEndpointConfigOutput")]},
    "Endpoint": {"shapes": [("sagemaker", "DescribeEndpointOutput")]},
    "InferenceComponent": {"shapes": [("sagemaker", "DescribeInferenceComponentOutput")]},
    # automl_step.py: the AutoML job plus two report paths of the best candidate the SDK adds by hand
    "AutoML": {
        "shapes": [("sagemaker", "DescribeAutoMLJobResponse")],
        "extra": {
            "BestCandidateProperties": {
                "ModelInsightsJsonReportPath": "string",
                "ExplainabilityJsonReportPath": "string",
            }
        },
    },
    # emr_step.py: the EMR service's Step structure (DescribeStep)
    "EMR": {"shapes": [("emr", "Step")]},
    # emr_serverless_step.py names emr-serverless GetJobRunResponse. The SDK's PropertiesMeta loads only the
    # sagemaker and emr models, so in the SDK this step's properties come out empty; we follow the intent.
    "EMRServerless": {"shapes": [("emr-serverless", "GetJobRunResponse")]},
    # condition_step.py: Outcome only ("True"/"False", botocore ConditionOutcome is a string enum)
    "Condition": {"shapes": [], "extra": {"Outcome": "string"}},
    # callback_step.py / lambda_step.py: properties.Outputs['x'] renders as OutputParameters['x']; the types
    # are the step's declared outputs, which the definition model checks itself.
    "Callback": {"shapes": [], "extra": {"OutputParameters": "{any}"}},
    "Lambda": {"shapes": [], "extra": {"OutputParameters": "{any}"}},
    # quality_check_step.py / clarify_check_step.py: S3 URIs of baseline files
    "QualityCheck": {
        "shapes": [],
        "extra": {
            "CalculatedBaselineConstraints": "string",
            "CalculatedBaselineStatistics": "string",
            "BaselineUsedForDriftCheckStatistics": "string",
            "BaselineUsedForDriftCheckConstraints": "string",
        },
    },
    "ClarifyCheck": {
        "shapes": [],
        "extra": {
            "CalculatedBaselineConstraints": "string",
            "BaselineUsedForDriftCheckConstraints": "string",
        },
    },
    # lineage_step.py: ARN maps keyed by entity name; Associations has no documented shape
    "Lineage": {
        "shapes": [],
        "extra": {
            "ActionArns": "{string}",
            "ArtifactArns": "{string}",
            "ContextArns": "{string}",
            "Associations": "any",
        },
    },
    # for_each_step.py: aggregate counts, IterationOutputs[i].<bodyStep>.<member>, Selected.<member>
    "ForEach": {
        "shapes": [],
        "extra": {
            "Status": "string",
            "InputItemCount": "integer",
            "TotalStepCount": "integer",
            "SucceededStepCount": "integer",
            "FailedStepCount": "integer",
            "StoppedStepCount": "integer",
            "IterationOutputs": "[any]",
            "Selected": "any",
        },
    },
    # fail_step.py / cleanup_step.py raise on .properties: nothing may be read from them
    "Fail": {"shapes": [], "extra": {}},
    "Cleanup": {"shapes": [], "extra": {}},
}


class _Builder:
    def __init__(self) -> None:
        loader = botocore.loaders.Loader()
        self.models = {
            service: loader.load_service_model(service, "service-2")["shapes"]
            for service in ("sagemaker", "emr", "emr-serverless")
        }
        self.shapes: dict[str, dict[str, str]] = {}

    def _name(self, service: str, shape: str) -> str:
        return shape if service == "sagemaker" else f"{service}.{shape}"

    def ref(self, service: str, shape_name: str) -> str:
        """The ref of one botocore shape, adding the structures it reaches to ``self.shapes``."""
        shape = self.models[service][shape_name]
        kind = shape["type"]
        if kind in SCALARS:
            return SCALARS[kind]
        if kind == "list":
            return "[" + self.ref(service, shape["member"]["shape"]) + "]"
        if kind == "map":
            return "{" + self.ref(service, shape["value"]["shape"]) + "}"
        if kind != "structure":
            raise ValueError(f"unexpected botocore shape type {kind!r} ({service}.{shape_name})")
        name = self._name(service, shape_name)
        if name not in self.shapes:
            # Registered before its members: recursive structures end at the name instead of looping.
            self.shapes[name] = {}
            self.shapes[name].update(self.members(service, shape_name))
        return name

    def members(self, service: str, shape_name: str) -> dict[str, str]:
        shape = self.models[service][shape_name]
        return {member: self.ref(service, info["shape"]) for member, info in shape["members"].items()}

    def extra(self, name: str, members: dict[str, Any]) -> dict[str, str]:
        out = {}
        for member, value in members.items():
            if isinstance(value, dict):
                nested = f"{name}.{member}"
                self.shapes[nested] = self.extra(nested, value)
                value = nested
            out[member] = value
        return out

    def root(self, step_type: str, spec: dict[str, Any]) -> str:
        shapes = spec["shapes"]
        if len(shapes) == 1 and not spec.get("extra") and not spec.get("override"):
            return self.ref(*shapes[0])
        name = f"@{step_type}"
        members: dict[str, str] = {}
        for service, shape in shapes:
            members.update(self.members(service, shape))
        members.update(self.extra(name, spec.get("extra", {})))
        members.update(spec.get("override", {}))
        self.shapes[name] = members
        return name


def build() -> dict[str, Any]:
    builder = _Builder()
    steps = {step_type: builder.root(step_type, spec) for step_type, spec in ROOTS.items()}
    for name in builder.shapes:
        if name in SCALARS.values() or name in ("any", "json"):
            raise ValueError(f"a structure is named like a scalar type: {name!r}")
    return {
        "botocore": botocore.__version__,
        "steps": dict(sorted(steps.items())),
        "shapes": {name: builder.shapes[name] for name in sorted(builder.shapes)},
    }


def render(schema: dict[str, Any]) -> str:
    # One structure per line: compact, yet a botocore upgrade shows up as a readable diff.
    lines = [
        "{",
        f'"botocore": {json.dumps(schema["botocore"])},',
        f'"steps": {json.dumps(schema["steps"])},',
    ]
    lines.append('"shapes": {')
    items = list(schema["shapes"].items())
    for i, (name, members) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        lines.append(f"{json.dumps(name)}: {json.dumps(members, separators=(',', ':'))}{comma}")
    lines += ["}", "}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--check", action="store_true", help="exit 1 if --output is not up to date")
    args = parser.parse_args(argv)
    text = render(build())
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != text:
            diff = difflib.unified_diff(current.splitlines(), text.splitlines(), "checked-in", "generated",
                                        lineterm="", n=0)
            print("\n".join(list(diff)[:40]), file=sys.stderr)
            print(f"{args.output} is out of date: run python tools/gen_step_properties.py", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text)
    print(f"wrote {args.output} ({len(text.encode())} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
