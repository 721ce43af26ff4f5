"""Concurrency: reserved and account limits, throttle reasons, provisioned environments.

In flight = accepted by the service and not yet answered. An in-process function runs one
invocation at a time and queues the others; the limits count the queued ones too, so a burst
gets exactly the throttles AWS would give (concurrency.py). With process environments (if that
invoker is installed) the accepted ones run side by side.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from gateway.config import GatewaySettings
from gateway.errors import Throttled
from gateway.functions import FunctionsService
from gateway.functions.concurrency import ACCOUNT_LIMIT, RESERVED_LIMIT, ConcurrencyLimits
from gateway.functions.invokers import INVOKERS
from gateway.models import InvocationResult
from tests.functions.conftest import REPORT, Logs, ServiceFactory, function

ISOLATIONS = [kind for kind in ("inprocess", "process") if kind in INVOKERS]


async def burst(service: FunctionsService, name: str, count: int,
                event: Mapping[str, object]) -> list[InvocationResult | BaseException]:
    """``count`` invocations that all arrive before any is answered; results or exceptions."""
    payload = json.dumps(event).encode()
    calls = [service.invoke(name, payload) for _ in range(count)]
    return await asyncio.gather(*calls, return_exceptions=True)


def throttles(outcomes: Sequence[object]) -> list[Throttled]:
    return [o for o in outcomes if isinstance(o, Throttled)]


@pytest.mark.parametrize("isolation", ISOLATIONS)
async def test_fifty_at_once_with_reserved_five_throttles_exactly_45(
    service_factory: ServiceFactory, isolation: str
) -> None:
    service = service_factory(function("busy", "sleepy", reserved_concurrency=5, isolation=isolation))
    outcomes = await burst(service, "busy", 50, {"seconds": 0.05})
    throttled = throttles(outcomes)
    assert len(throttled) == 45
    assert {t.reason for t in throttled} == {RESERVED_LIMIT}
    served = [o for o in outcomes if isinstance(o, InvocationResult)]
    assert len(served) == 5 and all(r.payload == b'"woke up"' and r.function_error is None for r in served)
    assert service.concurrent_executions("busy") == 0
    # Once they are answered, the function takes invocations again.
    assert (await service.invoke("busy", b'{"seconds": 0}')).payload == b'"woke up"'


async def test_reserved_zero_throttles_everything(service_factory: ServiceFactory) -> None:
    service = service_factory(function("off", "echo", reserved_concurrency=0), function("on", "echo"))
    with pytest.raises(Throttled) as caught:
        await service.invoke("off", b"{}")
    assert caught.value.reason == RESERVED_LIMIT
    assert (await service.invoke("on", b"1")).payload == b"1"


async def test_unreserved_functions_share_what_the_reservations_leave(service_factory: ServiceFactory) -> None:
    # Limit 10, "kept" reserves 4: "a" and "b" share 6 between them; "kept" still gets its 4.
    service = service_factory(
        function("kept", "sleepy", reserved_concurrency=4), function("a", "sleepy"), function("b", "sleepy"),
        settings=GatewaySettings(concurrency_limit=10),
    )
    event = {"seconds": 0.05}
    a, b, kept = await asyncio.gather(
        burst(service, "a", 4, event), burst(service, "b", 4, event), burst(service, "kept", 5, event))
    assert len(throttles(a)) == 0
    assert len(throttles(b)) == 2 and {t.reason for t in throttles(b)} == {ACCOUNT_LIMIT}
    assert len(throttles(kept)) == 1 and throttles(kept)[0].reason == RESERVED_LIMIT


async def test_a_functions_versions_share_its_reservation(service_factory: ServiceFactory) -> None:
    fn = function("app", "sleepy", reserved_concurrency=2, versions={"1": function("", "sleepy")})
    service = service_factory(fn)
    outcomes = await asyncio.gather(
        service.invoke("app", b'{"seconds": 0.05}'), service.invoke("app:1", b'{"seconds": 0.05}'),
        service.invoke("app:1", b'{"seconds": 0.05}'), return_exceptions=True)
    assert [type(o).__name__ for o in outcomes] == ["InvocationResult", "InvocationResult", "Throttled"]


def test_limits_count_provisioned_concurrency_of_unreserved_functions_as_taken() -> None:
    """Provisioned concurrency of a function without a reservation is its own; the pool shrinks by it."""
    limits = ConcurrencyLimits({
        "warm": function("warm", "echo", provisioned_concurrency=2),
        "cold": function("cold", "echo"),
    }, limit=5)
    assert limits.pool == 3
    for _ in range(2):
        limits.acquire("warm")  # its provisioned environments: not from the pool
    for _ in range(3):
        limits.acquire("cold")
    with pytest.raises(Throttled) as caught:
        limits.acquire("warm")  # past its provisioned two it needs the pool, which is used up
    assert caught.value.reason == ACCOUNT_LIMIT
    limits.release("cold")
    limits.acquire("warm")
    assert (limits.in_flight("warm"), limits.in_flight("cold"), limits.total) == (3, 2, 5)
    for name in ("warm", "warm", "warm", "cold", "cold"):
        limits.release(name)
    assert limits.total == 0
    for _ in range(3):
        limits.acquire("cold")  # the pool is whole again


# -- provisioned concurrency -------------------------------------------------------------------


async def test_provisioned_environment_has_no_init_duration_on_its_first_report(
    service_factory: ServiceFactory, logs: Logs
) -> None:
    names = {"names": ["AWS_LAMBDA_INITIALIZATION_TYPE"]}
    service = service_factory(function("warm", "environ", provisioned_concurrency=1), function("cold", "environ"))
    await service.start()
    for name, init_type, cold in (("warm", "provisioned-concurrency", False), ("cold", "on-demand", True)):
        result = await service.invoke(name, json.dumps(names).encode(), request_id=f"{name}-1")
        assert json.loads(result.payload) == {"AWS_LAMBDA_INITIALIZATION_TYPE": init_type}
        report = REPORT.match(logs.invocation(name, f"{name}-1")[-1])
        assert report is not None
        assert (report["init"] is not None) == cold
        assert (result.init_duration_ms is not None) == cold


async def test_a_request_during_provisioning_waits_and_finds_the_environment_warm(
    tmp_path: Path, service_factory: ServiceFactory, logs: Logs
) -> None:
    (tmp_path / "lgw_slow_init.py").write_text(
        "import time\ntime.sleep(0.3)\nprint('init done')\n\ndef handler(event, context):\n    return 'ok'\n")
    # In-process only: a process invoker may serve it from an on-demand environment meanwhile, as Lambda does.
    service = service_factory(function("slow", "lgw_slow_init.handler", code_uri=tmp_path, provisioned_concurrency=1,
                                       isolation="inprocess"))
    starting = asyncio.create_task(service.start())
    await asyncio.sleep(0.05)  # INIT is under way
    result = await service.invoke("slow", b"{}", request_id="r-1")
    await starting
    assert result.payload == b'"ok"' and result.init_duration_ms is None
    report = REPORT.match(logs.invocation("slow", "r-1")[-1])
    assert report is not None and report["init"] is None
    assert "init done" not in result.log_tail  # INIT's output was logged at start, not in this tail
    assert any(entry.endswith("init done") for entry in logs.of("slow"))


async def test_a_provisioned_init_that_fails_is_logged_and_requests_get_the_init_error(
    tmp_path: Path, service_factory: ServiceFactory, logs: Logs
) -> None:
    (tmp_path / "lgw_bad_init.py").write_text("raise RuntimeError('no database')\n")
    service = service_factory(function("bad", "lgw_bad_init.handler", code_uri=tmp_path, provisioned_concurrency=1))
    await service.start()  # never raises: the gateway starts anyway
    assert any(e.startswith("INIT_REPORT Init Duration:") and "\tPhase: init\tStatus: error" in e
               for e in logs.of("bad"))
    result = await service.invoke("bad", b"{}")  # an on-demand environment runs INIT again
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload)["errorType"] == "RuntimeError"


def test_check_says_what_provisioned_concurrency_does_in_process(service_factory: ServiceFactory) -> None:
    service = service_factory(function("app", "echo", provisioned_concurrency=3, isolation="inprocess"))
    assert "function 'app': an in-process function has one environment; provisioned_concurrency 3 starts that one" \
        in service.check()
