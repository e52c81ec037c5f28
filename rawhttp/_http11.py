"""HTTP/1.1 on a stream: write the request, read the response head and body.

The stream code is thin: it calls ``readline()``/``readexactly()``/``read()``,
enforces the configured limits, applies the timeouts and hands each line to a
pure parsing function in :mod:`rawhttp._parse`.  Every blocking call sits in a
``translate`` block, so no native error escapes.
"""

from __future__ import annotations

import asyncio
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

__all__ = ["BodyReader", "Clock", "Head", "receive_head", "send_request", "send_streamed"]

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
) -> None:
    """Write the head, then the body piece by piece (chunked when its length is unknown),
    waiting for the transport after each piece so memory stays constant."""
    chunked = body.chunked
    expected = body.length
    sent = 0
    with translate(WriteError, WriteTimeout):
        writer.write(head)
        async for piece in body.chunks():
            if not piece:
                continue
            sent += len(piece)
            if chunked:
                writer.writelines((b"%x\r\n" % len(piece), piece, b"\r\n"))
            elif expected is not None and sent > expected:
                raise InvalidRequest(f"request body is longer than its length {expected}")
            else:
                writer.write(piece)
            async with asyncio.timeout_at(clock.until(write)):
                await writer.drain()
        if chunked:
            writer.write(b"0\r\n\r\n")
        elif sent != expected:
            raise InvalidRequest(f"request body ended after {sent} of {expected} bytes")
        async with asyncio.timeout_at(clock.until(write)):
            await writer.drain()


async def receive_head(
    reader: asyncio.StreamReader,
    method: str,
    limits: Limits,
    clock: Clock,
    read: float | None,
    on_informational: Callable[[Head], Awaitable[None] | None] | None = None,
) -> Head:
    """Read status line and headers of the final response.  1xx interim responses
    are skipped, each handed to ``on_informational`` first when one is given."""
    informational = 0
    first = True
    while True:
        with translate(ReadError, ReadTimeout):
            async with asyncio.timeout_at(clock.until(read)):
                try:
                    line = await reader.readline()
                except OSError as exc:
                    if first:  # nothing of a response arrived: an idempotent request may be retried
                        raise ResetBeforeResponse(
                            f"connection failed before the response began: {exc}"
                        ) from exc
                    raise
                if not line.endswith(b"\n"):
                    if not line and first:
                        raise NoResponse("server closed the connection without sending a response")
                    raise ProtocolError(
                        f"connection closed in the middle of the status line: {line[:80]!r}"
                    )
                if len(line) > limits.max_status_line:
                    raise ProtocolError(f"status line longer than {limits.max_status_line} bytes")
                version, status, reason = parse_status_line(line)
                headers = await read_fields(reader, limits, "header")
        first = False
        if status >= 200:
            return Head(
                version, status, reason, headers, body_framing(method, status, version, headers)
            )
        if status == 101:
            raise ProtocolError("unexpected 101 Switching Protocols: no upgrade was requested")
        informational += 1
        if informational > limits.max_informational:
            raise ProtocolError(f"more than {limits.max_informational} 1xx interim responses")
        if on_informational is not None:
            interim = Head(version, status, reason, headers, Framing(BodyKind.NONE, 0, True))
            result = on_informational(interim)
            if result is not None:
                await result


async def read_fields(reader: asyncio.StreamReader, limits: Limits, what: str) -> Headers:
    """Read header (or trailer) lines up to the empty line, within the limits."""
    fields: list[tuple[str, str]] = []
    total = 0
    count = 0
    max_line = limits.max_header_line
    while True:
        line = await reader.readline()
        if line == b"\r\n":
            return Headers._from_list(fields)
        size = len(line)
        if not line.endswith(b"\n"):
            raise ProtocolError(f"connection closed in the middle of the {what} section")
        if size > max_line:
            raise ProtocolError(f"{what} line longer than {max_line} bytes")
        total += size
        count += 1
        if total > limits.max_header_bytes:
            raise ProtocolError(f"{what} section larger than {limits.max_header_bytes} bytes")
        if count > limits.max_headers:
            raise ProtocolError(f"more than {limits.max_headers} {what} lines")
        add_field_line(fields, line)


class BodyReader:
    """Reads one response body as its framing says, never past its end.

    ``read_chunk()`` returns the next piece of at most ``READ_CHUNK`` bytes and
    ``b""`` at the end; ``read_all()`` returns the rest.  A body that ends
    before its framing says raises ProtocolError: never a silently short body.
    """

    __slots__ = (
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
        self.kind = framing.kind
        self._remaining = framing.length
        self._chunk_left = 0
        self._limits = limits
        self._clock = clock
        self._read = read
        self.received = 0
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
        if self.kind is BodyKind.LENGTH and buffered(self._reader):
            # Bytes are already buffered: read() returns at once, so no timer is needed.
            with translate(ReadError, ReadTimeout):
                data = await self._read_length(size)
            self.received += len(data)
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
            if chunk == 0:
                self.trailers = await read_fields(reader, self._limits, "trailer")
                self.done = True
                return b""
            self._chunk_left = chunk
        data = await reader.read(min(self._chunk_left, size))
        if not data:
            raise IncompleteBody("connection closed in the middle of a chunked body")
        self._chunk_left -= len(data)
        if not self._chunk_left and await reader.readexactly(2) != b"\r\n":
            raise ProtocolError("chunk data not followed by CRLF")
        return data
