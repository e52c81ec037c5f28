"""Record an exchange to a file, and replay the recorded response offline.

A bug report becomes a test case: run the request with
``trace=rawhttp.Recorder("bug.rawhttp")``, then ``rawhttp.replay("bug.rawhttp")``
parses exactly the bytes the server sent with the same parser, with no network.

File format (version 1), all events in order::

    rawhttp-trace 1\\n
    <kind> <connection> <time> <length>\\n<length bytes of data>\\n
    ...

``kind`` is connect, send or receive; ``connection`` the connection id; ``time``
the event loop's clock in seconds; the data is raw bytes, followed by one newline.
"""

from __future__ import annotations

import asyncio
import os
from typing import BinaryIO

from ._config import DEFAULT_LIMITS, Limits
from ._exceptions import Error
from ._http11 import BodyReader, Clock, receive_head
from ._response import Response
from ._trace import TraceEvent

__all__ = ["Recorder", "replay"]

MAGIC = b"rawhttp-trace 1\n"


class Recorder:
    """A ``trace=`` hook writing every event to ``path`` (see the module docstring).

    Use as a context manager, or call :meth:`close` when done."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._file: BinaryIO | None = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        self._file.write(MAGIC)

    def __call__(self, event: TraceEvent) -> None:
        if self._file is None:
            raise Error("the Recorder is closed")
        header = f"{event.kind} {event.connection} {event.time:.6f} {len(event.data)}\n"
        self._file.write(header.encode("ascii") + event.data + b"\n")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_events(path: str | os.PathLike[str]) -> list[TraceEvent]:
    """The events of a recording, in order."""
    with open(path, "rb") as f:
        data = f.read()
    if not data.startswith(MAGIC):
        raise Error(f"{os.fspath(path)!r} is not a rawhttp recording")
    events = []
    pos = len(MAGIC)
    while pos < len(data):
        end = data.find(b"\n", pos)
        try:
            kind, conn, when, size = data[pos:end].decode("ascii").split(" ")
            n = int(size)
        except ValueError:
            raise Error(f"malformed event header at byte {pos} of the recording") from None
        start = end + 1
        if data[start + n : start + n + 1] != b"\n":
            raise Error(f"truncated event at byte {pos} of the recording")
        events.append(TraceEvent(kind, data[start : start + n], float(when), int(conn)))
        pos = start + n + 1
    return events


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
    method = sent.split(b" ", 1)[0].decode("ascii", "replace") or "GET"
    target = sent.split(b" ", 2)[1].decode("ascii", "replace") if sent.count(b" ") >= 2 else ""

    async def parse() -> Response:
        reader = asyncio.StreamReader(limit=1 << 20)
        reader.feed_data(received)
        reader.feed_eof()
        clock = Clock(None)
        head = await receive_head(reader, method, limits, clock, None)
        body = BodyReader(reader, head.framing, limits, clock, None)
        response = Response(
            status=head.status,
            reason=head.reason,
            http_version=head.http_version,
            headers=head.headers,
            url=target,
            method=method,
            body=body,
            on_done=lambda complete: None,
            decode=decode,
        )
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
