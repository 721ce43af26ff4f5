"""The Lambda service API's wire format: function names as callers write them, and errors as AWS sends them.

Errors use the rest-json protocol: the code in ``x-amzn-ErrorType`` and a JSON body with ``Type``
(``User`` or ``Service``) and ``message`` (``Message`` for ResourceNotFoundException), so botocore
raises the same exceptions it raises against AWS (runtime.md, "Lambda Invoke API").
https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors
https://smithy.io/2.0/aws/protocols/aws-restjson1-protocol.html#operation-error-serialization
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

from gateway.config import GatewaySettings
from gateway.errors import (
    BadRequest,
    EventTooLarge,
    GatewayError,
    InvokeError,
    RequestError,
    RequestTooLarge,
    Throttled,
    UnknownFunction,
)
from gateway.functions.versions import function_arn
from gateway.models import HttpResponse

#: Lambda's synchronous request limit and the Event (asynchronous) payload limit.
#: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
SYNC_LIMIT = 6_291_456
EVENT_LIMIT = 262_144

#: Invoke's ``FunctionName`` pattern (botocore's service model): a name, ``name:qualifier``, a partial
#: ARN ``123456789012:function:name`` or a full ARN, each with an optional qualifier.
#: https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#lambda-Invoke-request-FunctionName
_FUNCTION_NAME = re.compile(
    r"(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?(?:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d):)?"
    r"(?:(?P<account>\d{12}):)?(?:function:)?(?P<name>[a-zA-Z0-9_.-]+)"
    r"(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9_-]+))?"
)
_PATTERN_TEXT = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?"
    r"([a-zA-Z0-9-_\.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?"
)


class ApiError(RequestError):
    """An error answer of the Lambda API: status, ``x-amzn-ErrorType``, body members."""

    def __init__(self, status: int, error_type: str, message: str, *, key: str = "message",
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.members: dict[str, Any] = {"Type": "User", key: message, **(extra or {})}


def invalid_parameter(message: str) -> ApiError:
    return ApiError(400, "InvalidParameterValueException", message)


def not_found(settings: GatewaySettings, name: str, qualifier: str | None = None, *,
              account: str | None = None) -> ApiError:
    arn = function_arn(settings.region, account or settings.account_id, name, qualifier)
    return ApiError(404, "ResourceNotFoundException", f"Function not found: {arn}", key="Message")


def event_too_large(size: int) -> ApiError:
    """The Event limit's answer; the wire code is RequestEntityTooLargeException, not the model's
    RequestTooLargeException (runtime.md: pelmers/streetwarp-web#14, ASFHyP3/hyp3#2241)."""
    return ApiError(413, "RequestEntityTooLargeException",
                    f"{size} byte payload is too large for the Event invocation type (limit {EVENT_LIMIT} bytes)")


def parse_function_name(raw: str, query_qualifier: str | None, settings: GatewaySettings) -> tuple[str, str | None]:
    """``(name, qualifier)`` from the path's FunctionName and ``?Qualifier=``.

    A name the pattern refuses is a ValidationException, as AWS's request validation answers [INF];
    an ARN of another region or account names no function here (ResourceNotFoundException); a
    qualifier in the name and a different one in the query is InvalidParameterValueException.
    """
    text = unquote(raw)
    found = _FUNCTION_NAME.fullmatch(text)
    if found is None or len(found.group("name")) > 64:
        raise ApiError(400, "ValidationException", (
            f"1 validation error detected: Value '{text}' at 'functionName' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: {_PATTERN_TEXT}"))
    name, qualifier = found.group("name"), found.group("qualifier")
    region, account = found.group("region"), found.group("account")
    if region is not None and region != settings.region:
        raise ApiError(404, "ResourceNotFoundException",
                       f"Functions from '{region}' are not reachable in this region ('{settings.region}')",
                       key="Message")
    if account is not None and account != settings.account_id:
        raise not_found(settings, name, qualifier, account=account)
    if query_qualifier is not None:
        if qualifier is not None and qualifier != query_qualifier:
            raise invalid_parameter("The derived qualifier from the function name does not match the specified "
                                    "qualifier.")
        qualifier = query_qualifier
    return name, qualifier


def as_api_error(exc: GatewayError) -> ApiError:
    """The Lambda API's answer for any gateway error raised while serving a request."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, UnknownFunction):
        return ApiError(404, "ResourceNotFoundException", str(exc), key="Message")
    if isinstance(exc, Throttled):
        return ApiError(429, "TooManyRequestsException", "Rate Exceeded.", extra={"Reason": exc.reason})
    if isinstance(exc, RequestTooLarge | EventTooLarge):
        return ApiError(413, "RequestEntityTooLargeException",
                        f"Request must be smaller than {SYNC_LIMIT} bytes for the InvokeFunction operation")
    if isinstance(exc, BadRequest):
        return ApiError(400, "InvalidRequestContentException", str(exc))
    if isinstance(exc, InvokeError):
        error = ApiError(500, "ServiceException", f"The Lambda service could not invoke the function: {exc}")
        error.members["Type"] = "Service"
        return error
    return ApiError(400, "InvalidRequestContentException", str(exc))


def error_response(exc: ApiError, request_id: str) -> HttpResponse:
    return HttpResponse(
        status=exc.status,
        headers=(("Content-Type", "application/json"), ("x-amzn-ErrorType", exc.error_type),
                 ("x-amzn-RequestId", request_id)),
        body=json.dumps(exc.members, separators=(",", ":")).encode(),
    )


def json_response(status: int, document: Any, request_id: str) -> HttpResponse:
    return HttpResponse(
        status=status,
        headers=(("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)),
        body=json.dumps(document, separators=(",", ":")).encode(),
    )
