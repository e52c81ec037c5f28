"""Shared test helpers: a raw loopback server that replays exact bytes."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

Handler = Callable[["RawConnection"], Awaitable[None]]


class RawConnection:
    """One accepted connection, as seen by a test's handler."""

    def __init__(self, server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, index: int):
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
        import socket
        import struct

        sock = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()


class RawServer:
    """``asyncio.start_server`` on 127.0.0.1:0 running ``handler`` for each connection.

    ``connections`` counts accepted connections, ``requests`` holds every
    request read with ``read_request()``.
    """

    def __init__(self, handler: Handler):
        self.handler = handler
        self.connections = 0
        self.requests: list[bytes] = []
        self.open_now = 0
        self.max_open = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    async def start(self, **kwargs: object) -> RawServer:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0, **kwargs)  # type: ignore[arg-type]
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def url(self, path: str = "/", scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

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
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
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
    """Factory: ``server = await raw_server(handler)``; closed after the test."""
    servers: list[RawServer] = []

    async def make(handler: Handler, **kwargs: object) -> RawServer:
        server = await RawServer(handler).start(**kwargs)
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


# -- shared checks -------------------------------------------------------------------


def assert_clean(session: Any) -> None:
    """Nothing left in use: no connection carrying a request, no request waiting for
    one, every open connection idle in the pool (read through ``Session.pool``)."""
    pool = session.pool
    assert pool.in_use == 0, pool
    assert pool.waiting == 0, pool
    assert pool.connections == pool.idle, pool


def refused_port() -> int:
    """A loopback port nothing listens on (bound, then closed): connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
