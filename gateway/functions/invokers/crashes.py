"""What the Lambda service says when an execution environment's process ends on its own.

The runtime process exits (``sys.exit``, ``os._exit``), dies of a signal (a segfault, the kernel's
out-of-memory killer) or cannot be started at all. Lambda then answers with a compact service
error and logs the same message before END; REPORT says ``Status: error`` with the error type.
The wording is Go's ``os.ProcessState`` ("exit status 3", "signal: killed"): Lambda's runtime
manager is written in Go. https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
"""

from __future__ import annotations

import json
import os
import signal

from gateway.functions import runtime

#: The error type of an environment killed for using more than ``memory_size``. Current Lambda
#: answers ``{"errorType":"Runtime.OutOfMemory","errorMessage":"RequestId: <id> Error: Runtime
#: exited with error: signal: killed"}`` and its REPORT says ``Status: error`` and ``Error Type:
#: Runtime.OutOfMemory``; older answers named Runtime.ExitError.
OUT_OF_MEMORY = "Runtime.OutOfMemory"

#: A custom runtime's bootstrap that cannot be started (missing, not executable).
INVALID_ENTRYPOINT = "Runtime.InvalidEntrypoint"

# Go's names for signals (Lambda's "Runtime exited with error: signal: killed" is Go's ProcessState).
_SIGNAL_NAMES = {
    signal.SIGKILL: "killed", signal.SIGSEGV: "segmentation fault", signal.SIGABRT: "aborted",
    signal.SIGTERM: "terminated", signal.SIGBUS: "bus error", signal.SIGFPE: "floating point exception",
    signal.SIGILL: "illegal instruction", signal.SIGINT: "interrupt", signal.SIGPIPE: "broken pipe",
    signal.SIGHUP: "hangup", signal.SIGQUIT: "quit", signal.SIGTRAP: "trace/breakpoint trap",
    signal.SIGSYS: "bad system call", signal.SIGALRM: "alarm clock", signal.SIGUSR1: "user defined signal 1",
    signal.SIGUSR2: "user defined signal 2", signal.SIGXCPU: "CPU time limit exceeded",
    signal.SIGXFSZ: "file size limit exceeded",
}


def exit_message(request_id: str, status: int | None) -> str:
    """``RequestId: <id> Error: Runtime exited with error: exit status 3`` / ``signal: segmentation fault``.

    ``status`` is the wait status (None: unknown). Exit status 0 is "Runtime exited without
    providing a reason", as for ``sys.exit()`` in-process.
    """
    if status is not None and os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        name = _SIGNAL_NAMES.get(number, f"signal {number}")  # type: ignore[call-overload]
        return f"RequestId: {request_id} Error: Runtime exited with error: signal: {name}"
    code = os.WEXITSTATUS(status) if status is not None and os.WIFEXITED(status) else None
    return runtime.exit_message(request_id, code)


def service_error(error_type: str, message: str) -> bytes:
    """``{"errorType":"...","errorMessage":"..."}``: compact JSON, written by the service."""
    return json.dumps({"errorType": error_type, "errorMessage": message}, separators=(",", ":")).encode()
