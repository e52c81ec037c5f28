"""Wire tracing: ``trace=`` callables see every byte sent and received, exactly.

When a request has a trace hook, its connection's StreamReader and StreamWriter
are wrapped in the thin proxies below, which report each read and write as a
:class:`TraceEvent`.  Without a hook nothing is wrapped and nothing is paid.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, NamedTuple, TypeAlias

__all__ = ["TraceEvent", "TraceHook", "TracingReader", "TracingWriter"]


class TraceEvent(NamedTuple):
    """One thing that happened on a connection.

    ``kind`` is one of:

    - ``"connect"``: a new connection carries the request; data is the address it
      connected to, ``b"<ip> <port>"`` in ASCII (``b"::1 8080"``: IPv6 without
      brackets; through a proxy, the proxy's), empty for a Unix socket;
    - ``"send"`` and ``"receive"``: data is the exact bytes, before de-chunking or
      decoding;
    - ``"close"`` (data: empty): the connection was closed during or at the end of
      the traced request; one kept alive for reuse reports nothing more.

    ``time`` is the event loop's monotonic clock; ``connection`` an id stable for
    one connection.
    """

    kind: str
    data: bytes
    time: float
    connection: int


TraceHook: TypeAlias = Callable[[TraceEvent], "Awaitable[None] | None"]


class _Emitter:
    __slots__ = ("connection", "hook", "loop", "pending")

    def __init__(self, hook: TraceHook, connection: int) -> None:
        self.hook = hook
        self.connection = connection
        self.loop = asyncio.get_running_loop()
        self.pending: list[Awaitable[None]] = []

    def __call__(self, kind: str, data: bytes) -> Awaitable[None] | None:
        result = self.hook(TraceEvent(kind, data, self.loop.time(), self.connection))
        return result if inspect.isawaitable(result) else None

    async def emit(self, kind: str, data: bytes) -> None:
        result = self(kind, data)
        if result is not None:
            await result

    def closed(self) -> None:
        """Report a close from synchronous code; an async hook runs as a task."""
        result = self("close", b"")
        if result is not None:
            task = asyncio.ensure_future(result)
            _pending.add(task)
            task.add_done_callback(_pending.discard)


_pending: set[asyncio.Future[None]] = set()
"""Close events of async hooks still running (referenced so they are not collected)."""


class TracingReader:
    """A StreamReader that reports what each read returned."""

    def __init__(self, reader: asyncio.StreamReader, emitter: _Emitter) -> None:
        self._reader = reader
        self._emitter = emitter

    async def readline(self) -> bytes:
        data = await self._reader.readline()
        if data:
            await self._emitter.emit("receive", data)
        return data

    async def read(self, n: int = -1) -> bytes:
        data = await self._reader.read(n)
        if data:
            await self._emitter.emit("receive", data)
        return data

    async def readexactly(self, n: int) -> bytes:
        data = await self._reader.readexactly(n)
        await self._emitter.emit("receive", data)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)


class TracingWriter:
    """A StreamWriter that reports every write; async hooks are awaited in drain()."""

    def __init__(self, writer: asyncio.StreamWriter, emitter: _Emitter) -> None:
        self._writer = writer
        self._emitter = emitter

    def write(self, data: bytes) -> None:
        self._writer.write(data)
        self._note(data)

    def writelines(self, data: Iterable[bytes]) -> None:
        joined = b"".join(data)
        self._writer.write(joined)
        self._note(joined)

    def _note(self, data: bytes) -> None:
        result = self._emitter("send", data)
        if result is not None:
            self._emitter.pending.append(result)

    async def drain(self) -> None:
        pending, self._emitter.pending = self._emitter.pending, []
        for result in pending:
            await result
        await self._writer.drain()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._writer, name)


def tracing(
    hook: TraceHook, connection: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, _Emitter]:
    """Wrap a connection's streams for one request (typed as the streams they stand in for)."""
    emitter = _Emitter(hook, connection)
    r: Any = TracingReader(reader, emitter)
    w: Any = TracingWriter(writer, emitter)
    return r, w, emitter
