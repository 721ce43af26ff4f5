"""edge/network.py: httpcore's connection pool on the asyncio backend, against real loopback servers
(plain TCP and TLS with a certificate made here), including the failures the proxy maps to 502/504."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpcore
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from edge.network import AsyncioBackend

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"


@contextmanager
def tcp_server(handler: Handler, tls: ssl.SSLContext | None = None) -> Iterator[int]:
    """A server on its own loop in a thread; yields its port."""
    state: dict[str, object] = {}
    ready = threading.Event()

    async def main() -> None:
        server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=tls)
        state["port"] = server.sockets[0].getsockname()[1]
        stop = asyncio.Event()
        state["stop"], state["loop"] = stop, asyncio.get_running_loop()
        ready.set()
        async with server:
            await stop.wait()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield int(state["port"])  # type: ignore[call-overload]
    finally:
        loop = state["loop"]
        assert isinstance(loop, asyncio.AbstractEventLoop)
        loop.call_soon_threadsafe(state["stop"].set)  # type: ignore[attr-defined]
        thread.join(10)


async def answer_each(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers every request on the connection with OK (keep-alive)."""
    try:
        while await reader.readuntil(b"\r\n\r\n"):
            writer.write(OK)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def self_signed(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it) for a certificate of 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    client = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
    return server, client


def pool(tls: ssl.SSLContext | None = None) -> httpcore.AsyncConnectionPool:
    return httpcore.AsyncConnectionPool(ssl_context=tls, network_backend=AsyncioBackend(), keepalive_expiry=5.0)


def timeouts(seconds: float) -> dict[str, dict[str, float]]:
    return {"timeout": {"connect": seconds, "read": seconds, "write": seconds, "pool": seconds}}


def test_requests_reuse_one_keep_alive_connection() -> None:
    connections = []

    async def counting(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)
        await answer_each(reader, writer)

    async def main(port: int) -> list[tuple[int, bytes]]:
        async with pool() as client:
            got = []
            for _ in range(3):
                response = await client.request("GET", f"http://127.0.0.1:{port}/x")
                got.append((response.status, response.content))
            return got

    with tcp_server(counting) as port:
        assert asyncio.run(main(port)) == [(200, b"hello")] * 3
    assert len(connections) == 1


def test_tls_origin_with_a_trusted_certificate_and_one_the_client_does_not_trust(tmp_path: Path) -> None:
    server_tls, client_tls = self_signed(tmp_path)

    async def main(port: int, tls: ssl.SSLContext) -> tuple[int, bytes, str]:
        async with pool(tls) as client:
            response = await client.request("GET", f"https://127.0.0.1:{port}/", extensions=timeouts(5))
            version = response.extensions["network_stream"].get_extra_info("ssl_object").version()
            return response.status, response.content, version

    with tcp_server(answer_each, server_tls) as port:
        status, body, version = asyncio.run(main(port, client_tls))
        assert (status, body, version) == (200, b"hello", "TLSv1.3")
        with pytest.raises(httpcore.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            asyncio.run(main(port, ssl.create_default_context()))  # the public CAs only, as CloudFront


def test_refused_connection_and_silent_origin_map_to_httpcore_errors() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)
        writer.close()

    async def get(port: int, seconds: float) -> httpcore.Response:
        async with pool() as client:
            return await client.request("GET", f"http://127.0.0.1:{port}/", extensions=timeouts(seconds))

    with tcp_server(answer_each) as port:
        pass  # closed again: nothing listens on the port now
    refused = r"^\[Errno 111\] Connect call failed \('127\.0\.0\.1', \d+\)$"
    with pytest.raises(httpcore.ConnectError, match=refused):
        asyncio.run(get(port, 2))
    timed_out = r"^no data from the origin within 0\.2 s$"
    with tcp_server(silent) as port, pytest.raises(httpcore.ReadTimeout, match=timed_out):
        asyncio.run(get(port, 0.2))


def test_an_idle_connection_the_origin_closed_is_not_reused() -> None:
    """httpcore asks the stream whether an idle connection is readable (closed by the server); a stale
    one is dropped and the request goes out on a new connection instead of failing."""
    served = []

    async def one_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served.append(writer)
        await reader.readuntil(b"\r\n\r\n")
        writer.write(OK)
        await writer.drain()
        writer.close()  # keep-alive not honoured: the origin closes after each answer

    async def main(port: int) -> list[int]:
        async with pool() as client:
            first = await client.request("GET", f"http://127.0.0.1:{port}/")
            await asyncio.sleep(0.2)  # the close reaches the client's loop
            second = await client.request("GET", f"http://127.0.0.1:{port}/")
            return [first.status, second.status]

    with tcp_server(one_then_close) as port:
        assert asyncio.run(main(port)) == [200, 200]
    assert len(served) == 2


def test_an_idle_connection_the_origin_wrote_to_is_not_reused() -> None:
    """A server may send something on an idle keep-alive connection without closing it (a 408): asyncio
    has read it into the stream's buffer already, so the connection counts as readable and is dropped;
    the next request gets its own answer, not the stale 408."""
    async def answer_then_408(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(OK)
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(2)  # open, idle
        writer.close()

    async def main(port: int) -> list[tuple[int, bytes]]:
        async with pool() as client:
            got = []
            for pause in (0.3, 0):
                response = await client.request("GET", f"http://127.0.0.1:{port}/")
                got.append((response.status, response.content))
                await asyncio.sleep(pause)  # the 408 arrives meanwhile
            return got

    with tcp_server(answer_then_408) as port:
        assert asyncio.run(main(port)) == [(200, b"hello"), (200, b"hello")]


def test_closing_after_a_write_timeout_releases_the_connection_at_once() -> None:
    """A write to an origin that reads nothing times out; closing drops the unsent data (abort), rather
    than waiting on it with the socket open."""
    done = threading.Event()

    async def never_reads(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.to_thread(done.wait, 5)
        writer.close()

    async def main(port: int) -> bool:
        backend = AsyncioBackend()
        stream = await backend.connect_tcp("127.0.0.1", port, timeout=2)
        with pytest.raises(httpcore.WriteTimeout):
            await stream.write(b"x" * (64 * 1024 * 1024), timeout=0.3)
        sock = stream.get_extra_info("socket")
        await stream.aclose()
        await asyncio.sleep(0.05)
        return bool(sock.fileno() == -1)

    with tcp_server(never_reads) as port:
        closed = asyncio.run(main(port))
        done.set()
    assert closed
