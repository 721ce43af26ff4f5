"""The events the fronts build, captured by a handler that answers with its event.

Every event validates against the aws-lambda-powertools parser model of its kind, and the
fields the rules pin down are checked exactly per kind (rule ids: shared/reference/http-events.md).
"""

from __future__ import annotations

import base64
import calendar
import re
import time
import uuid
from typing import Any

import httpx
import pytest
from aws_lambda_powertools.utilities.parser.models import (
    AlbModel,
    APIGatewayProxyEventModel,
    APIGatewayProxyEventV2Model,
    LambdaFunctionUrlModel,
)

from tests.e2e.conftest import ALL_KINDS, PNG, Gateway

MODELS: dict[str, Any] = {
    "rest": APIGatewayProxyEventModel,
    "http_v1": APIGatewayProxyEventModel,
    "http": APIGatewayProxyEventV2Model,
    "http_stage": APIGatewayProxyEventV2Model,
    "url": LambdaFunctionUrlModel,
    "alb_single": AlbModel,
    # powertools' AlbModel requires `headers` and `queryStringParameters`, which multi-value mode
    # never sends (ALB-0); it has no multi-value model, so those events are checked by hand below.
    "alb_multi": None,
}

TRACE_ID = re.compile(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}")
REQUEST_TIME = re.compile(r"\d{2}/(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/\d{4}:\d{2}:\d{2}:\d{2} \+0000")
SHORT_ID = re.compile(r"[A-Za-z0-9_=-]{16}")
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")

QUERY = "multi=1&multi=2&enc=a%2Fb&plus=a+b&empty="

REQUESTS: dict[str, dict[str, Any]] = {
    "get-plain": {"method": "GET", "rest": "plain"},
    "get-query-cookies-repeats": {
        "method": "GET", "rest": f"a%20b/c?{QUERY}",
        "headers": [("Cookie", "a=1; b=2"), ("X-Multi", "one"), ("X-Multi", "two")],
    },
    "post-json": {"method": "POST", "rest": "json", "content": b'{"k": "v"}',
                  "headers": [("Content-Type", "application/json")]},
    "post-binary": {"method": "POST", "rest": "bin", "content": PNG,
                    "headers": [("Content-Type", "application/octet-stream")]},
    "post-form": {"method": "POST", "rest": "form", "content": b"a=1&b=2",
                  "headers": [("Content-Type", "application/x-www-form-urlencoded")]},
    "delete-trailing-slash": {"method": "DELETE", "rest": "x/"},
}


def capture(gw: Gateway, client: httpx.Client, kind: str, rest: str, method: str = "GET",
            **kwargs: Any) -> tuple[httpx.Response, dict[str, Any]]:
    response = client.request(method, gw.url(kind, "event", rest), **kwargs)
    assert response.status_code == 200, response.text
    return response, response.json()


def _headers(event: dict[str, Any]) -> dict[str, Any]:
    return event.get("headers") or event.get("multiValueHeaders") or {}


# ------------------------------------------------------------------------------------------
# Every kind, a variety of requests: the powertools model accepts the event.


@pytest.mark.parametrize("name", REQUESTS)
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_event_validates_against_powertools_model(gw: Gateway, client: httpx.Client, kind: str, name: str) -> None:
    spec = dict(REQUESTS[name])
    _, event = capture(gw, client, kind, spec.pop("rest"), **spec)
    model = MODELS[kind]
    if model is None:
        assert set(event) >= {"requestContext", "httpMethod", "path", "multiValueHeaders",
                              "multiValueQueryStringParameters", "body", "isBase64Encoded"}
        assert event.get("headers") is None and event.get("queryStringParameters") is None  # ALB-0
        return
    parsed = model.model_validate(event)
    assert parsed is not None


# ------------------------------------------------------------------------------------------
# Common: fresh ids and times (C-4), forwarding and trace headers.


def _request_id(kind: str, event: dict[str, Any]) -> str | None:
    return None if kind.startswith("alb") else event["requestContext"]["requestId"]


def _epoch_ms(kind: str, event: dict[str, Any]) -> int:
    ctx = event["requestContext"]
    epoch_ms: int = ctx["requestTimeEpoch"] if kind in ("rest", "http_v1") else ctx["timeEpoch"]
    return epoch_ms


@pytest.mark.parametrize("kind", [k for k in ALL_KINDS if not k.startswith("alb")])
def test_fresh_request_id_and_time_on_every_request(gw: Gateway, client: httpx.Client, kind: str) -> None:
    """C-4: times as dd/MMM/yyyy:HH:mm:ss +0000 and integer epoch milliseconds; new ids every time."""
    before = int(time.time() * 1000)
    _, first = capture(gw, client, kind, "one")
    _, second = capture(gw, client, kind, "two")
    after = int(time.time() * 1000)
    assert _request_id(kind, first) != _request_id(kind, second)
    for event in (first, second):
        ctx = event["requestContext"]
        epoch = _epoch_ms(kind, event)
        assert isinstance(epoch, int) and before - 1000 <= epoch <= after + 1000
        text = ctx["requestTime"] if kind in ("rest", "http_v1") else ctx["time"]
        assert REQUEST_TIME.fullmatch(text), text
        # The text is the same instant as the epoch, to the second.
        assert calendar.timegm(time.strptime(text, "%d/%b/%Y:%H:%M:%S +0000")) == epoch // 1000
        request_id = _request_id(kind, event)
        if kind in ("http", "http_stage", "http_v1"):
            assert SHORT_ID.fullmatch(request_id or ""), request_id  # HV2-6
        else:
            assert UUID4.fullmatch(request_id or ""), request_id  # REST-6, URL-6
            uuid.UUID(request_id)


def _header_name(kind: str, lower: str) -> str:
    """REST canonicalises the names AWS adds to Title-Case (REST-2). HTTP API payload 1.0 writes
    them the same way in every captured event (gateway/events/http_v1.py, [CAP] against HV1-2's
    "lowercased"); the other kinds lowercase every name."""
    if kind not in ("rest", "http_v1"):
        return lower
    return "-".join(part.capitalize() for part in lower.split("-"))


def _one(kind: str, event: dict[str, Any], lower: str) -> str:
    value = _headers(event)[_header_name(kind, lower)]
    one: str = value[0] if isinstance(value, list) else value
    return one


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_forwarding_and_trace_headers_are_added(gw: Gateway, client: httpx.Client, kind: str) -> None:
    """REST-2, HV2-2, URL-2, ALB-10: x-forwarded-for/port/proto and an X-Ray x-amzn-trace-id."""
    _, first = capture(gw, client, kind, "fwd")
    _, second = capture(gw, client, kind, "fwd")
    for event in (first, second):
        # Locally the client reaches the front over plain HTTP on its own port; AWS would say 443/https.
        assert _one(kind, event, "x-forwarded-for") == "127.0.0.1"
        assert _one(kind, event, "x-forwarded-proto") == "http"
        assert _one(kind, event, "x-forwarded-port") == str(gw.port(kind, "event"))
        assert TRACE_ID.fullmatch(_one(kind, event, "x-amzn-trace-id"))
    trace = _header_name(kind, "x-amzn-trace-id")
    assert _headers(first)[trace] != _headers(second)[trace]


@pytest.mark.parametrize("kind", ["rest", "alb_single", "alb_multi"])
def test_x_forwarded_for_is_appended_to(gw: Gateway, client: httpx.Client, kind: str) -> None:
    """REST-2 and ALB: the client IP is appended to an X-Forwarded-For the client sent."""
    _, event = capture(gw, client, kind, "xff", headers={"X-Forwarded-For": "10.0.0.1"})
    value = _headers(event)[_header_name(kind, "x-forwarded-for")]
    assert value == (["10.0.0.1, 127.0.0.1"] if kind == "alb_multi" else "10.0.0.1, 127.0.0.1")


@pytest.mark.parametrize("kind", [
    "rest", "http", "http_v1", "url",
])
def test_service_headers_on_success(gw: Gateway, client: httpx.Client, kind: str) -> None:
    """Headers AWS adds to every answer, matching the event: REST-R6 (x-amzn-RequestId, x-amz-apigw-id,
    X-Amzn-Trace-Id), HTTP API apigw-requestid (4.E, O-CX1225), URL-R3 (x-amzn-RequestId = the Lambda
    request id, URL-6, and x-amzn-Trace-Id)."""
    response, event = capture(gw, client, kind, "rid")
    request_id = event["requestContext"]["requestId"]
    if kind in ("http", "http_v1"):
        assert response.headers.get_list("apigw-requestid") == [request_id]
        return
    assert response.headers.get_list("x-amzn-requestid") == [request_id]
    assert response.headers.get_list("x-amzn-trace-id") == [_one(kind, event, "x-amzn-trace-id")]
    if kind == "rest":
        assert response.headers["x-amz-apigw-id"] == event["requestContext"]["extendedRequestId"]
    else:
        assert response.headers["x-lambda-request-id"] == request_id


# ------------------------------------------------------------------------------------------
# REST API (section 2).


def test_rest_header_case_and_canonical_names(gw: Gateway, client: httpx.Client) -> None:
    """REST-2: header names keep the client's case over HTTP/1.1, except the names AWS canonicalises."""
    _, event = capture(gw, client, "rest", "case", headers=[
        ("tEsT-HEADeR", "aValUE"), ("aUThorization", "Bearer x"), ("user-agent", "e2e-agent"),
    ])
    headers, multi = event["headers"], event["multiValueHeaders"]
    assert headers["tEsT-HEADeR"] == "aValUE"
    assert multi["tEsT-HEADeR"] == ["aValUE"]
    assert headers["Authorization"] == "Bearer x"
    assert headers["User-Agent"] == "e2e-agent"
    assert "Host" in headers
    assert not {"test-header", "aUThorization", "authorization", "user-agent", "host"} & set(headers)
    assert event["requestContext"]["identity"]["userAgent"] == "e2e-agent"
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"


def test_rest_repeats_query_path_and_resource(gw: Gateway, client: httpx.Client) -> None:
    """REST-1/3/4/5/7."""
    _, event = capture(gw, client, "rest", f"a%20b/c?{QUERY}",
                       headers=[("X-Multi", "one"), ("X-Multi", "two"), ("Cookie", "a=1; b=2")])
    assert "version" not in event  # REST-1
    assert event["headers"]["X-Multi"] == "two"
    assert event["multiValueHeaders"]["X-Multi"] == ["one", "two"]
    assert set(event["headers"]) == set(event["multiValueHeaders"])
    assert event["headers"]["Cookie"] == "a=1; b=2"
    assert event["queryStringParameters"] == {"multi": "2", "enc": "a/b", "plus": "a b", "empty": ""}
    assert event["multiValueQueryStringParameters"] == {
        "multi": ["1", "2"], "enc": ["a/b"], "plus": ["a b"], "empty": [""]}
    assert event["path"] == "/event/a%20b/c"
    assert event["resource"] == "/event/{proxy+}"
    assert event["pathParameters"] == {"proxy": "a%20b/c"}
    assert event["stageVariables"] is None
    ctx = event["requestContext"]
    assert ctx["path"] == "/test/event/a%20b/c"
    assert ctx["resourcePath"] == "/event/{proxy+}"
    assert ctx["stage"] == "test"
    assert ctx["httpMethod"] == "GET"
    assert ctx["protocol"] == "HTTP/1.1"
    assert ctx["accountId"] == "123456789012"
    assert event["body"] is None
    assert event["isBase64Encoded"] is False


def test_rest_nulls_without_query_parameters_or_body(gw: Gateway, client: httpx.Client) -> None:
    """REST-1: absent values are null, never {}; a resource without a template has null pathParameters."""
    response = client.get(gw.base("rest", "event") + "event")
    assert response.status_code == 200
    event = response.json()
    for key in ("queryStringParameters", "multiValueQueryStringParameters", "pathParameters",
                "stageVariables", "body"):
        assert key in event and event[key] is None, key
    assert event["resource"] == "/event"
    assert event["path"] == "/event"


def test_rest_path_parameter_and_trailing_slash(gw: Gateway, client: httpx.Client) -> None:
    """REST-5: {id} cut from the encoded path; {proxy+} drops the trailing slash, path keeps it."""
    response = client.get(gw.base("rest", "event") + "items/4%202")
    event = response.json()
    assert event["resource"] == "/items/{id}"
    assert event["pathParameters"] == {"id": "4%202"}
    _, event = capture(gw, client, "rest", "deep/x/")
    assert event["path"] == "/event/deep/x/"
    assert event["pathParameters"] == {"proxy": "deep/x"}


@pytest.mark.parametrize(("ctype", "binary"), [
    ("application/octet-stream", True), ("image/png", True), ("application/json", False), ("text/plain", False),
])
def test_rest_body_base64_only_for_binary_media_types(gw: Gateway, client: httpx.Client, ctype: str,
                                                      binary: bool) -> None:
    """REST-9 (binary_media_types = image/*, application/octet-stream); REST-2: no Content-Length."""
    body = b'{"k": "v"}'
    _, event = capture(gw, client, "rest", "body", method="POST", content=body, headers={"Content-Type": ctype})
    assert event["isBase64Encoded"] is binary
    assert event["body"] == (base64.b64encode(body).decode() if binary else body.decode())
    assert not {k for k in event["headers"] if k.lower() == "content-length"}


# ------------------------------------------------------------------------------------------
# HTTP API payload 2.0 (section 4) and 1.0 (section 3).


def test_http_v2_cookies_headers_query_path(gw: Gateway, client: httpx.Client) -> None:
    """HV2-2/3/4/5: cookies moved out of the headers (several Cookie lines merged), lowercase
    names, repeats joined with ",", rawQueryString verbatim, rawPath decoded."""
    _, event = capture(gw, client, "http", f"a%20b/c?{QUERY}", headers=[
        ("Cookie", "a=1; b=2"), ("Cookie", "c=3"), ("X-Multi", "one"), ("X-Multi", "two"), ("tEsT-HEADeR", "aValUE"),
    ])
    assert event["version"] == "2.0"
    assert event["cookies"] == ["a=1", "b=2", "c=3"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-multi"] == "one,two"
    assert event["headers"]["test-header"] == "aValUE"
    assert all(name == name.lower() for name in event["headers"])
    assert event["rawQueryString"] == QUERY
    assert event["queryStringParameters"] == {"multi": "1,2", "enc": "a/b", "plus": "a b", "empty": ""}
    assert event["rawPath"] == "/event/a b/c"
    assert event["requestContext"]["http"]["path"] == "/event/a b/c"
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "ANY /event/{proxy+}"
    assert event["pathParameters"] == {"proxy": "a b/c"}
    assert event["requestContext"]["stage"] == "$default"
    assert event["requestContext"]["http"]["method"] == "GET"
    assert event["requestContext"]["http"]["sourceIp"] == "127.0.0.1"
    assert event["isBase64Encoded"] is False


def test_http_v2_omits_empty_keys(gw: Gateway, client: httpx.Client) -> None:
    """HV2-1: no cookies/query/body/pathParameters/stageVariables keys when there are none."""
    response = client.get(gw.urls["http"] + "nothing/matches/but/default")
    event = response.json()
    assert event["routeKey"] == "$default"
    for key in ("cookies", "queryStringParameters", "body", "pathParameters", "stageVariables",
                "multiValueHeaders", "multiValueQueryStringParameters"):
        assert key not in event, key
    assert event["rawQueryString"] == ""
    assert event["isBase64Encoded"] is False


def test_http_v2_route_parameter(gw: Gateway, client: httpx.Client) -> None:
    """HV2-5: routeKey as defined and decoded path parameters."""
    event = client.get(gw.urls["http"] + "items/4%202").json()
    assert event["routeKey"] == "GET /items/{id}"
    assert event["pathParameters"] == {"id": "4 2"}


def test_http_named_stage_stays_in_raw_path(gw: Gateway, client: httpx.Client) -> None:
    """HV2-5: on a named stage rawPath and http.path include it; requestContext.stage names it."""
    _, event = capture(gw, client, "http_stage", "x")
    assert event["rawPath"] == "/dev/event/x"
    assert event["requestContext"]["http"]["path"] == "/dev/event/x"
    assert event["requestContext"]["stage"] == "dev"


@pytest.mark.parametrize(("ctype", "binary"), [
    ("application/json", False), ("text/plain; charset=utf-8", False), ("application/xml", False),
    ("application/javascript", False), ("application/x-www-form-urlencoded", True),
    ("multipart/form-data; boundary=x", True), ("application/octet-stream", True), (None, True),
])
@pytest.mark.parametrize("kind", ["http", "url"])
def test_http_v2_and_url_text_binary_split(gw: Gateway, client: httpx.Client, kind: str, ctype: str | None,
                                           binary: bool) -> None:
    """HV2-9 / URL-9: text only for text/*, json, xml, javascript; everything else (and no type) base64."""
    body = b"a=1&b=2"
    headers = {"Content-Type": ctype} if ctype else {}
    _, event = capture(gw, client, kind, "body", method="POST", content=body, headers=headers)
    assert event["isBase64Encoded"] is binary
    assert event["body"] == (base64.b64encode(body).decode() if binary else body.decode())
    assert event["headers"]["content-length"] == str(len(body))


def test_http_v1_event(gw: Gateway, client: httpx.Client) -> None:
    """HV1-1..5: REST keys plus version 1.0, lowercase names, decoded path, last value in single maps."""
    _, event = capture(gw, client, "http_v1", f"a%20b/c?{QUERY}",
                       headers=[("X-Multi", "one"), ("X-Multi", "two"), ("tEsT-HEADeR", "aValUE")])
    assert event["version"] == "1.0"
    # HV1-2: client names lowercased; the names AWS adds keep the captured spelling [CAP].
    assert event["headers"]["test-header"] == "aValUE"
    assert "tEsT-HEADeR" not in event["headers"]
    assert event["headers"]["X-Forwarded-For"] == "127.0.0.1"
    assert event["headers"]["x-multi"] == "two"
    assert event["multiValueHeaders"]["x-multi"] == ["one", "two"]
    assert event["queryStringParameters"] == {"multi": "2", "enc": "a/b", "plus": "a b", "empty": ""}
    assert event["multiValueQueryStringParameters"]["multi"] == ["1", "2"]
    assert event["path"] == "/v1/event/a b/c"
    assert event["body"] is None
    assert event["isBase64Encoded"] is False


# ------------------------------------------------------------------------------------------
# Function URLs (section 5).


def test_url_event(gw: Gateway, client: httpx.Client) -> None:
    """URL-2/3/4/5/6: cookie header kept and cookies[]; rawPath encoded, http.path decoded;
    placeholder route key and stage; url-id based ids; TLS headers."""
    response, event = capture(gw, client, "url", f"a%20b/c?{QUERY}",
                              headers=[("Cookie", "a=1; b=2"), ("X-Multi", "one"), ("X-Multi", "two")])
    assert event["version"] == "2.0"
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["headers"]["cookie"] == "a=1; b=2"
    assert event["headers"]["x-multi"] == "one,two"
    assert event["rawPath"] == "/a%20b/c"
    assert event["requestContext"]["http"]["path"] == "/a b/c"
    assert event["rawQueryString"] == QUERY
    assert event["queryStringParameters"] == {"multi": "1,2", "enc": "a/b", "plus": "a b", "empty": ""}
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "$default"
    assert event["requestContext"]["stage"] == "$default"
    assert event.get("pathParameters") is None and event.get("stageVariables") is None
    ctx = event["requestContext"]
    assert ctx["accountId"] == "anonymous"
    assert re.fullmatch(r"[a-z0-9]{32}", ctx["apiId"])
    assert ctx["domainPrefix"] == ctx["apiId"]
    assert ctx["domainName"] == f"{ctx['apiId']}.lambda-url.us-east-1.on.aws"
    assert ctx.get("authorizer") is None
    assert event["headers"]["x-amzn-tls-version"]
    assert event["headers"]["x-amzn-tls-cipher-suite"]
    assert response.headers["x-lambda-request-id"] == ctx["requestId"]


def test_url_invalid_escape_left_alone(gw: Gateway, client: httpx.Client) -> None:
    """URL-5: an invalid escape stays as it was in http.path (/pa2%Fth/1)."""
    _, event = capture(gw, client, "url", "pa2%Fth/1")
    assert event["rawPath"] == "/pa2%Fth/1"
    assert event["requestContext"]["http"]["path"] == "/pa2%Fth/1"


# ------------------------------------------------------------------------------------------
# ALB (section 6).


def test_alb_single_query_not_decoded_and_last_values(gw: Gateway, client: httpx.Client) -> None:
    """ALB-2/4/5/6: lowercase names, last repeated header and query value, query exactly as sent,
    path encoded, requestContext only the target group."""
    _, event = capture(gw, client, "alb_single", f"a%20b/c?{QUERY}&redirect=https%3A%2F%2Fexample.com%2Fa",
                       headers=[("X-Multi", "one"), ("X-Multi", "two"), ("Cookie", "a=1; b=2")])
    assert event["queryStringParameters"] == {
        "multi": "2", "enc": "a%2Fb", "plus": "a+b", "empty": "", "redirect": "https%3A%2F%2Fexample.com%2Fa"}
    assert event["headers"]["x-multi"] == "two"
    assert event["headers"]["cookie"] == "a=1; b=2"
    assert all(name == name.lower() for name in event["headers"])
    assert event.get("multiValueHeaders") is None and event.get("multiValueQueryStringParameters") is None
    assert event["path"] == "/single/event/a%20b/c"
    assert event["httpMethod"] == "GET"
    assert event["body"] == ""
    assert event["isBase64Encoded"] is False
    assert list(event["requestContext"]) == ["elb"]
    assert list(event["requestContext"]["elb"]) == ["targetGroupArn"]
    assert re.fullmatch(r"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/single-event/[0-9a-f]{16}",
                        event["requestContext"]["elb"]["targetGroupArn"])
    for key in ("version", "resource", "pathParameters", "stageVariables", "cookies", "rawPath"):
        assert key not in event, key


def test_alb_multi_lists(gw: Gateway, client: httpx.Client) -> None:
    """ALB-0/2/4: multi-value mode sends only the list maps, values in order, still not decoded."""
    _, event = capture(gw, client, "alb_multi", f"x?{QUERY}", headers=[("X-Multi", "one"), ("X-Multi", "two")])
    assert event["multiValueQueryStringParameters"] == {
        "multi": ["1", "2"], "enc": ["a%2Fb"], "plus": ["a+b"], "empty": [""]}
    assert event["multiValueHeaders"]["x-multi"] == ["one", "two"]
    assert event.get("headers") is None and event.get("queryStringParameters") is None


def test_alb_single_keeps_the_last_cookie_header(gw: Gateway, client: httpx.Client) -> None:
    """ALB-2: "the load balancer uses the last value that it receives" -- two Cookie lines, the last one."""
    _, event = capture(gw, client, "alb_single", "cookies", headers=[("Cookie", "a=1; b=2"), ("Cookie", "c=3")])
    assert event["headers"]["cookie"] == "c=3"
    _, event = capture(gw, client, "alb_multi", "cookies", headers=[("Cookie", "a=1; b=2"), ("Cookie", "c=3")])
    assert event["multiValueHeaders"]["cookie"] == ["a=1; b=2", "c=3"]


@pytest.mark.parametrize("kind", ["alb_single", "alb_multi"])
def test_alb_no_query_is_empty_object(gw: Gateway, client: httpx.Client, kind: str) -> None:
    """ALB-4: no query -> {} (not null)."""
    _, event = capture(gw, client, kind, "noquery")
    key = "multiValueQueryStringParameters" if kind == "alb_multi" else "queryStringParameters"
    assert event[key] == {}


@pytest.mark.parametrize(("headers", "binary"), [
    ({"Content-Type": "application/json"}, False),
    ({"Content-Type": "text/plain"}, False),
    ({"Content-Type": "application/octet-stream"}, True),
    ({}, True),
    ({"Content-Type": "application/json", "Content-Encoding": "gzip"}, True),
])
def test_alb_body_base64_rule(gw: Gateway, client: httpx.Client, headers: dict[str, str], binary: bool) -> None:
    """ALB-9: content-encoding or a non-text type (or none) -> base64."""
    body = b'{"k": "v"}'
    _, event = capture(gw, client, "alb_single", "body", method="POST", content=body, headers=headers)
    assert event["isBase64Encoded"] is binary
    assert event["body"] == (base64.b64encode(body).decode() if binary else body.decode())
