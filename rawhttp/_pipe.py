"""The pieces of a streamed body, handed by a task on a :class:`SharedLoop` to the
thread that consumes them, read ahead by a bounded amount.

The consumer takes buffered pieces without touching the loop.  When the pipe is
empty it waits: it runs the loop itself if no other thread does, until the pipe is
full, the body ended, or the loop has nothing left to do (a slow body's
pieces come at once); else it sleeps until the thread that runs the loop hands the
pieces over.  Not per piece: entering the loop for each piece is what made the first
blocking stream 10-50x slower than the async one.

The pieces handed out are freed one by one as new ones come (``_spent``), the rhythm
in which the async stream frees them.  Freed all at once, a batch left the top of
glibc's heap free beyond its trim threshold (twice the largest block freed from mmap,
256 KiB here): the heap went back to the kernel after each batch and was faulted in
again for the next: 50-200 minor faults per MB instead of 0-15 (bench/run.py, fresh
processes), the blocking stream at 0.59-0.85x the async one instead of 0.81-0.96x.

A consumer in a thread that runs another event loop hands its waits to a helper
thread of the loop (which drives it, or sleeps while another thread does).  Pieces
are bytes, or str for a text stream: ``len()`` then counts characters, so a text pipe
holds at most about ``limit`` characters (up to 4 bytes each in memory).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from . import _sigint
from ._exceptions import Error
from ._shared_loop import SharedLoop, Wait, own_loop_error, running_loop

__all__ = ["MAX_PIECES", "WAKE_DELAY", "Pipe", "pump"]

WAKE_DELAY = 0.001
"""Seconds at most between a piece reaching the pipe and the waiting consumer getting
it while other work keeps the loop from idling (when it idles, at once)."""
MAX_PIECES = 64
"""A pipe is full at this many pieces, however small (``iter_bytes(1)``)."""
HALF_PIECES = MAX_PIECES // 2

P = TypeVar("P", bytes, str)


class Pipe(Generic[P]):
    """A producer on the loop (:meth:`put`, :meth:`finish`), one consuming thread
    (:meth:`pieces`).  The producer pauses once ``limit`` bytes (or MAX_PIECES
    pieces) wait, and goes on when the consumer has taken half of them.  A waiting
    consumer gets the pieces once the pipe is full (one loop entry per ``limit``
    bytes: handing them over at half full cost 0.76-0.80x the async stream on
    bench/run.py's chunked body, at full 0.81-0.83x), at the end, when the loop would
    block (:meth:`idle`), or WAKE_DELAY after a first piece if other work may keep
    the loop busy."""

    def __init__(self, shared: SharedLoop, limit: int) -> None:
        self._shared = shared
        self._loop = shared.loop
        self._mutex = shared.mutex
        self._limit = limit
        self._half = limit // 2
        self._items: deque[P] = deque()
        # Pieces handed out, each kept until a new one came (at most a batch): the
        # heap never sees a batch freed at once (see the module's docstring).
        self._spent: deque[P] = deque()
        # Bytes put and bytes taken, each written by one side only: their difference
        # is what waits, without a counter both sides change.
        self._put = 0
        self._taken = 0
        self._room: asyncio.Future[None] | None = None  # the paused producer's
        self._wait: Wait | None = None  # the waiting consumer's
        self._watched = False  # a waiting consumer has pieces: watching for an idle loop
        self._timer: asyncio.TimerHandle | None = None
        self._error: BaseException | None = None
        self.ended = False

    # -- the producer, on the loop ----------------------------------------------------

    def put(self, item: P) -> asyncio.Future[None] | None:
        """Hand over ``item``; returns a future to await when the pipe is full."""
        items = self._items
        items.append(item)
        spent = self._spent  # (only this side takes from it: not empty until popped)
        if spent:
            spent.popleft()
        put = self._put + len(item)
        self._put = put
        waiting = put - self._taken
        pieces = len(items)
        # Read without the mutex: a consumer that starts waiting now looks at the
        # items again once it is registered (_await_pieces).
        if self._wait is not None and (
            waiting >= self._limit or pieces >= MAX_PIECES or not self._watched
        ):
            with self._mutex:
                w = self._wait
                if w is not None:
                    if waiting >= self._limit or pieces >= MAX_PIECES:
                        self._hand_over(w)
                    elif not self._watched:
                        self._watch(w)
        if waiting < self._limit and pieces < MAX_PIECES:
            return None
        with self._mutex:
            room = self._room = self._loop.create_future()
        return room

    def finish(self, error: BaseException | None = None) -> None:
        """No more pieces; ``error`` is raised to the consumer after the last one."""
        with self._mutex:
            self._error = error
            self.ended = True
            if self._wait is not None:
                self._hand_over(self._wait)

    def _watch(self, w: Wait) -> None:
        """A first piece for the waiting consumer: it gets the pieces once the loop
        idles (see _idle), or WAKE_DELAY later if other work may keep the loop from
        ever idling."""
        self._watched = True
        if not self._shared.alone(w):
            loop = self._loop
            self._timer = loop.call_at(loop.time() + WAKE_DELAY, self._flush, w)

    def idle(self) -> bool:
        """On the loop, which would block: a waiting consumer gets what is there."""
        if self._wait is None or not self._items:
            return False
        with self._mutex:
            w = self._wait
            if w is None or not self._items:
                return False
            self._hand_over(w)
        return True

    def _flush(self, w: Wait) -> None:
        with self._mutex:
            self._timer = None
            if self._wait is w and self._items:
                self._hand_over(w)

    def _hand_over(self, w: Wait) -> None:
        self._wait = None
        self._watched = False
        timer = self._timer
        if timer is not None:
            # Cancelled rather than left to fire: a timer pending at the head of the
            # loop's heap keeps the cancelled read timeouts behind it from being
            # dropped; the heap grows to ~100 and each push and pop then compares in
            # Python (about 0.03 ms more per MB on /chunked).
            timer.cancel()
            self._timer = None
        self._shared.settle(w)

    # -- the consumer -------------------------------------------------------------------

    def pieces(self, start: Callable[[], object], left_early: Callable[[], None]) -> Iterator[P]:
        """The pieces, in the consuming thread, until the end (or the producer's error).
        ``start()`` (which starts the producer) runs on the first ``next()``, and
        ``left_early()`` if the consumer stops before the end."""
        start()
        items = self._items
        spent = self._spent
        half = self._half
        scope: bool | None = None  # True: this main thread opened a Ctrl-C scope
        try:
            while True:
                if items:
                    piece = items.popleft()
                    spent.append(piece)
                    self._taken += len(piece)
                    if (
                        self._room is not None
                        and self._put - self._taken <= half
                        and len(items) <= HALF_PIECES
                    ):
                        self._wake_producer()
                    yield piece
                elif not self.ended:
                    if scope is None:
                        scope = _sigint.enter()
                    self._await_pieces(scope)
                elif not items:  # ended: every piece was put before that
                    if self._error is not None:
                        raise self._error
                    return
        finally:
            try:
                if not self.ended:
                    left_early()
            finally:
                self._spent = deque()  # a new one: put() may still pop from the old
                if scope:
                    _sigint.exit_()

    def _wake_producer(self) -> None:
        with self._mutex:
            room, self._room = self._room, None
        if room is not None:
            self._shared.soon(_wake, room)

    def _await_pieces(self, scoped: bool) -> None:
        shared = self._shared
        running = running_loop()
        if running is shared.loop:
            raise own_loop_error()
        shared.check_process()
        w = Wait()
        drive = False
        with self._mutex:
            if self._room is not None:  # paused while this thread emptied the pipe
                self._wake_producer()
            # Registered first, then the items looked at again: put() reads _wait
            # without the mutex.
            self._wait = w
            if self._items or self.ended:
                self._wait = None
                return
            if running is None:
                try:
                    drive = shared.claim(w)
                except BaseException:  # closed
                    self._wait = None
                    raise
        try:
            if running is not None:  # this thread runs another loop: a helper waits
                shared.helpers.run(lambda: shared.wait(w))
            else:
                if drive:
                    shared.drive(w, scoped)
                if not w.done:
                    shared.wait(w, scoped=scoped)
        finally:
            if self._wait is w:  # interrupted, or the session closed
                with self._mutex:
                    if self._wait is w:
                        self._wait = None
                        self._watched = False
                        timer, self._timer = self._timer, None
                        if timer is not None:
                            shared.soon(timer.cancel)
                if running is not None:  # the helper may still wait for it
                    shared.release(w)


def _wake(room: asyncio.Future[None]) -> None:
    if not room.done():
        room.set_result(None)


async def pump(chunks: Any, pipe: Pipe[Any]) -> None:
    """On the loop: move the pieces of ``chunks`` (an async generator) into ``pipe``
    until the end, an error, or cancellation (the consumer left, or the session was
    closed)."""
    error: BaseException | None = None
    put = pipe.put
    shared = pipe._shared
    shared.streams += 1
    shared.when_idle(pipe.idle)
    try:
        async for piece in chunks:
            room = put(piece)
            if room is not None:
                await room
    except asyncio.CancelledError:
        error = Error("the session was closed while the body was being read")
        raise
    except BaseException as exc:
        error = exc
    finally:
        shared.streams -= 1
        shared.drop_idle(pipe.idle)
        try:
            await chunks.aclose()
        finally:
            pipe.finish(error)
