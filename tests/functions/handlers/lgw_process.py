"""Handlers for the process-isolation tests (code_uri = this directory). Plain Lambda handlers."""

from __future__ import annotations

import ctypes
import os
import sys
import tempfile
import threading
import time
from typing import Any

COUNTER = 0
PID = os.getpid()


def state(event: dict[str, Any], context: Any) -> Any:
    """Module globals and a file in /tmp: both survive warm invocations of one environment."""
    global COUNTER
    COUNTER += 1
    path = "/tmp/lgw-state.txt"
    seen = open(path).read() if os.path.exists(path) else ""
    with open(path, "a") as fh:
        fh.write(f"{context.aws_request_id}\n")
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return {"count": COUNTER, "pid": PID, "seen": seen.split(), "tmp": sorted(os.listdir("/tmp")),
            "tmpdir": tempfile.gettempdir()}


def sleepy(event: dict[str, Any], context: Any) -> Any:
    time.sleep(event.get("seconds", 5))
    print("after the sleep")
    return "woke up"


def spans(event: dict[str, Any], context: Any) -> Any:
    start = time.time()
    time.sleep(event.get("seconds", 0.3))
    return [PID, start, time.time()]


def allocate(event: dict[str, Any], context: Any) -> Any:
    """Touch ``mb`` megabytes, a chunk at a time, and keep them."""
    chunks = []
    for _ in range(event["mb"]):
        chunks.append(b"x" * (1024 * 1024))
        time.sleep(event.get("pause", 0.002))
    return len(chunks)


def hard_exit(event: dict[str, Any], context: Any) -> Any:
    print("about to exit")
    sys.stdout.flush()
    os._exit(event.get("code", 3))


def segfault(event: dict[str, Any], context: Any) -> Any:
    ctypes.string_at(0)


def environ(event: dict[str, Any], context: Any) -> Any:
    return dict(os.environ)


def where(event: dict[str, Any], context: Any) -> Any:
    return {"cwd": os.getcwd(), "path0": sys.path[0], "pid": os.getpid()}


def fill_tmp(event: dict[str, Any], context: Any) -> Any:
    """Write ``mb`` megabytes to /tmp: ENOSPC past ephemeral_storage."""
    try:
        with open("/tmp/lgw-fill", "wb") as fh:
            for _ in range(event["mb"]):
                fh.write(b"\0" * (1024 * 1024))
                fh.flush()
        return "written"
    except OSError as exc:
        return f"{type(exc).__name__}: errno {exc.errno}"
    finally:
        if os.path.exists("/tmp/lgw-fill"):
            os.remove("/tmp/lgw-fill")


def background_print(event: dict[str, Any], context: Any) -> Any:
    """Output from a thread and from a subprocess (below Python's sys.stdout) reaches the log."""
    thread = threading.Thread(target=print, args=("from a thread",))
    thread.start()
    thread.join()
    os.system("echo from a subprocess")
    os.write(2, b"raw to fd 2\n")
    return "ok"


def slow_chatter(event: dict[str, Any], context: Any) -> Any:
    print("before the pause")
    time.sleep(event.get("seconds", 0.6))
    print("after the pause")
    return "done"


def tmp_file(event: dict[str, Any], context: Any) -> Any:
    """A file in the temporary directory (TMPDIR when there is no private /tmp)."""
    path = os.path.join(tempfile.gettempdir(), "lgw-tmp-file")
    seen = open(path).read() if os.path.exists(path) else ""
    with open(path, "a") as fh:
        fh.write(context.aws_request_id + "\n")
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return {"dir": tempfile.gettempdir(), "seen": seen.split()}
