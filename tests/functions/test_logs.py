"""Log entry formats and the per-environment log (pure parts)."""

from __future__ import annotations

import pytest

from gateway.functions import logs
from tests.functions.conftest import WriteRecorder


def test_report_line_with_every_field() -> None:
    assert logs.report_line(
        "r-1", duration_ms=1234.567, billed_ms=1360, memory_size=1024, max_memory_mb=88, init_ms=120.004,
        status="error", error_type="Runtime.ExitError",
    ) == (
        "REPORT RequestId: r-1\tDuration: 1234.57 ms\tBilled Duration: 1360 ms\tMemory Size: 1024 MB\t"
        "Max Memory Used: 88 MB\tInit Duration: 120.00 ms\tStatus: error\tError Type: Runtime.ExitError\t"
    )


def test_platform_lines() -> None:
    assert logs.start_line("r") == "START RequestId: r Version: $LATEST"
    assert logs.end_line("r") == "END RequestId: r"
    assert logs.init_report_line(3.456, phase="invoke", status="timeout") == (
        "INIT_REPORT Init Duration: 3.46 ms\tPhase: invoke\tStatus: timeout"
    )
    assert logs.timeout_line("r", 3, 1_700_000_000.5) == "2023-11-14T22:13:20.500Z r Task timed out after 3.00 seconds"
    assert logs.iso_time(0.0999) == "1970-01-01T00:00:00.099Z"


def test_environment_log_splits_stream_text_into_lines() -> None:
    seen: list[tuple[str, str]] = []
    log = logs.EnvironmentLog("fn", lambda name, entry: seen.append((name, entry)))
    log.write(0, "a")
    log.write(0, "b\nc\n\nd")
    log.write(1, "err")
    assert seen == [("fn", "ab"), ("fn", "c"), ("fn", "")]
    log.flush()
    assert seen[3:] == [("fn", "d"), ("fn", "err")]
    assert log.take_tail() == "ab\nc\n\nd\nerr\n"
    assert log.take_tail() == ""


def test_log_tail_keeps_the_last_4096_bytes() -> None:
    log = logs.EnvironmentLog("fn", lambda name, entry: None)
    log.emit("é" * 3000)  # 6000 bytes
    tail = log.take_tail()
    assert len(tail.encode()) <= 4096 and tail.endswith("é\n") and set(tail[:-1]) == {"é"}


def test_a_failing_sink_does_not_fail_the_function() -> None:
    def broken(name: str, entry: str) -> None:
        raise OSError("disk full")

    log = logs.EnvironmentLog("fn", broken)
    log.emit("line")
    assert log.take_tail() == "line\n"


def test_stderr_sink_prefixes_every_line(capsys: pytest.CaptureFixture[str]) -> None:
    logs.stderr_sink("fn", "[ERROR] E: m\nTraceback (most recent call last):")
    assert capsys.readouterr().err == "fn | [ERROR] E: m\nfn | Traceback (most recent call last):\n"


def test_loop_writer_batches_thread_writes_into_one_stream_write() -> None:
    """LoopWriter: lines written from other threads while the loop is busy go out in one write, made
    by the loop; without a loop, and after detach, writes go straight to the stream."""
    import asyncio
    import threading

    from gateway.functions.logs import LoopWriter

    stream = WriteRecorder()
    writer = LoopWriter(lambda: stream)
    writer.write("before\n")
    assert stream.calls == [("MainThread", "before\n")]

    async def main() -> None:
        writer.attach(asyncio.get_running_loop())
        threads = [threading.Thread(target=writer.write, args=(f"line {i}\n",), name=f"env-{i}") for i in range(3)]
        for thread in threads:  # the loop does not run meanwhile: all three wait for one flush
            thread.start()
            thread.join()
        assert len(stream.calls) == 1
        await asyncio.sleep(0)
        writer.write("on the loop\n")
        writer.detach()  # flushes what is pending

    asyncio.run(main())
    assert stream.calls == [("MainThread", "before\n"), ("MainThread", "line 0\nline 1\nline 2\n"),
                             ("MainThread", "on the loop\n")]
    writer.write("after\n")
    assert stream.calls[-1] == ("MainThread", "after\n")
