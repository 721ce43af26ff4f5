"""What the format tests share: an HttpRequest as the app would hand it to a front."""

from __future__ import annotations

from gateway.models import HttpRequest

Pairs = tuple[tuple[str, str], ...]


def make_request(
    method: str = "GET",
    path: str = "/",
    query: str = "",
    headers: Pairs = (),
    body: bytes = b"",
    *,
    host: tuple[str, str] = ("Host", "localhost:9000"),
    client_ip: str = "192.0.2.10",
    scheme: str = "http",
    port: int = 9000,
) -> HttpRequest:
    """A request whose first header is ``host`` (name as the client spelled it, value)."""
    return HttpRequest(method=method, path=path, query_string=query, headers=(host, *headers), body=body,
                       client_ip=client_ip, scheme=scheme, server_port=port)
