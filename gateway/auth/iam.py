"""IAM auth as the fronts apply it: verify SigV4, find the identity, evaluate the policies.

No I/O and no clock of its own: the time is the request's (``InvocationContext.time_epoch_ms``, read
by the front), so ``decide`` is a plain function of its inputs; ``check`` is the async face the
fronts' route registry calls (gateway/auth/__init__.py).

Where it applies (the refusals are in ``Answers``):

* Function URLs (service ``lambda``): AuthType ``AWS_IAM`` needs a signed caller allowed
  ``lambda:InvokeFunctionUrl`` and, since October 2025, ``lambda:InvokeFunction`` on the function
  (the alias ARN for an alias URL); AuthType ``NONE`` evaluates the resource-based policy for the
  anonymous caller. Without a configured ``policy`` a NONE URL has the one the console creates
  (``FunctionURLAllowPublicAccess`` and ``FunctionURLAllowInvokeAction``).
  https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html
* REST and HTTP API routes with ``authorization = "AWS_IAM"`` (service ``execute-api``):
  ``execute-api:Invoke`` on ``arn:aws:execute-api:region:account:api-id/stage/METHOD/path``.
  https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-control-access-using-iam-policies-to-invoke-api.html
  https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-access-control-iam.html

Request context keys: aws:SourceIp (the client's address), aws:CurrentTime, aws:EpochTime,
aws:SecureTransport (always true: both endpoints are HTTPS-only on AWS, so policies that deny plain
HTTP behave as there), aws:RequestedRegion, the principal's keys (principals.py), and per action
lambda:FunctionUrlAuthType (InvokeFunctionUrl) or lambda:InvokedViaFunctionUrl (InvokeFunction),
as the Service Authorization Reference lists them for Lambda.
https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal

from gateway.auth import RouteAuth
from gateway.auth.conditions import context_of
from gateway.auth.identities import IamDirectory, Identity
from gateway.auth.identity import execute_api_arn, path_without_stage
from gateway.auth.patterns import Context
from gateway.auth.policy import AccessRequest, Decision, Policy, evaluate, parse_policy
from gateway.auth.principals import ANONYMOUS, Principal
from gateway.auth.sigv4 import Problem, SignatureError, verify
from gateway.errors import AuthError, Forbidden
from gateway.models import Authorization, HttpRequest, InvocationContext, RouteMatch

log = logging.getLogger("gateway")

FrontKind = Literal["rest_api", "http_api", "function_url"]
URL_FORBIDDEN = (b'{"Message":"Forbidden. For troubleshooting Function URL authorization issues, see: '
                 b'https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html"}')


def request_time(ctx: InvocationContext) -> datetime:
    """The request's time as the front read it."""
    return datetime.fromtimestamp(ctx.time_epoch_ms / 1000, UTC)


def request_context(request: HttpRequest, principal: Context, now: datetime, region: str,
                    extra: Context | None = None) -> Context:
    """The condition keys of one request: the principal's (``principal_context``, computed once per
    caller), the request's, and ``extra`` (service keys). Keys lowercase, values tuples. Built only
    when a condition or a policy variable reads it: most statements have neither."""
    return LazyContext(request.client_ip, principal, now, region, extra)


class LazyContext(Mapping[str, tuple[str, ...]]):
    """A request context whose dict is made on first read."""

    __slots__ = ("_source_ip", "_principal", "_now", "_region", "_extra", "_keys")

    def __init__(self, source_ip: str, principal: Context, now: datetime, region: str, extra: Context | None) -> None:
        self._source_ip, self._principal, self._now = source_ip, principal, now
        self._region, self._extra = region, extra
        self._keys: dict[str, tuple[str, ...]] | None = None

    def _build(self) -> dict[str, tuple[str, ...]]:
        if self._keys is None:
            current, epoch = _time_keys(int(self._now.timestamp()))
            self._keys = {
                **self._principal, "aws:sourceip": (self._source_ip,), "aws:securetransport": ("true",),
                "aws:currenttime": current, "aws:epochtime": epoch, "aws:requestedregion": (self._region,),
                **(self._extra or {}),
            }
        return self._keys

    def __getitem__(self, key: str) -> tuple[str, ...]:
        return self._build()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._build())

    def __len__(self) -> int:
        return len(self._build())


@lru_cache(maxsize=4)
def _time_keys(second: int) -> tuple[tuple[str], tuple[str]]:
    """aws:CurrentTime and aws:EpochTime, formatted once per second."""
    return (datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),), (str(second),)


def principal_context(principal: Principal) -> Context:
    return context_of(principal.context())


class Callers:
    """What each caller brings to every request, computed once: its context keys, its Authorization."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[Context, Authorization]] = {}

    def of(self, identity: Identity) -> tuple[Context, Authorization]:
        key = identity.credentials.access_key_id
        found = self._known.get(key)
        if found is None:
            found = self._known[key] = (principal_context(identity.principal), iam_authorization(identity))
        return found


def iam_authorization(identity: Identity) -> Authorization:
    """What the formats render: HV2-8 / URL-8 ``authorizer.iam``, REST-8 ``identity.*``.

    callerId and userId are both aws:userid (``AIDA...``, ``AROA...:session``), as captured from
    AWS for role sessions; cognitoIdentity is null for SigV4 callers."""
    principal = identity.principal
    return Authorization(kind="iam", iam={
        "accessKey": identity.credentials.access_key_id,
        "accountId": principal.account,
        "callerId": principal.userid,
        "cognitoIdentity": None,
        "principalOrgId": principal.org_id,
        "userArn": principal.arn,
        "userId": principal.userid,
    })


@dataclass(frozen=True, slots=True)
class Answers:
    """AWS's refusals for one front (auth.md 2a). Every answer is 403.

    REST: no signature -> ``{"message":"Missing Authentication Token"}`` (MissingAuthenticationToken-
    Exception); a deny -> ``{"Message":"User: <arn> is not authorized to perform: execute-api:Invoke
    on resource: <arn>"}`` (AccessDeniedException; `` with an explicit deny`` appended for a Deny
    statement [INF]). HTTP API: no signature or a deny -> ``{"message":"Forbidden"}`` [INF for the
    unsigned case], no x-amzn-ErrorType, as its other errors. Function URL: no signature or a deny
    -> ``{"Message":"Forbidden. For troubleshooting ..."}`` (AccessDeniedException). A bad
    signature, clock skew, an unknown key or a bad token -> the signer's message as
    ``{"message": ...}`` with its error type (InvalidSignatureException, IncompleteSignature-
    Exception, UnrecognizedClientException) on every front [INF for function URLs' body]."""

    front: FrontKind

    def signature(self, exc: SignatureError, service: str) -> AuthError:
        why = f"SigV4 ({service}): {exc}"
        if exc.problem is Problem.MISSING:
            return self.missing(why)
        return Forbidden(why, error_type=exc.problem.value, body=_message(str(exc)))

    def missing(self, why: str) -> AuthError:
        if self.front == "rest_api":
            return Forbidden(why, body=_message("Missing Authentication Token"),
                             error_type="MissingAuthenticationTokenException")
        if self.front == "http_api":
            return Forbidden(why, body=_message("Forbidden"))
        return Forbidden(why, body=URL_FORBIDDEN, error_type="AccessDeniedException")

    def denied(self, request: AccessRequest, decision: Decision, signer: str = "") -> AuthError:
        who = f"{request.principal} ({signer})" if signer else str(request.principal)
        why = f"IAM: {who} may not {request.action} on {request.resource}: {decision}"
        if self.front == "rest_api":
            text = (f"User: {request.principal} is not authorized to perform: {request.action} on resource: "
                    f"{request.resource}" + (" with an explicit deny" if decision.explicit_deny else ""))
            body = json.dumps({"Message": text}, separators=(",", ":")).encode()
            return Forbidden(why, body=body, error_type="AccessDeniedException")
        if self.front == "http_api":
            return Forbidden(why, body=_message("Forbidden"))
        return Forbidden(why, body=URL_FORBIDDEN, error_type="AccessDeniedException")


def _message(text: str) -> bytes:
    return json.dumps({"message": text}, separators=(",", ":")).encode()


def signed_caller(request: HttpRequest, directory: IamDirectory, *, region: str, service: str, now: datetime,
                  answers: Answers) -> Identity:
    """The identity whose signature the request carries; raises the front's AuthError otherwise."""
    try:
        verified = verify(request, directory.credentials, region, service, now)
    except SignatureError as exc:
        raise answers.signature(exc, service) from None
    identity = directory.identity(verified.credentials.access_key_id)
    assert identity is not None  # verify() found its credentials in the same directory
    return identity


def _decide(answers: Answers, request: AccessRequest, identity: Identity | None, resource_policy: Policy | None,
            owner: str) -> None:
    decision = evaluate(request, identity.policies if identity else (), resource_policy, owner)
    if not decision.allowed:
        raise answers.denied(request, decision, identity.source if identity else "")
    if log.isEnabledFor(logging.DEBUG):
        log.debug("IAM: %s may %s on %s: %s", request.principal, request.action, request.resource, decision)


class ApiIamAuth:
    """``authorization = "AWS_IAM"`` on one REST or HTTP API route."""

    def __init__(self, front: Literal["rest_api", "http_api"], api: Any, settings: Any,
                 directory: IamDirectory) -> None:
        self.front = front
        self.api = api
        self.region = settings.region
        self.account_id = settings.account_id
        self.directory = directory
        self.answers = Answers(front)
        self.callers = Callers()

    async def check(self, request: HttpRequest, match: RouteMatch, ctx: InvocationContext) -> Authorization:
        return self.decide(request, request_time(ctx))

    def decide(self, request: HttpRequest, now: datetime) -> Authorization:
        """Verify, then allow execute-api:Invoke on the request's ARN, or raise the front's AuthError."""
        identity = signed_caller(request, self.directory, region=self.region, service="execute-api", now=now,
                                 answers=self.answers)
        resource = execute_api_arn(region=self.region, account_id=self.account_id, api_id=self.api.api_id,
                                   stage=self.api.stage, method=request.method,
                                   path=path_without_stage(request.path, self.api.stage))
        keys, authorization = self.callers.of(identity)
        access = AccessRequest(identity.principal, "execute-api:Invoke", resource,
                               request_context(request, keys, now, self.region))
        _decide(self.answers, access, identity, None, self.account_id)
        return authorization


def default_url_policy(function_arn: str) -> Policy:
    """The resource-based policy the console creates with an AuthType NONE function URL."""
    document = {"Version": "2012-10-17", "Id": "default", "Statement": [
        {"Sid": "FunctionURLAllowPublicAccess", "Effect": "Allow", "Principal": "*",
         "Action": "lambda:InvokeFunctionUrl", "Resource": function_arn,
         "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}},
        {"Sid": "FunctionURLAllowInvokeAction", "Effect": "Allow", "Principal": "*",
         "Action": "lambda:InvokeFunction", "Resource": function_arn,
         "Condition": {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}}},
    ]}
    return parse_policy(document, name="the default function URL policy (auth type NONE)", kind="resource")


class FunctionUrlAuth:
    """A function URL's auth: AWS_IAM or NONE, both against the function's resource-based policy."""

    def __init__(self, url: Any, settings: Any, directory: IamDirectory) -> None:
        from gateway.functions.versions import function_arn, split_qualifier

        name, qualifier = split_qualifier(url.function)
        self.auth_type: str = url.auth_type
        self.region = settings.region
        self.account_id = settings.account_id
        self.function_arn = function_arn(settings.region, settings.account_id, name, qualifier)
        policy = directory.resource_policy(name)
        #: NONE without a policy of the user's: the gateway stands in the policy the console adds with a NONE
        #: URL [INF: created through the API without one, AWS answers 403]. Both its statements allow anyone
        #: and their conditions hold by construction, so every request is allowed and nothing is evaluated
        #: (evaluating was a quarter of the CPU of a request to such a URL; default_url_policy is that policy).
        #: A user's policy is evaluated.
        self.open = policy is None and self.auth_type == "NONE"
        self.policy = policy
        self.directory = directory
        self.answers = Answers("function_url")
        self.callers = Callers()
        self.anonymous = principal_context(ANONYMOUS)

    async def check(self, request: HttpRequest, match: RouteMatch, ctx: InvocationContext) -> Authorization | None:
        return self.decide(request, request_time(ctx))

    def decide(self, request: HttpRequest, now: datetime) -> Authorization | None:
        """Allow both actions or raise; the caller's Authorization for AWS_IAM, None for NONE (URL-8)."""
        if self.open:
            return None
        identity: Identity | None = None
        authorization: Authorization | None = None
        principal, keys = ANONYMOUS, self.anonymous
        if self.auth_type == "AWS_IAM":
            identity = signed_caller(request, self.directory, region=self.region, service="lambda", now=now,
                                     answers=self.answers)
            principal = identity.principal
            keys, authorization = self.callers.of(identity)
        for action, key, value in (("lambda:InvokeFunctionUrl", "lambda:functionurlauthtype", self.auth_type),
                                   ("lambda:InvokeFunction", "lambda:invokedviafunctionurl", "true")):
            context = request_context(request, keys, now, self.region, {key: (value,)})
            access = AccessRequest(principal, action, self.function_arn, context)
            _decide(self.answers, access, identity, self.policy, self.account_id)
        return authorization


def add_iam_routes(route_auth: RouteAuth, front: Literal["rest_api", "http_api"], api: Any, settings: Any,
                   directory: IamDirectory | None) -> None:
    """Register the API's ``authorization = "AWS_IAM"`` routes with the front's RouteAuth."""
    checker = ApiIamAuth(front, api, settings, directory if directory is not None else IamDirectory(()))
    for route in api.routes:
        if route.authorization == "AWS_IAM":
            route_auth.add(route, checker)


def function_url_auth(url: Any, settings: Any, directory: IamDirectory | None) -> RouteAuth:
    """A function URL's RouteAuth: its one "route" is its config (``RouteMatch.route``)."""
    route_auth = RouteAuth()
    checker = FunctionUrlAuth(url, settings, directory if directory is not None else IamDirectory(()))
    if not checker.open:  # an open URL has nothing to check
        route_auth.add(url, checker)
    return route_auth
