"""rawhttp under uvloop (``uvloop.run()``): its receive path (rawhttp/_open.py,
_protocol.py, _reader.py) uses only public loop and transport methods, so every kind
of connection works unchanged there: plain, chunked, TLS, a CONNECT tunnel (TLS inside
it, through ``loop.start_tls``), a Unix socket, ``trace=``, timings, Expect:
100-continue, flow control on a large body.

Each test runs its own servers inside the uvloop loop it creates (the shared
``raw_server`` fixture lives on pytest-asyncio's loop), every one on loopback or a
Unix socket in a temporary directory, and every wait bounded."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import trustme
from conftest import head_fields, server_context

import rawhttp

uvloop = pytest.importorskip(
    "uvloop", reason="uvloop is not installed (the test extra and bench/setup.sh install it)"
)

QUICK = rawhttp.Timeout(5.0)
LIMIT = 20.0
"""Seconds a whole test may take inside uvloop.run()."""
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
)

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def run(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run ``main()`` under uvloop, bounded by LIMIT, and check that it really ran there."""

    async def bounded() -> None:
        loop = asyncio.get_running_loop()
        assert isinstance(loop, uvloop.Loop), type(loop)
        async with asyncio.timeout(LIMIT):
            await main()

    uvloop.run(bounded())


async def read_head(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return b""


def answering(
    response: bytes, seen: list[bytes], *, send_continue: bool = False, bodies: int = 0
) -> Handler:
    """A keep-alive handler: each request head (and its Content-Length body) is
    recorded in ``seen`` and answered with ``response``; with ``send_continue`` a
    request that expects 100-continue gets 100 Continue first."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            for _ in range(20):
                head = await read_head(reader)
                if not head:
                    return
                fields = dict(head_fields(head))
                if send_continue and fields.get("expect", "").lower() == "100-continue":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                body = await reader.readexactly(int(fields.get("content-length", "0")))
                seen.append(head + body)
                writer.write(response)
                await writer.drain()
        finally:
            writer.close()

    return handler


async def serve(handler: Handler, **kwargs: Any) -> tuple[asyncio.Server, int]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0, **kwargs)
    return server, server.sockets[0].getsockname()[1]


async def close(server: asyncio.Server) -> None:
    server.close()
    await server.wait_closed()


def test_runs_on_uvloop_and_plain_get() -> None:
    seen: list[bytes] = []

    async def main() -> None:
        server, port = await serve(answering(OK, seen))
        try:
            async with rawhttp.Session(timeout=QUICK) as s:
                first = await s.get(f"http://127.0.0.1:{port}/a")
                second = await s.get(f"http://127.0.0.1:{port}/b")
            assert (first.status, first.content, second.content) == (200, b"ok", b"ok")
            assert second.timings.reused
        finally:
            await close(server)

    run(main)
    assert [h.split(b"\r\n")[0] for h in seen] == [b"GET /a HTTP/1.1", b"GET /b HTTP/1.1"]


def test_chunked_body_and_stream() -> None:
    seen: list[bytes] = []

    async def main() -> None:
        server, port = await serve(answering(CHUNKED, seen))
        try:
            async with rawhttp.Session(timeout=QUICK) as s:
                r = await s.get(f"http://127.0.0.1:{port}/")
                assert r.content == b"hello world"
                async with s.stream("GET", f"http://127.0.0.1:{port}/") as st:
                    pieces = [p async for p in st.iter_bytes()]
                assert b"".join(pieces) == b"hello world"
        finally:
            await close(server)

    run(main)
    assert len(seen) == 2


def test_large_body_with_flow_control() -> None:
    """8 MiB streamed while the consumer sleeps now and then: the reader pauses the
    transport past its high-water mark and resumes it (uvloop's pause/resume)."""
    body = bytes(range(256)) * (8 * 4096)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body))
        writer.write(body)
        await writer.drain()
        writer.close()

    async def main() -> None:
        server, port = await serve(handler)
        try:
            got = bytearray()
            async with (
                rawhttp.Session(timeout=QUICK) as s,
                s.stream("GET", f"http://127.0.0.1:{port}/") as r,
            ):
                async for piece in r.iter_bytes():
                    got += piece
                    if len(got) < 2 * 1024 * 1024:
                        await asyncio.sleep(0.001)  # let the buffer fill and pause
            assert got == body
        finally:
            await close(server)

    run(main)


def test_tls(ca: trustme.CA, tmp_path: Path) -> None:
    seen: list[bytes] = []
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))

    async def main() -> None:
        server, port = await serve(answering(CHUNKED, seen), ssl=server_context(ca))
        try:
            async with rawhttp.Session(timeout=QUICK, verify=str(ca_file)) as s:
                first = await s.get(f"https://127.0.0.1:{port}/")
                second = await s.get(f"https://127.0.0.1:{port}/")
            assert first.content == second.content == b"hello world"
            assert first.timings.tls > 0.0
            assert second.timings.reused
        finally:
            await close(server)

    run(main)
    assert len(seen) == 2


def test_tls_through_a_connect_tunnel(ca: trustme.CA, tmp_path: Path) -> None:
    """https through a raw loopback proxy: CONNECT, then TLS on the open stream
    (``loop.start_tls`` on uvloop's transport), then two requests inside."""
    seen: list[bytes] = []
    connects: list[bytes] = []
    ports: list[int] = []
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))

    async def main() -> None:
        origin, origin_port = await serve(answering(OK, seen), ssl=server_context(ca))
        ports.append(origin_port)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            finally:
                dst.close()

        async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            head = await read_head(reader)
            connects.append(head)
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", origin_port)
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

        proxy_server, proxy_port = await serve(proxy)
        try:
            async with rawhttp.Session(
                timeout=QUICK,
                verify=str(ca_file),
                proxy=f"http://127.0.0.1:{proxy_port}",
                trust_env=False,
            ) as s:
                first = await s.get(f"https://127.0.0.1:{origin_port}/one")
                second = await s.get(f"https://127.0.0.1:{origin_port}/two")
            assert first.content == second.content == b"ok"
            assert second.timings.reused
        finally:
            await close(proxy_server)
            await close(origin)

    run(main)
    assert len(connects) == 1
    assert connects[0].startswith(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\n" % ports[0])
    assert [h.split(b"\r\n")[0] for h in seen] == [b"GET /one HTTP/1.1", b"GET /two HTTP/1.1"]


def test_unix_socket(tmp_path: Path) -> None:
    seen: list[bytes] = []
    path = str(tmp_path / "s.sock")

    async def main() -> None:
        server = await asyncio.start_unix_server(answering(CHUNKED, seen), path)
        try:
            async with rawhttp.Session(timeout=QUICK, unix_socket=path) as s:
                r = await s.get("http://svc/health")
                assert r.content == b"hello world"
        finally:
            await close(server)

    run(main)
    assert seen
    assert seen[0].startswith(b"GET /health HTTP/1.1\r\nHost: svc\r\n")


def test_trace_and_timings() -> None:
    seen: list[bytes] = []
    events: list[rawhttp.TraceEvent] = []

    async def main() -> None:
        server, port = await serve(answering(CHUNKED, seen))
        try:
            async with rawhttp.Session(timeout=QUICK, trace=events.append) as s:
                r = await s.post(f"http://127.0.0.1:{port}/x", content=b"body")
            assert r.content == b"hello world"
            t = r.timings
            assert t.bytes_received == len(CHUNKED)
            assert t.bytes_sent == len(seen[0])
            assert t.total is not None
            assert t.total >= t.first_byte > 0.0
        finally:
            await close(server)

    run(main)
    kinds = [e.kind for e in events]
    assert kinds[0] == "connect"
    assert b"".join(e.data for e in events if e.kind == "receive") == CHUNKED
    assert b"".join(e.data for e in events if e.kind == "send") == seen[0]


def test_expect_100_continue() -> None:
    """A body of 2 MiB waits for 100 Continue, then goes; the final answer is read."""
    seen: list[bytes] = []
    body = b"x" * (2 * 1024 * 1024)

    async def main() -> None:
        server, port = await serve(answering(OK, seen, send_continue=True))
        try:
            async with rawhttp.Session(timeout=QUICK) as s:
                r = await s.put(f"http://127.0.0.1:{port}/up", content=body)
            assert (r.status, r.content) == (200, b"ok")
        finally:
            await close(server)

    run(main)
    head, _, sent = seen[0].partition(b"\r\n\r\n")
    assert dict(head_fields(head + b"\r\n\r\n")).get("expect") == "100-continue"
    assert sent == body


def test_ssl_context_object_as_verify(ca: trustme.CA) -> None:
    """verify= an SSLContext (no file) works the same under uvloop."""
    seen: list[bytes] = []
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)

    async def main() -> None:
        server, port = await serve(answering(OK, seen), ssl=server_context(ca))
        try:
            async with rawhttp.Session(timeout=QUICK, verify=ctx) as s:
                r = await s.get(f"https://127.0.0.1:{port}/")
            assert r.content == b"ok"
        finally:
            await close(server)

    run(main)
    assert len(seen) == 1
