"""API Gateway HTTP API, Lambda integration with payload format 1.0.

Rule ids (HV1-*, REST-*) refer to shared/reference/http-events.md, section 3. AWS documentation:
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html

The event has the REST shape (HV1-1) and the response is REST's format (HV1-6): both reuse the
payload 1.0 helpers of rest_v1.py. What differs from REST is documented where it is done.

Besides the docs example (aws-docs/httpapi-v1-input-example.json), this module follows four
HTTP API 1.0 events captured from AWS by third parties (curl 2022 and 2023, Chrome 2024, Postman
2022; quoted in tests/events/test_http_v1.py). They agree on what the docs example does not show:
the header spelling, ``Content-Length``, ``resource``/``resourceId`` for routes and ``$default``,
``requestId == extendedRequestId``, ``identity.cognitoAmr``, and no ``deploymentId``/``routeKey``
keys [CAP]. Rules that rest on them are marked [CAP].
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.events.common import (
    HOP_BY_HOP,
    PROTOCOL,
    b64,
    body_text,
    decode_path,
    format_request_time,
    is_text_media_type,
    wire_text,
)
from gateway.events.rest_v1 import (
    ResponseRules,
    identity,
    proxy_v1_headers,
    proxy_v1_response,
    query_maps,
    render_authorizer,
    render_iam_identity,
)
from gateway.models import Headers, HttpRequest, HttpResponse, InvocationContext, RouteMatch

# HV1-2: the docs say HTTP API header names are lowercase, and every captured 1.0 event has
# lowercase names (`accept`, `authorization`, `origin`, `accept-encoding` -- the last even from an
# HTTP/1.1 client that sent `Accept-Encoding`), except this set, always written in this spelling,
# including `Content-Type`/`Content-Length` sent lowercase by HTTP/2 clients [CAP]. (One edited
# capture also shows `Postman-Token`; we lowercase it [INF].) Every spelling of a name the gateway
# writes comes from this map: mapping the names to their lowercase forms lowercases everything.
HV1_CANONICAL: Mapping[str, str] = {
    name.lower(): name
    for name in (
        "Content-Length", "Content-Type", "Host", "User-Agent", "X-Amzn-Trace-Id", "X-Forwarded-For",
        "X-Forwarded-Port", "X-Forwarded-Proto",
    )
}

# Hop-by-hop headers end at AWS's front end (Postman's `Connection: keep-alive` is absent from its
# capture [CAP]). The trace header is the gateway's own (as in http_v2.py) [INF].
HV1_DROPPED = HOP_BY_HOP | {"x-amzn-trace-id"}

# REST-6 identity keys plus `cognitoAmr`, present (null) in every captured HTTP API 1.0 event [CAP].
HV1_IDENTITY_KEYS = (
    "accessKey", "accountId", "caller", "cognitoAmr", "cognitoAuthenticationProvider", "cognitoAuthenticationType",
    "cognitoIdentityId", "cognitoIdentityPoolId", "principalOrgId", "sourceIp", "user", "userAgent", "userArn",
)

# HV1-6: the REST format. Unlike REST (REST-R1) nothing recorded says HTTP APIs reject unknown keys,
# and HTTP API 2.0 is implemented ignoring them (http_v2.py); 1.0 does the same [INF]. The function's
# framing headers are dropped: the gateway frames the body itself [INF].
HV1_RULES = ResponseRules(
    api="API Gateway HTTP API (payload 1.0)",
    cite="HV1-6: REST-R{}",
    strict_keys=False,
    dropped=frozenset({"connection", "content-length", "transfer-encoding"}),
)


def resource_of(route_key: str) -> str:
    """``resource`` / ``resourcePath`` for a route key: ``"$default"`` for the ``$default`` route, the
    route's path otherwise (``"GET /items/{id}"`` -> ``"/items/{id}"``) [CAP]."""
    return route_key.partition(" ")[2] or route_key


class HttpV1:
    """HTTP API payload format 1.0: ``build_event`` / ``parse_result`` (HV1-1..HV1-6).

    ``stage`` is ``"$default"`` or a stage name; the front passes the request path as sent, so a
    named stage's ``/dev`` prefix is part of ``path`` (HV1-5, [CAP]: ``"/dev/api/core/services"``).
    ``match.route_key`` is the route key and ``match.path_parameters`` are decoded."""

    def __init__(
        self,
        *,
        api_id: str,
        stage: str,
        account_id: str,
        region: str,
        stage_variables: Mapping[str, str] | None = None,
    ) -> None:
        self.api_id = api_id
        self.stage = stage
        self.account_id = account_id
        self.region = region
        self.domain_name = f"{api_id}.execute-api.{region}.amazonaws.com"
        self.stage_variables = dict(stage_variables) if stage_variables else None

    def build_event(self, request: HttpRequest, match: RouteMatch, ctx: InvocationContext) -> dict[str, Any]:
        """The 1.0 event: REST's keys plus ``"version": "1.0"``, absent values null (HV1-1)."""
        maps = proxy_v1_headers(request, canonical=HV1_CANONICAL, lowercase=True, drop=HV1_DROPPED)
        if maps.get("content-length") is None:
            # HTTP APIs pass Content-Length, "0" for a GET without body [CAP, as HV2-2 recorded].
            maps.set(HV1_CANONICAL["content-length"], str(len(request.body)))
        maps.set(HV1_CANONICAL["x-amzn-trace-id"], ctx.trace_id)
        # HV1-5: the path is percent-decoded [OBS O-MW93] and, as for 2.0 (HV2-5), cut at a decoded "?".
        path = decode_path(wire_text(request.path)).partition("?")[0]
        query, multi_query = query_maps(request.query_string)
        body, is_b64 = _body(request.body, maps.get("content-type"))
        resource = resource_of(match.route_key)
        return {
            "version": "1.0",
            "resource": resource,
            "path": path,
            "httpMethod": request.method,
            "headers": maps.single,
            "multiValueHeaders": maps.multi,
            "queryStringParameters": query,
            "multiValueQueryStringParameters": multi_query,
            "requestContext": render_iam_identity(render_authorizer(
                self._request_context(request, match, ctx, path, maps.get("user-agent")), match.auth), match.auth),
            "pathParameters": dict(match.path_parameters) if match.path_parameters else None,
            "stageVariables": dict(self.stage_variables) if self.stage_variables else None,
            "body": body,
            "isBase64Encoded": is_b64,
        }

    def _request_context(
        self, request: HttpRequest, match: RouteMatch, ctx: InvocationContext, path: str, user_agent: str | None
    ) -> dict[str, Any]:
        """The 1.0 requestContext [CAP]: ``requestId`` and ``extendedRequestId`` are both the short
        HTTP API id; ``resourceId`` is the route key; ``path`` equals the top-level path (stage
        included); no ``deploymentId``, ``routeKey`` or ``authorizer`` without an authorizer.
        ``userAgent`` is ``""`` without a User-Agent header (one capture [CAP], as http_v2.py)."""
        return {
            "accountId": self.account_id,
            "apiId": self.api_id,
            "domainName": self.domain_name,
            "domainPrefix": self.api_id,
            "extendedRequestId": ctx.short_id,
            "httpMethod": request.method,
            "identity": identity(HV1_IDENTITY_KEYS, request.client_ip, user_agent or ""),
            "path": path,
            "protocol": PROTOCOL,
            "requestId": ctx.short_id,
            "requestTime": format_request_time(ctx.time_epoch_ms),
            "requestTimeEpoch": ctx.time_epoch_ms,
            "resourceId": match.route_key,
            "resourcePath": resource_of(match.route_key),
            "stage": self.stage,
        }

    def parse_result(self, payload: bytes, request: HttpRequest, ctx: InvocationContext) -> HttpResponse:
        """HV1-6: REST's response format. HTTP APIs have no binaryMediaTypes, so ``isBase64Encoded:
        true`` is always decoded (HV2-R3, assumed for 1.0 [INF])."""
        status, headers, body = proxy_v1_response(payload, HV1_RULES, decode_base64=True)
        return HttpResponse(status=status, headers=(*headers, *self.service_headers(ctx)), body=body)

    def service_headers(self, ctx: InvocationContext) -> Headers:
        """``apigw-requestid`` on every HTTP API answer [OBS O-CX1225]."""
        return (("apigw-requestid", ctx.short_id),)


def _body(body: bytes, content_type: str | None) -> tuple[str | None, bool]:
    """Null when empty (C-3); otherwise the HTTP API split of HV2-9 (text for ``text/*``, JSON,
    JavaScript, XML; base64 for anything else, no Content-Type included), assumed for 1.0 [INF]."""
    if not body:
        return None, False
    if is_text_media_type(content_type):
        return body_text(body), False
    return b64(body), True
