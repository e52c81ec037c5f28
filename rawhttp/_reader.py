"""The receive buffer of one connection: bytes in from the transport (or ``feed()``), bytes
out to the parser, with StreamReader's semantics where the parser needs them
(``readline``, ``readexactly``, ``read``, ``at_eof``) plus the few steps that take bytes
already buffered without an await (``take``, ``take_line``, ``take_head``).

The reader owns one bytearray.  :class:`rawhttp._protocol.Protocol` receives into its
free tail (``get_buffer``/``buffer_updated``), so a receive allocates nothing; each
piece handed to the parser is one copy out of it.  The buffer starts at
``INITIAL_SIZE``, doubles while receives fill it (a body streaming), and goes back to
``INITIAL_SIZE`` when the connection idles empty (:meth:`Reader.relax`), so an idle
pooled connection holds 16 KiB.  Past ``HIGH_WATER`` unread bytes the transport is
paused (unless the parser is waiting for these very bytes: it takes them before the
next receive); it reads again when the parser has taken them down to ``LOW_WATER``
(or waits for more).

Deadlines are absolute loop times, one armed operation at a time, behind one lazy
timer per connection (:mod:`rawhttp._deadline`); past it a wait raises
:class:`ReadTimeout`.
"""

from __future__ import annotations

import asyncio
import re
from typing import Final, Protocol

from ._deadline import Deadline
from ._exceptions import IncompleteBody, ProtocolError, ReadTimeout

__all__ = ["HIGH_WATER", "INITIAL_SIZE", "LOW_WATER", "MAX_SIZE", "Observer", "Reader"]

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


class Reader:
    """One connection's received bytes (see the module docstring).

    Producer side: :meth:`get_buffer` and :meth:`buffer_updated` (the protocol), or
    :meth:`feed` (tests, replay); :meth:`feed_eof`; :meth:`set_exception`.
    Consumer side: the ``take*`` methods never wait; :meth:`more` waits for bytes;
    ``readline``/``readexactly``/``read`` wait as StreamReader's do.  A stored
    exception (the connection failed) is raised by every consumer method before
    any buffered byte is handed out, as StreamReader does.
    """

    __slots__ = (
        "_buf",
        "_clock",
        "_end",
        "_exc",
        "_filled",
        "_loop",
        "_offered",
        "_paused",
        "_scan",
        "_start",
        "_view",
        "_waiter",
        "arm",
        "disarm",
        "eof",
        "observer",
        "transport",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._buf = bytearray(INITIAL_SIZE)
        self._view = memoryview(self._buf)
        self._start = 0
        """First unread byte."""
        self._end = 0
        """End of the received bytes."""
        self._scan = 0
        """``readline``/``take_line``: bytes from ``_start`` already searched for LF."""
        self._offered = 0
        self._filled = False
        """The last receive filled all the space offered: the socket had more."""
        self._paused = False
        self._clock = Deadline(self._wake, loop)
        """The armed operation's deadline and its lazy timer."""
        self.arm = self._clock.arm
        """Start the deadline of one operation (see :class:`Deadline`)."""
        self.disarm = self._clock.disarm
        """End it."""
        self._exc: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._loop = loop
        self.eof = False
        """The peer closed its end (or the connection was lost): no byte will follow
        the buffered ones."""
        self.transport: _Pausable | None = None
        """What is paused and resumed for flow control (set by the protocol)."""
        self.observer: Observer | None = None
        """``trace=``: told every piece of bytes taken from the buffer."""

    # -- producer side ------------------------------------------------------------

    def get_buffer(self) -> memoryview:
        """The free tail of the buffer, to receive into.  Never empty."""
        start, end = self._start, self._end
        if start == end and start:
            self._start = self._end = self._scan = start = end = 0
        cap = len(self._buf)
        if self._filled and cap < MAX_SIZE:
            self._filled = False
            self._resize(cap * 2)  # a body streaming faster than the buffer holds
        elif cap - end < MIN_FREE:
            n = end - start
            if start and cap - n >= MIN_FREE:
                self._compact()
            else:  # unread bytes fill it: a long head, or nobody reading yet
                self._resize(max(cap * 2, n + MIN_FREE))
        view = self._view[self._end :]
        self._offered = len(view)
        return view

    def buffer_updated(self, nbytes: int) -> None:
        """``nbytes`` were received into the view :meth:`get_buffer` returned."""
        self._end += nbytes
        self._filled = nbytes >= self._offered
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            # The consumer waits for these bytes and runs before the next receive: no
            # pause.  Pausing here anyway (a 1 MiB receive into the 1 MiB buffer
            # reaches HIGH_WATER) cost a pause and a resume, two epoll_ctl calls, per
            # receive of a streaming body: 1,893 of 2,182 receives of 20 x 100 MiB.
            waiter.set_result(None)
        elif self._end - self._start >= HIGH_WATER and not self._paused:
            transport = self.transport
            if transport is not None:
                self._paused = True
                transport.pause_reading()

    def feed(self, data: bytes) -> None:
        """Add received bytes by copying them in (tests, replay)."""
        while data:
            view = self.get_buffer()
            n = min(len(view), len(data))
            view[:n] = data[:n]
            del view
            self.buffer_updated(n)
            data = data[n:]

    def feed_eof(self) -> None:
        self.eof = True
        self._wake()
        self._clock.end()

    def set_exception(self, exc: BaseException) -> None:
        """The connection failed: every later read raises ``exc``."""
        self._exc = exc
        self.eof = True
        self._wake()
        self._clock.end()

    def exception(self) -> BaseException | None:
        return self._exc

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _resize(self, size: int) -> None:
        """A new bytearray holding the unread bytes at its front.  A new one, never a
        resize: the transport may still hold a view of the old one."""
        start, end = self._start, self._end
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
        """Idle: give back a grown buffer when nothing is buffered."""
        if self._start == self._end and len(self._buf) > INITIAL_SIZE:
            self._start = self._end = self._scan = 0
            self._resize(INITIAL_SIZE)

    # -- consumer side: no waiting ---------------------------------------------------

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

    def at_eof(self) -> bool:
        """EOF came and every byte was taken."""
        return self.eof and self._start == self._end

    def _check(self) -> None:
        if self._exc is not None:
            raise self._exc

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
        """Up to ``n`` buffered bytes (b"" when none), in one copy."""
        self._check()
        start = self._start
        end = self._end
        if end - start > n:
            end = start + n
        if end == start:
            return b""
        return self._taken(start, end)

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

    # -- consumer side: waiting ---------------------------------------------------------

    async def more(self) -> None:
        """Wait until bytes arrive, EOF, a failure or the armed deadline.  Returns at
        once at EOF: the caller decides what a short read means."""
        self._check()
        if self._clock.expired:
            raise ReadTimeout("timed out waiting for the server")
        if self.eof:
            return
        if self._paused:  # the caller needs more than is buffered: read on
            self._resume()
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        try:
            await waiter
        finally:
            self._waiter = None
        self._check()
        if self._clock.expired:
            raise ReadTimeout("timed out waiting for the server")

    def _resume(self) -> None:
        self._paused = False
        transport = self.transport
        if transport is not None:
            transport.resume_reading()

    async def readline(
        self, limit: int = MAX_SIZE, deadline: float | None = None, what: str = "line"
    ) -> bytes:
        """The next line, LF included; at EOF what is left (b"" when nothing)."""
        line = self.take_line(limit, what)
        if line is not None:
            return line
        timer = self.arm(deadline)
        try:
            while True:
                if self.eof:
                    return self.take(self._end - self._start)
                await self.more()
                line = self.take_line(limit, what)
                if line is not None:
                    return line
        finally:
            self.disarm(timer)

    async def readexactly(self, n: int, deadline: float | None = None) -> bytes:
        """Exactly ``n`` bytes; IncompleteBody when the connection ends before."""
        if self._end - self._start >= n:
            return self.take(n)
        timer = self.arm(deadline)
        try:
            while self._end - self._start < n:
                if self.eof:
                    self._check()
                    got = self._end - self._start
                    raise IncompleteBody(
                        f"connection closed after {got} of {n} expected bytes",
                        received=got,
                        expected=n,
                    )
                await self.more()
        finally:
            self.disarm(timer)
        return self.take(n)

    async def read(self, n: int = -1, deadline: float | None = None) -> bytes:
        """Up to ``n`` bytes (all until EOF when ``n`` < 0); b"" at EOF."""
        if n < 0:
            timer = self.arm(deadline)
            try:
                while not self.eof:
                    await self.more()
            finally:
                self.disarm(timer)
            return self.take(self._end - self._start)
        data = self.take(n)
        if data or not n:
            return data
        timer = self.arm(deadline)
        try:
            while not self.eof:
                await self.more()
                data = self.take(n)
                if data:
                    return data
        finally:
            self.disarm(timer)
        return self.take(n)
