"""Fixtures for the functions service tests: real handlers in real files, a collecting log sink."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from gateway.config import FunctionConfig, GatewaySettings
from gateway.functions import FunctionsService

HANDLERS = Path(__file__).parent / "handlers"
REPORT = re.compile(
    r"^REPORT RequestId: (?P<id>\S+)\tDuration: (?P<duration>\d+\.\d\d) ms\tBilled Duration: (?P<billed>\d+) ms\t"
    r"Memory Size: (?P<memory>\d+) MB\tMax Memory Used: (?P<used>\d+) MB\t"
    r"(?:Init Duration: (?P<init>\d+\.\d\d) ms\t)?(?:Status: (?P<status>\w+)\t)?(?:Error Type: (?P<error>\S+)\t)?$"
)


def function(name: str, handler: str, *, code_uri: Path = HANDLERS, **settings: Any) -> FunctionConfig:
    """A function whose handler is ``lgw_handlers.<handler>`` unless a module is named."""
    full = handler if "." in handler else f"lgw_handlers.{handler}"
    return FunctionConfig(name=name, handler=full, code_uri=code_uri, **settings)


class WriteRecorder(io.StringIO):
    """A text stream that keeps each write apart, with the name of the thread that made it."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, str]] = []

    @property
    def writes(self) -> list[str]:
        return [text for _, text in self.calls]

    def write(self, text: str) -> int:
        self.calls.append((threading.current_thread().name, text))
        return super().write(text)


class Logs:
    """A log sink that keeps every (function, entry) pair."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, name: str, entry: str) -> None:
        with self._lock:
            self.entries.append((name, entry))

    def of(self, name: str) -> list[str]:
        return [entry for fn, entry in self.entries if fn == name]

    def invocation(self, name: str, request_id: str) -> list[str]:
        """The entries from START to REPORT of one invocation."""
        entries = self.of(name)
        start = entries.index(f"START RequestId: {request_id} Version: $LATEST")
        end = next(i for i, e in enumerate(entries) if e.startswith(f"REPORT RequestId: {request_id}\t"))
        return entries[start : end + 1]


@pytest.fixture
def logs() -> Logs:
    return Logs()


ServiceFactory = Callable[..., FunctionsService]


@pytest.fixture
async def service_factory(logs: Logs) -> AsyncIterator[ServiceFactory]:
    made: list[FunctionsService] = []

    def make(*functions: FunctionConfig, settings: GatewaySettings | None = None, **kwargs: Any) -> FunctionsService:
        kwargs.setdefault("log", logs)
        service = FunctionsService({fn.name: fn for fn in functions}, settings or GatewaySettings(), **kwargs)
        made.append(service)
        return service

    yield make
    for service in made:
        await service.aclose()
