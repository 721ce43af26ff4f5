"""The baseline: a bare Starlette app with one trivial JSON endpoint, served like the gateway serves.

    python benchmarks/bare_app.py --server hypercorn --port 8000 [--sync]
    curl http://127.0.0.1:8000/items/42        # {"ok":true}

The endpoint is ``async def`` (answered on the event loop); with ``--sync`` it is a plain ``def``,
which Starlette runs in its thread pool: one thread hop per request, as the gateway's in-process
functions have (each runs in its environment's thread).

The socket is bound here (SO_REUSEADDR, backlog 1024, non-blocking, TCP_NODELAY on connections) and
handed to the server with the same settings as gateway/server.py (no access log, no Server header,
a Date header, keep-alive 75 s, h11 raw header names under hypercorn), so the only difference from
the gateway is the gateway itself.
The body is the one the benchmark's trivial Lambda handler returns, with the same Content-Type.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import socket
import sys

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODY = b'{"ok":true}'


async def item(request: Request) -> Response:
    return Response(BODY, media_type="application/json")


def item_sync(request: Request) -> Response:
    """The same endpoint as a plain function: Starlette runs it in its thread pool, one hop per request."""
    return Response(BODY, media_type="application/json")


app = Starlette(routes=[Route("/items/{id}", item)])
app_sync = Starlette(routes=[Route("/items/{id}", item_sync)])


def bind(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP, not 0: asyncio only sets TCP_NODELAY on accepted sockets whose proto is IPPROTO_TCP
    # (hypercorn re-creates the socket from its fd, which reads the real proto; uvicorn uses it as is).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


async def serve_hypercorn(app: Starlette, sock: socket.socket, stop: asyncio.Event) -> None:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"fd://{sock.fileno()}"]
    config.h11_pass_raw_headers = True
    config.include_server_header = False
    config.include_date_header = True
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    config.keep_alive_timeout = 75
    config.graceful_timeout = 2
    await serve(app, config, shutdown_trigger=stop.wait, mode="asgi")  # type: ignore[arg-type]


async def serve_uvicorn(app: Starlette, sock: socket.socket, stop: asyncio.Event) -> None:
    import uvicorn

    config = uvicorn.Config(
        app, lifespan="off", access_log=False, server_header=False, date_header=True, log_config=None,
        timeout_keep_alive=75, timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    waiter = asyncio.create_task(stop.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    await task
    waiter.cancel()


async def main_async(server: str, sock: socket.socket, sync: bool = False) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    served = app_sync if sync else app
    if server == "hypercorn":
        await serve_hypercorn(served, sock, stop)
    else:
        await serve_uvicorn(served, sock, stop)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", choices=("hypercorn", "uvicorn"), default="hypercorn")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--sync", action="store_true",
                        help="a plain def endpoint, run in Starlette's thread pool (default: async def)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    sock = bind(args.host, args.port)
    kind = "sync endpoint" if args.sync else "async endpoint"
    print(f"bare Starlette ({args.server}, {kind}) on http://{args.host}:{sock.getsockname()[1]}/items/42", flush=True)
    asyncio.run(main_async(args.server, sock, args.sync))
    return 0


if __name__ == "__main__":
    sys.exit(main())
