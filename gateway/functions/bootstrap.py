"""The built-in Python runtime: what runs inside a process execution environment.

It does what AWS's Python runtime client (awslambdaric ``bootstrap.run``) does, over the
gateway's private channel (``wire.py``) instead of the HTTP Runtime API:

- INIT: the handler module is imported with ``code_uri`` first on ``sys.path``, timed. A failure
  is reported with the same documents and log lines as awslambdaric (the LAMBDA_WARNING, then the
  ``[ERROR]`` entry), then the runtime exits with status 1, as awslambdaric does.
- Then one invocation at a time: the handler gets the JSON-decoded event and a ``LambdaContext``;
  the result is marshalled as awslambdaric marshals it; an exception becomes the
  ``{"errorMessage", "errorType", "requestId", "stackTrace"}`` document, logged as ``[ERROR]``.
- ``sys.stdout``/``sys.stderr`` and the root logger write to the function's log, one event per
  line for streams and one per record for ``logging`` (Lambda's text format:
  https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html).

Anything that ends the process (``sys.exit``, ``os._exit``, a signal) is seen by the gateway,
which reports it as Lambda does (Runtime.ExitError). The error documents and log entries come
from ``runtime.py`` and ``logs.py``, exactly as the in-process invoker makes them.
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import os
import resource
import socket
import sys
import threading
import time
from typing import Any, NoReturn

from gateway.functions import logs, runtime, wire
from gateway.functions.context import ClientContext, CognitoIdentity, LambdaContext

# Frames of the runtime's own code, left out of stack traces (awslambdaric drops bootstrap.py's).
_RUNTIME_FILES = frozenset({__file__, runtime.__file__})

_LOG_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
_request_id = ""


class Channel:
    """The runtime's end of the channel; frames may be sent from any thread of the handler."""

    def __init__(self, sock: socket.socket | None) -> None:
        self.sock = sock  # None until a spare child gets its environment: output goes to fd 2 meanwhile
        self.lock = threading.Lock()

    def send(self, kind: bytes, header: dict[str, Any] | None = None, body: bytes = b"") -> None:
        if self.sock is None:
            os.write(2, body)
            return
        data = wire.pack(kind, header, body) if len(body) < 65536 else None
        with self.lock:
            if data is not None:
                self.sock.sendall(data)
            else:
                self.sock.sendall(wire.prefix(kind, header, len(body)))
                self.sock.sendall(body)


class _ChannelRaw(io.RawIOBase):
    """The raw file under ``sys.stdout``/``sys.stderr``: each flush is one frame of text."""

    def __init__(self, channel: Channel, kind: bytes, fd: int) -> None:
        super().__init__()
        self.channel = channel
        self.kind = kind
        self.fd = fd

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        if chunk:
            self.channel.send(self.kind, None, chunk)
        return len(chunk)

    def fileno(self) -> int:
        return self.fd  # the process's real descriptor: what is written there is logged too

    def isatty(self) -> bool:
        return False


class _LogHandler(logging.Handler):
    """awslambdaric's root-logger handler: one log event per record, with the request id."""

    def __init__(self, channel: Channel) -> None:
        super().__init__()
        self.channel = channel
        self.setFormatter(logging.Formatter(_LOG_FORMAT, "%Y-%m-%dT%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        record.aws_request_id = _request_id
        record.tenant_id = None
        try:
            entry = self.format(record)
        except Exception:  # noqa: BLE001 - as logging.Handler does
            self.handleError(record)
            return
        self.channel.send(wire.LOG, None, (entry[:-1] if entry.endswith("\n") else entry).encode())


def _install_output(channel: Channel) -> None:
    streams = (("stdout", wire.STDOUT, 1, "strict"), ("stderr", wire.STDERR, 2, "backslashreplace"))
    for name, kind, fd, errors in streams:
        raw = _ChannelRaw(channel, kind, fd)
        stream = io.TextIOWrapper(io.BufferedWriter(raw), encoding="utf-8", errors=errors, line_buffering=True)
        setattr(sys, name, stream)
    logging.Formatter.converter = time.gmtime  # awslambdaric sets it for every formatter
    logging.getLogger().addHandler(_LogHandler(channel))


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


_prepared: Channel | None = None


def prepare() -> None:
    """Capture output ahead, before the channel exists (a spare child does it while it waits)."""
    global _prepared
    _prepared = Channel(None)
    _install_output(_prepared)


def run(sock: socket.socket, handler_name: str, code_uri: str, path: list[str]) -> NoReturn:
    """The runtime's main loop: INIT, then invocations until the gateway closes the channel."""
    channel = _prepared
    if channel is None:
        channel = Channel(sock)
        _install_output(channel)
    channel.sock = sock
    handler = _initialise(channel, handler_name, code_uri, path)
    while True:
        frame = wire.read_frame(sock)
        if frame is None:  # the gateway is gone
            _flush()
            os._exit(0)
        _kind, header, body = frame
        _invoke(channel, handler, header, body)


def _initialise(channel: Channel, handler_name: str, code_uri: str, path: list[str]) -> runtime.Handler:
    """INIT. On failure, report it as awslambdaric does and exit with status 1 (``sys.exit(1)``)."""
    sys.path[:] = [code_uri, *path]
    importlib.invalidate_caches()
    start = time.perf_counter()
    try:
        handler = runtime.load_handler(handler_name)
    except runtime.RuntimeFault as fault:
        document, error_type = fault.document(""), fault.error_type
    except Exception as exc:  # noqa: BLE001 - module code may raise anything
        document = runtime.exception_document(exc, "", _RUNTIME_FILES)
        error_type = runtime.UNKNOWN_ERROR
    else:
        _flush()
        channel.send(wire.INIT_DONE, {"ms": (time.perf_counter() - start) * 1000})
        return handler
    init_ms = (time.perf_counter() - start) * 1000
    _flush()
    warning = f"[WARNING]\t{logs.iso_time(time.time())}\t\t{runtime.UNHANDLED_EXCEPTION_WARNING}"
    channel.send(wire.LOG, None, warning.encode())
    channel.send(wire.LOG, None, runtime.error_log_entry(document).encode())
    channel.send(wire.INIT_FAILED, {"ms": init_ms, "type": error_type}, runtime.document_bytes(document))
    sys.exit(1)


def _invoke(channel: Channel, handler: runtime.Handler, header: dict[str, Any], body: bytes) -> None:
    """One invocation, as awslambdaric's ``handle_event_request`` runs it."""
    global _request_id
    request_id = _request_id = header["id"]
    trace_id = header.get("trace_id")
    if trace_id is not None:  # awslambdaric update_xray_env_variable
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    try:
        context = _context(header)
        result = runtime.marshal_response(handler(runtime.unmarshal_event(body), context))
    except runtime.RuntimeFault as fault:
        document = fault.document(request_id)
    except Exception as exc:  # noqa: BLE001 - handlers may raise anything
        document = runtime.exception_document(exc, request_id, _RUNTIME_FILES)
    else:
        _flush()
        channel.send(wire.RESULT, _peak(), result)
        return
    _flush()
    channel.send(wire.LOG, None, runtime.error_log_entry(document).encode())
    channel.send(wire.ERROR, _peak(), runtime.document_bytes(document))


def _peak() -> dict[str, int]:
    """The process's peak resident memory in kB (Max Memory Used), as /proc's VmHWM counts it."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"maxrss": peak // 1024 if sys.platform == "darwin" else peak}


def _context(header: dict[str, Any]) -> LambdaContext:
    """The context object; like awslambdaric it reads the function's settings from os.environ."""
    client_context = identity = None
    if header.get("client_context"):
        client_context = ClientContext(_parse_json(header["client_context"], "Client Context"))
    if header.get("cognito_identity"):
        fields = _parse_json(header["cognito_identity"], "Cognito Identity")
        identity = CognitoIdentity(fields.get("cognitoIdentityId"), fields.get("cognitoIdentityPoolId"))
    environ = os.environ
    return LambdaContext(
        aws_request_id=header["id"],
        function_name=environ.get("AWS_LAMBDA_FUNCTION_NAME", ""),
        function_version=environ.get("AWS_LAMBDA_FUNCTION_VERSION", ""),
        invoked_function_arn=header.get("arn", ""),
        memory_limit_in_mb=environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", ""),
        log_group_name=environ.get("AWS_LAMBDA_LOG_GROUP_NAME", ""),
        log_stream_name=environ.get("AWS_LAMBDA_LOG_STREAM_NAME", ""),
        deadline_ms=int(header.get("deadline_ms") or time.time() * 1000 + header["timeout_ms"]),
        client_context=client_context,
        identity=identity,
    )


def _parse_json(text: str, name: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        message = f"Unable to parse {name} JSON: {exc}"
        raise runtime.RuntimeFault("Runtime.LambdaContextUnmarshalError", message) from exc
    return value if isinstance(value, dict) else {}
