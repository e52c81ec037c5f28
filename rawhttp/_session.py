"""Session: the public async API.  Builds the request, takes a connection from
the pool, runs the exchange with its timeouts and hands back a Response."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Final

from ._config import DEFAULT_LIMITS, DEFAULT_TIMEOUT, Limits, Timeout
from ._connection import Connection, PoolKey
from ._exceptions import (
    Error,
    InvalidRequest,
    NoResponse,
    PoolTimeout,
    ResetBeforeResponse,
    WriteError,
    translate,
)
from ._headers import HeadersInput
from ._http11 import BodyReader, Clock, receive_head, send_request
from ._pool import Pool
from ._response import Response
from ._serialize import Field, encode_field, encode_fields, request_head
from ._tls import VerifyTypes, context_for, tls_key
from ._url import URL, parse_url
from ._version import __version__

__all__ = ["Session"]

IDEMPOTENT: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
"""Methods retried once on a fresh connection when a reused one fails before any response byte."""

_DEFAULT_HEADERS: Final = (("User-Agent", f"rawhttp/{__version__}"), ("Accept", "*/*"))


class Session:
    """An HTTP/1.1 client with a keep-alive connection pool.

    Use it as ``async with rawhttp.Session() as s:`` so that every connection
    is closed at the end.  All options are keyword-only:

    - ``timeout``: a :class:`Timeout`, a number of seconds, or None for no limits;
    - ``max_connections``: most connections open at once, over all origins;
    - ``verify``: True (certifi's CA bundle), a CA bundle path, an
      ``ssl.SSLContext`` (used as given) or False (no certificate checks);
    - ``headers``: default headers sent with every request (a request's own
      headers of the same name replace them);
    - ``limits``: a :class:`Limits` bounding what servers may send;
    - ``keepalive_expiry``: seconds an idle connection is kept for reuse.
    """

    def __init__(
        self,
        *,
        timeout: Timeout | float | None = DEFAULT_TIMEOUT,
        max_connections: int = 100,
        verify: VerifyTypes = True,
        headers: HeadersInput | None = None,
        limits: Limits = DEFAULT_LIMITS,
        keepalive_expiry: float | None = 5.0,
    ) -> None:
        self.timeout = Timeout.coerce(timeout)
        self.limits = limits
        self.verify = verify
        self._tls_key = tls_key(verify)
        defaults = encode_fields(_DEFAULT_HEADERS)
        own = encode_fields(headers)
        own_keys = {f.key for f in own}
        self._default_fields = [f for f in defaults if f.key not in own_keys] + own
        self._default_keys = {f.key for f in self._default_fields}
        self._pool = Pool(max_connections, keepalive_expiry)
        self._active: set[Connection] = set()
        self._closed = False

    # -- lifecycle ----------------------------------------------------------

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every connection, idle or in use.  The session cannot be used after."""
        self._closed = True
        self._pool.close_idle()
        self._pool.fail_waiters(lambda: Error("the session was closed"))
        for conn in list(self._active):
            conn.close()
        # Transports close their sockets on the next loop iteration.
        await asyncio.sleep(0)

    @property
    def is_closed(self) -> bool:
        return self._closed

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<Session {state} active={len(self._active)} {self._pool!r}>"

    # -- requests -----------------------------------------------------------

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: HeadersInput | None = None,
        content: bytes | str | None = None,
        timeout: Timeout | float | None = None,
    ) -> Response:
        """Send a request and return the response with its body read."""
        response, body, _ = await self._exchange(method, url, headers, content, timeout)
        if body is None:
            return response
        await response.read()
        return response

    async def get(self, url: str, **kwargs: object) -> Response:
        return await self.request("GET", url, **kwargs)  # type: ignore[arg-type]

    async def head(self, url: str, **kwargs: object) -> Response:
        return await self.request("HEAD", url, **kwargs)  # type: ignore[arg-type]

    async def options(self, url: str, **kwargs: object) -> Response:
        return await self.request("OPTIONS", url, **kwargs)  # type: ignore[arg-type]

    async def delete(self, url: str, **kwargs: object) -> Response:
        return await self.request("DELETE", url, **kwargs)  # type: ignore[arg-type]

    async def post(self, url: str, **kwargs: object) -> Response:
        return await self.request("POST", url, **kwargs)  # type: ignore[arg-type]

    async def put(self, url: str, **kwargs: object) -> Response:
        return await self.request("PUT", url, **kwargs)  # type: ignore[arg-type]

    async def patch(self, url: str, **kwargs: object) -> Response:
        return await self.request("PATCH", url, **kwargs)  # type: ignore[arg-type]

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str,
        *,
        headers: HeadersInput | None = None,
        content: bytes | str | None = None,
        timeout: Timeout | float | None = None,
    ) -> AsyncIterator[Response]:
        """``async with s.stream(...) as r:`` gives the response with its body unread.

        Read it with ``async for chunk in r.iter_bytes()`` or ``await r.read()``.
        On leaving the block an unread body is not drained: the connection is closed.
        """
        response, _, _ = await self._exchange(method, url, headers, content, timeout)
        try:
            yield response
        finally:
            await response.aclose()

    # -- the exchange -------------------------------------------------------

    def _build(
        self, method: str, url: str, headers: HeadersInput | None, content: bytes | str | None
    ) -> tuple[URL, bytes, bytes | None, bool]:
        """Everything validated and serialized before any I/O."""
        if self._closed:
            raise Error("the session is closed")
        target = parse_url(url)
        if not isinstance(method, str):
            raise InvalidRequest(f"method must be a str, not {type(method).__name__}")
        if method == "CONNECT":
            raise InvalidRequest("CONNECT is not supported by Session.request")
        body: bytes | None
        if content is None:
            body = None
        elif isinstance(content, bytes | bytearray | memoryview):
            body = bytes(content)
        elif isinstance(content, str):
            body = content.encode("utf-8")
        else:
            raise InvalidRequest(f"content must be bytes or str, not {type(content).__name__}")
        fields = self._fields(headers, target)
        length = (
            len(body) if body is not None else (0 if method in ("POST", "PUT", "PATCH") else None)
        )
        head = request_head(method, target, fields, content_length=length)
        close = any(f.key == "connection" and b"close" in f.value.lower() for f in fields)
        return target, head, body, close

    def _fields(self, headers: HeadersInput | None, url: URL) -> list[Field]:
        own = encode_fields(headers)
        if own:
            keys = {f.key for f in own}
            fields = [f for f in self._default_fields if f.key not in keys] + own
        else:
            keys = set()
            fields = list(self._default_fields)
        if url.username is not None and "authorization" not in keys | self._default_keys:
            token = f"{url.username}:{url.password or ''}".encode()
            fields.append(encode_field("Authorization", b"Basic " + base64.b64encode(token)))
        return fields

    async def _exchange(
        self,
        method: str,
        url: str,
        headers: HeadersInput | None,
        content: bytes | str | None,
        timeout: Timeout | float | None,
    ) -> tuple[Response, BodyReader | None, Clock]:
        target, head, body, client_close = self._build(method, url, headers, content)
        t = self.timeout if timeout is None else Timeout.coerce(timeout)
        clock = Clock(t.total)
        key: PoolKey = (target.scheme, target.host, target.port, self._tls_key)
        retry_allowed = method in IDEMPOTENT
        attempt = 0
        while True:
            conn, reused = await self._acquire(key, target, clock, t, fresh=attempt > 0)
            conn.requests += 1
            try:
                await send_request(conn.writer, head, body, clock.until(t.write))
                response_head = await receive_head(conn.reader, method, self.limits, clock, t.read)
            except (NoResponse, ResetBeforeResponse, WriteError):
                self._release(conn, False)
                if reused and retry_allowed and attempt == 0:
                    attempt += 1
                    continue
                raise
            except BaseException:
                self._release(conn, False)
                raise
            break
        framing = response_head.framing
        reusable = framing.keep_alive and not client_close
        reader = BodyReader(conn.reader, framing, self.limits, clock, t.read)

        def on_done(complete: bool) -> None:
            self._release(conn, complete and reusable)

        response = Response(
            status=response_head.status,
            reason=response_head.reason,
            http_version=response_head.http_version,
            headers=response_head.headers,
            url=str(target),
            method=method,
            body=reader,
            on_done=on_done,
        )
        if reader.done:
            response._content = b""
            response._finish(True)
            return response, None, clock
        return response, reader, clock

    async def _acquire(
        self, key: PoolKey, url: URL, clock: Clock, t: Timeout, *, fresh: bool
    ) -> tuple[Connection, bool]:
        """A connection for ``key``: reused from the pool, handed over, or newly opened."""
        pool = self._pool
        loop = clock.loop
        got = pool.checkout(key, loop.time(), reuse=not fresh)
        if got is False:
            waiter = pool.wait(key)
            try:
                with translate(PoolTimeout, PoolTimeout):
                    async with asyncio.timeout_at(clock.until(t.pool)):
                        handed = await waiter.future
            except BaseException:
                pool.cancel_wait(waiter)
                raise
            if handed is not None:
                assert isinstance(handed, Connection)
                self._active.add(handed)
                return handed, True
        elif got is not True:
            assert isinstance(got, Connection)
            self._active.add(got)
            return got, True
        # A slot is reserved for us: open a new connection.
        try:
            ssl_context = context_for(self.verify) if url.scheme == "https" else None
            conn = await Connection.open(
                url, key, ssl_context=ssl_context, deadline=clock.until(t.connect)
            )
        except BaseException:
            pool.release_slot()
            raise
        if self._closed:
            conn.close()
            pool.release_slot()
            raise Error("the session was closed while connecting")
        self._active.add(conn)
        return conn, False

    def _release(self, conn: Connection, reusable: bool) -> None:
        """The exchange on ``conn`` is over: back to the pool if reusable, else closed."""
        self._active.discard(conn)
        if self._closed:
            conn.close()
            self._pool.release_slot()
            return
        self._pool.checkin(conn, reusable=reusable, now=asyncio.get_running_loop().time())
