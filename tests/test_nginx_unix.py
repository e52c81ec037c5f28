"""Session(unix_socket=...) and ``rawhttp --unix-socket`` against a real nginx.

nginx listens only on a Unix domain socket; the URL gives the Host header and
the request target.  ``/conn`` answers with nginx's ``$connection`` serial and
``$connection_requests``, so keep-alive is visible from the client side too.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from servers import STATIC_BODY, NginxUnix, free_port, run_cli, run_nginx_unix

import rawhttp

QUICK = rawhttp.Timeout(5.0)
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture(scope="module")
def nginx() -> Iterator[NginxUnix]:
    with run_nginx_unix() as server:
        yield server


@pytest.fixture(autouse=True)
def no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def conn_fields(r: rawhttp.Response) -> tuple[int, int, str, str]:
    """``/conn``'s body: (connection serial, request number on it, host, request URI)."""
    connection, number, host, uri = r.text.split()
    return int(connection), int(number), host, uri


def wait_for_log(nginx: NginxUnix, count: int) -> list[str]:
    """The access log once it has at least ``count`` lines (nginx writes a line just
    after the response goes out, so it can trail the client by a moment)."""
    deadline = time.monotonic() + 3.0
    for _ in range(300):
        lines = nginx.access_log()
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.01)
    return nginx.access_log()


async def test_static_file(nginx: NginxUnix) -> None:
    before = len(nginx.access_log())
    async with rawhttp.Session(timeout=QUICK, unix_socket=nginx.socket_path) as s:
        r = await s.get("http://localhost/file.txt")
    assert (r.status, r.content) == (200, STATIC_BODY)
    assert r.headers["server"].startswith("nginx")
    assert r.headers["content-type"] == "text/plain"
    assert r.headers["content-length"] == str(len(STATIC_BODY))
    assert r.url == "http://localhost/file.txt"
    line = wait_for_log(nginx, before + 1)[before]
    assert line.endswith(' 1 "GET /file.txt HTTP/1.1" "localhost"')


async def test_url_gives_host_and_target(nginx: NginxUnix) -> None:
    before = len(nginx.access_log())
    async with rawhttp.Session(timeout=QUICK, unix_socket=nginx.socket_path) as s:
        r = await s.get("http://api.local:8080/conn", params={"q": "a b"})
    assert r.status == 200
    _, number, host, uri = conn_fields(r)
    assert (number, host, uri) == (1, "api.local", "/conn?q=a+b")
    line = wait_for_log(nginx, before + 1)[before]
    assert line.endswith('"GET /conn?q=a+b HTTP/1.1" "api.local:8080"')


async def test_keep_alive_reuses_the_connection(nginx: NginxUnix) -> None:
    before = len(nginx.access_log())
    async with rawhttp.Session(timeout=QUICK, unix_socket=nginx.socket_path) as s:
        first = conn_fields(await s.get("http://localhost/conn"))
        assert (await s.get("http://localhost/file.txt")).content == STATIC_BODY
        head = await s.head("http://localhost/file.txt")
        assert (head.status, head.content) == (200, b"")
        async with s.stream("GET", "http://localhost/file.txt") as r:
            assert b"".join([c async for c in r.iter_bytes(5)]) == STATIC_BODY
        last = conn_fields(await s.get("http://localhost/conn"))
    assert first[1] == 1
    assert last[:2] == (first[0], 5)  # the same nginx connection, fifth request on it
    lines = wait_for_log(nginx, before + 5)[before:]
    assert [line.split()[:2] for line in lines] == [[str(first[0]), str(n)] for n in range(1, 6)]


async def test_not_found_is_a_response(nginx: NginxUnix) -> None:
    async with rawhttp.Session(timeout=QUICK, unix_socket=nginx.socket_path) as s:
        r = await s.get("http://localhost/missing")
        assert r.status == 404
        with pytest.raises(rawhttp.HTTPStatusError):
            r.raise_for_status()
        # The connection survives the 404 and is reused.
        first = conn_fields(await s.get("http://localhost/conn"))
        second = conn_fields(await s.get("http://localhost/conn"))
    assert second[:2] == (first[0], first[1] + 1)


async def test_a_proxy_is_never_used_with_a_unix_socket(
    nginx: NginxUnix, monkeypatch: pytest.MonkeyPatch
) -> None:
    unreachable = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    monkeypatch.setenv("http_proxy", unreachable)
    monkeypatch.setenv("ALL_PROXY", unreachable)
    async with rawhttp.Session(timeout=QUICK, unix_socket=nginx.socket_path) as s:
        assert (await s.get("http://localhost/file.txt")).content == STATIC_BODY
    async with rawhttp.Session(
        timeout=QUICK, unix_socket=nginx.socket_path, proxy=unreachable
    ) as s:
        assert (await s.get("http://localhost/file.txt")).content == STATIC_BODY


def test_sync_session(nginx: NginxUnix) -> None:
    with rawhttp.SyncSession(timeout=QUICK, unix_socket=nginx.socket_path) as s:
        numbers = [conn_fields(s.get("http://localhost/conn"))[:2] for _ in range(3)]
    assert [n for _, n in numbers] == [1, 2, 3]
    assert len({c for c, _ in numbers}) == 1


async def test_cli_unix_socket(nginx: NginxUnix) -> None:
    before = len(nginx.access_log())
    result = await run_cli("--unix-socket", nginx.socket_path, "http://localhost/file.txt")
    assert result == (0, STATIC_BODY, b"")
    line = wait_for_log(nginx, before + 1)[before]
    assert line.endswith('"GET /file.txt HTTP/1.1" "localhost"')


async def test_cli_unix_socket_include_and_host(nginx: NginxUnix) -> None:
    code, out, err = await run_cli(
        "-i", "--unix-socket", nginx.socket_path, "http://svc.local:81/conn?x=1"
    )
    assert (code, err) == (0, b"")
    head, _, body = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nServer: nginx" in head
    assert body.split()[1:] == [b"1", b"svc.local", b"/conn?x=1"]


async def test_cli_unix_socket_fail_on_404(nginx: NginxUnix) -> None:
    code, out, err = await run_cli(
        "-sSf", "--unix-socket", nginx.socket_path, "http://localhost/missing"
    )
    assert code == 22
    assert out == b""
    assert err.startswith(b"rawhttp: (22)")
