"""Protocols for the pluggable parts (STYLE H11). Registries map config strings to implementations."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from gateway.models import HttpRequest, HttpResponse, InvocationContext, InvocationResult, RouteMatch


class EventFormat(Protocol):
    """One Lambda event format: pure translation, no I/O, no clock (STYLE H1, H2)."""

    def build_event(self, request: HttpRequest, match: RouteMatch, ctx: InvocationContext) -> dict[str, Any]:
        """The event AWS would send for this request."""
        ...

    def parse_result(self, payload: bytes, request: HttpRequest, ctx: InvocationContext) -> HttpResponse:
        """The response AWS would send for the function's result; raises InvalidLambdaResponse."""
        ...

    def service_headers(self, ctx: InvocationContext) -> tuple[tuple[str, str], ...]:
        """Headers AWS adds to every answer of this kind, error answers included (REST-R6, URL-R3)."""
        ...


class Invoker(Protocol):
    """Runs one function's invocations (in-process now; process and remote later)."""

    async def invoke(
        self,
        payload: bytes,
        *,
        request_id: str,
        trace_id: str | None = None,
        client_context: str | None = None,
    ) -> InvocationResult: ...

    async def aclose(self) -> None: ...


class QualifiedInvoker(Invoker, Protocol):
    """An invoker that also takes the ARN the caller named (``...:function:app:live``).

    The functions service passes it when the caller used a qualifier; the environment gives it
    to the handler as ``context.invoked_function_arn`` (the Runtime API's
    ``Lambda-Runtime-Invoked-Function-Arn``). Every invoker should accept it.
    """

    async def invoke(
        self,
        payload: bytes,
        *,
        request_id: str,
        trace_id: str | None = None,
        client_context: str | None = None,
        invoked_function_arn: str | None = None,
    ) -> InvocationResult: ...


@runtime_checkable
class Prewarmable(Protocol):
    """An invoker that can start environments ahead of requests (provisioned concurrency)."""

    async def prewarm(self, n: int) -> None:
        """INIT ``n`` environments now, so that their first invocations are warm."""
        ...


class Front(Protocol):
    """A front door: turns an HTTP request into an HTTP response (the whole API/ALB/URL path)."""

    name: str
    kind: str

    async def handle(self, request: HttpRequest) -> HttpResponse: ...

    def describe(self) -> list[str]:
        """Human-readable route lines for the start-up table."""
        ...
