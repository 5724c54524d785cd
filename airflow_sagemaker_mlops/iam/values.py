"""What a definition value can be at run time, as far as IAM is concerned; ARNs from AWS URLs.

An IAM resource must be known when the policy is written, but a definition value may be a pipeline
parameter, a ``Join`` or another step's property. :func:`literal_prefix` reduces a value to the literal text
every run's value starts with, and records each *widening* (why the policy allows more than the literal
value) so the explanation can say it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from airflow_sagemaker_mlops.definition.expressions import Expression, Join, ParameterRef
from airflow_sagemaker_mlops.definition.pipeline import PipelineDefinition


@dataclass(frozen=True)
class Resolved:
    """``text``: what the value is (``exact``) or starts with (not ``exact``); ``widenings``: why."""

    text: str
    exact: bool
    widenings: tuple[str, ...] = field(default=())
    #: Only a prefix is known (a Join cut at a run-time part); not exact, but unlike a parameter's default
    #: nothing may be appended to it.
    truncated: bool = False

    @property
    def known(self) -> bool:
        return self.exact or bool(self.text)


def literal_prefix(value: Any, definition: PipelineDefinition, assumed: dict[str, Any] | None = None,
                   ) -> Resolved | None:
    """The literal value or prefix of ``value``; None when nothing of it is known before the run.

    - a string is itself; a code asset is its content-addressed S3 URI;
    - a parameter is its assumed value or its default (a widening: the run-time value may differ);
    - a ``Join`` is the concatenation of its parts up to the first part that is not known before the run
      (an execution variable, a step property, a parameter without default);
    - anything else (a step property, ``JsonGet``, an execution variable) is unknown.
    """
    assumed = assumed or {}
    if isinstance(value, str):
        return Resolved(value, True)
    uri = getattr(value, "s3_uri", None)  # CodeAsset, duck-typed: the compiler package imports Airflow
    if isinstance(uri, str):
        return Resolved(uri, True)
    if isinstance(value, ParameterRef):
        return _parameter(value, definition, assumed)
    if isinstance(value, Join):
        return _join(value, definition, assumed)
    if isinstance(value, bool | int | float) and not isinstance(value, Expression):
        return Resolved(str(value).lower() if isinstance(value, bool) else str(value), True)
    return None


def _parameter(ref: ParameterRef, definition: PipelineDefinition, assumed: dict[str, Any]) -> Resolved | None:
    if ref.name in assumed:
        value, source = assumed[ref.name], "the value assumed for"
    else:
        param = definition.parameters.get(ref.name)
        value, source = (param.default if param else None), "the default of"
    if value is None:
        return None
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return Resolved(text, False, (f"{text} comes from {source} parameter {ref.name}: any value passed at run "
                                  "time must stay under it or the run will be denied",))


def _join(join: Join, definition: PipelineDefinition, assumed: dict[str, Any]) -> Resolved | None:
    text = ""
    exact = True
    widenings: list[str] = []
    for i, part in enumerate(join.values):
        if i:
            text += join.on
        resolved = literal_prefix(part, definition, assumed)
        if resolved is None:
            if not text:
                return None
            widenings.append(f"a Join is reduced to its literal prefix {text}: part {i + 1} of it is only known "
                             "at run time, so everything under the prefix is allowed")
            return Resolved(text, False, tuple(widenings), truncated=True)
        # A parameter inside a Join stands for its default (or assumed value), and the Join goes on after
        # it: the policy covers runs with that value, as the parameter's own widening says.
        text += resolved.text
        exact = exact and resolved.exact
        widenings.extend(resolved.widenings)
        if resolved.truncated:  # a nested Join that was cut: nothing after it is known
            return Resolved(text, False, tuple(widenings), truncated=True)
    return Resolved(text, exact, tuple(widenings))


@dataclass(frozen=True)
class S3Location:
    """An S3 bucket and key prefix; ``bucket_pattern``: the bucket name itself is only partly known."""

    bucket: str
    key_prefix: str
    exact: bool
    bucket_pattern: bool = False

    @property
    def display(self) -> str:
        return f"s3://{self.bucket}{'*' if self.bucket_pattern else ''}/{self.key_prefix}"


def s3_location(resolved: Resolved) -> S3Location | None:
    """The bucket and key prefix of an ``s3://`` value; None when it is not one."""
    text = resolved.text
    if not text.startswith("s3://"):
        # A prefix shorter than "s3://" could still become one; a literal that is not s3:// is not.
        return None
    rest = text[len("s3://"):]
    bucket, sep, key = rest.partition("/")
    if not bucket:
        return None
    if not sep and not resolved.exact:
        return S3Location(bucket, "", False, bucket_pattern=True)
    return S3Location(bucket, key, resolved.exact)


def queue_arn(url: str, partition: str = "aws") -> str | None:
    """``https://sqs.<region>.amazonaws.com/<account>/<name>`` (and the legacy host form) -> queue ARN.

    None when ``url`` is not an SQS queue URL of AWS (a local endpoint's URL names no region).
    """
    try:
        parsed = urlparse(url)
    except ValueError:
        return None
    host = parsed.hostname or ""
    parts = [p for p in parsed.path.split("/") if p]
    match = re.match(r"^(?:sqs\.)?([a-z0-9-]+)\.(?:queue\.)?amazonaws\.com(?:\.cn)?$", host)
    if parsed.scheme not in ("https", "http") or match is None or len(parts) != 2 or not parts[0].isdigit():
        return None
    region = match.group(1)
    if host.endswith(".cn") and partition == "aws":
        partition = "aws-cn"
    return f"arn:{partition}:sqs:{region}:{parts[0]}:{parts[1]}"
