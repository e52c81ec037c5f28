"""One connection's reader: the :class:`~rawhttp._buffer.ReceiveBuffer` fed by the
protocol (or ``feed()``), with StreamReader's waiting semantics where the parser needs
them (``readline``, ``readexactly``, ``read``, ``at_eof``) and :meth:`Reader.more`, the
one wait for bytes under everything else.

Past ``HIGH_WATER`` unread bytes the transport is paused (unless the parser is waiting
for these very bytes: it takes them before the next receive); it reads again when the
parser has taken them down to ``LOW_WATER`` (or waits for more).

Deadlines are absolute loop times, one armed operation at a time, behind one lazy
timer per connection (:mod:`rawhttp._deadline`); past it a wait raises
:class:`ReadTimeout`.
"""

from __future__ import annotations

import asyncio

from ._buffer import HIGH_WATER, INITIAL_SIZE, LOW_WATER, MAX_SIZE, Observer, ReceiveBuffer
from ._deadline import Deadline
from ._exceptions import IncompleteBody, ReadTimeout

__all__ = ["HIGH_WATER", "INITIAL_SIZE", "LOW_WATER", "MAX_SIZE", "Observer", "Reader"]


class Reader(ReceiveBuffer):
    """One connection's received bytes (see the module docstring).

    Producer side: :meth:`get_buffer` and :meth:`buffer_updated` (the protocol), or
    :meth:`feed` (tests, replay); :meth:`feed_eof`; :meth:`set_exception`.
    Consumer side: the ``take*`` methods never wait; :meth:`more` waits for bytes;
    ``readline``/``readexactly``/``read`` wait as StreamReader's do.
    """

    __slots__ = ("_clock", "_loop", "_waiter", "arm", "disarm")

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__()
        self._clock = Deadline(self._wake, loop)
        """The armed operation's deadline and its lazy timer."""
        self.arm = self._clock.arm
        """Start the deadline of one operation (see :class:`Deadline`)."""
        self.disarm = self._clock.disarm
        """End it."""
        self._waiter: asyncio.Future[None] | None = None
        self._loop = loop

    # -- producer side ------------------------------------------------------------

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

    # -- consumer side ------------------------------------------------------------------

    def at_eof(self) -> bool:
        """EOF came and every byte was taken."""
        return self.eof and self._start == self._end

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
