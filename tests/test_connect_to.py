"""``Session(connect_to=...)``: open the TCP connection to another host and port than
the URL's (curl's ``--resolve`` and ``--connect-to``), while the Host header, TLS SNI and
the certificate check stay the URL's host's and the pool keys on the URL's origin; a
callable that raises or returns garbage is an InvalidRequest."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import trustme
from conftest import RawConnection, RawServer, always, assert_clean, head_fields, server_context

import rawhttp

QUICK = rawhttp.Timeout(5.0)
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
MakeServer = Callable[..., Awaitable[RawServer]]
Target = tuple[str, int] | None


def ipv6_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


class Mapping:
    """A ``connect_to`` callable answering from a dict, noting every question."""

    def __init__(self, table: dict[tuple[str, int], tuple[str, int]]) -> None:
        self.table = table
        self.asked: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> Target:
        self.asked.append((host, port))
        return self.table.get((host, port))


def host_of(request: bytes) -> str:
    return dict(head_fields(request))["host"]


# -- plain http -------------------------------------------------------------------------


async def test_a_name_goes_to_the_mapped_address(raw_server: MakeServer) -> None:
    """curl's --resolve: the name is not resolved, the connection goes to the address
    given; the request still names the URL's host."""
    server = await raw_server(always(OK))
    mapping = Mapping({("app.invalid", server.port): ("127.0.0.1", server.port)})
    url = f"http://app.invalid:{server.port}/p"
    async with rawhttp.Session(timeout=QUICK, connect_to=mapping, trust_env=False) as s:
        first = await s.get(url)
        second = await s.get(url)
        assert_clean(s)
    assert (first.status, first.content, second.content) == (200, b"ok", b"ok")
    assert [host_of(r) for r in server.requests] == [f"app.invalid:{server.port}"] * 2
    assert server.requests[0].startswith(b"GET /p HTTP/1.1\r\n")
    assert first.url == url
    assert first.remote_address == ("127.0.0.1", server.port)
    assert server.connections == 1  # pooled: the second request reused the connection
    assert mapping.asked == [("app.invalid", server.port)]  # asked per connection opened
    assert second.timings.reused


async def test_another_port_too(raw_server: MakeServer) -> None:
    """curl's --connect-to: the URL's default port 80, the server's somewhere else;
    the Host header keeps the URL's (no port)."""
    server = await raw_server(always(OK))
    mapping = Mapping({("app.invalid", 80): ("127.0.0.1", server.port)})
    async with rawhttp.Session(timeout=QUICK, connect_to=mapping, trust_env=False) as s:
        r = await s.get("http://app.invalid/")
    assert r.content == b"ok"
    assert host_of(server.requests[0]) == "app.invalid"
    assert r.remote_address == ("127.0.0.1", server.port)


async def test_none_connects_as_usual(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))
    mapping = Mapping({})
    async with rawhttp.Session(timeout=QUICK, connect_to=mapping, trust_env=False) as s:
        r = await s.get(server.url("/"))
    assert r.content == b"ok"
    assert mapping.asked == [("127.0.0.1", server.port)]


async def test_the_target_may_be_a_name(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))
    mapping = Mapping({("app.invalid", 80): ("localhost", server.port)})
    async with rawhttp.Session(timeout=QUICK, connect_to=mapping, trust_env=False) as s:
        r = await s.get("http://app.invalid/")
    assert r.content == b"ok"
    assert r.remote_address == ("127.0.0.1", server.port)


@pytest.mark.parametrize("written", ["::1", "[::1]"])
async def test_the_target_may_be_ipv6(raw_server: MakeServer, written: str) -> None:
    if not ipv6_available():
        pytest.skip("no IPv6 loopback (::1) on this machine: nothing to connect to")
    server = await raw_server(always(OK), host="::1")
    mapping = Mapping({("app.invalid", 80): (written, server.port)})
    events: list[rawhttp.TraceEvent] = []
    async with rawhttp.Session(timeout=QUICK, connect_to=mapping, trust_env=False) as s:
        r = await s.get("http://app.invalid/", trace=events.append)
    assert r.content == b"ok"
    assert r.remote_address == ("::1", server.port)
    assert [e.data for e in events if e.kind == "connect"] == [b"::1 %d" % server.port]
    assert host_of(server.requests[0]) == "app.invalid"


async def test_an_ipv6_url_can_be_mapped_to_ipv4(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))
    mapping = Mapping({("::1", 8080): ("127.0.0.1", server.port)})
    async with rawhttp.Session(timeout=QUICK, connect_to=mapping, trust_env=False) as s:
        r = await s.get("http://[::1]:8080/")
    assert r.content == b"ok"
    assert host_of(server.requests[0]) == "[::1]:8080"
    assert mapping.asked == [("::1", 8080)]  # the URL's host without brackets


async def test_connections_are_pooled_by_the_urls_origin(raw_server: MakeServer) -> None:
    """Two names mapped to one server are two origins: two connections, each reused
    for its own name only."""
    server = await raw_server(always(OK))
    target = ("127.0.0.1", server.port)
    mapping = Mapping({("a.invalid", 80): target, ("b.invalid", 80): target})
    async with rawhttp.Session(timeout=QUICK, connect_to=mapping, trust_env=False) as s:
        for _ in range(2):
            assert (await s.get("http://a.invalid/")).content == b"ok"
            assert (await s.get("http://b.invalid/")).content == b"ok"
        assert s.pool.connections == 2
    assert server.connections == 2
    assert mapping.asked == [("a.invalid", 80), ("b.invalid", 80)]
    hosts = [host_of(r) for r in server.requests]
    assert hosts == ["a.invalid", "b.invalid"] * 2


async def test_a_refused_target_is_a_connect_error(raw_server: MakeServer) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mapping = Mapping({("app.invalid", 80): ("127.0.0.1", port)})
    async with rawhttp.Session(timeout=QUICK, connect_to=mapping, trust_env=False) as s:
        with pytest.raises(rawhttp.ConnectError) as info:
            await s.get("http://app.invalid/")
        assert info.value.reason == "refused"
        assert_clean(s)


async def test_blocking_session_with_connect_to(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))
    mapping = Mapping({("app.invalid", 80): ("127.0.0.1", server.port)})

    def fetch() -> rawhttp.Response:
        with rawhttp.SyncSession(timeout=QUICK, connect_to=mapping, trust_env=False) as s:
            return s.get("http://app.invalid/")

    r = await asyncio.to_thread(fetch)
    assert r.content == b"ok"
    assert host_of(server.requests[0]) == "app.invalid"


# -- TLS: SNI and the certificate check are the URL's host's -----------------------------


async def tls_origin(
    raw_server: MakeServer, ca: trustme.CA, *names: str
) -> tuple[RawServer, list[str | None]]:
    """A TLS server with a certificate for ``names``, noting the SNI of each handshake."""
    context = server_context(ca, *names)
    seen: list[str | None] = []

    def sni(_: ssl.SSLObject, name: str | None, __: ssl.SSLContext) -> None:
        seen.append(name)

    context.sni_callback = sni
    return await raw_server(always(OK), ssl=context), seen


async def test_tls_names_and_checks_the_urls_host(
    raw_server: MakeServer, ca: trustme.CA, client_ssl: ssl.SSLContext
) -> None:
    """The certificate names app.test only, not 127.0.0.1: the handshake succeeds
    because SNI and the check use the URL's host."""
    server, sni = await tls_origin(raw_server, ca, "app.test")
    mapping = Mapping({("app.test", 443): ("127.0.0.1", server.port)})
    async with rawhttp.Session(
        timeout=QUICK, verify=client_ssl, connect_to=mapping, trust_env=False
    ) as s:
        r = await s.get("https://app.test/secure")
        again = await s.get("https://app.test/again")
    assert (r.status, r.content, again.content) == (200, b"ok", b"ok")
    assert sni == ["app.test"]
    assert host_of(server.requests[0]) == "app.test"
    assert r.remote_address == ("127.0.0.1", server.port)
    assert r.timings.tls > 0
    assert server.connections == 1


async def test_tls_rejects_a_certificate_for_the_target_only(
    raw_server: MakeServer, ca: trustme.CA, client_ssl: ssl.SSLContext
) -> None:
    """The certificate names 127.0.0.1, where the connection goes, but not app.test,
    the URL's host: verification fails as it would for app.test itself."""
    server, sni = await tls_origin(raw_server, ca, "127.0.0.1")
    mapping = Mapping({("app.test", 443): ("127.0.0.1", server.port)})
    async with rawhttp.Session(
        timeout=QUICK, verify=client_ssl, connect_to=mapping, trust_env=False
    ) as s:
        with pytest.raises(rawhttp.TLSError) as info:
            await s.get("https://app.test/")
        assert info.value.reason == "certificate"
        assert_clean(s)
    assert sni == ["app.test"]


# -- not asked through a proxy or over a Unix socket -------------------------------------


def refuse(host: str, port: int) -> Target:
    raise AssertionError(f"connect_to must not be asked for {host}:{port}")


async def test_not_asked_for_a_plain_request_through_a_proxy(raw_server: MakeServer) -> None:
    proxy = await raw_server(always(OK))  # answers the absolute-form request itself
    async with rawhttp.Session(
        timeout=QUICK,
        proxy=f"http://127.0.0.1:{proxy.port}",
        trust_env=False,
        connect_to=refuse,
    ) as s:
        r = await s.get("http://app.invalid/x")
    assert r.content == b"ok"
    assert r.remote_address == ("127.0.0.1", proxy.port)
    assert proxy.requests[0].startswith(b"GET http://app.invalid/x HTTP/1.1\r\n")


async def test_not_asked_for_a_tunnel_through_a_proxy(raw_server: MakeServer) -> None:
    """https through a proxy: the CONNECT names the URL's host, unmapped (the proxy
    here refuses the tunnel, which is enough to see what it was asked for)."""
    refused = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    asked: list[bytes] = []

    async def proxy_handler(conn: RawConnection) -> None:
        asked.append(await conn.read_request())
        await conn.send(refused)

    proxy = await raw_server(proxy_handler)
    async with rawhttp.Session(
        timeout=QUICK,
        proxy=f"http://127.0.0.1:{proxy.port}",
        trust_env=False,
        connect_to=refuse,
    ) as s:
        with pytest.raises(rawhttp.ProxyError) as info:
            await s.get("https://app.invalid/")
        assert info.value.status == 403
    assert asked[0].startswith(b"CONNECT app.invalid:443 HTTP/1.1\r\n")


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


async def test_not_asked_over_a_unix_socket(unix_path: str) -> None:
    async with rawhttp.Session(timeout=QUICK, unix_socket=unix_path, connect_to=refuse) as s:
        r = await s.get("http://svc/")
    assert r.content == b"ok"


# -- a callable that fails or answers garbage --------------------------------------------


GARBAGE: list[Any] = [
    "127.0.0.1:80",
    ("127.0.0.1",),
    ("127.0.0.1", 80, 0),
    ["127.0.0.1", 80],
    ("127.0.0.1", 0),
    ("127.0.0.1", 65536),
    ("127.0.0.1", -1),
    ("127.0.0.1", True),
    ("127.0.0.1", "80"),
    ("127.0.0.1", 80.0),
    ("", 80),
    ("a b", 80),
    ("host\x00", 80),
    ("host/path", 80),
    ("bücher.example", 80),
    (b"127.0.0.1", 80),
    (None, 80),
    ("x" * 300, 80),
    42,
]


@pytest.mark.parametrize("answer", GARBAGE, ids=[repr(g)[:30] for g in GARBAGE])
async def test_garbage_is_an_invalid_request(raw_server: MakeServer, answer: Any) -> None:
    server = await raw_server(always(OK))
    mapping = Mapping({("127.0.0.1", server.port): ("127.0.0.1", server.port)})
    async with rawhttp.Session(
        timeout=QUICK, max_connections=1, connect_to=lambda h, p: answer, trust_env=False
    ) as s:
        with pytest.raises(rawhttp.InvalidRequest, match=r"connect_to\('app.invalid', 80\)"):
            await s.get("http://app.invalid/")
        assert_clean(s)
        assert s.pool.connections == 0
    # The pool slot was given back: the one connection allowed can still be opened.
    async with rawhttp.Session(
        timeout=QUICK, max_connections=1, connect_to=mapping, trust_env=False
    ) as s:
        assert (await s.get(server.url())).content == b"ok"
    assert server.connections == 1


async def test_a_raising_callable_is_an_invalid_request(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))
    calls = 0

    def flaky(host: str, port: int) -> Target:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise KeyError(host)
        return ("127.0.0.1", server.port)

    async with rawhttp.Session(
        timeout=QUICK, max_connections=1, connect_to=flaky, trust_env=False
    ) as s:
        with pytest.raises(rawhttp.InvalidRequest, match="raised KeyError") as info:
            await s.get("http://app.invalid/")
        assert isinstance(info.value.__cause__, KeyError)
        assert s.pool.connections == 0
        # The slot came back: the same Session goes on (the callable answers now).
        assert (await s.get("http://app.invalid/")).content == b"ok"
    assert calls == 2


async def test_an_async_callable_is_an_invalid_request() -> None:
    async def resolver(host: str, port: int) -> Target:
        return ("127.0.0.1", port)

    async with rawhttp.Session(
        timeout=QUICK,
        connect_to=resolver,  # type: ignore[arg-type]
        trust_env=False,
    ) as s:
        with pytest.raises(rawhttp.InvalidRequest, match="coroutine"):
            await s.get("http://app.invalid/")
