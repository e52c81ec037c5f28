"""The asyncio side of a connection: a ``BufferedProtocol`` that receives straight into
its :class:`rawhttp._reader.Reader`'s buffer, and the :class:`Writer` that sends, with
``drain()`` waiting while the transport's write buffer is above its high-water mark
(``pause_writing``/``resume_writing``)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from ._reader import Reader

__all__ = ["Protocol", "Writer"]


class Protocol(asyncio.BufferedProtocol):
    """One connection's protocol: bytes into ``reader``, write flow control for the
    :class:`Writer`.  ``start_tls`` keeps the protocol and gives it the new transport
    (:meth:`attach`)."""

    __slots__ = (
        "_drain_waiter",
        "_lost",
        "_write_paused",
        "buffer_updated",
        "get_buffer",
        "reader",
        "transport",
    )

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        # The transport calls these on every receive: the reader's own methods, not
        # methods here that call them (one Python call less per receive).
        self.get_buffer = reader.get_buffer  # type: ignore[method-assign]
        self.buffer_updated = reader.buffer_updated  # type: ignore[method-assign]
        self.transport: asyncio.Transport | None = None
        self._write_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self._lost = False

    def attach(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.reader.transport = transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.attach(transport)  # type: ignore[arg-type]  # a stream connection's transport

    def eof_received(self) -> bool:
        self.reader.feed_eof()
        # Keep a plain transport open for writing (a server may answer before the end of
        # the request body, then close its side); SSL transports close (asyncio warns
        # that True has no effect there).
        transport = self.transport
        return transport is None or transport.get_extra_info("sslcontext") is None

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        if exc is None:
            self.reader.feed_eof()
        else:
            self.reader.set_exception(exc)
        self._wake_drain(exc)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self._wake_drain(None)

    def _wake_drain(self, exc: Exception | None) -> None:
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            if exc is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(exc)

    async def drain(self) -> None:
        if self._lost:
            raise ConnectionResetError("connection lost")
        if not self._write_paused:
            return
        waiter = self._drain_waiter = asyncio.get_running_loop().create_future()
        try:
            await waiter
        finally:
            self._drain_waiter = None
        if self._lost:
            raise ConnectionResetError("connection lost")


class Writer:
    """The sending half: ``write``/``writelines``, then ``await drain()``."""

    __slots__ = ("protocol", "transport")

    def __init__(self, transport: asyncio.Transport, protocol: Protocol) -> None:
        self.transport = transport
        self.protocol = protocol

    def write(self, data: bytes) -> None:
        self.transport.write(data)

    def writelines(self, data: Iterable[bytes]) -> None:
        self.transport.writelines(data)

    @property
    def must_drain(self) -> bool:
        """Whether :meth:`drain` may wait (the transport's buffer is above its mark)
        or fail (the connection is lost): when false it returns at once."""
        protocol = self.protocol
        return protocol._write_paused or protocol._lost

    async def drain(self) -> None:
        """Wait until the transport takes more; raises when the connection failed."""
        exc = self.protocol.reader.exception()
        if exc is not None:
            raise exc
        await self.protocol.drain()

    def close(self) -> None:
        self.transport.close()

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.transport.get_extra_info(name, default)
