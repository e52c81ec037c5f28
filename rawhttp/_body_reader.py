"""Reading one response body as its framing says (Content-Length, chunked, or until
the server closes), never past its end.  The read timeout of each wait for body
bytes is applied here.

A line ends at LF, with or without a CR before it (see :mod:`rawhttp._parse`): so
the line ending after a chunk's data is CRLF or a bare LF, and so is the empty line
ending the trailer section.
"""

from __future__ import annotations

import asyncio
from typing import Final

from ._config import Clock, Limits
from ._exceptions import IncompleteBody, ProtocolError, ReadError, ReadTimeout, translate
from ._headers import Headers
from ._http11 import buffered, read_section, receive_buffer
from ._parse import BodyKind, Framing, parse_chunk_size

__all__ = ["READ_CHUNK", "WHOLE_READ", "BodyReader"]

READ_CHUNK = 64 * 1024
"""Largest chunk handed out while streaming a body."""
WHOLE_READ = 1024 * 1024
"""Largest piece ``read_all()`` asks the stream for at once (each piece is one wait for bytes)."""
NO_TRAILERS: Final = Headers()
"""Shared by every body without trailers (Headers are read-only)."""


class BodyReader:
    """Reads one response body as its framing says, never past its end.

    ``read_chunk()`` returns the next piece of at most ``READ_CHUNK`` bytes and
    ``b""`` at the end; ``read_all()`` returns the rest.  A body that ends
    before its framing says raises ProtocolError: never a silently short body.

    ``received`` counts body bytes (chunked framing removed, any other transfer
    coding not undone: :class:`~rawhttp._response.Response` does that); ``wire_bytes`` counts
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
        "_read",
        "_reader",
        "clock",
        "codings",
        "done",
        "kind",
        "limits",
        "received",
        "remaining",
        "trailers",
        "wire_bytes",
    )

    def __init__(
        self,
        reader: asyncio.StreamReader,
        framing: Framing,
        limits: Limits,
        clock: Clock,
    ) -> None:
        self._reader = reader
        self._buffer = receive_buffer(reader)
        self.kind = framing.kind
        self.codings = framing.codings
        """Transfer codings other than chunked, for the Response to undo (this reads
        the body as they left it)."""
        self.remaining = framing.length
        """Content-Length bodies: the bytes still to come (other framings: 0)."""
        self._chunk_left = 0
        self.limits = limits
        self.clock = clock
        """The deadlines of the request this body answers."""
        self._read = clock.timeout.read
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
            async with asyncio.timeout_at(self.clock.until(self._read)):
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
        if self.kind is BodyKind.LENGTH and self.remaining < n:
            n = self.remaining
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
            self.remaining -= n
            if not self.remaining:
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
            start = buffer.find(b"\n", 0, self.limits.max_chunk_line) + 1
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
        data = await self._reader.read(min(self.remaining, size))
        if not data:
            raise IncompleteBody(
                f"connection closed after {self.received} of "
                f"{self.received + self.remaining} body bytes",
                received=self.received,
                expected=self.received + self.remaining,
            )
        self.remaining -= len(data)
        if not self.remaining:
            self.done = True
        return data

    async def _read_chunked(self, size: int) -> bytes:
        """The stream path; ``read_chunk`` counts the body bytes it returns, the
        framing it reads is counted into ``wire_bytes`` here."""
        reader = self._reader
        if not self._chunk_left:
            line = await reader.readline()
            if not line.endswith(b"\n"):
                raise IncompleteBody(
                    "connection closed in the middle of a chunked body", received=self.received
                )
            if len(line) > self.limits.max_chunk_line:
                raise ProtocolError(
                    f"chunk size line longer than {self.limits.max_chunk_line} bytes",
                    rule="limit",
                )
            chunk = parse_chunk_size(line)
            self.wire_bytes += len(line)
            if chunk == 0:
                self.trailers, section = await _read_trailers(reader, self.limits, self.received)
                self.wire_bytes += section
                self.done = True
                return b""
            self._chunk_left = chunk
        data = await reader.read(min(self._chunk_left, size))
        if not data:
            raise IncompleteBody(
                "connection closed in the middle of a chunked body", received=self.received
            )
        self._chunk_left -= len(data)
        if not self._chunk_left:
            # The line ending after the data: CRLF or a bare LF.  readline() takes
            # nothing after a LF, and a CRLF in one read is one trace event.
            ending = await reader.readline()
            if ending != b"\r\n" and ending != b"\n":
                if not ending.endswith(b"\n"):
                    raise IncompleteBody(
                        "connection closed in the middle of a chunked body", received=self.received
                    )
                raise ProtocolError(
                    f"chunk data not followed by CRLF or LF: {ending[:80]!r}", rule="chunk-data"
                )
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
    raise ProtocolError(
        f"chunk data not followed by CRLF or LF: {bytes(ending)!r}", rule="chunk-data"
    )


_FIELD_RULES = frozenset(("header-line", "header-value", "obs-fold"))
"""The rules of a field line: broken in the trailer section, they are the "trailer" rule."""


async def _read_trailers(
    reader: asyncio.StreamReader, limits: Limits, received: int
) -> tuple[Headers, int]:
    """The trailer section after the last chunk, as ``read_section`` reads it; a field
    line it refuses breaks the rule ``"trailer"`` (the limits stay ``"limit"``), and a
    section cut off is an incomplete body of ``received`` bytes."""
    try:
        return await read_section(reader, limits, "trailer")
    except IncompleteBody as exc:
        raise IncompleteBody(str(exc), received=received) from None
    except ProtocolError as exc:
        if exc.rule in _FIELD_RULES:
            raise ProtocolError(str(exc), rule="trailer") from None
        raise
