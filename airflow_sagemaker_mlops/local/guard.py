"""Who may talk to the local engine: the one place every HTTP request is checked before anything runs.

The engine runs the code of pipeline steps, so a request that reaches it can run code as the user. The
checks keep browsers out (a web page the user opens must not be able to drive the engine) while every
AWS client (boto3, the AWS CLI, SDK v3, Airflow's Amazon provider) keeps working unchanged, because all
of them sign their requests with SigV4 and none of them sends ``Origin`` or CORS preflights:

1. ``Host`` must name an address the engine serves: loopback names (``localhost``, ``*.localhost``,
   ``127.0.0.0/8``, ``::1``), the bound address (any IP literal when bound to a wildcard address) and the
   names given with ``--allow-host``. This defeats DNS rebinding, where an attacker's name resolves to
   127.0.0.1 and the browser treats the engine as the attacker's own origin.
2. No CORS: ``OPTIONS`` (preflights) is refused, a request carrying an ``Origin`` other than the engine's
   own is refused, as is one a browser marks ``Sec-Fetch-Site: cross-site``/``same-site``; moto's CORS
   headers are stripped from every response (see :func:`strip_cors`).
3. A SigV4 signature (``Authorization: AWS4-HMAC-SHA256 ...`` or a presigned URL) is required. When the
   engine knows the key's secret (moto's IAM users and STS sessions, the engine's own keys, the default
   test keys of :data:`DEFAULT_TEST_KEYS`) the signature is verified, and its time checked (15 minutes,
   as AWS does); other keys cannot be verified and are accepted as signed (docs/local-engine.md).
4. Control endpoints (``/_local/*``, ``/moto-api/*``) take the engine's control token
   (``X-Local-Engine-Token``, written to a file by ``local serve``) or a verified signature.

Exempt from 3 and 4, never from 1 and 2: ``GET``/``HEAD`` of :data:`READ_ONLY_PREFIXES` (the read-only
console pages, which browsers cannot sign) and of ``/_local/health``. Routes under those prefixes must
never change state.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import posixpath
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

TOKEN_HEADER = "X-Local-Engine-Token"
READ_ONLY_PREFIXES = ("/_local/console/",)
PUBLIC_READ_PATHS = ("/_local/health", "/_local/console")
CONTROL_PREFIXES = ("/_local/", "/moto-api/")
# Secrets the engine knows for the access keys test set-ups use (docs, pytest plugin, job processes).
DEFAULT_TEST_KEYS = {"testing": "testing", "test": "test"}
MAX_SKEW = dt.timedelta(minutes=15)  # AWS refuses signatures more than 15 minutes off
_WILDCARDS = ("0.0.0.0", "::", "")
# Services whose error shape is JSON (x-amzn-ErrorType + message) without an X-Amz-Target header.
_REST_JSON_SERVICES = ("lambda", "ram", "apigateway", "batch", "eks", "glacier")


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused, in the terms its client understands."""

    status: int
    code: str  # the error code for JSON clients; XML (S3, query) clients get ``xml_code``
    message: str
    xml_code: str = ""


@dataclass
class SignedRequest:
    """The SigV4 parts of a request, from its Authorization header or a presigned URL's query."""

    access_key: str
    date: str  # YYYYMMDD of the scope
    region: str
    service: str
    signed_headers: list[str]
    signature: str
    timestamp: str  # X-Amz-Date, YYYYMMDD'T'HHMMSS'Z'
    presigned: bool
    expires: int | None = None
    version: int = 4  # 2: an S3 presigned URL of boto3's default signer (AWSAccessKeyId, Signature, Expires)


@dataclass
class Guard:
    """The request checks, configured for one engine.

    ``secret_for(access_key)`` gives the secret the engine knows for a key, or None for a key it cannot
    verify. ``port`` is set once the server is bound (an ``Origin`` of the engine itself is not foreign).
    """

    bound_host: str = "127.0.0.1"
    port: int = 0
    allowed_hosts: Iterable[str] = ()
    control_token: str = field(default_factory=new_token)
    secret_for: Callable[[str], str | None] = lambda key: DEFAULT_TEST_KEYS.get(key)
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)

    def __post_init__(self) -> None:
        self.allowed_hosts = frozenset(h.strip().lower().rstrip(".") for h in self.allowed_hosts if h.strip())

    # ---- the one entry point ----------------------------------------------------------------------

    def check(self, environ: dict[str, Any]) -> Refusal | None:
        """None when the request may go on; otherwise why not. Reads (and rewinds) the body if needed."""
        host = host_name(environ.get("HTTP_HOST", ""))
        if not self.host_allowed(host):
            return Refusal(
                403, "AccessDeniedException",
                f"Host {environ.get('HTTP_HOST', '')!r} is not an address this local engine serves "
                "(loopback names, the bound address and --allow-host names are); a web page reaching the "
                "engine through DNS rebinding is refused. Start it with --allow-host NAME to add a name.",
                "AccessDenied",
            )
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if method == "OPTIONS":
            return Refusal(403, "AccessDeniedException",
                           "CORS preflight refused: the local engine serves AWS clients, not web pages.",
                           "AccessDenied")
        browser = self._browser_refusal(environ, method)
        if browser is not None:
            return browser
        path = environ.get("PATH_INFO", "") or "/"
        if method in ("GET", "HEAD") and (
            path.startswith(READ_ONLY_PREFIXES) or path in PUBLIC_READ_PATHS
        ):
            return None
        control = path.startswith(CONTROL_PREFIXES)
        if control:
            given = environ.get("HTTP_" + TOKEN_HEADER.upper().replace("-", "_"), "")
            if given and hmac.compare_digest(given.encode(), self.control_token.encode()):
                return None
        signed = parse_signature(environ)
        if signed is None:
            if control:
                return Refusal(
                    403, "MissingAuthenticationTokenException",
                    f"Control endpoint {path} needs the engine's control token in the {TOKEN_HEADER} header "
                    "(its file is printed when `local serve` starts) or a SigV4-signed request.",
                    "AccessDenied",
                )
            return Refusal(
                403, "MissingAuthenticationTokenException",
                "Missing Authentication Token: the local engine accepts only SigV4-signed requests "
                "(every AWS SDK and the AWS CLI sign theirs; give them any credentials).",
                "MissingAuthenticationToken",
            )
        secret = self.secret_for(signed.access_key)
        if secret is None:
            if control:
                return Refusal(
                    403, "InvalidSignatureException",
                    f"Control endpoint {path} needs a signature the engine can verify (a key it knows the "
                    f"secret of, e.g. testing/testing) or the {TOKEN_HEADER} header.",
                    "SignatureDoesNotMatch",
                )
            return None  # signed with a key the engine cannot verify: accepted (docs/local-engine.md)
        return self._verify(environ, signed, secret)

    # ---- the parts ----------------------------------------------------------------------------------

    def host_allowed(self, host: str) -> bool:
        if not host:
            return False
        if host == "localhost" or host.endswith(".localhost"):
            return True  # RFC 6761: always loopback, and browsers resolve it so themselves
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if address is not None:
            if address.is_loopback:
                return True
            if self.bound_host in _WILDCARDS:
                return True  # bound to every address: each IP literal names one it serves
            try:
                return address == ipaddress.ip_address(self.bound_host)
            except ValueError:
                return False
        names = {*self.allowed_hosts, self.bound_host.lower()}
        # A name the user allowed, or a subdomain of it (S3 virtual-hosted buckets: bucket.NAME).
        return any(host == name or host.endswith("." + name) for name in names if name)

    def _browser_refusal(self, environ: dict[str, Any], method: str) -> Refusal | None:
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and not self._own_origin(origin):
            return Refusal(403, "AccessDeniedException",
                           f"Requests from web pages ({origin}) are refused: the local engine serves AWS "
                           "clients, not browsers.", "AccessDenied")
        site = environ.get("HTTP_SEC_FETCH_SITE")
        if site is not None and site not in ("same-origin", "none"):
            navigation = environ.get("HTTP_SEC_FETCH_MODE") == "navigate" and method in ("GET", "HEAD")
            path = environ.get("PATH_INFO", "")
            # Following a link to a read-only console page is fine; its answer goes to the user, not the page.
            if not (navigation and path.startswith(READ_ONLY_PREFIXES)):
                return Refusal(403, "AccessDeniedException",
                               f"A {site} browser request is refused: the local engine serves AWS clients.",
                               "AccessDenied")
        return None

    def _own_origin(self, origin: str) -> bool:
        scheme, _, rest = origin.partition("://")
        if scheme != "http" or not rest:
            return False  # "null", file://, https:// (the engine serves http only)
        host, port = split_host_port(rest)
        return self.host_allowed(host) and port == str(self.port)

    def _verify(self, environ: dict[str, Any], signed: SignedRequest, secret: str) -> Refusal | None:
        if signed.version == 2:
            return self._verify_v2(environ, signed, secret)
        try:
            when = dt.datetime.strptime(signed.timestamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)
        except ValueError:
            return Refusal(403, "IncompleteSignatureException",
                           f"X-Amz-Date {signed.timestamp!r} is not a SigV4 timestamp (YYYYMMDDTHHMMSSZ).",
                           "AccessDenied")
        now = self.now()
        if signed.presigned:
            if signed.expires is None or now > when + dt.timedelta(seconds=signed.expires):
                return Refusal(403, "AccessDeniedException", "Request has expired", "AccessDenied")
        elif abs(now - when) > MAX_SKEW:
            return Refusal(
                403, "InvalidSignatureException",
                f"Signature expired: {signed.timestamp} is now earlier than "
                f"{(now - MAX_SKEW).strftime('%Y%m%dT%H%M%SZ')} ({now.strftime('%Y%m%dT%H%M%SZ')} - 15 min.)",
                "RequestTimeTooSkewed",
            )
        key = _signing_key(secret, signed.date, signed.region, signed.service)
        scope = f"{signed.date}/{signed.region}/{signed.service}/aws4_request"
        for canonical in canonical_requests(environ, signed):
            string_to_sign = "\n".join(
                ["AWS4-HMAC-SHA256", signed.timestamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
            )
            expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
            if hmac.compare_digest(expected, signed.signature):
                return None
        return Refusal(
            403, "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. Check your AWS "
            f"Secret Access Key and signing method (access key {signed.access_key}).",
            "SignatureDoesNotMatch",
        )


    def _verify_v2(self, environ: dict[str, Any], signed: SignedRequest, secret: str) -> Refusal | None:
        import base64
        from urllib.parse import urlsplit

        from botocore.auth import HmacV1Auth
        from botocore.credentials import Credentials

        assert signed.expires is not None
        if self.now().timestamp() > signed.expires:
            return Refusal(403, "AccessDeniedException", "Request has expired", "AccessDenied")
        raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
        split = urlsplit(raw_uri)
        query = dict(_query_pairs(split.query, decode=True))
        signer = HmacV1Auth(Credentials(signed.access_key, secret))
        resources = [signer.canonical_resource(split)]
        host = host_name(environ.get("HTTP_HOST", ""))
        bucket = host.split(".", 1)[0] if "." in host and not _is_ip(host) else ""
        if bucket:
            resources.append(signer.canonical_resource(split, auth_path=f"/{bucket}{split.path}"))
        token = query.get("x-amz-security-token")
        amz = f"x-amz-security-token:{token}\n" if token else ""
        method = environ.get("REQUEST_METHOD", "GET").upper()
        for resource in resources:
            string_to_sign = f"{method}\n\n\n{signed.expires}\n{amz}{resource}"
            expected = base64.b64encode(
                hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha1).digest()
            ).decode()
            if hmac.compare_digest(expected, signed.signature):
                return None
        return Refusal(403, "InvalidSignatureException",
                       "The request signature we calculated does not match the signature you provided.",
                       "SignatureDoesNotMatch")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


# ---- SigV4 ---------------------------------------------------------------------------------------------


def parse_signature(environ: dict[str, Any]) -> SignedRequest | None:
    """The SigV4 signature of a request, or None when it carries none (or a malformed one)."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    if auth.startswith("AWS4-HMAC-SHA256 "):
        fields: dict[str, str] = {}
        for part in auth[len("AWS4-HMAC-SHA256 "):].split(","):
            name, _, value = part.strip().partition("=")
            fields[name] = value
        credential = fields.get("Credential", "").split("/")
        timestamp = environ.get("HTTP_X_AMZ_DATE", "")
        if len(credential) != 5 or not fields.get("Signature") or not fields.get("SignedHeaders") or not timestamp:
            return None
        return SignedRequest(credential[0], credential[1], credential[2], credential[3],
                             fields["SignedHeaders"].split(";"), fields["Signature"], timestamp, presigned=False)
    query = dict(_query_pairs(environ.get("QUERY_STRING", ""), decode=True))
    if query.get("X-Amz-Algorithm") == "AWS4-HMAC-SHA256" and query.get("X-Amz-Signature"):
        credential = query.get("X-Amz-Credential", "").split("/")
        if len(credential) != 5 or not query.get("X-Amz-Date"):
            return None
        try:
            expires = int(query.get("X-Amz-Expires", ""))
        except ValueError:
            expires = None
        return SignedRequest(credential[0], credential[1], credential[2], credential[3],
                             query.get("X-Amz-SignedHeaders", "host").split(";"), query["X-Amz-Signature"],
                             query["X-Amz-Date"], presigned=True, expires=expires)
    if query.get("AWSAccessKeyId") and query.get("Signature") and query.get("Expires", "").isdigit():
        # boto3 presigns S3 URLs with SigV2 unless told otherwise; only reads may use them here.
        if environ.get("REQUEST_METHOD", "GET").upper() not in ("GET", "HEAD") or "Action" in query:
            return None
        return SignedRequest(query["AWSAccessKeyId"], "", "", "s3", [], query["Signature"], "", presigned=True,
                             expires=int(query["Expires"]), version=2)
    return None


def canonical_requests(environ: dict[str, Any], signed: SignedRequest) -> list[str]:
    """The canonical request in each form a client may have signed (clients differ in URI encoding)."""
    method = environ.get("REQUEST_METHOD", "GET").upper()
    raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(environ.get("PATH_INFO", "") or "/")
    raw_path = raw_uri.split("?", 1)[0] or "/"
    if signed.service == "s3":
        paths = [raw_path]  # S3 signs the path as sent
    else:
        normalized = posixpath.normpath(raw_path) if raw_path != "/" else "/"
        if raw_path.endswith("/") and normalized != "/":
            normalized += "/"
        paths = list(dict.fromkeys([quote(normalized, safe="/~"), raw_path, quote(raw_path, safe="/~")]))
    query = environ.get("QUERY_STRING", "")
    queries = list(dict.fromkeys(_canonical_queries(query, drop_signature=signed.presigned)))
    headers = _canonical_headers(environ, signed.signed_headers)
    payload = _payload_hash(environ, signed)
    return [
        "\n".join([method, path, q, headers + "\n", ";".join(signed.signed_headers), payload])
        for path in paths
        for q in queries
    ]


def _canonical_queries(query: str, *, drop_signature: bool) -> list[str]:
    raw = [(k, v) for k, v in _query_pairs(query, decode=False) if not (drop_signature and k == "X-Amz-Signature")]
    encoded = [
        (quote(unquote(k), safe="-_.~"), quote(unquote(v.replace("+", " ")), safe="-_.~")) for k, v in raw
    ]
    return ["&".join(f"{k}={v}" for k, v in sorted(pairs)) for pairs in (raw, encoded)]


def _query_pairs(query: str, *, decode: bool) -> list[tuple[str, str]]:
    pairs = []
    for part in query.split("&") if query else []:
        key, _, value = part.partition("=")
        pairs.append((unquote(key), unquote(value)) if decode else (key, value))
    return pairs


def _canonical_headers(environ: dict[str, Any], names: list[str]) -> str:
    lines = []
    for name in names:
        if name == "content-type":
            value = environ.get("CONTENT_TYPE", "")
        elif name == "content-length":
            value = environ.get("CONTENT_LENGTH", "")
        else:
            value = environ.get("HTTP_" + name.upper().replace("-", "_"), "")
        lines.append(f"{name}:{' '.join(str(value).split())}")
    return "\n".join(lines)


def _payload_hash(environ: dict[str, Any], signed: SignedRequest) -> str:
    declared = environ.get("HTTP_X_AMZ_CONTENT_SHA256")
    if declared:
        return str(declared)  # signed itself; S3 clients send it (UNSIGNED-PAYLOAD, STREAMING-...)
    if signed.presigned:
        return "UNSIGNED-PAYLOAD"
    return hashlib.sha256(read_body(environ)).hexdigest()


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


# ---- WSGI helpers -------------------------------------------------------------------------------------


def read_body(environ: dict[str, Any]) -> bytes:
    """The request body, read once and put back so the next reader (the engine, moto) sees it too."""
    import io

    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ["wsgi.input"]
    if length:
        body = stream.read(length)
    elif environ.get("wsgi.input_terminated"):  # chunked: the server ends the stream at the last chunk
        body = stream.read()
    else:
        body = b""  # no length, not chunked: no body (reading would wait for the client's next request)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def host_name(host_header: str) -> str:
    return split_host_port(host_header.strip())[0].lower().rstrip(".")


def split_host_port(value: str) -> tuple[str, str]:
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        return host, rest.removeprefix(":")
    if value.count(":") == 1:
        host, _, port = value.partition(":")
        return host, port
    return value, ""


def refusal_response(environ: dict[str, Any], refusal: Refusal, request_id: str) -> tuple[str, list, bytes]:
    """(status line, headers, body) of a refusal in the error shape the request's client parses."""
    import json
    from xml.sax.saxutils import escape

    signed = parse_signature(environ)
    service = signed.service if signed else ""
    path = environ.get("PATH_INFO", "")
    content_type = environ.get("CONTENT_TYPE", "") or ""
    reason = {400: "Bad Request", 403: "Forbidden"}.get(refusal.status, "Error")
    headers = [("x-amzn-RequestId", request_id), ("x-amzn-ErrorType", refusal.code)]
    if (
        path.startswith(CONTROL_PREFIXES)
        or environ.get("HTTP_X_AMZ_TARGET")
        or "json" in content_type
        or service in _REST_JSON_SERVICES
    ):
        body = json.dumps({"__type": refusal.code, "message": refusal.message}).encode()
        headers.append(("Content-Type", "application/x-amz-json-1.1"))
    elif service == "s3" or (not service and "Action=" not in environ.get("QUERY_STRING", "")
                             and "x-www-form-urlencoded" not in content_type):
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{escape(refusal.xml_code or refusal.code)}</Code>'
            f"<Message>{escape(refusal.message)}</Message><RequestId>{request_id}</RequestId></Error>"
        ).encode()
        headers.append(("Content-Type", "application/xml"))
    else:
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{escape(refusal.xml_code or refusal.code)}</Code>"
            f"<Message>{escape(refusal.message)}</Message></Error><RequestId>{request_id}</RequestId>"
            "</ErrorResponse>"
        ).encode()
        headers.append(("Content-Type", "text/xml"))
    headers.append(("Content-Length", str(len(body))))
    return f"{refusal.status} {reason}", headers, body


def strip_cors(start_response: Any) -> Any:
    """``start_response`` without CORS grants: moto's Flask app adds ``Access-Control-*`` headers."""

    def wrapped(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        kept = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
        return start_response(status, kept, exc_info) if exc_info is not None else start_response(status, kept)

    return wrapped
