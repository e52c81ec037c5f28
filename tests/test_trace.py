"""trace= hooks see the exact bytes on the wire."""

from __future__ import annotations

import asyncio

import pytest
from conftest import replay

import rawhttp

RESPONSE = (
    b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A:  spaced \r\n\r\n"
    b"5;ext=1\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n"
)


async def test_receive_events_are_exactly_what_the_server_sent(raw_server) -> None:
    server = await raw_server(replay(RESPONSE, RESPONSE))
    events: list[rawhttp.TraceEvent] = []
    async with rawhttp.Session(trace=events.append) as s:
        r = await s.post(server.url("/x"), content=b"body")
        assert r.content == b"hello"
        first = list(events)
        r = await s.get(server.url("/y"))
    kinds = [e.kind for e in first]
    assert kinds[0] == "connect"
    assert b"".join(e.data for e in first if e.kind == "receive") == RESPONSE
    assert b"".join(e.data for e in first if e.kind == "send") == server.requests[0]
    second = events[len(first) :]
    assert "connect" not in [e.kind for e in second]  # the connection was reused
    assert {e.connection for e in events} == {first[0].connection}
    times = [e.time for e in events]
    assert times == sorted(times)


async def test_async_trace_hook_is_awaited(raw_server) -> None:
    server = await raw_server(replay(RESPONSE))
    seen: list[bytes] = []

    async def hook(event: rawhttp.TraceEvent) -> None:
        if event.kind == "send":
            seen.append(event.data)

    async with rawhttp.Session() as s:
        await s.get(server.url("/z"), trace=hook)
    assert b"".join(seen) == server.requests[0]
    assert seen[0].startswith(b"GET /z HTTP/1.1\r\n")


async def test_close_event_when_the_connection_ends_with_the_request(raw_server) -> None:
    closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
    server = await raw_server(replay(closing, close=True))
    events: list[rawhttp.TraceEvent] = []
    async with rawhttp.Session() as s:
        await s.get(server.url(), trace=events.append)
        kinds = [e.kind for e in events]
        assert kinds[0] == "connect"
        assert kinds[-1] == "close"
        assert events[-1].data == b""
        assert len({e.connection for e in events}) == 1


async def test_no_close_event_for_a_kept_alive_connection(raw_server) -> None:
    server = await raw_server(replay(RESPONSE))
    events: list[rawhttp.TraceEvent] = []
    async with rawhttp.Session() as s:
        await s.get(server.url(), trace=events.append)
    assert "close" not in [e.kind for e in events]  # closed later by aclose, not by the request


async def test_close_event_on_a_protocol_error_with_an_async_hook(raw_server) -> None:
    server = await raw_server(replay(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"))
    kinds: list[str] = []

    async def hook(event: rawhttp.TraceEvent) -> None:
        kinds.append(event.kind)

    async with rawhttp.Session() as s:
        with pytest.raises(rawhttp.ProtocolError):
            await s.get(server.url(), trace=hook)
        await asyncio.sleep(0)  # the close event of an async hook runs as a task
    assert kinds[0] == "connect"
    assert kinds[-1] == "close"
