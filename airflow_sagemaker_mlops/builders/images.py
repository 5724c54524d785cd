"""SageMaker framework and algorithm image URIs without the SDK: ``image_uri("sklearn", "1.2-1", "us-east-1")``.

``image_uris.json`` is generated from the SDK's own image configuration files by ``tools/gen_image_uris.py``
(asking the SDK's ``image_uris.retrieve`` for every combination those files list); a test keeps it equal to the
installed SDK. Reading it costs about a millisecond, once per process, and touches no network.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from pathlib import Path
from typing import Any

from airflow_sagemaker_mlops.exceptions import PipelineDefinitionError
from airflow_sagemaker_mlops.location import locate_errors

_FILE = Path(__file__).with_name("image_uris.json")
_FAMILY = re.compile(r"^ml[._]([a-z0-9]+)")


@functools.cache
def _table() -> dict[str, Any]:
    with _FILE.open(encoding="utf-8") as fh:
        return json.load(fh)


def frameworks() -> list[str]:
    """The frameworks and algorithms the table knows."""
    return sorted(_table()["frameworks"])


def _choose(value: str | None, choices: list[str], what: str, context: str) -> str:
    if value is None:
        if len(choices) == 1:
            return choices[0]
        raise PipelineDefinitionError(f"{context}: give {what} (one of {', '.join(choices)})", field=what)
    if value not in choices:
        close = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise PipelineDefinitionError(f"{context}: no {what} {value!r}{hint} (known: {', '.join(choices)})",
                                      field=what)
    return value


def _processor(instance_type: str | None, processor: str | None, available: list[str], context: str) -> str:
    """The processor of an instance type, by the SDK's rules: its family when the image has one for it, else
    inf/trn for Inferentia/Trainium, gpu for g and p families, cpu otherwise."""
    if processor is None and instance_type is not None:
        if instance_type.startswith("local"):
            processor = "cpu" if instance_type == "local" else "gpu"
        else:
            match = _FAMILY.match(instance_type)
            if match is None:
                raise PipelineDefinitionError(f"{context}: {instance_type!r} is not a SageMaker instance type "
                                              "(ml.<family>.<size>)", field="instance_type")
            family = match.group(1)
            if family in available:
                processor = family
            elif family.startswith("inf"):
                processor = "inf"
            elif family.startswith("trn"):
                processor = "trn"
            else:
                processor = "gpu" if family[0] in "gp" else "cpu"
    if available == [""]:
        return ""
    return _choose(processor, available, "processor", context)


@locate_errors
def image_uri(framework: str, version: str | None = None, region: str = "us-east-1", *,
              py_version: str | None = None, instance_type: str | None = None, processor: str | None = None,
              image_scope: str | None = None) -> str:
    """The ECR URI of a SageMaker image, as the SDK's ``sagemaker.image_uris.retrieve`` answers it.

    Args:
        framework: ``sklearn``, ``xgboost``, ``pytorch``, ``tensorflow``, ``mxnet``, ... or a built-in
            algorithm (``linear-learner``, ...); ``frameworks()`` lists them.
        version: the framework version or one of its aliases (``"2.1"`` for ``"2.1.0"``); may be left out
            only when the framework has a single version (unlike the SDK, left out is not "the latest").
        region: the AWS region the image is pulled in (default ``us-east-1``); the region picks the
            registry account and domain (``amazonaws.com.cn`` in China).
        py_version: ``py3``, ``py310``, ...; may be left out when the version has only one.
        instance_type: picks the processor as the SDK does (``ml.m5.xlarge`` -> ``cpu``, ``ml.g5.xlarge`` ->
            ``gpu``, ``ml.inf2.xlarge`` -> ``inf``; ``local`` -> ``cpu``, ``local_gpu`` -> ``gpu``); a
            Graviton instance type (``ml.c7g.xlarge``) picks the ``inference_graviton`` image where there is
            one. Ignored for the processor when ``processor`` is given.
        processor: ``cpu``, ``gpu``, ``inf``, ``trn``, ... instead of ``instance_type``; may be left out when
            the image has only one.
        image_scope: ``training`` or ``inference`` (and ``inference_graviton``, ``eia`` where they exist);
            may be left out when the framework has one scope, or the same images for both.

    Returns:
        The image URI: ``<account>.dkr.ecr.<region>.<domain>/<repository>:<tag>``.

    Raises:
        PipelineCompileError: an unknown framework, version, Python version, processor, scope or region, at
            the DAG file's line, listing what exists (with a did-you-mean).
    """
    table = _table()
    known = table["frameworks"]
    if framework not in known:
        close = difflib.get_close_matches(str(framework), list(known), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise PipelineDefinitionError(f"no SageMaker image for framework {framework!r}: {hint}known: "
                                      f"{', '.join(sorted(known))}", field="framework")
    scopes = known[framework]["scopes"]
    family = _FAMILY.match(instance_type or "")
    graviton = table["graviton"]
    if family and framework in graviton["frameworks"] and family.group(1) in graviton["families"]:
        image_scope = "inference_graviton"  # as the SDK: a Graviton instance takes the Graviton image
    elif image_scope is None:
        image_scope = known[framework]["default_scope"]  # one scope, or one set of images for both (the SDK's)
    scope = _choose(image_scope, list(scopes), "image_scope", f"{framework} images")
    versions, aliases = scopes[scope]["versions"], scopes[scope]["aliases"]
    context = f"{framework} {scope} images"
    if version is not None and version not in versions and aliases.get(version) in versions:
        version = aliases[version]
    elif version is not None and version not in versions:
        raise PipelineDefinitionError(_unknown_version(version, versions, aliases, context), field="version")
    version = _choose(version, sorted(versions, key=_version_key), "version", context)
    by_py = versions[version]
    context = f"{framework} {version} {scope} images"
    py = _choose(py_version, list(by_py), "py_version", context) if list(by_py) != [""] else ""
    by_processor = by_py[py]
    chosen = _processor(instance_type, processor, list(by_processor), context)
    repository, registry = by_processor[chosen]
    accounts = table["registries"][registry]
    region = _choose(region, sorted(accounts), "region", context)
    domain = table["domains"].get(region, "amazonaws.com")
    return f"{accounts[region]}.dkr.ecr.{region}.{domain}/{repository}"


def _unknown_version(version: str, versions: dict[str, Any], aliases: dict[str, str], context: str) -> str:
    names = sorted({*versions, *aliases}, key=_version_key)
    close = difflib.get_close_matches(version, names, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{context}: no version {version!r}{hint} (known: {', '.join(names)})"


def _version_key(version: str) -> tuple[Any, ...]:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.\-]", version))
