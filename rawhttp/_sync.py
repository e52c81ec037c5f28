"""The blocking API for scripts: a thin wrapper around the async Session.  There is
no second copy of the HTTP code.

A SyncSession runs its Session on an event loop that no thread of its own runs: the
calling thread that waits drives it (:class:`SharedLoop`), so a script with one
thread pays no hand-off at all, and threads that share the session share its pool.
Streamed bodies are read ahead a batch at a time into a small bounded :class:`Pipe`.
The one-shot functions run a private loop in the calling thread (``asyncio.Runner``).

Called from a thread that runs an event loop of its own (Jupyter, an async web
application calling a blocking helper), both block that thread, and so its loop,
while a helper thread does the waiting: a SyncSession's helper threads drive its
loop, a one-shot call runs its ``asyncio.Runner`` in a thread of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import threading
import weakref
from collections.abc import AsyncGenerator, Callable, Coroutine, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Unpack

from ._body_reader import READ_CHUNK
from ._exceptions import Error
from ._helper_threads import in_new_thread
from ._options import (
    ONE_SHOT_OPTIONS,
    REQUEST_OPTIONS,
    VERBS,
    OneShotOptions,
    RequestOptions,
    Verbs,
    check_options,
    one_shot,
    same_options_as,
    signature_with,
)
from ._pipe import P, Pipe, pump
from ._pool import PoolState
from ._response import Response
from ._session import Session

if TYPE_CHECKING:
    from http.cookiejar import CookieJar

from ._shared_loop import CANCEL_WAIT, EventLoopRunning, SharedLoop
from ._text import MAX_LINE

__all__ = [  # the one-shot functions in the order of VERBS
    "EventLoopRunning",
    "SyncSession",
    "SyncStream",
    "request",
    "get",
    "head",
    "options",
    "delete",
    "post",
    "put",
    "patch",
]

PIPE_BYTES = 1024 * 1024
"""A streamed body is read ahead by at most about this many bytes (16 pieces of the
default 64 KiB; the piece that crosses the limit is the last one), a batch of half
of it each time the consuming thread runs the loop.  Measured with bench/run.py
(nginx on loopback, 2 cores, fresh processes, medians of 5 rounds, blocking stream
over async stream, 5-8 runs each): 512 KiB gave 0.81-0.91 on /big, 0.74-0.81 on
/chunked and 0.86-0.92 on /huge; 1 MiB 0.83-0.91, 0.76-0.83 and 0.89-0.96 (2 MiB:
0.90, 0.83 and 0.93 in the one run made).  Each batch costs entering and leaving the
loop, so halving their number shows most on /chunked, which has the most pieces.
Text streams count characters against it (see _pipe)."""


class SyncSession(Verbs[Response]):
    """A blocking Session for scripts, keeping its connection pool between calls.

    Takes the same options as :class:`Session`.  Use it as a context manager::

        with rawhttp.SyncSession() as s:
            r = s.get("http://127.0.0.1:8080/")

    It is safe to share between threads.  Its Session runs on one event loop that
    whichever calling thread is waiting runs, every thread's requests included, so
    calls from several threads run concurrently over the one pool; trace and 1xx
    hooks run in that thread.  A thread that runs an event loop of its own (Jupyter)
    blocks, loop and all, while a helper thread of the session waits in its place.
    Trace and 1xx hooks cannot call the session that runs them: that raises
    :class:`rawhttp.EventLoopRunning`.  ``close()`` (from any thread) closes every
    connection, the loop and the helper threads; calls still running get a
    :class:`rawhttp.Error`.
    """

    @same_options_as(Session.__init__)
    def __init__(self, **options: Any) -> None:
        self._session = Session(**options)
        self._shared = SharedLoop(self._session.aclose)
        # A session that is never closed still closes its loop and connections when
        # it is collected (or at exit): the finalizer holds the loop, not the session.
        # The garbage collector may run it inside any running loop: it does not wait
        # there (a helper thread would block that loop for nothing).
        self._finalizer = weakref.finalize(self, self._shared.close, wait_in_loop=False)

    def __enter__(self) -> SyncSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close every connection, the session's event loop and its helper threads
        (waiting, bounded; from a hook it runs, only starting it).

        Calls still running in other threads are cancelled and raise a rawhttp.Error;
        later calls raise ``rawhttp.Error("the session is closed")``."""
        self._finalizer.detach()
        self._shared.close()

    @property
    def is_closed(self) -> bool:
        """True once ``close()`` was called."""
        return self._shared.is_closed

    @property
    def cookies(self) -> CookieJar:
        """The session's cookie jar (see :attr:`Session.cookies`)."""
        return self._session.cookies

    @property
    def pool(self) -> PoolState:
        """The connections of the session's pool (see :attr:`Session.pool`)."""
        return self._session.pool

    @signature_with(RequestOptions)
    def request(self, method: str, url: str, **options: Unpack[RequestOptions]) -> Response:
        """Send a request; the response's body is read (options as
        :meth:`Session.request`)."""
        check_options("request", options, REQUEST_OPTIONS)
        send = functools.partial(self._session.request, method, url, **options)
        return self._shared.call(send)

    @signature_with(RequestOptions, returns="AbstractContextManager[SyncStream]")
    @contextlib.contextmanager
    def stream(
        self, method: str, url: str, **options: Unpack[RequestOptions]
    ) -> Iterator[SyncStream]:
        """``with s.stream("GET", url) as r: for chunk in r.iter_bytes(): ...``

        Leaving the block (at the end, by break or by an exception) closes the
        response; a body not read to its end closes its connection."""
        check_options("stream", options, REQUEST_OPTIONS)
        manager = self._session.stream(method, url, **options)

        async def release(_: Response) -> None:
            await manager.__aexit__(None, None, None)

        response = self._shared.call(manager.__aenter__, cleanup=release)
        stream = SyncStream(response, self)
        try:
            yield stream
        finally:
            stream._close(release)


class SyncStream:
    """A streamed response in the blocking API: the Response's attributes, plus
    blocking ``iter_bytes()``, ``iter_raw()``, ``iter_text()``, ``iter_lines()``
    and ``read()``.

    The pieces are read ahead, at most a few pieces (memory stays bounded), while the
    consuming thread waits for them or while another thread drives the loop."""

    def __init__(self, response: Response, session: SyncSession) -> None:
        self.response = response
        self._owner = session  # not collected (and so closed) while its stream is read
        self._shared = session._shared
        self._pumps: list[tuple[asyncio.Task[None], Pipe[Any]]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.response, name)

    def iter_bytes(self, chunk_size: int = READ_CHUNK) -> Iterator[bytes]:
        """The decoded body in pieces of at most ``chunk_size`` bytes."""
        return self._blocking(self.response.iter_bytes(chunk_size))

    def iter_raw(self, chunk_size: int = READ_CHUNK) -> Iterator[bytes]:
        """The body as received, in pieces of at most ``chunk_size`` bytes."""
        return self._blocking(self.response.iter_raw(chunk_size))

    def iter_text(self, chunk_size: int = READ_CHUNK) -> Iterator[str]:
        """The decoded body as text, in pieces decoded from at most ``chunk_size``
        bytes each (see :meth:`Response.iter_text`)."""
        return self._blocking(self.response.iter_text(chunk_size))

    def iter_lines(
        self, chunk_size: int = READ_CHUNK, *, max_line: int | None = MAX_LINE
    ) -> Iterator[str]:
        """The lines of the text, without their line endings (see
        :meth:`Response.iter_lines`)."""
        return self._blocking(self.response.iter_lines(chunk_size, max_line=max_line))

    def _blocking(self, chunks: AsyncGenerator[P, None]) -> Iterator[P]:
        pipe: Pipe[P] = Pipe(self._shared, PIPE_BYTES)
        tasks: list[asyncio.Task[None]] = []

        async def create() -> asyncio.Task[None]:
            return asyncio.get_running_loop().create_task(pump(chunks, pipe))

        def start() -> None:
            tasks.append(self._shared.call(create, cleanup=_cancel))
            self._pumps.append((tasks[0], pipe))

        # Left early: stop reading ahead, close the connection.
        return pipe.pieces(start, lambda: self._stop(tasks))

    def read(self) -> bytes:
        """The whole (decoded) body."""
        return self._shared.call(self.response.read)

    def _close(self, release: Callable[[Response], Coroutine[Any, Any, None]]) -> None:
        """Leave the ``with`` block: stop what still reads ahead, release the response."""
        self._stop([task for task, pipe in self._pumps if not pipe.ended], release)

    def _stop(
        self,
        tasks: list[asyncio.Task[None]],
        release: Callable[[Response], Coroutine[Any, Any, None]] | None = None,
    ) -> None:
        """Cancel ``tasks`` (and wait for them, bounded), then ``release``, on the
        loop: waiting where the calling thread can wait; only scheduled where it
        cannot (a generator finalized by the session's own loop); nothing once the
        session is closed (closing cancelled and closed everything)."""

        async def stop() -> None:
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=CANCEL_WAIT)
            if release is not None:
                await release(self.response)

        try:
            self._shared.call(stop)
        except EventLoopRunning:
            self._shared.soon(lambda: self._shared.loop.create_task(stop()))
        except Error:
            if not self._shared.is_closed:
                raise

    def __repr__(self) -> str:
        return repr(self.response)


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()


@signature_with(OneShotOptions, defaults=Session.__init__)
def request(method: str, url: str, **options: Unpack[OneShotOptions]) -> Response:
    """Send one request and return the response; the connection is closed after.

    Takes the options of :meth:`Session.request`, and these Session options for the
    one request: ``verify``, ``cert``, ``limits``, ``max_redirects``,
    ``decode_content``, ``proxy``, ``no_proxy``, ``trust_env``, ``local_address``,
    ``happy_eyeballs_delay`` and ``unix_socket`` (see :class:`rawhttp.OneShotOptions`).
    """
    check_options("request", options, ONE_SHOT_OPTIONS)
    given: dict[str, Any] = dict(options)
    session = Session(**{k: given.pop(k) for k in list(given) if k not in REQUEST_OPTIONS})

    async def once() -> Response:
        async with session:
            return await session.request(method, url, **given)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        # A private loop in the calling thread: about 450 us for a small local GET
        # against about 700 us with a SyncSession's loop thread (thread start and
        # join, two hand-offs).  Ctrl-C cancels the request (asyncio.Runner's handler).
        with asyncio.Runner() as runner:
            return runner.run(once())
    return _in_own_thread(once)


def _in_own_thread(once: Callable[[], Coroutine[Any, Any, Response]]) -> Response:
    """Inside a running event loop: run ``once()`` under an ``asyncio.Runner`` in a
    thread of its own (in this thread's context), blocking this thread and its loop
    until it is done.  KeyboardInterrupt while waiting (Ctrl-C in the main thread)
    cancels the request and waits, bounded, for it to unwind before it is raised."""
    lock = threading.Lock()
    cancelled = False
    running: list[tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]]] = []

    async def cancellable() -> Response:
        with lock:
            if cancelled:
                raise Error("the request was cancelled: the caller was interrupted")
            task = asyncio.current_task()
            assert task is not None
            running.append((asyncio.get_running_loop(), task))
        return await once()

    context = contextvars.copy_context()
    done = threading.Event()

    def run() -> Response:
        try:
            with asyncio.Runner() as runner:
                return runner.run(cancellable(), context=context)
        finally:
            done.set()

    try:
        return in_new_thread(run)
    except BaseException:
        if not done.is_set():
            with lock:
                cancelled = True
                for loop, task in running:
                    with contextlib.suppress(RuntimeError):  # its loop closed meanwhile
                        loop.call_soon_threadsafe(task.cancel)
            done.wait(CANCEL_WAIT)
        raise


get, head, options, delete, post, put, patch = (
    one_shot(method, request, Session.__init__) for method in VERBS
)
