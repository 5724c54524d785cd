"""OpenLineage facets for the start and step tasks, read by Airflow's OpenLineage provider.

The provider calls ``get_openlineage_facets_on_complete`` / ``_on_failure`` on the operators; they land
here. Only then is anything imported from ``openlineage``: without the provider (or on Airflow 2 without
it) nothing here runs.

What each task reports
----------------------
- ``<group>.start``: outputs = the code assets it uploaded to S3 (the steps read them); run facet
  ``externalQuery`` = the pipeline execution ARN (``source`` ``sagemaker-pipelines``). It does not report the
  pipeline's data inputs and outputs: they are only known per step, at run time, and the step tasks report
  them; the start task and the steps share the DAG run as OpenLineage parent.
- a step task: the S3 inputs and outputs of the step's job *as SageMaker ran it* (Describe*Job after the
  step ended, so parameter values and step properties are resolved), and ``externalQuery`` = the job ARN:
  Processing: ProcessingInputs[].S3Input / ProcessingOutputConfig.Outputs[].S3Output;
  Training: InputDataConfig[] S3 channels and an S3 ``sagemaker_submit_directory`` / ModelArtifacts
  (OutputDataConfig.S3OutputPath when there are none); Tuning: the training job definitions' channels /
  the best training job's ModelArtifacts; Transform: TransformInput S3 data and the model / S3OutputPath;
  Model (CreateModel): ModelDataUrl and model package / the SageMaker model; RegisterModel: the
  containers' ModelDataUrl and ModelMetrics S3 URIs / the model package.

Naming
------
- S3: OpenLineage's convention, namespace ``s3://<bucket>``, name = the key (``/`` for a whole bucket).
- SageMaker resources follow the convention OpenLineage uses for AWS Glue: namespace
  ``arn:<partition>:sagemaker:<region>:<account>``, name = the ARN's resource part. A model package
  version is the *versioned* dataset ``model-package-group/<group>`` with ``version`` = the version number,
  ``datasetType`` MODEL and a ``symlinks`` identifier ``model-package/<group>/<version>`` (the version's own
  ARN resource); a model is ``model/<name>``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from airflow_sagemaker_mlops.definition.step_kinds import resource_of, step_type_of_metadata

log = logging.getLogger(__name__)

Describe = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class DatasetRef:
    """One OpenLineage dataset, before it becomes an ``openlineage.client`` object."""

    namespace: str
    name: str
    #: DatasetTypeDatasetFacet type (None: plain storage, no facet)
    dataset_type: str | None = None
    sub_type: str | None = None
    version: str | None = None
    #: (namespace, name, type) identifiers for the SymlinksDatasetFacet
    symlinks: tuple[tuple[str, str, str], ...] = ()


@dataclass
class Lineage:
    inputs: list[DatasetRef] = field(default_factory=list)
    outputs: list[DatasetRef] = field(default_factory=list)
    #: the run's externalQuery facet: (id, source)
    external_id: tuple[str, str] | None = None

    def add(self, which: list[DatasetRef], refs: Iterable[DatasetRef | None]) -> None:
        for ref in refs:
            if ref is not None and ref not in which:
                which.append(ref)


def s3_dataset(uri: Any) -> DatasetRef | None:
    """``s3://bucket/key`` -> namespace ``s3://bucket``, name ``key``; anything else -> None."""
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        return None
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not bucket:
        return None
    return DatasetRef(f"s3://{bucket}", key.strip("/") or "/")


def arn_parts(arn: str) -> tuple[str, str] | None:
    """``arn:aws:sagemaker:r:a:model/x`` -> (``arn:aws:sagemaker:r:a``, ``model/x``)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return ":".join(parts[:5]), parts[5]


def model_package_dataset(package: dict[str, Any]) -> DatasetRef | None:
    """The model package version (DescribeModelPackage) as a versioned dataset of its group."""
    arn = package.get("ModelPackageArn")
    parts = arn_parts(arn) if isinstance(arn, str) else None
    group, version = package.get("ModelPackageGroupName"), package.get("ModelPackageVersion")
    if parts is None or not group:
        return None
    namespace, resource = parts
    return DatasetRef(namespace, f"model-package-group/{group}", dataset_type="MODEL",
                      sub_type="sagemaker-model-package",
                      version=None if version is None else str(version),
                      symlinks=((namespace, resource, "MODEL_PACKAGE"),))


def model_dataset(arn: str | None) -> DatasetRef | None:
    parts = arn_parts(arn) if arn else None
    if parts is None:
        return None
    return DatasetRef(parts[0], parts[1], dataset_type="MODEL", sub_type="sagemaker-model")


def _name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _model_arn(related_arn: str, name: str) -> str | None:
    parts = arn_parts(related_arn)
    return f"{parts[0]}:model/{name}" if parts and name else None


def _channels(channels: Iterable[dict[str, Any]] | None) -> list[DatasetRef | None]:
    return [s3_dataset(((c.get("DataSource") or {}).get("S3DataSource") or {}).get("S3Uri")) for c in channels or []]


def _processing(desc: dict[str, Any], describe: Describe, lineage: Lineage) -> None:
    lineage.add(lineage.inputs, (s3_dataset((i.get("S3Input") or {}).get("S3Uri"))
                                 for i in desc.get("ProcessingInputs") or []))
    lineage.add(lineage.outputs, (s3_dataset((o.get("S3Output") or {}).get("S3Uri"))
                                  for o in (desc.get("ProcessingOutputConfig") or {}).get("Outputs") or []))


def _training(desc: dict[str, Any], describe: Describe, lineage: Lineage) -> None:
    lineage.add(lineage.inputs, _channels(desc.get("InputDataConfig")))
    # Script mode's source bundle is an input like any other.
    lineage.add(lineage.inputs, [s3_dataset(str((desc.get("HyperParameters") or {}).get(
        "sagemaker_submit_directory", "")).strip('"'))])
    model = (desc.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
    lineage.add(lineage.outputs, [s3_dataset(model or (desc.get("OutputDataConfig") or {}).get("S3OutputPath"))])


def _tuning(desc: dict[str, Any], describe: Describe, lineage: Lineage) -> None:
    definitions = desc.get("TrainingJobDefinitions") or [desc.get("TrainingJobDefinition") or {}]
    for definition in definitions:
        lineage.add(lineage.inputs, _channels(definition.get("InputDataConfig")))
    best = (desc.get("BestTrainingJob") or {}).get("TrainingJobName")
    if best:
        artifacts = describe("describe_training_job", TrainingJobName=best).get("ModelArtifacts") or {}
        lineage.add(lineage.outputs, [s3_dataset(artifacts.get("S3ModelArtifacts"))])
    else:
        lineage.add(lineage.outputs, (s3_dataset((d.get("OutputDataConfig") or {}).get("S3OutputPath"))
                                      for d in definitions))


def _transform(desc: dict[str, Any], describe: Describe, lineage: Lineage) -> None:
    source = ((desc.get("TransformInput") or {}).get("DataSource") or {}).get("S3DataSource") or {}
    lineage.add(lineage.inputs, [s3_dataset(source.get("S3Uri")),
                                 model_dataset(_model_arn(desc.get("TransformJobArn") or "", desc.get("ModelName")))])
    lineage.add(lineage.outputs, [s3_dataset((desc.get("TransformOutput") or {}).get("S3OutputPath"))])


def _containers(desc: dict[str, Any]) -> list[dict[str, Any]]:
    primary = desc.get("PrimaryContainer")
    return ([primary] if primary else []) + list(desc.get("Containers") or [])


def _model(desc: dict[str, Any], describe: Describe, lineage: Lineage) -> None:
    for container in _containers(desc):
        lineage.add(lineage.inputs, [s3_dataset(container.get("ModelDataUrl"))])
        if container.get("ModelPackageName"):
            package = describe("describe_model_package", ModelPackageName=container["ModelPackageName"])
            lineage.add(lineage.inputs, [model_package_dataset(package)])
    lineage.add(lineage.outputs, [model_dataset(desc.get("ModelArn"))])


def _register(package: dict[str, Any], describe: Describe, lineage: Lineage) -> None:
    from airflow_sagemaker_mlops.hooks.registry import metric_references

    for container in (package.get("InferenceSpecification") or {}).get("Containers") or []:
        lineage.add(lineage.inputs, [s3_dataset(container.get("ModelDataUrl"))])
    lineage.add(lineage.inputs, (s3_dataset(r["S3Uri"])
                                 for r in metric_references(package.get("ModelMetrics")).values()))
    lineage.add(lineage.outputs, [model_package_dataset(package)])


#: What each step type's Describe response says about its inputs and outputs.
_READERS: dict[str, Callable[[dict[str, Any], Describe, Lineage], None]] = {
    "Processing": _processing,
    "Training": _training,
    "Tuning": _tuning,
    "Transform": _transform,
    "Model": _model,
    "RegisterModel": _register,
}


def step_lineage(step: dict[str, Any], describe: Describe) -> Lineage:
    """The datasets of one ended step (a ListPipelineExecutionSteps entry); ``describe(operation, **kw)``
    calls SageMaker (SageMakerPipelinesHook._call). A failing call is logged and leaves the lineage partial:
    lineage never fails a task."""
    lineage = Lineage()
    metadata = step.get("Metadata") or {}
    step_type = step_type_of_metadata(metadata)
    arn = next((v["Arn"] for v in metadata.values() if isinstance(v, dict) and isinstance(v.get("Arn"), str)), None)
    if arn:
        lineage.external_id = (arn, "sagemaker")
    if not arn:
        return lineage
    try:
        reader = _READERS.get(step_type or "")
        resource = resource_of(step_type or "")
        if reader is not None and resource is not None:
            # A model package version is named by its ARN (group/version); the other resources by their name.
            name = arn if step_type == "RegisterModel" else _name(arn)
            reader(describe(resource.describe, **{resource.name_field: name}), describe, lineage)
    except Exception as exc:  # see the docstring: lineage never fails a task
        log.warning("OpenLineage: cannot describe %s of step %s: %s", arn, step.get("StepName"), exc)
    return lineage


def start_lineage(state: dict[str, Any]) -> Lineage:
    """The start task's lineage from what it recorded (``execution_arn``, ``code_assets``)."""
    lineage = Lineage()
    lineage.add(lineage.outputs, (s3_dataset(uri) for uri in state.get("code_assets") or []))
    if state.get("execution_arn"):
        lineage.external_id = (state["execution_arn"], "sagemaker-pipelines")
    return lineage


# ---- openlineage objects (imported only when the provider asks) ------------------------------------


def _dataset(ref: DatasetRef, cls: Any) -> Any:
    from openlineage.client.generated.dataset_type_dataset import DatasetTypeDatasetFacet
    from openlineage.client.generated.dataset_version_dataset import DatasetVersionDatasetFacet
    from openlineage.client.generated.symlinks_dataset import Identifier, SymlinksDatasetFacet

    facets: dict[str, Any] = {}
    if ref.dataset_type:
        facets["datasetType"] = DatasetTypeDatasetFacet(datasetType=ref.dataset_type, subType=ref.sub_type)
    if ref.version is not None:
        facets["version"] = DatasetVersionDatasetFacet(datasetVersion=ref.version)
    if ref.symlinks:
        facets["symlinks"] = SymlinksDatasetFacet(identifiers=[Identifier(namespace=ns, name=name, type=kind)
                                                               for ns, name, kind in ref.symlinks])
    return cls(namespace=ref.namespace, name=ref.name, facets=facets)


def operator_lineage(lineage: Lineage) -> Any:
    """``airflow.providers.openlineage.extractors.OperatorLineage`` for ``lineage``."""
    from airflow.providers.openlineage.extractors import OperatorLineage
    from openlineage.client.event_v2 import InputDataset, OutputDataset
    from openlineage.client.generated.external_query_run import ExternalQueryRunFacet

    run_facets = {}
    if lineage.external_id:
        run_facets["externalQuery"] = ExternalQueryRunFacet(externalQueryId=lineage.external_id[0],
                                                            source=lineage.external_id[1])
    return OperatorLineage(inputs=[_dataset(r, InputDataset) for r in lineage.inputs],
                           outputs=[_dataset(r, OutputDataset) for r in lineage.outputs],
                           run_facets=run_facets)


def step_facets(op: Any) -> Any:
    """What a step operator returns to the OpenLineage provider (nothing known: empty lineage)."""
    step = getattr(op, "sagemaker_step", None)
    if not step:
        return operator_lineage(Lineage())
    from airflow_sagemaker_mlops.operators.runtime import pipeline_settings, pipelines_hook

    hook = pipelines_hook(pipeline_settings(op).aws)
    return operator_lineage(step_lineage(step, hook._call))


def start_facets(op: Any) -> Any:
    return operator_lineage(start_lineage(getattr(op, "lineage_state", None) or {}))
