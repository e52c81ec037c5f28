"""The command's -b, -c and -j (rawhttp/cli/_cookiejar.py): reading curl's cookie
files, the jar written in curl's format, and the Cookie fields rawhttp.Session sends
with the jar, hop by hop, compared with curl 7.88's where curl is installed."""

from __future__ import annotations

import asyncio
import pathlib
import shutil
from collections.abc import Awaitable, Callable

import pytest
from conftest import RawConnection, RawServer, head_fields, read_message, refused_port

import rawhttp
from rawhttp.cli._cookiejar import (
    HEADER,
    Cookies,
    load_cookies,
    netscape_cookie,
    netscape_lines,
    read_cookie_lines,
)

MakeServer = Callable[..., Awaitable[RawServer]]

FILE = (
    "127.0.0.1\tFALSE\t/\tFALSE\t0\tsess\t1\n"
    "127.0.0.1\tFALSE\t/\tFALSE\t1924992000\tpersist\t2\n"
    "#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t0\thttp\t3\n"
    "127.0.0.1\tFALSE\t/\tFALSE\t1000\texpired\t4\n"
    "127.0.0.1\tFALSE\t/\tFALSE\t1924992000\tsix\n"
    ".127.0.0.1\tTRUE\t/a/\tFALSE\t0\tpa\t5\n"
    "127.0.0.1\tFALSE\tFALSE\t0\tnopath\t6\n"
    "# a comment\n\n"
)
# what curl 7.88.1 writes with -b FILE -c - (measured; newest first, 0 for session)
SAVED = HEADER + (
    "127.0.0.1\tFALSE\t/\tFALSE\t0\tnopath\t6\n"
    ".127.0.0.1\tTRUE\t/a/\tFALSE\t0\tpa\t5\n"
    "127.0.0.1\tFALSE\t/\tFALSE\t1924992000\tsix\t\n"
    "#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t0\thttp\t3\n"
    "127.0.0.1\tFALSE\t/\tFALSE\t1924992000\tpersist\t2\n"
    "127.0.0.1\tFALSE\t/\tFALSE\t0\tsess\t1\n"
)


def test_netscape_lines_as_curl_reads_them() -> None:
    http = netscape_cookie("#HttpOnly_.example.com\tTRUE\t/p\tTRUE\t99\tn\tv")
    assert http is not None
    assert (http.domain, http.path, http.secure, http.expires) == (".example.com", "/p", True, 99)
    assert http.has_nonstandard_attr("HttpOnly")
    assert http.name == "n"
    assert http.value == "v"
    assert netscape_cookie("# example.com\tFALSE\t/\tFALSE\t0\tn\tv") is None
    assert netscape_cookie("too\tfew") is None
    session = netscape_cookie("h\tFALSE\t/\tFALSE\t0\tn\tv")
    assert session is not None
    assert session.expires is None
    names = [c.name for c in read_cookie_lines(FILE, now=1_700_000_000)]
    assert names == ["sess", "persist", "http", "six", "pa", "nopath"]  # "expired" dropped


def test_load_cookies(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "jar.txt"
    path.write_text(FILE)
    jar = load_cookies([str(path)], junk_session=False)
    assert jar.stores
    assert jar.literal is None
    assert netscape_lines(jar) == SAVED
    junked = load_cookies([f"@{path}"], junk_session=True)  # -j; "@" names a file too
    assert sorted(c.name for c in junked) == ["persist", "six"]
    # -b strings: joined with ";" as given; no file: Set-Cookie is not kept
    literal = load_cookies(["a=b; c=d", "e=f"], junk_session=False)
    assert literal.literal == "a=b; c=d;e=f"
    assert not literal.stores
    assert netscape_lines(literal) == HEADER  # the -b strings are never saved
    # "" or a missing file: the engine is on, nothing loaded
    for value in ("", str(tmp_path / "missing")):
        empty = load_cookies([value], junk_session=False)
        assert empty.stores
        assert list(empty) == []
    assert load_cookies([], junk_session=False, save=True).stores  # -c alone
    header_file = tmp_path / "headers.txt"
    header_file.write_text(
        "Set-Cookie: hc=1; Path=/\n"
        "set-cookie: hd=2; Domain=127.0.0.1; expires=Wed, 01 Jan 2031 00:00:00 GMT\n"
    )
    mixed = load_cookies([str(header_file)], junk_session=False)
    # hc has no domain: sent to IP hosts, never saved
    saved = HEADER + "127.0.0.1\tFALSE\t/\tFALSE\t1924992000\thd\t2\n"
    assert netscape_lines(mixed) == saved


async def curl_output(*args: str) -> bytes:
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed: its jar cannot be compared")
    proc = await asyncio.create_subprocess_exec(
        curl, "-s", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 20)
    return out


async def test_saved_jar_matches_curl(tmp_path: pathlib.Path) -> None:
    """curl writes the jar even when the transfer fails: a refused port needs no server."""
    path = tmp_path / "jar.txt"
    path.write_text(FILE)
    refused = f"http://127.0.0.1:{refused_port()}/"
    assert await curl_output("-b", str(path), "-c", "-", refused) == SAVED.encode()
    junked = await curl_output("-j", "-b", str(path), "-c", "-", refused)
    assert netscape_lines(load_cookies([str(path)], junk_session=True)) == junked.decode()


def cookie_server(other: str) -> Callable[[RawConnection], Awaitable[None]]:
    """/set sets cookies; /jump redirects to ``other`` (another host) after setting one."""

    async def handler(conn: RawConnection) -> None:
        for _ in range(20):
            head, _ = await read_message(conn)
            if not head:
                return
            target = head.split(b" ")[1]
            extra = b""
            if target.startswith(b"/set"):
                extra = (
                    b"Set-Cookie: s1=v1\r\n"
                    b"Set-Cookie: p1=v2; Path=/set; Expires=Wed, 01 Jan 2031 00:00:00 GMT\r\n"
                    b"Set-Cookie: h1=v3; HttpOnly\r\nSet-Cookie: sec=x; Secure\r\n"
                )
            elif target.startswith(b"/jump"):
                extra = b"Set-Cookie: hop=1\r\nLocation: " + other.encode() + b"\r\n"
                await conn.send(b"HTTP/1.1 302 Found\r\n" + extra + b"Content-Length: 0\r\n\r\n")
                continue
            await conn.send(b"HTTP/1.1 200 OK\r\n" + extra + b"Content-Length: 0\r\n\r\n")

    return handler


def cookies_sent(server: RawServer) -> list[str]:
    return [dict(head_fields(r)).get("cookie", "-") for r in server.requests]


async def test_session_sends_what_curl_sends(
    raw_server: MakeServer, tmp_path: pathlib.Path
) -> None:
    """A file, a -b string and -c: the Cookie field of each request, the -L hops to
    another host included, and the jar written, as curl's."""
    path = tmp_path / "jar.txt"
    path.write_text("127.0.0.1\tFALSE\t/\tFALSE\t0\taa\t1\n127.0.0.1\tFALSE\t/\tFALSE\t0\tbb\t2\n")
    server = await raw_server(cookie_server("/"))
    urls = [server.url("/set/q"), server.url("/set/q"), server.url("/jump")]
    jar = load_cookies([str(path), "lit=1;x"], junk_session=False, save=True)
    async with rawhttp.Session(cookies=jar, follow_redirects=True) as session:
        for url in urls:
            assert (await session.get(url)).status == 200
    ours = cookies_sent(server)
    expected = [
        "bb=2; aa=1; lit=1;x",
        "sec=x; h1=v3; s1=v1; p1=v2; bb=2; aa=1; lit=1;x",
        "bb=2; aa=1; lit=1;x",
        "hop=1; bb=2; aa=1; lit=1;x",
    ]
    assert ours == expected
    saved = netscape_lines(jar)
    assert saved.startswith(HEADER)
    assert "\t0\thop\t1\n" in saved
    assert "#HttpOnly_127.0.0.1\tFALSE\t/set/\tFALSE\t0\th1\tv3\n" in saved
    del server.requests[:]
    out = await curl_output(
        "-L", "-b", str(path), "-b", "lit=1;x", "-c", "-", "-o", "/dev/null", *urls
    )
    assert cookies_sent(server) == expected
    # curl writes the jar after each URL's transfer: its last is the whole jar
    assert out.decode().endswith(saved)
    assert out.count(HEADER.encode()) == len(urls)


async def test_strings_go_to_every_host(raw_server: MakeServer) -> None:
    """-b strings alone: sent to every hop, another host's included; Set-Cookie is
    not kept (curl's engine is off)."""
    target = await raw_server(cookie_server("/"))
    server = await raw_server(cookie_server(target.url("/dest", host="localhost")))
    jar: Cookies = load_cookies(["a=b;c=d", "e=f"], junk_session=False)
    async with rawhttp.Session(cookies=jar, follow_redirects=True) as session:
        assert (await session.get(server.url("/jump"))).status == 200
    assert cookies_sent(server) + cookies_sent(target) == ["a=b;c=d;e=f", "a=b;c=d;e=f"]
    assert [c.name for c in jar if c.domain] == []
    for s in (server, target):
        del s.requests[:]
    await curl_output("-L", "-o", "/dev/null", "-b", "a=b;c=d", "-b", "e=f", server.url("/jump"))
    assert cookies_sent(server) + cookies_sent(target) == ["a=b;c=d;e=f", "a=b;c=d;e=f"]
