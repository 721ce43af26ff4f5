"""CloudFront Functions in a distribution over loopback: a real gateway (its own thread, ephemeral
port) in front of the real upstream of tests/edge/conftest.py, with the functions of tests/edge/cfjs/
at viewer-request and viewer-response. What the viewer gets and what the origin sees are checked
exactly; failures give CloudFront's statuses (502 validation, 503 execution) with the reason logged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

JS = Path(__file__).parent / "cfjs"


def _fn(path: str, event: str, js: str, runtime: str = "cloudfront-js-1.0", **extra: Any) -> dict[str, Any]:
    return {"path": path, "origin": "up", event: {"js": f"cfjs/{js}.js", "runtime": runtime, **extra}}


@pytest.fixture(scope="module")
def cf(upstream: str) -> Iterator[httpx.Client]:
    from gateway.config import GatewayConfig
    from gateway.testing import start_gateway

    vr, vp = "viewer_request", "viewer_response"
    behaviors = [
        _fn("/rewrite/*", vr, "url_rewrite"),
        _fn("/geo/*", vr, "redirect_country"),
        _fn("/secure/*", vp, "security_headers"),
        _fn("/cc/*", vp, "cache_control"),
        _fn("/tcip/*", vr, "true_client_ip"),
        _fn("/ab/*", vr, "ab_testing"),
        _fn("/old/*", vr, "kvs_rewrite", "cloudfront-js-2.0", kvs="cfjs/kvs.json"),
        _fn("/absent/*", vr, "kvs_rewrite", "cloudfront-js-2.0", kvs="cfjs/kvs.json"),
        _fn("/echo-req/*", vr, "echo_request"),
        _fn("/echo-resp/*", vp, "echo_response"),
        _fn("/mod/*", vr, "modify_request", "cloudfront-js-2.0"),
        _fn("/modresp/*", vp, "modify_response", "cloudfront-js-2.0"),
        {**_fn("/both/*", vr, "true_client_ip"), **_fn("/both/*", vp, "cache_control")},
        _fn("/eval/*", vr, "use_eval"),
        _fn("/function/*", vr, "use_function"),
        _fn("/timer/*", vr, "use_timer"),
        _fn("/loop/*", vr, "endless"),
        _fn("/alloc/*", vr, "allocate"),
        _fn("/throw/*", vp, "throws"),
        _fn("/str/*", vr, "returns_string"),
        _fn("/dis/*", vr, "disallowed_header"),
        _fn("/host/*", vr, "change_host"),
        _fn("/status/*", vr, "bad_status"),
        {"path": "*", "origin": "up"},
    ]
    config = GatewayConfig.from_mapping({"distributions": [{
        "name": "site", "listen": "127.0.0.1:0", "origins": [{"id": "up", "url": upstream}], "behaviors": behaviors,
    }]}, base_dir=JS.parent)
    with start_gateway(config, ephemeral_ports=True) as running, \
            httpx.Client(base_url=running.urls["site"].rstrip("/"), timeout=20) as client:
        yield client


def _origin_saw(r: httpx.Response) -> dict[str, Any]:
    """What the upstream echoed: its method, path, query and headers (lowercased names)."""
    seen: dict[str, Any] = r.json()
    seen["headers"] = {k.lower(): v for k, v in seen["headers"]}
    return seen


# -- AWS's examples through the distribution --------------------------------------------------------

def test_url_rewrite_reaches_the_origin_rewritten(cf: httpx.Client) -> None:
    r = cf.get("/rewrite/blog?x=1")
    assert r.status_code == 200 and r.headers["x-cache"] == "Miss from cloudfront"
    seen = _origin_saw(r)
    assert seen["path"] == "/rewrite/blog/index.html" and seen["query"] == "x=1"


def test_redirect_based_on_country(cf: httpx.Client) -> None:
    r = cf.get("/geo/page", headers={"CloudFront-Viewer-Country": "DE"})
    assert r.status_code == 302 and r.reason_phrase == "Found"
    assert r.headers["location"] == "https://www.example.com/de/index.html"
    assert r.headers["x-cache"] == "FunctionGeneratedResponse from cloudfront"
    assert r.content == b""
    other = cf.get("/geo/page", headers={"CloudFront-Viewer-Country": "FR"})
    assert other.status_code == 200 and _origin_saw(other)["path"] == "/geo/page"


def test_security_headers_on_the_viewer_response(cf: httpx.Client) -> None:
    r = cf.get("/secure/x")
    assert r.status_code == 200 and r.headers["x-upstream"] == "yes"
    assert r.headers["strict-transport-security"] == "max-age=63072000; includeSubdomains; preload"
    assert r.headers["content-security-policy"] == ("default-src 'none'; img-src 'self'; script-src 'self'; "
                                                    "style-src 'self'; object-src 'none'; frame-ancestors 'none'")
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-xss-protection"] == "1; mode=block" and r.headers["referrer-policy"] == "same-origin"
    assert _origin_saw(r)["path"] == "/secure/x"  # the body passes through


def test_cache_control_replaces_the_origins(cf: httpx.Client) -> None:
    r = cf.get("/cc/x")
    assert r.headers.get_list("cache-control") == ["public, max-age=63072000;"]


def test_true_client_ip_reaches_the_origin(cf: httpx.Client) -> None:
    seen = _origin_saw(cf.get("/tcip/x"))
    assert seen["headers"]["true-client-ip"] == "127.0.0.1"


def test_ab_testing_cookie(cf: httpx.Client) -> None:
    seen = _origin_saw(cf.get("/ab/x", headers={"Cookie": "x-experiment=b; other=1"}))
    assert seen["path"] == "/experiment-b/ab/x"
    assert seen["headers"]["cookie"] == "x-experiment=b; other=1"


def test_kvs_rewrite_and_its_console_log(cf: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gateway.edge.functions")
    assert _origin_saw(cf.get("/old/page"))["path"] == "/new/page"
    assert _origin_saw(cf.get("/absent/page"))["path"] == "/absent/page"
    lines = [r.getMessage() for r in caplog.records if r.name == "gateway.edge.functions"]
    assert lines == ["CloudFront Function kvs_rewrite: /old/page -> /new/page",
                     "CloudFront Function kvs_rewrite: /absent/page | Error: Key not found: absent"]


def test_both_viewer_events_run(cf: httpx.Client) -> None:
    r = cf.get("/both/x")
    assert _origin_saw(r)["headers"]["true-client-ip"] == "127.0.0.1"
    assert r.headers["cache-control"] == "public, max-age=63072000;"


# -- the events, field by field ---------------------------------------------------------------------

def test_viewer_request_event(cf: httpx.Client) -> None:
    r = cf.get("/echo-req/a%20b?x=1&x=2&flag&e=", headers=[
        ("Accept", "text/html"), ("X-Multi", "one"), ("X-Multi", "two"), ("Cookie", "a=1; b=2"), ("Cookie", "a=3"),
        ("X-Amz-Cf-Id", "viewer-sent")])
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.headers["x-cache"] == "FunctionGeneratedResponse from cloudfront"
    event = r.json()
    port = cf.base_url.port
    assert event == {
        "version": "1.0",
        "context": {"distributionDomainName": event["context"]["distributionDomainName"],
                    "distributionId": event["context"]["distributionId"], "eventType": "viewer-request",
                    "requestId": r.headers["x-amz-cf-id"]},
        "viewer": {"ip": "127.0.0.1"},
        "request": {
            "method": "GET", "uri": "/echo-req/a%20b",
            "querystring": {"x": {"value": "1", "multiValue": [{"value": "1"}, {"value": "2"}]},
                            "flag": {"value": ""}, "e": {"value": ""}},
            "headers": {"host": {"value": f"127.0.0.1:{port}"}, "accept-encoding": {"value": "gzip, deflate"},
                        "user-agent": {"value": f"python-httpx/{httpx.__version__}"},
                        "accept": {"value": "text/html"},
                        "x-multi": {"value": "one", "multiValue": [{"value": "one"}, {"value": "two"}]}},
            "cookies": {"a": {"value": "1", "multiValue": [{"value": "1"}, {"value": "3"}]}, "b": {"value": "2"}},
        },
    }
    context = event["context"]
    assert context["distributionDomainName"].endswith(".cloudfront.net") and context["distributionId"].startswith("E")


def test_viewer_response_event(cf: httpx.Client) -> None:
    r = cf.get("/echo-resp/x?q=1")
    event = r.json()
    assert event["context"]["eventType"] == "viewer-response"
    assert event["context"]["requestId"] == r.headers["x-amz-cf-id"]
    assert event["request"]["uri"] == "/echo-resp/x" and event["request"]["querystring"] == {"q": {"value": "1"}}
    response = event["response"]
    # the upstream's headers (the function had set content-type again before it serialised the event)
    assert response == {"statusCode": 200, "statusDescription": "OK", "cookies": {},
                        "headers": {"x-upstream": {"value": "yes"}, "cache-control": {"value": "max-age=60"},
                                    "content-type": {"value": "application/json"},
                                    "server": {"value": "hypercorn-h11"}}}


def test_viewer_response_does_not_run_for_origin_errors(cf: httpx.Client) -> None:
    r = cf.get("/echo-resp/status/500")
    assert r.status_code == 500 and _origin_saw(r)["path"] == "/echo-resp/status/500"  # the origin's body


def test_request_changes_reach_the_origin(cf: httpx.Client) -> None:
    r = cf.get("/mod/p?a=1&drop=x", headers=[("X-Multi", "m1"), ("X-Multi", "m2"), ("X-Remove", "r"),
                                              ("Cookie", "c=1")])
    seen = _origin_saw(r)
    assert seen["method"] == "GET"  # the method is read-only
    assert seen["path"] == "/changed/mod/p" and seen["query"] == "a=1&added=yes"
    headers = [(k.lower(), v) for k, v in r.json()["headers"]]
    assert [v for k, v in headers if k == "x-multi"] == ["first-changed", "m2"]
    assert [v for k, v in headers if k == "x-added"] == ["one", "two"]
    assert "x-remove" not in seen["headers"] and seen["headers"]["cookie"] == "c=1; session=abc"


def test_response_changes_reach_the_viewer(cf: httpx.Client) -> None:
    r = cf.get("/modresp/x")
    assert r.status_code == 201 and r.reason_phrase == "Created" and r.content == b"new body"
    assert r.headers["content-length"] == "8"
    assert r.headers.get_list("set-cookie") == ["theme=dark; Path=/; Secure", "pair=a; Path=/a", "pair=b"]
    assert r.headers["x-seen-status"] == "201"


# -- failures ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "reason"), [
    ("/eval/x", "CloudFront Function use_eval: execution error: EvalError: eval is not supported"),
    ("/function/x", "CloudFront Function use_function: execution error: EvalError: Function constructor is not"),
    ("/timer/x", "CloudFront Function use_timer: execution error: ReferenceError: 'setTimeout' is not defined"),
    ("/loop/x", "CloudFront Function endless: the function exceeded its compute budget (0.05 s)"),
    ("/alloc/x", "CloudFront Function allocate: the function exceeded its memory limit (2 MB)"),
    ("/throw/x", "CloudFront Function throws: execution error: Error: boom from the function"),
])
def test_execution_errors_are_503_with_the_reason_logged(
    cf: httpx.Client, caplog: pytest.LogCaptureFixture, path: str, reason: str
) -> None:
    r = cf.get(path)
    assert r.status_code == 503 and r.headers["x-cache"] == "Error from cloudfront"
    assert b"<H1>503 ERROR</H1>" in r.content
    assert any(reason in rec.getMessage() for rec in caplog.records if rec.name == "gateway.edge")
    assert cf.get("/tcip/x").status_code == 200  # the gateway is fine afterwards


@pytest.mark.parametrize(("path", "reason"), [
    ("/str/x", "viewer-request: the function must return the request or a response object"),
    ("/dis/x", "viewer-request: the function added the disallowed header 'x-cache'"),
    ("/host/x", "viewer-request: The function tried to add, delete, or change a read-only header."),
    ("/status/x", "viewer-request: statusCode 700 is outside 200-599"),
])
def test_validation_errors_are_502_with_the_reason_logged(
    cf: httpx.Client, caplog: pytest.LogCaptureFixture, path: str, reason: str
) -> None:
    r = cf.get(path)
    assert r.status_code == 502 and r.headers["x-cache"] == "Error from cloudfront"
    assert any(reason in rec.getMessage() for rec in caplog.records if rec.name == "gateway.edge")


def test_a_function_whose_runtime_is_json_safe(cf: httpx.Client) -> None:
    """A generated body is the function's exact bytes (UTF-8 text), with its own Content-Length."""
    r = cf.get("/echo-req/ü")
    assert json.loads(r.content)["request"]["uri"] == "/echo-req/%C3%BC"
    assert r.headers["content-length"] == str(len(r.content))
