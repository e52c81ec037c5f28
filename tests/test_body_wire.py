"""BodyReader.wire_bytes, and its one way of taking bytes: from the Reader's buffer,
waiting only when what is buffered is not enough.  However the bytes arrive (whole,
byte by byte, in random pieces, traced), it must decode, count and refuse the same."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from rawhttp import Limits, ProtocolError, ReadError, ReadTimeout
from rawhttp._body_reader import READ_CHUNK, BodyReader
from rawhttp._config import Clock, Timeout
from rawhttp._parse import BodyKind, Framing
from rawhttp._reader import Reader
from rawhttp._trace import TraceEvent, _Emitter
from rawhttp._whole_body import read_whole

NEXT = b"HTTP/1.1 204 No Content\r\n\r\n"
"""Bytes after the body (a following response): left unread, never counted."""

CONTENT_LENGTH = Framing(BodyKind.LENGTH, 11, True)
CL_WIRE = b"hello world"

CHUNKED = Framing(BodyKind.CHUNKED, 0, True)
CHUNKED_WIRE = (
    b"5;name=value\r\nhello\r\n"
    b"1 ; flag\r\n \r\n"
    b"00a\r\n0123456789\r\n"
    b"0;last=1\r\n"
    b"X-Checksum: abc\r\n"
    b"x-other:  folded\r\n"
    b"  value\r\n"
    b"\r\n"
)
CHUNKED_BODY = b"hello 0123456789"
CHUNKED_PLAIN_WIRE = b"4\r\nwire\r\n3\r\nful\r\n0\r\n\r\n"
"""No extensions nor trailers: the last chunk can be taken from the buffer too."""

CLOSE = Framing(BodyKind.CLOSE, 0, False)

CASES: dict[str, tuple[Framing, bytes, bytes, bytes]] = {
    # name: framing, wire bytes of the body, decoded body, bytes after it
    "content-length": (CONTENT_LENGTH, CL_WIRE, CL_WIRE, NEXT),
    "chunked": (CHUNKED, CHUNKED_WIRE, CHUNKED_BODY, NEXT),
    "chunked-plain": (CHUNKED, CHUNKED_PLAIN_WIRE, b"wireful", NEXT),
    "chunked-empty": (CHUNKED, b"0\r\n\r\n", b"", NEXT),
    "until-close": (CLOSE, b"read until the server closes", b"read until the server closes", b""),
}

HOW = ["whole", "byte_by_byte", "trickle", "random_pieces", "traced"]
"""whole: one feed() before reading; byte_by_byte: one feed() per byte before
reading; trickle and random_pieces: fed by a task while the body is read, one byte or
one piece of random size (up to 1% of the data) per event-loop turn; traced: whole,
with a trace observer on the reader (every byte taken is reported)."""


async def feed(reader: Reader, data: bytes, how: str, eof: bool) -> None:
    if how in ("whole", "traced"):
        reader.feed(data)
    elif how == "random_pieces":
        rnd = random.Random(len(data))
        most = max(7, len(data) // 100)
        i = 0
        while i < len(data):
            n = rnd.randint(1, most)
            reader.feed(data[i : i + n])
            i += n
            await asyncio.sleep(0)
    else:
        for i in range(len(data)):
            reader.feed(data[i : i + 1])
            if how == "trickle":
                await asyncio.sleep(0)
    if eof:
        reader.feed_eof()


def traced(reader: Reader, events: list[TraceEvent]) -> Reader:
    reader.observer = _Emitter(events.append, 1)
    return reader


async def read_body(
    framing: Framing,
    data: bytes,
    how: str,
    *,
    size: int | None = None,
    eof: bool = True,
    limits: Limits | None = None,
) -> tuple[BodyReader, bytes, bytes, list[TraceEvent]]:
    """Read one body from ``data``; return the reader, the body, what was left
    unread, and the trace events (how == "traced")."""
    plain = Reader()
    events: list[TraceEvent] = []
    reader = traced(plain, events) if how == "traced" else plain
    async with asyncio.timeout(10):
        feeder = asyncio.create_task(feed(plain, data, how, eof))
        try:
            if how not in ("trickle", "random_pieces"):
                await feeder
            body_reader = BodyReader(reader, framing, limits or Limits(), Clock(Timeout(None)))
            if size is None:
                body = await read_whole(body_reader, None)
            else:
                pieces = []
                while piece := await body_reader.read_chunk(size):
                    assert len(piece) <= size
                    pieces.append(piece)
                body = b"".join(pieces)
            assert body_reader.done
            assert await body_reader.read_chunk() == b""
        finally:
            await feeder
        plain.observer = None
        rest = await plain.read() if eof else plain.peek(plain.buffered)
    return body_reader, body, rest, events


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("size", [None, 1, 3, READ_CHUNK])
@pytest.mark.parametrize("case", CASES)
async def test_wire_bytes_is_what_the_body_took_from_the_stream(
    case: str, size: int | None, how: str
) -> None:
    framing, wire, body, after = CASES[case]
    eof = framing.kind is BodyKind.CLOSE
    got, decoded, rest, events = await read_body(framing, wire + after, how, size=size, eof=eof)
    assert decoded == body
    assert got.received == len(body)
    assert got.wire_bytes == len(wire)
    assert rest == after
    if how == "traced":  # every byte taken was reported: the trace is exact
        assert b"".join(e.data for e in events) == wire


async def test_trailers_and_wire_bytes_of_a_chunked_body() -> None:
    got, body, _, _ = await read_body(CHUNKED, CHUNKED_WIRE + NEXT, "whole")
    assert body == CHUNKED_BODY
    assert list(got.trailers.items()) == [("X-Checksum", "abc"), ("x-other", "folded value")]
    assert (got.received, got.wire_bytes) == (16, len(CHUNKED_WIRE))


async def test_wire_bytes_of_a_large_chunked_body() -> None:
    chunk = bytes(range(256)) * 300
    wire = b"".join(b"%x;i=%d\r\n" % (len(chunk) - i, i) + chunk[i:] + b"\r\n" for i in range(40))
    wire += b"0\r\nDone: yes\r\n\r\n"
    body = b"".join(chunk[i:] for i in range(40))
    for how in ("whole", "random_pieces", "traced"):
        for size in (None, 1000, READ_CHUNK):
            got, decoded, rest, _ = await read_body(CHUNKED, wire + NEXT, how, size=size)
            assert (decoded, rest) == (body, NEXT)
            assert (got.received, got.wire_bytes) == (len(body), len(wire))


async def test_wire_bytes_counts_pieces_as_they_are_read() -> None:
    reader = Reader()
    reader.feed(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
    body = BodyReader(reader, CHUNKED, Limits(), Clock(Timeout(None)))
    assert (body.received, body.wire_bytes) == (0, 0)
    assert await body.read_chunk(2) == b"ab"
    assert (body.received, body.wire_bytes) == (2, 5)
    assert await body.read_chunk(2) == b"c"
    assert (body.received, body.wire_bytes) == (3, 8)
    assert await body.read_chunk() == b"de"
    assert await body.read_chunk() == b""
    assert (body.received, body.wire_bytes, body.done) == (5, 20, True)


# -- buffered bytes are taken without waiting, as strictly as any -------------------


def without_waiting(coro: Any) -> Any:
    """Run ``coro`` expecting it to finish without suspending once; its result."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise AssertionError("waited although the bytes were buffered")


@pytest.mark.parametrize(
    ("framing", "wire"),
    [(CONTENT_LENGTH, CL_WIRE), (CHUNKED, CHUNKED_PLAIN_WIRE)],
    ids=["content-length", "chunked"],
)
async def test_buffered_bytes_are_taken_without_stream_calls(framing: Framing, wire: bytes) -> None:
    reader = Reader()
    reader.feed(wire + NEXT)
    body = BodyReader(reader, framing, Limits(), Clock(Timeout(None)))
    pieces = []
    while piece := without_waiting(body.read_chunk(2)):
        assert len(piece) <= 2
        pieces.append(piece)
    assert body.done
    assert body.wire_bytes == len(wire)
    assert reader.peek(100) == NEXT  # taken up to the body's end, nothing more


MALFORMED = {
    "bad size": b"zz\r\nhello\r\n0\r\n\r\n",
    "lone CR size": b"5\rhello\r\n0\r\n\r\n",
    "plus sign": b"+5\r\nhello\r\n0\r\n\r\n",
    "data too long": b"3\r\nhello\r\n0\r\n\r\n",
    "lone CR after data": b"5\r\nhello\r0\r\n\r\n",
    "CR CR LF after data": b"5\r\nhello\r\r\n0\r\n\r\n",
    "wrong CRLF": b"5\r\nhelloXY0\r\n\r\n",
    "lone CR last chunk": b"0\r\r\n",
    "bad extension": b"5;\r\nhello\r\n0\r\n\r\n",
    "bad trailer": b"0\r\nBad Trailer: y\r\n\r\n",
    "size line too long": b"5;" + b"x" * 5000 + b"\r\nhello\r\n0\r\n\r\n",
}

TRUNCATED = {
    "cut in size": b"5",
    "cut in data": b"5\r\nab",
    "no CRLF": b"5\r\nhello",
    "half CRLF": b"5\r\nhello\r",
    "no last chunk": b"5\r\nhello\r\n",
    "cut in trailers": b"0\r\nX: y\r\n",
    "no final CRLF": b"0\r\n",
}


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("size", [None, 2])
@pytest.mark.parametrize("case", [*MALFORMED, *TRUNCATED])
async def test_malformed_or_truncated_chunked_refused(
    case: str, size: int | None, how: str
) -> None:
    with pytest.raises(ProtocolError):
        await read_body(CHUNKED, MALFORMED.get(case) or TRUNCATED[case], how, size=size)


@pytest.mark.parametrize("how", HOW)
async def test_short_content_length_refused(how: str) -> None:
    with pytest.raises(ProtocolError, match="after 3 of 11 body bytes"):
        await read_body(CONTENT_LENGTH, b"abc", how, size=2)


async def test_chunk_size_line_limit_in_both_paths() -> None:
    line = b"5;" + b"e" * 26 + b"\r\n"  # 30 bytes
    wire = line + b"hello\r\n0\r\n\r\n"
    for how in HOW:
        got, body, _, _ = await read_body(
            CHUNKED, wire, how, limits=Limits(max_chunk_line=30), size=3
        )
        assert (body, got.wire_bytes) == (b"hello", len(wire))
        with pytest.raises(ProtocolError, match="longer than 29 bytes"):
            await read_body(CHUNKED, wire, how, limits=Limits(max_chunk_line=29))


async def test_crlf_after_data_arriving_later() -> None:
    """Chunk data buffered without its CRLF: the data is handed out, then the CRLF is
    waited for (and checked) before the body can end."""
    reader = Reader()
    reader.feed(b"5\r\nhello")
    body = BodyReader(reader, CHUNKED, Limits(), Clock(Timeout(None)))
    assert await body.read_chunk() == b"hello"
    last = asyncio.create_task(body.read_chunk())
    await asyncio.sleep(0)
    assert not last.done()
    reader.feed(b"\r")
    await asyncio.sleep(0)
    assert not last.done()
    reader.feed(b"\n0\r\n\r\n")
    assert await last == b""
    assert (body.done, body.wire_bytes) == (True, 15)


async def test_stored_error_raised_before_buffered_bytes() -> None:
    """As with StreamReader.read(): an error the connection got comes first."""
    reader = Reader()
    reader.feed(b"hello")
    reader.set_exception(ConnectionResetError("reset"))
    body = BodyReader(reader, CONTENT_LENGTH, Limits(), Clock(Timeout(None)))
    with pytest.raises(ReadError):
        await body.read_chunk()


@pytest.mark.parametrize("framing", [CONTENT_LENGTH, CHUNKED, CLOSE], ids=lambda f: f.kind.value)
async def test_read_timeout_bounds_each_wait(framing: Framing) -> None:
    """Buffered bytes come out at once; the wait after them is what the timeout bounds."""
    chunked = framing.kind is BodyKind.CHUNKED
    wire = b"b\r\nhello world\r\n" if chunked else CL_WIRE
    reader = Reader()
    reader.feed(wire[:8])
    body = BodyReader(reader, framing, Limits(), Clock(Timeout(None, read=0.05)))
    got = await body.read_chunk()
    assert got == (b"hello" if chunked else b"hello wo")
    with pytest.raises(ReadTimeout):
        await body.read_chunk()


async def test_slow_but_steady_body_is_not_cut_by_the_read_timeout() -> None:
    reader = Reader()
    data = b"400\r\n" + b"x" * 1024 + b"\r\n0\r\n\r\n"

    async def drip() -> None:
        for i in range(0, len(data), 100):
            await asyncio.sleep(0.01)
            reader.feed(data[i : i + 100])

    task = asyncio.create_task(drip())
    body = BodyReader(reader, CHUNKED, Limits(), Clock(Timeout(None, read=0.5)))
    assert await read_whole(body, None) == b"x" * 1024
    await task
    assert body.wire_bytes == len(data)
