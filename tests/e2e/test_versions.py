"""Fronts that name a version or an alias, and fronts of a function with no concurrency, over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.config import GatewayConfig
from gateway.testing import RunningGateway, start_gateway

APP = '''
import json
import os

MARK = {mark!r}

def handler(event, context):
    body = {{"mark": MARK, "version": context.function_version, "arn": context.invoked_function_arn,
             "env": os.environ["AWS_LAMBDA_FUNCTION_VERSION"]}}
    return {{"statusCode": 200, "body": json.dumps(body), "headers": {{"content-type": "application/json"}}}}
'''
ARN = "arn:aws:lambda:us-east-1:123456789012:function:app"


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    root = tmp_path_factory.mktemp("versions")
    for mark in ("latest", "v1", "v2"):
        (root / mark).mkdir()
        (root / mark / "lgw_e2e_versioned.py").write_text(APP.format(mark=mark))
    app = {"handler": "lgw_e2e_versioned.handler", "code_uri": "latest",
           "versions": {"1": {"code_uri": "v1"}, "2": {"code_uri": "v2"}},
           "aliases": {"live": {"version": "1"}}}
    config = GatewayConfig.from_mapping({
        "gateway": {"access_log": False},
        "functions": {"app": app, "off": {**app, "versions": {}, "aliases": {}, "reserved_concurrency": 0}},
        "http_apis": [{"name": "http", "listen": "127.0.0.1:0", "routes": [
            {"route": "GET /latest", "function": "app"},
            {"route": "GET /pinned", "function": "app:$LATEST"},
            {"route": "GET /live", "function": "app:live"},
            {"route": "GET /two", "function": "app:2"},
            {"route": "GET /off", "function": "off"},
        ]}],
        "function_urls": [{"function": "app:live", "listen": "127.0.0.1:0"},
                          {"function": "off", "listen": "127.0.0.1:0"}],
    }, base_dir=Path(root))
    with start_gateway(config, log=lambda name, line: None) as running:
        yield running


@pytest.mark.parametrize(("path", "mark", "version", "arn"), [
    ("latest", "latest", "$LATEST", ARN),
    ("pinned", "latest", "$LATEST", f"{ARN}:$LATEST"),
    ("live", "v1", "1", f"{ARN}:live"),
    ("two", "v2", "2", f"{ARN}:2"),
])
def test_http_api_routes_to_versions_and_aliases(
    gw: RunningGateway, path: str, mark: str, version: str, arn: str
) -> None:
    seen = httpx.get(gw.urls["http"] + path, timeout=30).json()
    assert seen == {"mark": mark, "version": version, "arn": arn, "env": version}


def test_function_url_of_an_alias(gw: RunningGateway) -> None:
    seen = json.loads(httpx.get(gw.urls["app:live-url"], timeout=30).content)
    assert (seen["mark"], seen["arn"]) == ("v1", f"{ARN}:live")


def test_reserved_zero_gets_each_fronts_throttle_answer(gw: RunningGateway) -> None:
    http = httpx.get(gw.urls["http"] + "off", timeout=30)
    assert (http.status_code, http.content) == (500, b'{"message":"Internal Server Error"}')
    url = httpx.get(gw.urls["off-url"], timeout=30)
    assert (url.status_code, url.content) == (429, b'{"Message":"Rate Exceeded."}')
