"""The function behind the CORS tests (payload 2.0 and function URL events).

The last path segment picks the case: ``own-cors`` answers with CORS headers of its own (which an
HTTP API drops and a function URL doubles, CORS-H3); ``boom`` raises; anything else echoes the
method and the ``x-allowed`` header, with ``x-request-id`` (exposed) and ``x-secret`` (not exposed).
"""

from __future__ import annotations

import json
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    case = event.get("rawPath", "").rstrip("/").rsplit("/", 1)[-1]
    headers = event.get("headers") or {}
    if case == "boom":
        raise RuntimeError("boom")
    out = {"content-type": "application/json", "x-request-id": "req-1", "x-secret": "s3cret"}
    if case == "own-cors":
        out.update({"access-control-allow-origin": headers.get("origin", "*"),
                    "access-control-expose-headers": "x-secret", "access-control-max-age": "1"})
    body = {"method": event["requestContext"]["http"]["method"], "x-allowed": headers.get("x-allowed")}
    return {"statusCode": 200, "headers": out, "body": json.dumps(body)}
