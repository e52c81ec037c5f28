"""Where a response came from: ``Response.remote_address`` and ``local_address`` (the
two ends of its connection, recorded when the connection opened), and the address a
``"connect"`` trace event carries (``b"<ip> <port>"``), directly, over IPv6, through a
proxy and over a Unix socket; recordings with and without that address."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from conftest import RawConnection, RawServer, always, replay

import rawhttp
from rawhttp import Recorder, TraceEvent, read_events

QUICK = rawhttp.Timeout(5.0)
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
MakeServer = Callable[..., Awaitable[RawServer]]


def ipv6_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def peers_seen(server_peers: list[tuple[str, int]]) -> Callable[[RawConnection], Awaitable[None]]:
    """A handler answering OK to every request, noting the client's address as the
    server sees it (its peername) for each connection."""

    async def handler(conn: RawConnection) -> None:
        peer = conn.writer.get_extra_info("peername")
        server_peers.append((peer[0], peer[1]))
        while await conn.read_request():
            await conn.send(OK)

    return handler


def connects(events: list[TraceEvent]) -> list[bytes]:
    return [e.data for e in events if e.kind == "connect"]


async def test_both_ends_of_an_ipv4_connection(raw_server: MakeServer) -> None:
    peers: list[tuple[str, int]] = []
    server = await raw_server(peers_seen(peers))
    async with rawhttp.Session(timeout=QUICK) as s:
        first = await s.get(server.url("/a"))
        second = await s.get(server.url("/b"))  # the same connection, reused
    assert server.connections == 1
    assert first.remote_address == ("127.0.0.1", server.port)
    assert first.local_address == peers[0]  # what the server saw as its peer
    assert first.local_address[0] == "127.0.0.1"
    assert second.remote_address == first.remote_address
    assert second.local_address == first.local_address
    assert second.timings.reused


async def test_each_connection_has_its_own_local_port(raw_server: MakeServer) -> None:
    peers: list[tuple[str, int]] = []
    server = await raw_server(peers_seen(peers))
    async with (
        rawhttp.Session(timeout=QUICK, max_connections=2) as s,
        s.stream("GET", server.url("/1")) as one,
        s.stream("GET", server.url("/2")) as two,
    ):
        await one.read()
        await two.read()
    assert server.connections == 2
    assert {one.local_address, two.local_address} == set(peers)
    assert one.local_address != two.local_address
    assert one.remote_address == two.remote_address == ("127.0.0.1", server.port)


async def test_ipv6_addresses_have_no_brackets(raw_server: MakeServer) -> None:
    if not ipv6_available():
        pytest.skip("no IPv6 loopback (::1) on this machine: nothing to connect to")
    peers: list[tuple[str, int]] = []
    server = await raw_server(peers_seen(peers), host="::1")
    events: list[TraceEvent] = []
    async with rawhttp.Session(timeout=QUICK, trace=events.append) as s:
        r = await s.get(server.url())  # http://[::1]:port/
    assert r.remote_address == ("::1", server.port)
    assert r.local_address == peers[0]
    assert r.local_address[0] == "::1"
    assert connects(events) == [b"::1 %d" % server.port]


async def test_the_connect_event_names_the_address(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))
    events: list[TraceEvent] = []
    async with rawhttp.Session(timeout=QUICK, trace=events.append) as s:
        await s.get(server.url("/a"))
        await s.get(server.url("/b"))  # reused: no second connect
        await s.get(server.url("/c"), headers={"Connection": "close"})
        await s.get(server.url("/d"))  # a new connection
    assert connects(events) == [b"127.0.0.1 %d" % server.port] * 2
    assert [e.connection for e in events if e.kind == "connect"] == sorted(
        {e.connection for e in events}
    )
    assert server.connections == 2


async def test_a_name_reports_the_address_it_resolved_to(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))
    events: list[TraceEvent] = []
    async with rawhttp.Session(timeout=QUICK, happy_eyeballs_delay=None) as s:
        r = await s.get(server.url(host="localhost"), trace=events.append)
    # localhost may resolve to ::1 first: refused there (the server is on 127.0.0.1),
    # the connection that answered is the one reported.
    assert r.remote_address == ("127.0.0.1", server.port)
    assert connects(events) == [b"127.0.0.1 %d" % server.port]


async def test_through_a_proxy_the_proxy_is_the_peer(raw_server: MakeServer) -> None:
    """A plain http request through a proxy: the connection is to the proxy (here a
    raw server answering the absolute-form request itself)."""
    proxy = await raw_server(always(OK))
    events: list[TraceEvent] = []
    async with rawhttp.Session(
        timeout=QUICK, proxy=f"http://127.0.0.1:{proxy.port}", trust_env=False
    ) as s:
        r = await s.get("http://origin.invalid:8080/x", trace=events.append)
    assert proxy.requests[0].startswith(b"GET http://origin.invalid:8080/x HTTP/1.1\r\n")
    assert r.remote_address == ("127.0.0.1", proxy.port)
    assert r.local_address is not None
    assert connects(events) == [b"127.0.0.1 %d" % proxy.port]


@pytest.fixture
async def unix_path(tmp_path: Path) -> AsyncIterator[str]:
    path = str(tmp_path / "s.sock")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                writer.write(OK)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_unix_server(handle, path)
    try:
        yield path
    finally:
        server.close()
        await server.wait_closed()


async def test_a_unix_socket_has_no_ip_addresses(unix_path: str) -> None:
    events: list[TraceEvent] = []
    async with rawhttp.Session(timeout=QUICK, unix_socket=unix_path, trace=events.append) as s:
        r = await s.get("http://svc/")
    assert r.content == b"ok"
    assert r.remote_address is None
    assert r.local_address is None
    assert connects(events) == [b""]


async def test_redirect_history_keeps_each_hops_addresses(raw_server: MakeServer) -> None:
    target = await raw_server(always(OK))
    moved = b"HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n" % (
        target.url("/there").encode()
    )
    first = await raw_server(replay(moved))
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True) as s:
        r = await s.get(first.url("/here"))
    assert r.history[0].remote_address == ("127.0.0.1", first.port)
    assert r.remote_address == ("127.0.0.1", target.port)


async def test_the_blocking_api_gives_the_addresses_too(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))

    def fetch() -> rawhttp.Response:
        with rawhttp.SyncSession(timeout=QUICK) as s:
            return s.get(server.url())

    r = await asyncio.to_thread(fetch)
    assert r.remote_address == ("127.0.0.1", server.port)
    assert r.local_address is not None
    assert r.local_address[0] == "127.0.0.1"


def test_a_response_not_received_has_no_addresses() -> None:
    r = rawhttp.Response(
        status=200, reason="OK", http_version="HTTP/1.1", headers=rawhttp.Headers(),
        url="http://x/", method="GET", content=b"",
    )  # fmt: skip
    assert r.remote_address is None
    assert r.local_address is None


async def test_recordings_keep_the_connect_address(raw_server: MakeServer, tmp_path: Path) -> None:
    server = await raw_server(always(OK))
    path = tmp_path / "r.rawhttp"
    with Recorder(path) as recorder:
        async with rawhttp.Session(timeout=QUICK, trace=recorder) as s:
            await s.get(server.url("/rec"))
    events = read_events(path)
    assert events[0].kind == "connect"
    assert events[0].data == b"127.0.0.1 %d" % server.port
    replayed = rawhttp.replay(path)
    assert (replayed.status, replayed.content) == (200, b"ok")
    assert replayed.remote_address is None  # parsed offline: no connection


def test_recordings_with_an_empty_connect_event_still_replay(tmp_path: Path) -> None:
    """Recordings made before the connect event carried an address (its data empty)."""
    path = tmp_path / "old.rawhttp"
    request = b"GET /old HTTP/1.1\r\nHost: a\r\n\r\n"
    send = b"send 1 10.000100 %d\n%s\n" % (len(request), request)
    receive = b"receive 1 10.000200 %d\n%s\n" % (len(OK), OK)
    connect, close = b"connect 1 10.000000 0\n\n", b"close 1 10.000300 0\n\n"
    path.write_bytes(b"rawhttp-trace 1\n" + connect + send + receive + close)
    events = read_events(path)
    assert (events[0].kind, events[0].data) == ("connect", b"")
    assert [e.kind for e in events] == ["connect", "send", "receive", "close"]
    r = rawhttp.replay(path)
    assert (r.status, r.content, r.url) == (200, b"ok", "/old")
