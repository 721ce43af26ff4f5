"""Layers: python/ on the import path after the code, bin/ on PATH, lib/ on LD_LIBRARY_PATH."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from gateway.config import FunctionConfig
from gateway.functions.invokers import INVOKERS
from gateway.functions.layers import layer_variables, python_paths
from tests.functions.conftest import ServiceFactory, function

ISOLATIONS = [kind for kind in ("inprocess", "process") if kind in INVOKERS]

HANDLER = '''
import os
import shutil
import subprocess

import lgw_layer_common
import lgw_layer_first_only
import lgw_layer_shadowed

def handler(event, context):
    tool = shutil.which("lgw-layer-tool")
    return {
        "common": lgw_layer_common.WHO,
        "first_only": lgw_layer_first_only.WHO,
        "shadowed": lgw_layer_shadowed.WHO,
        "tool": subprocess.run([tool], capture_output=True, text=True).stdout.strip() if tool else None,
        "library_path": os.environ.get("LD_LIBRARY_PATH", ""),
    }
'''


def layer(root: Path, name: str, modules: dict[str, str], tool: str | None = None) -> Path:
    directory = root / name
    (directory / "python").mkdir(parents=True)
    (directory / "lib").mkdir()
    for module, who in modules.items():
        (directory / "python" / f"{module}.py").write_text(f"WHO = {who!r}\n")
    if tool is not None:
        (directory / "bin").mkdir()
        script = directory / "bin" / "lgw-layer-tool"
        script.write_text(f"#!/bin/sh\necho {tool}\n")
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return directory


@pytest.mark.parametrize("isolation", ISOLATIONS)
async def test_handler_imports_from_layers_and_runs_their_tools(
    tmp_path: Path, service_factory: ServiceFactory, isolation: str
) -> None:
    first = layer(tmp_path, "first", {"lgw_layer_common": "first", "lgw_layer_first_only": "first",
                                      "lgw_layer_shadowed": "first"}, tool="from-first")
    second = layer(tmp_path, "second", {"lgw_layer_common": "second"}, tool="from-second")
    code = tmp_path / "code"
    code.mkdir()
    (code / "lgw_layered.py").write_text(HANDLER)
    (code / "lgw_layer_shadowed.py").write_text("WHO = 'code'\n")
    fn = function("app", "lgw_layered.handler", code_uri=code, layers=(first, second), isolation=isolation)
    service = service_factory(fn)
    seen = json.loads((await service.invoke("app", b"{}")).payload)
    assert seen["common"] == "second"  # the later layer's file, as if extracted over the first one
    assert seen["first_only"] == "first"
    assert seen["shadowed"] == "code"  # the function's own code comes first
    assert seen["tool"] == "from-second"
    assert seen["library_path"].split(os.pathsep)[-2:] == [str(second / "lib"), str(first / "lib")]


def test_paths_and_variables_in_search_order(tmp_path: Path) -> None:
    first = layer(tmp_path, "first", {})
    second = layer(tmp_path, "second", {})
    (second / "python" / "lib" / "python3.99" / "site-packages").mkdir(parents=True)  # another Python's
    site = first / "python" / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    site.mkdir(parents=True)
    fn = FunctionConfig(handler="a.b", layers=(first, second))
    assert python_paths(fn) == [str(second / "python"), str(site), str(first / "python")]
    variables = layer_variables(fn)
    assert variables["PATH"].split(os.pathsep)[-2:] == [str(second / "bin"), str(first / "bin")]
    assert variables["PATH"].startswith(os.environ["PATH"])
    assert layer_variables(FunctionConfig(handler="a.b")) == {}


async def test_a_functions_own_path_wins(tmp_path: Path, service_factory: ServiceFactory) -> None:
    one = layer(tmp_path, "one", {})
    fn = function("env", "environ", layers=(one,), environment={"PATH": "/mine"})
    service = service_factory(fn)
    seen = json.loads((await service.invoke("env", b'{"names": ["PATH"]}')).payload)
    assert seen == {"PATH": "/mine"}
