"""Session over real loopback sockets, against a server replaying exact bytes."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable

import pytest
from conftest import (
    Handler,
    RawConnection,
    RawServer,
    always,
    assert_clean,
    idle_connections,
    refused_port,
    replay,
    wait_until,
)

import rawhttp
from rawhttp._connection import Connection

MakeServer = Callable[..., Awaitable[RawServer]]

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
QUICK = rawhttp.Timeout(5.0)


def by_index(*handlers: Handler, rest: Handler | None = None) -> Handler:
    """The n-th connection (1-based) is handled by ``handlers[n - 1]``, later ones by ``rest``."""

    async def handler(conn: RawConnection) -> None:
        if conn.index <= len(handlers):
            await handlers[conn.index - 1](conn)
        else:
            await (rest or always(OK))(conn)

    return handler


async def stall(conn: RawConnection) -> None:
    await asyncio.sleep(30)  # cancelled when the server closes


def stall_after(sent: bytes = b"") -> Handler:
    """Read one request, send ``sent`` (part of a response, or nothing), then stall."""

    async def handler(conn: RawConnection) -> None:
        await conn.read_request()
        if sent:
            await conn.send(sent)
        await stall(conn)

    return handler


def answer_then(first: bytes, then: Callable[[RawConnection], Awaitable[None]]) -> Handler:
    """Answer the first request with ``first``, then read the next request and run ``then``."""

    async def handler(conn: RawConnection) -> None:
        if not await conn.read_request():
            return
        await conn.send(first)
        if not await conn.read_request():
            return
        await then(conn)

    return handler


async def close_now(conn: RawConnection) -> None:
    conn.close()


async def reset_now(conn: RawConnection) -> None:
    conn.reset()


async def cancel_then_recover(s: rawhttp.Session, task: asyncio.Task[object], url: str) -> None:
    """Cancel ``task`` (a request): its connection is closed, nothing is left in use,
    and the next request to ``url`` gets through."""
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert s.pool.connections == 0
    assert_clean(s)
    assert (await s.get(url, timeout=1.0)).content == b"hello"


async def drain(
    s: rawhttp.Session, url: str, chunk_size: int = 65536, into: list[bytes] | None = None
) -> bytes:
    """Stream a GET and iterate its body to the end."""
    got = [] if into is None else into
    async with s.stream("GET", url) as r:
        async for chunk in r.iter_bytes(chunk_size):
            got.append(chunk)
    return b"".join(got)


# -- keep-alive ------------------------------------------------------------


async def test_keep_alive_reuses_one_connection(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))
    async with rawhttp.Session(timeout=QUICK) as s:
        for _ in range(5):
            r = await s.get(server.url("/x"))
            assert r.status == 200
            assert r.content == b"hello"
        assert_clean(s)
        assert s.pool.connections == 1
    assert server.connections == 1
    assert len(server.requests) == 5
    assert all(req.startswith(b"GET /x HTTP/1.1\r\n") for req in server.requests)


async def test_request_bytes_on_the_wire(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))
    async with rawhttp.Session(timeout=QUICK) as s:
        await s.post(server.url("/p?q=1"), content=b"abc", headers={"X-Test": "yes"})
    req = server.requests[0]
    head, _, body = req.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /p?q=1 HTTP/1.1"
    assert lines[1] == f"Host: 127.0.0.1:{server.port}".encode()
    assert b"X-Test: yes" in lines
    assert b"Content-Length: 3" in lines
    assert body == b"abc"


async def test_connection_close_response_is_not_reused(raw_server: MakeServer) -> None:
    response = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
    server = await raw_server(always(response))  # the server would even keep it open
    async with rawhttp.Session(timeout=QUICK) as s:
        for _ in range(3):
            r = await s.get(server.url())
            assert r.content == b"ok"
        assert s.pool.connections == 0
        assert_clean(s)
    assert server.connections == 3


async def test_request_connection_close_is_not_reused(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))
    async with rawhttp.Session(timeout=QUICK) as s:
        for _ in range(2):
            r = await s.get(server.url(), headers={"Connection": "close"})
            assert r.content == b"hello"
        assert s.pool.connections == 0
    assert server.connections == 2


async def test_http10_response_is_not_reused(raw_server: MakeServer) -> None:
    response = b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"
    server = await raw_server(always(response))
    async with rawhttp.Session(timeout=QUICK) as s:
        for _ in range(3):
            r = await s.get(server.url())
            assert r.http_version == "HTTP/1.0"
            assert r.content == b"ok"
        assert s.pool.connections == 0
    assert server.connections == 3


async def test_http10_keep_alive_response_is_reused(raw_server: MakeServer) -> None:
    response = b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok"
    server = await raw_server(always(response))
    async with rawhttp.Session(timeout=QUICK) as s:
        for _ in range(3):
            assert (await s.get(server.url())).content == b"ok"
    assert server.connections == 1


async def test_close_delimited_body_is_read_to_eof(raw_server: MakeServer) -> None:
    body = b"x" * 100_000 + b"END"
    server = await raw_server(replay(b"HTTP/1.1 200 OK\r\n\r\n" + body, close=True))
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(server.url())
        assert r.content == body
        r = await s.get(server.url())
        assert r.content == body
        assert s.pool.connections == 0
    assert server.connections == 2


async def test_close_delimited_body_streamed(raw_server: MakeServer) -> None:
    body = bytes(range(256)) * 1000
    server = await raw_server(replay(b"HTTP/1.1 200 OK\r\n\r\n" + body, close=True))
    async with rawhttp.Session(timeout=QUICK) as s, s.stream("GET", server.url()) as r:
        chunks = [c async for c in r.iter_bytes(4096)]
    assert b"".join(chunks) == body
    assert all(0 < len(c) <= 4096 for c in chunks)


# -- bodies that end early ---------------------------------------------------


@pytest.mark.parametrize(
    "response",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 3000000\r\n\r\n" + b"a" * 1_500_000,
    ],
    ids=["short", "empty", "large"],
)
async def test_body_shorter_than_content_length(raw_server: MakeServer, response: bytes) -> None:
    server = await raw_server(replay(response, close=True))
    async with rawhttp.Session(timeout=QUICK) as s:
        with pytest.raises(rawhttp.ProtocolError) as info:
            await s.get(server.url())
        assert isinstance(info.value, rawhttp.Error)
        with pytest.raises(rawhttp.ProtocolError):
            await drain(s, server.url())
        assert s.pool.connections == 0
        assert_clean(s)


async def test_short_body_via_stream_read(raw_server: MakeServer) -> None:
    server = await raw_server(
        replay(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhel", close=True)
    )
    async with rawhttp.Session(timeout=QUICK) as s:
        with pytest.raises(rawhttp.ProtocolError):
            async with s.stream("GET", server.url()) as r:
                await r.read()
        assert_clean(s)
        assert s.pool.connections == 0


@pytest.mark.parametrize(
    "body",
    [
        b"5\r\nhello\r\n",  # no last chunk
        b"a\r\nhel",  # cut inside chunk data
        b"5\r\nhel",  # cut inside the last chunk to read
        b"5\r\nhello\r\n0\r\n",  # no end of trailer section
        b"5\r\nhello\r\n0\r\nX-T: 1\r\n",  # trailers cut off
        b"5\r\nhello\r\n5",  # cut inside a size line
        b"",  # nothing at all
    ],
)
async def test_chunked_body_cut_off(raw_server: MakeServer, body: bytes) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    server = await raw_server(replay(head + body, close=True))
    async with rawhttp.Session(timeout=QUICK) as s:
        with pytest.raises(rawhttp.ProtocolError) as info:
            await s.get(server.url())
        assert isinstance(info.value, rawhttp.Error)
        with pytest.raises(rawhttp.ProtocolError):
            await drain(s, server.url(), 2)
        assert_clean(s)
        assert s.pool.connections == 0


async def test_reset_mid_body_then_session_still_works(raw_server: MakeServer) -> None:
    async def reset_mid_body(conn: RawConnection) -> None:
        await conn.read_request()
        await conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
        await asyncio.sleep(0.05)
        conn.reset()

    server = await raw_server(by_index(reset_mid_body, reset_mid_body))
    async with rawhttp.Session(timeout=QUICK, max_connections=1) as s:
        with pytest.raises((rawhttp.ReadError, rawhttp.ProtocolError)) as info:
            await s.get(server.url())
        assert isinstance(info.value, rawhttp.Error)
        with pytest.raises((rawhttp.ReadError, rawhttp.ProtocolError)):
            await drain(s, server.url())
        assert_clean(s)
        r = await s.get(server.url())
        assert r.content == b"hello"
    assert server.connections == 3


async def test_server_closes_without_response(raw_server: MakeServer) -> None:
    async def read_and_close(conn: RawConnection) -> None:
        await conn.read_request()

    server = await raw_server(read_and_close)
    async with rawhttp.Session(timeout=QUICK) as s:
        for method in ("GET", "POST"):
            with pytest.raises(rawhttp.ProtocolError) as info:
                await s.request(method, server.url())
            assert isinstance(info.value, rawhttp.Error)
            assert "without sending a response" in str(info.value)
        assert_clean(s)
        assert s.pool.connections == 0
    # A fresh connection failing is not retried.
    assert server.connections == 2


async def test_server_closes_in_the_middle_of_the_head(raw_server: MakeServer) -> None:
    server = await raw_server(replay(b"HTTP/1.1 200 OK\r\nContent-Le", close=True))
    async with rawhttp.Session(timeout=QUICK) as s:
        with pytest.raises(rawhttp.ProtocolError):
            await s.get(server.url())
    server2 = await raw_server(replay(b"HTTP/1.1 20", close=True))
    async with rawhttp.Session(timeout=QUICK) as s:
        with pytest.raises(rawhttp.ProtocolError):
            await s.get(server2.url())
    assert server.connections == 1
    assert server2.connections == 1


async def test_garbage_response_is_protocol_error(raw_server: MakeServer) -> None:
    server = await raw_server(replay(b"SSH-2.0-OpenSSH_9.0\r\n\r\n", close=True))
    async with rawhttp.Session(timeout=QUICK) as s:
        with pytest.raises(rawhttp.ProtocolError):
            await s.get(server.url())
        assert_clean(s)


# -- timeouts ----------------------------------------------------------------


async def test_stall_after_headers_read_timeout(raw_server: MakeServer) -> None:
    server = await raw_server(stall_after(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhel"))
    async with rawhttp.Session(timeout=rawhttp.Timeout(5.0, read=0.3)) as s:
        start = time.monotonic()
        with pytest.raises(rawhttp.ReadTimeout) as info:
            await s.get(server.url())
        elapsed = time.monotonic() - start
        assert isinstance(info.value, rawhttp.Error)
        assert isinstance(info.value, TimeoutError)
        assert 0.25 <= elapsed < 3.0
        assert_clean(s)
        assert s.pool.connections == 0


async def test_stall_after_headers_while_streaming(raw_server: MakeServer) -> None:
    server = await raw_server(
        stall_after(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
    )
    async with rawhttp.Session(timeout=rawhttp.Timeout(5.0, read=0.3)) as s:
        got: list[bytes] = []
        start = time.monotonic()
        with pytest.raises(rawhttp.ReadTimeout):
            await drain(s, server.url(), into=got)
        elapsed = time.monotonic() - start
        assert got == [b"abc"]
        assert 0.25 <= elapsed < 3.0
        assert_clean(s)


async def test_stall_before_headers_read_timeout(raw_server: MakeServer) -> None:
    server = await raw_server(stall_after())
    async with rawhttp.Session(timeout=rawhttp.Timeout(5.0, read=0.3)) as s:
        start = time.monotonic()
        with pytest.raises(rawhttp.ReadTimeout):
            await s.get(server.url())
        assert 0.25 <= time.monotonic() - start < 3.0
        assert_clean(s)
        assert s.pool.connections == 0


async def test_stall_inside_headers_read_timeout(raw_server: MakeServer) -> None:
    server = await raw_server(stall_after(b"HTTP/1.1 200 OK\r\nX-A: 1\r\n"))
    async with rawhttp.Session(timeout=rawhttp.Timeout(5.0, read=0.3)) as s:
        start = time.monotonic()
        with pytest.raises(rawhttp.ReadTimeout):
            await s.get(server.url())
        assert 0.25 <= time.monotonic() - start < 3.0


async def test_per_request_timeout_overrides_session_timeout(raw_server: MakeServer) -> None:
    server = await raw_server(stall_after())
    async with rawhttp.Session(timeout=30.0) as s:
        start = time.monotonic()
        with pytest.raises(rawhttp.ReadTimeout):
            await s.get(server.url(), timeout=0.3)
        assert 0.25 <= time.monotonic() - start < 3.0


def trickle(head: bytes, body: bytes, piece: int, every: float) -> Handler:
    """Answer each request with ``head``, then ``body`` in pieces, one every ``every`` s."""

    async def handler(conn: RawConnection) -> None:
        while await conn.read_request():
            await conn.send(head)
            for i in range(0, len(body), piece):
                await asyncio.sleep(every)
                await conn.send(body[i : i + piece])

    return handler


async def test_trickle_slower_than_total_deadline(raw_server: MakeServer) -> None:
    body = b"x" * 100
    server = await raw_server(
        trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", body, 1, 0.05)
    )
    async with rawhttp.Session(timeout=rawhttp.Timeout(5.0, read=1.0, total=0.5)) as s:
        start = time.monotonic()
        with pytest.raises(rawhttp.TimeoutError) as info:
            await s.get(server.url())
        elapsed = time.monotonic() - start
        assert isinstance(info.value, rawhttp.Error)
        assert 0.45 <= elapsed < 3.0
        # Streaming is bounded by the same total deadline.
        start = time.monotonic()
        with pytest.raises(rawhttp.TimeoutError):
            await drain(s, server.url(), 1)
        assert 0.45 <= time.monotonic() - start < 3.0
        assert_clean(s)


async def test_trickle_of_head_slower_than_total_deadline(raw_server: MakeServer) -> None:
    head = b"HTTP/1.1 200 OK\r\n" + b"X-Pad: abcdefgh\r\n" * 20 + b"Content-Length: 0\r\n\r\n"
    server = await raw_server(trickle(b"", head, 4, 0.03))
    async with rawhttp.Session(timeout=rawhttp.Timeout(5.0, read=1.0, total=0.4)) as s:
        start = time.monotonic()
        with pytest.raises(rawhttp.TimeoutError):
            await s.get(server.url())
        assert 0.35 <= time.monotonic() - start < 3.0


async def test_read_timeout_applies_to_each_wait_for_bytes(raw_server: MakeServer) -> None:
    """A steady body that takes longer than ``read`` overall, but never pauses that long."""
    body = bytes(range(200))
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n"
    server = await raw_server(trickle(head, body, 20, 0.08))  # about 0.8 s in all
    async with rawhttp.Session(timeout=rawhttp.Timeout(5.0, read=0.4)) as s:
        r = await s.get(server.url())
        assert r.content == body
        async with s.stream("GET", server.url()) as r:
            assert b"".join([c async for c in r.iter_bytes()]) == body


async def test_read_timeout_applies_to_each_wait_for_chunked_bytes(raw_server: MakeServer) -> None:
    body = b"a" * 200
    chunked = b"c8\r\n" + body + b"\r\n0\r\n\r\n"
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    server = await raw_server(trickle(head, chunked, 20, 0.08))
    async with rawhttp.Session(timeout=rawhttp.Timeout(5.0, read=0.4)) as s:
        r = await s.get(server.url())
        assert r.content == body


async def test_write_timeout_when_server_does_not_read(raw_server: MakeServer) -> None:
    async def handler(conn: RawConnection) -> None:
        await conn.reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(30)

    server = await raw_server(handler)
    async with rawhttp.Session(timeout=rawhttp.Timeout(5.0, write=0.3)) as s:
        start = time.monotonic()
        with pytest.raises(rawhttp.WriteTimeout) as info:
            await s.put(server.url(), content=b"x" * (64 * 1024 * 1024))
        assert isinstance(info.value, rawhttp.Error)
        assert 0.25 <= time.monotonic() - start < 5.0
        assert_clean(s)
        assert s.pool.connections == 0


async def test_connect_timeout_during_tls_handshake(raw_server: MakeServer) -> None:
    # A plain TCP server that never answers: the TLS handshake never completes.
    server = await raw_server(stall)
    async with rawhttp.Session(timeout=rawhttp.Timeout(5.0, connect=0.3), verify=False) as s:
        start = time.monotonic()
        with pytest.raises(rawhttp.ConnectTimeout) as info:
            await s.get(server.url(scheme="https"))
        assert isinstance(info.value, rawhttp.Error)
        assert 0.25 <= time.monotonic() - start < 3.0
        assert s.pool.connections == 0
        assert_clean(s)


async def test_refused_port_is_connect_error_quickly() -> None:
    port = refused_port()
    async with rawhttp.Session(timeout=rawhttp.Timeout(10.0)) as s:
        start = time.monotonic()
        with pytest.raises(rawhttp.ConnectError) as info:
            await s.get(f"http://127.0.0.1:{port}/")
        assert time.monotonic() - start < 2.0
        assert not isinstance(info.value, rawhttp.TimeoutError)
        assert isinstance(info.value, rawhttp.Error)
        assert "refused" in str(info.value)
        assert s.pool.connections == 0
        assert_clean(s)


# -- stale connections and retries -------------------------------------------


async def test_stale_pooled_connection_is_not_used(raw_server: MakeServer) -> None:
    # The server answers one request per connection, then closes it (an idle timeout).
    server = await raw_server(replay(OK, close=True))
    async with rawhttp.Session(timeout=QUICK) as s:
        assert (await s.get(server.url())).content == b"hello"
        await wait_until(lambda: server.open_now == 0)
        await asyncio.sleep(0.05)  # let the client see the FIN
        assert (await s.get(server.url())).content == b"hello"
        await wait_until(lambda: server.open_now == 0)
        await asyncio.sleep(0.05)
        # POST is never retried: it can only succeed if the stale connection is not used.
        r = await s.post(server.url(), content=b"data")
        assert r.content == b"hello"
        assert_clean(s)
    assert server.connections == 3
    assert len(server.requests) == 3
    assert server.requests[2].endswith(b"\r\n\r\ndata")


async def test_idle_connection_past_keepalive_expiry_is_replaced(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))
    async with rawhttp.Session(timeout=QUICK, keepalive_expiry=0.1) as s:
        await s.get(server.url())
        await s.get(server.url())
        assert server.connections == 1
        await asyncio.sleep(0.25)
        await s.get(server.url())
        assert s.pool.connections == 1
    assert server.connections == 2


async def test_get_retried_once_when_reused_connection_closes(raw_server: MakeServer) -> None:
    server = await raw_server(by_index(answer_then(OK, close_now)))
    async with rawhttp.Session(timeout=QUICK) as s:
        assert (await s.get(server.url("/1"))).content == b"hello"
        r = await s.get(server.url("/2"))
        assert r.content == b"hello"
        assert_clean(s)
        assert s.pool.connections == 1
    assert server.connections == 2
    assert [req.split(b" ")[1] for req in server.requests] == [b"/1", b"/2", b"/2"]


async def test_get_retried_once_when_reused_connection_is_reset(raw_server: MakeServer) -> None:
    server = await raw_server(by_index(answer_then(OK, reset_now)))
    async with rawhttp.Session(timeout=QUICK) as s:
        await s.get(server.url())
        r = await s.get(server.url())
        assert r.content == b"hello"
        assert_clean(s)
    assert server.connections == 2


@pytest.mark.parametrize("method", ["PUT", "DELETE", "HEAD", "OPTIONS"])
async def test_other_idempotent_methods_are_retried(raw_server: MakeServer, method: str) -> None:
    server = await raw_server(by_index(answer_then(OK, close_now)))
    async with rawhttp.Session(timeout=QUICK) as s:
        await s.get(server.url())
        r = await s.request(method, server.url())
        assert r.status == 200
    assert server.connections == 2


@pytest.mark.parametrize("then", [close_now, reset_now], ids=["close", "reset"])
@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_post_is_not_retried(raw_server: MakeServer, then: Handler, method: str) -> None:
    server = await raw_server(by_index(answer_then(OK, then)))
    async with rawhttp.Session(timeout=QUICK) as s:
        await s.get(server.url())
        with pytest.raises((rawhttp.ProtocolError, rawhttp.ReadError)) as info:
            await s.request(method, server.url(), content=b"once")
        assert isinstance(info.value, rawhttp.Error)
        assert_clean(s)
        assert s.pool.connections == 0
        # The session still works.
        assert (await s.get(server.url())).content == b"hello"
    assert server.connections == 2
    assert sum(req.startswith(method.encode()) for req in server.requests) == 1


async def test_retry_happens_only_once(raw_server: MakeServer) -> None:
    async def read_and_close(conn: RawConnection) -> None:
        await conn.read_request()

    server = await raw_server(by_index(answer_then(OK, close_now), rest=read_and_close))
    async with rawhttp.Session(timeout=QUICK) as s:
        await s.get(server.url())
        with pytest.raises(rawhttp.ProtocolError):
            await s.get(server.url())
        assert_clean(s)
        assert s.pool.connections == 0
    assert server.connections == 2


async def test_no_retry_after_part_of_a_response(raw_server: MakeServer) -> None:
    async def partial(conn: RawConnection) -> None:
        conn.writer.write(b"HTTP/1.1 200 OK\r\n")
        conn.close()

    server = await raw_server(by_index(answer_then(OK, partial)))
    async with rawhttp.Session(timeout=QUICK) as s:
        await s.get(server.url())
        with pytest.raises(rawhttp.ProtocolError):
            await s.get(server.url())
    assert server.connections == 1


# -- the pool from the outside -----------------------------------------------


async def test_pool_timeout_when_the_only_connection_is_held(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))
    timeout = rawhttp.Timeout(5.0, pool=0.3)
    async with rawhttp.Session(timeout=timeout, max_connections=1) as s:
        async with s.stream("GET", server.url()) as held:
            assert held.status == 200
            start = time.monotonic()
            with pytest.raises(rawhttp.PoolTimeout) as info:
                await s.get(server.url())
            elapsed = time.monotonic() - start
            assert isinstance(info.value, rawhttp.Error)
            assert isinstance(info.value, rawhttp.TimeoutError)
            assert 0.25 <= elapsed < 3.0
            assert s.pool.waiting == 0
            assert s.pool.connections == 1
            await held.read()
        r = await s.get(server.url())
        assert r.content == b"hello"
        assert_clean(s)
    assert server.connections == 1


async def test_waiting_request_gets_connection_when_stream_ends(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))
    async with rawhttp.Session(timeout=QUICK, max_connections=1) as s:
        async with s.stream("GET", server.url()) as held:
            task = asyncio.create_task(s.get(server.url()))
            await wait_until(lambda: s.pool.waiting == 1)
            assert not task.done()
            await held.read()
        r = await asyncio.wait_for(task, 3.0)
        assert r.content == b"hello"
        assert_clean(s)
    assert server.connections == 1


async def test_max_connections_never_exceeded_under_load(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK, delay=0.01))
    async with rawhttp.Session(timeout=QUICK, max_connections=5) as s:
        seen: list[int] = []

        async def sample() -> None:
            for _ in range(10_000):
                seen.append(s.pool.connections)
                assert s.pool.in_use <= 5
                await asyncio.sleep(0)

        sampler = asyncio.create_task(sample())
        results = await asyncio.gather(*(s.get(server.url(f"/{i}")) for i in range(50)))
        sampler.cancel()
        await asyncio.gather(sampler, return_exceptions=True)
        assert [r.content for r in results] == [b"hello"] * 50
        assert max(seen) <= 5
        assert_clean(s)
    assert server.max_open <= 5
    assert 2 <= server.connections <= 5
    assert len(server.requests) == 50


async def test_max_connections_over_several_origins(raw_server: MakeServer) -> None:
    servers = [await raw_server(always(OK, delay=0.005)) for _ in range(3)]
    async with rawhttp.Session(timeout=QUICK, max_connections=2) as s:
        peak = 0

        async def one(i: int) -> bytes:
            nonlocal peak
            r = await s.get(servers[i % 3].url())
            peak = max(peak, s.pool.connections, s.pool.in_use)
            return r.content

        results = await asyncio.gather(*(one(i) for i in range(30)))
        assert results == [b"hello"] * 30
        assert peak <= 2
        assert s.pool.connections <= 2
        assert_clean(s)
    assert sum(len(srv.requests) for srv in servers) == 30


# -- cancellation ------------------------------------------------------------


def slow_body_handler() -> Handler:
    """Answers after a short random delay, with a body sent in pieces."""
    rng = random.Random(1)

    async def handler(conn: RawConnection) -> None:
        while await conn.read_request():
            await asyncio.sleep(rng.random() * 0.01)
            await conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n")
            for _ in range(3):
                await asyncio.sleep(rng.random() * 0.005)
                await conn.send(b"0123456789")

    return handler


@pytest.mark.parametrize("seed", range(4))
async def test_cancellation_at_random_points_leaks_nothing(
    raw_server: MakeServer, seed: int
) -> None:
    server = await raw_server(slow_body_handler())
    rng = random.Random(seed)
    async with rawhttp.Session(timeout=QUICK, max_connections=2) as s:

        async def use(i: int) -> None:
            if i % 3 == 0:
                async with s.stream("GET", server.url()) as r:
                    async for _ in r.iter_bytes(7):
                        pass
            else:
                r = await s.get(server.url())
                assert r.content == b"0123456789" * 3

        tasks = [asyncio.create_task(use(i)) for i in range(30)]
        for task in tasks:
            await asyncio.sleep(rng.random() * 0.004)
            if rng.random() < 0.7:
                task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            assert result is None or isinstance(result, asyncio.CancelledError), repr(result)
        assert any(isinstance(r, asyncio.CancelledError) for r in results)
        assert_clean(s)
        assert s.pool.connections <= 2
        # Both slots are still usable: concurrent requests succeed (no PoolTimeout).
        short = rawhttp.Timeout(2.0)
        again = await asyncio.gather(*(s.get(server.url(), timeout=short) for _ in range(6)))
        assert all(r.content == b"0123456789" * 3 for r in again)
        assert_clean(s)


async def test_cancel_while_waiting_for_the_pool(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))
    async with rawhttp.Session(timeout=QUICK, max_connections=1) as s:
        async with s.stream("GET", server.url()) as held:
            task = asyncio.create_task(s.get(server.url()))
            await wait_until(lambda: s.pool.waiting == 1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert s.pool.waiting == 0
            assert s.pool.connections == 1
            await held.read()
        assert_clean(s)
        assert (await s.get(server.url(), timeout=1.0)).content == b"hello"
    assert server.connections == 1


async def test_cancel_after_connection_handed_to_waiter(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))
    async with rawhttp.Session(timeout=QUICK, max_connections=1) as s:
        async with s.stream("GET", server.url()) as held:
            task = asyncio.create_task(s.get(server.url()))
            await wait_until(lambda: s.pool.waiting == 1)
            await held.read()  # hands the connection to the waiter's future
            task.cancel()  # before the waiting task got to run
        with pytest.raises(asyncio.CancelledError):
            await task
        assert_clean(s)
        assert s.pool.connections == 1
        assert (await s.get(server.url(), timeout=1.0)).content == b"hello"
    assert server.connections == 1


async def test_cancel_while_connecting(raw_server: MakeServer) -> None:
    server = await raw_server(stall)  # TLS handshake never completes
    async with rawhttp.Session(timeout=QUICK, max_connections=1, verify=False) as s:
        task = asyncio.create_task(s.get(server.url(scheme="https")))
        await wait_until(lambda: server.connections == 1)
        await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert s.pool.connections == 0
        assert_clean(s)
        # The slot was released: a plain request goes through.
        ok = await raw_server(always(OK))
        assert (await s.get(ok.url(), timeout=1.0)).content == b"hello"


async def test_cancel_while_waiting_for_headers(raw_server: MakeServer) -> None:
    server = await raw_server(by_index(stall_after()))
    async with rawhttp.Session(timeout=QUICK, max_connections=1) as s:
        task = asyncio.create_task(s.get(server.url()))
        await wait_until(lambda: len(server.requests) == 1)
        await cancel_then_recover(s, task, server.url())
    assert server.connections == 2


async def test_cancel_while_reading_the_body(raw_server: MakeServer) -> None:
    server = await raw_server(
        by_index(stall_after(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"))
    )
    async with rawhttp.Session(timeout=QUICK, max_connections=1) as s:
        task = asyncio.create_task(s.get(server.url()))
        await wait_until(lambda: len(server.requests) == 1)
        await asyncio.sleep(0.05)
        await cancel_then_recover(s, task, server.url())
    assert server.connections == 2


async def test_cancel_while_iterating_a_stream(raw_server: MakeServer) -> None:
    server = await raw_server(
        by_index(stall_after(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"))
    )
    async with rawhttp.Session(timeout=QUICK, max_connections=1) as s:
        got: list[bytes] = []

        async def consume() -> None:
            async with s.stream("GET", server.url()) as r:
                async for chunk in r.iter_bytes():
                    got.append(chunk)

        task = asyncio.create_task(consume())
        await wait_until(lambda: got == [b"abc"])
        await cancel_then_recover(s, task, server.url())


# -- request validation: nothing is sent -------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"headers": {"X-A": "a\r\nX-Injected: 1"}}, rawhttp.InvalidRequest),
        ({"headers": {"X-A": "a\nb"}}, rawhttp.InvalidRequest),
        ({"headers": {"X-A": "a\rb"}}, rawhttp.InvalidRequest),
        ({"headers": {"X-A": "a\x00b"}}, rawhttp.InvalidRequest),
        ({"headers": {"Bad Name": "x"}}, rawhttp.InvalidRequest),
        ({"headers": {"X-A\r\n": "x"}}, rawhttp.InvalidRequest),
        ({"path": "/a\r\nX-Injected: 1"}, rawhttp.InvalidURL),
        ({"path": "/a b\n"}, rawhttp.InvalidURL),
        ({"path": "/\x00"}, rawhttp.InvalidURL),
        ({"path": "/?q=\x7f"}, rawhttp.InvalidURL),
        ({"method": "GET /x"}, rawhttp.InvalidRequest),
        ({"method": "GE\r\nT"}, rawhttp.InvalidRequest),
        ({"method": "CONNECT"}, rawhttp.InvalidRequest),
        ({"content": 123}, rawhttp.InvalidRequest),
        ({"content": b"abc", "headers": {"Content-Length": "5"}}, rawhttp.InvalidRequest),
    ],
)
async def test_invalid_request_sends_nothing(
    raw_server: MakeServer, kwargs: dict[str, object], error: type[Exception]
) -> None:
    received: list[bytes] = []

    async def record(conn: RawConnection) -> None:
        received.append(await conn.reader.read())

    server = await raw_server(record)
    kwargs = dict(kwargs)
    method = kwargs.pop("method", "POST")
    path = kwargs.pop("path", "/")
    async with rawhttp.Session(timeout=QUICK) as s:
        with pytest.raises(error) as info:
            await s.request(method, server.url() + str(path)[1:], **kwargs)  # type: ignore[arg-type]
        assert isinstance(info.value, rawhttp.Error)
        assert isinstance(info.value, ValueError)
        with pytest.raises(error):
            async with s.stream(method, server.url() + str(path)[1:], **kwargs):  # type: ignore[arg-type]
                pass
        assert s.pool.connections == 0
        assert_clean(s)
    await asyncio.sleep(0.05)
    assert server.connections == 0
    assert received == []


async def test_invalid_request_on_a_pooled_connection_sends_nothing(
    raw_server: MakeServer,
) -> None:
    server = await raw_server(always(OK))
    async with rawhttp.Session(timeout=QUICK) as s:
        await s.get(server.url())
        with pytest.raises(rawhttp.InvalidRequest):
            await s.get(server.url(), headers=[("X", "1\r\n\r\nGET /evil HTTP/1.1")])
        assert (await s.get(server.url())).content == b"hello"
        assert_clean(s)
    assert server.connections == 1
    assert len(server.requests) == 2
    assert not any(b"evil" in req for req in server.requests)


# -- streaming ---------------------------------------------------------------

BIG = bytes(range(256)) * 400  # 102400 bytes


async def test_stream_iter_bytes_bounded_chunks(raw_server: MakeServer) -> None:
    response = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BIG) + BIG
    server = await raw_server(always(response))
    async with rawhttp.Session(timeout=QUICK) as s:
        for size in (1000, 4096, 65536, 1_000_000):
            async with s.stream("GET", server.url()) as r:
                assert r.status == 200
                with pytest.raises(rawhttp.ResponseNotRead):
                    _ = r.content
                chunks = [c async for c in r.iter_bytes(size)]
            assert b"".join(chunks) == BIG
            assert all(0 < len(c) <= size for c in chunks)
        # Default chunk size is bounded too.
        async with s.stream("GET", server.url()) as r:
            chunks = [c async for c in r.iter_bytes()]
        assert max(len(c) for c in chunks) <= 64 * 1024
        assert b"".join(chunks) == BIG
        assert_clean(s)
    assert server.connections == 1


async def test_stream_chunked_body_bounded_chunks(raw_server: MakeServer) -> None:
    chunked = b"".join(b"%x\r\n" % len(p) + p + b"\r\n" for p in (BIG[:50000], BIG[50000:]))
    response = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked + b"0\r\n\r\n"
    server = await raw_server(always(response))
    async with rawhttp.Session(timeout=QUICK) as s:
        async with s.stream("GET", server.url()) as r:
            chunks = [c async for c in r.iter_bytes(3000)]
        assert b"".join(chunks) == BIG
        assert all(0 < len(c) <= 3000 for c in chunks)
        r = await s.get(server.url())
        assert r.content == BIG
    assert server.connections == 1


async def test_stream_read(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))
    async with rawhttp.Session(timeout=QUICK) as s:
        async with s.stream("GET", server.url()) as r:
            assert await r.read() == b"hello"
            assert r.content == b"hello"
            assert await r.read() == b"hello"
            # iter_bytes after read() replays the content.
            assert [c async for c in r.iter_bytes(2)] == [b"he", b"ll", b"o"]
        async with s.stream("GET", server.url()) as r:
            pass
        assert_clean(s)
    assert server.connections == 1


async def test_leaving_stream_early_closes_the_connection(raw_server: MakeServer) -> None:
    response = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BIG) + BIG
    server = await raw_server(always(response))
    async with rawhttp.Session(timeout=QUICK) as s:
        async with s.stream("GET", server.url()) as r:
            async for chunk in r.iter_bytes(1000):
                assert chunk == BIG[:1000]
                break
        assert s.pool.connections == 0
        assert_clean(s)
        async with s.stream("GET", server.url()) as r:
            pass  # body never read
        assert s.pool.connections == 0
        r = await s.get(server.url())
        assert r.content == BIG
        assert s.pool.connections == 1
    assert server.connections == 3


async def test_iter_bytes_after_early_exit_raises(raw_server: MakeServer) -> None:
    response = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BIG) + BIG
    server = await raw_server(always(response))
    async with rawhttp.Session(timeout=QUICK) as s:
        async with s.stream("GET", server.url()) as r:
            pass
        with pytest.raises(rawhttp.ResponseNotRead):
            async for _ in r.iter_bytes():
                pass
        with pytest.raises(rawhttp.ResponseNotRead):
            r.iter_raw()  # raised when the stream is asked for, not at its first piece
        with pytest.raises(rawhttp.ResponseNotRead):
            await r.read()
        assert r.is_closed
        with pytest.raises(rawhttp.ResponseNotRead):
            _ = r.content


async def test_read_after_full_iteration_raises(raw_server: MakeServer) -> None:
    response = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BIG) + BIG
    server = await raw_server(always(response))
    async with rawhttp.Session(timeout=QUICK) as s:
        async with s.stream("GET", server.url()) as r:
            assert b"".join([c async for c in r.iter_bytes()]) == BIG
            # The body went to the caller; read() must not pretend it was empty.
            with pytest.raises(rawhttp.ResponseNotRead):
                await r.read()
        assert_clean(s)
        assert s.pool.connections == 1


async def test_read_after_partial_iteration_raises(raw_server: MakeServer) -> None:
    response = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BIG) + BIG
    server = await raw_server(always(response))
    async with rawhttp.Session(timeout=QUICK) as s:
        async with s.stream("GET", server.url()) as r:
            it = r.iter_bytes(100)
            assert await it.__anext__() == BIG[:100]
            with pytest.raises(rawhttp.ResponseNotRead):
                await r.read()
            await it.aclose()
        assert_clean(s)


async def test_trailers(raw_server: MakeServer) -> None:
    response = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"
        b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Checksum: abc\r\nX-Other: 2\r\n\r\n"
    )
    server = await raw_server(always(response))
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(server.url())
        assert r.content == b"hello world"
        assert r.trailers["x-checksum"] == "abc"
        assert r.trailers["X-Other"] == "2"
        assert "x-checksum" not in r.headers
        async with s.stream("GET", server.url()) as r:
            assert len(r.trailers) == 0
            assert b"".join([c async for c in r.iter_bytes()]) == b"hello world"
            assert r.trailers["x-checksum"] == "abc"
        assert_clean(s)
    assert server.connections == 1


async def test_chunked_without_trailers_has_empty_trailers(raw_server: MakeServer) -> None:
    response = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
    server = await raw_server(always(response))
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(server.url())
        assert r.content == b"ok"
        assert len(r.trailers) == 0


# -- responses without a body -------------------------------------------------


def by_method(responses: dict[bytes, bytes]) -> Handler:
    async def handler(conn: RawConnection) -> None:
        while request := await conn.read_request():
            await conn.send(responses[request.split(b" ", 1)[0]])

    return handler


@pytest.mark.parametrize(
    ("method", "response"),
    [
        ("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"),
        ("HEAD", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
        ("GET", b"HTTP/1.1 204 No Content\r\nContent-Length: 1000\r\n\r\n"),
        ("GET", b"HTTP/1.1 304 Not Modified\r\nContent-Length: 1000\r\n\r\n"),
        ("GET", b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"),
        ("GET", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ],
)
async def test_responses_without_body_are_not_read_and_reused(
    raw_server: MakeServer, method: str, response: bytes
) -> None:
    server = await raw_server(by_method({method.encode(): response, b"POST": OK}))
    async with rawhttp.Session(timeout=rawhttp.Timeout(5.0, read=1.0)) as s:
        start = time.monotonic()
        r = await s.request(method, server.url())
        assert r.content == b""
        async with s.stream(method, server.url()) as r:
            assert [c async for c in r.iter_bytes()] == []
        # The next response on the same connection is read correctly.
        r2 = await s.post(server.url())
        assert r2.content == b"hello"
        assert time.monotonic() - start < 0.9
        assert_clean(s)
    assert server.connections == 1


async def test_informational_responses_are_skipped(raw_server: MakeServer) -> None:
    response = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    )
    server = await raw_server(always(response))
    async with rawhttp.Session(timeout=QUICK) as s:
        for _ in range(2):
            r = await s.get(server.url())
            assert r.status == 200
            assert r.content == b"ok"
            assert "link" not in r.headers
    assert server.connections == 1


async def test_too_many_informational_responses(raw_server: MakeServer) -> None:
    response = (
        b"HTTP/1.1 100 Continue\r\n\r\n" * 4 + b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    )
    server = await raw_server(always(response))
    limits = rawhttp.Limits(max_informational=3)
    async with rawhttp.Session(timeout=QUICK, limits=limits) as s:
        with pytest.raises(rawhttp.ProtocolError, match="1xx"):
            await s.get(server.url())
        assert_clean(s)
    async with rawhttp.Session(timeout=QUICK, limits=rawhttp.Limits(max_informational=4)) as s:
        assert (await s.get(server.url())).status == 200


async def test_unrequested_101_is_protocol_error(raw_server: MakeServer) -> None:
    response = (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    )
    server = await raw_server(always(response))
    async with rawhttp.Session(timeout=QUICK) as s:
        with pytest.raises(rawhttp.ProtocolError, match="101") as info:
            await s.get(server.url())
        assert isinstance(info.value, rawhttp.Error)
        assert s.pool.connections == 0
        assert_clean(s)


# -- Response conveniences ----------------------------------------------------


async def test_response_attributes_and_repr(raw_server: MakeServer) -> None:
    server = await raw_server(
        by_method(
            {
                b"GET": b"HTTP/1.1 200 OK\r\nX-A: 1\r\nX-A: 2\r\nContent-Length: 2\r\n\r\nok",
                b"PUT": b"HTTP/1.1 201\r\nContent-Length: 0\r\n\r\n",
            }
        )
    )
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(server.url("/path?x=1"))
        assert repr(r) == "<Response [200 OK]>"
        assert r.status == 200
        assert r.reason == "OK"
        assert r.http_version == "HTTP/1.1"
        assert r.method == "GET"
        assert r.url == f"http://127.0.0.1:{server.port}/path?x=1"
        assert r.headers.get_all("x-a") == ["1", "2"]
        assert r.is_success
        assert not r.is_redirect
        assert r.is_closed
        r = await s.put(server.url())
        assert repr(r) == "<Response [201]>"
        assert r.reason == ""


async def test_connection_repr(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))
    async with rawhttp.Session(timeout=QUICK) as s:
        await s.get(server.url())
        (conn,) = idle_connections(s)
        assert isinstance(conn, Connection)
        assert repr(conn) == f"<Connection http://127.0.0.1:{server.port} idle requests=1>"
        await s.get(server.url())
        assert repr(conn) == f"<Connection http://127.0.0.1:{server.port} idle requests=2>"
        async with s.stream("GET", server.url()) as r:
            assert repr(conn) == f"<Connection http://127.0.0.1:{server.port} active requests=3>"
            assert "in_use=1" in repr(s)
            await r.read()
        assert repr(s) == "<Session open connections=1/100 idle=1 in_use=0 waiting=0>"
    assert repr(conn) == f"<Connection http://127.0.0.1:{server.port} closed requests=3>"
    assert repr(s).startswith("<Session closed")


@pytest.mark.parametrize(
    ("status", "kind"), [(404, "client error"), (418, "client error"), (500, "server error")]
)
async def test_raise_for_status(raw_server: MakeServer, status: int, kind: str) -> None:
    response = b"HTTP/1.1 %d Oops\r\nContent-Length: 4\r\n\r\nnope" % status
    server = await raw_server(always(response))
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(server.url("/missing"))
        assert r.status == status
        assert not r.is_success
        with pytest.raises(rawhttp.HTTPStatusError) as info:
            r.raise_for_status()
        assert info.value.response is r
        assert isinstance(info.value, rawhttp.Error)
        assert str(status) in str(info.value)
        assert kind in str(info.value)
        assert "/missing" in str(info.value)
        assert r.content == b"nope"


async def test_raise_for_status_success_returns_response(raw_server: MakeServer) -> None:
    response = b"HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n"
    server = await raw_server(by_method({b"GET": OK, b"POST": response}))
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(server.url())
        assert r.raise_for_status() is r
        r = await s.post(server.url())
        assert r.status == 302  # redirects are not followed by request()
        assert r.is_redirect
        assert r.raise_for_status() is r


async def test_json_and_text(raw_server: MakeServer) -> None:
    payload = b'{"a": [1, 2], "b": "\xc3\xa9"}'
    responses = {
        b"GET": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
        % len(payload)
        + payload,
        b"POST": b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=ISO-8859-1\r\n"
        b"Content-Length: 4\r\n\r\ncaf\xe9",
        b"PUT": b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n{bad",
        b"PATCH": b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=nope\r\n"
        b"Content-Length: 3\r\n\r\n\xffok",
    }
    server = await raw_server(by_method(responses))
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(server.url())
        assert r.json() == {"a": [1, 2], "b": "é"}
        assert r.text == '{"a": [1, 2], "b": "é"}'
        assert r.encoding == "utf-8"
        r = await s.post(server.url())
        assert r.encoding == "iso8859-1"
        assert r.text == "café"
        r = await s.put(server.url())
        with pytest.raises(rawhttp.DecodingError):
            r.json()
        r = await s.patch(server.url())
        assert r.encoding == "utf-8"
        assert r.text == "\ufffdok"
    assert server.connections == 1


async def test_content_as_str_is_utf8(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))
    async with rawhttp.Session(timeout=QUICK) as s:
        await s.post(server.url(), content="é")
    assert server.requests[0].endswith(b"Content-Length: 2\r\n\r\n\xc3\xa9")


async def test_empty_post_sends_content_length_zero(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))
    async with rawhttp.Session(timeout=QUICK) as s:
        await s.post(server.url())
        await s.get(server.url())
    assert b"Content-Length: 0\r\n" in server.requests[0]
    assert b"Content-Length" not in server.requests[1]


async def test_session_default_headers_and_override(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))
    async with rawhttp.Session(timeout=QUICK, headers={"X-Default": "1", "Accept": "text/x"}) as s:
        await s.get(server.url())
        await s.get(server.url(), headers={"x-default": "2"})
    first, second = server.requests
    assert b"X-Default: 1\r\n" in first
    assert b"Accept: text/x\r\n" in first
    assert b"Accept: */*" not in first
    assert b"User-Agent: rawhttp/" in first
    assert b"X-Default: 1" not in second
    assert b"x-default: 2\r\n" in second


async def test_userinfo_becomes_basic_auth(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(f"http://user:p%40ss@127.0.0.1:{server.port}/")
        assert "user" not in r.url
    assert b"Authorization: Basic dXNlcjpwQHNz\r\n" in server.requests[0]


# -- closing the session -------------------------------------------------------


async def test_aclose_closes_everything_and_later_use_raises(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))
    s = rawhttp.Session(timeout=QUICK)
    async with s:
        await asyncio.gather(*(s.get(server.url()) for _ in range(3)))
        assert s.pool.idle >= 1
        assert server.open_now >= 1
        assert not s.is_closed
    assert s.is_closed
    assert s.pool.connections == 0
    await wait_until(lambda: server.open_now == 0)
    for call in (
        lambda: s.get(server.url()),
        lambda: s.post(server.url(), content=b"x"),
    ):
        with pytest.raises(rawhttp.Error) as info:
            await call()
        assert type(info.value) is rawhttp.Error
        assert "closed" in str(info.value)
    with pytest.raises(rawhttp.Error):
        async with s.stream("GET", server.url()):
            pass
    await s.aclose()  # idempotent
    assert len(server.requests) == 3


async def test_aclose_closes_connections_in_use(raw_server: MakeServer) -> None:
    async def handler(conn: RawConnection) -> None:
        await conn.read_request()
        await conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc")
        await conn.reader.read()  # until the client closes

    server = await raw_server(handler)
    s = rawhttp.Session(timeout=QUICK)
    async with s:
        async with s.stream("GET", server.url()) as r:
            await s.aclose()
            await wait_until(lambda: server.open_now == 0)
            with pytest.raises(rawhttp.Error) as info:
                await r.read()
            assert isinstance(info.value, rawhttp.TransportError)
        assert s.pool.connections == 0
        assert s.pool.in_use == 0


async def test_aclose_while_request_in_flight(raw_server: MakeServer) -> None:
    server = await raw_server(stall_after())
    async with rawhttp.Session(timeout=QUICK) as s:
        task = asyncio.create_task(s.get(server.url()))
        await wait_until(lambda: len(server.requests) == 1)
        await s.aclose()
        with pytest.raises(rawhttp.Error):
            await asyncio.wait_for(task, 3.0)
        assert s.pool.connections == 0
        assert s.pool.in_use == 0


async def test_aclose_wakes_requests_waiting_for_the_pool(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))
    async with rawhttp.Session(timeout=rawhttp.Timeout(5.0, pool=4.0), max_connections=1) as s:
        async with s.stream("GET", server.url()):
            task = asyncio.create_task(s.get(server.url()))
            await wait_until(lambda: s.pool.waiting == 1)
            start = time.monotonic()
            await s.aclose()
            with pytest.raises(rawhttp.Error) as info:
                await asyncio.wait_for(task, 3.0)
            assert time.monotonic() - start < 1.0
            assert not isinstance(info.value, rawhttp.PoolTimeout)
        assert s.pool.connections == 0
        assert s.pool.waiting == 0
        assert s.pool.in_use == 0
    assert server.connections == 1


async def test_extra_bytes_after_the_body_prevent_reuse(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK + b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nextra"))
    async with rawhttp.Session(timeout=QUICK) as s:
        await asyncio.sleep(0)
        assert (await s.get(server.url())).content == b"hello"
        await asyncio.sleep(0.05)  # the unrequested bytes arrive
        assert (await s.get(server.url())).content == b"hello"
        assert_clean(s)
    assert server.connections == 2


async def test_total_deadline_bounds_the_pool_wait(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))
    async with rawhttp.Session(timeout=QUICK, max_connections=1) as s:
        async with s.stream("GET", server.url()) as held:
            start = time.monotonic()
            with pytest.raises(rawhttp.PoolTimeout):
                await s.get(server.url(), timeout=rawhttp.Timeout(5.0, total=0.3))
            assert 0.25 <= time.monotonic() - start < 3.0
            await held.read()
        assert_clean(s)


async def test_request_handed_a_connection_as_the_session_closes_opens_nothing(
    raw_server: MakeServer,
) -> None:
    """The waiting request is given the connection just before aclose() closes it: it
    fails with the session closed, and never opens a new connection to retry."""
    server = await raw_server(always(OK))
    s = rawhttp.Session(timeout=QUICK, max_connections=1)
    async with s.stream("GET", server.url()) as held:
        task = asyncio.create_task(s.get(server.url()))
        await wait_until(lambda: s.pool.waiting == 1)
        await held.read()  # hands the connection to the waiting request
        await s.aclose()
    with pytest.raises(rawhttp.Error, match="closed"):
        await task
    assert server.connections == 1
    assert s.pool.connections == 0
