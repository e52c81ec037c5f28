"""Response.timings: where the time of one request went, and the exact bytes on the wire."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from conftest import RawConnection, head_fields, replay

import rawhttp

QUICK = rawhttp.Timeout(5.0)
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
PHASES = ("pool", "connect", "tls", "send", "wait")


# -- helpers -------------------------------------------------------------------


async def read_raw(conn: RawConnection, *, send_continue: bool = False) -> bytes:
    """One request exactly as it crossed the wire (head, and body as framed: chunk
    lines and trailers included); b"" at EOF.  With ``send_continue`` a request
    carrying ``Expect: 100-continue`` is answered with 100 before its body is read."""
    reader = conn.reader
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return b""
    fields = dict(head_fields(head))
    if send_continue and fields.get("expect", "").lower() == "100-continue":
        await conn.send(b"HTTP/1.1 100 Continue\r\n\r\n")
    raw = head
    if fields.get("transfer-encoding", "").lower() == "chunked":
        while True:
            line = await reader.readuntil(b"\r\n")
            raw += line
            if int(line[:-2].split(b";")[0], 16) == 0:
                while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
                    raw += line
                raw += line
                break
            raw += await reader.readexactly(int(line[:-2].split(b";")[0], 16) + 2)
    elif "content-length" in fields:
        raw += await reader.readexactly(int(fields["content-length"]))
    conn.server.requests.append(raw)
    return raw


def answer(*responses: bytes, send_continue: bool = False, delay: float = 0.0):
    """A handler answering the n-th request of a connection with ``responses[n]``
    (the last one repeated), recording each request's exact bytes."""

    async def handler(conn: RawConnection) -> None:
        n = 0
        while await read_raw(conn, send_continue=send_continue):
            if delay:
                await asyncio.sleep(delay)
            await conn.send(responses[min(n, len(responses) - 1)])
            n += 1

    return handler


def check_invariants(t: rawhttp.Timings) -> None:
    """What holds for every completed response, whatever the exact clock readings."""
    for name in PHASES:
        value = getattr(t, name)
        assert isinstance(value, float), name
        assert value >= 0.0, (name, value)
    assert t.total is not None
    assert t.receive is not None
    assert t.receive >= 0.0
    assert t.first_byte >= 0.0
    assert t.total >= t.first_byte
    assert t.receive == pytest.approx(t.total - t.first_byte, abs=1e-6)
    assert t.first_byte >= t.wait
    assert isinstance(t.reused, bool)
    assert isinstance(t.bytes_sent, int)
    assert isinstance(t.bytes_received, int)


# -- the phases ------------------------------------------------------------------


async def test_new_then_reused_connection(raw_server) -> None:
    server = await raw_server(answer(OK))
    async with rawhttp.Session(timeout=QUICK) as s:
        first = await s.get(server.url("/a"))
        second = await s.get(server.url("/b"))
    assert server.connections == 1
    t1, t2 = first.timings, second.timings
    assert isinstance(t1, rawhttp.Timings)
    assert t1 is not t2
    check_invariants(t1)
    check_invariants(t2)
    assert t1.reused is False
    assert t1.connect > 0.0
    assert t1.tls == 0.0
    assert t1.pool == 0.0
    assert t2.reused is True
    assert t2.connect == 0.0
    assert t2.tls == 0.0
    assert t2.pool == 0.0
    assert t2.start >= t1.start + t1.total


async def test_every_response_has_its_own_timings_object(raw_server) -> None:
    server = await raw_server(answer(OK))
    async with rawhttp.Session(timeout=QUICK) as s:
        responses = [await s.get(server.url()) for _ in range(3)]
    assert len({id(r.timings) for r in responses}) == 3
    assert [r.timings.reused for r in responses] == [False, True, True]


@pytest.mark.parametrize("scenario", ["new", "reused", "tls", "pool-wait", "slow-server"])
async def test_first_byte_is_the_sum_of_the_phases(
    raw_server, scenario: str, server_ssl: ssl.SSLContext, ca_path: str
) -> None:
    """first_byte = pool + connect + tls + send + wait, up to float rounding (the
    spec's identity), for each way a connection can be obtained."""
    kwargs: dict[str, object] = {}
    delay = 0.05 if scenario in ("pool-wait", "slow-server") else 0.0
    if scenario == "tls":
        kwargs["ssl"] = server_ssl
    server = await raw_server(answer(OK, delay=delay), **kwargs)
    url = server.url(scheme="https" if scenario == "tls" else "http")
    async with rawhttp.Session(timeout=QUICK, verify=ca_path, max_connections=1) as s:
        if scenario == "pool-wait":
            _, r = await asyncio.gather(s.get(url), s.get(url))
            assert r.timings.pool > 0.0
        elif scenario == "reused":
            await s.get(url)
            r = await s.get(url)
            assert r.timings.reused
        else:
            r = await s.get(url)
    t = r.timings
    check_invariants(t)
    assert t.first_byte == pytest.approx(t.pool + t.connect + t.tls + t.send + t.wait, abs=1e-9)


async def test_tls_handshake_is_timed_on_a_new_connection_only(
    raw_server, server_ssl: ssl.SSLContext, ca_path: str
) -> None:
    server = await raw_server(answer(OK), ssl=server_ssl)
    async with rawhttp.Session(timeout=QUICK, verify=ca_path) as s:
        first = await s.get(server.url(scheme="https"))
        second = await s.get(server.url(scheme="https"))
    assert (first.status, first.content, second.content) == (200, b"ok", b"ok")
    assert server.connections == 1
    t1, t2 = first.timings, second.timings
    check_invariants(t1)
    check_invariants(t2)
    assert (t1.reused, t2.reused) == (False, True)
    assert t1.tls > 0.0
    assert t1.connect > 0.0
    assert (t2.connect, t2.tls) == (0.0, 0.0)
    # Counted as the application sees them: plaintext, not TLS records.
    assert t1.bytes_sent == len(server.requests[0])
    assert t2.bytes_sent == len(server.requests[1])
    assert t1.bytes_received == t2.bytes_received == len(OK)


async def test_plain_http_has_no_tls_time(raw_server) -> None:
    server = await raw_server(answer(OK))
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(server.url())
    assert r.timings.tls == 0.0


async def test_wait_covers_the_server_think_time(raw_server) -> None:
    server = await raw_server(answer(OK, delay=0.2))
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(server.url())
    t = r.timings
    check_invariants(t)
    assert t.wait >= 0.199
    assert t.wait < 2.0
    assert t.first_byte >= t.wait
    assert t.send < 0.1
    assert t.receive < 0.1


async def test_pool_wait_is_timed(raw_server) -> None:
    server = await raw_server(answer(OK, delay=0.2))
    async with rawhttp.Session(timeout=QUICK, max_connections=1) as s:
        a, b = await asyncio.gather(s.get(server.url("/a")), s.get(server.url("/b")))
    assert server.connections == 1
    first, second = sorted((a.timings, b.timings), key=lambda t: t.pool)
    check_invariants(first)
    check_invariants(second)
    assert first.pool == 0.0
    assert first.reused is False
    assert first.connect > 0.0
    assert second.pool >= 0.15
    assert second.pool < 2.0
    assert second.reused is True  # handed the first request's connection
    assert second.connect == 0.0
    assert second.first_byte >= second.pool + second.wait
    assert second.wait >= 0.199  # the server also thinks 0.2 s about the second request


async def test_pool_wait_then_new_connection(raw_server) -> None:
    """A waiter handed a free slot (not a connection) opens a new connection: both
    its pool wait and its connect time are counted."""
    server = await raw_server(answer(OK, delay=0.2))
    async with rawhttp.Session(timeout=QUICK, max_connections=1) as s:
        a, b = await asyncio.gather(
            s.get(server.url(), headers={"Connection": "close"}), s.get(server.url())
        )
    assert server.connections == 2
    second = max((a.timings, b.timings), key=lambda t: t.pool)
    assert second.pool >= 0.15
    assert second.reused is False
    assert second.connect > 0.0


# -- bytes_sent ----------------------------------------------------------------


async def test_bytes_sent_get(raw_server) -> None:
    server = await raw_server(answer(OK))
    async with rawhttp.Session(timeout=QUICK) as s:
        r1 = await s.get(server.url("/x?y=1"))
        r2 = await s.get(server.url("/x?y=1"), headers={"X-Extra": "a" * 100})
    assert r1.timings.bytes_sent == len(server.requests[0])
    assert r2.timings.bytes_sent == len(server.requests[1])
    assert r2.timings.bytes_sent == r1.timings.bytes_sent + len(b"X-Extra: \r\n") + 100


async def test_bytes_sent_post_bytes(raw_server) -> None:
    server = await raw_server(answer(OK))
    body = bytes(range(256)) * 40
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.post(server.url(), content=body)
    (raw,) = server.requests
    assert raw.endswith(b"\r\n\r\n" + body)
    assert r.timings.bytes_sent == len(raw)


async def test_bytes_sent_post_large_bytes(raw_server) -> None:
    """Larger than one socket write (the head and body are written separately)."""
    server = await raw_server(answer(OK))
    body = b"z" * (300 * 1024)
    async with rawhttp.Session(timeout=QUICK, expect_continue=False) as s:
        r = await s.post(server.url(), content=body)
    assert r.timings.bytes_sent == len(server.requests[0])
    assert r.timings.send >= 0.0


async def test_bytes_sent_streamed_chunked(raw_server) -> None:
    server = await raw_server(answer(OK))

    async def pieces() -> AsyncIterator[bytes]:
        yield b"a" * 10
        yield b""  # empty pieces are skipped, not sent as a last chunk
        yield b"b" * 300
        yield b"c"

    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.post(server.url(), content=pieces())
    (raw,) = server.requests
    assert b"Transfer-Encoding: chunked\r\n" in raw
    assert raw.endswith(
        b"a\r\n" + b"a" * 10 + b"\r\n12c\r\n" + b"b" * 300 + b"\r\n1\r\nc\r\n0\r\n\r\n"
    )
    assert r.timings.bytes_sent == len(raw)


async def test_bytes_sent_sync_iterable_and_file(raw_server, tmp_path: Path) -> None:
    server = await raw_server(answer(OK))
    path = tmp_path / "body.bin"
    path.write_bytes(b"f" * 70_000)  # more than one file block
    async with rawhttp.Session(timeout=QUICK) as s:
        r1 = await s.put(server.url(), content=[b"one", b"two"])
        with path.open("rb") as f:
            r2 = await s.put(server.url(), content=f)
    assert r1.timings.bytes_sent == len(server.requests[0])
    assert b"Content-Length: 70000\r\n" in server.requests[1]
    assert r2.timings.bytes_sent == len(server.requests[1])


@pytest.mark.parametrize("streamed", [False, True])
async def test_bytes_sent_with_expect_continue(raw_server, streamed: bool) -> None:
    server = await raw_server(answer(OK, send_continue=True))
    body = b"payload" * 100

    async def pieces() -> AsyncIterator[bytes]:
        yield body[:300]
        yield body[300:]

    async with rawhttp.Session(timeout=QUICK, expect_continue=True) as s:
        r = await s.post(server.url(), content=pieces() if streamed else body)
    (raw,) = server.requests
    assert b"\r\nExpect: 100-continue\r\n" in raw
    assert r.timings.bytes_sent == len(raw)
    # The 100 Continue head is part of what was received.
    assert r.timings.bytes_received == len(b"HTTP/1.1 100 Continue\r\n\r\n") + len(OK)


# -- bytes_received --------------------------------------------------------------

CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n"
    b"5;name=value\r\nhello\r\n"
    b"6;a=b;c\r\n world\r\n"
    b"1\r\n!\r\n"
    b"0;last=yes\r\nX-Trailer: done\r\nX-Other: 2\r\n\r\n"
)


def pieces_of(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def trickle(response: bytes, size: int):
    """Answer every request with ``response`` sent ``size`` bytes at a time, so the
    client reads the body through the stream path rather than from its buffer."""

    async def handler(conn: RawConnection) -> None:
        while await read_raw(conn):
            for piece in pieces_of(response, size):
                await conn.send(piece)
                await asyncio.sleep(0.001)

    return handler


@pytest.mark.parametrize("traced", [False, True])
@pytest.mark.parametrize(
    "response",
    [
        OK,
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nX-Long: "
        + b"v" * 500
        + b"\r\n\r\n"
        + b"x" * 5000,
        CHUNKED,
        b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" + OK,
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n" + OK,
        b"HTTP/1.1 204 No Content\r\nX-Empty: 1\r\n\r\n",
        b"HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n",
    ],
    ids=["length", "empty-length", "long", "chunked-ext-trailers", "103", "100-102", "204", "304"],
)
async def test_bytes_received_exact(raw_server, response: bytes, traced: bool) -> None:
    server = await raw_server(answer(response))
    events: list[rawhttp.TraceEvent] = []
    trace = events.append if traced else None
    async with rawhttp.Session(timeout=QUICK, trace=trace) as s:
        r = await s.get(server.url())
        again = await s.get(server.url())  # the connection was left clean
    assert r.status in (200, 204, 304)
    assert r.timings.bytes_received == len(response)
    assert again.timings.bytes_received == len(response)
    assert again.timings.reused is True
    check_invariants(r.timings)
    if traced:
        received = [e for e in events if e.kind == "receive"]
        assert sum(len(e.data) for e in received) == 2 * len(response)


async def test_bytes_received_chunked_content_and_trailers(raw_server) -> None:
    server = await raw_server(answer(CHUNKED))
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(server.url())
    assert r.content == b"hello world!"
    assert r.trailers.get("x-trailer") == "done"
    assert r.timings.bytes_received == len(CHUNKED)


@pytest.mark.parametrize("size", [1, 3, 7, 64])
async def test_bytes_received_chunked_in_small_pieces(raw_server, size: int) -> None:
    server = await raw_server(trickle(CHUNKED, size))
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(server.url())
        async with s.stream("GET", server.url()) as streamed:
            got = b"".join([c async for c in streamed.iter_bytes(2)])
    assert (r.content, got) == (b"hello world!", b"hello world!")
    assert r.timings.bytes_received == len(CHUNKED)
    assert streamed.timings.bytes_received == len(CHUNKED)


@pytest.mark.parametrize("size", [1, 5, 100])
async def test_bytes_received_length_in_small_pieces(raw_server, size: int) -> None:
    response = b"HTTP/1.1 200 OK\r\nContent-Length: 300\r\n\r\n" + b"q" * 300
    server = await raw_server(trickle(response, size))
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(server.url())
    assert r.content == b"q" * 300
    assert r.timings.bytes_received == len(response)


async def test_bytes_received_head_request(raw_server) -> None:
    response = b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nContent-Type: text/plain\r\n\r\n"
    server = await raw_server(answer(response))
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.head(server.url())
        again = await s.head(server.url())
    assert (r.status, r.content, r.headers["content-length"]) == (200, b"", "1234")
    assert r.timings.bytes_received == len(response)
    assert again.timings.reused
    check_invariants(r.timings)


async def test_bytes_received_close_delimited(raw_server) -> None:
    response = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"until the end" * 50
    server = await raw_server(replay(response, close=True))
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(server.url())
    assert r.content == b"until the end" * 50
    assert r.timings.bytes_received == len(response)


# -- streaming ---------------------------------------------------------------------


async def test_stream_total_is_none_until_the_body_is_read(raw_server) -> None:
    response = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789"
    server = await raw_server(trickle(response, 64))
    async with rawhttp.Session(timeout=QUICK) as s:
        async with s.stream("GET", server.url()) as r:
            t = r.timings
            assert t.total is None
            assert t.receive is None
            assert t.first_byte > 0.0
            assert t.bytes_sent == len(server.requests[0])
            assert "total=-" in repr(t)
            assert await r.read() == b"0123456789"
            assert t.total is not None
            assert t.receive is not None
            check_invariants(t)
            assert t.bytes_received == len(response)
        async with s.stream("GET", server.url()) as r2:
            assert r2.timings.total is None
            chunks = [c async for c in r2.iter_bytes(3)]
            assert b"".join(chunks) == b"0123456789"
            assert r2.timings.total is not None
            assert r2.timings.bytes_received == len(response)
            assert r2.timings.reused


async def test_stream_of_an_empty_body_is_complete_at_once(raw_server) -> None:
    server = await raw_server(answer(b"HTTP/1.1 204 No Content\r\n\r\n"))
    async with rawhttp.Session(timeout=QUICK) as s, s.stream("GET", server.url()) as r:
        assert r.timings.total is not None
        assert r.timings.bytes_received == len(b"HTTP/1.1 204 No Content\r\n\r\n")


# -- redirects, replay, repr --------------------------------------------------------


async def test_each_redirect_hop_has_its_own_timings(raw_server) -> None:
    redirect = b"HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 4\r\n\r\nmove"
    final = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone"
    server = await raw_server(answer(redirect, final))
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True) as s:
        r = await s.post(server.url("/start"), content=b"data")
    assert r.status == 200
    (hop,) = r.history
    assert hop.timings is not r.timings
    check_invariants(hop.timings)
    check_invariants(r.timings)
    assert hop.timings.reused is False
    assert r.timings.reused is True
    assert r.timings.connect == 0.0
    assert hop.timings.bytes_received == len(redirect)
    assert r.timings.bytes_received == len(final)
    assert hop.timings.bytes_sent == len(server.requests[0])
    assert r.timings.bytes_sent == len(server.requests[1])
    assert server.requests[1].startswith(b"GET /next HTTP/1.1\r\n")
    assert r.timings.start >= hop.timings.start + hop.timings.total


async def test_replayed_response_has_timings(raw_server, tmp_path: Path) -> None:
    server = await raw_server(answer(CHUNKED))
    path = tmp_path / "x.rawhttp"
    with rawhttp.Recorder(path) as recorder:
        async with rawhttp.Session(timeout=QUICK, trace=recorder) as s:
            live = await s.get(server.url())
    again = rawhttp.replay(path)
    assert again.content == live.content == b"hello world!"
    assert isinstance(again.timings, rawhttp.Timings)
    assert repr(again.timings).startswith("<Timings ")


def test_replay_without_a_loop_has_timings(tmp_path: Path) -> None:
    path = tmp_path / "y.rawhttp"
    with rawhttp.Recorder(path) as recorder:
        recorder(rawhttp.TraceEvent("send", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 1.0, 1))
        recorder(rawhttp.TraceEvent("receive", OK, 1.1, 1))
    r = rawhttp.replay(path)
    assert r.content == b"ok"
    assert isinstance(r.timings, rawhttp.Timings)
    repr(r.timings)


def test_repr_of_timings() -> None:
    t = rawhttp.Timings(100.0)
    assert t.start == 100.0
    assert (t.pool, t.connect, t.tls, t.send, t.wait, t.first_byte) == (0.0,) * 6
    assert (t.total, t.receive) == (None, None)
    assert (t.bytes_sent, t.bytes_received, t.reused) == (0, 0, False)
    assert repr(t) == (
        "<Timings pool=0.000ms connect=0.000ms tls=0.000ms send=0.000ms wait=0.000ms "
        "receive=- total=- sent=0B received=0B>"
    )
    t.pool, t.connect, t.tls, t.send, t.wait = 0.001, 0.0025, 0.0, 0.0001, 0.010
    t.receive, t.total, t.first_byte = 0.002, 0.0156, 0.0136
    t.bytes_sent, t.bytes_received, t.reused = 123, 4567, True
    assert repr(t) == (
        "<Timings pool=1.000ms connect=2.500ms tls=0.000ms send=0.100ms wait=10.000ms "
        "receive=2.000ms total=15.600ms sent=123B received=4567B reused>"
    )
    with pytest.raises(AttributeError):
        t.other = 1  # type: ignore[attr-defined]


async def test_repr_of_live_timings(raw_server) -> None:
    server = await raw_server(answer(OK))
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(server.url())
        r2 = await s.get(server.url())
    text = repr(r.timings)
    assert text.startswith("<Timings pool=0.000ms connect=")
    assert f"sent={len(server.requests[0])}B received={len(OK)}B>" in text
    assert not text.endswith(" reused>")
    assert repr(r2.timings).endswith(" reused>")
