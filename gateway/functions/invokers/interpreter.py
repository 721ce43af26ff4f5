"""What in-process environments share with each other and with the gateway: one interpreter.

``os.environ`` (``ENVIRON`` switches it between environments), ``sys.modules`` and
``sys.path`` (``prepare_import`` gives each INIT a fresh import of the function's code), and
the process's memory (``max_memory_used_mb``).
"""

from __future__ import annotations

import importlib
import math
import os
import sys
import sysconfig
import threading
import time
from pathlib import Path

from gateway.config import FunctionConfig
from gateway.functions.credentials import GATEWAY_CREDENTIAL_VARIABLES
from gateway.functions.layers import python_paths

try:
    import resource
except ImportError:  # pragma: no cover - not POSIX
    resource = None  # type: ignore[assignment]


class SharedEnviron:
    """``os.environ`` is process-wide, so it holds the variables of the environment that ran last.

    An environment's variables are applied when it runs after another one (its INIT included)
    and restored to the gateway's values when it ends; the gateway's own credential variables
    (``credentials.GATEWAY_CREDENTIAL_VARIABLES``) are removed meanwhile, unless the function's
    role sets them. So code of the gateway that reads AWS credentials from ``os.environ`` must do
    it before any in-process function runs. While one environment keeps running,
    changes its handler makes to ``os.environ`` persist, as they do on Lambda. Concurrent
    invocations of different in-process functions see each other's variables. A ``TZ`` change
    (``:UTC`` by default, as on Lambda) re-reads the time zone for the whole process.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: object | None = None
        self._saved: dict[str, str | None] = {}
        self._trace: str | None = None  # the _X_AMZN_TRACE_ID we set last (None: we removed it)

    def activate(self, owner: object, variables: dict[str, str], trace_id: str | None) -> None:
        """Make ``variables`` current for ``owner`` and set ``_X_AMZN_TRACE_ID`` for this invocation."""
        with self._lock:
            if self._owner is not owner:
                self._restore()
                hidden = [name for name in GATEWAY_CREDENTIAL_VARIABLES if name not in variables]
                self._saved = {name: os.environ.get(name) for name in (*variables, *hidden, "_X_AMZN_TRACE_ID")}
                zone = os.environ.get("TZ")
                os.environ.update(variables)
                for name in hidden:  # the gateway's own credentials are not the function's
                    os.environ.pop(name, None)
                self._owner = owner
                self._trace = os.environ.get("_X_AMZN_TRACE_ID")
                if os.environ.get("TZ") != zone:
                    time.tzset()
            # Set per invocation, removed when there is none (awslambdaric update_xray_env_variable).
            if trace_id != self._trace:
                self._trace = trace_id
                if trace_id is not None:
                    os.environ["_X_AMZN_TRACE_ID"] = trace_id
                else:
                    os.environ.pop("_X_AMZN_TRACE_ID", None)

    def release(self, owner: object) -> None:
        """Give the gateway its own values back if ``owner`` holds ``os.environ``."""
        with self._lock:
            if self._owner is owner:
                self._restore()

    def _restore(self) -> None:
        zone = os.environ.get("TZ")
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved = {}
        self._owner = None
        if os.environ.get("TZ") != zone:
            time.tzset()


ENVIRON = SharedEnviron()


def _protected_paths() -> tuple[str, ...]:
    """Where modules never belong to a function: the interpreter, site-packages, the gateway itself."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        paths.add(sysconfig.get_paths()[key])
    gateway_dir = Path(__file__).resolve().parents[2]
    paths.update({str(gateway_dir), str(gateway_dir.parent / "edge")})
    return tuple(os.path.join(path, "") for path in paths)


_PROTECTED = _protected_paths()
_OWN_PACKAGES = ("gateway", "edge")


_INIT_LOCKS: dict[str, threading.Lock] = {}
_INIT_LOCKS_GUARD = threading.Lock()


def init_lock(function: FunctionConfig) -> threading.Lock:
    """The lock in-process INITs of handlers with this function's top-level module take turns on."""
    top = function.handler.rsplit(".", 1)[0].split(".")[0]
    with _INIT_LOCKS_GUARD:
        return _INIT_LOCKS.setdefault(top, threading.Lock())


def prepare_import(function: FunctionConfig) -> None:
    """Make the next import of the handler module a fresh one, from ``code_uri``, as a new INIT.

    Removes from ``sys.modules`` the handler's top-level package and every module loaded from
    ``code_uri`` or the function's layers (never the standard library, site-packages or the
    gateway's own modules), puts ``code_uri`` first on ``sys.path`` and the layers' python
    directories right after it (they stay there: handlers import lazily) and drops the import
    system's directory caches so files written a moment ago are seen.
    """
    roots = [str(function.code_uri), *python_paths(function)]
    prefixes = tuple(os.path.join(root, "") for root in roots)
    top = function.handler.rsplit(".", 1)[0].split(".")[0]
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in _OWN_PACKAGES:
            continue
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and file.startswith(_PROTECTED):
            continue
        if name == top or name.startswith(top + ".") or (isinstance(file, str) and file.startswith(prefixes)):
            del sys.modules[name]
    for root in roots:
        if root in sys.path:
            sys.path.remove(root)
    sys.path[0:0] = roots
    importlib.invalidate_caches()


#: How long a reading of the peak RSS is reused. getrusage was 4% of the gateway's CPU under load
#: with a trivial handler (one call per REPORT line); the peak rarely moves within 100 ms.
_MEMORY_READING_TTL = 0.1
_memory_reading = (-1.0, 0)  # (time.monotonic() of the reading, MB)


def max_memory_used_mb() -> int:
    """Peak resident memory of the whole process, in MB, rounded up (``ru_maxrss``), read at most every 100 ms."""
    global _memory_reading
    if resource is None:  # pragma: no cover
        return 0
    now = time.monotonic()
    read_at, mb = _memory_reading
    if read_at < 0 or now - read_at >= _MEMORY_READING_TTL:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        mb = math.ceil(peak / (1024 * 1024 if sys.platform == "darwin" else 1024))
        _memory_reading = (now, mb)
    return mb
