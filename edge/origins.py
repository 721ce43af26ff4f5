"""A distribution's origins: an HTTP upstream (httpx), another front of this gateway (in process),
and a local directory served as an S3 origin.

Each origin describes itself as the Lambda@Edge event's ``origin`` object and fetches an
``EdgeRequest`` into an ``EdgeResponse``. Network failures become ``OriginUnreachable`` (502) or
``OriginTimeout`` (504), CloudFront's answers.
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/http-502-bad-gateway.html
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/http-504-gateway-timeout.html
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpcore
import httpx

from edge.config import OriginConfig
from edge.events import EdgeRequest, EdgeResponse
from edge.network import AsyncioBackend
from gateway.errors import EdgeError
from gateway.models import BodyStream, Headers, HttpRequest, HttpResponse

#: Hop-by-hop headers (RFC 9110 §7.6.1) and those the server recomputes: never passed on.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
                        "upgrade", "content-length", "host"})
#: Response headers the gateway's server writes itself (hypercorn always adds Date).
SERVER_WRITTEN = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "date"})
SERVER_WRITTEN_BYTES = frozenset(name.encode() for name in SERVER_WRITTEN)
#: An origin's body announced at most this long is read whole before answering; a longer one, or one
#: sent chunked, is streamed to the viewer as it arrives (a small one costs less read whole).
STREAM_OVER = 64 * 1024
#: What httpx's Client added to every request when the viewer's request lacked it; still sent, so the
#: origin sees the same request as when the proxy went through the Client (see ClientPool). Except the
#: User-Agent: when the viewer's is not forwarded (none sent, or the origin request policy leaves it out)
#: CloudFront sends "Amazon CloudFront"
#: (RequestAndResponseBehaviorCustomOrigin.html, "User-Agent" [INF: not in shared/reference/edge.md]).
CLIENT_DEFAULTS = ((b"Accept", b"*/*"), (b"Accept-Encoding", b"gzip, deflate"), (b"Connection", b"keep-alive"),
                   (b"User-Agent", b"Amazon CloudFront"))
_CLIENT_DEFAULT_NAMES = tuple((name.lower().decode(), name, value) for name, value in CLIENT_DEFAULTS)
#: httpcore's errors (they share no base class); a timeout among them is OriginTimeout, any other OriginUnreachable.
HTTPCORE_ERRORS = (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError,
                   httpcore.UnsupportedProtocol, httpcore.ProxyError)
#: A path and a query httpx's URL parsing would pass on unchanged (RFC 3986 characters, %XX escapes, no
#: ``.`` segment: httpx drops those); anything else still goes through httpx.URL, as before.
_PLAIN_PATH = re.compile(r"/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/\[\]|\\^]|%[0-9A-Fa-f]{2})*")
_PLAIN_QUERY = re.compile(r"(?:[!$&-;=?-~]|%[0-9A-Fa-f]{2})*")


def edge_request(request: HttpRequest, method: str | None = None) -> EdgeRequest:
    """The viewer's request as the edge stages see it: hop-by-hop headers dropped, Host kept."""
    return EdgeRequest(method=method or request.method, uri=request.path, querystring=request.query_string,
                       headers=tuple((n, v) for n, v in request.headers if n.lower() not in HOP_BY_HOP
                                     or n.lower() == "host"),
                       body=request.body, client_ip=request.client_ip, stream=request.stream)


class OriginUnreachable(EdgeError):
    """The origin refused the connection or broke the protocol: 502."""


class OriginTimeout(EdgeError):
    """The origin did not connect or answer in time: 504."""


class Front(Protocol):
    """What a front of this gateway offers an origin (gateway/fronts/base.py)."""

    name: str

    async def handle(self, request: HttpRequest) -> HttpResponse: ...


class Origin(Protocol):
    cfg: OriginConfig

    def event_origin(self) -> dict[str, Any]: ...

    async def fetch(self, req: EdgeRequest) -> EdgeResponse: ...


def custom_headers(headers: Mapping[str, str]) -> dict[str, list[dict[str, str]]]:
    return {name.lower(): [{"key": name, "value": value}] for name, value in headers.items()}


def _inner(req: EdgeRequest) -> Mapping[str, Any]:
    """The ``custom`` or ``s3`` object of the event's origin."""
    inner: Any = next(iter((req.origin or {}).values()), {})
    return inner if isinstance(inner, Mapping) else {}


def _event_custom_headers(req: EdgeRequest) -> Headers:
    inner = _inner(req)
    out: list[tuple[str, str]] = []
    for entries in (inner.get("customHeaders") or {}).values():
        out += [(e.get("key", ""), e.get("value", "")) for e in entries if isinstance(e, dict)]
    return tuple(out)


def _event_path(req: EdgeRequest, default: str) -> str:
    path = _inner(req).get("path", default)
    return path if isinstance(path, str) else default


class UpstreamBody:
    """An origin's response body still arriving, read chunk by chunk (gateway/models.py BodyStream).
    The response is closed when the body ends, breaks off or is abandoned; a break is raised as
    httpx's error of the same name (httpx.ReadError, httpx.RemoteProtocolError ...)."""

    def __init__(self, response: httpcore.Response, length: int | None) -> None:
        self.response = response
        self.length = length

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.response.aiter_stream():
                yield chunk
        except HTTPCORE_ERRORS as exc:
            error = getattr(httpx, type(exc).__name__, httpx.TransportError)
            raise error(str(exc)) from exc
        finally:
            await self.response.aclose()

    async def aclose(self) -> None:
        await self.response.aclose()


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name.lower() == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class ClientPool:
    """The connection pools a distribution's HTTP origins share: httpx's own transport layer (httpcore)
    used directly, without the Client above it, whose per-request work (URL parsing, header merging,
    auth, redirects, cookies: a Client would also keep an origin's Set-Cookie and send it for every
    later viewer) cost as much as the transport's own (benchmarks/proxy_overhead.py).

    httpcore's connection pool does work growing with the square of its connections on every request
    and every response (it checks each connection, a syscall each, and counts them all once per idle
    one), so one pool holding the connections of many concurrent viewers costs more than the rest of
    the proxy path together; several small pools holding the same connections cost a fraction of it
    (benchmarks/proxy_overhead.py). The n-th request in flight takes the n-th client (modulo their
    number): one at a time, they all reuse the first client's connection; many at once spread out.
    Idle connections are kept for CloudFront's default origin keep-alive timeout, 5 s; connections
    are not capped (a long stream must not starve the others)."""

    def __init__(self, size: int = 16) -> None:
        tls = httpx.create_ssl_context()  # one, not one per pool (loading the CA bundle is slow)
        backend = AsyncioBackend()  # not anyio's (edge/network.py)
        self.clients = [httpcore.AsyncConnectionPool(ssl_context=tls, max_connections=None,
                                                     max_keepalive_connections=64, keepalive_expiry=5.0,
                                                     network_backend=backend)
                        for _ in range(size)]
        self.in_flight = 0

    @contextlib.contextmanager
    def take(self) -> Iterator[httpcore.AsyncConnectionPool]:
        """A pool for one request, until its response headers are in."""
        index = self.in_flight
        self.in_flight += 1
        try:
            yield self.clients[index % len(self.clients)]
        finally:
            self.in_flight -= 1

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()


class HttpOrigin:
    """A custom origin reached over HTTP(S) with httpx; the Host it sees is its own host:port."""

    def __init__(self, cfg: OriginConfig, clients: ClientPool) -> None:
        assert cfg.url is not None
        self.cfg = cfg
        self.clients = clients
        parts = urlsplit(cfg.url)
        self.scheme = parts.scheme
        self.hostname = parts.hostname or "localhost"
        self.port = parts.port or (443 if self.scheme == "https" else 80)
        self.host = parts.netloc
        # A path in the URL counts as the origin path, before origin_path.
        self.path = parts.path.rstrip("/") + cfg.origin_path
        self.timeout = httpx.Timeout(cfg.read_timeout, connect=cfg.connect_timeout)
        url = httpx.URL(cfg.url)  # parsed once: host IDNA-encoded, default port filled
        self.url = httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=b"/")
        self.extensions = {"timeout": self.timeout.as_dict()}
        self.host_header = self.host.encode("latin-1")

    def event_origin(self) -> dict[str, Any]:
        return {"custom": {
            "customHeaders": custom_headers(self.cfg.custom_headers), "domainName": self.hostname,
            "keepaliveTimeout": 5, "path": self.path, "port": self.port, "protocol": self.scheme,
            "readTimeout": int(self.cfg.read_timeout), "sslProtocols": ["TLSv1.2"],
        }}

    def _target(self, req: EdgeRequest) -> bytes:
        """The request target as httpx would have sent it (path and query quoted, dot segments dropped)."""
        path = _event_path(req, self.path) + req.uri
        if _PLAIN_PATH.fullmatch(path) and "/." not in path and _PLAIN_QUERY.fullmatch(req.querystring):
            return (f"{path}?{req.querystring}" if req.querystring else path).encode("ascii")
        target = f"{self.scheme}://{self.host}{path}"
        if req.querystring:
            target += f"?{req.querystring}"
        try:
            return httpx.URL(target).raw_path
        except httpx.InvalidURL as exc:
            raise OriginUnreachable(f"origin {self.cfg.id} ({self.cfg.url}): bad request target: {exc}") from exc

    def _headers(self, req: EdgeRequest, content: bytes | BodyStream) -> list[tuple[bytes, bytes]]:
        """The viewer's headers (latin-1 wire strings) less hop-by-hop ones, Host first, then the Client's
        defaults it lacks, the origin's custom headers and the body's framing, as httpx's Client sent them."""
        host = b""
        headers: list[tuple[bytes, bytes]] = []
        seen: set[str] = set()
        for name, value in req.headers:
            lname = name.lower()
            if lname == "host":
                host = host or value.encode("latin-1")
            elif lname not in HOP_BY_HOP:
                headers.append((name.encode("latin-1"), value.encode("latin-1")))
                seen.add(lname)
        out = [(b"Host", host or self.host_header)]
        out += [(name, value) for lname, name, value in _CLIENT_DEFAULT_NAMES if lname not in seen]
        out += headers
        out += [(n.encode("latin-1"), v.encode("latin-1")) for n, v in _event_custom_headers(req)]
        if isinstance(content, bytes):
            if content:
                out.append((b"Content-Length", str(len(content)).encode()))
            elif req.method in ("POST", "PUT", "PATCH"):
                out.insert(1, (b"Content-Length", b"0"))
        elif content.length is not None:  # the viewer's body as it arrives, with its Content-Length when it gave one
            out.append((b"Content-Length", str(content.length).encode()))
        else:
            out.append((b"Transfer-Encoding", b"chunked"))
        return out

    async def fetch(self, req: EdgeRequest) -> EdgeResponse:
        content: bytes | BodyStream = req.body if req.stream is None else req.stream
        url = self.url
        request = httpcore.Request(req.method.encode("ascii"), httpcore.URL(scheme=url.scheme, host=url.host,
                                                                            port=url.port, target=self._target(req)),
                                   headers=self._headers(req, content), content=content, extensions=self.extensions)
        stream: UpstreamBody | None = None
        body = b""
        try:
            with self.clients.take() as pool:
                response = await pool.handle_async_request(request)
            length = _content_length(response.headers)
            if req.method != "HEAD" and response.status not in (204, 304) and (
                    length is None or length > STREAM_OVER):
                stream = UpstreamBody(response, length)  # the viewer gets it as it arrives (gateway/app.py)
            else:
                try:
                    body = b"".join([chunk async for chunk in response.aiter_stream()])
                finally:
                    await response.aclose()
        except httpcore.TimeoutException as exc:
            raise OriginTimeout(f"origin {self.cfg.id} ({self.cfg.url}) timed out: {type(exc).__name__}") from exc
        except HTTPCORE_ERRORS as exc:
            raise OriginUnreachable(f"origin {self.cfg.id} ({self.cfg.url}) failed: {exc!r}") from exc
        kept = tuple((n.decode("latin-1"), v.decode("latin-1")) for n, v in response.headers
                     if n.lower() not in SERVER_WRITTEN_BYTES)  # the origin's spelling
        reason = response.extensions.get("reason_phrase", b"")
        return EdgeResponse(status=response.status, headers=kept, body=body, stream=stream,
                            status_description=reason.decode("ascii", errors="ignore"))


class FrontOrigin:
    """Another front of this gateway, called through its ``handle()`` without a network hop."""

    def __init__(self, cfg: OriginConfig, front: Front, host: str) -> None:
        self.cfg = cfg
        self.front = front
        self.host = host

    def event_origin(self) -> dict[str, Any]:
        host, _, port = self.host.partition(":")
        return {"custom": {
            "customHeaders": custom_headers(self.cfg.custom_headers), "domainName": host,
            "keepaliveTimeout": 5, "path": self.cfg.origin_path, "port": int(port or 80), "protocol": "http",
            "readTimeout": int(self.cfg.read_timeout), "sslProtocols": ["TLSv1.2"],
        }}

    async def fetch(self, req: EdgeRequest) -> EdgeResponse:
        headers = [(n, v) for n, v in req.headers if n.lower() not in HOP_BY_HOP or n.lower() == "host"]
        if not any(n.lower() == "host" for n, _ in headers):
            headers.insert(0, ("Host", self.host))
        headers += _event_custom_headers(req)
        if req.body:
            headers.append(("Content-Length", str(len(req.body))))
        request = HttpRequest(method=req.method, path=_event_path(req, self.cfg.origin_path) + req.uri,
                              query_string=req.querystring, headers=tuple(headers), body=req.body,
                              client_ip=req.client_ip)
        try:
            async with asyncio.timeout(self.cfg.read_timeout):
                response = await self.front.handle(request)
        except TimeoutError:
            raise OriginTimeout(f"origin {self.cfg.id} (front {self.front.name}) did not answer in time") from None
        headers_out = tuple((n, v) for n, v in response.headers if n.lower() not in SERVER_WRITTEN)
        return EdgeResponse(status=response.status, headers=headers_out, body=response.body,
                            stream=response.stream, status_description=response.reason or "")
