"""Faults over real loopback sockets, plain and TLS: idle connections closed by the
server, resets, stalls, trickles, a full pool, load, random cancellations and
refused ports.  Loops are bounded and timing bounds generous (noisy 2-core box)."""

from __future__ import annotations

import asyncio
import gc
import random
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from conftest import (
    Handler,
    RawConnection,
    RawServer,
    assert_clean,
    open_fds,
    read_message,
    refused_port,
    settle_fds,
    wait_until,
)

import rawhttp

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"


# -- plain and TLS origins ------------------------------------------------------


@dataclass
class Origin:
    scheme: str
    server_ssl: ssl.SSLContext | None
    client_ssl: ssl.SSLContext
    servers: list[RawServer]

    async def serve(self, handler: Handler) -> RawServer:
        """Start a server (closed by the fixture, or earlier with ``close()``)."""
        kwargs = {"ssl": self.server_ssl} if self.server_ssl is not None else {}
        server = await RawServer(handler).start(**kwargs)
        self.servers.append(server)
        return server

    def url(self, server: RawServer, path: str = "/") -> str:
        return server.url(path, scheme=self.scheme)

    def session(self, **kwargs: object) -> rawhttp.Session:
        kwargs.setdefault("timeout", rawhttp.Timeout(5.0))
        return rawhttp.Session(verify=self.client_ssl, **kwargs)  # type: ignore[arg-type]


async def close_servers(servers: list[RawServer]) -> None:
    """Close servers not closed yet, after giving handlers that are ending (their
    client went away) a moment to finish: cancelling one inside ``wait_closed()``
    makes asyncio log an error."""
    for _ in range(20):
        if all(server.open_now == 0 for server in servers):
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)  # handlers past open_now -= 1 are still in wait_closed()
    for server in servers:
        if server.serving:
            await server.close()


@pytest.fixture(params=["http", "https"])
async def origin(
    request: pytest.FixtureRequest, server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext
) -> AsyncIterator[Origin]:
    scheme = request.param
    o = Origin(scheme, server_ssl if scheme == "https" else None, client_ssl, [])
    yield o
    await close_servers(o.servers)


@pytest.fixture
async def plain(client_ssl: ssl.SSLContext) -> AsyncIterator[Origin]:
    o = Origin("http", None, client_ssl, [])
    yield o
    await close_servers(o.servers)


@pytest.fixture
async def secure(server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext) -> AsyncIterator[Origin]:
    o = Origin("https", server_ssl, client_ssl, [])
    yield o
    await close_servers(o.servers)


# -- helpers --------------------------------------------------------------------


def answer_all(response: bytes = OK) -> Handler:
    async def handler(conn: RawConnection) -> None:
        while (await read_message(conn))[0]:
            await conn.send(response)

    return handler


def methods(server: RawServer) -> list[str]:
    return [r.split(b" ", 1)[0].decode() for r in server.requests]


async def stream_to_end(s: rawhttp.Session, url: str, chunk_size: int) -> int:
    """Stream a GET with iter_bytes to its end; the number of bytes."""
    total = 0
    async with s.stream("GET", url) as r:
        async for chunk in r.iter_bytes(chunk_size):
            total += len(chunk)
    return total


# -- the server closes an idle keep-alive connection ---------------------------------


def one_answer_then(end: str, delay: float = 0.05) -> Handler:
    """On the first connection: answer one request, then (idle) close or reset the
    connection after ``delay``.  Later connections answer every request."""

    async def handler(conn: RawConnection) -> None:
        if conn.index > 1:
            await answer_all()(conn)
            return
        if not (await read_message(conn))[0]:
            return
        await conn.send(OK)
        await asyncio.sleep(delay)
        if end == "reset":
            assert conn.writer.get_extra_info("socket") is not None
            conn.reset()
        # else: returning closes the connection (FIN, with close_notify over TLS)

    return handler


@pytest.mark.parametrize("end", ["close", "reset"])
@pytest.mark.parametrize("second", ["GET", "POST"])
async def test_idle_connection_closed_by_server_is_noticed_before_use(
    origin: Origin, end: str, second: str
) -> None:
    server = await origin.serve(one_answer_then(end))
    async with origin.session() as s:
        assert (await s.get(origin.url(server))).content == b"hello"
        assert s.pool.idle == 1
        await wait_until(lambda: server.open_now == 0)
        await asyncio.sleep(0.1)  # the client's loop sees the FIN / RST
        r = await s.request(
            second, origin.url(server), content=b"body" if second == "POST" else None
        )
        assert r.content == b"hello"
        assert_clean(s)
    assert server.connections == 2
    # The request went out once, on the new connection: not sent on the dead one, not retried.
    assert methods(server) == ["GET", second]
    assert server.requests[-1].endswith(b"\r\n\r\nbody" if second == "POST" else b"\r\n\r\n")


# -- reset in the middle of a body --------------------------------------------------


async def test_reset_mid_body_then_session_still_usable(origin: Origin) -> None:
    async def handler(conn: RawConnection) -> None:
        if not (await read_message(conn))[0]:
            return
        if conn.index <= 2:
            await conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)
            await asyncio.sleep(0.05)
            conn.reset()
            return
        await conn.send(OK)
        await answer_all()(conn)

    server = await origin.serve(handler)
    async with origin.session() as s:
        start = time.monotonic()
        with pytest.raises((rawhttp.ReadError, rawhttp.ProtocolError)) as info:
            await s.get(origin.url(server))
        assert time.monotonic() - start < 2.0
        assert isinstance(info.value, rawhttp.TransportError)
        assert_clean(s)
        start = time.monotonic()
        with pytest.raises((rawhttp.ReadError, rawhttp.ProtocolError)):
            await stream_to_end(s, origin.url(server), 100)
        assert time.monotonic() - start < 2.0
        assert_clean(s)
        assert s.pool.connections == 0
        for _ in range(3):
            assert (await s.get(origin.url(server))).content == b"hello"
        assert_clean(s)
    assert server.connections == 3


# -- stalls and trickles --------------------------------------------------------------


async def test_stall_after_headers_is_read_timeout(origin: Origin) -> None:
    async def handler(conn: RawConnection) -> None:
        if (await read_message(conn))[0]:
            await conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
            await asyncio.sleep(30)  # cancelled when the server closes

    server = await origin.serve(handler)
    async with origin.session(timeout=rawhttp.Timeout(5.0, read=0.5)) as s:
        start = time.monotonic()
        with pytest.raises(rawhttp.ReadTimeout) as info:
            await s.get(origin.url(server))
        elapsed = time.monotonic() - start
        assert 0.45 <= elapsed < 3.0
        assert isinstance(info.value, TimeoutError)
        assert_clean(s)
        async with s.stream("GET", origin.url(server)) as r:
            start = time.monotonic()
            with pytest.raises(rawhttp.ReadTimeout):
                await r.read()
            assert 0.45 <= time.monotonic() - start < 3.0
        assert_clean(s)
        assert s.pool.connections == 0


async def test_stall_before_headers_is_read_timeout(origin: Origin) -> None:
    async def handler(conn: RawConnection) -> None:
        await asyncio.sleep(30)

    server = await origin.serve(handler)
    async with origin.session(timeout=rawhttp.Timeout(5.0, read=0.4)) as s:
        start = time.monotonic()
        with pytest.raises(rawhttp.ReadTimeout):
            await s.get(origin.url(server))
        assert 0.35 <= time.monotonic() - start < 3.0
        assert_clean(s)


async def test_byte_trickle_stopped_by_the_total_deadline(plain: Origin) -> None:
    async def handler(conn: RawConnection) -> None:
        if (await read_message(conn))[0]:
            await conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
            for _ in range(1000):  # 50 s at this pace: far past the deadline
                await asyncio.sleep(0.05)
                await conn.send(b"x")

    server = await plain.serve(handler)
    async with plain.session(timeout=rawhttp.Timeout(5.0, read=0.5, total=1.0)) as s:
        start = time.monotonic()
        with pytest.raises(rawhttp.TimeoutError) as info:
            await s.get(plain.url(server))
        elapsed = time.monotonic() - start
        assert 0.9 <= elapsed < 3.0
        assert isinstance(info.value, TimeoutError)
        assert isinstance(info.value, rawhttp.Error)
        start = time.monotonic()
        with pytest.raises(rawhttp.TimeoutError):
            await stream_to_end(s, plain.url(server), 1)
        assert 0.9 <= time.monotonic() - start < 3.0
        assert_clean(s)


async def test_pool_of_one_held_by_a_stream_is_pool_timeout(origin: Origin) -> None:
    server = await origin.serve(answer_all())
    timeout = rawhttp.Timeout(5.0, pool=0.5)
    async with origin.session(timeout=timeout, max_connections=1) as s:
        async with s.stream("GET", origin.url(server)) as held:
            start = time.monotonic()
            with pytest.raises(rawhttp.PoolTimeout) as info:
                await s.get(origin.url(server))
            assert 0.45 <= time.monotonic() - start < 3.0
            assert isinstance(info.value, TimeoutError)
            assert s.pool.waiting == 0
            assert s.pool.connections == 1
            assert await held.read() == b"hello"
        assert (await s.get(origin.url(server))).content == b"hello"
        assert_clean(s)
    assert server.connections == 1


# -- refused ports ---------------------------------------------------------------------


async def test_refused_port_is_connect_error_at_once(origin: Origin) -> None:
    port = refused_port()
    async with origin.session(timeout=rawhttp.Timeout(10.0)) as s:
        for _ in range(3):
            start = time.monotonic()
            with pytest.raises(rawhttp.ConnectError) as info:
                await s.get(f"{origin.scheme}://127.0.0.1:{port}/")
            assert time.monotonic() - start < 1.0
            assert not isinstance(info.value, rawhttp.TimeoutError)
            assert "refused" in str(info.value)
        assert s.pool.connections == 0
        assert_clean(s)


# -- load ---------------------------------------------------------------------------------


async def run_load(
    origin: Origin, *, total: int, concurrency: int, max_connections: int
) -> tuple[float, int]:
    """``total`` GETs, ``concurrency`` at a time; returns (seconds, server max_open)."""
    baseline = open_fds()
    server = await origin.serve(answer_all())
    sem = asyncio.Semaphore(concurrency)
    peak_active = 0
    start = time.monotonic()
    async with origin.session(timeout=rawhttp.Timeout(30.0), max_connections=max_connections) as s:

        async def one(i: int) -> bytes:
            nonlocal peak_active
            async with sem:
                r = await s.get(origin.url(server, f"/{i}"))
                peak_active = max(peak_active, s.pool.in_use, s.pool.connections)
                return r.content

        results = await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(total))), 60)
        elapsed = time.monotonic() - start
        assert results == [b"hello"] * total
        assert_clean(s)
        assert s.pool.connections <= max_connections
    assert peak_active <= max_connections
    assert len(server.requests) == total
    assert server.max_open <= max_connections
    await server.close()
    assert await settle_fds(baseline) == baseline
    gc.collect()  # an unclosed transport would raise its ResourceWarning here, in the test
    return elapsed, server.max_open


async def test_load_3000_requests_300_tasks_20_connections(plain: Origin) -> None:
    # Measured on the 2-core CI box: about 1.5 s.
    elapsed, max_open = await run_load(plain, total=3000, concurrency=300, max_connections=20)
    assert max_open >= 2  # the load really ran concurrently
    print(f"load: 3000 requests in {elapsed:.2f} s, server max_open {max_open}")


async def test_load_over_tls(secure: Origin) -> None:
    elapsed, max_open = await run_load(secure, total=500, concurrency=50, max_connections=10)
    print(f"TLS load: 500 requests in {elapsed:.2f} s, server max_open {max_open}")


# -- random cancellations mid-response ----------------------------------------------------


def slow_pieces_handler(seed: int) -> Handler:
    """Every response: head, then 100 bytes in 10 pieces with short random pauses."""
    rng = random.Random(seed)

    async def handler(conn: RawConnection) -> None:
        while (await read_message(conn))[0]:
            await asyncio.sleep(rng.random() * 0.004)
            await conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
            for i in range(10):
                await asyncio.sleep(rng.random() * 0.003)
                await conn.send(b"%d" % i * 10)

    return handler


BODY = b"".join(b"%d" % i * 10 for i in range(10))


@pytest.mark.parametrize("seed", [1, 2])
async def test_random_cancellations_leak_nothing(plain: Origin, seed: int) -> None:
    baseline = open_fds()
    server = await plain.serve(slow_pieces_handler(seed))
    rng = random.Random(seed)
    async with plain.session(max_connections=5) as s:

        async def use(i: int) -> None:
            if i % 3 == 0:
                async with s.stream("GET", plain.url(server)) as r:
                    got = b"".join([c async for c in r.iter_bytes(7)])
                assert got == BODY
            elif i % 3 == 1:
                async with s.stream("GET", plain.url(server)) as r:
                    assert await r.read() == BODY
            else:
                assert (await s.get(plain.url(server))).content == BODY

        peak = 0

        async def sample() -> None:
            nonlocal peak
            for _ in range(100_000):
                peak = max(peak, s.pool.connections, s.pool.in_use)
                await asyncio.sleep(0)

        sampler = asyncio.create_task(sample())
        tasks = [asyncio.create_task(use(i)) for i in range(200)]
        for task in tasks:
            await asyncio.sleep(rng.random() * 0.004)
            if rng.random() < 0.6:
                task.cancel()
        results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 60)
        sampler.cancel()
        await asyncio.gather(sampler, return_exceptions=True)
        assert 1 <= peak <= 5
        for result in results:
            assert result is None or isinstance(result, asyncio.CancelledError), repr(result)
        cancelled = sum(isinstance(r, asyncio.CancelledError) for r in results)
        assert 50 <= cancelled < 200
        assert_clean(s)
        assert s.pool.connections <= 5
        # The server's view agrees: every connection it still holds is one idle in the pool.
        await wait_until(lambda: server.open_now == s.pool.connections)
        # Every slot is usable: 100 more requests succeed, 5 connections at most.
        short = rawhttp.Timeout(5.0)
        again = await asyncio.wait_for(
            asyncio.gather(*(s.get(plain.url(server), timeout=short) for _ in range(100))), 60
        )
        assert [r.content for r in again] == [BODY] * 100
        assert_clean(s)
        assert s.pool.connections <= 5
    # (server.max_open may exceed 5 here: a connection the client closed on cancellation
    # is still counted by the server until its handler notices.)
    await server.close()
    assert await settle_fds(baseline) == baseline
    gc.collect()  # an unclosed transport would raise its ResourceWarning here, in the test
