"""A plain WSGI app (no framework) behind apig-wsgi; the same echo/respond protocol as asgi_echo.

PEP 3333 strings are latin-1 views of bytes: PATH_INFO is turned back into bytes and read as
UTF-8 where that is valid, so the echo shows the text the client meant.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl

from apig_wsgi import make_lambda_handler

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


def _text(wsgi_str: str) -> str:
    raw = wsgi_str.encode("latin-1", errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return wsgi_str


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    path = _text(environ.get("PATH_INFO", ""))
    query_string = environ.get("QUERY_STRING", "")
    if path.rstrip("/").rsplit("/", 1)[-1] == "respond":
        return respond(query_string, start_response)
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    query: dict[str, list[str]] = {}
    for key, value in parse_qsl(query_string, keep_blank_values=True):
        query.setdefault(key, []).append(value)
    headers = []
    for key, value in sorted(environ.items()):
        if key in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
            continue  # apig-wsgi sets these next to the CGI names
        if key.startswith("HTTP_"):
            headers.append([key[5:].lower().replace("_", "-"), value])
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            headers.append([key.lower().replace("_", "-"), value])
    jar: SimpleCookie = SimpleCookie()
    jar.load(environ.get("HTTP_COOKIE", ""))
    seen = {
        "consumer": "apig-wsgi",
        "method": environ["REQUEST_METHOD"],
        "path": path,
        "query_string": query_string,
        "query": query,
        "headers": headers,
        "cookies": {k: m.value for k, m in jar.items()},
        "client": [environ.get("REMOTE_ADDR"), 0],
        "body": base64.b64encode(body).decode("ascii"),
    }
    payload = json.dumps(seen).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]


def respond(query_string: str, start_response: Callable[..., Any]) -> Iterable[bytes]:
    status = 200
    binary = False
    headers: list[tuple[str, str]] = []
    for key, value in sorted(parse_qsl(query_string, keep_blank_values=True)):
        if key == "status":
            status = int(value)
        elif key == "binary":
            binary = value == "1"
        elif key.startswith("cookie"):
            headers.append(("Set-Cookie", value))
        elif key.startswith("header"):
            name, _, val = value.partition(":")
            headers.append((name, val))
    if binary:
        body, ctype = PNG, "image/png"
    else:
        body, ctype = json.dumps({"status": status}).encode(), "application/json"
    reasons = {200: "OK", 201: "Created", 202: "Accepted", 418: "I'm a teapot"}
    start_response(f"{status} {reasons.get(status, 'Status')}", [("Content-Type", ctype), *headers])
    return [body]


handler = make_lambda_handler(app, binary_support=True)
