"""The pure CORS policy (gateway/auth/cors.py): preflight and decorate tables, wildcards, credentials, limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.auth.cors import CorsPolicy, Kind, cors_problem
from gateway.config import CorsConfig, GatewayConfig
from gateway.errors import ConfigError
from gateway.models import HttpRequest, HttpResponse

APP = "http://localhost:5173"


def policy(kind: Kind = "http_api", **cfg: Any) -> CorsPolicy:
    config = CorsConfig(**{"allow_origins": (APP,), **cfg})
    assert cors_problem(config, kind) is None
    return CorsPolicy.compile(config, kind)


def req(method: str = "GET", **headers: str) -> HttpRequest:
    pairs = tuple((name.replace("_", "-"), value) for name, value in headers.items())
    return HttpRequest(method=method, path="/x", headers=pairs)


def preflight_req(origin: str = APP, method: str = "PUT", **headers: str) -> HttpRequest:
    return req("OPTIONS", Origin=origin, Access_Control_Request_Method=method, **headers)


def names(response: HttpResponse) -> list[str]:
    return [k for k, _ in response.headers]


# ------------------------------------------------------------------------------------------
# Preflight.

FULL: dict[str, Any] = dict(allow_methods=("GET", "PUT"), allow_headers=("content-type", "x-token"), max_age=300,
            expose_headers=("x-request-id",), allow_credentials=True)


@pytest.mark.parametrize(("kind", "status"), [("http_api", 204), ("function_url", 200)])
def test_preflight_allowed_origin_carries_the_configured_lists(kind: Kind, status: int) -> None:
    answer = policy(kind, **FULL).preflight(preflight_req(Access_Control_Request_Headers="x-token"), (("id", "1"),))
    assert answer is not None
    assert (answer.status, answer.body) == (status, b"")
    assert answer.headers == (
        ("Access-Control-Allow-Origin", APP), ("Access-Control-Allow-Credentials", "true"),
        ("Access-Control-Allow-Methods", "GET,PUT"), ("Access-Control-Allow-Headers", "content-type,x-token"),
        ("Access-Control-Max-Age", "300"), ("id", "1"),
    )


@pytest.mark.parametrize("kind", ["http_api", "function_url"])
def test_preflight_from_a_disallowed_origin_is_answered_without_cors_headers(kind: Kind) -> None:
    answer = policy(kind, **FULL).preflight(preflight_req("http://evil.example"), (("id", "1"),))
    assert answer is not None
    assert answer.headers == (("id", "1"),)


def test_preflight_does_not_judge_method_or_headers_the_browser_does() -> None:
    # [INF] The configured lists are stated; a browser asking for DELETE or x-other refuses by itself.
    answer = policy(allow_methods=("GET",), allow_headers=("x-token",)).preflight(
        preflight_req(method="DELETE", Access_Control_Request_Headers="x-other"))
    assert answer is not None
    assert answer.header("access-control-allow-methods") == "GET"
    assert answer.header("access-control-allow-headers") == "x-token"


@pytest.mark.parametrize("request_", [
    req("OPTIONS", Origin=APP),  # no Access-Control-Request-Method: a plain OPTIONS request
    req("OPTIONS", Access_Control_Request_Method="GET"),  # no Origin
    req("GET", Origin=APP, Access_Control_Request_Method="GET"),
])
def test_only_options_with_origin_and_request_method_is_a_preflight(request_: HttpRequest) -> None:
    assert policy().preflight(request_) is None


def test_preflight_without_optional_settings_sends_only_the_origin() -> None:
    answer = policy().preflight(preflight_req())
    assert answer is not None and answer.headers == (("Access-Control-Allow-Origin", APP),)


def test_function_url_methods_are_sent_uppercase() -> None:
    answer = policy("function_url", allow_methods=("get", "post")).preflight(preflight_req())
    assert answer is not None and answer.header("access-control-allow-methods") == "GET,POST"


def test_wildcards_are_sent_literally() -> None:
    answer = policy(allow_origins=("*",), allow_methods=("*",), allow_headers=("*",)).preflight(preflight_req())
    assert answer is not None
    assert [answer.header(h) for h in ("access-control-allow-origin", "access-control-allow-methods",
                                       "access-control-allow-headers")] == ["*", "*", "*"]


# ------------------------------------------------------------------------------------------
# Origins.


@pytest.mark.parametrize(("kind", "origins", "origin", "expected"), [
    ("http_api", (APP,), APP, APP),
    ("http_api", (APP,), "HTTP://LOCALHOST:5173", "HTTP://LOCALHOST:5173"),  # [INF] case-insensitive, echoed
    ("http_api", (APP,), "http://localhost:5174", None),
    ("http_api", (APP,), "http://localhost:5173.evil.example", None),
    ("http_api", ("*",), "https://a.example", "*"),  # [INF] an HTTP API sends *
    ("http_api", ("*", APP), APP, APP),
    ("http_api", ("https://*",), "https://a.example", "https://a.example"),  # CORS-H1 prefix wildcard
    ("http_api", ("https://*",), "http://a.example", None),
    ("http_api", ("https://*",), "https://", None),
    ("http_api", ("http://*", "https://*"), "http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ("function_url", ("*",), "https://a.example", "https://a.example"),  # CORS-U2: echoed, O-PT4163
    ("function_url", (APP,), "null", None),
    ("function_url", (), APP, None),
])
def test_allow_origin(kind: Kind, origins: tuple[str, ...], origin: str, expected: str | None) -> None:
    assert policy(kind, allow_origins=origins).allow_origin(origin) == expected


# ------------------------------------------------------------------------------------------
# Actual responses.

BACKEND = HttpResponse(status=201, headers=(
    ("Content-Type", "text/plain"), ("Access-Control-Allow-Origin", APP), ("access-control-max-age", "5"),
    ("X-Request-Id", "r1"),
), body=b"hi", reason="Created")


def test_http_api_drops_backend_cors_headers_and_adds_configured_ones() -> None:
    out = policy(**FULL).decorate(req(Origin=APP), BACKEND)
    assert out.headers == (
        ("Content-Type", "text/plain"), ("X-Request-Id", "r1"),
        ("Access-Control-Allow-Origin", APP), ("Access-Control-Allow-Credentials", "true"),
        ("Access-Control-Expose-Headers", "x-request-id"),
    )
    assert (out.status, out.body, out.reason) == (201, b"hi", "Created")


@pytest.mark.parametrize("headers", [{}, {"Origin": "http://evil.example"}])
def test_http_api_drops_backend_cors_headers_even_without_an_allowed_origin(headers: dict[str, str]) -> None:
    out = policy(**FULL).decorate(req(**headers), BACKEND)
    assert names(out) == ["Content-Type", "X-Request-Id"]


def test_function_url_keeps_the_functions_header_and_adds_its_own_so_it_arrives_twice() -> None:
    out = policy("function_url", allow_origins=("*",)).decorate(req(Origin=APP), BACKEND)
    assert [v for k, v in out.headers if k.lower() == "access-control-allow-origin"] == [APP, APP]  # CORS-U2
    assert out.header("access-control-max-age") == "5"


@pytest.mark.parametrize("headers", [{}, {"Origin": "http://evil.example"}])
def test_function_url_without_an_allowed_origin_passes_the_response_through(headers: dict[str, str]) -> None:
    out = policy("function_url", **FULL).decorate(req(**headers), BACKEND)
    assert out is BACKEND


def test_decorate_leaves_preflight_answers_alone() -> None:
    p = policy(**FULL)
    answer = p.preflight(preflight_req())
    assert answer is not None and p.decorate(preflight_req(), answer) is answer


def test_decorate_adds_no_preflight_only_headers() -> None:
    out = policy(**FULL).decorate(req(Origin=APP), HttpResponse(status=200))
    assert not {"Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age"} & set(
        names(out))


# ------------------------------------------------------------------------------------------
# Limits (CORS-U1, CORS-H1), through the config loader so the error names the key.


def load(kind: str, cors: dict[str, Any], tmp_path: Path) -> GatewayConfig:
    front: dict[str, Any] = {"listen": "127.0.0.1:0", "cors": cors}
    if kind == "function_urls":
        front["function"] = "fn"
    else:
        front["routes"] = [{"route": "$default", "function": "fn"}]
    data = {"functions": {"fn": {"handler": "app.handler", "code_uri": "."}}, kind: [front]}
    return GatewayConfig.from_mapping(data, source="t.toml", base_dir=tmp_path)


@pytest.mark.parametrize(("kind", "cors", "key"), [
    ("function_urls", {"allow_origins": [f"https://{i}.example" for i in range(101)]}, "allow_origins"),
    ("function_urls", {"allow_origins": ["https://" + "a" * 250]}, "allow_origins[0]"),
    ("function_urls", {"allow_origins": [""]}, "allow_origins[0]"),
    ("function_urls", {"allow_origins": ["https://*"]}, "allow_origins[0]"),
    ("function_urls", {"allow_methods": ["GET", "PUT", "HEAD", "POST", "PATCH", "DELETE", "*"]}, "allow_methods"),
    ("function_urls", {"allow_methods": ["OPTIONS"]}, "allow_methods[0]"),
    ("function_urls", {"allow_headers": ["x" * 1025]}, "allow_headers[0]"),
    ("function_urls", {"expose_headers": [f"x-{i}" for i in range(101)]}, "expose_headers"),
    ("function_urls", {"max_age": -1}, "max_age"),
    ("function_urls", {"max_age": 86401}, "max_age"),
    ("http_apis", {"max_age": -2}, "max_age"),
    ("http_apis", {"max_age": 86401}, "max_age"),
    ("http_apis", {"allow_methods": ["X" * 65]}, "allow_methods[0]"),
    ("http_apis", {"allow_origins": ["https://*.example.com"]}, "allow_origins[0]"),
    ("http_apis", {"allow_origins": ["*"], "allow_credentials": True}, "allow_credentials"),
    ("http_apis", {"allow_headers": ["x-a\r\nx-b"]}, "allow_headers[0]"),
    ("http_apis", {"allow_credentials": "yes"}, "allow_credentials"),
    ("http_apis", {"allow_origin": ["*"]}, "allow_origin"),
])
def test_limits_are_config_errors_naming_the_key(kind: str, cors: dict[str, Any], key: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(kind, cors, tmp_path)
    assert info.value.key == f"{kind}[0].cors.{key}"


def test_rest_apis_have_no_cors_table(tmp_path: Path) -> None:
    # REST-R7: a REST API proxy integration leaves CORS to the function; there is nothing to configure.
    data = {"functions": {"fn": {"handler": "app.handler", "code_uri": "."}},
            "rest_apis": [{"listen": "127.0.0.1:0", "routes": [], "cors": {"allow_origins": ["*"]}}]}
    with pytest.raises(ConfigError) as info:
        GatewayConfig.from_mapping(data, source="t.toml", base_dir=tmp_path)
    assert info.value.key == "rest_apis[0].cors"


@pytest.mark.parametrize(("kind", "cors"), [
    ("function_urls", {"allow_origins": [f"https://{i}.example" for i in range(100)], "max_age": 86400,
                       "allow_methods": ["GET", "PUT", "HEAD", "POST", "PATCH", "DELETE"], "allow_credentials": True}),
    ("function_urls", {"allow_origins": ["*"], "allow_credentials": True, "max_age": 0}),  # [INF] accepted
    ("http_apis", {"allow_origins": ["https://*", "http://*", "*"], "allow_methods": ["OPTIONS", "*"], "max_age": -1}),
    ("http_apis", {"allow_headers": [f"x-{i}" for i in range(150)]}),  # no list limit in the apigatewayv2 shape
])
def test_values_within_limits_load(kind: str, cors: dict[str, Any], tmp_path: Path) -> None:
    config = load(kind, cors, tmp_path)
    front = config.function_urls[0] if kind == "function_urls" else config.http_apis[0]
    assert front.cors is not None and front.cors.allow_origins == tuple(cors.get("allow_origins", ()))


# ------------------------------------------------------------------------------------------
# Where the fronts ask: a preflight meets a route's authorizer first on HTTP APIs (CORS-H2), and is
# answered before any auth on function URLs [INF]; the function is never invoked.


class NoFunctions:
    async def invoke(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a preflight must not invoke the function")


def fronts(tmp_path: Path, refuse: bool) -> tuple[Any, Any]:
    from gateway.errors import Unauthorized
    from gateway.fronts.function_url import FunctionUrlFront
    from gateway.fronts.http_api import HttpApiFront

    class Refusing:
        async def authorize(self, request: HttpRequest, match: Any, ctx: Any) -> Any:
            if refuse:
                raise Unauthorized("Unauthorized")
            return match

    config = load("http_apis", {"allow_origins": [APP]}, tmp_path)
    http = type("AuthHttpApi", (Refusing, HttpApiFront), {})(config.http_apis[0], NoFunctions(), config.gateway)
    config = load("function_urls", {"allow_origins": [APP]}, tmp_path)
    url = type("AuthUrl", (Refusing, FunctionUrlFront), {})(config.function_urls[0], NoFunctions(), config.gateway)
    return http, url


async def test_http_api_preflight_on_a_route_with_an_authorizer_is_refused(tmp_path: Path) -> None:
    http, _ = fronts(tmp_path, refuse=True)
    answer = await http.handle(preflight_req())
    assert (answer.status, answer.body) == (401, b'{"message":"Unauthorized"}')  # $default + authorizer


async def test_http_api_preflight_passing_the_authorizer_is_answered_by_the_gateway(tmp_path: Path) -> None:
    http, _ = fronts(tmp_path, refuse=False)
    answer = await http.handle(preflight_req())
    assert answer.status == 204 and answer.header("access-control-allow-origin") == APP


async def test_function_url_preflight_is_answered_before_auth(tmp_path: Path) -> None:
    _, url = fronts(tmp_path, refuse=True)
    answer = await url.handle(preflight_req())
    assert answer.status == 200 and answer.header("access-control-allow-origin") == APP
    refused = await url.handle(req("GET", Origin=APP))
    assert refused.status == 401 and refused.header("access-control-allow-origin") == APP
