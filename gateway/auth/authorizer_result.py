"""A Lambda authorizer's result: parsed once, cached, then applied to each request's ARN.

Two shapes (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html,
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html#http-api-lambda-authorizer.payload-format-response):

- an IAM policy: ``{"principalId", "policyDocument": {"Version", "Statement": [...]}, "context",
  "usageIdentifierKey"}`` (REST; HTTP APIs with payload 1.0, or 2.0 without simple responses);
- a simple response (HTTP API payload 2.0 with ``enableSimpleResponses``): ``{"isAuthorized", "context"}``.

The policy is kept, not its verdict: a cached result is evaluated again against every new
methodArn, so a policy naming ``GET/pets/1`` does not let ``GET/pets/2`` through (the
knowledge-center note on ``{proxy+}`` resources with caching). The policy is validated and
matched by policy.py, as IAM does for ``execute-api:Invoke``: Deny wins, else an Allow is needed.

Pure: no clock, no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from gateway.auth.patterns import Unresolved
from gateway.auth.policy import Policy, PolicyError, parse_policy
from gateway.auth.principals import ANONYMOUS, Level

Verdict = Literal["allow", "explicit_deny", "implicit_deny"]
ACTION = "execute-api:Invoke"


class ResultError(ValueError):
    """The authorizer's answer is not a valid result (500). ``unauthorized``: it failed with the
    error message ``Unauthorized``, which API Gateway turns into 401."""

    def __init__(self, message: str, *, unauthorized: bool = False) -> None:
        super().__init__(message)
        self.unauthorized = unauthorized


@dataclass(frozen=True, slots=True)
class AuthorizerResult:
    """One authorizer answer. ``policy`` is None for a simple response (``is_authorized``)."""

    principal_id: str | None
    context: Mapping[str, Any]
    policy: Policy | None = None
    is_authorized: bool = False
    usage_identifier_key: str | None = None

    def verdict(self, arn: str) -> Verdict:
        """Allow, or which kind of deny, for this request's methodArn/routeArn."""
        if self.policy is None:
            return "allow" if self.is_authorized else "implicit_deny"
        return evaluate(self.policy, ACTION, arn)


def evaluate(policy: Policy, action: str, resource: str) -> Verdict:
    """IAM's rule for one policy: an explicit Deny wins, then an Allow, else an implicit deny.
    Statements are matched by policy.py (Action case-insensitive, Resource as ARNs, ``*``/``?``);
    conditions see an empty request context, so a key they test is absent [INF].
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html"""
    allowed = False
    for statement in policy.statements:
        try:
            level = statement.applies(ANONYMOUS, action, resource, {})
        except Unresolved:
            continue
        if level is Level.NONE:
            continue
        if not statement.allow:
            return "explicit_deny"
        allowed = True
    return "allow" if allowed else "implicit_deny"


# ------------------------------------------------------------------------------------------
# Parsing


def parse_result(
    payload: bytes, function_error: str | None, *, simple: bool, scalar_context: bool, require_principal: bool
) -> AuthorizerResult:
    """The authorizer function's payload as a result, or ResultError.

    ``simple``: HTTP API payload 2.0 with simple responses. ``scalar_context``: REST APIs (and
    HTTP API 1.0, which is REST-compatible) accept only string, number and boolean context values:
    "You can't set a JSON object or array as a valid value of any key in the context map".
    ``require_principal``: REST requires ``principalId``; HTTP APIs only document it [INF]."""
    doc = _decode(payload, function_error)
    if simple:
        authorized = doc.get("isAuthorized")
        if not isinstance(authorized, bool):
            raise ResultError(f"isAuthorized must be true or false, not {json.dumps(authorized)}")
        return AuthorizerResult(None, _context(doc, scalar=False), is_authorized=authorized)
    principal = doc.get("principalId")
    if (require_principal or principal is not None) and (not isinstance(principal, str) or not principal):
        raise ResultError("principalId is missing or not a non-empty string")
    usage_key = doc.get("usageIdentifierKey")
    if usage_key is not None and not isinstance(usage_key, str):
        raise ResultError("usageIdentifierKey must be a string")
    policy = _policy(doc.get("policyDocument"))
    return AuthorizerResult(principal, _context(doc, scalar=scalar_context), policy, False, usage_key)


def _decode(payload: bytes, function_error: str | None) -> dict[str, Any]:
    if function_error:
        message = None
        try:
            message = json.loads(payload).get("errorMessage")
        except (ValueError, AttributeError):
            pass
        # callback("Unauthorized") / raise Exception("Unauthorized"): 401, any other error: 500.
        if message == "Unauthorized":
            raise ResultError("the authorizer failed with 'Unauthorized'", unauthorized=True)
        raise ResultError(f"the authorizer function failed ({function_error}): {message or payload[:200]!r}")
    try:
        doc = json.loads(payload)
    except ValueError:
        raise ResultError(f"the authorizer returned invalid JSON: {payload[:200]!r}") from None
    if not isinstance(doc, dict):
        raise ResultError(f"the authorizer returned {type(doc).__name__}, not an object")
    return doc


def _context(doc: Mapping[str, Any], *, scalar: bool) -> Mapping[str, Any]:
    context = doc.get("context")
    if context is None:
        return {}
    if not isinstance(context, dict):
        raise ResultError("context must be an object")
    if scalar:
        for key, value in context.items():
            if isinstance(value, dict | list):
                raise ResultError(f"context.{key}: objects and arrays are not allowed as context values")
    return context


def _policy(document: Any) -> Policy:
    if not isinstance(document, dict):
        raise ResultError("policyDocument is missing or not an object")
    try:
        return parse_policy(document, name="the authorizer's policyDocument", kind="identity")
    except PolicyError as exc:
        raise ResultError(f"policyDocument: {exc}") from None
