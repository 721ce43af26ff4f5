"""An execution environment that is a thread of the gateway (used by the in-process invoker).

The thread owns an asyncio event loop, set as its current loop (what Lambda's main thread
gives ``asyncio.get_event_loop()``), runs INIT once (imports the handler with ``code_uri`` at
the front of ``sys.path``, timed) and then jobs one at a time, each the way awslambdaric's
``handle_event_request`` runs an invocation. The invoker (the ``EnvironmentOwner``) decides
when a job ends: the thread finished it, or the owner's timer expired first (``Job.claim``).

Jobs are queued in the environment's ``jobs`` queue as they arrive, so under load the thread
runs them back to back without a round trip to the event loop between them. It logs each
job's START when the job starts and END and REPORT as soon as it ends (so the log keeps
Lambda's order), and hands the result to the owner (``EnvironmentOwner.post``). A job still
queued can be taken back by the owner (``Job.withdraw``, ``Job.move``) as long as the thread
has not begun it (``Job.begin``): all three happen under one lock.
"""

from __future__ import annotations

import asyncio
import collections
import ctypes
import logging
import queue
import secrets
import threading
import time
from typing import Protocol

from gateway.config import FunctionConfig, GatewaySettings
from gateway.functions import logs, runtime
from gateway.functions.context import ClientContext, LambdaContext, decode_client_context, log_stream_name
from gateway.functions.invokers.interpreter import ENVIRON, init_lock, max_memory_used_mb, prepare_import
from gateway.functions.logs import CAPTURE, EnvironmentLog, LogSink
from gateway.models import InvocationResult

_logger = logging.getLogger("gateway.functions")

# Frames of the runtime's own code, left out of stack traces (awslambdaric drops bootstrap.py's).
_RUNTIME_FILES = frozenset({__file__, runtime.__file__})

RUNNING, FINISHING, TIMED_OUT, QUEUED, WITHDRAWN = 0, 1, 2, 3, 4
_STATE_LOCK = threading.Lock()


class Discarded(BaseException):
    """Raised asynchronously in an environment thread that overran its timeout."""


class Outcome:
    """What the environment thread hands back; the owner turns it into END, REPORT and a result."""

    __slots__ = ("payload", "function_error", "duration_ms", "init_ms", "report_init", "status", "error_type",
                 "note", "keep")

    def __init__(self, payload: bytes, function_error: str | None, duration_ms: float, init_ms: float | None,
                 *, report_init: bool = True, status: str | None = None, error_type: str | None = None,
                 note: str | None = None, keep: bool = True) -> None:
        self.payload = payload
        self.function_error = function_error
        self.duration_ms = duration_ms
        self.init_ms = init_ms  # INIT duration, on the environment's first invocation only
        self.report_init = report_init  # False after a failed INIT: REPORT then has no Init Duration
        self.status = status  # REPORT's Status, when the platform ended the invocation
        self.error_type = error_type
        self.note = note  # a platform log entry to write before END
        self.keep = keep  # False: the runtime is gone, the next invocation needs a new environment


class Job:
    """One invocation on its way through an environment.

    ``state`` decides, under a lock, who does what: a QUEUED job is begun by its environment's
    thread (RUNNING), or withdrawn by the owner (its caller went away: WITHDRAWN), or moved by
    the owner to another environment (still QUEUED, ``environment`` changed). A RUNNING job is
    ended by the environment thread (it finished: FINISHING) or by the owner's timer
    (TIMED_OUT). The loser does nothing.
    """

    __slots__ = (
        "payload", "request_id", "trace_id", "client_context", "loop", "future", "state",
        "environment", "begun", "started", "start_logged", "init_ms", "invoked_arn",
    )

    def __init__(self, payload: bytes, request_id: str, trace_id: str | None, client_context: str | None,
                 loop: asyncio.AbstractEventLoop, environment: ThreadEnvironment,
                 invoked_arn: str | None = None) -> None:
        self.invoked_arn = invoked_arn  # the ARN the caller used (qualified or not); None: the function's
        self.payload = payload
        self.request_id = request_id
        self.trace_id = trace_id
        self.client_context = client_context
        self.loop = loop
        self.future: asyncio.Future[object] = loop.create_future()
        self.state = QUEUED
        self.environment = environment
        self.begun = time.perf_counter()  # when the environment took it up (INIT, if cold, starts then)
        self.started: float | None = None  # when the handler phase began (after INIT)
        self.start_logged = False
        self.init_ms: float | None = None

    def begin(self, environment: ThreadEnvironment) -> bool:
        """From the environment thread: take the job up unless it was withdrawn or moved elsewhere."""
        with _STATE_LOCK:
            if self.state != QUEUED or self.environment is not environment:
                return False
            self.state = RUNNING
            self.begun = time.perf_counter()
            return True

    def withdraw(self) -> bool:
        """From the owner: drop a job not begun yet (its caller went away). False if it has begun."""
        with _STATE_LOCK:
            if self.state != QUEUED:
                return False
            self.state = WITHDRAWN
            return True

    def move(self, environment: ThreadEnvironment) -> bool:
        """From the owner: send a job not begun yet to ``environment`` instead. False if it has begun."""
        with _STATE_LOCK:
            if self.state != QUEUED:
                return False
            self.environment = environment
            return True

    def claim(self, state: int) -> bool:
        """Move from RUNNING to ``state``; False if the invocation has already been ended."""
        with _STATE_LOCK:
            if self.state != RUNNING:
                return False
            self.state = state
            return True

    def log_start(self) -> bool:
        """Mark START as logged unless the invocation already ended; True if the caller logs it."""
        with _STATE_LOCK:
            if self.state != RUNNING:
                return False
            self.start_logged = True
            return True


class Prewarm:
    """A request to run INIT ahead of any invocation (provisioned concurrency).

    ``future`` gets True when the handler is loaded, False when INIT failed.
    """

    __slots__ = ("loop", "future")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future: asyncio.Future[bool] = loop.create_future()

    def finish(self, loaded: bool) -> None:
        """From the environment thread."""
        try:
            self.loop.call_soon_threadsafe(_set_result, self.future, loaded)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass


def _set_result(future: asyncio.Future[bool], value: bool) -> None:
    if not future.done():
        future.set_result(value)


class EnvironmentOwner(Protocol):
    """What an environment needs from the invoker that owns it."""

    function: FunctionConfig
    settings: GatewaySettings
    sink: LogSink

    def post(self, job: Job, result: InvocationResult, keep: bool) -> None:
        """From the environment thread: the job's result (END and REPORT are logged). ``keep`` is
        False when the environment has ended (the jobs queued behind it need a new one)."""

    def init_limit(self) -> float:
        """How long INIT may take within an invocation (seconds)."""
        ...


class ThreadEnvironment:
    """One execution environment: a daemon thread that runs INIT once, then jobs one at a time."""

    def __init__(self, owner: EnvironmentOwner, *, initialization_type: str = "on-demand",
                 previous: ThreadEnvironment | None = None) -> None:
        fn = owner.function
        self.function = fn
        self.owner = owner
        self.jobs: queue.SimpleQueue[Job | Prewarm | None] = queue.SimpleQueue()
        self.log_stream = log_stream_name(time.time(), secrets.token_hex(16), fn.version)
        self.variables = runtime.lambda_environment(
            fn, owner.settings, self.log_stream, initialization_type=initialization_type)
        self.arn = f"arn:aws:lambda:{owner.settings.region}:{owner.settings.account_id}:function:{fn.name}"
        self.log = EnvironmentLog(fn.name, owner.sink)
        self.handler: runtime.Handler | None = None
        self.init_ms: float | None = None  # set by INIT, reported by the first invocation
        self.alive = True
        # The job being run and when its current phase (INIT, then the handler) must end
        # (perf_counter), or None between jobs. Written by the thread, read by the owner's timer.
        self.running: tuple[Job, float] | None = None
        self.submitted: collections.deque[Job] = collections.deque()  # owner's: queued or running here
        self.timer: asyncio.TimerHandle | None = None  # owner's: the timeout watch
        self.previous = previous  # a retired environment whose invocation must end before this one starts
        self.finished = threading.Event()  # set when this environment runs nothing more
        self.thread = threading.Thread(target=self._run, name=f"lambda:{fn.name}", daemon=True)
        self.thread.start()

    # -- called from the loop thread ------------------------------------------------------------

    def discard(self) -> None:
        """Abandon the environment: silence its thread, stop it if it ever returns, never wait."""
        self.alive = False
        self.finished.set()
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        ident = self.thread.ident or 0
        CAPTURE.silence(ident)
        ENVIRON.release(self)
        self.jobs.put(None)
        set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
        if set_async_exc(ctypes.c_ulong(ident), ctypes.py_object(Discarded)) > 1:
            set_async_exc(ctypes.c_ulong(ident), None)

    def shutdown(self) -> None:
        """End the environment after its current job (the gateway is closing)."""
        self.alive = False
        ENVIRON.release(self)
        self.jobs.put(None)

    # -- the environment thread -----------------------------------------------------------------

    def _run(self) -> None:
        ident = threading.get_ident()
        CAPTURE.attach(ident, self.log)
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            if self.previous is not None:  # hot reload: the retired environment's invocation ends first
                self.previous.finished.wait()
                self.previous = None
            while self.alive:
                job = self.jobs.get()
                if job is None:
                    break
                if isinstance(job, Prewarm):
                    job.finish(self._prewarm())
                else:
                    self._serve(job)
        except Discarded:
            pass
        except BaseException:  # noqa: BLE001 - a bug here must not reach the gateway; the timer answers
            self.alive = False
            _logger.exception("in-process environment of %r stopped unexpectedly", self.function.name)
        finally:
            self.running = None
            self.finished.set()
            CAPTURE.detach(ident)
            # An environment that ends on its own (INIT failed, the runtime exited) gives os.environ back.
            ENVIRON.release(self)
            try:
                loop.close()
            except Exception:  # noqa: BLE001 - e.g. a handler left the loop running when stopped
                pass

    def _serve(self, job: Job) -> None:
        if not job.begin(self):
            return  # withdrawn, or moved to another environment
        if self.handler is None:
            self.running = (job, job.begun + self.owner.init_limit())
            failure = self._initialise(job)
            if failure is not None:
                self.alive = False
                self.running = None
                if job.claim(FINISHING):
                    self._complete(job, failure)
                return
        elif job.log_start():
            self.log.emit(logs.start_line(job.request_id, self.function.version))
        outcome = self._invoke(job)
        self.running = None
        if outcome is not None:
            self._complete(job, outcome)

    def _complete(self, job: Job, outcome: Outcome) -> None:
        """Log END and REPORT (one write) and hand the result to the owner."""
        if outcome.note is not None:
            self.log.emit(outcome.note)
        result = self.report(job, outcome.payload, outcome.function_error, outcome.duration_ms, outcome.init_ms,
                             report_init=outcome.report_init, status=outcome.status,
                             error_type=outcome.error_type)
        self.owner.post(job, result, outcome.keep)

    def report(self, job: Job, payload: bytes, function_error: str | None, duration_ms: float,
               init_ms: float | None, *, report_init: bool = True, status: str | None = None,
               error_type: str | None = None) -> InvocationResult:
        """Log END and REPORT and build the result (the owner's timer calls it too, for a timeout)."""
        return logs.end_and_report(self.log, job.request_id, payload, function_error, duration_ms, init_ms,
                                   memory_size=self.function.memory_size, memory_mb=max_memory_used_mb(),
                                   version=self.function.version, report_init=report_init, status=status,
                                   error_type=error_type)

    def _load(self) -> runtime.Handler:
        """Import the handler afresh. INITs of handlers with the same top-level module take turns:
        each drops the module from sys.modules first, so two at once (two versions of one function,
        say) would see each other's half-imported module."""
        with init_lock(self.function):
            prepare_import(self.function)
            return runtime.load_handler(self.function.handler)

    def _initialise(self, job: Job) -> Outcome | None:
        """INIT: import the handler. On failure, log as Lambda does and return the invocation's outcome.

        Lambda logs the runtime's warning and error, ``INIT_REPORT ... Status: error``, then
        START, ``Unknown application error occurred`` and the error type, END and REPORT; the
        answer is the runtime's init error document (``requestId`` is empty: it is posted to
        ``/runtime/init/error``, before any invocation).
        """
        ENVIRON.activate(self, self.variables, None)
        self.log.request_id = ""
        start = time.perf_counter()
        try:
            self.handler = self._load()
            self.init_ms = (time.perf_counter() - start) * 1000
            self.log.flush()
            if job.log_start():
                self.log.emit(logs.start_line(job.request_id, self.function.version))
            return None
        except (runtime.RuntimeFault, SystemExit, Exception) as exc:  # noqa: BLE001 - module code may raise anything
            payload, error_type, init_ms = self._init_failed(exc, start, job.request_id, phase="invoke")
        if job.log_start():
            self.log.emit(logs.start_line(job.request_id, self.function.version))
        duration_ms = (time.perf_counter() - job.begun) * 1000
        return Outcome(payload, "Unhandled", duration_ms, init_ms, report_init=False, status="error",
                       error_type=error_type, note=logs.init_failure_lines(error_type), keep=False)

    def _init_failed(
        self, exc: BaseException, start: float, request_id: str, *, phase: str
    ) -> tuple[bytes, str, float]:
        """Log a failed INIT as Lambda does (the runtime's warning and error, INIT_REPORT).

        Returns the invocation's payload, the error type and INIT's duration in ms.
        """
        document: runtime.ErrorDocument | None
        if isinstance(exc, runtime.RuntimeFault):
            document = exc.document("")
            payload, error_type = runtime.document_bytes(document), exc.error_type
        elif isinstance(exc, SystemExit):
            document = None
            payload, error_type = runtime.exit_payload(request_id, exc.code), runtime.EXIT_ERROR
        else:
            document = runtime.exception_document(exc, "", _RUNTIME_FILES)
            payload, error_type = runtime.document_bytes(document), runtime.UNKNOWN_ERROR
        init_ms = (time.perf_counter() - start) * 1000
        self.log.flush()
        if document is not None:
            self.log.emit(f"[WARNING]\t{logs.iso_time(time.time())}\t\t{runtime.UNHANDLED_EXCEPTION_WARNING}")
            self.log.emit(runtime.error_log_entry(document))
        self.log.emit(logs.init_report_line(init_ms, phase=phase, status="error", error_type=error_type))
        return payload, error_type, init_ms

    def _prewarm(self) -> bool:
        """INIT before any invocation (provisioned concurrency), unless done already; False if it failed.

        The first invocation's REPORT then has no Init Duration, and INIT's output is not part of
        its log tail. A failed INIT is logged (``INIT_REPORT ... Phase: init``) and ends the
        environment: the next invocation starts an on-demand one, whose INIT runs again.
        https://docs.aws.amazon.com/lambda/latest/dg/provisioned-concurrency.html
        """
        if self.handler is not None:
            return True
        ENVIRON.activate(self, self.variables, None)
        self.log.request_id = ""
        start = time.perf_counter()
        try:
            self.handler = self._load()
        except (runtime.RuntimeFault, SystemExit, Exception) as exc:  # noqa: BLE001 - module code may raise anything
            self._init_failed(exc, start, "", phase="init")
            self.alive = False
            return False
        self.log.flush()
        self.log.take_tail()
        return True

    def _invoke(self, job: Job) -> Outcome | None:
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
        self.running = (job, started + self.function.timeout)
        try:
            context = self._context(job, int(time.time() * 1000) + int(self.function.timeout * 1000))
            payload = runtime.marshal_response(handler(runtime.unmarshal_event(job.payload), context))
            function_error = None
        except runtime.RuntimeFault as fault:
            payload, function_error, error_entry = self._fault(fault.document(request_id))
        except SystemExit as exc:  # the runtime process would exit: Lambda reports Runtime.ExitError
            if isinstance(exc.code, str):  # the interpreter prints such an exit message to stderr
                self.log.emit(exc.code)
            payload, function_error, keep = runtime.exit_payload(request_id, exc.code), "Unhandled", False
            note = f"{runtime.exit_message(request_id, exc.code)}\n{runtime.EXIT_ERROR}"
            status, error_type = "error", runtime.EXIT_ERROR
        except Exception as exc:  # noqa: BLE001 - handlers may raise anything
            payload, function_error, error_entry = self._fault(
                runtime.exception_document(exc, request_id, _RUNTIME_FILES))
        duration_ms = (time.perf_counter() - started) * 1000
        if not job.claim(FINISHING):
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
        return Outcome(payload, function_error, duration_ms, job.init_ms, status=status, error_type=error_type,
                       note=note, keep=keep)

    @staticmethod
    def _fault(document: runtime.ErrorDocument) -> tuple[bytes, str, str]:
        return runtime.document_bytes(document), "Unhandled", runtime.error_log_entry(document)

    def _context(self, job: Job, deadline_ms: int) -> LambdaContext:
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
            function_version=fn.version,
            invoked_function_arn=job.invoked_arn or self.arn,
            memory_limit_in_mb=str(fn.memory_size),
            log_group_name=f"/aws/lambda/{fn.name}",
            log_stream_name=self.log_stream,
            deadline_ms=deadline_ms,
            client_context=client_context,
        )
