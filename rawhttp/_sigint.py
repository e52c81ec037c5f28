"""Ctrl-C while the main thread runs a SyncSession's event loop.

KeyboardInterrupt must not be raised inside whatever callback the loop runs (a
handle popped and never run would leave a task hanging), so, as asyncio.Runner does,
Python's default SIGINT handler is replaced by one that asks the loop to stop; the
blocking call then raises KeyboardInterrupt itself, once the loop stopped.  Outside
the loop the handler does what the default one does: raise KeyboardInterrupt.

It is installed for a whole *scope* (a call, a stream read to its end), not each time
the loop is entered: ``signal.getsignal()`` and two ``signal.signal()`` cost about
6.5 us (the enum conversions in the signal module), more than entering the loop
does, and a stream enters it every few pieces.  A handler the program installed
itself is left alone.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

__all__ = ["enter", "exit_", "set_driving"]

_lock = threading.Lock()
_depth = 0  # scopes open
_saved: Any = None  # the handler ours replaced (Python's default), while installed
_interrupt: Callable[[], bool] | None = None
"""While the main thread drives a loop: asks it to stop (False: asked already)."""


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    interrupt = _interrupt
    if interrupt is None or not interrupt():  # not driving, or pressed again: at once
        raise KeyboardInterrupt


def set_driving(interrupt: Callable[[], bool] | None) -> None:
    """In the main thread: it starts (or stops) running a loop."""
    global _interrupt
    _interrupt = interrupt


def enter() -> bool:
    """Open a scope in the main thread (True); elsewhere nothing (False)."""
    global _depth, _saved
    if threading.current_thread() is not threading.main_thread():
        return False
    with _lock:
        if _depth == 0:
            current = signal.getsignal(signal.SIGINT)
            if current is signal.default_int_handler:
                signal.signal(signal.SIGINT, _on_sigint)
                _saved = current
            elif current is _on_sigint:  # left by a scope closed in another thread
                _saved = signal.default_int_handler
            else:  # the program's own handler
                _saved = None
        _depth += 1
    return True


def exit_() -> None:
    """Close a scope that enter() opened.  The last one puts Python's handler back,
    unless the program installed its own meanwhile, or this is not the main thread (a
    generator finalized elsewhere): ours then stays, acting as the default one."""
    global _depth, _saved
    with _lock:
        _depth -= 1
        if _depth or _saved is None:
            return
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGINT, _saved)
            if previous is not _on_sigint:
                signal.signal(signal.SIGINT, previous)
            _saved = None
