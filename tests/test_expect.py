"""Expect: 100-continue: when it is sent, and what the client does with each answer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from conftest import RawConnection, head_fields

import rawhttp
from rawhttp import _request

QUICK = rawhttp.Timeout(5.0, expect_continue=0.2)
"""Tests that need the client to give up waiting for 100 do so after 0.2 s."""
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
MIB = 1024 * 1024


def test_defaults() -> None:
    assert rawhttp.Timeout(5.0).expect_continue == 1.0  # not set by the default value
    assert rawhttp.Timeout(None).expect_continue == 1.0
    assert rawhttp.Timeout(expect_continue=None).expect_continue is None
    assert _request.EXPECT_CONTINUE_THRESHOLD == 1024 * 1024


# -- server side helpers --------------------------------------------------------------


class Seen:
    """What one test's server saw, request by request."""

    def __init__(self) -> None:
        self.heads: list[bytes] = []
        self.bodies: list[bytes] = []  # as framed on the wire
        self.after: list[bytes] = []  # bytes that came after an early final answer
        self.body_delay: list[float] = []  # head received -> first body byte


def fields_of(head: bytes) -> dict[str, str]:
    return dict(head_fields(head))


def expects(head: bytes) -> bool:
    return fields_of(head).get("expect", "").lower() == "100-continue"


async def read_head(conn: RawConnection) -> bytes:
    try:
        return await conn.reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return b""


async def read_body(conn: RawConnection, head: bytes) -> bytes:
    """The request body as framed on the wire (Content-Length or chunked)."""
    reader = conn.reader
    fields = fields_of(head)
    if fields.get("transfer-encoding", "").lower() == "chunked":
        raw = b""
        while True:
            line = await reader.readuntil(b"\r\n")
            raw += line
            size = int(line[:-2].split(b";")[0], 16)
            if size == 0:
                while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
                    raw += line
                return raw + line
            raw += await reader.readexactly(size + 2)
    if "content-length" in fields:
        return await reader.readexactly(int(fields["content-length"]))
    return b""


async def idle_bytes(conn: RawConnection, wait: float) -> bytes:
    """Whatever the client sends within ``wait`` seconds (until EOF)."""
    got = b""
    deadline = time.monotonic() + wait
    while (left := deadline - time.monotonic()) > 0:
        try:
            async with asyncio.timeout(left):
                piece = await conn.reader.read(65536)
        except TimeoutError:
            break
        if not piece:
            break
        got += piece
    return got


def continuing(seen: Seen, *, hold: float = 0.0, before: bytes = b""):
    """Answer Expect with ``before`` + 100 (after checking for ``hold`` seconds that no
    body byte arrives first), read the body, answer 200; keep the connection."""

    async def handler(conn: RawConnection) -> None:
        while head := await read_head(conn):
            seen.heads.append(head)
            if expects(head):
                if hold:
                    early = await idle_bytes(conn, hold)
                    seen.after.append(early)
                await conn.send(before + CONTINUE)
            seen.bodies.append(await read_body(conn, head))
            await conn.send(OK)

    return handler


def rejecting(seen: Seen, response: bytes, wait: float = 0.3):
    """Answer a request with ``response`` right after its head; record what the
    client sends in the next ``wait`` seconds instead of reading a body."""

    async def handler(conn: RawConnection) -> None:
        while head := await read_head(conn):
            seen.heads.append(head)
            if expects(head):
                await conn.send(response)
                seen.after.append(await idle_bytes(conn, wait))
                return
            seen.bodies.append(await read_body(conn, head))
            await conn.send(OK)

    return handler


def ignoring(seen: Seen, *, before: bytes = b""):
    """Never sends 100 (``before`` right after the head, e.g. a 103): reads the body
    whenever it comes, timing how long after the head it started."""

    async def handler(conn: RawConnection) -> None:
        while head := await read_head(conn):
            seen.heads.append(head)
            got_head = time.monotonic()
            if before:
                await conn.send(before)
            first = await conn.reader.read(1)
            seen.body_delay.append(time.monotonic() - got_head)
            rest = await read_body_after(conn, head, first)
            seen.bodies.append(rest)
            await conn.send(OK)

    return handler


async def read_body_after(conn: RawConnection, head: bytes, first: bytes) -> bytes:
    length = int(fields_of(head)["content-length"])
    return first + await conn.reader.readexactly(length - len(first))


def count_expect(head: bytes) -> int:
    return sum(1 for name, _ in head_fields(head) if name == "expect")


# -- the server says 100 ---------------------------------------------------------------


async def test_body_follows_100_and_connection_is_reused(raw_server) -> None:
    seen = Seen()
    server = await raw_server(continuing(seen, hold=0.15))
    body = b"0123456789" * 50
    infos: list[int] = []
    async with rawhttp.Session(timeout=QUICK, expect_continue=True) as s:
        r = await s.post(
            server.url("/up"), content=body, on_informational=lambda i: infos.append(i.status)
        )
        assert (r.status, r.content) == (200, b"ok")
        r2 = await s.post(server.url("/up"), content=b"again")
        assert (r2.status, r2.content) == (200, b"ok")
        assert r2.timings.reused is True
    assert server.connections == 1
    assert seen.after == [b"", b""]  # the client waited for the 100 each time
    assert seen.bodies == [body, b"again"]  # each body exactly once
    assert [count_expect(h) for h in seen.heads] == [1, 1]
    assert seen.heads[0].startswith(b"POST /up HTTP/1.1\r\n")
    assert f"content-length: {len(body)}".encode() in seen.heads[0].lower()
    assert r.timings.bytes_sent == len(seen.heads[0]) + len(body)
    assert r.timings.bytes_received == len(CONTINUE) + len(OK)
    # The 100 that answered the Expect is handed to the hook too, as any 1xx is.
    assert infos == [100]


async def test_103_before_100_goes_to_on_informational(raw_server) -> None:
    seen = Seen()
    hints = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
    server = await raw_server(continuing(seen, before=hints))
    got: list[rawhttp.InformationalResponse] = []
    async with rawhttp.Session(
        timeout=QUICK, expect_continue=True, on_informational=got.append
    ) as s:
        r = await s.put(server.url(), content=b"body")
    assert (r.status, r.content) == (200, b"ok")
    # Both interim responses reach the hook, in order (the 100 as well: it is not
    # swallowed because the client was waiting for it).
    assert [(i.status, i.reason) for i in got] == [(103, "Early Hints"), (100, "Continue")]
    assert got[0].headers.get_all("link") == ["</style.css>; rel=preload"]
    assert seen.bodies == [b"body"]
    assert r.timings.bytes_received == len(hints) + len(CONTINUE) + len(OK)


async def test_late_100_after_the_body_is_skipped(raw_server) -> None:
    """The client gave up waiting and sent the body; the server's 100 comes after."""
    seen = Seen()

    async def handler(conn: RawConnection) -> None:
        while head := await read_head(conn):
            seen.heads.append(head)
            seen.bodies.append(await read_body(conn, head))
            await conn.send(CONTINUE + OK if expects(head) else OK)

    server = await raw_server(handler)
    got: list[int] = []
    async with rawhttp.Session(timeout=QUICK, on_informational=lambda i: got.append(i.status)) as s:
        r = await s.post(server.url(), content=b"abc", expect_continue=True)
        r2 = await s.get(server.url())
    assert (r.status, r.content, r2.content) == (200, b"ok", b"ok")
    assert got == [100]
    assert r.timings.bytes_received == len(CONTINUE) + len(OK)
    assert server.connections == 1


# -- the server answers at once -------------------------------------------------------


@pytest.mark.parametrize(
    "response",
    [
        b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 4\r\n\r\nnope",
        b'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="x"\r\nContent-Length: 0\r\n\r\n',
        b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 3\r\n\r\nbig",
    ],
    ids=["417", "401", "413"],
)
async def test_final_answer_first_means_no_body(raw_server, response: bytes) -> None:
    seen = Seen()
    server = await raw_server(rejecting(seen, response))
    body = b"x" * 5000
    async with rawhttp.Session(timeout=QUICK, expect_continue=True) as s:
        r = await s.post(server.url(), content=body)
        status = int(response.split(b" ")[1])
        assert r.status == status
        assert r.content == response.split(b"\r\n\r\n", 1)[1]
        assert r.timings.bytes_sent == len(seen.heads[0])
        assert r.timings.bytes_received == len(response)
        assert r.timings.reused is False
        await asyncio.sleep(0.35)  # the server's 0.3 s watch is over
        assert seen.after == [b""]  # not one body byte
        r2 = await s.get(server.url())  # a new connection: the old one was not reused
        assert (r2.status, r2.timings.reused) == (200, False)
    assert server.connections == 2
    assert count_expect(seen.heads[0]) == 1
    assert b"Content-Length: 5000\r\n" in seen.heads[0]


async def test_final_answer_first_skips_a_streamed_body(raw_server) -> None:
    seen = Seen()
    response = b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n"
    server = await raw_server(rejecting(seen, response))
    pulled: list[bytes] = []

    async def pieces() -> AsyncIterator[bytes]:
        for piece in (b"first", b"second"):
            pulled.append(piece)
            yield piece

    async with rawhttp.Session(timeout=QUICK, expect_continue=True) as s:
        r = await s.post(server.url(), content=pieces())
        assert r.status == 417
        await asyncio.sleep(0.35)
    assert pulled == []  # the body was never even produced
    assert seen.after == [b""]
    assert b"Transfer-Encoding: chunked\r\n" in seen.heads[0]


async def test_final_answer_first_for_a_large_default_body(raw_server) -> None:
    seen = Seen()
    response = b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    server = await raw_server(rejecting(seen, response))
    async with rawhttp.Session(timeout=QUICK) as s:  # expect_continue=None
        r = await s.put(server.url(), content=b"L" * (2 * MIB))
        assert r.status == 413
        await asyncio.sleep(0.35)
    assert seen.after == [b""]
    assert count_expect(seen.heads[0]) == 1


# -- the server ignores Expect ------------------------------------------------------


async def test_body_sent_after_the_timeout_when_no_100_comes(raw_server) -> None:
    seen = Seen()
    server = await raw_server(ignoring(seen))
    async with rawhttp.Session(timeout=QUICK, expect_continue=True) as s:
        started = time.monotonic()
        r = await s.post(server.url(), content=b"late body")
        elapsed = time.monotonic() - started
        assert (r.status, r.content) == (200, b"ok")
        r2 = await s.post(server.url(), content=b"again")
        assert r2.timings.reused is True
    assert seen.bodies == [b"late body", b"again"]
    assert count_expect(seen.heads[0]) == 1
    (delay, delay2) = seen.body_delay
    assert 0.19 <= delay < 0.6  # EXPECT_CONTINUE_TIMEOUT, patched to 0.2
    assert 0.19 <= delay2 < 0.6
    assert 0.19 <= elapsed < 1.0
    assert r.timings.first_byte >= 0.19
    assert r.timings.bytes_sent == len(seen.heads[0]) + len(b"late body")


async def test_expect_continue_timeout_per_request(raw_server) -> None:
    seen = Seen()
    server = await raw_server(ignoring(seen))
    async with rawhttp.Session(timeout=QUICK, expect_continue=True) as s:
        await s.post(server.url(), content=b"x", timeout=rawhttp.Timeout(5.0, expect_continue=0.05))
    assert 0.045 <= seen.body_delay[0] < 0.19


async def test_103_without_100_still_sends_the_body_after_the_timeout(raw_server) -> None:
    """A server that sends Early Hints but ignores Expect: after the 103 the client
    must still send the body once EXPECT_CONTINUE_TIMEOUT is over, not wait for a
    100 until the read timeout."""
    seen = Seen()
    hints = b"HTTP/1.1 103 Early Hints\r\nLink: </a.js>; rel=preload\r\n\r\n"
    server = await raw_server(ignoring(seen, before=hints))
    got: list[int] = []
    timeout = rawhttp.Timeout(1.5, expect_continue=0.2)
    async with rawhttp.Session(
        timeout=timeout, on_informational=lambda i: got.append(i.status)
    ) as s:
        r = await s.post(server.url(), content=b"payload", expect_continue=True)
    assert (r.status, r.content) == (200, b"ok")
    assert got == [103]
    assert seen.bodies == [b"payload"]
    assert seen.body_delay[0] < 0.6


# -- when the header is sent --------------------------------------------------------------


def recording(seen: Seen):
    """Sends 100 only when asked to; records every head and body."""
    return continuing(seen)


@pytest.mark.parametrize(
    ("size", "expected"),
    [(MIB + 1, 1), (MIB, 0), (10, 0), (0, 0)],
    ids=["1MiB+1", "1MiB", "small", "empty"],
)
async def test_default_threshold(raw_server, size: int, expected: int) -> None:
    seen = Seen()
    server = await raw_server(recording(seen))
    body = b"t" * size
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.post(server.url(), content=body)
    assert r.status == 200
    assert count_expect(seen.heads[0]) == expected
    assert seen.bodies == [body]


async def test_default_threshold_for_a_file(raw_server, tmp_path: Path) -> None:
    seen = Seen()
    server = await raw_server(recording(seen))
    big, small = tmp_path / "big", tmp_path / "small"
    big.write_bytes(b"B" * (MIB + 1))
    small.write_bytes(b"S" * MIB)
    async with rawhttp.Session(timeout=QUICK) as s:
        with big.open("rb") as f:
            assert (await s.put(server.url(), content=f)).status == 200
        with small.open("rb") as f:
            assert (await s.put(server.url(), content=f)).status == 200
    assert [count_expect(h) for h in seen.heads] == [1, 0]
    assert seen.bodies == [b"B" * (MIB + 1), b"S" * MIB]


async def test_default_never_for_a_stream_of_unknown_length(raw_server) -> None:
    seen = Seen()
    server = await raw_server(recording(seen))

    async def pieces() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"u" * (MIB // 2)

    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.post(server.url(), content=pieces())
    assert r.status == 200
    assert count_expect(seen.heads[0]) == 0
    assert b"Transfer-Encoding: chunked\r\n" in seen.heads[0]
    assert len(seen.bodies[0]) > 3 * (MIB // 2)


@pytest.mark.parametrize("where", ["session", "request", "request-over-session"])
async def test_false_never_sends_expect(raw_server, where: str) -> None:
    seen = Seen()
    server = await raw_server(recording(seen))
    session_value = {"session": False, "request": None, "request-over-session": True}[where]
    request_value = None if where == "session" else False
    body = b"n" * (MIB + 10)
    async with rawhttp.Session(timeout=QUICK, expect_continue=session_value) as s:
        r = await s.post(server.url(), content=body, expect_continue=request_value)
    assert r.status == 200
    assert count_expect(seen.heads[0]) == 0
    assert seen.bodies == [body]


@pytest.mark.parametrize("where", ["session", "request", "request-over-session"])
async def test_true_sends_expect_with_small_bodies(raw_server, where: str) -> None:
    seen = Seen()
    server = await raw_server(recording(seen))
    session_value = {"session": True, "request": None, "request-over-session": False}[where]
    request_value = None if where == "session" else True
    async with rawhttp.Session(timeout=QUICK, expect_continue=session_value) as s:
        r = await s.post(server.url(), content=b"tiny", expect_continue=request_value)
        async with s.stream(
            "PUT", server.url(), content=b"streamed", expect_continue=request_value
        ) as streamed:
            assert await streamed.read() == b"ok"
    assert r.status == 200
    assert [count_expect(h) for h in seen.heads] == [1, 1]
    assert b"\r\nExpect: 100-continue\r\n" in seen.heads[0]
    assert seen.bodies == [b"tiny", b"streamed"]


@pytest.mark.parametrize("method", ["GET", "HEAD", "DELETE", "OPTIONS", "POST"])
async def test_no_body_never_gets_expect(raw_server, method: str) -> None:
    seen = Seen()
    server = await raw_server(recording(seen))
    async with rawhttp.Session(timeout=QUICK, expect_continue=True) as s:
        started = time.monotonic()
        r = await s.request(method, server.url())
        assert time.monotonic() - started < 0.15  # no wait for a 100 either
    assert r.status == 200
    assert count_expect(seen.heads[0]) == 0


async def test_empty_body_never_gets_expect(raw_server) -> None:
    """RFC 9110 10.1.1: a client MUST NOT send 100-continue in a request without content."""
    seen = Seen()
    server = await raw_server(recording(seen))
    async with rawhttp.Session(timeout=QUICK, expect_continue=True) as s:
        r = await s.post(server.url(), content=b"")
    assert r.status == 200
    assert b"Content-Length: 0\r\n" in seen.heads[0]
    assert count_expect(seen.heads[0]) == 0


@pytest.mark.parametrize("session_value", [None, True, False])
async def test_callers_own_expect_is_honoured_once(raw_server, session_value: bool | None) -> None:
    seen = Seen()
    server = await raw_server(continuing(seen, hold=0.15))
    async with rawhttp.Session(timeout=QUICK, expect_continue=session_value) as s:
        r = await s.post(server.url(), content=b"mine", headers={"Expect": "100-continue"})
    assert (r.status, r.content) == (200, b"ok")
    assert count_expect(seen.heads[0]) == 1
    assert seen.after == [b""]  # waited for the 100 before sending the body
    assert seen.bodies == [b"mine"]


async def test_callers_own_expect_on_a_get_is_sent_as_is(raw_server) -> None:
    seen = Seen()
    server = await raw_server(recording(seen))
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(server.url(), headers={"Expect": "100-continue"})
    assert r.status == 200
    assert count_expect(seen.heads[0]) == 1


# -- the connection goes away while waiting -----------------------------------------


@pytest.mark.parametrize("how", ["close", "reset", "close-after-100"])
async def test_server_closes_while_client_waits(raw_server, how: str) -> None:
    seen = Seen()

    async def handler(conn: RawConnection) -> None:
        head = await read_head(conn)
        seen.heads.append(head)
        if how == "close-after-100":
            await conn.send(CONTINUE)
            await asyncio.sleep(0.01)
        if how == "reset":
            conn.reset()
        else:
            conn.close()

    server = await raw_server(handler)
    async with rawhttp.Session(timeout=QUICK, expect_continue=True) as s:
        started = time.monotonic()
        with pytest.raises(rawhttp.TransportError):
            async with asyncio.timeout(3):
                await s.post(server.url(), content=b"data" * 1000)
        assert time.monotonic() - started < 1.0
        assert s.pool.in_use == 0
        assert s.pool.connections == 0
    assert count_expect(seen.heads[0]) == 1


# -- bodies that are streamed ------------------------------------------------------------------


async def test_file_body_with_expect(raw_server, tmp_path: Path) -> None:
    seen = Seen()
    server = await raw_server(continuing(seen, hold=0.05))
    path = tmp_path / "upload.bin"
    data = bytes(range(256)) * 600  # more than one file block
    path.write_bytes(data)
    async with rawhttp.Session(timeout=QUICK, expect_continue=True) as s:
        with path.open("rb") as f:
            r = await s.post(server.url(), content=f)
    assert (r.status, r.content) == (200, b"ok")
    assert f"Content-Length: {len(data)}\r\n".encode() in seen.heads[0]
    assert count_expect(seen.heads[0]) == 1
    assert seen.after == [b""]
    assert seen.bodies == [data]
    assert r.timings.bytes_sent == len(seen.heads[0]) + len(data)


async def test_async_iterable_body_with_expect(raw_server) -> None:
    seen = Seen()
    server = await raw_server(continuing(seen, hold=0.05))
    pulled: list[float] = []

    async def pieces() -> AsyncIterator[bytes]:
        for piece in (b"alpha", b"beta", b"gamma"):
            pulled.append(time.monotonic())
            yield piece

    async with rawhttp.Session(timeout=QUICK, expect_continue=True) as s:
        r = await s.post(server.url(), content=pieces())
        r2 = await s.post(server.url(), content=iter([b"sync", b"pieces"]))
    assert (r.status, r2.status) == (200, 200)
    assert seen.after == [b"", b""]
    assert seen.bodies == [
        b"5\r\nalpha\r\n4\r\nbeta\r\n5\r\ngamma\r\n0\r\n\r\n",
        b"4\r\nsync\r\n6\r\npieces\r\n0\r\n\r\n",
    ]
    assert [count_expect(h) for h in seen.heads] == [1, 1]
    assert r.timings.bytes_sent == len(seen.heads[0]) + len(seen.bodies[0])
    assert server.connections == 1


# -- with other features ------------------------------------------------------------------


async def test_redirect_answered_before_the_body(raw_server) -> None:
    """A 307 sent at once instead of 100: the body goes only to the new location."""
    seen = Seen()

    async def handler(conn: RawConnection) -> None:
        while head := await read_head(conn):
            seen.heads.append(head)
            if head.startswith(b"POST /old "):
                await conn.send(
                    b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /new\r\nContent-Length: 0\r\n\r\n"
                )
                seen.after.append(await idle_bytes(conn, 0.2))
                return
            if expects(head):
                await conn.send(CONTINUE)
            seen.bodies.append(await read_body(conn, head))
            await conn.send(OK)

    server = await raw_server(handler)
    async with rawhttp.Session(timeout=QUICK, expect_continue=True, follow_redirects=True) as s:
        r = await s.post(server.url("/old"), content=b"only once")
        await asyncio.sleep(0.25)
    assert (r.status, r.content) == (200, b"ok")
    assert [h.status for h in r.history] == [307]
    assert r.history[0].timings.bytes_sent == len(seen.heads[0])
    assert seen.after == [b""]
    assert seen.bodies == [b"only once"]
    assert seen.heads[1].startswith(b"POST /new HTTP/1.1\r\n")
    assert [count_expect(h) for h in seen.heads] == [1, 1]
    assert server.connections == 2


async def test_trace_shows_the_body_after_the_100(raw_server) -> None:
    seen = Seen()
    server = await raw_server(continuing(seen, hold=0.05))
    events: list[rawhttp.TraceEvent] = []
    async with rawhttp.Session(timeout=QUICK, expect_continue=True, trace=events.append) as s:
        r = await s.post(server.url(), content=b"traced body")
    assert r.status == 200
    sends = [e.data for e in events if e.kind == "send"]
    assert b"".join(sends) == seen.heads[0] + b"traced body"
    first_body = next(
        i for i, e in enumerate(events) if e.kind == "send" and e.data == b"traced body"
    )
    received_before = b"".join(e.data for e in events[:first_body] if e.kind == "receive")
    assert received_before == CONTINUE
    assert b"".join(e.data for e in events if e.kind == "receive") == CONTINUE + OK


async def test_total_timeout_bounds_the_wait_for_100(raw_server) -> None:
    """The total deadline covers the whole request, the wait for 100 included."""

    async def silent(conn: RawConnection) -> None:
        await read_head(conn)
        await idle_bytes(conn, 3.0)

    server = await raw_server(silent)
    async with rawhttp.Session(timeout=rawhttp.Timeout(5.0, total=0.2), expect_continue=True) as s:
        started = time.monotonic()
        with pytest.raises(rawhttp.TimeoutError):
            async with asyncio.timeout(3):
                await s.post(server.url(), content=b"x")
        elapsed = time.monotonic() - started
    assert elapsed < 0.6


async def test_callers_other_expectation_is_sent_without_waiting(raw_server) -> None:
    """Only ``Expect: 100-continue`` makes the client wait; another expectation is
    the caller's business and the body follows the head at once."""
    seen = Seen()
    server = await raw_server(ignoring(seen))
    async with rawhttp.Session(timeout=QUICK, expect_continue=False) as s:
        r = await s.post(server.url(), content=b"now", headers={"Expect": "x-custom"})
    assert (r.status, r.content) == (200, b"ok")
    assert fields_of(seen.heads[0])["expect"] == "x-custom"
    assert seen.bodies == [b"now"]
    assert seen.body_delay[0] < 0.15  # not the 0.2 s wait for 100
