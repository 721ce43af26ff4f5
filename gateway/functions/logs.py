"""Function logs: the platform lines (START/END/REPORT), handler output capture, the log sink.

A *log entry* is one CloudWatch log event. The sink, ``log(function_name, entry)``, receives
every entry of every function as it happens; an entry can hold several lines (a multi-line
``logging`` record or an error with its traceback is one event on Lambda, stdout is split into
one event per line). Formats: https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html

In-process handlers share ``sys.stdout``, ``sys.stderr`` and the root logger with the gateway.
While an in-process environment exists, both streams are replaced by a writer that sends what
an environment's thread writes to that environment's log (line-buffered) and passes every
other thread's writes through unchanged; a handler on the root logger formats records made
in environment threads the way Lambda's runtime does. Handlers the gateway adds to the root
logger should carry ``FunctionRecordFilter`` so function records are not printed twice.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import math
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

from gateway.models import InvocationResult

LogSink = Callable[[str, str], None]

#: The Invoke API returns the last 4 KB of the invocation's log (X-Amz-Log-Result).
#: https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_ResponseSyntax
LOG_TAIL_BYTES = 4096


def stderr_sink(function_name: str, entry: str) -> None:
    """The default sink: ``<name> | <line>`` on stderr, for every line of the entry."""
    sys.stderr.write(prefixed(function_name, entry))


def prefixed(function_name: str, entry: str, width: int = 0) -> str:
    """Each line of the entry as ``<name> | <line>``, the name right-aligned in ``width`` (one log event
    may span lines, a traceback; the prefix lets several functions' logs be followed apart)."""
    prefix = f"{function_name:>{width}} | "
    return "".join(prefix + line + "\n" for line in entry.split("\n"))


class LoopWriter:
    """Text for a stream, written by the event loop's thread, one write per loop iteration.

    stderr is line-buffered, so each log entry used to cost its writer a system call: under load,
    START and END+REPORT gave an in-process environment two writes per invocation. Text written
    here from any thread is appended to a buffer, and the first write since the last flush asks
    the loop to flush (``call_soon_threadsafe``), so a burst of invocations goes out in one write.
    Nothing waits long: the loop runs the flush as soon as it is free, within the same
    iteration that answers the invocations' results. With no loop attached (before serving,
    after it, or when the loop is gone) a write goes straight to the stream.

    Whoever writes to the same stream directly calls ``flush()`` first, so the order of lines is
    kept (the gateway's own log handler does: a front's warning about a function error comes
    after that invocation's END and REPORT lines).
    """

    def __init__(self, stream: Callable[[], TextIO]) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._pending: list[str] = []
        self._scheduled = False  # a flush is queued on the loop
        self._loop: asyncio.AbstractEventLoop | None = None
        atexit.register(self.flush)  # whatever a loop that stopped never flushed

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def detach(self) -> None:
        self._loop = None
        self.flush()

    def write(self, text: str) -> None:
        loop = self._loop
        with self._lock:
            self._pending.append(text)
            if loop is not None and self._scheduled:
                return
            self._scheduled = loop is not None
        if loop is None:
            self.flush()
            return
        try:
            loop.call_soon_threadsafe(self.flush)
        except RuntimeError:  # the loop is closed
            self.flush()

    def flush(self) -> None:
        with self._lock:
            self._scheduled = False
            if not self._pending:
                return
            text = "".join(self._pending)
            self._pending.clear()
            try:
                self._stream().write(text)
            except Exception:  # noqa: BLE001 - a broken stream must not fail an invocation or the loop
                pass


# ---------------------------------------------------------------------------------------------
# Platform lines (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html)


def iso_time(epoch: float) -> str:
    """``2024-05-01T12:00:00.123Z``: the UTC timestamp Lambda's log lines use."""
    seconds = int(epoch)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int((epoch - seconds) * 1000):03d}Z"


def start_line(request_id: str, version: str = "$LATEST") -> str:
    return f"START RequestId: {request_id} Version: {version}"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}"


def report_line(
    request_id: str,
    *,
    duration_ms: float,
    billed_ms: int,
    memory_size: int,
    max_memory_mb: int,
    init_ms: float | None = None,
    status: str | None = None,
    error_type: str | None = None,
) -> str:
    """The REPORT line. Fields are tab-separated, each followed by a tab (as Lambda prints it).

    ``Init Duration`` appears on a cold start only; ``Status``/``Error Type`` only when the
    platform ended the invocation (timeout, runtime exit, INIT failure).
    """
    line = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tBilled Duration: {billed_ms} ms\t"
        f"Memory Size: {memory_size} MB\tMax Memory Used: {max_memory_mb} MB\t"
    )
    if init_ms is not None:
        line += f"Init Duration: {init_ms:.2f} ms\t"
    if status is not None:
        line += f"Status: {status}\t"
    if error_type is not None:
        line += f"Error Type: {error_type}\t"
    return line


def end_and_report(
    log: EnvironmentLog, request_id: str, payload: bytes, function_error: str | None, duration_ms: float,
    init_ms: float | None, *, memory_size: int, memory_mb: int, version: str, report_init: bool = True,
    status: str | None = None, error_type: str | None = None,
) -> InvocationResult:
    """Log END and REPORT for an invocation that ended, and its result (both invokers).

    Billed Duration: 1 ms granularity, rounded up, and INIT is billed too (since 2025-08-01:
    https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/)."""
    billed_ms = max(1, math.ceil(duration_ms + ((init_ms or 0.0) if report_init else 0.0)))
    log.emit(end_line(request_id))
    log.emit(report_line(request_id, duration_ms=duration_ms, billed_ms=billed_ms, memory_size=memory_size,
                         max_memory_mb=memory_mb, init_ms=init_ms if report_init else None, status=status,
                         error_type=error_type))
    return InvocationResult(
        payload=payload, function_error=function_error, request_id=request_id, log_tail=log.take_tail(),
        duration_ms=duration_ms, billed_duration_ms=billed_ms, init_duration_ms=init_ms, max_memory_used_mb=memory_mb,
        executed_version=version,
    )


def init_report_line(init_ms: float, *, phase: str, status: str, error_type: str | None = None) -> str:
    """``INIT_REPORT``: Lambda prints it when INIT fails or times out."""
    line = f"INIT_REPORT Init Duration: {init_ms:.2f} ms\tPhase: {phase}\tStatus: {status}"
    return line + (f"\tError Type: {error_type}" if error_type else "")


def timeout_line(request_id: str, timeout: float, now: float) -> str:
    """``<time> <request id> Task timed out after 3.00 seconds``, logged before END."""
    return f"{iso_time(now)} {request_id} Task timed out after {timeout:.2f} seconds"


def init_failure_lines(error_type: str) -> str:
    """What Lambda logs between START and END when INIT failed (one event, two lines)."""
    return f"Unknown application error occurred\n{error_type}"


# ---------------------------------------------------------------------------------------------
# One environment's log


class EnvironmentLog:
    """Everything one execution environment writes, sent to the sink and kept per invocation.

    ``emit`` takes one entry; ``write`` takes raw stream text and emits complete lines. Entries
    since the last ``take_tail`` (INIT output included) form the next invocation's log tail.
    Thread-safety: written by the environment's thread; the event loop thread only emits the
    timeout lines after the environment has been silenced.
    """

    __slots__ = ("function_name", "sink", "request_id", "emitting", "entries", "_partial")

    def __init__(self, function_name: str, sink: LogSink) -> None:
        self.function_name = function_name
        self.sink = sink
        self.request_id = ""
        self.emitting = 0  # the thread calling the sink: what it writes goes to the real stream
        self.entries: list[str] = []
        self._partial = ["", ""]

    def emit(self, entry: str) -> None:
        self.entries.append(entry)
        self.emitting = threading.get_ident()
        try:
            self.sink(self.function_name, entry)
        except Exception:  # noqa: BLE001 - a broken sink must not fail the invocation
            pass
        finally:
            self.emitting = 0

    def write(self, stream: int, text: str) -> None:
        buffered = self._partial[stream] + text
        if "\n" not in buffered:
            self._partial[stream] = buffered
            return
        *lines, self._partial[stream] = buffered.split("\n")
        for line in lines:
            self.emit(line)

    def flush(self) -> None:
        """Emit what is left of unterminated lines (at the end of INIT and of each invocation)."""
        for stream in (0, 1):
            if self._partial[stream]:
                line, self._partial[stream] = self._partial[stream], ""
                self.emit(line)

    def take_tail(self) -> str:
        """The last LOG_TAIL_BYTES bytes of the entries since the previous call, then forget them."""
        entries, self.entries = self.entries, []
        text = "\n".join(entries) + "\n" if entries else ""
        if len(text) * 4 <= LOG_TAIL_BYTES:  # cannot exceed the limit even if all 4-byte UTF-8
            return text
        raw = text.encode()
        return raw[-LOG_TAIL_BYTES:].decode(errors="ignore") if len(raw) > LOG_TAIL_BYTES else text


# ---------------------------------------------------------------------------------------------
# Process-wide capture of sys.stdout, sys.stderr and the root logger


class _Capture:
    """Routes output of registered threads to their EnvironmentLog. Installed while in use."""

    def __init__(self) -> None:
        self.targets: dict[int, EnvironmentLog | None] = {}
        self.users = 0
        self.lock = threading.Lock()
        self.handler = _LambdaLogHandler(self)

    def acquire(self) -> None:
        """Count one more user and make sure the streams and the root handler are in place."""
        with self.lock:
            self.users += 1
            for name, index in (("stdout", 0), ("stderr", 1)):
                if not isinstance(getattr(sys, name), _ThreadAwareStream):
                    setattr(sys, name, _ThreadAwareStream(getattr(sys, name), index, self))
            root = logging.getLogger()
            if self.handler not in root.handlers:
                root.addHandler(self.handler)

    def ensure(self) -> None:
        """Re-wrap sys.stdout/sys.stderr if someone replaced them (pytest's capture does, per test)."""
        if self.users and not (
            isinstance(sys.stdout, _ThreadAwareStream) and isinstance(sys.stderr, _ThreadAwareStream)
        ):
            with self.lock:
                for name, index in (("stdout", 0), ("stderr", 1)):
                    if not isinstance(getattr(sys, name), _ThreadAwareStream):
                        setattr(sys, name, _ThreadAwareStream(getattr(sys, name), index, self))

    def release(self) -> None:
        """Drop one user; the last one restores the streams and removes the root handler."""
        with self.lock:
            self.users -= 1
            if self.users > 0:
                return
            self.users = 0
            for name in ("stdout", "stderr"):
                stream = getattr(sys, name)
                if isinstance(stream, _ThreadAwareStream) and stream.capture is self:
                    setattr(sys, name, stream.wrapped)
            logging.getLogger().removeHandler(self.handler)

    def attach(self, thread_id: int, log: EnvironmentLog) -> None:
        self.targets[thread_id] = log

    def silence(self, thread_id: int) -> None:
        """Drop whatever the thread writes from now on (its environment was discarded)."""
        if thread_id in self.targets:
            self.targets[thread_id] = None

    def detach(self, thread_id: int) -> None:
        self.targets.pop(thread_id, None)


_MISSING: Any = object()


class _ThreadAwareStream:
    """Stands in for sys.stdout/sys.stderr: environment threads write to their log."""

    def __init__(self, wrapped: TextIO, index: int, capture: _Capture) -> None:
        self.wrapped = wrapped
        self.index = index
        self.capture = capture

    def write(self, text: str) -> int:
        thread = threading.get_ident()
        target = self.capture.targets.get(thread, _MISSING)
        if target is _MISSING:
            return self.wrapped.write(text)
        if target is None:
            return len(text)
        if target.emitting == thread:  # the sink itself is writing: let it through
            return self.wrapped.write(text)
        target.write(self.index, text)
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self.wrapped.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


class _LambdaFormatter(logging.Formatter):
    """awslambdaric's text format: ``[LEVEL]\\t<UTC time>Z\\t<request id>\\t<message>``."""

    def __init__(self) -> None:
        super().__init__(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
            "%Y-%m-%dT%H:%M:%S",
        )
        self.converter = time.gmtime  # per instance: the gateway's own formatters keep local time


class _LambdaLogHandler(logging.Handler):
    """Lambda's root-logger handler, for records made in environment threads only."""

    def __init__(self, capture: _Capture) -> None:
        super().__init__()
        self.capture = capture
        self.setFormatter(_LambdaFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        target = self.capture.targets.get(record.thread or 0, _MISSING)
        if target is _MISSING:
            self._last_resort(record)
            return
        if target is None:  # a discarded environment: dropped, like its other output
            return
        record.aws_request_id = target.request_id
        record.tenant_id = None
        try:
            entry = self.format(record)
        except Exception:  # noqa: BLE001 - as logging.Handler does
            self.handleError(record)
            return
        target.emit(entry[:-1] if entry.endswith("\n") else entry)

    def _last_resort(self, record: logging.LogRecord) -> None:
        # Being on the root logger hides logging.lastResort from the gateway's own records:
        # stand in for it when no other handler would have seen this record.
        last = logging.lastResort
        if last is None or record.levelno < last.level:
            return
        logger: logging.Logger | None = logging.getLogger(record.name)
        while logger is not None:
            if any(handler is not self for handler in logger.handlers):
                return
            logger = logger.parent if logger.propagate else None
        last.handle(record)


class FunctionRecordFilter(logging.Filter):
    """Add to the gateway's own logging handlers: drops records made by in-process functions."""

    def filter(self, record: logging.LogRecord) -> bool:
        return (record.thread or 0) not in CAPTURE.targets


CAPTURE = _Capture()
