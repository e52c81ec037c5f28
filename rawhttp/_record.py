"""Record an exchange to a file, and replay the recorded response offline.

A bug report becomes a test case: run the request with
``trace=rawhttp.Recorder("bug.rawhttp")``, then ``rawhttp.replay("bug.rawhttp")``
parses exactly the bytes the server sent with the same parser, with no network.

File format (version 1), all events in order::

    rawhttp-trace 1\\n
    <kind> <connection> <time> <length>\\n<length bytes of data>\\n
    ...

``kind`` is connect, send, receive or close; ``connection`` the connection id;
``time`` the event loop's clock in seconds; the data is raw bytes, followed by one
newline.

Each event reaches the file with one unbuffered write before the hook returns, so
a recording can be read while the Session is still open, and everything recorded
before a crash (even SIGKILL) is in the file.  A last event cut short (the process
died in the middle of writing it) is left out with a :class:`TruncatedRecording`
warning; everything before it is read as usual.
"""

from __future__ import annotations

import asyncio
import io
import os
import threading
import warnings

from ._body_reader import BodyReader
from ._config import DEFAULT_LIMITS, Clock, Limits, Timeout
from ._exceptions import Error
from ._http11 import receive_head
from ._reader import Reader
from ._response import Response
from ._trace import TraceEvent

__all__ = ["Recorder", "TruncatedRecording", "read_events", "replay"]

MAGIC = b"rawhttp-trace 1\n"


class TruncatedRecording(UserWarning):
    """The last event of a recording is cut short (the recording process died while
    writing it); it is left out."""


class Recorder:
    """A ``trace=`` hook writing every event to ``path`` (see the module docstring).

    Each event is on disk (in the operating system's cache: it survives the process,
    not a power cut) when the hook returns.  One Recorder may serve several sessions
    and threads.  Use as a context manager, or call :meth:`close` when done."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        # Unbuffered: a buffered file kept the events in memory until close, so a
        # recording read during the session, or left by a crash, was empty.
        self._file: io.FileIO | None = open(self.path, "wb", buffering=0)  # noqa: SIM115
        try:
            self._write(MAGIC)
        except Error:
            self.close()
            raise

    def __call__(self, event: TraceEvent) -> None:
        header = f"{event.kind} {event.connection} {event.time:.6f} {len(event.data)}\n"
        self._write(header.encode("ascii") + event.data + b"\n")

    def _write(self, record: bytes) -> None:
        """One event with one write call (more only if the system writes part of it)."""
        with self._lock:
            if self._file is None:
                raise Error("the Recorder is closed")
            view = memoryview(record)
            try:
                while view:
                    written = self._file.write(view)
                    if not written:
                        raise OSError("nothing was written")
                    view = view[written:]
            except OSError as exc:  # a full disk, a removed device
                raise Error(f"cannot write to the recording {self.path!r}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_events(path: str | os.PathLike[str]) -> list[TraceEvent]:
    """The events of a recording, in order.

    A malformed recording raises :class:`rawhttp.Error`; a last event cut short is
    left out with a :class:`TruncatedRecording` warning."""
    with open(path, "rb") as f:
        data = f.read()
    if not data.startswith(MAGIC):
        raise Error(f"{os.fspath(path)!r} is not a rawhttp recording")
    events: list[TraceEvent] = []
    pos = len(MAGIC)
    while pos < len(data):
        end = data.find(b"\n", pos)
        if end < 0:
            _truncated(path, pos, len(events), "part of its header line")
            break
        try:
            kind, conn, when, size = data[pos:end].decode("ascii").split(" ")
            n = int(size)
            at = float(when)
            connection = int(conn)
        except ValueError:
            raise Error(f"malformed event header at byte {pos} of the recording") from None
        start = end + 1
        if n < 0:
            raise Error(f"malformed event header at byte {pos} of the recording")
        if start + n >= len(data):  # the data, or its closing newline, runs past the end
            _truncated(path, pos, len(events), f"{len(data) - start} of its {n} data bytes")
            break
        if data[start + n : start + n + 1] != b"\n":
            raise Error(f"event at byte {pos} of the recording does not end where it says")
        events.append(TraceEvent(kind, data[start : start + n], at, connection))
        pos = start + n + 1
    return events


def _truncated(path: str | os.PathLike[str], pos: int, complete: int, kept: str) -> None:
    warnings.warn(
        f"{os.fspath(path)!r} ends in the middle of an event (at byte {pos}, after"
        f" {complete} complete events; only {kept} recorded): the recording process"
        " probably died while writing it; the cut event is left out",
        TruncatedRecording,
        stacklevel=3,
    )


def replay(
    path: str | os.PathLike[str], *, limits: Limits = DEFAULT_LIMITS, decode: bool = True
) -> Response:
    """Parse the first recorded response again, offline, and return it with its body read.

    The request method (it decides whether a body follows) is taken from the first
    recorded request line.  Malformed recorded bytes raise the same errors as live.
    """
    events = read_events(path)
    sent = b"".join(e.data for e in events if e.kind == "send")
    received = b"".join(e.data for e in events if e.kind == "receive")
    if not received:
        raise Error(f"{os.fspath(path)!r} holds no received bytes: there is no response to replay")
    method = sent.split(b" ", 1)[0].decode("ascii", "replace") or "GET"
    target = sent.split(b" ", 2)[1].decode("ascii", "replace") if sent.count(b" ") >= 2 else ""

    async def parse() -> Response:
        reader = Reader()
        reader.feed(received)
        reader.feed_eof()
        clock = Clock(Timeout(None))
        head = await receive_head(reader, method, limits, clock)
        body = BodyReader(reader, head.framing, limits, clock)
        response = Response.from_head(head, body, target, method, lambda complete: None, decode)
        await response.read()
        return response

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(parse())
    # Called from async code: parse on a private loop in a worker thread.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, parse()).result()
