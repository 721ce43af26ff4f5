"""The admin listener (``[admin] listen = "127.0.0.1:3099"``): the gateway's own endpoints, no AWS product.

``GET /metrics``: every function's metrics (``functions/metrics.py``) in Prometheus text format
0.0.4. https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
``POST /distributions/<name>/invalidations``: clear a distribution's edge cache, as CloudFront's
CreateInvalidation (edge/invalidation.py; ``gateway invalidate`` posts there).
``GET /queue``: the async-invocation queue's counts as JSON (``AsyncQueue.status()``, gateway/queue.py).
``GET /schedules``, ``POST /schedules/<rule-name>``: the functions' EventBridge schedules, and running
one now (added by gateway/scheduler.py, ``Scheduler.admin_routes()``).
Other paths answer 404, other methods 405 with Allow. Later admin endpoints are one entry each in ``self.routes``
(path -> method -> endpoint; an endpoint may be sync or async).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence

from gateway.config import AdminConfig, GatewaySettings
from gateway.errors import GatewayError
from gateway.fronts.base import BaseFront
from gateway.functions import FunctionsService
from gateway.functions.metrics import CONTENT_TYPE
from gateway.models import HttpRequest, HttpResponse, InvocationContext
from gateway.queue import AsyncQueue

Endpoint = Callable[[HttpRequest], "HttpResponse | Awaitable[HttpResponse]"]


class AdminFront(BaseFront):
    kind = "admin"
    max_body = 64 * 1024

    def __init__(
        self, cfg: AdminConfig, functions: FunctionsService, settings: GatewaySettings, *,
        fronts: Mapping[str, BaseFront] | None = None, distributions: Sequence[tuple[str, str]] = (),
        queue: AsyncQueue | None = None,
    ) -> None:
        super().__init__(cfg.name, functions)
        self.cfg = cfg
        self.fronts = fronts if fronts is not None else {}
        self.routes: dict[str, dict[str, Endpoint]] = {"/metrics": {"GET": self.metrics}}
        self.queue = queue
        if queue is not None:  # GET /queue: the async-invocation queue's counts (gateway/queue.py)
            self.routes["/queue"] = {"GET": self.queue_status}
        # POST /distributions/<name or distribution id>/invalidations: CloudFront's CreateInvalidation.
        for name, dist_id in distributions:
            for ref in dict.fromkeys((name, dist_id)):
                self.routes[f"/distributions/{ref}/invalidations"] = {"POST": self._invalidations(name)}

    def _invalidations(self, name: str) -> Endpoint:
        def endpoint(request: HttpRequest) -> HttpResponse:
            from edge.invalidation import create_invalidation  # edge/ imports gateway, not the reverse

            return create_invalidation(self.fronts[name], request)  # type: ignore[arg-type]

        return endpoint

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

    def queue_status(self, request: HttpRequest) -> HttpResponse:
        assert self.queue is not None
        body = json.dumps(self.queue.status(), indent=1).encode()
        return HttpResponse(status=200, headers=(("Content-Type", "application/json"), ("Cache-Control", "no-store")),
                            body=body)

    def render_error(self, exc: GatewayError, request: HttpRequest, ctx: InvocationContext) -> HttpResponse:
        return _text(500, f"{type(exc).__name__}: {exc}\n")

    def describe(self) -> list[str]:
        return [f"{method} {path}" for path, methods in self.routes.items() for method in methods]


def _text(status: int, text: str) -> HttpResponse:
    return HttpResponse(status=status, headers=(("Content-Type", "text/plain; charset=utf-8"),), body=text.encode())
