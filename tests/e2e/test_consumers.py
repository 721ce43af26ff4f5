"""Real consumers behind every front door: a Starlette app behind Mangum and a WSGI app behind apig-wsgi.

The app must see what the client sent, and the client must get what the app answered, modulo
what AWS itself loses (ALB single mode keeps the last repeated header and query value, ALB-2/ALB-4)
and the consumers' own legitimate differences (shared/reference/consumers.md §1.4, §2.2): Mangum
joins REST multi-value headers with ", ", apig-wsgi with ","; both decode an HTTP API path that
API Gateway already decoded (HV2-5, HV1-5) a second time, and Mangum does so for function URLs.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import ALL_KINDS, PNG, Gateway

CONSUMERS = {"mangum": "asgi", "apig-wsgi": "wsgi"}

# The path part the test chooses: "%2525" is a percent-encoded "%25", "caf%C3%A9" is "café".
SENT_TAIL = "echo/x%2525y/caf%C3%A9"
ONCE = "echo/x%25y/café"
TWICE = "echo/x%y/café"
SENT_QUERY = "multi=1&multi=2&enc=a%2Fb%26c&plus=a+b&empty="


def _decoded_tail(kind: str, consumer: str) -> str:
    """What the app's path ends with: HTTP API events carry an already decoded path (HV2-5, HV1-5)
    that both consumers decode again; function URL events carry rawPath encoded and http.path
    decoded (URL-5): apig-wsgi reads rawPath (one decode), Mangum http.path (two)."""
    if kind in ("http", "http_v1", "http_stage"):
        return TWICE
    if kind == "url":
        return TWICE if consumer == "mangum" else ONCE
    return ONCE  # REST-5 and ALB-5 keep the encoding; the consumer decodes once


def _repeated_header(kind: str, consumer: str) -> list[str]:
    """How two ``X-Multi`` lines (one, two) reach the app."""
    if kind == "alb_single":
        return ["two"]  # ALB-2: the last value only
    if kind == "alb_multi":
        return ["one", "two"] if consumer == "mangum" else ["one,two"]  # Mangum: one header per list element
    if kind in ("rest", "http_v1"):
        return ["one, two"] if consumer == "mangum" else ["one,two"]  # REST-3 multiValueHeaders, joined by the consumer
    return ["one,two"]  # HV2-2 / URL-2: joined with "," by AWS


def _values(seen: dict[str, Any], name: str) -> list[str]:
    return [value for key, value in seen["headers"] if key.lower() == name]


def _echo(client: httpx.Client, url: str, **kwargs: Any) -> dict[str, Any]:
    response = client.request(kwargs.pop("method", "GET"), url, **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("consumer", CONSUMERS)
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_app_sees_method_path_query_headers_cookies(gw: Gateway, client: httpx.Client, kind: str,
                                                    consumer: str) -> None:
    """REST-3/4/5, HV1-5, HV2-2/3/4/5, URL-2/3/4/5, ALB-2/4/5 as seen through each consumer."""
    fn = CONSUMERS[consumer]
    seen = _echo(
        client,
        gw.url(kind, fn, f"{SENT_TAIL}?{SENT_QUERY}"),
        headers=[("X-Multi", "one"), ("X-Multi", "two"), ("X-Custom", "Hello World"), ("Cookie", "a=1; b=2")],
    )
    assert seen["consumer"] == consumer
    assert seen["method"] == "GET"
    assert seen["path"] == gw.app_prefix(kind, fn) + _decoded_tail(kind, consumer)
    expected_query = {"multi": ["1", "2"], "enc": ["a/b&c"], "plus": ["a b"], "empty": [""]}
    if kind == "alb_single":
        expected_query["multi"] = ["2"]  # ALB-4: single mode keeps the last value
    assert seen["query"] == expected_query
    if kind in ("http", "http_stage", "url"):
        # HV2-4 / URL-4: rawQueryString is verbatim and both consumers pass it through untouched.
        assert seen["query_string"] == SENT_QUERY
    assert _values(seen, "x-multi") == _repeated_header(kind, consumer)
    assert _values(seen, "x-custom") == ["Hello World"]
    assert seen["cookies"] == {"a": "1", "b": "2"}
    assert seen["client"] == ["127.0.0.1", 0]
    assert seen["body"] == ""


@pytest.mark.parametrize("consumer", CONSUMERS)
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_app_sees_json_body(gw: Gateway, client: httpx.Client, kind: str, consumer: str) -> None:
    """A JSON body arrives as text on every kind (REST-9, HV2-9, URL-9, ALB-9), byte for byte."""
    fn = CONSUMERS[consumer]
    body = json.dumps({"message": "hello", "unicode": "lambda-λ", "n": [1, 2]}).encode()
    seen = _echo(client, gw.url(kind, fn, "echo/json"), method="POST", content=body,
                 headers={"Content-Type": "application/json"})
    assert seen["method"] == "POST"
    assert base64.b64decode(seen["body"]) == body
    assert _values(seen, "content-type") == ["application/json"]
    if kind == "rest" and consumer == "mangum":
        # REST-2: REST events carry no Content-Length, so the app does not see one (consumers.md §1.4).
        assert _values(seen, "content-length") == []
    else:
        assert _values(seen, "content-length") == [str(len(body))]


@pytest.mark.parametrize("consumer", CONSUMERS)
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_app_sees_binary_body(gw: Gateway, client: httpx.Client, kind: str, consumer: str) -> None:
    """Bytes that are not UTF-8 arrive intact: REST because application/octet-stream is in
    binary_media_types (REST-9), the others because the type is not a text type (HV2-9, URL-9, ALB-9)."""
    fn = CONSUMERS[consumer]
    seen = _echo(client, gw.url(kind, fn, "echo/bin"), method="PUT", content=PNG,
                 headers={"Content-Type": "application/octet-stream"})
    assert seen["method"] == "PUT"
    assert base64.b64decode(seen["body"]) == PNG


@pytest.mark.parametrize("consumer", CONSUMERS)
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_app_sees_chunked_body(gw: Gateway, client: httpx.Client, kind: str, consumer: str) -> None:
    """A body sent with Transfer-Encoding: chunked (no Content-Length) arrives whole: the fronts are BUFFERED."""
    fn = CONSUMERS[consumer]
    body = bytes(range(32, 127)) * 3000

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 65536):
            yield body[start:start + 65536]

    seen = _echo(client, gw.url(kind, fn, "echo/chunked"), method="POST", content=chunks(),
                 headers={"Content-Type": "text/plain"})
    assert base64.b64decode(seen["body"]) == body


@pytest.mark.parametrize("consumer", CONSUMERS)
def test_rest_mangles_binary_body_outside_binary_media_types(gw: Gateway, client: httpx.Client, consumer: str) -> None:
    """REST-9: a type that is not in binary_media_types is passed as UTF-8 text; bytes that are not
    UTF-8 do not survive (AWS replaces them; the exact replacement is not recorded)."""
    fn = CONSUMERS[consumer]
    seen = _echo(client, gw.url("rest", fn, "echo/bin"), method="POST", content=PNG,
                 headers={"Content-Type": "application/x-not-listed"})
    got = base64.b64decode(seen["body"])
    assert got != PNG
    assert got.startswith(b"\xef\xbf\xbdPNG\r\n\x1a\n")  # 0x89 became U+FFFD, the ASCII survived


def _expected_cookies(kind: str, consumer: str) -> list[str]:
    """ALB single mode has one value per header name (ALB-R2). apig-wsgi builds ``headers`` with
    dict(), so its second Set-Cookie is lost; Mangum emits case-varied keys (``set-cookie``,
    ``Set-cookie``) that the ALB turns into separate lines (consumers.md §1.3)."""
    if kind == "alb_single" and consumer == "apig-wsgi":
        return ["b=2"]
    return ["a=1", "b=2"]


@pytest.mark.parametrize("consumer", CONSUMERS)
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_client_gets_status_headers_and_cookies(gw: Gateway, client: httpx.Client, kind: str, consumer: str) -> None:
    """REST-R3, HV1-6, HV2-R1 (each cookie its own Set-Cookie), URL-R2, ALB-R2."""
    fn = CONSUMERS[consumer]
    query = "status=201&cookie1=a%3D1&cookie2=b%3D2&header1=x-a%3A1&header2=X-Other%3Avalue%20two"
    response = client.get(gw.url(kind, fn, f"respond?{query}"))
    assert response.status_code == 201
    assert response.json() == {"status": 201}
    assert response.headers["content-type"] == "application/json"
    assert response.headers.get_list("x-a") == ["1"]
    assert response.headers.get_list("x-other") == ["value two"]
    assert response.headers.get_list("set-cookie") == _expected_cookies(kind, consumer)
    assert response.headers.get_list("content-length") == [str(len(response.content))]


@pytest.mark.parametrize("consumer", CONSUMERS)
@pytest.mark.parametrize("kind", [k for k in ALL_KINDS if k != "rest"])
def test_client_gets_binary_body(gw: Gateway, client: httpx.Client, kind: str, consumer: str) -> None:
    """HV2-R3 / URL-R1 / ALB-R3: isBase64Encoded true is always decoded, whatever the Accept header."""
    fn = CONSUMERS[consumer]
    response = client.get(gw.url(kind, fn, "respond?binary=1"), headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content == PNG


@pytest.mark.parametrize("consumer", CONSUMERS)
def test_rest_binary_body_when_accept_matches(gw: Gateway, client: httpx.Client, consumer: str) -> None:
    """REST-R5: decoded when the first Accept type matches binary_media_types (image/*)."""
    fn = CONSUMERS[consumer]
    response = client.get(gw.url("rest", fn, "respond?binary=1"), headers={"Accept": "image/png"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content == PNG


@pytest.mark.parametrize("consumer", CONSUMERS)
def test_rest_base64_text_when_accept_does_not_match(gw: Gateway, client: httpx.Client, consumer: str) -> None:
    """REST-R5: with an Accept that is not a binary media type the base64 text is sent as is."""
    fn = CONSUMERS[consumer]
    response = client.get(gw.url("rest", fn, "respond?binary=1"), headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.content == base64.b64encode(PNG)
