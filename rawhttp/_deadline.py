"""The deadline of one read operation at a time on a connection, behind one lazy timer.

An operation that has to wait arms its deadline once for all its waits (:meth:`arm`,
then :meth:`disarm`), not a timeout context per wait; when it passes, ``expired`` is
set and the reader's waiter is woken (the reader raises ReadTimeout).  The timer is
lazy: one ``loop.call_at`` per connection stays scheduled across operations, and when
it fires before the deadline now armed it schedules itself again for that one.  So a
keep-alive connection answering request after request schedules a timer about once
per timeout period, not a ``call_at`` and a ``cancel`` per response (measured: about
4% of the CPU time of a small GET).  :meth:`end` cancels it when the connection ends
(a pending timer would keep the reader and its buffer alive until it fires).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Final

__all__ = ["Deadline"]

_EARLY: Final = max(time.get_clock_info("monotonic").resolution, 0.001)
"""A timer may fire a little before its time (asyncio runs the handles due within its
clock's resolution; uvloop's timers count whole milliseconds): a deadline this close
is reached, rather than scheduled again and again for the rest of a millisecond."""


class Deadline:
    """The armed operation's deadline (loop time) and the lazy timer behind it."""

    __slots__ = ("_at", "_ended", "_loop", "_timer", "_wake", "deadline", "expired")

    def __init__(self, wake: Callable[[], None], loop: asyncio.AbstractEventLoop | None) -> None:
        self._wake = wake
        """Called when the armed deadline passes (wakes the reader's waiter)."""
        self._loop = loop
        self._timer: asyncio.TimerHandle | None = None
        self._at = 0.0
        """When the pending timer fires."""
        self._ended = False
        self.deadline: float | None = None
        """The armed operation's deadline, None when none is armed."""
        self.expired = False
        """The armed deadline passed."""

    def arm(self, deadline: float | None) -> float | None:
        """Start the deadline of one operation: past ``deadline`` its current or next
        wait ends with ``expired`` set.  Pair with :meth:`disarm`."""
        self.expired = False
        self.deadline = deadline
        if deadline is None:
            return None
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
        return deadline

    def disarm(self, armed: float | None) -> None:
        """End the operation :meth:`arm` started; the timer stays for the next one
        (unless the connection ended meanwhile)."""
        self.deadline = None
        self.expired = False
        if self._ended:
            self._drop()

    def end(self) -> None:
        """The connection ended: no wait will come that the timer bounds."""
        self._ended = True
        self._drop()

    def _drop(self) -> None:
        timer = self._timer
        if timer is not None and self.deadline is None:
            self._timer = None
            timer.cancel()

    def _fire(self) -> None:
        self._timer = None
        deadline = self.deadline
        if deadline is None:  # no operation armed now: nothing to bound
            return
        loop = self._loop
        assert loop is not None  # set when the timer was scheduled
        if deadline - loop.time() > _EARLY:  # armed again since, for later
            self._at = deadline
            self._timer = loop.call_at(deadline, self._fire)
            return
        self.expired = True
        self._wake()
