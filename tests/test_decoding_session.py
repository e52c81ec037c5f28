"""Content decoding through a Session: gzip, deflate, br and zstd bodies read whole
and streamed, stacked and broken codings, decode_content=False, and a 512 MiB gzip
bomb streamed in constant memory."""

from __future__ import annotations

import gzip
import itertools
import json
import os
import pathlib
import random
import subprocess
import sys
import textwrap
import zlib
from collections.abc import Awaitable, Callable

import brotli
import pytest
from conftest import RawConnection, RawServer, assert_clean, head_fields, read_message

import rawhttp

try:
    from compression import zstd  # Python 3.14+
except ImportError:
    from backports import zstd

MakeServer = Callable[..., Awaitable[RawServer]]
QUICK = rawhttp.Timeout(5.0)

DATA = b"".join(b"line %06d: the quick brown fox jumps\n" % i for i in range(8000)) + (
    random.Random(7).randbytes(40_000)
)


def raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "x-gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": lambda data: brotli.compress(data, quality=5),
    "zstd": zstd.compress,
}


def response(
    body: bytes, coding: str | None = None, *, status: str = "200 OK", chunked: bool = False
) -> bytes:
    head = f"HTTP/1.1 {status}\r\n"
    if coding is not None:
        head += f"Content-Encoding: {coding}\r\n"
    if chunked:
        rng = random.Random(len(body))
        pieces = []
        i = 0
        while i < len(body):
            n = rng.randint(1, 9000)
            pieces.append(b"%x\r\n" % len(body[i : i + n]) + body[i : i + n] + b"\r\n")
            i += n
        return (
            (head + "Transfer-Encoding: chunked\r\n\r\n").encode()
            + b"".join(pieces)
            + (b"0\r\n\r\n")
        )
    return (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


class Serve:
    """A raw keep-alive handler answering by request target; records request heads."""

    def __init__(self) -> None:
        self.routes: dict[str, bytes] = {}
        self.heads: list[bytes] = []

    async def __call__(self, conn: RawConnection) -> None:
        while True:
            head, _ = await read_message(conn)
            if not head:
                return
            self.heads.append(head)
            target = head.split(b" ")[1].decode()
            await conn.send(self.routes[target])


@pytest.fixture
async def serve(raw_server: MakeServer) -> tuple[Serve, RawServer]:
    handler = Serve()
    return handler, await raw_server(handler)


async def stream_chunks(
    s: rawhttp.Session, url: str, *, raw: bool = False, chunk_size: int = 65536
) -> list[bytes]:
    async with s.stream("GET", url) as r:
        it = r.iter_raw(chunk_size) if raw else r.iter_bytes(chunk_size)
        return [chunk async for chunk in it]


# -- each coding ------------------------------------------------------------------


@pytest.mark.parametrize("coding", list(ENCODERS))
async def test_coding_decoded_whole_and_streamed(
    serve: tuple[Serve, RawServer], coding: str
) -> None:
    handler, server = serve
    encoded = ENCODERS[coding](DATA)
    assert len(encoded) < len(DATA)
    handler.routes["/"] = response(encoded, coding)
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(server.url())
        assert r.content == DATA
        assert r.headers["content-encoding"] == coding  # headers stay as received
        assert r.headers["content-length"] == str(len(encoded))
        chunks = await stream_chunks(s, server.url(), chunk_size=1000)
        assert b"".join(chunks) == DATA
        assert max(len(c) for c in chunks) <= 1000
        assert all(chunks)
        chunks = await stream_chunks(s, server.url())
        assert b"".join(chunks) == DATA
        assert max(len(c) for c in chunks) <= 65536
        raw = await stream_chunks(s, server.url(), raw=True, chunk_size=777)
        assert b"".join(raw) == encoded
        assert max(len(c) for c in raw) <= 777
        assert_clean(s)
    assert server.connections == 1


async def test_raw_deflate_and_multi_member_streams(serve: tuple[Serve, RawServer]) -> None:
    handler, server = serve
    half = len(DATA) // 2
    handler.routes["/raw-deflate"] = response(raw_deflate(DATA), "deflate")
    handler.routes["/gzip-members"] = response(
        gzip.compress(DATA[:half]) + gzip.compress(DATA[half:]), "gzip"
    )
    handler.routes["/zstd-frames"] = response(
        zstd.compress(DATA[:half]) + zstd.compress(DATA[half:]), "zstd"
    )
    async with rawhttp.Session(timeout=QUICK) as s:
        for path in ("/raw-deflate", "/gzip-members", "/zstd-frames"):
            assert (await s.get(server.url(path))).content == DATA, path
            chunks = await stream_chunks(s, server.url(path), chunk_size=4096)
            assert b"".join(chunks) == DATA, path
            assert max(len(c) for c in chunks) <= 4096


async def test_chunked_and_gzip(serve: tuple[Serve, RawServer]) -> None:
    handler, server = serve
    encoded = gzip.compress(DATA)
    handler.routes["/"] = response(encoded, "gzip", chunked=True)
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(server.url())
        assert r.content == DATA
        chunks = await stream_chunks(s, server.url(), chunk_size=5000)
        assert b"".join(chunks) == DATA
        assert max(len(c) for c in chunks) <= 5000
        assert b"".join(await stream_chunks(s, server.url(), raw=True)) == encoded
        assert_clean(s)
    assert server.connections == 1


async def test_stacked_codings(serve: tuple[Serve, RawServer]) -> None:
    handler, server = serve
    gzip_then_br = brotli.compress(gzip.compress(DATA))
    handler.routes["/one-field"] = response(gzip_then_br, "gzip, br")
    two_fields = response(gzip_then_br, "gzip").replace(
        b"Content-Encoding: gzip\r\n", b"Content-Encoding: gzip\r\nContent-Encoding: br\r\n"
    )
    handler.routes["/two-fields"] = two_fields
    three = gzip.compress(zstd.compress(zlib.compress(DATA)))
    handler.routes["/three"] = response(three, "deflate,zstd ,  GZIP", chunked=True)
    handler.routes["/identity"] = response(gzip.compress(DATA), "identity, gzip, identity")
    async with rawhttp.Session(timeout=QUICK) as s:
        for path in ("/one-field", "/two-fields", "/three", "/identity"):
            assert (await s.get(server.url(path))).content == DATA, path
            chunks = await stream_chunks(s, server.url(path), chunk_size=3000)
            assert b"".join(chunks) == DATA, path
            assert max(len(c) for c in chunks) <= 3000, path
        raw = b"".join(await stream_chunks(s, server.url("/one-field"), raw=True))
        assert raw == gzip_then_br
        # The wrong order does not decode.
        handler.routes["/wrong-order"] = response(gzip_then_br, "br, gzip")
        with pytest.raises(rawhttp.DecodingError):
            await s.get(server.url("/wrong-order"))


async def test_up_to_five_codings_and_no_more(serve: tuple[Serve, RawServer]) -> None:
    handler, server = serve
    five = DATA
    for _ in range(5):
        five = gzip.compress(five)
    six = gzip.compress(five)
    handler.routes["/five"] = response(five, ", ".join(["gzip"] * 5))
    handler.routes["/six"] = response(six, ", ".join(["gzip"] * 6))
    handler.routes["/six-fields"] = response(
        gzip.compress(DATA), "gzip, identity, deflate, br, zstd, gzip, x-gzip"
    )
    async with rawhttp.Session(timeout=QUICK) as s:
        assert (await s.get(server.url("/five"))).content == DATA
        for path in ("/six", "/six-fields"):
            with pytest.raises(rawhttp.DecodingError, match="more than 5 content codings"):
                await s.get(server.url(path))
            async with s.stream("GET", server.url(path)) as r:
                with pytest.raises(rawhttp.DecodingError, match="more than 5"):
                    async for _ in r.iter_bytes():
                        pass
        assert_clean(s)
        assert (await s.get(server.url("/five"))).content == DATA


# -- broken or unknown codings ------------------------------------------------------


async def test_corrupt_gzip_is_decoding_error(serve: tuple[Serve, RawServer]) -> None:
    handler, server = serve
    encoded = bytearray(gzip.compress(DATA))
    encoded[len(encoded) // 2 : len(encoded) // 2 + 64] = b"\xff" * 64
    handler.routes["/corrupt"] = response(bytes(encoded), "gzip")
    handler.routes["/not-gzip"] = response(b"plain text, not gzip", "gzip")
    handler.routes["/ok"] = response(b"fine")
    async with rawhttp.Session(timeout=QUICK) as s:
        for path in ("/corrupt", "/not-gzip"):
            with pytest.raises(rawhttp.DecodingError, match="invalid gzip data") as info:
                await s.get(server.url(path))
            assert isinstance(info.value, rawhttp.Error)
            assert not isinstance(info.value, rawhttp.TransportError)
            assert_clean(s)
        # The body was read to its end: the connection was reused.
        assert (await s.get(server.url("/ok"))).content == b"fine"
        assert server.connections == 1
        async with s.stream("GET", server.url("/corrupt")) as r:
            with pytest.raises(rawhttp.DecodingError):
                async for _ in r.iter_bytes(1024):
                    pass
        assert_clean(s)
        assert (await s.get(server.url("/ok"))).content == b"fine"


@pytest.mark.parametrize(
    ("coding", "body", "message"),
    [
        ("gzip", gzip.compress(DATA)[:-20], "ended early"),
        ("deflate", zlib.compress(DATA)[:-20], "ended early"),
        ("br", brotli.compress(DATA, quality=5)[:-20], "ended early"),
        ("zstd", zstd.compress(DATA)[:-20], "ended early"),
        ("deflate", zlib.compress(DATA) + b"junk", "unexpected data"),
        ("zstd", b"\x00" * 100, "invalid zstd"),
        ("br", b"\xff" * 100, "invalid br"),
    ],
    ids=[
        "gzip-truncated",
        "deflate-truncated",
        "br-truncated",
        "zstd-truncated",
        "deflate-trailing",
        "zstd-garbage",
        "br-garbage",
    ],
)
async def test_truncated_or_garbage_bodies(
    serve: tuple[Serve, RawServer], coding: str, body: bytes, message: str
) -> None:
    handler, server = serve
    handler.routes["/"] = response(body, coding)
    async with rawhttp.Session(timeout=QUICK) as s:
        with pytest.raises(rawhttp.DecodingError, match=message):
            await s.get(server.url())
        async with s.stream("GET", server.url()) as r:
            with pytest.raises(rawhttp.DecodingError, match=message):
                async for _ in r.iter_bytes(2048):
                    pass
        assert_clean(s)


async def test_unknown_coding(serve: tuple[Serve, RawServer]) -> None:
    handler, server = serve
    handler.routes["/"] = response(b"compressed with something else", "compress")
    async with rawhttp.Session(timeout=QUICK) as s:
        with pytest.raises(rawhttp.DecodingError, match="unsupported content coding 'compress'"):
            await s.get(server.url())
        assert_clean(s)
        # iter_raw gives the body as received, whatever the coding.
        raw = await stream_chunks(s, server.url(), raw=True, chunk_size=8)
        assert b"".join(raw) == b"compressed with something else"
        async with s.stream("GET", server.url()) as r:
            with pytest.raises(rawhttp.DecodingError, match="unsupported"):
                await r.read()
        async with s.stream("GET", server.url()) as r:
            with pytest.raises(rawhttp.DecodingError, match="unsupported"):
                async for _ in r.iter_bytes():
                    pass
        assert_clean(s)
    async with rawhttp.Session(timeout=QUICK, decode_content=False) as s:
        assert (await s.get(server.url())).content == b"compressed with something else"


async def test_decode_content_false_gives_the_raw_bytes(serve: tuple[Serve, RawServer]) -> None:
    handler, server = serve
    encoded = gzip.compress(DATA)
    handler.routes["/"] = response(encoded, "gzip")
    br = ENCODERS["br"](DATA)
    handler.routes["/br"] = response(br, "br", chunked=True)
    async with rawhttp.Session(timeout=QUICK, decode_content=False) as s:
        r = await s.get(server.url())
        assert r.content == encoded
        assert b"".join(await stream_chunks(s, server.url())) == encoded
        assert b"".join(await stream_chunks(s, server.url(), raw=True)) == encoded
        assert (await s.get(server.url("/br"))).content == br
    for head in handler.heads:
        assert "accept-encoding" not in dict(head_fields(head))


@pytest.mark.parametrize(
    ("method", "status", "extra"),
    [
        ("HEAD", "200 OK", "Content-Length: 1234\r\n"),
        ("HEAD", "200 OK", "Transfer-Encoding: chunked\r\n"),
        ("GET", "204 No Content", ""),
        ("GET", "304 Not Modified", "Content-Length: 1234\r\n"),
        ("GET", "200 OK", "Content-Length: 0\r\n"),
    ],
)
async def test_bodyless_responses_with_content_encoding(
    raw_server: MakeServer, method: str, status: str, extra: str
) -> None:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Encoding: gzip, br, zstd, deflate, gzip, gzip\r\n{extra}\r\n"
    )

    async def handler(conn: RawConnection) -> None:
        while (await read_message(conn))[0]:
            await conn.send(head.encode())

    server = await raw_server(handler)
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.request(method, server.url())
        assert r.content == b""
        async with s.stream(method, server.url()) as r:
            assert [c async for c in r.iter_bytes()] == []
        async with s.stream(method, server.url()) as r:
            assert await r.read() == b""
        assert_clean(s)
    assert server.connections == 1


async def test_json_text_and_read_of_a_decoded_body(serve: tuple[Serve, RawServer]) -> None:
    handler, server = serve
    doc = {"name": "J\u00fcrgen", "items": list(range(1000))}
    body = json.dumps(doc).encode()
    handler.routes["/json"] = response(gzip.compress(body), "gzip").replace(
        b"\r\n\r\n", b"\r\nContent-Type: application/json; charset=utf-8\r\n\r\n", 1
    )
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(server.url("/json"))
        assert r.json() == doc
        assert r.text == body.decode()
        async with s.stream("GET", server.url("/json")) as r:
            assert await r.read() == body
            # After read(), iter_bytes and iter_raw replay the decoded content.
            assert b"".join([c async for c in r.iter_bytes(100)]) == body
            assert b"".join([c async for c in r.iter_raw(100)]) == body


# -- a gzip bomb in constant memory -------------------------------------------------

BOMB_SIZE = 512 * 1024 * 1024


@pytest.fixture(scope="module")
def bomb_path(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """512 MiB of zeros, gzip level 9 (about 0.5 MiB), generated once per module."""
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1024 * 1024)
    parts = [c.compress(block) for _ in range(BOMB_SIZE // len(block))]
    parts.append(c.flush())
    path = tmp_path_factory.mktemp("bomb") / "bomb.gz"
    path.write_bytes(b"".join(parts))
    return path


BOMB_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys, time
    import rawhttp

    def peak_rss() -> int:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmHWM")

    async def main() -> None:
        with open(sys.argv[1], "rb") as f:
            bomb = f.read()
        head = b"HTTP/1.1 200 OK\\r\\nContent-Encoding: gzip\\r\\nContent-Length: %d\\r\\n\\r\\n"

        async def serve(reader, writer):
            await reader.readuntil(b"\\r\\n\\r\\n")
            writer.write(head % len(bomb) + bomb)
            await writer.drain()
            await reader.read()  # until the client closes
            writer.close()
            await writer.wait_closed()

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        total = chunks = largest = 0
        async with rawhttp.Session(timeout=rawhttp.Timeout(30.0)) as s:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")  # reset VmHWM to the current RSS
            before = peak_rss()
            start = time.perf_counter()
            async with s.stream("GET", f"http://127.0.0.1:{port}/bomb") as r:
                async for chunk in r.iter_bytes():
                    total += len(chunk)
                    chunks += 1
                    largest = max(largest, len(chunk))
            elapsed = time.perf_counter() - start
            after = peak_rss()
        server.close()
        await server.wait_closed()
        print(total, chunks, largest, after - before, f"{elapsed:.2f}")

    asyncio.run(main())
    """
)


def test_gzip_bomb_streams_in_constant_memory(
    bomb_path: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    # Measured on the 2-core CI box: about 1.5 s to stream, peak RSS growth about 1 MiB.
    assert bomb_path.stat().st_size < 1024 * 1024
    script = tmp_path / "bomb.py"
    script.write_text(BOMB_SCRIPT)
    proc = subprocess.run(
        [sys.executable, "-W", "error", str(script), str(bomb_path)],
        # the rawhttp under test, not whichever one the interpreter would find
        env={**os.environ, "PYTHONPATH": str(pathlib.Path(rawhttp.__file__).parent.parent)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    total, chunks, largest, growth, elapsed = proc.stdout.split()
    assert int(total) == BOMB_SIZE
    assert int(largest) <= 64 * 1024
    assert int(chunks) >= BOMB_SIZE // (64 * 1024)
    assert int(growth) < 64 * 1024 * 1024, f"peak RSS grew by {int(growth) / 2**20:.1f} MiB"
    print(f"512 MiB gzip bomb: {elapsed} s, peak RSS growth {int(growth) / 2**20:.2f} MiB")


# -- input cut anywhere: zstd frames and raw deflate in pieces ------------------------

SMALL = b"a small body, decoded in pieces of one byte. " * 20


def chunked_at(body: bytes, cuts: list[int], coding: str) -> bytes:
    """A chunked response whose chunks end exactly at ``cuts`` (so pieces end there)."""
    bounds = [0, *cuts, len(body)]
    chunks = [body[a:b] for a, b in itertools.pairwise(bounds) if b > a]
    return (
        (
            f"HTTP/1.1 200 OK\r\nContent-Encoding: {coding}\r\nTransfer-Encoding: chunked\r\n\r\n"
        ).encode()
        + b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks)
        + b"0\r\n\r\n"
    )


def zstd_frames(*parts: bytes) -> tuple[bytes, list[int]]:
    """The frames of ``parts`` one after another, and where each frame ends."""
    frames = [zstd.compress(p) for p in parts]
    ends = [sum(map(len, frames[: i + 1])) for i in range(len(frames))]
    return b"".join(frames), ends


async def test_zstd_frames_arriving_in_separate_pieces(serve: tuple[Serve, RawServer]) -> None:
    # The second frame in a later piece raised the builtin EOFError from iter_bytes().
    handler, server = serve
    third = len(DATA) // 3
    three, ends = zstd_frames(DATA[:third], DATA[third : 2 * third], DATA[2 * third :])
    cases = {
        "/at-first-end": ends[:1],
        "/at-both-ends": ends[:2],
        "/after-first-end": [ends[0] + 1],
        "/before-and-at-end": [ends[0] - 1, ends[0]],
    }
    for path, cuts in cases.items():
        handler.routes[path] = chunked_at(three, cuts, "zstd")
    with_empty, empty_ends = zstd_frames(b"", DATA[:third], b"", DATA[third:], b"")
    handler.routes["/empty-frames"] = chunked_at(with_empty, empty_ends, "zstd")
    async with rawhttp.Session(timeout=QUICK) as s:
        for path in [*cases, "/empty-frames"]:
            assert (await s.get(server.url(path))).content == DATA, path
            for size in (1000, 65536):
                chunks = await stream_chunks(s, server.url(path), chunk_size=size)
                assert b"".join(chunks) == DATA, (path, size)
        assert_clean(s)
    assert server.connections == 1


async def test_zstd_frames_one_byte_at_a_time_under_gzip(serve: tuple[Serve, RawServer]) -> None:
    handler, server = serve
    frames, _ = zstd_frames(SMALL[:100], SMALL[100:], b"")
    handler.routes["/zstd"] = response(frames, "zstd")
    handler.routes["/zstd-gzip"] = chunked_at(gzip.compress(frames), [1, 2], "zstd, gzip")
    async with rawhttp.Session(timeout=QUICK) as s:
        for path in ("/zstd", "/zstd-gzip"):
            chunks = await stream_chunks(s, server.url(path), chunk_size=1)
            assert b"".join(chunks) == SMALL, path
            assert (await s.get(server.url(path))).content == SMALL, path


async def test_raw_deflate_with_a_short_first_piece(serve: tuple[Serve, RawServer]) -> None:
    # A 1-byte first piece made raw deflate be refused ("invalid deflate data").
    handler, server = serve
    raw, wrapped = raw_deflate(SMALL), zlib.compress(SMALL)
    handler.routes["/raw"] = response(raw, "deflate")
    handler.routes["/raw-1-byte-chunk"] = chunked_at(raw, [1, 2], "deflate")
    handler.routes["/zlib-1-byte-chunk"] = chunked_at(wrapped, [1], "deflate")
    handler.routes["/raw-under-gzip"] = response(gzip.compress(raw), "deflate, gzip")
    handler.routes["/raw-under-raw"] = chunked_at(raw_deflate(raw), [1], "deflate, deflate")
    async with rawhttp.Session(timeout=QUICK) as s:
        for path in list(handler.routes):
            assert (await s.get(server.url(path))).content == SMALL, path
            for size in (1, 2, 3, 65536):
                chunks = await stream_chunks(s, server.url(path), chunk_size=size)
                assert b"".join(chunks) == SMALL, (path, size)
                assert max(map(len, chunks)) <= size
        assert_clean(s)
    assert server.connections == 1


async def test_br_data_after_its_end_in_a_later_piece(serve: tuple[Serve, RawServer]) -> None:
    handler, server = serve
    body = brotli.compress(SMALL)
    handler.routes["/"] = chunked_at(body + b"junk", [len(body)], "br")
    async with rawhttp.Session(timeout=QUICK) as s:
        with pytest.raises(rawhttp.DecodingError, match="after the end of the br stream"):
            await s.get(server.url())
        async with s.stream("GET", server.url()) as r:
            with pytest.raises(rawhttp.DecodingError, match="after the end"):
                async for _ in r.iter_bytes(7):
                    pass
        assert_clean(s)
