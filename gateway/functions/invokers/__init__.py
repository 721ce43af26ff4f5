"""Invokers: how a function's environments run. One module per isolation kind (STYLE H11).

``INVOKERS`` maps a function's ``isolation`` config string to a factory with the signature of
``InvokerFactory``; the functions service builds one invoker per function: ``"process"`` (the
default: child processes, process.py), ``"inprocess"`` (threads of the gateway, inprocess.py) or
``"remote"`` (a Lambda Invoke API endpoint, remote.py).
"""

from __future__ import annotations

from typing import Protocol

from gateway.config import FunctionConfig, GatewaySettings
from gateway.functions.invokers.inprocess import InProcessInvoker
from gateway.functions.invokers.process import ProcessInvoker
from gateway.functions.invokers.remote import RemoteInvoker
from gateway.functions.logs import LogSink
from gateway.types import Invoker


class InvokerFactory(Protocol):
    """Builds the invoker for one function. Must not start threads or processes (that is lazy)."""

    def __call__(self, function: FunctionConfig, settings: GatewaySettings, *, log: LogSink) -> Invoker: ...


INVOKERS: dict[str, InvokerFactory] = {
    "inprocess": InProcessInvoker,
    "process": ProcessInvoker,
    "remote": RemoteInvoker,
}


def invoker_kind(function: FunctionConfig) -> str:
    """The ``INVOKERS`` key for a function: ``"remote"`` when it has an ``endpoint``, else its isolation."""
    return "remote" if function.endpoint is not None else function.isolation

__all__ = ["INVOKERS", "InProcessInvoker", "InvokerFactory", "ProcessInvoker", "RemoteInvoker", "invoker_kind"]
