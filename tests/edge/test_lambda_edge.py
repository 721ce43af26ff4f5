"""Lambda@Edge at the four events over loopback: event shapes, return forms, validation, skip rules."""

from __future__ import annotations

import base64
import json
import time

import httpx


def _event(r: httpx.Response) -> dict[str, object]:
    return json.loads(base64.b64decode(r.headers["x-event"]))  # type: ignore[no-any-return]


def test_viewer_request_event_shape_and_generated_response(cf: httpx.Client) -> None:
    r = cf.get("/gen/a%20b?x=1&y", headers={"X-Thing": "one", "Connection": "keep-alive"})
    assert r.status_code == 200
    assert r.headers["x-cache"] == "LambdaGeneratedResponse from cloudfront"
    event = r.json()
    cf_ = event["Records"][0]["cf"]
    config = cf_["config"]
    assert config["eventType"] == "viewer-request"
    assert config["distributionDomainName"].endswith(".cloudfront.net")
    assert config["distributionId"].startswith("E") and config["requestId"] == r.headers["x-amz-cf-id"]
    request = cf_["request"]
    assert set(request) == {"clientIp", "headers", "method", "querystring", "uri"}
    assert request["uri"] == "/gen/a%20b" and request["querystring"] == "x=1&y" and request["method"] == "GET"
    assert request["clientIp"] == "127.0.0.1"
    assert request["headers"]["x-thing"] == [{"key": "X-Thing", "value": "one"}]
    assert "connection" not in request["headers"]  # disallowed headers are not exposed
    assert request["headers"]["host"][0]["value"].startswith("127.0.0.1:")
    assert "response" not in cf_


def test_origin_request_event_has_the_origin_and_viewer_response_still_runs(cf: httpx.Client, upstream: str) -> None:
    r = cf.get("/ogen/x")
    request = r.json()["Records"][0]["cf"]["request"]
    custom = request["origin"]["custom"]
    assert custom["domainName"] == "127.0.0.1" and custom["port"] == int(upstream.rsplit(":", 1)[1])
    assert custom["protocol"] == "http" and custom["path"] == ""
    assert custom["customHeaders"] == {"x-origin-secret": [{"key": "X-Origin-Secret", "value": "s3cr3t"}]}
    assert request["headers"]["host"][0]["value"] == upstream.removeprefix("http://")
    assert "via" in request["headers"] and "x-forwarded-for" in request["headers"]
    assert r.headers["x-hook-viewer-response"] == "1"  # generated at origin-request: viewer-response runs


def test_all_four_hooks_run_and_modify(cf: httpx.Client) -> None:
    r = cf.get("/mark/x")
    assert r.status_code == 200
    sent = {k.lower(): v for k, v in r.json()["headers"]}
    assert sent["x-hook-viewer-request"] == "1"
    assert sent["x-hook-origin-request"] == "1"  # added without a key: Title-Cased
    assert r.headers["x-hook-origin-response"] == "1" and r.headers["x-hook-viewer-response"] == "1"


def test_response_event_shapes(cf: httpx.Client) -> None:
    viewer = _event(cf.get("/vr-event/x"))["Records"][0]["cf"]  # type: ignore[index]
    assert viewer["config"]["eventType"] == "viewer-response"
    response = viewer["response"]
    assert response["status"] == "200" and response["statusDescription"] == "OK"
    assert response["headers"]["x-upstream"] == [{"key": "x-upstream", "value": "yes"}]
    assert "origin" not in viewer["request"]
    origin = _event(cf.get("/or-event/x"))["Records"][0]["cf"]  # type: ignore[index]
    assert origin["config"]["eventType"] == "origin-response" and "custom" in origin["request"]["origin"]


def test_viewer_response_is_skipped_for_origin_errors(cf: httpx.Client) -> None:
    r = cf.get("/vr-event/status/500")
    assert r.status_code == 500 and "x-event" not in r.headers
    assert "x-event" in cf.get("/or-event/status/500").headers  # origin-response runs for errors too


def test_origin_response_replaces_status_and_body(cf: httpx.Client) -> None:
    r = cf.get("/replace/x")
    assert r.status_code == 201 and r.content == b"replaced"


def test_viewer_response_cannot_change_the_status(cf: httpx.Client) -> None:
    r = cf.get("/vrstatus/x")
    assert r.status_code == 200 and r.headers["x-vr"] == "ran"


def test_include_body_gives_the_body_base64(cf: httpx.Client) -> None:
    r = cf.post("/body/x", content=b"hello edge")
    assert r.json() == {"data": "hello edge", "size": 10, "inputTruncated": False, "action": "read-only",
                        "encoding": "base64"}
    big = cf.post("/body/x", content=b"a" * (41 * 1024)).json()
    assert big["inputTruncated"] is True and big["size"] == 40 * 1024  # truncated at the viewer-side 40 KB


def test_replace_action_changes_the_body_the_origin_gets(cf: httpx.Client) -> None:
    assert cf.post("/rbody/x", content=b"old").json()["body"] == "new body"


def test_origin_switch_to_another_custom_origin(cf: httpx.Client, upstream: str) -> None:
    port = upstream.rsplit(":", 1)[1]
    doc = cf.get("/switch/x", headers={"X-Target-Port": port}).json()
    assert doc["raw_path"] == "/switched/switch/x"


def _is_cloudfront_error(r: httpx.Response, status: int) -> None:
    assert r.status_code == status, r.text
    assert r.headers["x-cache"] == "Error from cloudfront" and f"{status} ERROR" in r.text


def test_validation_failures_are_502(cf: httpx.Client) -> None:
    for path in ("/ro/x", "/dis/x", "/str/x", "/s700/x", "/b64/x", "/204/x"):
        _is_cloudfront_error(cf.get(path), 502)


def test_execution_errors_are_503(cf: httpx.Client) -> None:
    _is_cloudfront_error(cf.get("/boom/x"), 503)


def test_viewer_function_over_5_seconds_is_503(cf: httpx.Client) -> None:
    started = time.monotonic()
    _is_cloudfront_error(cf.get("/sleepy/x"), 503)
    assert time.monotonic() - started < 5.9
