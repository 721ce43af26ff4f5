"""Layers: directories a function sees the way a Lambda function sees its layers in /opt.

On Lambda every layer is extracted into /opt, in the function's order, so a later layer's file
replaces an earlier layer's file of the same path ("the order in which Lambda merges the layer
content"). ``python`` and ``python/lib/python3.x/site-packages`` are on the import path after the
function's code, ``bin`` is on PATH after the system directories, ``lib`` on LD_LIBRARY_PATH.
https://docs.aws.amazon.com/lambda/latest/dg/packaging-layers.html
https://docs.aws.amazon.com/lambda/latest/dg/adding-layers.html

Here the layer directories stay where they are. Each one's ``python``, ``bin`` and ``lib`` go on
the paths, the last layer first, so a file in a later layer is found before the same file in an
earlier one. What differs:

- there is no /opt. A handler that opens ``/opt/...`` by its absolute path does not find its
  layer's files. Code that works in both places finds them relative to a layer module's
  ``__file__``, with ``importlib.resources``, or on PATH. (Process environments in a mount
  namespace could bind-mount the layers at /opt; in-process ones cannot);
- a package split across two layers is not merged: the first layer that has it wins, whole;
- in-process, LD_LIBRARY_PATH reaches only the processes a handler starts (the gateway's own
  dynamic loader read it when the gateway started).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from gateway.config import FunctionConfig

# The gateway's own values, read once at import (before any in-process function changes os.environ).
_HOST_PATH = os.environ.get("PATH", os.defpath)
_HOST_LIBRARY_PATH = os.environ.get("LD_LIBRARY_PATH", "")


def python_paths(function: FunctionConfig) -> list[str]:
    """The layers' import path entries that exist, in search order (they go after ``code_uri``)."""
    site = Path("python", "lib", f"python{sys.version_info.major}.{sys.version_info.minor}", "site-packages")
    paths: list[str] = []
    for layer in reversed(function.layers):
        paths += [str(layer / site), str(layer / "python")]
    return [path for path in paths if os.path.isdir(path)]


def layer_variables(function: FunctionConfig) -> dict[str, str]:
    """PATH and LD_LIBRARY_PATH with the layers' ``bin`` and ``lib`` after the host's (none without layers)."""
    if not function.layers:
        return {}
    layers = list(reversed(function.layers))
    library_path = [_HOST_LIBRARY_PATH] if _HOST_LIBRARY_PATH else []
    return {
        "PATH": os.pathsep.join([_HOST_PATH, *(str(layer / "bin") for layer in layers)]),
        "LD_LIBRARY_PATH": os.pathsep.join([*library_path, *(str(layer / "lib") for layer in layers)]),
    }
