"""``Session(proxy_tunnel=True)``: http:// URLs through a proxy go through a CONNECT
tunnel to their origin (curl's ``-p``/``--proxytunnel``), requested in origin form
inside it, one tunnel per origin, kept for reuse like https tunnels.  Checked against a
raw loopback proxy (exact bytes) and a real tinyproxy."""

from __future__ import annotations

import asyncio
import base64
import shutil
from collections.abc import Awaitable, Callable, Iterator

import pytest
from conftest import RawConnection, RawServer, always, assert_clean, head_fields, refused_port
from servers import PROXY_VARIABLES, Tinyproxy, run_tinyproxy

import rawhttp
from rawhttp import __version__

MakeRaw = Callable[..., Awaitable[RawServer]]
QUICK = rawhttp.Timeout(5.0)
ESTABLISHED = b"HTTP/1.1 200 Connection established\r\n\r\n"
UA = f"rawhttp/{__version__}".encode()


def ok(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body


@pytest.fixture(autouse=True)
def no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start without proxy variables, whatever the machine running them has."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.delenv("REQUEST_METHOD", raising=False)


@pytest.fixture(scope="module")
def tinyproxy() -> Iterator[Tinyproxy]:
    with run_tinyproxy() as proxy:
        yield proxy


class TunnelProxy:
    """A raw proxy that plays the origin too: it records each connection's CONNECT
    head, answers ``reply``, then records the requests sent inside the tunnel and
    answers each with a body naming the connection and the authority asked for."""

    def __init__(self, reply: bytes = ESTABLISHED) -> None:
        self.reply = reply
        self.connects: list[bytes] = []
        self.inside: list[bytes] = []

    async def __call__(self, conn: RawConnection) -> None:
        head = await conn.reader.readuntil(b"\r\n\r\n")
        self.connects.append(head)
        await conn.send(self.reply)
        if not self.reply.startswith(b"HTTP/1.1 2"):
            return
        authority = head.split(b" ")[1]
        for _ in range(20):
            try:
                inner = await conn.reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return
            self.inside.append(inner)
            await conn.send(ok(b"%d %s" % (conn.index, authority)))


# -- exact bytes on a raw proxy --------------------------------------------------------


async def test_http_url_goes_through_connect_then_origin_form(raw_server: MakeRaw) -> None:
    proxy = TunnelProxy()
    server = await raw_server(proxy)
    origin = "127.0.0.1:8123"  # never connected to: the proxy plays the origin
    async with rawhttp.Session(
        timeout=QUICK,
        proxy=f"http://127.0.0.1:{server.port}",
        proxy_tunnel=True,
        trust_env=False,
        decode_content=False,
    ) as s:
        r = await s.get(f"http://{origin}/path?q=1")
        assert (r.status, r.content) == (200, b"1 " + origin.encode())
        assert r.remote_address == ("127.0.0.1", server.port)  # connected to the proxy
    assert proxy.connects == [b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % ((origin.encode(),) * 2)]
    assert proxy.inside == [
        b"GET /path?q=1 HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n\r\n"
        % (origin.encode(), UA)
    ]


async def test_same_lines_as_curl_proxytunnel(raw_server: MakeRaw) -> None:
    """curl -p -x PROXY http://ORIGIN/path: CONNECT with the origin's authority, then
    the request in origin form; rawhttp sends the same two lines and Host."""
    expected = [
        b"CONNECT 127.0.0.1:8123 HTTP/1.1",
        b"Host: 127.0.0.1:8123",
        b"GET /p?q=1 HTTP/1.1",
        b"Host: 127.0.0.1:8123",
    ]

    def lines(proxy: TunnelProxy) -> list[bytes]:
        (connect,), (inner,) = proxy.connects, proxy.inside
        return [*connect.split(b"\r\n")[:2], *inner.split(b"\r\n")[:2]]

    ours = TunnelProxy()
    server = await raw_server(ours)
    proxy_url = f"http://127.0.0.1:{server.port}"
    async with rawhttp.Session(
        timeout=QUICK, proxy=proxy_url, proxy_tunnel=True, trust_env=False
    ) as s:
        assert (await s.get("http://127.0.0.1:8123/p?q=1")).status == 200
    assert lines(ours) == expected
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed: rawhttp checked against the expected lines only")
    theirs = TunnelProxy()
    server = await raw_server(theirs)
    proc = await asyncio.create_subprocess_exec(
        curl,
        "-s",
        "-p",
        "-x",
        f"http://127.0.0.1:{server.port}",
        "http://127.0.0.1:8123/p?q=1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 10)
    assert (proc.returncode, out) == (0, b"1 127.0.0.1:8123")
    assert lines(theirs) == expected


async def test_without_proxy_tunnel_http_stays_absolute_form(raw_server: MakeRaw) -> None:
    server = await raw_server(always(ok(b"from the proxy")))
    async with rawhttp.Session(
        timeout=QUICK, proxy=f"http://127.0.0.1:{server.port}", trust_env=False
    ) as s:
        assert (await s.get("http://127.0.0.1:8123/x")).content == b"from the proxy"
    assert server.requests[0].startswith(b"GET http://127.0.0.1:8123/x HTTP/1.1\r\n")


async def test_credentials_go_in_connect_only(raw_server: MakeRaw) -> None:
    proxy = TunnelProxy()
    server = await raw_server(proxy)
    async with rawhttp.Session(
        timeout=QUICK,
        proxy=f"http://alice:s3cret@127.0.0.1:{server.port}",
        proxy_tunnel=True,
        trust_env=False,
    ) as s:
        assert (await s.get("http://127.0.0.1:8123/")).status == 200
    expected = "Basic " + base64.b64encode(b"alice:s3cret").decode()
    (connect,) = proxy.connects
    assert head_fields(connect) == [
        ("host", "127.0.0.1:8123"),
        ("proxy-authorization", expected),
    ]
    (inner,) = proxy.inside
    assert "proxy-authorization" not in dict(head_fields(inner))


async def test_one_tunnel_per_origin_reused(raw_server: MakeRaw) -> None:
    proxy = TunnelProxy()
    server = await raw_server(proxy)
    async with rawhttp.Session(
        timeout=QUICK,
        proxy=f"http://127.0.0.1:{server.port}",
        proxy_tunnel=True,
        trust_env=False,
    ) as s:
        bodies = [
            (await s.get(f"http://127.0.0.1:{port}/")).content for port in (8001, 8001, 8002, 8001)
        ]
        assert s.pool.connections == 2
        assert_clean(s)
    # the second origin got a tunnel of its own; the first one's was reused
    first, second = b"1 127.0.0.1:8001", b"2 127.0.0.1:8002"
    assert bodies == [first, first, second, first]
    assert [h.split(b"\r\n")[0] for h in proxy.connects] == [
        b"CONNECT 127.0.0.1:8001 HTTP/1.1",
        b"CONNECT 127.0.0.1:8002 HTTP/1.1",
    ]
    assert server.connections == 2


async def test_no_proxy_origins_stay_direct(raw_server: MakeRaw) -> None:
    proxy = TunnelProxy()
    proxy_server = await raw_server(proxy)
    direct = await raw_server(always(ok(b"direct")))
    async with rawhttp.Session(
        timeout=QUICK,
        proxy=f"http://127.0.0.1:{proxy_server.port}",
        no_proxy=f"127.0.0.1:{direct.port}",
        proxy_tunnel=True,
        trust_env=False,
    ) as s:
        assert (await s.get(direct.url("/d"))).content == b"direct"
        assert (await s.get("http://127.0.0.1:8001/t")).content == b"1 127.0.0.1:8001"
        assert (await s.get(direct.url("/d"))).content == b"direct"
        assert s.pool.connections == 2
    assert direct.connections == 1
    assert direct.requests[0].startswith(b"GET /d HTTP/1.1\r\n")
    assert len(proxy.connects) == 1


async def test_a_refused_tunnel_is_a_proxy_error(raw_server: MakeRaw) -> None:
    proxy = TunnelProxy(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
    server = await raw_server(proxy)
    async with rawhttp.Session(
        timeout=QUICK,
        proxy=f"http://127.0.0.1:{server.port}",
        proxy_tunnel=True,
        trust_env=False,
    ) as s:
        with pytest.raises(rawhttp.ProxyError) as info:
            await s.get("http://127.0.0.1:8123/")
        assert info.value.status == 403
        assert "CONNECT 127.0.0.1:8123" in str(info.value)
        assert_clean(s)
    assert proxy.inside == []


def test_sync_session_through_a_tunnel(tinyproxy: Tinyproxy) -> None:
    port = refused_port()
    with (
        rawhttp.SyncSession(proxy=tinyproxy.url, proxy_tunnel=True, trust_env=False) as s,
        pytest.raises(rawhttp.ProxyError) as info,
    ):
        # nothing listens on the origin: tinyproxy refuses the tunnel after trying it
        s.get(f"http://127.0.0.1:{port}/")
    assert info.value.status is not None
    assert info.value.status >= 400
    assert f"CONNECT 127.0.0.1:{port} HTTP/1.1" in tinyproxy.log()


# -- through tinyproxy ------------------------------------------------------------------


async def test_tunnel_through_tinyproxy(tinyproxy: Tinyproxy, raw_server: MakeRaw) -> None:
    origin = await raw_server(always(ok(b"from the origin")))
    async with rawhttp.Session(
        timeout=QUICK, proxy=tinyproxy.url, proxy_tunnel=True, trust_env=False
    ) as s:
        for _ in range(3):
            r = await s.get(origin.url("/path?q=1"))
            assert (r.status, r.content) == (200, b"from the origin")
    # one tunnel carried all three: tinyproxy only relays bytes inside it
    assert origin.connections == 1
    for head in origin.requests:
        assert head.split(b"\r\n")[0] == b"GET /path?q=1 HTTP/1.1"
        fields = dict(head_fields(head))
        assert fields["host"] == f"127.0.0.1:{origin.port}"
        assert "via" not in fields  # tinyproxy adds Via to what it forwards, not tunnels
    log = tinyproxy.log()
    assert log.count(f"CONNECT 127.0.0.1:{origin.port} HTTP/1.1") == 1
    assert f"GET http://127.0.0.1:{origin.port}/path" not in log
