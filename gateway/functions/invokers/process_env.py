"""One process execution environment, as the gateway sees it: a child process and its channels.

The child is forked from the template (``zygote.py``). The gateway keeps three things to it:

- the channel (a Unix stream socket, ``wire.py`` frames): the built-in Python runtime's
  invocations, results and log output, and the template's EXITED frame with the wait status;
- the output pipe (the child's fd 1 and 2): what is written below Python's ``sys.stdout`` (a
  subprocess, ``os.write(1, ...)``, a custom runtime's whole output), one log event per line;
- for ``runtime = "provided"``, a Runtime API listener (``gateway/runtime_api.py``).

It reports each step to its owner (the process invoker), which decides what an invocation's
result is. Memory is read from ``/proc/<pid>/status`` (VmRSS, VmHWM).
"""

from __future__ import annotations

import asyncio
import codecs
import math
import os
import secrets
import shutil
import signal
import socket
import tempfile
import time
from typing import Any, Protocol

from gateway.config import FunctionConfig, GatewaySettings
from gateway.functions import layers, runtime, wire
from gateway.functions.context import log_stream_name
from gateway.functions.logs import EnvironmentLog, LogSink
from gateway.functions.zygote import Zygote
from gateway.runtime_api import Invocation, RuntimeApi

#: How often a running environment's memory is read (seconds).
MEMORY_POLL = 0.025


class EnvironmentOwner(Protocol):
    """What an environment reports to the invoker that owns it (all on the event loop thread)."""

    function: FunctionConfig
    settings: GatewaySettings
    sink: LogSink

    def on_init_done(self, env: ProcessEnvironment, init_ms: float) -> None: ...

    def on_init_failed(self, env: ProcessEnvironment, payload: bytes, error_type: str, init_ms: float) -> None: ...

    def on_exec_failed(self, env: ProcessEnvironment, error: str) -> None: ...

    def on_result(self, env: ProcessEnvironment, payload: bytes, function_error: str | None) -> None: ...

    def on_too_large(self, env: ProcessEnvironment) -> None: ...

    def on_exit(self, env: ProcessEnvironment, status: int | None) -> None: ...

    def on_out_of_memory(self, env: ProcessEnvironment) -> None: ...


def environment_variables(
    function: FunctionConfig, settings: GatewaySettings, log_stream: str, *,
    initialization_type: str, runtime_api: str | None = None, tmpdir: str | None = None,
) -> dict[str, str]:
    """The child's whole environment, built from scratch (nothing else of the gateway's leaks in).

    Lambda's variables (``runtime.lambda_environment``: reserved ones, TZ, credentials from the
    role, layers) over the gateway's PATH (and LD_LIBRARY_PATH) and Lambda's LANG; plus
    AWS_LAMBDA_RUNTIME_API for a Runtime API and TMPDIR when there is no private /tmp. A custom
    runtime has no AWS_EXECUTION_ENV.
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
    """
    variables = {"PATH": os.environ.get("PATH", os.defpath), "LANG": "en_US.UTF-8"}
    if os.environ.get("LD_LIBRARY_PATH"):
        variables["LD_LIBRARY_PATH"] = os.environ["LD_LIBRARY_PATH"]
    variables.update(
        runtime.lambda_environment(function, settings, log_stream, initialization_type=initialization_type))
    if is_custom_runtime(function):
        variables.pop("AWS_EXECUTION_ENV", None)
    if runtime_api is not None:
        variables["AWS_LAMBDA_RUNTIME_API"] = runtime_api
    if tmpdir is not None:
        variables["TMPDIR"] = tmpdir
    return variables


def is_custom_runtime(function: FunctionConfig) -> bool:
    """``provided``, ``provided.al2``, ``provided.al2023``: run ``code_uri/bootstrap``."""
    return function.runtime.startswith("provided")


class ProcessEnvironment:
    """One execution environment in a child process. Create, then ``await start()``."""

    def __init__(self, owner: EnvironmentOwner, *, initialization_type: str = "on-demand",
                 pinned: bool = False) -> None:
        fn = owner.function
        self.owner = owner
        self.function = fn
        self.initialization_type = initialization_type
        self.pinned = pinned  # started ahead (provisioned): never shut down for being idle
        self.log_stream = log_stream_name(time.time(), secrets.token_hex(16), fn.version)
        self.arn = f"arn:aws:lambda:{owner.settings.region}:{owner.settings.account_id}:function:{fn.name}"
        self.log = EnvironmentLog(fn.name, owner.sink)
        self.job: Any = None  # the invocation it runs (the invoker's Job), or None
        self.init_waiter: asyncio.Future[bool] | None = None  # for environments started ahead
        self.pid: int | None = None
        self.ready = False  # INIT done
        self.alive = True
        self.silenced = False  # timed out: whatever it still writes is dropped
        self.spawned = time.perf_counter()
        self.last_used = time.monotonic()
        self.max_memory_kb = 0
        self._kill_pending = False
        self._close_pending = False
        self._pidfd: int | None = None
        self._status_fd: int | None = None  # /proc/<pid>/status, kept open (read with pread)
        self._peak_reported = False
        self._transport: asyncio.Transport | None = None
        self._output_fd: int | None = None
        self._output_partial = ""
        self._output_decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._decoders = [codecs.getincrementaldecoder("utf-8")("replace") for _ in range(2)]
        self._api: RuntimeApi | None = None
        self._tmpdir: str | None = None
        self._poll: asyncio.TimerHandle | None = None
        self._exited = False
        self._closed = False  # close() was called: a start() still under way gives up

    # -- life cycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Fork the child from the template; INIT starts there at once."""
        loop = asyncio.get_running_loop()
        zygote = await Zygote.get()
        fn = self.function
        address = None
        if is_custom_runtime(fn) and not self._closed:
            self._api = RuntimeApi(self)
            address = await self._api.start()
        if self._closed:  # abandoned meanwhile (a timeout, the gateway closing)
            self.close()
            return
        if zygote.private_tmp_problem:
            self._tmpdir = tempfile.mkdtemp(prefix=f"lambda-{fn.name}-tmp-")
        variables = environment_variables(fn, self.owner.settings, self.log_stream, tmpdir=self._tmpdir,
                                          initialization_type=self.initialization_type, runtime_api=address)
        spec = {
            "handler": fn.handler, "code_uri": str(fn.code_uri), "env": variables,
            "python_path": layers.python_paths(fn), "keep": [str(layer) for layer in fn.layers],
            "tmp_mb": None if zygote.private_tmp_problem else fn.ephemeral_storage,
            "exec": str(fn.code_uri / "bootstrap") if is_custom_runtime(fn) else None,
        }
        ours, theirs = socket.socketpair()
        read_fd, write_fd = os.pipe()
        self.spawned = time.perf_counter()
        try:
            zygote.spawn(spec, [theirs.fileno(), write_fd])
        except BaseException:
            ours.close()
            os.close(read_fd)
            raise
        finally:
            theirs.close()
            os.close(write_fd)
        self._output_fd = read_fd
        os.set_blocking(read_fd, False)
        loop.add_reader(read_fd, self._read_output)
        self._transport, _ = await loop.connect_accepted_socket(lambda: _Channel(self), ours)
        if self._closed:  # abandoned while connecting: the child is on its way, end it when it says HELLO
            self._exited = False
            self.close()
            return
        self.watch_memory()

    def send(self, request_id: str, payload: bytes, *, timeout: float, arn: str, trace_id: str | None,
             client_context: str | None, ahead: bool = False) -> None:
        """Hand an invocation to the runtime; the deadline is ``timeout`` seconds from now.

        ``ahead``: sent during INIT, to a built-in runtime, which reads it once INIT is done and
        starts the deadline then (one round trip less on a cold start).
        """
        deadline_ms = int(time.time() * 1000) + int(timeout * 1000)
        if self._api is not None:
            self._api.deliver(Invocation(request_id, payload, deadline_ms, arn, trace_id, client_context))
        elif self._transport is not None:
            header = {"id": request_id, "deadline_ms": None if ahead else deadline_ms,
                      "timeout_ms": int(timeout * 1000), "arn": arn, "trace_id": trace_id,
                      "client_context": client_context}
            self._transport.writelines([wire.prefix(wire.INVOKE, header, len(payload)), payload])

    @property
    def builtin(self) -> bool:
        """The built-in Python runtime (the private channel), not a custom runtime's Runtime API."""
        return not is_custom_runtime(self.function)

    def kill(self) -> None:
        """SIGKILL the child and everything it started (its own session); later output is still read."""
        self.alive = False
        if self.pid is None:
            self._kill_pending = True
            return
        if self._pidfd is not None:
            try:
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except OSError:
            pass

    def close(self) -> None:
        """Kill the child if it still runs and release everything (idempotent)."""
        self._closed = True
        if not self._exited:
            self.kill()
        self.alive = False
        self.stop_watch()
        if self.pid is None and not self._exited and self._transport is not None:
            self._close_pending = True  # the child's HELLO (its pid) is on its way: kill it then
            return
        self._exited = True
        if self._output_fd is not None:
            try:
                asyncio.get_running_loop().remove_reader(self._output_fd)
            except RuntimeError:
                pass
            os.close(self._output_fd)
            self._output_fd = None
        if self._transport is not None:
            self._transport.abort()
        if self._api is not None:
            self._api.close()
        for fd in (self._pidfd, self._status_fd):
            if fd is not None:
                os.close(fd)
        self._pidfd = self._status_fd = None
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    # -- logs -------------------------------------------------------------------------------------

    def flush_logs(self) -> None:
        """Emit everything written so far, unterminated lines included (end of INIT, of an invocation)."""
        self._read_output()
        if self._output_partial:
            line, self._output_partial = self._output_partial, ""
            self._emit(line)
        self.log.flush()

    def _emit(self, entry: str) -> None:
        if not self.silenced:
            self.log.emit(entry)

    def _read_output(self) -> None:
        fd = self._output_fd
        while fd is not None:
            try:
                data = os.read(fd, 65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data = b""
            if not data:
                asyncio.get_running_loop().remove_reader(fd)
                return
            text = self._output_decoder.decode(data)
            *lines, self._output_partial = (self._output_partial + text).split("\n")
            for line in lines:
                self._emit(line)

    # -- memory -----------------------------------------------------------------------------------

    def memory_kb(self) -> int | None:
        """Resident memory now (VmRSS, kB), remembering the peak (VmHWM); None once the process is gone."""
        if self.pid is None:
            return None
        try:
            if self._status_fd is None:
                self._status_fd = os.open(f"/proc/{self.pid}/status", os.O_RDONLY | os.O_CLOEXEC)
            status = os.pread(self._status_fd, 8192, 0)
        except OSError:
            return None
        rss, hwm = _field(status, b"VmRSS:"), _field(status, b"VmHWM:")
        if hwm > self.max_memory_kb:
            self.max_memory_kb = hwm
        return rss if rss or hwm else None

    def peak_memory_mb(self) -> int:
        """Max Memory Used: the process's peak resident memory (VmHWM), in MB rounded up.

        The built-in runtime reports its own peak with each result (``getrusage`` ru_maxrss, the
        same counter); other runtimes are read from /proc.
        """
        if not self._peak_reported:
            self.memory_kb()
        self._peak_reported = False
        return math.ceil(self.max_memory_kb / 1024)

    def watch_memory(self) -> None:
        """Check memory every MEMORY_POLL seconds while INIT or an invocation runs."""
        if self.max_memory_kb == 0 and self.alive:
            self.memory_kb()  # one reading now, so a process that dies at once still has a measured peak
        if self._poll is None and self.alive:
            self._poll = asyncio.get_running_loop().call_later(MEMORY_POLL, self._check_memory)

    def stop_watch(self) -> None:
        if self._poll is not None:
            self._poll.cancel()
            self._poll = None

    def _check_memory(self) -> None:
        self._poll = None
        if not self.alive or (self.ready and self.job is None):
            return
        rss = self.memory_kb()
        if rss is not None and rss > self.function.memory_size * 1024:
            self.owner.on_out_of_memory(self)
            return
        self.watch_memory()

    # -- what the child says --------------------------------------------------------------------

    def frame(self, kind: bytes, header: dict[str, Any], body: bytes) -> None:
        if kind == wire.STDOUT or kind == wire.STDERR:
            text = self._decoders[kind == wire.STDERR].decode(body)
            if not self.silenced:
                self.log.write(int(kind == wire.STDERR), text)
        elif kind == wire.LOG:
            self._emit(body.decode(errors="replace"))
        elif kind == wire.HELLO:
            self._hello(int(header["pid"]))
        elif kind == wire.EXITED:
            if "maxrss" in header:
                self.max_memory_kb = max(self.max_memory_kb, int(header["maxrss"]))
                self._peak_reported = True
            self.exited(header.get("status"))
        elif self.silenced:
            return
        elif kind == wire.INIT_DONE:
            self.ready = True
            self.flush_logs()
            self.owner.on_init_done(self, float(header["ms"]))
        elif kind == wire.INIT_FAILED:
            self.flush_logs()
            self.owner.on_init_failed(self, body, str(header["type"]), float(header["ms"]))
        elif kind == wire.RESULT or kind == wire.ERROR:
            if "maxrss" in header:
                self.max_memory_kb = max(self.max_memory_kb, int(header["maxrss"]))
                self._peak_reported = True
            self.flush_logs()
            self.owner.on_result(self, body, None if kind == wire.RESULT else "Unhandled")
        elif kind == wire.EXEC_FAILED:
            self.flush_logs()
            self.owner.on_exec_failed(self, str(header["error"]))

    def _hello(self, pid: int) -> None:
        self.pid = pid
        try:
            self._pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            self._pidfd = None
        if self._kill_pending:
            self.kill()
        if self._close_pending:
            self.close()

    def exited(self, status: int | None) -> None:
        """The child is gone (the template's EXITED frame, or the channel closed without one)."""
        if self._exited:
            return
        self._exited = True
        self.alive = False
        self.flush_logs()
        self.owner.on_exit(self, status)

    # -- the Runtime API's reports (RuntimeApiOwner) --------------------------------------------

    def api_ready(self) -> None:
        self.ready = True
        self.flush_logs()
        self.owner.on_init_done(self, (time.perf_counter() - self.spawned) * 1000)

    def api_response(self, request_id: str, payload: bytes) -> None:
        self.flush_logs()
        self.owner.on_result(self, payload, None)

    def api_error(self, request_id: str, payload: bytes) -> None:
        self.flush_logs()
        self.owner.on_result(self, payload, "Unhandled")

    def api_too_large(self, request_id: str) -> None:
        self.flush_logs()
        self.owner.on_too_large(self)

    def api_init_error(self, payload: bytes, error_type: str) -> None:
        self.flush_logs()
        self.owner.on_init_failed(self, payload, error_type, (time.perf_counter() - self.spawned) * 1000)


class _Channel(asyncio.Protocol):
    """The gateway's end of the channel."""

    def __init__(self, env: ProcessEnvironment) -> None:
        self.env = env
        self.parser = wire.FrameParser(env.frame)

    def data_received(self, data: bytes) -> None:
        self.parser.feed(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.env.exited(None)


def _field(status: bytes, name: bytes) -> int:
    start = status.find(name)
    if start < 0:
        return 0
    end = status.find(b"\n", start)
    return int(status[start + len(name):end].split()[0])
