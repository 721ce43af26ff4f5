"""edge/events.py: pure conversions and CloudFront's validation rules (edge.md)."""

from __future__ import annotations

from typing import Any

import pytest

from edge.events import (
    EdgeRequest,
    EdgeResponse,
    EdgeValidationError,
    cf_config,
    from_cf_headers,
    parse_generated,
    parse_request_result,
    parse_response_result,
    request_event,
    response_event,
    title_case,
    to_cf_headers,
)

REQ = EdgeRequest(method="GET", uri="/a", querystring="x=1",
                  headers=(("Host", "d.cloudfront.net"), ("Accept", "a"), ("Accept", "b")),
                  body=b"hi", client_ip="203.0.113.9")
CONFIG = cf_config("viewer-request", domain="d.cloudfront.net", distribution_id="EDFDVBD6EXAMPLE", request_id="r")


def test_headers_are_lists_of_key_value_with_disallowed_left_out() -> None:
    assert to_cf_headers(REQ.headers) == {
        "host": [{"key": "Host", "value": "d.cloudfront.net"}],
        "accept": [{"key": "Accept", "value": "a"}, {"key": "Accept", "value": "b"}],
    }


def test_an_omitted_key_is_title_cased() -> None:
    assert title_case("user-agent") == "User-Agent"
    assert from_cf_headers({"x-my-header": [{"value": "v"}]}, "viewer-request") == (("X-My-Header", "v"),)


def test_request_event_with_include_body() -> None:
    event = request_event("viewer-request", REQ, CONFIG, include_body=True)
    request = event["Records"][0]["cf"]["request"]
    assert request["body"] == {"action": "read-only", "data": "aGk=", "encoding": "base64", "inputTruncated": False}
    assert request["clientIp"] == "203.0.113.9" and "origin" not in request


def test_response_event_status_is_a_string() -> None:
    event = response_event("viewer-response", REQ, EdgeResponse(status=404, status_description="Not Found"), CONFIG)
    assert event["Records"][0]["cf"]["response"] == {"headers": {}, "status": "404", "statusDescription": "Not Found"}


def _cf_request(**changes: Any) -> dict[str, Any]:
    request = request_event("viewer-request", REQ, CONFIG, include_body=False)["Records"][0]["cf"]["request"]
    request.update(changes)
    return request  # type: ignore[no-any-return]


def test_modified_request_keeps_what_was_not_returned() -> None:
    out = parse_request_result("viewer-request", {"uri": "/b", "querystring": "y=2"}, REQ)
    assert isinstance(out, EdgeRequest)
    assert (out.uri, out.querystring, out.headers, out.body) == ("/b", "y=2", REQ.headers, b"hi")


@pytest.mark.parametrize("result", [
    {"uri": "no-slash"},
    {"querystring": "a b"},
    {"querystring": "a#b"},
    {"uri": "/" + "a" * 8200},
    {"headers": {"host": [{"key": "Host", "value": "other"}]}},
    {"headers": {"host": [{"key": "Host", "value": "d.cloudfront.net"}], "via": [{"key": "Via", "value": "x"}]}},
    {"headers": {"x-amz-cf-foo": [{"key": "X-Amz-Cf-Foo", "value": "x"}]}},
    {"headers": {"accept": "not a list"}},
    {"body": {"action": "replace", "encoding": "base64", "data": "***"}},
], ids=lambda r: str(r)[:40])
def test_invalid_request_results(result: dict[str, Any]) -> None:
    merged = {**_cf_request(), **result}
    if "headers" in result and isinstance(result["headers"], dict) and "accept" not in result["headers"]:
        merged["headers"] = {**_cf_request()["headers"], **result["headers"]}
    with pytest.raises(EdgeValidationError):
        parse_request_result("viewer-request", merged, REQ)


def test_read_only_headers_differ_per_stage() -> None:
    # Host is read-only at viewer-request only; an origin-request function may set it.
    result = _cf_request(headers={**_cf_request()["headers"], "host": [{"key": "Host", "value": "o.example"}]})
    out = parse_request_result("origin-request", result, REQ)
    assert isinstance(out, EdgeRequest) and ("Host", "o.example") in out.headers


@pytest.mark.parametrize("result", [
    {"status": "199"}, {"status": "600"}, {"status": "abc"}, {"status": "204", "body": "x"},
    {"status": "200", "body": "***", "bodyEncoding": "base64"},
    {"status": "200", "body": "x" * (41 * 1024)},
    {"status": "200", "headers": {"x-cache": [{"key": "X-Cache", "value": "Hit"}]}},
])
def test_invalid_generated_responses(result: dict[str, Any]) -> None:
    with pytest.raises(EdgeValidationError):
        parse_generated("viewer-request", result)


def test_generated_response_limits_differ_per_side() -> None:
    big = {"status": "200", "body": "x" * (41 * 1024)}
    assert parse_generated("origin-request", big).body == b"x" * (41 * 1024)
    out = parse_generated("viewer-request", {"status": 302, "headers": {"location": [{"value": "/x"}]}})
    assert (out.status, out.headers, out.generated) == (302, (("Location", "/x"),), True)


def test_response_results() -> None:
    before = EdgeResponse(status=200, headers=(("Via", "1.1 x"), ("ETag", "e")), body=b"origin")
    kept = parse_response_result("origin-response", {"status": "503", "headers": to_cf_headers(before.headers)},
                                 before)
    assert (kept.status, kept.body) == (503, b"origin")
    viewer = parse_response_result("viewer-response", {"status": "201"}, before)
    assert viewer.status == 200
    with pytest.raises(EdgeValidationError):
        parse_response_result("origin-response", {"status": "200", "headers": {}}, before)  # Via removed
    with pytest.raises(EdgeValidationError):
        parse_response_result("viewer-response", {"headers": {**to_cf_headers(before.headers),
                                                              "warning": [{"value": "x"}]}}, before)
