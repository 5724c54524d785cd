"""The pipeline tab's page: one inline SVG per pipeline group, no script framework, nothing from a CDN.

Everything the page shows comes from a :class:`GroupView` per group (built by ``ui/app.py``), so rendering is
pure and testable. Every string from a definition or from AWS is escaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from itertools import pairwise
from typing import Any

from .graph import (
    BRANCH_FALSE,
    BRANCH_TRUE,
    DATA,
    NO_EXECUTION,
    NODE_HEIGHT,
    NODE_WIDTH,
    NOT_RUN,
    PipelineGraph,
    Step,
)

#: fill, stroke by drawn status (SageMaker's StepStatus values, plus NOT_RUN and NO_EXECUTION).
STATUS_COLOURS: dict[str, tuple[str, str]] = {
    "Succeeded": ("#e6f4ea", "#2e7d32"),
    "Failed": ("#fdecea", "#c62828"),
    "Executing": ("#e3f2fd", "#1565c0"),
    "Starting": ("#e3f2fd", "#1565c0"),
    "Stopping": ("#fff3e0", "#ef6c00"),
    "Stopped": ("#fff3e0", "#ef6c00"),
    NOT_RUN: ("#f5f5f5", "#9e9e9e"),
    NO_EXECUTION: ("#f5f5f5", "#9e9e9e"),
}
EDGE_COLOURS = {BRANCH_TRUE: "#2e7d32", BRANCH_FALSE: "#c62828", DATA: "#3f51b5", "order": "#757575"}
_LEGEND = ("Succeeded", "Executing", "Failed", "Stopped", NOT_RUN)
#: Execution statuses while which the page reloads itself.
RUNNING = ("Executing", "Stopping")
REFRESH_SECONDS = 15
_NAME_CHARS = 24


@dataclass
class GroupView:
    """What the page shows of one SageMakerPipelineGroup."""

    group_id: str
    pipeline_name: str
    graph: PipelineGraph | None = None
    #: Where the drawn definition comes from, in words ("definition of execution ...", "current definition").
    source: str = ""
    #: DescribePipelineExecution of the execution drawn (None: no execution).
    execution: dict[str, Any] | None = None
    execution_url: str | None = None
    dag_run_id: str | None = None
    dag_run_url: str | None = None
    #: step name -> URL of its Airflow task instance / of its job in the console.
    task_urls: dict[str, str] = field(default_factory=dict)
    job_urls: dict[str, str] = field(default_factory=dict)
    #: Shown instead of (error) or above (note) the graph.
    error: str | None = None
    note: str | None = None


def render_page(dag_id: str, groups: list[GroupView], message: str | None = None) -> str:
    running = any((g.execution or {}).get("PipelineExecutionStatus") in RUNNING for g in groups)
    refresh = f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">' if running else ""
    body = [f"<h1>SageMaker pipelines of DAG <code>{escape(dag_id)}</code></h1>"]
    if message:
        body.append(f'<p class="notice">{escape(message)}</p>')
    if groups:
        body.append(_legend())
    body.extend(_group(g) for g in groups)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">{refresh}'
            f"<title>SageMaker pipelines: {escape(dag_id)}</title><style>{_CSS}</style></head>"
            f"<body>{''.join(body)}<script>{_SCRIPT}</script></body></html>")


def _legend() -> str:
    items = []
    for status in _LEGEND:
        fill, stroke = STATUS_COLOURS[status]
        items.append(f'<span class="chip" style="background:{fill};border-color:{stroke}">{escape(status)}</span>')
    items.append('<span class="key"><svg width="36" height="8"><line x1="0" y1="4" x2="36" y2="4" '
                 f'stroke="{EDGE_COLOURS["order"]}" stroke-width="2"/></svg>DependsOn</span>')
    items.append('<span class="key"><svg width="36" height="8"><line x1="0" y1="4" x2="36" y2="4" '
                 f'stroke="{EDGE_COLOURS[DATA]}" stroke-width="2" stroke-dasharray="6 4"/></svg>'
                 "data (property reference)</span>")
    items.append(f'<span class="key" style="color:{EDGE_COLOURS[BRANCH_TRUE]}">true</span>'
                 f'<span class="key" style="color:{EDGE_COLOURS[BRANCH_FALSE]}">false</span>'
                 '<span class="key">condition branches</span>')
    return f'<div class="legend">{"".join(items)}</div>'


def _group(view: GroupView) -> str:
    parts = [f'<section class="group" id="group-{escape(view.group_id)}">',
             f"<h2>{escape(view.group_id)} <small>pipeline <code>{escape(view.pipeline_name)}</code></small></h2>"]
    parts.append(_execution_line(view))
    if view.note:
        parts.append(f'<p class="notice">{escape(view.note)}</p>')
    if view.error:
        parts.append(f'<p class="error">{escape(view.error)}</p>')
    if view.graph is not None:
        hint = "Click a step for its Airflow task; job \u2197 opens its job in the SageMaker console."
        parts.append(f'<p class="source">{escape(" ".join(filter(None, [view.source, hint])))}</p>')
        parts.append(f'<div class="canvas">{render_svg(view.graph, view.task_urls, view.job_urls)}</div>')
    parts.append("</section>")
    return "".join(parts)


def _execution_line(view: GroupView) -> str:
    execution = view.execution
    if not execution:
        return '<p class="meta">No execution yet.</p>'
    status = str(execution.get("PipelineExecutionStatus", "?"))
    fill, stroke = STATUS_COLOURS.get(status, STATUS_COLOURS[NOT_RUN])
    name = execution.get("PipelineExecutionDisplayName") or execution.get("PipelineExecutionArn", "")
    label = escape(str(name))
    if view.execution_url:
        label = _link(view.execution_url, label, external=True)
    items = [f"Latest execution {label}",
             f'<span class="chip" style="background:{fill};border-color:{stroke}">{escape(status)}</span>']
    if execution.get("CreationTime"):
        items.append(f"started {escape(str(execution['CreationTime']))}")
    if view.dag_run_id:
        run = escape(view.dag_run_id)
        items.append("DAG run " + (_link(view.dag_run_url, run) if view.dag_run_url else run))
    reason = execution.get("FailureReason")
    line = " · ".join(items)
    if reason:
        line += f'<br><span class="reason">{escape(str(reason))}</span>'
    return f'<p class="meta">{line}</p>'


def _link(url: str, label: str, external: bool = False) -> str:
    target = ' target="_blank" rel="noopener"' if external else ""
    return f'<a href="{escape(url)}"{target}>{label}</a>'


def render_svg(graph: PipelineGraph, task_urls: dict[str, str] | None = None,
               job_urls: dict[str, str] | None = None) -> str:
    """The graph (laid out already, see graph.layout) as an ``<svg>`` element."""
    task_urls, job_urls = task_urls or {}, job_urls or {}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="pipeline" width="{graph.width:.0f}" '
           f'height="{graph.height:.0f}" viewBox="0 0 {graph.width:.0f} {graph.height:.0f}" role="img">',
           "<defs>"]
    for kind, colour in EDGE_COLOURS.items():
        out.append(f'<marker id="arrow-{kind}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
                   f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/>'
                   "</marker>")
    out.append("</defs>")
    for edge in graph.edges:
        out.append(_edge(edge, graph.steps[edge.source]))
    for step in graph.steps.values():
        out.append(_node(step, task_urls.get(step.name), job_urls.get(step.name)))
    out.append("</svg>")
    return "".join(out)


def _edge(edge: Any, source: Step) -> str:
    points = edge.points
    if len(points) < 2:
        return ""
    path = [f"M{points[0][0]:.1f},{points[0][1]:.1f}"]
    for (x0, y0), (x1, y1) in pairwise(points):
        middle = (y0 + y1) / 2  # vertical tangents at both ends: smooth S-curves between layers
        path.append(f"C{x0:.1f},{middle:.1f} {x1:.1f},{middle:.1f} {x1:.1f},{y1:.1f}")
    colour = EDGE_COLOURS[edge.kind]
    dash = ' stroke-dasharray="6 4"' if edge.kind == DATA else ""
    # The branch a condition did not take is faded.
    outcome = source.outcome
    faded = outcome is not None and edge.kind in (BRANCH_TRUE, BRANCH_FALSE) and (edge.kind == BRANCH_TRUE) != outcome
    opacity = ' opacity="0.35"' if faded else ""
    parts = [f'<g class="edge edge-{edge.kind}" data-source="{escape(edge.source)}" '
             f'data-target="{escape(edge.target)}"{opacity}>'
             f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="1.8"{dash} '
             f'marker-end="url(#arrow-{edge.kind})"/>']
    if edge.label:
        (x0, y0), (x1, y1) = points[0], points[1]
        lx, ly = x0 + (x1 - x0) * 0.3, y0 + (y1 - y0) * 0.35
        parts.append(f'<text x="{lx:.1f}" y="{ly:.1f}" class="edge-label" fill="{colour}" '
                     f'text-anchor="middle">{escape(edge.label)}</text>')
    parts.append("</g>")
    return "".join(parts)


def _node(step: Step, task_url: str | None, job_url: str | None) -> str:
    fill, stroke = STATUS_COLOURS.get(step.status, STATUS_COLOURS[NOT_RUN])
    x, y = step.x, step.y
    name = step.display_name or step.name
    shown = name if len(name) <= _NAME_CHARS else name[: _NAME_CHARS - 1] + "\u2026"
    # With no execution at all, every step is grey and the page says why: the type alone is enough.
    detail = step.type if step.status == NO_EXECUTION else f"{step.type} \u00b7 {step.status}"
    if step.outcome is not None:
        detail += f" \u00b7 {'true' if step.outcome else 'false'}"
    tooltip = [f"{step.name} ({step.type}): {step.status}"]
    entry = step.entry or {}
    for key in ("StartTime", "EndTime"):
        if entry.get(key):
            tooltip.append(f"{key}: {entry[key]}")
    if step.failure_reason:
        tooltip.append(f"FailureReason: {step.failure_reason}")
    if step.resource_arn:
        tooltip.append(step.resource_arn)
    if task_url:
        tooltip.append("click: the Airflow task")
    box = (f'<rect x="{x:.1f}" y="{y:.1f}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="8" fill="{fill}" '
           f'stroke="{stroke}" stroke-width="2"/>'
           f'<rect x="{x:.1f}" y="{y:.1f}" width="6" height="{NODE_HEIGHT}" rx="3" fill="{stroke}"/>'
           f'<text x="{x + 16:.1f}" y="{y + 24:.1f}" class="step-name">{escape(shown)}</text>'
           f'<text x="{x + 16:.1f}" y="{y + 44:.1f}" class="step-detail">{escape(detail)}</text>'
           f"<title>{escape(chr(10).join(tooltip))}</title>")
    if task_url:
        box = f'<a href="{escape(task_url)}" class="task-link">{box}</a>'
    job = ""
    if job_url:
        job = (f'<a href="{escape(job_url)}" target="_blank" rel="noopener" class="job-link">'
               f'<text x="{x + NODE_WIDTH - 10:.1f}" y="{y + 16:.1f}" text-anchor="end">job \u2197</text></a>')
    return (f'<g class="step" data-step="{escape(step.name)}" data-status="{escape(step.status)}">'
            f"{box}{job}</g>")


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:16px;color:#1f2328;background:#fff}
h1{font-size:18px;margin:0 0 8px}h2{font-size:16px;margin:20px 0 4px}h2 small{font-weight:normal;color:#57606a}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.95em}
.legend{display:flex;flex-wrap:wrap;gap:10px;align-items:center;font-size:12px;margin:8px 0}
.chip{border:1.5px solid;border-radius:10px;padding:1px 8px;font-size:12px}
.key{display:inline-flex;align-items:center;gap:4px}
.meta,.source{font-size:13px;color:#57606a;margin:4px 0}.reason{color:#c62828}
.notice{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:8px 12px;font-size:13px}
.error{background:#fdecea;border:1px solid #c62828;border-radius:6px;padding:8px 12px;font-size:13px;
white-space:pre-wrap}
.canvas{overflow:auto;border:1px solid #d0d7de;border-radius:6px;background:#fcfcfd}
svg.pipeline text{font-family:inherit}.step-name{font-size:14px;font-weight:600;fill:#1f2328}
.step-detail{font-size:12px;fill:#57606a}.edge-label{font-size:12px;font-weight:600}
.job-link text{font-size:11px;fill:#0969da}.task-link:hover rect:first-child{stroke-width:3}
a{color:#0969da}
"""

# The page is shown in the Airflow UI's iframe, whose sandbox lets scripts run with the page's (same) origin
# but does not let the frame navigate the whole window or open tabs. A link clicked here is followed from
# the top window instead: an anchor made in the top document, clicked there, so the Airflow page opens in
# place of the UI (not inside the frame) and console links open in a new tab. Opened on its own, the page
# keeps the browser's default behaviour.
_SCRIPT = """
document.addEventListener('click', function (event) {
  var link = event.target.closest && event.target.closest('a[href]');
  if (!link || window.top === window) return;
  var top;
  try { top = window.top.document; } catch (error) { return; }
  event.preventDefault();
  var proxy = top.createElement('a');
  proxy.href = new URL(link.getAttribute('href'), location.href).href;
  if (link.getAttribute('target') === '_blank') { proxy.target = '_blank'; proxy.rel = 'noopener'; }
  top.body.appendChild(proxy);
  proxy.click();
  proxy.remove();
});
"""
