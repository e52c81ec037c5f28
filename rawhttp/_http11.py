"""HTTP/1.1 on a stream: write the request, read the response head (the body is read
by :mod:`rawhttp._body_reader`).  The write timeout and the read timeout of the head
are applied here.

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
from typing import NamedTuple

from ._body import RequestBody
from ._config import Clock, Limits
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
    parse_status_line,
)

__all__ = [
    "Head",
    "buffered",
    "read_fields",
    "read_section",
    "receive_head",
    "send_request",
    "send_streamed",
    "wait_for_continue",
]

SMALL_BODY = 64 * 1024
"""A request body up to this size is written together with its head, in one write."""


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
    writer: asyncio.StreamWriter, head: bytes, body: bytes | None, clock: Clock
) -> None:
    """Write the request head and body, then wait until the transport accepted them."""
    with translate(WriteError, WriteTimeout):
        if body:
            if len(body) <= SMALL_BODY:
                writer.write(head + body)
            else:
                writer.write(head)
                writer.write(body)
        else:
            writer.write(head)
        if type(writer) is asyncio.StreamWriter and not writer.transport.get_write_buffer_size():
            return  # the kernel took every byte: nothing to wait for, no timer needed
        async with asyncio.timeout_at(clock.until(clock.timeout.write)):
            await writer.drain()


async def send_streamed(
    writer: asyncio.StreamWriter,
    head: bytes,
    body: RequestBody,
    clock: Clock,
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
            async with asyncio.timeout_at(clock.until(clock.timeout.write)):
                await writer.drain()
        if chunked:
            writer.write(b"0\r\n\r\n")
            wire += 5
        elif sent != expected:
            raise InvalidRequest(f"request body ended after {sent} of {expected} bytes")
        async with asyncio.timeout_at(clock.until(clock.timeout.write)):
            await writer.drain()
    return wire + sent


async def receive_head(
    reader: asyncio.StreamReader,
    method: str,
    limits: Limits,
    clock: Clock,
    on_informational: Callable[[Head], Awaitable[None] | None] | None = None,
    sent: bytes = b"",
    *,
    first_line: bytes | None = None,
    single: bool = False,
) -> Head:
    """Read status line and headers of the final response.  1xx interim responses
    are skipped, each handed to ``on_informational`` first when one is given.

    ``sent`` is the request head as sent: its TE field says which transfer codings
    besides chunked the response may use (none when it is empty).

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
            async with asyncio.timeout_at(clock.until(clock.timeout.read)):
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
                        f"connection closed in the middle of the status line: {line[:80]!r}",
                        rule="status-line-incomplete",
                    )
                if len(line) > limits.max_status_line:
                    raise ProtocolError(
                        f"status line longer than {limits.max_status_line} bytes", rule="limit"
                    )
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
                body_framing(method, status, version, headers, sent),
                size,
                first_byte_at,
            )
        if status == 101:
            raise ProtocolError(
                "unexpected 101 Switching Protocols: no upgrade was requested", rule="upgrade"
            )
        informational += 1
        if informational > limits.max_informational:
            raise ProtocolError(
                f"more than {limits.max_informational} 1xx interim responses", rule="limit"
            )
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
                message = f"connection closed in the middle of the {what} section"
                if what == "trailer":  # the trailer section is the end of a chunked body
                    raise IncompleteBody(message)
                raise ProtocolError(message, rule="head-incomplete")
            if size > max_line:
                raise ProtocolError(f"{what} line longer than {max_line} bytes", rule="limit")
            if total > max_bytes:
                raise ProtocolError(f"{what} section larger than {max_bytes} bytes", rule="limit")
            raise ProtocolError(f"more than {max_count} {what} lines", rule="limit")
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
    :func:`receive_buffer` for the use of StreamReader's private buffer.
    """
    buffer = receive_buffer(reader)
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


def receive_buffer(reader: asyncio.StreamReader) -> bytearray | None:
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
