"""httpcore's network backend on asyncio streams, for the HTTP origins' connection pools (edge/origins.py).

httpcore talks to the network through a backend (``httpcore.AsyncNetworkBackend``, its documented
extension point); on asyncio it picks anyio's. Under a proxy's load that choice cost more than
httpcore's HTTP work: every read and write entered an anyio cancel scope (even without a timeout),
and every check of an idle connection ("has the server closed it?") asked anyio for the socket,
which builds a fresh dictionary of attribute getters each time. This backend does the same on
asyncio's own streams: a timeout only when one is set (``asyncio.timeout``), the socket from the
transport. Exceptions map to httpcore's as the anyio backend maps them (ConnectError, ReadTimeout ...).
Only TCP (and TLS over it) is needed: origins are ``http(s)://host:port`` URLs.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
from httpcore._utils import is_socket_readable  # the check the anyio and sync backends use

#: httpcore's socket options: (level, option, value) or (level, option, None, length).
SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]

_READ_LIMIT = 2**16


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One connection: an asyncio StreamReader/StreamWriter pair."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            if timeout is None:
                return await self._reader.read(max_bytes)
            async with asyncio.timeout(timeout):
                return await self._reader.read(max_bytes)
        except TimeoutError as exc:  # before OSError: it is one
            raise httpcore.ReadTimeout(f"no data from the origin within {timeout} s" if timeout else str(exc)) from exc
        except OSError as exc:
            raise httpcore.ReadError(str(exc) or type(exc).__name__) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            self._writer.write(buffer)
            if timeout is None:
                await self._writer.drain()
            else:
                async with asyncio.timeout(timeout):
                    await self._writer.drain()
        except TimeoutError as exc:
            raise httpcore.WriteTimeout(f"the origin took no data for {timeout} s" if timeout else str(exc)) from exc
        except OSError as exc:
            raise httpcore.WriteError(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        transport = self._writer.transport
        if transport.get_write_buffer_size():
            transport.abort()  # unsent data (a write that timed out): close() would wait on it for ever
        else:
            transport.close()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        except TimeoutError as exc:
            await self.aclose()
            raise httpcore.ConnectTimeout(f"no TLS handshake within {timeout} s") from exc
        except OSError as exc:  # ssl.SSLError among them
            await self.aclose()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        return self

    def get_extra_info(self, info: str) -> Any:
        writer = self._writer
        if info == "is_readable":  # httpcore: an idle connection the server has closed (or written to) is dead
            # asyncio reads eagerly: what the server sent (a 408, say) already sits in the reader's buffer,
            # not in the socket. StreamReader has no public look at it; _buffer is a bytearray since 3.4.
            reader = self._reader
            return (reader.at_eof() or bool(getattr(reader, "_buffer", b"")) or reader.exception() is not None
                    or is_socket_readable(writer.get_extra_info("socket")))
        if info == "ssl_object":
            return writer.get_extra_info("ssl_object")
        if info == "client_addr":
            return writer.get_extra_info("sockname")
        if info == "server_addr":
            return writer.get_extra_info("peername")
        if info == "socket":
            return writer.get_extra_info("socket")
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """TCP connections on the running asyncio loop (TCP_NODELAY is asyncio's default)."""

    async def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        local = (local_address, 0) if local_address else None
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(host, port, local_addr=local, limit=_READ_LIMIT)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"no connection within {timeout} s") from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        try:
            sock = writer.get_extra_info("socket")
            for option in socket_options or ():
                sock.setsockopt(*option)
        except OSError as exc:
            writer.transport.abort()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        return AsyncioStream(reader, writer)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.UnsupportedProtocol("origins are reached over TCP")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
