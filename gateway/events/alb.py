"""Application Load Balancer with a Lambda target group.

Rule ids (ALB-*) refer to shared/reference/http-events.md, section 6. AWS documentation:
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html
"""

from __future__ import annotations

from typing import Any

from gateway.errors import InvalidLambdaResponse, ResponseTooLarge
from gateway.events.common import (
    b64,
    b64decode_strict,
    body_text,
    check_header_name,
    is_header_safe,
    is_text_media_type,
    load_payload,
    parse_status_code,
    split_query,
    wire_text,
)
from gateway.models import Headers, HttpRequest, HttpResponse, InvocationContext, RouteMatch

# ALB-11: "The maximum size of the request body that you can send to a Lambda function is 1 MB"
# (the front answers 413) and "the maximum size of the response JSON that the Lambda function can
# send is 1 MB" (502). We read 1 MB as 1 MiB [INF].
MAX_REQUEST_BODY = 1_048_576
MAX_RESPONSE_PAYLOAD = 1_048_576

# ALB-R3: ALB ignores these response headers from the function and frames the body itself.
_IGNORED_RESPONSE_HEADERS = frozenset({"connection", "transfer-encoding", "content-length"})

# Response members that, when present, must not be null: ALB answers 502 for a null body
# [OBS aws/aws-lambda-go#438, verified by an AWS maintainer; powertools PR #4683] and for a null
# statusDescription / multiValueHeaders [OBS aws/aws-lambda-dotnet#507]; a member may be omitted
# instead (awsdocs/elb-application-load-balancers-user-guide#33: `{"statusCode": 200}` works).
_NOT_NULL = ("statusCode", "statusDescription", "headers", "multiValueHeaders", "body", "isBase64Encoded")


def request_too_large(request: HttpRequest) -> bool:
    """ALB-11: a request body over 1 MB is refused with 413 before any invocation."""
    return len(request.body) > MAX_REQUEST_BODY


class Alb:
    """ALB events and responses (ALB-0..ALB-11, ALB-R1..R3).

    ``multi_value_headers`` is the target group attribute ``lambda.multi_value_headers.enabled``
    (ALB-0). It picks the event's maps (``headers`` + ``queryStringParameters`` or
    ``multiValueHeaders`` + ``multiValueQueryStringParameters``; the other pair is absent, as in
    every aws-captured sample, S-GO/S-PT/S-RS) and the response map that is read (ALB-R2)."""

    def __init__(self, *, target_group_arn: str, multi_value_headers: bool) -> None:
        self.target_group_arn = target_group_arn
        self.multi_value_headers = multi_value_headers

    # ------------------------------------------------------------------------------------------
    # Request -> event

    def build_event(self, request: HttpRequest, match: RouteMatch, ctx: InvocationContext) -> dict[str, Any]:
        """The ALB event. ``match`` is not used: ALB events carry no rule or route (ALB-1)."""
        multi = self._multi_headers(request, ctx)
        content_type = multi.get("content-type")
        event: dict[str, Any] = {
            "requestContext": {"elb": {"targetGroupArn": self.target_group_arn}},  # ALB-6, exactly
            "httpMethod": request.method,
            "path": wire_text(request.path),  # ALB-5: as sent, encoding preserved
        }
        pairs = split_query(wire_text(request.query_string))  # ALB-4: never decoded
        if self.multi_value_headers:
            query: dict[str, list[str]] = {}
            for key, value in pairs:
                query.setdefault(key, []).append(value)
            event["multiValueQueryStringParameters"] = query
            event["multiValueHeaders"] = multi
        else:
            # ALB-2 / ALB-4: single mode keeps the last value of a repeated header or key.
            event["queryStringParameters"] = dict(pairs)
            event["headers"] = {name: values[-1] for name, values in multi.items()}
        body = request.body
        if not body:
            event["body"], event["isBase64Encoded"] = "", False  # ALB-9 / C-3: "" when empty
        elif "content-encoding" in multi or not is_text_media_type(content_type[-1] if content_type else None):
            # ALB-9: any content-encoding, or a type that is not text/*, json, javascript or xml
            # (including no type at all), is base64.
            event["body"], event["isBase64Encoded"] = b64(body), True
        else:
            event["body"], event["isBase64Encoded"] = body_text(body), False
        return event

    @staticmethod
    def _multi_headers(request: HttpRequest, ctx: InvocationContext) -> dict[str, list[str]]:
        """Lowercase names with every value in arrival order (ALB-2), plus ALB's own headers (ALB-10).

        Client headers pass through otherwise untouched (ALB passes even ``connection`` [CAP S-GO,
        S-PT]). The client's x-forwarded-for chain is extended with ``", <client ip>"`` into one
        value [INF]; x-forwarded-port/-proto and x-amzn-trace-id replace the client's."""
        headers: dict[str, list[str]] = {}
        for name, value in request.headers:
            headers.setdefault(name.lower(), []).append(wire_text(value))
        headers["x-amzn-trace-id"] = [ctx.trace_id]
        chain = headers.get("x-forwarded-for")
        ip = request.client_ip
        headers["x-forwarded-for"] = [", ".join([*chain, ip])] if chain else [ip]
        headers["x-forwarded-port"] = [str(request.server_port)]
        headers["x-forwarded-proto"] = [request.scheme]
        return headers

    # ------------------------------------------------------------------------------------------
    # Result -> response

    def parse_result(self, payload: bytes, request: HttpRequest, ctx: InvocationContext) -> HttpResponse:
        """The client's response (ALB-R1..R3). Raises ``ResponseTooLarge`` over 1 MB (ALB-11) and
        ``InvalidLambdaResponse`` for anything ALB answers with 502 (6.E)."""
        if len(payload) > MAX_RESPONSE_PAYLOAD:
            raise ResponseTooLarge(
                f"the function returned {len(payload)} bytes; an ALB accepts at most 1 MB "
                f"({MAX_RESPONSE_PAYLOAD} bytes) of response JSON (ALB-11)"
            )
        result = load_payload(payload)
        if not isinstance(result, dict):
            raise InvalidLambdaResponse(
                "an ALB needs a JSON object with statusCode, headers and isBase64Encoded (ALB-R1), "
                f"got a JSON {type(result).__name__}"
            )
        for key in _NOT_NULL:
            if key in result and result[key] is None:
                raise InvalidLambdaResponse(f'"{key}" is null; ALB answers 502 for a null member (omit it instead)')
        if "statusCode" not in result:
            raise InvalidLambdaResponse('"statusCode" is missing; an ALB response needs one (ALB-R1)')
        status = parse_status_code(result["statusCode"])
        if self.multi_value_headers:
            headers = multi_value_response_headers(result.get("multiValueHeaders", {}))
        else:
            headers = single_value_response_headers(result.get("headers", {}))
        return HttpResponse(
            status=status,
            headers=headers,
            body=response_body(result),
            reason=status_reason(result.get("statusDescription")),
        )

    def service_headers(self, ctx: InvocationContext) -> Headers:
        """ALB adds no request-id header of its own to the function's responses."""
        return ()


def status_reason(description: Any) -> str | None:
    """ALB-R1 ``statusDescription`` (``"200 OK"``) -> the status line's reason text (``"OK"``).

    Docs give ``"<code> <reason>"``; a value without a leading code is used whole as the reason
    [INF]. CR/LF would break the status line and make the response malformed."""
    if description is None:
        return None
    if not isinstance(description, str):
        raise InvalidLambdaResponse(f'"statusDescription" must be a string like "200 OK", got {description!r}')
    if not is_header_safe(description):
        raise InvalidLambdaResponse('"statusDescription" contains CR, LF or NUL, which would break the status line')
    code, _, reason = description.strip().partition(" ")
    if not code.isdigit():
        reason = description
    return reason.strip() or None


def single_value_response_headers(raw: Any) -> Headers:
    """ALB-R2 single mode: ``headers`` name -> string; each key is its own header line, so the
    case-varied duplicates Mangum emits (``set-cookie`` and ``Set-cookie``) all reach the client.
    ``multiValueHeaders`` is ignored in this mode [INF, the mirror of the observed multi-mode rule].
    Values must be strings: ALB answered 502 for a boolean [OBS jeremydaly/lambda-api#117]."""
    if not isinstance(raw, dict):
        raise InvalidLambdaResponse(f'"headers" must be a JSON object of name -> string, got {type(raw).__name__}')
    lines: list[tuple[str, str]] = []
    for name, value in raw.items():
        _append_header(lines, name, value, where=f'"headers" value of {name!r}')
    return tuple(lines)


def multi_value_response_headers(raw: Any) -> Headers:
    """ALB-R2 multi mode: ``multiValueHeaders`` name -> list of strings, one header line per
    element. ``headers`` is ignored in this mode: ALB drops it [OBS fastify/aws-lambda-fastify#272,
    dougmoscrop/serverless-http#283]. A non-list value is malformed [INF, as REST-R3]."""
    if not isinstance(raw, dict):
        raise InvalidLambdaResponse(
            f'"multiValueHeaders" must be a JSON object of name -> list of strings, got {type(raw).__name__}'
        )
    lines: list[tuple[str, str]] = []
    for name, values in raw.items():
        if not isinstance(values, list):
            raise InvalidLambdaResponse(
                f'"multiValueHeaders" value of {name!r} must be a list of strings, got {type(values).__name__}'
            )
        for index, value in enumerate(values):
            _append_header(lines, name, value, where=f'"multiValueHeaders" value {name!r}[{index}]')
    return tuple(lines)


def _append_header(lines: list[tuple[str, str]], name: str, value: Any, *, where: str) -> None:
    check_header_name(name, where="response header name")
    if not isinstance(value, str):
        raise InvalidLambdaResponse(f"{where} must be a string, got {type(value).__name__} {value!r}")
    if not is_header_safe(value):
        raise InvalidLambdaResponse(f"{where} contains CR, LF or NUL, which would break the HTTP response")
    if name.lower() not in _IGNORED_RESPONSE_HEADERS:  # ALB-R3
        lines.append((name, value))


def response_body(result: dict[str, Any]) -> bytes:
    """ALB-R1 / ALB-R3: ``body`` is optional and must be a string; ``isBase64Encoded: true`` makes
    ALB decode it. A missing ``isBase64Encoded`` counts as false (awsdocs ELB guide #33 [OBS])."""
    is_b64 = result.get("isBase64Encoded", False)
    if not isinstance(is_b64, bool):
        raise InvalidLambdaResponse(f'"isBase64Encoded" must be true or false, got {is_b64!r}')
    body = result.get("body", "")
    if not isinstance(body, str):
        raise InvalidLambdaResponse(f'"body" must be a string, got {type(body).__name__}')
    if is_b64:
        return b64decode_strict(body, where='"body"')
    return body.encode("utf-8", errors="replace")
