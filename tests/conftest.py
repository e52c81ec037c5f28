"""Shared test helpers: a raw loopback server that replays exact bytes (plain or
TLS, with certificates from a test CA), handlers, bounded waits, and the checks of
a Session's state that every test file uses."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import pathlib
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import trustme
from servers import free_port

from rawhttp._connection import Connection

Handler = Callable[["RawConnection"], Awaitable[None]]

refused_port = free_port
"""A loopback port nothing listens on (bound, then closed): connecting is refused."""


class RawConnection:
    """One accepted connection, as seen by a test's handler."""

    def __init__(
        self,
        server: RawServer,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        index: int,
    ):
        self.server = server
        self.reader = reader
        self.writer = writer
        self.index = index

    async def read_request(self) -> bytes:
        """Read one request head (and a Content-Length body); b"" at EOF."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return b""
        body = b""
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                body = await self.reader.readexactly(int(value))
        self.server.requests.append(head + body)
        return head + body

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    def close(self) -> None:
        self.writer.close()

    def reset(self) -> None:
        """Close with an RST instead of a FIN."""
        sock = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()


class RawServer:
    """``asyncio.start_server`` on ``host`` (127.0.0.1), port 0, running ``handler``
    for each connection.

    ``connections`` counts accepted connections, ``requests`` holds every
    request read with ``read_request()``.
    """

    def __init__(self, handler: Handler, host: str = "127.0.0.1"):
        self.handler = handler
        self.host = host
        self.connections = 0
        self.requests: list[bytes] = []
        self.open_now = 0
        self.max_open = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0
        self.scheme = "http"

    async def start(self, **kwargs: object) -> RawServer:
        """Listen; ``ssl=context`` makes it a TLS server (its URLs are then https)."""
        self._server = await asyncio.start_server(self._accept, self.host, 0, **kwargs)  # type: ignore[arg-type]
        self.port = self._server.sockets[0].getsockname()[1]
        if kwargs.get("ssl") is not None:
            self.scheme = "https"
        return self

    @property
    def serving(self) -> bool:
        return self._server is not None and self._server.is_serving()

    def url(self, path: str = "/", scheme: str | None = None, host: str | None = None) -> str:
        """The URL of ``path`` here; ``host`` names the server otherwise (a name on
        its certificate, say)."""
        host = host or (f"[{self.host}]" if ":" in self.host else self.host)
        return f"{scheme or self.scheme}://{host}:{self.port}{path}"

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open_now += 1
        self.max_open = max(self.max_open, self.open_now)
        conn = RawConnection(self, reader, writer, self.connections)
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self.handler(conn)
        except (OSError, asyncio.IncompleteReadError):
            pass  # the client went away (TLS clients abort: ssl errors are OSErrors)
        except asyncio.CancelledError:
            # Cancelled by close(): end normally, or asyncio's start_server callback
            # logs the cancellation as an error.
            pass
        finally:
            self.open_now -= 1
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        await self._server.wait_closed()


@pytest.fixture
async def raw_server() -> AsyncIterator[Callable[..., Awaitable[RawServer]]]:
    """Factory: ``server = await raw_server(handler, host="127.0.0.1", **start_server
    options)``; closed after the test."""
    servers: list[RawServer] = []

    async def make(handler: Handler, host: str = "127.0.0.1", **kwargs: object) -> RawServer:
        server = await RawServer(handler, host).start(**kwargs)
        servers.append(server)
        return server

    yield make
    for server in servers:
        await server.close()


def replay(*responses: bytes, close: bool = False) -> Handler:
    """A handler that answers the n-th request on a connection with ``responses[n]``."""

    async def handler(conn: RawConnection) -> None:
        for response in responses:
            if not await conn.read_request():
                return
            await conn.send(response)
        if close:
            return
        while await conn.read_request():
            pass

    return handler


def always(response: bytes, *, delay: float = 0.0) -> Handler:
    """Answer every request on every connection with ``response`` (after ``delay`` s)."""

    async def handler(conn: RawConnection) -> None:
        while await conn.read_request():
            if delay:
                await asyncio.sleep(delay)
            await conn.send(response)

    return handler


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    """pytest-httpserver listens on "localhost" by default: keep it on 127.0.0.1."""
    return ("127.0.0.1", 0)


# -- TLS: a test CA, and servers with its certificates ---------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_path(ca: trustme.CA, tmp_path: pathlib.Path) -> str:
    """The test CA's certificate as a PEM file (a ``verify=`` CA bundle)."""
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def server_context(ca: trustme.CA, *names: str, client_ca: bool = False) -> ssl.SSLContext:
    """A server context with a certificate from ``ca`` for ``names`` (127.0.0.1 when
    none); ``client_ca``: clients must present a certificate issued by ``ca``."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*(names or ("127.0.0.1",))).configure_cert(ctx)
    if client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ca.configure_trust(ctx)
    return ctx


@pytest.fixture(scope="module")
def server_ssl(ca: trustme.CA) -> ssl.SSLContext:
    return server_context(ca, "127.0.0.1")


@pytest.fixture(scope="module")
def client_ssl(ca: trustme.CA) -> ssl.SSLContext:
    """A client context trusting the test CA (a ``verify=`` SSLContext)."""
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx


@pytest.fixture
def tls_handler() -> Handler:
    """What :func:`tls_server`'s servers answer; a test module overrides this fixture
    to choose its own."""
    return always(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")


@pytest.fixture
def tls_server(
    ca: trustme.CA, raw_server: Callable[..., Awaitable[RawServer]], tls_handler: Handler
) -> Callable[..., Awaitable[RawServer]]:
    """Factory: ``await tls_server("127.0.0.1", "localhost", require_client_cert=False)``:
    a :class:`RawServer` over TLS running ``tls_handler`` (or ``handler=``), with a
    certificate for the names (127.0.0.1 when none); closed after the test."""

    async def make(
        *names: str, require_client_cert: bool = False, handler: Handler | None = None
    ) -> RawServer:
        context = server_context(ca, *names, client_ca=require_client_cert)
        return await raw_server(handler or tls_handler, ssl=context)

    return make


# -- helpers for request bodies (chunked or Content-Length) --------------------


async def read_chunked(reader: asyncio.StreamReader) -> bytes:
    """Read a chunked message body (and its trailer section) strictly; return the data."""
    parts: list[bytes] = []
    while True:
        line = await reader.readuntil(b"\r\n")
        size = int(line[:-2].split(b";")[0], 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass  # trailer fields
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise AssertionError("chunk data not followed by CRLF")


def basic(user: str, password: str) -> str:
    """The Authorization (or Proxy-Authorization) value of Basic credentials."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def head_fields(head: bytes) -> list[tuple[str, str]]:
    """The header fields of a request head as (lower-case name, value) pairs."""
    fields = []
    for line in head.split(b"\r\n")[1:]:
        if line:
            name, _, value = line.partition(b":")
            fields.append((name.decode("latin-1").lower(), value.strip().decode("latin-1")))
    return fields


async def read_message(conn: RawConnection) -> tuple[bytes, bytes]:
    """Read one request: its head and its body, Content-Length or chunked (decoded).

    Returns ``(b"", b"")`` at EOF; appends ``head + body`` to ``server.requests``.
    """
    try:
        head = await conn.reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return b"", b""
    fields = dict(head_fields(head))
    body = b""
    if fields.get("transfer-encoding", "").lower() == "chunked":
        body = await read_chunked(conn.reader)
    elif "content-length" in fields:
        body = await conn.reader.readexactly(int(fields["content-length"]))
    conn.server.requests.append(head + body)
    return head, body


# -- shared checks and waits --------------------------------------------------------


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``predicate`` every 10 ms until it is true; fail after ``timeout`` seconds."""
    for _ in range(int(timeout / 0.01)):
        if predicate():
            return
        await asyncio.sleep(0.01)
    assert predicate()


def open_fds() -> int:
    """File descriptors this process has open (Linux)."""
    return len(os.listdir("/proc/self/fd"))


async def settle_fds(baseline: int) -> int:
    """Let transports finish closing (bounded: 2 s), then return the number of open fds."""
    for _ in range(200):
        if open_fds() <= baseline:
            break
        await asyncio.sleep(0.01)
    return open_fds()


def idle_connections(session: Any) -> list[Connection]:
    """The idle Connection objects in a Session's pool.  No public view gives them
    (``Session.pool`` counts them): this is the one place tests reach inside the
    Session for them, to fix when its layout changes."""
    idle: dict[object, list[Connection]] = session._transport.pool._idle
    return [conn for conns in idle.values() for conn in conns]


def assert_clean(session: Any) -> None:
    """Nothing left in use: no connection carrying a request, no request waiting for
    one, every open connection idle in the pool (read through ``Session.pool``)."""
    pool = session.pool
    assert pool.in_use == 0, pool
    assert pool.waiting == 0, pool
    assert pool.connections == pool.idle, pool
