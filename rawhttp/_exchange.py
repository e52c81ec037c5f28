"""One request and its response on one connection: send the head and the body (after
``100 Continue`` when the request expects it), receive the final response head, and
hand back a :class:`Response` whose body is read from this connection.

The ``expect_continue`` timeout is applied here; the write and read timeouts inside
:mod:`rawhttp._http11` and :mod:`rawhttp._body_reader`.  When the response ends, the
connection learns whether it may be reused (``Connection.end_exchange``) and goes
back to whoever lent it (``release``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

from ._body import RequestBody
from ._body_reader import BodyReader
from ._config import Clock, Limits
from ._connection import Connection
from ._exceptions import ProtocolError
from ._http11 import Head, receive_head, send_request, send_streamed, wait_for_continue
from ._protocol import Writer
from ._reader import Reader
from ._request import Request
from ._response import Response
from ._timings import Timings
from ._trace import tracing

__all__ = ["Lender", "Sent", "exchange"]


class Sent(NamedTuple):
    """What one exchange sent and got: the final response head, the request bytes
    written, when the request was written, and the bytes of 1xx heads read before a
    final answer to ``Expect: 100-continue``."""

    head: Head
    bytes_sent: int
    sent_at: float
    interim_size: int
    body_withheld: bool
    """A final response came before ``100 Continue``: the body was not sent (and the
    server may still expect it, so the connection is not reused)."""


class Lender(NamedTuple):
    """What the transport lends each exchange: its limits, whether bodies are
    decoded, and where the connection goes back when the response ends."""

    limits: Limits
    decode: bool
    release: Callable[[Connection, float], None]
    default_encoding: str | Callable[[bytes], str] | None = None
    """The Session's ``default_encoding``, for responses that name no charset."""


async def exchange(
    conn: Connection,
    request: Request,
    head: bytes,
    lender: Lender,
    timings: Timings,
    reused: bool,
    expecting: bool,
    client_close: bool,
) -> Response:
    """Send ``request`` (serialized as ``head``) on ``conn`` and return the response,
    its body unread.  Failures before the response head propagate (the caller decides
    about the connection and a retry); after that, the connection is the Response's
    until its body ends, then ``lender.release(conn)``.  The response's framing is
    read knowing ``head``: its TE field lets the body use gzip or deflate as transfer
    codings.  (Positional parameters: this runs for every request, and keywords cost
    more to pass.)"""
    limits = lender.limits
    reader, writer = conn.reader, conn.writer
    if request.trace is not None:
        writer, emitter = tracing(request.trace, conn.id, reader, writer)
        conn.on_close = emitter.closed
        if not reused:
            await emitter.emit("connect", conn.connect_data())
    elif reader.observer is not None:  # traced by an earlier request
        reader.observer = None
    if expecting:
        sent = await _send_expecting(reader, writer, request, head, limits)
        response_head, written, sent_at = sent.head, sent.bytes_sent, sent.sent_at
        interim_size, withheld = sent.interim_size, sent.body_withheld
    else:
        written = await _send_body(writer, head, request.body, request.clock)
        sent_at = time.monotonic()
        response_head = await receive_head(
            reader, request.method, limits, request.clock, request.on_head, head
        )
        interim_size, withheld = 0, False
    if reader.observer is not None:
        await reader.observer.flush()
    first_byte_at = response_head.first_byte_at
    sent_at = min(sent_at, first_byte_at)  # a final answer to Expect came first
    timings.reused = reused
    timings.bytes_sent = written
    # The phases add up to first_byte: pool (only the time spent waiting for a
    # connection), connect and TLS were timed where they happened; send takes the
    # rest up to the request written (building the head included), and wait runs
    # to the first byte of the final response.
    timings.send = max(0.0, sent_at - timings.start - timings.pool - timings.connect - timings.tls)
    timings.wait = first_byte_at - sent_at
    timings.first_byte = first_byte_at - timings.start
    head_size = response_head.size + interim_size
    framing = response_head.framing
    keep_alive = framing.keep_alive and not client_close and not withheld
    body = BodyReader(reader, framing, limits, request.clock)

    def on_done(complete: bool) -> None:
        now = time.monotonic()
        timings.receive = now - first_byte_at
        timings.total = now - timings.start
        timings.bytes_received = head_size + body.wire_bytes
        conn.end_exchange(complete, keep_alive)
        lender.release(conn, now)

    response = Response.from_head(
        response_head, body, request.url, request.method, on_done, lender.decode, timings
    )
    response._addresses = conn.addresses  # recorded when the connection opened
    if lender.default_encoding is not None:
        response.default_encoding = lender.default_encoding
    return response


async def _send_expecting(
    reader: Reader,
    writer: Writer,
    request: Request,
    head: bytes,
    limits: Limits,
) -> Sent:
    """Send a request that waits for ``100 Continue`` before its body."""
    body = request.body
    assert body is not None
    early, interim = await _expect_continue(reader, writer, request, head, limits)
    if early is not None:  # a final response came first: the body is not sent
        return Sent(early, len(head), time.monotonic(), interim, True)
    sent = len(head) + await _send_body(writer, b"", body, request.clock)
    sent_at = time.monotonic()
    final = await receive_head(reader, request.method, limits, request.clock, request.on_head, head)
    return Sent(final, sent, sent_at, interim, False)


async def _send_body(writer: Writer, head: bytes, body: RequestBody | None, clock: Clock) -> int:
    """Write ``head`` (may be empty) and the body; the number of bytes written."""
    if body is None or body.data is not None:
        data = None if body is None else body.data
        await send_request(writer, head, data, clock)
        return len(head) + (len(data) if data else 0)
    return await send_streamed(writer, head, body, clock)


async def _expect_continue(
    reader: Reader,
    writer: Writer,
    request: Request,
    head: bytes,
    limits: Limits,
) -> tuple[Head | None, int]:
    """Send a head carrying ``Expect: 100-continue`` and wait for the server's
    answer, all of it within the ``expect_continue`` timeout (and the total timeout).
    Returns (None, bytes of the 1xx heads read) when the body should follow: 100
    arrived, or nothing in time; or (the final response head, bytes of the 1xx heads
    before it) when the server answered without waiting for the body."""
    clock = request.clock
    await send_request(writer, head, None, clock)
    deadline = clock.until(clock.timeout.expect_continue)
    interim = 0
    for _ in range(limits.max_informational + 1):
        line = await wait_for_continue(reader, deadline)
        if line is None:
            return None, interim
        answer = await receive_head(
            reader,
            request.method,
            limits,
            clock,
            request.on_head,
            head,
            first_line=line,
            single=True,
        )
        if answer.status >= 200:
            return answer, interim
        interim += answer.size
        if answer.status == 100:
            return None, interim
    raise ProtocolError(f"more than {limits.max_informational} 1xx interim responses")
