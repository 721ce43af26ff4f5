"""Application Load Balancer with Lambda target groups: rules by priority, errors of section 6.E."""

from __future__ import annotations

import hashlib
import re

from gateway.config import AlbConfig, AlbRule, FixedResponse, GatewaySettings
from gateway.errors import (
    BadRequest,
    GatewayError,
    IntegrationTimeout,
    RequestTooLarge,
    RouteNotFound,
)
from gateway.events.alb import Alb
from gateway.fronts.base import BaseFront
from gateway.functions import FunctionsService
from gateway.models import HttpRequest, HttpResponse, InvocationContext, RouteMatch
from gateway.routing import AlbRouter

# ALB-11: request bodies over 1 MB get 413.
MAX_BODY = 1024 * 1024


def _elb_page(status: int, reason: str) -> HttpResponse:
    """ALB's own small HTML error page (its exact bytes are not recorded here [INF])."""
    body = (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n</body>\r\n</html>\r\n"
    ).encode()
    return HttpResponse(status=status, headers=(("Server", "awselb/2.0"), ("Content-Type", "text/html")), body=body)


class AlbFront(BaseFront):
    kind = "alb"
    max_body = MAX_BODY

    def __init__(self, cfg: AlbConfig, functions: FunctionsService, settings: GatewaySettings) -> None:
        super().__init__(cfg.name, functions)
        self.cfg = cfg
        self.router = AlbRouter(cfg.rules)
        self.formats: dict[int, Alb] = {}
        arn = f"arn:aws:elasticloadbalancing:{settings.region}:{settings.account_id}:targetgroup"
        for rule in cfg.rules:
            # Target group names are letters, digits and '-' (a qualifier's ':' or '$' cannot appear).
            tg = rule.target_group or re.sub(r"[^A-Za-z0-9-]", "-", f"{rule.function or 'fixed'}-tg")
            self.formats[id(rule)] = Alb(
                target_group_arn=f"{arn}/{tg}/{_hex16(cfg.name, tg)}", multi_value_headers=rule.multi_value_headers
            )
        self.default_format = Alb(
            target_group_arn=f"{arn}/{re.sub(r'[^A-Za-z0-9-]', '-', f'{cfg.default_function}-tg')}/"
                             f"{_hex16(cfg.name, 'default')}",
            multi_value_headers=cfg.default_multi_value_headers,
        )

    async def route_and_call(self, request: HttpRequest, ctx: InvocationContext) -> HttpResponse:
        upgrade = request.header("upgrade")
        if upgrade and upgrade.lower() == "websocket":
            raise BadRequest("ALB does not pass WebSocket upgrades to Lambda targets (ALB-11)")
        rule = self.router.match(request)
        if rule is None:
            if self.cfg.default_function:
                return await self.call(self.cfg.default_function, self.default_format, request, ctx, None)
            raise RouteNotFound("no listener rule matches")
        if rule.fixed_response is not None:
            return _fixed(rule.fixed_response)
        assert rule.function is not None
        return await self.call(rule.function, self.formats[id(rule)], request, ctx, rule)

    async def call(
        self, function: str, fmt: Alb, request: HttpRequest, ctx: InvocationContext, rule: AlbRule | None
    ) -> HttpResponse:
        match = RouteMatch(function=function, route_key=f"priority {rule.priority}" if rule else "default", route=rule)
        event = fmt.build_event(request, match, ctx)
        result = await self.invoke(function, event, ctx)
        return fmt.parse_result(result.payload, request, ctx)

    def render_error(self, exc: GatewayError, request: HttpRequest, ctx: InvocationContext) -> HttpResponse:
        """Section 6.E: 502 for anything the function did wrong, 413 for big requests."""
        if isinstance(exc, RouteNotFound):
            return _fixed(self.cfg.default_action or FixedResponse(status=404, body="Not Found"))
        if isinstance(exc, RequestTooLarge):
            return _elb_page(413, "Request Entity Too Large")
        if isinstance(exc, BadRequest):
            return _elb_page(400, "Bad Request")
        if isinstance(exc, IntegrationTimeout):
            return _elb_page(504, "Gateway Time-out")
        return _elb_page(502, "Bad Gateway")

    def describe(self) -> list[str]:
        lines = []
        for rule in sorted(self.cfg.rules, key=lambda r: r.priority):
            conditions = (("path", rule.path), ("host", rule.host), ("method", rule.method))
            cond = " ".join(f"{k}={','.join(v)}" for k, v in conditions if v)
            target = rule.function or f"fixed {rule.fixed_response.status if rule.fixed_response else ''}"
            lines.append(f"#{rule.priority} {cond or '*'} -> {target}")
        lines.append(f"default -> {self.cfg.default_function or 'fixed 404'}")
        return lines


def _fixed(fixed: FixedResponse) -> HttpResponse:
    return HttpResponse(
        status=fixed.status, headers=(("Server", "awselb/2.0"), ("Content-Type", fixed.content_type)),
        body=fixed.body.encode(),
    )


def _hex16(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]
