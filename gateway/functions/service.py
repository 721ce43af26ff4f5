"""The functions service: Lambda's synchronous Invoke, as the fronts call it.

``invoke(name, payload)`` checks what the Lambda service checks before any environment is
involved (the function exists, the event is within 6 MB, the client context decodes) and
hands the invocation to the function's invoker (``INVOKERS[function.isolation]``). Function
failures are results, not exceptions: ``InvocationResult.function_error`` is set and the payload
is Lambda's error document (STYLE H6).
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import uuid
from collections.abc import Callable, Mapping
from importlib.machinery import ModuleSpec, PathFinder

from gateway.config import FunctionConfig, GatewaySettings
from gateway.errors import BadRequest, EventTooLarge, UnknownFunction
from gateway.functions.context import decode_client_context
from gateway.functions.invokers import INVOKERS
from gateway.functions.logs import stderr_sink
from gateway.models import InvocationResult
from gateway.types import Invoker

#: Lambda's synchronous (RequestResponse) request limit, 6 MB.
#: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
MAX_REQUEST_BYTES = 6_291_456


class FunctionsService:
    """Every configured function, each behind its invoker.

    ``log(function_name, entry)`` receives every log entry of every function (START, the
    handler's output, END, REPORT ...) as it happens, from any thread; by default
    ``"<name> | <line>"`` on stderr.
    """

    def __init__(
        self,
        functions: Mapping[str, FunctionConfig],
        settings: GatewaySettings,
        *,
        log: Callable[[str, str], None] | None = None,
    ) -> None:
        self._settings = settings
        self._functions = {
            name: fn if fn.name == name else dataclasses.replace(fn, name=name) for name, fn in functions.items()
        }
        sink = log if log is not None else stderr_sink
        self._invokers: dict[str, Invoker] = {
            name: INVOKERS[fn.isolation](fn, settings, log=sink) for name, fn in self._functions.items()
        }

    def check(self) -> list[str]:
        """Warnings for the start-up screen. Looks for files only: no function code runs."""
        warnings: list[str] = []
        seen: dict[str, tuple[str, str]] = {}
        for name, fn in self._functions.items():
            problem = _handler_module_problem(fn)
            if problem is not None:
                warnings.append(f"function {name!r}: {problem}")
            module = fn.handler.rsplit(".", 1)[0]
            other = seen.setdefault(module, (name, str(fn.code_uri)))
            if other[1] != str(fn.code_uri) and fn.isolation == "inprocess":
                warnings.append(
                    f"functions {other[0]!r} and {name!r} both import a module {module!r}, from {other[1]} and "
                    f"{fn.code_uri}: in-process they share sys.modules, so each INIT re-imports it and imports "
                    "made later by one may find the other's files"
                )
        return warnings

    async def invoke(
        self,
        name: str,
        payload: bytes,
        *,
        request_id: str | None = None,
        trace_id: str | None = None,
        client_context: str | None = None,
    ) -> InvocationResult:
        """Invoke ``name`` synchronously (RequestResponse) with the JSON-encoded event ``payload``.

        ``client_context`` is the caller's base64 ``X-Amz-Client-Context``. Raises
        UnknownFunction, EventTooLarge, BadRequest (client context) and Throttled; a function
        error, a timeout or an oversize response is an ``InvocationResult`` with ``function_error``.
        """
        invoker = self._invokers.get(name)
        if invoker is None:
            arn = f"arn:aws:lambda:{self._settings.region}:{self._settings.account_id}:function:{name}"
            raise UnknownFunction(f"Function not found: {arn}")
        if len(payload) > MAX_REQUEST_BYTES:
            raise EventTooLarge(
                f"{len(payload)} byte payload is too large for the RequestResponse invocation type "
                f"(limit {MAX_REQUEST_BYTES} bytes)"
            )
        if client_context is not None:
            try:
                decode_client_context(client_context)
            except ValueError as exc:
                raise BadRequest(str(exc)) from exc
        return await invoker.invoke(
            payload, request_id=request_id or str(uuid.uuid4()), trace_id=trace_id, client_context=client_context
        )

    async def aclose(self) -> None:
        """Stop every function's environments. Running handlers are not waited for."""
        await asyncio.gather(*(invoker.aclose() for invoker in self._invokers.values()))


def _handler_module_problem(function: FunctionConfig) -> str | None:
    """Why the handler module cannot be imported, judged from the file system alone (or None)."""
    module = function.handler.rsplit(".", 1)[0]
    parts = module.split(".")
    if parts[0] in sys.builtin_module_names:
        return (
            f"handler module {module!r} is a built-in module; "
            "invocations will fail with Runtime.BuiltInModuleConflict"
        )
    spec: ModuleSpec | None = PathFinder.find_spec(parts[0], [str(function.code_uri)])
    if spec is None:  # Lambda also finds modules on the rest of the path (layers, the runtime's packages)
        spec = PathFinder.find_spec(parts[0])
    for index in range(1, len(parts)):
        locations = spec.submodule_search_locations if spec is not None else None
        if not locations:
            spec = None
            break
        spec = PathFinder.find_spec(".".join(parts[: index + 1]), list(locations))
    if spec is None:
        return (
            f"handler module {module!r} not found in {function.code_uri}; "
            "invocations will fail with Runtime.ImportModuleError until it exists"
        )
    return None
