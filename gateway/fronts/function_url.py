"""Lambda function URLs: every path reaches the function; errors of section 5.E."""

from __future__ import annotations

from gateway.auth.cors import CorsPolicy
from gateway.auth.iam import function_url_auth
from gateway.auth.identities import IamDirectory
from gateway.config import FunctionUrlConfig, GatewaySettings
from gateway.errors import (
    AuthError,
    BadRequest,
    EventTooLarge,
    GatewayError,
    RequestTooLarge,
    Throttled,
)
from gateway.events.function_url import FunctionUrl
from gateway.fronts.base import BaseFront
from gateway.functions import FunctionsService
from gateway.models import HttpRequest, HttpResponse, InvocationContext, RouteMatch

# URL-10: BUFFERED mode, 6 MB request.
MAX_BODY = 6 * 1024 * 1024


class FunctionUrlFront(BaseFront):
    kind = "function_url"
    max_body = MAX_BODY

    def __init__(
        self, cfg: FunctionUrlConfig, functions: FunctionsService, settings: GatewaySettings, *,
        iam: IamDirectory | None = None,
    ) -> None:
        super().__init__(cfg.name, functions)
        self.cfg = cfg
        self.fmt = FunctionUrl(
            url_id=cfg.url_id, account_id=settings.account_id, region=settings.region, auth_type=cfg.auth_type
        )
        self.match = RouteMatch(function=cfg.function, route_key="$default", path_parameters=None, route=cfg)
        self.cors = CorsPolicy.compile(cfg.cors, "function_url") if cfg.cors is not None else None
        # AWS_IAM, or NONE with the function's resource-based policy (gateway/auth/iam.py).
        self.route_auth = function_url_auth(cfg, settings, iam)

    async def route_and_call(self, request: HttpRequest, ctx: InvocationContext) -> HttpResponse:
        # CORS-U3: a preflight is answered from the config, before auth [INF] and without invoking.
        preflight = self.cors.preflight(request, self.fmt.service_headers(ctx)) if self.cors else None
        if preflight is not None:
            return preflight
        match = await self.authorize(request, self.match, ctx)
        event = self.fmt.build_event(request, match, ctx)
        # URL-6: the event's requestId is the Lambda request id. No gateway cap on waiting (URL-10).
        result = await self.invoke(self.cfg.function, event, ctx, request_id=ctx.request_id)
        return self.fmt.parse_result(result.payload, request, ctx)

    def render_error(self, exc: GatewayError, request: HttpRequest, ctx: InvocationContext) -> HttpResponse:
        """Section 5.E: 502 plain text for function errors; 429 when throttled."""
        extra = self.fmt.service_headers(ctx)
        if isinstance(exc, AuthError):
            return self.auth_error(exc, extra)
        if isinstance(exc, Throttled):
            # URL-10 / D-URL-CFG give the status; the body is Lambda's TooManyRequestsException [INF].
            return _plain(429, b'{"Message":"Rate Exceeded."}', extra, "application/json")
        if isinstance(exc, RequestTooLarge | EventTooLarge):
            body = b'{"Message":"Request must be smaller than 6291456 bytes for the InvokeFunction operation"}'
            return _plain(413, body, extra, "application/json")  # [INF] body text
        if isinstance(exc, BadRequest):
            return _plain(400, b"Bad Request", extra)  # [INF]
        return _plain(502, b"Internal Server Error", extra)

    def describe(self) -> list[str]:
        return [f"* -> {self.cfg.function} (auth {self.cfg.auth_type})"]


def _plain(status: int, body: bytes, extra: tuple[tuple[str, str], ...], ctype: str = "text/plain") -> HttpResponse:
    return HttpResponse(status=status, headers=(("Content-Type", ctype), *extra), body=body)
