"""AWS's answers when an authorizer refuses a caller, per API type (JWT and Lambda authorizers).

REST APIs answer with gateway responses, which carry ``x-amzn-ErrorType``:

- UNAUTHORIZED 401 ``{"message":"Unauthorized"}`` (identity source missing or empty, or the
  authorizer failed with the error message ``Unauthorized``);
- ACCESS_DENIED 403: ``{"Message":"User is not authorized to access this resource with an explicit
  deny"}`` when a Deny statement matches the methodArn, ``{"Message":"User is not authorized to
  access this resource"}`` when no statement allows it;
- AUTHORIZER_CONFIGURATION_ERROR 500 ``{"message":null}`` (the function failed, timed out or
  returned something that is not a valid authorizer result).

HTTP APIs answer 401 ``{"message":"Unauthorized"}``, 403 ``{"message":"Forbidden"}`` and 500
``{"message":"Internal Server Error"}``, without ``x-amzn-ErrorType`` (as their other errors).

https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html#http-api-lambda-authorizer.troubleshooting
https://repost.aws/knowledge-center/api-gateway-403-error-lambda-authorizer

Verified: the status codes, the REST deny texts, REST's 500 ``{"message": null}`` with
``AuthorizerConfigurationException`` (user reports), HTTP API 401/403 bodies. Inferred [INF]:
the capital ``M`` of REST's ACCESS_DENIED bodies (as recorded for REST resource-policy denials,
auth.md 2a; the knowledge-center article prints them lowercase), the compact ``{"message":null}``
(the default gateway-response template ``{"message":$context.error.messageString}``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gateway.errors import AuthorizerFailed, Forbidden, Unauthorized

EXPLICIT_DENY = b'{"Message":"User is not authorized to access this resource with an explicit deny"}'
IMPLICIT_DENY = b'{"Message":"User is not authorized to access this resource"}'


@dataclass(frozen=True, slots=True)
class Answers:
    """Builds the AuthError for each refusal of one API type."""

    api: Literal["http", "rest"]

    def unauthorized(self, why: str, headers: tuple[tuple[str, str], ...] = ()) -> Unauthorized:
        error_type = "UnauthorizedException" if self.api == "rest" else None
        return Unauthorized(why, body=b'{"message":"Unauthorized"}', error_type=error_type, headers=headers)

    def denied(self, why: str, *, explicit: bool) -> Forbidden:
        if self.api == "rest":
            body = EXPLICIT_DENY if explicit else IMPLICIT_DENY
            return Forbidden(why, body=body, error_type="AccessDeniedException")
        return Forbidden(why, body=b'{"message":"Forbidden"}')

    def failed(self, why: str) -> AuthorizerFailed:
        if self.api == "rest":
            return AuthorizerFailed(why, body=b'{"message":null}', error_type="AuthorizerConfigurationException")
        return AuthorizerFailed(why, body=b'{"message":"Internal Server Error"}')


REST = Answers("rest")
HTTP = Answers("http")
