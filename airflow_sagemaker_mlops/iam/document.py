"""Policy documents: grants (one permission one role needs, and why) merged into sorted IAM statements.

:func:`build_document` is where stability comes from: statements, actions and resources sorted, Sids derived
from content and numbered when two statements would share one, so a policy is a pure function of its grants.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from airflow_sagemaker_mlops.definition.validate import Problem

POLICY_VERSION = "2012-10-17"


@dataclass(frozen=True, order=True)
class Condition:
    """One IAM condition: ``{operator: {key: values}}``."""

    operator: str
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Grant:
    """One permission one role needs, and why (``step``: the step that needs it, None: the pipeline)."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    reason: str
    step: str | None = None
    conditions: tuple[Condition, ...] = ()


@dataclass
class StatementReport:
    """One statement of a generated document, with the reasons and steps of the grants merged into it."""

    sid: str
    statement: dict[str, Any]
    reasons: list[str]
    steps: list[str]


@dataclass
class PolicyReport:
    """A generated policy with what produced it.

    ``role``: ``"pipeline"``, ``"airflow"`` or the ARN of a step's job role. ``grants`` are the raw
    requirements (with the step each comes from), for tools that check a policy against what a run did.
    """

    role: str
    role_arn: str | None
    document: dict[str, Any]
    statements: list[StatementReport]
    widenings: list[str]
    notes: list[str]
    problems: list[Problem]
    grants: list[Grant]

    def to_json(self) -> str:
        return json.dumps(self.document, indent=2)


def _sid(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", text)[:100] or "Statement"


_Slot = tuple[str, tuple[str, ...], tuple[Condition, ...]]


def _group(grants: Iterable[Grant]) -> dict[_Slot, list[Grant]]:
    """Grants by (Sid, actions, conditions); one-key conditions that differ only in values are merged."""
    groups: dict[_Slot, list[Grant]] = {}
    merged: dict[tuple[str, tuple[str, ...], str, str], _Slot] = {}
    for grant in grants:
        sid, actions = _sid(grant.sid), tuple(sorted(set(grant.actions)))
        conditions = tuple(sorted(set(grant.conditions)))
        if len(conditions) == 1:
            # One condition key: values of one key are ORed, so grants that differ only in those values
            # merge into one statement (several s3:prefix patterns on one bucket).
            (cond,) = conditions
            slot = (sid, actions, cond.operator, cond.key)
            previous = merged.get(slot)
            if previous is not None:
                members = groups.pop(previous)
                values = tuple(sorted(set(previous[2][0].values) | set(cond.values)))
                conditions = (Condition(cond.operator, cond.key, values),)
                groups[(sid, actions, conditions)] = members
            merged[slot] = (sid, actions, conditions)
        groups.setdefault((sid, actions, conditions), []).append(grant)
    return groups


def _statement(sid: str, actions: tuple[str, ...], conditions: tuple[Condition, ...],
               members: list[Grant]) -> dict[str, Any]:
    resources = sorted({r for g in members for r in g.resources})
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": list(actions),
        "Resource": resources if len(resources) != 1 else resources[0],
    }
    if conditions:
        block: dict[str, dict[str, Any]] = {}
        for cond in conditions:
            values = sorted(set(cond.values))
            block.setdefault(cond.operator, {})[cond.key] = values if len(values) != 1 else values[0]
        statement["Condition"] = block
    return statement


def build_document(grants: Iterable[Grant]) -> tuple[dict[str, Any], list[StatementReport]]:
    """Merge grants into statements: one per (Sid, actions, conditions), resources unioned, all sorted.

    Grants that share a Sid but not the same actions or conditions get numbered Sids rather than being
    merged, so merging never gives an action a resource it was not granted for.
    """
    groups = _group(grants)
    reports: list[StatementReport] = []
    used: dict[str, int] = {}
    for sid, actions, conditions in sorted(groups):
        members = groups[(sid, actions, conditions)]
        used[sid] = used.get(sid, 0) + 1
        final_sid = sid if used[sid] == 1 else f"{sid}{used[sid]}"
        reasons = sorted(dict.fromkeys(g.reason for g in members))
        steps = sorted({g.step for g in members if g.step})
        reports.append(StatementReport(final_sid, _statement(final_sid, actions, conditions, members), reasons,
                                       steps))
    reports.sort(key=lambda r: r.sid)
    return {"Version": POLICY_VERSION, "Statement": [r.statement for r in reports]}, reports
