"""Hot reload: when a file under a function's ``code_uri`` or one of its ``layers`` changes, the
function's invoker retires its environments, so new invocations INIT fresh ones with the new code.

A polling watcher, so no dependency and no OS-specific API: every ``interval`` seconds a worker
thread stats every file of every watched tree (``__pycache__``, dot directories and ``NOT_CODE``
skipped) and compares ``(mtime_ns, size)`` with the previous pass. A tree that takes long to scan is polled
less often (at most one tenth of the time goes to scanning). A ``.py`` file that changed loses
its cached ``.pyc``: CPython validates a ``.pyc`` by the source's mtime in whole seconds and its
size, so a same-size edit within the second would otherwise import the old code.

Invokers opt in by having ``retire_environments()`` (``Reloadable``): idle environments end now,
a busy one after its current invocation; either way the next invocation gets a new environment.
Remote functions have no local code and are not watched.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable

from gateway.config import FunctionConfig

_logger = logging.getLogger("gateway.functions")

#: Seconds between two passes over the watched trees (longer for trees that are slow to scan).
INTERVAL = 0.5

Snapshot = dict[str, tuple[int, int]]

#: Files that change while the gateway runs without being code: logs (``gateway serve > out.log``
#: inside the code directory reloaded the function on every line), editor swap and backup files,
#: SQLite journals. Any other file may be read by a handler at INIT and is watched.
NOT_CODE = (".log", ".swp", ".swo", ".swx", "~", "-journal", "-wal", "-shm")


@runtime_checkable
class Reloadable(Protocol):
    """An invoker whose environments can be replaced with fresh ones (hot reload)."""

    def retire_environments(self) -> None:
        """New invocations go to new environments; busy environments finish their invocation first."""
        ...


def watched_trees(functions: Mapping[str, FunctionConfig]) -> dict[Path, list[str]]:
    """Each directory to watch, with the functions (keys of ``functions``) whose code lives there."""
    trees: dict[Path, list[str]] = {}
    for key, function in functions.items():
        if function.endpoint is not None:
            continue
        for root in (function.code_uri, *function.layers):
            names = trees.setdefault(Path(root), [])
            if key not in names:
                names.append(key)
    return trees


def scan(root: Path) -> Snapshot:
    """``{path: (mtime_ns, size)}`` of every file under ``root``, skipping ``__pycache__`` and dot directories."""
    found: Snapshot = {}
    stack = [str(root)]
    while stack:
        directory = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:  # removed meanwhile, or unreadable
            continue
        for entry in entries:
            try:
                if entry.is_dir():
                    if entry.name != "__pycache__" and not entry.name.startswith("."):
                        stack.append(entry.path)
                elif entry.is_file():
                    if entry.name.endswith(NOT_CODE):
                        continue
                    info = entry.stat()
                    found[entry.path] = (info.st_mtime_ns, info.st_size)
            except OSError:
                continue
    return found


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    """Files added, removed or modified between two snapshots, sorted."""
    return sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))


def forget_bytecode(paths: Iterable[str]) -> None:
    """Remove the cached ``.pyc`` of each changed ``.py`` file (see the module docstring)."""
    for path in paths:
        if path.endswith(".py"):
            with contextlib.suppress(OSError, ValueError, NotImplementedError):
                os.unlink(importlib.util.cache_from_source(path))


class CodeWatcher:
    """Polls the trees of ``functions`` and calls ``on_change(key)`` for every function whose code changed."""

    def __init__(
        self,
        functions: Mapping[str, FunctionConfig],
        on_change: Callable[[str], None],
        *,
        interval: float = INTERVAL,
    ) -> None:
        self.trees = watched_trees(functions)
        self.on_change = on_change
        self.interval = interval
        self._snapshots: dict[Path, Snapshot] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start polling (call from the event loop). Nothing is started when there is nothing to watch."""
        if self.trees and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="lambda-gateway reload")

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        delay = await asyncio.to_thread(self._first_pass)
        while True:
            await asyncio.sleep(delay)
            changed, delay = await asyncio.to_thread(self._next_pass)
            for root, paths in changed.items():
                self._notify(root, paths)

    def _first_pass(self) -> float:
        started = time.perf_counter()
        self._snapshots = {root: scan(root) for root in self.trees}
        return self._delay(time.perf_counter() - started)

    def _next_pass(self) -> tuple[dict[Path, list[str]], float]:
        started = time.perf_counter()
        changed: dict[Path, list[str]] = {}
        for root in self.trees:
            after = scan(root)
            paths = changes(self._snapshots.get(root, {}), after)
            self._snapshots[root] = after
            if paths:
                forget_bytecode(paths)
                changed[root] = paths
        return changed, self._delay(time.perf_counter() - started)

    def _delay(self, scan_seconds: float) -> float:
        return max(self.interval, 10 * scan_seconds)

    def _notify(self, root: Path, paths: list[str]) -> None:
        shown = ", ".join(os.path.relpath(path, root) for path in paths[:3]) + (" ..." if len(paths) > 3 else "")
        keys = self.trees[root]
        _logger.info("hot reload: %s changed in %s; new environments for %s", shown, root, ", ".join(keys))
        for key in keys:
            try:
                self.on_change(key)
            except Exception:  # noqa: BLE001 - one invoker's failure must not stop the watcher
                _logger.exception("hot reload of %r failed", key)
