"""Value types that travel along the data path.

Headers are kept as ordered ``(name, value)`` pairs so that repeated headers, multi-value
maps, cookies and ``Set-Cookie`` lines all survive. Names keep the case the server gave
us (hypercorn with ``h11_pass_raw_headers`` keeps the client's spelling, which REST API
events need, rule REST-2); consumers that want lowercase names lower them themselves.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpRequest:
    """One HTTP request as the client sent it.

    ``path`` is the request target's path exactly as sent (percent-encoding preserved,
    decoded from bytes as latin-1 so every byte survives); ``query_string`` is the raw
    query without the ``?`` (``""`` when there is none).
    """

    method: str
    path: str
    query_string: str = ""
    headers: Headers = ()
    body: bytes = b""
    client_ip: str = "127.0.0.1"
    client_port: int = 0
    scheme: str = "http"
    server_host: str = "127.0.0.1"
    server_port: int = 80
    http_version: str = "1.1"
    #: the body still arriving (``body`` is then empty): only fronts that ask for it get one (gateway/app.py)
    stream: BodyStream | None = None

    def header(self, name: str) -> str | None:
        """The last value of a header, matched case-insensitively, or None."""
        lname = name.lower()
        found = None
        for key, value in self.headers:
            if key.lower() == lname:
                found = value
        return found

    def header_values(self, name: str) -> list[str]:
        """Every value of a header in arrival order, matched case-insensitively."""
        lname = name.lower()
        return [value for key, value in self.headers if key.lower() == lname]


class BodyStream(Protocol):
    """A response body still arriving (a proxied origin's), read once, chunk by chunk.

    ``length`` is the Content-Length the sender announced, or None (sent chunked). ``aclose()``
    releases what is behind it (the upstream connection); it is safe to call more than once and
    must be called when the body is not read to its end."""

    length: int | None

    def __aiter__(self) -> AsyncIterator[bytes]: ...

    async def aclose(self) -> None: ...


async def read_body(stream: BodyStream) -> bytes:
    """The whole of a streamed body (for whatever needs it complete: the edge cache); always closed."""
    try:
        return b"".join([chunk async for chunk in stream])
    finally:
        await stream.aclose()


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpResponse:
    """What the client receives. ``reason`` is the status line's text when it is not the default.

    ``stream``, when set, is the body still arriving (``body`` is then empty): the app sends it in
    chunks as they come (gateway/app.py). Only the distribution front makes such responses."""

    status: int
    headers: Headers = ()
    body: bytes = b""
    reason: str | None = None
    stream: BodyStream | None = None

    def header(self, name: str) -> str | None:
        lname = name.lower()
        found = None
        for key, value in self.headers:
            if key.lower() == lname:
                found = value
        return found


async def read_all(response: HttpResponse) -> HttpResponse:
    """``response`` with its whole body in ``body`` (a streamed one is read to its end and closed)."""
    if response.stream is None:
        return response
    return dataclasses.replace(response, body=await read_body(response.stream), stream=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class InvocationContext:
    """Per-request identifiers and time, made by the I/O layer and passed into pure code.

    ``request_id`` is a UUID (REST requestId; function URL requestId = the Lambda request id),
    ``short_id`` the 16-character id HTTP APIs use (HV2-6), ``extended_request_id`` REST's
    extendedRequestId, ``trace_id`` an X-Ray header value ``Root=1-<8 hex>-<24 hex>``.
    """

    request_id: str
    time_epoch_ms: int
    trace_id: str
    short_id: str = ""
    extended_request_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Authorization:
    """Who the caller turned out to be, in neutral form; each event format renders it (REST-8, HV2-8, URL-8).

    ``kind`` is ``"iam"`` (SigV4: ``iam`` holds accessKey, accountId, callerId, userArn, userId,
    principalOrgId, cognitoIdentity), ``"jwt"`` (``claims``, ``scopes``) or ``"lambda"`` (a Lambda
    authorizer: ``principal_id``, ``context``, ``integration_latency_ms``).
    """

    kind: str
    principal_id: str | None = None
    context: Mapping[str, Any] | None = None
    claims: Mapping[str, Any] | None = None
    scopes: tuple[str, ...] | None = None
    iam: Mapping[str, Any] | None = None
    integration_latency_ms: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteMatch:
    """The outcome of routing: which function, under which route key, with which parameters.

    ``route_key`` is the HTTP API route key (``"GET /items/{id}"``, ``"$default"``), the REST
    resource path (``"/{proxy+}"``) or an ALB rule's description. ``path_parameters`` is None
    when the route has no template. ``route`` is the config object of the matched route, for
    per-route settings such as ``payload_format_version``.
    """

    function: str
    route_key: str
    path_parameters: Mapping[str, str] | None = None
    route: Any = None
    #: filled by the front's authorize step when the route has an authorizer or IAM auth.
    auth: Authorization | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InvocationResult:
    """What one invocation produced (STYLE H6: a typed result, never guessed from output).

    ``function_error`` is None on success, else ``"Unhandled"`` (or the runtime's type) and
    ``payload`` holds the ``{"errorMessage", "errorType", ...}`` document.
    """

    payload: bytes
    function_error: str | None = None
    request_id: str = ""
    executed_version: str = "$LATEST"
    log_tail: str = ""
    duration_ms: float = 0.0
    billed_duration_ms: int = 0
    init_duration_ms: float | None = None
    max_memory_used_mb: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)
