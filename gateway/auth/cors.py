"""CORS as HTTP APIs and Lambda function URLs answer it (section 7 of http-events.md). Pure.

``CorsPolicy.compile(config, kind)`` runs once at start; per request the front asks
``preflight(request)`` (the gateway's own answer to a preflight, or None) and
``decorate(request, response)`` (the configured headers on an actual response).

HTTP API: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html
Function URL: https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html#urls-cors and
https://docs.aws.amazon.com/lambda/latest/api/API_Cors.html

Choices where AWS's behaviour is not documented or recorded ([INF], listed in the README):

* A preflight is answered with **204** by HTTP APIs and **200** by function URLs, empty body.
* The preflight answer carries the configured lists verbatim, joined with ``,`` (the D-HTTP-CORS
  table maps each setting onto its header); the method and headers asked for are not checked
  here: the browser compares them with the lists and refuses, as it would on AWS. ``*`` is sent
  as ``*`` (browsers ignore that wildcard on credentialed requests, and never let it cover
  ``Authorization``).
* An origin that is not allowed gets the same status with no CORS header at all.
* ``Vary`` is not added; ``Access-Control-Expose-Headers`` goes on actual responses only;
  ``Access-Control-Max-Age`` only when ``max_age`` is set.
* Origins are compared case-insensitively (schemes and hosts are); the allowed origin is sent back
  as the request spelled it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from gateway.models import Headers, HttpRequest, HttpResponse

if TYPE_CHECKING:
    from gateway.config import CorsConfig

Kind = Literal["http_api", "function_url"]

# CORS-U1: limits of the Lambda API's Cors shape (botocore lambda 2015-03-31), and the methods
# AWS::Lambda::Url.Cors accepts (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-lambda-url-cors.html).
URL_METHODS = frozenset({"GET", "PUT", "HEAD", "POST", "PATCH", "DELETE", "*"})
# CORS-H1 (apigatewayv2 Cors shape: methods 1-64 characters, maxAge -1..86400): HTTP API origins may
# be "*" or a scheme prefix such as "https://*"; any other pattern is refused at load [INF].
_PREFIX_WILDCARD = re.compile(r"^[a-z][a-z0-9+.-]*://\*$", re.IGNORECASE)


def cors_problem(cfg: CorsConfig, kind: Kind) -> tuple[str, str] | None:
    """The first way ``cfg`` breaks AWS's limits for ``kind``, as (key under ``cors``, problem), or None."""
    url = kind == "function_url"
    lists = (("allow_origins", cfg.allow_origins), ("allow_methods", cfg.allow_methods),
             ("allow_headers", cfg.allow_headers), ("expose_headers", cfg.expose_headers))
    for name, items in lists:
        most = 6 if url and name == "allow_methods" else 100
        if url and len(items) > most:
            return name, f"a function URL allows at most {most} items (CORS-U1)"
        for i, item in enumerate(items):
            problem = _item_problem(name, item, url)
            if problem:
                return f"{name}[{i}]", problem
    low, high = (0, 86400) if url else (-1, 86400)
    if cfg.max_age is not None and not low <= cfg.max_age <= high:
        return "max_age", f"must be between {low} and {high} seconds"
    if not url and cfg.allow_credentials and "*" in cfg.allow_origins:
        # BadRequestException "allow-credentials is not supported if 'allow-origin' is *" (aws-cdk #9076).
        return "allow_credentials", "an HTTP API refuses allow_credentials with the origin '*'"
    return None


def _item_problem(name: str, item: str, url: bool) -> str | None:
    if not item or any(c in item for c in "\r\n\0"):
        return "must be a non-empty string without CR, LF or NUL"
    if name == "allow_origins":
        if url and len(item) > 253:
            return "is longer than the 253 characters a function URL allows (CORS-U1)"
        if "*" in item and item != "*" and (url or not _PREFIX_WILDCARD.match(item)):
            where = "'*'" if url else "'*' or a scheme prefix such as 'https://*'"
            return f"the only wildcard {'a function URL' if url else 'an HTTP API'} understands is {where} [INF]"
    elif name == "allow_methods":
        if url and item.upper() not in URL_METHODS:
            return f"must be one of {', '.join(sorted(URL_METHODS))} for a function URL (CORS-U1)"
        if not url and len(item) > 64:
            return "is longer than 64 characters (CORS-H1)"
    elif url and len(item) > 1024:
        return "is longer than the 1024 characters a function URL allows (CORS-U1)"
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class CorsPolicy:
    """A compiled ``cors`` table. Build it with ``CorsPolicy.compile``; every method is pure."""

    kind: Kind
    exact: frozenset[str]
    prefixes: tuple[str, ...]
    any_origin: bool
    credentials: bool
    #: headers of every allowed answer beyond the origin (credentials), then preflight-only ones.
    common: Headers
    preflight_only: Headers
    expose: Headers

    @classmethod
    def compile(cls, cfg: CorsConfig, kind: Kind) -> CorsPolicy:
        """Turn validated config (``cors_problem`` returned None) into header values, once."""
        methods = [m.upper() for m in cfg.allow_methods] if kind == "function_url" else list(cfg.allow_methods)
        pre: list[tuple[str, str]] = []
        if methods:
            pre.append(("Access-Control-Allow-Methods", ",".join(methods)))
        if cfg.allow_headers:
            pre.append(("Access-Control-Allow-Headers", ",".join(cfg.allow_headers)))
        if cfg.max_age is not None:
            pre.append(("Access-Control-Max-Age", str(cfg.max_age)))
        return cls(
            kind=kind,
            exact=frozenset(o.lower() for o in cfg.allow_origins if "*" not in o),
            prefixes=tuple(o[:-1].lower() for o in cfg.allow_origins if o != "*" and o.endswith("*")),
            any_origin="*" in cfg.allow_origins,
            credentials=cfg.allow_credentials,
            common=(("Access-Control-Allow-Credentials", "true"),) if cfg.allow_credentials else (),
            preflight_only=tuple(pre),
            expose=(("Access-Control-Expose-Headers", ",".join(cfg.expose_headers)),) if cfg.expose_headers else (),
        )

    @staticmethod
    def is_preflight(request: HttpRequest) -> bool:
        """CORS-H2: OPTIONS with both ``Origin`` and ``Access-Control-Request-Method``."""
        return (request.method == "OPTIONS" and request.header("origin") is not None
                and request.header("access-control-request-method") is not None)

    def allow_origin(self, origin: str) -> str | None:
        """The ``Access-Control-Allow-Origin`` value for ``origin``, or None when it is not allowed.

        An origin listed exactly or matching a prefix wildcard (``https://*``, HTTP APIs) is sent
        back as the request spelled it. For ``*``, an HTTP API sends ``*`` [INF], while a function
        URL was observed sending the request's origin back (CORS-U2, O-PT4163)."""
        lowered = origin.lower()
        if lowered in self.exact or any(lowered.startswith(p) and len(lowered) > len(p) for p in self.prefixes):
            return origin
        if self.any_origin:
            return origin if self.kind == "function_url" else "*"
        return None

    def preflight(self, request: HttpRequest, extra: Headers = ()) -> HttpResponse | None:
        """The gateway's answer to a preflight, or None when ``request`` is not one.

        Answered without invoking the function (CORS-H2, CORS-U3); ``extra`` is the front's own
        headers (request ids). Status 204 (HTTP API) or 200 (function URL) either way [INF]; the
        CORS headers only when the origin is allowed."""
        if not self.is_preflight(request):
            return None
        status = 204 if self.kind == "http_api" else 200
        allowed = self.allow_origin(request.header("origin") or "")
        if allowed is None:
            return HttpResponse(status=status, headers=extra)
        headers = (("Access-Control-Allow-Origin", allowed), *self.common, *self.preflight_only, *extra)
        return HttpResponse(status=status, headers=headers)

    def decorate(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        """The response with the configured CORS headers of an actual (non-preflight) request.

        HTTP API: every ``Access-Control-*`` header from the backend is dropped, configured or not
        (CORS-H2, D-HTTP-CORS: "API Gateway ignores CORS headers returned from your backend").
        Function URL: the function's headers stay and the configured ones are added after them, so a
        header both set arrives twice, as observed on AWS (CORS-U2, O-PT4163: ``'http://127.0.0.1:5500,
        http://127.0.0.1:5500'``, which browsers refuse) although the docs say the configured ones
        "take precedence". Headers are added only when the request has an allowed ``Origin``;
        answers to preflights are left as they are."""
        if self.is_preflight(request):
            return response
        headers = response.headers
        if self.kind == "http_api":
            headers = tuple((k, v) for k, v in headers if not k.lower().startswith("access-control-"))
        origin = request.header("origin")
        allowed = self.allow_origin(origin) if origin is not None else None
        if allowed is not None:
            headers = (*headers, ("Access-Control-Allow-Origin", allowed), *self.common, *self.expose)
        if headers is response.headers:
            return response
        return HttpResponse(status=response.status, headers=headers, body=response.body, reason=response.reason)
