"""The process invoker: each execution environment is a child process (``isolation = "process"``).

A pool of environments per function, as Lambda keeps one
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html):

- an invocation goes to an idle environment (the most recently used one); a new environment
  cold-starts only when every existing one is busy, so concurrent invocations run in parallel,
  each in its own process, one invocation at a time per environment;
- an environment idle for ``idle_timeout`` seconds shuts down (not those started ahead with
  ``prewarm``, which stand for provisioned concurrency);
- ``timeout`` is enforced by killing the environment ("Task timed out after N.NN seconds", as
  in-process); ``memory_size`` by reading the process's resident memory every 25 ms and killing
  it past the limit (Lambda's out-of-memory error); a crash (``sys.exit``, ``os._exit``, a
  signal) is Runtime.ExitError. The next invocation then gets a fresh environment.

Log lines, error documents and payloads are the ones the in-process invoker produces (``logs.py``,
``runtime.py``; what the service says about a process that ended is in ``crashes.py``).
Concurrency limits are not enforced here: the functions service does that (``busy`` and
``prewarm`` are its hooks).
"""

from __future__ import annotations

import asyncio
import json
import time

from gateway.config import FunctionConfig, GatewaySettings
from gateway.errors import InvokeError
from gateway.functions import logs, runtime
from gateway.functions.context import decode_client_context
from gateway.functions.invokers.crashes import INVALID_ENTRYPOINT, OUT_OF_MEMORY, exit_message, service_error
from gateway.functions.invokers.process_env import ProcessEnvironment
from gateway.functions.logs import LogSink
from gateway.models import InvocationResult

#: Lambda's INIT limit (an INIT over it is retried in the invoke phase with the function's
#: timeout, so INIT may take up to max(10 s, timeout)); 130 s for provisioned environments.
#: https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-ib
INIT_LIMIT = 10.0
PROVISIONED_INIT_LIMIT = 130.0

class Job:
    """One invocation on its way through an environment."""

    __slots__ = ("payload", "request_id", "trace_id", "client_context", "invoked_arn", "future", "timer",
                 "submitted", "started", "start_logged", "init_ms", "environment", "sent")

    def __init__(self, payload: bytes, request_id: str, trace_id: str | None, client_context: str | None,
                 invoked_arn: str | None, loop: asyncio.AbstractEventLoop) -> None:
        self.payload = payload
        self.request_id = request_id
        self.trace_id = trace_id
        self.client_context = client_context
        self.invoked_arn = invoked_arn
        self.future: asyncio.Future[InvocationResult] = loop.create_future()
        self.timer: asyncio.TimerHandle | None = None
        self.submitted = time.perf_counter()
        self.started: float | None = None  # when the handler phase began (after INIT)
        self.start_logged = False
        self.init_ms: float | None = None
        self.environment: ProcessEnvironment | None = None
        self.sent = False  # handed to the runtime (during INIT, for a built-in runtime's cold start)


class ProcessInvoker:
    """Runs one function's invocations in child processes. Satisfies ``gateway.types.Invoker``."""

    def __init__(self, function: FunctionConfig, settings: GatewaySettings, *, log: LogSink) -> None:
        self.function = function
        self.settings = settings
        self.sink = log
        self._environments: set[ProcessEnvironment] = set()
        self._idle: list[ProcessEnvironment] = []  # most recently used last
        self._reaper: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self._retired: set[ProcessEnvironment] = set()  # hot reload: end after the current invocation

    @property
    def busy(self) -> int:
        """Environments running an invocation (or its INIT) now."""
        return sum(1 for env in self._environments if env.job is not None)

    @property
    def environments(self) -> int:
        """Live environments, busy or idle."""
        return len(self._environments)

    async def invoke(
        self, payload: bytes, *, request_id: str, trace_id: str | None = None, client_context: str | None = None,
        invoked_function_arn: str | None = None,
    ) -> InvocationResult:
        """Invoke once. Function errors, timeouts, crashes and out-of-memory kills are results."""
        if self._closed:
            raise InvokeError(f"function {self.function.name!r} is shut down")
        loop = asyncio.get_running_loop()
        if client_context is not None:  # the Runtime API carries the decoded JSON
            client_context = json.dumps(decode_client_context(client_context))
        job = Job(payload, request_id, trace_id, client_context, invoked_function_arn, loop)
        env = self._take_idle()
        if env is not None:
            env.job, job.environment = job, env
            self._begin(env, job)
        else:
            env = ProcessEnvironment(self)
            self._environments.add(env)
            env.job, job.environment = job, env
            job.timer = loop.call_later(max(INIT_LIMIT, self.function.timeout), self._expire, job)
            # Shielded: a caller that goes away does not abort the environment's start (nor, below, its run).
            starting = loop.create_task(self._start(env, job))
            self._tasks.add(starting)
            starting.add_done_callback(self._started)
            await asyncio.shield(starting)
        return await job.future

    async def _start(self, env: ProcessEnvironment, job: Job) -> None:
        try:
            await env.start()
        except BaseException:
            self._forget(env)
            if job.timer is not None:
                job.timer.cancel()
            raise
        if env.builtin and env.alive and env.job is job and not job.sent:
            self._send(env, job, ahead=True)  # the runtime reads it once its INIT is done

    def _started(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved here too: its caller may be gone

    async def prewarm(self, n: int = 1) -> None:
        """Start ``n`` more environments and run their INIT now (provisioned concurrency).

        Their AWS_LAMBDA_INITIALIZATION_TYPE is "provisioned-concurrency", their first REPORT has no
        Init Duration, idle time never shuts them down, and one that ends is replaced.
        """
        if n < 1 or self._closed:
            return
        await asyncio.gather(*(self._start_pinned() for _ in range(n)))

    def retire_environments(self) -> None:
        """Hot reload (functions/reload.py): new invocations get new environments, with a new INIT.

        Idle environments end now, busy ones once their invocation is answered; provisioned ones
        are replaced as when they end for any other reason.
        """
        for env in list(self._idle):
            self._forget(env)
        self._retired.update(env for env in self._environments if env.job is not None)

    async def aclose(self) -> None:
        """Kill every environment; invocations still running fail with InvokeError."""
        self._closed = True
        if self._reaper is not None:
            self._reaper.cancel()
        # Starts under way (self._tasks) see their environment closed and end by themselves.
        for env in list(self._environments):
            job = env.job
            self._forget(env)
            if job is not None:
                if job.timer is not None:
                    job.timer.cancel()
                if not job.future.done():
                    job.future.set_exception(InvokeError(f"function {self.function.name!r} is shut down"))

    # -- the pool ---------------------------------------------------------------------------------

    def _take_idle(self) -> ProcessEnvironment | None:
        while self._idle:
            env = self._idle.pop()
            if env.alive:
                return env
            self._forget(env)
        return None

    def _release(self, env: ProcessEnvironment) -> None:
        env.job = None
        env.stop_watch()
        if self._closed or not env.alive or env in self._retired:
            self._forget(env)
            return
        env.last_used = time.monotonic()
        self._idle.append(env)
        self._schedule_reaper()

    def _forget(self, env: ProcessEnvironment) -> None:
        """Discard an environment: kill it, free it, replace it if it stood for provisioned concurrency.

        Only one whose INIT had succeeded is replaced: an INIT that fails would fail again.
        """
        env.job = None
        env.close()
        self._environments.discard(env)
        self._retired.discard(env)
        if env in self._idle:
            self._idle.remove(env)
        if env.init_waiter is not None and not env.init_waiter.done():
            env.init_waiter.set_result(False)
        if env.pinned and env.ready and not self._closed:
            env.pinned = False
            task = asyncio.get_running_loop().create_task(self._start_pinned())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _start_pinned(self) -> None:
        env = ProcessEnvironment(self, initialization_type="provisioned-concurrency", pinned=True)
        self._environments.add(env)
        env.init_waiter = asyncio.get_running_loop().create_future()
        limit = max(PROVISIONED_INIT_LIMIT, self.function.timeout)
        try:
            await env.start()
            if not await asyncio.wait_for(asyncio.shield(env.init_waiter), limit):
                return
        except TimeoutError:
            env.log.emit(logs.init_report_line(limit * 1000, phase="init", status="timeout"))
            env.pinned = False
            self._forget(env)
        except (InvokeError, OSError):
            env.pinned = False
            self._forget(env)

    def _schedule_reaper(self) -> None:
        if self._reaper is not None:
            return
        unpinned = [env.last_used for env in self._idle if not env.pinned]
        if unpinned:
            delay = max(0.0, min(unpinned) + self.function.idle_timeout - time.monotonic())
            self._reaper = asyncio.get_running_loop().call_later(delay, self._reap)

    def _reap(self) -> None:
        """Shut down environments idle for ``idle_timeout`` seconds."""
        self._reaper = None
        now = time.monotonic()
        for env in [env for env in self._idle if not env.pinned and now - env.last_used >= self.function.idle_timeout]:
            self._forget(env)
        self._schedule_reaper()

    # -- an invocation ------------------------------------------------------------------------------

    def _begin(self, env: ProcessEnvironment, job: Job) -> None:
        """The handler phase: START, the timeout timer, the event to the runtime."""
        loop = asyncio.get_running_loop()
        fn = self.function
        if job.timer is not None:
            job.timer.cancel()
        job.timer = loop.call_later(fn.timeout, self._expire, job)
        job.started = time.perf_counter()
        job.start_logged = True
        env.log.emit(logs.start_line(job.request_id, fn.version))
        if not job.sent:
            self._send(env, job)
        env.watch_memory()

    def _send(self, env: ProcessEnvironment, job: Job, *, ahead: bool = False) -> None:
        job.sent = True
        env.send(job.request_id, job.payload, timeout=self.function.timeout, arn=job.invoked_arn or env.arn,
                 trace_id=job.trace_id, client_context=job.client_context, ahead=ahead)

    def _finish(self, env: ProcessEnvironment, job: Job, payload: bytes, function_error: str | None,
                duration_ms: float, *, init_ms: float | None = None, report_init: bool = True,
                status: str | None = None, error_type: str | None = None, note: str | None = None,
                keep: bool = True, memory_mb: int | None = None) -> None:
        if job.timer is not None:
            job.timer.cancel()
        if note is not None:
            env.log.emit(note)
        if memory_mb is None:
            memory_mb = env.peak_memory_mb()
        result = self._report(env, job, payload, function_error, duration_ms, init_ms, memory_mb,
                              report_init=report_init, status=status, error_type=error_type)
        if keep and env.alive:
            self._release(env)
        else:
            self._forget(env)
        if not job.future.done():
            job.future.set_result(result)

    def _report(self, env: ProcessEnvironment, job: Job, payload: bytes, function_error: str | None,
                duration_ms: float, init_ms: float | None, memory_mb: int, *, report_init: bool = True,
                status: str | None = None, error_type: str | None = None) -> InvocationResult:
        """END and REPORT, and the result (logs.end_and_report)."""
        return logs.end_and_report(env.log, job.request_id, payload, function_error, duration_ms, init_ms,
                                   memory_size=self.function.memory_size, memory_mb=memory_mb,
                                   version=self.function.version, report_init=report_init, status=status,
                                   error_type=error_type)

    def _expire(self, job: Job) -> None:
        """The timer: Lambda's timeout answer, and the environment is killed (its output dropped).

        https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
        """
        env = job.environment
        if env is None or env.job is not job:
            return
        env.silenced = True
        env.kill()
        now = time.perf_counter()
        request_id, timeout = job.request_id, self.function.timeout
        if job.started is None:  # still in INIT
            duration_ms = (now - job.submitted) * 1000
            env.log.emit(logs.init_report_line(duration_ms, phase="invoke", status="timeout"))
        else:
            duration_ms = min((now - job.started) * 1000, timeout * 1000)
        if not job.start_logged:
            env.log.emit(logs.start_line(request_id, self.function.version))
        env.log.emit(logs.timeout_line(request_id, timeout, time.time()))
        self._finish(env, job, runtime.timeout_payload(request_id, timeout), "Unhandled", duration_ms,
                     init_ms=job.init_ms, status="timeout", keep=False)

    # -- what environments report (process_env.EnvironmentOwner) ----------------------------------

    def on_init_done(self, env: ProcessEnvironment, init_ms: float) -> None:
        env.memory_kb()  # a first reading, for REPORT if the process dies before the next one
        job = env.job
        if job is None:  # started ahead: ready, and its INIT is never reported
            if env.init_waiter is not None and not env.init_waiter.done():
                env.init_waiter.set_result(True)
            self._release(env)
            return
        job.init_ms = init_ms
        self._begin(env, job)

    def on_init_failed(self, env: ProcessEnvironment, payload: bytes, error_type: str, init_ms: float) -> None:
        """Lambda logs INIT_REPORT, then START, "Unknown application error occurred" and the type,
        END and REPORT; the answer is the runtime's init error document."""
        env.log.emit(logs.init_report_line(init_ms, phase="invoke" if env.job else "init", status="error",
                                           error_type=error_type))
        job = env.job
        if job is None:
            self._forget(env)
            return
        env.log.emit(logs.start_line(job.request_id, self.function.version))
        job.start_logged = True
        self._finish(env, job, payload, "Unhandled", (time.perf_counter() - job.submitted) * 1000,
                     init_ms=init_ms, report_init=False, status="error", error_type=error_type,
                     note=logs.init_failure_lines(error_type), keep=False)

    def on_exec_failed(self, env: ProcessEnvironment, error: str) -> None:
        request_id = env.job.request_id if env.job is not None else ""
        path = self.function.code_uri / "bootstrap"
        message = f"RequestId: {request_id} Error: fork/exec {path}: {error}"
        self.on_init_failed(env, service_error(INVALID_ENTRYPOINT, message), INVALID_ENTRYPOINT,
                            (time.perf_counter() - env.spawned) * 1000)

    def on_result(self, env: ProcessEnvironment, payload: bytes, function_error: str | None) -> None:
        job = env.job
        if job is None or job.started is None:
            return
        duration_ms = (time.perf_counter() - job.started) * 1000
        if function_error is None and len(payload) > runtime.MAX_RESPONSE_BYTES:
            # The Runtime API refuses it and awslambdaric exits (recorded REPORTs say Runtime.ExitError).
            self._finish(env, job, runtime.oversize_payload(), "Unhandled", duration_ms, init_ms=job.init_ms,
                         status="error", error_type=runtime.EXIT_ERROR, keep=False)
            return
        self._finish(env, job, payload, function_error, duration_ms, init_ms=job.init_ms)

    def on_too_large(self, env: ProcessEnvironment) -> None:
        """A custom runtime's response got 413: the invocation fails; the runtime decides whether to go on."""
        job = env.job
        if job is not None and job.started is not None:
            self._finish(env, job, runtime.oversize_payload(), "Unhandled",
                         (time.perf_counter() - job.started) * 1000, init_ms=job.init_ms)

    def on_exit(self, env: ProcessEnvironment, status: int | None) -> None:
        job = env.job
        if job is None:  # it ended while idle (or before a prewarm's INIT finished)
            self._forget(env)
            return
        self._crashed(env, job, runtime.EXIT_ERROR, exit_message(job.request_id, status))

    def on_out_of_memory(self, env: ProcessEnvironment) -> None:
        env.kill()
        job = env.job
        if job is None:
            env.log.emit(logs.init_report_line((time.perf_counter() - env.spawned) * 1000, phase="init",
                                               status="error", error_type=OUT_OF_MEMORY))
            self._forget(env)
            return
        env.flush_logs()
        message = f"RequestId: {job.request_id} Error: Runtime exited with error: signal: killed"
        self._crashed(env, job, OUT_OF_MEMORY, message, memory_mb=self.function.memory_size)

    def _crashed(self, env: ProcessEnvironment, job: Job, error_type: str, message: str,
                 memory_mb: int | None = None) -> None:
        """The runtime died during INIT or an invocation: Lambda's service error, REPORT Status: error."""
        payload = service_error(error_type, message)
        now = time.perf_counter()
        if job.started is None:  # during INIT, as in-process reports an INIT that exits
            init_ms = (now - env.spawned) * 1000
            env.log.emit(logs.init_report_line(init_ms, phase="invoke", status="error", error_type=error_type))
            env.log.emit(logs.start_line(job.request_id, self.function.version))
            job.start_logged = True
            self._finish(env, job, payload, "Unhandled", (now - job.submitted) * 1000, init_ms=init_ms,
                         report_init=False, status="error", error_type=error_type,
                         note=logs.init_failure_lines(error_type), keep=False, memory_mb=memory_mb)
            return
        self._finish(env, job, payload, "Unhandled", (now - job.started) * 1000, init_ms=job.init_ms,
                     status="error", error_type=error_type, note=f"{message}\n{error_type}", keep=False,
                     memory_mb=memory_mb)
