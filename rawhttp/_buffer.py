"""The bytes of one connection's receive buffer: where the transport receives into
(``get_buffer``), how the buffer grows and shrinks, and the steps that take buffered
bytes without waiting (``take``, ``take_line``, ``take_head``, ``skip``, ``peek``).
:class:`rawhttp._reader.Reader` adds the waiting on top.

One bytearray per connection.  :class:`rawhttp._protocol.Protocol` receives into its
free tail, so a receive allocates nothing; each piece handed to the parser is one copy
out of it.  The buffer starts at ``INITIAL_SIZE``, doubles while receives fill it (a
body streaming) up to ``MAX_SIZE``, and goes back to ``INITIAL_SIZE`` when the
connection idles empty (:meth:`ReceiveBuffer.relax`), so an idle pooled connection
holds 16 KiB.

A buffer grown to ``MAX_SIZE`` is not given back to the allocator when its connection
idles: up to ``SPARES`` of them wait for the next body that needs one.  A new 1 MiB
bytearray is fresh memory the kernel maps page by page on the first receive into it
(256 page faults); before spares, every 100 MiB body on a reused connection grew
16 KiB to 1 MiB again and took about 490 page faults doing it.
"""

from __future__ import annotations

import re
from typing import Final, Protocol

from ._exceptions import ProtocolError

__all__ = [
    "HIGH_WATER",
    "INITIAL_SIZE",
    "LOW_WATER",
    "MAX_SIZE",
    "SPARES",
    "Observer",
    "ReceiveBuffer",
]

INITIAL_SIZE: Final = 16 * 1024
"""A new or idle connection's buffer: a small response (head and body) fits whole."""
MAX_SIZE: Final = 1024 * 1024
"""The buffer doubles up to this while receives fill it.  With 1 MiB a receive takes
what the kernel holds (loopback: up to several hundred KiB) in one call."""
HIGH_WATER: Final = MAX_SIZE
"""Unread bytes past which the transport is paused."""
LOW_WATER: Final = MAX_SIZE // 4
"""Unread bytes below which a paused transport reads again."""
MIN_FREE: Final = 4 * 1024
"""Free space at the tail below which ``get_buffer`` first moves the unread bytes to
the front (and grows the buffer when that is not enough)."""
SPARES: Final = 2
"""Buffers of ``MAX_SIZE`` kept for reuse, for the whole process: about 2 MiB (two
threads relaxing at the same moment may each add one past the count)."""

_spares: list[bytearray] = []
"""Grown buffers of idle connections (any thread's: list operations are atomic)."""

_SECTION_END = re.compile(rb"\n\r?\n")
"""The end of a header section: the LF of its last line, then the empty line (CRLF or
a bare LF).  One regex search finds the first of either in one pass."""


class _Pausable(Protocol):
    def pause_reading(self) -> None: ...
    def resume_reading(self) -> None: ...


class Observer(Protocol):
    """Sees the bytes a reader hands out (``trace=``, :mod:`rawhttp._trace`)."""

    def received(self, data: bytes) -> None:
        """Called with each piece taken from the buffer, in order."""

    async def flush(self) -> None:
        """Awaited by the reading coroutines before they return."""


class ReceiveBuffer:
    """Received bytes not taken yet: ``_buf[_start:_end]``.  A stored exception (the
    connection failed) is raised by every ``take*`` step before any buffered byte is
    handed out, as StreamReader does."""

    __slots__ = (
        "_buf",
        "_end",
        "_exc",
        "_filled",
        "_offered",
        "_paused",
        "_scan",
        "_start",
        "_view",
        "eof",
        "observer",
        "transport",
    )

    def __init__(self) -> None:
        self._buf = bytearray(INITIAL_SIZE)
        self._view = memoryview(self._buf)
        self._start = 0
        """First unread byte."""
        self._end = 0
        """End of the received bytes."""
        self._scan = 0
        """``take_line``: bytes from ``_start`` already searched for LF."""
        self._offered = 0
        self._filled = False
        """The last receive filled all the space offered: the socket had more."""
        self._paused = False
        self._exc: BaseException | None = None
        self.eof = False
        """The peer closed its end (or the connection was lost): no byte will follow
        the buffered ones."""
        self.transport: _Pausable | None = None
        """What is paused and resumed for flow control (set by the protocol)."""
        self.observer: Observer | None = None
        """``trace=``: told every piece of bytes taken from the buffer."""

    # -- where receives go -----------------------------------------------------------

    def get_buffer(self, sizehint: int = -1) -> memoryview:
        """The free tail of the buffer, to receive into.  Never empty.  (``sizehint``
        is asyncio's, unused: the free tail is what there is.)"""
        start, end = self._start, self._end
        if start == end and start:
            self._start = self._end = self._scan = start = end = 0
        cap = len(self._buf)
        if self._filled and cap < MAX_SIZE:
            self._filled = False
            # A body streaming faster than the buffer holds: a spare at once if any.
            self._resize(MAX_SIZE if _spares else cap * 2)
        elif cap - end < MIN_FREE:
            n = end - start
            if start and cap - n >= MIN_FREE:
                self._compact()
            else:  # unread bytes fill it: a long head, or nobody reading yet
                self._resize(max(cap * 2, n + MIN_FREE))
        view = self._view[self._end :]
        self._offered = len(view)
        return view

    def _resize(self, size: int) -> None:
        """Another bytearray (a spare one when growing to ``MAX_SIZE``) holding the
        unread bytes at its front.  Never a resize: the transport may still hold a
        view of the old one."""
        start, end = self._start, self._end
        buf = _spare() if size == MAX_SIZE else None
        if buf is None:
            buf = bytearray(size)
        buf[: end - start] = self._view[start:end]
        self._view.release()
        self._buf, self._view = buf, memoryview(buf)
        self._start, self._end = 0, end - start

    def _compact(self) -> None:
        """Move the unread bytes to the front (same size: allowed with views lent out)."""
        start, end = self._start, self._end
        n = end - start
        self._buf[:n] = self._view[start:end] if start >= n else bytes(self._view[start:end])
        self._start, self._end = 0, n

    def relax(self) -> None:
        """Idle (no receive is under way): give back a grown buffer when nothing is
        buffered, to the spares when it is a full one and there is room."""
        if self._start == self._end and len(self._buf) > INITIAL_SIZE:
            old = self._buf
            self._start = self._end = self._scan = 0
            self._resize(INITIAL_SIZE)
            if len(old) == MAX_SIZE and len(_spares) < SPARES:
                _spares.append(old)

    # -- taking buffered bytes: no waiting ----------------------------------------------

    @property
    def buffered(self) -> int:
        """Bytes received and not taken yet."""
        return self._end - self._start

    @property
    def capacity(self) -> int:
        """The buffer's current size."""
        return len(self._buf)

    @property
    def paused(self) -> bool:
        """Whether reading from the transport is paused (flow control)."""
        return self._paused

    def _check(self) -> None:
        if self._exc is not None:
            raise self._exc

    def _resume(self) -> None:
        self._paused = False
        transport = self.transport
        if transport is not None:
            transport.resume_reading()

    def _taken(self, start: int, end: int) -> bytes:
        """Bytes ``start:end`` of the buffer, consumed (everything before ``end``)."""
        data = bytes(self._view[start:end])
        self._start = end
        self._scan = 0
        if self._paused and self._end - end <= LOW_WATER:
            self._resume()
        if self.observer is not None:
            self.observer.received(data)
        return data

    def skip(self, n: int) -> None:
        """Consume ``n`` buffered bytes (``n`` <= :attr:`buffered`) without a copy
        (framing nobody needs; a copy only when traced)."""
        start = self._start
        if self.observer is not None:
            self._taken(start, start + n)
            return
        self._start = start + n
        self._scan = 0
        if self._paused and self._end - start - n <= LOW_WATER:
            self._resume()

    def take(self, n: int) -> bytes:
        """Up to ``n`` buffered bytes (b"" when none), in one copy: ``_check`` and
        ``_taken`` written out (calling them cost 5% of the CPU time of a streamed
        body without its receives).  ``BodyReader.stream`` writes this step out once
        more in its Content-Length loop, the one other code that reads and advances
        ``_start`` (tests/test_readers.py reads every body both ways)."""
        if self._exc is not None:
            raise self._exc
        start = self._start
        end = self._end
        if end - start > n:
            end = start + n
        elif end == start:
            return b""
        data = bytes(self._view[start:end])
        self._start = end
        self._scan = 0
        if self._paused and self._end - end <= LOW_WATER:
            self._resume()
        if self.observer is not None:
            self.observer.received(data)
        return data

    def peek(self, n: int) -> bytes:
        """Up to ``n`` buffered bytes, left in the buffer."""
        return bytes(self._view[self._start : min(self._end, self._start + n)])

    def take_line(self, limit: int, what: str = "line", shown: int | None = None) -> bytes | None:
        """The next whole line (ending in LF) when buffered, else None.  A line longer
        than ``limit`` bytes (LF included) raises ProtocolError (rule "limit"), as soon
        as that many bytes without LF are buffered; its message names ``shown`` as the
        limit when given (a caller checking a smaller limit on some lines)."""
        self._check()
        start, end = self._start, self._end
        stop = start + limit
        at = self._buf.find(b"\n", start + self._scan, stop if stop < end else end)
        if at >= 0:
            return self._taken(start, at + 1)
        if end - start >= limit:
            shown = limit if shown is None else shown
            raise ProtocolError(f"{what} longer than {shown} bytes", rule="limit")
        self._scan = end - start
        return None

    def take_head(self, max_size: int) -> bytes | None:
        """A whole header (or trailer) section when it is buffered, its empty line
        included, taken in one step; None when it is not whole yet or its lines
        before the empty line are longer than ``max_size``."""
        self._check()
        start, end = self._start, self._end
        if start == end:
            return None
        buf = self._buf
        first = buf[start]
        if first == 10:  # an empty section ended by a bare LF
            return self._taken(start, start + 1)
        if first == 13 and end - start >= 2 and buf[start + 1] == 10:
            return self._taken(start, start + 2)
        stop = start + max_size + 2
        found = _SECTION_END.search(buf, start, stop if stop < end else end)
        if found is None or found.start() + 1 - start > max_size:
            return None
        observer = self.observer
        if observer is None:
            return self._taken(start, found.end())
        # Traced: the observer sees one piece per line, exactly as when the section
        # is read line by line (the command's --trace shows each header line).
        self.observer = None
        try:
            block = self._taken(start, found.end())
        finally:
            self.observer = observer
        at = 0
        while at < len(block):
            eol = block.index(b"\n", at) + 1
            observer.received(block[at:eol])
            at = eol
        return block


def _spare() -> bytearray | None:
    """A spare ``MAX_SIZE`` buffer, if one is left."""
    try:
        return _spares.pop()
    except IndexError:  # none, or another thread took the last one
        return None
