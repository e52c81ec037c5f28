"""HTTP/1.1 on a stream: write the request, read the response head and body.

The stream code is thin: it calls ``readline()``/``readexactly()``/``read()``,
enforces the configured limits, applies the timeouts and hands each line to a
pure parsing function in :mod:`rawhttp._parse`.  Every blocking call sits in a
``translate`` block, so no native error escapes.

A line ends at LF, with or without a CR before it (see :mod:`rawhttp._parse`): so
an empty line, which ends a header or trailer section, is CRLF or a bare LF, and so
is the line ending after a chunk's data.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import Final, NamedTuple

from ._body import RequestBody
from ._config import Limits
from ._exceptions import (
    IncompleteBody,
    InvalidRequest,
    NoResponse,
    ProtocolError,
    ReadError,
    ReadTimeout,
    ResetBeforeResponse,
    WriteError,
    WriteTimeout,
    translate,
)
from ._headers import Headers
from ._parse import (
    BodyKind,
    Framing,
    add_field_line,
    body_framing,
    parse_chunk_size,
    parse_status_line,
)

__all__ = [
    "BodyReader",
    "Clock",
    "Head",
    "read_fields",
    "read_section",
    "receive_head",
    "send_request",
    "send_streamed",
    "wait_for_continue",
]

READ_CHUNK = 64 * 1024
"""Largest chunk handed out while streaming a body."""
WHOLE_READ = 1024 * 1024
"""Largest piece ``read_all()`` asks the stream for at once (each piece is one wait for bytes)."""


class Clock:
    """Deadlines for one request: each blocking step gets ``min(now + step, total deadline)``."""

    __slots__ = ("loop", "total_at")

    def __init__(self, total: float | None) -> None:
        self.loop = asyncio.get_running_loop()
        self.total_at = None if total is None else self.loop.time() + total

    def until(self, step: float | None) -> float | None:
        total_at = self.total_at
        if step is None:
            return total_at
        at = self.loop.time() + step
        return at if total_at is None or at < total_at else total_at


NO_TRAILERS: Final = Headers()
"""Shared by every body without trailers (Headers are read-only)."""


def buffered(reader: asyncio.StreamReader) -> int:
    """How many received bytes the reader holds.  StreamReader has no public way to
    ask; rawhttp uses it to skip a timer when a read cannot block."""
    return len(getattr(reader, "_buffer", b""))


class Head(NamedTuple):
    http_version: str
    status: int
    reason: str
    headers: Headers
    framing: Framing
    size: int = 0
    """Bytes read for this head and the 1xx heads before it (for Timings)."""
    first_byte_at: float = 0.0
    """``time.monotonic()`` when the first status line arrived (time to first byte)."""


async def send_request(
    writer: asyncio.StreamWriter, head: bytes, body: bytes | None, clock: Clock, write: float | None
) -> None:
    """Write the request head and body, then wait until the transport accepted them."""
    with translate(WriteError, WriteTimeout):
        if body:
            if len(body) <= READ_CHUNK:
                writer.write(head + body)
            else:
                writer.write(head)
                writer.write(body)
        else:
            writer.write(head)
        if type(writer) is asyncio.StreamWriter and not writer.transport.get_write_buffer_size():
            return  # the kernel took every byte: nothing to wait for, no timer needed
        async with asyncio.timeout_at(clock.until(write)):
            await writer.drain()


async def send_streamed(
    writer: asyncio.StreamWriter,
    head: bytes,
    body: RequestBody,
    clock: Clock,
    write: float | None,
) -> int:
    """Write the head (unless ``head`` is empty: already sent), then the body piece by
    piece (chunked when its length is unknown), waiting for the transport after each
    piece so memory stays constant.  Returns the number of bytes written."""
    chunked = body.chunked
    expected = body.length
    sent = 0
    wire = len(head)
    with translate(WriteError, WriteTimeout):
        if head:
            writer.write(head)
        async for piece in body.chunks():
            if not piece:
                continue
            sent += len(piece)
            if chunked:
                size_line = b"%x\r\n" % len(piece)
                wire += len(size_line) + 2
                writer.writelines((size_line, piece, b"\r\n"))
            elif expected is not None and sent > expected:
                raise InvalidRequest(f"request body is longer than its length {expected}")
            else:
                writer.write(piece)
            async with asyncio.timeout_at(clock.until(write)):
                await writer.drain()
        if chunked:
            writer.write(b"0\r\n\r\n")
            wire += 5
        elif sent != expected:
            raise InvalidRequest(f"request body ended after {sent} of {expected} bytes")
        async with asyncio.timeout_at(clock.until(write)):
            await writer.drain()
    return wire + sent


async def receive_head(
    reader: asyncio.StreamReader,
    method: str,
    limits: Limits,
    clock: Clock,
    read: float | None,
    on_informational: Callable[[Head], Awaitable[None] | None] | None = None,
    *,
    first_line: bytes | None = None,
    single: bool = False,
) -> Head:
    """Read status line and headers of the final response.  1xx interim responses
    are skipped, each handed to ``on_informational`` first when one is given.

    ``first_line`` is a status line the caller already read (while waiting for
    100 Continue); with ``single`` the first head read is returned, 1xx or not
    (after ``on_informational`` saw it), so that the caller can decide about the
    request body.
    """
    informational = 0
    first = True
    size = 0
    first_byte_at = 0.0
    line = first_line
    while True:
        with translate(ReadError, ReadTimeout):
            async with asyncio.timeout_at(clock.until(read)):
                if line is None:
                    try:
                        line = await reader.readline()
                    except OSError as exc:
                        # Nothing of a response arrived: an idempotent request may be retried.
                        if first:
                            raise ResetBeforeResponse(
                                f"connection failed before the response began: {exc}"
                            ) from exc
                        raise
                if first:
                    first_byte_at = time.monotonic()
                if not line.endswith(b"\n"):
                    if not line and first:
                        raise NoResponse("server closed the connection without sending a response")
                    raise ProtocolError(
                        f"connection closed in the middle of the status line: {line[:80]!r}"
                    )
                if len(line) > limits.max_status_line:
                    raise ProtocolError(f"status line longer than {limits.max_status_line} bytes")
                version, status, reason = parse_status_line(line)
                headers, section = await read_section(reader, limits, "header")
        size += len(line) + section
        line = None
        first = False
        if status >= 200:
            return Head(
                version,
                status,
                reason,
                headers,
                body_framing(method, status, version, headers),
                size,
                first_byte_at,
            )
        if status == 101:
            raise ProtocolError("unexpected 101 Switching Protocols: no upgrade was requested")
        informational += 1
        if informational > limits.max_informational:
            raise ProtocolError(f"more than {limits.max_informational} 1xx interim responses")
        interim = Head(
            version, status, reason, headers, Framing(BodyKind.NONE, 0, True), size, first_byte_at
        )
        if on_informational is not None:
            result = on_informational(interim)
            if result is not None:
                await result
        if single:
            return interim


async def wait_for_continue(reader: asyncio.StreamReader, deadline: float | None) -> bytes | None:
    """After a head sent with ``Expect: 100-continue``: the next status line the
    server sends before ``deadline`` (loop time), or None when it sent nothing in
    time (the body is then sent anyway, RFC 9110 section 10.1.1).  ``readline()``
    keeps a partial line buffered when the wait ends, so nothing is lost."""
    try:
        with translate(ReadError, ReadTimeout):
            async with asyncio.timeout_at(deadline):
                return await reader.readline()
    except ReadTimeout:
        return None
    except ReadError as exc:  # as in receive_head: nothing of a response arrived
        raise ResetBeforeResponse(f"connection failed before the response began: {exc}") from exc


async def read_fields(reader: asyncio.StreamReader, limits: Limits, what: str) -> Headers:
    """Read header (or trailer) lines up to the empty line, within the limits."""
    return (await read_section(reader, limits, what))[0]


async def read_section(
    reader: asyncio.StreamReader, limits: Limits, what: str
) -> tuple[Headers, int]:
    """Read header (or trailer) lines up to the empty line, within the limits.
    Returns the fields and the number of bytes read, the empty line included."""
    fields: list[tuple[str, str]] = []
    section = _buffered_section(reader, limits)
    if section is not None:
        lines, size = section
        for line in lines:
            add_field_line(fields, line)
        return Headers._from_list(fields), size
    total = 0
    count = 0
    max_line = limits.max_header_line
    max_bytes = limits.max_header_bytes
    max_count = limits.max_headers
    readline = reader.readline
    while True:
        line = await readline()
        if line == b"\r\n" or line == b"\n":
            return Headers._from_list(fields), total + len(line)
        size = len(line)
        total += size
        count += 1
        if size > max_line or total > max_bytes or count > max_count or line[-1:] != b"\n":
            if not line.endswith(b"\n"):
                raise ProtocolError(f"connection closed in the middle of the {what} section")
            if size > max_line:
                raise ProtocolError(f"{what} line longer than {max_line} bytes")
            if total > max_bytes:
                raise ProtocolError(f"{what} section larger than {max_bytes} bytes")
            raise ProtocolError(f"more than {max_count} {what} lines")
        add_field_line(fields, line)  # each line parsed as it arrives: errors show at once


_SECTION_END = re.compile(rb"\n\r?\n")
"""The end of a header section: the LF of its last line, then the empty line (CRLF or
a bare LF).  One regex search finds the first of either in one pass: a second find()
for the bare LF cost a receive_head() 2% (0.25 us of 12.5 on a 250-byte nginx head)."""


def _buffered_section(
    reader: asyncio.StreamReader, limits: Limits
) -> tuple[list[bytes], int] | None:
    """The lines of a header (or trailer) section when the reader already holds all
    of it, taken from its buffer at once (without the empty line, which is consumed
    too), and the number of bytes taken; None when it does not, or when a limit would
    be exceeded: the ``readline()`` loop then reads the section and reports the error.
    The lines are exactly those ``readline()`` would return (split after each LF), so
    they are parsed the same.

    Why: most heads arrive in one piece, and a ``readline()`` per line (with its
    await) was about a fifth of the profiled time of a small request.  See
    :func:`_receive_buffer` for the use of StreamReader's private buffer.
    """
    buffer = _receive_buffer(reader)
    if not buffer or reader.exception() is not None:
        return None
    if buffer.startswith(b"\r\n"):  # an empty section
        block, end = 0, 2
    elif buffer[0] == 10:  # an empty section ended by a bare LF
        block, end = 0, 1
    else:
        limit = limits.max_header_bytes
        found = _SECTION_END.search(buffer, 0, limit + 2)
        if found is None:
            return None
        block, end = found.start() + 1, found.end()
        if block > limit:  # the lines count the bytes received, as readline()'s do
            return None
    data = bytes(memoryview(buffer)[:block])
    lines = data.splitlines(keepends=True)
    # splitlines() also splits at a lone CR, readline() does not: then let readline() do it.
    if len(lines) != data.count(b"\n") or len(lines) > limits.max_headers:
        return None
    longest = max(map(len, lines), default=0)
    # readline() refuses a line longer than the reader's own limit: decline those too.
    if longest > limits.max_header_line or longest > getattr(reader, "_limit", 0):
        return None
    del buffer[:end]
    resume = getattr(reader, "_maybe_resume_transport", None)
    if resume is not None:  # let the transport read again if the reader paused it
        resume()
    return lines, end


def _receive_buffer(reader: asyncio.StreamReader) -> bytearray | None:
    """The receive buffer of a plain StreamReader, for BodyReader to take body bytes
    from directly; None for anything else, which is read through its public methods.

    Why: StreamReader hands out bytes it already holds only through a call and an
    await per piece (so, in read_chunk, a timer per piece), and on Python 3.11 its
    ``read()`` copies each piece twice.  Its private ``_buffer`` is a bytearray that it
    only mutates in place (extend, del, clear), never rebinds (3.11 to 3.13).  A
    subclass, or the TracingReader proxy (its ``__getattr__`` would hand out the
    wrapped reader's buffer, but every byte must pass through its read methods for
    the trace to be exact), gets None.
    """
    if type(reader) is asyncio.StreamReader:
        buffer = getattr(reader, "_buffer", None)
        if type(buffer) is bytearray:
            return buffer
    return None


class BodyReader:
    """Reads one response body as its framing says, never past its end.

    ``read_chunk()`` returns the next piece of at most ``READ_CHUNK`` bytes and
    ``b""`` at the end; ``read_all()`` returns the rest.  A body that ends
    before its framing says raises ProtocolError: never a silently short body.

    ``received`` counts body bytes (chunked framing removed); ``wire_bytes`` counts
    every byte the body took from the stream: with chunked framing also the size
    lines, the line ending after each chunk's data (CRLF or a bare LF), the last
    chunk and the trailer section.

    Bytes a plain StreamReader already holds are taken from its buffer directly: no
    await, no timer, one copy.  Only when they run out does it wait, through
    ``readline()``/``read()``/``readexactly()`` under the read timeout, which so
    bounds each wait for bytes.  Both ways apply the same grammar and limits.
    """

    __slots__ = (
        "_buffer",
        "_chunk_left",
        "_clock",
        "_limits",
        "_read",
        "_reader",
        "_remaining",
        "done",
        "kind",
        "received",
        "trailers",
        "wire_bytes",
    )

    def __init__(
        self,
        reader: asyncio.StreamReader,
        framing: Framing,
        limits: Limits,
        clock: Clock,
        read: float | None,
    ) -> None:
        self._reader = reader
        self._buffer = _receive_buffer(reader)
        self.kind = framing.kind
        self._remaining = framing.length
        self._chunk_left = 0
        self._limits = limits
        self._clock = clock
        self._read = read
        self.received = 0
        self.wire_bytes = 0
        self.trailers = NO_TRAILERS
        self.done = framing.kind is BodyKind.NONE or (
            framing.kind is BodyKind.LENGTH and framing.length == 0
        )

    async def read_all(self) -> bytes:
        if self.done:
            return b""
        # Piece by piece, never one readexactly(): the read timeout bounds each wait
        # for bytes, not the transfer of the whole body.
        first = await self.read_chunk(WHOLE_READ)
        if self.done or not first:
            return first  # the common small body: one piece, no join
        parts = [first]
        while True:
            part = await self.read_chunk(WHOLE_READ)
            if not part:
                return b"".join(parts)
            parts.append(part)

    async def read_chunk(self, size: int = READ_CHUNK) -> bytes:
        if self.done:
            return b""
        buffer = self._buffer
        # exception(): like StreamReader's read methods, raise a stored error
        # (through the stream path) before handing out buffered bytes.
        if buffer and self._reader.exception() is None:
            if self.kind is BodyKind.CHUNKED:
                data = self._take_chunked(buffer, size)
            else:
                data = self._take(buffer, size)
            if data or self.done:
                return data
        if self.kind is BodyKind.LENGTH and buffered(self._reader):
            # Bytes are already buffered: read() returns at once, so no timer is needed.
            with translate(ReadError, ReadTimeout):
                data = await self._read_length(size)
            self.received += len(data)
            self.wire_bytes += len(data)
            return data
        with translate(ReadError, ReadTimeout):
            async with asyncio.timeout_at(self._clock.until(self._read)):
                if self.kind is BodyKind.LENGTH:
                    data = await self._read_length(size)
                elif self.kind is BodyKind.CHUNKED:
                    data = await self._read_chunked(size)
                else:
                    data = await self._reader.read(size)
                    if not data:
                        self.done = True
        self.received += len(data)
        self.wire_bytes += len(data)
        return data

    def _consume(self, buffer: bytearray, n: int) -> None:
        """Delete ``n`` bytes from the front of the buffer, then let the transport read
        again if the reader paused it, as StreamReader's read methods do (with its
        private ``_maybe_resume_transport()``; without it the next wait resumes it).

        One del per piece handed out, as ``StreamReader.read()`` makes, so the
        buffer's memory is freed and allocated in the same rhythm as through the
        public methods.  Deferring the dels to free the whole buffer at once saves
        the copies a shrinking bytearray makes, but was measured to make glibc trim
        its heap after more receives, and faulting those pages in again costs more."""
        del buffer[:n]
        self.wire_bytes += n
        resume = getattr(self._reader, "_maybe_resume_transport", None)
        if resume is not None:
            resume()

    def _take(self, buffer: bytearray, size: int) -> bytes:
        """The next buffered piece of a length- or close-delimited body."""
        n = len(buffer)
        if self.kind is BodyKind.LENGTH and self._remaining < n:
            n = self._remaining
        if size < n:
            n = size
        if n <= 0:
            return b""
        # One copy, as StreamReader.read() makes on 3.12+; the temporary memoryview
        # is released before the del (a live export would forbid resizing).
        data = bytes(memoryview(buffer)[:n])
        self._consume(buffer, n)
        self.received += n
        if self.kind is BodyKind.LENGTH:
            self._remaining -= n
            if not self._remaining:
                self.done = True
        return data

    def _take_chunked(self, buffer: bytearray, size: int) -> bytes:
        """The next piece of a chunked body decoded from the buffered bytes alone.

        A size line, chunk data and the line ending after the data are taken only
        when there whole; b"" with ``done`` false means the stream path has to wait
        for more.  A size line not whole within the limit, a trailer section, and
        a chunk's last byte while its line ending has not arrived are left to the
        stream path, so both ways accept and refuse exactly the same bytes.  What one
        call takes is deleted from the buffer at once (see ``_consume``).
        """
        start = 0
        left = self._chunk_left
        if not left:
            start = buffer.find(b"\n", 0, self._limits.max_chunk_line) + 1
            if not start:
                return b""
            left = parse_chunk_size(bytes(memoryview(buffer)[:start]))
            if not left:  # the last chunk: done here only when no trailer follows
                empty = buffer[start : start + 2]
                if empty == b"\r\n":
                    self._consume(buffer, start + 2)
                elif empty[:1] == b"\n":
                    self._consume(buffer, start + 1)
                else:
                    return b""
                self.done = True
                return b""
            self._chunk_left = left
        end = len(buffer)
        if start + size < end:
            end = start + size
        ending = 0
        if start + left <= end:  # the chunk's data ends here: its line ending must follow
            end = start + left
            ending = _data_ending(buffer[end : end + 2])
            if not ending:  # not arrived (whole): the stream path takes the last byte
                end -= 1
        if end <= start:
            if start:
                self._consume(buffer, start)
            return b""
        data = bytes(memoryview(buffer)[start:end])
        n = end - start
        left -= n
        self._chunk_left = left
        self._consume(buffer, end + ending if not left else end)
        self.received += n
        return data

    async def _read_length(self, size: int) -> bytes:
        data = await self._reader.read(min(self._remaining, size))
        if not data:
            raise IncompleteBody(
                f"connection closed after {self.received} of "
                f"{self.received + self._remaining} body bytes"
            )
        self._remaining -= len(data)
        if not self._remaining:
            self.done = True
        return data

    async def _read_chunked(self, size: int) -> bytes:
        """The stream path; ``read_chunk`` counts the body bytes it returns, the
        framing it reads is counted into ``wire_bytes`` here."""
        reader = self._reader
        if not self._chunk_left:
            line = await reader.readline()
            if not line.endswith(b"\n"):
                raise IncompleteBody("connection closed in the middle of a chunked body")
            if len(line) > self._limits.max_chunk_line:
                raise ProtocolError(
                    f"chunk size line longer than {self._limits.max_chunk_line} bytes"
                )
            chunk = parse_chunk_size(line)
            self.wire_bytes += len(line)
            if chunk == 0:
                self.trailers, section = await read_section(reader, self._limits, "trailer")
                self.wire_bytes += section
                self.done = True
                return b""
            self._chunk_left = chunk
        data = await reader.read(min(self._chunk_left, size))
        if not data:
            raise IncompleteBody("connection closed in the middle of a chunked body")
        self._chunk_left -= len(data)
        if not self._chunk_left:
            # The line ending after the data: CRLF or a bare LF.  readline() takes
            # nothing after a LF, and a CRLF in one read is one trace event.
            ending = await reader.readline()
            if ending != b"\r\n" and ending != b"\n":
                if not ending.endswith(b"\n"):
                    raise IncompleteBody("connection closed in the middle of a chunked body")
                raise ProtocolError(f"chunk data not followed by CRLF or LF: {ending[:80]!r}")
            self.wire_bytes += len(ending)
        return data


def _data_ending(ending: bytearray) -> int:
    """How long the line ending after a chunk's data is, from the (up to two) bytes
    buffered after the data: 2 for CRLF, 1 for a bare LF, 0 when they may still
    become one (nothing yet, or a CR alone).  Anything else is refused, as the
    stream path refuses any line there but an empty one."""
    if ending == b"\r\n":
        return 2
    if ending[:1] == b"\n":
        return 1
    if ending == b"\r" or not ending:
        return 0
    raise ProtocolError(f"chunk data not followed by CRLF or LF: {bytes(ending)!r}")
