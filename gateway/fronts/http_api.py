"""API Gateway HTTP API: route keys, payload 1.0 or 2.0 per route, errors of section 4.E."""

from __future__ import annotations

from gateway.auth import RouteAuth
from gateway.auth.authorizers import add_http_api_authorizers
from gateway.auth.cors import CorsPolicy
from gateway.auth.iam import add_iam_routes
from gateway.auth.identities import IamDirectory
from gateway.config import GatewaySettings, HttpApiConfig
from gateway.errors import (
    AuthError,
    BadRequest,
    GatewayError,
    IntegrationTimeout,
    InvokeError,
    RequestTooLarge,
    RouteNotFound,
)
from gateway.events.common import decode_path
from gateway.events.http_v1 import HttpV1
from gateway.events.http_v2 import HttpV2
from gateway.fronts.base import BaseFront, json_error
from gateway.functions import FunctionsService
from gateway.models import HttpRequest, HttpResponse, InvocationContext
from gateway.routing import HttpApiRouter

# HV2-10: 10 MB payload quota (Lambda's 6 MB event limit applies after it).
MAX_BODY = 10 * 1024 * 1024


class HttpApiFront(BaseFront):
    kind = "http_api"
    max_body = MAX_BODY

    def __init__(
        self, cfg: HttpApiConfig, functions: FunctionsService, settings: GatewaySettings, *,
        iam: IamDirectory | None = None,
    ) -> None:
        super().__init__(cfg.name, functions)
        self.cfg = cfg
        self.router = HttpApiRouter(cfg.routes)
        common = dict(
            api_id=cfg.api_id, stage=cfg.stage, account_id=settings.account_id, region=settings.region,
            stage_variables=cfg.stage_variables or None,
        )
        self.v2 = HttpV2(**common)  # type: ignore[arg-type]
        self.v1 = HttpV1(**common)  # type: ignore[arg-type]
        self.prefix = "" if cfg.stage == "$default" else f"/{cfg.stage}"
        self.cors = CorsPolicy.compile(cfg.cors, "http_api") if cfg.cors is not None else None
        self.route_auth = RouteAuth()
        add_http_api_authorizers(self.route_auth, cfg, settings, functions,
                                 v1=self.v1.build_event, v2=self.v2.build_event)
        add_iam_routes(self.route_auth, "http_api", cfg, settings, iam)

    async def route_and_call(self, request: HttpRequest, ctx: InvocationContext) -> HttpResponse:
        path = request.path
        if self.prefix:
            # HV2-5: a named stage must begin the path; it stays in rawPath.
            if not (path == self.prefix or path.startswith(self.prefix + "/")):
                raise RouteNotFound(f"the path does not start with the stage /{self.cfg.stage}")
            path = path[len(self.prefix):] or "/"
        match = self.router.match(request.method, decode_path(path))
        preflight = self.cors.preflight(request, self.v2.service_headers(ctx)) if self.cors else None
        if match is None:
            if preflight is not None:
                return preflight  # CORS-H2: answered even without an OPTIONS route
            raise RouteNotFound(f"no route matches {request.method} {path}")
        match = await self.authorize(request, match, ctx)
        if preflight is not None:
            # CORS-H2: the matched route's authorizer runs first ($default or ANY plus an authorizer
            # refuses unauthenticated preflights, as on AWS); the integration is never invoked [INF].
            return preflight
        fmt = self.v1 if match.route.payload_format_version == "1.0" else self.v2
        event = fmt.build_event(request, match, ctx)
        result = await self.invoke(match.function, event, ctx, wait=self.cfg.integration_timeout)
        return fmt.parse_result(result.payload, request, ctx)

    def render_error(self, exc: GatewayError, request: HttpRequest, ctx: InvocationContext) -> HttpResponse:
        """Section 4.E: HTTP API error answers (both payload versions)."""
        extra = self.v2.service_headers(ctx)
        if isinstance(exc, AuthError):
            return self.auth_error(exc, extra)
        if isinstance(exc, RouteNotFound):
            return json_error(404, "Not Found", extra)
        if isinstance(exc, IntegrationTimeout):
            return json_error(503, "Service Unavailable", extra)
        if isinstance(exc, RequestTooLarge):
            return json_error(413, "Request Entity Too Large", extra)  # [INF] body text
        if isinstance(exc, BadRequest):
            return json_error(400, "Bad Request", extra)  # [INF]
        if isinstance(exc, InvokeError):
            return json_error(500, "Internal Server Error", extra)
        return json_error(500, "Internal Server Error", extra)

    def describe(self) -> list[str]:
        return [f"{r.route} -> {r.function}" + (" (1.0)" if r.payload_format_version == "1.0" else "")
                for r in self.cfg.routes]
