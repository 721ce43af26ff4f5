"""The functions service: Lambda's synchronous Invoke, as the fronts call it.

``invoke(name, payload)`` checks what the Lambda service checks before any environment is
involved (the function exists, the event is within 6 MB, the client context decodes) and
hands the invocation to the function's invoker (``INVOKERS[function.isolation]``). Function
failures are results, not exceptions: ``InvocationResult.function_error`` is set and the payload
is Lambda's error document (STYLE H6).

Names may be qualified (``app:live``, ``app:2``, ``app:$LATEST``, versions.py): each version of a
function has its own invoker, and the concurrency limits (concurrency.py) count a function's
invocations of every version together.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import random
import sys
from collections.abc import Callable, Mapping
from importlib.machinery import ModuleSpec, PathFinder
from typing import cast

from gateway.config import FunctionConfig, GatewaySettings, RoleKeys
from gateway.errors import BadRequest, EventTooLarge, Throttled, UnknownFunction
from gateway.functions.concurrency import ConcurrencyLimits
from gateway.functions.context import decode_client_context
from gateway.functions.credentials import resolve_chain
from gateway.functions.invokers import INVOKERS, invoker_kind
from gateway.functions.logs import stderr_sink
from gateway.functions.metrics import Metrics
from gateway.functions.reload import INTERVAL, CodeWatcher, Reloadable
from gateway.functions.versions import LATEST, function_arn, is_weighted, resolve, split_qualifier
from gateway.ids import uuid4
from gateway.models import InvocationResult
from gateway.types import Invoker, Prewarmable, QualifiedInvoker

_logger = logging.getLogger("gateway.functions")

#: Lambda's synchronous (RequestResponse) request limit, 6 MB.
#: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
MAX_REQUEST_BYTES = 6_291_456


class FunctionsService:
    """Every configured function, each behind its invoker.

    ``log(function_name, entry)`` receives every log entry of every function (START, the
    handler's output, END, REPORT ...) as it happens, from any thread; by default
    ``"<name> | <line>"`` on stderr. ``draw`` gives the uniform numbers in [0, 1) that weighted
    aliases route by (tests pass a seeded one). Functions whose ``role`` is "inherit" get the
    gateway's credentials as the standard chain finds them now, once.
    """

    def __init__(
        self,
        functions: Mapping[str, FunctionConfig],
        settings: GatewaySettings,
        *,
        log: Callable[[str, str], None] | None = None,
        draw: Callable[[], float] | None = None,
    ) -> None:
        self._settings = settings
        self._draw = draw if draw is not None else random.Random().random
        self._warnings: list[str] = []
        inherited = self._inherited_credentials(functions)
        self._functions = {name: _prepared(name, fn, inherited) for name, fn in functions.items()}
        sink = log if log is not None else stderr_sink
        # One invoker per (function, version): "app" runs $LATEST, "app:2" version 2.
        self._configs: dict[str, FunctionConfig] = {}
        self._invokers: dict[str, Invoker] = {}
        for name, fn in self._functions.items():
            for version, config in ((LATEST, fn), *fn.versions.items()):
                key = _key(name, version)
                self._configs[key] = config
                self._invokers[key] = INVOKERS[invoker_kind(config)](config, settings, log=sink)
        self._targets = {ref: target for name, fn in self._functions.items() for ref, target in self._fixed(name, fn)}
        self._concurrency = ConcurrencyLimits(self._functions, settings.concurrency_limit)
        self.metrics = Metrics(self._functions)  # per function, served by the admin front (/metrics)

    def check(self) -> list[str]:
        """Warnings for the start-up screen. Looks for files only: no function code runs."""
        warnings: list[str] = []
        seen: dict[str, tuple[str, str]] = {}
        for name, fn in self._configs.items():  # "app", and "app:2" for its version 2
            if fn.endpoint is not None:
                continue  # remote: no local code to look for
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
        return warnings + self._warnings + self._provisioning_warnings()

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
        ``name`` may carry a qualifier (``app:live``); ``executed_version`` says which version ran.
        """
        target = self._targets.get(name) or self._drawn(name)
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
        request_id = request_id or uuid4()
        try:
            self._concurrency.acquire(target.function)  # raises Throttled
        except Throttled:
            self.metrics.throttled(target.function)
            raise
        try:
            if target.arn is None:
                result = await self.metrics.observe(target.function, target.invoker.invoke(
                    payload, request_id=request_id, trace_id=trace_id, client_context=client_context))
            else:
                result = await self.metrics.observe(target.function, cast(QualifiedInvoker, target.invoker).invoke(
                    payload, request_id=request_id, trace_id=trace_id, client_context=client_context,
                    invoked_function_arn=target.arn))
        finally:
            # A caller that stops waiting (an integration timeout) releases its slot at once, while
            # the function may still run: the count is then low until the function ends.
            self._concurrency.release(target.function)
        if target.version != LATEST:
            result = dataclasses.replace(result, executed_version=target.version)
        return result

    async def start(self) -> None:
        """Start what must run before the first request: provisioned concurrency's environments.

        Each (function, version) with ``provisioned_concurrency`` N has its invoker INIT N
        environments now (invokers without ``prewarm`` are skipped; check() says so). An INIT
        that fails is logged in the function's log and leaves on-demand environments to serve.
        """
        jobs = [
            invoker.prewarm(self._configs[key].provisioned_concurrency)
            for key, invoker in self._invokers.items()
            if self._configs[key].provisioned_concurrency > 0 and isinstance(invoker, Prewarmable)
        ]
        for outcome in await asyncio.gather(*jobs, return_exceptions=True):
            if isinstance(outcome, BaseException):
                _logger.warning("provisioned concurrency: an environment did not start: %r", outcome)

    @property
    def function_configs(self) -> Mapping[str, FunctionConfig]:
        """Every function's config by name, its versions inside (read-only; fronts/lambda_api.py)."""
        return self._functions

    def concurrent_executions(self, name: str) -> int:
        """Invocations of function ``name`` (every version) accepted and not yet answered."""
        return self._concurrency.in_flight(name)

    def watch_code(self, interval: float = INTERVAL) -> CodeWatcher:
        """Hot reload: start polling each local function's (and version's) code_uri and layers; after
        a change its invoker retires its environments (functions/reload.py). Call from the event loop;
        ``aclose()`` the watcher when done."""
        watcher = CodeWatcher(self._configs, self.retire_environments, interval=interval)
        watcher.start()
        return watcher

    def retire_environments(self, key: str) -> None:
        """New invocations of ``key`` (``app``, ``app:2``) get new environments, for invokers that can."""
        invoker = self._invokers.get(key)
        if isinstance(invoker, Reloadable):
            invoker.retire_environments()

    async def aclose(self) -> None:
        """Stop every function's environments. Running handlers are not waited for."""
        await asyncio.gather(*(invoker.aclose() for invoker in self._invokers.values()))

    # -- set-up --------------------------------------------------------------------------------

    def _inherited_credentials(self, functions: Mapping[str, FunctionConfig]) -> RoleKeys | None:
        """The gateway's credentials, read once, if a function's role is "inherit" (else not read at all)."""
        roles = [v.role for fn in functions.values() for v in (fn, *fn.versions.values())]
        if "inherit" not in roles:
            return None
        try:
            found = resolve_chain(os.environ)
        except ValueError as exc:
            self._warnings.append(f"role = \"inherit\": {exc}; those functions get no credentials")
            return None
        if found is None:
            self._warnings.append(
                "role = \"inherit\", but the gateway has no AWS credentials (environment variables, "
                "shared credentials file or config file for AWS_PROFILE); those functions get none")
        return found

    def _fixed(self, name: str, fn: FunctionConfig) -> list[tuple[str, _Target]]:
        """Every name of ``fn`` that always runs the same version, with its target."""
        fixed = [(name, _Target(name, LATEST, self._invokers[name], None))]
        for qualifier in (LATEST, *fn.versions, *fn.aliases):
            if not is_weighted(fn, qualifier):
                version = cast(str, resolve(fn, qualifier, 0.0))
                fixed.append((f"{name}:{qualifier}", self._target(name, qualifier, version)))
        return fixed

    def _drawn(self, reference: str) -> _Target:
        """The target of a weighted alias for one invocation (the draw is the service's); UnknownFunction otherwise."""
        name, qualifier = split_qualifier(reference)
        fn = self._functions.get(name)
        version = resolve(fn, qualifier, self._draw()) if fn is not None else None
        if version is None:
            s = self._settings
            raise UnknownFunction(f"Function not found: {function_arn(s.region, s.account_id, name, qualifier)}")
        return self._target(name, qualifier, version)

    def _target(self, name: str, qualifier: str | None, version: str) -> _Target:
        s = self._settings
        arn = function_arn(s.region, s.account_id, name, qualifier) if qualifier is not None else None
        return _Target(name, version, self._invokers[_key(name, version)], arn)

    def _provisioning_warnings(self) -> list[str]:
        warnings = []
        for key, fn in self._configs.items():
            count, invoker = fn.provisioned_concurrency, self._invokers[key]
            if count and not isinstance(invoker, Prewarmable):
                warnings.append(f"function {key!r}: its invoker cannot start environments ahead; "
                                "provisioned_concurrency is ignored")
            elif count > 1 and fn.isolation == "inprocess" and fn.endpoint is None:
                warnings.append(f"function {key!r}: an in-process function has one environment; "
                                f"provisioned_concurrency {count} starts that one")
        return warnings


@dataclasses.dataclass(frozen=True, slots=True)
class _Target:
    """Where one name sends an invocation: the function (for concurrency), the version that runs,
    its invoker, and the qualified ARN the caller named (None when unqualified)."""

    function: str
    version: str
    invoker: Invoker
    arn: str | None


def _key(name: str, version: str) -> str:
    return name if version == LATEST else f"{name}:{version}"


def _prepared(name: str, fn: FunctionConfig, inherited: RoleKeys | None) -> FunctionConfig:
    """``fn`` as invokers take it: named, its versions labelled, ``role = "inherit"`` resolved."""

    def finish(config: FunctionConfig, version: str) -> FunctionConfig:
        role = inherited if config.role == "inherit" else config.role
        return dataclasses.replace(config, name=name, version=version, role=role)

    versions = {label: finish(config, label) for label, config in fn.versions.items()}
    return dataclasses.replace(finish(fn, LATEST), versions=versions)


def _handler_module_problem(function: FunctionConfig) -> str | None:
    """Why the handler module cannot be imported, judged from the file system alone (or None)."""
    if function.runtime.startswith("provided"):  # a custom runtime: code_uri/bootstrap runs, not a module
        bootstrap = function.code_uri / "bootstrap"
        if not bootstrap.is_file() or not os.access(bootstrap, os.X_OK):
            return f"{bootstrap} is not an executable file; invocations will fail with Runtime.InvalidEntrypoint"
        return None
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
