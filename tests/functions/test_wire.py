"""The private channel's frames and the service's words for a process that ended (pure code)."""

from __future__ import annotations

import os
import signal
import socket
from typing import Any

import pytest

from gateway.functions import wire
from gateway.functions.invokers.crashes import exit_message, service_error


def test_frames_survive_any_split() -> None:
    frames: list[tuple[bytes, dict[str, Any], bytes]] = [
        (wire.INVOKE, {"id": "r-1", "deadline_ms": 5}, b'{"k": "v"}'), (wire.LOG, {}, "é\n".encode()),
        (wire.RESULT, {"maxrss": 1}, b"x" * 70000)]
    data = b"".join(wire.pack(kind, header or None, body) for kind, header, body in frames)
    got: list[tuple[bytes, dict[str, Any], bytes]] = []

    def on_frame(kind: bytes, header: dict[str, Any], body: bytes) -> None:
        got.append((kind, header, body))

    for size in (1, 7, 9, 1000, len(data)):
        got.clear()
        parser = wire.FrameParser(on_frame)
        for start in range(0, len(data), size):
            parser.feed(data[start:start + size])
        assert got == frames


def test_blocking_reader_and_large_bodies() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        body = b"y" * 200_000
        theirs.sendall(wire.prefix(wire.RESULT, None, len(body)) + body)
        theirs.shutdown(socket.SHUT_WR)
        assert wire.read_frame(ours) == (wire.RESULT, {}, body)
        assert wire.read_frame(ours) is None


@pytest.mark.parametrize(("status", "words"), [
    (3 << 8, "Runtime exited with error: exit status 3"),
    (1 << 8, "Runtime exited with error: exit status 1"),
    (0, "Runtime exited without providing a reason"),
    (signal.SIGKILL, "Runtime exited with error: signal: killed"),
    (signal.SIGSEGV, "Runtime exited with error: signal: segmentation fault"),
    (signal.SIGABRT, "Runtime exited with error: signal: aborted"),
    (None, "Runtime exited without providing a reason"),
])
def test_exit_messages_use_gos_words(status: int | None, words: str) -> None:
    if status is not None and status & 0x7F:
        assert os.WIFSIGNALED(status)
    assert exit_message("r-1", status) == f"RequestId: r-1 Error: {words}"


def test_service_errors_are_compact_with_the_type_first() -> None:
    assert service_error("Runtime.ExitError", "m") == b'{"errorType":"Runtime.ExitError","errorMessage":"m"}'
