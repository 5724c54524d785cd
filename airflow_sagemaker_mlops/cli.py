"""Command line: ``python -m airflow_sagemaker_mlops compile | validate | iam-policy | history | local serve``.

Errors print one line to stderr and exit with status 2 (docs/architecture.md, "Contracts"); the other exit
statuses are in EXIT_STATUSES (and every command's ``--help``).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import sys
import textwrap
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_sagemaker_mlops.compiler.group import SageMakerPipelineGroup


class CliError(Exception):
    """A one-line error for the user; exit status 2."""


def load_groups(dag_file: str) -> dict[str, SageMakerPipelineGroup]:
    """Import a DAG file as Airflow would and return its pipeline groups keyed by ``dag_id.group_id``."""
    path = Path(dag_file).resolve()
    if not path.is_file():
        raise CliError(f"{dag_file}: no such DAG file")
    from airflow_sagemaker_mlops.compat import DAG
    from airflow_sagemaker_mlops.compiler.group import SageMakerPipelineGroup
    from airflow_sagemaker_mlops.exceptions import SageMakerMlopsError

    # Airflow's own naming scheme for DAG modules, so two DAG files called dag.py do not collide.
    module_name = "unusual_prefix_" + hashlib.sha1(str(path).encode()).hexdigest() + "_" + path.stem
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise CliError(f"{dag_file}: cannot be imported as a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    # Airflow puts the DAG folder on sys.path, so DAG files may import their neighbours.
    sys.path.insert(0, str(path.parent))
    dag_context = _dag_context()
    # As Airflow's DagBag does: DAGs created in `with DAG(...)` without a name get registered.
    dag_context.current_autoregister_module_name = module_name
    try:
        spec.loader.exec_module(module)
    except SageMakerMlopsError as exc:
        raise CliError(str(exc)) from None
    except Exception as exc:
        raise CliError(f"{dag_file}: DAG file failed to import: {type(exc).__name__}: {exc}") from None
    finally:
        dag_context.current_autoregister_module_name = None
        sys.path.remove(str(path.parent))

    dags = {id(v): v for v in vars(module).values() if isinstance(v, DAG)}
    for dag, mod in set(getattr(dag_context, "autoregistered_dags", ())):
        if mod is module:
            dags.setdefault(id(dag), dag)
    groups: dict[str, SageMakerPipelineGroup] = {}
    for dag in sorted(dags.values(), key=lambda d: d.dag_id):
        for group in _walk_groups(dag.task_group):
            if isinstance(group, SageMakerPipelineGroup):
                groups[f"{dag.dag_id}.{group.group_id}"] = group
    return groups


def _dag_context() -> Any:
    from airflow_sagemaker_mlops.compat import DagContext

    return DagContext


def _walk_groups(group: Any) -> Iterator[Any]:
    yield group
    for child in getattr(group, "children", {}).values():
        if hasattr(child, "children"):
            yield from _walk_groups(child)


def _select(groups: dict[str, SageMakerPipelineGroup], dag_file: str, wanted: str | None
            ) -> dict[str, SageMakerPipelineGroup]:
    if not groups:
        raise CliError(f"{dag_file}: no SageMakerPipelineGroup found")
    if wanted is None:
        return groups
    matches = {k: g for k, g in groups.items() if wanted in (k, g.group_id)}
    if not matches:
        raise CliError(f"{dag_file}: no pipeline group {wanted!r} (found: {', '.join(groups)})")
    if len(matches) > 1:
        raise CliError(f"{dag_file}: group id {wanted!r} is ambiguous; use one of {', '.join(matches)}")
    return matches


def _compile(groups: dict[str, SageMakerPipelineGroup]) -> dict[str, Any]:
    from airflow_sagemaker_mlops.exceptions import SageMakerMlopsError

    out = {}
    for key, group in groups.items():
        try:
            out[key] = group.compiled or group.compile()  # frozen when the group closed
        except SageMakerMlopsError as exc:
            raise CliError(str(exc)) from None
    return out


def cmd_compile(args: argparse.Namespace) -> int:
    # stdout carries only the JSON: whatever the DAG file or Airflow print while loading goes to stderr.
    with contextlib.redirect_stdout(sys.stderr):
        groups = _select(load_groups(args.dag_file), args.dag_file, args.group)
        compiled = _compile(groups)
    if args.group is not None:
        (only,) = compiled.values()
        document: Any = only.definition.to_request()
    else:
        document = {key: c.definition.to_request() for key, c in compiled.items()}
    print(json.dumps(document, indent=2))
    return 0


def dag_files(folder: Path) -> list[Path]:
    """The Python files of a DAG folder that Airflow would parse: those mentioning both "airflow" and "dag"
    (Airflow's safe-mode rule), outside hidden and ``__pycache__`` directories."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(folder).parts
        if any(p.startswith(".") or p == "__pycache__" for p in parts):
            continue
        try:
            text = path.read_text(encoding="utf-8", errors="replace").lower()
        except OSError:
            continue
        if "airflow" in text and "dag" in text:
            found.append(path)
    return found


def _one_line(text: str) -> str:
    return " ".join(text.split("\n"))


def cmd_validate(args: argparse.Namespace) -> int:
    """Every pipeline group of each DAG file (a folder: every DAG file in it, as CI would check the DAG
    folder). Problems go to stderr, one line each, clashes of pipeline names across files included; exit 2
    when there is any."""
    from airflow_sagemaker_mlops.exceptions import SageMakerMlopsError

    targets: list[Path] = []
    problems: list[str] = []
    for name in args.paths:
        path = Path(name)
        if path.is_dir():
            targets += dag_files(path)
        elif path.is_file():
            targets.append(path)
        else:
            problems.append(f"{name}: no such DAG file or folder")
    owners: dict[str, list[tuple[str, Any]]] = {}
    for path in dict.fromkeys(p.resolve() for p in targets):
        with contextlib.redirect_stdout(sys.stderr):
            try:
                groups = load_groups(str(path))
            except CliError as exc:
                problems.append(_one_line(str(exc)))
                continue
        if not groups:  # a DAG file that only uses the lifecycle operators is still worth validating
            print(f"ok: {path} imports; it has no SageMakerPipelineGroup to compile")
        for key, group in groups.items():
            try:
                compiled = group.compiled or group.compile()
            except SageMakerMlopsError as exc:
                problems.append(_one_line(str(exc)))
                continue
            owners.setdefault(compiled.spec.name, []).append((key, group))
            definition = compiled.definition
            print(f"ok: {key} -> pipeline {compiled.spec.name!r}, {len(definition.all_steps())} steps, "
                  f"{len(definition.parameters)} parameters, definition hash {definition.content_hash()[:12]}")
    for name, users in owners.items():
        first_key, first = users[0]
        for _key, group in users[1:]:
            site = group.definition_site or (group.dag.fileloc, None)
            where = f"{site[0]}:{site[1]}" if site[1] else site[0]
            other = first.definition_site or (first.dag.fileloc, None)
            problems.append(f"{where}: DAG {group.dag.dag_id!r}, group {group.group_id!r}, field pipeline_name: "
                            f"pipeline name {name!r} is also used by {first_key} ({other[0]}:{other[1]}); their "
                            "runs would overwrite each other's pipeline")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 2 if problems else 0


def cmd_iam_policy(args: argparse.Namespace) -> int:
    from airflow_sagemaker_mlops.iam import explain_group, policy_for_group

    with contextlib.redirect_stdout(sys.stderr):
        groups = _select(load_groups(args.dag_file), args.dag_file, args.group)
    if len(groups) > 1:  # a policy is per group: with several, which one is the user's call
        raise CliError(f"{args.dag_file} has {len(groups)} pipeline groups; choose one with --group "
                       f"({', '.join(groups)})")
    (group,) = groups.values()
    options = {"region": args.region, "account": args.account, "event_queue_url": args.event_queue_url}
    try:
        if args.explain:
            print(explain_group(group, args.role, **options))
        else:
            print(json.dumps(policy_for_group(group, args.role, **options), indent=2))
    except ValueError as exc:
        raise CliError(str(exc)) from None
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    from airflow_sagemaker_mlops.history import format_table, pipeline_history

    if args.limit < 1:
        raise CliError(f"--limit must be a positive number, got {args.limit}")
    pipeline, origin = _history_pipeline(args)
    # stdout carries only the table or JSON: log lines of Airflow, botocore and the hook go to stderr, and only
    # from WARNING up (their INFO lines, "Found credentials..." and the like, are noise here).
    with contextlib.redirect_stdout(sys.stderr), _quiet_logs(), _aws_errors(args):
        hook = _history_hook(args)
        described = hook.describe_pipeline(pipeline)
        if described is None:
            raise CliError(f"pipeline {pipeline!r}{origin} not found in region {hook.conn_region_name or '(default)'}"
                           + (f" at {args.endpoint_url}" if args.endpoint_url else "")
                           + (": the group's start task creates it on the first run" if origin else ""))
        records = pipeline_history(hook, described["PipelineArn"], limit=args.limit)
    name = described.get("PipelineName", pipeline)
    if args.json:
        print(json.dumps({"pipeline": name, "pipeline_arn": described["PipelineArn"],
                          "executions": [r.to_json() for r in records]}, indent=2))
        return 0
    if not records:
        print(f"pipeline {name}: no executions")
        return 0
    print(f"pipeline {name}: {len(records)} most recent execution{'s' if len(records) != 1 else ''}, newest first")
    print(format_table(records))
    return 0


def _history_pipeline(args: argparse.Namespace) -> tuple[str, str]:
    """The pipeline name or ARN to list, and a note on where it came from (for error messages)."""
    if bool(args.dag_file) == bool(args.pipeline):
        raise CliError("give either DAG_FILE (with --group when it has several groups) or --pipeline NAME_OR_ARN")
    if args.pipeline:
        if args.group:
            raise CliError("--group goes with DAG_FILE, not with --pipeline")
        return args.pipeline, ""
    with contextlib.redirect_stdout(sys.stderr):
        groups = _select(load_groups(args.dag_file), args.dag_file, args.group)
        if len(groups) > 1:
            raise CliError(f"{args.dag_file} has {len(groups)} pipeline groups; choose one with --group "
                           f"({', '.join(groups)})")
        ((key, compiled),) = _compile(groups).items()
    return compiled.spec.name, f" (group {key} of {args.dag_file})"


def _history_hook(args: argparse.Namespace) -> Any:
    from airflow_sagemaker_mlops.hooks.pipelines import SageMakerPipelinesHook

    if args.aws_conn_id:
        try:
            SageMakerPipelinesHook.get_connection(args.aws_conn_id)
        except Exception as exc:  # AirflowNotFoundException, or the Task SDK's own error outside a task
            raise CliError(f"Airflow connection {args.aws_conn_id!r} not found ({type(exc).__name__}: {exc})"
                           ) from None
    hook = SageMakerPipelinesHook(aws_conn_id=args.aws_conn_id, region_name=args.region,
                                  config=interactive_client_config())
    if args.endpoint_url:
        # Wins over the connection's endpoint_url; conn_config is the hook's cached connection wrapper.
        hook.conn_config.endpoint_url = args.endpoint_url
    return hook


#: Someone is waiting at the terminal: an unreachable endpoint should fail in about two seconds, not after the
#: two minutes of retries a task rides out (hooks/pipelines.py DEFAULT_RETRIES). Throttling still gets retried.
INTERACTIVE_CONNECT_TIMEOUT = 2.0
INTERACTIVE_READ_TIMEOUT = 30.0
INTERACTIVE_MAX_ATTEMPTS = 2  # in all: the first try and one retry


def interactive_client_config() -> Any:
    from botocore.config import Config

    return Config(connect_timeout=INTERACTIVE_CONNECT_TIMEOUT, read_timeout=INTERACTIVE_READ_TIMEOUT,
                  retries={"mode": "standard", "total_max_attempts": INTERACTIVE_MAX_ATTEMPTS})


@contextlib.contextmanager
def _quiet_logs(names: tuple[str, ...] = ("botocore", "airflow", "airflow_sagemaker_mlops")) -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(max(logger.getEffectiveLevel(), logging.WARNING))
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@contextlib.contextmanager
def _aws_errors(args: argparse.Namespace) -> Iterator[None]:
    """botocore's and the hook's failures as one-line CLI errors."""
    from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, NoCredentialsError, NoRegionError

    from airflow_sagemaker_mlops.hooks.errors import SageMakerApiError

    try:
        yield
    except NoCredentialsError:
        raise CliError("no AWS credentials found: set them in the environment (AWS_ACCESS_KEY_ID/"
                       "AWS_SECRET_ACCESS_KEY or AWS_PROFILE) or pass --aws-conn-id with an Airflow connection "
                       "that has them") from None
    except NoRegionError:
        raise CliError("no AWS region: pass --region, set AWS_DEFAULT_REGION, or use a connection with "
                       "region_name") from None
    except (EndpointConnectionError, ConnectTimeoutError) as exc:
        raise CliError(f"cannot reach SageMaker: {exc} (check --endpoint-url, the connection's endpoint_url, "
                       "or the network)") from None
    except SageMakerApiError as exc:
        raise CliError(f"SageMaker refused the request: {exc}") from None


def cmd_local_serve(args: argparse.Namespace) -> int:
    from airflow_sagemaker_mlops.local.server import engine_options_from_args, serve

    try:
        serve(args.host, args.port, allow_non_loopback=args.allow_non_loopback, **engine_options_from_args(args))
    except ValueError as exc:  # a non-loopback host without --allow-non-loopback, a bad option value
        raise CliError(str(exc)) from None
    except ModuleNotFoundError as exc:  # moto and its server live in the [local] extra
        raise CliError(f"the local engine needs the [local] extra ({exc.name} is not installed): "
                       "pip install 'airflow-sagemaker-mlops[local]'") from None
    return 0


def cmd_events_setup(args: argparse.Namespace) -> int:
    """Create (idempotently) the queue, rule, target and queue policy of SageMaker's pipeline events."""
    import boto3

    from airflow_sagemaker_mlops.hooks.events import setup_event_queue

    session = boto3.session.Session(region_name=args.region)
    kwargs = {"endpoint_url": args.endpoint_url} if args.endpoint_url else {}
    with _aws_errors(args), _quiet_logs():
        result = setup_event_queue(session.client("sqs", config=interactive_client_config(), **kwargs),
                                   session.client("events", config=interactive_client_config(), **kwargs),
                                   queue_name=args.queue_name, rule_name=args.rule_name,
                                   pipeline_arns=args.pipeline_arn or ())
    print(json.dumps(result.to_json(), indent=2))
    return 0


def cmd_events_iam_policy(args: argparse.Namespace) -> int:
    from airflow_sagemaker_mlops.iam.events import events_policy

    print(json.dumps(events_policy(region=args.region, account=args.account, queue_name=args.queue_name,
                                   rule_name=args.rule_name, setup=not args.consumer_only), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m airflow_sagemaker_mlops",
                                     description="Compile and run SageMaker pipelines defined in Airflow DAGs.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("compile", help="print the pipeline definition JSON of a DAG file's pipeline groups")
    p.add_argument("dag_file", help="the DAG file (imported as Airflow imports it)")
    p.add_argument("--group", help="group id (or dag_id.group_id); without it, all groups keyed by dag_id.group_id")
    p.set_defaults(func=cmd_compile)

    p = sub.add_parser("validate", help="compile every pipeline group of DAG files or DAG folders and report "
                                        "every problem, one line each (exit 2 when there is any)")
    p.add_argument("paths", nargs="+", metavar="DAG_FILE_OR_FOLDER",
                   help="DAG files, or folders searched for them as Airflow's DAG folder is")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("iam-policy", help="print a least-privilege IAM policy for a group's pipeline or Airflow role")
    p.add_argument("dag_file", help="the DAG file holding the group")
    p.add_argument("--group", help="group id (or dag_id.group_id); needed when the DAG file has several groups")
    p.add_argument("--role", required=True,
                   help="pipeline | airflow | the ARN of a step role that differs from the pipeline role")
    p.add_argument("--region", help="scope resources to this region (default: any region, reported as a widening)")
    p.add_argument("--account", help="account of the resources (default: the pipeline role's account)")
    p.add_argument("--event-queue-url", help="the event queue the group's waiting tasks consume (the connection's "
                                             "event_queue_url): --role airflow then includes consuming it "
                                             "(default: the group's event_queue_url)")
    p.add_argument("--explain", action="store_true", help="print why each statement is there instead of the JSON")
    p.set_defaults(func=cmd_iam_policy)

    p = sub.add_parser("history", help="list recent executions of a pipeline: status, duration, parameters, "
                                       "condition outcomes")
    p.add_argument("dag_file", nargs="?", help="DAG file holding the pipeline's group (or use --pipeline)")
    p.add_argument("--group", help="group id (or dag_id.group_id); needed when the DAG file has several groups")
    p.add_argument("--pipeline", help="pipeline name or ARN, instead of DAG_FILE")
    p.add_argument("--limit", type=int, default=10, help="how many executions, newest first (default 10)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--endpoint-url", help="SageMaker endpoint (for example the local engine's URL)")
    p.add_argument("--region", help="AWS region (default: the connection's, or the environment's)")
    p.add_argument("--aws-conn-id", help="Airflow connection to use, through the Amazon provider "
                                         "(default: the AWS environment: variables, profile, instance role)")
    p.set_defaults(func=cmd_history)

    events = sub.add_parser("events", help="SageMaker pipeline events (EventBridge -> SQS) that wake waiting tasks")
    events_sub = events.add_subparsers(dest="events_command", required=True)
    # hooks.events' defaults, spelled here: building the parser must not load Airflow (`local serve`).
    default_name = "sagemaker-mlops-pipeline-events"
    p = events_sub.add_parser("setup", help="create or update the SQS queue, its policy, the EventBridge rule and "
                              "its target (idempotent); prints the queue URL for the connection's event_queue_url")
    p.add_argument("--queue-name", default=default_name, help=f"the SQS queue to create (default {default_name})")
    p.add_argument("--rule-name", default=default_name, help=f"the EventBridge rule to create (default {default_name})")
    p.add_argument("--pipeline-arn", action="append", help="only this pipeline's events (repeatable; default all)")
    p.add_argument("--region", help="AWS region (default: the environment's)")
    p.add_argument("--endpoint-url", help="e.g. the local engine's URL (default: AWS_ENDPOINT_URL or AWS)")
    p.set_defaults(func=cmd_events_setup)
    p = events_sub.add_parser("iam-policy", help="print the IAM statements for the event queue: consuming it "
                              "(the triggerer) and setting it up")
    p.add_argument("--queue-name", default=default_name, help=f"the event queue's name (default {default_name})")
    p.add_argument("--rule-name", default=default_name, help=f"the EventBridge rule's name (default {default_name})")
    p.add_argument("--region", required=True, help="the region of the queue and the rule")
    p.add_argument("--account", required=True, help="the account of the queue and the rule")
    p.add_argument("--consumer-only", action="store_true", help="without the set-up's actions")
    p.set_defaults(func=cmd_events_iam_policy)

    local = sub.add_parser("local", help="the local SageMaker Pipelines engine")
    local_sub = local.add_subparsers(dest="local_command", required=True)
    p = local_sub.add_parser("serve", help="serve the SageMaker API (pipelines + moto) on a loopback address")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--allow-non-loopback", action="store_true",
                   help="allow binding a non-loopback address (the engine has no authentication)")
    from airflow_sagemaker_mlops.local.server import add_engine_arguments

    add_engine_arguments(p)
    p.set_defaults(func=cmd_local_serve)
    return parser


EXIT_STATUSES = """\
exit status:
  0    success
  1    an unexpected internal error (a bug: please report it with the traceback)
  2    a usage error or a problem with the input or AWS, explained in one line on stderr
  130  interrupted (Ctrl-C)
  141  stdout was closed early (for example by `| head`); nothing else is reported"""

#: Per command: (description, examples). Applied after the parsers are built so each command's block stays
#: about its arguments.
COMMAND_HELP: dict[str, tuple[str, str]] = {
    "compile": (
        "Import a DAG file as Airflow would and print the SageMaker pipeline definition JSON of its "
        "SageMakerPipelineGroups on stdout (only the JSON goes to stdout; anything the DAG file prints goes to "
        "stderr). With --group, the definition of that group; without, an object keyed by dag_id.group_id. "
        "Nothing is sent to AWS.",
        "  python -m airflow_sagemaker_mlops compile dags/churn_training.py --group train\n"
        "  python -m airflow_sagemaker_mlops compile dags/churn_training.py | jq 'keys'\n"
        "  python -m airflow_sagemaker_mlops compile dags/churn_training.py --group train > definition.json"),
    "validate": (
        "Compile every SageMakerPipelineGroup of a DAG file and print one line per group (pipeline name, "
        "steps, parameters, definition hash), or the first problem with its file, line, group, task and field. "
        "Nothing is sent to AWS; use it in CI before deploying DAGs.",
        "  python -m airflow_sagemaker_mlops validate dags/churn_training.py\n"
        "  for f in dags/*.py; do python -m airflow_sagemaker_mlops validate \"$f\" || exit 1; done"),
    "iam-policy": (
        "Print a least-privilege IAM policy (JSON) for one group: the pipeline's execution role "
        "(--role pipeline), the Airflow role that upserts and runs it (--role airflow) or a step role that "
        "differs from the pipeline role (--role ARN). --explain prints why each statement is there. --group "
        "may be left out when the DAG file has one group. With an event queue (the connection's or the group's "
        "event_queue_url), the Airflow role also consumes it: pass --event-queue-url when only the connection "
        "names it.",
        "  python -m airflow_sagemaker_mlops iam-policy dags/churn_training.py --role pipeline --region us-east-1\n"
        "  python -m airflow_sagemaker_mlops iam-policy dags/churn_training.py --role airflow --explain\n"
        "  python -m airflow_sagemaker_mlops iam-policy dags/churn_training.py --role airflow \\\n"
        "      --event-queue-url https://sqs.eu-west-1.amazonaws.com/111122223333/sagemaker-mlops-pipeline-events\n"
        "  python -m airflow_sagemaker_mlops iam-policy dags/multi.py --group train --role pipeline > policy.json"),
    "history": (
        "List the recent executions of a pipeline, newest first: status, start, duration, parameter values, "
        "condition outcomes and the failed steps' reasons. Name the pipeline by its DAG file (and --group "
        "when there are several) or by --pipeline. Talks to SageMaker with a 2-second connect timeout and one "
        "retry, so an unreachable endpoint fails at once.",
        "  python -m airflow_sagemaker_mlops history dags/churn_training.py --limit 5\n"
        "  python -m airflow_sagemaker_mlops history --pipeline churn-train --json | jq '.executions[0]'\n"
        "  python -m airflow_sagemaker_mlops history dags/churn_training.py --endpoint-url http://127.0.0.1:8765"),
    "events": (
        "SageMaker's pipeline status change events, through an EventBridge rule to an SQS queue, wake the "
        "triggerer's waiting tasks at once (polling stays as a slow fallback); see docs/operations.md.",
        "  python -m airflow_sagemaker_mlops events setup --region eu-west-1"),
    "events setup": (
        "Create or update, idempotently, the SQS queue, its policy (events.amazonaws.com may send from the rule "
        "only), the EventBridge rule matching the two SageMaker pipeline detail types (optionally only some "
        "pipelines) and its target. Prints the queue URL to put in the AWS connection's extra as "
        "event_queue_url.",
        "  python -m airflow_sagemaker_mlops events setup --region eu-west-1 \\\n"
        "      --pipeline-arn arn:aws:sagemaker:eu-west-1:111122223333:pipeline/churn-train\n"
        "  python -m airflow_sagemaker_mlops events setup --endpoint-url http://127.0.0.1:8765"),
    "events iam-policy": (
        "Print the IAM policy statements for the event queue: the triggerer's ReceiveMessage, DeleteMessage and "
        "ChangeMessageVisibility, and (without --consumer-only) the set-up's actions. `iam-policy --role "
        "airflow --event-queue-url URL` includes the consumer statement in a group's Airflow policy.",
        "  python -m airflow_sagemaker_mlops events iam-policy --region eu-west-1 --account 111122223333"),
    "local": (
        "The local SageMaker Pipelines engine (moto plus a pipelines executor), for development and tests "
        "without AWS.",
        "  python -m airflow_sagemaker_mlops local serve --port 8765"),
    "local serve": (
        "Serve the SageMaker API (pipelines, jobs, S3, CloudWatch Logs, ... through moto) on a loopback "
        "address and print the URL; point endpoint_url of an AWS connection (or --endpoint-url) at it. Runs "
        "until interrupted; state is in memory.",
        "  python -m airflow_sagemaker_mlops local serve --port 8765\n"
        "  AIRFLOW_CONN_AWS_DEFAULT='{\"conn_type\": \"aws\", \"extra\": {\"endpoint_url\": "
        "\"http://127.0.0.1:8765\"}}' airflow dags test churn_training"),
}


def _describe_commands(parser: argparse.ArgumentParser) -> None:
    """Description, examples and exit statuses on every command's --help."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EXIT_STATUSES
    todo: list[tuple[str, argparse.ArgumentParser]] = [("", parser)]
    while todo:
        prefix, current = todo.pop()
        for action in current._actions:
            if not isinstance(action, argparse._SubParsersAction):
                continue
            for name, sub in action.choices.items():
                key = f"{prefix}{name}"
                description, examples = COMMAND_HELP[key]
                sub.formatter_class = argparse.RawDescriptionHelpFormatter
                sub.description = "\n".join(textwrap.wrap(description, 100))
                sub.epilog = f"examples:\n{examples}\n\n{EXIT_STATUSES}"
                todo.append((f"{key} ", sub))


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`compile ... | head`): not an error worth a traceback. Point stdout at
        # /dev/null so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    _describe_commands(parser)
    args = parser.parse_args(argv)
    # Compile warnings (for example a definition that must go through S3) go to stderr as one line each.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            status = args.func(args)
            sys.stdout.flush()  # a closed pipe shows here, inside main's handler, not at interpreter exit
        except CliError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 2
    from airflow_sagemaker_mlops.exceptions import PipelineDefinitionWarning

    for warning in caught:
        if issubclass(warning.category, PipelineDefinitionWarning):
            print(f"warning: {warning.message}", file=sys.stderr)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
