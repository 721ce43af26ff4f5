"""Fresh ids and times for each request: the only place the request path reads a clock or randomness."""

from __future__ import annotations

import binascii
import os
import threading
import time

from gateway.models import InvocationContext

# Random bytes are read from the OS in blocks: os.urandom releases the GIL, and on a busy gateway
# the event loop then waits for the in-process functions' threads to hand it back (the ids are still
# the OS's cryptographic randomness, only fetched fewer times).
_BLOCK = 50 * 128
_URLSAFE = bytes.maketrans(b"+/", b"-_")


class _Pool(threading.local):
    """Each thread's read-ahead block and how much of it is used."""

    def __init__(self) -> None:
        self.block = b""
        self.pos = 0


_pool = _Pool()


def _forget_pool() -> None:
    """A forked child must not give out the ids its parent gives out."""
    global _pool
    _pool = _Pool()


os.register_at_fork(after_in_child=_forget_pool)


def random_bytes(n: int) -> bytes:
    """``n`` bytes from os.urandom, drawn from this thread's block read ahead (none is given twice)."""
    pool = _pool
    start = pool.pos
    end = start + n
    if end > len(pool.block):
        pool.block, start, end = os.urandom(max(_BLOCK, n)), 0, n
    pool.pos = end
    return pool.block[start:end]


def uuid4() -> str:
    """``str(uuid.uuid4())``, from random_bytes."""
    return _uuid4(random_bytes(16))


def _uuid4(raw: bytes) -> str:
    """``str(uuid.UUID(bytes=raw, version=4))`` without building the UUID object (1.8 against 3.5 us;
    two per request). tests/test_ids.py checks it against uuid."""
    h = f"{int.from_bytes(raw) & ~(0xF000 << 64) & ~(0xC000 << 48) | (0x4000 << 64) | (0x8000 << 48):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def b64url(raw: bytes) -> str:
    """``base64.urlsafe_b64encode(raw).decode()``."""
    return binascii.b2a_base64(raw, newline=False).translate(_URLSAFE).decode("ascii")


def new_context() -> InvocationContext:
    """Ids and the time of one request, shaped as AWS shapes them (REST-6, HV2-6, C-4)."""
    now = time.time()
    rand = random_bytes(50)
    return InvocationContext(
        request_id=_uuid4(rand[:16]),
        time_epoch_ms=int(now * 1000),
        # X-Ray format: Root=1-<epoch seconds, 8 hex>-<96 random bits, 24 hex>.
        trace_id=f"Root=1-{int(now):08x}-{rand[16:28].hex()}",
        # HTTP APIs use 16-character base64 ids such as "LV7fzho-PHcEJPw=" (11 bytes -> 15 chars + "=").
        short_id=b64url(rand[28:39]),
        extended_request_id=b64url(rand[39:50]),
    )
