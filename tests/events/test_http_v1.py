"""HTTP API payload format 1.0 (gateway/events/http_v1.py). Rule ids: shared/reference/http-events.md §3.

There is no recording of an HTTP API 1.0 event in shared/samples besides the docs example. The
golden events below are 1.0 events captured from AWS and published by third parties in public
repositories; they are quoted inline (only the fields used) and marked [CAP].
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventModel

from gateway.errors import InvalidLambdaResponse
from gateway.events.http_v1 import HV1_IDENTITY_KEYS, HttpV1, resource_of
from gateway.models import HttpRequest, HttpResponse, InvocationContext, RouteMatch
from tests.events.helpers import Pairs, make_request
from tests.events.test_http_v2 import CONSUMERS, assert_app_response, get_request, load_sample, through_consumer

CTX = InvocationContext(
    request_id="9a1f0c5e-3b6d-4e8a-9c2f-0123456789ab",
    short_id="NIKr1jmIFiAEJmw=",
    time_epoch_ms=1644163454741,
    trace_id="Root=1-61fff17e-5b8496e96e81bed7494730a7",
    extended_request_id="unused-in-1.0=",
)
DEFAULT = RouteMatch(function="fn", route_key="$default")


def http_api(stage: str = "$default", **kwargs: Any) -> HttpV1:
    return HttpV1(api_id="9pyofn5yi9", stage=stage, account_id="052548195718", region="eu-central-1", **kwargs)


def request(
    method: str = "GET", path: str = "/items", query: str = "", headers: Pairs = (), body: bytes = b""
) -> HttpRequest:
    return make_request(method, path, query, headers, body)


def build(req: HttpRequest, match: RouteMatch = DEFAULT, fmt: HttpV1 | None = None) -> dict[str, Any]:
    return (fmt or http_api()).build_event(req, match, CTX)


def parse(result: Any) -> HttpResponse:
    return http_api().parse_result(json.dumps(result).encode(), request(), CTX)


# ---------------------------------------------------------------------------------------------
# Captured 1.0 events [CAP]

# curl/7.77.0 (HTTP/2) POST without body to route "ANY /handler/{proxy+}", stage $default, captured
# 06/Feb/2022 (a Mantil tutorial draft). Quoted whole: every field is reproduced.
CURL_2022: dict[str, Any] = {
    "body": None,
    "headers": {
        "Content-Length": "0", "Host": "9pyofn5yi9.execute-api.eu-central-1.amazonaws.com",
        "User-Agent": "curl/7.77.0", "X-Amzn-Trace-Id": "Root=1-61fff17e-5b8496e96e81bed7494730a7",
        "X-Forwarded-For": "93.136.72.29", "X-Forwarded-Port": "443", "X-Forwarded-Proto": "https", "accept": "*/*",
    },
    "httpMethod": "POST",
    "isBase64Encoded": False,
    "multiValueHeaders": {
        "Content-Length": ["0"], "Host": ["9pyofn5yi9.execute-api.eu-central-1.amazonaws.com"],
        "User-Agent": ["curl/7.77.0"], "X-Amzn-Trace-Id": ["Root=1-61fff17e-5b8496e96e81bed7494730a7"],
        "X-Forwarded-For": ["93.136.72.29"], "X-Forwarded-Port": ["443"], "X-Forwarded-Proto": ["https"],
        "accept": ["*/*"],
    },
    "multiValueQueryStringParameters": None,
    "path": "/handler/",
    "pathParameters": {"proxy": ""},
    "queryStringParameters": None,
    "requestContext": {
        "accountId": "052548195718",
        "apiId": "9pyofn5yi9",
        "domainName": "9pyofn5yi9.execute-api.eu-central-1.amazonaws.com",
        "domainPrefix": "9pyofn5yi9",
        "extendedRequestId": "NIKr1jmIFiAEJmw=",
        "httpMethod": "POST",
        "identity": {
            "accessKey": None, "accountId": None, "caller": None, "cognitoAmr": None,
            "cognitoAuthenticationProvider": None, "cognitoAuthenticationType": None, "cognitoIdentityId": None,
            "cognitoIdentityPoolId": None, "principalOrgId": None, "sourceIp": "93.136.72.29", "user": None,
            "userAgent": "curl/7.77.0", "userArn": None,
        },
        "path": "/handler/",
        "protocol": "HTTP/1.1",
        "requestId": "NIKr1jmIFiAEJmw=",
        "requestTime": "06/Feb/2022:16:04:14 +0000",
        "requestTimeEpoch": 1644163454741,
        "resourceId": "ANY /handler/{proxy+}",
        "resourcePath": "/handler/{proxy+}",
        "stage": "$default",
    },
    "resource": "/handler/{proxy+}",
    "stageVariables": None,
    "version": "1.0",
}


def curl_2022_event() -> dict[str, Any]:
    req = HttpRequest(
        method="POST", path="/handler/", client_ip="93.136.72.29", scheme="https", server_port=443, http_version="2",
        headers=(("host", CURL_2022["headers"]["Host"]), ("user-agent", "curl/7.77.0"), ("accept", "*/*")),
    )
    match = RouteMatch(function="fn", route_key="ANY /handler/{proxy+}", path_parameters={"proxy": ""})
    return http_api().build_event(req, match, CTX)


def test_curl_capture_rebuilt_exactly() -> None:
    """HV1-1..HV1-5 [CAP]: Title-Case Content-Length/Host/User-Agent/X-* next to lowercase ``accept``
    from an HTTP/2 client; Content-Length "0" added; resource/resourceId of a defined route;
    requestId == extendedRequestId; identity with cognitoAmr; no deploymentId, routeKey, authorizer."""
    assert curl_2022_event() == CURL_2022


def test_default_route_capture() -> None:
    """[CAP] curl/7.88.1 POST to the ``$default`` route and stage, captured 11/Jul/2023 (quoted in
    spring-cloud-function's CustomRuntimeEventLoopTest): resource, resourceId and resourcePath are
    all ``"$default"``; Content-Type and Content-Length sent lowercase over HTTP/2 come out Title-Case.
    (The quoted body was edited, so the body and Content-Length value are not compared.)"""
    body = b'{"latitude": 41.34, "longitude": 2.78}'
    req = HttpRequest(
        method="POST", path="/question", body=body, client_ip="109.210.252.44", scheme="https", server_port=443,
        headers=(("host", "emcdxu5ijj.execute-api.us-east-2.amazonaws.com"), ("user-agent", "curl/7.88.1"),
                 ("accept", "*/*"), ("content-type", "application/json"), ("content-length", str(len(body)))),
    )
    ctx = InvocationContext(request_id="x", short_id="H6SdPgXtiYcEP1w=", time_epoch_ms=1689098119662,
                            trace_id="Root=1-64ad9787-4c89d5af7607eb9e522e01d5")
    fmt = HttpV1(api_id="emcdxu5ijj", stage="$default", account_id="313369169943", region="us-east-2")
    event = fmt.build_event(req, DEFAULT, ctx)
    assert list(event["headers"]) == [
        "Host", "User-Agent", "accept", "Content-Type", "Content-Length", "X-Forwarded-For", "X-Forwarded-Port",
        "X-Forwarded-Proto", "X-Amzn-Trace-Id",
    ]
    assert (event["resource"], event["path"], event["body"]) == ("$default", "/question", body.decode())
    context = event["requestContext"]
    assert {k: context[k] for k in ("requestId", "extendedRequestId", "requestTime", "resourceId", "resourcePath")} == {
        "requestId": "H6SdPgXtiYcEP1w=", "extendedRequestId": "H6SdPgXtiYcEP1w=",
        "requestTime": "11/Jul/2023:17:55:19 +0000", "resourceId": "$default", "resourcePath": "$default",
    }


def test_named_stage_browser_capture() -> None:
    """[CAP] Chrome (HTTP/2) GET to route "GET /api/core/services" on stage ``dev``, captured
    01/Aug/2024: the stage stays in ``path`` and ``requestContext.path`` (HV1-5); ``authorization``,
    ``origin``, ``referer``... stay lowercase (unlike REST's ``Authorization``, REST-2)."""
    sent = ("accept", "accept-encoding", "accept-language", "access-control-allow-origin", "authorization",
            "origin", "priority", "referer")
    req = HttpRequest(
        method="GET", path="/dev/api/core/services", query_string="name=", client_ip="186.84.22.90", scheme="https",
        server_port=443,
        headers=(("host", "1xfslfeqxf.execute-api.us-east-1.amazonaws.com"), ("user-agent", "Mozilla/5.0"),
                 *((name, "v") for name in sent)),
    )
    match = RouteMatch(function="fn", route_key="GET /api/core/services")
    event = HttpV1(api_id="1xfslfeqxf", stage="dev", account_id="233925838033", region="us-east-1").build_event(
        req, match, CTX
    )
    assert sorted(event["multiValueHeaders"]) == sorted([
        "Content-Length", "Host", "User-Agent", "X-Amzn-Trace-Id", "X-Forwarded-For", "X-Forwarded-Port",
        "X-Forwarded-Proto", *sent,
    ])
    assert event["headers"]["Content-Length"] == "0"
    assert (event["path"], event["resource"], event["queryStringParameters"]) == (
        "/dev/api/core/services", "/api/core/services", {"name": ""}
    )
    context = event["requestContext"]
    assert (context["path"], context["resourceId"], context["stage"]) == (
        "/dev/api/core/services", "GET /api/core/services", "dev"
    )


def test_shape_matches_the_docs_example() -> None:
    """HV1-1: the docs example's keys. Its requestContext also has ``authorizer`` (claims/scopes
    null) and its identity ``clientCert`` (mutual TLS); captured events without authorizer or mTLS
    have neither, and their identity has ``cognitoAmr`` [CAP]."""
    doc = load_sample("aws-docs/httpapi-v1-input-example.json")
    event = build(request())
    assert event.keys() == doc.keys()
    assert event["requestContext"].keys() == doc["requestContext"].keys() - {"authorizer"}
    assert event["requestContext"]["identity"].keys() == doc["requestContext"]["identity"].keys() - {
        "clientCert"
    } | {"cognitoAmr"}


# ---------------------------------------------------------------------------------------------
# Event rules


@pytest.mark.parametrize(
    ("sent", "name"),
    [
        ("Host", "Host"), ("user-agent", "User-Agent"), ("content-type", "Content-Type"),
        ("CONTENT-TYPE", "Content-Type"), ("Accept", "accept"), ("Authorization", "authorization"),
        ("X-Custom", "x-custom"), ("Cookie", "cookie"),
    ],
)
def test_hv1_2_names_lowercase_but_a_canonical_few(sent: str, name: str) -> None:
    event = build(HttpRequest(method="GET", path="/items", headers=((sent, "v"),)))
    assert event["headers"][name] == "v"
    assert event["multiValueHeaders"][name] == ["v"]


def test_hv1_3_repeats_last_and_all_cookie_kept() -> None:
    """HV1-3 (REST-3 maps); the Cookie header stays in 1.0 headers (there is no cookies field)."""
    sent = (("X-Probe", "first"), ("x-probe", "second"), ("Cookie", "a=1"), ("cookie", "b=2"))
    event = build(request(headers=sent))
    assert (event["headers"]["x-probe"], event["multiValueHeaders"]["x-probe"]) == ("second", ["first", "second"])
    assert (event["headers"]["cookie"], event["multiValueHeaders"]["cookie"]) == ("b=2", ["a=1", "b=2"])
    assert "cookies" not in event


@pytest.mark.parametrize(
    ("sent", "body", "length"),
    [((), b"", "0"), ((), b"hello", "5"), ((("content-length", "5"),), b"hello", "5"),
     ((("transfer-encoding", "chunked"),), b"hello", "5")],
)
def test_content_length_always_present(sent: tuple[tuple[str, str], ...], body: bytes, length: str) -> None:
    """HTTP APIs pass Content-Length, "0" without a body [CAP]; a chunked upload gets its length [INF]."""
    event = build(request("POST", headers=sent, body=body))
    assert event["headers"]["Content-Length"] == length
    assert "transfer-encoding" not in event["headers"]


def test_gateway_headers_replace_and_extend_the_clients() -> None:
    sent = (("X-Amzn-Trace-Id", "Root=1-0-0"), ("X-Forwarded-For", "203.0.113.9"), ("x-forwarded-proto", "ftp"),
            ("Connection", "keep-alive"))
    headers = build(request(headers=sent))["headers"]
    assert headers == {
        "Host": "localhost:9000", "Content-Length": "0", "X-Amzn-Trace-Id": CTX.trace_id,
        "X-Forwarded-For": "203.0.113.9, 192.0.2.10", "X-Forwarded-Port": "9000", "X-Forwarded-Proto": "http",
    }


@pytest.mark.parametrize(
    ("raw", "single", "multi"),
    [
        ("", None, None),
        ("a=1&a=2", {"a": "2"}, {"a": ["1", "2"]}),
        ("literalPlus=a+b&encodedPlus=a%2Bb", {"literalPlus": "a b", "encodedPlus": "a+b"},
         {"literalPlus": ["a b"], "encodedPlus": ["a+b"]}),
    ],
)
def test_hv1_4_query_as_rest(raw: str, single: dict[str, str] | None, multi: dict[str, list[str]] | None) -> None:
    """HV1-4: decoded; the single map takes the last value [INF: as REST-4, unverified for 1.0]."""
    event = build(request(query=raw))
    assert (event["queryStringParameters"], event["multiValueQueryStringParameters"]) == (single, multi)


@pytest.mark.parametrize(
    ("sent", "path"),
    [("/capture/space%20value", "/capture/space value"), ("/a%2Fb/", "/a/b/"), ("/pa2%Fth", "/pa2%Fth"),
     ("/a%3Fb", "/a"), ("/dev/items", "/dev/items")],
)
def test_hv1_5_path_decoded_stage_included(sent: str, path: str) -> None:
    event = build(request(path=sent))
    assert (event["path"], event["requestContext"]["path"]) == (path, path)


@pytest.mark.parametrize(
    ("route_key", "resource"),
    [("$default", "$default"), ("GET /items/{id}", "/items/{id}"), ("ANY /{proxy+}", "/{proxy+}"), ("ANY /", "/")],
)
def test_resource_from_route_key(route_key: str, resource: str) -> None:
    assert resource_of(route_key) == resource
    event = build(request(), RouteMatch(function="fn", route_key=route_key, path_parameters={"id": "a b"}))
    assert (event["resource"], event["pathParameters"]) == (resource, {"id": "a b"})
    context = event["requestContext"]
    assert (context["resourceId"], context["resourcePath"]) == (route_key, resource)


def test_request_context() -> None:
    event = build(request("PATCH", headers=(("User-Agent", "ua/1"),)), fmt=http_api("dev"))
    assert event["requestContext"] == {
        "accountId": "052548195718",
        "apiId": "9pyofn5yi9",
        "domainName": "9pyofn5yi9.execute-api.eu-central-1.amazonaws.com",
        "domainPrefix": "9pyofn5yi9",
        "extendedRequestId": "NIKr1jmIFiAEJmw=",
        "httpMethod": "PATCH",
        "identity": {**dict.fromkeys(HV1_IDENTITY_KEYS), "sourceIp": "192.0.2.10", "userAgent": "ua/1"},
        "path": "/items",
        "protocol": "HTTP/1.1",
        "requestId": "NIKr1jmIFiAEJmw=",
        "requestTime": "06/Feb/2022:16:04:14 +0000",
        "requestTimeEpoch": 1644163454741,
        "resourceId": "$default",
        "resourcePath": "$default",
        "stage": "dev",
    }
    assert build(request())["requestContext"]["identity"]["userAgent"] == ""


def test_stage_variables_null_or_a_copy() -> None:
    assert build(request())["stageVariables"] is None
    assert build(request(), fmt=http_api(stage_variables={"env": "dev"}))["stageVariables"] == {"env": "dev"}


@pytest.mark.parametrize(
    ("content_type", "body", "expected", "is_b64"),
    [
        (None, b"", None, False),
        ("application/json; charset=utf-8", b'{"a":1}', '{"a":1}', False),
        ("text/plain", "é".encode(), "é", False),
        ("application/x-www-form-urlencoded", b"a=1", "YT0x", True),
        (None, b"\x00\x01", "AAE=", True),
    ],
)
def test_body_split_as_http_api(content_type: str | None, body: bytes, expected: str | None, is_b64: bool) -> None:
    """C-3 (null when empty) and the HV2-9 text/base64 split, assumed for 1.0 [INF]."""
    headers = (("Content-Type", content_type),) if content_type else ()
    event = build(request("POST", headers=headers, body=body))
    assert (event["body"], event["isBase64Encoded"]) == (expected, is_b64)


# ---------------------------------------------------------------------------------------------
# Response (HV1-6: the REST format)


def test_hv1_6_rest_format_response() -> None:
    response = parse({
        "statusCode": "201",
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "headers": {"X-App": True, "WWW-Authenticate": "Basic", "Content-Length": "99"},
        "body": "ok",
    })
    assert response.status == 201
    assert response.headers == (
        ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("X-App", "true"), ("WWW-Authenticate", "Basic"),
        ("Content-Type", "application/json"), ("apigw-requestid", "NIKr1jmIFiAEJmw="),
    )
    assert response.body == b"ok"


def test_base64_always_decoded() -> None:
    """HV2-R3 for 1.0 [INF]: no binaryMediaTypes, no Accept check."""
    encoded = base64.b64encode(b"\x00\xff").decode()
    assert parse({"statusCode": 200, "body": encoded, "isBase64Encoded": True}).body == b"\x00\xff"


def test_unknown_result_keys_are_ignored() -> None:
    """[INF] unlike REST-R1 (recorded 502), as http_v2.py does for 2.0."""
    assert parse({"statusCode": 204, "wrongValue": 1}).status == 204


@pytest.mark.parametrize(
    ("result", "message"),
    [
        ("hello", "the result is a string, not a JSON object; API Gateway HTTP API (payload 1.0) needs an object"),
        ({"statusCode": 200, "body": {"a": 1}}, "e.g. json.dumps(body)) (HV1-6: REST-R4)"),
        ({"statusCode": 200, "multiValueHeaders": {"a": "b"}}, 'a list of values, e.g. ["value"] (HV1-6: REST-R3)'),
        ({"statusCode": 200, "body": "%%%", "isBase64Encoded": True}, "is not valid base64"),
    ],
)
def test_malformed_results(result: Any, message: str) -> None:
    with pytest.raises(InvalidLambdaResponse) as info:
        parse(result)
    assert message in str(info.value)


def test_service_headers() -> None:
    assert http_api().service_headers(CTX) == (("apigw-requestid", "NIKr1jmIFiAEJmw="),)


# ---------------------------------------------------------------------------------------------
# Consumers


@pytest.mark.parametrize(
    "event",
    [
        curl_2022_event(),
        build(request("POST", query="a=1&a=2", headers=(("Content-Type", "image/png"),), body=b"\x89PNG")),
        build(request(path="/dev/x"), RouteMatch(function="fn", route_key="GET /{id}", path_parameters={"id": "x"}),
              http_api("dev", stage_variables={"v": "1"})),
    ],
)
def test_powertools_model_accepts(event: dict[str, Any]) -> None:
    """powertools' APIGatewayProxyEventModel also covers the 1.0 shape (its ``version`` is optional)."""
    model = APIGatewayProxyEventModel(**json.loads(json.dumps(event)))
    assert model.version == "1.0"


@pytest.mark.parametrize("consumer", list(CONSUMERS))
def test_consumer_sees_the_client_request(consumer: str) -> None:
    req = request(path="/echo/space%20value", query="repeat=one&repeat=two&plus=a+b")
    _, response = through_consumer(http_api(), CONSUMERS[consumer], req, CTX, DEFAULT)
    seen = json.loads(response.body)
    assert response.status == 200
    assert seen["path"] == "/echo/space value"
    assert sorted(seen["query"].split("&")) == ["plus=a+b", "repeat=one", "repeat=two"]


@pytest.mark.parametrize("consumer", list(CONSUMERS))
def test_consumer_response_maps_back(consumer: str) -> None:
    _, response = through_consumer(http_api(), CONSUMERS[consumer], get_request("/respond"), CTX, DEFAULT)
    assert_app_response(response)
