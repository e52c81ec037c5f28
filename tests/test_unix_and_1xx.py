"""Unix domain sockets, and 1xx interim responses handed to on_informational."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest
from conftest import idle_connections, replay
from servers import run_cli

import rawhttp

FINAL = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
HINTS = (
    b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\nLink: </app.js>; rel=preload\r\n\r\n"
    b"HTTP/1.1 100 Continue\r\n\r\n"
)


@pytest.fixture
async def unix_server(tmp_path: Path):
    requests: list[bytes] = []
    connections = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                requests.append(head)
                writer.write(FINAL)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    path = str(tmp_path / "http.sock")
    server = await asyncio.start_unix_server(handle, path)
    yield path, requests, lambda: connections
    server.close()
    with contextlib.suppress(Exception):
        await server.wait_closed()


async def test_requests_go_to_the_unix_socket(unix_server) -> None:
    path, requests, connections = unix_server
    async with rawhttp.Session(unix_socket=path) as s:
        for _ in range(3):
            r = await s.get("http://api.local:8080/v1/items?x=1")
            assert (r.status, r.content) == (200, b"ok")
        (conn,) = idle_connections(s)
        assert "via " + path in repr(conn)
    assert connections() == 1  # kept alive
    assert requests[0].startswith(b"GET /v1/items?x=1 HTTP/1.1\r\nHost: api.local:8080\r\n")


async def test_missing_unix_socket_is_connect_error(tmp_path: Path) -> None:
    async with rawhttp.Session(unix_socket=str(tmp_path / "nothing.sock")) as s:
        with pytest.raises(rawhttp.ConnectError):
            await s.get("http://localhost/")


async def test_on_informational_sees_each_1xx(raw_server) -> None:
    server = await raw_server(replay(HINTS + FINAL))
    seen: list[rawhttp.InformationalResponse] = []
    async with rawhttp.Session(on_informational=seen.append) as s:
        r = await s.get(server.url())
    assert r.status == 200
    assert [(i.status, i.reason) for i in seen] == [(103, "Early Hints"), (100, "Continue")]
    assert seen[0].headers.get_all("link") == [
        "</style.css>; rel=preload",
        "</app.js>; rel=preload",
    ]
    assert seen[0].http_version == "HTTP/1.1"


async def test_async_on_informational_is_awaited(raw_server) -> None:
    server = await raw_server(replay(HINTS + FINAL))
    seen: list[int] = []

    async def hook(info: rawhttp.InformationalResponse) -> None:
        await asyncio.sleep(0)
        seen.append(info.status)

    async with rawhttp.Session(on_informational=hook) as s:
        assert (await s.get(server.url())).content == b"ok"
    assert seen == [103, 100]


async def test_cli_unix_socket(unix_server) -> None:
    path, requests, _ = unix_server
    assert await run_cli("--unix-socket", path, "http://svc/health") == (0, b"ok", b"")
    assert requests[-1].startswith(b"GET /health HTTP/1.1\r\nHost: svc\r\n")
