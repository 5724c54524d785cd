"""Which property paths each step type has, checked at DAG parse time.

``fit.properties.ModelArtifacts.S3ModelArtifacts`` compiles to
``{"Get": "Steps.fit.ModelArtifacts.S3ModelArtifacts"}``. SageMaker resolves the path against the Describe
response behind the step (``DescribeTrainingJobResponse`` for a Training step) only when the pipeline runs,
so a typo would otherwise surface hours later as a failed execution. The members come from
``step_properties.json``, generated from botocore's service models by ``tools/gen_step_properties.py`` (its
docstring describes the format): reading that file costs a few milliseconds, importing botocore and its
sagemaker model about a second.

Path syntax, as SageMaker SDK v3 renders it: ``Member``, ``.Member``, ``[0]`` (list position) and ``['key']``
(map key, or the name of a named list element: ``ProcessingOutputConfig.Outputs['train']`` is the output whose
``OutputName`` is ``train``).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "PathSegment",
    "format_property_path",
    "parse_property_path",
    "property_members",
    "property_type",
    "schema_step_types",
    "validate_property_path",
]

#: ``"Member"``, ``0`` (list position) or ``("key",)`` (map key / named list element).
PathSegment = str | int | tuple[str]

_SCHEMA_FILE = Path(__file__).with_name("step_properties.json")
_SCALARS = frozenset({"string", "integer", "float", "boolean", "timestamp"})
_ANY = "any"
# A string member holding a JSON document (Job steps' JobConfigDocument): a path may descend into it.
_JSON = "json"
_SEGMENT = re.compile(r"(\.)?([A-Za-z_][A-Za-z0-9_]*)|\['((?:[^'\\]|\\.)*)'\]|\[(\d+)\]")
_UNESCAPE = re.compile(r"\\(.)")
# Past this many choices a message lists the first few: a Training step has 50 members.
_MAX_CHOICES = 12


@functools.cache
def _schema() -> dict[str, Any]:
    with _SCHEMA_FILE.open(encoding="utf-8") as fh:
        return json.load(fh)


def schema_step_types() -> frozenset[str]:
    """The step ``Type`` strings that have a property schema (others are not checked)."""
    return frozenset(_schema()["steps"])


def parse_property_path(path: str) -> list[PathSegment]:
    """Split ``A.B['k'].C[0]`` into ``["A", "B", ("k",), "C", 0]``.

    Raises ``ValueError`` naming the character where the path stops making sense.
    """
    segments: list[PathSegment] = []
    pos = 0
    while pos < len(path):
        match = _SEGMENT.match(path, pos)
        # A member needs a dot unless it opens the path; "A..B", ".A" and "A B" all stop here.
        if match is None or (match.group(2) is not None and bool(match.group(1)) != bool(segments)):
            raise ValueError(f"malformed property path {path!r} at character {pos}")
        _dot, member, key, index = match.groups()
        if member is not None:
            segments.append(member)
        elif key is not None:
            segments.append((_UNESCAPE.sub(r"\1", key),))
        else:
            segments.append(int(index))
        pos = match.end()
    if not segments:
        raise ValueError("empty property path")
    return segments


def format_property_path(segments: Sequence[PathSegment]) -> str:
    """The inverse of :func:`parse_property_path`."""
    out: list[str] = []
    for seg in segments:
        if isinstance(seg, tuple):
            escaped = seg[0].replace("\\", "\\\\").replace("'", "\\'")
            out.append(f"['{escaped}']")
        elif isinstance(seg, int):
            out.append(f"[{seg}]")
        else:
            out.append(f".{seg}" if out else seg)
    return "".join(out)


def _segments(path: str | Sequence[Any]) -> list[PathSegment]:
    if isinstance(path, str):
        return parse_property_path(path)
    # Already split (for instance the definition model's path tuples, whose map keys carry ``.key``).
    out: list[PathSegment] = []
    for seg in path:
        key = getattr(seg, "key", None)
        out.append((key,) if isinstance(key, str) else seg)
    return out


def _kind(ref: str) -> str:
    if ref.startswith("["):
        return "list"
    if ref.startswith("{"):
        return "map"
    if ref in _SCALARS or ref in (_ANY, _JSON):
        return ref
    return "structure"


def _describe(ref: str) -> str:
    """``ref`` as a reader would call it: "a list of ProcessingOutput", "a string", "an integer"."""
    kind = _kind(ref)
    if kind in ("list", "map"):
        return f"a {kind} of {_noun(ref[1:-1])}"
    if kind == "structure":
        return f"a {ref.rsplit('.', 1)[-1].lstrip('@')}"
    if kind == _JSON:
        return "a JSON document string"
    return "an integer" if kind == "integer" else f"a {kind}"


def _noun(ref: str) -> str:
    kind = _kind(ref)
    if kind == "structure":
        return ref.rsplit(".", 1)[-1]
    if kind in ("list", "map"):
        return _describe(ref)[2:].replace(kind, kind + "s", 1)
    return "values of any type" if kind == _ANY else f"{kind}s"


def _suggest(wrong: str, choices: Sequence[str]) -> str:
    import difflib  # only on the error path: it is a tenth of this module's import time

    exact = [c for c in choices if c.lower() == wrong.lower()]
    close = exact or difflib.get_close_matches(wrong, choices, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    names = sorted(choices)
    listed = ", ".join(names[:_MAX_CHOICES])
    if len(names) > _MAX_CHOICES:
        listed += f", ... ({len(names)} in all)"
    return f"valid: {listed}"


def _walk(step_type: str, path: str | Sequence[Any]) -> tuple[str | None, str | None]:
    """(ref at the end of the path, None) or (None, why the path is wrong); (None, None) if unchecked."""
    schema = _schema()
    ref = schema["steps"].get(step_type)
    if ref is None:
        return None, None
    try:
        segments = _segments(path)
    except ValueError as err:
        return None, str(err)
    at = _At(step_type, schema["shapes"], f"{'an' if step_type[:1] in 'AEIOU' else 'a'} {step_type} step")
    for seg in segments:
        if _kind(ref) in (_ANY, _JSON):
            # The service does not describe what is below (callback outputs, ForEach iteration outputs,
            # the JSON document of a Job step).
            return _ANY, None
        if isinstance(seg, str):
            ref, why = at.member(ref, seg)
        elif isinstance(seg, tuple):
            ref, why = at.named(ref, seg)
        elif isinstance(seg, int) and not isinstance(seg, bool):
            ref, why = at.index(ref, seg)
        else:
            return None, f"unexpected property path segment {seg!r}"
        if why is not None:
            return None, why
        at.done.append(seg)
    return ref, None


@dataclass
class _At:
    """Where a walk down a step's properties is: one method a segment kind, each returning the shape
    reached or why the segment does not apply there."""

    step_type: str
    shapes: dict[str, Any]
    where: str
    done: list[PathSegment] = field(default_factory=list)

    @property
    def here(self) -> str:
        return format_property_path(self.done)

    def member(self, ref: str, seg: str) -> tuple[str | None, str | None]:
        """``.Name``"""
        kind, here, where = _kind(ref), self.here, self.where
        if kind == "structure":
            members = self.shapes[ref]
            if not members:
                return None, f"{self.step_type} steps have no properties"
            if seg not in members:
                owner = f"a property of {where}" if not self.done else f"a member of {here} in {where}"
                return None, f"{seg!r} is not {owner}; {_suggest(seg, list(members))}"
            return members[seg], None
        if kind == "list":
            inner = ref[1:-1]
            hint = f"{here}[0]" + (f" or {here}['<name>']" if _kind(inner) == "structure" else "")
            return None, f"{here} in {where} is {_describe(ref)}: index it ({hint}) before '.{seg}'"
        if kind == "map":
            return None, f"{here} in {where} is {_describe(ref)}: index it ({here}['<key>']) before '.{seg}'"
        return None, f"{here} in {where} is {_describe(ref)} and has no member {seg!r}"

    def named(self, ref: str, seg: tuple[str]) -> tuple[str | None, str | None]:
        """``['name']``"""
        kind, here, where = _kind(ref), self.here, self.where
        if kind == "map":
            return ref[1:-1], None
        if kind == "list" and _kind(ref[1:-1]) == "structure":
            # A named element (Outputs['train'] matches OutputName); the service resolves the name.
            return ref[1:-1], None
        if kind == "list":
            return None, (f"{here} in {where} is {_describe(ref)}, which have no names: "
                          f"index it by position ({here}[0]), not {format_property_path([seg])}")
        if kind == "structure" and not self.done and not self.shapes[ref]:
            return None, f"{self.step_type} steps have no properties"
        member = kind == "structure" and seg[0] in self.shapes[ref]
        fix = f"; did you mean '{format_property_path([*self.done, seg[0]])}'?" if member else ""
        return None, f"{here or 'the step'} in {where} is {_describe(ref)}, not a map or list{fix}"

    def index(self, ref: str, seg: int) -> tuple[str | None, str | None]:
        """``[0]``"""
        kind, here, where = _kind(ref), self.here, self.where
        if kind == "list":
            return ref[1:-1], None
        if kind == "map":
            return None, f"{here} in {where} is {_describe(ref)}: index it by key ({here}['<key>']), not [{seg}]"
        return None, f"{here or 'the step'} in {where} is {_describe(ref)}, not a list"


def validate_property_path(step_type: str, path: str | Sequence[Any]) -> str | None:
    """None if ``path`` (relative to the step, e.g. ``ModelArtifacts.S3ModelArtifacts``) exists on a step of
    ``step_type``, else a one-sentence reason that names the bad segment and the closest valid choice.

    Step types without a schema (raw or unknown types) are not checked: None.
    """
    return _walk(step_type, path)[1]


def property_type(step_type: str, path: str | Sequence[Any]) -> str | None:
    """The type of the value at ``path``: ``string``, ``integer``, ``float``, ``boolean``, ``timestamp``,
    ``structure``, ``list``, ``map``, or ``any`` when the service does not say (callback outputs, ForEach
    iteration outputs). None when the step type has no schema or the path is invalid.
    """
    ref, _ = _walk(step_type, path)
    if ref is None:
        return None
    kind = _kind(ref)
    return "string" if kind == _JSON else kind


def property_members(step_type: str, path: str | Sequence[Any] = ()) -> list[str] | None:
    """The members one can write after ``path`` (the step itself when empty), for ``dir()`` and completion.

    None when the step type has no schema, the path is invalid, or the value there is not a structure.
    """
    schema = _schema()
    if step_type not in schema["steps"]:
        return None
    ref = schema["steps"][step_type] if not path else _walk(step_type, path)[0]
    if ref is None or _kind(ref) != "structure":
        return None
    return list(schema["shapes"][ref])
