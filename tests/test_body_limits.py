"""Limits.max_body_size: a body read whole (request(), get(), read(), the blocking API,
replay()) is bounded as received and as decoded, refused with BodyTooLarge and its
connection closed; decoding runs under the total deadline; streaming ignores the limit."""

from __future__ import annotations

import asyncio
import builtins
import gzip
import os
import pathlib
import subprocess
import sys
import textwrap
import time
import zlib
from collections.abc import Awaitable, Callable

import pytest
from conftest import RawConnection, RawServer, assert_clean, read_message, wait_until

import rawhttp
from rawhttp._body_reader import WHOLE_READ, BodyReader
from rawhttp._config import Clock, Timeout
from rawhttp._http11 import receive_head
from rawhttp._reader import Reader

MakeServer = Callable[..., Awaitable[RawServer]]
ROOT = pathlib.Path(rawhttp.__file__).parent.parent
"""Where the rawhttp under test lives: the scripts run in subprocesses import it."""
QUICK = rawhttp.Timeout(5.0)
MIB = 1024 * 1024

STACKED_BOMB = bytes.fromhex(
    "1f8b080000000000020393efe66000012666464ec66fffe4e1dcc9ef9f253030aa3ddb5e2ef68c55fc"
    "d4165b9de8d90bd3966df379b07196fb2c77f1e4efbc13558ece349615bbeb179950d01eecd4efb864"
    "cec28a72e7aca01486ef97b6efb39af6defefc8ffa8bff9e5f56dfb63f6749f1fd1f4fae7e95a9bffb"
    "bfa4aab6a6ee575eea82879cfccb5afde7d7841d5a90757bfdfef5e7b2985a79bceed5ffdef7a6ec41"
    "737b7e5c953d3b9789cc9fbf4f2ff64fbeff43ba5cfeefde4d121a450f1adfecdffbf9d376f323ebeb"
    "ceaffbd727a871e5cfddbb0c4f6e2988a529ec3c207aa693a958e4ce048bc54608c892fa655fadffec"
    "b5bf1f7cbcefde1e1f1fb2eedff76f3fcfdf8e5ffbff73bc67be6df1235e7b66861bfa9f2d95d91918"
    "a2be789ee464646000000777cdf920010000"
)
"""305 bytes that are 1 GiB of zeros under five gzip layers: level 9 over 1 GiB of
zeros streamed in 1 MiB blocks (1043656 bytes), then ``gzip.compress(layer, 9,
mtime=0)`` four times (1827, 265, 288 and 305 bytes).  Kept as bytes: making it
takes 2 s."""


def test_stacked_bomb_is_five_gzip_layers() -> None:
    layer = STACKED_BOMB
    for _ in range(4):
        layer = gzip.decompress(layer)
    assert 1_000_000 < len(layer) < 1_100_000  # the innermost layer: 1 GiB of zeros
    d = zlib.decompressobj(31)
    assert d.decompress(layer, MIB) == bytes(MIB)  # its first MiB, not the rest


def head(coding: str | None = None, **fields: str | int) -> bytes:
    lines = ["HTTP/1.1 200 OK"]
    if coding is not None:
        lines.append(f"Content-Encoding: {coding}")
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in fields.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunked(*pieces: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces if p) + b"0\r\n\r\n"


def fixed(body: bytes, coding: str | None = None) -> bytes:
    return head(coding, Content_Length=len(body)) + body


class Routes:
    """A keep-alive handler answering by request target with bytes, or with a coroutine
    function given the connection; records whether the client closed each connection."""

    def __init__(self) -> None:
        self.routes: dict[str, bytes | Callable[[RawConnection], Awaitable[None]]] = {}
        self.closed_by_client = 0

    async def __call__(self, conn: RawConnection) -> None:
        try:
            while True:
                request, _ = await read_message(conn)
                if not request:
                    break
                answer = self.routes[request.split(b" ")[1].decode()]
                if isinstance(answer, bytes):
                    await conn.send(answer)
                else:
                    await answer(conn)
        except ConnectionError:  # closed by the client while sending
            pass
        self.closed_by_client += 1


@pytest.fixture
async def routes(raw_server: MakeServer) -> tuple[Routes, RawServer]:
    handler = Routes()
    return handler, await raw_server(handler)


def limits(size: int | None) -> rawhttp.Limits:
    return rawhttp.Limits(max_body_size=size)


# -- the setting --------------------------------------------------------------------


def test_max_body_size_default_none_and_replace() -> None:
    assert rawhttp.Limits().max_body_size == 256 * MIB
    assert rawhttp.Limits(max_body_size=None).max_body_size is None
    assert rawhttp.Limits(max_body_size=0).max_body_size == 0
    derived = rawhttp.Limits(max_headers=7)._replace(max_body_size=1000)
    assert (derived.max_body_size, derived.max_headers) == (1000, 7)
    assert derived._replace(max_body_size=None).max_body_size is None
    assert isinstance(derived._replace(max_body_size=None), rawhttp.Limits)
    assert rawhttp.Limits(max_body_size=5) == rawhttp.Limits(max_body_size=5)


@pytest.mark.parametrize("bad", [-1, True, 1.5, "10", [1]])
def test_max_body_size_validation(bad: object) -> None:
    with pytest.raises(ValueError, match="max_body_size must be a non-negative int or None"):
        rawhttp.Limits(max_body_size=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name", ["max_status_line", "max_header_line", "max_headers", "max_chunk_line"]
)
def test_only_max_body_size_accepts_none(name: str) -> None:
    with pytest.raises(ValueError, match=f"{name} must be a non-negative int,"):
        rawhttp.Limits(**{name: None})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=name):
        rawhttp.Limits()._replace(**{name: None})


def test_body_too_large_is_an_error_not_a_transport_error() -> None:
    assert issubclass(rawhttp.BodyTooLarge, rawhttp.Error)
    assert not issubclass(rawhttp.BodyTooLarge, rawhttp.TransportError)
    assert not issubclass(rawhttp.BodyTooLarge, rawhttp.DecodingError)
    err = rawhttp.BodyTooLarge("m", limit=10, size=11)
    assert (err.limit, err.size, str(err)) == (10, 11, "m")


def assert_refused(err: rawhttp.BodyTooLarge, limit: int) -> None:
    assert err.limit == limit
    message = str(err)
    assert "Limits.max_body_size" in message
    assert f"{limit} bytes" in message
    assert f"{err.size} bytes" in message
    assert "Session.stream()" in message
    assert "iter_bytes()" in message


# -- refused bodies -----------------------------------------------------------------


async def test_content_length_over_the_limit_is_refused_before_reading(
    routes: tuple[Routes, RawServer],
) -> None:
    handler, server = routes

    async def stall(conn: RawConnection) -> None:
        # The head says 2 MiB, 10 bytes follow, then nothing: only a refusal made
        # before reading ends this before the read timeout.
        await conn.send(head(Content_Length=2 * MIB) + b"0123456789")

    handler.routes["/big"] = stall
    handler.routes["/ok"] = fixed(b"small")
    async with rawhttp.Session(timeout=QUICK, limits=limits(MIB)) as s:
        start = time.monotonic()
        with pytest.raises(rawhttp.BodyTooLarge) as info:
            await s.get(server.url("/big"))
        assert time.monotonic() - start < 2.0
        assert_refused(info.value, MIB)
        assert info.value.size == 2 * MIB
        assert "declared by Content-Length" in str(info.value)
        assert_clean(s)
        await wait_until(lambda: handler.closed_by_client == 1)
        assert (await s.get(server.url("/ok"))).content == b"small"
    assert server.connections == 2


@pytest.mark.parametrize("framing", ["length", "chunked"])
async def test_identity_body_at_the_limit_and_one_byte_more(
    routes: tuple[Routes, RawServer], framing: str
) -> None:
    handler, server = routes
    limit = 100_000
    for name, size in (("/at", limit), ("/over", limit + 1)):
        body = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
        if framing == "length":
            handler.routes[name] = fixed(body)
        else:
            pieces = [body[i : i + 30_000] for i in range(0, len(body), 30_000)]
            handler.routes[name] = head(Transfer_Encoding="chunked") + chunked(*pieces)
    async with rawhttp.Session(timeout=QUICK, limits=limits(limit)) as s:
        assert len((await s.get(server.url("/at"))).content) == limit
        with pytest.raises(rawhttp.BodyTooLarge) as info:
            await s.get(server.url("/over"))
        assert_refused(info.value, limit)
        assert info.value.size == limit + 1
        assert_clean(s)
        assert len((await s.get(server.url("/at"))).content) == limit
    assert server.connections == 2


async def endless_chunked(conn: RawConnection, piece: bytes, first: bytes = b"") -> None:
    """A chunked body that does not end: up to 512 MiB (a bound for the test), until
    the client closes."""
    await conn.send(head("gzip" if first else None, Transfer_Encoding="chunked"))
    if first:
        await conn.send(b"%x\r\n%s\r\n" % (len(first), first))
    chunk = b"%x\r\n%s\r\n" % (len(piece), piece)
    for _ in range(512 * MIB // len(piece)):
        await conn.send(chunk)


async def test_endless_chunked_body_fails_at_the_limit(routes: tuple[Routes, RawServer]) -> None:
    handler, server = routes

    async def endless(conn: RawConnection) -> None:
        await endless_chunked(conn, b"z" * 65536)

    handler.routes["/"] = endless
    async with rawhttp.Session(timeout=QUICK, limits=limits(4 * MIB)) as s:
        with pytest.raises(rawhttp.BodyTooLarge) as info:
            await s.get(server.url())
        assert_refused(info.value, 4 * MIB)
        assert 4 * MIB < info.value.size <= 4 * MIB + WHOLE_READ
        assert "received so far" in str(info.value)
        assert_clean(s)
    await wait_until(lambda: handler.closed_by_client == 1)


async def test_endless_compressed_body_that_decodes_to_nothing_fails_at_the_limit(
    routes: tuple[Routes, RawServer],
) -> None:
    # Empty gzip members: the decoded body stays empty, so only the count of
    # received bytes can end this.
    handler, server = routes
    member = gzip.compress(b"", mtime=0)

    async def endless(conn: RawConnection) -> None:
        await endless_chunked(conn, member * 3000, first=member)

    handler.routes["/"] = endless
    async with rawhttp.Session(timeout=QUICK, limits=limits(2 * MIB)) as s:
        with pytest.raises(rawhttp.BodyTooLarge) as info:
            await s.get(server.url())
        assert 2 * MIB < info.value.size <= 2 * MIB + WHOLE_READ
        assert_clean(s)


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
async def test_bomb_is_refused_at_the_decoded_limit(
    routes: tuple[Routes, RawServer], coding: str
) -> None:
    import brotli

    try:
        from compression import zstd  # Python 3.14+
    except ImportError:
        from backports import zstd

    encode = {
        "gzip": gzip.compress,
        "deflate": zlib.compress,
        "br": lambda data: brotli.compress(data, quality=1),
        "zstd": zstd.compress,
    }[coding]
    handler, server = routes
    bomb = encode(bytes(64 * MIB))
    assert len(bomb) < 100_000
    limit = 3 * MIB + 5
    handler.routes["/bomb"] = fixed(bomb, coding)
    handler.routes["/at"] = fixed(encode(b"a" * limit), coding)
    handler.routes["/over"] = fixed(encode(b"a" * (limit + 1)), coding)
    async with rawhttp.Session(timeout=QUICK, limits=limits(limit)) as s:
        with pytest.raises(rawhttp.BodyTooLarge) as info:
            await s.get(server.url("/bomb"))
        assert_refused(info.value, limit)
        assert limit < info.value.size <= limit + MIB  # at most one decoded piece more
        assert "decoded so far" in str(info.value)
        assert_clean(s)
        assert (await s.get(server.url("/at"))).content == b"a" * limit
        with pytest.raises(rawhttp.BodyTooLarge):
            await s.get(server.url("/over"))
        async with s.stream("GET", server.url("/bomb")) as r:
            with pytest.raises(rawhttp.BodyTooLarge):
                await r.read()
        assert_clean(s)
    # The three refusals closed their connections (/at left its one for /over).
    await wait_until(lambda: handler.closed_by_client == 3)
    assert server.connections == 3


async def test_default_limit_refuses_a_declared_size_above_256_mib(
    routes: tuple[Routes, RawServer],
) -> None:
    handler, server = routes
    handler.routes["/"] = head(Content_Length=256 * MIB + 1) + b"x" * 1000
    async with rawhttp.Session(timeout=QUICK) as s:  # the default limits
        with pytest.raises(rawhttp.BodyTooLarge) as info:
            await s.get(server.url())
        assert_refused(info.value, 256 * MIB)
        assert info.value.size == 256 * MIB + 1


async def test_no_limit_reads_a_body_of_any_size(routes: tuple[Routes, RawServer]) -> None:
    handler, server = routes
    body = bytes(range(256)) * (8 * MIB // 256)
    handler.routes["/"] = fixed(gzip.compress(body, 1), "gzip")
    async with rawhttp.Session(timeout=QUICK, limits=limits(None)) as s:
        assert (await s.get(server.url())).content == body


async def test_streaming_ignores_the_limit(routes: tuple[Routes, RawServer]) -> None:
    handler, server = routes
    body = bytes(range(256)) * (8 * MIB // 256)
    handler.routes["/gzip"] = fixed(gzip.compress(body, 1), "gzip")
    handler.routes["/plain"] = fixed(body)
    async with rawhttp.Session(timeout=QUICK, limits=limits(MIB)) as s:
        for path in ("/gzip", "/plain"):
            async with s.stream("GET", server.url(path)) as r:
                got = [chunk async for chunk in r.iter_bytes()]
            assert b"".join(got) == body, path
            assert max(map(len, got)) <= 65536
            async with s.stream("GET", server.url(path)) as r:
                assert len(b"".join([c async for c in r.iter_raw()])) <= len(body)
        assert_clean(s)
    assert server.connections == 1


async def test_decoding_error_early_in_a_large_body_closes_the_connection(
    routes: tuple[Routes, RawServer],
) -> None:
    # The body is decoded as it arrives: garbage at its start is reported without
    # reading the 8 MiB after it, and the connection is closed instead.
    handler, server = routes
    handler.routes["/"] = fixed(b"not gzip" + bytes(8 * MIB), "gzip")
    handler.routes["/small"] = fixed(b"not gzip either", "gzip")
    async with rawhttp.Session(timeout=QUICK) as s:
        with pytest.raises(rawhttp.DecodingError):
            await s.get(server.url())
        assert_clean(s)
        await wait_until(lambda: handler.closed_by_client == 1)
        with pytest.raises(rawhttp.DecodingError):
            await s.get(server.url("/small"))
        with pytest.raises(rawhttp.DecodingError):
            await s.get(server.url("/small"))  # the small body was read: reused
        assert_clean(s)
    assert server.connections == 2


# -- the other ways to read a body whole ----------------------------------------------


async def test_blocking_api_refuses_too(routes: tuple[Routes, RawServer]) -> None:
    handler, server = routes
    handler.routes["/"] = fixed(gzip.compress(bytes(4 * MIB)), "gzip")

    def blocking() -> None:
        with pytest.raises(rawhttp.BodyTooLarge) as info:
            rawhttp.get(server.url(), limits=limits(MIB), timeout=QUICK)
        assert_refused(info.value, MIB)
        with (
            rawhttp.SyncSession(limits=limits(MIB), timeout=QUICK) as s,
            s.stream("GET", server.url()) as r,
            pytest.raises(rawhttp.BodyTooLarge),
        ):
            r.read()

    await asyncio.to_thread(blocking)
    await wait_until(lambda: handler.closed_by_client == server.connections)


def test_replay_refuses_too(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "bomb.rawhttp"
    request = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"
    response = fixed(STACKED_BOMB, "gzip, gzip, gzip, gzip, gzip")
    path.write_bytes(
        b"rawhttp-trace 1\n"
        + b"send 1 0.5 %d\n%s\n" % (len(request), request)
        + b"receive 1 0.6 %d\n%s\n" % (len(response), response)
    )
    with pytest.raises(rawhttp.BodyTooLarge) as info:
        rawhttp.replay(path, limits=limits(2 * MIB))
    assert_refused(info.value, 2 * MIB)
    assert rawhttp.replay(path, limits=limits(2 * MIB), decode=False).content == STACKED_BOMB


# -- the total deadline while decoding ------------------------------------------------


async def parsed(data: bytes, limit: int | None) -> tuple[rawhttp.Response, Clock]:
    """A response parsed from ``data`` (all of it already received), and its clock."""
    reader = Reader()
    reader.feed(data)
    reader.feed_eof()
    clock = Clock(Timeout(None))
    head_ = await receive_head(reader, "GET", limits(limit), clock)
    body = BodyReader(reader, head_.framing, limits(limit), clock)
    response = rawhttp.Response(
        status=head_.status,
        reason=head_.reason,
        http_version=head_.http_version,
        headers=head_.headers,
        url="/",
        method="GET",
        body=body,
        on_done=lambda complete: None,
    )
    return response, clock


async def test_total_deadline_is_checked_while_decoding() -> None:
    # The whole body has arrived, so no read waits; decoding the 1 GiB takes seconds
    # and must stop at the deadline, 20 ms from now.
    response, clock = await parsed(fixed(STACKED_BOMB, "gzip, gzip, gzip, gzip, gzip"), None)
    assert clock.loop is asyncio.get_running_loop()
    clock.total_at = clock.loop.time() + 0.02
    start = time.monotonic()
    with pytest.raises(rawhttp.ReadTimeout, match="total timeout expired while decoding"):
        await response.read()
    assert time.monotonic() - start < 0.5
    with pytest.raises(builtins.TimeoutError):
        raise rawhttp.ReadTimeout("also the builtin")


SLOW_DECODE_SCRIPT = textwrap.dedent(
    """
    import asyncio, gzip, sys, time
    import rawhttp

    def peak_rss() -> int:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmHWM")

    async def main() -> None:
        body = gzip.compress(b"", mtime=0) * (64 * 1024 * 1024 // 20)  # 64 MiB, decodes to b""
        head = b"HTTP/1.1 200 OK\\r\\nContent-Encoding: gzip\\r\\nContent-Length: %d\\r\\n\\r\\n"

        async def serve(reader, writer):
            await reader.readuntil(b"\\r\\n\\r\\n")
            try:
                writer.write(head % len(body))
                view = memoryview(body)
                for i in range(0, len(body), 1 << 20):  # no copy of the body in buffers
                    writer.write(view[i : i + (1 << 20)])
                    await writer.drain()
                await reader.read()
            except ConnectionError:
                pass
            writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with rawhttp.Session(timeout=rawhttp.Timeout(10.0, total=0.5)) as s:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            before = peak_rss()
            start = time.monotonic()
            try:
                await s.get(f"http://127.0.0.1:{port}/")
                outcome = "read"
            except rawhttp.ReadTimeout as exc:
                outcome = "ReadTimeout-while-decoding" if "while decoding" in str(exc) else repr(exc)
            elapsed = time.monotonic() - start
            after = peak_rss()
        server.close()
        print(outcome, f"{elapsed:.3f}", after - before)

    asyncio.run(main())
    """
)


def test_total_deadline_bounds_decoding_that_yields_nothing(tmp_path: pathlib.Path) -> None:
    # 64 MiB of empty gzip members: nothing to hold, but seconds of work; the deadline
    # (0.5 s) must end it.  Before: the raw body was read whole (64 MiB), then decoded
    # in one call past any deadline (quadratic: hours).
    script = tmp_path / "slow.py"
    script.write_text(SLOW_DECODE_SCRIPT)
    proc = subprocess.run(
        [sys.executable, "-W", "error", str(script)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    outcome, elapsed, growth = proc.stdout.split()
    assert outcome == "ReadTimeout-while-decoding"
    assert float(elapsed) < 0.5 + 0.5
    assert int(growth) < 16 * MIB
    print(f"empty gzip members under total=0.5: {elapsed} s, RSS +{int(growth) / MIB:.1f} MiB")


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
        bomb = bytes.fromhex(sys.argv[1])
        limit = int(sys.argv[2])
        head = (
            b"HTTP/1.1 200 OK\\r\\nContent-Encoding: gzip, gzip, gzip, gzip, gzip\\r\\n"
            b"Content-Length: %d\\r\\n\\r\\n" % len(bomb)
        )

        async def serve(reader, writer):
            await reader.readuntil(b"\\r\\n\\r\\n")
            writer.write(head + bomb)
            await writer.drain()
            await reader.read()
            writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        limits = rawhttp.Limits(max_body_size=limit)
        async with rawhttp.Session(timeout=rawhttp.Timeout(10.0), limits=limits) as s:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            before = peak_rss()
            start = time.monotonic()
            try:
                await s.get(f"http://127.0.0.1:{port}/")
                outcome = "read"
            except rawhttp.BodyTooLarge as exc:
                outcome = f"BodyTooLarge:{exc.size}"
            elapsed = time.monotonic() - start
            after = peak_rss()
        server.close()
        print(outcome, f"{elapsed:.3f}", after - before)

    asyncio.run(main())
    """
)


def test_stacked_bomb_is_refused_in_bounded_memory(tmp_path: pathlib.Path) -> None:
    # Before: the 305 bytes became 1 GiB of content and about +2 GiB of peak RSS.
    script = tmp_path / "bomb.py"
    script.write_text(BOMB_SCRIPT)
    limit = 32 * MIB
    proc = subprocess.run(
        [sys.executable, "-W", "error", str(script), STACKED_BOMB.hex(), str(limit)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    outcome, elapsed, growth = proc.stdout.split()
    kind, _, size = outcome.partition(":")
    assert kind == "BodyTooLarge"
    assert limit < int(size) <= limit + MIB
    assert int(growth) < limit + 32 * MIB, f"peak RSS grew by {int(growth) / MIB:.1f} MiB"
    print(f"stacked bomb, limit 32 MiB: {elapsed} s, peak RSS +{int(growth) / MIB:.1f} MiB")
