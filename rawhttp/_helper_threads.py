"""Threads that make a blocking wait on behalf of a thread that cannot: one running an
event loop of its own (Jupyter's, an async web application's) cannot run a
SyncSession's loop as well, nor an ``asyncio.Runner``.

The calling thread hands a function to another thread and blocks until it returns,
getting its result or its exception unchanged.  A SyncSession keeps a few such
threads (:class:`Helpers`), started on first need and ended when it closes: handing a
call to one of them and back costs about 6 us, starting a thread for each call about
25 us (2 cores, CPython 3.11; the blocking ``get`` itself costs about 80 us).  The
one-shot functions start a thread per call (:func:`in_new_thread`): they have nothing
that lives longer.

A caller that stops waiting (KeyboardInterrupt) leaves the function running: it is
the caller's job to make it return (cancel the call it waits for).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ._exceptions import Error

__all__ = ["Helpers", "in_new_thread"]

T = TypeVar("T")

THREAD_NAME = "rawhttp-sync-helper"


class _Job(Generic[T]):
    """A function run in another thread, and the lock its caller blocks on."""

    __slots__ = ("error", "finished", "fn", "result")

    def __init__(self, fn: Callable[[], T]) -> None:
        self.fn = fn
        self.finished = threading.Lock()
        self.finished.acquire()
        self.result: T | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.fn()
        except BaseException as exc:  # the caller's to see, whatever it is
            self.error = exc

    def wait(self) -> T:
        """Block until the function returned (KeyboardInterrupt can stop the wait in
        the main thread); its result, or its exception raised here."""
        self.finished.acquire()
        error, self.error = self.error, None
        if error is not None:
            raise error
        return self.result  # type: ignore[return-value]


def in_new_thread(fn: Callable[[], T]) -> T:
    """Run ``fn()`` in a new daemon thread and wait for it here."""
    job = _Job(fn)

    def run() -> None:
        job.run()
        job.finished.release()

    threading.Thread(target=run, name=THREAD_NAME, daemon=True).start()
    return job.wait()


class Helpers:
    """Daemon threads that run functions for callers that cannot wait themselves: an
    idle one takes the next function, and a new one starts when none is idle (so a
    function never waits behind another one, which may block for long).  stop() ends
    them once the functions handed over before it returned."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        import queue  # imported with the first SyncSession, not with rawhttp

        self._jobs: queue.SimpleQueue[_Job[Any] | None] = queue.SimpleQueue()
        self._idle = 0
        self._threads: list[threading.Thread] = []
        self._stopped = False

    @property
    def threads(self) -> list[threading.Thread]:
        """The threads started so far (ended ones included)."""
        return list(self._threads)

    def run(self, fn: Callable[[], T]) -> T:
        """Run ``fn()`` in a helper thread and wait for it here."""
        job = _Job(fn)
        with self._lock:
            if self._stopped:
                raise Error("the session is closed")
            if self._idle:
                self._idle -= 1
            else:
                thread = threading.Thread(target=self._serve, name=THREAD_NAME, daemon=True)
                self._threads.append(thread)
                thread.start()
            self._jobs.put(job)
        return job.wait()

    def _serve(self) -> None:
        jobs = self._jobs
        while (job := jobs.get()) is not None:
            job.run()
            # Idle before the caller wakes: its next call, made at once, finds this
            # thread instead of starting another one.
            with self._lock:
                self._idle += 1
            job.finished.release()

    def stop(self) -> None:
        """No more functions; each thread ends after those handed over already."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            for _ in self._threads:
                self._jobs.put(None)

    def join(self, timeout: float) -> None:
        """After stop(): wait (at most ``timeout`` seconds) for the threads to end."""
        deadline = time.monotonic() + timeout
        me = threading.current_thread()
        for thread in self.threads:
            if thread is not me:
                thread.join(max(0.0, deadline - time.monotonic()))
