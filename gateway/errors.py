"""The gateway's single exception tree.

::

    GatewayError
     ├── ConfigError              bad configuration; raised at start, never rendered
     ├── RequestError             the client's request is refused before any invocation
     │    ├── RouteNotFound       no route/resource/rule matches
     │    ├── BadRequest          malformed request (bad escapes, bad framing)
     │    ├── RequestTooLarge     body over the front's or Lambda's limit
     │    ├── AuthError           refused by auth, with AWS's exact answer
     │    │    ├── Unauthorized   401
     │    │    ├── Forbidden      403
     │    │    └── AuthorizerFailed  500
     │    └── ClientDisconnected  the body never fully arrived; nothing is invoked
     ├── InvokeError              invoking the function failed
     │    ├── UnknownFunction     no such function (a wiring bug, since config is validated)
     │    ├── Throttled           concurrency or queue limit reached (Lambda 429)
     │    ├── EventTooLarge       the event is over Lambda's 6 MB request limit
     │    ├── FunctionFailed      the function ran and returned a function error
     │    ├── ResponseTooLarge    the function's payload is over the limit
     │    ├── InvalidLambdaResponse  the payload does not fit the front's response format
     │    │    └── BodyDecodeError   isBase64Encoded true with a body that is not base64
     │    ├── RemoteError         a remote Invoke API endpoint is unreachable or refused the call
     │    └── IntegrationTimeout  the front stopped waiting (API Gateway's 29/30 s)
     │         └── RemoteTimeout  a remote Invoke API endpoint did not answer in time
     └── EdgeError                (CloudFront; a later issue)

Seams map foreign errors (OSError, JSON, httpx) into this tree with ``raise ... from exc``;
each front turns a ``GatewayError`` into AWS's answer in exactly one place.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.models import InvocationResult


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose."""


class ConfigError(GatewayError):
    """The configuration cannot be used. The message names the file, the dotted key and the problem."""

    def __init__(self, problem: str, *, key: str = "", file: str = "") -> None:
        self.problem = problem
        self.key = key
        self.file = file
        where = ": ".join(part for part in (file, key) if part)
        super().__init__(f"{where}: {problem}" if where else problem)


class RequestError(GatewayError):
    """The request is refused before any invocation."""


class RouteNotFound(RequestError):
    """No route, resource or rule matches the request."""


class BadRequest(RequestError):
    """The request is malformed."""


class RequestTooLarge(RequestError):
    """The request body is over the front's limit."""


class AuthError(RequestError):
    """The caller is refused by auth (SigV4/IAM, JWT, a Lambda authorizer). Carries AWS's exact answer.

    ``body`` is the bytes AWS sends (e.g. ``{"message":"Unauthorized"}``); ``error_type`` goes in
    ``x-amzn-ErrorType`` when AWS sends one; ``headers`` are extra headers (``WWW-Authenticate``)."""

    status = 403

    def __init__(
        self,
        message: str,
        *,
        body: bytes | None = None,
        error_type: str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
        status: int | None = None,
        content_type: str = "application/json",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.body = body if body is not None else json.dumps({"message": message}, separators=(",", ":")).encode()
        self.error_type = error_type
        self.headers = headers
        self.content_type = content_type
        if status is not None:
            self.status = status


class Unauthorized(AuthError):
    """401: no or unusable credentials (missing identity source, bad token)."""

    status = 401


class Forbidden(AuthError):
    """403: the credentials are valid but not allowed (IAM deny, authorizer deny, missing scope)."""

    status = 403


class AuthorizerFailed(AuthError):
    """500: the Lambda authorizer failed or returned something unusable."""

    status = 500


class ClientDisconnected(RequestError):
    """The client went away before its whole request arrived: nothing is invoked."""


class InvokeError(GatewayError):
    """Invoking the function did not give a usable result."""


class UnknownFunction(InvokeError):
    """No function of that name is configured."""


class Throttled(InvokeError):
    """The function (or the gateway) is at its concurrency or queue limit.

    ``reason`` is what the Invoke API's TooManyRequestsException carries as ``Reason``
    (``ReservedFunctionConcurrentInvocationLimitExceeded``, ``ConcurrentInvocationLimitExceeded`` ...).
    https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors
    """

    def __init__(self, message: str, *, reason: str = "ConcurrentInvocationLimitExceeded") -> None:
        super().__init__(message)
        self.reason = reason


class EventTooLarge(InvokeError):
    """The event is over Lambda's synchronous request limit (6 MB, rule C-1)."""


class FunctionFailed(InvokeError):
    """The function returned a function error (rule C-2)."""

    def __init__(self, result: InvocationResult) -> None:
        self.result = result
        super().__init__(f"function error {result.function_error}: {result.payload[:500]!r}")


class ResponseTooLarge(InvokeError):
    """The function's response is over the limit (6 MB Lambda; 1 MB ALB)."""


class InvalidLambdaResponse(InvokeError):
    """The function's result does not fit the front's response format. The message says why."""


class BodyDecodeError(InvalidLambdaResponse):
    """``isBase64Encoded`` is true but the body is not base64 (REST answers 500 for it, D-GWRESP)."""


class IntegrationTimeout(InvokeError):
    """The front stopped waiting for the function (API Gateway's integration timeout)."""


class RemoteError(InvokeError):
    """A function's remote Invoke API endpoint could not be reached or refused the call (not 404/413/429).

    To the client this is the Lambda service failing the invocation: REST and HTTP APIs 500,
    ALB and function URLs 502 (each front's answer for an invoke error)."""


class RemoteTimeout(IntegrationTimeout):
    """A remote endpoint gave no answer within the function's timeout plus a margin.

    To the client the same as the front's own integration timeout: REST 504, HTTP API 503, ALB
    504 (a function URL has none: 502)."""


class EdgeError(GatewayError):
    """CloudFront distribution errors (later issue)."""
