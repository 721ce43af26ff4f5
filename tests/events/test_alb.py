"""Application Load Balancer Lambda targets (gateway/events/alb.py). Rule ids: shared/reference/http-events.md §6."""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aws_lambda_powertools.utilities.parser.models import AlbModel
from pydantic import ValidationError

from gateway.errors import InvalidLambdaResponse, ResponseTooLarge
from gateway.events.alb import MAX_REQUEST_BODY, MAX_RESPONSE_PAYLOAD, Alb, request_too_large
from gateway.models import HttpRequest, HttpResponse, InvocationContext, RouteMatch
from tests.events.helpers import Pairs, make_request
from tests.events.test_http_v2 import (
    APIG_WSGI,
    BINARY,
    CONSUMERS,
    MANGUM,
    VOKER_BODY,
    VOKER_QUERY,
    assert_app_response,
    get_request,
    load_sample,
    strip_invented,
    through_consumer,
    voker_request,
)

ARN = "arn:aws:elasticloadbalancing:us-west-2:910345601053:targetgroup/vokerh-ALBTa-9TKWEWG9PLT4/4efa1ab384b3474d"
ALB_HOST = "vokerhtt-ALB-4XF8jCVDRJg4-1316758055.us-west-2.elb.amazonaws.com"
CTX = InvocationContext(
    request_id="5b1d3f5e-0000-4000-8000-000000000000",
    time_epoch_ms=1783711143000,
    trace_id="Root=1-6a5145a7-5c3686ff7df3149177a89157",
)
MATCH = RouteMatch(function="fn", route_key="priority 10")


def alb(multi: bool = False) -> Alb:
    return Alb(target_group_arn=ARN, multi_value_headers=multi)


def request(
    method: str = "GET", path: str = "/", query: str = "", headers: Pairs = (), body: bytes = b""
) -> HttpRequest:
    return make_request(method, path, query, headers, body, host=("Host", ALB_HOST), port=80)


def build(req: HttpRequest, multi: bool = False) -> dict[str, Any]:
    return alb(multi).build_event(req, MATCH, CTX)


def parse(result: Any, multi: bool = False) -> HttpResponse:
    return alb(multi).parse_result(json.dumps(result).encode(), request(), CTX)


# Verbatim copy of shared/samples/voker-live-capture/alb-request.json (target group in multi-value mode).
VOKER_ALB = json.loads(r"""
{
  "requestContext": {
    "elb": {
      "targetGroupArn": "arn:aws:elasticloadbalancing:us-west-2:910345601053:targetgroup/vokerh-ALBTa-9TKWEWG9PLT4/4efa1ab384b3474d"
    }
  },
  "httpMethod": "POST",
  "path": "/capture/space%20value",
  "queryStringParameters": null,
  "multiValueQueryStringParameters": {
    "empty": [""],
    "encodedPlus": ["a%2Bb"],
    "literalPlus": ["a+b"],
    "redirect": ["https%3A%2F%2Fexample.com%2Fa%2Fb"],
    "repeat": ["one", "two"]
  },
  "headers": null,
  "multiValueHeaders": {
    "accept": ["*/*"],
    "content-length": ["66"],
    "content-type": ["application/json"],
    "cookie": ["session=abc123; theme=dark"],
    "host": [
      "vokerhtt-ALB-4XF8jCVDRJg4-1316758055.us-west-2.elb.amazonaws.com"
    ],
    "user-agent": ["curl/8.7.1"],
    "x-amzn-trace-id": ["Root=1-6a5145a7-5c3686ff7df3149177a89157"],
    "x-forwarded-for": ["68.8.83.18"],
    "x-forwarded-port": ["80"],
    "x-forwarded-proto": ["http"],
    "x-voker-probe": ["first", "second"]
  },
  "body": "{\"message\":\"hello from the public internet\",\"unicode\":\"lambda-λ\"}",
  "isBase64Encoded": false
}
""")  # noqa: E501 (verbatim copy of the capture)


def test_inline_capture_matches_sample() -> None:
    assert load_sample("voker-live-capture/alb-request.json") == VOKER_ALB


def test_voker_request_rebuilds_the_live_capture() -> None:
    """S-VK alb (multi-value mode, plain HTTP on port 80). Left out: ``queryStringParameters: null``
    and ``headers: null``, Go zero values of the typed logger; the aws-captured samples (S-GO, S-PT,
    S-RS) have no key for the other mode's maps (ALB-0)."""
    event = alb(multi=True).build_event(voker_request(ALB_HOST, scheme="http"), MATCH, CTX)
    expected = strip_invented(VOKER_ALB, ("queryStringParameters", "headers"))
    assert event == expected
    assert list(event) == [k for k in VOKER_ALB if k in expected]


def test_voker_request_in_single_value_mode() -> None:
    """ALB-0 / ALB-2 / ALB-4: the same request with multi-value headers off: last values, no lists."""
    event = build(voker_request(ALB_HOST, scheme="http"))
    assert list(event) == [
        "requestContext",
        "httpMethod",
        "path",
        "queryStringParameters",
        "headers",
        "body",
        "isBase64Encoded",
    ]
    assert event["queryStringParameters"] == {
        "repeat": "two",
        "redirect": "https%3A%2F%2Fexample.com%2Fa%2Fb",
        "literalPlus": "a+b",
        "encodedPlus": "a%2Bb",
        "empty": "",
    }
    assert event["headers"]["x-voker-probe"] == "second"
    assert event["headers"]["cookie"] == "session=abc123; theme=dark"


# ---------------------------------------------------------------------------------------------
# Event rules


@pytest.mark.parametrize(
    ("multi", "headers", "query"),
    [
        (False, {"host": ALB_HOST}, {}),
        (True, {"host": [ALB_HOST]}, {}),
    ],
)
def test_get_without_query_or_body(multi: bool, headers: dict[str, Any], query: dict[str, Any]) -> None:
    """ALB-1 / ALB-4 / ALB-9: ``{}`` for no query, body "" and not base64, exact requestContext."""
    event = build(request(), multi)
    prefix = "multiValue" if multi else ""
    wrap = (lambda v: [v]) if multi else (lambda v: v)
    assert event == {
        "requestContext": {"elb": {"targetGroupArn": ARN}},
        "httpMethod": "GET",
        "path": "/",
        ("multiValueQueryStringParameters" if multi else "queryStringParameters"): query,
        (f"{prefix}Headers" if multi else "headers"): {
            **headers,
            "x-amzn-trace-id": wrap(CTX.trace_id),
            "x-forwarded-for": wrap("192.0.2.10"),
            "x-forwarded-port": wrap("80"),
            "x-forwarded-proto": wrap("http"),
        },
        "body": "",
        "isBase64Encoded": False,
    }


def test_headers_lowercased_and_passed_through() -> None:
    """ALB-2: lowercase names, values as sent, ``connection`` passed through [CAP S-GO, S-PT]."""
    event = build(request(headers=(("Connection", "keep-alive"), ("X-MyHeader", "123"), ("Accept", "a, b"))))
    assert {k: event["headers"][k] for k in ("connection", "x-myheader", "accept")} == {
        "connection": "keep-alive",
        "x-myheader": "123",
        "accept": "a, b",
    }


@pytest.mark.parametrize(("multi", "cookie"), [(False, "b=2"), (True, ["a=1", "b=2"])])
def test_repeated_headers(multi: bool, cookie: Any) -> None:
    """ALB-2: "the load balancer uses the last value" (two cookie headers -> the last cookie)."""
    event = build(request(headers=(("Cookie", "a=1"), ("Cookie", "b=2"))), multi)
    key = "multiValueHeaders" if multi else "headers"
    assert event[key]["cookie"] == cookie


@pytest.mark.parametrize(
    ("multi", "chain"),
    [(False, "203.0.113.5, 198.51.100.1, 192.0.2.10"), (True, ["203.0.113.5, 198.51.100.1, 192.0.2.10"])],
)
def test_forwarded_for_chain_is_extended(multi: bool, chain: Any) -> None:
    """ALB-10: x-forwarded-for gets the client ip appended [INF separator]; port/proto/trace are ALB's."""
    req = request(
        headers=(
            ("X-Forwarded-For", "203.0.113.5, 198.51.100.1"),
            ("X-Forwarded-Proto", "https"),
            ("X-Amzn-Trace-Id", "x"),
        )
    )
    headers = build(req, multi)["multiValueHeaders" if multi else "headers"]
    assert headers["x-forwarded-for"] == chain
    assert headers["x-forwarded-proto"] == (["http"] if multi else "http")
    assert headers["x-amzn-trace-id"] == ([CTX.trace_id] if multi else CTX.trace_id)


@pytest.mark.parametrize(
    ("raw", "single", "multi"),
    [
        ("a=1&a=2", {"a": "2"}, {"a": ["1", "2"]}),
        (
            "q=%3FshowAll%3Dtrue&p=a+b",
            {"q": "%3FshowAll%3Dtrue", "p": "a+b"},
            {"q": ["%3FshowAll%3Dtrue"], "p": ["a+b"]},
        ),
        ("flag&empty=", {"flag": "", "empty": ""}, {"flag": [""], "empty": [""]}),
        ("&&", {}, {}),
    ],
)
def test_query_is_not_decoded(raw: str, single: dict[str, str], multi: dict[str, list[str]]) -> None:
    """ALB-4: "If the query parameters are URL-encoded, the load balancer does not decode them"."""
    assert build(request(query=raw))["queryStringParameters"] == single
    assert build(request(query=raw), multi=True)["multiValueQueryStringParameters"] == multi


@pytest.mark.parametrize("path", ["/capture/space%20value", "/a%2Fb", "/trailing/", "//double"])
def test_path_as_sent(path: str) -> None:
    """ALB-5."""
    assert build(request(path=path))["path"] == path


@pytest.mark.parametrize(
    ("headers", "is_base64"),
    [
        ((("Content-Type", "application/json"),), False),
        ((("Content-Type", "text/html; charset=utf-8"),), False),
        ((("Content-Type", "application/xml"),), False),
        ((("Content-Type", "application/javascript"),), False),
        ((), True),  # no content type
        ((("Content-Type", "application/octet-stream"),), True),
        ((("Content-Type", "application/x-www-form-urlencoded"),), True),
        ((("Content-Type", "application/json"), ("Content-Encoding", "gzip")), True),
        ((("Content-Type", "text/plain"), ("Content-Encoding", "identity")), True),  # any content-encoding
    ],
)
def test_body_base64_rule(headers: tuple[tuple[str, str], ...], is_base64: bool) -> None:
    """ALB-9, the documented rule."""
    body = "héllo".encode()
    event = build(request("POST", headers=headers, body=body))
    assert event["isBase64Encoded"] is is_base64
    assert event["body"] == (base64.b64encode(body).decode() if is_base64 else "héllo")


def test_request_too_large() -> None:
    """ALB-11: over 1 MB -> 413 (the front checks before invoking)."""
    assert MAX_REQUEST_BODY == 1_048_576
    assert not request_too_large(request("POST", body=b"x" * MAX_REQUEST_BODY))
    assert request_too_large(request("POST", body=b"x" * (MAX_REQUEST_BODY + 1)))


# ---------------------------------------------------------------------------------------------
# Response rules


def test_docs_response_example() -> None:
    """ALB-R1 with the D-ALB example (aws-docs/alb-response-example.json)."""
    response = parse(
        {
            "isBase64Encoded": False,
            "statusCode": 200,
            "statusDescription": "200 OK",
            "headers": {"Set-cookie": "cookies", "Content-Type": "application/json"},
            "body": "Hello from Lambda (optional)",
        }
    )
    assert response == HttpResponse(
        status=200,
        headers=(("Set-cookie", "cookies"), ("Content-Type", "application/json")),
        body=b"Hello from Lambda (optional)",
        reason="OK",
    )


# S-GO alb-lambda-target-response.json carries both maps; the mode decides which one is read.
BOTH_MAPS = {
    "isBase64Encoded": False,
    "statusCode": 200,
    "statusDescription": "200 OK",
    "headers": {"Set-cookie": "cookies", "Content-Type": "application/json"},
    "multiValueHeaders": {
        "Set-cookie": [
            "cookie-name=cookie-value;Domain=myweb.com;Secure;HttpOnly",
            "cookie-name=cookie-value;Expires=May 8, 2019",
        ],
        "Content-Type": ["application/json"],
    },
    "body": "Hello from Lambda",
}


@pytest.mark.parametrize(
    ("multi", "headers"),
    [
        (False, (("Set-cookie", "cookies"), ("Content-Type", "application/json"))),
        (
            True,
            (
                ("Set-cookie", "cookie-name=cookie-value;Domain=myweb.com;Secure;HttpOnly"),
                ("Set-cookie", "cookie-name=cookie-value;Expires=May 8, 2019"),
                ("Content-Type", "application/json"),
            ),
        ),
    ],
)
def test_mode_decides_which_header_map_is_read(multi: bool, headers: tuple[tuple[str, str], ...]) -> None:
    """ALB-R2: multiValueHeaders when the mode is on, headers otherwise; the other map is ignored
    [OBS fastify/aws-lambda-fastify#272 for multi mode; INF for single mode]."""
    assert parse(BOTH_MAPS, multi).headers == headers


@pytest.mark.parametrize(
    ("multi", "result"),
    [
        (True, {"statusCode": 200, "headers": {"X-A": "1"}}),
        (False, {"statusCode": 200, "multiValueHeaders": {"X-A": ["1"]}}),
    ],
)
def test_wrong_map_for_the_mode_is_ignored(multi: bool, result: dict[str, Any]) -> None:
    assert parse(result, multi).headers == ()


def test_case_varied_duplicate_keys_are_separate_lines() -> None:
    """ALB-R2 single mode: Mangum's case-mutated keys (consumers.md 1.3) each reach the client."""
    response = parse({"statusCode": 200, "headers": {"set-cookie": "a=1", "Set-cookie": "b=2", "sEt-cookie": "c=3"}})
    assert response.headers == (("set-cookie", "a=1"), ("Set-cookie", "b=2"), ("sEt-cookie", "c=3"))


@pytest.mark.parametrize("multi", [False, True])
def test_hop_by_hop_and_content_length_are_ignored(multi: bool) -> None:
    """ALB-R3."""
    names = ("Connection", "Transfer-Encoding", "Content-Length", "X-Kept")
    if multi:
        result = {"statusCode": 200, "multiValueHeaders": {n: ["1"] for n in names}, "body": "ok"}
    else:
        result = {"statusCode": 200, "headers": {n: "1" for n in names}, "body": "ok"}
    assert parse(result, multi).headers == (("X-Kept", "1"),)


@pytest.mark.parametrize(
    ("description", "reason"),
    [
        ("200 OK", "OK"),
        ("404 Not Found", "Not Found"),
        ("418 I'm a teapot", "I'm a teapot"),
        ("Fine", "Fine"),
        ("200", None),
    ],
)
def test_status_description_gives_the_reason(description: str, reason: str | None) -> None:
    """ALB-R1: statusDescription is the status line ("200 OK"); the reason is the text after the code."""
    assert parse({"statusCode": 200, "statusDescription": description}).reason == reason


@pytest.mark.parametrize(
    ("result", "body"),
    [
        ({"statusCode": 200}, b""),  # awsdocs ELB guide #33: every other member may be omitted
        ({"statusCode": 200, "body": ""}, b""),
        ({"statusCode": 200, "body": "aGk=", "isBase64Encoded": True}, b"hi"),
        ({"statusCode": "302", "body": "x"}, b"x"),
    ],
)
def test_body_variants(result: dict[str, Any], body: bytes) -> None:
    """ALB-R1 / ALB-R3."""
    response = parse(result)
    assert response.body == body
    assert response.headers == ()  # ALB adds no default content type


@pytest.mark.parametrize(
    ("result", "message"),
    [
        ([1, 2], "JSON list"),
        ("hello", "JSON str"),
        ({"body": "x"}, '"statusCode" is missing'),
        ({"statusCode": "abc"}, "statusCode"),
        ({"statusCode": 200, "body": None}, '"body" is null'),  # OBS aws/aws-lambda-go#438
        ({"statusCode": 200, "statusDescription": None}, '"statusDescription" is null'),  # OBS aws-lambda-dotnet#507
        ({"statusCode": 200, "headers": None}, '"headers" is null'),
        ({"statusCode": 200, "multiValueHeaders": None}, '"multiValueHeaders" is null'),
        ({"statusCode": 200, "isBase64Encoded": None}, '"isBase64Encoded" is null'),
        ({"statusCode": 200, "statusDescription": 200}, "statusDescription"),
        ({"statusCode": 200, "statusDescription": "200 OK\r\nX: y"}, "status line"),
        (
            {"statusCode": 200, "headers": {"X-Flag": True}},
            "\"headers\" value of 'X-Flag' must be a string",
        ),  # OBS lambda-api#117
        ({"statusCode": 200, "headers": {"X": "a\nb"}}, "CR, LF or NUL"),
        ({"statusCode": 200, "headers": {"X Y": "a"}}, "not a valid header name"),
        ({"statusCode": 200, "headers": ["x"]}, '"headers" must be a JSON object'),
        ({"statusCode": 200, "body": {"a": 1}}, '"body" must be a string'),
        ({"statusCode": 200, "body": "%%%", "isBase64Encoded": True}, "base64"),
        ({"statusCode": 200, "isBase64Encoded": "false"}, "isBase64Encoded"),
    ],
)
def test_malformed_responses(result: Any, message: str) -> None:
    """6.E: malformed -> 502; the message says what broke which rule."""
    with pytest.raises(InvalidLambdaResponse, match=re.escape(message)):
        parse(result)


@pytest.mark.parametrize(
    ("result", "message"),
    [
        ({"statusCode": 200, "multiValueHeaders": {"X": "1"}}, "must be a list of strings"),
        ({"statusCode": 200, "multiValueHeaders": {"X": [1]}}, "\"multiValueHeaders\" value 'X'[0] must be a string"),
        ({"statusCode": 200, "multiValueHeaders": {"X": ["a\r\n"]}}, "CR, LF or NUL"),
        ({"statusCode": 200, "multiValueHeaders": []}, "must be a JSON object"),
    ],
)
def test_malformed_multi_value_responses(result: Any, message: str) -> None:
    with pytest.raises(InvalidLambdaResponse, match=re.escape(message)):
        parse(result, multi=True)


def test_response_over_one_megabyte() -> None:
    """ALB-11: response JSON over 1 MB -> 502 (ResponseTooLarge); exactly 1 MB is fine."""
    envelope = json.dumps({"statusCode": 200, "body": ""}).encode()
    fits = envelope[:-2] + b"x" * (MAX_RESPONSE_PAYLOAD - len(envelope)) + envelope[-2:]
    assert len(fits) == MAX_RESPONSE_PAYLOAD
    assert len(alb().parse_result(fits, request(), CTX).body) == MAX_RESPONSE_PAYLOAD - len(envelope)
    too_big = envelope[:-2] + b"x" * (MAX_RESPONSE_PAYLOAD - len(envelope) + 1) + envelope[-2:]
    with pytest.raises(ResponseTooLarge, match="1048576"):
        alb().parse_result(too_big, request(), CTX)


def test_no_service_headers() -> None:
    assert alb().service_headers(CTX) == ()


# ---------------------------------------------------------------------------------------------
# powertools' parser model


@pytest.mark.parametrize(
    "req",
    [
        request(),
        request("POST", headers=(("Content-Type", "image/png"),), body=BINARY),
        request(headers=(("Cookie", "a=1"), ("Cookie", "b=2"))),
        request(query="a=1&a=2&b=%20c"),
        voker_request(ALB_HOST, scheme="http"),
    ],
    ids=["get-no-body", "post-binary", "cookies", "query", "voker"],
)
def test_powertools_model_accepts_single_value_events(req: HttpRequest) -> None:
    event = json.loads(json.dumps(build(req)))
    model = AlbModel.model_validate(event)
    assert model.requestContext.elb.targetGroupArn == ARN
    assert model.path == event["path"]


def test_powertools_model_rejects_multi_value_events_as_it_rejects_aws_ones() -> None:
    """powertools' AlbModel requires the single-value maps, so it rejects every multi-value event --
    the real AWS capture included; only those two fields are reported."""
    ours = json.loads(json.dumps(build(voker_request(ALB_HOST, scheme="http"), multi=True)))
    aws = strip_invented(VOKER_ALB, ("queryStringParameters", "headers"))
    for event in (ours, aws):
        with pytest.raises(ValidationError) as info:
            AlbModel.model_validate(event)
        assert {err["loc"][0] for err in info.value.errors()} == {"headers", "queryStringParameters"}


# ---------------------------------------------------------------------------------------------
# Real consumers


@pytest.mark.parametrize("multi", [False, True])
def test_mangum_sees_the_client_request(multi: bool) -> None:
    """consumers.md 1.2: Mangum unquotes the path, re-encodes the query (§1.4: same parameters),
    and gives each multi-value header element its own header line."""
    req = voker_request(ALB_HOST, scheme="http")
    _, response = through_consumer(alb(multi), MANGUM, req, CTX, MATCH)
    seen = json.loads(response.body)
    probes = [v for k, v in seen["headers"] if k == "x-voker-probe"]
    assert (seen["method"], seen["path"]) == ("POST", "/capture/space value")
    assert parse_qsl(seen["query"], keep_blank_values=True) == _client_query(multi)
    assert seen["cookies"] == {"session": "abc123", "theme": "dark"}
    assert probes == (["first", "second"] if multi else ["second"])  # ALB-2
    assert base64.b64decode(seen["body"]) == VOKER_BODY


@pytest.mark.parametrize("multi", [False, True])
def test_apig_wsgi_sees_the_client_request(multi: bool) -> None:
    """consumers.md 2.2: values stay encoded in QUERY_STRING; REMOTE_ADDR from x-forwarded-for."""
    req = voker_request(ALB_HOST, scheme="http")
    _, response = through_consumer(alb(multi), APIG_WSGI, req, CTX, MATCH)
    seen = json.loads(response.body)
    headers = dict(seen["headers"])
    assert (seen["method"], seen["path"]) == ("POST", "/capture/space value")
    assert parse_qsl(seen["query"], keep_blank_values=True) == _client_query(multi)
    assert headers["cookie"] == "session=abc123; theme=dark"
    assert headers["x-voker-probe"] == ("first,second" if multi else "second")
    assert seen["remote_addr"] == "68.8.83.18"
    assert base64.b64decode(seen["body"]) == VOKER_BODY


def _client_query(multi: bool) -> list[tuple[str, str]]:
    pairs = parse_qsl(VOKER_QUERY, keep_blank_values=True)
    return pairs if multi else [p for p in pairs if p != ("repeat", "one")]  # single mode: last value (ALB-4)


@pytest.mark.parametrize("multi", [False, True])
@pytest.mark.parametrize("consumer", list(CONSUMERS))
def test_consumer_response_maps_back(consumer: str, multi: bool) -> None:
    """ALB-R2: Mangum's case-mutated keys (single) and lists (multi) give two Set-Cookie lines;
    apig-wsgi's single-mode ``dict(headers)`` keeps only the last (consumers.md 2.3)."""
    _, response = through_consumer(alb(multi), CONSUMERS[consumer], get_request("/respond", ALB_HOST), CTX, MATCH)
    assert_app_response(response, set_cookies=1 if (consumer == "apig-wsgi" and not multi) else 2)


@pytest.mark.parametrize("multi", [False, True])
@pytest.mark.parametrize("consumer", list(CONSUMERS))
def test_consumer_binary_round_trip(consumer: str, multi: bool) -> None:
    """ALB-R3: ``isBase64Encoded`` makes ALB decode the body."""
    result, response = through_consumer(alb(multi), CONSUMERS[consumer], get_request("/binary", ALB_HOST), CTX, MATCH)
    assert result["isBase64Encoded"] is True
    assert (response.status, response.body) == (200, BINARY)
