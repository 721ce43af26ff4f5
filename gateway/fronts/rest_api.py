"""API Gateway REST API, Lambda proxy integration: resources, stages, errors of section 2.E."""

from __future__ import annotations

from gateway.auth import RouteAuth
from gateway.auth.authorizers import add_rest_api_authorizers
from gateway.auth.iam import add_iam_routes
from gateway.auth.identities import IamDirectory
from gateway.config import GatewaySettings, RestApiConfig
from gateway.errors import (
    AuthError,
    BadRequest,
    BodyDecodeError,
    EventTooLarge,
    FunctionFailed,
    GatewayError,
    IntegrationTimeout,
    InvalidLambdaResponse,
    RequestTooLarge,
    ResponseTooLarge,
    RouteNotFound,
    Throttled,
)
from gateway.events.rest_v1 import RestV1
from gateway.fronts.base import BaseFront, json_error
from gateway.functions import FunctionsService
from gateway.models import HttpRequest, HttpResponse, InvocationContext
from gateway.routing import RestRouter

# REST-10: 10 MB payload quota.
MAX_BODY = 10 * 1024 * 1024


class RestApiFront(BaseFront):
    kind = "rest_api"
    max_body = MAX_BODY

    def __init__(
        self, cfg: RestApiConfig, functions: FunctionsService, settings: GatewaySettings, *,
        iam: IamDirectory | None = None,
    ) -> None:
        super().__init__(cfg.name, functions)
        self.cfg = cfg
        self.router = RestRouter(cfg.routes)
        self.fmt = RestV1(
            api_id=cfg.api_id, stage=cfg.stage, account_id=settings.account_id, region=settings.region,
            binary_media_types=cfg.binary_media_types, stage_variables=cfg.stage_variables or None,
            endpoint_type=cfg.endpoint_type,
        )
        self.prefix = f"/{cfg.stage}"
        self.route_auth = RouteAuth()
        add_rest_api_authorizers(self.route_auth, cfg, settings, functions, event=self.fmt.build_event)
        add_iam_routes(self.route_auth, "rest_api", cfg, settings, iam)

    async def route_and_call(self, request: HttpRequest, ctx: InvocationContext) -> HttpResponse:
        path = "/" + request.path.lstrip("/")
        # REST-7: the URL starts with the stage; REST-5: a "//" right after it collapses.
        if not (path == self.prefix or path.startswith(self.prefix + "/")):
            raise RouteNotFound(f"the path does not start with the stage /{self.cfg.stage}")
        rest = path[len(self.prefix):]
        while rest.startswith("//"):
            rest = rest[1:]
        match = self.router.match(request.method, rest or "/")
        if match is None:
            raise RouteNotFound(f"no resource and method match {request.method} {rest or '/'}")
        match = await self.authorize(request, match, ctx)
        event = self.fmt.build_event(request, match, ctx)
        result = await self.invoke(match.function, event, ctx, wait=self.cfg.integration_timeout)
        return self.fmt.parse_result(result.payload, request, ctx)

    def render_error(self, exc: GatewayError, request: HttpRequest, ctx: InvocationContext) -> HttpResponse:
        """Section 2.E: REST API gateway responses, with x-amzn-ErrorType."""
        extra = self.fmt.service_headers(ctx)
        if isinstance(exc, AuthError):
            return self.auth_error(exc, extra)
        if isinstance(exc, RouteNotFound):
            return json_error(403, "Missing Authentication Token", extra, "MissingAuthenticationTokenException")
        if isinstance(exc, BodyDecodeError):
            # API_CONFIGURATION_ERROR (D-GWRESP, REST-R5).
            return json_error(500, "Internal server error", extra, "InternalServerErrorException", spaced=True)
        if isinstance(exc, FunctionFailed | InvalidLambdaResponse | ResponseTooLarge):
            return json_error(502, "Internal server error", extra, "InternalServerErrorException", spaced=True)
        if isinstance(exc, IntegrationTimeout):
            return json_error(504, "Endpoint request timed out", extra, "InternalServerErrorException", spaced=True)
        if isinstance(exc, RequestTooLarge):
            return json_error(413, "Request Too Long", extra, "RequestTooLargeException")  # [INF] body text
        if isinstance(exc, BadRequest):
            return json_error(400, "Bad Request", extra, "BadRequestException")  # [INF]
        if isinstance(exc, Throttled | EventTooLarge):
            # "If the Lambda API rejects the invocation request, API Gateway returns a 500" (D-L-APIGW).
            return json_error(500, "Internal server error", extra, "InternalServerErrorException", spaced=True)
        return json_error(500, "Internal server error", extra, "InternalServerErrorException", spaced=True)

    def describe(self) -> list[str]:
        return [f"{r.method.upper()} /{self.cfg.stage}{r.path if r.path != '/' else '/'} -> {r.function}"
                for r in self.cfg.routes]
