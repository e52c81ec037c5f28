"""Connection pool bookkeeping: which connection to reuse, when a new one may be
opened, who waits.  Plain synchronous code with no I/O: the transport opens sockets
after asking, and the pool only closes connections it retires (a non-blocking call).

:meth:`Pool.checkout` answers with a tagged result: :class:`Reuse` (this idle
connection), :class:`Open` (a slot is reserved: open a new one) or :class:`Wait`
(every slot is busy: await the waiter, which resolves to one of the other two).
Whether a connection may be reused is the connection's own decision
(``Connection.reusable``); the pool asks it when one comes back and before one is
reused.

Invariants:
- ``count`` (idle + in use + being opened) never exceeds ``max_connections``;
- idle connections and waiters never exist at the same time: a returned
  connection or freed slot is handed straight to the first waiter (FIFO);
- every connection is either idle (in ``_idle``) or in use (in ``_in_use``)
  until it is retired.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import NamedTuple, Protocol

__all__ = ["Open", "Pool", "PoolState", "Pooled", "Reuse", "Wait", "Waiter"]


class Pooled(Protocol):
    """What the pool needs of a connection."""

    @property
    def key(self) -> object: ...

    idle_since: float

    def reusable(self, now: float, keepalive_expiry: float | None) -> bool: ...
    def park(self, now: float) -> None: ...
    def take(self) -> None: ...
    def close(self) -> None: ...


class Reuse(NamedTuple):
    """Use this connection: idle until now, or handed over by another request."""

    connection: Pooled


class Open(NamedTuple):
    """A slot is reserved for the caller: open a new connection (then :meth:`Pool.opened`)
    or give the slot back (:meth:`Pool.release_slot`)."""


class Wait(NamedTuple):
    """Every slot is busy: await ``waiter.future`` (a :class:`Reuse` or an
    :class:`Open`); give up with :meth:`Pool.cancel_wait`."""

    waiter: Waiter


Checkout = Reuse | Open | Wait


class Waiter:
    """A task waiting for a connection."""

    __slots__ = ("future", "key")

    def __init__(self, key: object, future: asyncio.Future[Reuse | Open]) -> None:
        self.key = key
        self.future = future


class PoolState(NamedTuple):
    """A snapshot of a pool: connections open (or being opened) out of the most
    allowed, how many are idle and in use, and how many requests wait."""

    connections: int
    max_connections: int
    idle: int
    in_use: int
    waiting: int


class Pool:
    def __init__(self, max_connections: int, keepalive_expiry: float | None) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.max_connections = max_connections
        self.keepalive_expiry = keepalive_expiry
        self.count = 0
        self._idle: dict[object, list[Pooled]] = {}
        self._in_use: set[Pooled] = set()
        self._waiters: deque[Waiter] = deque()

    @property
    def idle_count(self) -> int:
        return sum(len(conns) for conns in self._idle.values())

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    @property
    def state(self) -> PoolState:
        return PoolState(
            self.count, self.max_connections, self.idle_count, len(self._in_use), self.waiting
        )

    def checkout(self, key: object, now: float, reuse: bool = True) -> Checkout:
        """A connection for ``key`` (see the module docstring).  ``reuse=False`` asks
        for a new connection even if an idle one exists (a retry after a stale one)."""
        if reuse:
            idle = self._idle.get(key)
            while idle:
                conn = idle.pop()
                if not conn.reusable(now, self.keepalive_expiry):
                    self._retire(conn)
                    self.count -= 1
                    continue
                conn.take()
                self._in_use.add(conn)
                return Reuse(conn)
        if self.count < self.max_connections:
            self.count += 1
            return Open()
        oldest = self._oldest_idle()
        if oldest is not None:  # at the limit: close the longest-idle connection, take its slot
            self._idle[oldest.key].remove(oldest)
            self._retire(oldest)
            return Open()
        waiter = Waiter(key, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        return Wait(waiter)

    def opened(self, conn: Pooled) -> None:
        """A new connection was opened in a reserved slot; it is in use."""
        self._in_use.add(conn)

    def cancel_wait(self, waiter: Waiter) -> None:
        """The waiting task gave up (timeout or cancellation): pass on what it was given."""
        try:
            self._waiters.remove(waiter)
            return
        except ValueError:
            pass
        future = waiter.future
        if future.done() and not future.cancelled() and future.exception() is None:
            given = future.result()
            if isinstance(given, Open):
                self.release_slot()
            else:
                self.checkin(given.connection, now=given.connection.idle_since)

    def checkin(self, conn: Pooled, now: float) -> None:
        """A request finished with ``conn``: keep it for reuse, hand it on, or close it."""
        self._in_use.discard(conn)
        if not conn.reusable(now, self.keepalive_expiry):
            self._retire(conn)
            self.release_slot()
            return
        waiters = self._waiters
        if waiters:
            conn.idle_since = now  # free since now, though handed straight on
            for waiter in waiters:
                if waiter.key == conn.key and not waiter.future.done():
                    waiters.remove(waiter)
                    conn.take()
                    self._in_use.add(conn)
                    waiter.future.set_result(Reuse(conn))
                    return
            self._retire(conn)  # only waiters for other origins: give them the slot
            self.release_slot()
            return
        conn.park(now)
        idle = self._idle.get(conn.key)
        if idle is None:
            self._idle[conn.key] = [conn]
        else:
            idle.append(conn)

    def release_slot(self) -> None:
        """A slot is free (its connection closed or never opened): give it to a waiter."""
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.future.done():
                waiter.future.set_result(Open())
                return
        self.count -= 1

    def fail_waiters(self, make_error: Callable[[], BaseException]) -> None:
        """Wake every waiter with an error (the pool is closing); they hold no slot."""
        waiters = self._waiters
        while waiters:
            future = waiters.popleft().future
            if not future.done():
                future.set_exception(make_error())

    def close_idle(self) -> None:
        for conns in self._idle.values():
            for conn in conns:
                self._retire(conn)
                self.count -= 1
        self._idle.clear()

    def close_in_use(self) -> None:
        """Close every connection in use (the session is closing); each request's own
        release gives its slot back."""
        for conn in list(self._in_use):
            conn.close()

    def _oldest_idle(self) -> Pooled | None:
        oldest = None
        for conns in self._idle.values():
            for conn in conns:
                if oldest is None or conn.idle_since < oldest.idle_since:
                    oldest = conn
        return oldest

    @staticmethod
    def _retire(conn: Pooled) -> None:
        conn.close()

    def __repr__(self) -> str:
        return (
            f"<Pool connections={self.count}/{self.max_connections} idle={self.idle_count} "
            f"in_use={len(self._in_use)} waiting={self.waiting}>"
        )
