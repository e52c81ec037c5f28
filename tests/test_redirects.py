"""Following redirects: methods and bodies, credentials across origins, relative
Locations, drained redirect bodies, limits; and the pure functions behind them."""

from __future__ import annotations

import asyncio
import gzip
import io
import pathlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from conftest import RawConnection, RawServer, assert_clean, basic, head_fields, read_message

import rawhttp
from rawhttp._redirect_rules import keeps_credentials, redirect_method, resolve_location
from rawhttp._url import parse_url

MakeServer = Callable[..., Awaitable[RawServer]]
QUICK = rawhttp.Timeout(5.0)


def redirect(status: int, location: str, body: bytes = b"", extra: str = "") -> bytes:
    return (
        f"HTTP/1.1 {status} Moved\r\nLocation: {location}\r\n{extra}"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def ok(body: bytes = b"final") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body


class Seen:
    """One request as the server read it."""

    def __init__(self, head: bytes, body: bytes) -> None:
        self.head = head
        self.body = body
        line = head.split(b"\r\n", 1)[0].decode("ascii")
        self.method, self.target, _ = line.split(" ")
        self.fields = head_fields(head)

    def values(self, name: str) -> list[str]:
        return [v for k, v in self.fields if k == name]

    def has(self, name: str) -> bool:
        return any(k == name for k, _ in self.fields)


class Router:
    """A raw keep-alive handler answering by request target (404 for unknown ones)."""

    def __init__(self, routes: dict[str, bytes] | None = None) -> None:
        self.routes = routes or {}
        self.seen: list[Seen] = []

    async def __call__(self, conn: RawConnection) -> None:
        while True:
            head, body = await read_message(conn)
            if not head:
                return
            seen = Seen(head, body)
            self.seen.append(seen)
            default = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
            await conn.send(self.routes.get(seen.target, default))

    @property
    def path(self) -> list[str]:
        return [s.target for s in self.seen]


@pytest.fixture
async def routed(raw_server: MakeServer) -> tuple[Router, RawServer]:
    router = Router()
    return router, await raw_server(router)


# -- on and off -------------------------------------------------------------------


async def test_redirects_not_followed_by_default(routed: tuple[Router, RawServer]) -> None:
    router, server = routed
    router.routes["/a"] = redirect(302, "/b", b"moved")
    router.routes["/b"] = ok()
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(server.url("/a"))
        assert r.status == 302
        assert r.is_redirect
        assert r.headers["location"] == "/b"
        assert r.content == b"moved"
        assert r.history == []
        assert_clean(s)
    assert router.path == ["/a"]


async def test_follow_per_session_with_history(routed: tuple[Router, RawServer]) -> None:
    router, server = routed
    router.routes["/a"] = redirect(302, "/b", b"to b")
    router.routes["/b"] = redirect(301, server.url("/c"))
    router.routes["/c"] = redirect(307, "/d")
    router.routes["/d"] = redirect(308, "/e")
    router.routes["/e"] = ok(b"at e")
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True) as s:
        r = await s.get(server.url("/a"))
        assert r.status == 200
        assert r.content == b"at e"
        assert r.url == server.url("/e")
        assert [h.status for h in r.history] == [302, 301, 307, 308]
        assert [h.url for h in r.history] == [server.url(p) for p in ("/a", "/b", "/c", "/d")]
        assert r.history[0].content == b"to b"
        assert all(h.history == [] for h in r.history)
        # Per request False overrides the session.
        r = await s.get(server.url("/a"), follow_redirects=False)
        assert r.status == 302
        assert r.history == []
        assert_clean(s)
    assert router.path == ["/a", "/b", "/c", "/d", "/e", "/a"]
    assert server.connections == 1  # every redirect body was drained, the connection reused


async def test_follow_per_request(routed: tuple[Router, RawServer]) -> None:
    router, server = routed
    router.routes["/a"] = redirect(303, "/b")
    router.routes["/b"] = ok()
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(server.url("/a"), follow_redirects=True)
        assert (r.status, r.content, len(r.history)) == (200, b"final", 1)
        async with s.stream("GET", server.url("/a"), follow_redirects=True) as streamed:
            assert streamed.status == 200
            assert [h.status for h in streamed.history] == [303]
            assert b"".join([c async for c in streamed.iter_bytes()]) == b"final"
        assert_clean(s)


async def test_redirect_statuses_without_location_or_not_followed(
    routed: tuple[Router, RawServer],
) -> None:
    router, server = routed
    router.routes["/no-location"] = b"HTTP/1.1 302 Found\r\nContent-Length: 2\r\n\r\nhi"
    router.routes["/300"] = redirect(300, "/x")
    router.routes["/304"] = b"HTTP/1.1 304 Not Modified\r\nLocation: /x\r\n\r\n"
    router.routes["/x"] = ok()
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True) as s:
        r = await s.get(server.url("/no-location"))
        assert (r.status, r.content, r.history) == (302, b"hi", [])
        assert (await s.get(server.url("/300"))).status == 300
        assert (await s.get(server.url("/304"))).status == 304
    assert "/x" not in router.path


# -- limits ---------------------------------------------------------------------


async def test_max_redirects(routed: tuple[Router, RawServer]) -> None:
    router, server = routed
    for i in range(3):
        router.routes[f"/{i}"] = redirect(302, f"/{i + 1}")
    router.routes["/3"] = ok()
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True, max_redirects=3) as s:
        r = await s.get(server.url("/0"))  # exactly 3 redirects: allowed
        assert len(r.history) == 3
    router.seen.clear()
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True, max_redirects=2) as s:
        with pytest.raises(rawhttp.TooManyRedirects, match="more than 2 redirects") as info:
            await s.get(server.url("/0"))
        assert isinstance(info.value, rawhttp.Error)
        assert_clean(s)
        assert s.pool.connections == 1
    assert router.path == ["/0", "/1", "/2"]
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True, max_redirects=0) as s:
        with pytest.raises(rawhttp.TooManyRedirects):
            await s.get(server.url("/0"))
        r = await s.get(server.url("/0"), follow_redirects=False)
        assert r.status == 302
    with pytest.raises(ValueError, match="max_redirects"):
        rawhttp.Session(max_redirects=-1)


async def test_redirect_loop_stops(routed: tuple[Router, RawServer]) -> None:
    router, server = routed
    router.routes["/loop"] = redirect(302, "/loop", b"again")
    router.routes["/ping"] = redirect(301, "/pong")
    router.routes["/pong"] = redirect(301, "/ping")
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True) as s:
        with pytest.raises(rawhttp.TooManyRedirects, match="more than 20"):
            await s.get(server.url("/loop"))
        assert len(router.seen) == 21  # the first request and 20 redirects
        with pytest.raises(rawhttp.TooManyRedirects):
            await s.get(server.url("/ping"))
        assert_clean(s)
    assert server.connections == 1


# -- methods and bodies -------------------------------------------------------


CONTENT_FIELDS = ("content-length", "content-type", "transfer-encoding", "content-encoding")


@pytest.mark.parametrize("status", [301, 302, 303])
async def test_post_becomes_get_without_body(routed: tuple[Router, RawServer], status: int) -> None:
    router, server = routed
    router.routes["/form"] = redirect(status, "/done")
    router.routes["/done"] = ok()
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True) as s:
        r = await s.post(
            server.url("/form"),
            json={"k": "v"},
            headers={"Content-Encoding": "identity", "X-Keep": "1"},
        )
        assert r.status == 200
        assert r.history[0].method == "POST"
        assert r.method == "GET"
        # A streamed (non-replayable) body is simply dropped too.
        r = await s.post(server.url("/form"), content=iter([b"chunk"]))
        assert r.status == 200
        assert_clean(s)
    first, second, third, fourth = router.seen
    assert (first.method, first.body) == ("POST", b'{"k": "v"}')
    assert (third.method, third.body) == ("POST", b"chunk")
    for seen in (second, fourth):
        assert seen.method == "GET"
        assert seen.target == "/done"
        assert seen.body == b""
        for name in CONTENT_FIELDS:
            assert not seen.has(name), seen.head
        assert seen.head.endswith(b"\r\n\r\n")
    assert second.values("x-keep") == ["1"]
    assert server.connections == 1  # nothing was left unread on the connection


async def test_303_after_put_and_delete_becomes_get(routed: tuple[Router, RawServer]) -> None:
    router, server = routed
    router.routes["/res"] = redirect(303, "/see-other")
    router.routes["/see-other"] = ok()
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True) as s:
        await s.put(server.url("/res"), content=b"new state")
        await s.delete(server.url("/res"))
        r = await s.head(server.url("/res"))
        assert r.status == 200
    assert [(x.method, x.target) for x in router.seen] == [
        ("PUT", "/res"),
        ("GET", "/see-other"),
        ("DELETE", "/res"),
        ("GET", "/see-other"),
        ("HEAD", "/res"),
        ("HEAD", "/see-other"),  # 303 keeps HEAD
    ]
    assert router.seen[1].body == b""
    assert not router.seen[1].has("content-length")


@pytest.mark.parametrize("status", [307, 308])
async def test_307_308_keep_method_and_body(
    routed: tuple[Router, RawServer], status: int, tmp_path: pathlib.Path
) -> None:
    router, server = routed
    router.routes["/upload"] = redirect(status, "/stored")
    router.routes["/stored"] = ok()
    payload = bytes(range(256)) * 300
    path = tmp_path / "payload.bin"
    path.write_bytes(b"skip" + payload)
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True) as s:
        await s.post(server.url("/upload"), content=payload)
        await s.put(server.url("/upload"), data={"a": "b"})
        with open(path, "rb") as f:
            f.seek(4)
            await s.patch(server.url("/upload"), content=f)  # a file is replayable
        r = await s.post(server.url("/upload"), content=io.BytesIO(b"buffer"))
        assert r.status == 200
        assert_clean(s)
    pairs = [router.seen[i : i + 2] for i in range(0, 8, 2)]
    expected = [
        ("POST", payload, []),
        ("PUT", b"a=b", ["application/x-www-form-urlencoded"]),
        ("PATCH", payload, []),
        ("POST", b"buffer", []),
    ]
    for (before, after), (method, body, content_type) in zip(pairs, expected, strict=True):
        for seen in (before, after):
            assert seen.method == method
            assert seen.body == body
            assert seen.values("content-length") == [str(len(body))]
            assert seen.values("content-type") == content_type
        assert after.target == "/stored"


@pytest.mark.parametrize("status", [307, 308])
async def test_307_with_streamed_body_is_invalid_request(
    routed: tuple[Router, RawServer], status: int
) -> None:
    router, server = routed
    router.routes["/upload"] = redirect(status, "/stored", b"redirect body")
    router.routes["/stored"] = ok()

    async def body() -> AsyncIterator[bytes]:
        yield b"once"

    async with rawhttp.Session(timeout=QUICK, follow_redirects=True) as s:
        with pytest.raises(rawhttp.InvalidRequest) as info:
            await s.post(server.url("/upload"), content=body())
        message = str(info.value)
        assert f"{status} redirect" in message
        assert server.url("/stored") in message
        assert "stream" in message
        assert isinstance(info.value, rawhttp.Error)
        assert_clean(s)
        # Nothing is broken: the same connection serves the next request.
        r = await s.get(server.url("/stored"))
        assert r.content == b"final"
        # Without following, the redirect is returned as usual.
        r = await s.post(server.url("/upload"), content=body(), follow_redirects=False)
        assert r.status == status
        assert_clean(s)
    assert [x.target for x in router.seen] == ["/upload", "/stored", "/upload"]
    assert router.seen[0].body == b"once"
    assert server.connections == 1


# -- credentials across origins ------------------------------------------------

CREDENTIALS = {
    "Authorization": "Bearer secret",
    "Cookie": "session=abc",
    "Proxy-Authorization": "Basic cHJveHk6cHc=",
}


async def two_origins(raw_server: MakeServer) -> tuple[Router, RawServer, Router, RawServer]:
    a, b = Router(), Router()
    server_a = await raw_server(a)
    server_b = await raw_server(b)
    for router, other in ((a, server_b), (b, server_a)):
        router.routes["/away"] = redirect(302, other.url("/landed"))
        router.routes["/stay"] = redirect(307, "/landed")
        router.routes["/landed"] = ok()
    return a, server_a, b, server_b


async def test_credential_headers_dropped_when_the_port_changes(raw_server: MakeServer) -> None:
    a, server_a, b, server_b = await two_origins(raw_server)
    headers = {**CREDENTIALS, "X-Other": "kept"}
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True) as s:
        r = await s.get(server_a.url("/away"), headers=headers)
        assert r.url == server_b.url("/landed")
        (landed,) = b.seen
        for name in ("authorization", "cookie", "proxy-authorization"):
            assert not landed.has(name), landed.head
        assert landed.values("x-other") == ["kept"]
        for name, value in CREDENTIALS.items():
            assert a.seen[0].values(name.lower()) == [value]
        # Same origin: kept.
        await s.get(server_a.url("/stay"), headers=headers)
        stay, landed_a = a.seen[1:]
        for name, value in CREDENTIALS.items():
            assert stay.values(name.lower()) == [value]
            assert landed_a.values(name.lower()) == [value]


async def test_auth_credentials_dropped_cross_origin(raw_server: MakeServer) -> None:
    a, server_a, b, server_b = await two_origins(raw_server)
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True) as s:
        await s.get(server_a.url("/away"), auth=("user", "pw"))
        assert a.seen[-1].values("authorization") == [basic("user", "pw")]
        assert not b.seen[-1].has("authorization")
        await s.get(server_a.url("/stay"), auth=("user", "pw"))
        assert a.seen[-1].values("authorization") == [basic("user", "pw")]
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True, auth=("sess", "pw")) as s:
        await s.get(server_b.url("/away"))
        assert b.seen[-1].values("authorization") == [basic("sess", "pw")]
        assert a.seen[-1].target == "/landed"
        assert not a.seen[-1].has("authorization")
        await s.get(server_b.url("/stay"))
        assert b.seen[-1].target == "/landed"
        assert b.seen[-1].values("authorization") == [basic("sess", "pw")]
        # URL userinfo does not follow a redirect to another origin either.
        await s.get(f"http://u:p@127.0.0.1:{server_a.port}/away", auth=None)
        assert b.seen[-1].target == "/landed"
        assert b.seen[-1].values("authorization") == []


async def test_session_default_credential_headers_dropped_cross_origin(
    raw_server: MakeServer,
) -> None:
    a, server_a, b, server_b = await two_origins(raw_server)
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True, headers=CREDENTIALS) as s:
        await s.get(server_a.url("/away"))
        assert a.seen[-1].values("authorization") == ["Bearer secret"]
        landed = b.seen[-1]
        assert landed.target == "/landed"
        for name in ("authorization", "cookie", "proxy-authorization"):
            assert not landed.has(name), landed.head
        await s.get(server_a.url("/stay"))
        assert a.seen[-1].values("cookie") == ["session=abc"]
        # The next request to the first origin still carries the session defaults.
        await s.get(server_b.url("/landed"))
        assert b.seen[-1].values("authorization") == ["Bearer secret"]


async def test_custom_host_header_not_sent_to_another_origin(raw_server: MakeServer) -> None:
    a, server_a, b, server_b = await two_origins(raw_server)
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True) as s:
        # Same origin: the caller's Host (a virtual host) is kept.
        await s.get(server_a.url("/stay"), headers={"Host": "virtual.example"})
        assert a.seen[-1].target == "/landed"
        assert a.seen[-1].values("host") == ["virtual.example"]
        # Another origin: the Host is the new server's, not the stale virtual host.
        await s.get(server_a.url("/away"), headers={"Host": "virtual.example"})
        assert b.seen[-1].target == "/landed"
        assert b.seen[-1].values("host") == [f"127.0.0.1:{server_b.port}"]


# -- Location resolution ---------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("/x", "/x"),
        ("x", "/dir/sub/x"),
        ("../y", "/dir/y"),
        ("?q=1", "/dir/sub/page?q=1"),
        ("//127.0.0.1:{port}/z", "/z"),
        ("http://127.0.0.1:{port}/abs?k=v", "/abs?k=v"),
        ("/with space/%C3%A9", "/with%20space/%C3%A9"),
        ("/frag#section", "/frag"),
        ("  /padded  ", "/padded"),
    ],
)
async def test_relative_location_resolved_against_the_current_url(
    routed: tuple[Router, RawServer], location: str, expected: str
) -> None:
    router, server = routed
    location = location.format(port=server.port)
    router.routes["/dir/sub/page?x=1"] = (
        b"HTTP/1.1 302 Found\r\nLocation: " + location.encode() + b"\r\nContent-Length: 0\r\n\r\n"
    )
    router.routes[expected] = ok()
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True) as s:
        r = await s.get(server.url("/dir/sub/page?x=1"))
        assert r.status == 200
        assert r.url == server.url(expected)
    assert router.path == ["/dir/sub/page?x=1", expected]


@pytest.mark.parametrize(
    "location",
    ["ftp://127.0.0.1/file", "mailto:someone@example.org", "http://exa mple/", "http://[::1/x"],
)
async def test_redirect_to_unsupported_or_invalid_url(
    routed: tuple[Router, RawServer], location: str
) -> None:
    router, server = routed
    router.routes["/go"] = redirect(302, location)
    router.routes["/ok"] = ok()
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True) as s:
        with pytest.raises(rawhttp.InvalidURL) as info:
            await s.get(server.url("/go"))
        # the Location is named, with any userinfo hidden (mailto:someone@ -> mailto:***@)
        assert repr(location.replace("someone", "***")) in str(info.value)
        assert_clean(s)
        assert (await s.get(server.url("/ok"))).status == 200
    assert server.connections == 1


# -- redirect bodies ----------------------------------------------------------------


async def test_redirect_body_drained_not_decoded_and_connection_reused(
    routed: tuple[Router, RawServer],
) -> None:
    router, server = routed
    router.routes["/bogus-gzip"] = redirect(
        302, "/chunked", b"this is not gzip data at all", "Content-Encoding: gzip\r\n"
    )
    router.routes["/chunked"] = (
        b"HTTP/1.1 301 Moved\r\nLocation: /real-gzip\r\nContent-Encoding: br\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n5\r\nnot b\r\n4\r\nrotl\r\n0\r\n\r\n"
    )
    payload = gzip.compress(b"decoded at the end")
    router.routes["/real-gzip"] = (
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(payload)
        + payload
    )
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True) as s:
        r = await s.get(server.url("/bogus-gzip"))
        assert r.content == b"decoded at the end"
        assert [h.content for h in r.history] == [b"this is not gzip data at all", b"not brotl"]
        assert_clean(s)
        assert s.pool.connections == 1
    assert server.connections == 1


async def test_large_redirect_body_closes_instead_of_draining(
    routed: tuple[Router, RawServer],
) -> None:
    router, server = routed
    router.routes["/big"] = redirect(302, "/ok", b"x" * (3 * 1024 * 1024))
    router.routes["/ok"] = ok()
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True) as s:
        r = await s.get(server.url("/big"))
        assert r.content == b"final"
        assert_clean(s)
    assert server.connections == 2


async def test_redirect_body_error_while_draining(raw_server: MakeServer) -> None:
    async def handler(conn: RawConnection) -> None:
        await read_message(conn)
        if conn.index == 1:
            await conn.send(
                b"HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 100\r\n\r\nshort"
            )
            conn.close()
            return
        await conn.send(ok())
        while (await read_message(conn))[0]:
            await conn.send(ok())

    server = await raw_server(handler)
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True) as s:
        r = await s.get(server.url("/first"))
        assert r.content == b"final"
        assert r.history[0].status == 302
        assert_clean(s)
    assert server.connections == 2


async def test_redirect_respects_the_total_deadline(raw_server: MakeServer) -> None:
    async def handler(conn: RawConnection) -> None:
        while (await read_message(conn))[0]:
            await asyncio.sleep(0.15)
            await conn.send(redirect(302, "/again"))

    server = await raw_server(handler)
    loop = asyncio.get_running_loop()
    async with rawhttp.Session(timeout=rawhttp.Timeout(5.0, total=0.5), follow_redirects=True) as s:
        start = loop.time()
        with pytest.raises(rawhttp.TimeoutError):
            await s.get(server.url("/"))
        assert 0.4 <= loop.time() - start < 3.0
        assert_clean(s)


# -- the pure functions ---------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "method", "expected"),
    [
        (301, "POST", "GET"),
        (302, "POST", "GET"),
        (303, "POST", "GET"),
        (301, "GET", "GET"),
        (302, "HEAD", "HEAD"),
        (301, "PUT", "PUT"),
        (302, "DELETE", "DELETE"),
        (303, "PUT", "GET"),
        (303, "DELETE", "GET"),
        (303, "PATCH", "GET"),
        (303, "HEAD", "HEAD"),
        (303, "GET", "GET"),
        (307, "POST", "POST"),
        (308, "POST", "POST"),
        (307, "PUT", "PUT"),
        (308, "PATCH", "PATCH"),
    ],
)
def test_redirect_method(status: int, method: str, expected: str) -> None:
    assert redirect_method(status, method) == expected


@pytest.mark.parametrize(
    ("old", "new", "kept"),
    [
        ("http://a.example/x", "http://a.example/y", True),
        ("http://a.example/x", "http://A.EXAMPLE:80/y", True),
        ("https://a.example/x", "https://a.example:443/y", True),
        ("http://a.example/x", "http://b.example/x", False),
        ("http://a.example/x", "http://a.example:8080/x", False),
        ("http://127.0.0.1:1000/", "http://127.0.0.1:1001/", False),
        ("http://a.example/", "https://a.example/", True),  # upgrade on default ports
        ("https://a.example/", "http://a.example/", False),  # downgrade
        ("http://a.example:8080/", "https://a.example:8443/", False),
        ("http://a.example/", "https://a.example:8443/", False),
        ("http://a.example/", "https://b.example/", False),
        ("http://a.example/", "http://sub.a.example/", False),
    ],
)
def test_keeps_credentials(old: str, new: str, kept: bool) -> None:
    assert keeps_credentials(parse_url(old), parse_url(new)) is kept


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("/x", "http://h.example:8080/x"),
        ("x", "http://h.example:8080/a/b/x"),
        ("../y", "http://h.example:8080/a/y"),
        ("../../../../y", "http://h.example:8080/y"),
        ("./", "http://h.example:8080/a/b/"),
        ("?q=1", "http://h.example:8080/a/b/c?q=1"),
        ("#frag", "http://h.example:8080/a/b/c?k=v"),
        ("//other.example/z", "http://other.example/z"),
        ("https://secure.example/p", "https://secure.example/p"),
        ("HTTP://UPPER.EXAMPLE/P", "http://upper.example/P"),
        ("/sp ace", "http://h.example:8080/sp%20ace"),
        (" /trimmed\t", "http://h.example:8080/trimmed"),
    ],
)
def test_resolve_location(location: str, expected: str) -> None:
    current = parse_url("http://h.example:8080/a/b/c?k=v")
    assert str(resolve_location(current, location)) == expected


def test_resolve_location_relative_keeps_current_userinfo_absolute_uses_its_own() -> None:
    # A reference without an authority inherits the base's, userinfo included
    # (RFC 3986 5.2.2): the same server, the same credentials, as curl does.
    current = parse_url("http://user:pw@h.example/a")
    resolved = resolve_location(current, "/b")
    assert (resolved.username, resolved.password) == ("user", "pw")
    assert str(resolved) == "http://h.example/b"
    resolved = resolve_location(current, "//other.example/c")
    assert (resolved.username, resolved.password) == (None, None)
    resolved = resolve_location(current, "http://x:y@other.example/")
    assert (resolved.username, resolved.password) == ("x", "y")
    resolved = resolve_location(current, "http://other.example/")
    assert resolved.username is None


@pytest.mark.parametrize(
    "location",
    [
        "ftp://h.example/",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "http://[bad/",
        "http://h:99999/",
        "http://",
        "https:",
    ],
)
def test_resolve_location_refuses_bad_urls(location: str) -> None:
    current = parse_url("http://h.example/a")
    with pytest.raises(rawhttp.InvalidURL, match="redirect to an invalid or unsupported URL"):
        resolve_location(current, location)


# -- what curl's own test suite found (issue 11, points 9-14) ----------------------


async def test_location_as_raw_utf8_bytes_is_percent_encoded_once(
    routed: tuple[Router, RawServer],
) -> None:
    """A Location sent as raw UTF-8 bytes (U+0622 is D8 A2) names /%D8%A2, not the
    double encoding of its bytes read as latin-1 (/%C3%98%C2%A2)."""
    router, server = routed

    def raw(location: bytes) -> bytes:
        return b"HTTP/1.1 302 Found\r\nLocation: " + location + b"\r\nContent-Length: 0\r\n\r\n"

    router.routes["/utf8"] = raw("/\u0622".encode())  # the bytes D8 A2
    router.routes["/%D8%A2"] = ok(b"arabic")
    router.routes["/latin"] = raw(b"/caf\xe9")  # E9 alone: not UTF-8, sent as %E9
    router.routes["/caf%E9"] = ok(b"latin-1 byte")
    router.routes["/abs"] = raw(server.url("/\u00d8?q=\u00e9").encode())
    router.routes["/%C3%98?q=%C3%A9"] = ok(b"absolute")
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True) as s:
        assert (await s.get(server.url("/utf8"))).content == b"arabic"
        assert (await s.get(server.url("/latin"))).content == b"latin-1 byte"
        assert (await s.get(server.url("/abs"))).content == b"absolute"
    assert "/%C3%98%C2%A2" not in router.path
    assert router.path == ["/utf8", "/%D8%A2", "/latin", "/caf%E9", "/abs", "/%C3%98?q=%C3%A9"]


@pytest.mark.parametrize("value", ["", " ", "\t"])
async def test_empty_location_makes_the_redirect_final(
    routed: tuple[Router, RawServer], value: str
) -> None:
    router, server = routed
    router.routes["/empty"] = (
        f"HTTP/1.1 302 Found\r\nLocation:{value}\r\nContent-Length: 4\r\n\r\nbody".encode()
    )
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True) as s:
        r = await s.get(server.url("/empty"))
        assert (r.status, r.content, r.history) == (302, b"body", [])
        assert r.is_redirect is False
        assert_clean(s)
    assert router.path == ["/empty"]


async def test_dot_segments_removed_from_targets_and_locations(
    routed: tuple[Router, RawServer],
) -> None:
    router, server = routed
    router.routes["/gimme"] = ok(b"given")
    router.routes["/a/b/start"] = redirect(302, "../c/./d/../e?x=/../y")
    router.routes["/a/c/e?x=/../y"] = redirect(302, server.url("/f/../g/."))
    router.routes["/g/"] = ok(b"dots resolved")
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True) as s:
        assert (await s.get(server.url("/please/../gimme"))).content == b"given"
        r = await s.get(server.url("/a/b/start"))
        assert r.content == b"dots resolved"
        assert r.url == server.url("/g/")
    # the query is not a path: its dots are left alone
    assert router.path == ["/gimme", "/a/b/start", "/a/c/e?x=/../y", "/g/"]


async def test_timeout_while_draining_a_redirect_body_is_that_timeout(
    raw_server: MakeServer,
) -> None:
    """A redirect body that stalls: the read (or total) timeout that fired is raised,
    not a ConnectTimeout of the next request that never had a chance."""

    async def handler(conn: RawConnection) -> None:
        while (await read_message(conn))[0]:
            await conn.send(
                b"HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 100\r\n\r\nshort"
            )
            await asyncio.sleep(10)

    server = await raw_server(handler)
    loop = asyncio.get_running_loop()
    for timeout in (rawhttp.Timeout(5.0, total=0.4), rawhttp.Timeout(5.0, read=0.3)):
        async with rawhttp.Session(timeout=timeout, follow_redirects=True) as s:
            start = loop.time()
            with pytest.raises(rawhttp.ReadTimeout) as info:
                await s.get(server.url("/first"))
            assert not isinstance(info.value, rawhttp.ConnectTimeout)
            assert loop.time() - start < 3.0
            assert_clean(s)
    assert server.requests == [r for r in server.requests if b"/next" not in r.split(b"\r\n")[0]]


@pytest.mark.parametrize(
    "head",
    [
        # no framing: the body runs until the server closes, which it does not do here
        b"HTTP/1.1 302 Found\r\nLocation: /next\r\nConnection: close\r\n\r\nnot wanted",
        b"HTTP/1.1 302 Found\r\nLocation: /next\r\n\r\nnot wanted",
        # framed, but the server will close: nothing to gain from reading it
        b"HTTP/1.1 302 Found\r\nLocation: /next\r\nConnection: close\r\n"
        b"Content-Length: 1000\r\n\r\npartial",
    ],
)
async def test_redirect_that_cannot_keep_its_connection_is_not_drained(
    raw_server: MakeServer, head: bytes
) -> None:
    async def handler(conn: RawConnection) -> None:
        message, _ = await read_message(conn)
        if b"GET /first" in message:
            await conn.send(head)
            await asyncio.sleep(10)  # keeps the connection open: never ends the body
            return
        await conn.send(ok())

    server = await raw_server(handler)
    loop = asyncio.get_running_loop()
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True) as s:
        start = loop.time()
        r = await s.get(server.url("/first"))
        assert loop.time() - start < 2.0  # not after the 5 s read timeout
        assert (r.status, r.content) == (200, b"final")
        assert r.history[0].status == 302
        assert_clean(s)
    assert server.connections == 2


def test_next_hop_is_the_one_policy() -> None:
    from rawhttp._redirect_rules import Hop, next_hop

    here = parse_url("http://user:pw@h.example/a/b")
    assert next_hop(here, "GET", 200, "/x") is None
    assert next_hop(here, "GET", 300, "/x") is None
    assert next_hop(here, "GET", 302, None) is None
    assert next_hop(here, "GET", 302, "  ") is None
    hop = next_hop(here, "POST", 302, "../c")
    assert hop == Hop(parse_url("http://user:pw@h.example/c"), "GET", True, True, True)
    hop = next_hop(here, "POST", 302, "../c", keep_post=frozenset({302}))
    assert hop is not None
    assert (hop.method, hop.drop_body) == ("POST", False)
    hop = next_hop(here, "PUT", 307, "https://h.example/")
    assert hop is not None
    assert (hop.method, hop.drop_body, hop.same_origin, hop.keep_credentials) == (
        "PUT",
        False,
        False,
        True,  # http -> https on the default ports: an upgrade
    )
    hop = next_hop(here, "GET", 301, "http://other.example/")
    assert hop is not None
    assert (hop.same_origin, hop.keep_credentials) == (False, False)


# RFC 3986 section 5.4: every normal and abnormal example, base http://a/b/c/d;p?q
RFC3986_EXAMPLES = [
    ("g", "http://a/b/c/g"),
    ("./g", "http://a/b/c/g"),
    ("g/", "http://a/b/c/g/"),
    ("/g", "http://a/g"),
    ("//g", "http://g/"),
    ("?y", "http://a/b/c/d;p?y"),
    ("g?y", "http://a/b/c/g?y"),
    ("#s", "http://a/b/c/d;p?q"),
    ("g#s", "http://a/b/c/g"),
    ("g?y#s", "http://a/b/c/g?y"),
    (";x", "http://a/b/c/;x"),
    ("g;x", "http://a/b/c/g;x"),
    ("g;x?y#s", "http://a/b/c/g;x?y"),
    ("", "http://a/b/c/d;p?q"),
    (".", "http://a/b/c/"),
    ("./", "http://a/b/c/"),
    ("..", "http://a/b/"),
    ("../", "http://a/b/"),
    ("../g", "http://a/b/g"),
    ("../..", "http://a/"),
    ("../../", "http://a/"),
    ("../../g", "http://a/g"),
    ("../../../g", "http://a/g"),
    ("../../../../g", "http://a/g"),
    ("/./g", "http://a/g"),
    ("/../g", "http://a/g"),
    ("g.", "http://a/b/c/g."),
    (".g", "http://a/b/c/.g"),
    ("g..", "http://a/b/c/g.."),
    ("..g", "http://a/b/c/..g"),
    ("./../g", "http://a/b/g"),
    ("./g/.", "http://a/b/c/g/"),
    ("g/./h", "http://a/b/c/g/h"),
    ("g/../h", "http://a/b/c/h"),
    ("g;x=1/./y", "http://a/b/c/g;x=1/y"),
    ("g;x=1/../y", "http://a/b/c/y"),
    ("g?y/./x", "http://a/b/c/g?y/./x"),
    ("g?y/../x", "http://a/b/c/g?y/../x"),
    ("g#s/./x", "http://a/b/c/g"),
    ("g#s/../x", "http://a/b/c/g"),
    ("http:g", "http://a/b/c/g"),  # RFC: "http:g" for backward-compatible parsers
]


@pytest.mark.parametrize(("reference", "expected"), RFC3986_EXAMPLES)
def test_resolve_location_rfc3986_examples(reference: str, expected: str) -> None:
    base = parse_url("http://a/b/c/d;p?q")
    if reference == "http:g":
        # rawhttp reads a Location with a scheme as an absolute URL; "http:g" has no
        # authority, so it is refused rather than guessed (the RFC allows either).
        with pytest.raises(rawhttp.InvalidURL):
            resolve_location(base, reference)
        return
    assert str(resolve_location(base, reference)) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", "/"),
        ("/a/b/c/./../../g", "/a/g"),  # RFC 3986 section 5.2.4's own examples
        ("/mid/content=5/../6", "/mid/6"),
        ("/..", "/"),
        ("/.", "/"),
        ("/a/..", "/"),
        ("/a/.", "/a/"),
        ("/a/./", "/a/"),
        ("/a//../b", "/a/b"),
        ("//a/./b", "//a/b"),
        ("/a/%2E%2E/b", "/a/%2E%2E/b"),  # encoded dots are data
        ("/.hidden/x..y/..z", "/.hidden/x..y/..z"),
    ],
)
def test_remove_dot_segments(path: str, expected: str) -> None:
    from rawhttp._url import remove_dot_segments

    assert remove_dot_segments(path) == expected
    assert parse_url("http://h" + path).target == expected
