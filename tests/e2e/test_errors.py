"""Every error answer of each front door (sections 2.E, 4.E, 5.E, 6.E) and bad input over loopback.

Each bad request gets an answer (never a hang or a dropped server) and a normal request right
after it still succeeds.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.conftest import FRONT_KINDS, Gateway

MB = 1024 * 1024

REST_502 = b'{"message": "Internal server error"}'  # D-L-APIGW, REST-R1
HTTP_500 = b'{"message":"Internal Server Error"}'  # 4.E


def assert_function_error(kind: str, response: httpx.Response) -> None:
    """The answer to a function error, a malformed result, a function timeout or an oversize
    result: REST 502, HTTP API 500 (both payloads), function URL 502 text, ALB 502 (C-2)."""
    if kind == "rest":
        assert (response.status_code, response.content) == (502, REST_502)
        assert response.headers["content-type"] == "application/json"
        assert response.headers["x-amzn-errortype"] == "InternalServerErrorException"
    elif kind in ("http", "http_v1"):
        assert (response.status_code, response.content) == (500, HTTP_500)
        assert response.headers["content-type"] == "application/json"
        assert response.headers["apigw-requestid"]
    elif kind == "url":
        assert (response.status_code, response.content) == (502, b"Internal Server Error")  # 5.E, S-LS
    else:
        assert response.status_code == 502  # 6.E; the body is ALB's own HTML page [INF]
        assert response.headers["content-type"] == "text/html"


def follow_up(gw: Gateway, client: httpx.Client, kind: str) -> None:
    """A normal request through the same front still succeeds."""
    response = client.get(gw.url(kind, "event", "after"))
    assert response.status_code == 200
    assert response.json()["httpMethod" if kind in ("rest", "http_v1", "alb_single", "alb_multi") else "version"]


# ------------------------------------------------------------------------------------------
# Routing misses.


@pytest.mark.parametrize(("front", "method", "path", "status", "body"), [
    # 2.E: REST answers 403 Missing Authentication Token for any unknown resource or method.
    ("rest", "GET", "/test/nothing/here", 403, b'{"message":"Missing Authentication Token"}'),
    ("rest", "GET", "/test/post-only", 403, b'{"message":"Missing Authentication Token"}'),
    ("rest", "GET", "/other-stage/event", 403, b'{"message":"Missing Authentication Token"}'),
    ("rest", "GET", "/", 403, b'{"message":"Missing Authentication Token"}'),
    # 4.E: HTTP API answers 404 Not Found (no $default route on this API).
    ("http-dev", "GET", "/dev/nothing", 404, b'{"message":"Not Found"}'),
    ("http-dev", "POST", "/dev/event", 404, b'{"message":"Not Found"}'),
    ("http-dev", "GET", "/event", 404, b'{"message":"Not Found"}'),
    # 6.E / issue: ALB without a matching rule and no default action configured: 404.
    ("alb", "GET", "/nothing", 404, None),
])
def test_unknown_route(gw: Gateway, client: httpx.Client, front: str, method: str, path: str, status: int,
                       body: bytes | None) -> None:
    base = urlsplit(gw.urls[front])
    response = client.request(method, f"{base.scheme}://{base.netloc}{path}")
    assert response.status_code == status
    if body is not None:
        assert response.content == body
        assert response.headers["content-type"] == "application/json"
    if front == "rest":
        assert response.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"


# ------------------------------------------------------------------------------------------
# Function errors and malformed results.


@pytest.mark.parametrize("kind", FRONT_KINDS)
def test_handler_exception(gw: Gateway, client: httpx.Client, kind: str) -> None:
    """C-2: an unhandled exception never reaches the client as-is."""
    response = client.get(gw.url(kind, "boom", "x"))
    assert_function_error(kind, response)
    assert b"boom from the handler" not in response.content
    follow_up(gw, client, kind)


MALFORMED_EVERYWHERE = ["status-abc", "crlf-value", "crlf-name", "nul-value"]


@pytest.mark.parametrize("case", MALFORMED_EVERYWHERE)
@pytest.mark.parametrize("kind", [*FRONT_KINDS, "alb_multi"])
def test_malformed_result(gw: Gateway, client: httpx.Client, kind: str, case: str) -> None:
    """REST-R2, HV2-R1, URL-R1, ALB-R1: a non-numeric statusCode, or a header that would break HTTP
    (CR, LF, NUL in a name or value), makes the result malformed; the bad header is never sent."""
    response = client.get(gw.url(kind, "garbage", case))
    assert_function_error(kind, response)
    assert "injected" not in {name.lower() for name in response.headers}
    assert "x-bad" not in response.headers
    follow_up(gw, client, kind)


@pytest.mark.parametrize(("kind", "case", "status", "body"), [
    # REST-R1: anything but an object is malformed; HV1-6: no inference for payload 1.0.
    ("rest", "list", None, None), ("rest", "string", None, None),
    ("http_v1", "list", None, None), ("http_v1", "string", None, None),
    ("alb_single", "list", None, None), ("alb_single", "string", None, None),
    # HV2-R2 / URL-R1: no statusCode -> 200 application/json, strings unquoted, JSON compact.
    ("http", "list", 200, b"[1,2,3]"), ("http", "string", 200, b"hello"),
    ("url", "list", 200, b"[1,2,3]"), ("url", "string", 200, b"hello"),
])
def test_result_that_is_not_an_object(gw: Gateway, client: httpx.Client, kind: str, case: str, status: int | None,
                                      body: bytes | None) -> None:
    response = client.get(gw.url(kind, "garbage", case))
    if status is None:
        assert_function_error(kind, response)
    else:
        assert (response.status_code, response.content) == (status, body)
        assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize("case", ["unknown-key", "mvh-not-list"])
def test_rest_malformed_shapes(gw: Gateway, client: httpx.Client, case: str) -> None:
    """REST-R1 (a key outside the format) and REST-R3 (a multiValueHeaders value that is not a list)."""
    assert_function_error("rest", client.get(gw.url("rest", "garbage", case)))


def test_rest_lenient_shapes(gw: Gateway, client: httpx.Client) -> None:
    """REST-R2: a digit-string statusCode is accepted; headers alone give 200 with an empty body.
    REST-R3: both maps with one name send both values, spelled as in multiValueHeaders."""
    response = client.get(gw.url("rest", "garbage", "status-digits"))
    assert (response.status_code, response.content) == (201, b"created")
    assert response.headers["content-type"] == "application/json"  # REST-R4: added when the function sets none
    response = client.get(gw.url("rest", "garbage", "headers-only"))
    assert (response.status_code, response.content) == (200, b"")
    assert response.headers["x-a"] == "1"
    response = client.get(gw.url("rest", "garbage", "both-maps"))
    assert response.status_code == 200
    assert response.headers["test-multi"] == "value-multi, value-solo"
    assert "tesT-Multi" in {name.decode() for name, _ in response.headers.raw}


@pytest.mark.parametrize("kind", [
    "rest", "http", "http_v1", "alb_single", "url", "alb_multi",
])
def test_function_cannot_break_response_framing(gw: Gateway, client: httpx.Client, kind: str) -> None:
    """Content-Length, Transfer-Encoding and Connection from the function never reach the client as
    such: the gateway frames the body (ALB-R3: hop-by-hop ignored, Content-Length computed; REST-R6:
    remapped to X-Amzn-Remapped-*; RFC 9110 §7.6.1: a gateway removes Connection)."""
    response = client.get(gw.url(kind, "garbage", "framing-headers"))
    assert (response.status_code, response.content) == (200, b"x")
    assert response.headers.get_list("content-length") == ["1"]
    assert "transfer-encoding" not in response.headers
    assert "connection" not in response.headers
    if kind == "rest":
        assert response.headers["x-amzn-remapped-content-length"] == "999"
    follow_up(gw, client, kind)


@pytest.mark.parametrize("kind", ["alb_single", "alb_multi"])
def test_alb_status_description_is_the_status_line(gw: Gateway, kind: str) -> None:
    """ALB-R1: statusDescription ("299 Fine Indeed") is the text of the status line."""
    answer = raw_exchange(gw.port(kind, "garbage"), _request(urlsplit(gw.url(kind, "garbage", "status-description"))
                                                             .path.encode()))
    assert answer.split(b"\r\n", 1)[0] == b"HTTP/1.1 299 Fine Indeed"
    assert answer.endswith(b"\r\n\r\ndescribed")


@pytest.mark.parametrize("kind", ["rest", "http", "url", "alb_single"])
def test_status_line_has_the_standard_reason(gw: Gateway, kind: str) -> None:
    """AWS's HTTP/1.1 status lines carry the standard reason phrase ("200 OK"), and so do ours."""
    url = urlsplit(gw.url(kind, "garbage", "no-headers"))
    answer = raw_exchange(gw.port(kind, "garbage"), _request(url.path.encode()))
    assert answer.split(b"\r\n", 1)[0] == b"HTTP/1.1 200 OK"
    assert b"x-lambda-gateway-reason" not in answer.lower()


@pytest.mark.parametrize(("accept", "body"), [("text/html", b"dGVzdC1kYXRh"), ("image/png", b"test-data")])
def test_rest_base64_result_depends_on_accept(gw: Gateway, client: httpx.Client, accept: str, body: bytes) -> None:
    """REST-R5: isBase64Encoded is honoured only when the first Accept type is a binary media type."""
    response = client.get(gw.url("rest", "garbage", "base64-text"), headers={"Accept": accept})
    assert (response.status_code, response.content) == (200, body)


@pytest.mark.parametrize(("kind", "case", "needle"), [
    ("rest", "unknown-key", "wrongValue"),
    ("rest", "status-abc", "statusCode"),
    ("http", "status-abc", "statusCode"),
    ("url", "crlf-value", "x-bad"),
    ("alb_single", "crlf-name", "x-bad"),
    ("http_v1", "status-abc", "statusCode"),
])
def test_log_says_why_a_result_is_malformed(gw: Gateway, client: httpx.Client, caplog: pytest.LogCaptureFixture,
                                            kind: str, case: str, needle: str) -> None:
    """Issue 2: whenever the client gets an AWS error because of the result, the log says exactly why."""
    with caplog.at_level(logging.INFO, logger="gateway"):
        response = client.get(gw.url(kind, "garbage", case))
        assert response.status_code >= 500
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and not _malformed_records(caplog):
            time.sleep(0.01)
    messages = [r.getMessage() for r in _malformed_records(caplog)]
    assert len(messages) == 1, messages
    assert needle in messages[0]
    assert f"/{case}" in messages[0]  # names the request


def _malformed_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("gateway") and "malformed" in r.getMessage()]


# ------------------------------------------------------------------------------------------
# Timeouts.


@pytest.mark.parametrize("kind", FRONT_KINDS)
def test_function_timeout(gw: Gateway, client: httpx.Client, kind: str) -> None:
    """The function's own timeout (1 s) is a function error: REST 502, HTTP API 500 (O-DR87),
    URL 502, ALB 502; answered on time although the handler sleeps 2.5 s."""
    started = time.monotonic()
    response = client.get(gw.url(kind, "slow", "x"))
    elapsed = time.monotonic() - started
    assert_function_error(kind, response)
    assert 0.9 <= elapsed < 2.4, elapsed  # the handler sleeps 2.5 s
    follow_up(gw, client, kind)


@pytest.mark.parametrize(("front", "path", "status", "body"), [
    ("rest-short", "slow", 504, b'{"message": "Endpoint request timed out"}'),  # 2.E
    ("http-short", "slow", 503, b'{"message":"Service Unavailable"}'),  # 4.E, O-CX1225
])
def test_integration_timeout_shorter_than_function_timeout(gw: Gateway, client: httpx.Client, front: str, path: str,
                                                           status: int, body: bytes) -> None:
    started = time.monotonic()
    response = client.get(gw.urls[front] + path)
    elapsed = time.monotonic() - started
    assert (response.status_code, response.content) == (status, body)
    assert elapsed < 1.5, elapsed


# ------------------------------------------------------------------------------------------
# Size limits.


@pytest.mark.parametrize("kind", FRONT_KINDS)
def test_response_over_6_mb(gw: Gateway, client: httpx.Client, kind: str) -> None:
    """C-1: a result over Lambda's 6 MB synchronous limit is an error on every kind."""
    assert_function_error(kind, client.get(gw.url(kind, "big", "7mb")))
    follow_up(gw, client, kind)


def test_alb_response_over_1_mb(gw: Gateway, client: httpx.Client) -> None:
    """ALB-11: a result over 1 MB is a 502 on an ALB, while API Gateway passes it."""
    assert_function_error("alb_single", client.get(gw.url("alb_single", "big", "1mb")))
    response = client.get(gw.url("rest", "big", "1mb"))
    assert response.status_code == 200
    assert len(response.content) == MB + 1024


@pytest.mark.parametrize(("kind", "size", "status"), [
    ("alb_single", MB + 1, 413),  # ALB-11
    ("alb_single", MB, 200),
    ("url", 6 * MB + 1, 413),  # URL-10
    ("rest", 10 * MB + 1, 413),  # REST-10, 2.E REQUEST_TOO_LARGE
    ("http", 10 * MB + 1, 413),  # HV2-10
])
def test_request_body_limits(gw: Gateway, client: httpx.Client, kind: str, size: int, status: int) -> None:
    # A connection of its own: see test_answer_before_the_body_says_connection_close for why.
    response = httpx.post(gw.url(kind, "garbage", "ok"), content=b"x" * size, headers={"Content-Type": "text/plain"})
    assert response.status_code == status
    follow_up(gw, client, kind)


@pytest.mark.parametrize(("kind", "size"), [
    ("alb_single", MB + 1), ("url", 6 * MB + 1), ("rest", 10 * MB + 1), ("http", 10 * MB + 1),
])
def test_answer_before_the_body_says_connection_close(gw: Gateway, kind: str, size: int) -> None:
    """A 413 sent before the body is read (Content-Length over the limit) leaves unread bytes on the
    connection. RFC 9112 §9.6: a server that is going to close must say ``Connection: close``;
    otherwise the connection must still serve the next request. Either is fine, silence plus a
    close is not: keep-alive clients (httpx's pool) then send their next request into a dead
    connection and get "Server disconnected without sending a response"."""
    target = urlsplit(gw.url(kind, "garbage", "ok")).path.encode()
    head = b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % (target, size)
    with socket.create_connection(("127.0.0.1", gw.port(kind, "garbage")), timeout=5) as sock:
        try:
            sock.sendall(head + b"x" * size)
        except OSError:
            pass  # the server stopped reading; its answer is still in our receive buffer
        answer = _read_response(sock)
        assert status_of(answer) == 413
        response_head = answer.split(b"\r\n\r\n", 1)[0].lower()
        if b"\r\nconnection: close" in response_head:
            return
        try:
            sock.sendall(_request(_target(gw, kind, "again")).replace(b"Connection: close", b"X-Next: 1"))
            again = _read_response(sock)
        except OSError as exc:
            again = repr(exc).encode()
        assert again.startswith(b"HTTP/1.1 200"), (response_head, again[:200])


def _read_response(sock: socket.socket) -> bytes:
    """One response: the head, then Content-Length bytes of body (b"" if the peer closed)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def test_alb_chunked_body_over_1_mb(gw: Gateway, client: httpx.Client) -> None:
    """ALB-11 holds for a chunked body too, where no Content-Length announces the size."""
    def chunks() -> Iterator[bytes]:
        for _ in range(17):
            yield b"x" * 65536  # 17 x 64 KB = 1 MB + 64 KB

    response = httpx.post(gw.url("alb_single", "garbage", "ok"), content=chunks(),
                          headers={"Content-Type": "text/plain"})
    assert response.status_code == 413
    follow_up(gw, client, "alb_single")


def test_rest_event_over_6_mb_is_rejected_by_lambda(gw: Gateway, client: httpx.Client) -> None:
    """C-1 + 2.E: a 7 MB body is under REST's 10 MB but the event is over Lambda's 6 MB; when the
    Lambda API rejects the invocation API Gateway answers 500 (D-L-APIGW)."""
    response = client.post(gw.url("rest", "garbage", "ok"), content=b"x" * (7 * MB),
                           headers={"Content-Type": "text/plain"})
    assert (response.status_code, response.content) == (500, b'{"message": "Internal server error"}')


# ------------------------------------------------------------------------------------------
# Bad input over a raw socket.


def raw_exchange(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    """Send bytes, read until the server closes the connection or the timeout passes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def status_of(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer[9:12])


def _target(gw: Gateway, kind: str, rest: str) -> bytes:
    return urlsplit(gw.url(kind, "event", "")).path.encode() + rest.encode("latin-1")


def _request(target: bytes, *headers: bytes) -> bytes:
    lines = [b"GET " + target + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close", *headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


@pytest.mark.parametrize("kind", FRONT_KINDS)
@pytest.mark.parametrize(("name", "build", "status"), [
    ("not-http", lambda t: b"THIS IS NOT HTTP\r\n\r\n", 400),
    ("bad-header-line", lambda t: b"GET " + t + b" HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", 400),
    ("bad-content-length", lambda t: b"POST " + t + b" HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400),
    ("huge-header", lambda t: _request(t, b"X-Huge: " + b"a" * 100_000), 431),
    ("huge-target", lambda t: _request(t + b"?q=" + b"a" * 100_000), 431),
    ("raw-non-ascii-path", lambda t: _request(t + b"caf\xc3\xa9"), 400),
    ("raw-invalid-utf8-query", lambda t: _request(t + b"x?q=\xff\xfe"), 400),
])
def test_malformed_http(gw: Gateway, client: httpx.Client, kind: str, name: str,
                        build: Callable[[bytes], bytes], status: int) -> None:
    """The server answers what it cannot parse (h11: 400, 431 for a head over its limit) and keeps serving."""
    answer = raw_exchange(gw.port(kind, "event"), build(_target(gw, kind, "")))
    assert status_of(answer) == status
    follow_up(gw, client, kind)


@pytest.mark.parametrize("kind", FRONT_KINDS)
@pytest.mark.parametrize("rest", [
    "x%FF%FE",  # escapes of bytes that are not UTF-8
    "x%zz%",  # invalid escapes
    "x?q=%FF%FE&r=%zz&s=%",  # the same in the query
    "x?q=%C3%A9",
])
def test_odd_escapes_in_path_and_query(gw: Gateway, client: httpx.Client, kind: str, rest: str) -> None:
    """Bytes that are not UTF-8 and invalid percent escapes reach the function; the gateway answers."""
    answer = raw_exchange(gw.port(kind, "event"), _request(_target(gw, kind, rest)))
    assert status_of(answer) == 200, answer[:300]
    follow_up(gw, client, kind)


@pytest.mark.parametrize("kind", FRONT_KINDS)
def test_invalid_escapes_kept_where_the_path_is_not_decoded(gw: Gateway, client: httpx.Client, kind: str) -> None:
    """REST-5, ALB-5 and URL-5 (rawPath) keep the path as sent, escapes that decode to nothing included."""
    event = client.get(gw.url(kind, "event", "x%FF%FE/y%zz")).json()
    path = event.get("rawPath") if kind in ("http", "url") else event["path"]
    expected = {
        "rest": "/event/x%FF%FE/y%zz",
        "alb_single": "/single/event/x%FF%FE/y%zz",
        "url": "/x%FF%FE/y%zz",
    }
    if kind in expected:
        assert path == expected[kind]
    else:
        assert path.endswith("/y%zz")  # HV2-5: decoded, an invalid escape stays (URL-5 shows AWS's way)


@pytest.mark.parametrize("kind", FRONT_KINDS)
def test_header_value_not_utf8(gw: Gateway, client: httpx.Client, kind: str) -> None:
    """A header value with bytes that are not UTF-8 (obs-text, allowed by HTTP/1.1) gets an answer."""
    answer = raw_exchange(gw.port(kind, "event"), _request(_target(gw, kind, "x"), b"X-Bad: \xff\xfe ok"))
    assert status_of(answer) == 200, answer[:300]
    follow_up(gw, client, kind)


@pytest.mark.parametrize("kind", FRONT_KINDS)
def test_client_gone_mid_body(gw: Gateway, client: httpx.Client, kind: str) -> None:
    """A client that announces 1000 bytes, sends 10 and hangs up does not take the server down."""
    target = _target(gw, kind, "x")
    head = b"POST " + target + b" HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n"
    with socket.create_connection(("127.0.0.1", gw.port(kind, "event")), timeout=5) as sock:
        sock.sendall(head + b"0123456789")
    follow_up(gw, client, kind)


# ------------------------------------------------------------------------------------------
# Function logs (issue 2: START/END/REPORT with the handler's own output between them).


def test_handler_output_between_start_and_end(gw: Gateway, client: httpx.Client) -> None:
    response = client.get(gw.base("rest", "logs") + "logs")
    assert (response.status_code, response.content) == (200, b"logged")
    request_id = response.headers["x-lambda-request-id"]
    entries = gw.logs.invocation("logs", request_id)
    assert entries[0] == f"START RequestId: {request_id} Version: $LATEST"
    assert "e2e-printed-line" in entries
    logged = [e for e in entries if "e2e-logged-line" in e]
    assert len(logged) == 1 and logged[0].startswith("[WARNING]\t") and f"\t{request_id}\t" in logged[0]
    assert entries[-2] == f"END RequestId: {request_id}"
    assert entries[-1].startswith(f"REPORT RequestId: {request_id}\tDuration: ")
    assert "\tMemory Size: 128 MB\t" in entries[-1]


def test_handler_exception_is_logged_with_traceback(gw: Gateway, client: httpx.Client,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="gateway"):
        assert_function_error("rest", client.get(gw.url("rest", "boom", "why")))
    entries = gw.logs.invocation("boom", gw.logs.last_request_id("boom"))
    errors = [e for e in entries if e.startswith("[ERROR] RuntimeError: boom from the handler")]
    assert len(errors) == 1
    assert "Traceback (most recent call last):" in errors[0]
    # The gateway says why the client got a 502.
    why = [r.getMessage() for r in caplog.records if "/boom/why" in r.getMessage()]
    assert len(why) == 1 and "RuntimeError: boom from the handler" in why[0]


def test_timeout_is_logged(gw: Gateway, client: httpx.Client) -> None:
    assert_function_error("url", client.get(gw.url("url", "slow", "x")))
    entries = gw.logs.invocation("slow", gw.logs.last_request_id("slow"))
    assert any(e.endswith("Task timed out after 1.00 seconds") for e in entries), entries
    assert "Status: timeout" in entries[-1]
