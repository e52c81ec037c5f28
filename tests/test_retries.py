"""Retries: Retry's validation, the backoff and its jitter, Retry-After (seconds and
the three HTTP-date forms), what is retried and what never is (by method, by body,
by failure), the total deadline, and the interplay with streaming, redirects,
cookies, cancellation and the blocking API, against raw loopback servers that count
connections and requests."""

from __future__ import annotations

import asyncio
import math
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from conftest import RawConnection, RawServer, assert_clean, head_fields, read_message, refused_port
from pytest_httpserver import HTTPServer

import rawhttp
from rawhttp import _retries, _retry_rules, _unwanted
from rawhttp._exceptions import (
    ConnectError,
    ConnectTimeout,
    NoResponse,
    PoolTimeout,
    ProtocolError,
    ReadError,
    ReadTimeout,
    ResetBeforeResponse,
    TLSError,
    WriteError,
)
from rawhttp._headers import Headers
from rawhttp._httpdate import parse_http_date
from rawhttp._request import Request, RequestDefaults, build_request
from rawhttp._response import Response
from rawhttp._retry_rules import Retry, backoff, coerce_retries, retry_after

MakeServer = Callable[..., Awaitable[RawServer]]
QUICK = rawhttp.Timeout(5.0)
FAST = Retry(3, backoff_factor=0.0)
"""Retries without waits: for tests that count, not time."""
CLOSE = b"<close>"
"""A Script step: read the request, then close without answering."""


def answer(status: int, body: bytes = b"", extra: str = "") -> bytes:
    return f"HTTP/1.1 {status} Status\r\n{extra}Content-Length: {len(body)}\r\n\r\n".encode() + body


OK = answer(200, b"final")
UNAVAILABLE = answer(503, b"busy")


class Script:
    """A keep-alive handler answering the n-th request (counted over every connection)
    with ``steps[n]``, the last step repeated; CLOSE closes without an answer."""

    def __init__(self, *steps: bytes) -> None:
        self.steps = steps
        self.heads: list[bytes] = []
        self.bodies: list[bytes] = []

    async def __call__(self, conn: RawConnection) -> None:
        while True:
            head, body = await read_message(conn)
            if not head:
                return
            self.heads.append(head)
            self.bodies.append(body)
            step = self.steps[min(len(self.heads), len(self.steps)) - 1]
            if step == CLOSE:
                return  # RawServer closes the connection
            await conn.send(step)

    def values(self, index: int, name: str) -> list[str]:
        return [v for k, v in head_fields(self.heads[index]) if k == name]


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Pin the jitter's random draw (0: half of the backoff, just under 1: all of it)."""

    def pin(value: float) -> None:
        monkeypatch.setattr(_retry_rules, "random_fraction", lambda: value)

    return pin


async def serve(raw_server: MakeServer, *steps: bytes) -> tuple[Script, RawServer]:
    script = Script(*steps)
    return script, await raw_server(script)


@pytest.fixture
async def session() -> AsyncIterator[rawhttp.Session]:
    async with rawhttp.Session(timeout=QUICK, trust_env=False) as s:
        yield s


# -- Retry: validation, repr, equality ----------------------------------------------


def test_retry_defaults_repr_equality() -> None:
    retry = Retry()
    assert (retry.total, retry.backoff_factor, retry.max_backoff) == (3, 0.5, 30.0)
    assert retry.statuses == {429, 502, 503, 504}
    assert retry.methods == {"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"}
    assert retry.respect_retry_after is True
    assert repr(retry) == (
        "Retry(total=3, backoff_factor=0.5, max_backoff=30.0, statuses={429, 502, 503, 504}, "
        "methods={'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PUT', 'TRACE'}, respect_retry_after=True)"
    )
    assert rawhttp.Retry is Retry
    assert Retry(2) == Retry(total=2) == coerce_retries(2)
    assert Retry(2, methods=["post"]) == Retry(2, methods={"POST"})
    assert hash(Retry(2, statuses=[503])) == hash(Retry(2, statuses={503}))
    assert Retry(2) != Retry(3)
    assert Retry() != "Retry()"
    assert Retry(methods={"post"}).allows("POST")
    assert Retry(methods={"POST"}).allows("post")
    with pytest.raises(AttributeError, match="immutable"):
        retry.total = 5
    with pytest.raises(AttributeError, match="immutable"):
        del retry.total


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"total": -1}, ValueError, "total must be >= 0"),
        ({"total": 1.5}, TypeError, "total must be an int"),
        ({"total": True}, TypeError, "total must be an int"),
        ({"backoff_factor": -0.1}, ValueError, "backoff_factor must be a finite number >= 0"),
        ({"backoff_factor": math.nan}, ValueError, "backoff_factor"),
        ({"max_backoff": math.inf}, ValueError, "max_backoff must be a finite"),
        ({"max_backoff": "1"}, TypeError, "max_backoff must be a number"),
        ({"statuses": 503}, TypeError, "collection of ints"),
        ({"statuses": "503"}, TypeError, "collection of ints"),
        ({"statuses": [503, "504"]}, TypeError, "must be ints"),
        ({"statuses": [True]}, TypeError, "must be ints"),
        ({"statuses": [99]}, ValueError, "from 100 to 599, not 99"),
        ({"statuses": [600]}, ValueError, "from 100 to 599, not 600"),
        ({"methods": "GET"}, TypeError, "collection of str"),
        ({"methods": [b"GET"]}, TypeError, "must be str"),
        ({"methods": ["GE T"]}, ValueError, "HTTP method names"),
        ({"methods": [""]}, ValueError, "HTTP method names"),
        ({"respect_retry_after": 1}, TypeError, "must be a bool"),
    ],
)
def test_retry_validation(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        Retry(**kwargs)


def test_coerce_retries() -> None:
    assert coerce_retries(None) is None
    retry = Retry(1)
    assert coerce_retries(retry) is retry
    assert coerce_retries(0) == Retry(0)
    with pytest.raises(ValueError, match="retries must be >= 0"):
        coerce_retries(-1)
    with pytest.raises(TypeError, match=r"retries must be an int or a rawhttp\.Retry, not str"):
        coerce_retries("3")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not bool"):
        coerce_retries(True)


async def test_bad_retries_raise_before_sending() -> None:
    with pytest.raises(TypeError, match="retries must be an int"):
        rawhttp.Session(retries=2.5)  # type: ignore[arg-type]
    async with rawhttp.Session(trust_env=False) as s:
        with pytest.raises(ValueError, match="retries must be >= 0"):
            await s.get(f"http://127.0.0.1:{refused_port()}/", retries=-2)


# -- the backoff and its jitter ------------------------------------------------------


def test_backoff_doubles_and_is_capped(pinned: Callable[[float], None]) -> None:
    retry = Retry(10, backoff_factor=0.5, max_backoff=3.0)
    pinned(0.0)  # the lowest draw: half of the backoff
    assert [backoff(retry, n) for n in range(1, 6)] == [0.25, 0.5, 1.0, 1.5, 1.5]
    pinned(1.0)  # the (excluded) highest draw: all of it
    assert [backoff(retry, n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert backoff(Retry(backoff_factor=0.0), 3) == 0.0
    huge = Retry(backoff_factor=1e300, max_backoff=7.0)
    assert backoff(huge, 10_000) == 7.0  # no overflow however many retries


def test_jitter_spreads_over_the_upper_half() -> None:
    """With the real random source: every wait within [d/2, d], and 2000 draws cover
    both ends of it (each check fails by chance with probability 0.9 ** 2000)."""
    retry = Retry(backoff_factor=1.0)
    waits = [backoff(retry, 3) for _ in range(2000)]
    assert all(2.0 <= w <= 4.0 for w in waits)
    assert min(waits) < 2.2
    assert max(waits) > 3.8
    assert len(set(waits)) > 1900


# -- Retry-After and HTTP-dates ------------------------------------------------------

RFC_EXAMPLE = 784111777.0  # Sun, 06 Nov 1994 08:49:37 GMT
NOW_2024 = 1718000000.0  # in June 2024


@pytest.mark.parametrize(
    "text",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",  # IMF-fixdate
        "Sunday, 06-Nov-94 08:49:37 GMT",  # rfc850-date
        "Sun Nov  6 08:49:37 1994",  # asctime-date
    ],
)
def test_the_three_http_date_forms(text: str) -> None:
    assert parse_http_date(text, NOW_2024) == RFC_EXAMPLE


def test_rfc850_two_digit_years() -> None:
    """More than 50 years ahead is the past century (RFC 9110 5.6.7)."""
    assert parse_http_date("Monday, 01-Jan-74 00:00:00 GMT", NOW_2024) == 3281990400.0  # 2074
    assert parse_http_date("Wednesday, 01-Jan-75 00:00:00 GMT", NOW_2024) == 157766400.0  # 1975


@pytest.mark.parametrize(
    "text",
    [
        "",
        "sun, 06 Nov 1994 08:49:37 GMT",  # the grammar is case-sensitive
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49 GMT",
        "Sun, 31 Feb 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT trailing",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "1994-11-06T08:49:37Z",
    ],
)
def test_not_http_dates(text: str) -> None:
    assert parse_http_date(text, NOW_2024) is None


@pytest.mark.parametrize(
    ("fields", "now", "expected"),
    [
        ([("Retry-After", "120")], NOW_2024, 120.0),
        ([("Retry-After", "0")], NOW_2024, 0.0),
        ([("Retry-After", "-3")], NOW_2024, 0.0),
        ([("Retry-After", "99999999999999999999999999")], NOW_2024, 1e9),
        ([("Retry-After", "1.5")], NOW_2024, None),
        ([("Retry-After", "soon")], NOW_2024, None),
        ([("Retry-After", "")], NOW_2024, None),
        ([("Retry-After", "\u0662")], NOW_2024, None),  # a digit, not an ASCII one
        ([("Retry-After", "1"), ("Retry-After", "2")], NOW_2024, None),
        ([("Retry-After", "3"), ("Retry-After", "3")], NOW_2024, 3.0),
        ([], NOW_2024, None),
        # a date: against our clock without a Date field...
        ([("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT")], RFC_EXAMPLE - 60, 60.0),
        ([("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT")], NOW_2024, 0.0),  # past
        # ...against the server's own Date when it has one (no clock skew)
        (
            [
                ("Date", "Sun, 06 Nov 1994 08:47:37 GMT"),
                ("Retry-After", "Sun Nov  6 08:49:37 1994"),
            ],
            NOW_2024,
            120.0,
        ),
        (
            [("Date", "yesterday"), ("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT")],
            RFC_EXAMPLE - 5,
            5.0,
        ),
    ],
)
def test_retry_after(fields: list[tuple[str, str]], now: float, expected: float | None) -> None:
    assert retry_after(Headers(fields), now) == expected


# -- the policy, with a scripted send ---------------------------------------------------


def make_request(method: str, retry: Retry, content: Any = None, total: float = 5.0) -> Request:
    defaults = RequestDefaults(
        fields=[],
        auth=None,
        flow=None,
        retry=retry,
        base_url=None,
        timeout=rawhttp.Timeout(5.0, total=total),
        follow_redirects=False,
        trace=None,
        on_head=None,
        expect_continue=None,
    )
    return build_request(defaults, method, "http://127.0.0.1:9/", {"content": content})


class Outcomes:
    """A ``send`` raising or returning the given outcomes in turn."""

    def __init__(self, *outcomes: BaseException | int) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    async def __call__(self, request: Request) -> Response:
        outcome = self.outcomes[min(self.calls, len(self.outcomes) - 1)]
        self.calls += 1
        if isinstance(outcome, BaseException):
            raise outcome
        return Response(
            status=outcome,
            reason="",
            http_version="HTTP/1.1",
            headers=Headers(),
            url="http://127.0.0.1:9/",
            method=request.method,
            content=b"",
        )


def chunks() -> Iterator[bytes]:
    yield b"streamed"


NOT_SENT = [
    ConnectError("no such host", reason="resolve"),
    ConnectError("refused", reason="refused"),
    ConnectError("unreachable", reason="connect"),
    ConnectTimeout("timed out while connecting"),
]
MAYBE_SENT = [
    WriteError("broken pipe"),
    ResetBeforeResponse("reset"),
    ReadError("reset"),
    NoResponse("empty reply"),
]
NEVER = [
    TLSError("certificate verification failed", reason="certificate"),
    TLSError("TLS handshake failed"),
    PoolTimeout("timed out waiting for a free connection in the pool"),
    ReadTimeout("timed out waiting for the server"),
    ProtocolError("malformed status line"),
    rawhttp.ProxyError("proxy said 502", status=502),
]


@pytest.mark.parametrize("error", NOT_SENT, ids=repr)
@pytest.mark.parametrize(("method", "content"), [("GET", None), ("POST", chunks)])
async def test_connect_failures_are_retried_for_any_method_and_body(
    error: Exception, method: str, content: Any
) -> None:
    """Nothing was sent: even a POST with a stream that cannot be replayed goes again."""
    send = Outcomes(error, error, 200)
    body = None if content is None else content()
    response = await _retries.send_with_retries(make_request(method, FAST, body), send)
    assert (response.status, response.retries, send.calls) == (200, 2, 3)


@pytest.mark.parametrize("error", MAYBE_SENT, ids=repr)
async def test_failures_after_sending_are_retried_for_methods_only(error: Exception) -> None:
    send = Outcomes(error, 200)
    response = await _retries.send_with_retries(make_request("PUT", FAST, b"x"), send)
    assert (response.status, response.retries, send.calls) == (200, 1, 2)
    for request in (
        make_request("POST", FAST, b"x"),  # not in methods
        make_request("PUT", FAST, chunks()),  # a body that cannot go twice
    ):
        send = Outcomes(error, 200)
        with pytest.raises(type(error)):
            await _retries.send_with_retries(request, send)
        assert send.calls == 1
    send = Outcomes(error, 200)
    posting = Retry(3, backoff_factor=0.0, methods={"POST"})
    response = await _retries.send_with_retries(make_request("POST", posting, b"x"), send)
    assert (response.status, send.calls) == (200, 2)


@pytest.mark.parametrize("error", NEVER, ids=repr)
async def test_never_retried_failures(error: Exception) -> None:
    send = Outcomes(error, 200)
    with pytest.raises(type(error)):
        await _retries.send_with_retries(make_request("GET", FAST), send)
    assert send.calls == 1


async def test_the_last_failure_is_raised_after_total_retries() -> None:
    send = Outcomes(ConnectError("refused", reason="refused"))
    with pytest.raises(ConnectError):
        await _retries.send_with_retries(make_request("GET", Retry(4, backoff_factor=0)), send)
    assert send.calls == 5
    send = Outcomes(ConnectError("refused", reason="refused"))
    with pytest.raises(ConnectError):
        await _retries.send_with_retries(make_request("GET", Retry(0)), send)
    assert send.calls == 1


# -- statuses, against a server ------------------------------------------------------------


async def test_statuses_are_retried_on_one_kept_connection(
    raw_server: MakeServer, session: rawhttp.Session
) -> None:
    script, server = await serve(raw_server, UNAVAILABLE, answer(429), answer(502), OK)
    r = await session.get(server.url(), retries=FAST)
    assert (r.status, r.content, r.retries) == (200, b"final", 3)
    assert len(script.heads) == 4
    assert server.connections == 1  # each retried body was drained: the connection kept
    assert_clean(session)


async def test_the_last_response_is_returned_with_its_body(
    raw_server: MakeServer, session: rawhttp.Session
) -> None:
    script, server = await serve(raw_server, UNAVAILABLE)
    r = await session.get(server.url(), retries=Retry(2, backoff_factor=0))
    assert (r.status, r.text, r.retries) == (503, "busy", 2)
    assert len(script.heads) == 3
    assert server.connections == 1
    assert_clean(session)


async def test_other_statuses_are_not_retried(
    raw_server: MakeServer, session: rawhttp.Session
) -> None:
    script, server = await serve(raw_server, answer(500, b"bug"), OK)
    r = await session.get(server.url(), retries=FAST)
    assert (r.status, r.retries, len(script.heads)) == (500, 0, 1)
    script, server = await serve(raw_server, answer(500, b"bug"), OK)
    r = await session.get(server.url(), retries=Retry(1, backoff_factor=0, statuses={500}))
    assert (r.status, r.retries, len(script.heads)) == (200, 1, 2)


async def test_statuses_only_for_methods(raw_server: MakeServer, session: rawhttp.Session) -> None:
    script, server = await serve(raw_server, UNAVAILABLE)
    r = await session.post(server.url(), content=b"order", retries=FAST)
    assert (r.status, r.retries, len(script.heads)) == (503, 0, 1)
    posting = Retry(1, backoff_factor=0, methods={"POST"})
    r = await session.post(server.url(), content=b"order", retries=posting)
    assert (r.status, r.retries, len(script.heads)) == (503, 1, 3)
    assert script.bodies[1:] == [b"order", b"order"]  # the body sent again, whole


async def test_a_stream_body_is_never_sent_twice(
    raw_server: MakeServer, session: rawhttp.Session
) -> None:
    script, server = await serve(raw_server, UNAVAILABLE, OK)

    async def upload() -> AsyncIterator[bytes]:
        yield b"part1"
        yield b"part2"

    r = await session.put(server.url(), content=upload(), retries=FAST)
    assert (r.status, r.text, r.retries) == (503, "busy", 0)
    assert script.bodies == [b"part1part2"]
    assert_clean(session)


async def test_a_file_body_is_sent_again_whole(
    raw_server: MakeServer, session: rawhttp.Session, tmp_path: Any
) -> None:
    script, server = await serve(raw_server, UNAVAILABLE, OK)
    path = tmp_path / "upload.bin"
    path.write_bytes(b"0123456789" * 1000)
    with path.open("rb") as f:
        f.seek(5)
        r = await session.put(server.url(), content=f, retries=FAST)
    assert (r.status, r.retries) == (200, 1)
    assert script.bodies == [(b"0123456789" * 1000)[5:]] * 2


async def test_no_retries_by_default_and_per_request_override(raw_server: MakeServer) -> None:
    script, server = await serve(raw_server, UNAVAILABLE, OK)
    async with rawhttp.Session(trust_env=False) as s:
        r = await s.get(server.url())
        assert (r.status, r.retries, len(script.heads)) == (503, 0, 1)
    script, server = await serve(raw_server, UNAVAILABLE, UNAVAILABLE, OK)
    async with rawhttp.Session(trust_env=False, retries=FAST) as s:
        r = await s.get(server.url(), retries=0)  # off for this request
        assert (r.status, r.retries, len(script.heads)) == (503, 0, 1)
        r = await s.get(server.url())  # the Session's
        assert (r.status, r.retries, len(script.heads)) == (200, 1, 3)
    script, server = await serve(raw_server, UNAVAILABLE, OK)
    async with rawhttp.Session(trust_env=False, retries=1) as s:  # an int: the defaults
        assert s.retries == Retry(1)
        r = await s.get(server.url(), retries=Retry(1, backoff_factor=0))
        assert (r.status, r.retries) == (200, 1)


async def test_a_large_or_closing_retried_body_closes_its_connection(
    raw_server: MakeServer, session: rawhttp.Session
) -> None:
    big = answer(503, b"x" * (_unwanted.DRAIN_LIMIT + 100_000))
    closing = answer(503, b"bye", extra="Connection: close\r\n")
    _, server = await serve(raw_server, big, closing, OK)
    r = await session.get(server.url(), retries=FAST)
    assert (r.status, r.retries) == (200, 2)
    assert server.connections == 3
    assert_clean(session)


# -- failures, against a server -------------------------------------------------------------


async def test_no_response_is_retried_for_get_not_for_post(
    raw_server: MakeServer, session: rawhttp.Session
) -> None:
    """The first request on a new connection: the transport's silent retry (for a
    stale kept-alive connection) does not apply; this step's does."""
    script, server = await serve(raw_server, CLOSE, OK)
    r = await session.get(server.url(), retries=FAST)
    assert (r.status, r.retries, server.connections) == (200, 1, 2)
    script, server = await serve(raw_server, CLOSE, OK)
    with pytest.raises(NoResponse):
        await session.post(server.url(), content=b"order", retries=FAST)
    assert (len(script.heads), server.connections) == (1, 1)
    assert_clean(session)


async def test_a_reset_while_sending_is_retried_for_put_not_post(
    raw_server: MakeServer, session: rawhttp.Session
) -> None:
    """The server resets the connection after the head, while a large body is being
    written: the request may have been acted on, so only PUT (idempotent) goes again."""
    payload = b"y" * (8 * 1024 * 1024)

    heads = 0

    async def handler(conn: RawConnection) -> None:
        nonlocal heads
        while True:
            heads += 1
            if heads % 2 == 1:  # the 1st, 3rd... request: reset mid-body
                await conn.reader.readuntil(b"\r\n\r\n")
                conn.reset()
                return
            _, body = await read_message(conn)
            assert len(body) == len(payload)
            await conn.send(OK)

    server = await raw_server(handler)
    r = await session.put(server.url(), content=payload, expect_continue=False, retries=FAST)
    assert (r.status, r.retries, server.connections) == (200, 1, 2)
    with pytest.raises((WriteError, ReadError)):
        await session.post(server.url(), content=payload, expect_continue=False, retries=FAST)
    assert (heads, server.connections) == (3, 2)  # the POST on the kept connection: once
    assert_clean(session)


async def test_refused_connections_are_retried_with_backoff(
    session: rawhttp.Session, pinned: Callable[[float], None]
) -> None:
    pinned(0.999999)
    url = f"http://127.0.0.1:{refused_port()}/"
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(ConnectError) as caught:
        await session.post(url, content=b"x", retries=Retry(2, backoff_factor=0.05))
    elapsed = loop.time() - start
    assert caught.value.reason == "refused"
    assert 0.149 <= elapsed < 2.0  # waited 0.05 and 0.1: two retries, then the error
    assert_clean(session)


async def test_a_server_that_comes_up_is_reached(
    session: rawhttp.Session, pinned: Callable[[float], None]
) -> None:
    pinned(0.999999)
    port = refused_port()
    seen: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(OK)
        await writer.drain()
        writer.close()

    async def start_later() -> asyncio.Server:
        await asyncio.sleep(0.15)
        return await asyncio.start_server(handler, "127.0.0.1", port)

    starting = asyncio.create_task(start_later())
    try:
        retry = Retry(8, backoff_factor=0.05, max_backoff=0.1)
        r = await session.get(f"http://127.0.0.1:{port}/", retries=retry)
        assert (r.status, r.content, len(seen)) == (200, b"final", 1)
        assert 2 <= r.retries <= 8
    finally:
        server = await starting
        server.close()
        await server.wait_closed()


async def test_tls_certificate_errors_are_not_retried(
    raw_server: MakeServer, server_ssl: ssl.SSLContext
) -> None:
    """TLS is started in the handler, so that the server counts TCP connections
    (a TLS server's handler runs only after a handshake that succeeded)."""

    async def handler(conn: RawConnection) -> None:
        await conn.writer.start_tls(server_ssl)

    server = await raw_server(handler)
    async with rawhttp.Session(trust_env=False, retries=FAST) as s:  # certifi: no test CA
        with pytest.raises(TLSError) as caught:
            await s.get(server.url(scheme="https"))
    assert caught.value.reason == "certificate"
    assert server.connections == 1


# -- Retry-After and the total deadline, timed ------------------------------------------------


async def timed(call: Awaitable[Response]) -> tuple[Response, float]:
    loop = asyncio.get_running_loop()
    start = loop.time()
    response = await call
    return response, loop.time() - start


async def test_retry_after_seconds_is_honoured_and_capped(
    raw_server: MakeServer, session: rawhttp.Session
) -> None:
    later = answer(503, extra="Retry-After: 120\r\n")
    _, server = await serve(raw_server, later, OK)
    retry = Retry(1, backoff_factor=0.0, max_backoff=0.2)
    r, elapsed = await timed(session.get(server.url(), retries=retry))
    assert (r.status, r.retries) == (200, 1)
    assert 0.2 <= elapsed < 1.5  # capped by max_backoff, and waited for (no backoff here)


async def test_retry_after_overrides_the_backoff(
    raw_server: MakeServer, session: rawhttp.Session
) -> None:
    now = answer(503, extra="Retry-After: 0\r\n")
    script, server = await serve(raw_server, now, OK)
    r, elapsed = await timed(session.get(server.url(), retries=Retry(1, backoff_factor=5.0)))
    assert (r.status, r.retries, len(script.heads)) == (200, 1, 2)
    assert elapsed < 1.0  # not the 2.5-5 s backoff
    _, server = await serve(raw_server, now, OK)
    ignored = Retry(1, backoff_factor=0.2, respect_retry_after=False)
    r, elapsed = await timed(session.get(server.url(), retries=ignored))
    assert (r.status, r.retries) == (200, 1)
    assert elapsed >= 0.1  # the backoff's lowest draw, Retry-After ignored


@pytest.mark.parametrize(
    ("extra", "retry", "lowest", "highest"),
    [
        # the server's clock is in 2001: two minutes after its Date, capped at 0.3 s
        (
            "Date: Mon, 01 Jan 2001 00:00:00 GMT\r\nRetry-After: Mon, 01 Jan 2001 00:02:00 GMT\r\n",
            Retry(1, backoff_factor=0.0, max_backoff=0.3),
            0.3,
            1.5,
        ),
        # in the past: at once, not the backoff of 2.5-5 s
        ("Retry-After: Sun, 06 Nov 1994 08:49:37 GMT\r\n", Retry(1, backoff_factor=5.0), 0.0, 0.5),
        # garbage: ignored, the backoff (0.2-0.4 s) is waited
        ("Retry-After: in a minute\r\n", Retry(1, backoff_factor=0.4), 0.2, 1.5),
    ],
)
async def test_retry_after_dates(
    raw_server: MakeServer,
    session: rawhttp.Session,
    extra: str,
    retry: Retry,
    lowest: float,
    highest: float,
) -> None:
    script, server = await serve(raw_server, answer(503, extra=extra), OK)
    r, elapsed = await timed(session.get(server.url(), retries=retry))
    assert (r.status, r.retries, len(script.heads)) == (200, 1, 2)
    assert lowest <= elapsed < highest


async def test_no_wait_runs_past_the_total_deadline(raw_server: MakeServer) -> None:
    later = answer(503, b"busy", extra="Retry-After: 5\r\n")
    script, server = await serve(raw_server, later, OK)
    async with rawhttp.Session(trust_env=False, timeout=rawhttp.Timeout(5.0, total=1.0)) as s:
        r, elapsed = await timed(s.get(server.url(), retries=3))
        # 5 s would pass the deadline: the 503 at once, its body readable
        assert (r.status, r.text, r.retries, len(script.heads)) == (503, "busy", 0, 1)
        assert elapsed < 0.5
        assert_clean(s)


async def test_no_retry_after_a_failure_runs_past_the_total_deadline(
    pinned: Callable[[float], None],
) -> None:
    pinned(0.999999)
    url = f"http://127.0.0.1:{refused_port()}/"
    async with rawhttp.Session(trust_env=False, timeout=rawhttp.Timeout(5.0, total=0.6)) as s:
        start = time.monotonic()
        with pytest.raises(ConnectError):  # the failure itself, not a timeout
            await s.get(url, retries=Retry(5, backoff_factor=0.4))
        elapsed = time.monotonic() - start
    assert 0.39 <= elapsed < 0.6  # one wait of 0.4 s; the next (0.8 s) would pass 0.6


# -- with the rest of the stack ------------------------------------------------------------


async def test_stream_returns_the_last_response_unread(
    raw_server: MakeServer, session: rawhttp.Session
) -> None:
    _, server = await serve(raw_server, UNAVAILABLE, UNAVAILABLE, OK)
    async with session.stream("GET", server.url(), retries=FAST) as r:
        assert (r.status, r.retries, r.num_bytes_downloaded) == (200, 2, 0)
        assert await r.read() == b"final"
    assert server.connections == 1
    assert_clean(session)


async def test_a_redirect_hop_is_retried_at_that_hop(raw_server: MakeServer) -> None:
    class Routes:
        def __init__(self) -> None:
            self.targets: list[str] = []

        async def __call__(self, conn: RawConnection) -> None:
            while True:
                head, _ = await read_message(conn)
                if not head:
                    return
                target = head.split(b" ")[1].decode()
                self.targets.append(target)
                if target == "/start":
                    await conn.send(answer(302, extra="Location: /next\r\n"))
                elif self.targets.count("/next") == 1:
                    await conn.send(UNAVAILABLE)
                else:
                    await conn.send(OK)

    routes = Routes()
    server = await raw_server(routes)
    async with rawhttp.Session(trust_env=False, retries=FAST, follow_redirects=True) as s:
        r = await s.get(server.url("/start"))
        assert (r.status, r.retries, len(r.history)) == (200, 1, 1)
        assert routes.targets == ["/start", "/next", "/next"]
        assert_clean(s)


async def test_a_retried_request_gets_the_jar_cookies_anew(raw_server: MakeServer) -> None:
    first = answer(503, extra="Set-Cookie: ticket=42; Path=/\r\n")
    script, server = await serve(raw_server, first, OK)
    async with rawhttp.Session(trust_env=False, retries=FAST) as s:
        r = await s.get(server.url())
        assert (r.status, r.retries) == (200, 1)
    assert script.values(0, "cookie") == []
    assert script.values(1, "cookie") == ["ticket=42"]


async def test_cancelled_while_waiting(raw_server: MakeServer, session: rawhttp.Session) -> None:
    script, server = await serve(raw_server, UNAVAILABLE)

    async def get() -> Response:
        return await session.get(server.url(), retries=Retry(1, backoff_factor=60.0))

    task = asyncio.create_task(get())
    for _ in range(500):  # bounded: at most 5 s
        if script.heads and session.pool.in_use == 0:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 2.0)
    assert len(script.heads) == 1
    assert session.pool.idle == 1  # the 503 was drained before the wait
    assert_clean(session)


def test_blocking_api(httpserver: HTTPServer) -> None:
    for _ in range(2):
        httpserver.expect_ordered_request("/").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/").respond_with_data("fine")
    retry = Retry(2, backoff_factor=0.001)
    with rawhttp.SyncSession(trust_env=False, timeout=5.0, retries=retry) as s:
        r = s.get(httpserver.url_for("/"))
        assert (r.status, r.text, r.retries) == (200, "fine", 2)
    httpserver.check_assertions()
