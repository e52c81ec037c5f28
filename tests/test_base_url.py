"""Session(base_url=): a request URL without a scheme is joined to the base URL, its
path appended to the base's path taken as a directory; an absolute URL is used as
it is.  Checked on the request line a loopback server receives."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from conftest import RawConnection, RawServer, always, assert_clean, head_fields, replay
from pytest_httpserver import HTTPServer

import rawhttp

MakeServer = Callable[..., Awaitable[RawServer]]
QUICK = rawhttp.Timeout(5.0)
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def request_line(request: bytes) -> str:
    return request.split(b"\r\n", 1)[0].decode("latin-1")


async def targets(server: RawServer, base: str, *urls: str, **options: object) -> list[str]:
    """The request lines ``server`` receives for GETs of ``urls`` with ``base_url=base``."""
    async with rawhttp.Session(timeout=QUICK, base_url=base) as s:
        for url in urls:
            r = await s.get(url, **options)  # type: ignore[arg-type]
            assert r.content == b"ok"
        assert_clean(s)
    lines = [request_line(request) for request in server.requests[-len(urls) :]]
    server.requests.clear()
    return lines


@pytest.mark.parametrize("base_path", ["/api", "/api/"])
async def test_relative_paths_with_or_without_a_slash_join_the_base_path(
    raw_server: MakeServer, base_path: str
) -> None:
    server = await raw_server(always(OK))
    lines = await targets(server, server.url(base_path), "users", "/users", "users/7", "/a/b/")
    assert lines == [
        "GET /api/users HTTP/1.1",
        "GET /api/users HTTP/1.1",
        "GET /api/users/7 HTTP/1.1",
        "GET /api/a/b/ HTTP/1.1",
    ]


async def test_a_base_without_a_path_and_the_empty_reference(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))
    assert await targets(server, server.url(""), "users", "/users", "") == [
        "GET /users HTTP/1.1",
        "GET /users HTTP/1.1",
        "GET / HTTP/1.1",
    ]
    # With a path, the empty reference (and "/") is the base's directory itself.
    assert await targets(server, server.url("/api/v1"), "", "/") == [
        "GET /api/v1/ HTTP/1.1",
        "GET /api/v1/ HTTP/1.1",
    ]


async def test_query_strings_are_kept_and_the_base_query_dropped(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))
    base = server.url("/api?key=secret-of-the-base")
    lines = await targets(server, base, "users?x=1&y=%C3%A9", "/search?q=a+b", "items#fragment")
    assert lines == [
        "GET /api/users?x=1&y=%C3%A9 HTTP/1.1",
        "GET /api/search?q=a+b HTTP/1.1",
        "GET /api/items HTTP/1.1",  # the fragment is never sent
    ]


async def test_params_are_added_to_the_joined_url(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))
    base = server.url("/api/")
    assert await targets(server, base, "users", params={"q": "a b", "n": [1, 2]}) == [
        "GET /api/users?q=a+b&n=1&n=2 HTTP/1.1"
    ]
    assert await targets(server, base, "users?x=1", params=[("y", "2")]) == [
        "GET /api/users?x=1&y=2 HTTP/1.1"
    ]


async def test_characters_are_percent_encoded_and_dot_segments_removed(
    raw_server: MakeServer,
) -> None:
    server = await raw_server(always(OK))
    lines = await targets(server, server.url("/api/v1"), "a b/\u00e9", "./x/../y", "../up")
    assert lines == [
        "GET /api/v1/a%20b/%C3%A9 HTTP/1.1",
        "GET /api/v1/y HTTP/1.1",
        # ".." resolves after joining (RFC 3986 section 5.2.4): it may leave the base path.
        "GET /api/up HTTP/1.1",
    ]


async def test_absolute_urls_bypass_the_base(raw_server: MakeServer) -> None:
    base_server = await raw_server(always(OK))
    other = await raw_server(always(OK))
    async with rawhttp.Session(timeout=QUICK, base_url=base_server.url("/api")) as s:
        r = await s.get(other.url("/elsewhere?z=1"))
        assert r.url == other.url("/elsewhere?z=1")
        r = await s.get(other.url("/x").replace("http://", "HTTP://"))  # scheme case
        assert r.url == other.url("/x")
    assert base_server.requests == []
    assert [request_line(request) for request in other.requests] == [
        "GET /elsewhere?z=1 HTTP/1.1",
        "GET /x HTTP/1.1",
    ]


async def test_a_scheme_relative_reference_stays_on_the_base_origin(
    raw_server: MakeServer,
) -> None:
    # "//host/path" is not taken as another authority: the joined URL keeps the
    # base's origin (the text after the slashes is a path under the base).
    server = await raw_server(always(OK))
    async with rawhttp.Session(timeout=QUICK, base_url=server.url("/api")) as s:
        r = await s.get("//evil.example/steal")
    assert r.url == server.url("/api/evil.example/steal")
    assert request_line(server.requests[0]) == "GET /api/evil.example/steal HTTP/1.1"
    assert ("host", f"127.0.0.1:{server.port}") in head_fields(server.requests[0])


async def test_response_url_and_stream_use_the_joined_url(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))
    async with rawhttp.Session(timeout=QUICK, base_url=server.url("/api")) as s:
        r = await s.get("users")
        assert r.url == server.url("/api/users")
        async with s.stream("POST", "/upload", content=b"abc") as streamed:
            assert streamed.url == server.url("/api/upload")
            assert await streamed.read() == b"ok"
    assert request_line(server.requests[1]) == "POST /api/upload HTTP/1.1"
    assert server.requests[1].endswith(b"\r\n\r\nabc")


async def test_other_schemes_and_colons_are_not_joined(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))
    async with rawhttp.Session(timeout=QUICK, base_url=server.url("/api")) as s:
        for url in ("ftp://127.0.0.1/x", "mailto:someone@example.com", "users:list"):
            with pytest.raises(rawhttp.InvalidURL):
                await s.get(url)
        # A colon in a relative path needs a "./" before it (RFC 3986 section 4.2).
        r = await s.get("./users:list")
        assert r.url == server.url("/api/users:list")
        assert_clean(s)
    assert len(server.requests) == 1


def test_an_invalid_base_url_is_refused_at_once() -> None:
    for base in ("127.0.0.1/api", "ftp://127.0.0.1/", "http://", "http://exa mple/"):
        with pytest.raises(rawhttp.InvalidURL):
            rawhttp.Session(base_url=base)


async def test_base_url_userinfo_is_sent_as_basic_auth(raw_server: MakeServer) -> None:
    server = await raw_server(always(OK))
    base = f"http://user:p%40ss@127.0.0.1:{server.port}/api"
    async with rawhttp.Session(timeout=QUICK, base_url=base) as s:
        r = await s.get("users")
    assert r.url == server.url("/api/users")  # no userinfo in the URL shown
    fields = dict(head_fields(server.requests[0]))
    assert fields["authorization"] == "Basic dXNlcjpwQHNz"  # user:p@ss


async def test_redirects_resolve_against_the_joined_url(raw_server: MakeServer) -> None:
    def redirect(location: str) -> bytes:
        return f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode()

    server = await raw_server(
        replay(redirect("next?page=2"), OK, redirect("/top"), OK, redirect("../up"), OK)
    )
    async with rawhttp.Session(
        timeout=QUICK, base_url=server.url("/api/v1"), follow_redirects=True
    ) as s:
        r = await s.get("items/list")
        # Relative to /api/v1/items/list, not to the base.
        assert r.url == server.url("/api/v1/items/next?page=2")
        assert [h.url for h in r.history] == [server.url("/api/v1/items/list")]
        r = await s.get("items")
        assert r.url == server.url("/top")  # an absolute path is the server's, not joined
        r = await s.get("a/b")
        assert r.url == server.url("/api/v1/up")  # ../up from /api/v1/a/b
        assert_clean(s)
    assert [request_line(request) for request in server.requests] == [
        "GET /api/v1/items/list HTTP/1.1",
        "GET /api/v1/items/next?page=2 HTTP/1.1",
        "GET /api/v1/items HTTP/1.1",
        "GET /top HTTP/1.1",
        "GET /api/v1/a/b HTTP/1.1",
        "GET /api/v1/up HTTP/1.1",
    ]


async def test_redirect_to_another_origin_drops_base_credentials(raw_server: MakeServer) -> None:
    other = await raw_server(always(OK))
    location = other.url("/landing")

    async def handler(conn: RawConnection) -> None:
        await replay(
            f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode()
        )(conn)

    server = await raw_server(handler)
    base = f"http://user:secret@127.0.0.1:{server.port}/api"
    async with rawhttp.Session(timeout=QUICK, base_url=base, follow_redirects=True) as s:
        r = await s.get("go")
    assert r.url == location
    assert "authorization" in dict(head_fields(server.requests[0]))
    assert "authorization" not in dict(head_fields(other.requests[0]))


def test_the_blocking_api_joins_too(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/users", query_string="x=1").respond_with_data("users")
    httpserver.expect_request("/api/items/7").respond_with_data("item")
    httpserver.expect_request("/plain").respond_with_data("plain")
    with rawhttp.SyncSession(timeout=QUICK, base_url=httpserver.url_for("/api")) as s:
        assert s.get("users", params={"x": 1}).text == "users"
        assert s.get("/items/7").text == "item"
        assert s.get(httpserver.url_for("/plain")).text == "plain"
        with s.stream("GET", "items/7") as r:
            assert r.response.url == httpserver.url_for("/api/items/7")
            assert b"".join(r.iter_bytes()) == b"item"
    httpserver.check_assertions()
    assert len(httpserver.log) == 4
