"""``[lambda_api] auth = "AWS_IAM"``: SigV4 and IAM on the Lambda service API, as AWS's Lambda endpoint does.

Every request must be signed for the service ``lambda`` in the gateway's region by an identity of
``[[identities]]`` (or the trusted local credential chain); the operation's IAM action is then
evaluated on its resource (policy.py) against the identity's policies and the function's
resource-based ``policy`` (same account: either may allow; another account: both must). No I/O and
no clock of its own: the front passes the request's time.

The actions and resources, from the Lambda API reference ("Actions defined by AWS Lambda",
https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html and
https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html):

* Invoke: ``lambda:InvokeFunction`` on the function's ARN as the caller named it: unqualified
  (``function:NAME``) without a qualifier, qualified (``function:NAME:QUALIFIER``) with one, in the
  name or in ``?Qualifier=``. The two ARNs are different resources: a policy on ``function:NAME``
  does not let a caller invoke ``NAME:live`` nor the version it points to, and one on
  ``function:NAME:live`` allows only the alias ("the permission you grant applies only to the ARN
  used", https://docs.aws.amazon.com/lambda/latest/dg/using-aliases.html); ``function:NAME*`` or
  ``function:NAME:*`` are the usual patterns for both. The denial names the qualified ARN
  (``...function:Fn:1 because no identity-based policy ...``, cdklabs/construct-hub#882).
* InvokeAsync (deprecated): also ``lambda:InvokeFunction``; a user allowed ``lambda:InvokeAsync``
  was refused "not authorized to perform: lambda:InvokeFunction" (aws/aws-sdk-ruby#706; the old API
  reference: "This operation requires permission for the lambda:InvokeFunction action").
* GetFunction: ``lambda:GetFunction`` on the function ARN, qualified when ``?Qualifier=`` is given [INF].
* ListFunctions: ``lambda:ListFunctions`` on ``*`` (denial "... on resource: * because ...",
  RhinoSecurityLabs/cloudgoat#384).
* ListVersionsByFunction, ListAliases, GetAlias: their action on the unqualified function ARN
  (ListVersionsByFunction verified by hashicorp-education/learn-terraform-lambda-api-gateway#18;
  ListAliases and GetAlias [INF]: the alias ARN is not their resource here).

The refusals (all 403, rest-json: ``x-amzn-ErrorType`` and a JSON body):

* unsigned: MissingAuthenticationTokenException ``{"message":"Missing Authentication Token"}``
  (brefphp/bref#1250: Lambda's Invoke endpoint, Type MissingAuthenticationTokenException);
* a wrong signature: InvalidSignatureException ``{"message":"The request signature we calculated does
  not match ..."}`` (erlcloud/erlcloud#690: Lambda's answer, 192 bytes, which is this body exactly);
  a skewed or expired signature, a wrong scope: InvalidSignatureException with sigv4.py's message;
  a malformed one: IncompleteSignatureException;
* an unknown access key or a wrong session token: UnrecognizedClientException ``{"message":"The
  security token included in the request is invalid."}`` (auth.md 2a);
* not allowed: AccessDeniedException ``{"Message":"User: <arn> is not authorized to perform: <action>
  on resource: <arn> because no identity-based policy allows the <action> action"}`` (capital M as
  in danilop/LambdAuth#37; the wording as in awslabs/aws-deployment-framework#460 and
  aws/agentcore-cli#1891). Across accounts with the caller's own policy allowing it: "because no
  resource-based policy allows the <action> action" (the form seen for Lambda in
  awslabs/aws-automated-incident-response-and-forensics#13). An explicit deny: "with an explicit
  deny in an identity-based policy" (nficano/python-lambda#715) or "... in a resource-based
  policy" [INF: the same form, not seen for Lambda].
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from gateway.auth.iam import Callers, request_context
from gateway.auth.identities import IamDirectory, Identity
from gateway.auth.policy import AccessRequest, Decision, Policy, evaluate
from gateway.auth.sigv4 import Problem, SignatureError, verify
from gateway.errors import Forbidden
from gateway.models import HttpRequest

log = logging.getLogger("gateway")

SERVICE = "lambda"
INVOKE = "lambda:InvokeFunction"


def _body(key: str, text: str) -> bytes:
    return json.dumps({key: text}, separators=(",", ":")).encode()


def signature_refused(exc: SignatureError) -> Forbidden:
    """The Lambda endpoint's answer to a request whose SigV4 signature does not hold."""
    why = f"SigV4 (lambda): {exc}"
    if exc.problem is Problem.MISSING:
        return Forbidden(why, body=_body("message", "Missing Authentication Token"),
                         error_type="MissingAuthenticationTokenException")
    return Forbidden(why, body=_body("message", str(exc)), error_type=exc.problem.value)


def denial_text(request: AccessRequest, decision: Decision, resource_policy: Policy | None,
                resource_account: str) -> str:
    """AWS's AccessDeniedException message for a refused request (see the module docstring)."""
    head = f"User: {request.principal} is not authorized to perform: {request.action} on resource: {request.resource}"
    by_resource = resource_policy is not None and any(s.policy == resource_policy.name for s in decision.statements)
    if decision.explicit_deny:
        return head + f" with an explicit deny in {'a resource-based' if by_resource else 'an identity-based'} policy"
    identity_allowed = request.principal.is_root or any(
        resource_policy is None or s.policy != resource_policy.name for s in decision.statements)
    missing = "resource-based" if request.principal.account != resource_account and identity_allowed \
        else "identity-based"
    return head + f" because no {missing} policy allows the {request.action} action"


class LambdaApiIam:
    """The Lambda API's auth for one gateway: who signed, and may they do this (built once, STYLE H4).

    The front asks ``caller`` first, before it reads the operation's parameters (AWS authenticates
    before it validates: an unsigned request with a bad function name is still "Missing
    Authentication Token"), then ``authorize`` with the operation's action and resource."""

    def __init__(self, settings: Any, directory: IamDirectory) -> None:
        self.region: str = settings.region
        self.account_id: str = settings.account_id
        self.directory = directory
        self.callers = Callers()

    def caller(self, request: HttpRequest, now: datetime) -> Identity:
        """The identity whose SigV4 signature (service lambda, this region) the request carries, or Forbidden."""
        try:
            verified = verify(request, self.directory.credentials, self.region, SERVICE, now)
        except SignatureError as exc:
            raise signature_refused(exc) from None
        identity = self.directory.identity(verified.credentials.access_key_id)
        assert identity is not None  # verify() found its credentials in the same directory
        return identity

    def authorize(self, identity: Identity, request: HttpRequest, now: datetime, action: str, resource: str,
                  function: str | None) -> None:
        """Return when ``identity`` may do ``action`` on ``resource``; raise Forbidden otherwise.

        ``function`` names the function whose resource-based policy applies (None for ListFunctions)."""
        keys, _authorization = self.callers.of(identity)
        access = AccessRequest(identity.principal, action, resource, request_context(request, keys, now, self.region))
        policy = self.directory.resource_policy(function) if function is not None else None
        decision = evaluate(access, identity.policies, policy, self.account_id)
        if not decision.allowed:
            text = denial_text(access, decision, policy, self.account_id)
            raise Forbidden(f"IAM: {identity.principal} ({identity.source}) may not {action} on {resource}: "
                            f"{decision}", body=_body("Message", text), error_type="AccessDeniedException")
        if log.isEnabledFor(logging.DEBUG):
            log.debug("IAM: %s may %s on %s: %s", identity.principal, action, resource, decision)
