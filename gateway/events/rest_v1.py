"""API Gateway REST API, Lambda proxy integration (AWS_PROXY, payload 1.0).

Rule ids (REST-*, C-*) refer to shared/reference/http-events.md, section 2. AWS documentation:
https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html

HTTP API payload 1.0 (http_v1.py) has the same maps and response format (HV1-3, HV1-4, HV1-6) and
reuses ``proxy_v1_headers``, ``query_maps``, ``identity`` and ``proxy_v1_response`` from here.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
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
    decode_query,
    encode_body,
    format_request_time,
    header_value_text,
    load_payload,
    matches_media_types,
    parse_status_code,
    wire_text,
)
from gateway.models import Authorization, Headers, HttpRequest, HttpResponse, InvocationContext, RouteMatch

# REST-2: API Gateway writes these names in this spelling whatever the client sent (`host` from an
# HTTP/2 client -> `Host`, `aUThorization` -> `Authorization`) [REC S-VK, S-LS]. Other names keep the
# client's spelling.
_REST_NAMES = ("Host", "User-Agent", "X-Forwarded-For", "X-Forwarded-Port", "X-Forwarded-Proto", "X-Amzn-Trace-Id")
REST_CANONICAL: Mapping[str, str] = {name.lower(): name for name in (*_REST_NAMES, "Authorization")}

# REST-2: no Content-Length in REST events [REC S-VK, S-LS]. Hop-by-hop headers end at AWS's front
# end: python-requests' `Connection: keep-alive` is absent from every S-LS event; the rest of the
# hop-by-hop set is assumed to go the same way [INF].
REST_DROPPED = HOP_BY_HOP | {"content-length"}

# REST-2 (edge-optimized endpoints): what the CloudFront distribution in front of the API adds
# [REC S-LS]. Locally there is no CloudFront to detect the viewer, so the values are fixed: a
# desktop viewer in the US on Amazon's ASN (the S-LS sample's stand-ins for redacted values) [INF].
CLOUDFRONT_VIEWER = {
    "CloudFront-Is-Desktop-Viewer": "true", "CloudFront-Is-Mobile-Viewer": "false",
    "CloudFront-Is-SmartTV-Viewer": "false", "CloudFront-Is-Tablet-Viewer": "false",
    "CloudFront-Viewer-ASN": "16509", "CloudFront-Viewer-Country": "US",
}
CLOUDFRONT_POP = "IAD89-C1"  # REST-R6 X-Amz-Cf-Pop; any edge location's code [INF]

# REST-6: requestContext.identity without authentication: every key null except sourceIp and
# userAgent [REC S-LS; the voker capture re-marshalled the nulls as "" and added empty
# apiKey/apiKeyId/clientCert, which exist only with API keys / mutual TLS].
REST_IDENTITY_KEYS = (
    "accessKey", "accountId", "caller", "cognitoAuthenticationProvider", "cognitoAuthenticationType",
    "cognitoIdentityId", "cognitoIdentityPoolId", "principalOrgId", "sourceIp", "user", "userAgent", "userArn",
)

_FORWARDED = frozenset({"x-forwarded-for", "x-forwarded-port", "x-forwarded-proto"})
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


@lru_cache(maxsize=4096)
def stable_id(*parts: str) -> str:
    """A 6-character lowercase alphanumeric id derived from ``parts``, shaped like AWS's resource and
    deployment ids (``al6gqb``): stable between runs, cached as each resource asks on every request."""
    number = int.from_bytes(hashlib.sha256("\0".join(parts).encode()).digest()[:8], "big")
    chars = []
    for _ in range(6):
        number, rem = divmod(number, 36)
        chars.append(_ID_ALPHABET[rem])
    return "".join(chars)


@dataclass(slots=True)
class HeaderMaps:
    """``headers`` (last value) and ``multiValueHeaders`` (every value) of a payload 1.0 event, with
    the spelling each lowercased name was given (REST-3: both maps have the same keys)."""

    single: dict[str, str]
    multi: dict[str, list[str]]
    names: dict[str, str]

    def get(self, lname: str) -> str | None:
        """The last value of a header by lowercase name."""
        key = self.names.get(lname)
        return None if key is None else self.single[key]

    def set(self, name: str, value: str) -> None:
        """Add a header the gateway writes itself, replacing any value of that name."""
        old = self.names.get(name.lower())
        if old is not None and old != name:
            del self.single[old], self.multi[old]
        self.names[name.lower()] = name
        self.single[name] = value
        self.multi[name] = [value]


def proxy_v1_headers(
    request: HttpRequest, *, canonical: Mapping[str, str], lowercase: bool, drop: frozenset[str]
) -> HeaderMaps:
    """One pass over the client's headers for a payload 1.0 event (REST-2, REST-3, HV1-2, HV1-3).

    A name in ``canonical`` gets that spelling, any other the client's (REST) or lowercase (HTTP API).
    ``headers`` has the last value, ``multiValueHeaders`` all in arrival order; a line with commas
    stays one value; names differing only in case are one header, spelled as first seen [INF].
    ``x-forwarded-for`` is extended with the client's address (``"a, b"``, recorded by S-LS as
    ``"192.0.2.10, 198.51.100.7"``); ``x-forwarded-port``/``-proto`` are the gateway's."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    chain: list[str] = []
    for name, value in request.headers:
        lname = name.lower()
        if lname in drop:
            continue
        value = wire_text(value)
        if lname in _FORWARDED:
            if lname == "x-forwarded-for":
                chain.append(value)
            continue
        key = names.get(lname)
        if key is None:
            key = names[lname] = canonical.get(lname) or (lname if lowercase else name)
            multi[key] = [value]
        else:
            multi[key].append(value)
        single[key] = value
    maps = HeaderMaps(single, multi, names)
    chain.append(request.client_ip)
    maps.set(canonical["x-forwarded-for"], ", ".join(chain))
    maps.set(canonical["x-forwarded-port"], str(request.server_port))
    maps.set(canonical["x-forwarded-proto"], request.scheme)
    return maps


def query_maps(raw: str) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    """REST-4 / HV1-4: ``(queryStringParameters, multiValueQueryStringParameters)``.

    Keys and values are percent-decoded with ``+`` as a space; a repeated key gives the **last**
    value in the single map (recorded, against the docs' example) and every value in the multi map.
    No query -> both ``None`` (JSON null, never ``{}``, REST-1)."""
    if not raw:
        return None, None
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in decode_query(wire_text(raw)):
        single[key] = value
        values = multi.get(key)
        if values is None:
            multi[key] = [value]
        else:
            values.append(value)
    return (single, multi) if multi else (None, None)


def split_stage(path: str, stage: str) -> tuple[str, str]:
    """REST-5 / REST-7: ``(path, requestContext.path)`` from the request path, encoding preserved.

    Leading slashes collapse (``//stage/proxy-value`` -> ``/stage/proxy-value``), the stage is cut
    from ``path`` and the slashes right after it collapse (``/stage//proxy-value`` ->
    ``/proxy-value``), while ``requestContext.path`` keeps them; trailing and inner ``//`` stay
    [REC S-LS]. ``/stage`` alone is the root ``/`` [INF]."""
    full = "/" + path.lstrip("/")
    prefix = f"/{stage}"
    if full == prefix or full.startswith(prefix + "/"):
        return "/" + full[len(prefix):].lstrip("/"), full
    return full, full


def identity(keys: tuple[str, ...], source_ip: str, user_agent: str | None) -> dict[str, Any]:
    """``requestContext.identity`` of an unauthenticated request: ``keys`` all null except
    ``sourceIp`` (the client's address) and ``userAgent`` (its User-Agent header) (REST-6)."""
    ident: dict[str, Any] = dict.fromkeys(keys)
    ident["sourceIp"] = source_ip
    ident["userAgent"] = user_agent
    return ident


def render_authorizer(request_context: dict[str, Any], auth: Authorization | None) -> dict[str, Any]:
    """REST-8 (and HV1, REST-compatible): ``requestContext.authorizer`` for a JWT or Lambda authorizer.

    Lambda (CUSTOM): the authorizer's ``context`` keys with their values as returned, then
    ``principalId`` and ``integrationLatency`` (ms) [CAP S-GO apigw-request, S-PT
    apiGatewayProxyEventPrincipalId]; HTTP API payload 1.0 is assumed to match REST here [INF].
    JWT: ``{"claims", "scopes"}`` (the HTTP API 1.0 shape, D-HTTP). Other kinds (``iam``) are
    rendered by their own function; no auth: no ``authorizer`` key.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format
    """
    if auth is None or auth.kind not in ("jwt", "lambda"):
        return request_context
    if auth.kind == "jwt":
        scopes = list(auth.scopes) if auth.scopes is not None else None
        request_context["authorizer"] = {"claims": dict(auth.claims or {}), "scopes": scopes}
        return request_context
    authorizer = dict(auth.context or {})
    if auth.principal_id is not None:
        authorizer["principalId"] = auth.principal_id
    authorizer["integrationLatency"] = auth.integration_latency_ms or 0
    request_context["authorizer"] = authorizer
    return request_context


def render_iam_identity(request_context: dict[str, Any], auth: Authorization | None) -> dict[str, Any]:
    """REST-8: an AWS_IAM caller fills ``identity``: accessKey, accountId (the caller's), caller and
    user (both aws:userid: ``AIDA...`` for a user, ``AROA...:session`` for a role session), userArn
    and principalOrgId; the cognito keys stay null [DOC D-REST AWS_IAM example; CAP console test
    invocations]. HTTP API payload 1.0 is assumed to fill its identity the same way [INF]."""
    if auth is None or auth.kind != "iam" or auth.iam is None:
        return request_context
    iam = auth.iam
    request_context["identity"].update(
        accessKey=iam["accessKey"], accountId=iam["accountId"], caller=iam["callerId"], user=iam["userId"],
        userArn=iam["userArn"], principalOrgId=iam["principalOrgId"],
    )
    return request_context


def sigv4_dropped(dropped: frozenset[str], auth: Authorization | None) -> frozenset[str]:
    """REST-2: ``Authorization`` is not passed on when it carried the SigV4 signature of an AWS_IAM
    route [DOC D-KNOWN]. (A signature sent to a route without IAM auth is left alone [INF].)"""
    return dropped | {"authorization"} if auth is not None and auth.kind == "iam" else dropped


class RestV1:
    """REST API Lambda proxy events and responses (REST-1..REST-9, REST-R1..REST-R6).

    The front passes the request path as sent, stage prefix included; ``match.route_key`` is the
    resource template (``/{proxy+}``) and ``match.path_parameters`` the still-encoded values."""

    def __init__(
        self, *, api_id: str, stage: str, account_id: str, region: str, binary_media_types: tuple[str, ...] = (),
        stage_variables: Mapping[str, str] | None = None, endpoint_type: str = "REGIONAL",
    ) -> None:
        self.api_id = api_id
        self.stage = stage
        self.account_id = account_id
        self.region = region
        self.binary_media_types = tuple(binary_media_types)
        self.stage_variables = dict(stage_variables) if stage_variables else None
        self.edge = endpoint_type == "EDGE"
        self.domain_name = f"{api_id}.execute-api.{region}.amazonaws.com"
        # REST-6: one deployment per run; its id only has to be stable and AWS-shaped.
        self.deployment_id = stable_id("deployment", api_id)

    # ------------------------------------------------------------------------------------------
    # Request -> event

    def build_event(self, request: HttpRequest, match: RouteMatch, ctx: InvocationContext) -> dict[str, Any]:
        """The proxy event: every key of REST-1 always present, absent values JSON null."""
        maps = proxy_v1_headers(request, canonical=REST_CANONICAL, lowercase=False,
                                drop=sigv4_dropped(REST_DROPPED, match.auth))
        if maps.get("x-amzn-trace-id") is None:
            # API Gateway "adds a tracing header to incoming HTTP requests that don't already have
            # one" (https://docs.aws.amazon.com/xray/latest/devguide/xray-services-apigateway.html):
            # a client's own X-Amzn-Trace-Id is passed on unchanged.
            maps.set("X-Amzn-Trace-Id", ctx.trace_id)
        if self.edge:
            self._add_cloudfront_headers(maps, request, ctx)
        path, full_path = split_stage(wire_text(request.path), self.stage)
        query, multi_query = query_maps(request.query_string)
        body, is_b64 = self._body(request.body, maps.get("content-type"))
        resource = match.route_key
        return {
            "resource": resource,
            "path": path,
            "httpMethod": request.method,
            "headers": maps.single,
            "multiValueHeaders": maps.multi,
            "queryStringParameters": query,
            "multiValueQueryStringParameters": multi_query,
            "pathParameters": dict(match.path_parameters) if match.path_parameters else None,
            "stageVariables": dict(self.stage_variables) if self.stage_variables else None,
            "requestContext": render_iam_identity(render_authorizer(
                self._request_context(request, ctx, resource, full_path, maps.get("user-agent")), match.auth),
                match.auth),
            "body": body,
            "isBase64Encoded": is_b64,
        }

    def _body(self, body: bytes, content_type: str | None) -> tuple[str | None, bool]:
        """REST-9: null when empty; base64 only when Content-Type matches binaryMediaTypes (exact,
        ``type/*``, ``*/*``); otherwise UTF-8 text, invalid bytes replaced as AWS mangles them."""
        if not body:
            return None, False
        if self.binary_media_types and matches_media_types(content_type, self.binary_media_types):
            return b64(body), True
        return body_text(body), False

    def _request_context(
        self, request: HttpRequest, ctx: InvocationContext, resource: str, full_path: str, user_agent: str | None
    ) -> dict[str, Any]:
        """REST-6. No ``authorizer`` key without an authorizer (REST-8, as recorded by S-LS)."""
        return {
            "accountId": self.account_id,
            "apiId": self.api_id,
            "deploymentId": self.deployment_id,
            "domainName": self.domain_name,
            "domainPrefix": self.api_id,
            "extendedRequestId": ctx.extended_request_id,
            "httpMethod": request.method,
            "identity": identity(REST_IDENTITY_KEYS, request.client_ip, user_agent),
            "path": full_path,
            # The voker capture (HTTP/2 curl) shows "HTTP/1.1": the protocol spoken to the integration.
            "protocol": PROTOCOL,
            "requestId": ctx.request_id,
            "requestTime": format_request_time(ctx.time_epoch_ms),
            "requestTimeEpoch": ctx.time_epoch_ms,
            "resourceId": stable_id("resource", self.api_id, resource),
            "resourcePath": resource,
            "stage": self.stage,
        }

    @staticmethod
    def _add_cloudfront_headers(maps: HeaderMaps, request: HttpRequest, ctx: InvocationContext) -> None:
        """REST-2: the CloudFront headers of an edge-optimized endpoint [REC S-LS]. Via and
        X-Amz-Cf-Id are derived from the request id. X-Forwarded-For gets the client's address
        only; the CloudFront hop AWS appends after it has no local equivalent [INF]."""
        via, cf_id = cloudfront_ids(ctx)
        for name, value in (("CloudFront-Forwarded-Proto", request.scheme), *CLOUDFRONT_VIEWER.items()):
            maps.set(name, value)
        maps.set("Via", via)
        maps.set("X-Amz-Cf-Id", cf_id)

    # ------------------------------------------------------------------------------------------
    # Result -> response

    def parse_result(self, payload: bytes, request: HttpRequest, ctx: InvocationContext) -> HttpResponse:
        """The client's response for the function's result (REST-R1..REST-R6).

        REST-R5: ``isBase64Encoded: true`` is decoded only when the request's first Accept media type
        matches binaryMediaTypes; otherwise the base64 text itself is the body (recorded)."""
        decode = bool(self.binary_media_types) and matches_media_types(first_accept(request), self.binary_media_types)
        status, headers, body = proxy_v1_response(payload, REST_RULES, decode_base64=decode)
        return HttpResponse(status=status, headers=(*headers, *self.service_headers(ctx)), body=body)

    def service_headers(self, ctx: InvocationContext) -> Headers:
        """REST-R6: the ids on every REST answer; edge endpoints add CloudFront's headers [REC S-LS].
        Date, Content-Length and Connection are the server's."""
        ids: Headers = (
            ("x-amzn-RequestId", ctx.request_id), ("x-amz-apigw-id", ctx.extended_request_id),
            ("X-Amzn-Trace-Id", ctx.trace_id),
        )
        if not self.edge:
            return ids
        via, cf_id = cloudfront_ids(ctx)
        return (*ids, ("X-Cache", "Miss from cloudfront"), ("Via", via), ("X-Amz-Cf-Pop", CLOUDFRONT_POP),
                ("X-Amz-Cf-Id", cf_id))


def first_accept(request: HttpRequest) -> str | None:
    """REST-R5: "API Gateway uses the first Accept header": the first media type it lists."""
    values = request.header_values("accept")
    return values[0].split(",", 1)[0] if values else None


def cloudfront_ids(ctx: InvocationContext) -> tuple[str, str]:
    """``(Via, X-Amz-Cf-Id)`` for an edge request, derived from its request id: a 32-hex node name,
    and 40 bytes as 56 base64url characters ending in ``==``, the shapes AWS uses."""
    seed = ctx.request_id.encode()
    node = hashlib.blake2b(seed, digest_size=16, person=b"via").hexdigest()
    cf_id = base64.urlsafe_b64encode(hashlib.blake2b(seed, digest_size=40, person=b"cf-id").digest())
    return f"1.1 {node}.cloudfront.net (CloudFront)", cf_id.decode("ascii")


# ----------------------------------------------------------------------------------------------
# The payload 1.0 response format, shared with HTTP API payload 1.0 (HV1-6).

RESULT_KEYS = ("statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded")
_EXPECTED = ", ".join(RESULT_KEYS)


@dataclass(frozen=True, slots=True)
class ResponseRules:
    """How one API type reads a payload 1.0 result. ``cite`` turns a REST-R rule number into the id
    named in error messages; ``remapped`` header names (lowercase) are sent as
    ``x-amzn-Remapped-<name>``, ``dropped`` ones not at all."""

    api: str
    cite: str
    strict_keys: bool
    remapped: frozenset[str] = frozenset()
    dropped: frozenset[str] = frozenset()

    def error(self, rule: int, text: str) -> InvalidLambdaResponse:
        """A malformed-result error for the log: what broke, and which rule (``(REST-R3)``)."""
        return InvalidLambdaResponse(f"{text} ({self.cite.format(rule)})")


# REST-R6: API Gateway renames function headers that would clash with its own
# (x-amzn-Remapped-WWW-Authenticate is the known case; D-KNOWN lists candidates). We remap those that
# would break HTTP framing or that the server sets, and the two auth headers; the set is [INF].
REST_RULES = ResponseRules(
    api="API Gateway REST",
    cite="REST-R{}",
    strict_keys=True,
    remapped=frozenset(
        {"authorization", "connection", "content-length", "date", "server", "transfer-encoding", "www-authenticate"}
    ),
)


def proxy_v1_response(
    payload: bytes, rules: ResponseRules, *, decode_base64: bool
) -> tuple[int, list[tuple[str, str]], bytes]:
    """``(status, headers, body)`` for a payload 1.0 result (REST-R1..REST-R5).

    REST-R1: a JSON object whose keys are among ``RESULT_KEYS``; another key or another JSON type
    is malformed (recorded). REST-R2: ``statusCode`` an integer or a string of digits; absent (or
    null [INF]) -> 200 (recorded with only ``headers``). REST-R4: ``Content-Type: application/json``
    is added when the function sets none."""
    result = load_payload(payload)
    if not isinstance(result, dict):
        raise rules.error(1, f"the result is {_json_kind(result)}, not a JSON object; {rules.api} needs an "
                             f"object with {_EXPECTED}")
    if rules.strict_keys:
        for key in result:
            if key not in RESULT_KEYS:
                raise rules.error(1, f"the result has an unexpected key {key!r}; {rules.api} accepts only {_EXPECTED}")
    status = result.get("statusCode")
    where = f"the result's statusCode ({rules.cite.format(2)})"
    code = 200 if status is None else parse_status_code(status, where=where)
    headers = merge_headers(result.get("headers"), result.get("multiValueHeaders"), rules)
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return code, headers, result_body(result, rules, decode_base64=decode_base64)


def merge_headers(single: Any, multi: Any, rules: ResponseRules) -> list[tuple[str, str]]:
    """REST-R3: ``multiValueHeaders`` (name -> list) and ``headers`` (name -> value), merged.

    A name in both maps (compared case-insensitively) sends **both** values, the multi-value ones
    first, under the spelling of ``multiValueHeaders`` (recorded: ``tesT-Multi: value-multi,
    value-solo``; the docs say only multiValueHeaders counts, the recording wins). Scalars are
    stringified (``true`` -> ``"true"``, recorded). A multi-value entry that is not a list is
    malformed (recorded). Null maps are fine (recorded); null values are skipped [INF]."""
    groups: dict[str, tuple[str, list[str]]] = {}
    if multi is not None:
        if not isinstance(multi, dict):
            raise rules.error(3, f"the result's multiValueHeaders is {_json_kind(multi)}; it must be an object "
                                 f"of header name -> list of values")
        for name, values in multi.items():
            if values is None:
                continue
            where = f"the result's multiValueHeaders[{name!r}]"
            if not isinstance(values, list):
                raise rules.error(3, f"{where} is {_json_kind(values)}; each entry must be a list of values, "
                                     f'e.g. ["value"]')
            target = _group(groups, name, rules, "multiValueHeaders")
            target.extend(header_value_text(value, where=where) for value in values if value is not None)
    if single is not None:
        if not isinstance(single, dict):
            raise rules.error(3, f"the result's headers is {_json_kind(single)}; it must be an object of "
                                 f"header name -> value")
        for name, value in single.items():
            if value is not None:
                text = header_value_text(value, where=f"the result's headers[{name!r}]")
                _group(groups, name, rules, "headers").append(text)
    return _flatten(groups, rules)


def _group(groups: dict[str, tuple[str, list[str]]], name: str, rules: ResponseRules, field: str) -> list[str]:
    check_header_name(name, where=f"the result's {field} ({rules.cite.format(3)})")
    entry = groups.get(name.lower())
    if entry is None:
        entry = groups[name.lower()] = (name, [])
    return entry[1]


def _flatten(groups: dict[str, tuple[str, list[str]]], rules: ResponseRules) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    for lname, (name, values) in groups.items():
        if lname not in rules.dropped:
            sent = f"x-amzn-Remapped-{name}" if lname in rules.remapped else name
            headers.extend((sent, value) for value in values)
    return headers


def result_body(result: dict[str, Any], rules: ResponseRules, *, decode_base64: bool) -> bytes:
    """REST-R4 / REST-R5: the body string; absent or null -> empty.

    A JSON object or array as body is malformed: API Gateway needs a string (the commonly reported
    "Malformed Lambda proxy response" [OBS]); numbers and booleans are stringified as header values
    are (REST-R3) [INF]. With ``isBase64Encoded`` true and ``decode_base64`` the string is decoded;
    undecodable text is malformed (AWS answers 500 for it, D-GWRESP)."""
    is_b64 = result.get("isBase64Encoded")
    if is_b64 is not None and not isinstance(is_b64, bool):
        raise rules.error(5, f"the result's isBase64Encoded must be true or false, got {is_b64!r}")
    body = result.get("body")
    if body is None:
        return b""
    if isinstance(body, dict | list):
        raise rules.error(4, f"the result's body is {_json_kind(body)}; {rules.api} needs a string "
                             f"(serialise it, e.g. json.dumps(body))")
    text = body if isinstance(body, str) else compact_json(body)
    if is_b64 and decode_base64:
        return b64decode_strict(text, where=f"the result's body ({rules.cite.format(5)})")
    return encode_body(text)


_KINDS = {type(None): "null", bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "an array"}


def _json_kind(value: Any) -> str:
    return _KINDS.get(type(value), "an object")
