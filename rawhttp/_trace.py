"""Wire tracing: ``trace=`` callables see every byte sent and received, exactly.

When a request has a trace hook, its connection's :class:`rawhttp._reader.Reader`
reports every piece of bytes taken from its buffer to the request's emitter (its
``observer``), and the writer is wrapped in the thin proxy below, which reports each
write; each becomes a :class:`TraceEvent`.  Without a hook nothing is wrapped and
nothing is paid.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, NamedTuple, TypeAlias

from ._protocol import Writer
from ._reader import Reader

__all__ = ["TraceEvent", "TraceHook", "TracingWriter", "tracing"]


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

    def received(self, data: bytes) -> None:
        """The reader's observer: bytes taken from the receive buffer.  An async hook
        runs as a task at once (the reader calls this from plain code) and is awaited
        by :meth:`flush`, which the reading coroutines call before they return."""
        result = self("receive", data)
        if result is not None:
            self.pending.append(asyncio.ensure_future(result))

    async def flush(self) -> None:
        pending, self.pending = self.pending, []
        for result in pending:
            await result

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


class TracingWriter:
    """A :class:`Writer` that reports every write; async hooks are awaited in drain()."""

    def __init__(self, writer: Writer, emitter: _Emitter) -> None:
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
    hook: TraceHook, connection: int, reader: Reader, writer: Writer
) -> tuple[Writer, _Emitter]:
    """Trace one request: ``reader`` reports to the emitter until another request
    takes the connection, ``writer`` is wrapped (typed as the writer it stands in for)."""
    emitter = _Emitter(hook, connection)
    reader.observer = emitter
    w: Any = TracingWriter(writer, emitter)
    return w, emitter
