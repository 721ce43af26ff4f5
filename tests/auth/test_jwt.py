"""JWT authorizers end to end: a local OIDC issuer, a real gateway over loopback, real httpx.

The issuer (tests/auth/issuer.py) serves discovery and the JWKS; tokens are signed with authlib.
Each refusal is checked for AWS's exact status, body and www-authenticate header (auth.md 2c;
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-jwt.html).
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gateway.auth.jwt import REFETCH_INTERVAL, Jwks, JwtAuthorizer, aws_claims
from gateway.config import GatewayConfig, HttpApiRoute
from gateway.errors import Unauthorized
from gateway.models import HttpRequest, InvocationContext, RouteMatch
from gateway.testing import start_gateway
from tests.auth.issuer import Issuer, encode, new_key, running_issuer, sign_hs256

ECHO = '''
import json

def handler(event, context):
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(event)}
'''
UNAUTHORIZED = b'{"message":"Unauthorized"}'
FORBIDDEN = b'{"message":"Forbidden"}'


def bearer(description: str) -> str:
    return f'Bearer scope="" error="invalid_token" error_description="{description}"'


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    with running_issuer() as running:
        yield running


@pytest.fixture(scope="module")
def api(issuer: Issuer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    code = tmp_path_factory.mktemp("jwt-handlers")
    (code / "echo.py").write_text(ECHO)
    jwt_auth = {"type": "jwt", "issuer": issuer.url, "audience": ["api", "other"],
                "identity_sources": ["$request.header.Authorization"]}
    config = GatewayConfig.from_mapping({
        "functions": {"echo": {"handler": "echo.handler", "code_uri": str(code), "isolation": "inprocess"}},
        "http_apis": [{
            "name": "http", "listen": "127.0.0.1:0",
            "authorizers": {"jwt1": jwt_auth},
            "routes": [
                {"route": "GET /me", "function": "echo", "authorizer": "jwt1", "authorization_scopes": ["read"]},
                {"route": "GET /any", "function": "echo", "authorizer": "jwt1"},
                {"route": "GET /v1/me", "function": "echo", "authorizer": "jwt1", "payload_format_version": "1.0"},
                {"route": "GET /open", "function": "echo"},
            ],
        }],
    })
    with start_gateway(config) as gw:
        yield gw.urls["http"].rstrip("/")


def get(url: str, token: str | None, *, raw: bool = False) -> httpx.Response:
    headers = {} if token is None else {"Authorization": token if raw else f"Bearer {token}"}
    return httpx.get(url, headers=headers, timeout=10)


def assert_401(response: httpx.Response, description: str) -> None:
    assert (response.status_code, response.content) == (401, UNAUTHORIZED)
    assert response.headers["www-authenticate"] == bearer(description)
    assert response.headers["content-type"] == "application/json"
    assert "x-amzn-errortype" not in response.headers


def test_valid_token_reaches_the_function_with_claims_and_scopes(issuer: Issuer, api: str) -> None:
    token = issuer.sign({"aud": "api", "sub": "alice", "scope": "read write", "groups": ["admin", "dev"],
                         "email_verified": True, "exp": 4_000_000_000})
    response = get(f"{api}/me", token)
    assert response.status_code == 200, response.text
    authorizer = response.json()["requestContext"]["authorizer"]
    claims = authorizer["jwt"]["claims"]
    # HTTP APIs hand every claim over as a string; arrays as "[a b]".
    assert claims["sub"] == "alice"
    assert claims["aud"] == "api"
    assert claims["exp"] == "4000000000"
    assert claims["groups"] == "[admin dev]"
    assert claims["email_verified"] == "true"
    assert claims["iss"] == issuer.url
    assert authorizer["jwt"]["scopes"] == ["read", "write"]
    assert set(authorizer) == {"jwt"}


def test_bare_token_without_bearer_prefix_is_accepted(issuer: Issuer, api: str) -> None:
    token = issuer.sign({"aud": "other", "scp": ["read"]})
    response = get(f"{api}/me", token, raw=True)
    assert response.status_code == 200, response.text
    assert response.json()["requestContext"]["authorizer"]["jwt"]["scopes"] == ["read"]


def test_no_scopes_claim_gives_null_scopes(issuer: Issuer, api: str) -> None:
    response = get(f"{api}/any", issuer.sign({"aud": "api"}))
    assert response.status_code == 200, response.text
    assert response.json()["requestContext"]["authorizer"]["jwt"]["scopes"] is None


def test_client_id_counts_only_without_aud(issuer: Issuer, api: str) -> None:
    assert get(f"{api}/any", issuer.sign({"client_id": "api"})).status_code == 200
    # aud present: aud decides, even when client_id would match.
    assert_401(get(f"{api}/any", issuer.sign({"aud": "nope", "client_id": "api"})),
               "the token does not have a valid audience")


def test_payload_1_0_gets_claims_and_scopes_at_the_top(issuer: Issuer, api: str) -> None:
    response = get(f"{api}/v1/me", issuer.sign({"aud": "api", "sub": "bob", "scope": "read"}))
    assert response.status_code == 200, response.text
    authorizer = response.json()["requestContext"]["authorizer"]
    assert authorizer["claims"]["sub"] == "bob"
    assert authorizer["scopes"] == ["read"]


def test_route_without_authorizer_has_no_authorizer_key(api: str) -> None:
    response = get(f"{api}/open", None)
    assert response.status_code == 200
    assert "authorizer" not in response.json()["requestContext"]


def test_expired(issuer: Issuer, api: str) -> None:
    token = issuer.sign({"aud": "api", "exp": int(time.time()) - 5})
    assert_401(get(f"{api}/any", token), "the token has expired")


def test_not_yet_valid(issuer: Issuer, api: str) -> None:
    token = issuer.sign({"aud": "api", "nbf": int(time.time()) + 300})
    assert_401(get(f"{api}/any", token), "the token is not valid yet")


def test_wrong_audience_has_the_documented_header(issuer: Issuer, api: str) -> None:
    response = get(f"{api}/any", issuer.sign({"aud": "someone-else"}))
    assert_401(response, "the token does not have a valid audience")
    # Verbatim from the AWS troubleshooting page.
    assert response.headers["www-authenticate"] == (
        'Bearer scope="" error="invalid_token" error_description="the token does not have a valid audience"')


def test_wrong_issuer(issuer: Issuer, api: str) -> None:
    assert_401(get(f"{api}/any", issuer.sign({"aud": "api", "iss": "http://evil.example"})),
               "the token does not have a valid issuer")


def test_bad_signature(issuer: Issuer, api: str) -> None:
    forger = new_key("key-1")  # same kid, another key
    assert_401(get(f"{api}/any", issuer.sign({"aud": "api"}, key=forger)), "the token signature is invalid")
    token = issuer.sign({"aud": "api"})
    head, body, sig = token.split(".")
    tampered = json.loads(_b64d(body))
    tampered["sub"] = "mallory"
    assert_401(get(f"{api}/any", f"{head}.{_b64e(json.dumps(tampered).encode())}.{sig}"),
               "the token signature is invalid")


def test_symmetric_algorithms_are_refused(issuer: Issuer, api: str) -> None:
    token = sign_hs256({"aud": "api", "iss": issuer.url, "exp": int(time.time()) + 60}, b"s" * 32, "key-1")
    assert_401(get(f"{api}/any", token), "signing method HS256 is invalid")


def test_malformed_and_missing(api: str) -> None:
    assert_401(get(f"{api}/any", "not-a-jwt"), "the token is malformed")
    assert_401(get(f"{api}/any", None), "the token is missing")
    assert_401(get(f"{api}/any", "", raw=True), "the token is missing")


def test_missing_scope_is_403(issuer: Issuer, api: str) -> None:
    response = get(f"{api}/me", issuer.sign({"aud": "api", "scope": "write admin"}))
    assert (response.status_code, response.content) == (403, FORBIDDEN)
    assert response.headers["www-authenticate"] == (
        'Bearer scope="read" error="insufficient_scope" '
        'error_description="the token does not have the required scopes"')
    no_scope = get(f"{api}/me", issuer.sign({"aud": "api"}))
    assert (no_scope.status_code, no_scope.content) == (403, FORBIDDEN)


def test_unknown_kid_refetches_the_jwks_once(issuer: Issuer, api: str) -> None:
    assert get(f"{api}/any", issuer.sign({"aud": "api"})).status_code == 200  # keys cached
    rotated = issuer.add_key("key-2")
    time.sleep(REFETCH_INTERVAL + 0.2)
    before = issuer.jwks_fetches
    response = get(f"{api}/any", issuer.sign({"aud": "api", "sub": "rotated"}, key=rotated))
    assert response.status_code == 200, response.text
    assert issuer.jwks_fetches == before + 1
    # Right after a fetch, another unknown kid is refused without asking the issuer again.
    stranger = new_key("key-3")
    assert_401(get(f"{api}/any", issuer.sign({"aud": "api"}, key=stranger)), "no key with kid key-3 was found")
    assert issuer.jwks_fetches == before + 1
    # Known kids are served from the cache.
    assert get(f"{api}/any", issuer.sign({"aud": "api"}, key=rotated)).status_code == 200
    assert issuer.jwks_fetches == before + 1


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# ------------------------------------------------------------------------------------------
# The clock is the request's: exp and nbf against InvocationContext.time_epoch_ms (no server).


def _authorizer(issuer_key: Any) -> JwtAuthorizer:
    jwks = {"keys": [issuer_key.as_dict(is_private=False)]}

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("openid-configuration"):
            return httpx.Response(200, json={"jwks_uri": "http://issuer.test/jwks"})
        return httpx.Response(200, json=jwks)

    fetcher = Jwks("http://issuer.test", transport=httpx.MockTransport(answer))
    return JwtAuthorizer("unit", issuer="http://issuer.test", audience=("api",),
                         identity_source="$request.header.Authorization", jwks=fetcher)


def _check(authorizer: JwtAuthorizer, token: str, now: int) -> Any:
    request = HttpRequest(method="GET", path="/x", headers=(("Authorization", f"Bearer {token}"),))
    match = RouteMatch(function="f", route_key="GET /x", route=HttpApiRoute(route="GET /x", function="f"))
    ctx = InvocationContext(request_id="r", time_epoch_ms=now * 1000, trace_id="t")
    return asyncio.run(authorizer.check(request, match, ctx))


def test_exp_and_nbf_use_the_request_time() -> None:
    key = new_key("k")
    token = encode({"alg": "RS256", "kid": "k"}, {"iss": "http://issuer.test", "aud": "api", "nbf": 1000, "exp": 2000},
                   key)
    authorizer = _authorizer(key)
    assert _check(authorizer, token, 1500).claims["exp"] == "2000"
    for now, description in ((2000, "the token has expired"), (999, "the token is not valid yet")):
        with pytest.raises(Unauthorized) as caught:
            _check(authorizer, token, now)
        assert caught.value.headers == (("www-authenticate", bearer(description)),)
    assert authorizer.jwks.fetches == 1


def test_claims_are_strings_as_aws_passes_them() -> None:
    claims = {"s": "x", "n": 5, "f": 1.5, "big": 1.7e9, "b": False, "l": ["a", 1, True], "o": {"k": "v"}}
    assert aws_claims(claims) == {"s": "x", "n": "5", "f": "1.5", "big": "1700000000", "b": "false",
                                  "l": "[a 1 true]", "o": "map[k:v]"}
