"""One connection's reader: the :class:`~rawhttp._buffer.ReceiveBuffer` fed by the
protocol (or ``feed()``), with StreamReader's waiting semantics where the parser needs
them (``readline``, ``readexactly``, ``read``, ``at_eof``) and :meth:`Reader.more`, the
one wait for bytes under everything else.

Past ``HIGH_WATER`` unread bytes the transport is paused (unless the parser is waiting
for these very bytes: it takes them before the next receive); it reads again when the
parser has taken them down to ``LOW_WATER`` (or waits for more).

Each wait for bytes is one future (:meth:`Reader.more`), bounded by a deadline (an
absolute loop time) behind one lazy timer per connection (:mod:`rawhttp._deadline`);
past it the wait raises :class:`ReadTimeout`.
"""

from __future__ import annotations

import asyncio

from ._buffer import HIGH_WATER, INITIAL_SIZE, LOW_WATER, MAX_SIZE, Observer, ReceiveBuffer
from ._deadline import Deadline
from ._exceptions import IncompleteBody

__all__ = ["HIGH_WATER", "INITIAL_SIZE", "LOW_WATER", "MAX_SIZE", "Observer", "Reader"]


class Reader(ReceiveBuffer):
    """One connection's received bytes (see the module docstring).

    Producer side: :meth:`get_buffer` and :meth:`buffer_updated` (the protocol), or
    :meth:`feed` (tests, replay); :meth:`feed_eof`; :meth:`set_exception`.
    Consumer side: the ``take*`` methods never wait; :meth:`more` waits for bytes;
    ``readline``/``readexactly``/``read`` wait as StreamReader's do.
    """

    __slots__ = ("_clock", "_loop", "_waiter")

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__()
        self._clock = Deadline(loop)
        """The deadline of each wait and the lazy timer behind them."""
        self._waiter: asyncio.Future[None] | None = None
        """The pending wait, completed by the next receive (or EOF, or a failure)."""
        self._loop = loop

    # -- producer side ------------------------------------------------------------

    def buffer_updated(self, nbytes: int) -> None:
        """``nbytes`` were received into the view :meth:`get_buffer` returned."""
        self._end += nbytes
        self._filled = nbytes >= self._offered
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            self._waiter = None
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
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    # -- consumer side ------------------------------------------------------------------

    def at_eof(self) -> bool:
        """EOF came and every byte was taken."""
        return self.eof and self._start == self._end

    def more(self, deadline: float | None = None) -> asyncio.Future[None]:
        """Wait for bytes: ``await reader.more(deadline)`` returns when bytes arrive,
        at EOF or when the connection fails (the caller then looks at what is
        buffered, at ``eof``, and ``take*`` raises the failure), and raises
        ReadTimeout past ``deadline`` (loop time; None: no deadline), at once when
        that deadline already passed during an earlier wait of the operation.
        Returns at once at EOF: the caller decides what a short read means.

        Not a coroutine: the future itself, which the next receive completes.  A
        streamed body waits a few hundred times per 100 MiB, and a coroutine frame with
        its own checks around the future cost about 1% of its throughput."""
        if self._exc is not None:
            raise self._exc
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        if self.eof:
            waiter.set_result(None)
            return waiter
        if self._paused:  # the caller needs more than is buffered: read on
            self._resume()
        if deadline is not None:
            self._clock.arm(deadline, waiter)
        self._waiter = waiter
        return waiter

    async def readline(
        self, limit: int = MAX_SIZE, deadline: float | None = None, what: str = "line"
    ) -> bytes:
        """The next line, LF included; at EOF what is left (b"" when nothing)."""
        while True:
            line = self.take_line(limit, what)
            if line is not None:
                return line
            if self.eof:
                return self.take(self._end - self._start)
            await self.more(deadline)

    async def readexactly(self, n: int, deadline: float | None = None) -> bytes:
        """Exactly ``n`` bytes; IncompleteBody when the connection ends before."""
        while self._end - self._start < n:
            if self.eof:
                self._check()
                got = self._end - self._start
                raise IncompleteBody(
                    f"connection closed after {got} of {n} expected bytes",
                    received=got,
                    expected=n,
                )
            await self.more(deadline)
        return self.take(n)

    async def read(self, n: int = -1, deadline: float | None = None) -> bytes:
        """Up to ``n`` bytes (all until EOF when ``n`` < 0); b"" at EOF."""
        if n < 0:
            while not self.eof:
                await self.more(deadline)
            return self.take(self._end - self._start)
        while True:
            data = self.take(n)
            if data or not n or self.eof:
                return data
            await self.more(deadline)
