"""Round trips against a real HTTP server: pytest-httpserver (Werkzeug) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import rawhttp

QUICK = rawhttp.Timeout(10.0)
BIG = hashlib.sha256(b"seed").digest() * (5 * 1024 * 1024 // 32)  # 5 MiB, not all one byte


@pytest.fixture
def threaded_server() -> Iterator[HTTPServer]:
    """A Werkzeug server in threaded mode, which speaks HTTP/1.1 with keep-alive."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def remote_ports(server: HTTPServer) -> list[int]:
    return [int(request.environ["REMOTE_PORT"]) for request, _ in server.log]


def keeps_alive(r: rawhttp.Response) -> bool:
    """Whether the server offered to keep the connection open after ``r``."""
    connection = r.headers.get("connection", "").lower()
    if r.http_version == "HTTP/1.0":
        return "keep-alive" in connection
    return "close" not in connection


def assert_reuse_as_offered(responses: list[rawhttp.Response], server: HTTPServer) -> None:
    """Same client port for all requests if the server kept connections open, else one each.

    Werkzeug's development server sends ``Connection: close`` (it has no keep-alive),
    so reuse is only asserted when the server offers it.
    """
    ports = remote_ports(server)
    assert len(ports) == len(responses)
    if all(keeps_alive(r) for r in responses):
        assert len(set(ports)) == 1
    else:
        assert len(set(ports)) == len(ports)


async def test_get_with_headers_and_query(httpserver: HTTPServer) -> None:
    assert httpserver.host == "127.0.0.1"
    httpserver.expect_request(
        "/get",
        method="GET",
        headers={"X-Token": "abc123", "Accept": "application/json"},
        query_string="a=1&b=two",
    ).respond_with_json({"ok": True}, headers={"X-Reply": "yes"})
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(
            httpserver.url_for("/get?a=1&b=two"),
            headers={"X-Token": "abc123", "Accept": "application/json"},
        )
    httpserver.check_assertions()
    assert r.status == 200
    assert r.json() == {"ok": True}
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-reply"] == "yes"
    assert r.method == "GET"
    (request, _), *_ = httpserver.log
    assert request.headers["Host"] == f"127.0.0.1:{httpserver.port}"
    assert request.headers["User-Agent"].startswith("rawhttp/")


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_methods_with_body(httpserver: HTTPServer, method: str) -> None:
    body = f"payload for {method} \u00e9".encode()
    httpserver.expect_request(
        "/echo",
        method=method,
        data=body,
        headers={"Content-Type": "text/plain; charset=utf-8", "Content-Length": str(len(body))},
    ).respond_with_data(f"done {method}", status=201, content_type="text/plain")
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.request(
            method,
            httpserver.url_for("/echo"),
            content=body,
            headers={"Content-Type": "text/plain; charset=utf-8"},
        )
    httpserver.check_assertions()
    assert r.status == 201
    assert r.text == f"done {method}"
    assert len(httpserver.log) == 1


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "get", "options"])
async def test_shortcut_methods(httpserver: HTTPServer, method: str) -> None:
    httpserver.expect_request("/m", method=method.upper()).respond_with_data(method)
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await getattr(s, method)(httpserver.url_for("/m"))
    httpserver.check_assertions()
    assert r.status == 200
    assert r.text == method
    assert httpserver.log[0][0].method == method.upper()


async def test_str_content_is_sent_as_utf8(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        "/s", method="POST", data="h\u00e9llo \u2603".encode()
    ).respond_with_data("ok")
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.post(httpserver.url_for("/s"), content="h\u00e9llo \u2603")
    httpserver.check_assertions()
    assert r.text == "ok"


async def test_empty_post(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        "/empty", method="POST", data=b"", headers={"Content-Length": "0"}
    ).respond_with_data("", status=204)
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.post(httpserver.url_for("/empty"))
    httpserver.check_assertions()
    assert r.status == 204
    assert r.content == b""


async def test_head(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/h", method="HEAD").respond_with_data(
        b"x" * 1000, content_type="application/octet-stream"
    )
    httpserver.expect_request("/after", method="GET").respond_with_data("after")
    async with rawhttp.Session(timeout=rawhttp.Timeout(10.0, read=2.0)) as s:
        r = await s.head(httpserver.url_for("/h"))
        assert r.status == 200
        assert r.headers["content-length"] == "1000"
        assert r.content == b""
        # The next response is framed correctly, whether or not the connection was reused.
        r2 = await s.get(httpserver.url_for("/after"))
        assert r2.text == "after"
    httpserver.check_assertions()


async def test_options(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/o", method="OPTIONS").respond_with_data(
        "", headers={"Allow": "GET, POST, OPTIONS"}
    )
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.options(httpserver.url_for("/o"))
    httpserver.check_assertions()
    assert r.status == 200
    assert r.headers["allow"] == "GET, POST, OPTIONS"


async def test_json_round_trip(httpserver: HTTPServer) -> None:
    sent = {"name": "J\u00f6rg", "items": [1, 2.5, None, True], "nested": {"k": "v"}}
    reply = {"received": True, "unicode": "\u2603", "n": [1, 2, 3]}
    httpserver.expect_request(
        "/json", method="POST", json=sent, headers={"Content-Type": "application/json"}
    ).respond_with_json(reply)
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.post(
            httpserver.url_for("/json"),
            content=json.dumps(sent),
            headers={"Content-Type": "application/json"},
        )
    httpserver.check_assertions()
    assert r.json() == reply


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("name=J%C3%B6rg&x=a+b", b"name=J%C3%B6rg&x=a+b"),  # escapes kept as given
        ("sp=a b", b"sp=a%20b"),  # a raw space is encoded
        ("name=J\u00f6rg", b"name=J%C3%B6rg"),  # non-ASCII is UTF-8 percent-encoded
        ("pct=100%", b"pct=100%25"),  # a lone % is encoded
        ("q=%2F%3F%26", b"q=%2F%3F%26"),
        ("list=a,b;c=d/e?f", b"list=a,b;c=d/e?f"),
        ("quote=%22x%22&lt=<", b"quote=%22x%22&lt=%3C"),
    ],
)
async def test_query_strings_with_encoded_characters(
    httpserver: HTTPServer, query: str, expected: bytes
) -> None:
    httpserver.expect_request("/q", query_string=expected).respond_with_data("ok")
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(httpserver.url_for("/q") + "?" + query)
    httpserver.check_assertions()
    assert r.status == 200, r.text
    assert httpserver.log[0][0].query_string == expected


async def test_decoded_query_arguments_on_the_server(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        "/args", query_string={"name": "J\u00f6rg", "sp": "a b", "amp": "x&y"}
    ).respond_with_data("ok")
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(httpserver.url_for("/args") + "?name=J\u00f6rg&sp=a b&amp=x%26y")
    httpserver.check_assertions()
    assert r.text == "ok"


async def test_non_ascii_path(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/p\u00e4th/a b").respond_with_data("found")
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(httpserver.url_for("/p\u00e4th/a b"))
    httpserver.check_assertions()
    assert r.text == "found"
    assert httpserver.log[0][0].environ["RAW_URI"] == "/p%C3%A4th/a%20b"


async def test_fragment_is_not_sent(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/frag", query_string=b"a=1").respond_with_data("ok")
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(httpserver.url_for("/frag") + "?a=1#section")
    httpserver.check_assertions()
    assert r.text == "ok"
    assert httpserver.log[0][0].environ["RAW_URI"] == "/frag?a=1"


async def test_404_and_raise_for_status(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/missing").respond_with_data("no such thing", status=404)
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(httpserver.url_for("/missing"))
    assert r.status == 404
    assert r.reason == "NOT FOUND"
    assert r.text == "no such thing"
    assert not r.is_success
    with pytest.raises(rawhttp.HTTPStatusError) as info:
        r.raise_for_status()
    assert info.value.response is r
    assert "404" in str(info.value)


async def test_500_raise_for_status(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/boom").respond_with_data("err", status=500)
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(httpserver.url_for("/boom"))
    with pytest.raises(rawhttp.HTTPStatusError, match="server error"):
        r.raise_for_status()


async def test_redirect_is_returned_not_followed(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/old").respond_with_data(
        "", status=301, headers={"Location": "/new"}
    )
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(httpserver.url_for("/old"))
    assert r.status == 301
    assert r.is_redirect
    assert r.headers["location"].endswith("/new")
    assert len(httpserver.log) == 1


async def test_large_body_via_request(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/big").respond_with_data(
        BIG, content_type="application/octet-stream"
    )
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(httpserver.url_for("/big"))
    assert r.headers["content-length"] == str(len(BIG))
    assert len(r.content) == len(BIG)
    assert r.content == BIG


async def test_large_body_via_stream(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/big").respond_with_data(
        BIG, content_type="application/octet-stream"
    )
    async with rawhttp.Session(timeout=QUICK) as s:
        digest = hashlib.sha256()
        size = 0
        largest = 0
        async with s.stream("GET", httpserver.url_for("/big")) as r:
            assert r.status == 200
            async for chunk in r.iter_bytes(100_000):
                digest.update(chunk)
                size += len(chunk)
                largest = max(largest, len(chunk))
        assert size == len(BIG)
        assert 0 < largest <= 100_000
        assert digest.digest() == hashlib.sha256(BIG).digest()
        # read() inside a stream block
        async with s.stream("GET", httpserver.url_for("/big")) as r:
            assert await r.read() == BIG


async def test_large_upload(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/upload", method="PUT", data=BIG).respond_with_data("stored")
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.put(httpserver.url_for("/upload"), content=BIG)
    httpserver.check_assertions()
    assert r.text == "stored"


def generated(request: Request) -> Response:
    """A response of unknown length: chunked under HTTP/1.1, close-delimited under 1.0."""

    def parts() -> Iterator[bytes]:
        for i in range(50):
            yield b"part %d;" % i

    return Response(parts(), content_type="text/plain")


EXPECTED_GENERATED = b"".join(b"part %d;" % i for i in range(50))


async def test_streamed_response_of_unknown_length(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/gen").respond_with_handler(generated)
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(httpserver.url_for("/gen"))
        assert r.content == EXPECTED_GENERATED
        async with s.stream("GET", httpserver.url_for("/gen")) as r:
            assert b"".join([c async for c in r.iter_bytes(7)]) == EXPECTED_GENERATED


async def test_chunked_response_from_threaded_server(threaded_server: HTTPServer) -> None:
    threaded_server.expect_request("/gen").respond_with_handler(generated)
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(threaded_server.url_for("/gen"))
        assert r.http_version == "HTTP/1.1"
        assert r.headers.get("transfer-encoding") == "chunked"
        assert r.content == EXPECTED_GENERATED
        r2 = await s.get(threaded_server.url_for("/gen"))
        assert r2.content == EXPECTED_GENERATED
    # Reused if the server allows it: the chunked body was read to its end.
    assert_reuse_as_offered([r, r2], threaded_server)


async def test_keep_alive_reuse_if_supported(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/ka").respond_with_data("again")
    async with rawhttp.Session(timeout=QUICK) as s:
        responses = [await s.get(httpserver.url_for("/ka")) for _ in range(3)]
    assert all(r.text == "again" for r in responses)
    assert_reuse_as_offered(responses, httpserver)


async def test_keep_alive_reuse_with_threaded_server(threaded_server: HTTPServer) -> None:
    threaded_server.expect_request("/ka", method="GET").respond_with_data("get")
    threaded_server.expect_request("/ka", method="POST", data=b"abc").respond_with_data("post")
    responses = []
    async with rawhttp.Session(timeout=QUICK) as s:
        for _ in range(3):
            r = await s.get(threaded_server.url_for("/ka"))
            assert r.http_version == "HTTP/1.1"
            assert r.text == "get"
            responses.append(r)
            r = await s.post(threaded_server.url_for("/ka"), content=b"abc")
            assert r.text == "post"
            responses.append(r)
        assert s.pool.connections == (1 if all(keeps_alive(r) for r in responses) else 0)
        assert s.pool.in_use == 0
    threaded_server.check_assertions()
    assert_reuse_as_offered(responses, threaded_server)


async def test_concurrent_requests_threaded_server(threaded_server: HTTPServer) -> None:
    threaded_server.expect_request("/c").respond_with_data("c")
    async with rawhttp.Session(timeout=QUICK, max_connections=4) as s:
        results = await asyncio.gather(*(s.get(threaded_server.url_for("/c")) for _ in range(20)))
        assert s.pool.connections <= 4
    assert [r.text for r in results] == ["c"] * 20
    assert len(remote_ports(threaded_server)) == 20
    if all(keeps_alive(r) for r in results):
        assert len(set(remote_ports(threaded_server))) <= 4
