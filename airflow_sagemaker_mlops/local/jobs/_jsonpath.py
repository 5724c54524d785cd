"""The JSONPath subset SageMaker batch transform filters use: ``$``, ``$.a.b``, ``$['a']``,
``$[1]``, ``$[0,2]``, ``$[1:]``, ``$[:-1]``, ``$[-1]`` and chains of those."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from airflow_sagemaker_mlops.local.jobs._s3 import JobInputError

_SEGMENT = re.compile(
    r"""\.(?P<name>[A-Za-z_][\w-]*)            # .name
      | \[\s*'(?P<quoted>[^']*)'\s*\]          # ['name']
      | \[\s*"(?P<dquoted>[^"]*)"\s*\]         # ["name"]
      | \[(?P<selector>[-\d:,\s]+)\]           # [1], [0,2], [1:3]
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class JsonPath:
    expression: str
    segments: tuple[tuple[str, Any], ...]

    @classmethod
    def parse(cls, expression: str) -> JsonPath:
        text = expression.strip()
        if not text.startswith("$"):
            raise JobInputError(f"unsupported JSONPath {expression!r}: must start with '$'")
        pos, segments = 1, []
        while pos < len(text):
            match = _SEGMENT.match(text, pos)
            if not match:
                raise JobInputError(
                    f"unsupported JSONPath {expression!r} at {text[pos:]!r}: the local engine supports "
                    "$, .name, ['name'], [i], [i,j] and [a:b]"
                )
            if match.group("selector") is not None:
                segments.append(("select", _parse_selector(match.group("selector"), expression)))
            else:
                key = next(g for g in (match.group("name"), match.group("quoted"), match.group("dquoted"))
                           if g is not None)
                segments.append(("key", key))
            pos = match.end()
        return cls(expression, tuple(segments))

    def apply(self, value: Any) -> Any:
        for kind, arg in self.segments:
            if kind == "key":
                if not isinstance(value, dict) or arg not in value:
                    raise JobInputError(f"JSONPath {self.expression!r}: no key {arg!r} in the record")
                value = value[arg]
                continue
            if not isinstance(value, list):
                raise JobInputError(f"JSONPath {self.expression!r}: the record is not an array")
            single, parts = arg
            picked: list[Any] = []
            for part in parts:
                if isinstance(part, slice):
                    picked.extend(value[part])
                else:
                    try:
                        picked.append(value[part])
                    except IndexError:
                        raise JobInputError(
                            f"JSONPath {self.expression!r}: index {part} out of range") from None
            value = picked[0] if single else picked
        return value


def _parse_selector(text: str, expression: str) -> tuple[bool, list[int | slice]]:
    parts: list[int | slice] = []
    items = [t.strip() for t in text.split(",")]
    try:
        for item in items:
            if ":" in item:
                bounds = item.split(":")
                if len(bounds) != 2:
                    raise ValueError(item)
                start, stop = (int(b) if b.strip() else None for b in bounds)
                parts.append(slice(start, stop))
            else:
                parts.append(int(item))
    except ValueError:
        raise JobInputError(f"unsupported JSONPath selector [{text}] in {expression!r}") from None
    single = len(parts) == 1 and not isinstance(parts[0], slice)
    return single, parts
