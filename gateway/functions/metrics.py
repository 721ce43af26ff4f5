"""Per-function metrics, counted the way CloudWatch counts Lambda's, in Prometheus text format.

``FunctionsService.invoke`` wraps each invoker call in ``Metrics.observe``. What counts
(https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html):

- ``invocations_total``: the function's code ran, successfully or with a function error;
  throttled requests and requests refused before running (unknown function, event too large,
  an unreachable remote endpoint) are not invocations, as on CloudWatch.
- ``errors_total``: invocations that ended with a function error (``X-Amz-Function-Error``:
  handler exceptions, timeouts, runtime exits).
- ``throttles_total``: requests refused with ``Throttled`` (TooManyRequestsException).
- ``duration_seconds``: the handler's Duration as REPORT prints it, as a summary with p50 and
  p99 over the last ``RESERVOIR`` invocations (plus ``_sum`` and ``_count`` over all).
- ``concurrent_executions``: invocations in flight now (waiting for an environment included).
- ``cold_starts_total``: invocations that ran INIT first (REPORT has ``Init Duration``).
- ``invoke_failures_total``: not a CloudWatch metric: requests the invoker could not run for
  another reason (an unreachable or failing remote endpoint, a remote 404 or 413 ...), which no
  other counter shows.

Everything runs on the event loop thread, so nothing here needs a lock.
Format: https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
"""

from __future__ import annotations

import collections
import math
import time
from collections.abc import Awaitable, Iterable

from gateway.errors import InvokeError, Throttled
from gateway.models import InvocationResult

#: How many recent durations the quantiles are computed over.
RESERVOIR = 1024
QUANTILES = (0.5, 0.99)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PREFIX = "lambda_gateway_"

_COUNTERS = (
    ("invocations_total", "invocations", "Invocations that ran the function's code (successes and function errors)."),
    ("errors_total", "errors", "Invocations that ended with a function error."),
    ("throttles_total", "throttles", "Invocation requests refused because of a concurrency limit."),
    ("cold_starts_total", "cold_starts", "Invocations that started a new execution environment (INIT ran)."),
    ("invoke_failures_total", "failures", "Invocation requests that failed before or outside the function's code."),
)


class FunctionMetrics:
    """The counters of one function."""

    __slots__ = ("invocations", "errors", "throttles", "cold_starts", "failures", "concurrent", "durations",
                 "duration_sum")

    def __init__(self) -> None:
        self.invocations = self.errors = self.throttles = self.cold_starts = self.failures = 0
        self.concurrent = 0
        self.durations: collections.deque[float] = collections.deque(maxlen=RESERVOIR)
        self.duration_sum = 0.0

    def record(self, result: InvocationResult, wall_seconds: float) -> None:
        """One invocation that ran: its outcome, its duration and whether INIT ran."""
        self.invocations += 1
        if result.function_error is not None:
            self.errors += 1
        if result.init_duration_ms is not None:
            self.cold_starts += 1
        seconds = result.duration_ms / 1000 if result.duration_ms > 0 else wall_seconds
        self.durations.append(seconds)
        self.duration_sum += seconds

    def quantile(self, q: float) -> float:
        """The ``q`` quantile of the recent durations (nearest rank), NaN when there are none."""
        if not self.durations:
            return math.nan
        ordered = sorted(self.durations)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


class Metrics:
    """Every function's metrics; functions not yet invoked are shown with zeros."""

    def __init__(self, functions: Iterable[str] = ()) -> None:
        self.functions: dict[str, FunctionMetrics] = {name: FunctionMetrics() for name in functions}

    def of(self, name: str) -> FunctionMetrics:
        found = self.functions.get(name)
        if found is None:
            found = self.functions[name] = FunctionMetrics()
        return found

    def throttled(self, name: str) -> None:
        """A request for ``name`` refused by a concurrency limit before reaching an invoker."""
        self.of(name).throttles += 1

    async def observe(self, name: str, call: Awaitable[InvocationResult]) -> InvocationResult:
        """Await one invocation of ``name`` and count its outcome."""
        metrics = self.of(name)
        metrics.concurrent += 1
        started = time.perf_counter()
        try:
            result = await call
        except Throttled:
            metrics.throttles += 1
            raise
        except InvokeError:
            metrics.failures += 1
            raise
        finally:
            metrics.concurrent -= 1
        metrics.record(result, time.perf_counter() - started)
        return result

    def render(self) -> str:
        """The Prometheus text exposition (format 0.0.4) of every function's metrics."""
        lines: list[str] = []
        names = sorted(self.functions)
        for metric, attribute, help_text in _COUNTERS:
            lines += [f"# HELP {PREFIX}{metric} {help_text}", f"# TYPE {PREFIX}{metric} counter"]
            lines += [f"{PREFIX}{metric}{{function={_label(n)}}} {getattr(self.functions[n], attribute)}"
                      for n in names]
        metric = f"{PREFIX}concurrent_executions"
        lines += [f"# HELP {metric} Invocations in flight.", f"# TYPE {metric} gauge"]
        lines += [f"{metric}{{function={_label(n)}}} {self.functions[n].concurrent}" for n in names]
        metric = f"{PREFIX}duration_seconds"
        lines += [f"# HELP {metric} The handler's duration, as REPORT's Duration; "
                  f"quantiles over the last {RESERVOIR} invocations.", f"# TYPE {metric} summary"]
        for name in names:
            fm, label = self.functions[name], _label(name)
            lines += [f'{metric}{{function={label},quantile="{q:g}"}} {_number(fm.quantile(q))}' for q in QUANTILES]
            lines += [f"{metric}_sum{{function={label}}} {_number(fm.duration_sum)}",
                      f"{metric}_count{{function={label}}} {fm.invocations}"]
        return "\n".join(lines) + "\n"


def _label(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return repr(round(value, 9))
