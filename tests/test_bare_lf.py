"""Bare LF line endings (RFC 9112 section 2.2: a recipient MAY recognize a single LF
as a line terminator and ignore any preceding CR).

A line ends at LF; one CR right before it is part of the line ending; a CR anywhere
else (a lone CR) stays an error.  This holds in status lines, header and trailer
lines, the empty line that ends a section, chunk-size lines and the line ending after
a chunk's data, on every reader path, within the limits (which count the bytes
received), in Timings, in the CONNECT reply, while waiting for 100 Continue, and in
what the command shows with -i, -v and --trace.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable

import pytest
from conftest import RawConnection, RawServer
from servers import run_cli
from test_readers import FEEDS, parse, read_head

import rawhttp
from rawhttp import Limits, ProtocolError
from rawhttp._http11 import read_section
from rawhttp._parse import add_field_line, parse_chunk_size, parse_status_line
from rawhttp._reader import Reader
from rawhttp.cli._display import WireLog

MakeServer = Callable[..., Awaitable[RawServer]]
QUICK = rawhttp.Timeout(5.0)
SECOND = b"HTTP/1.1 204 No Content\r\n\r\n"
"""A pipelined response after the one under test: left unread."""


def lf(message: bytes) -> bytes:
    """Every CRLF of ``message`` made a bare LF (its body holds no CR or LF)."""
    return message.replace(b"\r\n", b"\n")


def mixed(message: bytes) -> bytes:
    """Every other CRLF of ``message`` made a bare LF, starting with the first."""
    pieces = message.split(b"\r\n")
    out = pieces[0]
    for n, piece in enumerate(pieces[1:]):
        out += (b"\n" if n % 2 == 0 else b"\r\n") + piece
    return out


# -- the pure parsers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"HTTP/1.1 200 OK\n", ("HTTP/1.1", 200, "OK")),
        (b"HTTP/1.0 404 Not Found\n", ("HTTP/1.0", 404, "Not Found")),
        (b"HTTP/1.1 204 \n", ("HTTP/1.1", 204, "")),
        (b"HTTP/1.1 204\n", ("HTTP/1.1", 204, "")),
        (b"HTTP/1.1 200 \t OK \n", ("HTTP/1.1", 200, "\t OK ")),
    ],
)
def test_status_line_ending_in_a_bare_lf(line: bytes, expected: tuple[str, int, str]) -> None:
    assert parse_status_line(line) == expected
    assert parse_status_line(line[:-1] + b"\r\n") == expected


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([b"Content-Type: text/html\n"], [("Content-Type", "text/html")]),
        ([b"X:  y \t\n"], [("X", "y")]),
        ([b"X:\n"], [("X", "")]),
        ([b"X: \xe9\n"], [("X", "\xe9")]),
        ([b"X: a\n", b"  b\n"], [("X", "a b")]),  # obs-fold
        ([b"X: a\r\n", b"\tb\n", b" c\r\n"], [("X", "a b c")]),
    ],
)
def test_field_lines_ending_in_a_bare_lf(
    lines: list[bytes], expected: list[tuple[str, str]]
) -> None:
    fields: list[tuple[str, str]] = []
    for line in lines:
        add_field_line(fields, line)
    assert fields == expected


@pytest.mark.parametrize(
    ("line", "size"), [(b"5\n", 5), (b"0\n", 0), (b"1a;name=value\n", 26), (b'3 ; a="b"\n', 3)]
)
def test_chunk_size_line_ending_in_a_bare_lf(line: bytes, size: int) -> None:
    assert parse_chunk_size(line) == size


@pytest.mark.parametrize(
    ("parser", "line"),
    [
        (parse_status_line, b"HTTP/1.1 200 OK\r"),
        (parse_status_line, b"HTTP/1.1 200 OK\r\r\n"),
        (parse_status_line, b"HTTP/1.1 200 O\rK\n"),
        (parse_chunk_size, b"5\r"),
        (parse_chunk_size, b"5\r\r\n"),
        (parse_chunk_size, b"5;a\rb\n"),
        (lambda line: add_field_line([], line), b"X: y\r"),
        (lambda line: add_field_line([], line), b"X: y\r\r\n"),
        (lambda line: add_field_line([], line), b"X: a\rb\n"),
        (lambda line: add_field_line([], line), b"X\r: y\n"),
    ],
)
def test_a_lone_cr_stays_an_error(parser: Callable[[bytes], object], line: bytes) -> None:
    with pytest.raises(ProtocolError):
        parser(line)


# -- whole responses, however the bytes arrive ----------------------------------------

INTERIM = b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
CL_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n"
CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Fold: a\r\n  b\r\n\r\n"
CHUNKED_WIRE = (
    b"5;name=value\r\nhello\r\n"
    b"1 ; flag\r\n \r\n"
    b"A\r\n0123456789\r\n"
    b"0;last\r\n"
    b"X-Checksum: abc\r\n"
    b"\r\n"
)
RESPONSES = {
    # name: heads, body as framed (no CR or LF inside chunk data), body, trailers
    "content-length": (CL_HEAD, b"hello", b"hello", []),
    "chunked": (CHUNKED_HEAD, CHUNKED_WIRE, b"hello 0123456789", [("X-Checksum", "abc")]),
    "chunked-empty": (CHUNKED_HEAD, b"0\r\n\r\n", b"", []),
    "interim": (INTERIM + CL_HEAD, b"hello", b"hello", []),
    "no-content": (b"HTTP/1.1 204 No Content\r\nX: y\r\n\r\n", b"", b"", []),
    "empty-head": (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", b"", b"", []),
}


def response(case: str) -> bytes:
    heads, framed, _, _ = RESPONSES[case]
    return heads + framed


@pytest.mark.parametrize("how", FEEDS)
@pytest.mark.parametrize("chunk_size", [None, 2])
@pytest.mark.parametrize("ending", [lf, mixed], ids=["lf", "mixed"])
@pytest.mark.parametrize("case", RESPONSES)
async def test_response_with_bare_lf_line_endings(
    case: str, ending: Callable[[bytes], bytes], chunk_size: int | None, how: str
) -> None:
    """The same response as with CRLF everywhere; its head's size is what was received."""
    heads, framed, body, trailers = RESPONSES[case]
    expected = await parse(heads + framed + SECOND)
    got = await parse(ending(heads) + ending(framed) + SECOND, how, chunk_size=chunk_size)
    assert (got.head.status, got.head.reason) == (expected.head.status, expected.head.reason)
    assert got.head.headers.items() == expected.head.headers.items()
    assert got.head.framing == expected.head.framing
    assert (got.body, got.trailers.items()) == (expected.body, expected.trailers.items())
    assert (got.body, got.trailers.items()) == (body, trailers)
    assert got.rest == SECOND
    assert expected.head.size == len(heads)
    assert got.head.size == len(ending(heads))


@pytest.mark.parametrize("how", FEEDS)
async def test_chunked_body_with_bare_lf_after_the_data(how: str) -> None:
    """The line ending after chunk data may be a bare LF too (as curl reads it)."""
    wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n3\nabc\r\n0\r\n\r\n"
    got = await parse(wire + SECOND, how, chunk_size=2)
    assert (got.body, got.rest) == (b"helloabc", SECOND)


@pytest.mark.parametrize("how", FEEDS)
@pytest.mark.parametrize(
    "wire",
    [
        b"HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\nContent-Length: 0\n\r",
        b"HTTP/1.1 200 OK\nContent-Length: 0\n\r\r\n",
        b"HTTP/1.1 200 OK\nContent-Length: 0\r\r\n\n",
        b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5\rhello\n0\n\n",
        b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5\nhello\r0\n\n",
        b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5\nhello\r\r\n0\n\n",
        b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5\nhello\n0\r\r\n",
        b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5\nhello\n0\nX: y\r\n\r",
        b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5\nhello\n0\nX: y\r\r\n\n",
    ],
)
async def test_lone_cr_in_a_response_is_refused(how: str, wire: bytes) -> None:
    with pytest.raises(ProtocolError):
        await parse(wire + SECOND, how, chunk_size=2)


@pytest.mark.parametrize("how", FEEDS)
async def test_other_strictness_rules_hold_with_bare_lf(how: str) -> None:
    for wire in [
        b"HTTP/1.1 200 OK\nContent-Length: 1\nContent-Length: 2\n\nab",
        b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\nContent-Length: 2\n\nab",
        b"HTTP/1.1 200 OK\nTransfer-Encoding: gzip\n\n",
        b"HTTP/1.1 200 OK\n folded-first: x\n\n",
        b"HTTP/1.1 200 OK\nX : y\n\n",
        b"HTTP/1.1 200 OK\nX: a\x00b\n\n",
        b"HTTP/1.0 200 OK\nTransfer-Encoding: chunked\n\n0\n\n",
        b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5;\nhello\n0\n\n",
    ]:
        with pytest.raises(ProtocolError):
            await parse(wire, how)


@pytest.mark.parametrize("whole", [True, False])
async def test_the_first_empty_line_ends_a_section(whole: bool) -> None:
    """A bare LF empty line before a CRLF one: the section ends at the first, whether
    it is buffered whole (one step) or arrives byte by byte (line by line)."""
    data = b"A: 1\n\nB: 2\r\n\r\n"
    reader = Reader()
    if whole:
        reader.feed(data)
        reader.feed_eof()
        headers, size = await read_section(reader, Limits(), "header")
    else:

        async def trickle() -> None:
            for i in range(len(data)):
                reader.feed(data[i : i + 1])
                await asyncio.sleep(0)
            reader.feed_eof()

        feeder = asyncio.create_task(trickle())
        headers, size = await read_section(reader, Limits(), "header")
        await feeder
    assert (headers.items(), size) == ([("A", "1")], 6)
    assert await reader.read() == b"B: 2\r\n\r\n"


# -- the limits count the bytes received -------------------------------------------------

LF_CHUNKED_HEAD = b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n"
LIMIT_CASES = {
    # limit: (value, a response exactly at it, a response one byte over it)
    "max_status_line": (16, b"HTTP/1.1 200 OK\n\n", b"HTTP/1.1 200 OK!\n\n"),
    "max_header_line": (9, b"HTTP/1.1 200 OK\nX: 12345\n\n", b"HTTP/1.1 200 OK\nX: 123456\n\n"),
    "max_header_bytes": (
        18,
        b"HTTP/1.1 200 OK\nX: 12345\nY: 12345\n\n",
        b"HTTP/1.1 200 OK\nX: 12345\nY: 123456\n\n",
    ),
    "max_chunk_line": (
        7,
        LF_CHUNKED_HEAD + b"1;eeee\nx\n0\n\n",
        LF_CHUNKED_HEAD + b"1;eeeee\nx\n0\n\n",
    ),
    "trailer max_header_bytes": (
        28,  # the head's "Transfer-Encoding: chunked\n" must fit too
        LF_CHUNKED_HEAD + b"0\nX: " + b"1" * 24 + b"\n\n",
        LF_CHUNKED_HEAD + b"0\nX: " + b"1" * 25 + b"\n\n",
    ),
}


@pytest.mark.parametrize("how", ["whole", "trickle"])
@pytest.mark.parametrize("case", LIMIT_CASES)
async def test_limits_count_bare_lf_lines_as_received(case: str, how: str) -> None:
    value, at, over = LIMIT_CASES[case]
    limits = Limits()._replace(**{case.removeprefix("trailer "): value})
    got = await parse(at + SECOND, how, limits=limits)
    assert got.head.status == 200
    with pytest.raises(ProtocolError, match=f"(longer|larger) than {value}"):
        await parse(over + SECOND, how, limits=limits)


async def test_head_size_counts_bare_lf() -> None:
    head = await read_head(lf(INTERIM + CL_HEAD) + b"hello")
    assert head.size == len(lf(INTERIM + CL_HEAD))


# -- through a Session: Timings, trace, reuse, Expect, CONNECT -------------------------------


def answer_each(response: bytes, *, pieces: int = 0) -> Callable[[RawConnection], Awaitable[None]]:
    """Answer every request with ``response`` (in pieces of ``pieces`` bytes, if given)."""

    async def handler(conn: RawConnection) -> None:
        for _ in range(10):
            if not await conn.read_request():
                return
            step = pieces or len(response)
            for at in range(0, len(response), step):
                await conn.send(response[at : at + step])
                if pieces:
                    await asyncio.sleep(0.001)

    return handler


@pytest.mark.parametrize("traced", [False, True])
@pytest.mark.parametrize("pieces", [0, 3])
@pytest.mark.parametrize("case", ["content-length", "chunked", "interim"])
async def test_session_timings_and_reuse_with_bare_lf(
    raw_server: MakeServer, case: str, pieces: int, traced: bool
) -> None:
    _, _, body, trailers = RESPONSES[case]
    wire = lf(response(case))
    server = await raw_server(answer_each(wire, pieces=pieces))
    events: list[rawhttp.TraceEvent] = []
    async with rawhttp.Session(timeout=QUICK, trace=events.append if traced else None) as s:
        first = await s.get(server.url())
        again = await s.get(server.url())
    for r in (first, again):
        assert (r.status, r.content, r.trailers.items()) == (200, body, trailers)
        assert r.timings.bytes_received == len(wire)
    assert again.timings.reused is True
    assert server.connections == 1
    if traced:
        assert b"".join(e.data for e in events if e.kind == "receive") == wire * 2


async def test_expect_100_continue_answered_with_bare_lf(raw_server: MakeServer) -> None:
    interim = b"HTTP/1.1 100 Continue\n\n"
    final = b"HTTP/1.1 201 Created\nContent-Length: 2\n\nok"
    bodies: list[bytes] = []

    async def handler(conn: RawConnection) -> None:
        head = await conn.reader.readuntil(b"\r\n\r\n")
        assert b"expect: 100-continue" in head.lower()
        await conn.send(interim)
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        bodies.append(await conn.reader.readexactly(length))
        await conn.send(final)
        await conn.reader.read()

    server = await raw_server(handler)
    async with rawhttp.Session(timeout=QUICK, expect_continue=True) as s:
        r = await s.post(server.url(), content=b"payload")
    assert (r.status, r.content) == (201, b"ok")
    assert bodies == [b"payload"]
    assert r.timings.bytes_received == len(interim) + len(final)


async def test_connect_refusal_with_bare_lf_keeps_its_status(raw_server: MakeServer) -> None:
    reply = b"HTTP/1.1 407 Proxy Authentication Required\nContent-Length: 0\n\n"

    async def proxy(conn: RawConnection) -> None:
        if await conn.read_request():
            await conn.send(reply)

    server = await raw_server(proxy)
    async with rawhttp.Session(timeout=QUICK, proxy=server.url(), trust_env=False) as s:
        with pytest.raises(rawhttp.ProxyError) as info:
            await s.get("https://origin.test/")
    assert info.value.status == 407
    assert "refused the tunnel: 407" in str(info.value)


async def test_connect_established_with_bare_lf_starts_tls(raw_server: MakeServer) -> None:
    """After a bare LF 2xx reply (a 1xx before it) the client starts TLS in the tunnel."""
    after: list[bytes] = []

    async def proxy(conn: RawConnection) -> None:
        if await conn.read_request():
            await conn.send(b"HTTP/1.1 100 Continue\n\nHTTP/1.1 200 Connection established\n\n")
            after.append(await conn.reader.read(3))  # then hang up

    server = await raw_server(proxy)
    async with rawhttp.Session(timeout=QUICK, proxy=server.url(), trust_env=False) as s:
        with pytest.raises(rawhttp.Error) as info:
            await s.get("https://origin.test/")
    assert not isinstance(info.value, rawhttp.ProxyError)
    assert len(after) == 1
    assert after[0][:2] == b"\x16\x03"  # a TLS handshake record


# -- the command: -i, -v and --trace show the bytes received ------------------------------

HEADS = [lf(INTERIM), b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\r\nX-A:  b \n\n"]
BODY_WIRE = b"5\nhello\n6;ext=1\r\n world\r\n0\nX-Trailer: t\n\n"
CLI_RESPONSE = b"".join(HEADS) + BODY_WIRE


class Dump:
    """Stands in for TraceDump: keeps each labelled piece."""

    def __init__(self) -> None:
        self.pieces: list[tuple[bytes, bytes]] = []

    def data(self, label: bytes, data: bytes, when: float) -> None:
        self.pieces.append((label, data))

    def info(self, text: bytes, when: float) -> None:
        pass

    def joined(self, label: bytes) -> bytes:
        return b"".join(data for name, data in self.pieces if name == label)


@pytest.mark.parametrize("step", [1, 2, 3, 7, len(CLI_RESPONSE)])
def test_wire_log_splits_bare_lf_heads_as_received(step: int) -> None:
    request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    dump = Dump()
    err = io.BytesIO()
    log = WireLog(True, err, dump=dump)
    log(rawhttp.TraceEvent("connect", b"", 0.0, 1))
    log(rawhttp.TraceEvent("send", request, 0.0, 1))
    for at in range(0, len(CLI_RESPONSE), step):
        log(rawhttp.TraceEvent("receive", CLI_RESPONSE[at : at + step], 0.0, 1))
    assert log.heads == HEADS
    assert dump.joined(b"<= Recv header") == b"".join(HEADS)
    assert dump.joined(b"<= Recv data") == BODY_WIRE
    shown = err.getvalue()
    received = b"".join(line[2:] for line in shown.splitlines(True) if line.startswith(b"< "))
    assert received == b"".join(HEADS)


async def test_command_include_and_verbose_show_bare_lf_heads(raw_server: MakeServer) -> None:
    server = await raw_server(answer_each(CLI_RESPONSE))
    code, out, err = await run_cli("-i", "-v", server.url())
    assert code == 0, err
    assert out == b"".join(HEADS) + b"hello world"
    received = [line[2:] for line in err.splitlines(True) if line.startswith(b"< ")]
    assert received == b"".join(HEADS).splitlines(True)


@pytest.mark.parametrize("ending", [b"\r\n", b"\n"])
def test_wire_log_knows_an_interim_head_without_a_reason(ending: bytes) -> None:
    """``HTTP/1.1 100`` + line ending: the status is read from the first line alone."""
    interim = b"HTTP/1.1 100" + ending * 2
    final = b"HTTP/1.1 200 OK" + ending + b"Content-Length: 2" + ending * 2
    log = WireLog(False, io.BytesIO())
    log(rawhttp.TraceEvent("send", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0.0, 1))
    log(rawhttp.TraceEvent("receive", interim + final + b"ok", 0.0, 1))
    assert log.heads == [interim, final]
