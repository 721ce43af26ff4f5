"""Load-time checks of JWT and Lambda authorizer settings (``authorizers`` tables and routes).

Called from ``gateway/config.py``; every problem is a ConfigError naming the dotted key, so a
bad authorizer fails at start, never during a request (STYLE H4, H8). The rules are AWS's:

- HTTP APIs: ``jwt`` (issuer and at least one audience; one identity source, by default
  ``$request.header.Authorization``) or ``request`` (a Lambda authorizer; payload 1.0 or 2.0;
  simple responses only with 2.0; caching needs an identity source).
  https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-authorizers.html
- REST APIs: ``token`` (exactly one header source, by default ``method.request.header.Authorization``,
  an optional identityValidationExpression regex) or ``request``.
  https://docs.aws.amazon.com/apigateway/latest/api/API_CreateAuthorizer.html
- ``ttl`` (authorizerResultTtlInSeconds) is 0-3600; routes name an authorizer of their own API,
  and ``authorization_scopes`` go with JWT authorizers only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from gateway.auth.identity import Api, parse_identity_source
from gateway.errors import ConfigError

if TYPE_CHECKING:
    from gateway.config import HttpApiConfig, HttpAuthorizerConfig, RestApiConfig, RestAuthorizerConfig

Fail = Callable[[str, str], ConfigError]
CheckFunction = Callable[[str, str | None], None]

HTTP_DEFAULT_SOURCE = "$request.header.Authorization"
REST_DEFAULT_SOURCE = "method.request.header.Authorization"
MAX_TTL = 3600


def http_identity_sources(auth: HttpAuthorizerConfig) -> tuple[str, ...]:
    """The configured sources, or AWS's default for a JWT authorizer."""
    if auth.identity_sources is not None:
        return auth.identity_sources
    return (HTTP_DEFAULT_SOURCE,) if auth.type == "jwt" else ()


def rest_identity_sources(auth: RestAuthorizerConfig) -> tuple[str, ...]:
    """The configured sources, or the console's default header for a TOKEN authorizer."""
    if auth.identity_sources is not None:
        return auth.identity_sources
    return (REST_DEFAULT_SOURCE,) if auth.type == "token" else ()


def check_http_authorizers(api: HttpApiConfig, key: str, fail: Fail, check_function: CheckFunction) -> None:
    for name, auth in api.authorizers.items():
        akey = f"{key}.authorizers.{name}"
        _check_name(name, akey, fail)
        sources = http_identity_sources(auth)
        _check_sources(sources, "http", f"{akey}.identity_sources", fail)
        if auth.type == "jwt":
            _check_jwt(auth, sources, akey, fail)
        else:
            _check_http_lambda(auth, sources, akey, fail, check_function)
    for j, route in enumerate(api.routes):
        rkey = f"{key}.routes[{j}]"
        auth = _route_authorizer(api.authorizers, route.authorizer, f"{rkey}.authorizer", fail)
        if route.authorization_scopes and (auth is None or auth.type != "jwt"):
            raise fail(f"{rkey}.authorization_scopes", "apply only to routes with a JWT authorizer")
        if auth is not None:
            _check_not_iam(route, rkey, fail)


def check_rest_authorizers(api: RestApiConfig, key: str, fail: Fail, check_function: CheckFunction) -> None:
    for name, auth in api.authorizers.items():
        akey = f"{key}.authorizers.{name}"
        _check_name(name, akey, fail)
        sources = rest_identity_sources(auth)
        _check_sources(sources, "rest", f"{akey}.identity_sources", fail)
        check_function(f"{akey}.function", auth.function)
        _check_ttl(auth.ttl, sources, f"{akey}.ttl", fail)
        if auth.type == "token":
            if len(sources) != 1 or not _is_header(sources[0], "rest"):
                raise fail(f"{akey}.identity_sources", "a TOKEN authorizer takes exactly one "
                           "method.request.header.<name>")
            if auth.identity_validation_expression is not None:
                try:
                    re.compile(auth.identity_validation_expression)
                except re.error as exc:
                    raise fail(f"{akey}.identity_validation_expression", f"is not a valid regex: {exc}") from None
        elif auth.identity_validation_expression is not None:
            raise fail(f"{akey}.identity_validation_expression", "applies to TOKEN authorizers only")
    for j, route in enumerate(api.routes):
        rkey = f"{key}.routes[{j}]"
        if _route_authorizer(api.authorizers, route.authorizer, f"{rkey}.authorizer", fail) is not None:
            _check_not_iam(route, rkey, fail)


def _check_name(name: str, key: str, fail: Fail) -> None:
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,128}", name):
        raise fail(key, "authorizer names are 1-128 letters, digits, '.', '-' or '_'")


def _check_sources(sources: tuple[str, ...], api: Api, key: str, fail: Fail) -> None:
    for i, text in enumerate(sources):
        try:
            parse_identity_source(text, api)
        except ValueError as exc:
            raise fail(f"{key}[{i}]", str(exc)) from None
    if len(set(sources)) != len(sources):
        raise fail(key, "lists the same identity source twice")


def _check_ttl(ttl: int, sources: tuple[str, ...], key: str, fail: Fail) -> None:
    if not 0 <= ttl <= MAX_TTL:
        raise fail(key, f"must be between 0 and {MAX_TTL} seconds")
    if ttl and not sources:
        raise fail(key, "caching needs at least one identity source (the cache key); set ttl = 0 or add one")


def _check_jwt(auth: HttpAuthorizerConfig, sources: tuple[str, ...], key: str, fail: Fail) -> None:
    if not re.match(r"https?://[^/\s]+", auth.issuer):
        raise fail(f"{key}.issuer", "is required: the issuer URL (https://..., or http:// for a local issuer)")
    if not auth.audience or not all(auth.audience):
        raise fail(f"{key}.audience", "is required: at least one audience (aud or client_id)")
    if len(sources) != 1 or parse_identity_source(sources[0], "http").kind not in ("header", "querystring"):
        raise fail(f"{key}.identity_sources", "a JWT authorizer takes exactly one $request.header.<name> "
                   "or $request.querystring.<name>")
    for field_name in ("function", "enable_simple_responses", "ttl"):
        if getattr(auth, field_name):
            raise fail(f"{key}.{field_name}", "applies to request (Lambda) authorizers only")


def _check_http_lambda(
    auth: HttpAuthorizerConfig, sources: tuple[str, ...], key: str, fail: Fail, check_function: CheckFunction
) -> None:
    if not auth.function:
        raise fail(f"{key}.function", "is required for a request (Lambda) authorizer")
    check_function(f"{key}.function", auth.function)
    for field_name in ("issuer", "audience"):
        if getattr(auth, field_name):
            raise fail(f"{key}.{field_name}", "applies to JWT authorizers only")
    if auth.enable_simple_responses and auth.payload_format_version != "2.0":
        raise fail(f"{key}.enable_simple_responses", "needs payload_format_version = \"2.0\"")
    _check_ttl(auth.ttl, sources, f"{key}.ttl", fail)


def _route_authorizer(authorizers: Mapping[str, Any], name: str | None, key: str, fail: Fail) -> Any:
    if name is None:
        return None
    if name not in authorizers:
        known = ", ".join(sorted(authorizers)) or "none are configured"
        raise fail(key, f"unknown authorizer {name!r} (this API's authorizers: {known})")
    return authorizers[name]


def _check_not_iam(route: Any, key: str, fail: Fail) -> None:
    # A route has one authorization type: CUSTOM/JWT or AWS_IAM, never both.
    if getattr(route, "authorization", None) not in (None, "NONE"):
        raise fail(f"{key}.authorizer", "a route with an authorizer cannot also use authorization = "
                   f"{route.authorization!r}")


def _is_header(text: str, api: Api) -> bool:
    return parse_identity_source(text, api).kind == "header"
