"""Lambda function URLs: the payload 2.0 shape with the differences URL-1..URL-10.

Rule ids refer to shared/reference/http-events.md, section 5. AWS documentation:
https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html

A subclass of ``HttpV2`` (STYLE H1), as powertools declares
``class LambdaFunctionUrlEvent(APIGatewayProxyEventV2)``. The response mapping is HTTP API's
unchanged (URL-R1, URL-R2); only the event and the service headers differ.
"""

from __future__ import annotations

from typing import Any

from gateway.events.common import decode_path, wire_text
from gateway.events.http_v2 import HttpV2
from gateway.models import Headers, HttpRequest, InvocationContext, RouteMatch

# URL-2: every function URL event carries the TLS parameters of the client's connection. Locally
# the client may speak plain HTTP; we still send the values AWS records for a modern client
# (S-VK: TLSv1.3 / TLS_AES_128_GCM_SHA256) so that handlers reading them behave as in AWS.
TLS_VERSION = "TLSv1.3"
TLS_CIPHER_SUITE = "TLS_AES_128_GCM_SHA256"

# URL-5: function URLs have no routes or stages; both fields hold this placeholder.
PLACEHOLDER = "$default"


class FunctionUrl(HttpV2):
    """A function URL's event and response (URL-1..URL-R3).

    ``auth_type`` is ``"NONE"`` or ``"AWS_IAM"``. With NONE, ``requestContext.accountId`` is
    ``"anonymous"`` (URL-6, recorded). The ``host`` header is the one the client sent: in AWS it is
    always ``<url-id>.lambda-url.<region>.on.aws`` (URL-2) because that is the only name the URL
    answers to; locally the client reaches us under another name, and handlers that build absolute
    URLs from ``host`` must get one that works. ``requestContext.domainName`` keeps the AWS name."""

    keep_cookie_header = True  # URL-3
    replaced_headers = HttpV2.replaced_headers | {"x-amzn-tls-version", "x-amzn-tls-cipher-suite"}

    def __init__(self, *, url_id: str, account_id: str, region: str, auth_type: str = "NONE") -> None:
        super().__init__(api_id=url_id, stage=PLACEHOLDER, account_id=account_id, region=region)
        self.url_id = url_id
        self.auth_type = auth_type
        self.domain_name = f"{url_id}.lambda-url.{region}.on.aws"
        self._context_account_id = "anonymous" if auth_type.upper() == "NONE" else account_id

    def _add_gateway_headers(self, headers: dict[str, str], request: HttpRequest, ctx: InvocationContext) -> None:
        """URL-2: TLS headers plus the forwarding headers. Unlike HTTP APIs, no ``content-length``
        is invented for a request without one (S-PT lambdaFunctionUrlEvent: a browser GET has none)."""
        headers["x-amzn-tls-cipher-suite"] = TLS_CIPHER_SUITE
        headers["x-amzn-tls-version"] = TLS_VERSION
        self._add_forwarding_headers(headers, request, ctx)

    def _paths(self, request: HttpRequest) -> tuple[str, str]:
        """URL-5: ``rawPath`` keeps the percent-encoding as sent (``/capture/space%20value``) while
        ``requestContext.http.path`` is decoded (``/capture/space value``); an invalid escape is
        left alone (``/pa2%Fth/1``) [REC S-VK, S-LS]."""
        raw = wire_text(request.path)
        return raw, decode_path(raw)

    def _route_key(self, match: RouteMatch) -> str:
        return PLACEHOLDER  # URL-5

    def _add_route_fields(self, event: dict[str, Any], match: RouteMatch) -> None:
        """URL-1 / URL-5: no ``pathParameters`` or ``stageVariables`` keys at all. D-URL allows
        "null or excludes"; the cleanest capture (S-PT lambdaFunctionUrlEvent) has neither key, and
        the nulls in S-VK come from its Go re-marshalling."""

    def _request_id(self, ctx: InvocationContext) -> str:
        """URL-6: the Lambda request id (a UUID), also returned as ``x-amzn-RequestId``."""
        return ctx.request_id

    def _account_id(self) -> str:
        """URL-6: ``"anonymous"`` with AuthType NONE [REC S-VK, CAP S-PT]; the owner's account id
        otherwise [DOC D-URL]. The AWS_IAM ``authorizer.iam`` block (URL-8) needs the caller's
        identity, which the auth layer has to supply; it is not part of this format's inputs."""
        return self._context_account_id

    def service_headers(self, ctx: InvocationContext) -> Headers:
        """URL-R3: ``x-amzn-RequestId`` (the Lambda request id) and ``x-amzn-Trace-Id``."""
        return (("x-amzn-RequestId", ctx.request_id), ("x-amzn-Trace-Id", ctx.trace_id))
