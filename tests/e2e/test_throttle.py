"""Queueing and throttling of in-process functions, as each front answers a Lambda throttle.

An in-process environment runs one invocation at a time; ``max_queued_requests`` more may wait. With
it at 1, three simultaneous requests give: one running, one queued (served after it), one throttled.
REST answers a Lambda rejection with 500 (2.E, D-L-APIGW), HTTP API 500 (4.E [INF]), function URLs
429 (URL-10, D-URL-CFG), ALB 502 (6.E).
"""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.config import GatewayConfig
from gateway.testing import RunningGateway, start_gateway

SLOW = '''
import time

def handler(event, context):
    time.sleep(0.6)
    return {"statusCode": 200, "body": "done", "isBase64Encoded": False, "headers": {}}
'''

KINDS = {"rest": "x", "http": "x", "url": "x", "alb": "x"}


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    code = tmp_path_factory.mktemp("slow")
    (code / "slow.py").write_text(textwrap.dedent(SLOW))
    functions = {kind: {"handler": "slow.handler", "code_uri": str(code), "timeout": 10, "isolation": "inprocess"}
                 for kind in KINDS}
    config = GatewayConfig.from_mapping({
        "gateway": {"max_queued_requests": 1, "access_log": False},
        "functions": functions,
        "rest_apis": [{"name": "rest", "listen": "127.0.0.1:0", "stage": "s",
                       "routes": [{"method": "ANY", "path": "/{proxy+}", "function": "rest"}]}],
        "http_apis": [{"name": "http", "listen": "127.0.0.1:0", "routes": [{"route": "$default", "function": "http"}]}],
        "function_urls": [{"function": "url", "listen": "127.0.0.1:0"}],
        "albs": [{"name": "alb", "listen": "127.0.0.1:0", "rules": [{"priority": 1, "path": "/*", "function": "alb"}]}],
    }, base_dir=Path(code))
    with start_gateway(config, log=lambda name, line: None) as running:
        yield running


EXPECTED = {
    "rest": (500, b'{"message": "Internal server error"}'),
    "http": (500, b'{"message":"Internal Server Error"}'),
    "url": (429, b'{"Message":"Rate Exceeded."}'),
    "alb": (502, None),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
async def test_one_runs_one_queues_one_is_throttled(gw: RunningGateway, kind: str) -> None:
    name = "url-url" if kind == "url" else kind
    url = gw.urls[name] + KINDS[kind]
    async with httpx.AsyncClient(timeout=30) as client:
        first = asyncio.create_task(client.get(url))
        await asyncio.sleep(0.15)  # the first is running
        second = asyncio.create_task(client.get(url))
        await asyncio.sleep(0.15)  # the second waits in the queue
        third = await client.get(url)
        responses = [await first, await second]
    assert [(r.status_code, r.content) for r in responses] == [(200, b"done"), (200, b"done")]
    status, body = EXPECTED[kind]
    assert third.status_code == status
    if body is not None:
        assert third.content == body
    else:
        assert b"502 Bad Gateway" in third.content
