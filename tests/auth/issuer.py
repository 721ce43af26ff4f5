"""A local OpenID Connect issuer for JWT tests: discovery and JWKS served by Starlette under
hypercorn on an ephemeral 127.0.0.1 port in a background thread; tokens signed with authlib.

    with running_issuer() as issuer:
        token = issuer.sign({"aud": "api", "scope": "read"})
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypercorn.asyncio import serve
from hypercorn.config import Config
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

with warnings.catch_warnings():
    import authlib.deprecate

    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.jose import JsonWebKey, jwt


def new_key(kid: str) -> Any:
    return JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": kid})


class Issuer:
    """Serves ``/.well-known/openid-configuration`` and ``/jwks``; counts JWKS fetches."""

    def __init__(self) -> None:
        self.keys = [new_key("key-1")]
        self.jwks_fetches = 0
        self.url = ""  # set once listening
        self.app = Starlette(routes=[
            Route("/.well-known/openid-configuration", self.discovery),
            Route("/jwks", self.jwks),
        ])

    async def discovery(self, request: Request) -> JSONResponse:
        return JSONResponse({"issuer": self.url, "jwks_uri": f"{self.url}/jwks"})

    async def jwks(self, request: Request) -> JSONResponse:
        self.jwks_fetches += 1
        return JSONResponse({"keys": [k.as_dict(is_private=False) for k in self.keys]})

    def add_key(self, kid: str) -> Any:
        """Publish one more key (a rotation), returned for signing."""
        key = new_key(kid)
        self.keys.append(key)
        return key

    def sign(self, claims: dict[str, Any], *, key: Any = None, alg: str = "RS256",
             header: dict[str, Any] | None = None) -> str:
        """A token for ``claims`` (iss, exp and iat filled unless given), signed with ``key``."""
        key = key or self.keys[0]
        now = int(time.time())
        body = {"iss": self.url, "iat": now - 10, "exp": now + 600, **claims}
        head = {"alg": alg, "kid": key.as_dict()["kid"], **(header or {})}
        return encode(head, body, key)


def encode(header: dict[str, Any], claims: dict[str, Any], key: Any) -> str:
    """A compact JWS of ``claims`` exactly as given (no claims added)."""
    signed: bytes = jwt.encode(header, claims, key)
    return signed.decode()


def sign_hs256(claims: dict[str, Any], secret: bytes, kid: str) -> str:
    return encode({"alg": "HS256", "kid": kid}, claims, secret)


@contextmanager
def running_issuer() -> Iterator[Issuer]:
    issuer = Issuer()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    issuer.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = Config()
    config.bind = [f"fd://{sock.detach()}"]  # hypercorn owns (and closes) the socket
    config.accesslog = None
    ready = threading.Event()
    state: dict[str, Any] = {}

    def run() -> None:
        async def main() -> None:
            state["loop"] = asyncio.get_running_loop()
            state["stop"] = asyncio.Event()
            ready.set()
            await serve(issuer.app, config, shutdown_trigger=state["stop"].wait)  # type: ignore[arg-type]

        asyncio.run(main())

    thread = threading.Thread(target=run, name="test-oidc-issuer", daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield issuer
    finally:
        state["loop"].call_soon_threadsafe(state["stop"].set)
        thread.join(10)
