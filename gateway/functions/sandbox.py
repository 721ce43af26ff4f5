"""A private ``/tmp`` for each execution environment, made in the child before the runtime starts.

Lambda gives every execution environment its own ``/tmp`` (ephemeral storage, 512 MB by
default, up to 10,240 MB); files there persist across the environment's invocations and are
never seen by another environment. A write past the size fails with ENOSPC.
https://docs.aws.amazon.com/lambda/latest/dg/configuration-ephemeral-storage.html

On Linux the child enters a new mount namespace (``unshare(CLONE_NEWNS)``, with
``CLONE_NEWUSER`` and an identity uid/gid map when it is not root), makes every mount private so
nothing propagates back to the host, and mounts a tmpfs of the configured size on ``/tmp``. The
rest of the file system stays as it is. Python 3.11 has no ``os.unshare``: libc is called
through ctypes. Where this is not allowed (not Linux, user namespaces disabled, seccomp), the
gateway falls back to TMPDIR pointing at a private directory instead, with no size limit.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Iterable

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_NOSUID = 2
MS_NODEV = 4
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
PR_SET_PDEATHSIG = 1

_libc: ctypes.CDLL | None = None


def _lib() -> ctypes.CDLL:
    """libc (through the process's global symbols: no ``find_library``, which runs a subprocess)."""
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def private_tmp(size_mb: int, keep: Iterable[str] = ()) -> None:
    """Give the calling (single-threaded) process its own tmpfs on /tmp. Raises OSError if not allowed.

    ``keep``: directories under /tmp the environment still needs (a ``code_uri`` or a layer in a
    temporary directory, the interpreter of a virtualenv made there); each is bind-mounted back
    at its own path inside the new /tmp.
    """
    if not sys.platform.startswith("linux"):
        raise OSError(0, "private /tmp needs Linux mount namespaces")
    libc = _lib()
    uid, gid = os.getuid(), os.getgid()
    if uid == 0:
        _check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    else:
        _check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS), "unshare(CLONE_NEWUSER|CLONE_NEWNS)")
        for path, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{path}", "w") as fh:
                fh.write(text)
    _check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
    # Opened in the new namespace (a bind mount's source must belong to it), before /tmp is covered.
    kept = [(path, os.open(path, os.O_PATH | os.O_CLOEXEC)) for path in _outermost(keep)]
    options = f"size={size_mb}m,mode=1777".encode()
    _check(libc.mount(b"tmpfs", b"/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, options), "mount tmpfs /tmp")
    for path, fd in kept:
        os.makedirs(path, exist_ok=True)
        source = f"/proc/self/fd/{fd}".encode()
        _check(libc.mount(source, path.encode(), None, MS_BIND | MS_REC, None), f"mount --bind {path}")
        os.close(fd)


def under_tmp(paths: Iterable[str]) -> list[str]:
    """The existing directories among ``paths`` that lie under /tmp (they would be hidden)."""
    tmp = os.path.join(os.path.realpath("/tmp"), "")
    found = []
    for path in paths:
        real = os.path.realpath(path)
        if real.startswith(tmp) and os.path.isdir(real):
            found.append(real)
    return found


def _outermost(paths: Iterable[str]) -> list[str]:
    chosen: list[str] = []
    for path in sorted(set(paths)):
        if not any(path.startswith(os.path.join(parent, "")) for parent in chosen):
            chosen.append(path)
    return chosen


def probe() -> str | None:
    """Try ``private_tmp`` in a throw-away child: None if it works, else why not."""
    if not sys.platform.startswith("linux"):
        return "private /tmp needs Linux mount namespaces"
    _lib()  # loaded once here, in the template, not in every child
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read_end)
        try:
            private_tmp(1)
            message = b""
        except OSError as exc:
            message = str(exc).encode()
        os.write(write_end, message)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        message = reader.read()
    os.waitpid(pid, 0)
    return message.decode() or None


def die_with_parent() -> None:
    """Linux: SIGKILL this process when its parent (the template) ends."""
    if sys.platform.startswith("linux"):
        _lib().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
