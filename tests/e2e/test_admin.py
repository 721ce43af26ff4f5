"""The admin listener over real HTTP: GET /metrics after requests through a front."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gateway.config import GatewayConfig
from gateway.errors import ConfigError
from gateway.testing import RunningGateway, start_gateway
from tests.e2e.conftest import HANDLERS


def _mapping(**admin: Any) -> dict[str, Any]:
    return {
        "gateway": {"access_log": False},
        "functions": {
            "event": {"handler": "raw.echo_event", "code_uri": str(HANDLERS)},
            "boom": {"handler": "raw.boom", "code_uri": str(HANDLERS)},
        },
        "http_apis": [{"name": "web", "listen": "127.0.0.1:0", "routes": [
            {"route": "GET /event", "function": "event"}, {"route": "GET /boom", "function": "boom"}]}],
        "admin": admin,
    }


@pytest.fixture(scope="module")
def running() -> Iterator[RunningGateway]:
    config = GatewayConfig.from_mapping(_mapping(listen="127.0.0.1:0"))
    with start_gateway(config, log=lambda name, entry: None) as gateway:
        yield gateway


def test_metrics_over_http(running: RunningGateway) -> None:
    with httpx.Client(timeout=10) as client:
        for path in ("event", "event", "boom"):
            client.get(running.urls["web"] + path)
        answer = client.get(running.urls["admin"] + "metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    lines = answer.text.splitlines()
    assert 'lambda_gateway_invocations_total{function="event"} 2' in lines
    assert 'lambda_gateway_errors_total{function="event"} 0' in lines
    assert 'lambda_gateway_invocations_total{function="boom"} 1' in lines
    assert 'lambda_gateway_errors_total{function="boom"} 1' in lines
    assert 'lambda_gateway_cold_starts_total{function="event"} 1' in lines
    assert 'lambda_gateway_concurrent_executions{function="event"} 0' in lines
    assert 'lambda_gateway_duration_seconds_count{function="event"} 2' in lines
    assert any(line.startswith('lambda_gateway_duration_seconds{function="event",quantile="0.99"} ') for line in lines)


def test_other_paths_and_methods(running: RunningGateway) -> None:
    with httpx.Client(timeout=10) as client:
        missing = client.get(running.urls["admin"] + "nope")
        posted = client.post(running.urls["admin"] + "metrics")
    assert (missing.status_code, missing.text) == (404, "Not Found\n")
    assert (posted.status_code, posted.headers["allow"]) == (405, "GET")


def test_the_admin_listener_is_off_unless_configured() -> None:
    config = GatewayConfig.from_mapping(_mapping())
    assert [kind for kind, _ in config.fronts()] == ["http_api"]


def test_its_address_must_be_free() -> None:
    mapping = _mapping(listen="127.0.0.1:3000")
    mapping["http_apis"][0]["listen"] = "127.0.0.1:3000"
    with pytest.raises(ConfigError, match=r"^admin\.listen: 127\.0\.0\.1:3000 is already used by http_apis\[0\]$"):
        GatewayConfig.from_mapping(mapping)
