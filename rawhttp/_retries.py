"""Retries: the step of the Session's stack that sends a request again after a
transient failure or a status that says "try later", as :class:`Retry` says (its
rules, the waits and ``Retry-After``: :mod:`rawhttp._retry_rules`).  At most ``Retry.total`` times, it resends:

- after ``ConnectError`` (refused, unreachable, unresolved) or ``ConnectTimeout``,
  any request: nothing of it left the client (a body is read only once a connection
  is open: even a stream was not touched).  Not after a ``TLSError`` or ``ProxyError``;
- after ``WriteError`` (reset while sending), ``ReadError`` or ``NoResponse`` (the
  connection failed before the response), or a response with a status in
  ``statuses`` (its body read and dropped, up to DRAIN_LIMIT, else its connection
  closed): only for ``methods``, the server may have acted on the request.

Never after a ``PoolTimeout`` (the pool is the Session's own: waiting again is only a
longer pool timeout), read or write timeouts (a slow server stays slow), malformed
responses, nor once a body that cannot be sent twice (``RequestBody.replayable``
False) was sent: the first outcome is returned or raised.

The wait before the n-th retry is ``backoff_factor * 2 ** (n - 1)`` capped by
``max_backoff``, with "equal jitter" (a uniform draw between half of it and all of
it: clients that failed together do not come back together); a ``Retry-After``
replaces it (``respect_retry_after``), capped too.  A wait that would end past the
total deadline is not begun: the last outcome is returned or raised.  The response
says in ``Response.retries`` how many retries came before it.  (The transport's
silent retry on a stale kept-alive connection happens below and is not counted.)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from ._exceptions import (
    ConnectError,
    ConnectTimeout,
    Error,
    NoResponse,
    ReadError,
    ReadTimeout,
    TLSError,
    WriteError,
)
from ._retry_rules import Retry, backoff, retry_after
from ._unwanted import drop_unwanted

if TYPE_CHECKING:
    from ._config import Clock
    from ._request import Request
    from ._response import Response

__all__ = ["send_with_retries"]


async def send_with_retries(
    request: Request, send: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Send ``request`` with ``send``, retried as ``request.retry`` says (see the
    module's docstring); the last response, its body unread, with ``retries`` set."""
    retry = request.retry
    assert retry is not None  # the Session calls this step only then
    body = request.body
    # Sent again once it may have reached the server: replayable and an allowed method.
    resend = (body is None or body.replayable) and retry.allows(request.method)
    clock = request.clock
    done = 0
    while True:
        try:
            response = await send(request)
        except Error as exc:
            if done >= retry.total or not _transient(exc, resend):
                raise
            wait = backoff(retry, done + 1)
            if not _time_for(clock, wait):
                raise
            await asyncio.sleep(wait)
            done += 1
            continue
        if done >= retry.total or not resend or response.status not in retry.statuses:
            response.retries = done
            return response
        wait = _wait_after(retry, response, done + 1)
        if not _time_for(clock, wait):
            response.retries = done
            return response
        await drop_unwanted(response)
        if not _time_for(clock, wait):  # reading the body took the time left
            raise ReadTimeout(
                f"the total timeout expires before the retry after HTTP {response.status}"
            )
        await asyncio.sleep(wait)
        done += 1


def _transient(exc: Error, resend: bool) -> bool:
    """Whether a failed send may be tried again: a failure to connect always (nothing
    was sent), a connection failing later only if the request may be sent again."""
    if isinstance(exc, TLSError):
        return False
    if isinstance(exc, ConnectError | ConnectTimeout):
        return True
    return resend and isinstance(exc, WriteError | ReadError | NoResponse)


def _time_for(clock: Clock, wait: float) -> bool:
    """Whether a wait of ``wait`` seconds ends before the request's total deadline."""
    total_at = clock.total_at
    return total_at is None or clock.loop.time() + wait < total_at


def _wait_after(retry: Retry, response: Response, n: int) -> float:
    """Seconds to wait before the ``n``-th retry after ``response``."""
    if retry.respect_retry_after and "retry-after" in response.headers:
        asked = retry_after(response.headers, time.time())
        if asked is not None:
            return min(asked, retry.max_backoff)
    return backoff(retry, n)
