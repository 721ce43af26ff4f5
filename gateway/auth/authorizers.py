"""Builds each API's JWT and Lambda authorizers once, at start (STYLE H4), keyed by name.

A route names its authorizer (``authorizer = "name"``); the front looks it up per request and
calls ``check(request, match, ctx)``, which returns the caller's ``Authorization`` or raises the
AuthError AWS answers with. One object per configured authorizer, so a Lambda authorizer's
result cache is shared by every route that uses it, as on AWS ("By default, API Gateway uses
the cached authorizer response for all routes of an API that use the authorizer").
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html#http-api-lambda-authorizer.caching
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from gateway.auth import RouteAuth, RouteAuthorizer
from gateway.auth.authorizer_config import http_identity_sources, rest_identity_sources
from gateway.auth.jwt import JwtAuthorizer
from gateway.auth.lambda_authorizer import ApiInfo, EventFn, InvokeFn, LambdaAuthorizer, LambdaAuthorizerSpec
from gateway.models import InvocationContext, InvocationResult

if TYPE_CHECKING:
    from gateway.config import GatewaySettings, HttpApiConfig, RestApiConfig
    from gateway.functions import FunctionsService


def invoker(functions: FunctionsService, timeout: float) -> InvokeFn:
    """Invoke an authorizer function through the functions service, as the front invokes integrations.
    It gets the API's integration timeout; past it the caller gets the authorizer-failure 500 [INF]."""

    async def invoke(function: str, payload: bytes, ctx: InvocationContext) -> InvocationResult:
        async with asyncio.timeout(timeout):  # raises TimeoutError: the authorizer failed (500)
            return await functions.invoke(function, payload, trace_id=ctx.trace_id)

    return invoke


def http_api_authorizers(
    cfg: HttpApiConfig, settings: GatewaySettings, functions: FunctionsService, *, v1: EventFn, v2: EventFn
) -> dict[str, RouteAuthorizer]:
    """One authorizer per ``http_apis[].authorizers`` entry. ``v1``/``v2`` build the request part
    of payload 1.0/2.0 authorizer events (the integration event builders of the same API)."""
    api = ApiInfo(api="http", region=settings.region, account_id=settings.account_id, api_id=cfg.api_id,
                  stage=cfg.stage, stage_variables=dict(cfg.stage_variables))
    invoke = invoker(functions, cfg.integration_timeout)
    out: dict[str, RouteAuthorizer] = {}
    for name, auth in cfg.authorizers.items():
        sources = http_identity_sources(auth)
        if auth.type == "jwt":
            out[name] = JwtAuthorizer(name, issuer=auth.issuer, audience=auth.audience, identity_source=sources[0])
            continue
        spec = LambdaAuthorizerSpec(
            name=name, function=auth.function, event_type="REQUEST", payload_version=auth.payload_format_version,
            simple=auth.enable_simple_responses, identity_sources=sources, ttl=auth.ttl,
        )
        event = v2 if auth.payload_format_version == "2.0" else v1
        out[name] = LambdaAuthorizer(spec, api, invoke=invoke, request_event=event)
    return out


def rest_api_authorizers(
    cfg: RestApiConfig, settings: GatewaySettings, functions: FunctionsService, *, event: EventFn
) -> dict[str, RouteAuthorizer]:
    """One authorizer per ``rest_apis[].authorizers`` entry; ``event`` builds REQUEST events."""
    api = ApiInfo(api="rest", region=settings.region, account_id=settings.account_id, api_id=cfg.api_id,
                  stage=cfg.stage, stage_variables=dict(cfg.stage_variables))
    invoke = invoker(functions, cfg.integration_timeout)
    out: dict[str, RouteAuthorizer] = {}
    for name, auth in cfg.authorizers.items():
        spec = LambdaAuthorizerSpec(
            name=name, function=auth.function, event_type="TOKEN" if auth.type == "token" else "REQUEST",
            payload_version=None, simple=False, identity_sources=rest_identity_sources(auth), ttl=auth.ttl,
            validation_expression=auth.identity_validation_expression,
        )
        out[name] = LambdaAuthorizer(spec, api, invoke=invoke, request_event=event)
    return out


def add_http_api_authorizers(
    route_auth: RouteAuth, cfg: HttpApiConfig, settings: GatewaySettings, functions: FunctionsService, *,
    v1: EventFn, v2: EventFn,
) -> None:
    """Register each route's authorizer (``routes[].authorizer``) with the front's RouteAuth."""
    authorizers = http_api_authorizers(cfg, settings, functions, v1=v1, v2=v2)
    for route in cfg.routes:
        if route.authorizer is not None:
            route_auth.add(route, authorizers[route.authorizer])


def add_rest_api_authorizers(
    route_auth: RouteAuth, cfg: RestApiConfig, settings: GatewaySettings, functions: FunctionsService, *,
    event: EventFn,
) -> None:
    """Register each route's authorizer (``routes[].authorizer``) with the front's RouteAuth."""
    authorizers = rest_api_authorizers(cfg, settings, functions, event=event)
    for route in cfg.routes:
        if route.authorizer is not None:
            route_auth.add(route, authorizers[route.authorizer])
