from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def current_event_loop() -> Iterator[None]:
    """Mangum calls asyncio.get_event_loop(), as on Lambda's main thread; pytest-asyncio's async tests
    elsewhere in the session leave the main thread without a current loop, so give each test one."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        yield
    finally:
        asyncio.set_event_loop(None)
        loop.close()
