"""Opening a stream with rawhttp's own protocol: what ``asyncio.open_connection`` does,
through ``loop.create_connection()`` (TCP to a host and port, or an already connected
socket), ``loop.create_unix_connection()`` (a Unix socket), and ``loop.start_tls()``
(TLS on an open stream, after a proxy's CONNECT too)."""

from __future__ import annotations

import asyncio
import socket
import ssl

from ._protocol import Protocol, Writer
from ._reader import Reader

__all__ = ["open_connection", "open_unix_connection", "start_tls"]


async def open_connection(
    host: str = "",
    port: int = 0,
    *,
    sock: socket.socket | None = None,
    local_addr: tuple[str, int] | None = None,
) -> tuple[Reader, Writer]:
    """A plain TCP stream to ``host``:``port`` (or over the connected ``sock``, the
    host and port then unused)."""
    loop = asyncio.get_running_loop()
    reader = Reader(loop)
    if sock is not None:
        transport, protocol = await loop.create_connection(lambda: Protocol(reader), sock=sock)
    else:
        transport, protocol = await loop.create_connection(
            lambda: Protocol(reader), host, port, local_addr=local_addr
        )
    return reader, Writer(transport, protocol)


async def open_unix_connection(path: str) -> tuple[Reader, Writer]:
    """A stream over the Unix domain socket at ``path``."""
    loop = asyncio.get_running_loop()
    reader = Reader(loop)
    transport, protocol = await loop.create_unix_connection(lambda: Protocol(reader), path)
    return reader, Writer(transport, protocol)


async def start_tls(writer: Writer, context: ssl.SSLContext, server_hostname: str) -> None:
    """The TLS handshake on ``writer``'s stream; from then on the stream (its reader
    and writer, the same objects) is encrypted."""
    loop = asyncio.get_running_loop()
    protocol = writer.protocol
    transport = await loop.start_tls(
        writer.transport, protocol, context, server_hostname=server_hostname
    )
    if transport is None:  # only when the connection was closed during the handshake
        raise ConnectionResetError("connection closed during the TLS handshake")
    protocol.attach(transport)
    writer.transport = transport
