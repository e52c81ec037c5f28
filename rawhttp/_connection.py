"""Connections: where a socket is opened (``asyncio.open_connection``) and closed."""

from __future__ import annotations

import asyncio
import itertools
import ssl
from collections.abc import Callable
from typing import Final

from ._exceptions import ConnectError, ConnectTimeout, translate
from ._url import URL

__all__ = ["Connection", "PoolKey"]

PoolKey = tuple[str, str, int, object]
"""(scheme, host, port, TLS configuration): connections are shared only within one key."""

STREAM_LIMIT: Final = 1024 * 1024
"""StreamReader buffer limit.  asyncio's default (64 KiB) pauses the socket so
often that large bodies are read at a fraction of loopback speed; 1 MiB lets
the transport keep reading.  It also bounds one ``readline()``; the header
limits in :class:`rawhttp.Limits` are enforced by the parser on top of it."""

_ids = itertools.count(1)


class Connection:
    """One HTTP/1.1 connection: a StreamReader/StreamWriter pair and its bookkeeping."""

    __slots__ = (
        "id",
        "idle_since",
        "key",
        "label",
        "on_close",
        "reader",
        "requests",
        "state",
        "writer",
    )

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        key: PoolKey,
        label: str,
    ) -> None:
        self.id = next(_ids)
        self.on_close: Callable[[], None] | None = None
        """Called once when the connection closes (a traced request reports it)."""
        self.reader = reader
        self.writer = writer
        self.key = key
        self.label = label
        self.requests = 0
        self.idle_since = 0.0
        self.state = "active"

    @classmethod
    async def open(
        cls,
        url: URL,
        key: PoolKey,
        *,
        ssl_context: ssl.SSLContext | None,
        deadline: float | None,
        unix_socket: str | None = None,
    ) -> Connection:
        """Open TCP (and TLS when ``ssl_context`` is given) to the URL's host and port,
        or to the Unix domain socket ``unix_socket`` (the URL then gives Host and target)."""
        tls = ssl_context is not None
        server_hostname = url.host if tls else None
        with translate(ConnectError, ConnectTimeout, tls=tls):
            async with asyncio.timeout_at(deadline):
                if unix_socket is None:
                    reader, writer = await asyncio.open_connection(
                        url.host,
                        url.port,
                        ssl=ssl_context,
                        server_hostname=server_hostname,
                        limit=STREAM_LIMIT,
                    )
                else:
                    reader, writer = await asyncio.open_unix_connection(
                        unix_socket,
                        ssl=ssl_context,
                        server_hostname=server_hostname,
                        limit=STREAM_LIMIT,
                    )
        label = f"{url.scheme}://{url.host_header}"
        if unix_socket is not None:
            label += f" via {unix_socket}"
        return cls(reader, writer, key, label)

    def is_usable(self) -> bool:
        """False once the server closed, reset, or sent bytes nobody asked for.

        Checked before an idle connection is reused and before one is put back
        in the pool.  StreamReader has no public way to ask whether EOF came or
        bytes are buffered, hence its private ``_eof`` and ``_buffer``.
        """
        reader = self.reader
        return not (
            getattr(reader, "_eof", False)
            or getattr(reader, "_buffer", b"")
            or reader.exception() is not None
            or self.writer.transport.is_closing()
        )

    def close(self) -> None:
        """Close at once, without waiting (safe in ``finally`` and on cancellation).

        TLS connections are aborted rather than shut down with close_notify:
        HTTP/1.1 messages are already delimited, and an abort closes the socket
        on the next loop iteration instead of after a round trip to the server.
        """
        if self.state == "closed":
            return
        self.state = "closed"
        on_close, self.on_close = self.on_close, None
        if on_close is not None:
            on_close()
        transport = self.writer.transport
        if transport.get_extra_info("sslcontext") is not None:
            transport.abort()
        else:
            transport.close()

    def __repr__(self) -> str:
        return f"<Connection {self.label} {self.state} requests={self.requests}>"
