"""API Gateway HTTP API, Lambda integration with payload format 2.0.

Rule ids (HV2-*, C-*) refer to shared/reference/http-events.md, section 4. AWS documentation:
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html

``FunctionUrl`` (function_url.py) subclasses this class; the hooks it overrides are the
methods whose names start with ``_`` and are documented as overridable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.errors import InvalidLambdaResponse
from gateway.events.common import (
    HOP_BY_HOP,
    PROTOCOL,
    b64,
    b64decode_strict,
    body_text,
    check_header_name,
    compact_json,
    decode_path,
    decode_query,
    encode_body,
    format_request_time,
    header_value_text,
    is_header_safe,
    is_text_media_type,
    load_payload,
    parse_status_code,
    wire_text,
)
from gateway.models import Authorization, Headers, HttpRequest, HttpResponse, InvocationContext, RouteMatch

# Response headers that describe the framing of the function's body. The gateway frames the body it
# sends itself (URL-R3: AWS computes Content-Length), so a function's own values are dropped [INF
# for HTTP APIs: a wrong value would otherwise corrupt the HTTP response].
# Hop-by-hop headers (RFC 9110 §7.6.1) are dropped too: a function's "Connection: close" must not
# end the client's connection.
_FRAMING = frozenset({"content-length", "transfer-encoding"}) | HOP_BY_HOP

def split_cookie_header(value: str) -> list[str]:
    """One ``name=value`` element per cookie of a Cookie header (HV2-3).

    AWS's splitting of ``a=1;b=2`` (no space) is unverified [INF]: we split on ``;`` and strip
    whitespace, which gives the recorded result for the usual ``"; "`` separator and drops empty
    pieces."""
    return [piece for part in value.split(";") if (piece := part.strip())]


def render_authorizer(request_context: dict[str, Any], auth: Authorization | None) -> dict[str, Any]:
    """HV2-8: ``requestContext.authorizer`` for a JWT authorizer (``{"jwt": {"claims", "scopes"}}``,
    scopes null when the token has none) or a Lambda authorizer (``{"lambda": <its context>}``).
    Other kinds (``iam``) are rendered by their own function; no auth: no ``authorizer`` key (HV2-6).
    https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
    """
    if auth is None or auth.kind not in ("jwt", "lambda"):
        return request_context
    if auth.kind == "jwt":
        scopes = list(auth.scopes) if auth.scopes is not None else None
        request_context["authorizer"] = {"jwt": {"claims": dict(auth.claims or {}), "scopes": scopes}}
    else:
        request_context["authorizer"] = {"lambda": dict(auth.context or {})}
    return request_context


def render_iam_authorizer(request_context: dict[str, Any], auth: Authorization | None) -> dict[str, Any]:
    """HV2-8 / URL-8: an AWS_IAM caller as ``requestContext.authorizer.iam``: accessKey, accountId,
    callerId, cognitoIdentity (null), principalOrgId, userArn, userId [DOC D-HTTP, D-URL; CAP S-PT
    apiGatewayProxyV2IamEvent]. A function URL with AuthType NONE has no authorizer (URL-8)."""
    if auth is not None and auth.kind == "iam" and auth.iam is not None:
        request_context["authorizer"] = {"iam": dict(auth.iam)}
    return request_context


class HttpV2:
    """HTTP API payload format 2.0: ``build_event`` / ``parse_result`` (STYLE H1, H2).

    ``stage`` is ``"$default"`` or a stage name; the front passes the request path as sent,
    so a named stage's ``/dev`` prefix is part of ``rawPath`` (HV2-5)."""

    # URL-3: function URLs keep the Cookie header next to `cookies`; HTTP APIs remove it (HV2-3).
    keep_cookie_header = False
    # Headers the gateway sets itself: a client's own value is dropped (x-forwarded-for is kept
    # and extended instead, HV2-2).
    replaced_headers = frozenset({"x-amzn-trace-id", "x-forwarded-port", "x-forwarded-proto"}) | HOP_BY_HOP

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
        self.domain_prefix = api_id
        self.stage_variables = dict(stage_variables) if stage_variables else None

    # ------------------------------------------------------------------------------------------
    # Request -> event

    def build_event(self, request: HttpRequest, match: RouteMatch, ctx: InvocationContext) -> dict[str, Any]:
        """The payload 2.0 event (HV2-1..HV2-9). Optional keys are omitted, never null (HV2-1)."""
        headers, cookies = self._headers(request, ctx)
        raw_path, http_path = self._paths(request)
        query = wire_text(request.query_string)
        route_key = self._route_key(match)
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": raw_path,
            "rawQueryString": query,  # HV2-4: verbatim, without "?"; "" when none
        }
        if cookies:
            event["cookies"] = cookies
        event["headers"] = headers
        if query:
            params = query_parameters(query)
            if params:
                event["queryStringParameters"] = params
        self._add_route_fields(event, match)
        event["requestContext"] = render_iam_authorizer(render_authorizer(
            self._request_context(request, ctx, http_path, route_key, headers), match.auth), match.auth)
        if request.body:
            # HV2-9: text only for text/*, json, javascript, xml; anything else (no type too) is base64.
            if is_text_media_type(headers.get("content-type")):
                event["body"] = body_text(request.body)
                event["isBase64Encoded"] = False
            else:
                event["body"] = b64(request.body)
                event["isBase64Encoded"] = True
        else:
            event["isBase64Encoded"] = False  # C-3: no body key, flag always present
        return event

    def _headers(self, request: HttpRequest, ctx: InvocationContext) -> tuple[dict[str, str], list[str]]:
        """One pass over the client's headers (HV2-2, HV2-3).

        Names are lowercased and repeats joined with ``,`` without a space (``first,second``).
        Cookie headers feed ``cookies``. Several Cookie headers (HTTP/2 clients may split one) are
        joined with ``"; "`` where the header is kept (function URLs), as RFC 9113 8.2.3 requires
        for HTTP/2 [INF for AWS]."""
        headers: dict[str, str] = {}
        cookies: list[str] = []
        keep_cookie = self.keep_cookie_header
        replaced = self.replaced_headers
        for name, value in request.headers:
            lname = name.lower()
            value = wire_text(value)
            if lname == "cookie":
                cookies.extend(split_cookie_header(value))
                if keep_cookie:
                    prev = headers.get(lname)
                    headers[lname] = value if prev is None else f"{prev}; {value}"
                continue
            if lname in replaced:
                continue
            prev = headers.get(lname)
            headers[lname] = value if prev is None else f"{prev},{value}"
        self._add_gateway_headers(headers, request, ctx)
        return headers, cookies

    def _add_gateway_headers(self, headers: dict[str, str], request: HttpRequest, ctx: InvocationContext) -> None:
        """Overridable: the headers API Gateway adds (HV2-2).

        ``content-length`` is always present in HTTP API events: curl GETs without a body arrive
        with ``"content-length": "0"`` [CAP S-GO apigw-v2-request-no-authorizer, S-RS
        apigw_v2_proxy_request_minimal]. A client that sent none (chunked upload) gets the length
        of the buffered body [INF]."""
        if "content-length" not in headers:
            headers["content-length"] = str(len(request.body))
        self._add_forwarding_headers(headers, request, ctx)

    @staticmethod
    def _add_forwarding_headers(headers: dict[str, str], request: HttpRequest, ctx: InvocationContext) -> None:
        """x-amzn-trace-id, x-forwarded-for/-port/-proto (HV2-2, URL-2).

        The client's x-forwarded-for chain is extended with ``", <client ip>"`` (the usual proxy
        convention; the separator AWS uses is unverified [INF]). ``ctx.trace_id`` replaces a
        client's x-amzn-trace-id; the I/O layer may build it from the client's Root to continue a trace."""
        headers["x-amzn-trace-id"] = ctx.trace_id
        chain = headers.get("x-forwarded-for")
        headers["x-forwarded-for"] = f"{chain}, {request.client_ip}" if chain else request.client_ip
        headers["x-forwarded-port"] = str(request.server_port)
        headers["x-forwarded-proto"] = request.scheme

    def _paths(self, request: HttpRequest) -> tuple[str, str]:
        """Overridable: ``(rawPath, requestContext.http.path)``.

        HV2-5: HTTP APIs percent-decode the path and give the same string in both places
        (``/capture/space%20value`` -> ``/capture/space value``) [REC S-VK]. They were also seen
        cutting the path at a decoded ``?`` (``/a%3Fb`` -> ``/a``) [OBS O-MW93, citing live captures]."""
        path = decode_path(wire_text(request.path)).partition("?")[0]
        return path, path

    def _route_key(self, match: RouteMatch) -> str:
        """Overridable: ``"$default"`` or the route as defined, e.g. ``"GET /pets/{name}"`` (HV2-5)."""
        return match.route_key

    def _add_route_fields(self, event: dict[str, Any], match: RouteMatch) -> None:
        """Overridable: pathParameters (decoded, HV2-5) and stageVariables, omitted when empty (HV2-1)."""
        if match.path_parameters:
            event["pathParameters"] = dict(match.path_parameters)
        if self.stage_variables:
            event["stageVariables"] = dict(self.stage_variables)

    def _request_id(self, ctx: InvocationContext) -> str:
        """Overridable: HTTP APIs use a 16-character id such as ``ATfSmjLgPHcESJw=`` (HV2-6)."""
        return ctx.short_id

    def _account_id(self) -> str:
        return self.account_id

    def _request_context(
        self, request: HttpRequest, ctx: InvocationContext, http_path: str, route_key: str, headers: dict[str, str]
    ) -> dict[str, Any]:
        """HV2-6. ``authentication`` (mutual TLS) and ``authorizer`` are added only by the features
        that produce them, so an unauthenticated request has neither key."""
        return {
            "accountId": self._account_id(),
            "apiId": self.api_id,
            "domainName": self.domain_name,
            "domainPrefix": self.domain_prefix,
            "http": {
                "method": request.method,
                "path": http_path,
                "protocol": PROTOCOL,
                "sourceIp": request.client_ip,
                # No User-Agent header -> "" [INF]; powertools' model requires a string here.
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": self._request_id(ctx),
            "routeKey": route_key,
            "stage": self.stage,
            "time": format_request_time(ctx.time_epoch_ms),
            "timeEpoch": ctx.time_epoch_ms,
        }

    # ------------------------------------------------------------------------------------------
    # Result -> response

    def parse_result(self, payload: bytes, request: HttpRequest, ctx: InvocationContext) -> HttpResponse:
        """The client's response for the function's result (HV2-R1..R3, URL-R1).

        An object with a non-null ``statusCode`` is the full format. Anything else -- a string, a
        number, a list, or an object without ``statusCode`` -- is inferred as a 200
        ``application/json`` body (HV2-R2): strings are sent unquoted, other JSON re-serialised
        compactly (URL-R1, recorded). ``null`` is sent as the body ``null`` [INF]."""
        result = load_payload(payload)
        if isinstance(result, dict) and result.get("statusCode") is not None:
            return full_response(result, self.service_headers(ctx))
        body = result if isinstance(result, str) else compact_json(result)
        headers = (("Content-Type", "application/json"), *self.service_headers(ctx))
        return HttpResponse(status=200, headers=headers, body=encode_body(body))

    def service_headers(self, ctx: InvocationContext) -> Headers:
        """``apigw-requestid`` on every HTTP API answer [OBS O-CX1225]."""
        return (("apigw-requestid", ctx.short_id),)


def query_parameters(raw: str) -> dict[str, str]:
    """HV2-4: decoded (``+`` is a space), repeated keys joined with ``,`` (``"repeat": "one,two"``)."""
    params: dict[str, str] = {}
    for key, value in decode_query(raw):
        prev = params.get(key)
        params[key] = value if prev is None else f"{prev},{value}"
    return params


def full_response(result: dict[str, Any], extra: Headers = ()) -> HttpResponse:
    """HV2-R1: ``{"statusCode", "headers", "cookies", "body", "isBase64Encoded"}``.

    A ``null`` member counts as absent (the .NET SDK writes nulls and API Gateway accepts them
    [OBS DataDog/datadog-lambda-extension#960]). Unknown members are ignored [INF]; unlike REST
    (REST-R1) nothing recorded says HTTP APIs reject them. ``multiValueHeaders`` does not exist in
    2.0 and is ignored. Everything else that does not fit raises ``InvalidLambdaResponse``.
    ``extra``: the gateway's own headers, sent after the function's."""
    status = parse_status_code(result["statusCode"])
    headers = response_headers(result.get("headers"))
    has_content_type = any(name.lower() == "content-type" for name, _ in headers)
    cookies = result.get("cookies")
    if cookies is not None:
        headers.extend(("Set-Cookie", cookie) for cookie in response_cookies(cookies))
    if not has_content_type:
        # D-KNOWN / URL-R3: AWS adds Content-Type: application/json when the function sets none.
        headers.append(("Content-Type", "application/json"))
    headers.extend(extra)
    return HttpResponse(status=status, headers=tuple(headers), body=response_body(result))


def response_headers(raw: Any) -> list[tuple[str, str]]:
    """HV2-R1 ``headers``: an object of name -> single value.

    Numbers and booleans are stringified (``true`` -> ``"true"``) as API Gateway does for REST
    (REST-R3) [INF for 2.0]; lists, objects and null values are malformed, since 2.0 has no
    multi-value headers (join repeats with commas). CR, LF or NUL anywhere is malformed: it would
    split the HTTP response."""
    if raw is None:
        return []
    if not isinstance(raw, dict):
        raise InvalidLambdaResponse(
            f'"headers" must be a JSON object of header name -> string (HV2-R1), got {type(raw).__name__}'
        )
    headers: list[tuple[str, str]] = []
    for name, value in raw.items():
        check_header_name(name, where='"headers" (HV2-R1)')
        if name.lower() in _FRAMING:
            continue
        headers.append((name, header_value_text(value, where=f'"headers" value of {name!r} (HV2-R1)')))
    return headers


def response_cookies(raw: Any) -> list[str]:
    """HV2-R1 / URL-R2: ``cookies`` is a list of strings, one Set-Cookie header each."""
    if not isinstance(raw, list):
        raise InvalidLambdaResponse(
            f'"cookies" must be a JSON array of strings, one per Set-Cookie header (HV2-R1), got {type(raw).__name__}'
        )
    for index, cookie in enumerate(raw):
        if not isinstance(cookie, str):
            raise InvalidLambdaResponse(f'"cookies"[{index}] must be a string, got {type(cookie).__name__}')
        if not is_header_safe(cookie):
            raise InvalidLambdaResponse(
                f'"cookies"[{index}] contains CR, LF or NUL, which would break the Set-Cookie header'
            )
    return raw


def response_body(result: dict[str, Any]) -> bytes:
    """HV2-R1 / HV2-R3 body: a string, base64-decoded when ``isBase64Encoded`` is true (always
    honoured: HTTP APIs have no binaryMediaTypes). A body that is JSON but not a string (an
    object, a list, a number) is serialised compactly and sent (URL-R1, recorded)."""
    is_b64 = result.get("isBase64Encoded")
    if is_b64 is not None and not isinstance(is_b64, bool):
        raise InvalidLambdaResponse(f'"isBase64Encoded" must be true or false, got {is_b64!r}')
    body = result.get("body")
    if body is None:
        return b""
    if isinstance(body, str):
        return b64decode_strict(body, where='"body"') if is_b64 else encode_body(body)
    if is_b64:
        raise InvalidLambdaResponse(
            f'"body" must be a base64 string when "isBase64Encoded" is true, got {type(body).__name__}'
        )
    return encode_body(compact_json(body))
