"""``headers={"Host": None}`` (Session or request): no Host field at all, as curl's
``-H "Host:"``.  HTTP/1.1 requires Host (RFC 9112 section 3.2): this exists for testing
servers.  Otherwise Host stays strict: at most one, a caller's own replaces the
default.  Per request, a None value removes the Session's field of that name too."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable

import pytest
from conftest import RawConnection, RawServer, always, head_fields

import rawhttp
from rawhttp import __version__
from rawhttp._serialize import NO_HOST, encode_fields, request_head
from rawhttp._url import parse_url

MakeRaw = Callable[..., Awaitable[RawServer]]
QUICK = rawhttp.Timeout(5.0)
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
UA = f"rawhttp/{__version__}".encode()


def names(head: bytes) -> list[str]:
    return [name for name, _ in head_fields(head)]


# -- the serializer, on plain values ------------------------------------------------------


def test_request_head_without_host() -> None:
    url = parse_url("http://example.test:8080/a?b")
    fields = [*encode_fields([("Accept", "*/*")]), NO_HOST]
    assert request_head("GET", url, fields, content_length=None) == (
        b"GET /a?b HTTP/1.1\r\nAccept: */*\r\n\r\n"
    )
    assert request_head("POST", url, [NO_HOST], content_length=2) == (
        b"POST /a?b HTTP/1.1\r\nContent-Length: 2\r\n\r\n"
    )
    # absolute form (plain http through a proxy) without Host either
    assert request_head("GET", url, [NO_HOST], content_length=None, absolute=True) == (
        b"GET http://example.test:8080/a?b HTTP/1.1\r\n\r\n"
    )


def test_request_head_still_refuses_two_hosts() -> None:
    url = parse_url("http://example.test/")
    for fields in (
        [NO_HOST, *encode_fields([("Host", "a")])],
        encode_fields([("Host", "a"), ("host", "b")]),
    ):
        with pytest.raises(rawhttp.InvalidRequest, match="more than one Host"):
            request_head("GET", url, fields, content_length=None)


def test_encode_fields_collects_removals_only_when_asked() -> None:
    removed: list[str] = []
    fields = encode_fields([("X-A", "1"), ("HOST", None), ("Accept", None)], removed)  # type: ignore[list-item]
    assert ([f.name for f in fields], removed) == ([b"X-A"], ["host", "accept"])
    with pytest.raises(rawhttp.InvalidRequest, match="must be str or bytes, not NoneType"):
        encode_fields({"Host": None})  # type: ignore[dict-item]
    with pytest.raises(rawhttp.InvalidRequest, match="invalid header name"):
        encode_fields({"Bad Name": None}, [])  # type: ignore[dict-item]


# -- on the wire ----------------------------------------------------------------------------


async def test_session_without_host(raw_server: MakeRaw) -> None:
    server = await raw_server(always(OK))
    async with rawhttp.Session(
        timeout=QUICK, headers={"Host": None}, decode_content=False, trust_env=False
    ) as s:
        for _ in range(2):  # the second head comes from the head cache
            assert (await s.get(server.url("/x"))).content == b"ok"
        await s.post(server.url("/y"), content=b"hi")
    assert server.requests == [
        b"GET /x HTTP/1.1\r\nUser-Agent: %s\r\nAccept: */*\r\n\r\n" % UA,
        b"GET /x HTTP/1.1\r\nUser-Agent: %s\r\nAccept: */*\r\n\r\n" % UA,
        b"POST /y HTTP/1.1\r\nUser-Agent: %s\r\nAccept: */*\r\nContent-Length: 2\r\n\r\nhi" % UA,
    ]
    assert server.connections == 1


async def test_request_without_host(raw_server: MakeRaw) -> None:
    server = await raw_server(always(OK))
    async with rawhttp.Session(timeout=QUICK, trust_env=False) as s:
        await s.get(server.url("/1"), headers={"Host": None})
        await s.get(server.url("/2"), headers=[("X-A", "a"), ("host", None)])  # type: ignore[list-item]
        await s.get(server.url("/3"))  # the Session's own default is untouched
    first, second, third = server.requests
    assert "host" not in names(first)
    assert names(second)[-1] == "x-a"
    assert "host" not in names(second)
    assert ("host", f"127.0.0.1:{server.port}") in head_fields(third)


async def test_a_given_host_replaces_the_removal(raw_server: MakeRaw) -> None:
    server = await raw_server(always(OK))
    async with rawhttp.Session(timeout=QUICK, headers={"Host": None}, trust_env=False) as s:
        await s.get(server.url("/"), headers={"Host": "example.test"})
        await s.get(server.url("/"), headers={"Host": None, "host": "other.test"})
    assert [[v for k, v in head_fields(h) if k == "host"] for h in server.requests] == [
        ["example.test"],
        ["other.test"],
    ]
    async with rawhttp.Session(timeout=QUICK, headers={"Host": "sess.test"}) as s:
        await s.get(server.url("/"), headers={"Host": None})
        with pytest.raises(rawhttp.InvalidRequest, match="more than one Host"):
            await s.get(server.url("/"), headers=[("Host", "a"), ("Host", "b")])
    assert "host" not in names(server.requests[-1])


async def test_a_request_removes_session_fields(raw_server: MakeRaw) -> None:
    server = await raw_server(always(OK))
    async with rawhttp.Session(
        timeout=QUICK, headers={"X-Token": "t"}, decode_content=False, trust_env=False
    ) as s:
        await s.get(server.url("/"), headers={"Accept": None, "X-Token": None})
        await s.get(server.url("/"), headers={"User-Agent": None, "X-Own": "o"})
    assert server.requests[0] == (
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: %s\r\n\r\n" % (server.port, UA)
    )
    assert names(server.requests[1]) == ["host", "accept", "x-token", "x-own"]


async def test_removing_connection_close_keeps_the_connection(raw_server: MakeRaw) -> None:
    """A request removing the Session's ``Connection: close`` is not taken to ask for
    close: its connection is reused."""
    server = await raw_server(always(OK))
    async with rawhttp.Session(
        timeout=QUICK, headers={"Connection": "close"}, trust_env=False
    ) as s:
        await s.get(server.url("/"))  # the Session's close: this connection ends
        assert s.pool.connections == 0
        for _ in range(3):
            await s.get(server.url("/"), headers={"Connection": None})
        assert s.pool.idle == 1
    assert server.connections == 2
    assert ("connection", "close") in head_fields(server.requests[0])
    assert all("connection" not in names(h) for h in server.requests[1:])


# -- redirects, with curl as the reference -------------------------------------------------


def hops(other: RawServer) -> Callable[[RawConnection], Awaitable[None]]:
    """/a -> /b on the same server -> /c on ``other``, named localhost: another origin
    and another host name (curl keeps a removed Host for the same name on another
    port; rawhttp, as for a caller's own Host, only within the origin)."""

    async def handler(conn: RawConnection) -> None:
        for _ in range(10):
            head = await conn.read_request()
            if not head:
                return
            path = head.split(b" ")[1]
            if path == b"/a":
                await conn.send(b"HTTP/1.1 302 Found\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n")
            elif path == b"/b":
                where = other.url("/c", host="localhost").encode()
                await conn.send(
                    b"HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n" % where
                )
            else:
                await conn.send(OK)

    return handler


async def host_per_hop(
    make: MakeRaw, run: Callable[[str], Awaitable[None]]
) -> tuple[list[list[str]], int]:
    """The Host fields of each hop's request, and the port of the last hop's server."""
    other = await make(always(OK))
    first = await make(hops(other))
    await run(first.url("/a"))
    heads = first.requests + other.requests
    assert [h.split(b" ")[1] for h in heads] == [b"/a", b"/b", b"/c"]
    return [[v for k, v in head_fields(h) if k == "host"] for h in heads], other.port


async def test_redirects_keep_the_removal_within_the_origin(raw_server: MakeRaw) -> None:
    async def ours(url: str) -> None:
        async with rawhttp.Session(
            timeout=QUICK, headers={"Host": None}, follow_redirects=True, trust_env=False
        ) as s:
            assert (await s.get(url)).content == b"ok"

    got, port = await host_per_hop(raw_server, ours)
    # another origin: its Host again, as curl
    assert got == [[], [], [f"localhost:{port}"]]
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed: rawhttp checked against the expected hosts only")

    async def theirs(url: str) -> None:
        proc = await asyncio.create_subprocess_exec(
            curl, "-s", "-L", "-H", "Host:", url, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 10)
        assert (proc.returncode, out) == (0, b"ok")

    got, port = await host_per_hop(raw_server, theirs)
    assert got == [[], [], [f"localhost:{port}"]]


async def test_bad_fields_still_fail_clearly(raw_server: MakeRaw) -> None:
    server = await raw_server(always(OK))
    async with rawhttp.Session(timeout=QUICK, trust_env=False) as s:
        with pytest.raises(rawhttp.InvalidRequest, match="invalid header name") as info:
            await s.get(server.url("/"), headers={"Host": None, "Bad Name": "x"})
        assert info.value.__suppress_context__  # one error, not the same one twice
        with pytest.raises(rawhttp.InvalidRequest, match="invalid header name"):
            await s.get(server.url("/"), headers={"Bad Name": None})
        with pytest.raises(rawhttp.InvalidRequest, match="forbidden character"):
            await s.get(server.url("/"), headers={"Host": None, "X-A": "a\r\nb"})
        # pairs read once cannot be read again: None stays an error there, nothing is dropped
        pairs = iter([("X-A", "a"), ("Host", None)])
        with pytest.raises(rawhttp.InvalidRequest, match="not NoneType"):
            await s.get(server.url("/"), headers=pairs)  # type: ignore[arg-type]
    assert server.requests == []
