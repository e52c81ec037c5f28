"""Property tests with h11 as the reference implementation.

(a) requests rawhttp serializes parse in an h11 server to the same method, target,
    headers and body;
(b) responses an h11 server produces parse in rawhttp to the same status, reason,
    headers, body and trailers, however the bytes are split, without reading past them,
    also with bare LF line endings (h11 accepts them in heads and trailers: the same
    bytes must parse the same in both; rawhttp also in chunk lines);
(c) arbitrary bytes give either a parsed response or ProtocolError: nothing else, no hang.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from urllib.parse import unquote

import h11
from hypothesis import given, settings
from hypothesis import strategies as st

from rawhttp import Headers, Limits, ProtocolError
from rawhttp._body_reader import BodyReader
from rawhttp._config import Clock, Timeout
from rawhttp._http11 import Head, receive_head
from rawhttp._parse import BodyKind
from rawhttp._reader import Reader
from rawhttp._serialize import encode_fields, request_head
from rawhttp._url import parse_url, remove_dot_segments
from rawhttp._whole_body import read_whole

FAST = settings(max_examples=200, deadline=None)

# -- grammar strategies ------------------------------------------------------------
# Each strategy draws raw bytes and maps every byte onto the allowed alphabet with a
# translation table: as thorough as sampling byte by byte, and much faster to generate.


def onto(alphabet: bytes) -> bytes:
    """A bytes.translate() table mapping all 256 byte values onto ``alphabet``."""
    return bytes(alphabet[b % len(alphabet)] for b in range(256))


TCHAR = b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# field-vchar = VCHAR / obs-text; SP and HTAB may appear between them.
FIELD_VCHAR = bytes(b for b in range(0x21, 0x100) if b != 0x7F)
IN_VALUE = onto(FIELD_VCHAR + b" \t" * 12)  # whitespace often enough to form runs
REASON_CHARS = onto(b"\t" + bytes(range(0x20, 0x7F)) + bytes(range(0x80, 0x100)))

IN_TOKEN = onto(TCHAR)
TOKEN = st.binary(min_size=1, max_size=16).map(lambda raw: raw.translate(IN_TOKEN).decode())
# A field value from the grammar: no whitespace around it (h11 refuses to send that).
FIELD_VALUE = st.binary(max_size=24).map(lambda raw: raw.translate(IN_VALUE).strip(b" \t"))
REASON = st.binary(max_size=20).map(lambda raw: raw.translate(REASON_CHARS))

# Names whose meaning changes how h11 (or rawhttp) frames or handles the message.
SPECIAL = {"host", "content-length", "transfer-encoding", "connection", "upgrade", "expect", "te"}
FIELD_NAME = TOKEN.filter(lambda name: name.lower() not in SPECIAL)
FIELDS = st.lists(st.tuples(FIELD_NAME, FIELD_VALUE), max_size=8)

CONTROL = "".join(map(chr, range(0x20))) + "\x7f"
URL_TEXT = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters=CONTROL + "#"),
    max_size=30,
)
BASES = [
    "http://example.com",
    "http://example.com:8080",
    "https://example.com",
    "https://[::1]:8443",
    "http://127.0.0.1:1",
    "http://b\u00fccher.de",
]

# -- (a) requests: rawhttp serializes, h11 parses ---------------------------------------


@dataclass
class ParsedRequest:
    method: bytes
    target: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes


def h11_parse_request(data: bytes) -> ParsedRequest:
    server = h11.Connection(h11.SERVER)
    server.receive_data(data)
    request = server.next_event()
    assert isinstance(request, h11.Request), request
    body = b""
    while True:
        event = server.next_event()
        if isinstance(event, h11.EndOfMessage):
            break
        assert isinstance(event, h11.Data), event
        body += event.data
    assert server.next_event() is h11.NEED_DATA  # nothing after the request
    return ParsedRequest(request.method, request.target, list(request.headers), body)


@FAST
@given(
    method=TOKEN,
    base=st.sampled_from(BASES),
    path=URL_TEXT,
    query=st.none() | URL_TEXT,
    fields=FIELDS,
    padding=st.tuples(st.sampled_from([b"", b" ", b"\t "]), st.sampled_from([b"", b" ", b" \t"])),
    as_str=st.booleans(),
    body=st.none() | st.binary(max_size=300),
)
def test_h11_parses_what_rawhttp_sends(
    method: str,
    base: str,
    path: str,
    query: str | None,
    fields: list[tuple[str, bytes]],
    padding: tuple[bytes, bytes],
    as_str: bool,
    body: bytes | None,
) -> None:
    url = parse_url(base + "/" + path + ("" if query is None else "?" + query))
    before, after = padding
    given_fields = [
        (name, (before + value + after).decode("latin-1") if as_str else before + value + after)
        for name, value in fields
    ]
    content_length = None if body is None else len(body)
    head = request_head(method, url, encode_fields(given_fields), content_length=content_length)

    parsed = h11_parse_request(head + (body or b""))

    assert parsed.method == method.encode()
    assert parsed.target == url.target.encode("ascii")
    expected = [(b"host", url.host_header.encode())]
    expected += [(name.lower().encode(), value) for name, value in fields]
    if body is not None:
        expected.append((b"content-length", b"%d" % len(body)))
    assert parsed.headers == expected
    assert parsed.body == (body or b"")


@FAST
@given(path=URL_TEXT, query=st.none() | URL_TEXT)
def test_request_target_decodes_back(path: str, query: str | None) -> None:
    """Percent-encoding loses nothing: the decoded target is the text given, its dot
    segments removed (RFC 3986 5.2.4; known answers in test_redirects.py)."""
    url = parse_url("http://h/" + path + ("" if query is None else "?" + query))
    assert url.target.isascii()
    assert all(0x21 <= ord(c) <= 0x7E for c in url.target)
    target_path, question, target_query = url.target.partition("?")
    if "%" not in path and "?" not in path:
        assert unquote(target_path, errors="strict") == remove_dot_segments("/" + path)
        assert bool(question) is (query is not None)
        if query is not None and "%" not in query:
            assert unquote(target_query, errors="strict") == query


# -- (b) responses: h11 produces, rawhttp parses ---------------------------------------

NEXT = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext"
"""A pipelined response after the one under test: it must be left unread."""


@dataclass
class Parsed:
    head: Head
    body: bytes
    trailers: Headers
    rest: bytes


async def rawhttp_parse(
    segments: list[bytes], *, method: str = "GET", limits: Limits | None = None
) -> Parsed:
    """Feed the segments (one per event-loop turn, then EOF) while rawhttp reads a response."""
    limits = limits or Limits()
    reader = Reader()

    async def feed() -> None:
        for segment in segments:
            reader.feed(segment)
            await asyncio.sleep(0)
        reader.feed_eof()

    feeder = asyncio.create_task(feed())
    try:
        async with asyncio.timeout(5):
            clock = Clock(Timeout(None))
            head = await receive_head(reader, method, limits, clock)
            # the body read whole with no size limit: what is checked here is the parse
            unbounded = limits._replace(max_body_size=None)
            body_reader = BodyReader(reader, head.framing, unbounded, clock)
            body = await read_whole(body_reader, None)
    finally:
        await feeder
    return Parsed(head, body, body_reader.trailers, await reader.read())


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@dataclass
class Exchange:
    interim: list[tuple[int, list[tuple[str, bytes]]]]
    status: int
    reason: bytes
    fields: list[tuple[str, bytes]]
    pieces: list[bytes]
    trailers: list[tuple[str, bytes]]
    chunked: bool

    @property
    def body(self) -> bytes:
        return b"".join(self.pieces)

    @property
    def all_fields(self) -> list[tuple[str, bytes]]:
        if self.chunked:
            return [*self.fields, ("Transfer-Encoding", b"chunked")]
        return [("Content-Length", b"%d" % len(self.body)), *self.fields]


@st.composite
def exchanges(draw: st.DrawFn) -> Exchange:
    chunked = draw(st.booleans())
    return Exchange(
        interim=draw(
            st.lists(
                st.tuples(st.integers(100, 199).filter(lambda s: s != 101), FIELDS), max_size=3
            )
        ),
        status=draw(st.integers(200, 599).filter(lambda s: s not in (204, 304))),
        reason=draw(REASON),
        fields=draw(FIELDS),
        pieces=draw(st.lists(st.binary(max_size=100), max_size=5)),
        trailers=draw(FIELDS) if chunked else [],
        chunked=chunked,
    )


def h11_serve_parts(exchange: Exchange) -> list[tuple[str, bytes]]:
    """What an h11 server sends, event by event: ("head", a status line and its
    header section), ("data", a piece of the body as framed: with chunked, its size
    line, data and CRLF) and ("end", the end of the body: with chunked, the last
    chunk and the trailer section; else empty)."""
    server = h11.Connection(h11.SERVER)
    server.receive_data(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
    assert isinstance(server.next_event(), h11.Request)
    assert isinstance(server.next_event(), h11.EndOfMessage)
    parts = []
    for status, fields in exchange.interim:
        parts.append(
            ("head", server.send(h11.InformationalResponse(status_code=status, headers=fields)))
        )
    response = h11.Response(
        status_code=exchange.status, reason=exchange.reason, headers=exchange.all_fields
    )
    parts.append(("head", server.send(response)))
    for piece in exchange.pieces:
        parts.append(("data", server.send(h11.Data(data=piece))))
    parts.append(("end", server.send(h11.EndOfMessage(headers=exchange.trailers))))
    return [(kind, data or b"") for kind, data in parts]


def h11_serve(exchange: Exchange) -> bytes:
    return b"".join(data for _, data in h11_serve_parts(exchange))


def h11_read_response(data: bytes) -> tuple[h11.Response, bytes, h11.EndOfMessage]:
    client = h11.Connection(h11.CLIENT)
    client.send(h11.Request(method="GET", target="/", headers=[("Host", "example.com")]))
    client.send(h11.EndOfMessage())
    client.receive_data(data)
    event = client.next_event()
    while isinstance(event, h11.InformationalResponse):
        event = client.next_event()
    assert isinstance(event, h11.Response), event
    body = b""
    while isinstance(end := client.next_event(), h11.Data):
        body += end.data
    assert isinstance(end, h11.EndOfMessage), end
    return event, body, end


def latin1(fields: list[tuple[str, bytes]]) -> list[tuple[str, str]]:
    return [(name, value.decode("latin-1")) for name, value in fields]


@FAST
@given(exchange=exchanges(), data=st.data())
def test_rawhttp_parses_what_h11_sends(exchange: Exchange, data: st.DataObject) -> None:
    wire = h11_serve(exchange)
    cuts = data.draw(st.lists(st.integers(0, len(wire)), max_size=12), label="cuts")

    reference, reference_body, reference_end = h11_read_response(wire)
    for segments in ([wire + NEXT], [*split(wire, cuts), NEXT]):
        got = asyncio.run(rawhttp_parse(segments))
        assert got.head.status == exchange.status == reference.status_code
        assert got.head.reason == exchange.reason.decode("latin-1")
        assert got.head.reason.encode("latin-1") == reference.reason
        assert got.head.http_version == "HTTP/1.1"
        assert got.head.headers.items() == latin1(exchange.all_fields)
        assert [(n.lower().encode(), v.encode("latin-1")) for n, v in got.head.headers.items()] == [
            *reference.headers
        ]
        assert got.head.framing.kind is (BodyKind.CHUNKED if exchange.chunked else BodyKind.LENGTH)
        assert got.head.framing.keep_alive is True
        assert got.body == exchange.body == reference_body
        assert got.trailers.items() == latin1(exchange.trailers)
        assert [(n.lower().encode(), v.encode("latin-1")) for n, v in got.trailers.items()] == [
            *reference_end.headers
        ]
        assert got.rest == NEXT


def lf_variant(
    parts: list[tuple[str, bytes]], chunked: bool, bare: list[bool], in_chunks: bool
) -> tuple[bytes, int]:
    """The wire with its line endings made bare LFs or left CRLF, one by one as
    ``bare`` says (cycled): in heads and trailer sections (where h11 accepts bare LFs);
    with ``in_chunks`` also in chunk-size lines and after chunk data (which h11
    refuses).  Returns the wire and how many bytes its heads take."""
    flags = itertools.cycle(bare)

    def ending() -> bytes:
        return b"\n" if next(flags) else b"\r\n"

    def lines(text: bytes) -> bytes:
        first, *rest = text.split(b"\r\n")
        return first + b"".join(ending() + line for line in rest)

    out = []
    heads = 0
    for kind, data in parts:
        if kind == "head":  # no CR or LF inside a field value or the reason
            out.append(lines(data))
            heads += len(out[-1])
        elif kind == "data" and chunked and in_chunks and data:
            size_line, _, rest = data.partition(b"\r\n")
            out.append(size_line + ending() + rest[:-2] + ending())
        elif kind == "end" and chunked:
            last, _, trailers = data.partition(b"\r\n")
            out.append(last + (ending() if in_chunks else b"\r\n") + lines(trailers))
        else:
            out.append(data)
    return b"".join(out), heads


@FAST
@given(
    exchange=exchanges(),
    bare=st.lists(st.booleans(), min_size=1, max_size=12),
    in_chunks=st.booleans(),
    data=st.data(),
)
def test_rawhttp_parses_bare_lf_line_endings_as_h11_does(
    exchange: Exchange, bare: list[bool], in_chunks: bool, data: st.DataObject
) -> None:
    """LF or CRLF, chosen line by line: the same response as with CRLF everywhere, and
    (where h11 accepts bare LFs: heads and trailers) the same as h11 parses it."""
    parts = h11_serve_parts(exchange)
    wire, heads = lf_variant(parts, exchange.chunked, bare, in_chunks)
    cuts = data.draw(st.lists(st.integers(0, len(wire)), max_size=12), label="cuts")

    reference, reference_body, reference_end = h11_read_response(h11_serve(exchange))
    if not (in_chunks and exchange.chunked):  # h11 reads these bytes too, the same way
        again, again_body, again_end = h11_read_response(wire)
        assert (again.status_code, again.reason) == (reference.status_code, reference.reason)
        assert list(again.headers) == list(reference.headers)
        assert (again_body, list(again_end.headers)) == (
            reference_body,
            list(reference_end.headers),
        )
    for segments in ([wire + NEXT], [*split(wire, cuts), NEXT]):
        got = asyncio.run(rawhttp_parse(segments))
        assert got.head.status == reference.status_code
        assert got.head.reason.encode("latin-1") == reference.reason
        assert got.head.headers.items() == latin1(exchange.all_fields)
        assert [(n.lower().encode(), v.encode("latin-1")) for n, v in got.head.headers.items()] == [
            *reference.headers
        ]
        assert got.body == reference_body == exchange.body
        assert got.trailers.items() == latin1(exchange.trailers)
        assert [(n.lower().encode(), v.encode("latin-1")) for n, v in got.trailers.items()] == [
            *reference_end.headers
        ]
        assert got.head.size == heads  # the bytes received, however the lines end
        assert got.rest == NEXT


@FAST
@given(exchange=exchanges(), cuts=st.lists(st.integers(0, 10_000), max_size=8))
def test_rawhttp_head_request_reads_no_body(exchange: Exchange, cuts: list[int]) -> None:
    """A response to HEAD announces a body it does not carry: the next bytes are left unread."""
    exchange.trailers, exchange.chunked = [], False
    wire = h11_serve(exchange)
    head_only = wire[: len(wire) - len(exchange.body)]  # what a server answers to HEAD
    assert head_only.endswith(b"\r\n\r\n")
    got = asyncio.run(rawhttp_parse(split(head_only + NEXT, cuts), method="HEAD"))
    assert got.head.status == exchange.status
    assert got.head.headers["content-length"] == str(len(exchange.body))
    assert got.head.framing.kind is BodyKind.NONE
    assert got.body == b""
    assert got.rest == NEXT


# -- (c) arbitrary bytes: a response or ProtocolError, never anything else ---------------

STATUS_LINES = [
    b"HTTP/1.1 200 OK\r\n",
    b"HTTP/1.1 200 OK\r\n",
    b"HTTP/1.0 200 OK\r\n",
    b"HTTP/1.1 404 \r\n",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n",
    b"HTTP/1.1 101 Switching Protocols\r\n",
    b"HTTP/1.1 204\r\n",
    b"HTTP/1.1 304 Not Modified\r\n",
    b"HTTP/1.1 200 OK\n",
    b"HTTP/1.1 100 Continue\n\nHTTP/1.1 200 OK\n",
    b"HTTP/1.1 200 OK\r",
]
HEADER_LINES = [  # Hypothesis favours early entries: the most useful come first
    b"Transfer-Encoding: chunked\r\n",
    b"Content-Length: 5\r\n",
    b"X: y\r\n",
    b"Content-Length: 0\r\n",
    b"Connection: close\r\n",
    b"Content-Length: 99999999999999999\r\n",
    b"Content-Length: 5, 5\r\n",
    b"Connection: keep-alive\r\n",
    b"\r\n",
    b" folded\r\n",
    b"Transfer-Encoding: chunked\n",
    b"Content-Length: 5\n",
    b"X: y\n",
    b"\n",
    b"X: y\r",
    b" folded\n",
]
BODY_PIECES = [
    b"5\r\nhello\r\n",
    b"0\r\n\r\n",
    b"3;ext=1\r\nabc\r\n",
    b"0\r\n",
    b"X: y\r\n",
    b"\r\n",
    b"ffffffffffffffff\r\n",
    b" folded\r\n",
    b"hello",
    b"5\nhello\n",
    b"0\n\n",
    b"0\n",
    b"X: y\n",
    b"\n",
    b"\r",
    b'3;a="q\\"" ; b = c\r\nabc\r\n',
    b'3;a="\r\nabc\r\n',
    b"3;\nabc\n",
]


def damaged(pieces: list[bytes]) -> st.SearchStrategy[bytes]:
    """One of ``pieces``, one time in four with a random byte or two inserted somewhere."""
    piece = st.sampled_from(pieces)
    insert = st.builds(
        lambda p, at, junk: p[: at % (len(p) + 1)] + junk + p[at % (len(p) + 1) :],
        piece,
        st.integers(0, 64),
        st.binary(min_size=1, max_size=2),
    )
    return st.one_of(piece, piece, piece, insert)


# Mostly well-formed lines, so that the header and body parsers are reached, not only
# the status line.
WIRE_SOUP = st.builds(
    lambda status, fields, body: status + b"".join(fields) + b"\r\n" + b"".join(body),
    damaged(STATUS_LINES),
    st.lists(damaged(HEADER_LINES), max_size=6),
    st.lists(damaged(BODY_PIECES), max_size=6),
)
CHUNKED_SOUP = st.lists(damaged(BODY_PIECES), max_size=8).map(
    lambda body: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"".join(body)
)
ANY_WIRE = st.one_of(st.binary(max_size=300), WIRE_SOUP, WIRE_SOUP, CHUNKED_SOUP)
LIMITS = st.sampled_from(
    [
        Limits(),
        Limits(
            max_status_line=20,
            max_header_line=12,
            max_header_bytes=30,
            max_headers=3,
            max_informational=1,
            max_chunk_line=5,
        ),
        Limits(max_informational=0, max_headers=0),
    ]
)


async def parse_or_protocol_error(
    segments: list[bytes], method: str, limits: Limits
) -> Parsed | None:
    try:
        got = await rawhttp_parse(segments, method=method, limits=limits)
    except ProtocolError:
        return None
    assert 100 <= got.head.status <= 599
    assert got.head.status >= 200
    return got


@FAST
@given(
    wire=ANY_WIRE,
    cuts=st.lists(st.integers(0, 300), max_size=6),
    method=st.sampled_from(["GET", "HEAD"]),
    limits=LIMITS,
)
def test_arbitrary_bytes_parse_or_raise_protocol_error(
    wire: bytes, cuts: list[int], method: str, limits: Limits
) -> None:
    asyncio.run(parse_or_protocol_error(split(wire, cuts), method, limits))


@FAST
@given(
    exchange=exchanges(),
    edits=st.lists(
        st.tuples(
            st.integers(0, 10_000),
            st.sampled_from(["flip", "insert", "delete"]),
            st.binary(min_size=1, max_size=3),
        ),
        min_size=1,
        max_size=4,
    ),
    cuts=st.lists(st.integers(0, 10_000), max_size=6),
)
def test_mutated_responses_parse_or_raise_protocol_error(
    exchange: Exchange, edits: list[tuple[int, str, bytes]], cuts: list[int]
) -> None:
    wire = bytearray(h11_serve(exchange))
    for position, kind, data in edits:
        i = position % (len(wire) + 1)
        if kind == "insert":
            wire[i:i] = data
        elif kind == "delete":
            del wire[i : i + len(data)]
        elif i < len(wire):
            wire[i] ^= data[0]
    got = asyncio.run(parse_or_protocol_error(split(bytes(wire), cuts), "GET", Limits()))
    if got is not None:
        assert len(got.body) + len(got.rest) <= len(wire)
