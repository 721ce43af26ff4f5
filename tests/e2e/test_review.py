"""Review findings, each demonstrated over loopback against a real hypercorn server.

Each test was written failing and fixed since; the last two were limits of in-process isolation
(one interpreter) that process environments (the default isolation) remove. Rule ids refer
to shared/reference/http-events.md; "issue 2" is the core issue.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.config import GatewayConfig
from gateway.errors import ConfigError
from gateway.testing import RunningGateway, start_gateway

REST_502 = b'{"message": "Internal server error"}'
HTTP_500 = b'{"message":"Internal Server Error"}'

# One front of each kind, all calling the function "f": kind -> the front's name in RunningGateway.urls.
FRONTS: dict[str, str] = {"rest": "rest", "http": "http", "alb": "alb", "url": "f-url"}


def _fronts(function: str = "f") -> dict[str, Any]:
    return {
        "rest_apis": [{"name": "rest", "listen": "127.0.0.1:0", "stage": "dev",
                       "routes": [{"method": "ANY", "path": "/{proxy+}", "function": function}]}],
        "http_apis": [{"name": "http", "listen": "127.0.0.1:0",
                       "routes": [{"route": "$default", "function": function}]}],
        "albs": [{"name": "alb", "listen": "127.0.0.1:0",
                  "rules": [{"priority": 1, "path": "/*", "function": function}]}],
        "function_urls": [{"function": function, "listen": "127.0.0.1:0"}],
    }


class Logs:
    """A log sink that keeps every (function, entry)."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def __call__(self, function: str, entry: str) -> None:
        with self.lock:
            self.entries.append((function, entry))

    def starts(self, function: str) -> list[str]:
        with self.lock:
            return [e for f, e in self.entries if f == function and e.startswith("START RequestId: ")]


@contextmanager
def serve(tmp_path: Path, handler_src: str, *, timeout: float = 10) -> Iterator[tuple[RunningGateway, Logs]]:
    """A gateway with one function ``f`` (``app.handler`` from ``handler_src``) behind every front."""
    code = tmp_path / "fn"
    code.mkdir()
    (code / "app.py").write_text(textwrap.dedent(handler_src))
    config = GatewayConfig.from_mapping({
        "gateway": {"access_log": False},
        "functions": {"f": {"handler": "app.handler", "code_uri": str(code), "timeout": timeout}},
        **_fronts(),
    }, base_dir=tmp_path)
    logs = Logs()
    with start_gateway(config, log=logs) as running:
        yield running, logs


def _raw(url: str, data: bytes, *, read: bool = True, timeout: float = 5.0) -> bytes:
    """Send raw bytes to the server behind ``url`` and read until it closes (or the timeout)."""
    u = httpx.URL(url)
    with socket.create_connection((u.host, u.port or 80), timeout=timeout) as sock:
        sock.sendall(data)
        if not read:
            return b""
        chunks = []
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except TimeoutError:
            pass
    return b"".join(chunks)


# ---------------------------------------------------------------------------------------------
# 1. Non-ASCII (UTF-8) request header values reach the handler as "?".

ECHO_HEADER = '''
import json

def handler(event, context):
    headers = event.get("headers") or {}
    value = next((v for k, v in headers.items() if k.lower() == "x-city"), None)
    cookie = next((v for k, v in headers.items() if k.lower() == "cookie"), None)
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "isBase64Encoded": False,
            "body": json.dumps({"city": value, "cookie": cookie, "cookies": event.get("cookies")})}
'''

CITY = "Srīperumbūdūr 日本"


@pytest.mark.parametrize("front", sorted(FRONTS))
def test_utf8_header_values_reach_the_event_intact(tmp_path: Path, front: str) -> None:
    """AWS hands UTF-8 header values to the function decoded (ALB: honojs/hono#4432 'Srīperumbūdūr' in
    cf-ipcity; API Gateway: oven-sh/bun#22994 'Torrejón de Ardoz') [OBS]. Cookies too."""
    with serve(tmp_path, ECHO_HEADER) as (gw, _):
        url = gw.urls[FRONTS[front]] + "x"
        headers = [(b"x-city", CITY.encode()), (b"cookie", f"city={CITY}".encode())]
        response = httpx.get(url, headers=headers, timeout=10)
    assert response.status_code == 200
    seen = response.json()
    assert seen["city"] == CITY
    if front == "http":  # HV2-3: the cookie moves to `cookies`
        assert seen["cookies"] == [f"city={CITY}"]
    else:
        assert seen["cookie"] == f"city={CITY}"


# ---------------------------------------------------------------------------------------------
# 2. A client that disconnects in the middle of its body still gets the function invoked.

RECORD = '''
def handler(event, context):
    print("INVOKED with", repr(event.get("body")))
    return {"statusCode": 200, "headers": {}, "body": "ok", "isBase64Encoded": False}
'''


@pytest.mark.parametrize("front", sorted(FRONTS))
def test_truncated_request_body_is_never_invoked(tmp_path: Path, front: str) -> None:
    """C-1: the gateway invokes with the request's whole body; API Gateway/ALB/URLs buffer the body
    and never call Lambda with a part of it. A POST that creates something must not run on half a body."""
    with serve(tmp_path, RECORD) as (gw, logs):
        u = httpx.URL(gw.urls[FRONTS[front]])
        head = (f"POST {u.path}x HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\n"
                "Content-Length: 1000\r\n\r\n").encode()
        _raw(gw.urls[FRONTS[front]], head + b"0123456789", read=False)
        time.sleep(1.0)
        invoked = logs.starts("f")
    assert invoked == []


# ---------------------------------------------------------------------------------------------
# 3. A 1xx statusCode from the function: the connection drops without any answer.

STATUS = '''
def handler(event, context):
    code = int((event.get("rawPath") or event.get("path")).rsplit("/", 1)[1])
    return {"statusCode": code, "headers": {}, "body": "", "isBase64Encoded": False}
'''


@pytest.mark.parametrize("front", sorted(FRONTS))
@pytest.mark.parametrize("code", [100, 101])
def test_1xx_status_code_result_still_gets_an_answer(tmp_path: Path, front: str, code: int) -> None:
    """Whatever AWS does with a 1xx statusCode [INF: malformed -> the front's 5xx], the client must get
    an HTTP answer (issue 2: 'a handler returning garbage: each gets AWS's answer')."""
    with serve(tmp_path, STATUS) as (gw, _):
        response = httpx.get(gw.urls[FRONTS[front]] + f"s/{code}", timeout=10)
        assert response.status_code >= 200
        assert httpx.get(gw.urls[FRONTS[front]] + "s/200", timeout=10).status_code == 200


# ---------------------------------------------------------------------------------------------
# 4. A header name HTTP cannot carry: hypercorn's bare 500, not the front's answer.

BAD_NAME = '''
import json

def handler(event, context):
    name = json.loads(event["body"])["name"]
    return {"statusCode": 200, "headers": {name: "v"}, "body": "x", "isBase64Encoded": False}
'''


@pytest.mark.parametrize("name", ["X(Foo)", "X-\u2713", "X-caf\u00e9"])
@pytest.mark.parametrize(("front", "answer"), [("rest", (502, REST_502)), ("http", (500, HTTP_500))])
def test_unsendable_header_name_is_a_malformed_result(
    tmp_path: Path, front: str, answer: tuple[int, bytes], name: str,
) -> None:
    """Issue 2: 'A header name or value the handler returns that would break HTTP ... makes the result
    malformed; it is never sent', and the client gets the front's error (REST 502, 2.E; HTTP API 500, 4.E)."""
    with serve(tmp_path, BAD_NAME) as (gw, _):
        response = httpx.post(gw.urls[FRONTS[front]] + "x", json={"name": name}, timeout=10)
    assert (response.status_code, response.content) == answer


# ---------------------------------------------------------------------------------------------
# 5. `gateway serve --server uvicorn` without the `fast` extra: a traceback, exit 1.

def test_cli_server_uvicorn_without_fast_extra_exits_2_without_traceback(tmp_path: Path) -> None:
    """Issue 2: 'A config error exits with status 2 and one line ... Never a traceback.' The README's
    first command installs the package without extras; `--server uvicorn` then needs `[fast]`."""
    fake = tmp_path / "fake" / "uvicorn"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('raise ImportError("No module named \'uvicorn\' (simulated)")\n')
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "app.py").write_text("def handler(e, c):\n    return {'statusCode': 200}\n")
    config = tmp_path / "gateway.toml"
    config.write_text(textwrap.dedent('''
        [functions.f]
        handler = "app.handler"
        code_uri = "fn"

        [[http_apis]]
        listen = "127.0.0.1:0"
        routes = [ { route = "$default", function = "f" } ]
    '''))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "fake"), *sys.path])}
    proc = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--config", str(config), "--server", "uvicorn"],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 2
    assert "gateway: config error:" in proc.stderr and "fast" in proc.stderr


# ---------------------------------------------------------------------------------------------
# 6. Two fronts on one port but different addresses: every request reaches the last one.

def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_fronts_on_one_port_and_two_addresses_stay_apart(tmp_path: Path) -> None:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.2", 0))
        except OSError:
            pytest.skip("127.0.0.2 is not a local address on this machine")
    code = tmp_path / "fn"
    code.mkdir()
    (code / "a.py").write_text("def handler(e, c):\n    return {'statusCode': 200, 'body': 'A'}\n")
    (code / "b.py").write_text("def handler(e, c):\n    return {'statusCode': 200, 'body': 'B'}\n")
    port = _free_port()
    try:
        config = GatewayConfig.from_mapping({
            "gateway": {"access_log": False},
            "functions": {"a": {"handler": "a.handler", "code_uri": str(code)},
                          "b": {"handler": "b.handler", "code_uri": str(code)}},
            "http_apis": [
                {"name": "one", "listen": f"127.0.0.1:{port}", "routes": [{"route": "$default", "function": "a"}]},
                {"name": "two", "listen": f"127.0.0.2:{port}", "routes": [{"route": "$default", "function": "b"}]},
            ],
        }, base_dir=tmp_path)
    except ConfigError:
        return  # refusing the config is an acceptable fix too
    with start_gateway(config, ephemeral_ports=False, log=Logs()) as gw:
        answers = (httpx.get(gw.urls["one"], timeout=10).text, httpx.get(gw.urls["two"], timeout=10).text)
    assert answers == ("A", "B")


# ---------------------------------------------------------------------------------------------
# 7. ALB fixed responses are not validated at load time.

@pytest.mark.parametrize("fixed", [
    {"status": 101}, {"status": 99999}, {"status": 302}, {"status": 200, "content_type": "text/plain\nX-Evil: 1"},
])
def test_alb_fixed_response_is_validated_at_load(tmp_path: Path, fixed: dict[str, Any]) -> None:
    """ELB FixedResponseActionConfig: StatusCode matches ^(2|4|5)\\d\\d$ (botocore elbv2 shape
    FixedResponseActionStatusCode), ContentType is one of text/plain, text/css, text/html,
    application/javascript, application/json (max 32). ARCHITECTURE: 'all validation at load time'."""
    with pytest.raises(ConfigError, match=r"albs\[0\]"):
        GatewayConfig.from_mapping({
            "albs": [{"name": "alb", "listen": "127.0.0.1:0",
                      "rules": [{"priority": 1, "path": "/*", "fixed_response": fixed}]}],
        }, base_dir=tmp_path)


# ---------------------------------------------------------------------------------------------
# 8. A WebSocket upgrade to an ALB gets hypercorn's 403, not ALB's 400.

def test_alb_websocket_upgrade_is_400(tmp_path: Path) -> None:
    """ALB-11: 'WebSocket upgrade -> 400' (D-ALB-TS)."""
    with serve(tmp_path, RECORD) as (gw, _):
        head = _raw(gw.urls["alb"], (
            b"GET /x HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ), timeout=3)
    assert head.startswith(b"HTTP/1.1 400 ")


# ---------------------------------------------------------------------------------------------
# 9. The pytest plugin: after the first test, print() output leaves the function log.

PRINTING = '''
def handler(event, context):
    print("printed-by-" + event["rawPath"].strip("/"))
    return {"statusCode": 200, "body": "ok"}
'''


def test_plugin_keeps_handler_prints_in_the_function_log(pytester: pytest.Pytester) -> None:
    """Issue 2: every invocation logs START/END/REPORT 'with the handler's own output (print, logging)
    between them, prefixed by function name'; the pytest plugin is how users run the gateway in tests."""
    functions = pytester.mkdir("functions")
    (functions / "app.py").write_text(textwrap.dedent(PRINTING))
    pytester.makefile(".toml", gateway=textwrap.dedent('''
        [functions.hello]
        handler = "app.handler"
        code_uri = "functions"

        [[http_apis]]
        name = "web"
        listen = "127.0.0.1:0"
        routes = [ { route = "$default", function = "hello" } ]
    '''))
    pytester.makeini("[pytest]\nlambda_gateway_config = gateway.toml\n")
    pytester.makepyfile(test_user=textwrap.dedent('''
        import httpx

        def test_first(gateway_url):
            assert httpx.get(gateway_url("web") + "first").text == "ok"

        def test_second(gateway_url):
            assert httpx.get(gateway_url("web") + "second").text == "ok"
    '''))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(passed=2)
    out = result.stdout.str()
    assert "hello | printed-by-first" in out
    assert "hello | printed-by-second" in out


# ---------------------------------------------------------------------------------------------
# 10. One INIT that hangs leaves the function broken for good: later INITs block on its import lock.

STUCK_INIT = '''
import os
import threading

if os.path.exists({flag!r}):
    threading.Event().wait()  # e.g. a database connect without a timeout, at import time

def handler(event, context):
    return {{"statusCode": 200, "body": "fresh INIT"}}
'''


def test_a_hung_init_does_not_break_every_later_init(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 2: 'an environment whose thread overran is discarded and re-initialised'. On Lambda the
    next environment is a new process, so once the cause is gone (here: the flag file) INIT succeeds."""
    import gateway.functions.invokers.process as process

    monkeypatch.setattr(process, "INIT_LIMIT", 1.0)  # the 10 s INIT limit, shortened for the test
    code = tmp_path / "fn"
    code.mkdir()
    flag = code / "hang-at-import"  # beside the code: the environment's /tmp is its own
    flag.write_text("")
    # A module name no other test uses: the abandoned thread holds its import lock for the session.
    (code / "review_stuck_init.py").write_text(textwrap.dedent(STUCK_INIT.format(flag=str(flag))))
    config = GatewayConfig.from_mapping({
        "gateway": {"access_log": False},
        "functions": {"f": {"handler": "review_stuck_init.handler", "code_uri": str(code), "timeout": 1}},
        "http_apis": [{"name": "http", "listen": "127.0.0.1:0", "routes": [{"route": "$default", "function": "f"}]}],
    }, base_dir=tmp_path)
    with start_gateway(config, log=Logs()) as gw:
        first = httpx.get(gw.urls["http"], timeout=30)
        assert first.status_code == 500  # the hung INIT times out (4.E)
        flag.unlink()
        second = httpx.get(gw.urls["http"], timeout=30)
    assert (second.status_code, second.text) == (200, "fresh INIT")


# ---------------------------------------------------------------------------------------------
# 11. The pytest plugin: the function's Lambda variables leak into the user's test process.

def test_plugin_does_not_leak_function_variables_into_tests(pytester: pytest.Pytester) -> None:
    """Under the pytest plugin the gateway shares the test process: after one request the user's own
    test code sees AWS_LAMBDA_FUNCTION_NAME (libraries then believe they run on Lambda), the
    function's AWS_DEFAULT_REGION (boto3 clients made by the test), and TZ=:UTC (local times shift
    depending on test order). README's plugin section does not mention it."""
    functions = pytester.mkdir("functions")
    (functions / "app.py").write_text("def handler(e, c):\n    return {'statusCode': 200, 'body': 'ok'}\n")
    pytester.makefile(".toml", gateway=textwrap.dedent('''
        [gateway]
        region = "eu-west-3"

        [functions.hello]
        handler = "app.handler"
        code_uri = "functions"

        [[http_apis]]
        name = "web"
        listen = "127.0.0.1:0"
        routes = [ { route = "$default", function = "hello" } ]
    '''))
    pytester.makeini("[pytest]\nlambda_gateway_config = gateway.toml\n")
    pytester.makepyfile(test_user=textwrap.dedent('''
        import os
        import httpx

        NAMES = ("AWS_LAMBDA_FUNCTION_NAME", "AWS_DEFAULT_REGION", "AWS_REGION", "TZ", "_HANDLER")

        def test_environment_is_mine(gateway_url):
            before = {name: os.environ.get(name) for name in NAMES}
            assert httpx.get(gateway_url("web") + "x").text == "ok"
            assert {name: os.environ.get(name) for name in NAMES} == before
    '''))
    env_names = ("AWS_LAMBDA_FUNCTION_NAME", "AWS_DEFAULT_REGION", "AWS_REGION", "TZ", "_HANDLER")
    saved = {name: os.environ.pop(name, None) for name in env_names}
    try:
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    finally:
        for name, value in saved.items():
            if value is not None:
                os.environ[name] = value
    result.assert_outcomes(passed=1)
