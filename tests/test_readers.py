"""receive_head and BodyReader over rawhttp's Reader (feed/feed_eof, no sockets)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from rawhttp import Headers, IncompleteBody, Limits, ProtocolError, ReadError, ReadTimeout
from rawhttp._body_reader import READ_CHUNK, BodyReader
from rawhttp._config import Clock, Timeout
from rawhttp._http11 import Head, receive_head
from rawhttp._parse import BodyKind
from rawhttp._reader import Reader
from rawhttp._whole_body import read_whole

FEEDS = ["whole", "byte_by_byte", "trickle"]
"""How bytes reach the reader: one feed(), one feed() per byte before reading,
or one byte per event-loop turn from a concurrent task while the parser waits."""


@dataclass
class Parsed:
    head: Head
    body: bytes
    trailers: Headers
    rest: bytes
    """What was left in the reader after the message: the parser must not touch it."""


async def feed(reader: Reader, data: bytes, how: str, *, eof: bool = True) -> None:
    if how == "whole":
        reader.feed(data)
    else:
        for i in range(len(data)):
            reader.feed(data[i : i + 1])
            if how == "trickle":
                await asyncio.sleep(0)
    if eof:
        reader.feed_eof()


async def parse(
    data: bytes,
    how: str = "whole",
    *,
    method: str = "GET",
    limits: Limits | None = None,
    chunk_size: int | None = None,
    take_first: bool = False,
    stream: bool = False,
) -> Parsed:
    """Feed ``data`` then EOF, read one response, then return whatever is left unread."""
    limits = limits or Limits()
    reader = Reader()
    async with asyncio.timeout(10):
        feeder = asyncio.create_task(feed(reader, data, how))
        try:
            if how != "trickle":
                await feeder
            clock = Clock(Timeout(None))
            head = await receive_head(reader, method, limits, clock)
            body_reader = BodyReader(reader, head.framing, limits, clock)
            if chunk_size is None:
                body = await read_whole(body_reader, None)
            elif stream:  # as Response.iter_bytes reads
                ended: list[bool] = []
                pieces = []
                async for piece in body_reader.stream(chunk_size, None, ended.append):
                    assert 0 < len(piece) <= chunk_size
                    pieces.append(piece)
                assert ended == [True]
                body = b"".join(pieces)
            else:
                pieces = []
                while piece := (
                    # as Response.iter_bytes reads: what is buffered without an await,
                    # else a wait
                    (take_first and body_reader.take_buffered(chunk_size))
                    or await body_reader.read_chunk(chunk_size)
                ):
                    assert len(piece) <= chunk_size
                    pieces.append(piece)
                body = b"".join(pieces)
            assert body_reader.done
            assert await body_reader.read_chunk() == b""
            assert await read_whole(body_reader, None) == b""
            assert body_reader.received == len(body)
        finally:
            await feeder
        rest = await reader.read()
    return Parsed(head, body, body_reader.trailers, rest)


async def read_head(data: bytes, how: str = "whole", *, limits: Limits | None = None) -> Head:
    reader = Reader()
    await feed(reader, data, how)
    async with asyncio.timeout(10):
        return await receive_head(reader, "GET", limits or Limits(), Clock(Timeout(None)))


# -- well-formed messages ---------------------------------------------------------

CL_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world"
)
CHUNKED_RESPONSE = (
    b"HTTP/1.1 200 OK\r\n"
    b"Transfer-Encoding: chunked\r\n"
    b"Trailer: X-Checksum\r\n"
    b"\r\n"
    b"5;name=value\r\nhello\r\n"
    b"1 ; flag\r\n \r\n"
    b"A\r\n0123456789\r\n"
    b"0;last\r\n"
    b"X-Checksum: abc\r\n"
    b"x-other:  folded\r\n"
    b"  value\r\n"
    b"\r\n"
)
CHUNKED_BODY = b"hello 0123456789"
CHUNKED_TRAILERS = [("X-Checksum", "abc"), ("x-other", "folded value")]

SECOND = b"HTTP/1.1 204 No Content\r\n\r\n"
"""Bytes of a following (pipelined) response, which must be left unread."""

CASES = {
    "content-length": (CL_RESPONSE, b"hello world", [], BodyKind.LENGTH),
    "content-length-0": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        b"",
        [],
        BodyKind.LENGTH,
    ),
    "chunked": (CHUNKED_RESPONSE, CHUNKED_BODY, CHUNKED_TRAILERS, BodyKind.CHUNKED),
    "chunked-empty": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"",
        [],
        BodyKind.CHUNKED,
    ),
    "no-content": (b"HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n", b"", [], BodyKind.NONE),
    "not-modified": (b"HTTP/1.1 304 Not Modified\r\n\r\n", b"", [], BodyKind.NONE),
}


@pytest.mark.parametrize("how", FEEDS)
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("trailing", [b"", SECOND, b"garbage that is not HTTP"])
async def test_framed_body(how: str, case: str, trailing: bytes) -> None:
    data, body, trailers, kind = CASES[case]
    got = await parse(data + trailing, how)
    assert got.head.framing.kind is kind
    assert got.body == body
    assert got.trailers.items() == trailers
    assert got.rest == trailing


@pytest.mark.parametrize("how", FEEDS)
@pytest.mark.parametrize("chunk_size", [1, 3, 7, READ_CHUNK])
@pytest.mark.parametrize("case", ["content-length", "chunked"])
async def test_framed_body_read_chunk(how: str, chunk_size: int, case: str) -> None:
    data, body, trailers, _ = CASES[case]
    got = await parse(data + SECOND, how, chunk_size=chunk_size)
    assert got.body == body
    assert got.trailers.items() == trailers
    assert got.rest == SECOND


@pytest.mark.parametrize("how", FEEDS)
@pytest.mark.parametrize("chunk_size", [1, 7, READ_CHUNK])
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("way", ["take_buffered", "stream"])
async def test_framed_body_taken_when_buffered_and_awaited_when_not(
    how: str, chunk_size: int, case: str, way: str
) -> None:
    """Both ways a stream reads: take_buffered then read_chunk, and BodyReader.stream
    (whose Content-Length loop takes from the buffer itself)."""
    data, body, trailers, _ = CASES[case]
    got = await parse(
        data + SECOND,
        how,
        chunk_size=chunk_size,
        take_first=way == "take_buffered",
        stream=way == "stream",
    )
    assert got.body == body
    assert got.trailers.items() == trailers
    assert got.rest == SECOND


async def test_take_buffered_hands_out_only_what_is_buffered() -> None:
    reader = Reader()
    reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    clock = Clock(Timeout(None))
    head = await receive_head(reader, "GET", Limits(), clock)
    body = BodyReader(reader, head.framing, Limits(), clock)
    assert body.take_buffered(2) == b"ab"
    assert body.take_buffered() == b"c"
    assert body.take_buffered() == b""  # nothing buffered: no wait, no error
    assert not body.done
    reader.feed(b"defghijXYZ")
    assert body.take_buffered() == b"defghij"  # never past the body's end
    assert body.done
    assert body.take_buffered() == b""
    assert reader.take(10) == b"XYZ"


async def test_take_buffered_raises_a_failed_connection_as_a_read_error() -> None:
    reader = Reader()
    reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    clock = Clock(Timeout(None))
    head = await receive_head(reader, "GET", Limits(), clock)
    body = BodyReader(reader, head.framing, Limits(), clock)
    reader.set_exception(ConnectionResetError(104, "Connection reset by peer"))
    with pytest.raises(ReadError, match="connection reset") as caught:
        body.take_buffered()
    assert isinstance(caught.value.__cause__, ConnectionResetError)


async def test_take_buffered_leaves_a_traced_body_to_read_chunk() -> None:
    """Traced (the observer is on the reader when the body starts, as ``trace=``
    puts it there before sending), every piece goes through read_chunk, which
    flushes the trace."""

    class Seen:
        def __init__(self) -> None:
            self.pieces: list[bytes] = []
            self.flushes = 0

        def received(self, data: bytes) -> None:
            self.pieces.append(data)

        async def flush(self) -> None:
            self.flushes += 1

    reader = Reader()
    reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc")
    clock = Clock(Timeout(None))
    head = await receive_head(reader, "GET", Limits(), clock)
    seen = reader.observer = Seen()
    body = BodyReader(reader, head.framing, Limits(), clock)
    assert body.take_buffered() == b""
    assert await body.read_chunk() == b"abc"
    assert (seen.pieces, seen.flushes) == ([b"abc"], 1)


async def sized_body(reader: Reader, length: int, timeout: Timeout | None = None) -> BodyReader:
    """A BodyReader for a Content-Length body of ``length`` bytes on ``reader``."""
    reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % length)
    clock = Clock(timeout or Timeout(None))
    head = await receive_head(reader, "GET", Limits(), clock)
    return BodyReader(reader, head.framing, Limits(), clock)


async def collect(
    stream: AsyncIterator[bytes], got: list[bytes], after: Callable[[], None] = lambda: None
) -> None:
    """Append each piece of ``stream`` to ``got``, calling ``after`` after each."""
    async for piece in stream:
        got.append(piece)
        after()


async def test_stream_survives_the_buffer_moving_between_pieces() -> None:
    """While the consumer holds a piece (and awaits), receives grow the buffer from
    16 KiB to 1 MiB and move unread bytes to its front: the stream's loop reads the
    buffer afresh for each piece, so every byte comes out once, in order."""
    data = random.Random(7).randbytes(3 * 1024 * 1024 + 17)
    reader = Reader()
    body = await sized_body(reader, len(data))
    reader.feed(data[:1000])
    fed = 1000
    got = []
    ended: list[bool] = []
    sizes = set()
    async with asyncio.timeout(10):
        async for piece in body.stream(777, None, ended.append):
            got.append(piece)
            sizes.add(reader.capacity)
            if fed < len(data):  # a receive while the piece is held
                n = min(len(data) - fed, 150_000)
                reader.feed(data[fed : fed + n])
                fed += n
            await asyncio.sleep(0)
    assert b"".join(got) == data
    assert ended == [True]
    assert len(sizes) > 3  # the buffer did grow under the stream
    assert (body.received, body.wire_bytes, body.remaining) == (len(data), len(data), 0)


async def test_stream_counts_bytes_as_it_goes() -> None:
    reader = Reader()
    body = await sized_body(reader, 10)
    reader.feed(b"abcdefghij")
    stream = body.stream(4, None, lambda ok: None)
    assert await anext(stream) == b"abcd"
    assert (body.received, body.wire_bytes, body.remaining, body.done) == (4, 4, 6, False)
    assert [p async for p in stream] == [b"efgh", b"ij"]
    assert (body.received, body.wire_bytes, body.remaining, body.done) == (10, 10, 0, True)


async def test_stream_of_a_failed_connection_raises_read_error_first() -> None:
    """As every take step: a failed connection raises before any buffered byte."""
    reader = Reader()
    body = await sized_body(reader, 10)
    reader.feed(b"abc")
    reader.set_exception(ConnectionResetError("reset by peer"))
    ended: list[bool] = []
    got: list[bytes] = []
    with pytest.raises(ReadError, match="reset") as caught:
        await collect(body.stream(4, None, ended.append), got)
    assert got == []
    assert isinstance(caught.value.__cause__, ConnectionResetError)
    assert ended == [False]


async def test_stream_cut_short_is_an_incomplete_body() -> None:
    reader = Reader()
    body = await sized_body(reader, 10)
    reader.feed(b"abc")
    ended: list[bool] = []
    got: list[bytes] = []
    with pytest.raises(IncompleteBody) as caught:
        await collect(body.stream(4, None, ended.append), got, reader.feed_eof)
    assert got == [b"abc"]
    assert (caught.value.received, caught.value.expected) == (3, 10)
    assert ended == [False]


async def test_stream_stalled_is_a_read_timeout() -> None:
    reader = Reader()
    body = await sized_body(reader, 10, Timeout(None, read=0.05))
    reader.feed(b"abc")
    loop = asyncio.get_running_loop()
    started = loop.time()
    got: list[bytes] = []
    with pytest.raises(ReadTimeout):
        await collect(body.stream(4, None, lambda ok: None), got)
    assert got == [b"abc"]
    assert 0.04 < loop.time() - started < 2


async def test_stream_stopped_early_finishes_not_ok() -> None:
    reader = Reader()
    body = await sized_body(reader, 10)
    reader.feed(b"abcdefghij")
    ended: list[bool] = []
    stream = body.stream(4, None, ended.append)
    assert await anext(stream) == b"abcd"
    await stream.aclose()
    assert ended == [False]
    assert not body.done


async def test_head_fields() -> None:
    got = await parse(CL_RESPONSE)
    assert got.head.http_version == "HTTP/1.1"
    assert got.head.status == 200
    assert got.head.reason == "OK"
    assert got.head.headers.items() == [("Content-Type", "text/plain"), ("Content-Length", "11")]
    assert got.head.framing.keep_alive is True


@pytest.mark.parametrize("how", FEEDS)
@pytest.mark.parametrize(
    "way", [(None, ""), (4, "read_chunk"), (4, "take_buffered"), (4, "stream")]
)
async def test_close_delimited(how: str, way: tuple[int | None, str]) -> None:
    chunk_size, read = way
    body = b"everything until EOF\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"
    data = b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\n" + body
    got = await parse(
        data,
        how,
        chunk_size=chunk_size,
        take_first=read == "take_buffered",
        stream=read == "stream",
    )
    assert got.head.framing.kind is BodyKind.CLOSE
    assert got.head.framing.keep_alive is False
    assert got.body == body
    assert got.rest == b""


@pytest.mark.parametrize("how", FEEDS)
async def test_head_response_leaves_body_bytes(how: str) -> None:
    got = await parse(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n" + SECOND, how, method="HEAD")
    assert got.head.framing.kind is BodyKind.NONE
    assert got.body == b""
    assert got.rest == SECOND


@pytest.mark.parametrize("case", ["content-length", "chunked", "chunked-empty", "no-content"])
async def test_message_completes_without_eof(case: str) -> None:
    """Everything needed is there: the parser must not wait for more bytes or for EOF."""
    data = CASES[case][0]
    reader = Reader()
    reader.feed(data + SECOND)
    async with asyncio.timeout(5):
        clock = Clock(Timeout(None))
        head = await receive_head(reader, "GET", Limits(), clock)
        body = await read_whole(BodyReader(reader, head.framing, Limits(), clock), None)
    assert body == CASES[case][1]
    reader.feed_eof()
    assert await reader.read() == SECOND


async def test_large_content_length_body() -> None:
    body = bytes(range(256)) * (5 * 1024 * 1024 // 256 + 7)  # over WHOLE_READ
    data = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body + SECOND
    assert (await parse(data)).body == body
    got = await parse(data, chunk_size=100_000)
    assert (got.body, got.rest) == (body, SECOND)


async def test_large_chunked_body() -> None:
    chunk = bytes(range(256)) * 8192  # 2 MiB per chunk, bigger than one read
    data = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"%x\r\n" % len(chunk)
        + chunk
        + b"\r\n"
        + b"%X\r\n" % len(chunk)
        + chunk
        + b"\r\n0\r\n\r\n"
        + SECOND
    )
    got = await parse(data)
    assert (got.body, got.rest) == (chunk * 2, SECOND)


# -- truncated and malformed bodies ------------------------------------------------

TRUNCATED = {
    "short content-length": b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
    "content-length no body": b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
    "chunked cut in data": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
    "chunked cut in size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5",
    "chunked no size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    "chunked missing CRLF": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello",
    "chunked half CRLF": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r",
    "chunked wrong CRLF": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXY0\r\n\r\n",
    "chunked too long data": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n",
    # A bare LF ends a line (test_bare_lf.py), a lone CR does not.
    "chunked lone CR after data": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r0\r\n\r\n",
    "chunked CR CR LF after data": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\r\n0\r\n\r\n",
    "chunked no last chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
    "chunked cut in trailers": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\r\n",
    "chunked no final CRLF": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
    "chunked bad size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    "chunked lone CR size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\rhello\r\n0\r\n\r\n",
    "chunked lone CR last chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\r\n",
    "chunked lone CR trailer end": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r",
    "chunked bad trailer": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer: y\r\n\r\n",
}


@pytest.mark.parametrize("how", FEEDS)
@pytest.mark.parametrize("chunk_size", [None, 2])
@pytest.mark.parametrize("case", TRUNCATED)
async def test_truncated_or_malformed_body(how: str, chunk_size: int | None, case: str) -> None:
    with pytest.raises(ProtocolError):
        await parse(TRUNCATED[case], how, chunk_size=chunk_size)


TRUNCATED_HEADS = {
    "nothing": b"",
    "cut in status line": b"HTTP/1.1 200",
    "status line without CRLF": b"HTTP/1.1 200 OK",
    "cut in headers": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n",
    "cut in header line": b"HTTP/1.1 200 OK\r\nContent-Le",
    "no blank line": b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r",
    "after interim": b"HTTP/1.1 100 Continue\r\n\r\n",
}


@pytest.mark.parametrize("how", FEEDS)
@pytest.mark.parametrize("case", TRUNCATED_HEADS)
async def test_truncated_head(how: str, case: str) -> None:
    with pytest.raises(ProtocolError):
        await read_head(TRUNCATED_HEADS[case], how)


@pytest.mark.parametrize(
    "data",
    [
        # a bare LF ends a line (test_bare_lf.py), a lone CR does not
        b"HTTP/1.1 200 OK\r\r\n\r\n",
        b"HTTP/1.1 200 OK\rX: y\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: y\r\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: y\r\n\r\r\n",
        b"HTTP/1.1 200 OK\nX: y\n\r\r\n",
        b"HTTP/2 200\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n folded-first: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX : y\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\x00b\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\nab",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ],
)
async def test_malformed_head(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        await read_head(data)


# -- interim responses ---------------------------------------------------------------


@pytest.mark.parametrize("how", FEEDS)
async def test_interim_responses_skipped(how: str) -> None:
    data = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
        b"HTTP/1.1 102 Processing\r\n\r\n"
        b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok" + SECOND
    )
    got = await parse(data, how)
    assert (got.head.status, got.head.reason) == (201, "Created")
    assert got.head.headers.items() == [("Content-Length", "2")]
    assert (got.body, got.rest) == (b"ok", SECOND)


@pytest.mark.parametrize(("limit", "count"), [(10, 10), (0, 0), (3, 3)])
async def test_interim_responses_up_to_limit(limit: int, count: int) -> None:
    data = b"HTTP/1.1 100 Continue\r\n\r\n" * count + b"HTTP/1.1 200 OK\r\n\r\n"
    head = await read_head(data, limits=Limits(max_informational=limit))
    assert head.status == 200


@pytest.mark.parametrize(("limit", "count"), [(10, 11), (0, 1), (3, 4), (10, 1000)])
async def test_too_many_interim_responses(limit: int, count: int) -> None:
    data = b"HTTP/1.1 100 Continue\r\n\r\n" * count + b"HTTP/1.1 200 OK\r\n\r\n"
    with pytest.raises(ProtocolError, match="1xx"):
        await read_head(data, limits=Limits(max_informational=limit))


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching Protocols\r\n\r\n",
    ],
)
async def test_switching_protocols_rejected(data: bytes) -> None:
    with pytest.raises(ProtocolError, match="101"):
        await read_head(data + b"HTTP/1.1 200 OK\r\n\r\n")


# -- limits ----------------------------------------------------------------------------

CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"


def header_lines(count: int, size: int = 10) -> bytes:
    """``count`` header lines of exactly ``size`` bytes each, CRLF included."""
    return b"".join(b"X%03d: " % i + b"v" * (size - 8) + b"\r\n" for i in range(count))


LIMIT_CASES = {
    # case: (limit, exactly at the limit, just over it)
    "max_status_line": (
        22,
        b"HTTP/1.1 200 " + b"x" * 7 + b"\r\n\r\n",  # 22-byte status line
        b"HTTP/1.1 200 " + b"x" * 8 + b"\r\n\r\n",
    ),
    "max_header_line": (
        22,
        b"HTTP/1.1 200 OK\r\n" + header_lines(1, 22) + b"\r\n",
        b"HTTP/1.1 200 OK\r\n" + header_lines(1, 23) + b"\r\n",
    ),
    "max_header_bytes": (
        22,
        b"HTTP/1.1 200 OK\r\n" + header_lines(2, 11) + b"\r\n",  # 22 bytes of fields
        b"HTTP/1.1 200 OK\r\n" + header_lines(2, 11) + b"X:\r\n\r\n",
    ),
    "max_headers": (
        22,
        b"HTTP/1.1 200 OK\r\n" + header_lines(22) + b"\r\n",
        b"HTTP/1.1 200 OK\r\n" + header_lines(23) + b"\r\n",
    ),
    "max_chunk_line": (
        22,
        CHUNKED_HEAD + b"1;" + b"e" * 18 + b"\r\nx\r\n0\r\n\r\n",  # 22-byte chunk line
        CHUNKED_HEAD + b"1;" + b"e" * 19 + b"\r\nx\r\n0\r\n\r\n",
    ),
    # Trailers share the header limits; the 28-byte Transfer-Encoding line must fit too.
    "trailer max_header_line": (
        30,
        CHUNKED_HEAD + b"0\r\n" + header_lines(1, 30) + b"\r\n",
        CHUNKED_HEAD + b"0\r\n" + header_lines(1, 31) + b"\r\n",
    ),
    "trailer max_header_bytes": (
        30,
        CHUNKED_HEAD + b"0\r\n" + header_lines(2, 15) + b"\r\n",
        CHUNKED_HEAD + b"0\r\n" + header_lines(2, 15) + b"X:\r\n\r\n",
    ),
    "trailer max_headers": (
        22,
        CHUNKED_HEAD + b"0\r\n" + header_lines(22) + b"\r\n",
        CHUNKED_HEAD + b"0\r\n" + header_lines(23) + b"\r\n",
    ),
}


def tight_limits(case: str) -> Limits:
    return Limits(**{case.removeprefix("trailer "): LIMIT_CASES[case][0]})


@pytest.mark.parametrize("how", ["whole", "trickle"])
@pytest.mark.parametrize("case", LIMIT_CASES)
async def test_limit_boundary_accepted(case: str, how: str) -> None:
    got = await parse(LIMIT_CASES[case][1] + SECOND, how, limits=tight_limits(case))
    assert got.head.status == 200
    if got.head.framing.kind is BodyKind.CLOSE:  # no framing: the next bytes are the body
        assert (got.body, got.rest) == (SECOND, b"")
    else:
        assert got.rest == SECOND


@pytest.mark.parametrize("how", ["whole", "trickle"])
@pytest.mark.parametrize("case", LIMIT_CASES)
async def test_limit_exceeded(case: str, how: str) -> None:
    limit = LIMIT_CASES[case][0]
    with pytest.raises(ProtocolError, match=f"(longer|larger|more) than {limit}"):
        await parse(LIMIT_CASES[case][2], how, limits=tight_limits(case))


def test_limit_cases_cover_every_field() -> None:
    # max_informational and max_body_size are tested with sessions (test_body_limits.py)
    tested_elsewhere = {"max_informational", "max_body_size"}
    fields = {case.removeprefix("trailer ") for case in LIMIT_CASES} | tested_elsewhere
    assert fields == set(Limits._fields)


@pytest.mark.parametrize("how", ["whole", "trickle"])
async def test_header_line_longer_than_the_receive_buffer(how: str) -> None:
    """A line many times the reader's first buffer size: the buffer grows to hold it
    within the limits, and the limit refuses it one byte over."""
    value = b"a" * (200 * 1024)
    data = b"HTTP/1.1 200 OK\r\nX: " + value + b"\r\nContent-Length: 0\r\n\r\n"
    limits = Limits(max_header_line=len(value) + 5, max_header_bytes=10**9)
    got = await parse(data, how, limits=limits)
    assert got.head.headers["x"] == value.decode()
    with pytest.raises(ProtocolError, match="header line longer than"):
        await parse(data, how, limits=limits._replace(max_header_line=len(value) + 4))


@pytest.mark.parametrize("how", ["whole", "trickle"])
async def test_real_world_head_accepted_with_default_limits(how: str) -> None:
    cookie = "session=" + "c" * (8 * 1024)
    fields = [(f"X-Header-{i}", f"value {i} " + "v" * 100) for i in range(148)]
    fields += [("Set-Cookie", cookie), ("Content-Length", "2")]
    data = (
        b"HTTP/1.1 200 OK\r\n"
        + b"".join(f"{n}: {v}\r\n".encode() for n, v in fields)
        + b"\r\nok"
        + SECOND
    )
    got = await parse(data, how)
    assert len(got.head.headers) == 150
    assert got.head.headers.items() == fields
    assert got.head.headers["set-cookie"] == cookie
    assert (got.body, got.rest) == (b"ok", SECOND)


# -- reading twice from one connection -------------------------------------------------


async def test_pipelined_responses_on_one_reader() -> None:
    reader = Reader()
    reader.feed(CL_RESPONSE + CHUNKED_RESPONSE + CL_RESPONSE)
    reader.feed_eof()
    clock = Clock(Timeout(None))
    bodies = []
    for _ in range(3):
        head = await receive_head(reader, "GET", Limits(), clock)
        bodies.append(await read_whole(BodyReader(reader, head.framing, Limits(), clock), None))
    assert bodies == [b"hello world", CHUNKED_BODY, b"hello world"]
    assert await reader.read() == b""
