"""`gateway serve` as a user runs it: a child process, the start-up table, real requests, logs, Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import write_project

HANDLER = '''
import logging

def handler(event, context):
    print("hello from print")
    logging.getLogger().warning("hello from logging")
    return {"statusCode": 200, "headers": {"content-type": "text/plain"}, "body": "ok " + context.function_name}
'''


def _config(tmp_path: Path) -> Path:
    return write_project(tmp_path, {"app": HANDLER}, '''
        [functions.hello]
        handler = "app.handler"
        code_uri = "fn"

        [[http_apis]]
        name = "web"
        listen = "127.0.0.1:0"
        routes = [ { route = "GET /items/{id}", function = "hello" } ]

        [[rest_apis]]
        name = "legacy"
        listen = "127.0.0.1:0"
        stage = "dev"
        routes = [ { method = "ANY", path = "/{proxy+}", function = "hello" } ]

        [[albs]]
        name = "lb"
        listen = "127.0.0.1:0"
        rules = [ { priority = 1, path = "/*", function = "hello" } ]

        [[function_urls]]
        function = "hello"
        listen = "127.0.0.1:0"
    ''')


def _start(args: list[str], fronts: int = 4) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    urls: dict[str, str] = {}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(urls) < fronts:
        line = proc.stdout.readline()
        if not line:
            break
        found = re.match(r"^(\S+)\s+(HTTP API|REST API|ALB|function URL)\s+(http://\S+)", line)
        if found:
            urls[found.group(2)] = found.group(3)
    return proc, urls


@pytest.fixture(params=["hypercorn", "uvicorn"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    proc, urls = _start(["--config", str(_config(tmp_path)), "--server", request.param])
    try:
        yield proc, urls
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def test_serve_prints_table_answers_logs_and_stops_on_ctrl_c(
    served: tuple[subprocess.Popen[str], dict[str, str]],
) -> None:
    proc, urls = served
    assert sorted(urls) == ["ALB", "HTTP API", "REST API", "function URL"]
    assert urls["REST API"].endswith("/dev/")
    paths = {"HTTP API": "items/1", "REST API": "x", "ALB": "x", "function URL": "x"}
    for kind, url in urls.items():
        response = httpx.get(url + paths[kind], timeout=10)
        assert (kind, response.status_code, response.text) == (kind, 200, "ok hello")
    proc.send_signal(signal.SIGINT)
    assert proc.wait(15) == 0
    assert proc.stderr is not None
    log = proc.stderr.read()
    assert log.count("       hello | START RequestId: ") == 4
    assert log.count("       hello | hello from print") == 4
    assert len(re.findall(r"hello \| \[WARNING\]\t\S+Z\t[0-9a-f-]{36}\thello from logging", log)) == 4
    assert len(re.findall(r"hello \| REPORT RequestId: [0-9a-f-]{36}\tDuration: [0-9.]+ ms\t", log)) == 4
    assert len(re.findall(r"Init Duration: [0-9.]+ ms", log)) == 1  # one cold start, then warm
    # One access-log line per request, naming the front.
    assert re.search(r'INFO +web 127\.0\.0\.1 "GET /items/1 HTTP/1\.1" 200 8 ', log)
    assert re.search(r'INFO +legacy 127\.0\.0\.1 "GET /dev/x HTTP/1\.1" 200 8 ', log)
    assert "Traceback" not in log


def test_builtin_example_serves_every_front() -> None:
    """The README's first command: `gateway serve` with no config, ports 3000-3003."""
    import socket

    for port in (*range(3000, 3004), 3010):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                pytest.skip(f"port {port} is busy on this machine")
    proc, urls = _start([])
    try:
        assert urls == {
            "HTTP API": "http://127.0.0.1:3000/", "REST API": "http://127.0.0.1:3001/dev/",
            "ALB": "http://127.0.0.1:3002/", "function URL": "http://127.0.0.1:3003/",
        }
        for path in ("http://127.0.0.1:3000/items/42", "http://127.0.0.1:3001/dev/a?x=1",
                     "http://127.0.0.1:3002/a", "http://127.0.0.1:3003/a"):
            response = httpx.get(path, timeout=10)
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/json"
            assert response.json()["message"] == "Hello from lambda-gateway"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(15)


ORDER_HANDLER = '''
import os
import time

def handler(event, context):
    if event["rawPath"] == "/fail":
        raise ValueError("broken on purpose")
    print("working", event["rawPath"])
    cue = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cue")  # in code_uri: the sandbox sees it
    for _ in range(500):  # the test writes the cue once it has read the line above from the gateway's stderr
        if os.path.exists(cue):
            return "done"
        time.sleep(0.01)
    raise TimeoutError("the printed line never reached the gateway's stderr")
'''


def test_function_lines_arrive_live_and_before_the_gateways_own_lines(tmp_path: Path) -> None:
    """Function log lines are written in batches by the event loop (functions/logs.py LoopWriter):
    a line a handler prints shows before the handler returns, and a front's warning about a function
    error (and the access-log line) come after that invocation's traceback, END and REPORT."""
    import threading

    config = write_project(tmp_path, {"app": ORDER_HANDLER}, '''
        [functions.slow]
        handler = "app.handler"
        code_uri = "fn"
        timeout = 10

        [[http_apis]]
        name = "web"
        listen = "127.0.0.1:0"
        routes = [ { route = "$default", function = "slow" } ]
    ''')
    proc, urls = _start(["--config", str(config)], fronts=1)
    texts: list[str] = []

    def read_stderr() -> None:  # and cue the handler once its printed line is here
        assert proc.stderr is not None
        for line in proc.stderr:
            texts.append(line.rstrip("\n"))
            if texts[-1] == "        slow | working /slow":
                (tmp_path / "fn" / "cue").touch()

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    try:
        url = urls["HTTP API"]
        failed = httpx.get(url + "fail", timeout=10)
        assert (failed.status_code, failed.text) == (500, '{"message":"Internal Server Error"}')
        slow = httpx.get(url + "slow", timeout=10)  # answers only after the test read "working /slow"
        assert (slow.status_code, slow.text) == (200, "done")
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(15) == 0
        reader.join(5)
    report = next(i for i, t in enumerate(texts) if t.startswith("        slow | REPORT RequestId: "))
    traceback = texts.index("        slow | Traceback (most recent call last):")
    explained = "GET /fail -> function error (Unhandled): ValueError: broken on purpose"
    warning = next(i for i, t in enumerate(texts) if explained in t)
    access = next(i for i, t in enumerate(texts) if '"GET /fail HTTP/1.1" 500' in t)
    assert traceback < report < warning < access, texts
