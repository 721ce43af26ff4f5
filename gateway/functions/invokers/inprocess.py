"""The in-process invoker: a function's execution environment is a thread of the gateway.

One environment per function (``environment.ThreadEnvironment``). As on Lambda it runs one
invocation at a time, so concurrent invocations wait for it in FIFO order, at most
``gateway.max_queued_requests`` of them; past that, Throttled.

Invocations are handed straight to the environment thread's queue as they arrive, so under
load it runs them back to back (no event loop round trip between two invocations), logging
START as each starts and END and REPORT as each ends. Results come back in batches: the
thread appends them to a deque and wakes the loop (``call_soon_threadsafe``) only when no
wake-up is already pending; the loop answers every result in the deque at once. Measured on
a shared 2-core machine with a trivial handler behind the HTTP API front under wrk -c32
(benchmarks/throughput.py and alternating wrk runs): gateway CPU per request 420-490 instead
of 560-640 microseconds, req/s ratio to bare Starlette 0.53 instead of 0.32. Waiting in place
for a quick handler (the loop thread blocking up to 2 ms for the result, as an earlier
version did) cost CPU under load with this design (460 against 400 microseconds per
request in one A/B) and is gone.

One timer on the loop per environment enforces the timeout, each invocation's counted from
when it starts: it fires at the deadline of the invocation running when it was set and, if a
later one runs by then, is set again for that one's deadline. The caller gets Lambda's
timeout answer on time; the thread that overran is abandoned (asked to stop with an
asynchronous exception, never waited for), the invocations queued behind it move to a fresh
environment, and the next one gets a fresh INIT.

Sharing one interpreter has limits process environments (a later issue) will not have:
``os.environ`` holds the variables of the environment that ran last (``interpreter.ENVIRON``),
the working directory stays the gateway's, modules of the same name in two functions'
``code_uri`` shadow each other for imports made after INIT, threads a handler starts write to
the gateway's own stdout, and Max Memory Used is the whole gateway's peak RSS.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from typing import cast

from gateway.config import FunctionConfig, GatewaySettings
from gateway.errors import InvokeError, Throttled
from gateway.functions import logs, runtime
from gateway.functions.invokers.environment import QUEUED, TIMED_OUT, Job, Prewarm, ThreadEnvironment
from gateway.functions.logs import CAPTURE, LogSink
from gateway.models import InvocationResult

_logger = logging.getLogger("gateway.functions")

#: Lambda's INIT phase limit. An INIT over it is retried within the invoke phase with the
#: function's timeout, so INIT may take up to max(10 s, timeout) before the invocation fails.
#: https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-ib
INIT_LIMIT = 10.0

#: INIT's limit for provisioned environments: "130 seconds or the configured function timeout
#: (maximum 900 seconds), whichever is higher".
#: https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-ib
PROVISIONED_INIT_LIMIT = 130.0

_announced = False


class InProcessInvoker:
    """Runs one function's invocations in-process (``isolation = "inprocess"``).

    Satisfies ``gateway.types.Invoker``; ``log`` receives the function's log entries.
    """

    def __init__(self, function: FunctionConfig, settings: GatewaySettings, *, log: LogSink) -> None:
        self.function = function
        self.settings = settings
        self.sink = log
        self._environment: ThreadEnvironment | None = None
        self._pending = 0  # invocations (and INITs ahead) accepted and not answered yet: running or queued
        self._done: collections.deque[tuple[Job, InvocationResult, bool]] = collections.deque()
        self._wake_pending = False  # a call to _answer is scheduled on the loop
        self._captured = False
        self._closed = False
        self._retiring: ThreadEnvironment | None = None  # retired by hot reload, ends after its invocation

    async def invoke(
        self, payload: bytes, *, request_id: str, trace_id: str | None = None, client_context: str | None = None,
        invoked_function_arn: str | None = None,
    ) -> InvocationResult:
        """Invoke once. Function errors and timeouts are results; raises Throttled when the queue is full.

        ``invoked_function_arn`` is the (possibly qualified) ARN the caller named, for the context.
        """
        if self._closed:
            raise InvokeError(f"function {self.function.name!r} is shut down")
        if self._pending > self.settings.max_queued_requests:
            raise Throttled(
                f"function {self.function.name!r} is busy and {self._pending - 1} invocations are already "
                "waiting for its in-process environment (gateway.max_queued_requests)"
            )
        environment = self._environment
        if environment is None or not environment.alive:
            environment = self._environment = self._start_environment()
        job = Job(payload, request_id, trace_id, client_context, asyncio.get_running_loop(), environment,
                  invoked_function_arn)
        CAPTURE.ensure()
        self._pending += 1
        self._submit(job, environment)
        try:
            return cast(InvocationResult, await job.future)
        except asyncio.CancelledError:
            if job.withdraw():  # it had not started: it never will
                job.environment.submitted.remove(job)
                self._pending -= 1
            raise

    def _submit(self, job: Job, environment: ThreadEnvironment) -> None:
        environment.submitted.append(job)
        environment.jobs.put(job)
        if environment.timer is None:
            # Nothing queued here can time out before a full timeout from now (INIT limits are longer).
            environment.timer = job.loop.call_later(self.function.timeout, self._watch, environment)

    async def prewarm(self, n: int = 1) -> None:
        """Provisioned concurrency: INIT the environment now, before any request (in-process has one, whatever ``n``).

        Queued as an invocation is, so a request that arrives meanwhile waits and finds the
        environment warm. INIT may take max(130 s, timeout) here, as for provisioned
        environments on Lambda; past that the environment is abandoned (what is queued behind
        it moves to an on-demand one). https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
        """
        if n < 1 or self._closed:
            return
        environment = self._environment
        if environment is not None and environment.alive and environment.handler is not None:
            return
        if environment is None or not environment.alive:
            environment = self._environment = self._start_environment("provisioned-concurrency")
        self._pending += 1
        try:
            await self._initialise_ahead(environment)
        finally:
            self._pending -= 1

    async def _initialise_ahead(self, environment: ThreadEnvironment) -> None:
        request = Prewarm(asyncio.get_running_loop())
        CAPTURE.ensure()
        environment.jobs.put(request)
        limit = max(PROVISIONED_INIT_LIMIT, self.function.timeout)
        try:
            loaded = await asyncio.wait_for(asyncio.shield(request.future), limit)
        except TimeoutError:
            environment.discard()
            environment.log.emit(logs.init_report_line(limit * 1000, phase="init", status="timeout"))
            loaded = False
        if not loaded:  # the environment has ended: what is queued behind the INIT needs another
            self._replace(environment)

    async def aclose(self) -> None:
        """Refuse new invocations, fail the queued ones, and let the environment end (never waited for)."""
        self._closed = True
        for environment in (self._environment, self._retiring):
            if environment is None:
                continue
            for job in list(environment.submitted):
                if job.withdraw():
                    environment.submitted.remove(job)
                    self._pending -= 1
                    if not job.future.done():
                        job.future.set_exception(InvokeError(f"function {self.function.name!r} is shut down"))
        if self._environment is not None:
            self._environment.shutdown()
            self._environment = None
        if self._captured:
            self._captured = False
            CAPTURE.release()

    def retire_environments(self) -> None:
        """Hot reload (functions/reload.py): the next invocation starts a new environment.

        Its INIT imports the code afresh (``interpreter.prepare_import`` drops the modules of
        ``code_uri`` and the layers from ``sys.modules``). An idle environment ends now; a busy
        one ends once its invocation is answered, and what is queued behind it moves to the new
        environment, which starts only then.
        """
        environment, self._environment = self._environment, None
        if environment is None:
            return
        if environment.submitted:
            self._retiring = environment
            self._replace(environment, retiring=True)
        environment.shutdown()

    def _start_environment(self, initialization_type: str = "on-demand") -> ThreadEnvironment:
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
        retiring = self._retiring
        if retiring is not None and retiring.finished.is_set():
            retiring = self._retiring = None
        return ThreadEnvironment(self, initialization_type=initialization_type, previous=retiring)

    def _replace(self, environment: ThreadEnvironment, *, retiring: bool = False) -> None:
        """``environment`` runs nothing more: what is queued in it and not begun moves to a new one."""
        if self._environment is environment:
            self._environment = None
        waiting = [job for job in environment.submitted if job.state == QUEUED]
        if not waiting or self._closed:
            return
        fresh = self._environment
        if fresh is None or not fresh.alive:
            fresh = self._environment = self._start_environment()
        for job in waiting:
            if job.move(fresh):  # False: the old thread began it meanwhile; it ends there
                environment.submitted.remove(job)
                self._submit(job, fresh)
        if not retiring and not environment.submitted and environment.timer is not None:
            environment.timer.cancel()
            environment.timer = None

    def init_limit(self) -> float:
        """For the environment thread: how long INIT may take within an invocation (seconds)."""
        return max(INIT_LIMIT, self.function.timeout)

    # -- completion ------------------------------------------------------------------------------

    def post(self, job: Job, result: InvocationResult, keep: bool) -> None:
        """From an environment thread: queue the result; wake the loop unless a wake-up is pending."""
        self._done.append((job, result, keep))
        if self._wake_pending:
            return
        self._wake_pending = True
        try:
            job.loop.call_soon_threadsafe(self._answer)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            self._wake_pending = False

    def _answer(self) -> None:
        """On the loop: answer every result the environment threads have queued."""
        self._wake_pending = False
        done = self._done
        while done:
            job, result, keep = done.popleft()
            environment = job.environment
            environment.submitted.remove(job)
            self._pending -= 1
            if not keep:  # the runtime is gone (INIT failed, it exited): the queued jobs need a new one
                self._replace(environment)
            if self._retiring is environment and not environment.submitted:
                self._retiring = None
            if not job.future.done():
                job.future.set_result(result)

    def _watch(self, environment: ThreadEnvironment) -> None:
        """The timeout timer of one environment: expire its invocation if overdue, else wait for its deadline."""
        environment.timer = None
        if not environment.submitted:
            return  # nothing in flight here; the next job submitted sets the timer again
        running = environment.running
        now = time.perf_counter()
        if running is None:  # between two jobs: the next starts from now on
            delay = self.function.timeout
        else:
            job, deadline = running
            if deadline <= now:
                self._expire(job)
                return
            delay = deadline - now
        environment.timer = asyncio.get_running_loop().call_later(delay, self._watch, environment)

    def _expire(self, job: Job) -> None:
        """Answer with Lambda's timeout result and abandon the environment.

        Logs ``<time> <id> Task timed out after 3.00 seconds`` before END; REPORT says
        ``Status: timeout`` and Duration is capped at the timeout.
        https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
        """
        if not job.claim(TIMED_OUT):
            return  # the environment finished at the last moment; its result is on its way
        environment = job.environment
        environment.discard()
        now = time.perf_counter()
        log, request_id, timeout = environment.log, job.request_id, self.function.timeout
        if job.started is None:  # still in INIT
            duration_ms = (now - job.begun) * 1000
            log.emit(logs.init_report_line(duration_ms, phase="invoke", status="timeout"))
        else:
            duration_ms = min((now - job.started) * 1000, timeout * 1000)
        if not job.start_logged:
            log.emit(logs.start_line(request_id, self.function.version))
        log.emit(logs.timeout_line(request_id, timeout, time.time()))
        result = environment.report(job, runtime.timeout_payload(request_id, timeout), "Unhandled", duration_ms,
                                    job.init_ms, status="timeout")
        environment.submitted.remove(job)
        self._pending -= 1
        self._replace(environment)
        if self._retiring is environment:
            self._retiring = None
        if not job.future.done():
            job.future.set_result(result)
