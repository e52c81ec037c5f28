"""Connection pool bookkeeping: which connection to reuse, when a new one may be
opened, who waits.  Plain synchronous code with no I/O: the Session opens
sockets after asking, and the pool only closes connections it retires (a
non-blocking call).

Invariants:
- ``count`` (idle + in use + being opened) never exceeds ``max_connections``;
- idle connections and waiters never exist at the same time: a returned
  connection or freed slot is handed straight to the first waiter (FIFO).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Protocol

__all__ = ["Pool", "Pooled", "Waiter"]


class Pooled(Protocol):
    """What the pool needs of a connection."""

    @property
    def key(self) -> object: ...

    idle_since: float
    state: str

    def is_usable(self) -> bool: ...
    def close(self) -> None: ...


class Waiter:
    """A task waiting for a connection: resolves to a connection to reuse, or
    ``None`` meaning a slot was reserved for it to open a new one."""

    __slots__ = ("future", "key")

    def __init__(self, key: object, future: asyncio.Future[Pooled | None]) -> None:
        self.key = key
        self.future = future


class Pool:
    def __init__(self, max_connections: int, keepalive_expiry: float | None) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.max_connections = max_connections
        self.keepalive_expiry = keepalive_expiry
        self.count = 0
        self._idle: dict[object, list[Pooled]] = {}
        self._waiters: deque[Waiter] = deque()

    @property
    def idle_count(self) -> int:
        return sum(len(conns) for conns in self._idle.values())

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def checkout(self, key: object, now: float, *, reuse: bool = True) -> Pooled | bool:
        """An idle connection for ``key``, or True (a slot is reserved: open one),
        or False (all slots busy: wait with :meth:`wait`)."""
        if reuse:
            idle = self._idle.get(key)
            while idle:
                conn = idle.pop()
                if self._expired(conn, now) or not conn.is_usable():
                    self._retire(conn)
                    self.count -= 1
                    continue
                conn.state = "active"
                return conn
        if self.count < self.max_connections:
            self.count += 1
            return True
        oldest = self._oldest_idle()
        if oldest is not None:  # at the limit: close the longest-idle connection, take its slot
            self._idle[oldest.key].remove(oldest)
            self._retire(oldest)
            return True
        return False

    def wait(self, key: object) -> Waiter:
        waiter = Waiter(key, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        return waiter

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
            if given is None:
                self.release_slot()
            else:
                self.checkin(given, reusable=True, now=given.idle_since)

    def checkin(self, conn: Pooled, *, reusable: bool, now: float) -> None:
        """A request finished with ``conn``: keep it for reuse, hand it on, or close it."""
        if not reusable or conn.state == "closed" or not conn.is_usable():
            self._retire(conn)
            self.release_slot()
            return
        conn.idle_since = now
        waiters = self._waiters
        if waiters:
            for waiter in waiters:
                if waiter.key == conn.key and not waiter.future.done():
                    waiters.remove(waiter)
                    conn.state = "active"
                    waiter.future.set_result(conn)
                    return
            self._retire(conn)  # only waiters for other origins: give them the slot
            self.release_slot()
            return
        conn.state = "idle"
        self._idle.setdefault(conn.key, []).append(conn)

    def release_slot(self) -> None:
        """A slot is free (its connection closed or never opened): give it to a waiter."""
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.future.done():
                waiter.future.set_result(None)
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

    def _expired(self, conn: Pooled, now: float) -> bool:
        expiry = self.keepalive_expiry
        return expiry is not None and now - conn.idle_since > expiry

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
            f"waiting={self.waiting}>"
        )
