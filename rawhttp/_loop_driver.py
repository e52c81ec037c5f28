"""Leader/follower over one event loop: no thread of its own runs it; whichever
thread waits on it does.

A thread that waits for something to happen on the loop (:class:`Wait`) takes the
*driver* role if no other thread has it, and runs the loop, everybody's work
included, until its own wait is done; then it gives the role up and wakes the thread
that has slept longest, which takes the role over.  A thread that finds the role
taken sleeps until its wait is done or the role is handed to it.  One thread alone
thus runs the loop itself, with no hand-off at all.

A thread that runs an event loop of its own cannot run this one: it hands its wait
to a helper thread (:class:`Helpers`), which takes part in the above as any thread
does.  Code that this very loop runs (a trace hook) cannot wait for it at all: it
would wait for itself (:func:`own_loop_error`).

Ctrl-C while the main thread drives stops the loop (see _sigint) and raises
KeyboardInterrupt from :meth:`LoopDriver.drive` once it stopped.  After os.fork()
the child only gets errors (the loop's selector is shared with the parent and the
thread driving it did not come along).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import selectors
import threading
import time
from collections.abc import Callable
from typing import Any

from . import _sigint
from ._exceptions import Error
from ._helper_threads import Helpers

__all__ = ["EventLoopRunning", "LoopDriver", "Wait", "own_loop_error", "running_loop"]

_generation = 0
"""Bumped in the child after os.fork(): a loop made before it is unusable there (its
selector is shared with the parent, and the thread driving it did not come along)."""


def _forked() -> None:
    global _generation
    _generation += 1


os.register_at_fork(after_in_child=_forked)


class EventLoopRunning(Error, RuntimeError):
    """A blocking call on a SyncSession was made by code that the session's own event
    loop runs (a trace or 1xx hook): it would wait for itself."""


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop running in this thread, if any."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def own_loop_error() -> EventLoopRunning:
    return EventLoopRunning(
        "code run by a SyncSession's own event loop (a trace or 1xx hook, a request "
        "body's generator) cannot make a blocking call on that session: it would wait "
        "for itself; use another SyncSession, rawhttp.get(), or an async Session"
    )


class Wait:
    """Something a thread waits for: ``done`` is set once, under the loop's mutex,
    by :meth:`LoopDriver.settle`; ``wake`` is the lock a sleeping thread blocks on."""

    __slots__ = ("done", "wake")

    def __init__(self) -> None:
        self.done = False
        self.wake: threading.Lock | None = None


class _Selector(selectors.DefaultSelector):
    """The loop's selector, which tells ``on_idle`` when the loop has nothing to do
    and would block (nothing ready, nothing received): the moment to hand what was
    read ahead to a waiting consumer, so a slow body's pieces come at once while a
    fast one fills its batch first.  A timer armed for each batch instead cost about
    3% of the blocking stream's CPU on /chunked.  While a hook is set, a select that
    may block is preceded by one that does not."""

    on_idle: Callable[[], bool] | None = None  # True: it handed something over

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        on_idle = self.on_idle
        if on_idle is not None and (timeout is None or timeout > 0):
            ready = super().select(0)
            if ready or on_idle():
                return ready
        return super().select(timeout)


class LoopDriver:
    """An event loop run by the threads that wait on it."""

    def __init__(self) -> None:
        self._selector = _Selector()
        self._loop: asyncio.AbstractEventLoop = asyncio.SelectorEventLoop(self._selector)
        self._idle: dict[Callable[[], bool], None] = {}
        self._generation = _generation
        # Reentrant: a finalizer (a stream's generator) run by the garbage collector
        # inside a locked block may schedule work here.
        self.mutex = threading.RLock()
        self._driver: int | None = None  # the thread running the loop, if any
        self._target: Wait | None = None  # what that thread waits for
        self._sleepers: dict[Wait, None] = {}  # waits of sleeping threads, oldest first
        self._shut: Wait | None = None  # the shutdown (see drive), once started
        self._interrupted = False
        self._on_interrupt = self._interrupt  # one bound method, not one per drive
        # Waits handed over by threads inside another running loop (started on need).
        self.helpers = Helpers()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    @property
    def forked(self) -> bool:
        """True in a child process made by os.fork() after this loop."""
        return self._generation != _generation

    def soon(self, fn: Callable[..., object], *args: Any) -> None:
        """Run ``fn(*args)`` on the loop's behalf, from any thread, without waiting:
        at once if no thread runs the loop (it must then only schedule work on it),
        else as a callback; nothing once the loop is closed.  (At once, a producer
        woken by its consumer resumes in the next loop iteration instead of the one
        after: a stream enters the loop every few pieces.)"""
        if self.forked:
            return  # after fork(): a thread of the parent may have held the mutex
        with self.mutex:
            if self._loop.is_closed():
                return
            if self._driver is None:
                fn(*args)
            elif self._driver == threading.get_ident():
                self._loop.call_soon(fn, *args)
            else:
                self._loop.call_soon_threadsafe(fn, *args)

    def settle(self, w: Wait) -> None:
        """On the loop: ``w`` is done; stop the loop if its thread drives, else wake it."""
        with self.mutex:
            w.done = True
            if self._target is w or w is self._shut:
                self._loop.stop()
            wake = w.wake
            if wake is not None:
                w.wake = None
                del self._sleepers[w]
                wake.release()

    def release(self, w: Wait) -> None:
        """From any thread: settle ``w`` if nothing else did, so that a helper thread
        waiting for it on behalf of a caller that left returns."""
        self.soon(self._release, w)

    def _release(self, w: Wait) -> None:
        if not w.done:
            self.settle(w)

    def when_idle(self, hook: Callable[[], bool]) -> None:
        """On the loop: call ``hook()`` whenever the loop would block, until dropped."""
        self._idle[hook] = None
        self._selector.on_idle = self._run_idle

    def drop_idle(self, hook: Callable[[], bool]) -> None:
        """On the loop: stop calling ``hook``."""
        if self._idle.pop(hook, 0) is None and not self._idle:
            self._selector.on_idle = None

    def _run_idle(self) -> bool:
        handed = False
        for hook in list(self._idle):
            handed = hook() or handed
        return handed

    def wait(self, w: Wait, timeout: float | None = None, *, scoped: bool = False) -> bool:
        """Block until ``w`` is done, driving the loop whenever no other thread does;
        False if ``timeout`` passed first.  ``scoped``: the caller opened a Ctrl-C
        scope (_sigint.enter) for all its waits."""
        self.check_process()  # before the mutex, which a thread of the parent may hold
        deadline = None if timeout is None else time.monotonic() + timeout
        wake: threading.Lock | None = None
        try:
            while True:
                with self.mutex:
                    if w.done:
                        return True
                    drive = self.claim(w)
                    if not drive:
                        wake = threading.Lock()
                        wake.acquire()
                        w.wake = wake
                        self._sleepers[w] = None
                if drive:
                    self.drive(w, scoped)
                    if w.done:
                        return True
                    continue
                assert wake is not None
                left = -1.0 if deadline is None else max(0.0, deadline - time.monotonic())
                if not wake.acquire(timeout=left):
                    return False  # unregistered below
                wake = None
        finally:
            if wake is not None:  # interrupted or timed out while sleeping
                self._unsleep(w, wake)

    def claim(self, w: Wait) -> bool:
        """Under the mutex: take the driver role for ``w`` unless another thread has it.
        The role is this thread's own already only if an interrupt left it behind: no
        thread waits from inside the loop it drives (own_loop_error)."""
        self.check_process()
        if self._loop.is_closed():
            raise Error("the session is closed")
        me = threading.get_ident()
        if self._driver is None or self._driver == me:
            self._driver, self._target = me, w
            return True
        return False

    def _unsleep(self, w: Wait, wake: threading.Lock) -> None:
        """A sleeping thread stops waiting for ``w`` early: unregister it, and pass on
        the driver role if it had just been handed to this thread."""
        with self.mutex:
            if w.wake is wake:
                w.wake = None
                del self._sleepers[w]
            elif self._driver is None:
                self._wake_next()

    def _wake_next(self) -> None:
        """Under the mutex, the role free: wake the thread that has slept longest."""
        w = next(iter(self._sleepers), None)
        if w is not None:
            del self._sleepers[w]
            wake, w.wake = w.wake, None
            if wake is not None:
                wake.release()

    # -- driving ------------------------------------------------------------------

    def drive(self, w: Wait, scoped: bool = False) -> None:
        """Run the loop in this thread (which holds the role) until ``w`` is done, then
        give the role up and wake the thread that slept longest; with a shutdown under
        way (``_shut``), until it is done and the loop closed.  ``scoped``: the caller
        opened a Ctrl-C scope (this is the main thread)."""
        loop = self._loop
        if scoped:  # the caller's scope: this is the main thread
            main, opened = True, False
        else:
            main = opened = _sigint.enter()
        try:
            if main:
                _sigint.set_driving(self._on_interrupt)
            while True:
                loop.run_forever()
                if w.done and self._shut is None and not self._interrupted:
                    break
                with self.mutex:
                    shut = self._shut
                    if shut is not None and shut.done and not loop.is_closed():
                        self._close_loop()
                    if self._interrupted or loop.is_closed() or (w.done and shut is None):
                        break
        finally:
            with self.mutex:
                self._driver = self._target = None
                if self._sleepers:
                    self._wake_next()
            if main:
                _sigint.set_driving(None)
            if opened:
                _sigint.exit_()
        if self._interrupted:
            self._interrupted = False
            raise KeyboardInterrupt

    def _interrupt(self) -> bool:
        """Ctrl-C in the main thread while it drives: stop the loop, and raise
        KeyboardInterrupt once it stopped.  False if pressed again before that."""
        if self._interrupted:
            return False
        self._interrupted = True
        with contextlib.suppress(RuntimeError):  # closed meanwhile
            self._loop.call_soon_threadsafe(self._stop_interrupted)  # wakes the selector
        return True

    def _stop_interrupted(self) -> None:
        if self._interrupted:
            self._loop.stop()

    def _close_loop(self) -> None:
        """Under the mutex, holding the role, the shutdown done: close the loop."""
        self._loop.close()
        self.helpers.stop()

    def check_process(self) -> None:
        if self.forked:
            raise Error("a SyncSession cannot be used in a child process after fork()")
