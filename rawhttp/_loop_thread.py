"""One event loop running in one daemon thread, and the hand-off of work to it from
any other thread: what lets one SyncSession be shared by many threads.

A call runs a coroutine function as a task on the loop; the calling thread blocks
until the task is done and gets its result, or its exception object unchanged.  An
exception in the waiting thread (Ctrl-C) cancels the task and waits, bounded, for it
to unwind.  close() cancels unfinished tasks (their callers get a rawhttp error),
runs the owner's cleanup, releases the loop's resources and ends the thread.
:class:`Pipe` hands the pieces of a streamed body across, a few at a time.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from ._exceptions import Error

__all__ = ["EventLoopRunning", "LoopThread", "Pipe", "check_no_running_loop", "pump"]

T = TypeVar("T")

CANCEL_WAIT = 5.0
"""Seconds a caller interrupted while waiting gives its cancelled task to unwind."""
WAKE_DELAY = 0.001
"""Seconds at most between a piece reaching the pipe and a waiting consumer waking
(a slow body's pieces still arrive at once; against 0.2 ms: 0.87-0.90x instead of
0.80-0.86x the async rate streaming 1 GiB, fewer wake-ups before the pipe is full)."""
MAX_PIECES = 64
"""A pipe is full at this many pieces, however small (``iter_bytes(1)``)."""
CLOSE_WAIT = 5.0
"""Seconds close() gives unfinished tasks to unwind once cancelled (and each later
shutdown step); the thread is joined for at most three times this."""


class EventLoopRunning(Error, RuntimeError):
    """A blocking call was made from inside a running event loop."""


def check_no_running_loop() -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise EventLoopRunning(
        "the blocking rawhttp API cannot run inside a running event loop; "
        "use `async with rawhttp.Session() as s: await s.get(...)` instead"
    )


class _Call:
    """One call handed to the loop thread.  ``future`` is set once, on the loop thread."""

    __slots__ = ("abandoned", "cleanup", "fn", "future", "task")

    def __init__(
        self,
        fn: Callable[[], Coroutine[Any, Any, Any]],
        cleanup: Callable[[Any], Coroutine[Any, Any, Any]] | None,
    ) -> None:
        self.fn = fn
        self.cleanup = cleanup
        self.future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self.task: asyncio.Task[Any] | None = None
        self.abandoned = False


class LoopThread:
    """An event loop in a daemon thread named ``name``; ``on_close`` runs on it last."""

    def __init__(self, name: str, on_close: Callable[[], Awaitable[None]]) -> None:
        self._on_close = on_close
        self._loop = asyncio.new_event_loop()
        # Reentrant: a finalizer run by the garbage collector inside a locked block
        # may close this same thread.
        self._lock = threading.RLock()
        self._closed = False
        self._calls: set[_Call] = set()  # touched on the loop thread only
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    @property
    def is_closed(self) -> bool:
        return self._closed

    def call(
        self,
        fn: Callable[[], Coroutine[Any, Any, T]],
        *,
        cleanup: Callable[[T], Coroutine[Any, Any, Any]] | None = None,
    ) -> T:
        """Run ``fn()`` on the loop and wait for it.  If the caller stops waiting
        (an exception such as KeyboardInterrupt arrives), the task is cancelled and a
        result that came anyway is given to ``cleanup``."""
        check_no_running_loop()  # this loop's own thread included: it would wait for itself
        call = _Call(fn, cleanup)
        with self._lock:
            if self._closed:
                raise Error("the session is closed")
            if not self._thread.is_alive():  # e.g. in a child process after fork()
                raise Error("the session's thread is not running in this process")
            try:
                self._loop.call_soon_threadsafe(self._start, call)
            except RuntimeError:  # the loop stopped on its own (see _main)
                raise Error("the session's event loop has stopped") from None
        try:
            result: T = call.future.result()
        except BaseException:
            if not call.future.done() or call.future.exception() is None:
                self._abandon(call)  # interrupted, not the call's own error
            raise
        return result

    def post(self, fn: Callable[[], object]) -> None:
        """Run ``fn()`` on the loop soon, without waiting (nothing if closed)."""
        with self._lock, contextlib.suppress(RuntimeError):  # RuntimeError: loop closed
            self._loop.call_soon_threadsafe(fn)

    def close(self) -> None:
        """Stop the loop and wait (bounded) for the thread to end; from the loop's own
        thread (a hook, a finalizer) only start the stop."""
        with self._lock:
            if not self._closed:
                self._closed = True
                with contextlib.suppress(RuntimeError):
                    self._loop.call_soon_threadsafe(self._loop.stop)
        if threading.current_thread() is not self._thread:
            self._thread.join(3 * CLOSE_WAIT)

    # -- the caller's side ------------------------------------------------------

    def _abandon(self, call: _Call) -> None:
        try:
            self._loop.call_soon_threadsafe(self._cancel, call)
        except RuntimeError:  # the loop is closed: nothing is running any more
            return
        concurrent.futures.wait([call.future], timeout=CANCEL_WAIT)

    # -- the loop thread --------------------------------------------------------

    def _main(self) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
            loop.run_until_complete(self._shutdown())
        finally:
            # Normally after close(); also if an exception that asyncio does not catch
            # (KeyboardInterrupt, SystemExit raised in a hook) stopped the loop.
            with self._lock:
                self._closed = True
            for call in list(self._calls):  # tasks that did not unwind in time
                if not call.future.done():
                    call.future.set_exception(Error("the session was closed"))
            loop.close()

    def _start(self, call: _Call) -> None:
        task = self._loop.create_task(self._run(call))
        call.task = task
        self._calls.add(call)
        task.add_done_callback(lambda t: self._finished(call))

    async def _run(self, call: _Call) -> None:
        """The call's task.  It hands over the outcome itself: a done callback would
        run one loop iteration later, and the caller would wait that much longer."""
        try:
            result = await call.fn()
        except asyncio.CancelledError:
            raise  # reported by _finished
        except BaseException as exc:  # the caller's (KeyboardInterrupt from a hook too)
            call.future.set_exception(exc)
            return
        call.future.set_result(result)
        if call.abandoned:
            self._clean(call)

    def _finished(self, call: _Call) -> None:
        self._calls.discard(call)
        if not call.future.done():  # cancelled, before it started or while it ran
            what = "interrupted" if call.abandoned else "closed"
            call.future.set_exception(Error(f"the call was cancelled: the session was {what}"))

    def _cancel(self, call: _Call) -> None:
        call.abandoned = True
        if call.task is not None and not call.task.done():
            call.task.cancel()  # _finished cleans up a result that comes anyway
        elif call.future.done() and call.future.exception() is None:
            self._clean(call)  # done, but the caller never took the result

    def _clean(self, call: _Call) -> None:
        cleanup, call.cleanup = call.cleanup, None
        if cleanup is not None:
            self._loop.create_task(cleanup(call.future.result()))

    async def _shutdown(self) -> None:
        me = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not me]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=CLOSE_WAIT)
        await asyncio.wait_for(self._on_close(), CLOSE_WAIT)
        await self._loop.shutdown_asyncgens()
        with contextlib.suppress(TimeoutError):  # a resolver thread stuck in getaddrinfo
            await asyncio.wait_for(self._loop.shutdown_default_executor(), CLOSE_WAIT)


class Pipe:
    """Pieces of a body handed from a task on the loop thread to one consuming thread.

    Every hand-off between the threads costs wake-ups and GIL switches, so they are
    batched: the producer stops once ``limit`` bytes (or ``MAX_PIECES`` pieces) wait
    and is woken again when the consumer has taken half of them; a waiting consumer
    is woken when the pipe is full, at the end, or ``WAKE_DELAY`` after a first
    piece (a slow body).  Streaming from a local nginx in 64 KiB pieces, side by
    side with the async stream in one process (2 cores, 512 KiB): waking each side
    for every piece ran at 0.6-0.7x the async rate with about one context switch per
    piece; batched like this, 0.83-0.90x (1 GiB body) and 0.76-0.81x (chunked) with
    0.2-0.4 switches per piece."""

    def __init__(self, loop: asyncio.AbstractEventLoop, limit: int) -> None:
        self._loop = loop
        self._limit = limit
        self._low = limit // 2
        self._items: deque[bytes] = deque()
        # Bytes put and bytes taken, each written by one thread only: their
        # difference is what waits, without a shared counter both threads change.
        self._put = 0
        self._taken = 0
        self._lock = threading.Lock()  # `with self._lock` is cheaper than `with self._cond`
        self._cond = threading.Condition(self._lock)
        self._consumer_waits = False
        self._wake_pending = False
        self._room: asyncio.Future[None] | None = None
        self._error: BaseException | None = None
        self.ended = False

    def _full(self) -> bool:
        return self._put - self._taken >= self._limit or len(self._items) >= MAX_PIECES

    def _over_half(self, less_bytes: int, less_pieces: int) -> bool:
        """More than half full (in bytes or in pieces), ``less_*`` taken away."""
        waiting = self._put - self._taken - less_bytes
        return waiting > self._low or len(self._items) - less_pieces > MAX_PIECES // 2

    def put(self, item: bytes) -> asyncio.Future[None] | None:
        """On the loop thread: hand over ``item``; returns a future to await when full."""
        with self._lock:
            self._items.append(item)
            self._put += len(item)
            full = self._full()
            if self._consumer_waits:
                if full:
                    self._cond.notify()
                elif not self._wake_pending:
                    self._wake_pending = True
                    self._loop.call_later(WAKE_DELAY, self._wake_consumer)
            if not full:
                return None
            room = self._room = self._loop.create_future()
        return room

    def _wake_consumer(self) -> None:
        with self._lock:
            self._wake_pending = False
            self._cond.notify()

    def finish(self, error: BaseException | None = None) -> None:
        """On the loop thread: no more pieces; ``error`` is raised to the consumer."""
        with self._lock:
            self._error = error
            self.ended = True
            self._cond.notify()

    def get(self) -> bytes | None:
        """In the consuming thread: the next piece, None at the end."""
        items = self._items
        # The producer only adds: while more than half stays after this piece, the
        # producer need not be woken and no lock is needed.
        if len(items) > 1 and self._over_half(len(items[0]), 1):
            item = items.popleft()
            self._taken += len(item)
            return item
        with self._lock:
            while not items:
                if self.ended:
                    if self._error is not None:
                        raise self._error
                    return None
                self._consumer_waits = True
                try:
                    self._cond.wait()
                finally:
                    self._consumer_waits = False
            item = items.popleft()
            self._taken += len(item)
            room = self._room
            if room is None or (items and self._over_half(0, 0)):
                return item
            self._room = None
        with contextlib.suppress(RuntimeError):  # the loop is closed
            self._loop.call_soon_threadsafe(_wake, room)
        return item


def _wake(room: asyncio.Future[None]) -> None:
    if not room.done():
        room.set_result(None)


async def pump(chunks: Any, pipe: Pipe) -> None:
    """On the loop thread: move the pieces of ``chunks`` (an async generator) into
    ``pipe`` until the end, an error, or cancellation (the consumer left, or the
    session was closed)."""
    error: BaseException | None = None
    put = pipe.put
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
        try:
            await chunks.aclose()
        finally:
            pipe.finish(error)
