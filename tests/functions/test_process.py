"""Process execution environments: real child processes, real handlers, real logs (no mocks)."""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from gateway.config import FunctionConfig, GatewaySettings
from gateway.functions.invokers.process import ProcessInvoker
from gateway.functions.zygote import Zygote
from tests.functions.conftest import HANDLERS, REPORT, Logs, ServiceFactory, function

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="process environments fork")


def proc(name: str, handler: str, **settings: Any) -> FunctionConfig:
    """A process-isolated function whose handler is ``lgw_process.<handler>`` unless a module is named."""
    full = handler if "." in handler else f"lgw_process.{handler}"
    return function(name, full, isolation="process", **settings)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return "\nState:\tZ" not in fh.read()
    except OSError:
        return False


async def private_tmp() -> bool:
    return (await Zygote.get()).private_tmp_problem is None


# -- warm reuse, isolation between environments --------------------------------------------------


async def test_globals_and_tmp_persist_across_warm_invocations(service_factory: ServiceFactory, logs: Logs) -> None:
    service = service_factory(proc("state", "state"))
    first = await service.invoke("state", b"{}", request_id="r-1")
    second = await service.invoke("state", b"{}", request_id="r-2")
    one, two = json.loads(first.payload), json.loads(second.payload)
    assert (one["count"], two["count"]) == (1, 2)
    assert one["pid"] == two["pid"] != os.getpid()
    assert (one["seen"], two["seen"]) == ([], ["r-1"])
    assert first.init_duration_ms is not None and second.init_duration_ms is None
    if await private_tmp():
        # Code or an interpreter that lives under /tmp is bind-mounted back at its own path (sandbox.py).
        mounted = {Path(p).parts[2] for p in (__file__, sys.prefix, sys.base_prefix) if Path(p).parts[1:2] == ("tmp",)}
        assert sorted(set(one["tmp"]) - mounted) == ["lgw-state.txt"] and one["tmpdir"] == "/tmp"
        assert not os.path.exists("/tmp/lgw-state.txt")  # the gateway's /tmp never sees it
    cold, warm = (REPORT.match(logs.invocation("state", rid)[-1]) for rid in ("r-1", "r-2"))
    assert cold is not None and warm is not None and cold["init"] is not None and warm["init"] is None
    assert 10 <= int(warm["used"]) <= 128


async def test_concurrent_invocations_get_separate_environments_that_share_nothing(
    service_factory: ServiceFactory,
) -> None:
    service = service_factory(proc("state", "state"))
    started = time.monotonic()
    results = await asyncio.gather(*(service.invoke("state", b'{"sleep": 0.4}', request_id=f"r-{i}") for i in (1, 2)))
    elapsed = time.monotonic() - started
    one, two = (json.loads(result.payload) for result in results)
    assert elapsed < 0.75  # they ran side by side, each in its own process
    assert one["pid"] != two["pid"]
    assert (one["count"], two["count"], one["seen"], two["seen"]) == (1, 1, [], [])
    assert all(result.init_duration_ms is not None for result in results)
    # Each environment is reused warm with only its own globals and /tmp.
    again = await asyncio.gather(*(service.invoke("state", b'{"sleep": 0.2}', request_id=f"r-{i}") for i in (3, 4)))
    pairs = {json.loads(result.payload)["pid"]: json.loads(result.payload)["seen"] for result in again}
    assert pairs.keys() == {one["pid"], two["pid"]}
    assert sorted(map(tuple, pairs.values())) == [("r-1",), ("r-2",)]


async def test_a_new_environment_starts_only_when_every_one_is_busy(service_factory: ServiceFactory) -> None:
    service = service_factory(proc("spans", "spans"))
    invoker = service._invokers["spans"]  # noqa: SLF001 - the pool's size is what this test is about
    assert isinstance(invoker, ProcessInvoker)
    for _ in range(3):
        await service.invoke("spans", b'{"seconds": 0}')
    assert (invoker.environments, invoker.busy) == (1, 0)
    running = [asyncio.create_task(service.invoke("spans", b'{"seconds": 0.3}')) for _ in range(3)]
    await asyncio.sleep(0.15)
    assert (invoker.environments, invoker.busy) == (3, 3)
    spans = [json.loads((await task).payload) for task in running]
    assert len({pid for pid, _, _ in spans}) == 3
    assert max(start for _, start, _ in spans) < min(end for _, _, end in spans)  # all three overlapped
    assert invoker.busy == 0


async def test_idle_environments_shut_down_after_idle_timeout(service_factory: ServiceFactory) -> None:
    service = service_factory(proc("state", "state", idle_timeout=0.3))
    invoker = service._invokers["state"]  # noqa: SLF001
    assert isinstance(invoker, ProcessInvoker)
    pid = json.loads((await service.invoke("state", b"{}")).payload)["pid"]
    await asyncio.sleep(0.1)
    assert invoker.environments == 1 and alive(pid)
    await asyncio.sleep(0.5)
    assert invoker.environments == 0 and not alive(pid)
    fresh = await service.invoke("state", b"{}")
    assert json.loads(fresh.payload)["count"] == 1 and fresh.init_duration_ms is not None


async def test_prewarmed_environments_are_provisioned_and_never_report_init(
    service_factory: ServiceFactory, logs: Logs
) -> None:
    service = service_factory(proc("env", "environ", idle_timeout=0.1))
    invoker = service._invokers["env"]  # noqa: SLF001
    assert isinstance(invoker, ProcessInvoker)
    await invoker.prewarm(2)
    assert (invoker.environments, invoker.busy) == (2, 0)
    await asyncio.sleep(0.3)  # idle_timeout does not apply to them
    result = await service.invoke("env", b"{}", request_id="r-1")
    assert json.loads(result.payload)["AWS_LAMBDA_INITIALIZATION_TYPE"] == "provisioned-concurrency"
    assert result.init_duration_ms is None
    report = REPORT.match(logs.invocation("env", "r-1")[-1])
    assert report is not None and report["init"] is None
    assert invoker.environments == 2


# -- what a handler sees ----------------------------------------------------------------------------


async def test_environment_is_lambdas_and_never_the_gateways_credentials(
    service_factory: ServiceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "HOME"):
        monkeypatch.setenv(name, "from-the-gateway")
    service = service_factory(proc("env", "environ", memory_size=256, environment={"STAGE": "test", "TZ": "UTC"}))
    variables = json.loads((await service.invoke("env", b"{}")).payload)
    stream = variables.pop("AWS_LAMBDA_LOG_STREAM_NAME")
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", stream)
    assert "from-the-gateway" not in variables.values()
    assert variables == {
        "PATH": os.environ["PATH"], "LANG": "en_US.UTF-8", "TZ": "UTC", "STAGE": "test",
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_CONFIG_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_LAMBDA_FUNCTION_NAME": "env", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256", "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/env",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11", "LAMBDA_TASK_ROOT": str(HANDLERS),
        "LAMBDA_RUNTIME_DIR": variables["LAMBDA_RUNTIME_DIR"], "_HANDLER": "lgw_process.environ",
        **({} if await private_tmp() else {"TMPDIR": variables.get("TMPDIR", "")}),
    }
    assert "HOME" not in variables and "AWS_LAMBDA_RUNTIME_API" not in variables


async def test_working_directory_and_import_path_start_at_code_uri(service_factory: ServiceFactory) -> None:
    service = service_factory(proc("where", "where"))
    where = json.loads((await service.invoke("where", b"{}")).payload)
    assert where["cwd"] == where["path0"] == str(HANDLERS)


async def test_context_and_trace_id(service_factory: ServiceFactory) -> None:
    service = service_factory(function("ctx", "context_fields", isolation="process", memory_size=512, timeout=3))
    result = await service.invoke("ctx", b"{}", request_id="r-1")
    fields = json.loads(result.payload)
    assert fields["aws_request_id"] == "r-1" and fields["memory_limit_in_mb"] == "512"
    assert fields["invoked_function_arn"] == "arn:aws:lambda:us-east-1:123456789012:function:ctx"
    assert 2800 < fields["remaining"] <= 3000
    service2 = service_factory(function("env", "environ", isolation="process"))
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    names = b'{"names": ["_X_AMZN_TRACE_ID"]}'
    assert json.loads((await service2.invoke("env", names, trace_id=trace)).payload) == {"_X_AMZN_TRACE_ID": trace}
    assert json.loads((await service2.invoke("env", names)).payload) == {"_X_AMZN_TRACE_ID": None}


async def test_output_below_python_reaches_the_log(service_factory: ServiceFactory, logs: Logs) -> None:
    service = service_factory(proc("bg", "background_print"))
    await service.invoke("bg", b"{}", request_id="r-1")
    assert logs.invocation("bg", "r-1")[1:4] == ["from a thread", "from a subprocess", "raw to fd 2"]


async def test_tmp_is_limited_to_ephemeral_storage(service_factory: ServiceFactory) -> None:
    if not await private_tmp():
        pytest.skip("no private /tmp here (TMPDIR fallback has no size limit)")
    service = service_factory(proc("fill", "fill_tmp", timeout=30))
    assert (await service.invoke("fill", b'{"mb": 520}')).payload == b'"OSError: errno 28"'  # ENOSPC
    assert (await service.invoke("fill", b'{"mb": 500}')).payload == b'"written"'


# -- the platform ends environments ---------------------------------------------------------------


async def test_timeout_kills_the_environment_and_the_next_invocation_is_fresh(
    service_factory: ServiceFactory, logs: Logs
) -> None:
    service = service_factory(proc("slow", "sleepy", timeout=1))
    warm = await service.invoke("slow", b'{"seconds": 0}')
    started = time.monotonic()
    result = await service.invoke("slow", b'{"seconds": 1.5}', request_id="r-slow")
    assert 0.99 <= time.monotonic() - started < 1.4
    assert result.payload == (
        b'{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: r-slow Error: Task timed out after 1.00 seconds"}'
    )
    assert result.function_error == "Unhandled"
    entries = logs.invocation("slow", "r-slow")
    assert entries[0] == "START RequestId: r-slow Version: $LATEST"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z r-slow Task timed out after 1.00 seconds", entries[1])
    assert entries[2] == "END RequestId: r-slow"
    report = REPORT.match(entries[3])
    assert report is not None and (report["duration"], report["status"]) == ("1000.00", "timeout")
    fresh = await service.invoke("slow", b'{"seconds": 0}')
    assert fresh.init_duration_ms is not None and warm.payload == fresh.payload == b'"woke up"'
    await asyncio.sleep(0.7)
    assert logs.of("slow").count("after the sleep") == 2  # the killed one never woke up


async def test_memory_over_memory_size_is_lambdas_out_of_memory_error(
    service_factory: ServiceFactory, logs: Logs
) -> None:
    service = service_factory(proc("mem", "allocate", memory_size=128, timeout=10))
    result = await service.invoke("mem", b'{"mb": 400}', request_id="r-1")
    message = "RequestId: r-1 Error: Runtime exited with error: signal: killed"
    assert json.loads(result.payload) == {"errorType": "Runtime.OutOfMemory", "errorMessage": message}
    assert result.function_error == "Unhandled" and result.max_memory_used_mb == 128
    entries = logs.invocation("mem", "r-1")
    assert entries[-3:-1] == [f"{message}\nRuntime.OutOfMemory", "END RequestId: r-1"]
    report = REPORT.match(entries[-1])
    assert report is not None and (report["status"], report["error"], report["used"]) == (
        "error", "Runtime.OutOfMemory", "128")
    assert (await service.invoke("mem", b'{"mb": 8}')).payload == b"8"  # a fresh environment


@pytest.mark.parametrize(("handler", "reason"), [
    ("hard_exit", "exit status 3"),
    ("segfault", "signal: segmentation fault"),
])
async def test_a_crash_is_a_runtime_exit_error_and_the_gateway_goes_on(
    service_factory: ServiceFactory, logs: Logs, handler: str, reason: str
) -> None:
    service = service_factory(proc("crash", handler), proc("state", "state"))
    result = await service.invoke("crash", b"{}", request_id="r-1")
    message = f"RequestId: r-1 Error: Runtime exited with error: {reason}"
    assert result.payload == json.dumps({"errorType": "Runtime.ExitError", "errorMessage": message},
                                        separators=(",", ":")).encode()
    entries = logs.invocation("crash", "r-1")
    assert entries[-3:-1] == [f"{message}\nRuntime.ExitError", "END RequestId: r-1"]
    report = REPORT.match(entries[-1])
    assert report is not None and (report["status"], report["error"]) == ("error", "Runtime.ExitError")
    assert int(report["used"]) > 0
    if handler == "hard_exit":
        assert "about to exit" in entries
    again = await service.invoke("crash", b"{}", request_id="r-2")
    assert again.init_duration_ms is not None and again.function_error == "Unhandled"
    assert json.loads((await service.invoke("state", b"{}")).payload)["count"] == 1


async def test_sys_exit_is_reported_as_in_process(service_factory: ServiceFactory, logs: Logs) -> None:
    service = service_factory(function("exit", "exits", isolation="process"))
    result = await service.invoke("exit", b'{"code": 3}', request_id="r-1")
    assert result.payload == (
        b'{"errorType":"Runtime.ExitError","errorMessage":"RequestId: r-1 Error: Runtime exited with error: '
        b'exit status 3"}'
    )
    quiet = await service.invoke("exit", b"{}", request_id="r-2")
    assert json.loads(quiet.payload)["errorMessage"] == (
        "RequestId: r-2 Error: Runtime exited without providing a reason")
    said = await service.invoke("exit", b'{"code": "bye"}', request_id="r-3")
    assert json.loads(said.payload)["errorMessage"].endswith("exit status 1")
    assert "bye" in logs.invocation("exit", "r-3")


async def test_a_crash_during_init_is_an_init_error(
    service_factory: ServiceFactory, logs: Logs, tmp_path: Path
) -> None:
    (tmp_path / "lgw_dies.py").write_text("import os\nprint('dying')\nos._exit(7)\n")
    service = service_factory(function("dies", "lgw_dies.handler", code_uri=tmp_path, isolation="process"))
    result = await service.invoke("dies", b"{}", request_id="r-1")
    assert json.loads(result.payload) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": "RequestId: r-1 Error: Runtime exited with error: exit status 7",
    }
    entries = logs.of("dies")
    assert entries[0] == "dying"
    assert re.fullmatch(r"INIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: invoke\tStatus: error\t"
                        r"Error Type: Runtime.ExitError", entries[1])
    assert entries[2:5] == ["START RequestId: r-1 Version: $LATEST",
                            "Unknown application error occurred\nRuntime.ExitError", "END RequestId: r-1"]


async def test_init_that_overruns_is_a_timeout(
    service_factory: ServiceFactory, logs: Logs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.functions.invokers import process

    monkeypatch.setattr(process, "INIT_LIMIT", 0.3)
    source = "import time\ntime.sleep(5)\ndef handler(event, context):\n    return 1\n"
    (tmp_path / "lgw_slow_init.py").write_text(source)
    service = service_factory(function("slowinit", "lgw_slow_init.handler", code_uri=tmp_path, timeout=0.3,
                                       isolation="process"))
    started = time.monotonic()
    result = await service.invoke("slowinit", b"{}", request_id="r-1")
    assert time.monotonic() - started < 0.8
    assert json.loads(result.payload)["errorType"] == "Sandbox.Timedout"
    entries = logs.of("slowinit")
    assert re.fullmatch(r"INIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: invoke\tStatus: timeout", entries[0])
    assert entries[1] == "START RequestId: r-1 Version: $LATEST"
    assert entries[2].endswith(" r-1 Task timed out after 0.30 seconds")


# -- the same documents and log lines as in-process -----------------------------------------------


@pytest.fixture(params=["inprocess", "process"])
def isolation(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_handler_error_document_and_log_match_in_process(
    service_factory: ServiceFactory, logs: Logs, isolation: str
) -> None:
    service = service_factory(function("boom", "nested_boom", isolation=isolation))
    result = await service.invoke("boom", b'{"key": "k"}', request_id="r-1")
    document = json.loads(result.payload)
    assert (document["errorType"], document["errorMessage"], document["requestId"]) == ("KeyError", "'k'", "r-1")
    assert [frame.split(", in ")[1].split("\n")[0] for frame in document["stackTrace"]] == ["nested_boom", "_inner"]
    entries = logs.invocation("boom", "r-1")
    assert entries[1].startswith("[ERROR] KeyError: 'k'\nTraceback (most recent call last):\n\u00a0\u00a0File ")
    assert entries[2] == "END RequestId: r-1"


async def test_print_and_logging_order_matches_in_process(
    service_factory: ServiceFactory, logs: Logs, isolation: str
) -> None:
    service = service_factory(function("chat", "chatty", isolation=isolation))
    assert (await service.invoke("chat", b"{}", request_id="r-1")).payload == b'"ok"'
    entries = logs.invocation("chat", "r-1")
    record = re.compile(r"^\[(WARNING|ERROR)\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\tr-1\t(.*)$")
    assert entries[:4] == ["START RequestId: r-1 Version: $LATEST", "hello from print", "two parts", "to stderr"]
    assert [m.groups() for m in map(record.match, entries[4:6]) if m] == [
        ("WARNING", "a formatted warning"), ("ERROR", "an error")]
    assert entries[6:8] == ["no newline", "END RequestId: r-1"] and len(entries) == 9


@pytest.mark.parametrize(("source", "error_type", "message"), [
    (None, "Runtime.ImportModuleError", "Unable to import module 'lgw_init': No module named 'lgw_init'"),
    ("x = 1\n", "Runtime.HandlerNotFound", "Handler 'handler' missing on module 'lgw_init'"),
    ("def handler(event, context)\n", "Runtime.UserCodeSyntaxError",
     "Syntax error in module 'lgw_init': expected ':' (lgw_init.py, line 1)"),
    ("raise RuntimeError('no database')\n", "RuntimeError", "no database"),
])
async def test_init_errors_match_in_process(
    service_factory: ServiceFactory, logs: Logs, tmp_path: Path, isolation: str,
    source: str | None, error_type: str, message: str,
) -> None:
    if source is not None:
        (tmp_path / "lgw_init.py").write_text(source)
    service = service_factory(function("init", "lgw_init.handler", code_uri=tmp_path, isolation=isolation))
    result = await service.invoke("init", b"{}", request_id="r-1")
    document = json.loads(result.payload)
    assert (result.function_error, document["errorType"], document["errorMessage"], document["requestId"]) == (
        "Unhandled", error_type, message, "")
    entries = logs.of("init")
    assert entries[0].startswith("[WARNING]\t") and "LAMBDA_WARNING: Unhandled exception." in entries[0]
    assert entries[1].startswith(f"[ERROR] {error_type}: {message}\nTraceback (most recent call last):")
    reported = "Runtime.Unknown" if error_type == "RuntimeError" else error_type
    assert entries[2].endswith(f"\tPhase: invoke\tStatus: error\tError Type: {reported}")
    assert entries[3:6] == ["START RequestId: r-1 Version: $LATEST",
                            f"Unknown application error occurred\n{reported}", "END RequestId: r-1"]
    report = REPORT.match(entries[6])
    assert report is not None and (report["init"], report["status"], report["error"]) == (None, "error", reported)


# -- the private /tmp without root ------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="needs root to become another user")
def test_private_tmp_works_for_an_unprivileged_user_through_a_user_namespace() -> None:
    from gateway.functions import sandbox

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read_end)
        try:
            os.setgid(65534)
            os.setuid(65534)
            ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE: setuid cleared it (own /proc files)
            sandbox.private_tmp(1)
            outcome = f"{os.getuid()} {os.listdir('/tmp')}"
            try:
                with open("/tmp/big", "wb") as fh:
                    fh.write(b"x" * 2_000_000)
            except OSError as exc:
                outcome += f" errno {exc.errno}"
        except OSError as exc:
            outcome = f"failed: {exc}"
        os.write(write_end, outcome.encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as reader:
        outcome = reader.read()
    os.waitpid(pid, 0)
    if outcome.startswith("failed: unshare"):
        pytest.skip(f"user namespaces are not available here ({outcome})")
    assert outcome == "65534 [] errno 28"


def test_settings_are_checked_at_load(tmp_path: Path) -> None:
    from gateway.config import GatewayConfig
    from gateway.errors import ConfigError

    def load(**extra: Any) -> GatewayConfig:
        return GatewayConfig.from_mapping({"functions": {"f": {"handler": "a.b", "code_uri": ".", **extra}}},
                                          base_dir=tmp_path)

    assert load().functions["f"].isolation == "process"
    assert (load().functions["f"].idle_timeout, load().functions["f"].ephemeral_storage) == (300.0, 512)
    with pytest.raises(ConfigError, match="ephemeral_storage"):
        load(ephemeral_storage=256)
    with pytest.raises(ConfigError, match="idle_timeout"):
        load(idle_timeout=0)
    assert load(runtime="provided.al2023", handler="anything goes").functions["f"].handler == "anything goes"
    with pytest.raises(ConfigError, match="module.attribute"):
        load(handler="anything goes")
    assert GatewaySettings().region == "us-east-1"


async def test_variables_a_handler_sets_stay_in_its_own_environment(service_factory: ServiceFactory) -> None:
    service = service_factory(function("setter", "set_environ", isolation="process"),
                              function("reader", "environ", isolation="process"))
    assert (await service.invoke("setter", b'{"name": "LGW_MARK", "value": "1"}')).payload == b'"1"'
    assert (await service.invoke("setter", b'{"name": "LGW_MARK"}')).payload == b'"1"'  # warm: still set
    assert (await service.invoke("reader", b'{"names": ["LGW_MARK"]}')).payload == b'{"LGW_MARK": null}'
    assert "LGW_MARK" not in os.environ


async def test_a_result_over_6_mb_is_lambdas_size_error(service_factory: ServiceFactory, logs: Logs) -> None:
    service = service_factory(function("big", "huge", isolation="process"))
    at_limit = await service.invoke("big", json.dumps({"length": 6_291_556 - 2}).encode())
    assert at_limit.function_error is None and len(at_limit.payload) == 6_291_556
    over = await service.invoke("big", json.dumps({"length": 6_291_556 - 1}).encode(), request_id="r-2")
    assert over.payload == (
        b'{"errorMessage":"Response payload size exceeded maximum allowed payload size (6291556 bytes).",'
        b'"errorType":"Function.ResponseSizeTooLarge"}'
    )
    report = REPORT.match(logs.invocation("big", "r-2")[-1])
    assert report is not None and (report["status"], report["error"]) == ("error", "Runtime.ExitError")
    after = await service.invoke("big", b'{"length": 1}')
    assert after.payload == b'"x"' and after.init_duration_ms is not None


async def test_closing_kills_every_environment(service_factory: ServiceFactory) -> None:
    from gateway.errors import InvokeError

    service = service_factory(proc("state", "state"), proc("slow", "sleepy", timeout=10))
    pid = json.loads((await service.invoke("state", b"{}")).payload)["pid"]
    running = asyncio.create_task(service.invoke("slow", b'{"seconds": 5}'))
    await asyncio.sleep(0.3)
    await service.aclose()
    with pytest.raises(InvokeError):
        await running
    await asyncio.sleep(0.2)
    assert not alive(pid)
    with pytest.raises(InvokeError):
        await service.invoke("state", b"{}")


async def test_output_reaches_the_log_while_the_handler_runs(service_factory: ServiceFactory, logs: Logs) -> None:
    service = service_factory(proc("chatter", "slow_chatter"))
    running = asyncio.create_task(service.invoke("chatter", b'{"seconds": 0.6}', request_id="r-1"))
    await asyncio.sleep(0.4)
    assert not running.done() and logs.of("chatter")[-1] == "before the pause"
    await running
    assert logs.invocation("chatter", "r-1")[1:3] == ["before the pause", "after the pause"]


async def test_without_a_private_tmp_each_environment_gets_its_own_tmpdir(
    service_factory: ServiceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(await Zygote.get(), "private_tmp_problem", "not allowed here (test)")
    service = service_factory(proc("tmp", "tmp_file"))
    results = await asyncio.gather(*(service.invoke("tmp", b'{"sleep": 0.3}', request_id=f"r-{i}") for i in (1, 2)))
    first, second = (json.loads(result.payload) for result in results)
    assert first["dir"] != second["dir"] and not first["dir"].startswith("/tmp/lgw")
    assert first["seen"] == second["seen"] == []
    warm = json.loads((await service.invoke("tmp", b"{}", request_id="r-3")).payload)
    assert warm["seen"] in (["r-1"], ["r-2"])
    assert os.path.isdir(first["dir"])
    await service.aclose()
    assert not os.path.exists(first["dir"]) and not os.path.exists(second["dir"])  # removed with them


async def test_a_provisioned_environment_whose_init_fails_is_not_restarted_forever(
    service_factory: ServiceFactory, logs: Logs, tmp_path: Path
) -> None:
    (tmp_path / "lgw_bad_init.py").write_text("raise RuntimeError('no database')\n")
    service = service_factory(function("bad", "lgw_bad_init.handler", code_uri=tmp_path, isolation="process"))
    invoker = service._invokers["bad"]  # noqa: SLF001
    assert isinstance(invoker, ProcessInvoker)
    await invoker.prewarm(1)
    await asyncio.sleep(0.3)
    assert invoker.environments == 0
    assert sum(entry.startswith("INIT_REPORT") for entry in logs.of("bad")) == 1
    assert "\tPhase: init\tStatus: error\tError Type: Runtime.Unknown" in logs.of("bad")[-1]


async def test_a_caller_that_goes_away_during_a_cold_start_leaves_the_environment_warm(
    service_factory: ServiceFactory,
) -> None:
    service = service_factory(proc("state", "state"))
    first = asyncio.create_task(service.invoke("state", b"{}", request_id="r-1"))
    await asyncio.sleep(0)  # the cold start is under way
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.sleep(0.3)
    second = json.loads((await service.invoke("state", b"{}", request_id="r-2")).payload)
    assert second["count"] == 2 and second["seen"] == ["r-1"]  # r-1 ran to its end in the same environment
