"""A pipeline definition as a drawable graph: steps, typed edges, a layered top-to-bottom layout.

Pure Python on the definition JSON (what SageMaker stores, whatever emitted it), no Airflow and no AWS here:
the plugin's page (``ui/app.py``) feeds it the definition and the execution's step list, ``ui/render.py``
draws it.

Layout (a small Sugiyama-style one): each step goes one layer below its lowest upstream step (longest path);
an edge spanning several layers gets a waypoint per layer it crosses, so it bends around the steps in between;
the order inside each layer comes from barycenter sweeps keeping the order with the fewest crossings; x
positions pull each step toward its neighbours, then push apart to a minimum gap.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from airflow_sagemaker_mlops.local.definition import iter_step_refs

#: Edge kinds, in the order one edge wins over another between the same two steps.
BRANCH_TRUE, BRANCH_FALSE, DATA, ORDER = "true", "false", "data", "order"
_KIND_RANK = {BRANCH_TRUE: 0, BRANCH_FALSE: 0, DATA: 1, ORDER: 2}

#: Drawn status of a step with no entry in the execution's step list.
NOT_RUN = "Not run"
#: Drawn status of every step when there is no execution to colour the graph with.
NO_EXECUTION = "No execution"

NODE_WIDTH = 200
NODE_HEIGHT = 62
H_GAP = 48
V_GAP = 64
MARGIN = 24
_SWEEPS = 8


class DefinitionError(ValueError):
    """The pipeline definition cannot be drawn (not JSON, no Steps list, a step without a name)."""


@dataclass
class Step:
    name: str
    type: str
    display_name: str | None = None
    #: (condition step, "true" | "false") when nested in a condition's IfSteps / ElseSteps.
    branch: tuple[str, str] | None = None
    status: str = NO_EXECUTION
    #: The latest ListPipelineExecutionSteps entry of this step, if it ran.
    entry: dict[str, Any] | None = None
    #: Layout: layer (row), position in the row, top-left corner.
    layer: int = 0
    order: int = 0
    x: float = 0.0
    y: float = 0.0

    @property
    def failure_reason(self) -> str | None:
        return (self.entry or {}).get("FailureReason")

    @property
    def outcome(self) -> bool | None:
        """A condition step's outcome, once it has run."""
        value = ((self.entry or {}).get("Metadata") or {}).get("Condition", {}).get("Outcome")
        return None if value is None else str(value).lower() == "true"

    @property
    def resource_arn(self) -> str | None:
        """The ARN of the job (model, model package, ...) the step created, from its metadata."""
        for value in ((self.entry or {}).get("Metadata") or {}).values():
            if isinstance(value, dict) and isinstance(value.get("Arn"), str):
                return value["Arn"]
        return None


@dataclass
class Edge:
    source: str
    target: str
    kind: str
    #: A DependsOn trigger other than success ("Failed", "Stopped", "Any"), drawn as the edge's label.
    trigger: str | None = None
    #: Layout: the points the edge passes through, source bottom to target top.
    points: list[tuple[float, float]] = field(default_factory=list)

    @property
    def label(self) -> str | None:
        if self.kind in (BRANCH_TRUE, BRANCH_FALSE):
            return self.kind
        return f"on {self.trigger}" if self.trigger else None


@dataclass
class TabGraph:
    steps: dict[str, Step]
    edges: list[Edge]
    width: float = 0.0
    height: float = 0.0

    def upstream(self, name: str) -> list[str]:
        return [e.source for e in self.edges if e.target == name]


def tab_graph(definition: str | dict[str, Any]) -> TabGraph:
    """Steps and edges of a definition: DependsOn (with triggers), data references, condition branches."""
    if isinstance(definition, str):
        try:
            definition = json.loads(definition)
        except ValueError as exc:
            raise DefinitionError(f"the pipeline definition is not JSON: {exc}") from None
    if not isinstance(definition, dict) or not isinstance(definition.get("Steps"), list):
        raise DefinitionError("the pipeline definition has no 'Steps' list")
    steps: dict[str, Step] = {}
    edges: dict[tuple[str, str], Edge] = {}

    def link(source: str, target: str, kind: str, trigger: str | None = None) -> None:
        if source == target:
            return
        known = edges.get((source, target))
        if known is None or _KIND_RANK[kind] < _KIND_RANK[known.kind]:
            edges[(source, target)] = Edge(source, target, kind, trigger)

    def add(raw: Any, branch: tuple[str, str] | None) -> None:
        if not isinstance(raw, dict) or not isinstance(raw.get("Name"), str):
            raise DefinitionError(f"a step of the pipeline definition has no name: {str(raw)[:200]}")
        name = raw["Name"]
        steps[name] = Step(name, str(raw.get("Type", "?")), raw.get("DisplayName"), branch)
        if branch is not None:
            link(branch[0], name, branch[1])
        for entry in raw.get("DependsOn") or []:
            if isinstance(entry, dict):  # {"Step": ..., "Trigger": "Failed" | "Stopped" | "Any"}
                link(str(entry.get("Step")), name, ORDER, entry.get("Trigger"))
            else:
                link(str(entry), name, ORDER)
        arguments = raw.get("Arguments") or {}
        nested_keys = ("IfSteps", "ElseSteps") if raw.get("Type") == "Condition" else ()
        own = {k: v for k, v in raw.items() if k not in ("DependsOn", "Arguments")}
        own["Arguments"] = {k: v for k, v in arguments.items() if k not in nested_keys} \
            if isinstance(arguments, dict) else arguments
        for ref in iter_step_refs(own):
            link(ref, name, DATA)
        for key, outcome in zip(nested_keys, (BRANCH_TRUE, BRANCH_FALSE), strict=False):
            for child in arguments.get(key) or []:
                add(child, (name, outcome))

    for raw in definition["Steps"]:
        add(raw, None)
    # References to steps the definition does not have (SageMaker would refuse it) are dropped, not drawn.
    kept = [e for e in edges.values() if e.source in steps and e.target in steps]
    return TabGraph(steps, kept)


def apply_statuses(graph: TabGraph, entries: list[dict[str, Any]] | None) -> None:
    """Colour the steps with an execution's step list (oldest first, as ListPipelineExecutionSteps gives it
    with SortOrder=Ascending): the last entry of a step wins (a retried execution runs a step again).
    ``None``: there is no execution; every step is drawn as such."""
    latest: dict[str, dict[str, Any]] = {}
    for entry in entries or []:
        if isinstance(entry, dict) and entry.get("StepName"):
            latest[entry["StepName"]] = entry
    for step in graph.steps.values():
        step.entry = latest.get(step.name)
        if entries is None:
            step.status = NO_EXECUTION
        else:
            step.status = str(step.entry.get("StepStatus") or NOT_RUN) if step.entry else NOT_RUN


# -- layout ---------------------------------------------------------------------------------------------
def layout(graph: TabGraph) -> TabGraph:
    """Set every step's position and every edge's points; returns the graph."""
    names = list(graph.steps)
    if not names:
        graph.width, graph.height = 2 * MARGIN, 2 * MARGIN
        return graph
    flipped = _acyclic(names, graph.edges)
    edges = graph.edges
    layer = _layers(names, edges)
    # Long edges get a virtual waypoint node per crossed layer.
    rows: dict[int, list[str]] = {}
    for name in names:
        rows.setdefault(layer[name], []).append(name)
    chains: dict[int, list[str]] = {}  # edge index -> its virtual nodes, top down
    up: dict[str, list[str]] = {n: [] for n in names}
    down: dict[str, list[str]] = {n: [] for n in names}
    for index, edge in enumerate(edges):
        previous = edge.source
        chain: list[str] = []
        for row in range(layer[edge.source] + 1, layer[edge.target]):
            virtual = f"\0{index}:{row}"
            rows[row].append(virtual)
            layer[virtual] = row
            up[virtual], down[virtual] = [], []
            chain.append(virtual)
            up[virtual].append(previous)
            down[previous].append(virtual)
            previous = virtual
        up[edge.target].append(previous)
        down[previous].append(edge.target)
        chains[index] = chain
    order = _order([rows[r] for r in sorted(rows)], up, down)
    x = _x_positions(order, up, down)
    for row_index, row in enumerate(order):
        for position, name in enumerate(row):
            step = graph.steps.get(name)
            if step is not None:
                step.layer, step.order = row_index, position
                step.x, step.y = x[name] - NODE_WIDTH / 2, MARGIN + row_index * (NODE_HEIGHT + V_GAP)
    for index, edge in enumerate(edges):
        source, target = graph.steps[edge.source], graph.steps[edge.target]
        points = [(source.x + NODE_WIDTH / 2, source.y + NODE_HEIGHT)]
        for virtual in chains[index]:
            y = MARGIN + layer[virtual] * (NODE_HEIGHT + V_GAP)
            points += [(x[virtual], y), (x[virtual], y + NODE_HEIGHT)]
        points.append((target.x + NODE_WIDTH / 2, target.y))
        edge.points = points
        if id(edge) in flipped:  # back to its own direction: the arrow points up
            edge.source, edge.target, edge.points = edge.target, edge.source, points[::-1]
    graph.width = max(s.x for s in graph.steps.values()) + NODE_WIDTH + MARGIN
    graph.height = MARGIN + len(order) * (NODE_HEIGHT + V_GAP) - V_GAP + MARGIN
    return graph


def _acyclic(names: list[str], edges: list[Edge]) -> set[int]:
    """Turn around each edge closing a cycle (SageMaker rejects such definitions, but the page must still
    draw whatever it is given), so every edge points down; returns the ids of the edges turned around."""
    index = {n: i for i, n in enumerate(names)}
    successors: dict[str, list[Edge]] = {n: [] for n in names}
    for edge in edges:
        successors[edge.source].append(edge)
    state: dict[str, int] = {}
    reversed_edges: set[int] = set()

    def visit(start: str) -> None:  # iterative DFS: deep pipelines must not hit the recursion limit
        stack = [(start, iter(successors[start]))]
        state[start] = 1
        while stack:
            node, pending = stack[-1]
            edge = next(pending, None)
            if edge is None:
                state[node] = 2
                stack.pop()
            elif state.get(edge.target) == 1:
                reversed_edges.add(id(edge))
            elif edge.target not in state:
                state[edge.target] = 1
                stack.append((edge.target, iter(successors[edge.target])))

    for name in sorted(names, key=index.__getitem__):
        if name not in state:
            visit(name)
    for edge in edges:
        if id(edge) in reversed_edges:
            edge.source, edge.target = edge.target, edge.source
    return reversed_edges


def _layers(names: list[str], edges: list[Edge]) -> dict[str, int]:
    """Longest path from the sources, in a topological order (Kahn); sources then move down."""
    preds: dict[str, list[str]] = {n: [] for n in names}
    succs: dict[str, list[str]] = {n: [] for n in names}
    for edge in edges:
        preds[edge.target].append(edge.source)
        succs[edge.source].append(edge.target)
    missing = {n: len(preds[n]) for n in names}
    ready = deque(n for n in names if not missing[n])
    layer = dict.fromkeys(names, 0)
    while ready:
        node = ready.popleft()
        for succ in succs[node]:
            layer[succ] = max(layer[succ], layer[node] + 1)
            missing[succ] -= 1
            if not missing[succ]:
                ready.append(succ)
    # A step without upstream steps sits right above its first downstream step, not at the top with an
    # edge down the whole picture.
    for name in names:
        if not preds[name] and succs[name]:
            layer[name] = min(layer[s] for s in succs[name]) - 1
    return layer


def _order(rows: list[list[str]], up: dict[str, list[str]], down: dict[str, list[str]]) -> list[list[str]]:
    """Barycenter sweeps down and up; the ordering with the fewest crossings wins."""
    best = [list(r) for r in rows]
    best_crossings = _crossings(best, down)
    current = [list(r) for r in rows]
    for sweep in range(_SWEEPS):
        downward = sweep % 2 == 0
        indices = range(1, len(current)) if downward else range(len(current) - 2, -1, -1)
        for i in indices:
            fixed = current[i - 1] if downward else current[i + 1]
            position = {n: p for p, n in enumerate(fixed)}
            neighbours = up if downward else down
            keyed = []
            for p, node in enumerate(current[i]):
                around = [position[n] for n in neighbours[node] if n in position]
                keyed.append((sum(around) / len(around) if around else p, p, node))
            current[i] = [node for _, _, node in sorted(keyed)]
        crossings = _crossings(current, down)
        if crossings < best_crossings:
            best, best_crossings = [list(r) for r in current], crossings
    return best


def _crossings(rows: list[list[str]], down: dict[str, list[str]]) -> int:
    total = 0
    for upper, lower in pairwise(rows):
        position = {n: p for p, n in enumerate(lower)}
        pairs = [(i, position[t]) for i, n in enumerate(upper) for t in down[n] if t in position]
        total += sum(1 for a, (i1, j1) in enumerate(pairs) for i2, j2 in pairs[a + 1:]
                     if (i1 - i2) * (j1 - j2) < 0)
    return total


def _x_positions(rows: list[list[str]], up: dict[str, list[str]], down: dict[str, list[str]]) -> dict[str, float]:
    """Centre x of every node: start packed, then pull each row toward its neighbours (down, then up) and
    push apart to the minimum gap, keeping the row's order."""
    step = NODE_WIDTH + H_GAP
    widest = max(len(r) for r in rows)
    x: dict[str, float] = {}
    for row in rows:
        offset = (widest - len(row)) * step / 2
        for p, node in enumerate(row):
            x[node] = MARGIN + NODE_WIDTH / 2 + offset + p * step
    for _ in range(2):
        for neighbours, sequence in ((up, rows[1:]), (down, rows[-2::-1])):
            for row in sequence:
                wanted = []
                for node in row:
                    around = [x[n] for n in neighbours[node]]
                    wanted.append(sum(around) / len(around) if around else x[node])
                placed = _separate(wanted, step)
                for node, value in zip(row, placed, strict=True):
                    x[node] = value
    left = min(x.values()) - NODE_WIDTH / 2
    return {node: value - left + MARGIN for node, value in x.items()}


def _separate(wanted: list[float], gap: float) -> list[float]:
    """Positions as close to ``wanted`` as a left-to-right sweep allows with ``gap`` between neighbours,
    shifted so the row's mean displacement is zero."""
    placed: list[float] = []
    for value in wanted:
        placed.append(max(value, placed[-1] + gap) if placed else value)
    shift = sum(w - p for w, p in zip(wanted, placed, strict=True)) / len(placed)
    return [p + shift for p in placed]
