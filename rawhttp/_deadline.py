"""The deadline of each wait for bytes on a connection, behind one lazy timer.

Every wait (one future, see :meth:`rawhttp._reader.Reader.more`) is armed with its
deadline (:meth:`Deadline.arm`); nothing disarms it.  When the timer fires, a wait
still pending past its deadline fails with :class:`ReadTimeout`; a wait that ended
meanwhile is left alone.  An operation that waits several times (``readline``, a
header section, a piece of a chunked body) arms each wait with the same absolute
deadline: once that deadline has passed (:attr:`Deadline.passed`), arming it again
raises at once, so a server trickling a byte just before each timer cannot stretch an
operation past its deadline.

The timer is lazy: one ``loop.call_at`` per connection stays scheduled across waits,
and when it fires before the deadline now armed it schedules itself again for that
one.  So a connection answering request after request, or streaming a body in a few
hundred receives, schedules a timer about once per timeout period, not a ``call_at``
and a ``cancel`` per wait (measured: about 4% of the CPU time of a small GET).
:meth:`Deadline.end` cancels it when the connection ends (a pending timer would keep
the reader and its buffer alive until it fires).
"""

from __future__ import annotations

import asyncio
import time
from typing import Final

from ._exceptions import ReadTimeout

__all__ = ["Deadline"]

_EARLY: Final = max(time.get_clock_info("monotonic").resolution, 0.001)
"""A timer may fire a little before its time (asyncio runs the handles due within its
clock's resolution; uvloop's timers count whole milliseconds): a deadline this close
is reached, rather than scheduled again and again for the rest of a millisecond."""


class Deadline:
    """The armed wait, its deadline (loop time) and the lazy timer behind it."""

    __slots__ = ("_at", "_loop", "_timer", "_waiter", "deadline", "passed")

    def __init__(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self._loop = loop
        self._timer: asyncio.TimerHandle | None = None
        self._at = 0.0
        """When the pending timer fires."""
        self._waiter: asyncio.Future[None] | None = None
        """The last wait armed (done once bytes came)."""
        self.deadline = 0.0
        """The last wait's deadline."""
        self.passed = float("-inf")
        """The latest deadline the timer found passed: any deadline up to it has."""

    def arm(self, deadline: float, waiter: asyncio.Future[None]) -> None:
        """Bound ``waiter`` by ``deadline``: past it the waiter fails with ReadTimeout.
        A deadline already found passed raises ReadTimeout here."""
        if deadline <= self.passed:
            raise ReadTimeout("timed out waiting for the server")
        self._waiter = waiter
        self.deadline = deadline
        timer = self._timer
        if timer is None or self._at > deadline:
            # none pending, or it would fire too late: one for this deadline
            if timer is not None:
                timer.cancel()
            loop = self._loop
            if loop is None:
                loop = self._loop = asyncio.get_running_loop()
            self._at = deadline
            self._timer = loop.call_at(deadline, self._fire)

    def end(self) -> None:
        """The connection ended: no wait will come that the timer bounds."""
        self._waiter = None
        timer = self._timer
        if timer is not None:
            self._timer = None
            timer.cancel()

    def _fire(self) -> None:
        self._timer = None
        loop = self._loop
        assert loop is not None  # set when the timer was scheduled
        deadline = self.deadline
        waiter = self._waiter
        if deadline - loop.time() > _EARLY:
            if waiter is not None and not waiter.done():  # armed again since, for later
                self._at = deadline
                self._timer = loop.call_at(deadline, self._fire)
            return
        self.passed = deadline
        self._waiter = None
        if waiter is not None and not waiter.done():
            waiter.set_exception(ReadTimeout("timed out waiting for the server"))
