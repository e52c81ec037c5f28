"""HTTP proxies end to end: a real tinyproxy, and raw asyncio proxies that misbehave.

http:// URLs go to the proxy in absolute form; https:// URLs go through a
CONNECT tunnel, inside which TLS is made with the origin (its certificate and
name are checked) and requests are origin-form without Proxy-Authorization.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable, Iterator

import pytest
from conftest import (
    Handler,
    RawConnection,
    RawServer,
    always,
    basic,
    head_fields,
    refused_port,
    replay,
)
from pytest_httpserver import HTTPServer
from servers import PROXY_VARIABLES, Tinyproxy, run_cli, run_tinyproxy

import rawhttp

MakeRaw = Callable[..., Awaitable[RawServer]]
QUICK = rawhttp.Timeout(5.0)
PROXY_BODY = b"answered by the proxy"
ORIGIN_BODY = b"answered by the origin"
TLS_BODY = b"answered over tls"
ESTABLISHED = b"HTTP/1.1 200 Connection established\r\n\r\n"


def response(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body


def request_line(head: bytes) -> bytes:
    return head.split(b"\r\n", 1)[0]


def fields(head: bytes, name: str) -> list[str]:
    """Every value of header ``name`` in a request head."""
    return [value for key, value in head_fields(head) if key == name.lower()]


@pytest.fixture(autouse=True)
def no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start without proxy variables, whatever the machine running them has."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.delenv("REQUEST_METHOD", raising=False)


# -- servers -------------------------------------------------------------------------


def answer_with(
    reply: bytes, then_close: bool = True
) -> Callable[[RawConnection], Awaitable[None]]:
    """A proxy that reads one request head, sends ``reply`` and closes (or waits)."""

    async def handler(conn: RawConnection) -> None:
        if not await conn.read_request():
            return
        if reply:
            await conn.send(reply)
        if not then_close:
            await asyncio.sleep(30)

    return handler


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    for _ in range(100_000):
        data = await reader.read(65536)
        if not data:
            return
        writer.write(data)
        await writer.drain()


def relay(
    reply: bytes = ESTABLISHED, delay: float = 0.0
) -> Callable[[RawConnection], Awaitable[None]]:
    """A CONNECT proxy: records the CONNECT head, sends ``reply`` (after ``delay``
    seconds), then relays bytes both ways between the client and the ``host:port``
    it asked for."""

    async def handler(conn: RawConnection) -> None:
        head = await conn.read_request()
        if not head:
            return
        host, _, port = request_line(head).split(b" ")[1].decode().rpartition(":")
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        tasks = [
            asyncio.create_task(_pipe(conn.reader, up_writer)),
            asyncio.create_task(_pipe(up_reader, conn.writer)),
        ]
        try:
            await asyncio.sleep(delay)
            await conn.send(reply)
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            up_writer.close()

    return handler


@pytest.fixture
def tls_handler() -> Handler:
    """The servers of ``tls_server`` (conftest) answer every request with TLS_BODY."""
    return always(response(TLS_BODY))


@pytest.fixture(scope="module")
def tinyproxy() -> Iterator[Tinyproxy]:
    with run_tinyproxy() as proxy:
        yield proxy


@pytest.fixture(scope="module")
def tinyproxy_auth() -> Iterator[Tinyproxy]:
    with run_tinyproxy(basic_auth=("alice", "s3cret")) as proxy:
        yield proxy


# -- the fixtures themselves, without rawhttp ------------------------------------------


def test_tinyproxy_fixture_relays_with_a_raw_socket(
    tinyproxy: Tinyproxy, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/raw").respond_with_data("raw ok")
    with socket.create_connection(("127.0.0.1", tinyproxy.port), timeout=5) as s:
        target = f"127.0.0.1:{httpserver.port}"
        s.sendall(f"GET http://{target}/raw HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
        data = b""
        for _ in range(100):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    assert data.startswith(b"HTTP/1.")
    assert data.endswith(b"raw ok")
    (request, _), *_ = httpserver.log
    assert "tinyproxy" in request.headers["Via"]


# -- through tinyproxy -----------------------------------------------------------------


async def test_http_via_tinyproxy(tinyproxy: Tinyproxy, raw_server: MakeRaw) -> None:
    origin = await raw_server(always(response(ORIGIN_BODY)))
    async with rawhttp.Session(timeout=QUICK, proxy=tinyproxy.url, trust_env=False) as s:
        for _ in range(3):  # tinyproxy closes after each response: no stale reuse errors
            r = await s.get(origin.url("/path?q=1"))
            assert (r.status, r.content) == (200, ORIGIN_BODY)
            assert r.url == origin.url("/path?q=1")
    assert len(origin.requests) == 3
    for head in origin.requests:
        assert request_line(head) == b"GET /path?q=1 HTTP/1.1"  # origin-form at the origin
        assert fields(head, "host") == [f"127.0.0.1:{origin.port}"]
        assert any("tinyproxy" in via for via in fields(head, "via"))  # it went through
        assert fields(head, "proxy-authorization") == []
    assert f"GET http://127.0.0.1:{origin.port}/path?q=1 HTTP/1.1" in tinyproxy.log()


def test_sync_session_via_tinyproxy(tinyproxy: Tinyproxy, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/sync").respond_with_data("sync ok")
    with rawhttp.SyncSession(proxy=tinyproxy.url, trust_env=False) as s:
        for _ in range(2):
            assert s.get(httpserver.url_for("/sync")).content == b"sync ok"
    assert len(httpserver.log) == 2
    for request, _ in httpserver.log:
        assert "tinyproxy" in request.headers["Via"]


def test_one_shot_get_via_tinyproxy(tinyproxy: Tinyproxy, httpserver: HTTPServer) -> None:
    # README: the one-shot functions "take the same options as Session".
    httpserver.expect_request("/once").respond_with_data("once ok")
    r = rawhttp.get(httpserver.url_for("/once"), proxy=tinyproxy.url, trust_env=False)
    assert (r.status, r.content) == (200, b"once ok")
    ((request, _),) = httpserver.log
    assert "tinyproxy" in request.headers["Via"]


async def test_cli_proxy_via_tinyproxy(tinyproxy: Tinyproxy, raw_server: MakeRaw) -> None:
    origin = await raw_server(always(response(ORIGIN_BODY)))
    result = await run_cli("-x", tinyproxy.url, origin.url("/cli"))
    assert result == (0, ORIGIN_BODY, b"")
    (head,) = origin.requests
    assert request_line(head) == b"GET /cli HTTP/1.1"
    assert any("tinyproxy" in via for via in fields(head, "via"))
    # -x "" overrides the environment's proxy; --noproxy exempts a host from -x.
    env = {"http_proxy": f"http://127.0.0.1:{refused_port()}"}
    assert await run_cli("-x", "", origin.url("/direct"), env=env) == (0, ORIGIN_BODY, b"")
    noproxy = ("-x", f"http://127.0.0.1:{refused_port()}", "--noproxy", "127.0.0.1")
    assert await run_cli(*noproxy, origin.url("/direct")) == (0, ORIGIN_BODY, b"")
    assert [request_line(h) for h in origin.requests[1:]] == [b"GET /direct HTTP/1.1"] * 2
    for head in origin.requests[1:]:
        assert fields(head, "via") == []


async def test_https_via_tinyproxy_keeps_the_tunnel(
    tinyproxy: Tinyproxy, tls_server: MakeRaw, ca_path: str
) -> None:
    # The certificate names only "localhost": it does not cover the proxy's 127.0.0.1,
    # so success shows TLS was made with (and checked against) the origin's name.
    origin = await tls_server("localhost")
    url = origin.url("/secure?x=1", host="localhost")
    async with rawhttp.Session(
        timeout=QUICK, proxy=tinyproxy.url, trust_env=False, verify=ca_path
    ) as s:
        for _ in range(3):
            r = await s.get(url)
            assert (r.status, r.content) == (200, TLS_BODY)
    assert origin.connections == 1  # one tunnel, kept alive
    assert tinyproxy.log().count(f"CONNECT localhost:{origin.port} HTTP/1.1") == 1
    assert len(origin.requests) == 3
    for head in origin.requests:
        assert request_line(head) == b"GET /secure?x=1 HTTP/1.1"
        assert fields(head, "host") == [f"localhost:{origin.port}"]
        assert fields(head, "via") == []  # tinyproxy cannot see inside the tunnel


async def test_https_via_tinyproxy_checks_the_origin_name(
    tinyproxy: Tinyproxy, tls_server: MakeRaw, ca_path: str
) -> None:
    origin = await tls_server("example.org")
    async with rawhttp.Session(
        timeout=QUICK, proxy=tinyproxy.url, trust_env=False, verify=ca_path
    ) as s:
        with pytest.raises(rawhttp.TLSError):
            await s.get(origin.url())
        with pytest.raises(rawhttp.TLSError):
            await s.get(origin.url(host="localhost"))
    assert origin.requests == []


async def test_https_via_tinyproxy_rejects_an_unknown_ca(
    tinyproxy: Tinyproxy, tls_server: MakeRaw
) -> None:
    origin = await tls_server("127.0.0.1")
    async with rawhttp.Session(timeout=QUICK, proxy=tinyproxy.url, trust_env=False) as s:
        with pytest.raises(rawhttp.TLSError):
            await s.get(origin.url())  # verify=True: certifi does not know trustme's CA
    assert origin.requests == []


async def test_tinyproxy_basic_auth_with_credentials(
    tinyproxy_auth: Tinyproxy,
    raw_server: MakeRaw,
    tls_server: MakeRaw,
    ca_path: str,
) -> None:
    origin = await raw_server(always(response(ORIGIN_BODY)))
    secure = await tls_server("127.0.0.1")
    async with rawhttp.Session(
        timeout=QUICK, proxy=tinyproxy_auth.url, trust_env=False, verify=ca_path
    ) as s:
        r = await s.get(origin.url("/a"))
        assert (r.status, r.content) == (200, ORIGIN_BODY)
        r = await s.get(secure.url("/b"))
        assert (r.status, r.content) == (200, TLS_BODY)
    (head,) = origin.requests
    assert any("tinyproxy" in via for via in fields(head, "via"))
    (head,) = secure.requests
    assert fields(head, "proxy-authorization") == []


async def test_tinyproxy_basic_auth_without_credentials(
    tinyproxy_auth: Tinyproxy,
    raw_server: MakeRaw,
    tls_server: MakeRaw,
    ca_path: str,
) -> None:
    origin = await raw_server(always(response(ORIGIN_BODY)))
    secure = await tls_server("127.0.0.1")
    proxy = tinyproxy_auth.url_without_credentials
    async with rawhttp.Session(timeout=QUICK, proxy=proxy, trust_env=False, verify=ca_path) as s:
        r = await s.get(origin.url("/a"))  # http://: the proxy's 407 is just a response
        assert r.status == 407
        assert r.headers["proxy-authenticate"].startswith("Basic")
        with pytest.raises(rawhttp.ProxyError) as info:
            await s.get(secure.url("/b"))
    assert info.value.status == 407
    assert isinstance(info.value, rawhttp.TransportError)
    assert "407" in str(info.value)
    assert f"127.0.0.1:{tinyproxy_auth.port}" in str(info.value)
    assert origin.requests == []
    assert secure.connections == 0


async def test_tinyproxy_basic_auth_wrong_password(
    tinyproxy_auth: Tinyproxy, tls_server: MakeRaw, ca_path: str
) -> None:
    secure = await tls_server("127.0.0.1")
    proxy = f"http://alice:wrong-pw@127.0.0.1:{tinyproxy_auth.port}"
    async with rawhttp.Session(timeout=QUICK, proxy=proxy, trust_env=False, verify=ca_path) as s:
        with pytest.raises(rawhttp.ProxyError) as info:
            await s.get(secure.url())
    # tinyproxy answers missing credentials with 407 but wrong ones with 401.
    assert info.value.status in (401, 407)
    assert "wrong-pw" not in str(info.value)
    assert "alice" not in str(info.value)


# -- a raw CONNECT proxy: what goes on the wire ---------------------------------------


async def test_connect_request_and_what_goes_inside_the_tunnel(
    raw_server: MakeRaw, tls_server: MakeRaw, ca_path: str
) -> None:
    origin = await tls_server("127.0.0.1")
    proxy = await raw_server(relay())
    async with rawhttp.Session(
        timeout=QUICK,
        proxy=f"http://user:secret@127.0.0.1:{proxy.port}",
        trust_env=False,
        verify=ca_path,
        auth=("origin-user", "origin-pw"),
    ) as s:
        for path in ("/one", "/two?x=y"):
            r = await s.get(origin.url(path))
            assert (r.status, r.content) == (200, TLS_BODY)
    assert proxy.connections == 1
    (connect,) = proxy.requests  # one tunnel for both requests
    assert request_line(connect) == f"CONNECT 127.0.0.1:{origin.port} HTTP/1.1".encode()
    assert fields(connect, "host") == [f"127.0.0.1:{origin.port}"]
    assert fields(connect, "proxy-authorization") == [basic("user", "secret")]
    assert fields(connect, "authorization") == []  # the origin's credentials stay inside
    assert origin.connections == 1
    assert [request_line(h) for h in origin.requests] == [
        b"GET /one HTTP/1.1",
        b"GET /two?x=y HTTP/1.1",
    ]
    for head in origin.requests:
        assert fields(head, "host") == [f"127.0.0.1:{origin.port}"]
        assert fields(head, "proxy-authorization") == []
        assert fields(head, "authorization") == [basic("origin-user", "origin-pw")]


@pytest.mark.parametrize(
    ("url", "authority"),
    [
        ("https://origin.test/", "origin.test:443"),
        ("https://Origin.TEST:8443/x?y", "origin.test:8443"),
        ("https://[::1]/", "[::1]:443"),
        ("https://[2001:db8::7]:9443/", "[2001:db8::7]:9443"),
    ],
)
async def test_connect_authority_form(raw_server: MakeRaw, url: str, authority: str) -> None:
    proxy = await raw_server(answer_with(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"))
    async with rawhttp.Session(timeout=QUICK, proxy=proxy.url(), trust_env=False) as s:
        with pytest.raises(rawhttp.ProxyError):
            await s.get(url)
    (connect,) = proxy.requests
    assert request_line(connect) == f"CONNECT {authority} HTTP/1.1".encode()
    assert fields(connect, "host") == [authority]


async def test_proxy_url_without_scheme(
    raw_server: MakeRaw, tls_server: MakeRaw, ca_path: str
) -> None:
    origin = await tls_server("127.0.0.1")
    proxy = await raw_server(relay())
    async with rawhttp.Session(
        timeout=QUICK, proxy=f"127.0.0.1:{proxy.port}", trust_env=False, verify=ca_path
    ) as s:
        assert (await s.get(origin.url())).content == TLS_BODY
    assert len(proxy.requests) == 1


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200 Connection established\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.0 200 Connection established\r\nProxy-agent: raw\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 Connection established\r\n\r\n",
    ],
    ids=["length-and-chunked", "http-1.0", "connection-close", "interim-1xx-first"],
)
async def test_2xx_connect_reply_framing_is_ignored(
    raw_server: MakeRaw,
    tls_server: MakeRaw,
    ca_path: str,
    reply: bytes,
) -> None:
    origin = await tls_server("127.0.0.1")
    proxy = await raw_server(relay(reply))
    async with rawhttp.Session(
        timeout=QUICK, proxy=proxy.url(), trust_env=False, verify=ca_path
    ) as s:
        for _ in range(2):
            r = await s.get(origin.url("/inside"))
            assert (r.status, r.content) == (200, TLS_BODY)
    assert proxy.connections == 1
    assert origin.connections == 1
    assert len(origin.requests) == 2


async def test_timings_through_a_tunnel(
    raw_server: MakeRaw, tls_server: MakeRaw, ca_path: str
) -> None:
    origin = await tls_server("127.0.0.1")
    proxy = await raw_server(relay(delay=0.2))  # the CONNECT exchange takes 0.2 s
    async with rawhttp.Session(
        timeout=QUICK, proxy=proxy.url(), trust_env=False, verify=ca_path
    ) as s:
        first = await s.get(origin.url())
        second = await s.get(origin.url())
    t = first.timings
    assert not t.reused
    assert t.connect >= 0.19  # the CONNECT exchange counts as connecting
    assert t.tls > 0.0
    assert t.first_byte >= t.connect + t.tls
    t = second.timings
    assert t.reused
    assert (t.connect, t.tls) == (0.0, 0.0)


async def test_tunnel_closed_by_the_origin_is_replaced(
    raw_server: MakeRaw, tls_server: MakeRaw, ca_path: str
) -> None:
    # The origin answers one request per connection, then closes without saying so.
    origin = await tls_server("127.0.0.1", handler=replay(response(TLS_BODY), close=True))
    proxy = await raw_server(relay())
    async with rawhttp.Session(
        timeout=QUICK, proxy=proxy.url(), trust_env=False, verify=ca_path
    ) as s:
        for _ in range(3):
            assert (await s.get(origin.url())).content == TLS_BODY
            await asyncio.sleep(0.05)  # let the close travel back through the proxy
    assert len(origin.requests) == 3
    assert origin.connections == 3
    assert len(proxy.requests) == 3  # a new CONNECT for each


async def test_cancelled_during_connect_leaks_nothing(raw_server: MakeRaw) -> None:
    got_connect = asyncio.Event()

    async def silent_proxy(conn: RawConnection) -> None:
        await conn.read_request()
        got_connect.set()
        await conn.reader.read()  # until the client closes its end

    proxy = await raw_server(silent_proxy)
    async with rawhttp.Session(timeout=QUICK, proxy=proxy.url(), trust_env=False) as s:
        task = asyncio.create_task(s.get("https://origin.test/"))
        await asyncio.wait_for(got_connect.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert s.pool.connections == 0
    for _ in range(100):  # the proxy sees the socket closed
        if proxy.open_now == 0:
            break
        await asyncio.sleep(0.01)
    assert proxy.open_now == 0


@pytest.mark.parametrize("status", [407, 403, 500, 502])
async def test_connect_refused_with_a_status_is_proxy_error(
    raw_server: MakeRaw, status: int
) -> None:
    body = b"no tunnel for you"
    reply = b"HTTP/1.1 %d Nope\r\nContent-Length: %d\r\n\r\n%s" % (status, len(body), body)
    proxy = await raw_server(answer_with(reply))
    async with rawhttp.Session(
        timeout=QUICK, proxy=f"http://user:secret@127.0.0.1:{proxy.port}", trust_env=False
    ) as s:
        with pytest.raises(rawhttp.ProxyError) as info:
            await s.get("https://origin.test:8443/")
        assert s.pool.connections == 0
    err = info.value
    assert err.status == status
    assert isinstance(err, rawhttp.TransportError)
    assert not isinstance(err, rawhttp.TimeoutError)
    message = str(err)
    assert str(status) in message
    assert f"127.0.0.1:{proxy.port}" in message
    assert "secret" not in message
    assert "user" not in message
    assert proxy.connections == 1  # a refused CONNECT is not retried
    assert request_line(proxy.requests[0]) == b"CONNECT origin.test:8443 HTTP/1.1"


@pytest.mark.parametrize(
    "reply",
    [
        b"",
        b"garbage\r\n\r\n",
        b"SSH-2.0-OpenSSH_9.2p1\r\n",
        b"HTTP/1.1 20",
        b"HTTP/1.1 200 Connection established\r\nX-Half: a",
        b"HTTP/1.1 2000 Weird\r\n\r\n",
    ],
    ids=["closed-silently", "garbage", "ssh-banner", "cut-status", "cut-headers", "bad-status"],
)
async def test_connect_without_a_valid_reply_is_proxy_error(
    raw_server: MakeRaw, reply: bytes
) -> None:
    proxy = await raw_server(answer_with(reply))
    async with rawhttp.Session(timeout=QUICK, proxy=proxy.url(), trust_env=False) as s:
        with pytest.raises(rawhttp.ProxyError) as info:
            await s.get("https://origin.test/")
        assert s.pool.connections == 0
    assert info.value.status is None
    assert f"127.0.0.1:{proxy.port}" in str(info.value)


@pytest.mark.parametrize(
    "reply",
    [b"", b"HTTP/1.1 200 Conn", ESTABLISHED],
    ids=["no-reply", "partial-reply", "tls-handshake-stalls"],
)
async def test_stalling_proxy_is_connect_timeout(raw_server: MakeRaw, reply: bytes) -> None:
    proxy = await raw_server(answer_with(reply, then_close=False))
    timeout = rawhttp.Timeout(5.0, connect=0.3)
    async with rawhttp.Session(timeout=timeout, proxy=proxy.url(), trust_env=False) as s:
        start = time.monotonic()
        with pytest.raises(rawhttp.ConnectTimeout):
            await s.get("https://origin.test/")
        elapsed = time.monotonic() - start
        assert s.pool.connections == 0
    assert 0.25 < elapsed < 2.0


async def test_stalling_proxy_for_http_is_read_timeout(raw_server: MakeRaw) -> None:
    proxy = await raw_server(answer_with(b"", then_close=False))
    timeout = rawhttp.Timeout(5.0, read=0.3)
    async with rawhttp.Session(timeout=timeout, proxy=proxy.url(), trust_env=False) as s:
        start = time.monotonic()
        with pytest.raises(rawhttp.ReadTimeout):
            await s.get("http://origin.test/")
    assert time.monotonic() - start < 2.0


@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_unreachable_proxy_is_connect_error(scheme: str) -> None:
    port = refused_port()
    async with rawhttp.Session(
        timeout=QUICK, proxy=f"http://user:secret@127.0.0.1:{port}", trust_env=False
    ) as s:
        with pytest.raises(rawhttp.ConnectError) as info:
            await s.get(f"{scheme}://origin.test/")
    assert not isinstance(info.value, rawhttp.TimeoutError)
    assert not isinstance(info.value, rawhttp.ProxyError)
    assert f"127.0.0.1:{port}" in str(info.value)  # names the proxy...
    assert "secret" not in str(info.value)  # ...without its credentials


# -- a raw proxy for http:// URLs ------------------------------------------------------


async def test_http_via_proxy_uses_absolute_form(raw_server: MakeRaw) -> None:
    proxy = await raw_server(always(response(PROXY_BODY)))
    async with rawhttp.Session(
        timeout=QUICK, proxy=f"http://user:secret@127.0.0.1:{proxy.port}", trust_env=False
    ) as s:
        # The origin's name is never resolved by the client: only the proxy sees it.
        r = await s.get("http://origin.test:8080/path?q")
        assert (r.status, r.content) == (200, PROXY_BODY)
        r = await s.post("http://origin.test:8080/form", content=b"abc")
        assert (r.status, r.content) == (200, PROXY_BODY)
    assert proxy.connections == 1  # kept alive to the proxy
    first, second = proxy.requests
    assert request_line(first) == b"GET http://origin.test:8080/path?q HTTP/1.1"
    assert fields(first, "host") == ["origin.test:8080"]
    assert fields(first, "proxy-authorization") == [basic("user", "secret")]
    assert request_line(second) == b"POST http://origin.test:8080/form HTTP/1.1"
    assert fields(second, "proxy-authorization") == [basic("user", "secret")]
    assert second.endswith(b"\r\n\r\nabc")


async def test_redirects_via_proxy_keep_the_proxy_credentials(raw_server: MakeRaw) -> None:
    redirect = (
        b"HTTP/1.1 302 Found\r\nLocation: http://other.test:81/next\r\nContent-Length: 0\r\n\r\n"
    )
    proxy = await raw_server(replay_then_ok(redirect))
    async with rawhttp.Session(
        timeout=QUICK, proxy=f"http://user:secret@127.0.0.1:{proxy.port}", trust_env=False
    ) as s:
        r = await s.get("http://origin.test/start", follow_redirects=True)
    assert (r.status, r.content) == (200, PROXY_BODY)
    assert r.url == "http://other.test:81/next"
    first, second = proxy.requests
    assert request_line(first) == b"GET http://origin.test/start HTTP/1.1"
    assert request_line(second) == b"GET http://other.test:81/next HTTP/1.1"
    assert fields(second, "host") == ["other.test:81"]
    # The proxy's credentials are for the proxy: a change of origin does not drop them.
    assert fields(first, "proxy-authorization") == [basic("user", "secret")]
    assert fields(second, "proxy-authorization") == [basic("user", "secret")]


def replay_then_ok(first: bytes) -> Callable[[RawConnection], Awaitable[None]]:
    """Answer the first request of the server with ``first``, every other with PROXY_BODY."""
    answered = 0

    async def handler(conn: RawConnection) -> None:
        nonlocal answered
        for _ in range(100):
            if not await conn.read_request():
                return
            answered += 1
            await conn.send(first if answered == 1 else response(PROXY_BODY))

    return handler


async def test_http_via_proxy_407_is_a_response(raw_server: MakeRaw) -> None:
    reply = (
        b"HTTP/1.1 407 Proxy Authentication Required\r\n"
        b'Proxy-Authenticate: Basic realm="raw"\r\nContent-Length: 4\r\n\r\nauth'
    )
    proxy = await raw_server(answer_with(reply))
    async with rawhttp.Session(timeout=QUICK, proxy=proxy.url(), trust_env=False) as s:
        r = await s.get("http://origin.test/")
    assert (r.status, r.content) == (407, b"auth")
    assert fields(proxy.requests[0], "proxy-authorization") == []


# -- choosing the proxy: environment, no_proxy -----------------------------------------


async def answered_by(origin: RawServer, **options: object) -> bytes:
    """The body of a GET of ``origin`` from a new Session with ``options``: ORIGIN_BODY
    when the request went directly, PROXY_BODY when it went to the proxy."""
    async with rawhttp.Session(timeout=QUICK, **options) as s:  # type: ignore[arg-type]
        return (await s.get(origin.url())).content


@pytest.fixture
async def direct_and_proxy(raw_server: MakeRaw) -> tuple[RawServer, RawServer]:
    """An origin and a proxy, each answering with a body saying who answered."""
    origin = await raw_server(always(response(ORIGIN_BODY)))
    proxy = await raw_server(always(response(PROXY_BODY)))
    return origin, proxy


@pytest.mark.parametrize("variable", ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"])
async def test_env_proxy_is_used_for_http(
    direct_and_proxy: tuple[RawServer, RawServer], monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    origin, proxy = direct_and_proxy
    monkeypatch.setenv(variable, proxy.url())
    async with rawhttp.Session(timeout=QUICK) as s:  # trust_env=True by default
        assert (await s.get(origin.url("/x"))).content == PROXY_BODY
    assert request_line(proxy.requests[0]) == f"GET {origin.url('/x')} HTTP/1.1".encode()
    assert origin.requests == []


async def test_env_lower_case_wins(
    direct_and_proxy: tuple[RawServer, RawServer],
    raw_server: MakeRaw,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    origin, proxy = direct_and_proxy
    other = await raw_server(always(response(b"the upper-case one")))
    monkeypatch.setenv("http_proxy", proxy.url())
    monkeypatch.setenv("HTTP_PROXY", other.url())
    assert await answered_by(origin) == PROXY_BODY
    assert other.connections == 0


async def test_https_proxy_env_is_used_for_https(
    raw_server: MakeRaw,
    tls_server: MakeRaw,
    ca_path: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    origin = await tls_server("127.0.0.1")
    proxy = await raw_server(relay())
    # http_proxy is for http:// URLs only: pointing it at a closed port changes nothing.
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{refused_port()}")
    monkeypatch.setenv("HTTPS_PROXY", proxy.url())
    assert await answered_by(origin, verify=ca_path) == TLS_BODY
    assert request_line(proxy.requests[0]) == f"CONNECT 127.0.0.1:{origin.port} HTTP/1.1".encode()


async def test_https_proxy_env_is_not_used_for_http(
    direct_and_proxy: tuple[RawServer, RawServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    origin, proxy = direct_and_proxy
    monkeypatch.setenv("https_proxy", proxy.url())
    assert await answered_by(origin) == ORIGIN_BODY
    assert proxy.connections == 0


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("no_proxy", "127.0.0.1"),
        ("NO_PROXY", "localhost, 127.0.0.1"),
        ("no_proxy", "*"),
        ("no_proxy", "127.0.0.0/8"),
    ],
)
async def test_env_no_proxy_bypasses(
    direct_and_proxy: tuple[RawServer, RawServer],
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
) -> None:
    origin, proxy = direct_and_proxy
    monkeypatch.setenv("HTTP_PROXY", proxy.url())
    monkeypatch.setenv(variable, value)
    assert await answered_by(origin) == ORIGIN_BODY
    assert proxy.connections == 0


async def test_env_no_proxy_not_matching_keeps_the_proxy(
    direct_and_proxy: tuple[RawServer, RawServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    origin, proxy = direct_and_proxy
    monkeypatch.setenv("HTTP_PROXY", proxy.url())
    monkeypatch.setenv("NO_PROXY", "example.org,10.0.0.1")
    assert await answered_by(origin) == PROXY_BODY


async def test_env_no_proxy_applies_to_an_explicit_proxy(
    direct_and_proxy: tuple[RawServer, RawServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    origin, proxy = direct_and_proxy
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    assert await answered_by(origin, proxy=proxy.url()) == ORIGIN_BODY
    assert proxy.connections == 0


async def test_http_proxy_upper_case_is_ignored_under_cgi(
    direct_and_proxy: tuple[RawServer, RawServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    # httpoxy: in a CGI script a request's "Proxy:" header becomes HTTP_PROXY.
    origin, proxy = direct_and_proxy
    monkeypatch.setenv("REQUEST_METHOD", "GET")
    monkeypatch.setenv("HTTP_PROXY", proxy.url())
    assert await answered_by(origin) == ORIGIN_BODY
    monkeypatch.setenv("http_proxy", proxy.url())
    assert await answered_by(origin) == PROXY_BODY


async def test_environment_is_read_when_the_session_is_created(
    direct_and_proxy: tuple[RawServer, RawServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    origin, proxy = direct_and_proxy
    async with rawhttp.Session(timeout=QUICK) as s:
        monkeypatch.setenv("http_proxy", proxy.url())
        assert (await s.get(origin.url())).content == ORIGIN_BODY
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    async with rawhttp.Session(timeout=QUICK) as s:
        monkeypatch.delenv("no_proxy")
        assert (await s.get(origin.url())).content == ORIGIN_BODY
    assert proxy.connections == 0


async def test_trust_env_false_ignores_the_environment(
    direct_and_proxy: tuple[RawServer, RawServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    origin, proxy = direct_and_proxy
    monkeypatch.setenv("http_proxy", proxy.url())
    monkeypatch.setenv("ALL_PROXY", proxy.url())
    assert await answered_by(origin, trust_env=False) == ORIGIN_BODY
    assert proxy.connections == 0


async def test_explicit_proxy_wins_over_the_environment(
    direct_and_proxy: tuple[RawServer, RawServer],
    raw_server: MakeRaw,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    origin, proxy = direct_and_proxy
    env_proxy = await raw_server(always(response(b"the environment's proxy")))
    monkeypatch.setenv("http_proxy", env_proxy.url())
    assert await answered_by(origin, proxy=proxy.url()) == PROXY_BODY
    assert env_proxy.connections == 0


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "localhost,127.0.0.1", "*"])
async def test_session_no_proxy_bypasses_an_explicit_proxy(
    direct_and_proxy: tuple[RawServer, RawServer], no_proxy: str
) -> None:
    origin, proxy = direct_and_proxy
    assert await answered_by(origin, proxy=proxy.url(), no_proxy=no_proxy) == ORIGIN_BODY
    assert proxy.connections == 0


async def test_session_no_proxy_with_a_port(
    direct_and_proxy: tuple[RawServer, RawServer],
) -> None:
    origin, proxy = direct_and_proxy
    exempt = f"127.0.0.1:{origin.port}"
    assert await answered_by(origin, proxy=proxy.url(), no_proxy=exempt) == ORIGIN_BODY
    other = f"127.0.0.1:{refused_port()}"
    assert await answered_by(origin, proxy=proxy.url(), no_proxy=other) == PROXY_BODY


async def test_session_no_proxy_overrides_the_environment(
    direct_and_proxy: tuple[RawServer, RawServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    origin, proxy = direct_and_proxy
    monkeypatch.setenv("http_proxy", proxy.url())
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    assert await answered_by(origin, no_proxy="example.org") == PROXY_BODY


# -- pooling -------------------------------------------------------------------------


async def test_proxied_and_direct_connections_are_pooled_apart(raw_server: MakeRaw) -> None:
    """One server is both a proxy and an origin: requests to it directly (exempted by
    no_proxy) and requests through it as a proxy must never share a connection."""
    seen: list[tuple[int, bytes]] = []

    async def handler(conn: RawConnection) -> None:
        for _ in range(100):
            head = await conn.read_request()
            if not head:
                return
            seen.append((conn.index, request_line(head)))
            await conn.send(response(b"ok"))

    server = await raw_server(handler)
    direct = server.url("/direct")
    async with rawhttp.Session(
        timeout=QUICK, proxy=server.url(), no_proxy="127.0.0.1", trust_env=False
    ) as s:
        for url in [direct, "http://origin.test/p", direct, "http://origin.test/p", direct]:
            assert (await s.get(url)).content == b"ok"
    assert server.connections == 2
    by_connection: dict[int, set[bytes]] = {}
    for index, line in seen:
        by_connection.setdefault(index, set()).add(line)
    # Each connection carried one kind of request only.
    assert sorted(tuple(lines) for lines in by_connection.values()) == [
        (b"GET /direct HTTP/1.1",),
        (b"GET http://origin.test/p HTTP/1.1",),
    ]


async def test_same_tls_origin_direct_and_through_a_tunnel(
    raw_server: MakeRaw,
    tls_server: MakeRaw,
    ca_path: str,
) -> None:
    """One https server reached directly (as "localhost", exempted by no_proxy) and
    through a tunnel (as 127.0.0.1): each way keeps its own connection."""
    origin = await tls_server("127.0.0.1", "localhost")
    proxy = await raw_server(relay())
    async with rawhttp.Session(
        timeout=QUICK, proxy=proxy.url(), no_proxy="localhost", trust_env=False, verify=ca_path
    ) as s:
        for _ in range(2):
            assert (await s.get(origin.url(host="localhost"))).content == TLS_BODY  # direct
            assert (await s.get(origin.url())).content == TLS_BODY  # tunnelled
    assert proxy.connections == 1
    assert origin.connections == 2  # one direct, one through the tunnel
    assert len(origin.requests) == 4
