"""Connection options: local_address, IPv6, dual-stack names (happy eyeballs, RFC 8305)
and the per-request on_informational hook."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import os
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from conftest import (
    RawConnection,
    RawServer,
    always,
    idle_connections,
    open_fds,
    replay,
    settle_fds,
    wait_until,
)

import rawhttp
from rawhttp import _connection
from rawhttp._connection import _connect_race, _interleave
from rawhttp._reader import INITIAL_SIZE

QUICK = rawhttp.Timeout(5.0)
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
MakeServer = Callable[..., Awaitable[RawServer]]
V4, V6 = socket.AF_INET, socket.AF_INET6
TCP = socket.SOCK_STREAM


def ipv6_available() -> bool:
    try:
        with socket.socket(V6, TCP) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


needs_ipv6 = pytest.mark.skipif(not ipv6_available(), reason="no IPv6 loopback (::1) here")


@pytest.fixture
def raw_server6(raw_server: MakeServer) -> MakeServer:
    """Factory as ``raw_server``, listening on [::1]."""
    if not ipv6_available():
        pytest.skip("no IPv6 loopback (::1) here")
    return functools.partial(raw_server, host="::1")


def answering(peers: list[str], heads: list[bytes]):
    """Answer every request with OK, recording the client's address and the head."""

    async def handler(conn: RawConnection) -> None:
        peers.append(conn.writer.get_extra_info("peername")[0])
        while head := await conn.read_request():
            heads.append(head)
            await conn.send(OK)

    return handler


@contextlib.contextmanager
def refusing(family: int, host: str, port: int = 0) -> Iterator[int]:
    """A port bound (not listening) on ``host``: connecting to it is refused.
    Yields the port; skips the test if ``port`` is taken on that address."""
    sock = socket.socket(family, TCP)
    try:
        if family == V6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            pytest.skip(f"cannot reserve {host} port {port}: {exc}")
        yield sock.getsockname()[1]
    finally:
        sock.close()


def info(family: int, host: str, port: int) -> _connection.AddrInfo:
    address: tuple[Any, ...] = (host, port, 0, 0) if family == V6 else (host, port)
    return (family, TCP, 6, "", address)


@contextlib.contextmanager
def patched_loop(name: str, value: Any) -> Iterator[None]:
    """Replace a method of the running loop for the duration of the block."""
    loop = asyncio.get_running_loop()
    setattr(loop, name, value)
    try:
        yield
    finally:
        delattr(loop, name)


def dual_stack(*families: int):
    """A getaddrinfo for the running loop resolving "localhost" to ::1 and/or
    127.0.0.1 in the order given (this machine's resolver may give one only)."""
    real = asyncio.get_running_loop().getaddrinfo

    async def getaddrinfo(host: Any, port: Any, **kwargs: Any) -> list[Any]:
        if host != "localhost":
            return await real(host, port, **kwargs)
        return [info(f, "::1" if f == V6 else "127.0.0.1", int(port)) for f in families]

    return patched_loop("getaddrinfo", getaddrinfo)


class Attempts:
    """A sock_connect for the running loop: records each attempt; ``stall`` families
    wait forever (until cancelled), ``fail_after`` families fail after that delay."""

    def __init__(self, *, stall: tuple[int, ...] = (), fail_after: dict[int, float] | None = None):
        self.real = asyncio.get_running_loop().sock_connect
        self.stall = stall
        self.fail_after = fail_after or {}
        self.started: list[tuple[int, Any, float]] = []
        self.failed_at: list[float] = []
        self.cancelled: list[Any] = []
        self.sockets: list[socket.socket] = []
        self.bound: list[Any] = []  # each socket's local address before it connects

    async def __call__(self, sock: socket.socket, address: Any) -> None:
        self.started.append((sock.family, address, time.monotonic()))
        self.sockets.append(sock)
        self.bound.append(sock.getsockname())
        try:
            if sock.family in self.stall:
                await asyncio.Event().wait()
            if sock.family in self.fail_after:
                await asyncio.sleep(self.fail_after[sock.family])
                self.failed_at.append(time.monotonic())
                raise ConnectionRefusedError(111, "refused (simulated)")
        except asyncio.CancelledError:
            self.cancelled.append(address)
            raise
        await self.real(sock, address)

    def patch(self) -> contextlib.AbstractContextManager[None]:
        return patched_loop("sock_connect", self)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


# -- local_address -------------------------------------------------------------------


async def test_local_address_ipv4(raw_server) -> None:
    peers: list[str] = []
    server = await raw_server(answering(peers, []))
    async with rawhttp.Session(timeout=QUICK, local_address="127.0.0.1") as s:
        r = await s.get(server.url())
        r2 = await s.get(server.url())
    assert (r.status, r2.status, r2.timings.reused) == (200, 200, True)
    assert peers == ["127.0.0.1"]


async def test_local_address_is_used_for_named_hosts(raw_server) -> None:
    peers: list[str] = []
    server = await raw_server(answering(peers, []))
    async with rawhttp.Session(timeout=QUICK, local_address="127.0.0.1") as s:
        r = await s.get(f"http://localhost:{server.port}/")
    assert r.status == 200
    assert peers == ["127.0.0.1"]


async def test_local_address_binds_the_socket(raw_server) -> None:
    """The source address is really bound: with a name, the race binds each socket."""
    peers: list[str] = []
    server = await raw_server(answering(peers, []))
    attempts = Attempts()
    with attempts.patch(), dual_stack(V6, V4):
        async with rawhttp.Session(timeout=QUICK, local_address="127.0.0.1") as s:
            r = await s.get(f"http://localhost:{server.port}/")
    assert r.status == 200
    # Only addresses of the local address's family are tried.
    assert [(family, address) for family, address, _ in attempts.started] == [
        (V4, ("127.0.0.1", server.port))
    ]
    (bound,) = attempts.bound
    assert bound[0] == "127.0.0.1"
    assert bound[1] != 0  # bound before connecting, to an ephemeral port


async def test_without_local_address_the_socket_is_not_bound(raw_server) -> None:
    server = await raw_server(answering([], []))
    attempts = Attempts()
    with attempts.patch(), dual_stack(V4):
        async with rawhttp.Session(timeout=QUICK) as s:
            assert (await s.get(f"http://localhost:{server.port}/")).status == 200
    assert attempts.bound == [("0.0.0.0", 0)]


async def test_local_address_of_the_wrong_family_ip(raw_server) -> None:
    server = await raw_server(answering([], []))
    if not ipv6_available():
        pytest.skip("no IPv6 loopback (::1) here")
    async with rawhttp.Session(timeout=QUICK, local_address="::1") as s:
        with pytest.raises(rawhttp.ConnectError):
            await s.get(server.url())
        assert s.pool.connections == 0
        assert s.pool.in_use == 0
    assert server.connections == 0


async def test_local_address_of_the_wrong_family_name(raw_server) -> None:
    server = await raw_server(answering([], []))
    with dual_stack(V4):
        async with rawhttp.Session(timeout=QUICK, local_address="::1") as s:
            with pytest.raises(rawhttp.ConnectError, match="no address of the family"):
                await s.get(f"http://localhost:{server.port}/")
            assert s.pool.connections == 0
    assert server.connections == 0


@needs_ipv6
async def test_local_address_ipv4_to_an_ipv6_server(raw_server6) -> None:
    server = await raw_server6(answering([], []))
    async with rawhttp.Session(timeout=QUICK, local_address="127.0.0.1") as s:
        with pytest.raises(rawhttp.ConnectError):
            await s.get(server.url())
    assert server.connections == 0


@needs_ipv6
async def test_local_address_ipv6(raw_server6) -> None:
    peers: list[str] = []
    server = await raw_server6(answering(peers, []))
    async with rawhttp.Session(timeout=QUICK, local_address="::1") as s:
        r = await s.get(server.url())
    assert r.status == 200
    assert peers == ["::1"]


# -- IPv6 ---------------------------------------------------------------------------------


@needs_ipv6
async def test_ipv6_literal_url(raw_server6) -> None:
    peers: list[str] = []
    heads: list[bytes] = []
    server = await raw_server6(answering(peers, heads))
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(server.url("/six?x=1"))
        r2 = await s.get(server.url("/again"))
    assert (r.status, r.content) == (200, b"ok")
    assert r.url == f"http://[::1]:{server.port}/six?x=1"
    assert r2.timings.reused is True
    assert server.connections == 1
    assert peers == ["::1"]
    assert heads[0].startswith(f"GET /six?x=1 HTTP/1.1\r\nHost: [::1]:{server.port}\r\n".encode())
    assert f"Host: [::1]:{server.port}\r\n".encode() in heads[1]


@needs_ipv6
async def test_ipv6_literal_default_port_host_header() -> None:
    """Host of an IPv6 literal keeps its brackets; the default port is left out."""
    from rawhttp._url import parse_url

    url = parse_url("http://[::1]/")
    assert (url.host, url.port, url.host_header) == ("::1", 80, "[::1]")


# -- dual-stack names ------------------------------------------------------------------------


async def test_localhost_as_resolved_here(raw_server) -> None:
    peers: list[str] = []
    server = await raw_server(answering(peers, []))
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(f"http://localhost:{server.port}/")
    assert r.status == 200
    assert peers == ["127.0.0.1"]


@needs_ipv6
async def test_localhost_ipv6_refused_then_ipv4(raw_server) -> None:
    heads: list[bytes] = []
    server = await raw_server(answering([], heads))
    attempts = Attempts()
    with refusing(V6, "::1", server.port), attempts.patch(), dual_stack(V6, V4):
        async with rawhttp.Session(timeout=QUICK) as s:
            started = time.monotonic()
            r = await s.get(f"http://localhost:{server.port}/")
            elapsed = time.monotonic() - started
    assert (r.status, r.content) == (200, b"ok")
    assert [(f, a[0]) for f, a, _ in attempts.started] == [(V6, "::1"), (V4, "127.0.0.1")]
    assert elapsed < 0.2  # the refusal started the next attempt at once, not after 0.25 s
    assert f"Host: localhost:{server.port}\r\n".encode() in heads[0]
    assert all(sock.fileno() == -1 for sock in attempts.sockets[:1])


@needs_ipv6
async def test_localhost_only_on_ipv6(raw_server6) -> None:
    peers: list[str] = []
    heads: list[bytes] = []
    server = await raw_server6(answering(peers, heads))
    attempts = Attempts()
    with refusing(V4, "127.0.0.1", server.port), attempts.patch(), dual_stack(V4, V6):
        async with rawhttp.Session(timeout=QUICK) as s:
            r = await s.get(f"http://localhost:{server.port}/")
    assert r.status == 200
    assert peers == ["::1"]
    assert [(f, a[0]) for f, a, _ in attempts.started] == [(V4, "127.0.0.1"), (V6, "::1")]
    assert f"Host: localhost:{server.port}\r\n".encode() in heads[0]


@needs_ipv6
async def test_session_happy_eyeballs_delay(raw_server) -> None:
    server = await raw_server(answering([], []))
    attempts = Attempts(stall=(V6,))
    with attempts.patch(), dual_stack(V6, V4):
        async with rawhttp.Session(timeout=QUICK, happy_eyeballs_delay=0.1) as s:
            r = await s.get(f"http://localhost:{server.port}/")
        await settle()
    assert r.status == 200
    (f6, _, t6), (f4, _, t4) = attempts.started
    assert (f6, f4) == (V6, V4)
    assert 0.09 <= t4 - t6 < 0.5
    assert attempts.cancelled == [("::1", server.port, 0, 0)]
    assert attempts.sockets[0].fileno() == -1


@needs_ipv6
async def test_session_without_happy_eyeballs_waits_for_the_first_address(raw_server) -> None:
    server = await raw_server(answering([], []))
    attempts = Attempts(stall=(V6,))
    with attempts.patch(), dual_stack(V6, V4):
        timeout = rawhttp.Timeout(5.0, connect=0.3)
        async with rawhttp.Session(timeout=timeout, happy_eyeballs_delay=None) as s:
            with pytest.raises(rawhttp.ConnectTimeout):
                await s.get(f"http://localhost:{server.port}/")
            assert s.pool.connections == 0
        await settle()
    assert [f for f, _, _ in attempts.started] == [V6]
    assert attempts.sockets[0].fileno() == -1
    assert server.connections == 0


async def test_session_all_addresses_refused_is_connect_error() -> None:
    with (
        refusing(V4, "127.0.0.1") as port,
        dual_stack(V6, V4),
        contextlib.ExitStack() as stack,
    ):
        if ipv6_available():
            stack.enter_context(refusing(V6, "::1", port))
        async with rawhttp.Session(timeout=QUICK) as s:
            with pytest.raises(rawhttp.ConnectError) as caught:
                await s.get(f"http://localhost:{port}/")
            assert not isinstance(caught.value, rawhttp.TimeoutError)
            assert "2 addresses failed" in str(caught.value)
            assert s.pool.connections == 0


# -- _connect_race and _interleave ------------------------------------------------------------


@needs_ipv6
async def test_race_stalled_first_address_loses_after_the_delay(raw_server) -> None:
    server = await raw_server(answering([], []))
    infos = [info(V6, "::1", server.port), info(V4, "127.0.0.1", server.port)]
    attempts = Attempts(stall=(V6,))
    with attempts.patch():
        sock = await _connect_race(infos, 0.1, None)
        try:
            assert sock.family == V4
            assert sock.getpeername() == ("127.0.0.1", server.port)
            await settle()
        finally:
            sock.close()
    (f6, a6, t6), (f4, a4, t4) = attempts.started
    assert (f6, a6, f4, a4) == (V6, infos[0][4], V4, infos[1][4])
    assert 0.095 <= t4 - t6 < 0.4
    assert attempts.cancelled == [infos[0][4]]
    assert attempts.sockets[0].fileno() == -1  # the loser's socket is closed
    assert attempts.sockets[1] is sock


async def test_race_first_address_wins_within_the_delay(raw_server) -> None:
    server = await raw_server(answering([], []))
    infos = [info(V4, "127.0.0.1", server.port), info(V6, "::1", server.port)]
    attempts = Attempts()
    with attempts.patch():
        sock = await _connect_race(infos, 0.5, None)
        sock.close()
    assert [f for f, _, _ in attempts.started] == [V4]  # the second never started


async def test_race_without_delay_starts_next_only_after_a_failure(raw_server) -> None:
    server = await raw_server(answering([], []))
    infos = [info(V6, "::1", server.port), info(V4, "127.0.0.1", server.port)]
    attempts = Attempts(fail_after={V6: 0.15})
    with attempts.patch():
        sock = await _connect_race(infos, None, None)
        sock.close()
    (_, _, t6), (_, _, t4) = attempts.started
    (failed,) = attempts.failed_at
    assert t4 >= failed
    assert t4 - t6 >= 0.145
    assert attempts.sockets[0].fileno() == -1


async def test_race_failure_starts_the_next_attempt_before_the_delay(raw_server) -> None:
    server = await raw_server(answering([], []))
    infos = [info(V6, "::1", server.port), info(V4, "127.0.0.1", server.port)]
    attempts = Attempts(fail_after={V6: 0.02})
    with attempts.patch():
        started = time.monotonic()
        sock = await _connect_race(infos, 5.0, None)
        sock.close()
    assert time.monotonic() - started < 1.0
    (_, _, t6), (_, _, t4) = attempts.started
    assert 0.015 <= t4 - t6 < 1.0


async def test_race_without_delay_stalls_on_the_first_address(raw_server) -> None:
    server = await raw_server(answering([], []))
    infos = [info(V6, "::1", server.port), info(V4, "127.0.0.1", server.port)]
    attempts = Attempts(stall=(V6,))
    with attempts.patch():
        before = open_fds()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.3):
                await _connect_race(infos, None, None)
        assert await settle_fds(before) == before
    assert [f for f, _, _ in attempts.started] == [V6]
    assert attempts.sockets[0].fileno() == -1


async def test_race_all_fail_aggregates_the_errors() -> None:
    with refusing(V4, "127.0.0.1") as p1, refusing(V4, "127.0.0.1") as p2:
        infos = [info(V4, "127.0.0.1", p1), info(V4, "127.0.0.1", p2)]
        before = open_fds()
        with pytest.raises(OSError, match="all 2 addresses failed") as caught:
            await _connect_race(infos, 0.05, None)
        assert not isinstance(caught.value, ConnectionRefusedError)
        message = str(caught.value)
        assert message.count(f"[Errno {errno.ECONNREFUSED}]") == 2
        assert f"('127.0.0.1', {p1})" in message
        assert f"('127.0.0.1', {p2})" in message
        assert await settle_fds(before) == before


async def test_race_single_failure_is_raised_as_is() -> None:
    with refusing(V4, "127.0.0.1") as port, pytest.raises(ConnectionRefusedError):
        await _connect_race([info(V4, "127.0.0.1", port)], 0.25, None)


async def test_race_binds_local_address_and_skips_a_wrong_family(raw_server) -> None:
    server = await raw_server(answering([], []))
    infos = [info(V6, "::1", server.port), info(V4, "127.0.0.1", server.port)]
    sock = await _connect_race(infos, 1.0, ("127.0.0.1", 0))
    try:
        assert sock.family == V4
        assert sock.getsockname()[0] == "127.0.0.1"
    finally:
        sock.close()


async def test_cancelling_the_race_closes_every_socket(raw_server) -> None:
    server = await raw_server(answering([], []))
    infos = [
        info(V6, "::1", server.port),
        info(V4, "127.0.0.1", server.port),
        info(V6, "::1", server.port + 1 if server.port < 65535 else 1),
    ]
    attempts = Attempts(stall=(V4, V6))
    with attempts.patch():
        before = open_fds()
        task = asyncio.create_task(_connect_race(infos, 0.03, None))
        await wait_until(lambda: len(attempts.started) == 3, timeout=1.0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await settle_fds(before) == before
    assert len(attempts.cancelled) == 3
    assert [s.fileno() for s in attempts.sockets] == [-1, -1, -1]


async def test_race_start_spacing_with_several_addresses(raw_server) -> None:
    server = await raw_server(answering([], []))
    infos = [
        info(V6, "::1", server.port),
        info(V6, "::1", server.port),
        info(V4, "127.0.0.1", server.port),
    ]
    attempts = Attempts(stall=(V6,))
    with attempts.patch():
        sock = await _connect_race(_interleave(infos), 0.05, None)
        sock.close()
        await settle()
    families = [f for f, _, _ in attempts.started]
    assert families == [V6, V4]  # interleaved: IPv4 second, and it won
    assert 0.045 <= attempts.started[1][2] - attempts.started[0][2] < 0.4
    assert len(attempts.cancelled) == 1


def test_interleave_alternates_families() -> None:
    a6, b6, c6 = (info(V6, f"::{n}", 80) for n in (1, 2, 3))
    a4, b4 = (info(V4, f"10.0.0.{n}", 80) for n in (1, 2))
    assert _interleave([a6, b6, c6, a4]) == [a6, a4, b6, c6]
    assert _interleave([a4, b4, a6, b6]) == [a4, a6, b4, b6]
    assert _interleave([a6, a4, b6, b4]) == [a6, a4, b6, b4]
    assert _interleave([a4, a6, b6, c6, b4]) == [a4, a6, b4, b6, c6]
    assert _interleave([a6, b6]) == [a6, b6]
    assert _interleave([a4]) == [a4]
    assert _interleave([]) == []


def test_interleave_keeps_resolver_order_within_a_family() -> None:
    infos = [info(V4, f"10.0.0.{n}", 80) for n in range(5)] + [info(V6, "::1", 80)]
    mixed = _interleave(infos)
    assert mixed[1] == infos[5]
    assert [i for i in mixed if i[0] == V4] == infos[:5]
    assert sorted(mixed) == sorted(infos)


# -- per-request on_informational -----------------------------------------------------------

HINTS = (
    b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n"
    b"Link: </app.js>; rel=preload; as=script\r\n\r\n"
)


async def test_per_request_on_informational_overrides_the_session(raw_server) -> None:
    server = await raw_server(replay(HINTS + OK, HINTS + OK, HINTS + OK))
    session_seen: list[int] = []
    request_seen: list[rawhttp.InformationalResponse] = []
    async with rawhttp.Session(
        timeout=QUICK, on_informational=lambda i: session_seen.append(i.status)
    ) as s:
        r = await s.get(server.url(), on_informational=request_seen.append)
        assert (r.status, r.content) == (200, b"ok")
        assert session_seen == []
        assert [(i.status, i.reason) for i in request_seen] == [(103, "Early Hints")]
        assert request_seen[0].headers.get_all("link") == [
            "</style.css>; rel=preload; as=style",
            "</app.js>; rel=preload; as=script",
        ]

        async def async_hook(i: rawhttp.InformationalResponse) -> None:
            await asyncio.sleep(0)
            request_seen.append(i)

        async with s.stream("GET", server.url(), on_informational=async_hook) as streamed:
            assert await streamed.read() == b"ok"
        assert session_seen == []
        assert len(request_seen) == 2
        r3 = await s.get(server.url())  # no override: the session's hook again
        assert r3.content == b"ok"
        assert session_seen == [103]
        assert len(request_seen) == 2


async def test_per_request_on_informational_without_a_session_hook(raw_server) -> None:
    server = await raw_server(replay(HINTS + OK, HINTS + OK))
    seen: list[int] = []
    async with rawhttp.Session(timeout=QUICK) as s:
        await s.get(server.url())
        await s.post(server.url(), content=b"x", on_informational=lambda i: seen.append(i.status))
    assert seen == [103]


# -- receive size --------------------------------------------------------------------


async def test_an_idle_connection_gives_back_its_grown_buffer(raw_server) -> None:
    """A connection whose receive buffer grew while a 1 MiB body streamed is back to
    its first size once it idles in the pool (growth itself: test_reader.py); the
    body arrives whole and exact."""
    body = os.urandom(1024 * 1024)

    server = await raw_server(
        always(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    )
    async with rawhttp.Session(timeout=QUICK) as s:
        async with s.stream("GET", server.url()) as r:
            pieces = [piece async for piece in r.iter_bytes()]
        (conn,) = idle_connections(s)
        assert conn.reader.capacity == INITIAL_SIZE
    assert b"".join(pieces) == body
