"""A Starlette app behind Mangum: echoes what the app saw, or answers as the request asks.

Echo (any path whose last segment is not ``respond``): a JSON document with the method, the
decoded path, the raw query string, the query as ``{key: [values]}``, the headers as
``[[name, value], ...]``, the cookies, the client and the body (base64).

Respond (last path segment ``respond``): query keys choose the answer, read in sorted order so
the result does not depend on how a front orders the query: ``status=201``, ``cookie1=a=1``,
``cookie2=b=2`` (each one ``Set-Cookie`` line), ``header1=x-a:1`` (a response header),
``binary=1`` (an ``image/png`` body, :data:`PNG`).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from mangum import Mangum
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

# Not valid UTF-8 (0x89, 0xff ...), so it only survives when the bytes really travel as binary.
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


async def endpoint(request: Request) -> Response:
    if request.url.path.rstrip("/").rsplit("/", 1)[-1] == "respond":
        return respond(request)
    body = await request.body()
    scope = request.scope
    query: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        query.setdefault(key, []).append(value)
    seen: dict[str, Any] = {
        "consumer": "mangum",
        "method": request.method,
        "path": scope["path"],
        "query_string": scope["query_string"].decode("latin-1"),
        "query": query,
        "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
        "cookies": dict(request.cookies),
        "client": list(scope["client"]) if scope.get("client") else None,
        "body": base64.b64encode(body).decode("ascii"),
    }
    return Response(json.dumps(seen), media_type="application/json")


def respond(request: Request) -> Response:
    params = sorted(request.query_params.multi_items())
    status = 200
    binary = False
    headers: list[tuple[bytes, bytes]] = []
    for key, value in params:
        if key == "status":
            status = int(value)
        elif key == "binary":
            binary = value == "1"
        elif key.startswith("cookie"):
            headers.append((b"set-cookie", value.encode()))
        elif key.startswith("header"):
            name, _, val = value.partition(":")
            headers.append((name.encode(), val.encode()))
    if binary:
        response = Response(PNG, status_code=status, media_type="image/png")
    else:
        response = Response(json.dumps({"status": status}), status_code=status, media_type="application/json")
    response.raw_headers.extend(headers)
    return response


app = Starlette(routes=[Route("/{path:path}", endpoint, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])])
handler = Mangum(app, lifespan="off")
