"""The Lambda Runtime API, served to one execution environment (``runtime = "provided"``, awslambdaric).

https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html. Each environment gets its own
listener on 127.0.0.1 (an ephemeral port, passed as AWS_LAMBDA_RUNTIME_API), so the server
always knows which environment calls. Paths, status codes and bodies follow the Runtime
Interface Emulator's server (aws/aws-lambda-runtime-interface-emulator ``internal/lambda/rapi``):

- ``GET /2018-06-01/runtime/invocation/next`` long-polls (never failed while idle: a runtime
  client exits when it gets an error there) and answers 200 with the event and the
  ``Lambda-Runtime-*`` headers. The first call ends INIT.
- ``POST .../invocation/{id}/response`` and ``.../{id}/error``: 202 ``{"status":"OK"}``; a wrong
  id is 400 ``InvalidRequestID``; a second answer, or one before any event, 403
  ``InvalidStateTransition``; a response over 6 MiB + 100 bytes is 413 ``RequestEntityTooLarge``
  (the invocation then fails with Function.ResponseSizeTooLarge).
- ``POST /2018-06-01/runtime/init/error``: 202 before the first ``/next``, else 403.

The owner (the process invoker's environment) is told about each step; HTTP is handled with h11.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote

import h11

#: RIE ``MaxPayloadSize``, 6 MiB + 100 bytes (``gateway.functions.runtime.MAX_RESPONSE_BYTES``;
#: not imported from there: the functions package imports this module).
MAX_RESPONSE_BYTES = 6_291_556

_PREFIX = "/2018-06-01/runtime/"
_INVOCATION = re.compile(r"^invocation/([^/]+)/(response|error)$")
_ERROR_TYPE = re.compile(r"(Runtime|Function)\.[A-Z][a-zA-Z]+")

STARTED, READY, RUNNING, RESPONSE_SENT, INIT_ERROR = (
    "Started", "Ready", "Running", "RuntimeResponseSentState", "InitError")

Reply = tuple[int, list[tuple[bytes, bytes]], bytes]


def valid_error_type(error_type: str) -> str:
    """The error type the service records for a runtime's ``Lambda-Runtime-Function-Error-Type``.

    RIE ``fatalerror.GetValidRuntimeOrFunctionErrorType``: ``Runtime.X``/``Function.X`` are kept,
    anything else becomes ``Function.Unknown`` (``Function.`` prefix) or ``Runtime.Unknown``.
    """
    if _ERROR_TYPE.search(error_type):
        return error_type
    return "Function.Unknown" if error_type.startswith("Function.") else "Runtime.Unknown"


@dataclass(frozen=True, slots=True)
class Invocation:
    """One event as ``/next`` hands it over."""

    request_id: str
    payload: bytes
    deadline_ms: int
    function_arn: str
    trace_id: str | None = None
    client_context: str | None = None  # JSON text
    cognito_identity: str | None = None  # JSON text

    def headers(self) -> list[tuple[bytes, bytes]]:
        """RIE ``renderInvokeHeaders``: each header only when it has a value."""
        pairs = [
            ("Lambda-Runtime-Aws-Request-Id", self.request_id),
            ("Lambda-Runtime-Trace-Id", self.trace_id),
            ("Lambda-Runtime-Client-Context", self.client_context),
            ("Lambda-Runtime-Cognito-Identity", self.cognito_identity),
            ("Lambda-Runtime-Invoked-Function-Arn", self.function_arn),
            ("Lambda-Runtime-Deadline-Ms", str(self.deadline_ms)),
            ("Content-Type", "application/json"),
        ]
        return [(name.encode(), value.encode()) for name, value in pairs if value]


class RuntimeApiOwner(Protocol):
    """What the server reports to the environment it serves."""

    def api_ready(self) -> None:
        """The runtime called ``/next`` for the first time: INIT is over."""

    def api_response(self, request_id: str, payload: bytes) -> None: ...

    def api_error(self, request_id: str, payload: bytes) -> None: ...

    def api_too_large(self, request_id: str) -> None: ...

    def api_init_error(self, payload: bytes, error_type: str) -> None: ...


def _json_reply(status: int, document: dict[str, str]) -> Reply:
    # Go's json.Encoder: compact, with a trailing newline.
    body = json.dumps(document, separators=(",", ":")).encode() + b"\n"
    return status, [(b"Content-Type", b"application/json")], body


def _forbidden(state: str, target: str) -> Reply:
    message = f"State transition from {state} to {target} failed for runtime. Error: State transition is not allowed"
    return _json_reply(403, {"errorMessage": message, "errorType": "InvalidStateTransition"})


ACCEPTED = _json_reply(202, {"status": "OK"})
INVALID_REQUEST_ID = _json_reply(400, {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"})
TOO_LARGE = _json_reply(413, {
    "errorMessage": f"Exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes).",
    "errorType": "RequestEntityTooLarge",
})
NOT_FOUND: Reply = (404, [(b"Content-Type", b"text/plain; charset=utf-8")], b"404 page not found\n")


class RuntimeApi:
    """One environment's Runtime API listener and the runtime's state machine (RIE ``core/states.go``)."""

    def __init__(self, owner: RuntimeApiOwner) -> None:
        self.owner = owner
        self.state = STARTED
        self.current: Invocation | None = None
        self._pending: Invocation | None = None
        self._waiters: deque[asyncio.Future[Invocation]] = deque()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> str:
        """Listen; returns ``host:port`` for AWS_LAMBDA_RUNTIME_API."""
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0, limit=1 << 20)
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"{host}:{port}"

    def deliver(self, invocation: Invocation) -> None:
        """Hand the next event to the runtime: a parked ``/next`` now, or the next one to come."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(invocation)
                return
        self._pending = invocation

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for waiter in self._waiters:
            waiter.cancel()
        for writer in list(self._writers):
            writer.transport.abort()

    # -- HTTP -----------------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=2 << 20)
        try:
            while True:
                request, body, too_large = await _read_request(conn, reader)
                if request is None:
                    break
                status, headers, payload = await self._dispatch(request, body, too_large)
                headers = [*headers, (b"Content-Length", str(len(payload)).encode())]
                writer.write(conn.send(h11.Response(status_code=status, headers=headers)) or b"")
                writer.write(conn.send(h11.Data(data=payload)) or b"")
                writer.write(conn.send(h11.EndOfMessage()) or b"")
                await writer.drain()
                if too_large or conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    break
                conn.start_next_cycle()
        except (h11.ProtocolError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._writers.discard(writer)
            writer.transport.abort()

    async def _dispatch(self, request: h11.Request, body: bytes, too_large: bool) -> Reply:
        target = unquote(request.target.decode("latin-1").split("?", 1)[0])
        if not target.startswith(_PREFIX):
            return NOT_FOUND
        route, method = target[len(_PREFIX):], request.method
        if route == "invocation/next" and method == b"GET":
            return await self._next()
        if route == "init/error" and method == b"POST":
            return self._init_error(request, body)
        match = _INVOCATION.match(route)
        if match is not None and method == b"POST":
            return self._answer(match[1], match[2], body, too_large)
        return NOT_FOUND

    async def _next(self) -> Reply:
        if self.state == INIT_ERROR:
            return _forbidden(self.state, READY)
        if self.state == RUNNING and self.current is not None:  # RIE: Running.Ready() is allowed
            return 200, self.current.headers(), self.current.payload
        if self.state == STARTED:
            self.state = READY
            self.owner.api_ready()
        self.state = READY
        invocation = self._pending
        if invocation is None:
            waiter: asyncio.Future[Invocation] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            invocation = await waiter
        self._pending = None
        self.state, self.current = RUNNING, invocation
        return 200, invocation.headers(), invocation.payload

    def _answer(self, request_id: str, kind: str, body: bytes, too_large: bool) -> Reply:
        if self.state != RUNNING or self.current is None:
            return _forbidden(self.state, "InvocationResponse" if kind == "response" else "InvocationErrorResponse")
        if request_id != self.current.request_id:
            return INVALID_REQUEST_ID
        self.state = RESPONSE_SENT
        if too_large:
            self.owner.api_too_large(request_id)
            return TOO_LARGE
        if kind == "response":
            self.owner.api_response(request_id, body)
        else:
            self.owner.api_error(request_id, body)
        return ACCEPTED

    def _init_error(self, request: h11.Request, body: bytes) -> Reply:
        if self.state != STARTED:
            return _forbidden(self.state, INIT_ERROR)
        self.state = INIT_ERROR
        error_type = ""
        for name, value in request.headers:
            if name == b"lambda-runtime-function-error-type":
                error_type = value.decode("latin-1")
        self.owner.api_init_error(body, valid_error_type(error_type))
        return ACCEPTED


async def _read_request(conn: h11.Connection, reader: asyncio.StreamReader) -> tuple[h11.Request | None, bytes, bool]:
    """One request and its body; ``too_large`` when the body passed MAX_RESPONSE_BYTES (then unread)."""
    request: h11.Request | None = None
    body = bytearray()
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await reader.read(1 << 16))
        elif isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.Data):
            body += event.data
            if len(body) > MAX_RESPONSE_BYTES:
                return request, b"", True
        elif isinstance(event, h11.EndOfMessage):
            return request, bytes(body), False
        else:  # ConnectionClosed, PAUSED
            return None, b"", False
