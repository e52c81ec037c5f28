"""Reading one response body as its framing says (Content-Length, chunked, or until
the server closes), never past its end.  The read timeout of each wait for body
bytes is applied here.

A line ends at LF, with or without a CR before it (see :mod:`rawhttp._parse`): so
the line ending after a chunk's data is CRLF or a bare LF, and so is the empty line
ending the trailer section.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Final

from ._config import Clock, Limits
from ._decoding import ContentDecoder
from ._exceptions import IncompleteBody, ProtocolError, ReadError, ReadTimeout, translate
from ._headers import Headers
from ._http11 import read_section
from ._parse import BodyKind, Framing, parse_chunk_size
from ._reader import LOW_WATER, Reader

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
    decoded here, from the buffered bytes, and nowhere else.  The take steps are
    ``_take_sized``, ``_take_close`` and ``_take_chunked``; :meth:`stream` writes the
    Content-Length one out in its loop (the hot path of a streamed body), reading
    and advancing the reader's buffer as ``ReceiveBuffer.take`` does.
    """

    __slots__ = (
        "_chunk_left",
        "_counted",
        "_ending",
        "_framing_bytes",
        "_length",
        "_read",
        "_reader",
        "_take",
        "_trailer",
        "clock",
        "codings",
        "done",
        "kind",
        "limits",
        "remaining",
        "take_buffered",
        "trailers",
    )

    def __init__(self, reader: Reader, framing: Framing, limits: Limits, clock: Clock) -> None:
        self._reader = reader
        self.kind = framing.kind
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
        self._length = framing.length if framing.kind is BodyKind.LENGTH else 0
        self._counted = 0
        """Body bytes of a body without Content-Length (those count down ``remaining``)."""
        self._framing_bytes = 0
        """Chunked: the bytes of its framing (size lines, line endings, trailers)."""
        self.trailers = NO_TRAILERS
        self.done = framing.kind is BodyKind.NONE or (
            framing.kind is BodyKind.LENGTH and framing.length == 0
        )
        take: Callable[[int], bytes]
        if framing.kind is BodyKind.CHUNKED:
            take = self._take_chunked
        elif framing.kind is BodyKind.CLOSE:
            take = self._take_close
        else:  # Content-Length (no body: ``remaining`` is 0)
            take = self._take_sized
        self._take = take
        """The next piece from the buffered bytes alone, as the framing says; b"" when
        more must come (or the body is done, or its trailer section is next)."""
        self.take_buffered: Callable[[int], bytes] = take if reader.observer is None else _nothing
        """What :meth:`read_chunk` returns when it need not wait: the next piece, from
        the bytes buffered already; b"" when it would wait.  A stream's loop calls this
        first, and awaits ``read_chunk`` only when it gives nothing: a 100 MiB body is
        1,600 pieces and only a few hundred waits.  A traced body (an observer on the
        reader when the body starts) always gives b"" here: ``read_chunk`` flushes
        the trace with each piece.  The framing's own step, bound once: a method
        choosing it per piece cost one more call per piece."""

    @property
    def received(self) -> int:
        """Body bytes taken so far (see the class docstring)."""
        return self._counted + self._length - self.remaining

    @property
    def wire_bytes(self) -> int:
        """Bytes of the stream taken for this body so far (see the class docstring)."""
        return self._counted + self._length - self.remaining + self._framing_bytes

    async def read_chunk(self, size: int = READ_CHUNK) -> bytes:
        """The next piece; when nothing is buffered, wait for bytes.  The read timeout
        runs from the first wait of this call and bounds all its waits."""
        if self.done:
            return b""
        reader = self._reader
        deadline: float | None = None
        armed = False
        try:  # ``with _READING``, as in the take steps
            data = self._take(size)
            while not data and not self.done:
                if self._trailer:  # read_section keeps its own deadline
                    await self._read_trailers()
                    break
                if reader.eof:
                    self._ended()
                    break
                if not armed:
                    deadline, armed = self.clock.until(self._read), True
                await reader.more(deadline)
                data = self._take(size)
        except BaseException as exc:
            _READING.raise_translated(exc)
            raise
        if reader.observer is not None:
            await reader.observer.flush()
        return data

    async def stream(
        self, size: int, decoder: ContentDecoder | None, finish: Callable[[bool], None]
    ) -> AsyncGenerator[bytes, None]:
        """The rest of the body in pieces of at most ``size`` bytes, through
        ``decoder`` when one is given; ``finish(ok)`` when the stream ends, ``ok``
        when the body was read to its end.  The one loop that streams a body
        (``Response.iter_bytes`` and the others on top of it): each piece taken from
        the bytes buffered already, an await only when none are."""
        ok = False
        try:
            if (
                decoder is None
                and self.kind is BodyKind.LENGTH
                and self.take_buffered is not _nothing
            ):
                # Content-Length, as received, untraced: most bodies, the hot loop.  The
                # take step (``ReceiveBuffer.take``) written out, not called: two calls
                # per piece were 4% of a 100 MiB body's throughput (bench/README.md).
                reader = self._reader
                until, read = self.clock.until, self._read
                remaining = self.remaining
                reader._scan = 0  # (no line is searched for before the body ends)
                try:
                    while remaining:
                        if reader._exc is not None:  # failed: before any buffered byte
                            raise reader._exc
                        start, end = reader._start, reader._end
                        if start == end:
                            if reader.eof:
                                self._ended()
                            await reader.more(until(read))
                            continue
                        stop = start + (remaining if remaining < size else size)
                        if stop > end:
                            stop = end
                        data = bytes(reader._view[start:stop])
                        reader._start = stop
                        if reader._paused and end - stop <= LOW_WATER:
                            reader._resume()
                        n = stop - start
                        remaining -= n
                        self.remaining = remaining
                        if not remaining:
                            self.done = True
                        yield data
                except BaseException as exc:
                    _READING.raise_translated(exc)
                    raise
            else:
                take = self.take_buffered
                while True:
                    data = take(size)
                    if not data:
                        data = await self.read_chunk(size)
                        if not data:
                            break
                    if decoder is None:
                        yield data
                    else:
                        for piece in decoder.feed(data, size):
                            yield piece
                if decoder is not None:
                    decoder.finish()
            ok = True
        finally:
            finish(ok)

    # The take steps, one per framing.  Each piece of a streamed body takes one, so
    # each translates errors with a ``try`` (free until it raises) rather than ``with
    # _READING`` (two calls per piece).

    def _take_sized(self, size: int = READ_CHUNK) -> bytes:
        """Content-Length: the next piece, never past the body's end."""
        remaining = self.remaining
        if not remaining:
            return b""
        try:
            data = self._reader.take(remaining if remaining < size else size)
        except BaseException as exc:
            _READING.raise_translated(exc)
            raise
        n = len(data)
        remaining -= n
        self.remaining = remaining
        if not remaining:
            self.done = True
        return data

    def _take_close(self, size: int = READ_CHUNK) -> bytes:
        """Until the server closes: whatever is buffered, up to ``size``."""
        if self.done:
            return b""
        try:
            data = self._reader.take(size)
        except BaseException as exc:
            _READING.raise_translated(exc)
            raise
        self._counted += len(data)
        return data

    def _take_chunked(self, size: int = READ_CHUNK) -> bytes:
        """Decode chunked framing from the buffered bytes: the next piece of a chunk's
        data (never more than one chunk's), or b"" when more must come first (or the
        trailer section is next, ``_trailer``)."""
        reader = self._reader
        try:
            while not self._trailer:
                left = self._chunk_left
                if left:
                    data = reader.take(left if left < size else size)
                    n = len(data)
                    if n:
                        self._chunk_left = left - n
                        self._counted += n
                        if n == left:  # the chunk's end: its line ending too, when buffered
                            self._ending = True
                            self._take_ending()
                    return data
                if self._ending and not self._take_ending():
                    return b""
                line = reader.take_line(self.limits.max_chunk_line, "chunk size line")
                if line is None:
                    return b""
                self._framing_bytes += len(line)
                self._chunk_left = parse_chunk_size(line)
                self._trailer = not self._chunk_left
        except BaseException as exc:
            _READING.raise_translated(exc)
            raise
        return b""

    def _take_ending(self) -> bool:
        """Take the line ending after a chunk's data (CRLF or a bare LF) when it is
        buffered; False when it has not arrived (whole) yet."""
        ending = self._reader.peek(2)
        if ending == b"\r\n" or ending[:1] == b"\n":
            n = 2 if ending[:1] == b"\r" else 1
            self._reader.skip(n)
            self._framing_bytes += n
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
        self._framing_bytes += section
        self.done = True


def _nothing(size: int = READ_CHUNK) -> bytes:
    """``take_buffered`` of a traced body: nothing without ``read_chunk``."""
    return b""


_FIELD_RULES = frozenset(("header-line", "header-value", "obs-fold"))
"""The rules of a field line: broken in the trailer section, they are the "trailer" rule."""
