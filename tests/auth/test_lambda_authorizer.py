"""Lambda authorizers end to end: REST TOKEN and REQUEST, HTTP API payload 1.0 and 2.0 (simple
responses and IAM policies), over loopback with real httpx against a real gateway.

The authorizer functions (written to a temp dir) append each event they receive to a log file,
so the tests count invocations and check the exact authorizer events. Refusals are checked for
AWS's exact status, body and x-amzn-ErrorType (gateway/auth/answers.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.auth.authorizer_result import ResultError, parse_result
from gateway.auth.identity import IdentitySources
from gateway.config import GatewayConfig
from gateway.errors import ConfigError
from gateway.models import HttpRequest
from gateway.testing import start_gateway

ECHO = '''
import json

def handler(event, context):
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(event)}
'''

AUTHORIZERS = '''
import json

LOG = {log!r}


def _log(name, event):
    with open(LOG, "a") as fh:
        fh.write(json.dumps({{"fn": name, "event": event}}) + "\\n")


def _policy(effect, resource, principal="user-1", context=None):
    out = {{"principalId": principal, "policyDocument": {{"Version": "2012-10-17", "Statement": [
        {{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}}]}}}}
    if context is not None:
        out["context"] = context
    return out


def token(event, context):
    _log("token", event)
    token, arn = event["authorizationToken"], event["methodArn"]
    api = arn.split("/")[0]
    if token.startswith("allow"):
        return _policy("Allow", arn, context={{"tenant": "t1", "level": 3, "admin": True}})
    if token.startswith("wild"):
        return _policy("Allow", api + "/*/GET/*")
    if token.startswith("exact"):
        return _policy("Allow", arn)
    if token.startswith("deny"):
        return _policy("Deny", arn)
    if token.startswith("other"):
        return _policy("Allow", api + "/*/POST/*")
    if token.startswith("unauthorized"):
        raise Exception("Unauthorized")
    if token.startswith("boom"):
        raise RuntimeError("kaput")
    if token.startswith("garbage"):
        return {{"principalId": "x"}}
    if token.startswith("nested"):
        return _policy("Allow", arn, context={{"obj": {{"a": 1}}}})
    return "not a result"


def request(event, context):
    _log("request", event)
    arn = event.get("methodArn") or event.get("routeArn")
    headers = {{k.lower(): v for k, v in (event.get("headers") or {{}}).items()}}
    user = headers.get("x-user")
    if user == "deny":
        return _policy("Deny", arn)
    return _policy("Allow", arn, principal=user, context={{"user": user}})


def slow(event, context):
    import time
    time.sleep(1.5)
    return {{"isAuthorized": True}}


def simple(event, context):
    _log("simple", event)
    value = event["headers"].get("authorization", "")
    if value.startswith("yes"):
        return {{"isAuthorized": True, "context": {{"user": "u1", "n": 1, "list": [1, 2], "map": {{"k": "v"}}}}}}
    if value.startswith("boom"):
        raise RuntimeError("kaput")
    if value.startswith("bad"):
        return {{"isAuthorized": "yes"}}
    return {{"isAuthorized": False, "context": {{"user": "nobody"}}}}
'''

REST_ID = "restapi123"
HTTP_ID = "httpapi123"
ARN = "arn:aws:execute-api:us-east-1:123456789012"

UNAUTHORIZED = b'{"message":"Unauthorized"}'
EXPLICIT_DENY = b'{"Message":"User is not authorized to access this resource with an explicit deny"}'
IMPLICIT_DENY = b'{"Message":"User is not authorized to access this resource"}'
REST_FAILED = b'{"message":null}'
HTTP_FORBIDDEN = b'{"message":"Forbidden"}'
HTTP_FAILED = b'{"message":"Internal Server Error"}'


@dataclass
class Setup:
    rest: str
    http: str
    http_slow: str
    log: Path

    def events(self, fn: str) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        lines = [json.loads(line) for line in self.log.read_text().splitlines()]
        return [line["event"] for line in lines if line["fn"] == fn]

    def count(self, fn: str, token: str) -> int:
        """Invocations of ``fn`` whose identity carried ``token``."""
        return sum(1 for e in self.events(fn) if token in json.dumps(e))


def _mapping(code: Path) -> dict[str, Any]:
    def fn(handler: str) -> dict[str, Any]:
        return {"handler": handler, "code_uri": str(code), "isolation": "inprocess"}

    def tok(ttl: int, **extra: Any) -> dict[str, Any]:
        return {"type": "token", "function": "auth_token", "ttl": ttl, **extra}

    rest_routes = [("/things/{id}", "tok"), ("/nocache/{id}", "tok0"), ("/short", "tok1"), ("/re", "tokre"),
                   ("/req", "req"), ("/custom", "custom")]
    http_auth = {
        "simple": {"type": "request", "function": "auth_simple", "payload_format_version": "2.0",
                   "enable_simple_responses": True, "identity_sources": ["$request.header.Authorization"],
                   "ttl": 300},
        "pol2": {"type": "request", "function": "auth_request", "payload_format_version": "2.0",
                 "identity_sources": ["$request.header.X-User"]},
        "v1": {"type": "request", "function": "auth_request", "payload_format_version": "1.0",
               "identity_sources": ["$request.header.X-User", "$request.querystring.tenant"]},
    }
    http_routes = [("GET /s/{id}", "simple", "2.0"), ("GET /s2", "simple", "2.0"), ("GET /p", "pol2", "2.0"),
                   ("GET /one", "v1", "1.0"), ("GET /one2", "v1", "2.0")]
    return {
        "functions": {"app": fn("echo.handler"), "auth_token": fn("authorizers.token"),
                      "auth_request": fn("authorizers.request"), "auth_simple": fn("authorizers.simple"),
                      "auth_slow": fn("authorizers.slow")},
        "rest_apis": [{
            "name": "rest", "listen": "127.0.0.1:0", "stage": "test", "api_id": REST_ID,
            "authorizers": {
                "tok": tok(300), "tok0": tok(0), "tok1": tok(1),
                "tokre": tok(0, identity_validation_expression="^allow[0-9]*$"),
                "custom": tok(0, identity_sources="method.request.header.X-Token"),
                "req": {"type": "request", "function": "auth_request", "ttl": 0,
                        "identity_sources": ["method.request.header.X-User", "method.request.querystring.tenant"]},
            },
            "routes": [*({"method": "GET", "path": p, "function": "app", "authorizer": a} for p, a in rest_routes),
                       {"method": "GET", "path": "/open", "function": "app"}],
        }],
        "http_apis": [{
            "name": "http", "listen": "127.0.0.1:0", "api_id": HTTP_ID, "authorizers": http_auth,
            "routes": [{"route": r, "function": "app", "authorizer": a, "payload_format_version": v}
                       for r, a, v in http_routes],
        }, {
            "name": "http-slow", "listen": "127.0.0.1:0", "integration_timeout": 0.5,
            "authorizers": {"slow": {"type": "request", "function": "auth_slow", "enable_simple_responses": True}},
            "routes": [{"route": "GET /slow", "function": "app", "authorizer": "slow"}],
        }],
    }


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    code = tmp_path_factory.mktemp("authorizers")
    log = code / "invocations.jsonl"
    (code / "echo.py").write_text(ECHO)
    (code / "authorizers.py").write_text(AUTHORIZERS.format(log=str(log)))
    with start_gateway(GatewayConfig.from_mapping(_mapping(code))) as gw:
        yield Setup(rest=gw.urls["rest"].rstrip("/"), http=gw.urls["http"].rstrip("/"),
                    http_slow=gw.urls["http-slow"].rstrip("/"), log=log)


def get(url: str, **headers: str) -> httpx.Response:
    return httpx.get(url, headers={k.replace("_", "-"): v for k, v in headers.items()}, timeout=10)


def assert_answer(response: httpx.Response, status: int, body: bytes, error_type: str | None) -> None:
    assert (response.status_code, response.content) == (status, body)
    assert response.headers["content-type"] == "application/json"
    assert response.headers.get("x-amzn-errortype") == error_type


# ------------------------------------------------------------------------------------------
# REST TOKEN authorizers


def test_rest_token_allow_event_and_context(setup: Setup) -> None:
    response = get(f"{setup.rest}/things/1", Authorization="allow-a")
    assert response.status_code == 200, response.text
    assert setup.events("token")[-1] == {
        "type": "TOKEN", "authorizationToken": "allow-a", "methodArn": f"{ARN}:{REST_ID}/test/GET/things/1"}
    authorizer = response.json()["requestContext"]["authorizer"]
    latency = authorizer.pop("integrationLatency")
    assert isinstance(latency, int) and latency >= 0
    assert authorizer == {"tenant": "t1", "level": 3, "admin": True, "principalId": "user-1"}


def test_rest_explicit_and_implicit_deny(setup: Setup) -> None:
    assert_answer(get(f"{setup.rest}/things/1", Authorization="deny-a"), 403, EXPLICIT_DENY,
                  "AccessDeniedException")
    assert_answer(get(f"{setup.rest}/things/1", Authorization="other-a"), 403, IMPLICIT_DENY,
                  "AccessDeniedException")


def test_rest_unauthorized_error_is_401(setup: Setup) -> None:
    assert_answer(get(f"{setup.rest}/nocache/1", Authorization="unauthorized"), 401, UNAUTHORIZED,
                  "UnauthorizedException")


@pytest.mark.parametrize("token", ["boom", "garbage", "nested", "junk"])
def test_rest_authorizer_failure_is_500(setup: Setup, token: str) -> None:
    """A function error, a result without policy, an object in context, a non-object: 500."""
    assert_answer(get(f"{setup.rest}/nocache/1", Authorization=token), 500, REST_FAILED,
                  "AuthorizerConfigurationException")


def test_rest_missing_identity_source_is_401_without_invoking(setup: Setup) -> None:
    before = len(setup.events("token"))
    assert_answer(get(f"{setup.rest}/things/1"), 401, UNAUTHORIZED, "UnauthorizedException")
    assert_answer(get(f"{setup.rest}/things/1", Authorization=""), 401, UNAUTHORIZED, "UnauthorizedException")
    assert_answer(get(f"{setup.rest}/custom", Authorization="allow"), 401, UNAUTHORIZED, "UnauthorizedException")
    assert len(setup.events("token")) == before
    assert get(f"{setup.rest}/custom", X_Token="allow-custom").status_code == 200


def test_rest_identity_validation_expression(setup: Setup) -> None:
    before = len(setup.events("token"))
    assert_answer(get(f"{setup.rest}/re", Authorization="Bearer x"), 401, UNAUTHORIZED, "UnauthorizedException")
    assert len(setup.events("token")) == before
    assert get(f"{setup.rest}/re", Authorization="allow7").status_code == 200
    assert len(setup.events("token")) == before + 1


def test_rest_cache_is_keyed_on_the_token_and_reevaluated_per_arn(setup: Setup) -> None:
    first = get(f"{setup.rest}/things/1", Authorization="exact-1")
    assert first.status_code == 200
    assert first.json()["requestContext"]["authorizer"]["integrationLatency"] >= 0
    again = get(f"{setup.rest}/things/1", Authorization="exact-1")
    assert again.status_code == 200
    assert again.json()["requestContext"]["authorizer"]["integrationLatency"] == 0  # cached [INF]
    # The cached policy names /things/1 only: /things/2 is refused from the cache, not re-invoked.
    assert_answer(get(f"{setup.rest}/things/2", Authorization="exact-1"), 403, IMPLICIT_DENY,
                  "AccessDeniedException")
    assert setup.count("token", "exact-1") == 1
    # A wildcard policy covers every GET, and a deny is cached too.
    for path in ("/things/1", "/things/2", "/things/3"):
        assert get(f"{setup.rest}{path}", Authorization="wild-1").status_code == 200
    assert setup.count("token", "wild-1") == 1
    for _ in range(2):
        assert get(f"{setup.rest}/things/9", Authorization="deny-9").status_code == 403
    assert setup.count("token", "deny-9") == 1
    # Failures are not cached.
    for _ in range(2):
        assert get(f"{setup.rest}/things/9", Authorization="boom-9").status_code == 500
    assert setup.count("token", "boom-9") == 2


def test_rest_ttl_zero_never_caches(setup: Setup) -> None:
    for _ in range(3):
        assert get(f"{setup.rest}/nocache/1", Authorization="allow-nc").status_code == 200
    assert setup.count("token", "allow-nc") == 3


def test_rest_ttl_expiry(setup: Setup) -> None:
    assert get(f"{setup.rest}/short", Authorization="allow-ttl").status_code == 200
    assert get(f"{setup.rest}/short", Authorization="allow-ttl").status_code == 200
    assert setup.count("token", "allow-ttl") == 1
    time.sleep(1.2)
    assert get(f"{setup.rest}/short", Authorization="allow-ttl").status_code == 200
    assert setup.count("token", "allow-ttl") == 2


def test_rest_route_without_authorizer_has_no_authorizer_key(setup: Setup) -> None:
    response = get(f"{setup.rest}/open")
    assert response.status_code == 200
    assert "authorizer" not in response.json()["requestContext"]


# ------------------------------------------------------------------------------------------
# REST REQUEST authorizers


def test_rest_request_authorizer_event(setup: Setup) -> None:
    response = get(f"{setup.rest}/req?tenant=acme&x=1", X_User="carol")
    assert response.status_code == 200, response.text
    event = setup.events("request")[-1]
    assert (event["type"], event["methodArn"]) == ("REQUEST", f"{ARN}:{REST_ID}/test/GET/req")
    assert (event["resource"], event["path"], event["httpMethod"]) == ("/req", "/req", "GET")
    assert event["headers"]["X-User"] == "carol"
    assert event["queryStringParameters"] == {"tenant": "acme", "x": "1"}
    assert event["requestContext"]["stage"] == "test"
    assert "body" not in event and "isBase64Encoded" not in event
    authorizer = response.json()["requestContext"]["authorizer"]
    assert (authorizer["principalId"], authorizer["user"]) == ("carol", "carol")


def test_rest_request_authorizer_needs_every_source(setup: Setup) -> None:
    before = len(setup.events("request"))
    assert_answer(get(f"{setup.rest}/req", X_User="carol"), 401, UNAUTHORIZED, "UnauthorizedException")
    assert_answer(get(f"{setup.rest}/req?tenant=", X_User="carol"), 401, UNAUTHORIZED, "UnauthorizedException")
    assert len(setup.events("request")) == before
    assert_answer(get(f"{setup.rest}/req?tenant=a", X_User="deny"), 403, EXPLICIT_DENY, "AccessDeniedException")


# ------------------------------------------------------------------------------------------
# HTTP APIs: payload 2.0 simple responses and policies, payload 1.0


def test_http_simple_response_allow_event_and_context(setup: Setup) -> None:
    response = get(f"{setup.http}/s/1?q=v", Authorization="yes-1")
    assert response.status_code == 200, response.text
    event = setup.events("simple")[-1]
    assert (event["version"], event["type"]) == ("2.0", "REQUEST")
    assert event["routeArn"] == f"{ARN}:{HTTP_ID}/$default/GET/s/1"
    assert event["identitySource"] == ["yes-1"]
    assert event["routeKey"] == "GET /s/{id}"
    assert (event["rawPath"], event["rawQueryString"]) == ("/s/1", "q=v")
    assert event["pathParameters"] == {"id": "1"}
    assert event["requestContext"]["http"]["method"] == "GET"
    assert "body" not in event and "isBase64Encoded" not in event
    assert response.json()["requestContext"]["authorizer"] == {
        "lambda": {"user": "u1", "n": 1, "list": [1, 2], "map": {"k": "v"}}}


def test_http_simple_response_deny_failure_and_missing(setup: Setup) -> None:
    assert_answer(get(f"{setup.http}/s/1", Authorization="no-1"), 403, HTTP_FORBIDDEN, None)
    assert_answer(get(f"{setup.http}/s/1", Authorization="boom-1"), 500, HTTP_FAILED, None)
    assert_answer(get(f"{setup.http}/s/1", Authorization="bad-1"), 500, HTTP_FAILED, None)
    before = len(setup.events("simple"))
    assert_answer(get(f"{setup.http}/s/1"), 401, UNAUTHORIZED, None)
    assert len(setup.events("simple")) == before


def test_http_simple_response_cached_across_routes(setup: Setup) -> None:
    for url in (f"{setup.http}/s/1", f"{setup.http}/s/2", f"{setup.http}/s2"):
        assert get(url, Authorization="yes-cache").status_code == 200
    assert setup.count("simple", "yes-cache") == 1
    for url in (f"{setup.http}/s/1", f"{setup.http}/s2"):
        assert get(url, Authorization="no-cache").status_code == 403
    assert setup.count("simple", "no-cache") == 1


def test_http_payload_2_policy_response(setup: Setup) -> None:
    response = get(f"{setup.http}/p", X_User="dave")
    assert response.status_code == 200, response.text
    assert response.json()["requestContext"]["authorizer"] == {"lambda": {"user": "dave"}}
    assert_answer(get(f"{setup.http}/p", X_User="deny"), 403, HTTP_FORBIDDEN, None)


def test_http_payload_1_authorizer_event_and_integration_context(setup: Setup) -> None:
    response = get(f"{setup.http}/one?tenant=acme", X_User="erin")
    assert response.status_code == 200, response.text
    event = setup.events("request")[-1]
    assert (event["version"], event["type"]) == ("1.0", "REQUEST")
    assert event["methodArn"] == f"{ARN}:{HTTP_ID}/$default/GET/one"
    assert event["identitySource"] == event["authorizationToken"] == "erin,acme"
    assert (event["resource"], event["path"], event["httpMethod"]) == ("/one", "/one", "GET")
    assert event["headers"]["x-user"] == "erin"
    authorizer = response.json()["requestContext"]["authorizer"]
    authorizer.pop("integrationLatency")
    assert authorizer == {"user": "erin", "principalId": "erin"}  # REST-compatible shape [INF]
    # The same authorizer on a payload 2.0 route: the integration gets authorizer.lambda.
    two = get(f"{setup.http}/one2?tenant=acme", X_User="erin")
    assert two.json()["requestContext"]["authorizer"] == {"lambda": {"user": "erin"}}
    assert_answer(get(f"{setup.http}/one", X_User="erin"), 401, UNAUTHORIZED, None)


def test_an_authorizer_that_times_out_is_500(setup: Setup) -> None:
    """The authorizer gets the API's integration timeout; past it the caller gets 500 [INF]."""
    started = time.monotonic()
    assert_answer(get(f"{setup.http_slow}/slow"), 500, HTTP_FAILED, None)
    assert time.monotonic() - started < 1.4


# ------------------------------------------------------------------------------------------
# Config validation names the key


@pytest.mark.parametrize(("change", "key"), [
    (lambda m: m["rest_apis"][0]["routes"][0].update(authorizer="nope"), "rest_apis[0].routes[0].authorizer"),
    (lambda m: m["rest_apis"][0]["authorizers"]["tok"].update(function="ghost"),
     "rest_apis[0].authorizers.tok.function"),
    (lambda m: m["rest_apis"][0]["authorizers"]["req"].update(identity_sources=["header.X"]),
     "rest_apis[0].authorizers.req.identity_sources[0]"),
    (lambda m: m["rest_apis"][0]["authorizers"]["tok"].update(ttl=3601), "rest_apis[0].authorizers.tok.ttl"),
    (lambda m: m["http_apis"][0]["authorizers"]["v1"].update(enable_simple_responses=True),
     "http_apis[0].authorizers.v1.enable_simple_responses"),
    (lambda m: m["http_apis"][0]["authorizers"]["pol2"].update(identity_sources=["$request.cookie.x"]),
     "http_apis[0].authorizers.pol2.identity_sources[0]"),
    (lambda m: m["http_apis"][0]["routes"][0].update(authorization_scopes=["read"]),
     "http_apis[0].routes[0].authorization_scopes"),
])
def test_config_errors_name_the_key(tmp_path: Path, change: Any, key: str) -> None:
    mapping = _mapping(tmp_path)
    change(mapping)
    with pytest.raises(ConfigError) as caught:
        GatewayConfig.from_mapping(mapping)
    assert caught.value.key == key


# ------------------------------------------------------------------------------------------
# Pure parts: identity sources and results


def test_identity_sources_read_headers_queries_stage_and_context() -> None:
    sources = IdentitySources.parse(
        ["$request.header.X-Key", "$request.querystring.q", "$stageVariables.env", "$context.routeKey"], "http")
    request = HttpRequest(method="GET", path="/a", query_string="q=1&q=2",
                          headers=(("x-key", "k1"), ("X-Key", "k2")))
    context = {"routeKey": "GET /a"}.get
    assert sources.values(request, stage_variables={"env": "dev"}, context=context) == ["k1,k2", "1,2", "dev", "GET /a"]
    rest = IdentitySources.parse(["method.request.header.X-Key", "method.request.querystring.q"], "rest")
    assert rest.values(request, stage_variables={}, context=context) == ["k2", "2"]
    assert sources.values(request, stage_variables={}, context=context) is None  # a missing stage variable
    with pytest.raises(ValueError, match="not an identity source"):
        IdentitySources.parse(["method.request.header.X"], "http")


def test_results_are_checked() -> None:
    def parse(doc: Any, *, simple: bool = False, error: str | None = None) -> Any:
        return parse_result(json.dumps(doc).encode(), error, simple=simple, scalar_context=True,
                            require_principal=True)

    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "execute-api:*", "Resource": f"{ARN}:a/*/GET/*"},
        {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": f"{ARN}:a/*/GET/admin/*"}]}
    result = parse({"principalId": "p", "policyDocument": policy, "usageIdentifierKey": "key"})
    assert result.verdict(f"{ARN}:a/dev/GET/x") == "allow"
    assert result.verdict(f"{ARN}:a/dev/GET/admin/x") == "explicit_deny"
    assert result.verdict(f"{ARN}:a/dev/POST/x") == "implicit_deny"
    assert parse({"isAuthorized": True}, simple=True).verdict("any") == "allow"
    bad = [({"policyDocument": policy}, "principalId"), ({"principalId": "p"}, "policyDocument"),
           ({"principalId": "p", "policyDocument": policy, "context": {"a": [1]}}, "context.a"),
           ({"principalId": "p", "policyDocument": {"Statement": [{"Effect": "Maybe"}]}}, "Effect")]
    for doc, word in bad:
        with pytest.raises(ResultError, match=word):
            parse(doc)
    with pytest.raises(ResultError) as caught:
        parse({"errorMessage": "Unauthorized", "errorType": "Exception"}, error="Unhandled")
    assert caught.value.unauthorized
