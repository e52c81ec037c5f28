"""Reading one response body as its framing says (Content-Length, chunked, or until
the server closes), never past its end.  The read timeout of each wait for body
bytes is applied here.

A line ends at LF, with or without a CR before it (see :mod:`rawhttp._parse`): so
the line ending after a chunk's data is CRLF or a bare LF, and so is the empty line
ending the trailer section.
"""

from __future__ import annotations

from typing import Final

from ._config import Clock, Limits
from ._exceptions import IncompleteBody, ProtocolError, ReadError, ReadTimeout, translate
from ._headers import Headers
from ._http11 import read_section
from ._parse import BodyKind, Framing, parse_chunk_size
from ._reader import Reader

__all__ = ["READ_CHUNK", "WHOLE_READ", "BodyReader"]

READ_CHUNK = 64 * 1024
"""Largest chunk handed out while streaming a body."""
WHOLE_READ = 1024 * 1024
"""Largest piece a body read whole (:func:`rawhttp._whole_body.read_whole`) asks for at
once: piece by piece, so the read timeout bounds each wait for bytes, not the whole body."""
_READING: Final = translate(ReadError, ReadTimeout)
"""One translating context for every piece (it holds no state of a use)."""
NO_TRAILERS: Final = Headers()
"""Shared by every body without trailers (Headers are read-only)."""


class BodyReader:
    """Reads one response body as its framing says, never past its end.

    ``read_chunk()`` returns the next piece of at most ``READ_CHUNK`` bytes and
    ``b""`` at the end (:mod:`rawhttp._whole_body` reads a body whole).  A body that ends
    before its framing says raises ProtocolError: never a silently short body.

    ``received`` counts body bytes (chunked framing removed, any other transfer
    coding not undone: :class:`~rawhttp._response.Response` does that); ``wire_bytes`` counts
    every byte the body took from the stream: with chunked framing also the size
    lines, the line ending after each chunk's data (CRLF or a bare LF), the last
    chunk and the trailer section.

    One way for every byte: take what the :class:`Reader` already holds (no await,
    no timer, one copy), and only when that is not enough wait for more under the
    read timeout, which so bounds each wait for body bytes.  The chunked framing is
    decoded here, from the buffered bytes, and nowhere else.
    """

    __slots__ = (
        "_chunk_left",
        "_chunked",
        "_ending",
        "_read",
        "_reader",
        "_sized",
        "_trailer",
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

    def __init__(self, reader: Reader, framing: Framing, limits: Limits, clock: Clock) -> None:
        self._reader = reader
        self.kind = framing.kind
        self._chunked = framing.kind is BodyKind.CHUNKED
        self._sized = framing.kind is BodyKind.LENGTH
        self.codings = framing.codings
        """Transfer codings other than chunked, for the Response to undo (this reads
        the body as they left it)."""
        self.remaining = framing.length
        """Content-Length bodies: the bytes still to come (other framings: 0)."""
        self._chunk_left = 0
        self._ending = False
        """Chunked: a chunk's data was taken, its line ending (CRLF or LF) was not."""
        self._trailer = False
        """Chunked: the last chunk was taken, the trailer section comes next."""
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

    async def read_chunk(self, size: int = READ_CHUNK) -> bytes:
        """The next piece; when nothing is buffered, wait for bytes (one timer for all
        the waits of this call)."""
        if self.done:
            return b""
        reader = self._reader
        timer = None
        try:  # ``with _READING``, as in take_buffered
            data = self._take(size)
            while not data and not self.done:
                if self._trailer:  # read_section keeps its own deadline
                    if timer is not None:
                        reader.disarm(timer)
                        timer = None
                    await self._read_trailers()
                    break
                if reader.eof:
                    self._ended()
                    break
                if timer is None:
                    timer = reader.arm(self.clock.until(self._read))
                await reader.more()
                data = self._take(size)
        except BaseException as exc:
            _READING.raise_translated(exc)
            raise
        finally:
            if timer is not None:
                reader.disarm(timer)
        if reader.observer is not None:
            await reader.observer.flush()
        return data

    def take_buffered(self, size: int = READ_CHUNK) -> bytes:
        """What :meth:`read_chunk` returns when it need not wait: the next piece, from
        the bytes buffered already; b"" when it would wait (or is traced: the trace is
        flushed by ``read_chunk``).  A stream's loop calls this first, and awaits
        ``read_chunk`` only when it gives nothing: a 100 MiB body is 1,600 pieces and
        only a few hundred waits."""
        if self._reader.observer is not None:
            return b""
        try:  # ``with _READING`` without its two calls per piece
            return self._take(size)
        except BaseException as exc:
            _READING.raise_translated(exc)
            raise

    def _take(self, size: int) -> bytes:
        """The next piece from the buffered bytes alone; b"" when more must come.
        (Per piece of a streamed body: flags, not ``BodyKind`` lookups, which cost
        about 50 ns each on 3.11.)"""
        if self.done:
            return b""
        if self._chunked:
            return self._take_chunked(size)
        if self._sized:
            remaining = self.remaining
            data = self._reader.take(remaining if remaining < size else size)
            remaining -= len(data)
            self.remaining = remaining
            if not remaining:
                self.done = True
        else:
            data = self._reader.take(size)
        n = len(data)
        self.received += n
        self.wire_bytes += n
        return data

    def _take_chunked(self, size: int) -> bytes:
        """Decode chunked framing from the buffered bytes: the next piece of a chunk's
        data (never more than one chunk's), or b"" when more must come first (or the
        trailer section is next, ``_trailer``)."""
        reader = self._reader
        while not self._trailer:
            left = self._chunk_left
            if left:
                data = reader.take(left if left < size else size)
                n = len(data)
                if n:
                    self._chunk_left = left - n
                    self.received += n
                    self.wire_bytes += n
                    if n == left:  # the chunk's end: its line ending too, when buffered
                        self._ending = True
                        self._take_ending()
                return data
            if self._ending and not self._take_ending():
                return b""
            line = reader.take_line(self.limits.max_chunk_line, "chunk size line")
            if line is None:
                return b""
            self.wire_bytes += len(line)
            self._chunk_left = parse_chunk_size(line)
            self._trailer = not self._chunk_left
        return b""

    def _take_ending(self) -> bool:
        """Take the line ending after a chunk's data (CRLF or a bare LF) when it is
        buffered; False when it has not arrived (whole) yet."""
        ending = self._reader.peek(2)
        if ending == b"\r\n" or ending[:1] == b"\n":
            n = 2 if ending[:1] == b"\r" else 1
            self._reader.skip(n)
            self.wire_bytes += n
            self._ending = False
            return True
        if ending == b"\r" or not ending:
            return False
        raise ProtocolError(f"chunk data not followed by CRLF or LF: {ending!r}", rule="chunk-data")

    def _ended(self) -> None:
        """The connection ended and nothing is buffered for this body."""
        if self.kind is BodyKind.CLOSE:
            self.done = True
            return
        if self.kind is BodyKind.LENGTH:
            raise IncompleteBody(
                f"connection closed after {self.received} of "
                f"{self.received + self.remaining} body bytes",
                received=self.received,
                expected=self.received + self.remaining,
            )
        raise IncompleteBody(
            "connection closed in the middle of a chunked body", received=self.received
        )

    async def _read_trailers(self) -> None:
        """The trailer section after the last chunk, as ``read_section`` reads it; a
        field line it refuses breaks the rule ``"trailer"`` (the limits stay
        ``"limit"``), and a section cut off is an incomplete body."""
        deadline = self.clock.until(self._read)
        try:
            self.trailers, section = await read_section(
                self._reader, self.limits, "trailer", deadline
            )
        except IncompleteBody as exc:
            raise IncompleteBody(str(exc), received=self.received) from None
        except ProtocolError as exc:
            if exc.rule in _FIELD_RULES:
                raise ProtocolError(str(exc), rule="trailer") from None
            raise
        self.wire_bytes += section
        self.done = True


_FIELD_RULES = frozenset(("header-line", "header-value", "obs-fold"))
"""The rules of a field line: broken in the trailer section, they are the "trailer" rule."""
