"""HTTP/1.1 on a stream: write the request, read the response head (the body is read
by :mod:`rawhttp._body_reader`).  The write timeout and the read timeout of the head
are applied here, and here is the one reader of header (and trailer) sections.

The stream code is thin: it takes lines from the :class:`rawhttp._reader.Reader`
(a whole section at once when it is buffered), enforces the configured limits,
applies the timeouts and hands each line to a pure parsing function in
:mod:`rawhttp._parse`.  Every blocking call sits in a ``translate`` block, so no
native error escapes.

A line ends at LF, with or without a CR before it (see :mod:`rawhttp._parse`): so
an empty line, which ends a header or trailer section, is CRLF or a bare LF, and so
is the line ending after a chunk's data.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Final, NamedTuple, NoReturn

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
    field_lines,
    parse_status_line,
)
from ._protocol import Writer
from ._reader import Reader

__all__ = [
    "Head",
    "InformationalResponse",
    "read_fields",
    "read_section",
    "receive_head",
    "send_request",
    "send_streamed",
    "wait_for_continue",
]

SMALL_BODY = 64 * 1024
"""A request body up to this size is written together with its head, in one write."""
MAX_LINE = 1024 * 1024
"""The longest status line read while waiting for ``100 Continue`` (the limits apply
when it is parsed)."""
_READING: Final = translate(ReadError, ReadTimeout)
_WRITING: Final = translate(WriteError, WriteTimeout)
"""One translating context each for every read and write (it holds no state of a use)."""


class InformationalResponse(NamedTuple):
    """A 1xx interim response (100 Continue, 103 Early Hints, ...) given to
    ``on_informational`` before the final response arrives."""

    status: int
    reason: str
    http_version: str
    headers: Headers


class Head(NamedTuple):
    """A response head as read (the final one, or a 1xx one) and its body's framing."""

    http_version: str
    status: int
    reason: str
    headers: Headers
    framing: Framing
    size: int = 0
    """Bytes read for this head and the 1xx heads before it (for Timings)."""
    first_byte_at: float = 0.0
    """``time.monotonic()`` when the first status line arrived (time to first byte)."""


async def send_request(writer: Writer, head: bytes, body: bytes | None, clock: Clock) -> None:
    """Write the request head and body, then wait until the transport accepted them."""
    with _WRITING:
        if body:
            if len(body) <= SMALL_BODY:
                writer.write(head + body)
            else:
                writer.write(head)
                writer.write(body)
        else:
            writer.write(head)
        if type(writer) is Writer and not writer.must_drain:
            return  # the transport takes more: nothing to wait for, no timer needed
        async with asyncio.timeout_at(clock.until(clock.timeout.write)):
            await writer.drain()


async def send_streamed(
    writer: Writer,
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
    with _WRITING:
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
    reader: Reader,
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
    request body.  The read timeout bounds the whole head (each head, with 1xx).
    """
    informational = 0
    first = True
    size = 0
    first_byte_at = 0.0
    line = first_line
    while True:
        with _READING:
            deadline = clock.until(clock.timeout.read)
            if line is None:
                try:
                    line = reader.take_line(limits.max_status_line, "status line")
                    if line is None:
                        line = await reader.readline(
                            limits.max_status_line, deadline, "status line"
                        )
                except OSError as exc:
                    # Nothing of a response arrived: an idempotent request may be retried.
                    # (ReadTimeout is an OSError too, as builtins.TimeoutError is.)
                    if first and not isinstance(exc, ReadTimeout):
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
            headers, section = await read_section(reader, limits, "header", deadline)
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


async def wait_for_continue(reader: Reader, deadline: float | None) -> bytes | None:
    """After a head sent with ``Expect: 100-continue``: the next status line the
    server sends before ``deadline`` (loop time), or None when it sent nothing in
    time (the body is then sent anyway, RFC 9110 section 10.1.1).  ``readline()``
    keeps a partial line buffered when the wait ends, so nothing is lost."""
    try:
        with _READING:
            return await reader.readline(MAX_LINE, deadline, "status line")
    except ReadTimeout:
        return None
    except ReadError as exc:  # as in receive_head: nothing of a response arrived
        raise ResetBeforeResponse(f"connection failed before the response began: {exc}") from exc


async def read_fields(
    reader: Reader, limits: Limits, what: str, deadline: float | None = None
) -> Headers:
    """Read header (or trailer) lines up to the empty line, within the limits."""
    return (await read_section(reader, limits, what, deadline))[0]


async def read_section(
    reader: Reader, limits: Limits, what: str, deadline: float | None = None
) -> tuple[Headers, int]:
    """The one reader of header (and trailer) sections: the lines up to the empty
    line, within the limits, before ``deadline``.  Returns the fields and the number
    of bytes read, the empty line included.

    When the whole section is buffered (most heads arrive in one piece) it comes in
    one step (``Reader.take_head``); else line by line as it arrives, so an error
    shows as soon as its line is whole.  Either way every line goes through the same
    checks and the same parser (:class:`_Section`), in order.  Why the one step: a
    ``readline()`` per line (with its await) was about a fifth of the profiled time
    of a small request."""
    section = _Section(limits, what)
    block = reader.take_head(limits.max_header_bytes)
    if block is not None:
        return section.block(block)
    line_limit = section.max_line if section.max_line > 2 else 2
    while True:
        # The empty line (2 bytes) ends a section whatever max_header_line says.
        line = reader.take_line(line_limit, f"{what} line", section.max_line)
        if line is None:
            if reader.eof:
                section.cut_off(reader.take(reader.buffered))
            await reader.more(deadline)
        elif section.line(line):
            return section.done()


class _Section:
    """The lines of one section, checked against the limits and parsed in order."""

    __slots__ = ("count", "fields", "limits", "max_line", "total", "what")

    def __init__(self, limits: Limits, what: str) -> None:
        self.limits = limits
        self.what = what
        self.max_line = limits.max_header_line
        self.fields: list[tuple[str, str]] = []
        self.total = 0
        self.count = 0

    def done(self) -> tuple[Headers, int]:
        return Headers._from_list(self.fields), self.total

    def block(self, block: bytes) -> tuple[Headers, int]:
        """A whole section (with its empty line)."""
        limits = self.limits
        count = block.count(b"\n") - 1  # the last line is the empty one
        size = len(block)
        within = count <= limits.max_headers and size <= limits.max_header_bytes
        if within and size <= self.max_line:  # no line is longer than the section
            # Every line a plain field line (most heads): one regex pass for all.
            fields = field_lines(block, count)
            if fields is not None:
                self.fields, self.total, self.count = fields, size, count
                return self.done()
        lines = block.splitlines(keepends=True)
        # splitlines() also splits at a lone CR (and other bytes), a line ends at LF only
        if len(lines) != count + 1:
            lines = [part + b"\n" for part in block.split(b"\n")[:-1]]
        if within and max(map(len, lines[:count]), default=0) <= self.max_line:
            # Within every limit as a whole, so no line can break one: each field line
            # goes straight to the parser, in order (the same errors as line() gives).
            fields = self.fields
            for line in lines[:count]:
                add_field_line(fields, line)
            self.total, self.count = size, count
            return self.done()
        for line in lines:
            if self.line(line):
                return self.done()
        raise AssertionError("take_head returned a section without its empty line")

    def cut_off(self, rest: bytes) -> NoReturn:
        """The connection ended with ``rest`` (no LF) where a line should be."""
        message = f"connection closed in the middle of the {self.what} section"
        if self.what == "trailer":  # the trailer section is the end of a chunked body
            raise IncompleteBody(message)
        raise ProtocolError(message, rule="head-incomplete")

    def line(self, line: bytes) -> bool:
        """Check and parse one line; True when it is the empty line ending the section."""
        size = len(line)
        self.total += size
        if line == b"\r\n" or line == b"\n":
            return True
        self.count += 1
        limits = self.limits
        what = self.what
        if (
            size > self.max_line
            or self.total > limits.max_header_bytes
            or self.count > limits.max_headers
            or line[-1:] != b"\n"
        ):
            if not line.endswith(b"\n"):
                self.cut_off(line)
            if size > self.max_line:
                raise ProtocolError(f"{what} line longer than {self.max_line} bytes", rule="limit")
            if self.total > limits.max_header_bytes:
                raise ProtocolError(
                    f"{what} section larger than {limits.max_header_bytes} bytes", rule="limit"
                )
            raise ProtocolError(f"more than {limits.max_headers} {what} lines", rule="limit")
        add_field_line(self.fields, line)  # each line parsed as it arrives: errors show at once
        return False
