"""The in-process invoker through the functions service: real handlers, real threads, real logs."""

from __future__ import annotations

import asyncio
import json
import math
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from gateway.config import FunctionConfig, GatewaySettings
from gateway.errors import Throttled
from gateway.functions.invokers import inprocess
from gateway.functions.logs import stderr_sink
from tests.functions.conftest import HANDLERS, REPORT, Logs, ServiceFactory, WriteRecorder
from tests.functions.conftest import function as any_function

SOURCE = (HANDLERS / "lgw_handlers.py").read_text().splitlines()
HANDLER_FILE = str(HANDLERS / "lgw_handlers.py")


def function(name: str, handler: str, **settings: Any) -> FunctionConfig:
    """This file is about in-process environments (process is the default isolation)."""
    return any_function(name, handler, isolation="inprocess", **settings)


def line_of(text: str) -> int:
    return next(number for number, line in enumerate(SOURCE, 1) if line.strip() == text)


# -- success, warm reuse ------------------------------------------------------------------------


async def test_success_returns_the_json_result_byte_for_byte(service_factory: ServiceFactory, logs: Logs) -> None:
    service = service_factory(function("echo", "echo"))
    result = await service.invoke("echo", b'{"b": [1, 2.5, null, true], "a": "\\u00e9t\\u00e9"}', request_id="r-1")
    assert result.payload == b'{"b": [1, 2.5, null, true], "a": "\\u00e9t\\u00e9"}'
    assert result.function_error is None
    assert result.request_id == "r-1"
    assert result.executed_version == "$LATEST"


async def test_warm_reuse_keeps_module_globals_and_reports_init_once(
    service_factory: ServiceFactory, logs: Logs
) -> None:
    service = service_factory(function("counter", "count", memory_size=256))
    first = await service.invoke("counter", b"{}", request_id="r-1")
    second = await service.invoke("counter", b"{}", request_id="r-2")
    assert json.loads(first.payload)["count"] == 1
    assert json.loads(second.payload)["count"] == 2
    assert json.loads(first.payload)["init_time"] == json.loads(second.payload)["init_time"]
    assert first.init_duration_ms is not None and first.init_duration_ms > 0
    assert second.init_duration_ms is None
    cold = REPORT.match(logs.invocation("counter", "r-1")[-1])
    warm = REPORT.match(logs.invocation("counter", "r-2")[-1])
    assert cold is not None and warm is not None
    assert cold["init"] is not None and warm["init"] is None
    assert cold["memory"] == warm["memory"] == "256"
    # Since 2025-08-01 INIT is billed: Billed Duration = ceil(Duration + Init Duration).
    assert first.billed_duration_ms == math.ceil(first.duration_ms + first.init_duration_ms)
    assert second.billed_duration_ms == max(1, math.ceil(second.duration_ms))
    assert int(warm["billed"]) == second.billed_duration_ms
    assert second.max_memory_used_mb == int(warm["used"]) > 0


async def test_warm_invocation_logs_start_end_report_and_returns_them_as_the_tail(
    service_factory: ServiceFactory, logs: Logs
) -> None:
    service = service_factory(function("echo", "echo"))
    await service.invoke("echo", b"{}", request_id="r-1")
    result = await service.invoke("echo", b"{}", request_id="r-2")
    entries = logs.invocation("echo", "r-2")
    assert entries[:2] == ["START RequestId: r-2 Version: $LATEST", "END RequestId: r-2"]
    assert len(entries) == 3
    report = REPORT.match(entries[2])
    assert report is not None and report["id"] == "r-2" and report["memory"] == "128"
    assert (report["init"], report["status"], report["error"]) == (None, None, None)
    assert result.log_tail == "\n".join(entries) + "\n"


async def test_log_tail_is_the_last_4_kb(service_factory: ServiceFactory, logs: Logs) -> None:
    service = service_factory(function("loud", "loud"))
    result = await service.invoke("loud", b'{"lines": 200}', request_id="r-1")
    assert len(result.log_tail.encode()) == 4096
    full = "\n".join(logs.invocation("loud", "r-1")) + "\n"
    assert full.endswith(result.log_tail)


async def test_functions_sharing_a_module_each_get_their_own_copy(service_factory: ServiceFactory) -> None:
    service = service_factory(function("a", "count"), function("b", "count"))
    results = [await service.invoke(name, b"{}") for name in ("a", "b", "a", "b", "a")]
    assert [json.loads(r.payload)["count"] for r in results] == [1, 1, 2, 2, 3]


# -- handler output ---------------------------------------------------------------------------------


async def test_print_and_logging_appear_between_start_and_end(service_factory: ServiceFactory, logs: Logs) -> None:
    service = service_factory(function("chat", "chatty"))
    result = await service.invoke("chat", b"{}", request_id="r-1")
    assert result.payload == b'"ok"'
    entries = logs.invocation("chat", "r-1")
    record = re.compile(r"^\[(WARNING|ERROR)\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\tr-1\t(.*)$")
    assert entries[:4] == ["START RequestId: r-1 Version: $LATEST", "hello from print", "two parts", "to stderr"]
    warning, error = record.match(entries[4]), record.match(entries[5])
    assert warning is not None and warning.groups() == ("WARNING", "a formatted warning")
    assert error is not None and error.groups() == ("ERROR", "an error")
    assert entries[6:8] == ["no newline", "END RequestId: r-1"]
    assert len(entries) == 9
    assert all(name == "chat" for name, _ in logs.entries)


async def test_default_sink_prefixes_each_line_with_the_function_name(
    service_factory: ServiceFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    service = service_factory(function("chat", "chatty"), log=None)
    await service.invoke("chat", b"{}", request_id="r-1")
    err = capsys.readouterr().err.splitlines()
    assert "chat | START RequestId: r-1 Version: $LATEST" in err
    assert "chat | hello from print" in err
    assert "chat | END RequestId: r-1" in err


async def test_other_threads_output_is_not_captured(
    service_factory: ServiceFactory, logs: Logs, capsys: pytest.CaptureFixture[str]
) -> None:
    service = service_factory(function("echo", "echo"))
    await service.invoke("echo", b"{}")
    print("the gateway's own line")
    assert "the gateway's own line" in capsys.readouterr().out
    assert all("gateway's own" not in entry for _, entry in logs.entries)


async def test_asyncio_handlers_get_the_environment_threads_event_loop(service_factory: ServiceFactory) -> None:
    service = service_factory(function("aio", "uses_asyncio"))
    first = await service.invoke("aio", b'{"n": 21}')
    second = await service.invoke("aio", b'{"n": 4}')
    assert (first.payload, second.payload) == (b"42", b"8")


async def test_bytes_results_pass_through_unchanged(service_factory: ServiceFactory) -> None:
    service = service_factory(function("raw", "raw_bytes"))
    result = await service.invoke("raw", b"{}")
    assert result.payload == b"\x00\xffraw"
    assert result.function_error is None


# -- function errors --------------------------------------------------------------------------------


async def test_handler_exception_is_lambdas_error_document(service_factory: ServiceFactory, logs: Logs) -> None:
    service = service_factory(function("boom", "boom"))
    result = await service.invoke("boom", b"{}", request_id="r-1")
    line = line_of('raise ValueError("requested failure")')
    frame = f'  File "{HANDLER_FILE}", line {line}, in boom\n    raise ValueError("requested failure")\n'
    assert result.function_error == "Unhandled"
    assert result.payload == json.dumps({
        "errorMessage": "requested failure", "errorType": "ValueError", "requestId": "r-1", "stackTrace": [frame],
    }).encode()
    assert result.payload.startswith(b'{"errorMessage": "requested failure", "errorType": "ValueError", ')
    entries = logs.invocation("boom", "r-1")
    assert entries[1] == (
        "[ERROR] ValueError: requested failure\nTraceback (most recent call last):\n"
        f'\u00a0\u00a0File "{HANDLER_FILE}", line {line}, in boom\n'
        '\u00a0\u00a0\u00a0\u00a0raise ValueError("requested failure")'
    )
    assert entries[2] == "END RequestId: r-1"
    report = REPORT.match(entries[3])
    assert report is not None and report["status"] is None  # the runtime reported it: no Status


async def test_stack_trace_lists_every_user_frame(service_factory: ServiceFactory) -> None:
    service = service_factory(function("nested", "nested_boom"))
    result = await service.invoke("nested", b'{"key": "k"}', request_id="r-1")
    document = json.loads(result.payload)
    assert (document["errorType"], document["errorMessage"]) == ("KeyError", "'k'")
    assert document["stackTrace"] == [
        f'  File "{HANDLER_FILE}", line {line_of("return _inner(event)")}, in nested_boom\n    return _inner(event)\n',
        f'  File "{HANDLER_FILE}", line {line_of("""raise KeyError(event.get("key", "missing"))""")}, in _inner\n'
        '    raise KeyError(event.get("key", "missing"))\n',
    ]


async def test_unserialisable_result_is_a_marshal_error(service_factory: ServiceFactory, logs: Logs) -> None:
    service = service_factory(function("marshal", "unserialisable"))
    result = await service.invoke("marshal", b"{}", request_id="r-1")
    assert result.function_error == "Unhandled"
    assert result.payload == (
        b'{"errorMessage": "Unable to marshal response: Object of type set is not JSON serializable", '
        b'"errorType": "Runtime.MarshalError", "requestId": "r-1", "stackTrace": []}'
    )
    assert logs.invocation("marshal", "r-1")[1] == (
        "[ERROR] Runtime.MarshalError: Unable to marshal response: Object of type set is not JSON serializable\n"
        "Traceback (most recent call last):"
    )
    again = await service.invoke("marshal", b"{}")
    assert again.init_duration_ms is None  # the environment survives a marshal error


async def test_a_result_over_6_mb_is_lambdas_size_error(service_factory: ServiceFactory, logs: Logs) -> None:
    service = service_factory(function("big", "huge"))
    at_limit = await service.invoke("big", json.dumps({"length": 6_291_556 - 2}).encode())
    assert at_limit.function_error is None and len(at_limit.payload) == 6_291_556
    over = await service.invoke("big", json.dumps({"length": 6_291_556 - 1}).encode(), request_id="r-2")
    assert over.function_error == "Unhandled"
    assert over.payload == (
        b'{"errorMessage":"Response payload size exceeded maximum allowed payload size (6291556 bytes).",'
        b'"errorType":"Function.ResponseSizeTooLarge"}'
    )
    report = REPORT.match(logs.invocation("big", "r-2")[-1])
    assert report is not None and (report["status"], report["error"]) == ("error", "Runtime.ExitError")
    after = await service.invoke("big", b'{"length": 1}')
    assert after.payload == b'"x"' and after.init_duration_ms is not None  # the runtime exited: cold start


async def test_sys_exit_is_a_runtime_exit_error(service_factory: ServiceFactory, logs: Logs) -> None:
    service = service_factory(function("exit", "exits"))
    result = await service.invoke("exit", b'{"code": 3}', request_id="r-1")
    assert result.payload == (
        b'{"errorType":"Runtime.ExitError","errorMessage":"RequestId: r-1 Error: Runtime exited with error: '
        b'exit status 3"}'
    )
    entries = logs.invocation("exit", "r-1")
    assert entries[1:3] == [
        "RequestId: r-1 Error: Runtime exited with error: exit status 3\nRuntime.ExitError",
        "END RequestId: r-1",
    ]
    report = REPORT.match(entries[3])
    assert report is not None and (report["status"], report["error"]) == ("error", "Runtime.ExitError")
    quiet = await service.invoke("exit", b"{}", request_id="r-2")
    message = json.loads(quiet.payload)["errorMessage"]
    assert message == "RequestId: r-2 Error: Runtime exited without providing a reason"
    assert quiet.init_duration_ms is not None


# -- INIT failures ----------------------------------------------------------------------------------


async def test_missing_module_fails_every_invocation_until_the_file_exists(
    service_factory: ServiceFactory, logs: Logs, tmp_path: Path
) -> None:
    service = service_factory(function("late", "lgw_late_module.handler", code_uri=tmp_path))
    expected = (
        b'{"errorMessage": "Unable to import module \'lgw_late_module\': No module named \'lgw_late_module\'", '
        b'"errorType": "Runtime.ImportModuleError", "requestId": "", "stackTrace": []}'
    )
    for request_id in ("r-1", "r-2"):
        result = await service.invoke("late", b"{}", request_id=request_id)
        assert (result.function_error, result.payload) == ("Unhandled", expected)
    entries = logs.of("late")
    assert entries[0].startswith("[WARNING]\t") and entries[0].endswith(
        "Z\t\tLAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function code. "
        "However, in rare cases, a Lambda runtime update can cause unexpected function behavior. For functions "
        "using managed runtimes, runtime updates can be triggered by a function change, or can be applied "
        "automatically. To determine if the runtime has been updated, check the runtime version in the INIT_START "
        "log entry. If this error correlates with a change in the runtime version, you may be able to mitigate "
        "this error by temporarily rolling back to the previous runtime version. For more information, see "
        "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html"
    )
    assert entries[1] == (
        "[ERROR] Runtime.ImportModuleError: Unable to import module 'lgw_late_module': "
        "No module named 'lgw_late_module'\nTraceback (most recent call last):"
    )
    assert re.fullmatch(
        r"INIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: invoke\tStatus: error\tError Type: Runtime.ImportModuleError",
        entries[2],
    )
    assert entries[3:6] == [
        "START RequestId: r-1 Version: $LATEST",
        "Unknown application error occurred\nRuntime.ImportModuleError",
        "END RequestId: r-1",
    ]
    report = REPORT.match(entries[6])
    assert report is not None and (report["init"], report["status"], report["error"]) == (
        None, "error", "Runtime.ImportModuleError")

    (tmp_path / "lgw_late_module.py").write_text("def handler(event, context):\n    return 'fixed'\n")
    fixed = await service.invoke("late", b"{}")
    assert (fixed.function_error, fixed.payload) == (None, b'"fixed"')


async def test_missing_handler_attribute(service_factory: ServiceFactory) -> None:
    service = service_factory(function("nohandler", "nosuch"))
    result = await service.invoke("nohandler", b"{}")
    assert result.payload == (
        b'{"errorMessage": "Handler \'nosuch\' missing on module \'lgw_handlers\'", '
        b'"errorType": "Runtime.HandlerNotFound", "requestId": "", "stackTrace": []}'
    )


async def test_syntax_error_then_fixed(service_factory: ServiceFactory, logs: Logs, tmp_path: Path) -> None:
    path = tmp_path / "lgw_broken.py"
    path.write_text("def handler(event, context)\n    return 1\n")
    service = service_factory(function("broken", "lgw_broken.handler", code_uri=tmp_path))
    result = await service.invoke("broken", b"{}")
    assert json.loads(result.payload) == {
        "errorMessage": "Syntax error in module 'lgw_broken': expected ':' (lgw_broken.py, line 1)",
        "errorType": "Runtime.UserCodeSyntaxError",
        "requestId": "",
        "stackTrace": [f'  File "{path}" Line 1\n    def handler(event, context)\n'],
    }
    assert logs.of("broken")[1] == (
        "[ERROR] Runtime.UserCodeSyntaxError: Syntax error in module 'lgw_broken': expected ':' "
        f"(lgw_broken.py, line 1)\nTraceback (most recent call last):\n\u00a0\u00a0File \"{path}\" Line 1\n"
        "\u00a0\u00a0\u00a0\u00a0def handler(event, context)"
    )
    path.write_text("def handler(event, context):\n    return 1\n")
    assert (await service.invoke("broken", b"{}")).payload == b"1"


async def test_exception_during_import_reports_its_own_type(
    service_factory: ServiceFactory, logs: Logs, tmp_path: Path
) -> None:
    path = tmp_path / "lgw_initboom.py"
    path.write_text("import os\nraise RuntimeError('bad config')\n")
    service = service_factory(function("initboom", "lgw_initboom.handler", code_uri=tmp_path))
    document = json.loads((await service.invoke("initboom", b"{}")).payload)
    assert (document["errorMessage"], document["errorType"], document["requestId"]) == (
        "bad config", "RuntimeError", "")
    # As on Lambda, the trace starts in importlib (the runtime's own frames are dropped).
    first, last = document["stackTrace"][0], document["stackTrace"][-1]
    assert re.fullmatch(r'  File ".*importlib/__init__.py", line \d+, in import_module\n.*\n', first)
    assert last == f'  File "{path}", line 2, in <module>\n    raise RuntimeError(\'bad config\')\n'
    assert "Error Type: Runtime.Unknown" in logs.of("initboom")[2]


# -- timeouts ---------------------------------------------------------------------------------------


async def test_timeout_is_answered_on_time_and_the_next_invocation_gets_a_fresh_init(
    service_factory: ServiceFactory, logs: Logs
) -> None:
    service = service_factory(function("slow", "count_or_sleep", timeout=1))
    assert (await service.invoke("slow", b"{}")).payload == b"1"
    assert (await service.invoke("slow", b"{}")).payload == b"2"
    started = time.monotonic()
    result = await service.invoke("slow", b'{"sleep": 1.5}', request_id="r-slow")
    elapsed = time.monotonic() - started
    assert 0.99 <= elapsed < 1.4
    assert result.function_error == "Unhandled"
    assert result.payload == (
        b'{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: r-slow Error: Task timed out after 1.00 seconds"}'
    )
    entries = logs.invocation("slow", "r-slow")
    assert entries[0] == "START RequestId: r-slow Version: $LATEST"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z r-slow Task timed out after 1.00 seconds", entries[1])
    assert entries[2] == "END RequestId: r-slow"
    report = REPORT.match(entries[3])
    assert report is not None and (report["duration"], report["status"]) == ("1000.00", "timeout")

    fresh = await service.invoke("slow", b"{}")
    assert fresh.payload == b"1"  # module globals reset: INIT ran again
    assert fresh.init_duration_ms is not None
    # The abandoned thread is stopped when its sleep returns; what it prints then is dropped.
    await asyncio.sleep(max(0.0, started + 1.8 - time.monotonic()))
    assert "after the sleep" not in logs.of("slow")
    assert sum(thread.name == "lambda:slow" for thread in threading.enumerate()) == 1


async def test_cold_start_timeout_reports_init_duration(service_factory: ServiceFactory, logs: Logs) -> None:
    service = service_factory(function("slowcold", "sleepy", timeout=1))
    result = await service.invoke("slowcold", b'{"seconds": 1.2}', request_id="r-1")
    assert result.init_duration_ms is not None
    report = REPORT.match(logs.invocation("slowcold", "r-1")[-1])
    assert report is not None and report["init"] is not None and report["status"] == "timeout"
    assert result.billed_duration_ms == math.ceil(1000 + result.init_duration_ms)


# -- one invocation at a time ---------------------------------------------------------------------------


async def test_concurrent_invocations_queue_in_order(service_factory: ServiceFactory) -> None:
    service = service_factory(function("timed", "timed"))
    await service.invoke("timed", b'{"seconds": 0}')  # warm up
    results = await asyncio.gather(*(service.invoke("timed", b'{"seconds": 0.15}') for _ in range(3)))
    spans = [json.loads(result.payload) for result in results]
    for earlier, later in zip(spans, spans[1:], strict=False):
        assert later[0] >= earlier[1]


async def test_throttled_when_the_queue_is_full(service_factory: ServiceFactory) -> None:
    service = service_factory(function("timed", "timed"), settings=GatewaySettings(max_queued_requests=1))
    running = asyncio.create_task(service.invoke("timed", b'{"seconds": 0.3}'))
    waiting = asyncio.create_task(service.invoke("timed", b'{"seconds": 0}'))
    await asyncio.sleep(0.05)
    with pytest.raises(Throttled):
        await service.invoke("timed", b'{"seconds": 0}')
    assert (await running).function_error is None
    assert (await waiting).function_error is None
    await service.invoke("timed", b'{"seconds": 0}')  # the queue drained


async def test_no_queue_at_all_throttles_the_second_caller(service_factory: ServiceFactory) -> None:
    service = service_factory(function("timed", "timed"), settings=GatewaySettings(max_queued_requests=0))
    running = asyncio.create_task(service.invoke("timed", b'{"seconds": 0.2}'))
    await asyncio.sleep(0.05)
    with pytest.raises(Throttled):
        await service.invoke("timed", b'{"seconds": 0}')
    await running


async def test_a_cancelled_caller_does_not_free_the_environment_early(service_factory: ServiceFactory) -> None:
    service = service_factory(function("timed", "timed"))
    await service.invoke("timed", b'{"seconds": 0}')
    submitted = time.monotonic()
    first = asyncio.create_task(service.invoke("timed", b'{"seconds": 0.2}'))
    await asyncio.sleep(0.05)
    first.cancel()
    second = json.loads((await service.invoke("timed", b'{"seconds": 0}')).payload)
    assert second[0] >= submitted + 0.2  # it ran only after the cancelled caller's handler had finished
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_init_output_comes_before_start_and_is_in_the_first_tail(
    service_factory: ServiceFactory, logs: Logs, tmp_path: Path
) -> None:
    (tmp_path / "lgw_noisy_init.py").write_text(
        "import logging\nprint('loading config')\nlogging.getLogger().warning('cold')\n"
        "def handler(event, context):\n    return 1\n"
    )
    service = service_factory(function("noisy", "lgw_noisy_init.handler", code_uri=tmp_path))
    first = await service.invoke("noisy", b"{}", request_id="r-1")
    second = await service.invoke("noisy", b"{}", request_id="r-2")
    entries = logs.of("noisy")
    assert entries[0] == "loading config"
    assert re.fullmatch(r"\[WARNING\]\t\S+Z\t\tcold", entries[1])  # no request id during INIT
    assert entries[2] == "START RequestId: r-1 Version: $LATEST"
    assert first.log_tail.startswith("loading config\n")
    assert second.log_tail.startswith("START RequestId: r-2 ")


async def test_init_that_overruns_is_a_timeout(
    service_factory: ServiceFactory, logs: Logs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inprocess, "INIT_LIMIT", 0.3)
    source = "import time\ntime.sleep(1)\ndef handler(event, context):\n    return 1\n"
    (tmp_path / "lgw_slow_init.py").write_text(source)
    service = service_factory(function("slowinit", "lgw_slow_init.handler", code_uri=tmp_path, timeout=0.3))
    started = time.monotonic()
    result = await service.invoke("slowinit", b"{}", request_id="r-1")
    assert time.monotonic() - started < 0.8
    assert json.loads(result.payload)["errorType"] == "Sandbox.Timedout"
    entries = logs.of("slowinit")
    assert re.fullmatch(r"INIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: invoke\tStatus: timeout", entries[0])
    assert entries[1] == "START RequestId: r-1 Version: $LATEST"
    assert entries[2].endswith(" r-1 Task timed out after 0.30 seconds")
    report = REPORT.match(entries[4])
    assert report is not None and (report["init"], report["status"]) == (None, "timeout")


# -- queued invocations run back to back in the environment thread -----------------------------------


async def test_invocations_queued_behind_a_timed_out_one_go_to_a_fresh_environment(
    service_factory: ServiceFactory, logs: Logs
) -> None:
    service = service_factory(function("slowq", "count_or_sleep", timeout=0.5))
    assert (await service.invoke("slowq", b"{}")).payload == b"1"
    started = time.monotonic()
    slow, second, third = await asyncio.gather(
        service.invoke("slowq", b'{"sleep": 1.0}', request_id="r-slow"),
        service.invoke("slowq", b"{}", request_id="r-2"),
        service.invoke("slowq", b"{}", request_id="r-3"),
    )
    assert slow.payload == (b'{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: r-slow Error: Task timed '
                            b'out after 0.50 seconds"}')
    # Neither queued invocation was lost or answered with the timeout: both ran, in order, in a new
    # environment whose INIT reset the module's counter.
    assert (second.payload, second.function_error) == (b"1", None)
    assert (third.payload, third.function_error) == (b"2", None)
    assert second.init_duration_ms is not None and third.init_duration_ms is None
    entries = logs.of("slowq")
    slow_report = next(i for i, e in enumerate(entries) if e.startswith("REPORT RequestId: r-slow\t"))
    assert entries.index("START RequestId: r-2 Version: $LATEST") > slow_report
    assert logs.invocation("slowq", "r-2")[-2:][0] == "END RequestId: r-2"
    assert logs.invocation("slowq", "r-3")[0] == "START RequestId: r-3 Version: $LATEST"
    await asyncio.sleep(max(0.0, started + 1.3 - time.monotonic()))  # the abandoned handler's sleep is over
    assert "after the sleep" not in logs.of("slowq")


async def test_each_queued_invocations_timeout_counts_from_its_own_start(service_factory: ServiceFactory) -> None:
    service = service_factory(function("timedq", "timed", timeout=0.5))
    await service.invoke("timedq", b'{"seconds": 0}')  # warm up
    # The second waits about 0.3 s for the first, then runs 0.3 s: 0.6 s after it was queued, within its 0.5 s.
    first, second = await asyncio.gather(service.invoke("timedq", b'{"seconds": 0.3}'),
                                         service.invoke("timedq", b'{"seconds": 0.3}'))
    assert (first.function_error, second.function_error) == (None, None)
    assert json.loads(second.payload)[0] >= json.loads(first.payload)[1]


async def test_a_cancelled_caller_still_queued_never_runs(service_factory: ServiceFactory, logs: Logs) -> None:
    service = service_factory(function("countq", "count_or_sleep"))
    assert (await service.invoke("countq", b"{}")).payload == b"1"
    running = asyncio.create_task(service.invoke("countq", b'{"sleep": 0.2}'))
    queued = asyncio.create_task(service.invoke("countq", b"{}", request_id="r-gone"))
    await asyncio.sleep(0.05)
    queued.cancel()
    with pytest.raises(asyncio.CancelledError):
        await queued
    assert (await running).payload == b'"woke up"'
    assert (await service.invoke("countq", b"{}")).payload == b"2"  # the withdrawn one did not count
    assert "START RequestId: r-gone Version: $LATEST" not in logs.of("countq")


async def test_jobs_queued_behind_a_runtime_exit_get_a_new_environment(service_factory: ServiceFactory) -> None:
    service = service_factory(function("exitq", "exits"))
    exited, after = await asyncio.gather(service.invoke("exitq", b'{"code": 3}', request_id="r-3"),
                                         service.invoke("exitq", b'{"code": 4}', request_id="r-4"))
    for result, n in ((exited, 3), (after, 4)):
        assert result.payload == (b'{"errorType":"Runtime.ExitError","errorMessage":"RequestId: r-%d Error: Runtime '
                                  b'exited with error: exit status %d"}' % (n, n))
    assert after.init_duration_ms is not None  # the second ran in a fresh environment (its own INIT)


async def test_start_end_and_report_reach_the_default_sink_one_entry_per_write(
    service_factory: ServiceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = WriteRecorder()
    monkeypatch.setattr(sys, "stderr", recorder)
    service = service_factory(function("quiet", "count_or_sleep"), log=stderr_sink)
    await service.invoke("quiet", b"{}", request_id="r-1")
    result = await service.invoke("quiet", b"{}", request_id="r-2")
    mine = [text for text in recorder.writes if "r-2" in text]  # batching is gateway serve's (LoopWriter)
    assert mine[:2] == ["quiet | START RequestId: r-2 Version: $LATEST\n", "quiet | END RequestId: r-2\n"]
    assert len(mine) == 3 and mine[2].endswith("\n")
    report = mine[2].removesuffix("\n")
    assert REPORT.match(report.removeprefix("quiet | ")) is not None
    assert result.log_tail == "START RequestId: r-2 Version: $LATEST\nEND RequestId: r-2\n" + report[8:] + "\n"


async def test_hot_reload_moves_queued_invocations_to_the_new_environment(
    service_factory: ServiceFactory, tmp_path: Path
) -> None:
    source = "import time\ndef handler(event, context):\n    time.sleep(event.get('sleep', 0))\n    return {!r}\n"
    (tmp_path / "lgw_reloaded.py").write_text(source.format("v1"))
    service = service_factory(function("reloaded", "lgw_reloaded.handler", code_uri=tmp_path))
    assert (await service.invoke("reloaded", b"{}")).payload == b'"v1"'
    running = asyncio.create_task(service.invoke("reloaded", b'{"sleep": 0.3}'))
    queued = asyncio.create_task(service.invoke("reloaded", b"{}"))  # queued before the reload
    await asyncio.sleep(0.1)
    (tmp_path / "lgw_reloaded.py").write_text(source.format("v2"))
    service.retire_environments("reloaded")
    assert (await running).payload == b'"v1"'  # the busy environment finishes with the old code
    assert (await queued).payload == b'"v2"'


async def test_invocations_queued_behind_provisioned_init_run_warm(
    service_factory: ServiceFactory, tmp_path: Path
) -> None:
    (tmp_path / "lgw_slow_boot.py").write_text(
        "import time\ntime.sleep(0.2)\ndef handler(event, context):\n    return 'ok'\n")
    service = service_factory(function("boot", "lgw_slow_boot.handler", code_uri=tmp_path,
                                       provisioned_concurrency=1))
    prewarm = asyncio.create_task(service.start())
    await asyncio.sleep(0.05)
    first, second = await asyncio.gather(service.invoke("boot", b"{}"), service.invoke("boot", b"{}"))
    await prewarm
    assert (first.payload, second.payload) == (b'"ok"', b'"ok"')
    assert (first.init_duration_ms, second.init_duration_ms) == (None, None)
