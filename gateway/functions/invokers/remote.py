"""The remote invoker: a function whose ``endpoint`` is a Lambda Invoke API (AWS itself, or RIE).

``POST {endpoint}/2015-03-31/functions/{remote_name}/invocations`` with
``X-Amz-Invocation-Type: RequestResponse`` and ``X-Amz-Log-Type: Tail``, the caller's
``X-Amz-Client-Context`` and the request's ``X-Amzn-Trace-Id``; one ``httpx.AsyncClient`` per
function (pooled connections). Requests to an AWS host (``*.amazonaws.com``) are signed with
SigV4 (``gateway.auth.sigv4.sign``, service ``lambda``); others (a Runtime Interface Emulator
at ``http://host:9000``) are not. https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html

The answer maps as a local invocation's would (runtime.md, "Lambda Invoke API"):

====================================  ==============================================
200 with ``X-Amz-Function-Error``     ``InvocationResult(function_error=...)``
200 (202, 204)                        ``InvocationResult`` (success)
429 ``TooManyRequestsException``      ``Throttled``
413 ``Request(Entity)TooLarge...``    ``EventTooLarge``
404 ``ResourceNotFoundException``     ``UnknownFunction``
any other status                      ``RemoteError`` (the endpoint's error type and message)
no answer in timeout + margin         ``RemoteTimeout`` (a kind of ``IntegrationTimeout``)
connection refused, reset, TLS ...    ``RemoteError``
====================================  ==============================================

``X-Amz-Log-Result`` (base64 of the last 4 KB of the log) goes to the function's log sink line
by line and into ``InvocationResult.log_tail``; its REPORT line, when present, gives the
durations, the memory used and the cold start (``Init Duration``).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from gateway import __version__
from gateway.auth.sigv4 import Credentials, sign
from gateway.config import FunctionConfig, GatewaySettings
from gateway.errors import EventTooLarge, RemoteError, RemoteTimeout, Throttled, UnknownFunction
from gateway.functions.credentials import resolve_chain
from gateway.functions.logs import LogSink
from gateway.models import InvocationResult

_logger = logging.getLogger("gateway.functions")

#: How much longer than the function's timeout the gateway waits for an answer: a cold start's
#: INIT may take up to 10 s before the handler's timeout starts, plus the network.
#: https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-ib
MARGIN = 12.0
CONNECT_TIMEOUT = 5.0

_AWS_HOST = re.compile(r"(?:^|\.)amazonaws\.com(?:\.cn)?$")
_REGION = re.compile(r"\.([a-z]{2}(?:-[a-z]+)+-\d)\.")
_REPORT_FIELDS = {
    "duration_ms": re.compile(r"\tDuration: ([\d.]+) ms"),
    "billed_duration_ms": re.compile(r"\tBilled Duration: (\d+) ms"),
    "max_memory_used_mb": re.compile(r"\tMax Memory Used: (\d+) MB"),
    "init_duration_ms": re.compile(r"\tInit Duration: ([\d.]+) ms"),
}


_REMOTE_NAME = re.compile(r"[A-Za-z0-9_.:$-]{1,170}")


def endpoint_problem(endpoint: str, remote_name: str) -> tuple[str, str] | None:
    """``(key, problem)`` when a function's ``endpoint``/``remote_name`` cannot be used (config.py asks)."""
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "endpoint", f"{endpoint!r} is not an http:// or https:// URL with a host"
    if parts.query or parts.fragment:
        return "endpoint", "must not have a query or a fragment (the Invoke API path is added to it)"
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number or out of range
    except ValueError as exc:
        return "endpoint", str(exc)
    if remote_name and not _REMOTE_NAME.fullmatch(remote_name):
        return "remote_name", f"{remote_name!r} is not a function name, name:qualifier or function ARN"
    return None


def signing_region(endpoint: str, default: str) -> str | None:
    """The region to sign for when ``endpoint`` is an AWS host, else None (no signing).

    The region named in the host (``lambda.eu-west-1.amazonaws.com``, VPC endpoint names)
    wins: AWS rejects a signature scoped to another region; otherwise the gateway's region.
    """
    host = (urlsplit(endpoint).hostname or "").lower()
    if not _AWS_HOST.search(host):
        return None
    found = _REGION.search(f".{host}")
    return found.group(1) if found else default


def standard_chain(environ: Mapping[str, str] | None = None) -> Credentials | None:
    """The gateway's own credentials from the standard AWS chain (``credentials.resolve_chain``), or None.

    Environment variables, then the profile (``AWS_PROFILE``) of the shared credentials and
    config files. https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html
    """
    try:
        keys = resolve_chain(os.environ if environ is None else environ)
    except ValueError as exc:
        _logger.warning("%s", exc)
        return None
    return None if keys is None else Credentials(keys.access_key_id, keys.secret_access_key, keys.session_token)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class RemoteInvoker:
    """Sends one function's invocations to its ``endpoint`` (satisfies ``gateway.types.Invoker``).

    ``client``, ``credentials`` and ``clock`` are for tests (an ``httpx.MockTransport`` client,
    fixed keys, a fixed time); by default the invoker owns a client and resolves credentials
    with the standard AWS chain once, at start.
    """

    def __init__(
        self,
        function: FunctionConfig,
        settings: GatewaySettings,
        *,
        log: LogSink,
        client: httpx.AsyncClient | None = None,
        credentials: Credentials | None | Callable[[], Credentials | None] = standard_chain,
        clock: Callable[[], datetime] = _utcnow,
        margin: float | None = None,
    ) -> None:
        endpoint = (function.endpoint or "").rstrip("/")
        self.function = function
        self.sink = log
        remote_name = quote(function.remote_name or function.name, safe="")
        self.url = f"{endpoint}/2015-03-31/functions/{remote_name}/invocations"
        self.region = signing_region(endpoint, settings.region)
        self.clock = clock
        self._owns_client = client is None
        self.client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(function.timeout + (MARGIN if margin is None else margin), connect=CONNECT_TIMEOUT),
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=64),
            headers={"User-Agent": f"lambda-gateway/{__version__}"},
        )
        self.credentials = credentials() if callable(credentials) and self.region else credentials
        if self.region and self.credentials is None:
            _logger.warning("function %r: no AWS credentials found (environment, shared credentials file); "
                            "invocations of %s will fail", function.name, endpoint)

    async def invoke(
        self, payload: bytes, *, request_id: str, trace_id: str | None = None, client_context: str | None = None,
        invoked_function_arn: str | None = None,
    ) -> InvocationResult:
        """Invoke once over the Invoke API; function errors are results, the rest raises (module docstring).

        The endpoint assigns its own request id (``result.request_id``) and ``invoked_function_arn``
        is not sent: the endpoint invokes ``remote_name``, which a version may set (``app:2``).
        """
        headers = [("X-Amz-Invocation-Type", "RequestResponse"), ("X-Amz-Log-Type", "Tail")]
        if client_context is not None:
            headers.append(("X-Amz-Client-Context", client_context))
        if trace_id is not None:
            headers.append(("X-Amzn-Trace-Id", trace_id))
        headers += self._signature(headers, payload)
        started = time.perf_counter()
        with map_remote_errors(self.function.name, self.url):
            response = await self.client.post(self.url, content=payload, headers=headers)
        elapsed_ms = (time.perf_counter() - started) * 1000
        return self._result(response, request_id, elapsed_ms)

    async def aclose(self) -> None:
        if self._owns_client:
            await self.client.aclose()

    def _signature(self, headers: list[tuple[str, str]], payload: bytes) -> list[tuple[str, str]]:
        if self.region is None:
            return []
        creds = self.credentials
        if not isinstance(creds, Credentials):
            raise RemoteError(f"{self.url} is an AWS endpoint and no AWS credentials were found "
                              "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or ~/.aws/credentials with AWS_PROFILE)")
        return sign("POST", self.url, headers, payload, creds, self.region, "lambda", self.clock())

    def _result(self, response: httpx.Response, request_id: str, elapsed_ms: float) -> InvocationResult:
        if response.status_code not in (200, 202, 204):
            raise _refusal(response, self.function.name)
        tail = _log_tail(response.headers.get("X-Amz-Log-Result"))
        for line in tail.splitlines():
            self.sink(self.function.name, line)
        report = _report(tail)
        duration_ms = float(report.get("duration_ms", elapsed_ms))
        return InvocationResult(
            payload=response.content,
            function_error=response.headers.get("X-Amz-Function-Error"),
            request_id=response.headers.get("x-amzn-RequestId", request_id),
            executed_version=response.headers.get("X-Amz-Executed-Version", "$LATEST"),
            log_tail=tail,
            duration_ms=duration_ms,
            billed_duration_ms=int(report.get("billed_duration_ms", max(1, round(duration_ms)))),
            init_duration_ms=report.get("init_duration_ms"),
            max_memory_used_mb=int(report.get("max_memory_used_mb", 0)),
            extra={"remote": self.url, "round_trip_ms": elapsed_ms},
        )


@contextmanager
def map_remote_errors(function: str, url: str) -> Iterator[None]:
    """The seam: httpx's exceptions become the gateway's (STYLE H7)."""
    try:
        yield
    except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout) as exc:
        raise RemoteTimeout(f"function {function!r}: {url} did not answer in time ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:  # ConnectError, ConnectTimeout, ReadError, RemoteProtocolError ...
        raise RemoteError(f"function {function!r}: cannot reach {url}: {type(exc).__name__}: {exc}") from exc


def _refusal(response: httpx.Response, function: str) -> Exception:
    """The gateway error for an Invoke API error answer (rest-json: x-amzn-ErrorType or body __type)."""
    error_type, message = _error_of(response)
    status = response.status_code
    text = f"{error_type}: {message}" if message else error_type
    if status == 429:
        return Throttled(f"function {function!r}: the endpoint throttled the invocation: {text}")
    if status == 413:
        return EventTooLarge(message or text)
    if status == 404:
        return UnknownFunction(message or text)
    return RemoteError(f"function {function!r}: the endpoint answered {status} {text}")


def _error_of(response: httpx.Response) -> tuple[str, str]:
    body: Any = None
    try:
        body = json.loads(response.content) if response.content else None
    except ValueError:
        pass
    doc = body if isinstance(body, dict) else {}
    raw_type = response.headers.get("x-amzn-ErrorType") or doc.get("__type") or doc.get("Type") or doc.get("code")
    error_type = str(raw_type or f"HTTP {response.status_code}").split(":")[0].rsplit("#", 1)[-1]
    message = doc.get("message") or doc.get("Message") or doc.get("errorMessage")
    if message is None and body is None and response.content:
        message = response.content[:300].decode("utf-8", "replace")
    return error_type, str(message or "")


def _log_tail(header: str | None) -> str:
    if not header:
        return ""
    try:
        return base64.b64decode(header, validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return ""


def _report(tail: str) -> dict[str, float]:
    """Durations and memory from the REPORT line of the log tail (the last one), if it is there."""
    lines = [line for line in tail.splitlines() if line.startswith("REPORT RequestId: ")]
    if not lines:
        return {}
    fields = {}
    for name, pattern in _REPORT_FIELDS.items():
        found = pattern.search(lines[-1])
        if found:
            fields[name] = float(found.group(1))
    return fields
