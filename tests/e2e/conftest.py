"""One real gateway (hypercorn on ephemeral 127.0.0.1 ports) for the whole e2e session.

Fronts: a REST API (stage ``test``, binary media types), an HTTP API with ``$default`` (payload
2.0) and 1.0 routes, an HTTP API on the named stage ``dev``, two short-integration-timeout APIs,
one ALB whose rules send ``/single/*`` to single-value and ``/multi/*`` to multi-value target
groups, and one function URL per function. ``Gateway.url(kind, function, rest)`` gives the URL
that reaches ``function`` through ``kind``.
"""

from __future__ import annotations

import dataclasses
import http.cookiejar
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

HANDLERS = Path(__file__).parent / "handlers"

# The bytes handlers/asgi_echo.py and wsgi_echo.py answer with ``binary=1``; not valid UTF-8.
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))

# kind -> (front name, path prefix after the front's base URL; "{fn}" is the function)
KINDS: dict[str, tuple[str, str]] = {
    "rest": ("rest", "{fn}/"),
    "http": ("http", "{fn}/"),
    "http_v1": ("http", "v1/{fn}/"),
    "http_stage": ("http-dev", "{fn}/"),
    "alb_single": ("alb", "single/{fn}/"),
    "alb_multi": ("alb", "multi/{fn}/"),
    "url": ("{fn}-url", ""),
}
ALL_KINDS = list(KINDS)
# One of each front door (plus HTTP API payload 1.0) for the error tables.
FRONT_KINDS = ["rest", "http", "http_v1", "alb_single", "url"]


def write_project(tmp_path: Path, modules: dict[str, str], config: str) -> Path:
    """A user's project as ``gateway serve`` reads it: ``fn/<module>.py`` for each module's source, and
    ``gateway.toml`` (dedented ``config``). Returns the config's path."""
    (tmp_path / "fn").mkdir(exist_ok=True)
    for module, source in modules.items():
        (tmp_path / "fn" / f"{module}.py").write_text(source)
    path = tmp_path / "gateway.toml"
    path.write_text(textwrap.dedent(config))
    return path


def _fn(handler: str, **extra: Any) -> dict[str, Any]:
    return {"handler": handler, "code_uri": str(HANDLERS), "timeout": 10, **extra}


def _proxy(fn: str, prefix: str = "", version: str = "2.0") -> dict[str, Any]:
    return {"route": f"ANY /{prefix}{fn}/{{proxy+}}", "function": fn, "payload_format_version": version}


def config_mapping() -> dict[str, Any]:
    functions = {
        "asgi": _fn("asgi_echo.handler"),
        "wsgi": _fn("wsgi_echo.handler"),
        "event": _fn("raw.echo_event"),
        "garbage": _fn("raw.garbage"),
        "boom": _fn("raw.boom"),
        "slow": _fn("raw.slow", timeout=1),
        "slow5": _fn("raw.slow", timeout=5),
        "big": _fn("raw.big"),
        "logs": _fn("raw.logs"),
    }
    http_routes = [
        *(_proxy(fn) for fn in ("asgi", "wsgi", "event", "garbage", "big")),
        *(_proxy(fn, "v1/", "1.0") for fn in ("asgi", "wsgi", "event", "garbage", "boom", "slow", "big")),
        {"route": "GET /items/{id}", "function": "event"},
        {"route": "ANY /boom/{proxy+}", "function": "boom"},
        {"route": "ANY /slow/{proxy+}", "function": "slow"},
        {"route": "ANY /logs", "function": "logs"},
        {"route": "$default", "function": "event", "payload_format_version": "2.0"},
    ]
    rest_routes = [
        *({"method": "ANY", "path": f"/{fn}/{{proxy+}}", "function": fn}
          for fn in ("asgi", "wsgi", "event", "garbage", "boom", "slow", "big")),
        {"method": "GET", "path": "/event", "function": "event"},
        {"method": "GET", "path": "/items/{id}", "function": "event"},
        {"method": "POST", "path": "/post-only", "function": "event"},
        {"method": "ANY", "path": "/logs", "function": "logs"},
    ]
    alb_rules = []
    priority = 10
    for mode, multi in (("single", False), ("multi", True)):
        for fn in ("asgi", "wsgi", "event", "garbage", "boom", "slow", "big"):
            alb_rules.append({"priority": priority, "path": f"/{mode}/{fn}/*", "function": fn,
                              "multi_value_headers": multi, "target_group": f"{mode}-{fn}"})
            priority += 1
    return {
        "gateway": {"region": "us-east-1", "account_id": "123456789012", "access_log": False},
        "functions": functions,
        "rest_apis": [
            {"name": "rest", "listen": "127.0.0.1:0", "stage": "test",
             "binary_media_types": ["image/*", "application/octet-stream"], "routes": rest_routes},
            {"name": "rest-short", "listen": "127.0.0.1:0", "stage": "test", "integration_timeout": 0.5,
             "routes": [{"method": "ANY", "path": "/slow", "function": "slow5"}]},
        ],
        "http_apis": [
            {"name": "http", "listen": "127.0.0.1:0", "stage": "$default", "routes": http_routes},
            {"name": "http-dev", "listen": "127.0.0.1:0", "stage": "dev",
             "routes": [_proxy("asgi"), _proxy("wsgi"), _proxy("event"),
                        {"route": "GET /event", "function": "event"}]},
            {"name": "http-short", "listen": "127.0.0.1:0", "integration_timeout": 0.5,
             "routes": [{"route": "ANY /slow", "function": "slow5"}]},
        ],
        "albs": [{"name": "alb", "listen": "127.0.0.1:0", "rules": alb_rules}],
        "function_urls": [
            {"function": fn, "listen": "127.0.0.1:0"}
            for fn in ("asgi", "wsgi", "event", "garbage", "boom", "slow", "big")
        ],
    }


class LogBook:
    """The functions' log sink: keeps every (function, entry) and still prints it as the default sink does."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def __call__(self, function: str, entry: str) -> None:
        from gateway.functions.logs import stderr_sink

        with self.lock:
            self.entries.append((function, entry))
        stderr_sink(function, entry)

    def invocation(self, function: str, request_id: str, timeout: float = 5.0) -> list[str]:
        """The entries of one invocation, START to REPORT, waiting for the REPORT line."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                mine = [entry for fn, entry in self.entries if fn == function]
            starts = [i for i, e in enumerate(mine) if e.startswith(f"START RequestId: {request_id} ")]
            reports = [i for i, e in enumerate(mine) if e.startswith(f"REPORT RequestId: {request_id}\t")]
            if starts and reports:
                return mine[starts[0]:reports[-1] + 1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no START..REPORT for {request_id} in {mine[-20:]}")
            time.sleep(0.01)

    def last_request_id(self, function: str) -> str:
        with self.lock:
            starts = [e for fn, e in self.entries if fn == function and e.startswith("START RequestId: ")]
        return starts[-1].split()[2]


@dataclasses.dataclass
class Gateway:
    urls: dict[str, str]
    ports: dict[str, int]
    logs: LogBook

    def url(self, kind: str, fn: str, rest: str = "") -> str:
        """The URL that reaches ``fn`` through ``kind``; ``rest`` is appended as sent (not re-encoded)."""
        front, prefix = KINDS[kind]
        return self.urls[front.format(fn=fn)] + prefix.format(fn=fn) + rest

    def base(self, kind: str, fn: str) -> str:
        front, _ = KINDS[kind]
        return self.urls[front.format(fn=fn)]

    def port(self, kind: str, fn: str) -> int:
        front, _ = KINDS[kind]
        return self.ports[front.format(fn=fn)]

    def app_prefix(self, kind: str, fn: str) -> str:
        """The path prefix an app behind ``kind`` sees before the part the test chose.

        REST strips its stage (REST-7); a named HTTP API stage stays in the path (HV2-5)."""
        _, prefix = KINDS[kind]
        stage = "/dev" if kind == "http_stage" else ""
        return stage + "/" + prefix.format(fn=fn)


@pytest.fixture(scope="session")
def gw() -> Iterator[Gateway]:
    from gateway.config import GatewayConfig
    from gateway.testing import start_gateway

    config = GatewayConfig.from_mapping(config_mapping(), source="tests/e2e/conftest.py", base_dir=HANDLERS)
    logs = LogBook()
    with start_gateway(config, ephemeral_ports=True, log=logs) as running:
        yield Gateway(urls=dict(running.urls), ports=dict(running.ports), logs=logs)


@pytest.fixture(scope="session")
def client() -> Iterator[httpx.Client]:
    # A jar that accepts nothing: Set-Cookie answers must not leak into later requests.
    jar = http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    with httpx.Client(timeout=20.0, cookies=jar) as c:
        yield c
