"""The event loop of a SyncSession, shared by every thread that calls it: calls
handed to it as tasks, and its closing.

A call schedules a coroutine function as a task on the loop and waits for it as a
:class:`LoopDriver` wait: the calling thread runs the loop itself if no other thread
does, so one thread alone makes its requests on its own thread.  A thread that runs
another event loop hands the wait to a helper thread and blocks until it is done
(its own loop blocks meanwhile: that is what a blocking call is); code run by this
loop itself gets EventLoopRunning.  An exception while waiting (Ctrl-C) cancels the
task and waits, bounded, for it to unwind.  close() cancels what is unfinished
(callers get a rawhttp error), runs the owner's cleanup, shuts down async generators
and the default executor, closes the loop and ends the helper threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Generic, TypeVar

from . import _sigint
from ._exceptions import Error
from ._loop_driver import EventLoopRunning, LoopDriver, Wait, own_loop_error, running_loop

__all__ = [
    "CANCEL_WAIT",
    "EventLoopRunning",
    "SharedLoop",
    "Wait",
    "own_loop_error",
    "running_loop",
]

T = TypeVar("T")

CANCEL_WAIT = 5.0
"""Seconds an interrupted or abandoned call's task is given to unwind once cancelled."""
CLOSE_WAIT = 5.0
"""Seconds close() gives unfinished tasks to unwind once cancelled, and each later
shutdown step; a close() that another thread must finish waits three times this."""


class _Call(Wait, Generic[T]):
    __slots__ = ("abandoned", "cleanup", "error", "fn", "result", "task", "unwound")

    def __init__(
        self,
        fn: Callable[[], Coroutine[Any, Any, T]],
        cleanup: Callable[[T], Coroutine[Any, Any, Any]] | None = None,
    ) -> None:
        super().__init__()
        self.fn = fn
        self.cleanup = cleanup
        self.task: asyncio.Task[None] | None = None
        self.result: T | None = None
        self.error: BaseException | None = None
        self.abandoned = False  # the caller stopped waiting: the task is being cancelled
        self.unwound = False  # ... and no longer waited for: a late result is cleaned up


class SharedLoop(LoopDriver):
    """A LoopDriver that runs calls; ``on_close`` runs on the loop last."""

    def __init__(self, on_close: Callable[[], Awaitable[None]]) -> None:
        super().__init__()
        self._on_close = on_close
        self.streams = 0  # streams being read ahead (counted by their pump, on the loop)
        self._calls: set[_Call[Any]] = set()  # started and not settled
        self._final = Wait()  # settled once the loop is closed

    @property
    def is_closed(self) -> bool:
        return self._shut is not None or self.forked

    # -- calls ------------------------------------------------------------------

    def call(
        self,
        fn: Callable[[], Coroutine[Any, Any, T]],
        *,
        cleanup: Callable[[T], Coroutine[Any, Any, Any]] | None = None,
    ) -> T:
        """Run ``fn()`` on the loop and wait for it: its result, or its exception
        unchanged.  If the caller stops waiting (KeyboardInterrupt), the task is
        cancelled and a result that came anyway is given to ``cleanup``."""
        return self._call(_Call(fn, cleanup), abandon=True)

    def _call(self, call: _Call[T], *, abandon: bool) -> T:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            self._run(call, abandon)
        else:
            self._run_elsewhere(call, running, abandon)
        if call.error is not None:
            error, call.error = call.error, None
            raise error
        return call.result  # type: ignore[return-value]

    def _run_elsewhere(
        self, call: _Call[Any], running: asyncio.AbstractEventLoop, abandon: bool
    ) -> None:
        """From a thread that runs an event loop: a helper thread makes the call (in
        this thread's context, for context variables) while this thread blocks.
        Not from this loop itself: it would wait for itself."""
        if running is self._loop:
            raise own_loop_error()
        self.check_process()
        context = contextvars.copy_context()
        try:
            self.helpers.run(lambda: context.run(self._run, call, False))
        except BaseException:
            if abandon:
                self._abandon(call)
            raise

    def _run(self, call: _Call[Any], abandon: bool) -> None:
        """Start ``call`` and wait until it is settled, driving the loop if no other
        thread does; in a thread that runs no event loop."""
        self.check_process()
        me = threading.get_ident()
        main = _sigint.enter()
        try:
            with self.mutex:
                if self._shut is not None:
                    raise Error("the session is closed")
                # The role is this thread's own only if an interrupt left it behind:
                # no thread can call from inside the loop it drives (see _call).
                drive = self._driver is None or self._driver == me
                if drive:
                    self._driver, self._target = me, call
                else:
                    self._loop.call_soon_threadsafe(self._start, call)
            try:
                if drive:
                    self._start(call)
                    self.drive(call, main)
                self.wait(call, scoped=main)
            except BaseException:
                if abandon:
                    self._abandon(call)
                raise
        finally:
            if main:
                _sigint.exit_()

    def alone(self, w: Wait) -> bool:
        """Nothing but one stream runs on the loop, for the thread driving it for ``w``:
        the loop then idles whenever that stream waits for the network."""
        return self._target is w and self.streams == 1 and not self._calls

    # -- the tasks ------------------------------------------------------------------

    def _start(self, call: _Call[Any]) -> None:
        call.task = self._loop.create_task(self._task(call))
        self._calls.add(call)

    async def _task(self, call: _Call[Any]) -> None:
        """The call's task.  It settles the call itself, in the step that finishes it:
        a done callback would cost one more loop iteration per call."""
        try:
            result = await call.fn()
        except asyncio.CancelledError:
            self._cancelled(call)
            raise
        except BaseException as exc:  # the caller's (KeyboardInterrupt from a hook too)
            call.error = exc
            self._calls.discard(call)
            self.settle(call)
            return
        call.result = result
        self._calls.discard(call)
        self.settle(call)
        if call.unwound and (cleanup := self._clean(call)) is not None:
            self._loop.create_task(cleanup)

    def _cancelled(self, call: _Call[Any]) -> None:
        self._calls.discard(call)
        if not call.done:
            what = "interrupted" if call.abandoned else "closed"
            call.error = Error(f"the call was cancelled: the session was {what}")
            self.settle(call)

    def _clean(self, call: _Call[Any]) -> Coroutine[Any, Any, Any] | None:
        """The cleanup of a result the caller never took, at most once."""
        cleanup = call.cleanup
        if cleanup is None or not call.done or call.error is not None:
            return None
        call.cleanup = None
        return cleanup(call.result)

    def _abandon(self, call: _Call[Any]) -> None:
        """The caller stopped waiting: cancel the task and wait (bounded) for it to
        unwind, and clean up a result that came anyway."""
        if call.done and (call.error is not None or call.cleanup is None):
            return  # nothing runs and nothing is left to release

        async def unwind() -> None:
            call.abandoned = True
            task = call.task
            if task is not None and not task.done():
                task.add_done_callback(lambda _: self._cancelled(call))  # if never started
                task.cancel()
                await asyncio.wait([task], timeout=CANCEL_WAIT)
            cleanup = self._clean(call)
            call.unwound = True  # from now on _task cleans up itself
            if cleanup is not None:
                await asyncio.wait_for(cleanup, CANCEL_WAIT)

        with contextlib.suppress(Error):  # closed meanwhile: that cancelled and released all
            self._call(_Call(unwind), abandon=False)

    # -- closing ----------------------------------------------------------------------

    def close(self, *, wait_in_loop: bool = True) -> None:
        """Cancel what is unfinished and close the loop, waiting for it (bounded), and
        end the helper threads.  From code this loop runs (a hook) only start it: the
        thread driving the loop finishes it.  From inside another running loop, a
        helper thread waits for it, or if not ``wait_in_loop`` (a finalizer, which the
        garbage collector may run anywhere) nothing waits: a short-lived thread
        finishes it if no thread runs this loop."""
        if self.forked:
            return  # after fork(): the loop's selector and sockets are the parent's
        running = running_loop()
        can_drive = running is None
        shut: _Call[None] | None = None
        with self.mutex:
            if self._shut is None:
                shut = _Call(self._shutdown)
                self._shut = shut
                if self._driver is None and can_drive:
                    self._driver, self._target = threading.get_ident(), shut
                else:
                    self._loop.call_soon_threadsafe(self._start, shut)
                    shut = None
            nobody_drives = self._driver is None
        if shut is not None:  # this thread drives the shutdown
            self._start(shut)
            self.drive(self._final)
        elif can_drive:
            self.wait(self._final, 3 * CLOSE_WAIT)
        elif running is self._loop:
            return
        elif wait_in_loop:
            with contextlib.suppress(Error):  # the helpers stopped: the loop is closed
                self.helpers.run(self._finish_close)
        else:
            if nobody_drives:
                threading.Thread(target=self._finish_close, daemon=True).start()
            return
        self.helpers.join(CLOSE_WAIT)

    def _finish_close(self) -> None:
        """In a thread that runs no loop, for a close() called inside another one."""
        with contextlib.suppress(Error):
            self.wait(self._final, 3 * CLOSE_WAIT)

    async def _shutdown(self) -> None:
        me = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not me]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=CLOSE_WAIT)
        try:
            await asyncio.wait_for(self._on_close(), CLOSE_WAIT)
        finally:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._loop.shutdown_asyncgens(), CLOSE_WAIT)
            with contextlib.suppress(TimeoutError):  # a resolver thread stuck in getaddrinfo
                await asyncio.wait_for(self._loop.shutdown_default_executor(), CLOSE_WAIT)

    def _close_loop(self) -> None:
        """Under the mutex, holding the role, the shutdown done: close the loop; what
        did not unwind in time fails, and every sleeping thread wakes to see it."""
        for call in list(self._calls):
            self._cancelled(call)
        self._loop.close()
        self.settle(self._final)
        while self._sleepers:
            self._wake_next()
        self.helpers.stop()
