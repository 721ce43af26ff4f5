"""The Lambda service API (``[lambda_api] listen = "127.0.0.1:3010"``) for boto3 and the AWS CLI.

``POST /2015-03-31/functions/{FunctionName}/invocations`` (Invoke: RequestResponse 200, Event 202,
DryRun 204), the legacy ``POST /2014-11-13/functions/{FunctionName}/invoke-async/`` (202), and the
read-only GetFunction, ListFunctions, ListVersionsByFunction, GetAlias and ListAliases answered
from the config (fronts/lambda_catalog.py). Errors as AWS puts them on the wire (lambda_wire.py).
``auth = "AWS_IAM"``: SigV4 and each operation's IAM action, as gateway/auth/lambda_api_iam.py says.
https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
https://docs.aws.amazon.com/lambda/latest/api/API_InvokeAsync.html

Event invocations (and InvokeAsync) are checked (function, qualifier, 256 KB), stored in the durable
queue (gateway/queue.py: SQLite in ``[gateway] data_dir``) and only then answered 202; the queue runs
them with Lambda's asynchronous semantics (retries after function errors, backoff after throttles,
maximum event age, on_success/on_failure destinations, dead_letter) and keeps them across restarts.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from gateway.auth.iam import request_time
from gateway.auth.identities import IamDirectory
from gateway.auth.lambda_api_iam import INVOKE, LambdaApiIam
from gateway.config import FunctionConfig, GatewaySettings, LambdaApiConfig
from gateway.errors import AuthError, GatewayError, RouteNotFound
from gateway.fronts.base import BaseFront
from gateway.fronts.lambda_catalog import Catalog
from gateway.fronts.lambda_wire import (
    EVENT_LIMIT,
    SYNC_LIMIT,
    ApiError,
    as_api_error,
    error_response,
    event_too_large,
    invalid_parameter,
    not_found,
    parse_function_name,
)
from gateway.functions import FunctionsService
from gateway.functions.context import decode_client_context
from gateway.functions.versions import function_arn, resolve
from gateway.models import Headers, HttpRequest, HttpResponse, InvocationContext, InvocationResult
from gateway.queue import AsyncQueue, QueueUnavailable

log = logging.getLogger("gateway")

Endpoint = Callable[[HttpRequest, InvocationContext, "list[str]"], Awaitable[HttpResponse]]
#: An operation's IAM resource from the path's groups and the request: (ARN, the function whose
#: resource-based policy applies, None for ListFunctions). gateway/auth/lambda_api_iam.py.
Scope = Callable[["list[str]", HttpRequest], "tuple[str, str | None]"]

_INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")
_LOG_TYPES = ("None", "Tail")


class LambdaApiFront(BaseFront):
    """Lambda's service API on its own listener. With ``auth = "AWS_IAM"`` every request must be SigV4-signed
    (service ``lambda``) by a known identity allowed the operation's action (gateway/auth/lambda_api_iam.py)."""

    kind = "lambda_api"
    max_body = SYNC_LIMIT

    def __init__(self, cfg: LambdaApiConfig, functions: FunctionsService, settings: GatewaySettings, *,
                 iam: IamDirectory | None = None, queue: AsyncQueue | None = None) -> None:
        super().__init__(cfg.name, functions)
        self.cfg = cfg
        self.settings = settings
        self.catalog = Catalog(functions.function_configs, settings)
        self.queue = queue  # Event invocations are stored here (gateway/queue.py); build_fronts gives it
        directory = iam if iam is not None else IamDirectory(())
        self.iam = LambdaApiIam(settings, directory) if cfg.auth == "AWS_IAM" else None
        # (method, path, endpoint, IAM action, IAM resource): lambda_api_iam.py says why each resource.
        self.routes: list[tuple[str, re.Pattern[str], Endpoint, str, Scope]] = [
            ("POST", re.compile(r"/2015-03-31/functions/([^/]+)/invocations/?"), self.invoke_api,
             INVOKE, self._as_named),
            ("POST", re.compile(r"/2014-11-13/functions/([^/]+)/invoke-async/?"), self.invoke_async,
             INVOKE, self._as_named_in_path),
            ("GET", re.compile(r"/2015-03-31/functions/?"), self.catalog_call(self.catalog.list_functions),
             "lambda:ListFunctions", _every_function),
            ("GET", re.compile(r"/2015-03-31/functions/([^/]+)/?"), self.catalog_call(self.catalog.get_function),
             "lambda:GetFunction", self._as_named),
            ("GET", re.compile(r"/2015-03-31/functions/([^/]+)/versions/?"),
             self.catalog_call(self.catalog.list_versions), "lambda:ListVersionsByFunction", self._unqualified),
            ("GET", re.compile(r"/2015-03-31/functions/([^/]+)/aliases/?"),
             self.catalog_call(self.catalog.list_aliases), "lambda:ListAliases", self._unqualified),
            ("GET", re.compile(r"/2015-03-31/functions/([^/]+)/aliases/([^/]+)/?"),
             self.catalog_call(self.catalog.get_alias), "lambda:GetAlias", self._unqualified),
        ]

    async def route_and_call(self, request: HttpRequest, ctx: InvocationContext) -> HttpResponse:
        # AWS_IAM: the signature first (even for an unknown operation), the operation's action next.
        caller = self.iam.caller(request, request_time(ctx)) if self.iam is not None else None
        for method, pattern, endpoint, action, scope in self.routes:
            found = pattern.fullmatch(request.path)
            if found is not None and request.method == method:
                groups = list(found.groups())
                if self.iam is not None and caller is not None:
                    resource, function = scope(groups, request)
                    self.iam.authorize(caller, request, request_time(ctx), action, resource, function)
                return await endpoint(request, ctx, groups)
        raise RouteNotFound(f"{request.method} {request.path}")

    def _as_named(self, groups: list[str], request: HttpRequest) -> tuple[str, str | None]:
        """The function ARN, qualified as the caller named it (in the name or ``?Qualifier=``)."""
        name, qualifier = parse_function_name(groups[0], _query(request).get("Qualifier"), self.settings)
        return function_arn(self.settings.region, self.settings.account_id, name, qualifier), name

    def _as_named_in_path(self, groups: list[str], request: HttpRequest) -> tuple[str, str | None]:
        name, qualifier = parse_function_name(groups[0], None, self.settings)
        return function_arn(self.settings.region, self.settings.account_id, name, qualifier), name

    def _unqualified(self, groups: list[str], request: HttpRequest) -> tuple[str, str | None]:
        name, _qualifier = parse_function_name(groups[0], None, self.settings)
        return function_arn(self.settings.region, self.settings.account_id, name, None), name

    def render_error(self, exc: GatewayError, request: HttpRequest, ctx: InvocationContext) -> HttpResponse:
        if isinstance(exc, AuthError):  # AWS_IAM refusals carry the Lambda endpoint's exact answer
            return self.auth_error(exc, (("x-amzn-RequestId", ctx.request_id),))
        if isinstance(exc, RouteNotFound):
            exc = ApiError(404, "UnknownOperationException", "Unknown operation")  # [INF] no Lambda operation here
        return error_response(as_api_error(exc), ctx.request_id)

    def describe(self) -> list[str]:
        return ["POST /2015-03-31/functions/{FunctionName}/invocations",
                "GET  /2015-03-31/functions/ (GetFunction, ListFunctions, versions, aliases)"]

    def catalog_call(self, operation: Callable[[list[str], dict[str, str]], object]) -> Endpoint:
        async def endpoint(request: HttpRequest, ctx: InvocationContext, groups: list[str]) -> HttpResponse:
            body = json.dumps(operation(groups, _query(request)), separators=(",", ":")).encode()
            return HttpResponse(status=200, body=body, headers=(
                ("Content-Type", "application/json"), ("x-amzn-RequestId", ctx.request_id)))

        return endpoint

    # -- Invoke ----------------------------------------------------------------------------------

    async def invoke_api(self, request: HttpRequest, ctx: InvocationContext, groups: list[str]) -> HttpResponse:
        """Invoke: the headers checked, the function and qualifier found, then by invocation type."""
        name, qualifier = parse_function_name(groups[0], _query(request).get("Qualifier"), self.settings)
        kind = request.header("X-Amz-Invocation-Type") or "RequestResponse"
        if kind not in _INVOCATION_TYPES:
            raise invalid_parameter(f"Unsupported invocation type: {kind}")  # [INF] message text
        log_type = request.header("X-Amz-Log-Type") or "None"
        if log_type not in _LOG_TYPES:
            raise invalid_parameter(f"Unsupported log type: {log_type}")  # [INF] message text
        client_context = request.header("X-Amz-Client-Context")
        _check_client_context(client_context)
        payload = _payload(request)
        version = self._version(name, qualifier)
        reference = name if qualifier is None else f"{name}:{qualifier}"
        if kind == "DryRun":
            return _answer(204, ctx, (("X-Amz-Executed-Version", version),))
        if kind == "Event":
            return self._accept_event(reference, payload, ctx, client_context)
        result = await self.functions.invoke(reference, payload, request_id=ctx.request_id,
                                             trace_id=ctx.trace_id, client_context=client_context)
        return _invoke_response(result, ctx, tail=log_type == "Tail")

    async def invoke_async(self, request: HttpRequest, ctx: InvocationContext, groups: list[str]) -> HttpResponse:
        """The deprecated InvokeAsync: an Event invocation of the unqualified function, 202."""
        name, qualifier = parse_function_name(groups[0], None, self.settings)
        payload = _payload(request)
        self._version(name, qualifier)
        reference = name if qualifier is None else f"{name}:{qualifier}"
        return self._accept_event(reference, payload, ctx, None)

    def _version(self, name: str, qualifier: str | None) -> str:
        """The version ``name:qualifier`` runs now (a weighted alias: its main version); 404 when unknown."""
        function: FunctionConfig | None = self.functions.function_configs.get(name)
        version = resolve(function, qualifier, 0.99999) if function is not None else None
        if version is None:
            raise not_found(self.settings, name, qualifier)
        return version

    def _accept_event(self, reference: str, payload: bytes, ctx: InvocationContext,
                      client_context: str | None) -> HttpResponse:
        """202 once the event is stored in the durable queue, which runs it with Lambda's retries and
        destinations (gateway/queue.py); a queue that cannot store it: 500 ServiceException."""
        if len(payload) > EVENT_LIMIT:
            raise event_too_large(len(payload))
        if self.queue is None:
            raise QueueUnavailable("this gateway has no async-invocation queue")
        self.queue.enqueue(reference, payload, request_id=ctx.request_id, trace_id=ctx.trace_id,
                           client_context=client_context)
        return _answer(202, ctx, ())


def _every_function(groups: list[str], request: HttpRequest) -> tuple[str, str | None]:
    return "*", None


def _query(request: HttpRequest) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(request.query_string, keep_blank_values=True).items()}


def _check_client_context(client_context: str | None) -> None:
    """X-Amz-Client-Context: base64 of a JSON object, at most 3583 bytes.
    https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#lambda-Invoke-request-ClientContext"""
    if client_context is None:
        return
    if len(client_context) > 3583:
        raise invalid_parameter("Client context must be at most 3583 bytes")  # [INF] message text
    try:
        decode_client_context(client_context)
    except ValueError as exc:
        raise ApiError(400, "InvalidRequestContentException", str(exc)) from exc  # [INF] error type


def _payload(request: HttpRequest) -> bytes:
    """The event: the body if it is JSON (any JSON value); an empty body is ``{}`` [INF].

    Clients send any content type (botocore none, the JavaScript SDK binary/octet-stream); a
    multipart body or a compressed one cannot be an event: 415 [INF] (when AWS sends it is unverified)."""
    content_type = (request.header("Content-Type") or "").lower()
    encoding = (request.header("Content-Encoding") or "identity").lower()
    if content_type.startswith("multipart/") or encoding != "identity":
        raise ApiError(415, "UnsupportedMediaTypeException",
                       f"Unsupported content type {content_type or encoding!r}: the payload must be JSON")
    if not request.body.strip():
        return b"{}"
    try:
        json.loads(request.body)
    except ValueError as exc:
        raise ApiError(400, "InvalidRequestContentException",
                       f"Could not parse request body into json: Could not parse payload into json: {exc}") from exc
    return request.body


def _answer(status: int, ctx: InvocationContext, headers: Headers) -> HttpResponse:
    return HttpResponse(status=status, headers=(("x-amzn-RequestId", ctx.request_id), *headers))


def _invoke_response(result: InvocationResult, ctx: InvocationContext, *, tail: bool) -> HttpResponse:
    """200, the function's payload; X-Amz-Function-Error, X-Amz-Log-Result (base64 of the last 4 KB)."""
    headers: list[tuple[str, str]] = [
        ("Content-Type", "application/json"),
        ("x-amzn-RequestId", result.request_id or ctx.request_id),
        ("X-Amz-Executed-Version", result.executed_version),
        ("X-Amzn-Trace-Id", ctx.trace_id),
    ]
    if result.function_error:
        headers.append(("X-Amz-Function-Error", result.function_error))
    if tail:
        raw = result.log_tail.encode()[-4096:]
        headers.append(("X-Amz-Log-Result", base64.b64encode(raw).decode("ascii")))
    return HttpResponse(status=200, headers=tuple(headers), body=result.payload)
