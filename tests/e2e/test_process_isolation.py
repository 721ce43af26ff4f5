"""Process environments behind a real front: an HTTP API over hypercorn, real child processes.

A warm environment keeps its globals and its private /tmp; two requests at once get two
environments; a crash, an out-of-memory kill and a timeout each give the HTTP API's answer for a
failed invocation (500, 4.E in http-events.md) and the next request is served by a fresh environment.
"""

from __future__ import annotations

import asyncio
import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.config import GatewayConfig
from gateway.testing import RunningGateway, start_gateway

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="process environments fork")

APP = '''
import json
import os
import time

COUNT = 0


def handler(event, context):
    global COUNT
    COUNT += 1
    action = event["rawPath"].rsplit("/", 1)[-1]
    if action == "crash":
        os._exit(1)
    if action == "hog":
        hoard = [b"x" * (1 << 20) for _ in range(400)]
    if action == "sleep":
        time.sleep(3)
    if action == "slow":
        time.sleep(0.5)
    with open("/tmp/visits", "a") as fh:
        fh.write("x")
    body = {"pid": os.getpid(), "count": COUNT, "visits": len(open("/tmp/visits").read())}
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}
'''

HTTP_500 = b'{"message":"Internal Server Error"}'


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    code = tmp_path_factory.mktemp("process-app")
    (code / "app.py").write_text(textwrap.dedent(APP))
    config = GatewayConfig.from_mapping({
        "gateway": {"access_log": False},
        # "solo" only ever gets one request at a time: it never has more than one environment.
        "functions": {name: {"handler": "app.handler", "code_uri": str(code), "timeout": 1, "memory_size": 128,
                             "isolation": "process"} for name in ("app", "solo")},
        "http_apis": [{"name": "http", "listen": "127.0.0.1:0", "routes": [
            {"route": "ANY /solo/{action}", "function": "solo"}, {"route": "$default", "function": "app"}]}],
    }, base_dir=Path(code))
    with start_gateway(config, log=lambda name, entry: None) as running:
        yield running


def test_warm_requests_reuse_one_environment(gw: RunningGateway) -> None:
    with httpx.Client(base_url=gw.urls["http"], timeout=10) as client:
        first, second = client.get("/hello").json(), client.get("/hello").json()
    assert first["pid"] == second["pid"] != os.getpid()
    assert second["count"] == first["count"] + 1 and second["visits"] == first["visits"] + 1


async def test_simultaneous_requests_run_in_separate_environments(gw: RunningGateway) -> None:
    async with httpx.AsyncClient(base_url=gw.urls["http"], timeout=10) as client:
        answers = await asyncio.gather(client.get("/slow"), client.get("/slow"))
    bodies = [answer.json() for answer in answers]
    assert bodies[0]["pid"] != bodies[1]["pid"]


@pytest.mark.parametrize("action", ["crash", "hog", "sleep"])
def test_a_dead_environment_is_a_500_and_the_next_request_gets_a_fresh_one(gw: RunningGateway, action: str) -> None:
    with httpx.Client(base_url=gw.urls["http"], timeout=10) as client:
        before = client.get("/solo/hello").json()
        failed = client.get(f"/solo/{action}")
        after = client.get("/solo/hello").json()
    assert (failed.status_code, failed.content) == (500, HTTP_500)
    assert after["pid"] != before["pid"] and (after["count"], after["visits"]) == (1, 1)
