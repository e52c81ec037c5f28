"""Streamed text: Response.iter_text() and iter_lines(), the pure decoder and line
splitter under them (rawhttp._text), the settable Response.encoding and
Session(default_encoding=)."""

from __future__ import annotations

import asyncio
import codecs
import encodings
import encodings.aliases
import gzip
import itertools
import json
import pathlib
import pkgutil
from collections.abc import Awaitable, Callable

import pytest
from conftest import RawConnection, RawServer, always, assert_clean
from hypothesis import given, settings
from hypothesis import strategies as st
from servers import run_script

import rawhttp
from rawhttp._charset import text_codec
from rawhttp._text import MAX_LINE, LineSplitter, TextDecoder

MakeServer = Callable[..., Awaitable[RawServer]]
QUICK = rawhttp.Timeout(5.0)

TEXT_CODECS = sorted(
    {
        codec
        for name in set(encodings.aliases.aliases)
        | set(encodings.aliases.aliases.values())
        | {module.name for module in pkgutil.iter_modules(encodings.__path__)}
        if (codec := text_codec(name)) is not None
    }
)
"""Every codec a response's charset may select."""


def response(body: bytes, content_type: str | None = None, **attrs: object) -> rawhttp.Response:
    """A Response whose body is already read."""
    headers = [] if content_type is None else [("Content-Type", content_type)]
    r = rawhttp.Response(
        status=200,
        reason="OK",
        http_version="HTTP/1.1",
        headers=rawhttp.Headers(headers),
        url="http://127.0.0.1/",
        method="GET",
        content=body,
    )
    for name, value in attrs.items():
        setattr(r, name, value)
    return r


def pieces(data: bytes, cuts: list[int]) -> list[bytes]:
    """``data`` cut at the positions ``cuts`` (any order, repeats make empty pieces)."""
    points = [0, *sorted(c % (len(data) + 1) for c in cuts), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(points)]


def decode_in_pieces(encoding: str, parts: list[bytes]) -> str:
    decoder = TextDecoder(encoding)
    return "".join(decoder.decode(part) for part in parts) + decoder.decode(b"", final=True)


def reference_lines(text: str) -> list[str]:
    """Lines ended by \\n, \\r\\n or \\r, read one character at a time."""
    lines: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char in "\r\n":
            lines.append("".join(current))
            current = []
            if text[i : i + 2] == "\r\n":
                i += 1
        else:
            current.append(char)
        i += 1
    if current:
        lines.append("".join(current))
    return lines


def split_in_pieces(parts: list[str], max_line: int | None = MAX_LINE) -> list[str]:
    splitter = LineSplitter(max_line)
    lines = [line for part in parts for line in splitter.feed(part)]
    return lines + splitter.finish()


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def chunked_head(content_type: str = "text/plain", extra: str = "") -> bytes:
    return (
        f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n{extra}"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()


# -- the incremental decoder ----------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(
    codec=st.sampled_from(TEXT_CODECS),
    raw=st.binary(max_size=64),
    text=st.text(max_size=24),
    bom=st.sampled_from([b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE]),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=8),
)
def test_decoding_in_pieces_equals_decoding_the_whole(
    codec: str, raw: bytes, text: str, bom: bytes, cuts: list[int]
) -> None:
    body = bom + text.encode(codec, errors="ignore") + raw
    expected = body.decode(codec, errors="replace")
    assert decode_in_pieces(codec, pieces(body, cuts)) == expected


@pytest.mark.parametrize(
    ("codec", "body"),
    [
        ("utf-8", "caf\u00e9 \u20ac \U0001f600 \r\n".encode()),
        ("utf-8-sig", codecs.BOM_UTF8 + "\u00e9\u20ac".encode()),
        ("utf-16", codecs.BOM_UTF16_BE + "\u00e9a\U0001f600".encode("utf-16-be")),
        ("utf-16", codecs.BOM_UTF16_LE + "\u00e9a\U0001f600".encode("utf-16-le")),
        ("utf-16", "no BOM \u00e9".encode("utf-16-le")),  # the native order, as decode() reads
        ("utf-32", codecs.BOM_UTF32_BE + "\u00e9\U0001f600".encode("utf-32-be")),
        ("utf-32", "no BOM".encode("utf-32-le") + b"\x00"),  # and a truncated character
        ("shift_jis", "\u65e5\u672c\u8a9e".encode("shift_jis")),
        ("iso2022_jp", "\u65e5\u672c abc \u8a9e".encode("iso2022_jp")),
        ("utf-8", b"\xff\xfe bad \xc3 \xe2\x82"),
    ],
)
def test_every_cut_and_one_byte_pieces_decode_like_the_whole(codec: str, body: bytes) -> None:
    expected = body.decode(codec, errors="replace")
    for cut in range(len(body) + 1):
        assert decode_in_pieces(codec, [body[:cut], body[cut:]]) == expected
    assert decode_in_pieces(codec, [body[i : i + 1] for i in range(len(body))]) == expected


def test_the_decoder_reports_the_byte_order_it_read() -> None:
    decoder = TextDecoder("utf-16")
    assert decoder.decode(codecs.BOM_UTF16_BE[:1]) == ""  # the BOM is not complete yet
    assert decoder.decode(codecs.BOM_UTF16_BE[1:] + "ab".encode("utf-16-be")) == "ab"
    assert decoder.encoding == "utf-16-be"


def test_a_decoder_that_raises_continues_as_utf8() -> None:
    # No text codec rawhttp selects raises; idna (which it never selects) does.
    decoder = TextDecoder("idna")
    text = decoder.decode(b"xn--" + b"a" * 100 + b".", final=False)
    text += decoder.decode("caf\u00e9".encode(), final=True)
    assert decoder.encoding == "utf-8"
    assert isinstance(text, str)
    assert text.endswith("caf\u00e9")


# -- the line splitter ------------------------------------------------------------------


@settings(max_examples=500, deadline=None)
@given(
    text=st.text(alphabet="ab\u00e9\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029 ", max_size=60),
    cuts=st.lists(st.integers(min_value=0, max_value=100), max_size=10),
)
def test_lines_in_pieces_equal_the_lines_of_the_whole(text: str, cuts: list[int]) -> None:
    points = [0, *sorted(c % (len(text) + 1) for c in cuts), len(text)]
    parts = [text[a:b] for a, b in itertools.pairwise(points)]
    assert split_in_pieces(parts) == reference_lines(text)


@pytest.mark.parametrize(
    ("parts", "lines"),
    [
        (["a\nb\n"], ["a", "b"]),
        (["a\nb"], ["a", "b"]),
        (["a\r\n", "\r\n"], ["a", ""]),
        (["a\r", "\nb"], ["a", "b"]),  # \r\n split between pieces: one line ending
        (["a\r", "", "\n", "b"], ["a", "b"]),  # empty pieces in between
        (["a\r", "\r", "\n"], ["a", ""]),
        (["a\r", "b\r"], ["a", "b"]),
        (["\n"], [""]),
        (["\r"], [""]),
        ([""], []),
        (["x\x0cy\u2028z\x85"], ["x\x0cy\u2028z\x85"]),  # only \r and \n end lines
        (["x\x0cy\r\nz\u2029\r", "\n"], ["x\x0cy", "z\u2029"]),
        (["da", "ta: 1", "\n\n"], ["data: 1", ""]),
    ],
)
def test_line_endings(parts: list[str], lines: list[str]) -> None:
    assert split_in_pieces(parts) == lines


def test_a_carriage_return_ends_its_line_at_once() -> None:
    splitter = LineSplitter()
    assert splitter.feed("event\r") == ["event"]  # not held until the next piece
    assert splitter.feed("\n") == []  # the rest of that \r\n
    assert splitter.feed("\nx") == [""]  # a second \n is an empty line
    assert splitter.finish() == ["x"]


def test_a_line_longer_than_max_line_raises() -> None:
    assert split_in_pieces(["abcd\n", "ab", "cd"], max_line=4) == ["abcd", "abcd"]
    for parts in (["abcde\n"], ["ab", "cde"], ["ab", "c", "de\n"], ["ok\nabcde"]):
        with pytest.raises(rawhttp.BodyTooLarge) as info:
            split_in_pieces(parts, max_line=4)
        assert info.value.limit == 4
        assert info.value.size == 5
    assert split_in_pieces(["x" * 5000, "\n"], max_line=None) == ["x" * 5000]


def test_the_held_text_is_bounded_by_max_line() -> None:
    splitter = LineSplitter(max_line=1000)
    for _ in range(100):  # 1000 characters with no line ending: held
        assert splitter.feed("x" * 10) == []
    with pytest.raises(rawhttp.BodyTooLarge):
        splitter.feed("x")
    assert splitter._held == 1001  # the text held never passes max_line + one piece


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10"])
def test_max_line_must_be_a_positive_int(bad: object) -> None:
    with pytest.raises(ValueError, match="max_line"):
        LineSplitter(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_line"):
        response(b"").iter_lines(max_line=bad)  # type: ignore[arg-type]


# -- on a body already read -----------------------------------------------------------------


async def collect(iterator: object) -> list[str]:
    return [item async for item in iterator]  # type: ignore[attr-defined]


async def test_iter_text_and_iter_lines_on_a_body_already_read() -> None:
    body = "caf\u00e9\r\nna\u00efve\nlast".encode()
    r = response(body, "text/plain; charset=utf-8")
    assert "".join(await collect(r.iter_text(3))) == r.text
    assert await collect(r.iter_lines(1)) == ["caf\u00e9", "na\u00efve", "last"]
    assert await collect(r.iter_lines()) == ["caf\u00e9", "na\u00efve", "last"]
    utf16 = response("a\r\nb".encode("utf-16"), "text/plain; charset=utf-16")
    assert await collect(utf16.iter_lines(1)) == ["a", "b"]
    assert await collect(response(b"").iter_lines()) == []
    assert await collect(response(b"").iter_text()) == []
    with pytest.raises(ValueError, match="chunk_size"):
        r.iter_text(0)  # when asked for, before any piece
    with pytest.raises(ValueError, match="chunk_size"):
        r.iter_bytes(-1)


# -- streamed from a server -----------------------------------------------------------------


async def test_lines_arrive_as_they_end_while_the_body_streams(raw_server: MakeServer) -> None:
    got_first = asyncio.Event()
    got_second = asyncio.Event()

    async def handler(conn: RawConnection) -> None:
        await conn.read_request()
        await conn.send(chunked_head("text/event-stream") + chunk(b"data: one\n\nda"))
        await asyncio.wait_for(got_first.wait(), 5)
        # A \r ends "ta: two" at once; the \n opening the next piece is part of it.
        await conn.send(chunk(b"ta: two\r"))
        await asyncio.wait_for(got_second.wait(), 5)
        await conn.send(chunk(b"\n\r\ndata: three") + chunk(b""))
        while await conn.read_request():
            pass

    server = await raw_server(handler)
    seen: list[str] = []
    async with rawhttp.Session(timeout=QUICK) as s:
        async with s.stream("GET", server.url()) as r:
            async for line in r.iter_lines():
                seen.append(line)
                if line == "":  # the end of the first event: before the rest was sent
                    got_first.set()
                if line == "data: two":
                    got_second.set()
        assert seen == ["data: one", "", "data: two", "", "data: three"]
        assert s.pool.idle == 1  # read to its end: the connection is kept
        assert_clean(s)


async def test_iter_text_decodes_characters_split_across_pieces(raw_server: MakeServer) -> None:
    text = "\u65e5\u672c\u8a9e caf\u00e9 \U0001f600" * 50
    cases = [
        ("utf-8", text.encode()),
        ("utf-16", text.encode("utf-16")),  # with a BOM
        ("shift_jis", ("\u65e5\u672c\u8a9e \u30ab\u30ca abc " * 50).encode("shift_jis")),
    ]
    for charset, body in cases:
        # Odd-sized chunks: characters (and the BOM) split between pieces.
        wire = b"".join(chunk(body[i : i + 7]) for i in range(0, len(body), 7)) + chunk(b"")
        server = await raw_server(always(chunked_head(f"text/plain; charset={charset}") + wire))
        async with rawhttp.Session(timeout=QUICK) as s:
            async with s.stream("GET", server.url()) as r:
                parts = [part async for part in r.iter_text(5)]
            assert all(parts)  # no empty pieces
            assert len(parts) > 10
            assert "".join(parts) == body.decode(charset)
            assert_clean(s)


async def test_ndjson_through_gzip(raw_server: MakeServer) -> None:
    records = [{"n": i, "text": "\u00e9" * (i % 7)} for i in range(500)]
    body = gzip.compress(b"".join(json.dumps(rec).encode() + b"\n" for rec in records))
    wire = b"".join(chunk(body[i : i + 100]) for i in range(0, len(body), 100)) + chunk(b"")
    head = chunked_head("application/x-ndjson", "Content-Encoding: gzip\r\n")
    server = await raw_server(always(head + wire))
    async with rawhttp.Session(timeout=QUICK) as s:
        async with s.stream("GET", server.url()) as r:
            got = [json.loads(line) async for line in r.iter_lines()]
        assert got == records
        assert_clean(s)


async def test_a_line_without_end_is_refused_and_the_connection_closed(
    raw_server: MakeServer,
) -> None:
    sent = 0

    async def handler(conn: RawConnection) -> None:
        nonlocal sent
        await conn.read_request()
        await conn.send(chunked_head())
        for _ in range(100_000):  # 800 MiB, never read: the client gives up first
            await conn.send(chunk(b"x" * 8192))
            sent += 8192

    server = await raw_server(handler)
    async with rawhttp.Session(timeout=QUICK) as s:
        async with s.stream("GET", server.url()) as r:
            with pytest.raises(rawhttp.BodyTooLarge) as info:
                async for _ in r.iter_lines(max_line=100_000):
                    pass
            assert info.value.limit == 100_000
            assert 100_000 < info.value.size <= 100_000 + 64 * 1024
            assert r.is_closed
        assert s.pool.connections == 0
        assert_clean(s)
    assert sent < 100_000 * 8192


async def test_leaving_iter_lines_early_closes_the_connection(raw_server: MakeServer) -> None:
    body = b"".join(chunk(b"line %d\n" % i) for i in range(1000)) + chunk(b"")
    server = await raw_server(always(chunked_head() + body))
    async with rawhttp.Session(timeout=QUICK) as s:
        async with s.stream("GET", server.url()) as r:
            lines = r.iter_lines()
            async for line in lines:
                if line == "line 3":
                    break
            await lines.aclose()
            assert r.is_closed  # not read to its end: the connection cannot be reused
        assert s.pool.connections == 0
        r = await s.get(server.url())  # a new connection works
        assert r.text.count("\n") == 1000
        assert_clean(s)


SSE_SCRIPT = """
import asyncio
import random
import sys

import rawhttp

EVENTS = 10_000
PAYLOAD = "x" * 1000
KEEP = sys.argv[1] == "keep"


async def serve(reader, writer):
    await reader.readuntil(b"\\r\\n\\r\\n")
    writer.write(
        b"HTTP/1.1 200 OK\\r\\nContent-Type: text/event-stream\\r\\n"
        b"Transfer-Encoding: chunked\\r\\n\\r\\n"
    )
    rng = random.Random(13)
    pending = b""
    pieces = 0
    for i in range(EVENTS):
        end = ("\\n", "\\r\\n", "\\r")[i % 3]  # every line ending SSE allows
        pending += f"id: {i}{end}data: {i} {PAYLOAD}{end}{end}".encode()
        while len(pending) > 8192 or (i == EVENTS - 1 and pending):
            size = min(len(pending), rng.randrange(1, 8192))
            writer.write(b"%x\\r\\n%s\\r\\n" % (size, pending[:size]))
            pending = pending[size:]
            pieces += 1
            await writer.drain()  # streamed: the server holds at most ~64 KiB
    writer.write(b"0\\r\\n\\r\\n")
    await writer.drain()
    writer.close()
    print("pieces", pieces)


async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    kept = []
    events = ids = size = 0
    async with rawhttp.Session(timeout=rawhttp.Timeout(60.0)) as s:
        async with s.stream("GET", f"http://127.0.0.1:{port}/events") as r:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")  # reset VmHWM to the current RSS
            before = peak_rss()
            async for line in r.iter_lines():
                if KEEP:
                    kept.append(line)
                if line == "":
                    events += 1
                elif line.startswith("id: "):
                    assert int(line[4:]) == ids, (line, ids)
                    ids += 1
                else:
                    assert line == f"data: {events} {PAYLOAD}", line[:40]
                    size += len(line)
            after = peak_rss()
    server.close()
    await server.wait_closed()
    print("result", events, ids, size, after - before, len(kept))


asyncio.run(main())
"""


def test_ten_thousand_server_sent_events_in_constant_memory(tmp_path: pathlib.Path) -> None:
    # What is measured: the growth of this process's peak RSS (VmHWM, reset just
    # before reading) while 10 000 events of 1 KiB (about 10 MiB of text) are read
    # with iter_lines() from a server in the same process sending them in random
    # pieces of 1 B to 8 KiB.  The control run keeps every line in a list: its
    # growth shows that the measure sees 10 MiB held.  Measured (3.11, 2 cores, 3
    # runs): -0.1 to 0.0 MiB dropping the lines (the kernel updates its counters in
    # batches), 11.5 MiB keeping them; 0.2 s for both runs.
    results = {}
    for mode in ("drop", "keep"):
        proc = run_script(tmp_path / f"sse_{mode}.py", SSE_SCRIPT, mode)
        assert proc.returncode == 0, proc.stderr
        words = dict(line.split(" ", 1) for line in proc.stdout.splitlines())
        assert int(words["pieces"]) > 1000
        events, ids, size, growth, kept = map(int, words["result"].split())
        assert (events, ids) == (10_000, 10_000)
        assert size == sum(len(f"data: {i} ") + 1000 for i in range(10_000))
        results[mode] = growth
        assert kept == (30_000 if mode == "keep" else 0)
    assert results["drop"] < 4 * 2**20, f"peak RSS grew by {results['drop'] / 2**20:.1f} MiB"
    assert results["keep"] > 8 * 2**20, f"the control grew by {results['keep'] / 2**20:.1f} MiB"
    print(
        f"SSE peak RSS growth: {results['drop'] / 2**20:.2f} MiB (control keeping the lines: "
        f"{results['keep'] / 2**20:.2f} MiB)"
    )


# -- Response.encoding and default_encoding ---------------------------------------------------


LATIN1 = "caf\u00e9 \u00e0 la cr\u00e8me".encode("latin-1")


def test_encoding_can_be_set_and_takes_effect_after_text() -> None:
    r = response(LATIN1)
    assert r.encoding == "utf-8"
    assert r.text == "caf\ufffd \ufffd la cr\ufffdme"  # a latin-1 page with no charset
    r.encoding = "Latin-1"
    assert r.encoding == "iso8859-1"
    assert r.text == "caf\u00e9 \u00e0 la cr\u00e8me"
    r.encoding = None  # back to the automatic choice
    assert r.encoding == "utf-8"
    declared = response(LATIN1, "text/html; charset=utf-8")
    declared.encoding = "cp1252"  # set wins over the declared charset
    assert declared.text == "caf\u00e9 \u00e0 la cr\u00e8me"


@pytest.mark.parametrize("bad", ["base64", "idna", "no-such-codec", "", "x" * 500])
def test_setting_an_encoding_that_is_no_text_encoding_raises_lookup_error(bad: str) -> None:
    r = response(LATIN1)
    with pytest.raises(LookupError, match="names no text encoding"):
        r.encoding = bad
    assert r.encoding == "utf-8"  # unchanged
    with pytest.raises(TypeError):
        r.encoding = b"utf-8"  # type: ignore[assignment]


async def test_iter_text_uses_a_set_encoding() -> None:
    r = response(LATIN1)
    r.encoding = "latin-1"
    assert "".join(await collect(r.iter_text(2))) == LATIN1.decode("latin-1")


def test_default_encoding_name() -> None:
    assert response(LATIN1, default_encoding="latin-1").text == LATIN1.decode("latin-1")
    # A charset the response names wins; one naming no text encoding does not.
    named = response(LATIN1, "text/plain; charset=utf-8", default_encoding="latin-1")
    assert named.encoding == "utf-8"
    unknown = response(LATIN1, "text/plain; charset=nonsense", default_encoding="latin-1")
    assert unknown.encoding == "iso8859-1"
    # A name of no text encoding falls back to UTF-8, never raises.
    for bad in ("rot13", "no-such-codec", 42):
        assert response(LATIN1, default_encoding=bad).encoding == "utf-8"


def test_default_encoding_callable_is_given_the_body_once() -> None:
    calls: list[bytes] = []

    def detect(content: bytes) -> str:
        calls.append(content)
        return "latin-1"

    r = response(LATIN1, default_encoding=detect)
    assert r.text == LATIN1.decode("latin-1")
    assert r.encoding == "iso8859-1"
    assert calls == [LATIN1]  # asked once, its answer kept


@pytest.mark.parametrize(
    "detect",
    [
        lambda content: 1 / 0,
        lambda content: None,
        lambda content: b"latin-1",
        lambda content: "no-such-codec",
        lambda content: "base64",
    ],
)
def test_a_default_encoding_callable_that_fails_means_utf8(detect: Callable[[bytes], str]) -> None:
    r = response("caf\u00e9".encode(), default_encoding=detect)
    assert r.encoding == "utf-8"
    assert r.text == "caf\u00e9"


async def test_session_default_encoding(raw_server: MakeServer) -> None:
    page = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s" % (
        len(LATIN1),
        LATIN1,
    )
    server = await raw_server(always(page))
    async with rawhttp.Session(timeout=QUICK) as s:
        assert (await s.get(server.url())).text == "caf\ufffd \ufffd la cr\ufffdme"
    async with rawhttp.Session(timeout=QUICK, default_encoding="latin-1") as s:
        r = await s.get(server.url())
        assert r.text == LATIN1.decode("latin-1")
        async with s.stream("GET", server.url()) as streamed:
            assert "".join([t async for t in streamed.iter_text(3)]) == r.text
    seen: list[bytes] = []

    def detect(content: bytes) -> str:
        seen.append(content)
        return "cp1252"

    async with rawhttp.Session(timeout=QUICK, default_encoding=detect) as s:
        assert (await s.get(server.url())).text == LATIN1.decode("cp1252")
        assert seen == [LATIN1]
        assert_clean(s)


async def test_a_default_encoding_callable_gets_the_first_piece_when_streaming(
    raw_server: MakeServer,
) -> None:
    first = "d\u00e9but ".encode("latin-1")
    rest = "et la suite \u00e9t\u00e9\n".encode("latin-1")
    first_read = asyncio.Event()

    async def handler(conn: RawConnection) -> None:
        await conn.read_request()
        await conn.send(chunked_head() + chunk(first))
        await asyncio.wait_for(first_read.wait(), 5)
        await conn.send(chunk(rest) + chunk(b""))
        while await conn.read_request():
            pass

    server = await raw_server(handler)
    seen: list[bytes] = []

    def detect(content: bytes) -> str:
        seen.append(content)
        return "latin-1" if b"\xe9" in content else "utf-8"

    async with rawhttp.Session(timeout=QUICK, default_encoding=detect) as s:
        async with s.stream("GET", server.url()) as r:
            assert r.encoding == "utf-8"  # nothing read: the callable cannot be asked yet
            assert seen == []
            texts = []
            async for text in r.iter_text():
                texts.append(text)
                first_read.set()
            assert seen == [first]  # the first piece, as it arrived
            assert "".join(texts) == (first + rest).decode("latin-1")
            assert r.encoding == "iso8859-1"  # the answer is kept
        assert_clean(s)


def test_session_refuses_a_default_encoding_that_names_nothing() -> None:
    # Checked when the Session is made (a response never raises for it: see above).
    with pytest.raises(LookupError, match="default_encoding"):
        rawhttp.Session(default_encoding="no-such-codec")
    with pytest.raises(LookupError, match="default_encoding"):
        rawhttp.Session(default_encoding="base64")
    with pytest.raises(TypeError, match="default_encoding"):
        rawhttp.Session(default_encoding=b"latin-1")  # type: ignore[arg-type]
    rawhttp.Session(default_encoding="LATIN_1")
    rawhttp.Session(default_encoding=lambda content: "latin-1")
