"""The pipeline tab's page: one inline SVG per pipeline group, no script framework, nothing from a CDN.

Everything the page shows comes from a :class:`GroupView` per group (built by ``ui/app.py``), so rendering is
pure and testable. Every string from a definition or from AWS is escaped.
"""

from __future__ import annotations

import datetime as dt
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
    Step,
    TabGraph,
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
#: Execution statuses while which the page updates itself.
RUNNING = ("Executing", "Stopping")
REFRESH_SECONDS = 10
_NAME_CHARS = 24
#: Below this scale the graph is not shrunk further to fit: it stays readable and is panned instead.
MIN_FIT_SCALE = 0.6
#: Where the one-line page of a DAG without a pipeline points (served by ui/app.py).
HELP_PATH = "../help"  # relative to {URL_PREFIX}/dags/<dag_id>: works under any base path


@dataclass
class GroupView:
    """What the page shows of one SageMakerPipelineGroup."""

    group_id: str
    pipeline_name: str
    graph: TabGraph | None = None
    #: Where the drawn definition comes from, in words ("definition of execution ...", "current definition").
    source: str = ""
    #: DescribePipelineExecution of the execution drawn (None: no execution).
    execution: dict[str, Any] | None = None
    execution_url: str | None = None
    dag_run_id: str | None = None
    dag_run_url: str | None = None
    #: step name -> its Airflow task id / URL of its Airflow task instance / of its job in the console.
    task_ids: dict[str, str] = field(default_factory=dict)
    task_urls: dict[str, str] = field(default_factory=dict)
    job_urls: dict[str, str] = field(default_factory=dict)
    #: Shown instead of (error) or above (note) the graph.
    error: str | None = None
    note: str | None = None


def render_page(dag_id: str, groups: list[GroupView], message: str | None = None,
                now: dt.datetime | None = None) -> str:
    """The page. While an execution runs, its script fetches the page again every REFRESH_SECONDS and swaps
    the content in place (zoom and scroll kept); without scripts a meta refresh does the same."""
    now = now or dt.datetime.now(dt.timezone.utc)
    running = any((g.execution or {}).get("PipelineExecutionStatus") in RUNNING for g in groups)
    refresh = f'<noscript><meta http-equiv="refresh" content="{REFRESH_SECONDS}"></noscript>' if running else ""
    live = f' data-refresh="{REFRESH_SECONDS}"' if running else ""
    body = [f"<h1>SageMaker pipelines of DAG <code>{escape(dag_id)}</code>"
            f'<span class="updated">as of {escape(now.strftime("%H:%M:%S"))} UTC'
            f'{" · live" if running else ""}</span></h1>']
    if message:
        body.append(f'<p class="notice">{escape(message)}</p>')
    if groups:
        body.append(_legend())
    body.extend(_group(g, now) for g in groups)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">{refresh}'
            f"<title>SageMaker pipelines: {escape(dag_id)}</title><style>{_CSS}</style></head>"
            f'<body{live}><main id="content">{"".join(body)}</main><script>{_SCRIPT}</script></body></html>')


def render_no_pipeline(dag_id: str) -> str:
    """One line for a DAG without a pipeline group: Airflow's plugin interface shows the tab on every DAG."""
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>SageMaker pipelines: '
            f"{escape(dag_id)}</title><style>{_CSS}</style></head><body>"
            f'<p class="meta">DAG <code>{escape(dag_id)}</code> has no SageMakerPipelineGroup, so there is no '
            f'SageMaker pipeline to show (Airflow shows this tab on every DAG). '
            f'<a href="{HELP_PATH}" target="_blank" rel="noopener">How to add one</a></p>'
            f"<script>{_SCRIPT}</script></body></html>")


def render_help() -> str:
    """What the tab needs, for someone who opened it on a DAG without a pipeline."""
    example = escape(
        "from airflow_sagemaker_mlops import ProcessingStep, SageMakerPipelineGroup\n\n"
        "with DAG(\"churn\", schedule=None):\n"
        "    with SageMakerPipelineGroup(group_id=\"train\", pipeline_name=\"churn-train\",\n"
        "                                role_arn=\"arn:aws:iam::123456789012:role/SageMakerPipeline\"):\n"
        "        prep = ProcessingStep(task_id=\"prep\", job={...})  # a CreateProcessingJob request\n")
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>SageMaker pipeline tab</title>"
            f"<style>{_CSS}</style></head><body><h1>The SageMaker pipeline tab</h1>"
            "<p class=\"meta\">The tab draws the SageMaker pipelines of a DAG: one graph per "
            "<code>SageMakerPipelineGroup</code>, coloured by the steps of the group's latest execution, with a "
            "row per step, the failed step and its reason, and live updates while the execution runs. A DAG "
            "gets a pipeline by putting step operators inside a group:</p>"
            f"<pre><code>{example}</code></pre>"
            "<p class=\"meta\">The group compiles its steps into a pipeline definition when the DAG is parsed; its "
            "<code>start</code> task creates or updates the pipeline and starts an execution; each step task "
            "follows its step. The package documentation (README.md and docs/observability.md, section "
            "\u201cPipeline tab in the Airflow UI\u201d) has the details.</p></body></html>")


def human_time(value: Any, now: dt.datetime) -> str:
    """``08:01:03 UTC (4 min ago)``, with the date when it is not today; the value as given if unparsable."""
    when = _as_time(value)
    if when is None:
        return str(value)
    when = when.astimezone(dt.timezone.utc)
    clock = when.strftime("%H:%M:%S UTC") if when.date() == now.date() else when.strftime("%Y-%m-%d %H:%M UTC")
    return f"{clock} ({_ago((now - when).total_seconds())})"


def _ago(seconds: float) -> str:
    if seconds < 0:
        return "in the future"
    if seconds < 60:
        return "just now"
    for size, unit in ((86400, "day"), (3600, "h"), (60, "min")):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if unit == 'day' and count > 1 else ''} ago"
    return "just now"  # pragma: no cover - the loop always returns for seconds >= 60


def _as_time(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _took(start: Any, end: Any, now: dt.datetime) -> str | None:
    """``ran 1m 04s`` / ``running for 12.0s`` / None."""
    from airflow_sagemaker_mlops.history import format_duration

    begin = _as_time(start) if start else None
    if begin is None:
        return None
    finish = _as_time(end) if end else None
    seconds = max(0.0, ((finish or now) - begin).total_seconds())
    return f"{'ran' if finish else 'running for'} {format_duration(seconds)}"


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


def _group(view: GroupView, now: dt.datetime) -> str:
    parts = [f'<section class="group" id="group-{escape(view.group_id)}">',
             f"<h2>{escape(view.group_id)} <small>pipeline <code>{escape(view.pipeline_name)}</code></small></h2>"]
    parts.append(_execution_line(view, now))
    parts.append(_failure(view))
    if view.note:
        parts.append(f'<p class="notice">{escape(view.note)}</p>')
    if view.error:
        parts.append(f'<p class="error">{escape(view.error)}</p>')
    if view.graph is not None:
        hint = ("Click a step for its Airflow task; job \u2197 opens its job. Drag to pan, Ctrl+wheel or the "
                "buttons to zoom.")
        parts.append(f'<p class="source">{escape(" ".join(filter(None, [view.source, hint])))}</p>')
        tools = ('<div class="tools"><button type="button" data-zoom="fit" title="fit the pane">Fit</button>'
                 '<button type="button" data-zoom="out" title="zoom out">\u2212</button>'
                 '<button type="button" data-zoom="in" title="zoom in">+</button>'
                 '<button type="button" data-zoom="1" title="actual size">100%</button></div>')
        parts.append(f'<div class="viewer">{tools}<div class="canvas" id="canvas-{escape(view.group_id)}">'
                     f"{render_svg(view.graph, view.task_urls, view.job_urls, now)}</div></div>")
        parts.append(_step_table(view, now))
    parts.append("</section>")
    return "".join(parts)


def _execution_line(view: GroupView, now: dt.datetime) -> str:
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
    started = execution.get("CreationTime")
    if started:
        items.append(f"started {escape(human_time(started, now))}")
        ended = execution.get("LastModifiedTime") if status not in RUNNING else None
        took = _took(started, ended, now)
        if took:
            items.append(escape(took))
    if view.dag_run_id:
        run = escape(view.dag_run_id)
        items.append("DAG run " + (_link(view.dag_run_url, run) if view.dag_run_url else run))
    return f'<p class="meta">{" · ".join(items)}</p>'


def failed_steps(view: GroupView) -> list[Step]:
    """The steps that failed in the drawn execution, in the order they ended."""
    if view.graph is None:
        return []
    failed = [s for s in view.graph.steps.values() if s.status in ("Failed", "Stopped")]
    return sorted(failed, key=lambda s: str((s.entry or {}).get("EndTime") or ""))


def _failure(view: GroupView) -> str:
    """A failed execution says which step failed, why, and which Airflow task to open."""
    execution = view.execution or {}
    if execution.get("PipelineExecutionStatus") not in ("Failed", "Stopped"):
        return ""
    lines = []
    for step in failed_steps(view):
        reason = step.failure_reason or "no reason given"
        what = ("ended the execution by design (a Fail step)" if step.type == "Fail"
                else f"{step.status.lower()}")
        task_id = view.task_ids.get(step.name)
        task = ""
        if task_id:
            task_link = escape(task_id)
            if view.task_urls.get(step.name):
                task_link = _link(view.task_urls[step.name], f"<code>{task_link}</code>")
            task = f"<br>Look at Airflow task {task_link}: its log has the job log and what to do next."
        lines.append(f"<strong>{escape(step.name)}</strong> ({escape(step.type)}) {escape(what)}: "
                     f'<span class="reason">{escape(reason)}</span>{task}')
    if not lines:  # stopped before any step failed, or a reason on the execution only
        reason = execution.get("FailureReason") or "no reason given"
        lines.append(f'Execution {escape(str(execution.get("PipelineExecutionStatus")))}: '
                     f'<span class="reason">{escape(str(reason))}</span>')
    return f'<div class="failure">{"<hr>".join(lines)}</div>'


def _step_table(view: GroupView, now: dt.datetime) -> str:
    """Every step as a row: the graph's content in reading order, for pipelines too big to take in at once."""
    assert view.graph is not None
    steps = sorted(view.graph.steps.values(), key=lambda s: (s.layer, s.order))
    rows = []
    for step in steps:
        entry = step.entry or {}
        fill, stroke = STATUS_COLOURS.get(step.status, STATUS_COLOURS[NOT_RUN])
        started = human_time(entry["StartTime"], now) if entry.get("StartTime") else ""
        took = _took(entry.get("StartTime"), entry.get("EndTime"), now) or ""
        name = escape(step.name)
        if view.task_urls.get(step.name):
            name = _link(view.task_urls[step.name], name)
        job = _link(view.job_urls[step.name], "job \u2197", external=True) if view.job_urls.get(step.name) else ""
        rows.append(f'<tr data-step="{escape(step.name)}"><td>{name}</td><td>{escape(step.type)}</td>'
                    f'<td><span class="chip" style="background:{fill};border-color:{stroke}">'
                    f"{escape(step.status)}</span></td><td>{escape(started)}</td><td>{escape(took)}</td>"
                    f'<td class="reason">{escape(step.failure_reason or "")}</td><td>{job}</td></tr>')
    opened = " open" if len(steps) <= 12 or failed_steps(view) else ""
    return (f'<details class="steps"{opened}><summary>{len(steps)} steps</summary><table><thead><tr><th>step</th>'
            "<th>type</th><th>status</th><th>started</th><th>duration</th><th>failure reason</th><th></th>"
            f'</tr></thead><tbody>{"".join(rows)}</tbody></table></details>')


def _link(url: str, label: str, external: bool = False) -> str:
    target = ' target="_blank" rel="noopener"' if external else ""
    return f'<a href="{escape(url)}"{target}>{label}</a>'


def render_svg(graph: TabGraph, task_urls: dict[str, str] | None = None,
               job_urls: dict[str, str] | None = None, now: dt.datetime | None = None) -> str:
    """The graph (laid out already, see graph.layout) as an ``<svg>`` element. Its viewBox makes it scale:
    the page's script sizes it to fit the pane (not below MIN_FIT_SCALE) and zooms it."""
    task_urls, job_urls = task_urls or {}, job_urls or {}
    now = now or dt.datetime.now(dt.timezone.utc)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="pipeline" width="{graph.width:.0f}" '
           f'height="{graph.height:.0f}" viewBox="0 0 {graph.width:.0f} {graph.height:.0f}" role="img" '
           f'data-min-scale="{MIN_FIT_SCALE}">',
           "<defs>"]
    for kind, colour in EDGE_COLOURS.items():
        out.append(f'<marker id="arrow-{kind}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
                   f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/>'
                   "</marker>")
    out.append("</defs>")
    for edge in graph.edges:
        out.append(_edge(edge, graph.steps[edge.source]))
    for step in graph.steps.values():
        out.append(_node(step, task_urls.get(step.name), job_urls.get(step.name), now))
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


def _node(step: Step, task_url: str | None, job_url: str | None, now: dt.datetime) -> str:
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
    if entry.get("StartTime"):
        tooltip.append(f"started {human_time(entry['StartTime'], now)}")
    took = _took(entry.get("StartTime"), entry.get("EndTime"), now)
    if took:
        tooltip.append(took)
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
.updated{font-size:12px;font-weight:normal;color:#57606a;margin-left:12px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.95em}
.legend{display:flex;flex-wrap:wrap;gap:10px;align-items:center;font-size:12px;margin:8px 0}
.chip{border:1.5px solid;border-radius:10px;padding:1px 8px;font-size:12px;white-space:nowrap}
.key{display:inline-flex;align-items:center;gap:4px}
.meta,.source{font-size:13px;color:#57606a;margin:4px 0}.reason{color:#c62828}
.notice{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:8px 12px;font-size:13px}
.error,.failure{background:#fdecea;border:1px solid #c62828;border-radius:6px;padding:8px 12px;font-size:13px;
white-space:pre-wrap;margin:6px 0}.failure hr{border:0;border-top:1px solid #f0b8b3;margin:6px 0}
.viewer{position:relative}.tools{position:absolute;top:6px;right:10px;z-index:1;display:flex;gap:4px}
.tools button{font:inherit;font-size:12px;min-width:30px;padding:2px 8px;border:1px solid #d0d7de;border-radius:6px;
background:#f6f8fa;cursor:pointer}.tools button:hover{background:#eaeef2}
.canvas{overflow:auto;max-height:72vh;border:1px solid #d0d7de;border-radius:6px;background:#fcfcfd;cursor:grab}
.canvas.panning{cursor:grabbing;user-select:none}
svg.pipeline{display:block}svg.pipeline text{font-family:inherit}.step-name{font-size:14px;font-weight:600;fill:#1f2328}
.step-detail{font-size:12px;fill:#57606a}.edge-label{font-size:12px;font-weight:600}
.job-link text{font-size:11px;fill:#0969da}.task-link:hover rect:first-child{stroke-width:3}
.steps{margin:8px 0;font-size:13px}.steps summary{cursor:pointer;color:#57606a}
.steps table{border-collapse:collapse;margin-top:4px}.steps th,.steps td{text-align:left;padding:3px 10px 3px 0;
border-bottom:1px solid #eaeef2;vertical-align:top}.steps th{font-weight:600;color:#57606a}
.steps td.reason{max-width:480px;white-space:pre-wrap}
a{color:#0969da}
"""

# The page is shown in the Airflow UI's iframe, whose sandbox lets scripts run with the page's (same) origin
# but does not let the frame navigate the whole window or open tabs. A link clicked here is followed from
# the top window instead: an anchor made in the top document, clicked there, so the Airflow page opens in
# place of the UI (not inside the frame) and console links open in a new tab. Opened on its own, the page
# keeps the browser's default behaviour.
#
# The graph: sized to fit its pane (never below data-min-scale, where it would stop being readable; then it is
# panned), zoomed with the buttons or Ctrl/Cmd+wheel, panned by dragging. While an execution runs
# (body[data-refresh]) the page is fetched again and its content swapped in, keeping each graph's zoom and
# scroll position; a failed fetch retries later instead of breaking the page.
_SCRIPT = """
(function () {
  var views = {};
  function follow(event) {
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
  }
  document.addEventListener('click', function (event) {
    if (document.body.dataset.dragged) { event.preventDefault(); delete document.body.dataset.dragged; return; }
    follow(event);
  });
  function setUp(canvas) {
    var svg = canvas.querySelector('svg.pipeline');
    if (!svg) return;
    var width = +svg.getAttribute('width'), height = +svg.getAttribute('height');
    var minimum = +(svg.getAttribute('data-min-scale') || 0.6);
    var kept = views[canvas.id];
    function fit() {
      var room = Math.min(canvas.clientWidth - 2, window.innerHeight * 0.72);
      var scale = Math.min(1, (canvas.clientWidth - 2) / width, Math.max(room, 240) / height);
      return Math.max(scale, minimum);
    }
    function zoom(scale, cx, cy) {
      scale = Math.max(0.15, Math.min(3, scale));
      var old = views[canvas.id] ? views[canvas.id].scale : scale;
      cx = cx === undefined ? canvas.clientWidth / 2 : cx; cy = cy === undefined ? canvas.clientHeight / 2 : cy;
      var gx = (canvas.scrollLeft + cx) / old, gy = (canvas.scrollTop + cy) / old;
      svg.setAttribute('width', Math.round(width * scale));
      svg.setAttribute('height', Math.round(height * scale));
      canvas.scrollLeft = gx * scale - cx; canvas.scrollTop = gy * scale - cy;
      views[canvas.id] = {scale: scale, left: canvas.scrollLeft, top: canvas.scrollTop};
    }
    if (kept) {
      svg.setAttribute('width', Math.round(width * kept.scale));
      svg.setAttribute('height', Math.round(height * kept.scale));
      canvas.scrollLeft = kept.left; canvas.scrollTop = kept.top;
    } else {
      views[canvas.id] = {scale: 1, left: 0, top: 0};
      zoom(fit(), 0, 0);
    }
    canvas.addEventListener('scroll', function () {
      var view = views[canvas.id]; view.left = canvas.scrollLeft; view.top = canvas.scrollTop;
    });
    canvas.addEventListener('wheel', function (event) {
      if (!event.ctrlKey && !event.metaKey) return;
      event.preventDefault();
      var box = canvas.getBoundingClientRect();
      zoom(views[canvas.id].scale * (event.deltaY < 0 ? 1.15 : 1 / 1.15), event.clientX - box.left,
           event.clientY - box.top);
    }, {passive: false});
    var drag = null;
    canvas.addEventListener('mousedown', function (event) {
      if (event.button !== 0) return;
      drag = {x: event.clientX, y: event.clientY, left: canvas.scrollLeft, top: canvas.scrollTop, moved: false};
    });
    window.addEventListener('mousemove', function (event) {
      if (!drag) return;
      var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
      drag.moved = true; canvas.classList.add('panning');
      canvas.scrollLeft = drag.left - dx; canvas.scrollTop = drag.top - dy;
    });
    window.addEventListener('mouseup', function () {
      if (drag && drag.moved) document.body.dataset.dragged = '1';
      drag = null; canvas.classList.remove('panning');
    });
    var tools = canvas.parentNode.querySelector('.tools');
    if (tools) tools.addEventListener('click', function (event) {
      var button = event.target.closest('button[data-zoom]');
      if (!button) return;
      var how = button.getAttribute('data-zoom'), scale = views[canvas.id].scale;
      zoom(how === 'fit' ? fit() : how === 'in' ? scale * 1.25 : how === 'out' ? scale / 1.25 : 1);
    });
  }
  function setUpAll() { document.querySelectorAll('.canvas').forEach(setUp); }
  function refresh() {
    fetch(location.href, {credentials: 'same-origin', headers: {'Accept': 'text/html'}})
      .then(function (reply) { if (!reply.ok) throw new Error(reply.status); return reply.text(); })
      .then(function (text) {
        var page = new DOMParser().parseFromString(text, 'text/html');
        var fresh = page.getElementById('content');
        if (!fresh) throw new Error('no content');
        document.getElementById('content').replaceWith(fresh);
        setUpAll();
        var next = page.body.getAttribute('data-refresh');
        if (next) { document.body.setAttribute('data-refresh', next); schedule(); }
        else document.body.removeAttribute('data-refresh');
      })
      .catch(function () { setTimeout(refresh, 30000); });
  }
  function schedule() {
    var seconds = +document.body.getAttribute('data-refresh');
    if (seconds > 0) setTimeout(refresh, seconds * 1000);
  }
  setUpAll();
  schedule();
})();
"""
