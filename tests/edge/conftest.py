"""A real upstream (Starlette under hypercorn on an ephemeral loopback port) and a gateway whose
distribution proxies to it, to an HTTP API of the gateway (no listen of its own) and to a local
directory, with Lambda@Edge functions (tests/edge/handlers/edge_fns.py) on its behaviors."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

HERE = Path(__file__).parent
HANDLERS = HERE / "handlers"
E2E_HANDLERS = HERE.parent / "e2e" / "handlers"


async def echo(request: Request) -> Response:
    """Echoes the request as JSON; ``/status/N`` answers N, ``slow`` waits 2 s, ``gzip`` compresses."""
    path = request.url.path
    if "slow" in path:
        await asyncio.sleep(2)
    body = json.dumps({
        "method": request.method, "path": path, "raw_path": request.scope["raw_path"].decode(),
        "query": request.url.query, "headers": [[k.decode(), v.decode()] for k, v in request.scope["headers"]],
        "body": (await request.body()).decode("latin-1"),
    }).encode()
    headers = {"X-Upstream": "yes", "Cache-Control": "max-age=60"}
    if "gzip" in path:
        return Response(gzip.compress(body), headers={**headers, "Content-Encoding": "gzip"},
                        media_type="application/json")
    status = int(path.rsplit("/status/", 1)[1][:3]) if "/status/" in path else 200
    return Response(body, status_code=status, headers=headers, media_type="application/json")


upstream_app = Starlette(routes=[Route("/{path:path}", echo, methods=["GET", "HEAD", "POST", "PUT", "DELETE",
                                                                      "PATCH", "OPTIONS"])])


@contextmanager
def serve_asgi(app: Any, on_loop: Callable[[asyncio.AbstractEventLoop], None] | None = None) -> Iterator[str]:
    """Serve ``app`` with hypercorn on an ephemeral loopback port in a thread; yields ``http://127.0.0.1:PORT``.

    ``on_loop`` gets the server's event loop once it runs (for apps that schedule work on it)."""
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    port = sock.getsockname()[1]
    config = Config()
    config.bind = [f"fd://{sock.detach()}"]  # hypercorn owns and closes the descriptor
    config.accesslog = None
    state: dict[str, Any] = {}
    ready = threading.Event()

    def run() -> None:
        async def main() -> None:
            state["loop"] = asyncio.get_running_loop()
            if on_loop is not None:
                on_loop(state["loop"])
            state["stop"] = asyncio.Event()
            ready.set()
            await serve(app, config, shutdown_trigger=state["stop"].wait)

        asyncio.run(main())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        state["loop"].call_soon_threadsafe(state["stop"].set)
        thread.join(10)


@pytest.fixture(scope="session")
def upstream() -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of the real upstream."""
    with serve_asgi(upstream_app) as url:
        yield url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _hook(stage: str, function: str, path: str, origin: str = "up", **extra: Any) -> dict[str, Any]:
    return {"path": path, "origin": origin, stage: {"function": function}, **extra}


def distribution_config(upstream: str) -> dict[str, Any]:
    fns = ["generate", "mark", "event_header", "spa", "change_host", "add_disallowed", "boom", "returns_string",
           "status_700", "replace_body", "change_status", "echo_body", "replace_request_body", "bad_base64",
           "no_content_body", "switch_origin", "sleepy"]
    functions: dict[str, Any] = {
        f: {"handler": f"edge_fns.{f}", "code_uri": str(HANDLERS), "isolation": "inprocess", "timeout": 10}
        for f in fns
    }
    functions["echo"] = {"handler": "raw.echo_event", "code_uri": str(E2E_HANDLERS), "isolation": "inprocess"}
    mark_all = {s: {"function": "mark"} for s in ("viewer_request", "origin_request", "origin_response",
                                                   "viewer_response")}
    behaviors = [
        {"path": "/api/*", "origin": "api"},
        {"path": "/spa*", "origin": "static", "viewer_request": {"function": "spa"}},
        {"path": "/site/*", "origin": "tree"},
        _hook("viewer_request", "generate", "/gen/*"),
        _hook("origin_request", "generate", "/ogen/*", viewer_response={"function": "mark"}),
        {"path": "/mark/*", "origin": "up", **mark_all},
        _hook("viewer_response", "event_header", "/vr-event/*"),
        _hook("origin_response", "event_header", "/or-event/*"),
        _hook("viewer_request", "change_host", "/ro/*"),
        _hook("viewer_request", "add_disallowed", "/dis/*"),
        _hook("viewer_request", "boom", "/boom/*"),
        _hook("viewer_request", "returns_string", "/str/*"),
        _hook("origin_response", "status_700", "/s700/*"),
        _hook("origin_response", "replace_body", "/replace/*"),
        _hook("viewer_response", "change_status", "/vrstatus/*"),
        _hook("viewer_request", "echo_body", "/body/*", include_body=True),
        _hook("viewer_request", "replace_request_body", "/rbody/*", include_body=True),
        _hook("viewer_request", "bad_base64", "/b64/*"),
        _hook("viewer_request", "no_content_body", "/204/*"),
        _hook("origin_request", "switch_origin", "/switch/*"),
        _hook("viewer_request", "sleepy", "/sleepy/*"),
        {"path": "/down/*", "origin": "down"},
        {"path": "/slow/*", "origin": "slowup"},
        {"path": "/getonly/*", "origin": "up", "allowed_methods": ["GET", "HEAD"]},
        {"path": "/hostall/*", "origin": "up", "origin_request_policy": "AllViewer"},
        {"path": "/p?th/*", "origin": "prefixed"},
        {"path": "*", "origin": "up"},
    ]
    return {
        "functions": functions,
        "http_apis": [{"name": "web", "routes": [{"route": "$default", "function": "echo"}]}],
        "distributions": [{
            "name": "site", "listen": "127.0.0.1:0",
            "origins": [
                {"id": "up", "url": upstream, "custom_headers": {"X-Origin-Secret": "s3cr3t"}},
                {"id": "api", "front": "web"},
                {"id": "static", "directory": str(HERE / "site")},
                {"id": "tree", "directory": str(HERE)},
                {"id": "down", "url": f"http://127.0.0.1:{free_port()}", "connect_timeout": 1},
                {"id": "slowup", "url": upstream, "read_timeout": 1},
                {"id": "prefixed", "url": upstream, "origin_path": "/base"},
            ],
            "behaviors": behaviors,
        }],
    }


@pytest.fixture(scope="session")
def edge_url(upstream: str) -> Iterator[str]:
    from gateway.config import GatewayConfig
    from gateway.testing import start_gateway

    config = GatewayConfig.from_mapping(distribution_config(upstream), base_dir=HERE)
    with start_gateway(config, ephemeral_ports=True) as running:
        yield running.urls["site"].rstrip("/")


@pytest.fixture(scope="session")
def cf(edge_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=edge_url, timeout=20) as client:
        yield client
