"""Streamed response bodies through a distribution (edge/origins.py UpstreamBody, gateway/app.py):
a real upstream that sends chunks on cue, a real gateway (in a thread, and as a child process for
its memory), real clients."""

from __future__ import annotations

import asyncio
import hashlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from tests.edge.conftest import HANDLERS, HERE, free_port, serve_asgi
from tests.lambda_api.helpers import wait_for

BIG = 50 * 1024 * 1024
PIECE = bytes(range(256)) * 256  # 64 KiB


class Upstream:
    """Chunked answers on cue: ``/cue/*`` sends a first chunk and waits for ``resume`` (the test sets it
    once that chunk reached the client), then the rest; it logs what happened, in order."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.got_first = threading.Event()
        self.resume: asyncio.Event | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    async def cue(self, request: Request) -> Response:
        self.resume = asyncio.Event()

        async def body() -> AsyncIterator[bytes]:
            try:
                yield b"first;"
                self.events.append("upstream sent the first chunk")
                assert self.resume is not None
                try:
                    await asyncio.wait_for(self.resume.wait(), 10)
                    self.events.append("upstream resumed by the client")
                except TimeoutError:
                    self.events.append("upstream resumed by its time limit")
                for i in range(3):
                    yield f"more-{i};".encode()
                self.events.append("upstream finished")
            finally:
                if "upstream finished" not in self.events:
                    self.events.append("upstream cut off")

        return StreamingResponse(body(), media_type="text/plain", headers={"Cache-Control": "max-age=60"})

    async def big(self, request: Request) -> Response:
        async def body() -> AsyncIterator[bytes]:
            for _ in range(BIG // len(PIECE)):
                yield PIECE

        sized = {"Content-Length": str(BIG)} if "sized" in request.url.path else {}
        return StreamingResponse(body(), media_type="application/octet-stream", headers=sized)

    async def dies(self, request: Request) -> Response:
        async def body() -> AsyncIterator[bytes]:
            yield b"partial"
            await asyncio.sleep(0.05)
            raise RuntimeError("the upstream dies mid-body (test)")

        return StreamingResponse(body(), media_type="text/plain")

    async def small(self, request: Request) -> Response:
        return Response(b"small and whole", media_type="text/plain")

    async def upload(self, request: Request) -> Response:
        """Reads the body as it comes, telling the client (``got_first``) when the first part is in."""
        digest, size = hashlib.sha256(), 0
        async for chunk in request.stream():
            if chunk and size == 0:
                self.events.append("upstream got the first part")
                self.got_first.set()
            digest.update(chunk)
            size += len(chunk)
        self.events.append("upstream got the whole body")
        framing = request.headers.get("content-length") or request.headers.get("transfer-encoding")
        return Response(f"{size} {digest.hexdigest()} {framing}".encode(), media_type="text/plain")


UPSTREAM = Upstream()
upstream_app = Starlette(routes=[
    Route("/{p:path}/cue", UPSTREAM.cue), Route("/{p:path}/big", UPSTREAM.big),
    Route("/{p:path}/big-sized", UPSTREAM.big), Route("/{p:path}/dies", UPSTREAM.dies),
    Route("/{p:path}/small", UPSTREAM.small), Route("/{p:path}/upload", UPSTREAM.upload, methods=["POST", "PUT"]),
])


def _set_loop(loop: asyncio.AbstractEventLoop) -> None:
    UPSTREAM.loop = loop


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with serve_asgi(upstream_app, on_loop=_set_loop) as url:
        yield url


def _config(upstream: str, listen: str = "127.0.0.1:0") -> dict[str, Any]:
    return {
        "functions": {f: {"handler": f"edge_fns.{f}", "code_uri": str(HANDLERS), "isolation": "inprocess"}
                      for f in ("replace_body", "echo_body")},
        "distributions": [{
            "name": "stream", "listen": listen,
            "origins": [{"id": "up", "url": upstream, "read_timeout": 20}],
            "behaviors": [
                {"path": "/cached/*", "origin": "up", "cache": {"default_ttl": 60}},
                {"path": "/whole/*", "origin": "up", "viewer_request": {"function": "echo_body"}, "include_body": True},
                {"path": "/replace/*", "origin": "up", "origin_response": {"function": "replace_body"}},
                {"path": "*", "origin": "up"},
            ],
        }],
    }


@pytest.fixture(scope="module")
def edge(upstream: str) -> Iterator[str]:
    from gateway.config import GatewayConfig
    from gateway.testing import start_gateway

    config = GatewayConfig.from_mapping(_config(upstream), base_dir=HERE)
    with start_gateway(config, ephemeral_ports=True) as running:
        yield running.urls["stream"].rstrip("/")


def _release() -> None:
    assert UPSTREAM.loop is not None and UPSTREAM.resume is not None
    UPSTREAM.loop.call_soon_threadsafe(UPSTREAM.resume.set)


def test_the_first_chunk_reaches_the_viewer_before_the_upstream_finishes(edge: str) -> None:
    UPSTREAM.events.clear()
    received = b""
    with httpx.stream("GET", edge + "/s/cue", timeout=30) as r:
        assert r.status_code == 200 and "content-length" not in r.headers  # chunked, as the origin sent it
        assert r.headers["transfer-encoding"] == "chunked"
        assert r.headers["x-cache"] == "Miss from cloudfront"
        for chunk in r.iter_raw():
            if not received:
                UPSTREAM.events.append("client got the first chunk")
                _release()
            received += chunk
    assert received == b"first;more-0;more-1;more-2;"
    assert UPSTREAM.events == ["upstream sent the first chunk", "client got the first chunk",
                               "upstream resumed by the client", "upstream finished"]


def test_a_cacheable_streamed_response_is_stored_whole(edge: str) -> None:
    UPSTREAM.events.clear()
    threading.Timer(0.0, _release_when_waiting).start()
    first = httpx.get(edge + "/cached/cue", timeout=30)
    assert first.content == b"first;more-0;more-1;more-2;"
    assert first.headers["x-cache"] == "Miss from cloudfront"
    assert first.headers["content-length"] == str(len(first.content))  # buffered for the cache
    again = httpx.get(edge + "/cached/cue", timeout=30)
    assert (again.content, again.headers["x-cache"]) == (first.content, "Hit from cloudfront")
    assert UPSTREAM.events.count("upstream finished") == 1  # the hit never reached the upstream


def _release_when_waiting() -> None:
    wait_for(lambda: UPSTREAM.events and UPSTREAM.resume is not None, timeout=5)
    _release()


def test_a_function_replacing_the_body_closes_the_stream(edge: str) -> None:
    UPSTREAM.events.clear()
    r = httpx.get(edge + "/replace/cue", timeout=30)
    assert (r.status_code, r.content, r.headers["content-length"]) == (201, b"replaced", "8")
    wait_for(lambda: "upstream cut off" in UPSTREAM.events, timeout=5)  # closed, not left to its time limit
    assert UPSTREAM.events == ["upstream sent the first chunk", "upstream cut off"]


def test_a_viewer_that_leaves_mid_body_closes_the_upstream(edge: str) -> None:
    UPSTREAM.events.clear()
    with httpx.stream("GET", edge + "/s/cue", timeout=30) as r:
        assert next(r.iter_raw()) == b"first;"
    wait_for(lambda: "upstream cut off" in UPSTREAM.events, timeout=5)
    assert UPSTREAM.events == ["upstream sent the first chunk", "upstream cut off"]
    assert httpx.get(edge + "/s/small").content == b"small and whole"


def test_an_upstream_dying_mid_body_cuts_the_viewers_response_short(edge: str) -> None:
    arrived: list[bytes] = []
    with httpx.stream("GET", edge + "/s/dies", timeout=30) as r:
        assert r.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            for chunk in r.iter_raw():
                arrived.append(chunk)
    assert arrived == [b"partial"]  # what the origin sent before it died, and no more
    small = httpx.get(edge + "/s/small")
    assert (small.content, small.headers["content-length"]) == (b"small and whole", "15")


def _peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc for the peak RSS")
def test_a_50_mb_body_streams_through_a_gateway_process_without_being_held(upstream: str, tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "gateway.toml").write_text(
        "[gateway]\naccess_log = false\n\n[[distributions]]\nname = \"stream\"\n"
        f"listen = \"127.0.0.1:{port}\"\norigins = [ {{ id = \"up\", url = \"{upstream}\" }} ]\n"
        "behaviors = [ { path = \"*\", origin = \"up\" } ]\n")
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "serve", "--config", str(tmp_path / "gateway.toml"),
                             "--no-reload", "--log-level", "warning"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=tmp_path)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                assert httpx.get(url + "/s/small").content == b"small and whole"
                break
            except httpx.TransportError:
                time.sleep(0.05)
        before = _peak_rss_kb(proc.pid)
        for path, sized in (("/s/big", False), ("/s/big-sized", True)):
            digest, size, chunks = hashlib.sha256(), 0, 0
            with httpx.stream("GET", url + path, timeout=60) as r:
                assert r.headers.get("content-length") == (str(BIG) if sized else None)
                for chunk in r.iter_raw():
                    digest.update(chunk)
                    size += len(chunk)
                    chunks += 1
            assert size == BIG and digest.hexdigest() == hashlib.sha256(PIECE * (BIG // len(PIECE))).hexdigest()
            assert chunks > 100  # it arrived in pieces, not as one buffered block
        grown_mb = (_peak_rss_kb(proc.pid) - before) / 1024
        print(f"gateway peak RSS {before / 1024:.0f} MB before, grew {grown_mb:.1f} MB for 2 x 50 MB streamed")
        assert grown_mb < 20, f"the gateway's peak RSS grew by {grown_mb:.0f} MB for a 50 MB body"
    finally:
        proc.terminate()
        proc.wait(10)


def _parts(first: bytes, rest: bytes) -> Iterator[bytes]:
    """The client's body: a first part, then (once the upstream has it, or after 10 s) the rest."""
    UPSTREAM.got_first.clear()
    yield first
    UPSTREAM.events.append("client sent the first part")
    waited = UPSTREAM.got_first.wait(10)
    UPSTREAM.events.append("client saw the upstream get it" if waited else "client gave up waiting")
    yield rest


def test_a_request_body_reaches_the_upstream_as_it_arrives(edge: str) -> None:
    UPSTREAM.events.clear()
    first, rest = b"a" * 1000, b"b" * 200_000
    r = httpx.post(edge + "/s/upload", content=_parts(first, rest), timeout=30)
    assert r.text == f"{len(first) + len(rest)} {hashlib.sha256(first + rest).hexdigest()} chunked"
    # The upstream had the first part before the client sent the rest. ("client sent the first part"
    # races with "upstream got the first part": the client notes it only after httpx took the part.)
    assert "client sent the first part" in UPSTREAM.events
    assert [e for e in UPSTREAM.events if e != "client sent the first part"] == [
        "upstream got the first part", "client saw the upstream get it", "upstream got the whole body"]
    sized = httpx.put(edge + "/s/upload", content=_parts(b"x" * 10, b"y" * 20), headers={"Content-Length": "30"},
                      timeout=30)
    assert sized.text == f"30 {hashlib.sha256(b'x' * 10 + b'y' * 20).hexdigest()} 30"  # its Content-Length kept


def test_a_body_a_function_reads_is_read_whole_first(edge: str) -> None:
    body = b"p" * 70_000 + b"q" * 70_000  # sent in several pieces, given to the function (Include Body) whole
    pieces = [body[i:i + 10_000] for i in range(0, len(body), 10_000)]
    r = httpx.post(edge + "/whole/upload", content=iter(pieces), timeout=30)
    assert r.status_code == 200
    doc = r.json()
    assert (doc["size"], doc["data"], doc["inputTruncated"]) == (40 * 1024, "p" * 100, True)  # viewer side: 40 KB


def test_a_viewer_leaving_mid_upload_leaves_the_gateway_serving(edge: str) -> None:
    UPSTREAM.events.clear()
    host, port = edge.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"POST /s/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + b"z" * 1000)
        wait_for(lambda: UPSTREAM.events, timeout=5)  # the upstream is reading the body when the viewer goes
    assert UPSTREAM.events == ["upstream got the first part"]
    r = httpx.post(edge + "/s/upload", content=b"after", timeout=30)
    assert r.text == f"5 {hashlib.sha256(b'after').hexdigest()} 5"
