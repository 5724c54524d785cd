"""A read-only "console" for the local engine: HTML pages of its executions and jobs, for a browser.

On AWS, the Airflow UI's execution and job links open the SageMaker console; against the local engine they open
these pages instead (``links.py``), so a developer sees what a job was asked to do, how it went, its log and
its outputs without AWS:

- ``GET /_local/console/``: the executions, newest first;
- ``GET /_local/console/executions/<execution id>``: an execution: status, times, parameters, its steps (with
  their failure reasons and links to their jobs);
- ``GET /_local/console/jobs/<kind>/<job name>``: a job (``processing-job``, ``training-job``,
  ``transform-job``, ``hyper-parameter-tuning-job``): status, timings, its request, its log lines and its S3
  outputs;
- ``GET /_local/console/models/<model name>``: a model (what a Model step or CreateModel made): its image, model
  data, execution role, environment;
- ``GET /_local/console/model-packages/<group>/<version>``: a model package (what a RegisterModel step made):
  group, version, approval, its inference specification, its metrics documents (shown inline when small) and
  model card.

Rules (shared with the engine's request checks): only GET (and HEAD), never changing anything; browsers
cannot sign requests, so this prefix is exempt from the SigV4 requirement but not from the Host and Origin
checks. Everything that comes from a request or a job (names, log lines, request fields) is attacker-influenced
and HTML-escaped; the pages load nothing from elsewhere and run no script.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

from airflow_sagemaker_mlops.definition.step_kinds import LOCAL_JOB_TYPES, STEP_KINDS

if TYPE_CHECKING:
    from .executor import Engine
    from .state import ExecutionRecord, StepRecord

PREFIX = "/_local/console/"
#: Every console answer carries it: how ``links.is_local_engine`` recognises the engine.
HEADER = "X-Local-Engine-Console"
#: ARN resource type -> the jobs the engine runs (and keeps), which have a job page.
JOB_PAGES = {STEP_KINDS[t].resource.arn_type: STEP_KINDS[t].resource for t in LOCAL_JOB_TYPES}
#: Log lines a job page shows (the last ones); the rest is in the engine's CloudWatch Logs.
MAX_LOG_LINES = 2000
#: Longest request a job page prints, in characters.
MAX_REQUEST_CHARS = 200_000
#: Largest metrics document (ModelMetrics) a model package page shows inline, in bytes.
MAX_METRICS_BYTES = 64 * 1024  # the page says "over 64 KiB" when it skips one


@dataclass
class Page:
    status: str
    html: str


def handle(engine: Engine, method: str, path: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """(status, headers, body) of a console request."""
    if method not in ("GET", "HEAD"):
        return _reply(Page("405 Method Not Allowed", _document("Read only", "<p>The console only reads: use GET.</p>")),
                      [("Allow", "GET, HEAD")], head=False)
    page = route(engine, path)
    return _reply(page, [], head=method == "HEAD")


def _reply(page: Page, extra: list[tuple[str, str]], head: bool) -> tuple[str, list[tuple[str, str]], bytes]:
    body = page.html.encode()
    headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Length", str(len(body))),
        # Nothing but this page's own inline style: no scripts, no frames, no outside requests.
        ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("Cache-Control", "no-store"),
        (HEADER, "1"),
        *extra,
    ]
    return page.status, headers, b"" if head else body


def route(engine: Engine, path: str) -> Page:
    parts = [urllib.parse.unquote(p) for p in path[len(PREFIX):].split("/") if p]
    if not parts:
        return index(engine)
    if parts[0] == "executions" and len(parts) == 2:
        return execution_page(engine, parts[1])
    if parts[0] == "jobs" and len(parts) == 3 and parts[1] in JOB_PAGES:
        return job_page(engine, parts[1], parts[2])
    if parts[0] == "models" and len(parts) == 2:
        return model_page(engine, parts[1])
    if parts[0] == "model-packages" and len(parts) in (2, 3):
        return model_package_page(engine, "/".join(parts[1:]))
    return _not_found(f"No console page {path}.")


# -- pages ------------------------------------------------------------------------------------------------


def index(engine: Engine) -> Page:
    with engine.lock:
        executions = sorted(engine.executions.values(), key=lambda e: e.creation_time, reverse=True)
        rows = [_execution_row(ex) for ex in executions[:200]]
    table = (_table(["execution", "pipeline", "status", "started", "duration"], rows) if rows
             else "<p>No executions yet.</p>")
    return Page("200 OK", _document("Local engine: executions", f"<h1>Executions</h1>{table}"))


def _execution_row(ex: ExecutionRecord) -> list[str]:
    return [_a(execution_path(ex.id), ex.display_name or ex.id), escape(ex.pipeline.name), _status(ex.status),
            escape(_time(ex.creation_time)), escape(_duration(ex.creation_time, _ended(ex)))]


def execution_page(engine: Engine, execution_id: str) -> Page:
    with engine.lock:
        ex = next((e for e in engine.executions.values() if e.id == execution_id), None)
        if ex is None:
            return _not_found(f"No execution {execution_id!r} in this engine (its state is in memory: a restarted "
                              "engine has forgotten earlier executions).")
        facts = [("pipeline", escape(ex.pipeline.name)), ("execution ARN", f"<code>{escape(ex.arn)}</code>"),
                 ("status", _status(ex.status)), ("started", escape(_time(ex.creation_time))),
                 ("duration", escape(_duration(ex.creation_time, _ended(ex))))]
        if ex.failure_reason:
            facts.append(("failure reason", f'<span class="reason">{escape(ex.failure_reason)}</span>'))
        if ex.display_name:
            facts.append(("display name", escape(ex.display_name)))
        parameters = [[escape(str(p.get("Name"))), f"<code>{escape(str(p.get('Value')))}</code>"]
                      for p in ex.parameter_list]
        steps = sorted(ex.steps.values(), key=lambda r: r.start_time)
        step_rows = [_step_row(r) for r in steps]
        title = ex.display_name or ex.id
    body = [f"<h1>Execution {escape(title)}</h1>", _facts(facts)]
    body.append("<h2>Parameters</h2>" + (_table(["name", "value"], parameters) if parameters else "<p>None.</p>"))
    body.append("<h2>Steps</h2>" + (_table(["step", "type", "status", "started", "duration", "attempts",
                                            "failure reason", "job"], step_rows) if step_rows
                                    else "<p>No step has started yet.</p>"))
    return Page("200 OK", _document(f"Execution {title}", "".join(body)))


def _step_row(record: StepRecord) -> list[str]:
    arn = next((v.get("Arn") for v in record.metadata.values() if isinstance(v, dict) and v.get("Arn")), None)
    job = ""
    if isinstance(arn, str):
        page = resource_path_of(arn)
        job = _a(page, arn.rsplit("/", 1)[-1]) if page else f"<code>{escape(arn)}</code>"
    return [escape(record.name), escape(record.spec.type), _status(record.status), escape(_time(record.start_time)),
            escape(_duration(record.start_time, record.end_time)), escape(str(record.attempt_count)),
            f'<span class="reason">{escape(record.failure_reason or "")}</span>', job]


def job_page(engine: Engine, resource: str, name: str) -> Page:
    job = JOB_PAGES[resource]
    kind, status_field, name_field = job.noun, job.status_field, job.name_field
    found = engine.jobs.named(kind, name)
    with engine.lock:
        description = dict(found[0]) if found else None
        lines = list(_job_log(engine, description)) if description else []
    if description is None:
        return _not_found(f"No {resource} {name!r} in this engine.")
    status = str(description.get(status_field) or "?")
    started = description.get("ProcessingStartTime") or description.get("TrainingStartTime") \
        or description.get("TransformStartTime") or description.get("CreationTime")
    ended = description.get("ProcessingEndTime") or description.get("TrainingEndTime") \
        or description.get("TransformEndTime") or description.get("HyperParameterTuningEndTime")
    done = status in ("Completed", "Failed", "Stopped")
    facts = [("job", escape(str(description.get(name_field, name)))), ("status", _status(status)),
             ("created", escape(_time(description.get("CreationTime")))),
             ("started", escape(_time(started))), ("ended", escape(_time(ended))),
             ("duration", escape(_duration(started, ended) if ended or not done else "-"))]
    if description.get("FailureReason"):
        facts.append(("failure reason", f'<span class="reason">{escape(str(description["FailureReason"]))}</span>'))
    outputs = [[escape(label), f"<code>{escape(uri)}</code>"] for label, uri in s3_outputs(description)]
    shown = lines[-MAX_LOG_LINES:]
    cut = f"<p>The last {len(shown)} of {len(lines)} lines.</p>" if len(lines) > len(shown) else ""
    log_html = (f"{cut}<pre class=\"log\">{escape(chr(10).join(shown))}</pre>" if shown
                else "<p>No log lines (yet).</p>")
    request = json.dumps(_request_of(description, status_field), indent=2, sort_keys=True, default=str)
    if len(request) > MAX_REQUEST_CHARS:
        request = request[:MAX_REQUEST_CHARS] + "\n... (cut)"
    body = [f"<h1>{escape(kind)} {escape(name)}</h1>", _facts(facts),
            "<h2>S3 outputs</h2>" + (_table(["output", "S3 URI"], outputs) if outputs else "<p>None.</p>"),
            f"<h2>Log</h2>{log_html}",
            f"<h2>Request</h2><pre>{escape(request)}</pre>"]
    return Page("200 OK", _document(f"{kind} {name}", "".join(body)))


def _job_log(engine: Engine, description: dict[str, Any]) -> list[str]:
    """The job's lines as the engine recorded them (the same lines it ships to CloudWatch Logs)."""
    arn = next((v for k, v in description.items() if k.endswith("JobArn") and isinstance(v, str)), None)
    for ex in engine.executions.values():
        for record in ex.steps.values():
            if any(isinstance(v, dict) and v.get("Arn") == arn for v in record.metadata.values()):
                return list(record.log)
    return []


def s3_outputs(description: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, S3 URI) of what the job wrote: processing outputs, model artifacts, transform output."""
    found: list[tuple[str, str]] = []
    for output in (description.get("ProcessingOutputConfig") or {}).get("Outputs") or []:
        uri = (output.get("S3Output") or {}).get("S3Uri")
        if uri:
            found.append((str(output.get("OutputName")), str(uri)))
    model = (description.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
    if model:
        found.append(("model artifacts", str(model)))
    transform = (description.get("TransformOutput") or {}).get("S3OutputPath")
    if transform:
        found.append(("transform output", str(transform)))
    return found


def _request_of(description: dict[str, Any], status_field: str) -> dict[str, Any]:
    """The Describe response minus what the engine added: roughly the Create*Job request."""
    added = {status_field, "CreationTime", "LastModifiedTime", "FailureReason", "ExitMessage"}
    return {k: v for k, v in description.items()
            if k not in added and not k.endswith(("StartTime", "EndTime", "JobArn")) and k != "ModelArtifacts"}


def model_page(engine: Engine, name: str) -> Page:
    found = _describe(engine, "describe_model", lambda account, region: {"ModelName": name})
    if found is None:
        return _not_found(f"No model {name!r} in this engine.")
    model, account, region = found
    containers = [model["PrimaryContainer"]] if model.get("PrimaryContainer") else list(model.get("Containers") or [])
    facts = [("model", escape(str(model.get("ModelName", name)))),
             ("ARN", f"<code>{escape(str(model.get('ModelArn')))}</code>"),
             ("created", escape(_time(model.get("CreationTime")))),
             ("execution role", f"<code>{escape(str(model.get('ExecutionRoleArn') or '-'))}</code>"),
             ("account, region", escape(f"{account}, {region}"))]
    body = [f"<h1>Model {escape(name)}</h1>", _facts(facts), "<h2>Containers</h2>"]
    body.append("".join(_container(c) for c in containers) if containers else "<p>None.</p>")
    if model.get("VpcConfig"):
        body.append(f"<h2>VPC</h2><pre>{escape(_json(model['VpcConfig']))}</pre>")
    return Page("200 OK", _document(f"Model {name}", "".join(body)))


def model_package_page(engine: Engine, name: str) -> Page:
    """``name``: ``<group>/<version>`` (a versioned package, as ARNs name it) or an unversioned package's name."""
    def request(account: str, region: str) -> dict[str, Any]:
        # A versioned package is looked up by its ARN (its "name" is the group's); an unversioned one by name.
        versioned = "/" in name
        return {"ModelPackageName": engine.arn(region, f"model-package/{name.lower()}", account) if versioned
                else name}

    found = _describe(engine, "describe_model_package", request)
    if found is None:
        return _not_found(f"No model package {name!r} in this engine.")
    package, account, region = found
    status = str(package.get("ModelApprovalStatus") or "-")
    facts = [("group", escape(str(package.get("ModelPackageGroupName") or "-"))),
             ("version", escape(str(package.get("ModelPackageVersion") or "-"))),
             ("approval status", _status(status)),
             ("package status", _status(str(package.get("ModelPackageStatus") or "-"))),
             ("ARN", f"<code>{escape(str(package.get('ModelPackageArn')))}</code>"),
             ("created", escape(_time(package.get("CreationTime")))),
             ("account, region", escape(f"{account}, {region}"))]
    for label, key in (("description", "ModelPackageDescription"), ("approval note", "ApprovalDescription"),
                       ("domain", "Domain"), ("task", "Task")):
        if package.get(key):
            facts.append((label, escape(str(package[key]))))
    spec = package.get("InferenceSpecification") or {}
    body = [f"<h1>Model package {escape(name)}</h1>", _facts(facts), "<h2>Inference specification</h2>"]
    if spec:
        formats = [(label, ", ".join(str(v) for v in spec.get(key) or []))
                   for label, key in (("content types", "SupportedContentTypes"),
                                      ("response types", "SupportedResponseMIMETypes"),
                                      ("real-time instances", "SupportedRealtimeInferenceInstanceTypes"),
                                      ("transform instances", "SupportedTransformInstanceTypes"))]
        body.append(_facts([(label, escape(value)) for label, value in formats if value]))
        body.append("".join(_container(c) for c in spec.get("Containers") or []))
    else:
        body.append("<p>None.</p>")
    body.append("<h2>Metrics</h2>" + _metrics(engine, package, account, region))
    card = package.get("ModelCard")
    if card:
        body.append(f"<h2>Model card</h2>{_facts([('status', escape(str(card.get('ModelCardStatus') or '-')))])}"
                    f"<pre>{escape(_pretty_json(card.get('ModelCardContent')))}</pre>")
    metadata = package.get("CustomerMetadataProperties") or {}
    if metadata:
        body.append("<h2>Metadata</h2>" + _table(["key", "value"], [[escape(str(k)), escape(str(v))]
                                                                  for k, v in sorted(metadata.items())]))
    return Page("200 OK", _document(f"Model package {name}", "".join(body)))


def _container(container: dict[str, Any]) -> str:
    data = container.get("ModelDataUrl") or ((container.get("ModelDataSource") or {}).get("S3DataSource") or {}) \
        .get("S3Uri")
    facts = [("image", f"<code>{escape(str(container.get('Image') or '-'))}</code>"),
             ("model data", f"<code>{escape(str(data or '-'))}</code>")]
    if container.get("ModelPackageName"):
        package = str(container["ModelPackageName"])
        page = resource_path_of(package)
        facts.append(("model package", _a(page, package) if page else f"<code>{escape(package)}</code>"))
    for label, key in (("hostname", "ContainerHostname"), ("mode", "Mode"), ("framework", "Framework"),
                       ("framework version", "FrameworkVersion")):
        if container.get(key):
            facts.append((label, escape(str(container[key]))))
    environment = container.get("Environment") or {}
    env = (_table(["variable", "value"], [[f"<code>{escape(str(k))}</code>", f"<code>{escape(str(v))}</code>"]
                                          for k, v in sorted(environment.items())])
           if environment else "<p>Environment: none.</p>")
    return f'<div class="container">{_facts(facts)}{env}</div>'


def _metrics(engine: Engine, package: dict[str, Any], account: str, region: str) -> str:
    """ModelMetrics (and DriftCheckBaselines): each document's S3 URI, and its content when small and readable."""
    documents = []
    for source, field in (("model metrics", "ModelMetrics"), ("drift check baselines", "DriftCheckBaselines")):
        for category, kinds in sorted((package.get(field) or {}).items()):
            for kind, value in sorted((kinds or {}).items()):
                if isinstance(value, dict) and value.get("S3Uri"):
                    documents.append((f"{category}.{kind}", source, value))
    if not documents:
        return "<p>None.</p>"
    parts = []
    for label, source, value in documents:
        uri = str(value["S3Uri"])
        content = _s3_text(engine, uri, account, region)
        shown = f"<pre>{escape(_pretty_json(content))}</pre>" if content is not None else \
            '<p class="note">Not shown: not readable from this engine\'s S3 (missing, or over 64 KiB).</p>'
        parts.append(f"<h3>{escape(label)} <small>({escape(source)}, {escape(str(value.get('ContentType') or '?'))})"
                     f"</small></h3><p><code>{escape(uri)}</code></p>{shown}")
    return "".join(parts)


def _s3_text(engine: Engine, uri: str, account: str, region: str) -> str | None:
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        return None
    from botocore.exceptions import BotoCoreError, ClientError

    s3 = engine.clients.client("s3", region, account)
    try:
        head = s3.head_object(Bucket=parsed.netloc, Key=parsed.path.lstrip("/"))
        if head["ContentLength"] > MAX_METRICS_BYTES:
            return None
        body = s3.get_object(Bucket=parsed.netloc, Key=parsed.path.lstrip("/"))["Body"].read()
    except (ClientError, BotoCoreError):
        return None
    return body.decode("utf-8", errors="replace")


def _places(engine: Engine) -> list[tuple[str, str]]:
    """(account, region) pairs to look a resource up in: the engine's own first, then those executions ran in."""
    with engine.lock:
        seen = [(ex.pipeline.account_id, ex.region) for ex in engine.executions.values()]
    return list(dict.fromkeys([(engine.config.account_id, engine.config.region), *seen]))


def _describe(engine: Engine, call: str, request: Callable[[str, str], dict[str, Any]],
              ) -> tuple[dict[str, Any], str, str] | None:
    """(description, account, region) of the first place that has the resource, through moto's API;
    ``request(account, region)`` gives the call's arguments there."""
    from botocore.exceptions import ClientError

    for account, region in _places(engine):
        try:
            return getattr(engine.clients.client("sagemaker", region, account), call)(**request(account, region)), \
                account, region
        except ClientError:
            continue  # not there (moto answers ValidationException / ResourceNotFound)
    return None


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


def _pretty_json(value: Any) -> str:
    """A JSON document (or a string holding one) indented; anything else as it is."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return _json(value)


# -- paths (links.py builds the same ones from ARNs) --------------------------------------------------------


def execution_path(execution_id: str) -> str:
    return f"{PREFIX}executions/{urllib.parse.quote(execution_id, safe='')}"


def resource_path_of(arn: str) -> str | None:
    """The console page of a job, model or model package ARN (None for anything else)."""
    resource = arn.split(":", 5)[-1] if arn.count(":") >= 5 else ""
    kind, _, name = resource.partition("/")
    if not name:
        return None
    if kind in JOB_PAGES:
        return f"{PREFIX}jobs/{kind}/{urllib.parse.quote(name, safe='')}"
    if kind == "model":
        return f"{PREFIX}models/{urllib.parse.quote(name, safe='')}"
    if kind == "model-package":  # <group>/<version>, or an unversioned package's name
        return f"{PREFIX}model-packages/" + "/".join(urllib.parse.quote(p, safe="") for p in name.split("/")[:2])
    return None


# -- HTML ---------------------------------------------------------------------------------------------------


def _not_found(message: str) -> Page:
    return Page("404 Not Found", _document("Not found", f"<h1>Not found</h1><p>{escape(message)}</p>"
                                                        f'<p><a href="{PREFIX}">All executions</a></p>'))


def _document(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{_CSS}</style></head><body><nav><a href=\"{PREFIX}\">Local SageMaker engine</a> · read-only "
            f"console</nav>{body}</body></html>")


def _a(href: str, label: str) -> str:
    return f'<a href="{escape(href)}">{escape(label)}</a>'


def _facts(items: list[tuple[str, str]]) -> str:
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in items)
    return f'<table class="facts">{rows}</table>'


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_COLOURS = {"Succeeded": "#2e7d32", "Completed": "#2e7d32", "Failed": "#c62828", "Stopped": "#ef6c00",
            "Stopping": "#ef6c00", "Executing": "#1565c0", "InProgress": "#1565c0", "Starting": "#1565c0"}


def _status(status: str) -> str:
    colour = _COLOURS.get(status, "#57606a")
    return f'<span class="chip" style="border-color:{colour};color:{colour}">{escape(status)}</span>'


def _ended(ex: ExecutionRecord) -> dt.datetime | None:
    return ex.last_modified_time if ex.status in ("Succeeded", "Failed", "Stopped") else None


def _as_time(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.timezone.utc)
    if isinstance(value, str):
        try:
            return _as_time(dt.datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def _time(value: Any) -> str:
    when = _as_time(value)
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if when else "-"


def _duration(start: Any, end: Any) -> str:
    from airflow_sagemaker_mlops.history import format_duration

    begin, finish = _as_time(start), _as_time(end)
    if begin is None:
        return "-"
    if finish is None:
        return format_duration((dt.datetime.now(dt.timezone.utc) - begin).total_seconds()) + " so far"
    return format_duration(max(0.0, (finish - begin).total_seconds()))


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:16px 24px;color:#1f2328}
nav{font-size:13px;color:#57606a;margin-bottom:12px}h1{font-size:20px}h2{font-size:16px;margin-top:22px}
table{border-collapse:collapse;font-size:13px}th,td{text-align:left;padding:4px 12px 4px 0;vertical-align:top;
border-bottom:1px solid #eaeef2}th{color:#57606a;font-weight:600}.facts th{width:130px}
.chip{border:1.5px solid;border-radius:10px;padding:1px 8px;font-size:12px}.reason{color:#c62828;white-space:pre-wrap}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px}
pre{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:10px;overflow:auto;max-height:70vh}
h3{font-size:14px;margin:14px 0 4px}h3 small{font-weight:normal;color:#57606a}
.container{border-left:3px solid #d0d7de;padding-left:12px;margin:8px 0 14px}.note{font-size:13px;color:#57606a}
a{color:#0969da}
"""
