"""The private channel between the gateway and a built-in Python runtime: length-prefixed frames.

The built-in runtime (``bootstrap.py``) does what a Lambda runtime does over the Runtime API
(https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html), over one Unix stream socket
instead of HTTP: the gateway sends an invocation, the runtime answers with its response or its
error document. The runtime also sends its log output as frames, so that ``print()`` lines and
``logging`` records keep their order and a multi-line record stays one log event, as the
managed runtimes' framed telemetry log does.

A frame is ``kind`` (1 byte), header length and body length (4 bytes each, big-endian), a JSON
header (may be empty) and the body bytes.
"""

from __future__ import annotations

import json
import socket
import struct
from collections.abc import Callable
from typing import Any

PREFIX = struct.Struct(">cII")

# Gateway -> runtime.
INVOKE = b"I"  # header: id, deadline_ms, arn, trace_id, client_context, cognito_identity; body: event

# Runtime -> gateway.
HELLO = b"H"  # header: pid; the first frame of every environment
INIT_DONE = b"D"  # header: ms (INIT duration)
INIT_FAILED = b"F"  # header: ms, type; body: the error document
EXEC_FAILED = b"N"  # header: error (the bootstrap executable could not be started)
STDOUT = b"O"  # body: text written to sys.stdout
STDERR = b"E"  # body: text written to sys.stderr
LOG = b"L"  # body: one complete log event (a logging record, an error with its traceback)
RESULT = b"R"  # body: the response payload
ERROR = b"U"  # body: the error document of a failed invocation

# The template -> gateway, after the runtime process is gone.
EXITED = b"Z"  # header: status (as os.waitpid returns it)


def pack(kind: bytes, header: dict[str, Any] | None = None, body: bytes = b"") -> bytes:
    head = json.dumps(header, separators=(",", ":")).encode() if header else b""
    return PREFIX.pack(kind, len(head), len(body)) + head + body


def prefix(kind: bytes, header: dict[str, Any] | None, body_length: int) -> bytes:
    """The frame without its body, for sending a large body without copying it."""
    head = json.dumps(header, separators=(",", ":")).encode() if header else b""
    return PREFIX.pack(kind, len(head), body_length) + head


Frame = tuple[bytes, dict[str, Any], bytes]


class FrameParser:
    """Incremental parser for the gateway side: feed bytes, get complete frames to ``on_frame``."""

    __slots__ = ("_buffer", "_on_frame")

    def __init__(self, on_frame: Callable[[bytes, dict[str, Any], bytes], None]) -> None:
        self._buffer = bytearray()
        self._on_frame = on_frame

    def feed(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        offset = 0
        size = PREFIX.size
        while len(buffer) - offset >= size:
            kind, head_length, body_length = PREFIX.unpack_from(buffer, offset)
            end = offset + size + head_length + body_length
            if len(buffer) < end:
                break
            start = offset + size
            header = json.loads(buffer[start:start + head_length]) if head_length else {}
            body = bytes(buffer[start + head_length:end])
            offset = end
            self._on_frame(kind, header, body)
        if offset:
            del buffer[:offset]


def read_frame(sock: socket.socket) -> Frame | None:
    """Blocking read of one frame (the runtime side); None at end of stream."""
    head = _read_exactly(sock, PREFIX.size)
    if head is None:
        return None
    kind, head_length, body_length = PREFIX.unpack(head)
    rest = _read_exactly(sock, head_length + body_length) if head_length + body_length else b""
    if rest is None:
        return None
    header = json.loads(rest[:head_length]) if head_length else {}
    return kind, header, rest[head_length:]


def _read_exactly(sock: socket.socket, length: int) -> bytes | None:
    chunk = sock.recv(length)
    if len(chunk) == length or not chunk:
        return chunk or None
    buffer = bytearray(chunk)
    while len(buffer) < length:
        chunk = sock.recv(length - len(buffer))
        if not chunk:
            return None
        buffer += chunk
    return bytes(buffer)
