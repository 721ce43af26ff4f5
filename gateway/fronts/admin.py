"""The admin listener (``[admin] listen = "127.0.0.1:3099"``): the gateway's own endpoints, no AWS product.

``GET /metrics``: every function's metrics (``functions/metrics.py``) in Prometheus text format
0.0.4. https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
Other paths answer 404, other methods 405 with Allow. Later admin endpoints (cache
invalidation, the async queue's status) are one entry each in ``self.routes``
(path -> method -> endpoint; an endpoint may be sync or async).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from gateway.config import AdminConfig, GatewaySettings
from gateway.errors import GatewayError
from gateway.fronts.base import BaseFront
from gateway.functions import FunctionsService
from gateway.functions.metrics import CONTENT_TYPE
from gateway.models import HttpRequest, HttpResponse, InvocationContext


Endpoint = Callable[[HttpRequest], "HttpResponse | Awaitable[HttpResponse]"]


class AdminFront(BaseFront):
    kind = "admin"
    max_body = 64 * 1024

    def __init__(self, cfg: AdminConfig, functions: FunctionsService, settings: GatewaySettings) -> None:
        super().__init__(cfg.name, functions)
        self.cfg = cfg
        self.routes: dict[str, dict[str, Endpoint]] = {"/metrics": {"GET": self.metrics}}

    async def route_and_call(self, request: HttpRequest, ctx: InvocationContext) -> HttpResponse:
        methods = self.routes.get(request.path)
        if methods is None:
            return _text(404, "Not Found\n")
        endpoint = methods.get(request.method)
        if endpoint is None:
            response = _text(405, "Method Not Allowed\n")
            allow = ", ".join(methods)
            return HttpResponse(status=405, headers=(*response.headers, ("Allow", allow)), body=response.body)
        answer = endpoint(request)
        return await answer if inspect.isawaitable(answer) else answer

    def metrics(self, request: HttpRequest) -> HttpResponse:
        body = self.functions.metrics.render().encode()
        return HttpResponse(status=200, headers=(("Content-Type", CONTENT_TYPE), ("Cache-Control", "no-store")),
                            body=body)

    def render_error(self, exc: GatewayError, request: HttpRequest, ctx: InvocationContext) -> HttpResponse:
        return _text(500, f"{type(exc).__name__}: {exc}\n")

    def describe(self) -> list[str]:
        return [f"{method} {path}" for path, methods in self.routes.items() for method in methods]


def _text(status: int, text: str) -> HttpResponse:
    return HttpResponse(status=status, headers=(("Content-Type", "text/plain; charset=utf-8"),), body=text.encode())
