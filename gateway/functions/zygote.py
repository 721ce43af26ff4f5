"""The template process every process environment is forked from, and the gateway's handle on it.

Starting an interpreter and importing the runtime takes tens of milliseconds; forking a process
that has already done so takes about one. So each gateway process starts one template (lazily,
on the first process environment): a Python interpreter that has imported the built-in runtime
(``bootstrap.py``, json, logging ...) but no handler, and that forks a new environment whenever
the gateway asks. The handler's own INIT still runs on demand in the new environment, as on
Lambda. A ``runtime = "provided"`` environment is forked the same way and then ``exec``\\s the
function's ``bootstrap`` executable.

The gateway sends each request over a Unix SOCK_SEQPACKET socket: a JSON spec plus two file
descriptors (SCM_RIGHTS), the child's end of its channel and the write end of its output pipe.
The template keeps one child forked ahead (the *spare*: already in its own session, set to die
with the template) and hands it the request, so a cold start does not wait for ``fork``. The
child sets itself up (stdout/stderr to the pipe, a private /tmp, the working directory, a clean
environment built from the spec alone), says HELLO with its pid on the channel and runs the
runtime. The template reaps its children and writes each one's wait status to that child's
channel (``wire.EXITED``), after everything the child wrote itself. When the gateway process goes
away, the template kills its children and exits.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import resource
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, NoReturn

from gateway.errors import InvokeError
from gateway.functions import bootstrap, sandbox, wire

_logger = logging.getLogger("gateway.functions")

_LAUNCHER = (
    "import json, sys\n"
    "clean = [p for p in sys.path if p]\n"
    "sys.path[1:1] = [p for p in json.loads(sys.argv[2]) if p not in sys.path]\n"
    "from gateway.functions.zygote import main\n"
    "main(int(sys.argv[1]), clean)\n"
)
_START_TIMEOUT = 60.0
_CLOEXEC = getattr(socket, "MSG_CMSG_CLOEXEC", 0)  # Linux: descriptors received close on exec


# ---------------------------------------------------------------------------------------------
# The gateway's side


class Zygote:
    """The running template process. One per gateway process, shared by every function."""

    _current: Zygote | None = None
    _start_lock = threading.Lock()
    _warned = False

    def __init__(self) -> None:
        if not hasattr(os, "fork"):
            raise InvokeError('process environments need fork (POSIX); use isolation = "inprocess" here')
        control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {name: os.environ[name] for name in ("PATH", "LANG", "LC_ALL", "LC_CTYPE") if name in os.environ}
        self.process = subprocess.Popen(
            [sys.executable, "-c", _LAUNCHER, str(theirs.fileno()), json.dumps(sys.path)],
            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, env=env, start_new_session=True,
        )
        theirs.close()
        self.control = control
        self._send_lock = threading.Lock()
        control.settimeout(_START_TIMEOUT)
        try:
            ready = control.recv(65536)
        except OSError as exc:
            self.process.kill()
            raise InvokeError(f"the process environments' template did not start: {exc}") from exc
        if not ready:
            raise InvokeError(f"the process environments' template exited with status {self.process.wait()}")
        control.settimeout(None)
        #: Why environments cannot have a private /tmp here (None: they can).
        self.private_tmp_problem: str | None = json.loads(ready)["reason"]

    @classmethod
    async def get(cls) -> Zygote:
        """The template, started on first use (in a thread: it takes a moment)."""
        current = cls._current
        if current is not None and current.alive():
            return current
        import asyncio

        return await asyncio.to_thread(cls._get_or_start)

    @classmethod
    def _get_or_start(cls) -> Zygote:
        with cls._start_lock:
            current = cls._current
            if current is None or not current.alive():
                current = cls._current = Zygote()
                if current.private_tmp_problem and not Zygote._warned:
                    Zygote._warned = True
                    _logger.warning(
                        "process environments cannot have a private /tmp here (%s): each gets TMPDIR pointing "
                        "at a private directory instead, with no size limit", current.private_tmp_problem)
            return current

    def alive(self) -> bool:
        return self.process.poll() is None

    def spawn(self, spec: dict[str, Any], fds: Sequence[int]) -> None:
        """Ask for a new environment. ``fds``: the child's channel end and its output pipe's write end."""
        message = json.dumps(spec).encode()
        with self._send_lock:
            try:
                socket.send_fds(self.control, [message], list(fds))
            except OSError as exc:
                raise InvokeError(f"the process environments' template is gone: {exc}") from exc


# ---------------------------------------------------------------------------------------------
# The template process


def main(control_fd: int, clean_path: list[str]) -> None:
    """Entry point of the template process (see ``_LAUNCHER``)."""
    control = socket.socket(fileno=control_fd)
    problem = sandbox.probe()
    gc.collect()
    gc.freeze()  # what the template allocated is shared copy-on-write; keep the collector off it
    control.send(json.dumps({"reason": problem}).encode())
    _Template(control, clean_path).serve()


class _Template:
    """The template's loop. One *spare* child is always forked ahead, already detached (own
    session, dies with the template) and waiting for its spec, so a cold start does not wait for
    ``fork``; a request that finds no spare forks directly."""

    def __init__(self, control: socket.socket, clean_path: list[str]) -> None:
        self.control = control
        self.clean_path = clean_path
        self.pid = os.getpid()
        self.children: dict[int, int] = {}  # pid -> that child's channel end (for EXITED)
        self.spare: tuple[int, socket.socket] | None = None
        self.wake_read, self.wake_write = os.pipe()
        os.set_blocking(self.wake_read, False)
        os.set_blocking(self.wake_write, False)
        signal.set_wakeup_fd(self.wake_write)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    def serve(self) -> None:
        self.make_spare()
        while True:
            ready, _, _ = select.select([self.control.fileno(), self.wake_read], [], [])
            if self.wake_read in ready:
                try:
                    os.read(self.wake_read, 4096)
                except BlockingIOError:
                    pass
                self.reap()
            if self.control.fileno() in ready:
                message, fds, _flags, _address = socket.recv_fds(self.control, 1 << 20, 4, _CLOEXEC)
                if not message:  # the gateway process is gone
                    self.shutdown()
                if len(fds) == 2:
                    self.spawn(message, fds[0], fds[1])
                else:
                    for fd in fds:
                        os.close(fd)
                if self.spare is None:
                    self.make_spare()

    def spawn(self, message: bytes, channel_fd: int, output_fd: int) -> None:
        if self.spare is not None:
            pid, link = self.spare
            self.spare = None
            try:
                socket.send_fds(link, [message], [channel_fd, output_fd])
            except OSError:  # the spare died: fork one for this request
                pass
            else:
                os.close(output_fd)
                self.children[pid] = channel_fd
                return
            finally:
                link.close()
        try:
            pid = os.fork()
        except OSError as exc:
            _tell(channel_fd, {"error": f"fork failed: {exc}"})
            os.close(channel_fd)
            os.close(output_fd)
            return
        if pid == 0:
            self.detach()
            self.become(json.loads(message), channel_fd, output_fd)
        os.close(output_fd)
        self.children[pid] = channel_fd

    def make_spare(self) -> None:
        link, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            pid = os.fork()
        except OSError:
            link.close()
            theirs.close()
            return
        if pid == 0:
            link.close()
            self.detach()
            bootstrap.prepare()
            message, fds, _flags, _address = socket.recv_fds(theirs, 1 << 20, 4, _CLOEXEC)
            if not message or len(fds) != 2:
                os._exit(0)
            theirs.close()
            self.become(json.loads(message), fds[0], fds[1])
        theirs.close()
        self.spare = (pid, link)

    def reap(self) -> None:
        while True:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if self.spare is not None and self.spare[0] == pid:
                self.spare[1].close()
                self.spare = None
            fd = self.children.pop(pid, None)
            if fd is not None:
                # ru_maxrss (kB): the child's peak memory, measured even if it died before a reading.
                _tell(fd, {"status": status, "maxrss": usage.ru_maxrss})
                os.close(fd)

    def shutdown(self) -> NoReturn:
        for pid in [*self.children, *([self.spare[0]] if self.spare else [])]:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        os._exit(0)

    def detach(self) -> None:
        """In a new child: leave the template's signals, descriptors and session; die with it."""
        try:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            for fd in (self.wake_read, self.wake_write, *self.children.values()):
                os.close(fd)
            self.control.close()
            os.setsid()
            sandbox.die_with_parent()
            if os.getppid() != self.pid:  # the template died before we could ask to follow it
                os._exit(1)
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        except BaseException:  # noqa: BLE001 - end the child, never the template
            os._exit(1)

    def become(self, spec: dict[str, Any], channel_fd: int, output_fd: int) -> NoReturn:
        """In the new child: set up the environment, then run the runtime (never returns)."""
        try:
            channel = self._isolate(spec, channel_fd, output_fd)
        except BaseException as exc:  # noqa: BLE001 - report and end the child, never the template
            os.write(2, f"lambda-gateway: cannot start the execution environment: {exc!r}\n".encode())
            os._exit(1)
        if spec.get("exec"):
            _exec(spec["exec"], channel)
        bootstrap.run(channel, spec["handler"], spec["code_uri"], [*spec.get("python_path", ()), *self.clean_path])

    def _isolate(self, spec: dict[str, Any], channel_fd: int, output_fd: int) -> socket.socket:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        os.close(null)
        os.close(output_fd)
        if spec.get("tmp_mb"):
            needed = [spec["code_uri"], *spec.get("keep", ()), *self.clean_path, sys.prefix, sys.base_prefix]
            sandbox.private_tmp(int(spec["tmp_mb"]), sandbox.under_tmp(needed))
        os.chdir(spec["code_uri"])
        os.environ.clear()
        os.environ.update(spec["env"])
        time.tzset()
        os.set_inheritable(channel_fd, False)  # already so where MSG_CMSG_CLOEXEC exists
        channel = socket.socket(fileno=channel_fd)
        channel.sendall(wire.pack(wire.HELLO, {"pid": os.getpid()}))
        return channel


def _exec(path: str, channel: socket.socket) -> NoReturn:
    """Start a custom runtime's ``bootstrap`` (the channel is close-on-exec)."""
    for signum in (signal.SIGPIPE, signal.SIGXFSZ):  # Python ignores them; programs expect the default
        signal.signal(signum, signal.SIG_DFL)
    try:
        os.execve(path, [path], dict(os.environ))
    except OSError as exc:
        # Go's spelling (Lambda's runtime manager is written in Go): "permission denied".
        channel.sendall(wire.pack(wire.EXEC_FAILED, {"error": (exc.strerror or str(exc)).lower()}))
        os._exit(127)


def _tell(fd: int, header: dict[str, Any]) -> None:
    """Write an EXITED frame to a child's channel without ever blocking the template."""
    try:
        os.set_blocking(fd, False)
        os.write(fd, wire.pack(wire.EXITED, header))
    except OSError:
        pass
