"""Lambda authorizers: REST TOKEN and REQUEST, HTTP API REQUEST with payload 1.0 or 2.0.

For each request the authorizer (one per configured authorizer, shared by its routes):

1. reads the identity sources; one missing or empty is **401 without invoking** the function
   (REST TOKEN: a token that does not match identityValidationExpression too);
2. looks the values up in the result cache (cachetools TTLCache, ``ttl`` seconds, keyed on the
   identity-source values; ttl 0 = no cache), else invokes the function through the functions
   service with AWS's authorizer event and parses its answer (authorizer_result.py);
3. applies the result to this request's methodArn/routeArn: a cached policy is evaluated again
   for every ARN; allow gives ``Authorization(kind="lambda")``, deny 403, an invalid answer or a
   failed function 500, an error message ``Unauthorized`` 401 (answers.py).

Events:
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html (REST)
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html (HTTP)
Caching:
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/configure-api-gateway-lambda-authorization.html

``integration_latency_ms`` is the authorizer invocation's wall time, 0 for a cached result [INF].
``usageIdentifierKey`` is accepted and checked (a string) but unused: there are no usage plans.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from cachetools import TTLCache

from gateway.auth.answers import HTTP, REST, Answers
from gateway.auth.authorizer_result import AuthorizerResult, ResultError, parse_result
from gateway.auth.identity import Api, IdentitySources, execute_api_arn, path_without_stage
from gateway.errors import GatewayError
from gateway.events.common import compact_json
from gateway.models import Authorization, HttpRequest, InvocationContext, InvocationResult, RouteMatch

InvokeFn = Callable[[str, bytes, InvocationContext], Awaitable[InvocationResult]]
EventFn = Callable[[HttpRequest, RouteMatch, InvocationContext], dict[str, Any]]

#: distinct identity-source values kept per authorizer (AWS does not document a size).
CACHE_SIZE = 10_000


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiInfo:
    """What an authorizer knows of its API: for ARNs, stage variables and ``$context`` sources."""

    api: Api
    region: str
    account_id: str
    api_id: str
    stage: str
    stage_variables: Mapping[str, str] = field(default_factory=dict)

    @property
    def domain_name(self) -> str:
        return f"{self.api_id}.execute-api.{self.region}.amazonaws.com"


@dataclass(frozen=True, slots=True, kw_only=True)
class LambdaAuthorizerSpec:
    """One authorizer's settings, normalised from either API type's config."""

    name: str
    function: str
    event_type: Literal["TOKEN", "REQUEST"]
    #: HTTP APIs only ("1.0"/"2.0"); None for REST.
    payload_version: str | None
    simple: bool
    identity_sources: tuple[str, ...]
    ttl: int
    validation_expression: str | None = None


class LambdaAuthorizer:
    """A Lambda authorizer with its result cache; ``check`` is the per-request entry point."""

    def __init__(
        self,
        spec: LambdaAuthorizerSpec,
        api: ApiInfo,
        *,
        invoke: InvokeFn,
        request_event: EventFn | None,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.spec = spec
        self.api = api
        self.invoke = invoke
        self.request_event = request_event
        self.sources = IdentitySources.parse(spec.identity_sources, api.api)
        self.answers: Answers = REST if api.api == "rest" else HTTP
        self.validation = re.compile(spec.validation_expression) if spec.validation_expression else None
        self.timer = timer
        self.cache: TTLCache[tuple[str, ...], tuple[AuthorizerResult, Authorization]] | None = None
        if spec.ttl > 0 and spec.identity_sources:
            self.cache = TTLCache(maxsize=CACHE_SIZE, ttl=spec.ttl, timer=timer)

    async def check(self, request: HttpRequest, match: RouteMatch, ctx: InvocationContext) -> Authorization:
        """Authorize one request or raise the AuthError AWS would answer with."""
        values = self.sources.values(
            request, stage_variables=self.api.stage_variables,
            context=lambda name: self._context_variable(name, request, match, ctx),
        )
        if values is None:
            missing = ", ".join(self.spec.identity_sources)
            raise self.answers.unauthorized(f"authorizer {self.spec.name!r}: an identity source is missing or "
                                            f"empty ({missing}); the authorizer was not invoked")
        if self.validation is not None and not self.validation.fullmatch(values[0]):
            raise self.answers.unauthorized(f"authorizer {self.spec.name!r}: the token does not match "
                                            "identity_validation_expression; the authorizer was not invoked")
        path = path_without_stage(request.path, self.api.stage)
        arn = execute_api_arn(region=self.api.region, account_id=self.api.account_id, api_id=self.api.api_id,
                              stage=self.api.stage, method=request.method, path=path)
        result, authorization = await self._result(values, request, match, ctx, arn)
        verdict = result.verdict(arn)
        if verdict != "allow":
            why = "a Deny statement matches" if verdict == "explicit_deny" else "no statement allows"
            if result.policy is None:
                why = "isAuthorized is false"
            raise self.answers.denied(f"authorizer {self.spec.name!r}: {why} {arn}",
                                      explicit=verdict == "explicit_deny")
        return authorization

    async def _result(
        self, values: list[str], request: HttpRequest, match: RouteMatch, ctx: InvocationContext, arn: str
    ) -> tuple[AuthorizerResult, Authorization]:
        """The cached result for these identity values, or a fresh one (then cached), with the
        Authorization the integration gets if the result allows this request."""
        key = tuple(values)
        if self.cache is not None:
            try:
                return self.cache[key]  # one lookup (TTLCache.get looks twice)
            except KeyError:
                pass
        event = self._event(values, request, match, ctx, arn)
        payload = compact_json(event).encode()
        started = self.timer()
        try:
            outcome = await self.invoke(self.spec.function, payload, ctx)
        except (GatewayError, TimeoutError) as exc:
            raise self.answers.failed(f"authorizer {self.spec.name!r}: invoking {self.spec.function!r} "
                                      f"failed: {type(exc).__name__}: {exc}") from exc
        latency_ms = max(0, round((self.timer() - started) * 1000))
        try:
            result = parse_result(
                outcome.payload, outcome.function_error, simple=self.spec.simple,
                scalar_context=self.spec.payload_version != "2.0", require_principal=self.api.api == "rest",
            )
        except ResultError as exc:
            message = f"authorizer {self.spec.name!r}: {exc}"
            raise (self.answers.unauthorized(message) if exc.unauthorized else self.answers.failed(message)) from exc
        if self.cache is not None:
            # A cached decision reports no authorizer latency [INF]; built once, shared by every hit.
            hit = Authorization(kind="lambda", principal_id=result.principal_id, context=result.context,
                                integration_latency_ms=0)
            self.cache[key] = (result, hit)
        return result, Authorization(kind="lambda", principal_id=result.principal_id, context=result.context,
                                     integration_latency_ms=latency_ms)

    def _event(
        self, values: list[str], request: HttpRequest, match: RouteMatch, ctx: InvocationContext, arn: str
    ) -> dict[str, Any]:
        """AWS's authorizer event: TOKEN, REST REQUEST, HTTP API 1.0 or 2.0."""
        if self.spec.event_type == "TOKEN":
            return {"type": "TOKEN", "authorizationToken": values[0], "methodArn": arn}
        assert self.request_event is not None
        base = {k: v for k, v in self.request_event(request, match, ctx).items()
                if k not in ("version", "body", "isBase64Encoded")}
        if self.spec.payload_version == "2.0":
            return {"version": "2.0", "type": "REQUEST", "routeArn": arn, "identitySource": values, **base}
        if self.spec.payload_version == "1.0":
            joined = ",".join(values)
            return {"version": "1.0", "type": "REQUEST", "methodArn": arn, "identitySource": joined,
                    "authorizationToken": joined, **base}
        return {"type": "REQUEST", "methodArn": arn, **base}

    def _context_variable(
        self, name: str, request: HttpRequest, match: RouteMatch, ctx: InvocationContext
    ) -> str | None:
        """The ``$context.<name>`` / ``context.<name>`` variables an identity source may name (a subset).
        https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html"""
        http = self.api.api == "http"
        values = {
            "routeKey": match.route_key if http else None,
            "resourcePath": None if http else match.route_key,
            "httpMethod": request.method,
            "path": request.path,
            "stage": self.api.stage,
            "apiId": self.api.api_id,
            "accountId": self.api.account_id,
            "domainName": self.api.domain_name,
            "requestId": ctx.short_id if http else ctx.request_id,
            "identity.sourceIp": request.client_ip,
            "identity.userAgent": request.header("user-agent"),
        }
        return values.get(name)
