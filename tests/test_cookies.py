"""Cookies: every response's Set-Cookie (redirect hops included) goes into the
Session's jar, and each request carries what the jar matches for its URL (domain,
path, Secure only over https, expiry); ``Session(cookies=...)``, ``request(cookies=...)``
and a caller's own Cookie header; curl's cookie files through MozillaCookieJar; the
blocking SyncSession, shared by threads; malformed Set-Cookie fields; and what a
request costs when there are no cookies."""

from __future__ import annotations

import asyncio
import http.cookiejar
import pathlib
import shutil
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from conftest import RawConnection, RawServer, head_fields, read_message
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from servers import run_script
from werkzeug import Request as WRequest
from werkzeug import Response as WResponse

import rawhttp
from rawhttp import Headers
from rawhttp._cookies import CookieStore, add_cookie_header, extract_cookies
from rawhttp._url import parse_url

QUICK = rawhttp.Timeout(5.0)
MakeServer = Callable[..., Awaitable[RawServer]]


def answer(
    status: int = 200, *set_cookie: str, location: str | None = None, body: bytes = b"ok"
) -> bytes:
    """A response with these Set-Cookie fields (latin-1: any byte may be sent)."""
    lines = [f"HTTP/1.1 {status} X"]
    if location is not None:
        lines.append(f"Location: {location}")
    lines += [f"Set-Cookie: {value}" for value in set_cookie]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Site:
    """A raw keep-alive handler answering by request target (through a proxy: the
    absolute URL) and recording the Cookie field of every request.  A route given a
    list answers with its responses in turn, the last one from then on."""

    server: RawServer

    def __init__(self, routes: dict[str, bytes | list[bytes]] | None = None) -> None:
        self.routes = routes or {}
        self.seen: list[tuple[str, str | None]] = []

    def url(self, path: str) -> str:
        return self.server.url(path)

    async def __call__(self, conn: RawConnection) -> None:
        while True:
            head, _ = await read_message(conn)
            if not head:
                return
            target = head.split(b" ", 2)[1].decode("ascii")
            cookies = [value for name, value in head_fields(head) if name == "cookie"]
            assert len(cookies) <= 1, head  # one Cookie field, never two
            self.seen.append((target, cookies[0] if cookies else None))
            route = self.routes.get(target, answer())
            if isinstance(route, list):
                route = route.pop(0) if len(route) > 1 else route[0]
            await conn.send(route)

    def sent(self, target: str | None = None) -> str | None:
        """The Cookie field of the last request (for ``target``), None without one."""
        for seen, cookie in reversed(self.seen):
            if target is None or seen == target:
                return cookie
        raise AssertionError(f"no request for {target}")

    def pairs(self, target: str | None = None) -> list[str]:
        """The ``name=value`` cookies of the last request (for ``target``), in order."""
        cookie = self.sent(target)
        return [] if cookie is None else cookie.split("; ")

    def names(self) -> list[str]:
        """The cookie names of the last request, in the order sent."""
        return [p.partition("=")[0] for p in self.pairs()]


async def site(
    raw_server: MakeServer, routes: dict[str, bytes | list[bytes]], **kwargs: Any
) -> Site:
    """A Site on a server of its own (``raw_server``'s options)."""
    handler = Site(routes)
    handler.server = await raw_server(handler, **kwargs)
    return handler


def jar_cookie(name: str, value: str, domain: str, **attrs: Any) -> http.cookiejar.Cookie:
    """A host-only cookie for ``domain`` to put in a jar by hand."""
    fields: dict[str, Any] = {
        "version": 0,
        "name": name,
        "value": value,
        "port": None,
        "port_specified": False,
        "domain": domain,
        "domain_specified": False,
        "domain_initial_dot": False,
        "path": "/",
        "path_specified": True,
        "secure": False,
        "expires": None,
        "discard": True,
        "comment": None,
        "comment_url": None,
        "rest": {},
    }
    fields.update(attrs)
    return http.cookiejar.Cookie(**fields)


def names_in(jar: http.cookiejar.CookieJar) -> set[str]:
    return {c.name for c in jar}


def can_bind(host: str) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
    except OSError:
        return False
    return True


# -- the login flow (pytest-httpserver: werkzeug sets the cookies) --------------------


async def test_login_cookie_set_by_the_302_goes_with_the_next_hop_and_later_requests(
    httpserver: HTTPServer,
) -> None:
    def login(request: WRequest) -> WResponse:
        if request.form.get("user") != "ann":
            return WResponse("no", status=403)
        response = WResponse("", status=302, headers={"Location": "/home"})
        response.set_cookie("sid", "s3cr3t", path="/", httponly=True, samesite="Lax")
        return response

    def home(request: WRequest) -> WResponse:
        if request.cookies.get("sid") != "s3cr3t":
            return WResponse("who are you?", status=401)
        return WResponse("welcome ann")

    httpserver.expect_request("/login", method="POST").respond_with_handler(login)
    httpserver.expect_request("/home").respond_with_handler(home)
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True) as s:
        r = await s.post(httpserver.url_for("/login"), data={"user": "ann"})
        assert (r.status, r.text) == (200, "welcome ann")
        assert [h.status for h in r.history] == [302]
        r = await s.get(httpserver.url_for("/home"))
        assert (r.status, r.text) == (200, "welcome ann")
        (cookie,) = s.cookies
        assert (cookie.name, cookie.value, cookie.domain, cookie.path) == (
            "sid",
            "s3cr3t",
            "127.0.0.1",
            "/",
        )
        assert cookie.has_nonstandard_attr("HttpOnly")
    login_request, home_request, later = (entry[0] for entry in httpserver.log)
    assert "Cookie" not in login_request.headers
    assert home_request.headers["Cookie"] == later.headers["Cookie"] == "sid=s3cr3t"
    # A Session of its own has no cookie: the login was what let it in.
    async with rawhttp.Session(timeout=QUICK) as s:
        assert (await s.get(httpserver.url_for("/home"))).status == 401


async def test_cookie_deleted_by_the_server(httpserver: HTTPServer) -> None:
    """werkzeug's delete_cookie: an empty value, Expires in 1970 and Max-Age=0."""

    def login(request: WRequest) -> WResponse:
        response = WResponse("in")
        response.set_cookie("sid", "abc")
        response.set_cookie("theme", "dark", max_age=3600)
        return response

    def logout(request: WRequest) -> WResponse:
        response = WResponse("out")
        response.delete_cookie("sid")
        return response

    httpserver.expect_request("/login").respond_with_handler(login)
    httpserver.expect_request("/logout").respond_with_handler(logout)
    httpserver.expect_request("/page").respond_with_data("page")
    async with rawhttp.Session(timeout=QUICK) as s:
        await s.get(httpserver.url_for("/login"))
        await s.get(httpserver.url_for("/page"))
        await s.get(httpserver.url_for("/logout"))
        await s.get(httpserver.url_for("/page"))
        assert names_in(s.cookies) == {"theme"}
    cookies = [entry[0].headers.get("Cookie") for entry in httpserver.log]
    assert cookies == [None, "sid=abc; theme=dark", "sid=abc; theme=dark", "theme=dark"]


# -- redirect hops --------------------------------------------------------------------


async def test_cookies_from_every_redirect_hop(raw_server: MakeServer) -> None:
    a = await site(
        raw_server,
        {
            "/a": answer(301, "one=1", location="/b"),
            "/b": answer(302, "two=2; Path=/", location="/c"),
            "/c": answer(200, "three=3"),
            "/only": answer(303, "hop=4", location="/c"),
        },
    )
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True) as s:
        r = await s.get(a.url("/a"))
        assert [h.status for h in r.history] == [301, 302]
        assert a.seen == [("/a", None), ("/b", "one=1"), ("/c", "one=1; two=2")]
        # Not following: the 3xx's Set-Cookie is stored all the same.
        r = await s.get(a.url("/only"), follow_redirects=False)
        assert r.status == 303
        assert names_in(s.cookies) == {"one", "two", "three", "hop"}
        await s.get(a.url("/c"))
        assert sorted(a.names()) == ["hop", "one", "three", "two"]


async def test_cookies_from_retried_responses_and_auth_round_trips(
    raw_server: MakeServer,
) -> None:
    """Each response of a request's retries and of its auth flow is a hop too."""

    class Token(rawhttp.Auth):
        def auth_flow(self, request: Any) -> Any:
            response = yield None
            if response.status == 401:
                yield {"Authorization": "Token t"}

    busy = answer(503, "queue=7; Path=/", body=b"busy")
    challenge = answer(401, "nonce=n1; Path=/", body=b"who?")
    a = await site(raw_server, {"/retry": [busy, answer()], "/auth": [challenge, answer()]})
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(a.url("/retry"), retries=rawhttp.Retry(total=2, backoff_factor=0))
        assert (r.status, r.retries) == (200, 1)
        assert a.seen == [("/retry", None), ("/retry", "queue=7")]
        r = await s.get(a.url("/auth"), auth=Token())
        assert r.status == 200
        assert a.seen[2:] == [("/auth", "queue=7"), ("/auth", "queue=7; nonce=n1")]


needs_127_0_0_2 = pytest.mark.skipif(not can_bind("127.0.0.2"), reason="cannot listen on 127.0.0.2")


@needs_127_0_0_2
async def test_cross_origin_redirect_carries_only_what_the_jar_matches_there(
    raw_server: MakeServer,
) -> None:
    """Cookies do not tell ports apart (RFC 6265): the second origin is another host."""
    b = await site(raw_server, {"/set": answer(200, "b_sid=own; Path=/")}, host="127.0.0.2")
    a = await site(
        raw_server,
        {
            "/away": answer(302, "a_sid=secret; Path=/", location=b.url("/landed")),
            "/stay": answer(302, location="/landed"),
        },
    )
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True) as s:
        await s.get(b.url("/set"))
        await s.get(a.url("/away"))
        assert a.sent("/away") is None
        assert b.sent("/landed") == "b_sid=own"  # not a_sid: not the jar's match there
        # A caller's Cookie header is sent as given (the jar's is not added) and does
        # not follow to another origin; the jar's cookies are recomputed for it.
        await s.get(a.url("/away"), headers={"Cookie": "mine=1"})
        assert a.sent("/away") == "mine=1"
        assert b.sent("/landed") == "b_sid=own"
        # The request's own cookies= stay with the first origin.
        await s.get(a.url("/away"), cookies={"req": "1"})
        assert a.sent("/away") == "a_sid=secret; req=1"
        assert b.sent("/landed") == "b_sid=own"
        # Same origin: the jar's cookies for each hop, and the request's own.
        await s.get(a.url("/stay"))
        assert a.sent("/landed") == "a_sid=secret"
        await s.get(a.url("/stay"), cookies={"req": "2"})
        assert a.sent("/stay") == a.sent("/landed") == "a_sid=secret; req=2"
        assert {(c.domain, c.name) for c in s.cookies} == {
            ("127.0.0.1", "a_sid"),
            ("127.0.0.2", "b_sid"),
        }


# -- what the jar matches: Secure, path, domain, expiry ------------------------------


async def test_secure_cookies_only_over_https(
    raw_server: MakeServer, tls_server: MakeServer, ca_path: str
) -> None:
    secure = Site({"/set": answer(200, "s=1; Secure; Path=/", "p=2; Path=/")})
    secure.server = await tls_server("127.0.0.1", handler=secure)
    plain = await site(raw_server, {})
    async with rawhttp.Session(timeout=QUICK, verify=ca_path) as s:
        await s.get(secure.url("/set"))
        await s.get(secure.url("/echo"))
        assert secure.sent() == "s=1; p=2"
        await s.get(plain.url("/echo"))  # the same host over http: not the Secure one
        assert plain.sent() == "p=2"


async def test_path_and_domain_matching(raw_server: MakeServer) -> None:
    """The Site is the proxy of every http URL: any host name reaches it (the request
    line carries the whole URL), so cookie domains can be told apart."""
    www = "http://www.example.test"
    proxy = await site(
        raw_server,
        {
            f"{www}/app/login": answer(
                200,
                "app=1; Path=/app",
                "dir=2",  # no Path: the request's directory, /app
                "host=3; Path=/",  # no Domain: this host only
                "dom=4; Domain=example.test; Path=/",
                "other=5; Domain=other.test; Path=/",  # not a domain of this host: refused
            )
        },
    )
    async with rawhttp.Session(timeout=QUICK, proxy=proxy.url("/"), trust_env=False) as s:
        await s.get(f"{www}/app/login")
        assert names_in(s.cookies) == {"app", "dir", "host", "dom"}
        expected = {
            f"{www}/app/page": ["app", "dir", "dom", "host"],
            f"{www}/app": ["app", "dir", "dom", "host"],
            f"{www}/application": ["dom", "host"],  # /app is not a path prefix of it
            f"{www}/": ["dom", "host"],
            "http://api.example.test/app/x": ["dom"],  # host-only cookies stay home
            "http://sub.www.example.test/": ["dom"],  # ... not sent to subdomains either
            "http://example.test/": ["dom"],
            "http://badexample.test/": [],
            "http://other.test/": [],
        }
        for url, names in expected.items():
            await s.get(url)
            assert sorted(proxy.names()) == names, url
        await s.get(f"{www}/app/page")
        assert proxy.names()[:2] == ["app", "dir"]  # the longer path first (RFC 6265 5.4)


async def test_idna_host(raw_server: MakeServer) -> None:
    proxy = await site(
        raw_server, {"http://xn--bcher-kva.example/set": answer(200, "c=1; Domain=bücher.example")}
    )
    # Set-Cookie is latin-1 text: "ü" in the Domain above is no IDNA name, so the
    # jar refuses it; the same with the A-label is stored.
    proxy.routes["http://xn--bcher-kva.example/set2"] = answer(
        200, "d=2; Domain=xn--bcher-kva.example; Path=/"
    )
    async with rawhttp.Session(timeout=QUICK, proxy=proxy.url("/"), trust_env=False) as s:
        await s.get("http://bücher.example/set")
        await s.get("http://bücher.example/set2")
        await s.get("http://www.bücher.example/x")
        assert proxy.seen[-1] == ("http://www.xn--bcher-kva.example/x", "d=2")
        await s.get("http://bucher.example/")
        assert proxy.sent() is None


async def test_ipv6_host(raw_server: MakeServer) -> None:
    if not can_bind("::1"):
        pytest.skip("no IPv6 loopback (::1) here")
    v6 = await site(raw_server, {"/set": answer(200, "v6=1; Path=/")}, host="::1")
    v4 = await site(raw_server, {})
    async with rawhttp.Session(timeout=QUICK) as s:
        await s.get(v6.url("/set"))
        await s.get(v6.url("/echo"))
        assert v6.sent() == "v6=1"
        await s.get(v4.url("/echo"))
        assert v4.sent() is None


class ShiftedClock:
    """``http.cookiejar``'s ``time`` module, ``offset`` seconds ahead."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


async def test_expiry_by_max_age_and_expires(
    raw_server: MakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ShiftedClock()
    monkeypatch.setattr(http.cookiejar, "time", clock)
    a = await site(
        raw_server,
        {
            "/set": answer(
                200,
                "short=1; Max-Age=60; Path=/",
                "long=2; Expires=Fri, 01 Jan 2100 00:00:00 GMT; Path=/",
                "session=3; Path=/",
                "past=4; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Path=/",
                # Max-Age wins over Expires (RFC 6265 5.3 step 3)
                "both=5; Max-Age=60; Expires=Fri, 01 Jan 2100 00:00:00 GMT; Path=/",
            ),
            "/forget": answer(200, "session=; Max-Age=0; Path=/"),
        },
    )
    async with rawhttp.Session(timeout=QUICK) as s:
        await s.get(a.url("/set"))
        await s.get(a.url("/echo"))
        assert sorted(a.names()) == ["both", "long", "session", "short"]
        clock.offset = 120  # two minutes later
        await s.get(a.url("/echo"))
        assert sorted(a.names()) == ["long", "session"]
        assert names_in(s.cookies) == {"long", "session"}
        await s.get(a.url("/forget"))  # Max-Age=0 deletes
        await s.get(a.url("/echo"))
        assert a.names() == ["long"]
        clock.offset = 100 * 365 * 86400  # the next century
        await s.get(a.url("/echo"))
        assert a.sent() is None
        assert names_in(s.cookies) == set()


# -- Session(cookies=), request(cookies=), a caller's Cookie header -------------------


async def test_a_cookie_jar_is_used_as_given(raw_server: MakeServer) -> None:
    a = await site(raw_server, {"/set": answer(200, "new=2; Path=/")})
    jar = http.cookiejar.CookieJar()
    jar.set_cookie(jar_cookie("pre", "1", "127.0.0.1"))
    async with rawhttp.Session(timeout=QUICK, cookies=jar) as s:
        assert s.cookies is jar
        await s.get(a.url("/set"))
        assert a.sent() == "pre=1"
        await s.get(a.url("/echo"))
        assert a.sent() == "pre=1; new=2"
    assert names_in(jar) == {"pre", "new"}
    # Its own policy decides: this one blocks the host.
    policy = http.cookiejar.DefaultCookiePolicy(blocked_domains=["127.0.0.1"])
    blocking = http.cookiejar.CookieJar(policy)
    async with rawhttp.Session(timeout=QUICK, cookies=blocking) as s:
        await s.get(a.url("/set"))
        await s.get(a.url("/echo"))
        assert a.sent() is None
    assert names_in(blocking) == set()


@needs_127_0_0_2
async def test_session_cookies_go_to_every_host_and_give_way_to_the_servers(
    raw_server: MakeServer,
) -> None:
    a = await site(raw_server, {"/set": answer(200, "sid=fresh; Path=/")})
    b = await site(raw_server, {}, host="127.0.0.2")
    async with rawhttp.Session(timeout=QUICK, cookies={"lang": "en", "sid": "seed"}) as s:
        await s.get(a.url("/echo"))
        await s.get(b.url("/echo"))
        assert a.sent() == b.sent() == "lang=en; sid=seed"
        assert {(c.domain, c.name, c.value) for c in s.cookies} == {
            ("", "lang", "en"),
            ("", "sid", "seed"),
        }
        await s.get(a.url("/set"))  # the server's own sid replaces the Session's there
        await s.get(a.url("/echo"))
        assert a.sent() == "lang=en; sid=fresh"
        await s.get(b.url("/echo"))
        assert b.sent() == "lang=en; sid=seed"
        # The request's cookies= replace both.
        await s.get(a.url("/echo"), cookies={"sid": "mine"})
        assert a.sent() == "lang=en; sid=mine"


async def test_request_cookies_are_for_that_request_only(raw_server: MakeServer) -> None:
    a = await site(raw_server, {"/set": answer(200, "sid=server; Path=/", "keep=1; Path=/")})
    async with rawhttp.Session(timeout=QUICK) as s:
        await s.get(a.url("/echo"), cookies={"only": "once"})  # no jar yet
        assert a.sent() == "only=once"
        await s.get(a.url("/set"))
        await s.get(a.url("/echo"), cookies={"sid": "mine", "extra": "x y"})
        assert a.sent() == "keep=1; sid=mine; extra=x y"  # the request's wins
        await s.get(a.url("/echo"))
        assert a.sent() == "sid=server; keep=1"
        assert {(c.name, c.value) for c in s.cookies} == {("sid", "server"), ("keep", "1")}
        await s.get(a.url("/echo"), cookies={})
        assert a.sent() == "sid=server; keep=1"


async def test_a_callers_cookie_header_is_sent_as_given(raw_server: MakeServer) -> None:
    a = await site(raw_server, {"/set": answer(200, "sid=server; Path=/")})
    async with rawhttp.Session(timeout=QUICK) as s:
        await s.get(a.url("/set"))
        await s.get(a.url("/echo"), headers={"Cookie": "mine=1"})
        assert a.sent() == "mine=1"
        await s.get(a.url("/echo"), headers={"cookie": "mine=2"}, cookies={"x": "1"})
        assert a.sent() == "mine=2"
    async with rawhttp.Session(timeout=QUICK, headers={"Cookie": "fixed=1"}) as s:
        await s.get(a.url("/set"))
        await s.get(a.url("/echo"))
        assert a.sent() == "fixed=1"
        assert names_in(s.cookies) == {"sid"}  # stored all the same


@pytest.mark.parametrize(
    ("cookies", "says"),
    [
        (5, "not int"),
        (["a", "b"], "not list"),
        ({"a b": "1"}, "invalid cookie name 'a b'"),
        ({"": "1"}, "invalid cookie name ''"),
        ({1: "1"}, "invalid cookie name a int"),
        ({"a": 1}, "must be a str, not int"),
        ({"a": "top\r\nX-Injected: secret"}, "control character"),
        ({"a": "top;secret=1"}, "';'"),
        ({"a": "top secret \u20ac"}, "outside latin-1"),
    ],
)
async def test_bad_cookies_are_refused_without_showing_a_value(
    raw_server: MakeServer, cookies: Any, says: str
) -> None:
    a = await site(raw_server, {})
    with pytest.raises(rawhttp.InvalidRequest) as session_error:
        rawhttp.Session(cookies=cookies)
    async with rawhttp.Session(timeout=QUICK) as s:
        with pytest.raises(rawhttp.InvalidRequest) as request_error:
            await s.get(a.url("/"), cookies=cookies)
    for error in (session_error.value, request_error.value):
        assert says in str(error)
        assert "secret" not in str(error)
        assert "secret" not in repr(error)
        assert error.__context__ is None or "secret" not in str(error.__context__)
    assert a.server.connections == 0


async def test_a_jar_cookie_no_header_may_carry_is_left_out(raw_server: MakeServer) -> None:
    a = await site(raw_server, {})
    jar = http.cookiejar.CookieJar()
    jar.set_cookie(jar_cookie("bad", "x\r\nX-Injected: 1", "127.0.0.1"))
    jar.set_cookie(jar_cookie("wide", "\u20ac", "127.0.0.1"))
    jar.set_cookie(jar_cookie("good", "1", "127.0.0.1"))
    async with rawhttp.Session(timeout=QUICK, cookies=jar) as s:
        r = await s.get(a.url("/"))
        assert r.status == 200
    assert a.sent() == "good=1"


MALFORMED = [
    "nomaxage=1; Max-Age",  # the standard jar's parser fails on this one
    "wordage=2; Max-Age=soon",
    "=novalue",
    ";;;",
    " ",
    "nodomain=3; Domain",
    "baddate=4; Expires=the day after tomorrow",
    "badversion=5; Version=x",
    "elsewhere=6; Domain=other.test",
    "bytes=\xe9\xff; Path=/\xe9",
    "huge=7; Max-Age=99999999999999999999999999999",
    "noequals",
    "nopath=8; Path",
    "dots=9; Domain=..",
    'quoted="a;b"; Path=/',
]


async def test_malformed_set_cookie_fields_never_fail_a_request(raw_server: MakeServer) -> None:
    """The jar ignores what it cannot parse; the good cookie of the same response is
    kept (warnings are errors in this suite: the jar warns of none)."""
    a = await site(raw_server, {"/set": answer(200, *MALFORMED, "good=1; Path=/")})
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(a.url("/set"))
        assert r.status == 200
        r = await s.get(a.url("/echo"))
        assert r.status == 200
        assert "good" in names_in(s.cookies)
        assert "good=1" in a.pairs()
        assert "nomaxage" not in names_in(s.cookies)


TEXT = st.lists(
    st.sampled_from(
        [*"a=; \t,\"\\.-/:[]", "\xe9", "\xff", "0", "-1", "60", "9" * 30, "x", "1e3",
         "Thu, 01 Jan 1970 00:00:01 GMT", "Fri, 01 Jan 2100 00:00:00 GMT", "example.test",
         "www.example.test", "[::1]", "localhost", "127.0.0.1"]
    ),
    max_size=6,
).map("".join)  # fmt: skip
ATTRIBUTE = st.tuples(
    st.sampled_from(
        ["Max-Age", "max-age", "Expires", "Domain", "Path", "Secure", "HttpOnly", "Version",
         "Port", "Comment", "SameSite", "", " ", "x"]
    ),
    st.none() | TEXT,
).map(lambda pair: pair[0] if pair[1] is None else f"{pair[0]}={pair[1]}")  # fmt: skip
SET_COOKIE = st.lists(
    st.tuples(TEXT, st.lists(ATTRIBUTE, max_size=5)).map(lambda c: "; ".join([c[0], *c[1]])),
    min_size=1,
    max_size=4,
)
URLS = st.sampled_from(
    ["http://www.example.test/a/b", "https://example.test/", "http://127.0.0.1:8080/x",
     "http://[::1]:8080/p/q", "http://localhost/", "https://xn--bcher-kva.example/"]
)  # fmt: skip


class Hop:
    """What the two hooks read of a request and a response."""

    def __init__(self, url: str, set_cookie: list[str] | None = None) -> None:
        self.url = parse_url(url)
        self.cookies = None
        self.cookie = None
        self.own: list[Any] = []
        self.defaults: list[Any] = []
        self.headers = Headers([("Set-Cookie", value) for value in set_cookie or []])


@settings(max_examples=300, deadline=None)
@given(set_cookie=SET_COOKIE, where=URLS, then=URLS)
def test_any_set_cookie_is_stored_or_ignored_never_raised(
    set_cookie: list[str], where: str, then: str
) -> None:
    """Whatever the Set-Cookie fields, storing them neither raises nor warns (warnings
    are errors here) nor loses the good cookie among them, and the next request's
    Cookie field is one a header may carry."""
    store = CookieStore(None)
    response = Hop(where, [*set_cookie, "zz_good=1; Path=/"])
    extract_cookies(store, response, response)
    request = Hop(where)
    add_cookie_header(store, request)
    assert request.cookie is not None
    assert b"zz_good=1" in request.cookie.value.split(b"; ")
    request = Hop(then)
    add_cookie_header(store, request)
    if request.cookie is not None:
        assert b"\r" not in request.cookie.value
        assert b"\n" not in request.cookie.value


async def test_a_failing_jar_never_fails_a_request(raw_server: MakeServer) -> None:
    class Broken(http.cookiejar.CookieJar):
        def extract_cookies(self, response: Any, request: Any) -> None:
            raise ValueError("sid=secret cannot be stored")

    a = await site(raw_server, {"/set": answer(200, "sid=secret")})
    async with rawhttp.Session(timeout=QUICK, cookies=Broken()) as s:
        r = await s.get(a.url("/set"))
        assert r.status == 200
        assert names_in(s.cookies) == set()


# -- curl's cookie files -----------------------------------------------------------


async def test_mozilla_cookie_jar_round_trip(
    raw_server: MakeServer, tmp_path: pathlib.Path
) -> None:
    a = await site(
        raw_server,
        {
            "/set": answer(
                200,
                "keep=1; Max-Age=3600; Path=/",
                "other=2; Max-Age=3600; Path=/",
                "gone=3; Path=/",  # a session cookie: not saved
            )
        },
    )
    path = tmp_path / "cookies.txt"
    jar = http.cookiejar.MozillaCookieJar(str(path))
    async with rawhttp.Session(timeout=QUICK, cookies=jar) as s:
        await s.get(a.url("/set"))
    jar.save()
    lines = [line.split("\t") for line in path.read_text().splitlines() if "\t" in line]
    saved = {(f[0], f[1], f[2], f[3], f[5], f[6]) for f in lines}
    assert saved == {
        ("127.0.0.1", "FALSE", "/", "FALSE", "keep", "1"),
        ("127.0.0.1", "FALSE", "/", "FALSE", "other", "2"),
    }
    loaded = http.cookiejar.MozillaCookieJar()
    loaded.load(str(path))
    async with rawhttp.Session(timeout=QUICK, cookies=loaded) as s:
        await s.get(a.url("/echo"))
    assert sorted(a.pairs()) == ["keep=1", "other=2"]


async def run_curl(*args: str) -> bytes:
    proc = await asyncio.create_subprocess_exec(
        "curl", "-s", "--noproxy", "*", *args, stdout=asyncio.subprocess.PIPE
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), 10)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0
    return out


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
async def test_cookie_files_shared_with_curl(
    raw_server: MakeServer, tmp_path: pathlib.Path
) -> None:
    """curl writes a file (-c) that rawhttp sends from; rawhttp's saved file is what
    curl sends (-b)."""
    a = await site(
        raw_server,
        {
            "/curl": answer(
                200, "from_curl=1; Max-Age=3600; Path=/", "c_ho=2; Max-Age=3600; HttpOnly"
            ),
            "/rawhttp": answer(200, "from_rawhttp=3; Max-Age=3600; Path=/"),
        },
    )
    curl_file = tmp_path / "curl.txt"
    await run_curl("-c", str(curl_file), a.url("/curl"))
    jar = http.cookiejar.MozillaCookieJar(str(curl_file))
    jar.load()
    async with rawhttp.Session(timeout=QUICK, cookies=jar) as s:
        await s.get(a.url("/echo"))
        assert sorted(a.pairs()) == ["c_ho=2", "from_curl=1"]
        await s.get(a.url("/rawhttp"))
    ours = tmp_path / "rawhttp.txt"
    jar.save(str(ours))
    await run_curl("-b", str(ours), a.url("/from-curl"))
    assert sorted(a.pairs("/from-curl")) == ["c_ho=2", "from_curl=1", "from_rawhttp=3"]


# -- the blocking SyncSession ------------------------------------------------------


def test_sync_session_cookies(httpserver: HTTPServer) -> None:
    def login(request: WRequest) -> WResponse:
        response = WResponse("", status=302, headers={"Location": "/home"})
        response.set_cookie("sid", "abc")
        return response

    def echo(request: WRequest) -> WResponse:
        return WResponse(request.headers.get("Cookie", "-"))

    httpserver.expect_request("/login").respond_with_handler(login)
    httpserver.expect_request("/home").respond_with_handler(echo)
    with rawhttp.SyncSession(timeout=QUICK, follow_redirects=True) as s:
        assert s.get(httpserver.url_for("/login")).text == "sid=abc"
        assert names_in(s.cookies) == {"sid"}
        assert s.get(httpserver.url_for("/home"), cookies={"x": "1"}).text == "sid=abc; x=1"
    with rawhttp.SyncSession(timeout=QUICK, cookies={"lang": "en"}) as s:
        assert s.get(httpserver.url_for("/home")).text == "lang=en"
        assert s.cookies is s.cookies


def test_sync_session_shared_by_threads(httpserver: HTTPServer) -> None:
    """Threads setting and sending cookies through one SyncSession: each sees its
    own, the jar ends with all (bounded: 4 threads, 5 rounds, 10 s)."""

    def setter(request: WRequest) -> WResponse:
        n = request.args["n"]
        response = WResponse("set")
        response.set_cookie(f"t{n}", request.args["v"])
        return response

    def echo(request: WRequest) -> WResponse:
        return WResponse(request.headers.get("Cookie", ""))

    httpserver.expect_request("/set").respond_with_handler(setter)
    httpserver.expect_request("/echo").respond_with_handler(echo)
    failures: list[str] = []
    with rawhttp.SyncSession(timeout=QUICK) as s:

        def work(n: int) -> None:
            try:
                for round_ in range(5):
                    s.get(httpserver.url_for("/set"), params={"n": n, "v": round_})
                    sent = s.get(httpserver.url_for("/echo")).text.split("; ")
                    if f"t{n}={round_}" not in sent:
                        failures.append(f"thread {n} round {round_}: {sent}")
            except Exception as exc:
                failures.append(f"thread {n}: {exc!r}")

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert not any(thread.is_alive() for thread in threads)
        assert failures == []
        assert {(c.name, c.value) for c in s.cookies} == {(f"t{n}", "4") for n in range(4)}


# -- the cost of no cookies --------------------------------------------------------


async def test_an_empty_jar_is_not_asked(raw_server: MakeServer) -> None:
    """While the jar holds nothing, no request walks it."""

    class Counting(http.cookiejar.CookieJar):
        asked = 0

        def add_cookie_header(self, request: Any) -> None:
            self.asked += 1
            super().add_cookie_header(request)

    a = await site(raw_server, {"/set": answer(200, "sid=1")})
    jar = Counting()
    async with rawhttp.Session(timeout=QUICK, cookies=jar) as s:
        for _ in range(3):
            await s.get(a.url("/"))
        assert jar.asked == 0
        await s.get(a.url("/set"))
        await s.get(a.url("/"))
        assert jar.asked == 1
        assert a.sent() == "sid=1"
        jar.clear()
        await s.get(a.url("/"))
        assert jar.asked == 1
        assert a.sent() is None


SCRIPT = """
    import socket, sys, threading
    import rawhttp

    PLAIN = b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok"
    COOKIE = b"HTTP/1.1 200 OK\\r\\nSet-Cookie: a=1\\r\\nContent-Length: 2\\r\\n\\r\\nok"

    def serve(listener):
        conn, _ = listener.accept()
        with conn:
            data = b""
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
                while b"\\r\\n\\r\\n" in data:
                    head, _, data = data.partition(b"\\r\\n\\r\\n")
                    conn.sendall(COOKIE if b" /cookie " in head else PLAIN)

    listener = socket.create_server(("127.0.0.1", 0))
    threading.Thread(target=serve, args=(listener,), daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    with rawhttp.SyncSession() as s:
        for _ in range(3):
            assert s.get(url + "/").status == 200
        before = sorted(m for m in ("http.cookiejar", "urllib.request") if m in sys.modules)
        s.get(url + "/cookie")
        after = "http.cookiejar" in sys.modules
        assert s.get(url + "/").status == 200
        print(before, after, [c.name for c in s.cookies])
"""


def test_no_cookiejar_import_until_a_cookie_comes(tmp_path: pathlib.Path) -> None:
    done = run_script(tmp_path / "script.py", SCRIPT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[0] == "[] True ['a']"
