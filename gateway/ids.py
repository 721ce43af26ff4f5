"""Fresh ids and times for each request: the only place the request path reads a clock or randomness."""

from __future__ import annotations

import base64
import os
import time
import uuid

from gateway.models import InvocationContext


def new_context() -> InvocationContext:
    """Ids and the time of one request, shaped as AWS shapes them (REST-6, HV2-6, C-4)."""
    now = time.time()
    rand = os.urandom(50)
    return InvocationContext(
        request_id=str(uuid.UUID(bytes=rand[:16], version=4)),
        time_epoch_ms=int(now * 1000),
        # X-Ray format: Root=1-<epoch seconds, 8 hex>-<96 random bits, 24 hex>.
        trace_id=f"Root=1-{int(now):08x}-{rand[16:28].hex()}",
        # HTTP APIs use 16-character base64 ids such as "LV7fzho-PHcEJPw=" (11 bytes -> 15 chars + "=").
        short_id=base64.urlsafe_b64encode(rand[28:39]).decode("ascii"),
        extended_request_id=base64.urlsafe_b64encode(rand[39:50]).decode("ascii"),
    )
