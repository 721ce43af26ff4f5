"""Binding every listen address and running the ASGI app. The only module that imports a server.

Sockets are bound here, before the server starts, so that a port in use is a config error
(exit 2, one line) and port 0 gets a real port that the start-up table can show.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from gateway.app import REASON_HEADER, GatewayApp
from gateway.config import Address
from gateway.errors import ConfigError

log = logging.getLogger("gateway")

SERVERS = ("hypercorn", "uvicorn")


@dataclass(frozen=True, slots=True)
class Bound:
    """A bound listening socket and the front it serves."""

    sock: socket.socket
    address: Address
    key: str


def bind(address: Address, key: str, *, file: str = "") -> socket.socket:
    family = socket.AF_INET6 if ":" in address.host else socket.AF_INET
    # Say TCP explicitly: asyncio turns TCP_NODELAY on only for sockets that report IPPROTO_TCP, and
    # uvicorn does not set it itself (without it every response waits ~40 ms for delayed ACKs).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((address.host, address.port))
    except OSError as exc:
        sock.close()
        problem = "port in use" if exc.errno == 98 else exc.strerror
        raise ConfigError(f"cannot listen on {address}: {problem}", key=key, file=file) from exc
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def bind_all(app: GatewayApp) -> list[Bound]:
    """Bind every front's listen address; on failure close what was bound and raise ConfigError."""
    bound: list[Bound] = []
    counters: dict[str, int] = {}
    sections = {"http_api": "http_apis", "rest_api": "rest_apis", "alb": "albs", "function_url": "function_urls"}
    try:
        for cfg, front in app.fronts:
            index = counters.get(front.kind, 0)
            counters[front.kind] = index + 1
            key = (f"{front.kind}.listen" if front.kind in ("admin", "lambda_api")
                   else f"{sections.get(front.kind, front.kind)}[{index}].listen")
            if cfg.listen is None:  # a front serving only as a distribution's origin (edge/)
                continue
            sock = bind(cfg.listen, key, file=app.config.source)
            host, port = sock.getsockname()[:2]
            app.bind(host, port, front)
            bound.append(Bound(sock, Address(host, port), key))
    except ConfigError:
        for b in bound:
            b.sock.close()
        raise
    return bound


async def serve(
    app: GatewayApp,
    bound: list[Bound],
    *,
    server: str = "hypercorn",
    shutdown: asyncio.Event | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Serve until ``shutdown`` is set (or SIGINT/SIGTERM when it is None)."""
    stop = shutdown or asyncio.Event()
    if shutdown is None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):  # not the main thread
                pass
    runner = _hypercorn if server == "hypercorn" else _uvicorn
    watcher = app.functions.watch_code() if app.config.gateway.reload else None  # hot reload
    try:
        await app.functions.start()  # provisioned concurrency INITs before the first request
        if app.async_queue is not None:
            await app.async_queue.start()  # stored Event invocations drain (gateway/queue.py)
        if app.config.gateway.schedules:
            app.scheduler.start()  # EventBridge schedules (gateway/scheduler.py); off: --no-schedules
        await runner(app, bound, stop, on_ready)
    finally:
        await app.scheduler.aclose()
        if watcher is not None:
            await watcher.aclose()
        if app.async_queue is not None:
            await app.async_queue.aclose()  # events in flight stay stored for the next start
        await app.functions.aclose()


_PHRASES = {status.value: status.phrase.encode() for status in HTTPStatus}


class _H11WithReasons:
    """hypercorn's view of h11, with status-line reason phrases.

    hypercorn sends every HTTP/1.1 status line without a reason ("HTTP/1.1 200 "); AWS sends the
    standard phrase, and an ALB sends a Lambda's ``statusDescription`` (ALB-R1). ASGI has no field
    for a reason, so the app passes a custom one in the private ``REASON_HEADER``, removed here."""

    def __init__(self, h11: Any) -> None:
        self._h11 = h11
        # hypercorn reads h11.Request, h11.Data ... per event: plain attributes, not __getattr__ each time.
        self.__dict__.update((k, v) for k, v in vars(h11).items() if not k.startswith("__") and k != "Response")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._h11, name)

    def Response(self, *, headers: Any, status_code: int, reason: bytes = b"", **kw: Any) -> Any:  # noqa: N802
        kept = []
        for name, value in headers:
            if name == REASON_HEADER:
                reason = value
            else:
                kept.append((name, value))
        if not reason:
            reason = _PHRASES.get(status_code, b"")
        return self._h11.Response(headers=kept, status_code=status_code, reason=reason, **kw)


def _give_hypercorn_reasons() -> None:
    import hypercorn.protocol.h11 as hypercorn_h11

    current = getattr(hypercorn_h11, "h11")  # noqa: B009 (the module does not re-export h11)
    if not isinstance(current, _H11WithReasons):
        setattr(hypercorn_h11, "h11", _H11WithReasons(current))  # noqa: B010


async def _hypercorn(
    app: GatewayApp, bound: list[Bound], stop: asyncio.Event, on_ready: Callable[[], None] | None
) -> None:
    from hypercorn.asyncio import serve as hypercorn_serve
    from hypercorn.config import Config

    _give_hypercorn_reasons()
    app.reason_header = True

    config = Config()
    config.bind = [f"fd://{b.sock.fileno()}" for b in bound]
    config.h11_pass_raw_headers = True  # REST events keep the client's header case (REST-2)
    config.include_server_header = False
    config.include_date_header = True
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    config.keep_alive_timeout = 75
    config.graceful_timeout = 2
    if on_ready:
        asyncio.get_running_loop().call_soon(on_ready)
    await hypercorn_serve(app, config, shutdown_trigger=stop.wait, mode="asgi")  # type: ignore[arg-type]


async def _uvicorn(
    app: GatewayApp, bound: list[Bound], stop: asyncio.Event, on_ready: Callable[[], None] | None
) -> None:
    try:
        import uvicorn
    except ImportError as exc:
        raise ConfigError("the uvicorn server needs the 'fast' extra: pip install 'lambda-gateway[fast]'",
                          key="gateway.server") from exc

    config = uvicorn.Config(
        app, lifespan="off", access_log=False, server_header=False, date_header=True, log_config=None,
        timeout_keep_alive=75, timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[b.sock for b in bound]))
    if on_ready:
        asyncio.get_running_loop().call_soon(on_ready)
    waiter = asyncio.create_task(stop.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    await task
    waiter.cancel()


def addresses(bound: list[Bound]) -> dict[str, Any]:
    return {b.key: b.address for b in bound}
