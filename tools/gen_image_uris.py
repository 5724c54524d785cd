"""Generate ``airflow_sagemaker_mlops/builders/image_uris.json`` from the SageMaker SDK's image configuration.

The SDK (sagemaker-core, installed with sagemaker-mlops) keeps one JSON file per framework under
``sagemaker/core/image_uri_config/`` and resolves them in ``sagemaker.core.image_uris.retrieve``. This tool asks
``retrieve`` itself for every (scope, version, Python version, processor) each file lists, in one region, and
keeps the image's ``repository:tag`` together with the version's ECR accounts by region; a lookup then needs
neither the SDK nor botocore (``builders/images.py``). Combinations ``retrieve`` refuses are left out, and so
are the frameworks that need arguments beyond these (Hugging Face's base framework, JumpStart models).

Output format (small: each region -> account map appears once):

    {"sdk": "<sagemaker-core version>", "config_sha256": "<digest of the SDK's image_uri_config/*.json>",
     "registries": [{"<region>": "<account>", ...}, ...],
     "domains": {"<region>": "<ECR host suffix when not amazonaws.com>"},
     "graviton": {"frameworks": [...], "families": [...]},
     "frameworks": {"<framework>": {"default_scope": "<scope used when none is given, or null>",
         "scopes": {"<scope>": {
             "versions": {"<version>": {"<py version or ''>": {"<processor or ''>": ["<repo:tag>", <registry>]}}},
             "aliases": {"<alias>": "<version>"}}}}}}

Usage: python tools/gen_image_uris.py [--output PATH] [--check]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "airflow_sagemaker_mlops" / "builders" / "image_uris.json"
REGION = "us-east-1"
#: A representative instance type per processor name (anything else is an instance family: ml.<family>.xlarge).
INSTANCES = {"cpu": "ml.m5.xlarge", "gpu": "ml.p3.2xlarge", "inf": "ml.inf1.xlarge", "trn": "ml.trn1.2xlarge",
             "neuron": "neuron"}
#: Frameworks whose lookup takes more than framework/version/python/processor (left out).
SKIPPED_PREFIXES = ("huggingface", "djl", "stabilityai", "neo-", "inferentia-", "sagemaker-tritonserver",
                    "sagemaker-distribution")


def instance_for(processor: str) -> str:
    return INSTANCES.get(processor, f"ml.{processor}.xlarge")


def config_digest() -> str:
    """A digest of the SDK's image configuration files: the table is fresh while it is the same."""
    import hashlib

    import sagemaker.core

    folder = Path(sagemaker.core.__file__).parent / "image_uri_config"
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.json")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def generate() -> dict[str, Any]:
    from sagemaker.core import image_uris

    logging.disable(logging.WARNING)
    registries: list[dict[str, str]] = []
    index: dict[str, int] = {}
    frameworks: dict[str, Any] = {}
    for framework in image_uris.list_frameworks():
        if framework.startswith(SKIPPED_PREFIXES):
            continue
        config = image_uris.config_for_framework(framework)
        scopes = config.get("scope") or [k for k in config if k in ("training", "inference", "inference_graviton",
                                                                         "eia")]
        out: dict[str, Any] = {}
        for scope in scopes:
            try:
                scoped = image_uris._config_for_framework_and_scope(framework, scope)
            except (ValueError, KeyError):
                continue
            versions: dict[str, Any] = {}
            for version, version_config in scoped.get("versions", {}).items():
                py_versions = version_config.get("py_versions") or [""]
                for py in py_versions:
                    leaf = version_config.get(py) if py and isinstance(version_config.get(py), dict) else version_config
                    if "registries" not in leaf:
                        continue
                    processors = scoped.get("processors") or leaf.get("processors") or [""]
                    for processor in processors:
                        try:
                            uri = image_uris.retrieve(framework, REGION, version=version, py_version=py or None,
                                                      instance_type=instance_for(processor) if processor else None,
                                                      image_scope=scope)
                        except Exception:
                            continue
                        key = json.dumps(leaf["registries"], sort_keys=True)
                        if key not in index:
                            index[key] = len(registries)
                            registries.append(dict(sorted(leaf["registries"].items())))
                        versions.setdefault(version, {}).setdefault(py, {})[processor] = [
                            uri.split("/", 1)[1], index[key]]
            if versions:
                out[scope] = {"versions": versions, "aliases": dict(scoped.get("version_aliases", {}))}
        if out:
            # What retrieve takes when image_scope is left out (one scope, or one image set for both).
            shared = config.get("scope")
            default = (shared[0] if shared and set(shared) == {"training", "inference"} else
                       scopes[0] if len(scopes) == 1 else
                       "training" if framework in (image_uris.XGBOOST_FRAMEWORK, image_uris.SKLEARN_FRAMEWORK)
                       else None)
            frameworks[framework] = {"default_scope": default, "scopes": out}
    regions = sorted({r for reg in registries for r in reg})
    domains = {}
    from sagemaker.core import common_utils as utils

    for region in regions:
        endpoint = utils._botocore_resolver().construct_endpoint("ecr", region) or {}
        host = endpoint.get("hostname") or f"ecr.{region}.amazonaws.com"
        suffix = host.split(f"ecr.{region}.", 1)[-1]
        if suffix != "amazonaws.com":
            domains[region] = suffix
    from sagemaker.core import fw_utils

    # Graviton instances pick the inference_graviton images of these frameworks, whatever the scope given.
    graviton = {"frameworks": sorted(fw_utils.GRAVITON_ALLOWED_FRAMEWORKS),
                "families": sorted(fw_utils.GRAVITON_ALLOWED_TARGET_INSTANCE_FAMILY)}
    return {"sdk": package_version("sagemaker-core"), "config_sha256": config_digest(),
            "registries": registries, "domains": domains,
            "graviton": graviton, "frameworks": frameworks}


def render(table: dict[str, Any]) -> str:
    # One framework per line keeps diffs readable and the file small.
    lines = ["{", f'"sdk": {json.dumps(table["sdk"])},', f'"config_sha256": {json.dumps(table["config_sha256"])},',
             f'"registries": {json.dumps(table["registries"], separators=(",", ":"))},',
             f'"domains": {json.dumps(table["domains"], separators=(",", ":"))},',
             f'"graviton": {json.dumps(table["graviton"], separators=(",", ":"))},', '"frameworks": {']
    items = list(table["frameworks"].items())
    for i, (name, body) in enumerate(items):
        lines.append(f"{json.dumps(name)}: {json.dumps(body, separators=(',', ':'))}" + ("," if i < len(items) - 1
                                                                                          else ""))
    lines += ["}", "}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is not what would be generated")
    args = parser.parse_args(argv)
    text = render(generate())
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: run python tools/gen_image_uris.py", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({len(text.encode()) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
