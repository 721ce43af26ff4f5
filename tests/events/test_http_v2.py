"""HTTP API payload format 2.0 (gateway/events/http_v2.py). Rule ids: shared/reference/http-events.md §4.

This module also holds the request of the voker live capture and the real consumers (Mangum,
apig-wsgi) that test_function_url.py and test_alb.py reuse.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from apig_wsgi import make_lambda_handler
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model
from mangum import Mangum
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.errors import InvalidLambdaResponse
from gateway.events.http_v2 import HttpV2
from gateway.models import HttpRequest, HttpResponse, InvocationContext, RouteMatch
from tests.events.helpers import Pairs, make_request

# Golden copies live beside the tests; shared/samples (next to the checkout) is the original.
SAMPLES = Path(__file__).resolve().parent / "samples"

# ---------------------------------------------------------------------------------------------
# The voker request (S-VK): one request sent by curl over HTTP/2 through each AWS front door.

VOKER_QUERY = (
    "repeat=one&repeat=two&redirect=https%3A%2F%2Fexample.com%2Fa%2Fb&literalPlus=a+b&encodedPlus=a%2Bb&empty="
)
VOKER_BODY = '{"message":"hello from the public internet","unicode":"lambda-λ"}'.encode()
VOKER_CLIENT_IP = "68.8.83.18"

# Headers AWS adds to every answer (4.E apigw-requestid, URL-R3); tests of the function's own headers skip them.
_SERVICE_HEADERS = {"apigw-requestid", "x-amzn-requestid", "x-amzn-trace-id"}


def app_headers(headers: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    return tuple(h for h in headers if h[0].lower() not in _SERVICE_HEADERS)



def voker_request(host: str, *, path: str = "/capture/space%20value", scheme: str = "https") -> HttpRequest:
    """The request as the server hands it to us: headers in the order and case curl sends them
    over HTTP/2 (lowercase; hypercorn puts :authority first as host)."""
    return HttpRequest(
        method="POST",
        path=path,
        query_string=VOKER_QUERY,
        headers=(
            ("host", host),
            ("user-agent", "curl/8.7.1"),
            ("accept", "*/*"),
            ("cookie", "session=abc123; theme=dark"),
            ("x-voker-probe", "first"),
            ("x-voker-probe", "second"),
            ("content-type", "application/json"),
            ("content-length", "66"),
        ),
        body=VOKER_BODY,
        client_ip=VOKER_CLIENT_IP,
        client_port=51234,
        scheme=scheme,
        server_host="127.0.0.1",
        server_port=443 if scheme == "https" else 80,
        http_version="2",
    )


def strip_invented(event: dict[str, Any], top: tuple[str, ...], context: tuple[str, ...] = ()) -> dict[str, Any]:
    """Drop the keys voker's Go re-marshalling invented (README: key presence is not authoritative)."""
    out = {k: v for k, v in event.items() if k not in top}
    if context:
        out["requestContext"] = {k: v for k, v in event["requestContext"].items() if k not in context}
    return out


def load_sample(relative: str) -> Any:
    path = SAMPLES / relative
    if not path.exists():
        pytest.skip(f"{path} is not available on this machine")
    return json.loads(path.read_text())


# Verbatim copy of shared/samples/voker-live-capture/apigwv2-request.json (checked against the
# file by test_inline_capture_matches_sample when the samples are present).
VOKER_V2 = json.loads(r"""
{
  "version": "2.0",
  "routeKey": "$default",
  "rawPath": "/capture/space value",
  "rawQueryString": "repeat=one&repeat=two&redirect=https%3A%2F%2Fexample.com%2Fa%2Fb&literalPlus=a+b&encodedPlus=a%2Bb&empty=",
  "cookies": ["session=abc123", "theme=dark"],
  "headers": {
    "accept": "*/*",
    "content-length": "66",
    "content-type": "application/json",
    "host": "sjzepsqsu5.execute-api.us-west-2.amazonaws.com",
    "user-agent": "curl/8.7.1",
    "x-amzn-trace-id": "Root=1-6a5145a9-1bae89e2512ec92d5d9438a0",
    "x-forwarded-for": "68.8.83.18",
    "x-forwarded-port": "443",
    "x-forwarded-proto": "https",
    "x-voker-probe": "first,second"
  },
  "queryStringParameters": {
    "empty": "",
    "encodedPlus": "a+b",
    "literalPlus": "a b",
    "redirect": "https://example.com/a/b",
    "repeat": "one,two"
  },
  "pathParameters": null,
  "stageVariables": null,
  "requestContext": {
    "accountId": "910345601053",
    "apiId": "sjzepsqsu5",
    "authentication": {
      "clientCert": {
        "clientCertPem": "",
        "subjectDN": "",
        "issuerDN": "",
        "serialNumber": "",
        "validity": { "notBefore": "", "notAfter": "" }
      }
    },
    "authorizer": {
      "jwt": { "claims": null, "scopes": null },
      "iam": {
        "accessKey": "",
        "accountId": "",
        "callerId": "",
        "cognitoIdentity": {
          "amr": null,
          "identityId": "",
          "identityPoolId": ""
        },
        "principalOrgId": "",
        "userArn": "",
        "userId": ""
      }
    },
    "domainName": "sjzepsqsu5.execute-api.us-west-2.amazonaws.com",
    "domainPrefix": "sjzepsqsu5",
    "http": {
      "method": "POST",
      "path": "/capture/space value",
      "protocol": "HTTP/1.1",
      "sourceIp": "68.8.83.18",
      "userAgent": "curl/8.7.1"
    },
    "requestId": "ATfSmjLgPHcESJw=",
    "routeKey": "$default",
    "stage": "$default",
    "time": "10/Jul/2026:19:19:05 +0000",
    "timeEpoch": 1783711145766
  },
  "body": "{\"message\":\"hello from the public internet\",\"unicode\":\"lambda-λ\"}",
  "isBase64Encoded": false
}
""")  # noqa: E501 (verbatim copy of the capture)

# ---------------------------------------------------------------------------------------------
# Real consumers of events (shared/reference/consumers.md), run in-process.

BINARY = bytes(range(256))


class LambdaContextStub:
    function_name = "fn"
    aws_request_id = "d16a6b55-dea9-4b23-8499-eb85c3d2d904"
    invoked_function_arn = "arn:aws:lambda:us-west-2:910345601053:function:fn"

    def get_remaining_time_in_millis(self) -> int:
        return 3000


async def _asgi_echo(request: Request) -> Response:
    body = await request.body()
    return JSONResponse(
        {
            "method": request.method,
            "path": request.url.path,
            "query": request.url.query,
            "headers": [[k, v] for k, v in request.headers.items()],
            "cookies": request.cookies,
            "body": base64.b64encode(body).decode(),
        }
    )


async def _asgi_respond(request: Request) -> Response:
    response = Response(b'{"ok":true}', status_code=201, media_type="application/json", headers={"x-app": "yes"})
    response.set_cookie("a", "1")
    response.set_cookie("b", "2", httponly=True)
    return response


async def _asgi_binary(request: Request) -> Response:
    return Response(BINARY, media_type="application/octet-stream")


ASGI_APP = Starlette(
    routes=[
        Route("/respond", _asgi_respond),
        Route("/binary", _asgi_binary),
        Route("/{path:path}", _asgi_echo, methods=["GET", "POST", "PUT", "DELETE"]),
    ]
)


def _wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    path = environ["PATH_INFO"]
    if path == "/respond":
        start_response(
            "201 Created",
            [
                ("Content-Type", "application/json"),
                ("X-App", "yes"),
                ("Set-Cookie", "a=1; Path=/"),
                ("Set-Cookie", "b=2; HttpOnly; Path=/"),
            ],
        )
        return [b'{"ok":true}']
    if path == "/binary":
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return [BINARY]
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    doc = {
        "method": environ["REQUEST_METHOD"],
        "path": path,
        "query": environ["QUERY_STRING"],
        "headers": [[k[5:].lower().replace("_", "-"), v] for k, v in environ.items() if k.startswith("HTTP_")]
        + [["content-type", environ.get("CONTENT_TYPE", "")]],
        "remote_addr": environ.get("REMOTE_ADDR"),
        "body": base64.b64encode(body).decode(),
    }
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(doc).encode()]


MANGUM = Mangum(ASGI_APP, lifespan="off")
APIG_WSGI = make_lambda_handler(_wsgi_app)
CONSUMERS = {"mangum": MANGUM, "apig-wsgi": APIG_WSGI}


def through_consumer(
    fmt: Any, consumer: Any, request: HttpRequest, ctx: InvocationContext, match: RouteMatch
) -> tuple[dict[str, Any], HttpResponse]:
    """Build the event, JSON-encode it as the invoker seam does, run the consumer, parse its result."""
    event = json.loads(json.dumps(fmt.build_event(request, match, ctx)))
    result = consumer(event, LambdaContextStub())
    return result, fmt.parse_result(json.dumps(result).encode(), request, ctx)


def get_request(path: str, host: str = "localhost:9000") -> HttpRequest:
    return HttpRequest(
        method="GET",
        path=path,
        headers=(("host", host), ("user-agent", "curl/8.7.1"), ("accept", "*/*")),
        client_ip="192.0.2.10",
        scheme="https",
        server_port=443,
    )


def assert_app_response(response: HttpResponse, *, set_cookies: int = 2) -> None:
    """The /respond endpoint: 201, a custom header, two cookies, a JSON body."""
    assert response.status == 201
    assert response.header("x-app") == "yes"
    assert response.header("content-type") == "application/json"
    cookies = [v for k, v in response.headers if k.lower() == "set-cookie"]
    assert len(cookies) == set_cookies
    assert cookies[-1].startswith("b=2")
    if set_cookies == 2:
        assert cookies[0].startswith("a=1")
    assert response.body == b'{"ok":true}'


# ---------------------------------------------------------------------------------------------
# HttpV2 fixtures

CTX = InvocationContext(
    request_id="9a1f0c5e-3b6d-4e8a-9c2f-0123456789ab",
    short_id="ATfSmjLgPHcESJw=",
    time_epoch_ms=1783711145766,
    trace_id="Root=1-6a5145a9-1bae89e2512ec92d5d9438a0",
)
DEFAULT = RouteMatch(function="fn", route_key="$default")


def http_api(stage: str = "$default", stage_variables: dict[str, str] | None = None) -> HttpV2:
    return HttpV2(
        api_id="sjzepsqsu5",
        stage=stage,
        account_id="910345601053",
        region="us-west-2",
        stage_variables=stage_variables,
    )


def request(
    method: str = "GET", path: str = "/", query: str = "", headers: Pairs = (), body: bytes = b""
) -> HttpRequest:
    return make_request(method, path, query, headers, body)


def build(req: HttpRequest, match: RouteMatch = DEFAULT, fmt: HttpV2 | None = None) -> dict[str, Any]:
    return (fmt or http_api()).build_event(req, match, CTX)


def parse(result: Any, fmt: HttpV2 | None = None) -> HttpResponse:
    return (fmt or http_api()).parse_result(json.dumps(result).encode(), request(), CTX)


# ---------------------------------------------------------------------------------------------
# The live capture, rebuilt


def test_inline_capture_matches_sample() -> None:
    assert load_sample("voker-live-capture/apigwv2-request.json") == VOKER_V2


def test_voker_request_rebuilds_the_live_capture() -> None:
    """Every value of the capture (S-VK), ids and times included since ctx carries the captured ones.
    Left out: pathParameters / stageVariables (null) and requestContext.authentication / authorizer
    (empty objects) -- Go zero values of the typed logger; AWS omits them (HV2-1, HV2-6)."""
    ctx = InvocationContext(
        request_id="unused-by-http-apis",
        short_id="ATfSmjLgPHcESJw=",
        time_epoch_ms=1783711145766,
        trace_id="Root=1-6a5145a9-1bae89e2512ec92d5d9438a0",
    )
    req = voker_request("sjzepsqsu5.execute-api.us-west-2.amazonaws.com")
    event = http_api().build_event(req, DEFAULT, ctx)
    expected = strip_invented(VOKER_V2, ("pathParameters", "stageVariables"), ("authentication", "authorizer"))
    assert event == expected
    assert list(event) == [k for k in VOKER_V2 if k in expected]  # AWS's documented key order


def test_curl_get_rebuilds_the_go_capture() -> None:
    """HV2-1 / HV2-2 against S-GO apigw-v2-request-no-authorizer (a real curl GET): only the always
    present keys, and ``content-length: 0`` although curl sends none for a GET."""
    req = HttpRequest(
        method="GET",
        path="/",
        headers=(
            ("Host", "aaaaaaaaaa.execute-api.us-west-2.amazonaws.com"),
            ("User-Agent", "curl/7.58.0"),
            ("Accept", "*/*"),
        ),
        client_ip="1.2.3.4",
        scheme="https",
        server_port=443,
        http_version="1.1",
    )
    ctx = InvocationContext(
        request_id="x",
        short_id="LV7fzho-PHcEJPw=",
        time_epoch_ms=1587481701067,
        trace_id="Root=1-5e9f0c65-1de4d666d4dd26aced652b6c",
    )
    fmt = HttpV2(api_id="aaaaaaaaaa", stage="$default", account_id="123456789012", region="us-west-2")
    assert fmt.build_event(req, DEFAULT, ctx) == {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": {
            "accept": "*/*",
            "content-length": "0",
            "host": "aaaaaaaaaa.execute-api.us-west-2.amazonaws.com",
            "user-agent": "curl/7.58.0",
            "x-amzn-trace-id": "Root=1-5e9f0c65-1de4d666d4dd26aced652b6c",
            "x-forwarded-for": "1.2.3.4",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "aaaaaaaaaa",
            "domainName": "aaaaaaaaaa.execute-api.us-west-2.amazonaws.com",
            "domainPrefix": "aaaaaaaaaa",
            "http": {
                "method": "GET",
                "path": "/",
                "protocol": "HTTP/1.1",
                "sourceIp": "1.2.3.4",
                "userAgent": "curl/7.58.0",
            },
            "requestId": "LV7fzho-PHcEJPw=",
            "routeKey": "$default",
            "stage": "$default",
            "time": "21/Apr/2020:15:08:21 +0000",
            "timeEpoch": 1587481701067,
        },
        "isBase64Encoded": False,
    }


# ---------------------------------------------------------------------------------------------
# Event rules


def test_headers_lowercased_and_repeats_joined_without_space() -> None:
    """HV2-2."""
    event = build(request(headers=(("X-Multi", "a"), ("x-multi", "b, c"), ("Accept", "text/html"))))
    assert event["headers"]["x-multi"] == "a,b, c"
    assert event["headers"]["accept"] == "text/html"
    assert event["headers"]["host"] == "localhost:9000"
    assert all(name == name.lower() for name in event["headers"])


def test_gateway_headers_replace_and_extend_the_clients() -> None:
    """HV2-2: x-forwarded-for gets the client ip appended; port/proto/trace id are the gateway's."""
    event = build(
        request(
            headers=(
                ("X-Forwarded-For", "203.0.113.5"),
                ("X-Forwarded-Proto", "gopher"),
                ("X-Forwarded-Port", "1"),
                ("X-Amzn-Trace-Id", "Root=client"),
            )
        )
    )
    headers = event["headers"]
    assert headers["x-forwarded-for"] == "203.0.113.5, 192.0.2.10"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-port"] == "9000"
    assert headers["x-amzn-trace-id"] == CTX.trace_id


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ((), "0"),  # [CAP S-GO]: curl GET without a body
        ((("Content-Length", "5"),), "5"),
        ((("Transfer-Encoding", "chunked"),), "5"),  # chunked upload: length of the buffered body [INF]
    ],
)
def test_content_length_is_always_present(sent: tuple[tuple[str, str], ...], expected: str) -> None:
    body = b"hello" if sent else b""
    event = build(request("POST", headers=(("Content-Type", "text/plain"), *sent), body=body))
    assert event["headers"]["content-length"] == expected
    assert "transfer-encoding" not in event["headers"]


def test_hop_by_hop_headers_are_dropped() -> None:
    event = build(request(headers=(("Connection", "keep-alive"), ("Keep-Alive", "timeout=5"), ("TE", "trailers"))))
    assert not {"connection", "keep-alive", "te"} & set(event["headers"])


@pytest.mark.parametrize(
    ("cookie_headers", "cookies"),
    [
        (("session=abc123; theme=dark",), ["session=abc123", "theme=dark"]),  # S-VK
        (("a=1", "b=2; c=3"), ["a=1", "b=2", "c=3"]),  # several Cookie headers merge (HV2-3)
        (("a=1;b=2",), ["a=1", "b=2"]),  # no space after ";" [INF]
        (("a=1; ; b=2;",), ["a=1", "b=2"]),
    ],
)
def test_cookies_move_out_of_headers(cookie_headers: tuple[str, ...], cookies: list[str]) -> None:
    """HV2-3."""
    event = build(request(headers=tuple(("Cookie", c) for c in cookie_headers)))
    assert event["cookies"] == cookies
    assert "cookie" not in event["headers"]


@pytest.mark.parametrize(
    ("raw", "params"),
    [
        ("a=1&a=2&b=", {"a": "1,2", "b": ""}),
        (
            "plus=test+alias@gmail.com&email=test%2Balias@gmail.com",
            {"plus": "test alias@gmail.com", "email": "test+alias@gmail.com"},
        ),
        ("flag", {"flag": ""}),
        ("k%20ey=v%C3%A9", {"k ey": "vé"}),
        ("bad=%zz", {"bad": "%zz"}),
        ("v=a,b&v=c", {"v": "a,b,c"}),  # HV2-4: a literal comma looks like a repeat
    ],
)
def test_query_parameters_decoded_and_comma_joined(raw: str, params: dict[str, str]) -> None:
    """HV2-4."""
    event = build(request(query=raw))
    assert event["rawQueryString"] == raw
    assert event["queryStringParameters"] == params


@pytest.mark.parametrize("raw", ["", "&", "&&"])
def test_no_query_parameters_key_without_parameters(raw: str) -> None:
    """HV2-1 / HV2-4: rawQueryString verbatim, queryStringParameters omitted."""
    event = build(request(query=raw))
    assert event["rawQueryString"] == raw
    assert "queryStringParameters" not in event


@pytest.mark.parametrize(
    ("sent", "path"),
    [
        ("/capture/space%20value", "/capture/space value"),
        ("/a%2Fb", "/a/b"),  # OBS fastify/aws-lambda-fastify#169
        ("/pa2%Fth/1", "/pa2%Fth/1"),  # invalid escape left alone
        ("/caf%C3%A9", "/café"),
        ("/caf\xc3\xa9", "/café"),  # raw UTF-8 bytes, latin-1 decoded by the server
        ("/users/me%3Fadmin=true", "/users/me"),  # cut at a decoded "?" [OBS O-MW93]
        ("/trailing/", "/trailing/"),
    ],
)
def test_raw_path_is_decoded_and_equals_http_path(sent: str, path: str) -> None:
    """HV2-5."""
    event = build(request(path=sent))
    assert event["rawPath"] == path
    assert event["requestContext"]["http"]["path"] == path


def test_named_stage_stays_in_the_path() -> None:
    """HV2-5: stage ``dev``, URL /dev/testApi -> rawPath /dev/testApi, stage "dev"."""
    event = build(request(path="/dev/testApi"), fmt=http_api(stage="dev"))
    assert event["rawPath"] == "/dev/testApi"
    assert event["requestContext"]["stage"] == "dev"


def test_route_key_path_parameters_and_stage_variables() -> None:
    """HV2-1 / HV2-5: routeKey as defined, decoded path parameters, stage variables when set."""
    match = RouteMatch(function="fn", route_key="GET /pets/{name}", path_parameters={"name": "hello world"})
    event = build(request(path="/pets/hello%20world"), match, http_api(stage_variables={"env": "dev"}))
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "GET /pets/{name}"
    assert event["pathParameters"] == {"name": "hello world"}
    assert event["stageVariables"] == {"env": "dev"}


def test_empty_path_parameters_and_stage_variables_are_omitted() -> None:
    """HV2-1: omitted, not null."""
    event = build(
        request(), RouteMatch(function="fn", route_key="ANY /x", path_parameters={}), http_api(stage_variables={})
    )
    assert "pathParameters" not in event
    assert "stageVariables" not in event


def test_request_context() -> None:
    """HV2-6 / C-4."""
    context = build(request("PUT", headers=(("User-Agent", "ua/1"),)))["requestContext"]
    assert context == {
        "accountId": "910345601053",
        "apiId": "sjzepsqsu5",
        "domainName": "sjzepsqsu5.execute-api.us-west-2.amazonaws.com",
        "domainPrefix": "sjzepsqsu5",
        "http": {"method": "PUT", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.10", "userAgent": "ua/1"},
        "requestId": "ATfSmjLgPHcESJw=",
        "routeKey": "$default",
        "stage": "$default",
        "time": "10/Jul/2026:19:19:05 +0000",
        "timeEpoch": 1783711145766,
    }


def test_no_user_agent_gives_empty_string() -> None:
    assert build(request())["requestContext"]["http"]["userAgent"] == ""


@pytest.mark.parametrize(
    ("content_type", "is_base64"),
    [
        ("application/json", False),
        ("application/json; charset=utf-8", False),
        ("text/plain", False),
        ("text/csv", False),
        ("application/xml", False),
        ("application/javascript", False),
        (None, True),
        ("application/x-www-form-urlencoded", True),
        ("multipart/form-data; boundary=x", True),
        ("application/octet-stream", True),
        ("image/png", True),
        ("application/vnd.api+json", True),  # suffix types unverified [INF]
    ],
)
def test_body_base64_split(content_type: str | None, is_base64: bool) -> None:
    """HV2-9 [OBS O-MS766]."""
    body = "héllo".encode()
    headers = (("Content-Type", content_type),) if content_type else ()
    event = build(request("POST", headers=headers, body=body))
    assert event["isBase64Encoded"] is is_base64
    assert event["body"] == (base64.b64encode(body).decode() if is_base64 else "héllo")


def test_no_body_key_without_body() -> None:
    """HV2-1 / C-3."""
    event = build(request("POST", headers=(("Content-Type", "application/json"),)))
    assert "body" not in event
    assert event["isBase64Encoded"] is False


# ---------------------------------------------------------------------------------------------
# Response rules


@pytest.mark.parametrize(
    ("result", "body"),
    [
        ("Hello from Lambda!", b"Hello from Lambda!"),  # D-HTTP table
        ({"message": "Hello from Lambda!"}, b'{"message":"Hello from Lambda!"}'),
        ({"body": "x", "headers": {"a": "b"}}, b'{"body":"x","headers":{"a":"b"}}'),  # no statusCode: all body
        ({"statusCode": None, "body": "x"}, b'{"statusCode":null,"body":"x"}'),  # null = absent [INF]
        ([1, "two", None], b'[1,"two",null]'),
        (None, b"null"),  # [INF]
        ("λ", "λ".encode()),
    ],
)
def test_inferred_response(result: Any, body: bytes) -> None:
    """HV2-R2 / URL-R1: 200, application/json, strings unquoted, JSON re-serialised compactly."""
    response = parse(result)
    expected = (200, (("Content-Type", "application/json"),), body)
    assert (response.status, app_headers(response.headers), response.body) == expected


def test_full_response_headers_cookies_and_body() -> None:
    """HV2-R1: headers single values, one Set-Cookie per cookie, content-type kept."""
    response = parse(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "text/plain", "X-Num": 5, "X-Flag": True, "X-Joined": "a,b"},
            "cookies": ["a=1; Path=/", "b=2; HttpOnly"],
            "body": "created",
            "isBase64Encoded": False,
        }
    )
    assert response.status == 201
    assert app_headers(response.headers) == (
        ("Content-Type", "text/plain"),
        ("X-Num", "5"),
        ("X-Flag", "true"),
        ("X-Joined", "a,b"),
        ("Set-Cookie", "a=1; Path=/"),
        ("Set-Cookie", "b=2; HttpOnly"),
    )
    assert response.body == b"created"


@pytest.mark.parametrize(
    ("result", "status", "headers", "body"),
    [
        ({"statusCode": 204}, 204, (("Content-Type", "application/json"),), b""),
        ({"statusCode": "418", "body": "teapot"}, 418, (("Content-Type", "application/json"),), b"teapot"),
        (
            {"statusCode": 200, "body": "aGk=", "isBase64Encoded": True, "headers": {"content-type": "image/png"}},
            200,
            (("content-type", "image/png"),),
            b"hi",
        ),
        (
            {"statusCode": 200, "body": {"hello": "world"}},
            200,
            (("Content-Type", "application/json"),),
            b'{"hello":"world"}',
        ),
        ({"statusCode": 200, "body": [1, 2]}, 200, (("Content-Type", "application/json"),), b"[1,2]"),
        (
            {"statusCode": 200, "headers": None, "cookies": None, "body": None, "isBase64Encoded": None},
            200,
            (("Content-Type", "application/json"),),
            b"",
        ),
        (
            {"statusCode": 200, "headers": {"Content-Length": "999", "Transfer-Encoding": "chunked"}, "body": "ok"},
            200,
            (("Content-Type", "application/json"),),
            b"ok",
        ),
        (
            {"statusCode": 200, "multiValueHeaders": {"x": ["1"]}, "extra": 1},
            200,
            (("Content-Type", "application/json"),),
            b"",
        ),
    ],
)
def test_full_response_variants(
    result: dict[str, Any], status: int, headers: tuple[tuple[str, str], ...], body: bytes
) -> None:
    """HV2-R1 / HV2-R3 / URL-R1: nulls are absent, framing headers are the gateway's, 2.0 has no multiValueHeaders."""
    response = parse(result)
    assert (response.status, app_headers(response.headers), response.body) == (status, headers, body)


@pytest.mark.parametrize(
    ("result", "message"),
    [
        ({"statusCode": "abc"}, "statusCode"),
        ({"statusCode": True}, "statusCode"),
        ({"statusCode": 1000}, "statusCode"),
        ({"statusCode": 200, "headers": ["a"]}, '"headers" must be a JSON object'),
        ({"statusCode": 200, "headers": {"x": ["a", "b"]}}, "'x'"),
        ({"statusCode": 200, "headers": {"x": None}}, "'x'"),
        ({"statusCode": 200, "headers": {"x": "a\r\nInjected: 1"}}, "a control character"),
        ({"statusCode": 200, "headers": {"x\ny": "a"}}, "not a valid header name"),
        ({"statusCode": 200, "headers": {"x:y": "a"}}, "not a valid header name"),
        ({"statusCode": 200, "cookies": "a=1"}, '"cookies" must be a JSON array'),
        ({"statusCode": 200, "cookies": [1]}, '"cookies"[0]'),
        ({"statusCode": 200, "cookies": ["a=1\r\nX: y"]}, "CR, LF or NUL"),
        ({"statusCode": 200, "body": "x", "isBase64Encoded": "true"}, "isBase64Encoded"),
        ({"statusCode": 200, "body": "not base64!", "isBase64Encoded": True}, "base64"),
        ({"statusCode": 200, "body": {"a": 1}, "isBase64Encoded": True}, "base64 string"),
    ],
)
def test_malformed_responses(result: dict[str, Any], message: str) -> None:
    """4.E: a malformed response is a 500 for the client; the message tells the user why."""
    with pytest.raises(InvalidLambdaResponse, match=re.escape(message)):
        parse(result)


def test_payload_that_is_not_json() -> None:
    with pytest.raises(InvalidLambdaResponse, match="not valid JSON"):
        http_api().parse_result(b"{oops", request(), CTX)


def test_service_headers() -> None:
    """apigw-requestid on every answer [OBS O-CX1225]."""
    assert http_api().service_headers(CTX) == (("apigw-requestid", "ATfSmjLgPHcESJw="),)


# ---------------------------------------------------------------------------------------------
# powertools' parser model accepts the events


POWERTOOLS_CASES = {
    "get-no-body": request(),
    "post-binary": request("POST", headers=(("Content-Type", "application/octet-stream"),), body=BINARY),
    "cookies": request(headers=(("Cookie", "a=1; b=2"), ("User-Agent", "x"))),
    "query": request(query="a=1&a=2&b=%20c"),
    "encoded-path": request("DELETE", path="/a%20b/c"),
}


@pytest.mark.parametrize("name", list(POWERTOOLS_CASES))
def test_powertools_model_accepts(name: str) -> None:
    match = RouteMatch(function="fn", route_key="ANY /{proxy+}", path_parameters={"proxy": "x"})
    event = json.loads(json.dumps(build(POWERTOOLS_CASES[name], match, http_api("dev", {"v": "1"}))))
    model = APIGatewayProxyEventV2Model.model_validate(event)
    assert model.requestContext.requestId == CTX.short_id
    assert model.isBase64Encoded is (name == "post-binary")


# ---------------------------------------------------------------------------------------------
# Real consumers see what the client sent


def test_mangum_sees_the_client_request() -> None:
    """consumers.md 1.2: Mangum takes the path from http.path (then unquotes it again, §1.4), the query
    from rawQueryString verbatim and rebuilds the cookie header from ``cookies``."""
    req = voker_request("sjzepsqsu5.execute-api.us-west-2.amazonaws.com")
    result, response = through_consumer(http_api(), MANGUM, req, CTX, DEFAULT)
    assert response.status == 200
    seen = json.loads(response.body)
    headers = dict(seen["headers"])
    assert seen["method"] == "POST"
    assert seen["path"] == "/capture/space value"
    assert seen["query"] == VOKER_QUERY
    assert seen["cookies"] == {"session": "abc123", "theme": "dark"}
    assert base64.b64decode(seen["body"]) == VOKER_BODY
    assert headers["x-voker-probe"] == "first,second"  # the two lines, comma-joined (HV2-2)
    assert {k: headers[k] for k in ("accept", "content-type", "user-agent", "content-length")} == {
        "accept": "*/*",
        "content-type": "application/json",
        "user-agent": "curl/8.7.1",
        "content-length": "66",
    }


def test_apig_wsgi_sees_the_client_request() -> None:
    """consumers.md 2.2: apig-wsgi unquotes rawPath -- already decoded by HTTP APIs (§1.4)."""
    req = voker_request("sjzepsqsu5.execute-api.us-west-2.amazonaws.com")
    _, response = through_consumer(http_api(), APIG_WSGI, req, CTX, DEFAULT)
    seen = json.loads(response.body)
    headers = dict(seen["headers"])
    assert (seen["method"], seen["path"], seen["query"]) == ("POST", "/capture/space value", VOKER_QUERY)
    assert parse_qsl(seen["query"], keep_blank_values=True)[0] == ("repeat", "one")
    assert headers["cookie"] == "session=abc123;theme=dark"
    assert headers["content-type"] == "application/json"
    assert headers["x-voker-probe"] == "first,second"
    assert seen["remote_addr"] == VOKER_CLIENT_IP
    assert base64.b64decode(seen["body"]) == VOKER_BODY


@pytest.mark.parametrize("consumer", list(CONSUMERS))
def test_consumer_response_maps_back(consumer: str) -> None:
    """HV2-R1: status, headers, both Set-Cookie lines (via ``cookies``) and the body reach the client."""
    _, response = through_consumer(http_api(), CONSUMERS[consumer], get_request("/respond"), CTX, DEFAULT)
    assert_app_response(response)


@pytest.mark.parametrize("consumer", list(CONSUMERS))
def test_consumer_binary_response_maps_back(consumer: str) -> None:
    """HV2-R3: the consumer's base64 body is decoded for the client."""
    result, response = through_consumer(http_api(), CONSUMERS[consumer], get_request("/binary"), CTX, DEFAULT)
    assert result["isBase64Encoded"] is True
    assert (response.status, response.body) == (200, BINARY)
    assert response.header("content-type") == "application/octet-stream"


@pytest.mark.parametrize("consumer", list(CONSUMERS))
def test_consumer_receives_binary_request_body(consumer: str) -> None:
    """HV2-9: a binary upload is base64 in the event and decoded again by the consumer."""
    req = HttpRequest(
        method="PUT",
        path="/upload",
        headers=(("host", "localhost"), ("content-type", "application/octet-stream")),
        body=BINARY,
        client_ip="192.0.2.10",
    )
    _, response = through_consumer(http_api(), CONSUMERS[consumer], req, CTX, DEFAULT)
    assert base64.b64decode(json.loads(response.body)["body"]) == BINARY
