"""How a distribution reaches an HTTP origin (edge/origins.py: httpcore's pool, without httpx's
Client): an origin's Set-Cookie goes back to the viewer that caused it and is never kept and sent to
the origin on other viewers' requests (httpx's Client would keep it in its cookie jar)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.edge.conftest import HERE, serve_asgi


async def _cookies(request: Request) -> Response:
    """``/set`` sets a cookie; any other path answers the Cookie header it got (``-`` for none)."""
    if request.url.path == "/set":
        return Response(b"set", headers={"Set-Cookie": "session=viewer-one; Path=/"})
    return Response(request.headers.get("cookie", "-").encode())


@pytest.fixture(scope="module")
def cookie_edge() -> Iterator[str]:
    from gateway.config import GatewayConfig
    from gateway.testing import start_gateway

    with serve_asgi(Starlette(routes=[Route("/{path:path}", _cookies)])) as upstream:
        config = GatewayConfig.from_mapping({"distributions": [{
            "name": "cookies", "listen": "127.0.0.1:0", "origins": [{"id": "up", "url": upstream}],
            "behaviors": [{"path": "*", "origin": "up"}],
        }]}, base_dir=HERE)
        with start_gateway(config, ephemeral_ports=True) as running:
            yield running.urls["cookies"].rstrip("/")


def test_an_origins_cookie_goes_to_its_viewer_only(cookie_edge: str) -> None:
    with httpx.Client(timeout=10) as one:
        first = one.get(f"{cookie_edge}/set")
        assert (first.status_code, first.text) == (200, "set")
        assert first.headers["set-cookie"] == "session=viewer-one; Path=/"
    with httpx.Client(timeout=10) as two:  # another viewer, without the cookie
        later = two.get(f"{cookie_edge}/who")
        assert (later.status_code, later.text) == (200, "-")
