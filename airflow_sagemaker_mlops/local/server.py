"""The local SageMaker Pipelines engine's HTTP server.

One threaded WSGI server on 127.0.0.1 answers the SageMaker JSON 1.1 protocol (``POST /`` with
``X-Amz-Target: SageMaker.<Operation>``). Pipeline operations and the Describe/List calls of the jobs
its steps create are answered by the engine; every other request (S3, SQS, IAM, STS, Lambda, SageMaker
models and model packages, ...) goes to moto's server application in the same process, so all clients
share one endpoint: ``AWS_ENDPOINT_URL=http://127.0.0.1:PORT``.

Control endpoints (not AWS): ``GET /_local/health``, ``GET|POST|DELETE /_local/faults``; and the read-only
HTML console of executions and jobs under ``GET /_local/console/`` (``local/console.py``).

Every request first passes :class:`~.guard.Guard` (Host allow-list, no CORS, SigV4 required and verified
where the engine knows the secret, control token for ``/_local/*`` and ``/moto-api/*``).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .errors import AccessDeniedError, SerializationError, ServiceError, ThrottlingError, UnknownOperationError
from .executor import Engine
from .faults import FaultConfig
from .guard import TOKEN_HEADER, Guard, read_body, refusal_response, strip_cors
from .identity import Caller, credential_of, resolve
from .shapes import operation_names, validate_request
from .state import EngineConfig

log = logging.getLogger(__name__)

JSON_CONTENT_TYPE = "application/x-amz-json-1.1"


def _region_from(environ: dict[str, Any], default: str) -> str:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    # Credential=AKID/20240101/us-east-1/sagemaker/aws4_request
    marker = "Credential="
    if marker in auth:
        scope = auth.split(marker, 1)[1].split(",", 1)[0].split("/")
        if len(scope) >= 3 and scope[2]:
            return scope[2]
    return default


class EngineApp:
    """WSGI application: the engine's operations, control endpoints, and moto for the rest."""

    def __init__(self, engine: Engine, guard: Guard | None = None) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        from .api import Api

        self.engine = engine
        self.api = Api(engine)
        self.moto = DomainDispatcherApplication(create_backend_app)
        self.guard = guard or Guard(secret_for=engine.clients.secret_for)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        refusal = self.guard.check(environ)
        if refusal is not None:
            log.warning("refused %s %s from Host %r: %s", environ.get("REQUEST_METHOD"),
                        environ.get("PATH_INFO"), environ.get("HTTP_HOST"), refusal.message)
            status, headers, payload = refusal_response(environ, refusal, _request_id())
            start_response(status, headers)
            return [payload]
        return self._dispatch(environ, strip_cors(start_response))

    def _dispatch(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_local/console/") or path == "/_local/console":
            from . import console

            page = path if path != "/_local/console" else console.PREFIX
            status, headers, body = console.handle(self.engine, environ.get("REQUEST_METHOD", "GET"), page)
            start_response(status, headers)
            return [body]
        if path.startswith("/_local/"):
            return self._control(environ, start_response, path)
        caller = self._caller(environ)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if environ.get("REQUEST_METHOD") == "POST" and target.startswith("SageMaker."):
            return self._sagemaker(environ, start_response, target.split(".", 1)[1], caller)
        method = environ.get("REQUEST_METHOD")
        if caller.service == "sagemaker" and method == "POST" and not path.startswith("/moto-api/"):
            # SageMaker's JSON protocol: the operation is named by X-Amz-Target = SageMaker.<Operation>.
            what = f"target {target!r} is not SageMaker.<Operation>" if target else "no X-Amz-Target header"
            return self._error(start_response, UnknownOperationError(f"Unknown operation: {what}."))
        if path == "/moto-api/reset" and environ.get("REQUEST_METHOD") == "POST":
            self.engine.reset()  # moto's reset forgets moto's resources; the engine's go with them
        if caller.service == "ram":
            return self._ram(environ, start_response, caller)
        if caller.service == "s3" and self.engine.access.enabled:
            denied = self._check_s3(environ, caller)
            if denied is not None:
                return self._s3_error(start_response, denied)
        return self.moto(environ, start_response)

    def _caller(self, environ: dict[str, Any]) -> Caller:
        access_key, _, service = credential_of(environ)
        internal = self.engine.clients.is_internal(access_key)
        return resolve(access_key, self.engine.config.account_id, service=service, internal=internal)

    # ---- IAM enforcement and RAM ------------------------------------------------------------------

    def _check_s3(self, environ: dict[str, Any], caller: Caller) -> str | None:
        from .access import principal_of, s3_request_action

        principal = principal_of(caller)
        if principal is None:
            return None
        action, resource, context = s3_request_action(
            environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""), {}
        )
        try:
            self.engine.access.require(principal, action, resource, context=context, where="S3", actor=caller.arn)
        except ServiceError as exc:
            return exc.message
        return None

    @staticmethod
    def _s3_error(start_response: Any, message: str) -> list[bytes]:
        from xml.sax.saxutils import escape

        payload = (
            f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
            f"<Message>{escape(message)}</Message><RequestId>{_request_id()}</RequestId></Error>"
        ).encode()
        start_response(
            "403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(payload)))]
        )
        return [payload]

    def _ram(self, environ: dict[str, Any], start_response: Any, caller: Caller) -> list[bytes]:
        region = _region_from(environ, self.engine.config.region)
        try:
            result = self.engine.ram.handle(
                environ.get("REQUEST_METHOD", "POST"),
                environ.get("PATH_INFO", ""),
                environ.get("QUERY_STRING", ""),
                # DELETE carries its parameters in the query and no body: do not wait for one.
                self._read_body(environ) if environ.get("CONTENT_LENGTH") not in (None, "", "0") else b"",
                caller,
                region,
            )
        except ServiceError as exc:
            payload = json.dumps({"message": exc.message}).encode()
            start_response(
                f"{exc.status} Error",
                [("Content-Type", "application/json"), ("Content-Length", str(len(payload))),
                 ("x-amzn-ErrorType", exc.code)],
            )
            return [payload]
        payload = json.dumps({k: v for k, v in result.items() if v is not None}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
        return [payload]

    # ---- SageMaker JSON ---------------------------------------------------------------------------

    def _sagemaker(self, environ: dict[str, Any], start_response: Any, operation: str, caller: Caller) -> Any:
        internal = caller.internal
        faults = self.engine.faults
        if not internal:
            delay = faults.latency_for(operation)
            if delay:
                time.sleep(delay)
            if faults.should_throttle(operation):
                return self._error(start_response, ThrottlingError(f"Rate exceeded (injected) for {operation}"))
        if operation not in operation_names():
            return self._error(start_response, UnknownOperationError(f"Unknown operation SageMaker.{operation}."))
        if not internal:  # what clients cost (bench/events_latency.py): SageMaker calls by operation
            calls = self.engine.__dict__.setdefault("api_calls", {})
            calls[operation] = calls.get(operation, 0) + 1
        raw = self._read_body(environ)
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise ValueError("the body is not a JSON object")
        except (ValueError, RecursionError) as exc:
            message = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            return self._error(start_response, SerializationError(f"Request body is not valid JSON: {message}"))
        try:
            validate_request(operation, body)
        except ServiceError as exc:
            return self._error(start_response, exc)
        if not self.api.handles(operation):
            if self.engine.access.enabled:
                denied = self._check_moto_sagemaker(environ, operation, caller)
                if denied is not None:
                    return self._error(start_response, denied)
            return self.moto(environ, start_response)
        region = _region_from(environ, self.engine.config.region)
        from .api import NotHandled, dumps

        try:
            result = self.api.call(operation, body, region, caller)
        except NotHandled:
            import io

            environ["wsgi.input"] = io.BytesIO(raw)
            environ["CONTENT_LENGTH"] = str(len(raw))
            return self.moto(environ, start_response)
        except ServiceError as exc:
            return self._error(start_response, exc)
        except Exception as exc:
            log.exception("%s failed", operation)
            return self._error(start_response, ServiceError(f"{type(exc).__name__}: {exc}"))
        payload = dumps(result)
        start_response(
            "200 OK",
            [
                ("Content-Type", JSON_CONTENT_TYPE),
                ("Content-Length", str(len(payload))),
                ("x-amzn-RequestId", _request_id()),
            ],
        )
        return [payload]

    def _check_moto_sagemaker(self, environ: dict[str, Any], operation: str, caller: Caller) -> ServiceError | None:
        """SageMaker calls moto answers (models, model packages): the caller's policies must allow them."""
        import io

        from .access import principal_of

        principal = principal_of(caller)
        if principal is None:
            return None
        raw = self._read_body(environ)
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(raw), str(len(raw))
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        region = _region_from(environ, self.engine.config.region)
        from .api import registry_resource

        resource = registry_resource(self.engine, body, region, caller.account_id)
        try:
            self.engine.access.require(principal, f"sagemaker:{operation}", resource, where=operation,
                                       actor=caller.arn)
        except AccessDeniedError as exc:
            return exc
        return None

    @staticmethod
    def _read_body(environ: dict[str, Any]) -> bytes:
        return read_body(environ)

    @staticmethod
    def _error(start_response: Any, exc: ServiceError) -> list[bytes]:
        payload = json.dumps({"__type": exc.code, "message": exc.message}).encode()
        reason = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error"}
        start_response(
            f"{exc.status} {reason.get(exc.status, 'Error')}",
            [
                ("Content-Type", JSON_CONTENT_TYPE),
                ("Content-Length", str(len(payload))),
                ("x-amzn-ErrorType", exc.code),
                ("x-amzn-RequestId", _request_id()),
            ],
        )
        return [payload]

    # ---- control ----------------------------------------------------------------------------------

    def _control(self, environ: dict[str, Any], start_response: Any, path: str) -> list[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        status, result = "200 OK", None
        try:
            if path == "/_local/health":
                result = {"status": "ok", "url": self.engine.clients.endpoint_url}
            elif path == "/_local/faults":
                faults = self.engine.faults
                if method == "POST":
                    raw = self._read_body(environ)
                    faults.update(json.loads(raw or b"{}"))
                elif method == "DELETE":
                    faults.clear()
                elif method != "GET":
                    raise UnknownOperationError(f"{method} not allowed on {path}")
                result = faults.config.to_dict()
            else:
                status, result = "404 Not Found", {"message": f"no control endpoint {path}"}
        except (ValueError, TypeError) as exc:
            status, result = "400 Bad Request", {"message": str(exc)}
        except ServiceError as exc:
            status, result = "405 Method Not Allowed", {"message": exc.message}
        payload = json.dumps(result).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
        return [payload]


def _request_id() -> str:
    import uuid

    return str(uuid.uuid4())


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return all(ipaddress.ip_address(info[4][0]).is_loopback for info in socket.getaddrinfo(host, None))
        except OSError:
            return False


class LocalEngine:
    """The engine running in a background thread of this process.

    >>> with LocalEngine() as engine:
    ...     sm = engine.client("sagemaker")
    """

    def __init__(
        self,
        config: EngineConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        allow_non_loopback: bool = False,
        allowed_hosts: list[str] | tuple[str, ...] = (),
    ) -> None:
        if not allow_non_loopback and not is_loopback(host):
            raise ValueError(
                f"refusing to listen on non-loopback host {host!r}: the engine runs whatever code its "
                "callers send and verifies only the signatures of keys it knows; pass "
                "allow_non_loopback=True (--allow-non-loopback) if you really mean it"
            )
        self.config = config or EngineConfig()
        self.host, self.port = host, port
        self.allowed_hosts = tuple(allowed_hosts)
        self.guard: Guard | None = None
        self.engine: Engine | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._session: Any = None
        self._session_lock = threading.Lock()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the engine is not started")
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self._server.server_port}"

    @property
    def control_token(self) -> str:
        """The token ``/_local/*`` and ``/moto-api/*`` take in the ``X-Local-Engine-Token`` header."""
        assert self.guard is not None, "start() first"
        return self.guard.control_token

    def control_headers(self) -> dict[str, str]:
        return {TOKEN_HEADER: self.control_token}

    @property
    def faults(self) -> Any:
        assert self.engine is not None, "start() first"
        return self.engine.faults

    def start(self) -> LocalEngine:
        from werkzeug.serving import make_server

        try:  # moto 5.2.5+: keeps S3 metadata header names with underscores
            from moto.moto_server.werkzeug_app import MotoRequestHandler
        except ImportError:
            from werkzeug.serving import WSGIRequestHandler as MotoRequestHandler

        self.engine = Engine(self.config)
        self.guard = Guard(bound_host=self.host, allowed_hosts=self.allowed_hosts,
                           secret_for=self.engine.clients.secret_for)
        app = EngineApp(self.engine, self.guard)

        class QuietHandler(MotoRequestHandler):
            # One access-log line per request drowns test output; errors still go to logging.
            def log_request(self, code: Any = "-", size: Any = "-") -> None:
                log.debug("%s %s", self.requestline, code)

        self._server = make_server(self.host, self.port, app, threaded=True, request_handler=QuietHandler)
        self._server.daemon_threads = True
        self.guard.port = self._server.server_port
        # Own calls go to loopback even when listening on a wildcard address.
        connect_host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        connect_host = connect_host if ":" not in connect_host else f"[{connect_host}]"
        self.engine.clients.endpoint_url = f"http://{connect_host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-engine-http", daemon=True)
        self._thread.start()
        log.info("local SageMaker engine listening on %s", self.url)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.engine is not None:
            self.engine.close()
        self._server = None

    def __enter__(self) -> LocalEngine:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def client(self, service: str, region: str | None = None, **kwargs: Any) -> Any:
        """A boto3 client for this engine with dummy credentials.

        Clients come from one shared session (guarded by a lock: creating clients is not thread-safe)
        because loading the SageMaker service model takes most of a second per new session.
        """
        import boto3

        with self._session_lock:
            if self._session is None:
                self._session = boto3.session.Session(
                    aws_access_key_id="testing", aws_secret_access_key="testing", region_name=self.config.region
                )
            return self._session.client(
                service, endpoint_url=self.url, region_name=region or self.config.region, **kwargs
            )

    def wait(self, execution_arn: str, timeout: float = 60.0) -> str:
        """Wait for an execution to end; returns its status."""
        assert self.engine is not None
        return self.engine.wait(execution_arn, timeout).status


def serve(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    allow_non_loopback: bool = False,
    config: EngineConfig | None = None,
    faults: FaultConfig | None = None,
    lambda_handlers: dict[str, str] | None = None,
    region: str | None = None,
    max_workers: int | None = None,
    retry_interval_scale: float | None = None,
    work_dir: str | None = None,
    enforce_iam: bool = False,
    allowed_hosts: list[str] | None = None,
    token_file: str | None = None,
) -> None:
    """Run the engine in the foreground, printing ``listening on http://HOST:PORT``, until SIGINT/SIGTERM.

    The control token is written to ``token_file`` (default :func:`default_token_file`, mode 0600) and
    removed when the engine stops; stderr says where.
    """
    config = config or EngineConfig()
    if faults is not None:
        config.faults = faults
    if lambda_handlers:
        config.lambda_handlers.update(lambda_handlers)
    if region:
        config.region = region
    if max_workers:
        config.max_workers = max_workers
    if retry_interval_scale is not None:
        config.retry_interval_scale = retry_interval_scale
    if work_dir:
        config.work_dir = Path(work_dir)
    if enforce_iam:
        config.enforce_iam = True
    engine = LocalEngine(config, host=host, port=port, allow_non_loopback=allow_non_loopback,
                         allowed_hosts=allowed_hosts or ())
    stopped = threading.Event()

    def _stop(signum: int, frame: Any) -> None:
        stopped.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    engine.start()
    bound = engine._server.server_port
    token_path = Path(token_file) if token_file else default_token_file(bound)
    try:
        write_token(token_path, engine.control_token)
        print(f"listening on http://{host if ':' not in host else f'[{host}]'}:{bound}", flush=True)
        print(
            f"control token for /_local/* and /moto-api/* in {token_path}: "
            f'curl -H "{TOKEN_HEADER}: $(cat {token_path})" ...',
            file=sys.stderr, flush=True,
        )
        stopped.wait()
    finally:
        engine.stop()
        token_path.unlink(missing_ok=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def default_token_file(port: int) -> Path:
    """Where ``local serve`` writes its control token: one file per port, in the user's cache folder."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "airflow-sagemaker-mlops" / f"local-engine-{port}.token"


def write_token(path: Path, token: str) -> None:
    """Write the token readable by the user only (a file left by an earlier engine is replaced)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token)


def add_engine_arguments(parser: Any) -> None:
    """Add the engine's options (beyond --host/--port/--allow-non-loopback) to an argparse parser."""
    parser.add_argument("--region", default=None, help="default region (default: us-east-1)")
    parser.add_argument("--max-workers", type=int, default=None, help="step worker threads (default: 16)")
    parser.add_argument(
        "--retry-interval-scale",
        type=float,
        default=None,
        help="multiply RetryPolicy intervals and expiries (e.g. 0.001 in tests)",
    )
    parser.add_argument("--work-dir", default=None, help="where job sandboxes go (default: a temporary dir)")
    parser.add_argument(
        "--allow-host",
        dest="allowed_hosts",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests whose Host is NAME (or a subdomain of it), e.g. a compose service name",
    )
    parser.add_argument(
        "--token-file",
        default=None,
        help="where to write the control token (default: ~/.cache/airflow-sagemaker-mlops/local-engine-PORT.token)",
    )
    parser.add_argument(
        "--enforce-iam",
        action="store_true",
        help="check API callers and pipeline/step roles against their IAM policies in the engine (docs/iam.md)",
    )
    parser.add_argument(
        "--lambda",
        dest="lambda_handlers",
        action="append",
        default=[],
        metavar="FUNCTION_ARN_OR_NAME=module:function",
        help="run this Python function for a Lambda step's function (repeatable)",
    )
    parser.add_argument(
        "--throttle-rate",
        type=float,
        default=0.0,
        help="share (0..1) of SageMaker calls answered with ThrottlingException",
    )
    parser.add_argument(
        "--throttle-operations",
        default=None,
        help="comma-separated operations the throttling and latency apply to (default: all)",
    )
    parser.add_argument("--latency-ms", type=float, default=0.0, help="latency added to SageMaker calls")
    parser.add_argument("--fault-seed", type=int, default=None, help="seed of the throttling RNG")
    parser.add_argument(
        "--fail-step",
        action="append",
        default=[],
        metavar="STEP[:ATTEMPTS][=REASON]",
        help="fail this step (only its first ATTEMPTS attempts, if given); repeatable",
    )


def engine_options_from_args(args: Any) -> dict[str, Any]:
    """Keyword arguments for :func:`serve` from the options of :func:`add_engine_arguments`."""
    from .faults import StepFault

    operations = args.throttle_operations.split(",") if args.throttle_operations else None
    faults = FaultConfig(
        throttle_rate=args.throttle_rate,
        latency_ms=args.latency_ms,
        operations=operations,
        seed=args.fault_seed,
        step_failures=[StepFault.parse(item) for item in args.fail_step],
    )
    FaultConfig.from_dict(faults.to_dict())  # validates ranges
    return {
        "faults": faults,
        "lambda_handlers": parse_lambda_mapping(args.lambda_handlers),
        "region": args.region,
        "max_workers": args.max_workers,
        "retry_interval_scale": args.retry_interval_scale,
        "work_dir": args.work_dir,
        "enforce_iam": args.enforce_iam,
        "allowed_hosts": list(args.allowed_hosts),
        "token_file": args.token_file,
    }


def parse_lambda_mapping(items: list[str]) -> dict[str, str]:
    """``ARN_OR_NAME=module:function`` strings (the --lambda CLI flag) to a mapping."""
    mapping: dict[str, str] = {}
    for item in items:
        key, sep, target = item.rpartition("=")
        if not sep or not key or ":" not in target:
            raise ValueError(f"--lambda expects FUNCTION_ARN_OR_NAME=module:function, got {item!r}")
        mapping[key] = target
    return mapping
