"""The in-process invoker: a function's execution environment is a thread of the gateway.

One environment per function. Its thread owns an asyncio event loop (set as the thread's
current loop, as Lambda's main thread would give ``asyncio.get_event_loop()``), runs INIT once
(imports the handler with ``code_uri`` at the front of ``sys.path``, timed) and then one
invocation at a time. Concurrent invocations wait for it in FIFO order, at most
``gateway.max_queued_requests`` of them; past that, Throttled.

Per warm invocation the event loop thread logs START, hands the job to the environment thread
(one ``SimpleQueue.put``), and the environment thread answers with
``loop.call_soon_threadsafe``; END and REPORT are logged back on the loop thread. A timer on
the loop enforces the timeout: the caller gets Lambda's timeout answer on time, and the thread
that overran is abandoned (asked to stop with an asynchronous exception, never waited for);
the next invocation gets a fresh environment and a fresh INIT.

Sharing one interpreter has limits that process environments (a later issue) do not have:
``os.environ`` holds the variables of the environment that ran last (see ``_SharedEnviron``),
the working directory stays the gateway's, modules of the same name in two functions'
``code_uri`` shadow each other for imports made after INIT, and Max Memory Used is the whole
gateway's peak RSS.
"""

from __future__ import annotations

import asyncio
import collections
import ctypes
import logging
import math
import os
import queue
import secrets
import threading
import time

from gateway.config import FunctionConfig, GatewaySettings
from gateway.errors import InvokeError, Throttled
from gateway.functions import logs, runtime
from gateway.functions.context import ClientContext, LambdaContext, decode_client_context, log_stream_name
from gateway.functions.invokers.interpreter import ENVIRON, max_memory_used_mb, prepare_import
from gateway.functions.logs import CAPTURE, EnvironmentLog, LogSink
from gateway.models import InvocationResult

_logger = logging.getLogger("gateway.functions")

#: Lambda's INIT phase limit. An INIT over it is retried within the invoke phase with the
#: function's timeout, so INIT may take up to max(10 s, timeout) before the invocation fails.
#: https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-ib
INIT_LIMIT = 10.0

# Frames of the runtime's own code, left out of stack traces (awslambdaric drops bootstrap.py's).
_RUNTIME_FILES = frozenset({__file__, runtime.__file__})

_RUNNING, _FINISHING, _TIMED_OUT = 0, 1, 2
_STATE_LOCK = threading.Lock()
SYNC_BUDGET = float(os.environ.get("SYNC_BUDGET", "0.002"))
_announced = False


class _Discarded(BaseException):
    """Raised asynchronously in an environment thread that overran its timeout."""


class _Job:
    """One invocation on its way through an environment.

    ``state`` decides, under ``_STATE_LOCK``, who ends the invocation: the environment thread
    (it finished) or the loop's timer (it timed out). The loser does nothing.
    """

    __slots__ = (
        "payload", "request_id", "trace_id", "client_context", "loop", "future", "timer",
        "state", "environment", "submitted", "started", "start_logged", "init_ms", "done", "outcome",
    )

    def __init__(self, payload: bytes, request_id: str, trace_id: str | None, client_context: str | None,
                 loop: asyncio.AbstractEventLoop, environment: _Environment) -> None:
        self.payload = payload
        self.request_id = request_id
        self.trace_id = trace_id
        self.client_context = client_context
        self.loop = loop
        self.future: asyncio.Future[InvocationResult] = loop.create_future()
        self.timer: asyncio.TimerHandle | None = None
        self.state = _RUNNING
        self.environment = environment
        self.submitted = time.perf_counter()
        self.started: float | None = None  # when the handler phase began (after INIT)
        self.start_logged = False
        self.init_ms: float | None = None  # INIT duration when this is the environment's first invocation
        self.done: threading.Lock | None = None  # held while the loop thread waits in place (fast path)
        self.outcome: _Outcome | None = None

    def claim(self, state: int) -> bool:
        with _STATE_LOCK:
            if self.state != _RUNNING:
                return False
            self.state = state
            return True

    def log_start(self) -> bool:
        """Mark START as logged unless the invocation already ended; True if the caller logs it."""
        with _STATE_LOCK:
            if self.state != _RUNNING:
                return False
            self.start_logged = True
            return True


class _Outcome:
    """What the environment thread hands back; the loop thread turns it into END, REPORT and a result."""

    __slots__ = ("payload", "function_error", "duration_ms", "init_ms", "report_init", "status", "error_type",
                 "note", "keep")

    def __init__(self, payload: bytes, function_error: str | None, duration_ms: float, init_ms: float | None,
                 *, report_init: bool = True, status: str | None = None, error_type: str | None = None,
                 note: str | None = None, keep: bool = True) -> None:
        self.payload = payload
        self.function_error = function_error
        self.duration_ms = duration_ms
        self.init_ms = init_ms
        self.report_init = report_init
        self.status = status
        self.error_type = error_type
        self.note = note
        self.keep = keep




class _Environment:
    """One execution environment: a daemon thread that runs INIT once, then jobs one at a time."""

    def __init__(self, invoker: InProcessInvoker) -> None:
        fn = invoker.function
        self.function = fn
        self.invoker = invoker
        self.jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self.log_stream = log_stream_name(time.time(), secrets.token_hex(16))
        self.variables = runtime.lambda_environment(fn, invoker.settings, self.log_stream)
        self.arn = f"arn:aws:lambda:{invoker.settings.region}:{invoker.settings.account_id}:function:{fn.name}"
        self.log = EnvironmentLog(fn.name, invoker.sink)
        self.handler: runtime.Handler | None = None
        self.init_ms: float | None = None  # set by INIT, reported by the first invocation
        self.alive = True
        self.fast = False
        self.thread = threading.Thread(target=self._run, name=f"lambda:{fn.name}", daemon=True)
        self.thread.start()

    # -- loop thread ----------------------------------------------------------------------

    def discard(self) -> None:
        """Abandon the environment: silence its thread, stop it if it ever returns, never wait."""
        self.alive = False
        ident = self.thread.ident or 0
        CAPTURE.silence(ident)
        ENVIRON.release(self)
        self.jobs.put(None)
        set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
        if set_async_exc(ctypes.c_ulong(ident), ctypes.py_object(_Discarded)) > 1:
            set_async_exc(ctypes.c_ulong(ident), None)

    def shutdown(self) -> None:
        """End the environment after its current job (the gateway is closing)."""
        self.alive = False
        ENVIRON.release(self)
        self.jobs.put(None)

    # -- environment thread -----------------------------------------------------------------

    def _run(self) -> None:
        ident = threading.get_ident()
        CAPTURE.attach(ident, self.log)
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            while self.alive:
                job = self.jobs.get()
                if job is None:
                    break
                self._serve(job)
        except _Discarded:
            pass
        except BaseException:  # noqa: BLE001 - a bug here must not reach the gateway; the timer answers
            self.alive = False
            _logger.exception("in-process environment of %r stopped unexpectedly", self.function.name)
        finally:
            CAPTURE.detach(ident)
            try:
                loop.close()
            except Exception:  # noqa: BLE001 - e.g. a handler left the loop running when stopped
                pass

    def _serve(self, job: _Job) -> None:
        if self.handler is None:
            failure = self._initialise(job)
            if failure is not None:
                self.alive = False
                if job.claim(_FINISHING):
                    self.invoker.post(job, failure)
                return
            self.invoker.post_init_done(job)
        outcome = self._invoke(job)
        if outcome is not None:
            self.invoker.post(job, outcome)

    def _initialise(self, job: _Job) -> _Outcome | None:
        """INIT: import the handler. On failure, log as Lambda does and return the invocation's outcome."""
        ENVIRON.activate(self, self.variables, None)
        self.log.request_id = ""
        start = time.perf_counter()
        prepare_import(self.function)
        try:
            self.handler = runtime.load_handler(self.function.handler)
            self.init_ms = (time.perf_counter() - start) * 1000
            self.log.flush()
            if job.log_start():
                self.log.emit(logs.start_line(job.request_id))
            return None
        except runtime.RuntimeFault as fault:
            document = fault.document("")
            payload, error_type = runtime.document_bytes(document), fault.error_type
        except SystemExit as exc:
            document = None
            payload, error_type = runtime.exit_payload(job.request_id, exc.code), runtime.EXIT_ERROR
        except Exception as exc:  # noqa: BLE001 - module code may raise anything
            document = runtime.exception_document(exc, "", _RUNTIME_FILES)
            payload, error_type = runtime.document_bytes(document), runtime.UNKNOWN_ERROR
        init_ms = (time.perf_counter() - start) * 1000
        self.log.flush()
        if document is not None:
            self.log.emit(f"[WARNING]\t{logs.iso_time(time.time())}\t\t{runtime.UNHANDLED_EXCEPTION_WARNING}")
            self.log.emit(runtime.error_log_entry(document))
        self.log.emit(logs.init_report_line(init_ms, phase="invoke", status="error", error_type=error_type))
        if job.log_start():
            self.log.emit(logs.start_line(job.request_id))
        duration_ms = (time.perf_counter() - job.submitted) * 1000
        return _Outcome(payload, "Unhandled", duration_ms, init_ms, report_init=False, status="error",
                        error_type=error_type, note=logs.init_failure_lines(error_type), keep=False)

    def _invoke(self, job: _Job) -> _Outcome | None:
        """Run the handler once, as awslambdaric's handle_event_request does. None if timed out meanwhile."""
        handler = self.handler
        if handler is None:  # pragma: no cover - _serve runs INIT first
            return None
        request_id = job.request_id
        self.log.request_id = request_id
        ENVIRON.activate(self, self.variables, job.trace_id)
        job.init_ms, self.init_ms = self.init_ms, None
        note = error_type = status = None
        error_entry = ""
        keep = True
        job.started = started = time.perf_counter()
        try:
            context = self._context(job, int(time.time() * 1000) + int(self.function.timeout * 1000))
            payload = runtime.marshal_response(handler(runtime.unmarshal_event(job.payload), context))
            function_error = None
        except runtime.RuntimeFault as fault:
            payload, function_error, error_entry = self._fault(fault.document(request_id))
        except SystemExit as exc:
            if isinstance(exc.code, str):  # the interpreter prints such an exit message to stderr
                self.log.emit(exc.code)
            payload, function_error, keep = runtime.exit_payload(request_id, exc.code), "Unhandled", False
            note = f"{runtime.exit_message(request_id, exc.code)}\n{runtime.EXIT_ERROR}"
            status, error_type = "error", runtime.EXIT_ERROR
        except Exception as exc:  # noqa: BLE001 - handlers may raise anything
            payload, function_error, error_entry = self._fault(
                runtime.exception_document(exc, request_id, _RUNTIME_FILES))
        duration_ms = (time.perf_counter() - started) * 1000
        if not job.claim(_FINISHING):
            return None
        self.log.flush()
        if function_error is not None and note is None:
            self.log.emit(error_entry)
        elif len(payload) > runtime.MAX_RESPONSE_BYTES:
            # The Runtime API refuses the response and the runtime exits (recorded REPORTs say ExitError).
            payload, function_error, keep = runtime.oversize_payload(), "Unhandled", False
            status, error_type = "error", runtime.EXIT_ERROR
        if not keep:
            self.alive = False
        return _Outcome(payload, function_error, duration_ms, job.init_ms, status=status, error_type=error_type,
                        note=note, keep=keep)

    @staticmethod
    def _fault(document: runtime.ErrorDocument) -> tuple[bytes, str, str]:
        return runtime.document_bytes(document), "Unhandled", runtime.error_log_entry(document)

    def _context(self, job: _Job, deadline_ms: int) -> LambdaContext:
        client_context = None
        if job.client_context is not None:
            try:
                client_context = ClientContext(decode_client_context(job.client_context))
            except ValueError as exc:
                raise runtime.RuntimeFault(
                    "Runtime.LambdaContextUnmarshalError", f"Unable to parse Client Context JSON: {exc}") from exc
        fn = self.function
        return LambdaContext(
            aws_request_id=job.request_id,
            function_name=fn.name,
            function_version="$LATEST",
            invoked_function_arn=self.arn,
            memory_limit_in_mb=str(fn.memory_size),
            log_group_name=f"/aws/lambda/{fn.name}",
            log_stream_name=self.log_stream,
            deadline_ms=deadline_ms,
            client_context=client_context,
        )


class InProcessInvoker:
    """Runs one function's invocations in-process (``isolation = "inprocess"``).

    Satisfies ``gateway.types.Invoker``. ``sink`` receives the function's log entries.
    """

    def __init__(self, function: FunctionConfig, settings: GatewaySettings, *, log: LogSink) -> None:
        self.function = function
        self.settings = settings
        self.sink = log
        self._environment: _Environment | None = None
        self._busy = False
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._captured = False
        self._closed = False

    async def invoke(
        self, payload: bytes, *, request_id: str, trace_id: str | None = None, client_context: str | None = None
    ) -> InvocationResult:
        """Invoke once. Function errors and timeouts are results; raises Throttled when the queue is full."""
        if self._closed:
            raise InvokeError(f"function {self.function.name!r} is shut down")
        if self._busy:
            await self._wait_turn()
        else:
            self._busy = True
        loop = asyncio.get_running_loop()
        environment = self._environment
        if environment is None or not environment.alive:
            environment = self._environment = self._start_environment()
        job = _Job(payload, request_id, trace_id, client_context, loop, environment)
        if environment.handler is not None:
            job.timer = loop.call_later(self.function.timeout, self._expire, job)
            job.start_logged = True
            environment.log.emit(logs.start_line(request_id))
        else:
            job.timer = loop.call_later(max(INIT_LIMIT, self.function.timeout), self._expire, job)
        if SYNC_BUDGET and environment.fast:
            job.done = threading.Lock()
            job.done.acquire()
            environment.jobs.put(job)
            if job.done.acquire(timeout=SYNC_BUDGET) or self._stop_waiting(job):
                self._finish(job, job.outcome)  # type: ignore[arg-type]
        else:
            environment.jobs.put(job)
        return await job.future

    @staticmethod
    def _stop_waiting(job: _Job) -> bool:
        with _STATE_LOCK:
            if job.outcome is not None:
                job.done.acquire()  # type: ignore[union-attr]
                return True
            job.done = None
            return False

    async def aclose(self) -> None:
        """Refuse new invocations, fail the waiting ones, and let the environment end (never waited for)."""
        self._closed = True
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(InvokeError(f"function {self.function.name!r} is shut down"))
        if self._environment is not None:
            self._environment.shutdown()
            self._environment = None
        if self._captured:
            self._captured = False
            CAPTURE.release()

    # -- the queue ----------------------------------------------------------------------------

    async def _wait_turn(self) -> None:
        if len(self._waiters) >= self.settings.max_queued_requests:
            raise Throttled(
                f"function {self.function.name!r} is busy and {len(self._waiters)} invocations are already "
                "waiting for its in-process environment (gateway.max_queued_requests)"
            )
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # our turn had come: hand it on
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
            raise

    def _release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._busy = False

    # -- environments ---------------------------------------------------------------------------

    def _start_environment(self) -> _Environment:
        global _announced
        if not self._captured:
            self._captured = True
            CAPTURE.acquire()
        if not _announced:
            _announced = True
            _logger.warning(
                "in-process functions share one interpreter with the gateway: os.environ, the working "
                "directory, sys.modules and the root logger are shared, and memory is the gateway's"
            )
        return _Environment(self)

    # -- completion (loop thread) -------------------------------------------------------------------

    def post(self, job: _Job, outcome: _Outcome) -> None:
        """From the environment thread: hand the outcome to the loop."""
        job.environment.fast = outcome.duration_ms < 1.0
        with _STATE_LOCK:
            if job.done is not None:
                job.outcome = outcome
                job.done.release()
                return
        try:
            job.loop.call_soon_threadsafe(self._finish, job, outcome)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass

    def post_init_done(self, job: _Job) -> None:
        """From the environment thread: INIT succeeded, the handler's timeout starts now."""
        try:
            job.loop.call_soon_threadsafe(self._restart_timer, job)
        except RuntimeError:
            pass

    def _restart_timer(self, job: _Job) -> None:
        if job.state == _RUNNING and job.timer is not None:
            job.timer.cancel()
            job.timer = job.loop.call_later(self.function.timeout, self._expire, job)

    def _finish(self, job: _Job, outcome: _Outcome) -> None:
        if job.timer is not None:
            job.timer.cancel()
        environment = job.environment
        if not outcome.keep and self._environment is environment:
            self._environment = None
        log = environment.log
        if outcome.note is not None:
            log.emit(outcome.note)
        result = self._report(job, outcome.payload, outcome.function_error, outcome.duration_ms, outcome.init_ms,
                              report_init=outcome.report_init, status=outcome.status, error_type=outcome.error_type)
        self._release()
        if not job.future.done():
            job.future.set_result(result)

    def _expire(self, job: _Job) -> None:
        """The timer: answer the caller with Lambda's timeout result and abandon the environment."""
        if not job.claim(_TIMED_OUT):
            return  # the environment finished at the last moment; its result is on its way
        environment = job.environment
        environment.discard()
        if self._environment is environment:
            self._environment = None
        now = time.perf_counter()
        log, request_id, timeout = environment.log, job.request_id, self.function.timeout
        init_ms: float | None = None
        if job.started is None:  # still in INIT
            duration_ms = (now - job.submitted) * 1000
            log.emit(logs.init_report_line(duration_ms, phase="invoke", status="timeout"))
        else:
            duration_ms = min((now - job.started) * 1000, timeout * 1000)
            init_ms = job.init_ms
        if not job.start_logged:
            log.emit(logs.start_line(request_id))
        log.emit(logs.timeout_line(request_id, timeout, time.time()))
        result = self._report(job, runtime.timeout_payload(request_id, timeout), "Unhandled", duration_ms, init_ms,
                              status="timeout")
        self._release()
        if not job.future.done():
            job.future.set_result(result)

    def _report(self, job: _Job, payload: bytes, function_error: str | None, duration_ms: float,
                init_ms: float | None, *, report_init: bool = True, status: str | None = None,
                error_type: str | None = None) -> InvocationResult:
        """Log END and REPORT and build the result. Billing includes INIT (since 2025-08-01).

        https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html (INIT billing),
        1 ms granularity, rounded up.
        """
        request_id = job.request_id
        billed_ms = max(1, math.ceil(duration_ms + ((init_ms or 0.0) if report_init else 0.0)))
        memory_mb = max_memory_used_mb()
        log = job.environment.log
        log.emit(logs.end_line(request_id))
        log.emit(logs.report_line(
            request_id, duration_ms=duration_ms, billed_ms=billed_ms, memory_size=self.function.memory_size,
            max_memory_mb=memory_mb, init_ms=init_ms if report_init else None, status=status,
            error_type=error_type,
        ))
        return InvocationResult(
            payload=payload, function_error=function_error, request_id=request_id, log_tail=log.take_tail(),
            duration_ms=duration_ms, billed_duration_ms=billed_ms, init_duration_ms=init_ms,
            max_memory_used_mb=memory_mb,
        )


