"""Per-function metrics: what counts as CloudWatch counts it, and the Prometheus text they render to."""

from __future__ import annotations

import asyncio
import math
import re

import pytest

from gateway.errors import RemoteError, Throttled
from gateway.functions.metrics import RESERVOIR, FunctionMetrics, Metrics
from gateway.models import InvocationResult
from tests.functions.conftest import ServiceFactory, function


def samples(text: str) -> dict[str, float]:
    """``{'name{labels}': value}`` for every sample line of a text exposition."""
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            found[key] = float(value)
    return found


async def _ok(duration_ms: float = 5.0, *, init: float | None = None, error: str | None = None) -> InvocationResult:
    return InvocationResult(payload=b"{}", duration_ms=duration_ms, init_duration_ms=init, function_error=error)


async def _raise(exc: Exception) -> InvocationResult:
    raise exc


async def test_outcomes_are_counted_as_cloudwatch_counts_them() -> None:
    metrics = Metrics(["app", "idle"])
    await metrics.observe("app", _ok(init=100.0))
    await metrics.observe("app", _ok())
    await metrics.observe("app", _ok(error="Unhandled"))
    metrics.throttled("app")
    with pytest.raises(Throttled):
        await metrics.observe("app", _raise(Throttled("busy")))
    with pytest.raises(RemoteError):
        await metrics.observe("app", _raise(RemoteError("unreachable")))
    got = samples(metrics.render())
    assert got['lambda_gateway_invocations_total{function="app"}'] == 3
    assert got['lambda_gateway_errors_total{function="app"}'] == 1
    assert got['lambda_gateway_throttles_total{function="app"}'] == 2
    assert got['lambda_gateway_cold_starts_total{function="app"}'] == 1
    assert got['lambda_gateway_invoke_failures_total{function="app"}'] == 1
    assert got['lambda_gateway_concurrent_executions{function="app"}'] == 0
    assert got['lambda_gateway_duration_seconds_count{function="app"}'] == 3
    assert got['lambda_gateway_duration_seconds_sum{function="app"}'] == pytest.approx(0.015)
    assert got['lambda_gateway_invocations_total{function="idle"}'] == 0
    assert math.isnan(got['lambda_gateway_duration_seconds{function="idle",quantile="0.5"}'])


async def test_concurrent_executions_is_the_number_in_flight() -> None:
    metrics = Metrics(["app"])
    gate = asyncio.Event()

    async def held() -> InvocationResult:
        await gate.wait()
        return await _ok()

    tasks = [asyncio.create_task(metrics.observe("app", held())) for _ in range(3)]
    await asyncio.sleep(0)
    assert samples(metrics.render())['lambda_gateway_concurrent_executions{function="app"}'] == 3
    tasks[0].cancel()
    gate.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert metrics.of("app").concurrent == 0
    assert metrics.of("app").invocations == 2  # a caller that stopped waiting saw no outcome


def test_quantiles_are_nearest_rank_over_the_last_invocations() -> None:
    fm = FunctionMetrics()
    for ms in range(1, 101):
        fm.record(InvocationResult(payload=b"", duration_ms=float(ms)), 0.0)
    assert fm.quantile(0.5) == 0.050
    assert fm.quantile(0.99) == 0.099
    for _ in range(RESERVOIR):
        fm.record(InvocationResult(payload=b"", duration_ms=1000.0), 0.0)
    assert fm.quantile(0.5) == fm.quantile(0.99) == 1.0  # older samples have left the reservoir
    assert fm.invocations == 100 + RESERVOIR


def test_wall_time_stands_in_when_the_invoker_reports_no_duration() -> None:
    fm = FunctionMetrics()
    fm.record(InvocationResult(payload=b""), 0.25)
    assert fm.quantile(0.5) == 0.25


def test_text_format() -> None:
    metrics = Metrics(['we"ird\\name'])
    metrics.of("b").record(InvocationResult(payload=b"", duration_ms=2.0), 0.0)
    text = metrics.render()
    assert text.endswith("\n")
    families = re.findall(r"^# TYPE (\S+) (\w+)$", text, re.M)
    assert families == [
        ("lambda_gateway_invocations_total", "counter"), ("lambda_gateway_errors_total", "counter"),
        ("lambda_gateway_throttles_total", "counter"), ("lambda_gateway_cold_starts_total", "counter"),
        ("lambda_gateway_invoke_failures_total", "counter"), ("lambda_gateway_concurrent_executions", "gauge"),
        ("lambda_gateway_duration_seconds", "summary"),
    ]
    assert 'lambda_gateway_invocations_total{function="we\\"ird\\\\name"} 0' in text
    assert 'lambda_gateway_duration_seconds{function="b",quantile="0.5"} 0.002' in text
    assert 'lambda_gateway_duration_seconds{function="b",quantile="0.99"} 0.002' in text
    # Every sample line: a name, labels, one space, a number.
    for line in text.splitlines():
        if not line.startswith("#"):
            assert re.fullmatch(r'[a-z_]+\{function="(?:[^"\\]|\\.)*"(?:,quantile="[\d.]+")?\} (?:[\d.]+|NaN)', line)


async def test_the_functions_service_feeds_the_metrics(service_factory: ServiceFactory) -> None:
    service = service_factory(function("ok", "echo"), function("bad", "boom"),
                              function("off", "echo", reserved_concurrency=0))
    await service.invoke("ok", b"{}")
    await service.invoke("ok", b"{}")
    await service.invoke("bad", b"{}")
    with pytest.raises(Throttled):
        await service.invoke("off", b"{}")
    got = samples(service.metrics.render())
    assert got['lambda_gateway_invocations_total{function="ok"}'] == 2
    assert got['lambda_gateway_cold_starts_total{function="ok"}'] == 1
    assert got['lambda_gateway_errors_total{function="bad"}'] == 1
    assert got['lambda_gateway_throttles_total{function="off"}'] == 1
    assert got['lambda_gateway_invocations_total{function="off"}'] == 0
    assert 0 < got['lambda_gateway_duration_seconds{function="ok",quantile="0.99"}'] < 1
