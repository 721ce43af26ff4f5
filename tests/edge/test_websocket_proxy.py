"""WebSocket upgrades through a distribution: a real WebSocket origin (the ``websockets`` server on
loopback, in its own thread), a real gateway, a real client (edge/websocket.py)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator, Sequence
from http import HTTPStatus
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from tests.edge.conftest import HANDLERS, HERE, free_port

#: What the origin saw close each /record connection: {id: (code, reason)}.
CLOSES: dict[str, tuple[int | None, str | None]] = {}


class Origin:
    """The upstream WebSocket server; ``/hmr`` pushes an update when ``watched`` changes, as Vite does."""

    def __init__(self, watched: Path) -> None:
        self.watched = watched
        self.hmr: set[ServerConnection] = set()

    def refuse(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.path.startswith("/refuse"):
            return Response(403, "Forbidden", Headers([("Content-Type", "text/plain"), ("X-Why", "origin")]),
                            b"go away\n")
        if request.path.startswith("/plain"):
            return connection.respond(HTTPStatus.OK, "not a websocket\n")
        return None

    async def handler(self, ws: ServerConnection) -> None:
        path = ws.request.path if ws.request else ""
        if "/echo" in path or "/gen" in path:
            async for message in ws:
                await ws.send(message)
        elif "/headers" in path:
            assert ws.request is not None
            await ws.send(json.dumps({"path": path, "headers": list(ws.request.headers.raw_items()),
                                      "subprotocol": ws.subprotocol}))
            await ws.wait_closed()
        elif "/close" in path:
            await ws.send("bye soon")
            await ws.close(4001, "server done")
        elif "/record" in path:
            try:
                async for _ in ws:
                    pass
            except ConnectionClosed:
                pass
            CLOSES[path.rsplit("/", 1)[1]] = (ws.close_code, ws.close_reason)
        elif "/die" in path:
            await ws.send("dying")
            assert ws.transport is not None
            ws.transport.abort()
        elif "/hmr" in path:
            self.hmr.add(ws)
            await ws.send(json.dumps({"type": "connected"}))
            try:
                await ws.wait_closed()
            finally:
                self.hmr.discard(ws)

    async def watch(self) -> None:
        """Vite's watcher, in small: a changed file's new mtime is pushed to every HMR client."""
        seen = self.watched.stat().st_mtime_ns
        while True:
            await asyncio.sleep(0.02)
            mtime = self.watched.stat().st_mtime_ns
            if mtime != seen:
                seen = mtime
                update = json.dumps({"type": "update", "updates": [{"path": "/" + self.watched.name}]})
                for ws in list(self.hmr):
                    await ws.send(update)


@pytest.fixture(scope="module")
def ws_origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``http://127.0.0.1:PORT`` of the WebSocket origin and the file its HMR endpoint watches."""
    watched = tmp_path_factory.mktemp("vite") / "main.js"
    watched.write_text("console.log(1)\n")
    origin = Origin(watched)
    state: dict[str, Any] = {}
    ready = threading.Event()

    def run() -> None:
        async def main() -> None:
            state["loop"] = asyncio.get_running_loop()
            state["stop"] = asyncio.Event()
            async with serve(origin.handler, "127.0.0.1", 0, process_request=origin.refuse,
                             select_subprotocol=_select) as server:
                state["port"] = server.sockets[0].getsockname()[1]
                watcher = asyncio.create_task(origin.watch())
                ready.set()
                await state["stop"].wait()
                watcher.cancel()

        asyncio.run(main())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield f"http://127.0.0.1:{state['port']}", watched
    finally:
        state["loop"].call_soon_threadsafe(state["stop"].set)
        thread.join(10)


def _select(connection: ServerConnection, offered: Sequence[Subprotocol]) -> Subprotocol | None:
    """The origin supports ``superchat`` and ``vite-hmr``; it picks the first of those offered."""
    return next((p for p in offered if p in ("superchat", "vite-hmr")), None)


def _config(origin_url: str) -> dict[str, Any]:
    return {
        "functions": {
            "generate": {"handler": "edge_fns.generate", "code_uri": str(HANDLERS), "isolation": "inprocess"},
            "mark": {"handler": "edge_fns.mark", "code_uri": str(HANDLERS), "isolation": "inprocess"},
        },
        "distributions": [{
            "name": "ws", "listen": "127.0.0.1:0",
            "origins": [{"id": "up", "url": origin_url, "custom_headers": {"X-Origin-Secret": "s3cr3t"}},
                        {"id": "static", "directory": str(HERE / "site")},
                        {"id": "down", "url": f"http://127.0.0.1:{free_port()}", "connect_timeout": 1}],
            "behaviors": [
                {"path": "/gen/*", "origin": "up", "viewer_request": {"function": "generate"}},
                {"path": "/mark/*", "origin": "up", "viewer_request": {"function": "mark"},
                 "origin_request": {"function": "mark"}},
                {"path": "/site/*", "origin": "static"},
                {"path": "/down/*", "origin": "down"},
                {"path": "*", "origin": "up"},
            ],
        }],
    }


@pytest.fixture(scope="module", params=["hypercorn", "uvicorn"])
def server(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def gateway(server: str, ws_origin: tuple[str, Path]) -> Iterator[str]:
    """``ws://127.0.0.1:PORT`` of the distribution, under each server."""
    from gateway.config import GatewayConfig
    from gateway.testing import start_gateway

    config = GatewayConfig.from_mapping(_config(ws_origin[0]), base_dir=HERE)
    with start_gateway(config, ephemeral_ports=True, server=server) as running:
        yield running.urls["ws"].replace("http://", "ws://").rstrip("/")


async def test_text_and_binary_messages_are_echoed(gateway: str) -> None:
    async with connect(gateway + "/echo") as ws:
        await ws.send("héllo")
        assert await ws.recv() == "héllo"
        await ws.send(b"\x00\x01\xff")
        assert await ws.recv() == b"\x00\x01\xff"
        big = "x" * 200_000
        await ws.send(big)
        assert await ws.recv() == big


async def test_the_origins_subprotocol_choice_reaches_the_viewer(gateway: str) -> None:
    async with connect(gateway + "/headers", subprotocols=["chat", "superchat"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "superchat"
        seen = json.loads(await ws.recv())
        assert seen["subprotocol"] == "superchat"
        offered = [v for n, v in seen["headers"] if n.lower() == "sec-websocket-protocol"]
        assert offered == ["chat, superchat"]
    async with connect(gateway + "/echo", subprotocols=["chat"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol is None  # the origin chose none: neither does the proxy


async def test_origin_sees_cloudfronts_request(gateway: str, ws_origin: tuple[str, Path]) -> None:
    async with connect(gateway + "/headers/a?x=1", additional_headers={"X-Viewer": "v"},
                       origin="http://app.example") as ws:  # type: ignore[arg-type]
        seen = json.loads(await ws.recv())
        assert ws.response is not None
        answer = ws.response.headers
    headers = {n.lower(): v for n, v in seen["headers"]}
    assert seen["path"] == "/headers/a?x=1"
    assert headers["host"] == ws_origin[0].removeprefix("http://")  # the origin's own host:port
    assert headers["x-viewer"] == "v" and headers["origin"] == "http://app.example"
    assert headers["x-origin-secret"] == "s3cr3t" and headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["via"].endswith(".cloudfront.net (CloudFront)") and len(headers["x-amz-cf-id"]) == 56
    assert answer["X-Amz-Cf-Id"] == headers["x-amz-cf-id"]  # the 101 carries CloudFront's headers
    assert answer["Via"] == headers["via"]


async def test_request_functions_run_on_the_upgrade(gateway: str) -> None:
    async with connect(gateway + "/mark/headers") as ws:
        headers = {n.lower(): v for n, v in json.loads(await ws.recv())["headers"]}
    assert headers["x-hook-viewer-request"] == "1" and headers["x-hook-origin-request"] == "1"


async def test_a_generated_response_refuses_the_upgrade(gateway: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(gateway + "/gen/x"):
            pass
    response = refused.value.response
    assert response.status_code == 200
    assert json.loads(response.body)["Records"][0]["cf"]["config"]["eventType"] == "viewer-request"
    assert response.headers["X-Cache"] == "LambdaGeneratedResponse from cloudfront"


async def test_an_origins_refusal_is_passed_back_exactly(gateway: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(gateway + "/refuse"):
            pass
    response = refused.value.response
    assert (response.status_code, response.reason_phrase, response.body) == (403, "Forbidden", b"go away\n")
    assert response.headers["Content-Type"] == "text/plain" and response.headers["X-Why"] == "origin"
    assert response.headers["X-Cache"] == "Error from cloudfront"
    with pytest.raises(InvalidStatus) as plain:
        async with connect(gateway + "/plain"):
            pass
    assert (plain.value.response.status_code, plain.value.response.body) == (200, b"not a websocket\n")


async def test_non_http_origins_and_dead_origins_refuse(gateway: str) -> None:
    with pytest.raises(InvalidStatus) as s3:
        async with connect(gateway + "/site/missing.txt"):
            pass
    assert s3.value.response.status_code == 403 and b"<Code>AccessDenied</Code>" in s3.value.response.body
    with pytest.raises(InvalidStatus) as down:
        async with connect(gateway + "/down/x"):
            pass
    assert down.value.response.status_code == 502 and b"502 ERROR" in down.value.response.body
    assert down.value.response.headers["X-Cache"] == "Error from cloudfront"


async def test_the_origins_close_code_reaches_the_viewer(gateway: str) -> None:
    async with connect(gateway + "/close") as ws:
        assert await ws.recv() == "bye soon"
        with pytest.raises(ConnectionClosed):
            await ws.recv()
        assert (ws.close_code, ws.close_reason) == (4001, "server done")


async def test_the_viewers_close_code_reaches_the_origin_when_the_server_reports_it(gateway: str, server: str) -> None:
    key = f"{server}-{time.monotonic_ns()}"
    async with connect(gateway + f"/record/{key}") as ws:
        await ws.close(4002, "viewer done")
    # hypercorn 0.18 tells the app 1006 for every viewer close: the origin is told 1001 (going away)
    assert await _closed(key) == ((4002, "viewer done") if server == "uvicorn" else (1001, ""))


async def test_vite_like_hot_reload_through_the_gateway(gateway: str, ws_origin: tuple[str, Path]) -> None:
    watched = ws_origin[1]
    async with connect(gateway + "/hmr?token=abc", subprotocols=["vite-hmr"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "vite-hmr"
        assert json.loads(await ws.recv()) == {"type": "connected"}
        watched.write_text(f"console.log({time.monotonic_ns()})\n")
        update = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert update == {"type": "update", "updates": [{"path": "/main.js"}]}


async def test_abrupt_disconnects_on_either_side_leave_the_gateway_serving(gateway: str, server: str) -> None:
    key = f"abort-{server}-{time.monotonic_ns()}"
    ws = await connect(gateway + f"/record/{key}")
    assert ws.transport is not None
    ws.transport.abort()  # the viewer vanishes without a close frame
    # the origin's connection is closed for it: 1001 going away (uvicorn reports a lost viewer as 1005: 1000)
    assert await _closed(key) == ((1000, "") if server == "uvicorn" else (1001, ""))
    async with connect(gateway + "/die") as ws:  # the origin vanishes
        assert await ws.recv() == "dying"
        with pytest.raises(ConnectionClosed):
            await ws.recv()
        assert ws.close_code == 1011
    async with connect(gateway + "/echo") as ws:
        await ws.send("still here")
        assert await ws.recv() == "still here"
    http_url = gateway.replace("ws://", "http://")
    async with httpx.AsyncClient() as client:
        assert (await client.get(http_url + "/site/missing.txt")).status_code == 403


async def _closed(key: str) -> tuple[int | None, str | None]:
    for _ in range(200):
        if key in CLOSES:
            return CLOSES[key]
        await asyncio.sleep(0.02)
    raise AssertionError(f"the origin never saw {key} close")
