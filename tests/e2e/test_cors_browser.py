"""CORS proven in a real browser: headless Debian Chromium, driven over the DevTools protocol.

A page served from one origin (a static server on 127.0.0.1, port A) fetches the gateway's HTTP
APIs and function URLs on other ports (other origins), each with its own ``cors`` table
(tests/e2e/cors_setup.py). The verdicts are the browser's own: ``fetch`` resolves or rejects in
the page, and Chromium's ``corsErrorStatus`` (Network.loadingFailed) names the rule that refused.

Runs in CI (.ci/run installs Debian's ``chromium``); skips, saying so, only where no Chromium is
installed.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from gateway.testing import RunningGateway, start_gateway
from tests.e2e.cdp import Browser, find_chromium
from tests.e2e.cors_setup import Invocations, cors_config

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium on this machine (Debian package 'chromium'; .ci/run installs it with apt-get): "
           "the browser proof of CORS did NOT run",
)

# The page's script: one fetch, its outcome as data. Headers not exposed read as null.
PAGE = b"""<!doctype html><html><head><meta charset="utf-8"><title>cors</title><script>
async function probe(url, init, read) {
  try {
    const r = await fetch(url, init);
    const out = {ok: true, status: r.status, body: await r.text(), headers: {}};
    for (const h of read) out.headers[h] = r.headers.get(h);
    return out;
  } catch (e) {
    return {ok: false, error: String(e)};
  }
}
</script></head><body>cors</body></html>"""


class PageHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        status, body = (200, PAGE) if self.path == "/" else (404, b"")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def page_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), PageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def gateway(page_server: str) -> Iterator[tuple[RunningGateway, Invocations]]:
    calls = Invocations()
    with start_gateway(cors_config(page_server), ephemeral_ports=True, log=calls) as gw:
        yield gw, calls


@pytest.fixture(scope="module")
def browser(page_server: str) -> Iterator[Browser]:
    assert CHROMIUM is not None
    chromium = Browser(CHROMIUM)
    try:
        chromium.call("Network.enable", session=chromium.session)
        chromium.goto(page_server + "/")
        yield chromium
    finally:
        chromium.close()


def fetch(browser: Browser, url: str, init: dict[str, Any] | None = None,
          read: tuple[str, ...] = ()) -> dict[str, Any]:
    result: dict[str, Any] = browser.evaluate(f"probe({json.dumps(url)}, {json.dumps(init or {})}, "
                                              f"{json.dumps(list(read))})")
    return result


def cors_error(browser: Browser, url: str) -> str | None:
    """Chromium's reason for refusing ``url`` (``corsErrorStatus.corsError``), from its Network events."""
    deadline = time.monotonic() + 5
    while True:
        ids = {e["params"]["requestId"] for e in browser.events
               if e["method"] == "Network.requestWillBeSent" and e["params"]["request"]["url"] == url}
        for e in browser.events:
            if e["method"] == "Network.loadingFailed" and e["params"]["requestId"] in ids:
                status = e["params"].get("corsErrorStatus")
                return str(status["corsError"]) if status else e["params"].get("errorText")
        if time.monotonic() > deadline:
            return None
        browser.evaluate("0")  # let pending events arrive


Gw = tuple[RunningGateway, Invocations]


def target(gw: Gw, front: str, path: str) -> str:
    return gw[0].urls[front] + path


def invoked(gw: Gw, before: int, expected: int) -> int:
    """How many invocations happened since ``before``, given time for ``expected`` log lines to arrive."""
    deadline = time.monotonic() + (2.0 if expected else 0.2)
    while gw[1].count("app") - before < max(expected, 1) and time.monotonic() < deadline:
        time.sleep(0.02)
    return gw[1].count("app") - before


# ------------------------------------------------------------------------------------------
# Allowed requests succeed; exposed headers are readable, others are not.


@pytest.mark.parametrize("front", ["cors-http", "app-url"])
def test_allowed_non_simple_request_succeeds(browser: Browser, gateway: Gw, front: str) -> None:
    url = target(gateway, front, "app/put")
    init = {"method": "PUT", "headers": {"x-allowed": "yes", "content-type": "application/json"}, "body": "{}"}
    if front == "app-url":  # the function URL's table allows x-allowed only
        init["headers"] = {"x-allowed": "yes"}
    out = fetch(browser, url, init, read=("x-request-id", "x-secret", "content-type"))
    assert out["ok"], out
    assert json.loads(out["body"]) == {"method": "PUT", "x-allowed": "yes"}
    assert out["headers"] == {"x-request-id": "req-1", "x-secret": None, "content-type": "application/json"}


def test_simple_get_succeeds(browser: Browser, gateway: Gw) -> None:
    out = fetch(browser, target(gateway, "cors-http", "only-get"), read=("x-request-id", "x-secret"))
    assert out["ok"] and out["status"] == 200, out
    assert out["headers"] == {"x-request-id": "req-1", "x-secret": None}


def test_http_api_ignores_the_functions_expose_headers(browser: Browser, gateway: Gw) -> None:
    # The function exposes x-secret itself; the HTTP API drops that (CORS-H2), so it stays hidden.
    out = fetch(browser, target(gateway, "cors-http", "app/own-cors"), read=("x-secret", "x-request-id"))
    assert out["ok"], out
    assert out["headers"] == {"x-secret": None, "x-request-id": "req-1"}


@pytest.mark.parametrize(("front", "path"), [("cors-http-creds", "app/creds"), ("app2-url", "creds")])
def test_credentialed_requests_succeed_where_credentials_are_allowed(
    browser: Browser, gateway: Gw, front: str, path: str
) -> None:
    init: dict[str, Any] = {"credentials": "include"}
    if front == "cors-http-creds":  # a non-simple one too: its preflight must carry the credentials header
        init.update(method="PUT", headers={"x-allowed": "yes"})
    out = fetch(browser, target(gateway, front, path), init)
    assert out["ok"], out


# ------------------------------------------------------------------------------------------
# Refused by the browser itself: fetch rejects although the gateway answered.


@pytest.mark.parametrize(("front", "path", "init", "reason"), [
    ("cors-http", "app/delete", {"method": "DELETE"}, "MethodDisallowedByPreflightResponse"),
    ("app-url", "delete", {"method": "DELETE"}, "MethodDisallowedByPreflightResponse"),
    ("cors-http", "app/header", {"headers": {"x-forbidden": "1"}}, "HeaderDisallowedByPreflightResponse"),
    ("app-url", "header", {"method": "PUT", "headers": {"content-type": "application/json"}},
     "HeaderDisallowedByPreflightResponse"),
    ("cors-http-other", "app/put", {"method": "PUT"}, "PreflightMissingAllowOriginHeader"),
])
def test_disallowed_preflighted_requests_never_reach_the_function(
    browser: Browser, gateway: Gw, front: str, path: str, init: dict[str, Any], reason: str
) -> None:
    url = target(gateway, front, path)
    before = gateway[1].count("app")
    out = fetch(browser, url, init)
    assert not out["ok"] and "Failed to fetch" in out["error"], out
    assert cors_error(browser, url) == reason
    assert invoked(gateway, before, 0) == 0


@pytest.mark.parametrize(("front", "path", "init", "reason"), [
    # A simple GET from an origin the API does not allow: the function answers, the page may not read it.
    ("cors-http-other", "app/simple", {}, "MissingAllowOriginHeader"),
    # Credentials where none are allowed: no Access-Control-Allow-Credentials.
    ("cors-http", "app/creds", {"credentials": "include"}, "InvalidAllowCredentials"),
    ("app-url", "creds", {"credentials": "include"}, "InvalidAllowCredentials"),
    # CORS-U2: the function's own Access-Control-Allow-Origin plus the configured one (O-PT4163).
    ("app-url", "own-cors", {}, "MultipleAllowOriginValues"),
])
def test_disallowed_responses_are_hidden_from_the_page(
    browser: Browser, gateway: Gw, front: str, path: str, init: dict[str, Any], reason: str
) -> None:
    url = target(gateway, front, path)
    before = gateway[1].count("app")
    out = fetch(browser, url, init)
    assert not out["ok"] and "Failed to fetch" in out["error"], out
    assert cors_error(browser, url) == reason
    assert invoked(gateway, before, 1) == 1  # the request went through; the browser hid the answer
