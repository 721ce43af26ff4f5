"""The ASGI application: HTTP <-> HttpRequest/HttpResponse, body limits, one access-log line per request.

It does not depend on the server: hypercorn, uvicorn or httpx's ASGITransport can all drive it.
The front is picked by the port of the socket the request arrived on (``scope["server"]``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

from gateway.config import GatewayConfig
from gateway.errors import ClientDisconnected, InvalidLambdaResponse, RequestTooLarge
from gateway.fronts import BaseFront, build_fronts
from gateway.functions import FunctionsService
from gateway.models import BodyStream, HttpRequest, HttpResponse
from gateway.queue import AsyncQueue
from gateway.scheduler import Scheduler

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: A private header carrying a custom reason phrase to servers that can send one (server.py).
REASON_HEADER = b"x-lambda-gateway-reason"

log = logging.getLogger("gateway")
access_log = logging.getLogger("gateway.access")


class GatewayApp:
    """Serves every front of one gateway. ``fronts`` maps listening ports to fronts."""

    def __init__(
        self,
        config: GatewayConfig,
        functions: FunctionsService,
        fronts: list[tuple[Any, BaseFront]],
        *,
        access_log_enabled: bool = True,
    ) -> None:
        self.config = config
        self.functions = functions
        self.fronts = fronts
        self.by_address: dict[tuple[str, int], BaseFront] = {}
        self.by_port: dict[int, BaseFront | None] = {}
        for cfg, front in fronts:
            if cfg.listen is not None and cfg.listen.port:
                self.bind(cfg.listen.host, cfg.listen.port, front)
        self.access_log_enabled = access_log_enabled
        #: set by the server when it turns REASON_HEADER into the status line's reason phrase.
        self.reason_header = False
        #: the functions' EventBridge schedules; server.serve() starts the timer (gateway/scheduler.py).
        self.scheduler = Scheduler.for_app(self)
        #: the durable async-invocation queue (gateway/queue.py); set by create_app, started by server.serve().
        self.async_queue: AsyncQueue | None = None

    def bind(self, host: str, port: int, front: BaseFront) -> None:
        """Record the address a front actually listens on (after binding port 0)."""
        self.by_address[(host, port)] = front
        # By port alone only while one front has that port (a wildcard host reports the local IP).
        self.by_port[port] = front if self.by_port.get(port, front) is front else None

    def front_for(self, scope: Scope) -> BaseFront | None:
        server = scope.get("server")
        if server:
            front = self.by_address.get((server[0], server[1])) or self.by_port.get(server[1])
            if front is not None:
                return front
        if len(self.fronts) == 1:
            return self.fronts[0][1]
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self.http(scope, receive, send)
        elif kind == "lifespan":
            await self.lifespan(receive, send)
        elif kind == "websocket":
            await self.websocket(scope, receive, send)

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """An Upgrade request. No front passes WebSocket upgrades to Lambda: ALB answers 400
        (ALB-11); the API Gateway fronts and function URLs answer it as a plain request [INF]."""
        front = self.front_for(scope)
        proxy = getattr(front, "serve_websocket", None)  # a distribution proxies it (edge/websocket.py)
        if proxy is not None:
            await proxy(request_head(dict(scope, method="GET"), b""), scope, receive, send)
            return
        if front is None or "websocket.http.response" not in scope.get("extensions", {}):
            await send({"type": "websocket.close", "code": 1008})
            return
        request = request_head(dict(scope, method="GET"), b"")
        response = await front.handle(request)
        headers = _encode_headers(response)
        await send({"type": "websocket.http.response.start", "status": response.status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": response.body})

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        front = self.front_for(scope)
        if front is None:
            response = HttpResponse(status=404, body=b"no front listens here")
            await _send(send, response)
            return
        fast = front.answer_from_cache
        if fast is not None:
            hit = None
            try:
                hit = fast(scope)
            except Exception:  # noqa: BLE001 - the full path below answers, and reports a bug it hits
                log.debug("fast cache path failed", exc_info=True)
            if hit is not None:
                status, reason, headers, body = hit
                await _send_encoded(send, status, headers, body, None, reason if self.reason_header else None)
                if self.access_log_enabled and access_log.isEnabledFor(logging.INFO):  # before building the request
                    _log_access(front, request_head(scope, b""), HttpResponse(status=status, body=body), started)
                return
        try:
            length = _streamed_body(scope) if front.streams_request_body else -1
            if length == -1:
                request = await read_request(scope, receive, front.max_body)
            else:  # a distribution: its HTTP origin gets the body as it arrives (edge/distribution.py)
                request = dataclasses.replace(request_head(scope, b""), stream=RequestBody(receive, length))
        except ClientDisconnected:
            # The client left before its body arrived: AWS never invokes with part of a body (C-1).
            return
        except RequestTooLarge as exc:
            request = request_head(scope, b"")
            response = front.with_cors(request, front.render_error(exc, request, front.new_ctx()))
            # The body was not read: the connection cannot carry another request (RFC 9112 §9.6).
            response = dataclasses.replace(response, headers=(*response.headers, ("Connection", "close")))
        else:
            try:
                response = await front.handle(request)
            except Exception:  # a bug in the gateway must not take the server down
                log.exception("%s %r: unexpected error for %s %s", front.kind, front.name, request.method, request.path)
                response = HttpResponse(
                    status=500, headers=(("Content-Type", "application/json"),),
                    body=b'{"message":"Internal server error"}',
                )
        try:
            await _send(send, response, self.reason_header, receive)
        except UnicodeEncodeError as exc:
            if response.stream is not None:
                await response.stream.aclose()
            bad = InvalidLambdaResponse(f"a response header cannot be sent over HTTP: {exc}")
            front.explain(bad, request)
            response = front.with_cors(request, front.render_error(bad, request, front.new_ctx()))
            await _send(send, response, self.reason_header)
        if self.access_log_enabled:
            _log_access(front, request, response, started)


def request_head(scope: Scope, body: bytes) -> HttpRequest:
    """Our request from an ASGI scope. Header names keep the case the server gives (REST-2)."""
    raw_path = scope.get("raw_path")
    if raw_path is None:
        from urllib.parse import quote

        path = quote(scope.get("path", "/"), safe="/%!$&'()*+,;=:@~")
    else:
        path = raw_path.decode("latin-1")
    # Values stay latin-1 wire strings, like the path and query; formats re-read them as UTF-8.
    headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]]
    client = scope.get("client") or ("127.0.0.1", 0)
    server = scope.get("server") or ("127.0.0.1", 80)
    return HttpRequest(
        method=scope["method"],
        path=path,
        query_string=scope.get("query_string", b"").decode("latin-1"),
        headers=tuple(headers),
        body=body,
        client_ip=client[0],
        client_port=client[1],
        scheme=scope.get("scheme", "http"),
        server_host=server[0],
        server_port=server[1] or 80,
        http_version=scope.get("http_version", "1.1"),
    )


async def read_request(scope: Scope, receive: Receive, limit: int) -> HttpRequest:
    """Read the whole body (the fronts are BUFFERED), refusing more than ``limit`` bytes."""
    for name, value in scope["headers"]:
        if name.lower() == b"content-length" and value.isdigit() and int(value) > limit:
            raise RequestTooLarge(f"Content-Length {int(value)} is over the front's {limit} bytes")
    chunks = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected("the client disconnected before the whole body arrived")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise RequestTooLarge(f"the body is over the front's {limit} bytes")
        if chunk:
            chunks.append(chunk)
        more = message.get("more_body", False)
    return request_head(scope, b"".join(chunks))


def _streamed_body(scope: Scope) -> int | None:
    """-1 when the request announces no body (nothing to stream); else its Content-Length, or None
    when it is sent chunked."""
    for name, value in scope["headers"]:
        lname = name.lower()
        if lname == b"content-length":
            return int(value) if value.isdigit() and value != b"0" else -1
        if lname == b"transfer-encoding":
            return None
    return -1


class RequestBody:
    """A request body read from the server as the consumer asks for it (a BodyStream), once."""

    def __init__(self, receive: Receive, length: int | None) -> None:
        self.receive = receive
        self.length = length
        self.started = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.started:
            raise RuntimeError("a streamed request body can be read only once")
        self.started = True
        more = True
        while more:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnected("the client disconnected before the whole body arrived")
            if message.get("body"):
                yield message["body"]
            more = message.get("more_body", False)

    async def aclose(self) -> None:
        """Nothing to release: what is left unread is the server's to drain."""


def _encode_headers(response: HttpResponse) -> list[tuple[bytes, bytes]]:
    return [(name.encode("ascii"), value.encode()) for name, value in response.headers]


async def _send(
    send: Send, response: HttpResponse, reason_header: bool = False, receive: Receive | None = None
) -> None:
    await _send_encoded(send, response.status, _encode_headers(response), response.body, response.stream,
                        response.reason if reason_header else None, receive)


async def _send_encoded(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes, stream: BodyStream | None,
    reason: str | None, receive: Receive | None = None,
) -> None:
    """A response whose headers are encoded already; Content-Length (or none) and the reason are added here."""
    if status in (204, 304) or status < 200:
        body = b""  # these statuses have no body and no Content-Length (RFC 9110 §8.6, §15.3.5)
        if stream is not None:
            await stream.aclose()
            stream = None
    elif stream is None:
        headers.append((b"content-length", str(len(body)).encode()))
    elif stream.length is not None:
        headers.append((b"content-length", str(stream.length).encode()))  # else the server sends it chunked
    if reason:
        headers.append((REASON_HEADER, reason.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    if stream is None:
        await send({"type": "http.response.body", "body": body})
    else:
        await _send_stream(send, receive, stream)


async def _send_stream(send: Send, receive: Receive | None, stream: BodyStream) -> None:
    """A streamed body, chunk by chunk as it arrives. When the client leaves, the stream stops and is
    closed (the upstream connection with it); when the stream breaks off, the response ends without
    its last chunk, so the client sees it cut short (the server closes the connection), as a
    proxy's viewer does when the origin dies mid-body."""

    async def pump() -> None:
        async for chunk in stream:
            if chunk:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def client_left() -> None:
        while receive is not None and (await receive())["type"] != "http.disconnect":
            pass

    sending = asyncio.ensure_future(pump())
    watching = asyncio.ensure_future(client_left()) if receive is not None else None
    try:
        await asyncio.wait({sending} if watching is None else {sending, watching},
                           return_when=asyncio.FIRST_COMPLETED)
        if not sending.done():  # the client disconnected
            sending.cancel()
        elif sending.exception() is not None:
            log.warning("a streamed response body broke off: %r", sending.exception())
    finally:
        for task in (sending, watching):
            if task is not None and not task.done():
                task.cancel()
        await asyncio.gather(sending, *([watching] if watching else []), return_exceptions=True)
        await stream.aclose()


def _log_access(front: BaseFront, request: HttpRequest, response: HttpResponse, started: float) -> None:
    if not access_log.isEnabledFor(logging.INFO):
        return
    target = request.path + (f"?{request.query_string}" if request.query_string else "")
    ms = (time.perf_counter() - started) * 1000
    access_log.info(
        '%s %s "%s %s HTTP/%s" %d %d %.1fms',
        front.name, request.client_ip, request.method, target, request.http_version,
        response.status, len(response.body), ms,
    )


def create_app(config: GatewayConfig, functions: FunctionsService | None = None) -> GatewayApp:
    """The ASGI app for a config. Tests drive it with ``httpx.ASGITransport(app=create_app(cfg))``."""
    service = functions or FunctionsService(config.functions, config.gateway)
    queue = AsyncQueue(service, config)  # Event invocations (lambda_api, schedules); status on the admin listener
    app = GatewayApp(config, service, build_fronts(config, service, queue=queue),
                     access_log_enabled=config.gateway.access_log)
    app.async_queue = queue
    return app
