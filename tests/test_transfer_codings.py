"""Transfer codings other than chunked (RFC 9112 sections 6.1 and 7.2, RFC 9110
section 10.1.4): a response may use gzip or deflate (before a final chunked, or
delimited by the server closing) only when the request's TE field accepted them;
rawhttp then undoes them always (they are no part of the content: ``iter_raw()``
gives the content with its Content-Encoding still applied), bounded as content
decoding is.  Without such a TE field they stay refused (rule "transfer-coding").

Pure parsing with plain bytes first, then loopback servers, then curl 7.88.1
(``--tr-encoding``) as the reference for the bytes written and the exit code.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import shutil
import subprocess
import zlib
from collections.abc import Awaitable, Callable

import pytest
from conftest import RawConnection, RawServer, assert_clean, read_message

import rawhttp
from rawhttp._headers import Headers
from rawhttp._parse import (
    BodyKind,
    Framing,
    accepted_transfer_codings,
    body_framing,
    request_te,
)
from rawhttp.cli._exit import exit_code

MakeServer = Callable[..., Awaitable[RawServer]]
QUICK = rawhttp.Timeout(5.0)
CURL = shutil.which("curl")

gzip_ = functools.partial(gzip.compress, mtime=0)
"""gzip with a fixed time in its header, so that the same data always gives the same bytes."""
DATA = b"".join(b"line %05d: transfer codings are not content\n" % i for i in range(3000))


def chunked(data: bytes, size: int = 1000) -> bytes:
    """``data`` in the chunked coding, in chunks of ``size`` bytes."""
    pieces = [
        b"%x\r\n%s\r\n" % (len(data[i : i + size]), data[i : i + size])
        for i in range(0, len(data), size)
    ]
    return b"".join(pieces) + b"0\r\n\r\n"


def raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def coded(codings: str, body: bytes, *, fields: bytes = b"") -> bytes:
    """A 200 response with ``Transfer-Encoding: codings``; ``body`` as it goes on the
    wire (already coded), put in chunks when the codings end in chunked."""
    if codings.replace(" ", "").lower().endswith(",chunked"):
        body = chunked(body)
    return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: %s\r\n%s\r\n%s" % (
        codings.encode(),
        fields,
        body,
    )


def head(*te: str) -> bytes:
    """A request head as rawhttp serializes it, with these TE field values."""
    lines = [b"GET / HTTP/1.1", b"Host: example.com", b"Accept: */*"]
    lines += [b"TE: %s" % value.encode() for value in te]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def framing(
    te: str | None,
    *fields: tuple[str, str],
    method: str = "GET",
    status: int = 200,
    version: str = "HTTP/1.1",
) -> Framing:
    sent = head(te) if te is not None else b""
    return body_framing(method, status, version, Headers(list(fields)), sent)


# -- the request's TE field ----------------------------------------------------------


def test_te_values_are_read_from_the_request_head() -> None:
    sent = (
        b"GET /TE:gzip HTTP/1.1\r\nHost: h\r\nte: gzip\r\nX-TE: deflate\r\n"
        b"TE-Other: deflate\r\nTE:   deflate;q=0.5  \r\nConnection: TE\r\n\r\n"
    )
    assert request_te(sent) == ["gzip", "deflate;q=0.5"]
    assert request_te(head()) == []
    assert request_te(b"") == []


@pytest.mark.parametrize(
    ("values", "accepted"),
    [
        (["gzip"], {"gzip"}),
        (["GZip"], {"gzip"}),
        (["x-gzip"], {"gzip"}),
        (["deflate"], {"deflate"}),
        (["gzip, deflate"], {"gzip", "deflate"}),
        (["gzip", "deflate"], {"gzip", "deflate"}),
        (["trailers, deflate;q=0.5"], {"deflate"}),
        (["gzip;q=1", "deflate ; q=0.001"], {"gzip", "deflate"}),
        (["gzip;q=1.000"], {"gzip"}),
        (["gzip;level=9;q=0.8"], {"gzip"}),
        # weight 0 means "not acceptable" (RFC 9110 section 12.4.2)
        (["gzip;q=0"], set()),
        (["gzip;q=0.000, deflate"], {"deflate"}),
        # not a valid qvalue: nothing accepted
        (["gzip;q=2"], set()),
        (["gzip;q=1.5"], set()),
        (["gzip;q=0.0001"], set()),
        (["gzip;q="], set()),
        (["gzip;q=high"], set()),
        # what rawhttp cannot undo, or what is no transfer coding it knows
        (["trailers"], set()),
        (["br, zstd, compress, x-compress"], set()),
        (["chunked"], set()),
        (["identity"], set()),
        (["gzipx, xgzip"], set()),
        ([""], set()),
        ([], set()),
    ],
)
def test_accepted_transfer_codings(values: list[str], accepted: set[str]) -> None:
    assert accepted_transfer_codings(values) == accepted


# -- framing: accepted -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("te", "value", "codings"),
    [
        ("gzip", "gzip, chunked", ("gzip",)),
        ("gzip", "GZIP , Chunked", ("gzip",)),
        ("gzip", "x-gzip, chunked", ("gzip",)),
        ("x-gzip", "gzip, chunked", ("gzip",)),
        ("deflate", "deflate, chunked", ("deflate",)),
        ("gzip, deflate", "deflate, chunked", ("deflate",)),
        ("gzip, deflate", "gzip, deflate, chunked", ("gzip", "deflate")),
        ("deflate, gzip", "deflate, gzip, chunked", ("deflate", "gzip")),
        ("gzip", "gzip, gzip, chunked", ("gzip", "gzip")),
        ("gzip, trailers", "gzip, , chunked", ("gzip",)),
    ],
)
def test_accepted_codings_before_chunked(te: str, value: str, codings: tuple[str, ...]) -> None:
    assert framing(te, ("Transfer-Encoding", value)) == Framing(BodyKind.CHUNKED, 0, True, codings)


def test_accepted_codings_in_several_fields() -> None:
    got = framing("gzip", ("Transfer-Encoding", "gzip"), ("Transfer-Encoding", "chunked"))
    assert got == Framing(BodyKind.CHUNKED, 0, True, ("gzip",))


def test_connection_close_still_closes() -> None:
    got = framing("gzip", ("Transfer-Encoding", "gzip, chunked"), ("Connection", "close"))
    assert got == Framing(BodyKind.CHUNKED, 0, False, ("gzip",))


@pytest.mark.parametrize("value", ["gzip", "x-gzip", "deflate, gzip"])
def test_accepted_codings_without_chunked_run_until_close(value: str) -> None:
    """RFC 9112 section 6.1: the server applies chunked last or closes the connection;
    section 6.3 (4): then the body runs until it closes.  Never reused."""
    expected = tuple("gzip" if c.strip() == "x-gzip" else c.strip() for c in value.split(","))
    got = framing("gzip, deflate", ("Transfer-Encoding", value), ("Connection", "keep-alive"))
    assert got == Framing(BodyKind.CLOSE, 0, False, expected)


def test_plain_chunked_is_unchanged_by_te() -> None:
    assert framing("gzip", ("Transfer-Encoding", "chunked")) == Framing(BodyKind.CHUNKED, 0, True)


@pytest.mark.parametrize(
    ("method", "status"), [("HEAD", 200), ("GET", 204), ("GET", 304), ("GET", 101)]
)
def test_no_body_whatever_the_codings(method: str, status: int) -> None:
    got = framing("gzip", ("Transfer-Encoding", "gzip, chunked"), method=method, status=status)
    assert got == Framing(BodyKind.NONE, 0, True)


# -- framing: refused ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("te", "value", "words"),
    [
        # not accepted by the request
        (None, "gzip, chunked", "only 'chunked' is accepted"),
        ("trailers", "gzip, chunked", "only 'chunked' is accepted"),
        ("gzip;q=0", "gzip, chunked", "only 'chunked' is accepted"),
        ("deflate", "gzip, chunked", "'gzip' is not a coding the request's TE field accepted"),
        ("gzip", "gzip, deflate, chunked", "'deflate' is not a coding"),
        ("gzip", "deflate", "'deflate' is not a coding"),
        # no transfer coding rawhttp undoes, asked for or not
        ("br, gzip", "br, chunked", "'br' is not a coding"),
        ("gzip, compress", "compress, chunked", "'compress' is not a coding"),
        ("gzip", "identity, chunked", "'identity' is not a coding"),
        ("gzip", "gzip;level=1, chunked", "'gzip;level=1' is not a coding"),
        # chunked not last, or twice
        ("gzip", "chunked, gzip", "chunked must be the last transfer coding, applied once"),
        ("gzip", "gzip, chunked, chunked", "chunked must be the last"),
        ("gzip", "chunked, chunked", "chunked must be the last"),
        # no coding at all
        ("gzip", "", "it names no transfer coding"),
        ("gzip", " , ", "it names no transfer coding"),
    ],
)
def test_refused_codings(te: str | None, value: str, words: str) -> None:
    with pytest.raises(rawhttp.ProtocolError, match="unsupported Transfer-Encoding") as info:
        framing(te, ("Transfer-Encoding", value))
    assert info.value.rule == "transfer-coding"
    assert words in str(info.value)


def test_more_than_five_transfer_codings_refused() -> None:
    assert framing("gzip", ("Transfer-Encoding", "gzip, " * 5 + "chunked")).codings == ("gzip",) * 5
    with pytest.raises(rawhttp.ProtocolError, match="more than 5 transfer codings") as info:
        framing("gzip", ("Transfer-Encoding", "gzip, " * 6 + "chunked"))
    assert info.value.rule == "transfer-coding"


@pytest.mark.parametrize(
    ("fields", "version", "words"),
    [
        (
            (("Transfer-Encoding", "gzip, chunked"), ("Content-Length", "5")),
            "HTTP/1.1",
            "both Transfer-Encoding and Content-Length",
        ),
        ((("Transfer-Encoding", "gzip, chunked"),), "HTTP/1.0", r"HTTP/1\.0"),
        ((("Transfer-Encoding", "gzip"),), "HTTP/1.0", r"HTTP/1\.0"),
    ],
)
def test_faulty_framing_stays_refused_with_te(
    fields: tuple[tuple[str, str], ...], version: str, words: str
) -> None:
    with pytest.raises(rawhttp.ProtocolError, match=words) as info:
        framing("gzip, deflate", *fields, version=version)
    assert info.value.rule == "framing"


# -- through a Session ------------------------------------------------------------------


class Serve:
    """A keep-alive handler answering each request target with its bytes (then
    closing when the bytes say the body runs until close); records request heads."""

    def __init__(self, routes: dict[str, bytes], *, close: frozenset[str] = frozenset()) -> None:
        self.routes = routes
        self.close = close
        self.heads: list[bytes] = []

    async def __call__(self, conn: RawConnection) -> None:
        while True:
            request, _ = await read_message(conn)
            if not request:
                return
            self.heads.append(request)
            target = request.split(b" ")[1].decode()
            await conn.send(self.routes[target])
            if target in self.close:
                return


async def serve(
    raw_server: MakeServer, closing: frozenset[str] = frozenset(), **routes: bytes
) -> tuple[Serve, RawServer]:
    """A server answering ``/name`` with ``routes[name]``; it closes after the targets
    in ``closing``."""
    handler = Serve({f"/{name}": reply for name, reply in routes.items()}, close=closing)
    return handler, await raw_server(handler)


async def stream(
    s: rawhttp.Session, url: str, *, raw: bool, chunk_size: int = 65536, te: str = "gzip"
) -> list[bytes]:
    async with s.stream("GET", url, headers={"TE": te}) as r:
        pieces = r.iter_raw(chunk_size) if raw else r.iter_bytes(chunk_size)
        return [piece async for piece in pieces]


CURL_TE = {"TE": "gzip", "Connection": "TE"}
"""The fields curl 7.88.1 sends with --tr-encoding (measured: ``Connection: TE`` then
``TE: gzip``)."""


@pytest.mark.parametrize(
    ("te", "codings", "encode"),
    [
        ("gzip", "gzip, chunked", gzip_),
        ("gzip", "x-gzip, chunked", gzip_),
        ("deflate", "deflate, chunked", zlib.compress),
        ("deflate", "deflate, chunked", raw_deflate),
        ("gzip, deflate", "gzip, deflate, chunked", lambda d: zlib.compress(gzip_(d))),
    ],
)
async def test_accepted_coding_undone_whole_and_streamed(
    raw_server: MakeServer, te: str, codings: str, encode: Callable[[bytes], bytes]
) -> None:
    wire = encode(DATA)
    handler, server = await serve(raw_server, x=coded(codings, wire))
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(server.url("/x"), headers={"TE": te, "Connection": "TE"})
        assert r.content == DATA
        assert r.headers["transfer-encoding"] == codings  # the head stays as received
        assert r.num_bytes_downloaded == len(wire)  # as curl's size_download
        for raw in (False, True):
            pieces = await stream(s, server.url("/x"), raw=raw, chunk_size=1000, te=te)
            assert b"".join(pieces) == DATA
            assert all(0 < len(piece) <= 1000 for piece in pieces)
        assert_clean(s)
    assert server.connections == 1  # read to its end: the connection is reused
    assert all(b"\r\nTE: %s\r\n" % te.encode() in h for h in handler.heads)


async def test_te_from_the_session_headers(raw_server: MakeServer) -> None:
    _, server = await serve(raw_server, x=coded("gzip, chunked", gzip_(DATA)))
    async with rawhttp.Session(timeout=QUICK, headers=CURL_TE) as s:
        assert (await s.get(server.url("/x"))).content == DATA
        # A request's own TE field replaces the Session's: accepting no coding, refused.
        with pytest.raises(rawhttp.ProtocolError) as info:
            await s.get(server.url("/x"), headers={"TE": "trailers"})
        assert info.value.rule == "transfer-coding"
        assert_clean(s)


async def test_without_te_the_coding_stays_refused(raw_server: MakeServer) -> None:
    _, server = await serve(raw_server, x=coded("gzip, chunked", gzip_(DATA)))
    async with rawhttp.Session(timeout=QUICK) as s:
        with pytest.raises(rawhttp.ProtocolError, match="only 'chunked' is accepted") as info:
            await s.get(server.url("/x"))
        assert info.value.rule == "transfer-coding"
        assert exit_code(info.value)[0] == 61
        assert_clean(s)


async def test_content_coding_stays_in_iter_raw(raw_server: MakeServer) -> None:
    """Content-Encoding: gzip under Transfer-Encoding: gzip, chunked: iter_raw() gives the
    content as the server meant it (gzip'd once), iter_bytes() and read() the data."""
    content = gzip_(DATA)
    wire = gzip_(content)
    reply = coded("gzip, chunked", wire, fields=b"Content-Encoding: gzip\r\n")
    _, server = await serve(raw_server, x=reply)
    async with rawhttp.Session(timeout=QUICK, headers={"TE": "gzip"}) as s:
        assert (await s.get(server.url("/x"))).content == DATA
        assert b"".join(await stream(s, server.url("/x"), raw=True)) == content
        assert b"".join(await stream(s, server.url("/x"), raw=False)) == DATA
    async with rawhttp.Session(timeout=QUICK, headers={"TE": "gzip"}, decode_content=False) as s:
        r = await s.get(server.url("/x"))
        assert r.content == content  # transfer codings are undone whatever decode_content says
        assert b"".join(await stream(s, server.url("/x"), raw=False)) == content


async def test_trailers_after_a_coded_body(raw_server: MakeServer) -> None:
    wire = chunked(gzip_(DATA))[: -len(b"\r\n")] + b"Checksum: abc\r\n\r\n"
    reply = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" + wire
    _, server = await serve(raw_server, x=reply)
    async with rawhttp.Session(timeout=QUICK, headers={"TE": "gzip"}) as s:
        r = await s.get(server.url("/x"))
        assert r.content == DATA
        assert r.trailers["checksum"] == "abc"


async def test_close_delimited_coding(raw_server: MakeServer) -> None:
    wire = gzip_(DATA)
    cut = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n" + wire[:-5]
    _, server = await serve(
        raw_server,
        frozenset({"/whole", "/cut"}),
        whole=coded("gzip", wire),
        cut=cut,
    )
    async with rawhttp.Session(timeout=QUICK, headers={"TE": "gzip"}) as s:
        r = await s.get(server.url("/whole"))
        assert r.content == DATA
        # Cut off before the gzip trailer: the coding tells, never a short body.
        with pytest.raises(rawhttp.DecodingError, match="ended early"):
            await s.get(server.url("/cut"))
        assert_clean(s)
    assert server.connections == 2  # a close-delimited body never leaves it reusable


@pytest.mark.parametrize(
    ("wire", "words"),
    [
        (b"this is not gzip at all", "invalid gzip data"),
        (gzip_(DATA)[:-3], "ended early"),
        (gzip_(DATA) + b"junk", "invalid gzip data"),
    ],
)
async def test_broken_coding_is_a_decoding_error(
    raw_server: MakeServer, wire: bytes, words: str
) -> None:
    _, server = await serve(raw_server, x=coded("gzip, chunked", wire))
    async with rawhttp.Session(timeout=QUICK, headers={"TE": "gzip"}) as s:
        with pytest.raises(rawhttp.DecodingError, match=words) as info:
            await s.get(server.url("/x"))
        assert exit_code(info.value)[0] == 61
        with pytest.raises(rawhttp.DecodingError, match=words):
            await stream(s, server.url("/x"), raw=True)
        assert_clean(s)


BOMB = gzip_(bytes(8 * 1024 * 1024))
"""8 MiB of zeros in about 8 KiB."""


@pytest.mark.parametrize("decode", [True, False])
async def test_decoded_size_bounded_by_max_body_size(raw_server: MakeServer, decode: bool) -> None:
    assert len(BOMB) < 100_000
    _, server = await serve(raw_server, x=coded("gzip, chunked", BOMB))
    limits = rawhttp.Limits(max_body_size=1_000_000)
    async with rawhttp.Session(
        timeout=QUICK, headers={"TE": "gzip"}, limits=limits, decode_content=decode
    ) as s:
        with pytest.raises(rawhttp.BodyTooLarge, match="decoded so far") as info:
            await s.get(server.url("/x"))
        assert info.value.limit == 1_000_000
        # Streamed, the pieces stay bounded by chunk_size however well it compresses.
        pieces = await stream(s, server.url("/x"), raw=True, chunk_size=4096)
        assert sum(map(len, pieces)) == 8 * 1024 * 1024
        assert max(map(len, pieces)) <= 4096
        assert_clean(s)


async def test_redirect_body_drained_with_its_coding_undone(raw_server: MakeServer) -> None:
    redirect = (
        b"HTTP/1.1 302 Found\r\nLocation: /x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
        + chunked(gzip_(b"moved to /x"))
    )
    _, server = await serve(raw_server, r=redirect, x=coded("gzip, chunked", gzip_(DATA)))
    async with rawhttp.Session(timeout=QUICK, headers={"TE": "gzip"}, follow_redirects=True) as s:
        r = await s.get(server.url("/r"))
        assert r.content == DATA
        assert [h.status for h in r.history] == [302]
        assert r.history[0].content == b"moved to /x"
        assert_clean(s)
    assert server.connections == 1  # the redirect's body was read to its end


async def test_drain_bounds_the_decoded_bytes(raw_server: MakeServer) -> None:
    _, server = await serve(raw_server, x=coded("gzip, chunked", BOMB))
    async with rawhttp.Session(timeout=QUICK, headers={"TE": "gzip"}) as s:
        async with s.stream("GET", server.url("/x")) as r:
            await r.drain(limit=100_000)
            assert 100_000 < len(r.content) <= 100_000 + 65536
            assert set(r.content) == {0}
        assert_clean(s)
        assert s.pool.connections == 0  # not read to its end: closed, not kept


async def test_expect_continue_answers(raw_server: MakeServer) -> None:
    """The head sent with ``Expect: 100-continue`` carries the TE field too, whether the
    final answer comes before the body (then the connection is not reused) or after."""
    reply = coded("gzip, chunked", gzip_(DATA))

    async def early(conn: RawConnection) -> None:
        await conn.reader.readuntil(b"\r\n\r\n")
        await conn.send(reply)

    async def after_continue(conn: RawConnection) -> None:
        request = await conn.reader.readuntil(b"\r\n\r\n")
        assert b"Expect: 100-continue" in request
        await conn.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        await conn.reader.readexactly(5)
        await conn.send(reply)

    for handler in (early, after_continue):
        server = await raw_server(handler)
        async with rawhttp.Session(timeout=QUICK, headers={"TE": "gzip"}) as s:
            r = await s.post(server.url("/"), content=b"hello", expect_continue=True)
            assert r.content == DATA


# -- curl as the reference ------------------------------------------------------------


async def curl(url: str) -> tuple[int, bytes]:
    """``curl -sS --tr-encoding URL``: its exit code and stdout."""
    if CURL is None:
        pytest.skip("curl is not installed: rawhttp's result was checked, curl's cannot be")
    proc = await asyncio.create_subprocess_exec(
        CURL,
        "-sS",
        "--tr-encoding",
        url,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), 20)
    except TimeoutError:
        proc.kill()
        await proc.communicate()
        raise
    assert proc.returncode is not None
    return proc.returncode, out


@pytest.mark.parametrize(
    ("name", "reply", "code", "curl_code"),
    [
        ("gzip", coded("gzip, chunked", gzip_(DATA)), 0, 0),
        ("close", coded("gzip", gzip_(DATA)), 0, 0),
        (
            "content-coded",
            coded("gzip, chunked", gzip_(gzip_(DATA)), fields=b"Content-Encoding: gzip\r\n"),
            0,
            0,
        ),
        ("corrupt", coded("gzip, chunked", b"this is not gzip at all"), 61, 61),
        # A recorded difference: curl asks for gzip only, yet undoes deflate too.
        ("deflate", coded("deflate, chunked", zlib.compress(DATA)), 61, 0),
    ],
)
async def test_same_bytes_and_exit_code_as_curl(
    raw_server: MakeServer, name: str, reply: bytes, code: int, curl_code: int
) -> None:
    """What ``iter_raw()`` gives is what ``curl --tr-encoding`` (without --compressed)
    writes; an error's exit code (rawhttp.cli) is curl's.  Expected values measured
    with curl 7.88.1 and written down, so the library is checked without curl too."""
    expected = gzip_(DATA) if name == "content-coded" else DATA
    handler, server = await serve(raw_server, frozenset({"/close"}), **{name: reply})
    url = server.url(f"/{name}")
    async with rawhttp.Session(timeout=QUICK, headers=CURL_TE) as s:
        try:
            async with s.stream("GET", url) as r:
                got = b"".join([piece async for piece in r.iter_raw()])
            ours = 0
        except rawhttp.Error as exc:
            got, ours = b"", exit_code(exc)[0]
    assert ours == code
    assert got == (expected if code == 0 else b"")
    ours_head = handler.heads[0]
    assert b"\r\nConnection: TE\r\n" in ours_head
    assert b"\r\nTE: gzip\r\n" in ours_head
    theirs, curl_out = await curl(url)
    assert theirs == curl_code
    assert curl_out == (expected if curl_code == 0 else b"")
    assert b"\r\nConnection: TE\r\nTE: gzip\r\n" in handler.heads[1]  # what curl sent
