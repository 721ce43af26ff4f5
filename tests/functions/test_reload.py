"""Hot reload: the polling watcher, and in-process functions picking up edited code without a restart."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import time
from pathlib import Path
from typing import Literal

import pytest

from gateway.config import FunctionConfig
from gateway.functions.reload import CodeWatcher, changes, forget_bytecode, scan, watched_trees
from tests.functions.conftest import ServiceFactory

HANDLER = '''
import time

VERSION = {version!r}

def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return VERSION
'''


def write(path: Path, text: str) -> None:
    """Write, then move the mtime on: file systems with coarse timestamps would hide a quick edit."""
    before = path.stat().st_mtime if path.exists() else time.time()
    path.write_text(text)
    os.utime(path, (before + 2, before + 2))


def handler_dir(tmp_path: Path, version: str, module: str = "reload_app") -> Path:
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    write(code / f"{module}.py", HANDLER.format(version=version))
    return code


async def answer(service: object, name: str = "fn", **event: object) -> str:
    result = await service.invoke(name, json.dumps(event).encode())  # type: ignore[attr-defined]
    assert result.function_error is None, result.payload
    return str(json.loads(result.payload))


async def eventually(service: object, expected: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while (got := await answer(service)) != expected:
        assert time.monotonic() < deadline, f"still {got!r}"
        await asyncio.sleep(0.02)


def test_scan_skips_bytecode_dot_directories_logs_and_editor_files(tmp_path: Path) -> None:
    for relative in ("a.py", "pkg/b.py", "pkg/__pycache__/b.cpython-311.pyc", ".git/HEAD", "pkg/.hidden/c.py",
                     "gateway.log", "pkg/.b.py.swp", "pkg/b.py~"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("x")
    before = scan(tmp_path)
    assert sorted(os.path.relpath(p, tmp_path) for p in before) == ["a.py", os.path.join("pkg", "b.py")]
    write(tmp_path / "a.py", "y")
    (tmp_path / "pkg" / "new.txt").write_text("n")
    (tmp_path / "pkg" / "b.py").unlink()
    assert [os.path.relpath(p, tmp_path) for p in changes(before, scan(tmp_path))] == [
        "a.py", os.path.join("pkg", "b.py"), os.path.join("pkg", "new.txt")]
    assert scan(tmp_path / "missing") == {}


def test_forget_bytecode_removes_the_cached_pyc(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("X = 1\n")
    cached = Path(importlib.util.cache_from_source(str(source)))
    cached.parent.mkdir()
    cached.write_bytes(b"stale")
    forget_bytecode([str(source), str(tmp_path / "data.json")])
    assert not cached.exists()


def test_watched_trees_group_functions_and_skip_remote_ones(tmp_path: Path) -> None:
    layer = tmp_path / "layer"
    functions = {
        "a": FunctionConfig(name="a", handler="m.h", code_uri=tmp_path, layers=(layer,)),
        "b": FunctionConfig(name="b", handler="m.h", code_uri=tmp_path),
        "r": FunctionConfig(name="r", endpoint="http://127.0.0.1:9000", code_uri=tmp_path / "x"),
    }
    assert watched_trees(functions) == {tmp_path: ["a", "b"], layer: ["a"]}


async def test_the_watcher_reports_the_functions_of_a_changed_tree(tmp_path: Path) -> None:
    code = handler_dir(tmp_path, "v1")
    seen: list[str] = []
    watcher = CodeWatcher({"fn": FunctionConfig(name="fn", handler="reload_app.handler", code_uri=code)},
                          seen.append, interval=0.02)
    watcher.start()
    try:
        await asyncio.sleep(0.1)
        assert seen == []
        write(code / "reload_app.py", HANDLER.format(version="v2"))
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.02)
        assert seen == ["fn"]
    finally:
        await watcher.aclose()


@pytest.mark.parametrize("isolation", ["inprocess", "process"])
async def test_an_edit_is_served_without_a_restart(tmp_path: Path, service_factory: ServiceFactory,
                                                   isolation: Literal["inprocess", "process"]) -> None:
    code = handler_dir(tmp_path, "v1")
    service = service_factory(FunctionConfig(name="fn", handler="reload_app.handler", code_uri=code, timeout=5,
                                             isolation=isolation))
    watcher = service.watch_code(interval=0.02)
    try:
        assert await answer(service) == "v1"
        await asyncio.sleep(0.1)  # the watcher's first pass
        write(code / "reload_app.py", HANDLER.format(version="v2"))
        await eventually(service, "v2")
        result = await service.invoke("fn", b"{}")
        assert result.init_duration_ms is None  # the new environment is warm again after its INIT
    finally:
        await watcher.aclose()


@pytest.mark.parametrize("isolation", ["inprocess", "process"])
async def test_a_change_in_a_layer_is_picked_up(tmp_path: Path, service_factory: ServiceFactory,
                                                isolation: Literal["inprocess", "process"]) -> None:
    code = tmp_path / "code"
    code.mkdir()
    write(code / "layered_app.py", "from layered_shared import VALUE\n\ndef handler(event, context):\n"
                                   "    return VALUE\n")
    python = tmp_path / "layer" / "python"
    python.mkdir(parents=True)
    write(python / "layered_shared.py", "VALUE = 'one'\n")
    fn = FunctionConfig(name="fn", handler="layered_app.handler", code_uri=code, layers=(tmp_path / "layer",),
                        isolation=isolation)
    service = service_factory(fn)
    watcher = service.watch_code(interval=0.02)
    try:
        assert await answer(service) == "one"
        await asyncio.sleep(0.1)
        write(python / "layered_shared.py", "VALUE = 'two'\n")
        await eventually(service, "two")
    finally:
        await watcher.aclose()


@pytest.mark.parametrize("isolation", ["inprocess", "process"])
async def test_a_busy_environment_finishes_with_the_old_code(tmp_path: Path, service_factory: ServiceFactory,
                                                             isolation: Literal["inprocess", "process"]) -> None:
    code = handler_dir(tmp_path, "v1", module="busy_app")
    service = service_factory(FunctionConfig(name="fn", handler="busy_app.handler", code_uri=code, timeout=5,
                                             isolation=isolation))
    assert await answer(service) == "v1"
    running = asyncio.create_task(answer(service, sleep=0.3))
    await asyncio.sleep(0.1)
    write(code / "busy_app.py", HANDLER.format(version="v2"))
    service.retire_environments("fn")
    queued = asyncio.create_task(answer(service))
    assert await running == "v1"
    assert await queued == "v2"
    assert await answer(service) == "v2"


@pytest.mark.parametrize("isolation", ["inprocess", "process"])
async def test_retiring_an_idle_environment_and_unknown_names(tmp_path: Path, service_factory: ServiceFactory,
                                                              isolation: Literal["inprocess", "process"]) -> None:
    code = handler_dir(tmp_path, "v1", module="idle_app")
    service = service_factory(FunctionConfig(name="fn", handler="idle_app.handler", code_uri=code,
                                             isolation=isolation))
    service.retire_environments("fn")  # no environment yet: nothing to do
    assert await answer(service) == "v1"
    write(code / "idle_app.py", HANDLER.format(version="v2"))
    service.retire_environments("fn")
    service.retire_environments("nope")
    assert await answer(service) == "v2"


async def test_nothing_to_watch_starts_nothing() -> None:
    watcher = CodeWatcher({}, lambda key: None, interval=0.02)
    watcher.start()
    await watcher.aclose()
