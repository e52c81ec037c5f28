"""``RedirectPolicy(referer=True)``: each request a followed redirect asks for carries
``Referer:`` the URL that redirected, without userinfo and fragment, in place of any
Referer before (curl's ``--referer ";auto"``); none from https to http (RFC 9110
section 10.1.3).  curl is the reference where the machine has it."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable

import pytest
from conftest import RawConnection, RawServer, always, head_fields

import rawhttp
from rawhttp._redirect_rules import referer
from rawhttp._url import parse_url

MakeRaw = Callable[..., Awaitable[RawServer]]
QUICK = rawhttp.Timeout(5.0)
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
AUTO = rawhttp.RedirectPolicy(referer=True)


def redirect(location: str) -> bytes:
    return b"HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n" % location.encode()


def chain(routes: dict[bytes, Callable[[], str]]) -> Callable[[RawConnection], Awaitable[None]]:
    """Redirect each path in ``routes`` to where its callable says; 200 to the rest."""

    async def handler(conn: RawConnection) -> None:
        for _ in range(10):
            head = await conn.read_request()
            if not head:
                return
            where = routes.get(head.split(b" ")[1].partition(b"?")[0])
            await conn.send(OK if where is None else redirect(where()))

    return handler


def referers(heads: list[bytes]) -> list[list[str]]:
    return [[v for k, v in head_fields(h) if k == "referer"] for h in heads]


# -- the rule, on plain values -------------------------------------------------------------


def test_referer_rule() -> None:
    current = parse_url("http://u:p@Example.test:80/a/../b?q=1#frag")
    assert referer(current, parse_url("http://other.test/")) == "http://example.test/b?q=1"
    assert referer(current, parse_url("https://other.test/")) == "http://example.test/b?q=1"
    secure = parse_url("https://example.test:8443/x")
    assert referer(secure, parse_url("https://other.test/")) == "https://example.test:8443/x"
    assert referer(secure, parse_url("http://example.test/")) is None


def test_policy_default_is_off() -> None:
    assert rawhttp.RedirectPolicy().referer is False
    assert rawhttp.RedirectPolicy(frozenset({301}), "PUT", True).referer is True


# -- on the wire ------------------------------------------------------------------------------


async def auto_chain(make: MakeRaw, run: Callable[[str], Awaitable[None]]) -> list[bytes]:
    """/a?x=1 -> /b#frag (same origin) -> http://localhost:P/c (another): every head."""
    other = await make(always(OK))
    first: RawServer

    def to_b() -> str:
        return "/b#frag"

    def to_c() -> str:
        return other.url("/c", host="localhost")

    first = await make(chain({b"/a": to_b, b"/b": to_c}))
    await run(first.url("/a?x=1#top").replace("http://", "http://u:p@"))
    heads = first.requests + other.requests
    assert [h.split(b" ")[1] for h in heads] == [b"/a?x=1", b"/b", b"/c"]
    return heads


async def test_each_hop_gets_the_url_that_redirected_as_curl(raw_server: MakeRaw) -> None:
    async def ours(url: str) -> None:
        async with rawhttp.Session(
            timeout=QUICK, follow_redirects=True, redirect_policy=AUTO, trust_env=False
        ) as s:
            r = await s.get(url, headers={"Referer": "http://first/", "X-After": "1"})
            assert r.content == b"ok"

    heads = await auto_chain(raw_server, ours)
    port = heads[0].split(b"Host: 127.0.0.1:")[1].split(b"\r\n")[0].decode()
    expected = [
        ["http://first/"],
        [f"http://127.0.0.1:{port}/a?x=1"],
        [f"http://127.0.0.1:{port}/b"],
    ]
    assert referers(heads) == expected
    # the new Referer takes the place of the first request's own
    order = [k for k, _ in head_fields(heads[1])]
    assert order.index("referer") + 1 == order.index("x-after")
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed: rawhttp checked against the expected values only")

    async def theirs(url: str) -> None:
        proc = await asyncio.create_subprocess_exec(
            curl, "-s", "-L", "-e", "http://first/;auto", url, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 10)
        assert (proc.returncode, out) == (0, b"ok")

    heads = await auto_chain(raw_server, theirs)
    port = heads[0].split(b"Host: 127.0.0.1:")[1].split(b"\r\n")[0].decode()
    assert referers(heads) == [
        ["http://first/"],
        [f"http://127.0.0.1:{port}/a?x=1"],
        [f"http://127.0.0.1:{port}/b"],
    ]


async def test_a_session_referer_is_replaced_too(raw_server: MakeRaw) -> None:
    server = await raw_server(chain({b"/a": lambda: "/b"}))
    async with rawhttp.Session(
        timeout=QUICK,
        headers={"Referer": "http://session/"},
        follow_redirects=True,
        redirect_policy=AUTO,
        trust_env=False,
    ) as s:
        assert (await s.get(server.url("/a"))).content == b"ok"
        assert (await s.get(server.url("/plain"))).content == b"ok"
    assert referers(server.requests) == [
        ["http://session/"],
        [server.url("/a")],
        ["http://session/"],  # the Session's own is untouched for the next request
    ]


async def test_without_the_policy_nothing_changes(raw_server: MakeRaw) -> None:
    server = await raw_server(chain({b"/a": lambda: "/b", b"/b": lambda: "/c"}))
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True, trust_env=False) as s:
        await s.get(server.url("/a"))
        await s.get(server.url("/a"), headers={"Referer": "http://mine/"})
    assert referers(server.requests) == [[], [], [], *[["http://mine/"]] * 3]


async def test_never_from_https_to_http(
    tls_server: MakeRaw, raw_server: MakeRaw, ca_path: str
) -> None:
    plain = await raw_server(always(OK))
    secure = await tls_server(handler=chain({b"/a": lambda: "/b", b"/b": lambda: plain.url("/c")}))
    async with rawhttp.Session(
        timeout=QUICK,
        verify=ca_path,
        follow_redirects=True,
        redirect_policy=AUTO,
        trust_env=False,
    ) as s:
        r = await s.get(secure.url("/a"), headers={"Referer": "https://first/"})
        assert (r.content, len(r.history)) == (b"ok", 2)
    assert referers(secure.requests) == [["https://first/"], [secure.url("/a")]]
    assert referers(plain.requests) == [[]]  # neither the automatic one nor the first's
