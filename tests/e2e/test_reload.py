"""Hot reload as a user sees it: `gateway serve`, edit the handler, the next request gets the new code."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

HANDLER = '''
def handler(event, context):
    return {{"statusCode": 200, "headers": {{"content-type": "text/plain"}}, "body": "{answer}"}}
'''


def _edit(path: Path, answer: str) -> None:
    before = path.stat().st_mtime
    path.write_text(HANDLER.format(answer=answer))
    os.utime(path, (before + 2, before + 2))  # coarse file-system clocks would hide a quick edit


def _config(tmp_path: Path, isolation: str) -> Path:
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "app.py").write_text(HANDLER.format(answer="one"))
    path = tmp_path / "gateway.toml"
    path.write_text(textwrap.dedent(f'''
        [functions.hello]
        handler = "app.handler"
        code_uri = "fn"
        isolation = "{isolation}"

        [[http_apis]]
        name = "web"
        listen = "127.0.0.1:0"
        routes = [ {{ route = "GET /", function = "hello" }} ]

        [admin]
        listen = "127.0.0.1:0"
    '''))
    return path


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def _start(started: list[subprocess.Popen[str]], *args: str) -> dict[str, str]:
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "serve", "--no-access-log", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    started.append(proc)
    assert proc.stdout is not None
    urls: dict[str, str] = {}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(urls) < 2:
        line = proc.stdout.readline()
        if not line:
            break
        found = re.match(r"^(\S+)\s+(HTTP API|admin)\s+(http://\S+)", line)
        if found:
            urls[found.group(2)] = found.group(3)
    assert sorted(urls) == ["HTTP API", "admin"], urls
    return urls


@pytest.mark.parametrize("isolation", ["inprocess", "process"])
def test_an_edit_is_served_without_a_restart(tmp_path: Path, serve: list[subprocess.Popen[str]],
                                             isolation: str) -> None:
    urls = _start(serve, "--config", str(_config(tmp_path, isolation)))
    with httpx.Client(timeout=10) as client:
        assert client.get(urls["HTTP API"]).text == "one"
        time.sleep(0.6)  # the watcher's first pass
        _edit(tmp_path / "fn" / "app.py", "two")
        deadline = time.monotonic() + 10
        while (text := client.get(urls["HTTP API"]).text) != "two":
            assert time.monotonic() < deadline, text
            time.sleep(0.1)
        metrics = client.get(urls["admin"] + "metrics").text
    assert 'lambda_gateway_cold_starts_total{function="hello"} 2' in metrics.splitlines()


def test_no_reload(tmp_path: Path, serve: list[subprocess.Popen[str]]) -> None:
    urls = _start(serve, "--config", str(_config(tmp_path, "inprocess")), "--no-reload")
    with httpx.Client(timeout=10) as client:
        assert client.get(urls["HTTP API"]).text == "one"
        _edit(tmp_path / "fn" / "app.py", "two")
        time.sleep(1.5)
        assert client.get(urls["HTTP API"]).text == "one"
