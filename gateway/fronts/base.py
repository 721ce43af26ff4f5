"""What every front door shares: invoke a function with the front's waiting rules, map errors once."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from gateway.auth import RouteAuth
from gateway.auth.cors import CorsPolicy
from gateway.errors import (
    AuthError,
    FunctionFailed,
    GatewayError,
    IntegrationTimeout,
    InvalidLambdaResponse,
    RemoteError,
    ResponseTooLarge,
)
from gateway.events.common import compact_json
from gateway.functions import FunctionsService
from gateway.ids import new_context
from gateway.models import Headers, HttpRequest, HttpResponse, InvocationContext, InvocationResult, RouteMatch

log = logging.getLogger("gateway")


def json_error(
    status: int, message: str, headers: Headers = (), error_type: str | None = None, *, spaced: bool = False
) -> HttpResponse:
    """API Gateway's JSON error answer with its content type.

    Gateway responses are compact (``{"message":"Not Found"}``); REST's integration failures are
    written with a space (``{"message": "Internal server error"}``, D-L-APIGW)."""
    extra: Headers = (("x-amzn-ErrorType", error_type),) if error_type else ()
    separators = (", ", ": ") if spaced else (",", ":")
    return HttpResponse(
        status=status,
        headers=(("Content-Type", "application/json"), *extra, *headers),
        body=json.dumps({"message": message}, separators=separators).encode(),
    )


class BaseFront:
    """A front door. Subclasses implement ``route_and_call`` and ``render_error``."""

    kind = "front"
    #: the largest request body this front accepts; larger gets the front's 413.
    max_body = 10 * 1024 * 1024
    #: HTTP APIs and function URLs with a ``cors`` table (gateway/auth/cors.py); None: no CORS.
    cors: CorsPolicy | None = None
    #: the per-route auth registry (gateway/auth/__init__.py); None: no route has auth.
    route_auth: RouteAuth | None = None
    #: whether the request body reaches the front as it arrives (a distribution's HTTP origin) or read whole
    streams_request_body = False
    #: a distribution's cache hits answered from the ASGI scope (edge/distribution.py); None: every request
    #: takes the full path
    answer_from_cache: Callable[[Mapping[str, Any]], Any] | None = None

    def __init__(
        self,
        name: str,
        functions: FunctionsService,
        *,
        new_ctx: Callable[[], InvocationContext] = new_context,
    ) -> None:
        self.name = name
        self.functions = functions
        self.new_ctx = new_ctx

    async def handle(self, request: HttpRequest) -> HttpResponse:
        ctx = self.new_ctx()
        client_trace = request.header("x-amzn-trace-id")
        if client_trace and client_trace.startswith("Root="):
            # X-Ray continues a trace the caller started instead of starting a new one.
            ctx = dataclasses.replace(ctx, trace_id=client_trace)
        try:
            response = await self.route_and_call(request, ctx)
        except GatewayError as exc:
            self.explain(exc, request)
            response = self.render_error(exc, request, ctx)
        return self.with_cors(request, response)

    def with_cors(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        """The configured CORS headers on every answer, the gateway's own errors included [INF]."""
        return response if self.cors is None else self.cors.decorate(request, response)

    async def route_and_call(self, request: HttpRequest, ctx: InvocationContext) -> HttpResponse:
        raise NotImplementedError

    async def authorize(self, request: HttpRequest, match: RouteMatch, ctx: InvocationContext) -> RouteMatch:
        """Check the route's auth (IAM, JWT, Lambda authorizer); raise AuthError or return the match
        with ``auth`` filled. No auth configured: the match unchanged."""
        if self.route_auth is None:
            return match
        return await self.route_auth.authorize(request, match, ctx)

    def auth_error(self, exc: AuthError, extra: Headers) -> HttpResponse:
        """AWS's answer for a refused caller, as the AuthError carries it."""
        headers: Headers = (("Content-Type", exc.content_type),)
        if exc.error_type:
            headers += (("x-amzn-ErrorType", exc.error_type),)
        return HttpResponse(status=exc.status, headers=headers + exc.headers + extra, body=exc.body)

    def render_error(self, exc: GatewayError, request: HttpRequest, ctx: InvocationContext) -> HttpResponse:
        raise NotImplementedError

    def describe(self) -> list[str]:
        return []

    async def invoke(
        self,
        function: str,
        event: dict[str, Any],
        ctx: InvocationContext,
        *,
        wait: float | None = None,
        request_id: str | None = None,
    ) -> InvocationResult:
        """Invoke synchronously (C-1); ``wait`` is the front's own integration timeout."""
        payload = compact_json(event).encode()
        call = self.functions.invoke(function, payload, request_id=request_id, trace_id=ctx.trace_id)
        if wait is None:
            result = await call
        else:
            try:
                async with asyncio.timeout(wait):  # no extra task, unlike wait_for on 3.11
                    result = await call
            except TimeoutError:
                raise IntegrationTimeout(
                    f"{function} did not answer within the integration timeout of {wait:g} s"
                ) from None
        if result.function_error:
            raise FunctionFailed(result)
        return result

    def explain(self, exc: GatewayError, request: HttpRequest) -> None:
        """AWS answers with an opaque error; we say why in the log."""
        where = f"{self.kind} {self.name!r}: {request.method} {request.path}"
        if isinstance(exc, FunctionFailed):
            err = _error_summary(exc.result.payload)
            log.warning("%s -> function error (%s): %s", where, exc.result.function_error, err)
        elif isinstance(exc, InvalidLambdaResponse):
            log.warning("%s -> malformed Lambda response: %s", where, exc)
        elif isinstance(exc, ResponseTooLarge | IntegrationTimeout | RemoteError):
            log.warning("%s -> %s", where, exc)
        else:
            log.info("%s -> %s: %s", where, type(exc).__name__, exc)


def _error_summary(payload: bytes) -> str:
    try:
        doc = json.loads(payload)
    except ValueError:
        return payload[:300].decode("utf-8", "replace")
    if isinstance(doc, dict):
        return f"{doc.get('errorType', '?')}: {doc.get('errorMessage', '')}"
    return str(doc)[:300]
