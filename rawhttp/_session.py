"""Session: the public async API.  Builds the request, takes a connection from
the pool, runs the exchange with its timeouts and hands back a Response."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, Final, TypeAlias

from ._body import Content, RequestBody, encode_body
from ._config import DEFAULT_LIMITS, DEFAULT_TIMEOUT, Limits, Timeout
from ._connection import Connection, PoolKey
from ._decoding import accept_encoding
from ._exceptions import (
    Error,
    InvalidRequest,
    NoResponse,
    PoolTimeout,
    ResetBeforeResponse,
    TooManyRedirects,
    WriteError,
    translate,
)
from ._headers import Headers, HeadersInput
from ._http11 import BodyReader, Clock, Head, receive_head, send_request, send_streamed
from ._pool import Pool
from ._redirects import (
    CONTENT_HEADERS,
    CREDENTIAL_HEADERS,
    REDIRECT_STATUSES,
    keeps_credentials,
    redirect_method,
    resolve_location,
)
from ._response import InformationalResponse, Response
from ._serialize import Field, encode_field, encode_fields, request_head
from ._tls import CertTypes, VerifyTypes, context_for, tls_key
from ._trace import TraceHook, tracing
from ._url import URL, parse_url
from ._version import __version__

__all__ = ["Session"]

IDEMPOTENT: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
"""Methods retried once on a fresh connection when a reused one fails before any response byte."""

USER_AGENT: Final = f"rawhttp/{__version__}"
DRAIN_LIMIT: Final = 1024 * 1024
"""A redirect body up to this size is read and discarded so its connection can be reused."""

InformationalHook: TypeAlias = "Callable[[InformationalResponse], Awaitable[None] | None]"
HEAD_CACHE_SIZE: Final = 256
"""Request heads remembered per Session for repeated requests with default headers."""

ParamsInput: TypeAlias = "Mapping[str, Any] | Iterable[tuple[str, Any]]"


class Session:
    """An HTTP/1.1 client with a keep-alive connection pool.

    Use it as ``async with rawhttp.Session() as s:`` so that every connection
    is closed at the end.  All options are keyword-only:

    - ``timeout``: a :class:`Timeout`, a number of seconds, or None for no limits;
    - ``max_connections``: most connections open at once, over all origins;
    - ``verify``: True (certifi's CA bundle), a CA bundle path, an
      ``ssl.SSLContext`` (used as given) or False (no certificate checks);
    - ``cert``: a client certificate, as a PEM path (key included) or a
      ``(certfile, keyfile)`` pair;
    - ``headers``: default headers sent with every request (a request's own
      headers of the same name replace them; a value of None removes one of
      rawhttp's defaults: User-Agent, Accept, Accept-Encoding);
    - ``auth``: ``(user, password)`` sent as Basic authorization with every request;
    - ``follow_redirects`` (default False) and ``max_redirects`` (default 20);
    - ``decode_content``: send Accept-Encoding and undo content codings (default
      True); ``Response.iter_raw()`` gives the body as received either way;
    - ``limits``: a :class:`Limits` bounding what servers may send;
    - ``keepalive_expiry``: seconds an idle connection is kept for reuse;
    - ``trace``: a callable (sync or async) given a :class:`TraceEvent` for each
      connect, and for the exact bytes of each send and receive;
    - ``on_informational``: a callable (sync or async) given each 1xx interim
      response (e.g. 103 Early Hints) as an :class:`InformationalResponse`;
    - ``unix_socket``: connect every request to this Unix domain socket path; the
      URL still gives the Host header and the target.
    """

    def __init__(
        self,
        *,
        timeout: Timeout | float | None = DEFAULT_TIMEOUT,
        max_connections: int = 100,
        verify: VerifyTypes = True,
        cert: CertTypes | None = None,
        headers: HeadersInput | None = None,
        auth: tuple[str, str] | None = None,
        follow_redirects: bool = False,
        max_redirects: int = 20,
        decode_content: bool = True,
        limits: Limits = DEFAULT_LIMITS,
        keepalive_expiry: float | None = 5.0,
        trace: TraceHook | None = None,
        on_informational: InformationalHook | None = None,
        unix_socket: str | os.PathLike[str] | None = None,
    ) -> None:
        self.timeout = Timeout.coerce(timeout)
        self.limits = limits
        self.verify = verify
        self.cert = cert
        self._tls_key = tls_key(verify, cert)
        self.follow_redirects = follow_redirects
        if max_redirects < 0:
            raise ValueError("max_redirects must be >= 0")
        self.max_redirects = max_redirects
        self.decode_content = decode_content
        self.trace = trace
        self.unix_socket = None if unix_socket is None else os.fspath(unix_socket)
        self._on_head = None
        if on_informational is not None:
            hook = on_informational

            def on_head(head: Head) -> Awaitable[None] | None:
                return hook(
                    InformationalResponse(head.status, head.reason, head.http_version, head.headers)
                )

            self._on_head = on_head
        self._auth = _basic(auth) if auth is not None else None
        default_pairs = [("User-Agent", USER_AGENT), ("Accept", "*/*")]
        if decode_content:
            default_pairs.append(("Accept-Encoding", accept_encoding()))
        defaults = encode_fields(default_pairs)
        pairs = list(headers.items() if isinstance(headers, Mapping | Headers) else headers or ())
        # A default header given as None is not sent at all (like curl's -H "Accept:").
        removed = {str(name).lower() for name, value in pairs if value is None}
        own = encode_fields([(name, value) for name, value in pairs if value is not None])
        own_keys = {f.key for f in own} | removed
        self._default_fields = [f for f in defaults if f.key not in own_keys] + own
        self._defaults_close = _says_close(self._default_fields)
        self._heads: dict[tuple[str, URL], bytes] = {}
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
        params: ParamsInput | None = None,
        headers: HeadersInput | None = None,
        content: Content | None = None,
        data: Any = None,
        json: Any = None,
        auth: tuple[str, str] | None = None,
        timeout: Timeout | float | None = None,
        follow_redirects: bool | None = None,
        trace: TraceHook | None = None,
    ) -> Response:
        """Send a request and return the response with its body read (and decoded).

        ``content`` is bytes, str (UTF-8), a binary file (streamed with its length
        when it can be known) or an async or plain iterable of bytes (streamed with
        ``Transfer-Encoding: chunked``); ``data`` a dict or pairs sent as a form;
        ``json`` any JSON value.  ``params`` (dict or pairs) are added to the query.
        ``auth=(user, password)`` sends Basic authorization.  ``timeout`` and
        ``follow_redirects`` override the session's for this request.
        """
        return await self._send(
            method,
            url,
            params=params,
            headers=headers,
            content=content,
            data=data,
            json=json,
            auth=auth,
            timeout=timeout,
            follow_redirects=follow_redirects,
            read=True,
            trace=trace,
        )

    async def get(self, url: str, **kwargs: Any) -> Response:
        return await self.request("GET", url, **kwargs)

    async def head(self, url: str, **kwargs: Any) -> Response:
        return await self.request("HEAD", url, **kwargs)

    async def options(self, url: str, **kwargs: Any) -> Response:
        return await self.request("OPTIONS", url, **kwargs)

    async def delete(self, url: str, **kwargs: Any) -> Response:
        return await self.request("DELETE", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> Response:
        return await self.request("POST", url, **kwargs)

    async def put(self, url: str, **kwargs: Any) -> Response:
        return await self.request("PUT", url, **kwargs)

    async def patch(self, url: str, **kwargs: Any) -> Response:
        return await self.request("PATCH", url, **kwargs)

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str,
        *,
        params: ParamsInput | None = None,
        headers: HeadersInput | None = None,
        content: Content | None = None,
        data: Any = None,
        json: Any = None,
        auth: tuple[str, str] | None = None,
        timeout: Timeout | float | None = None,
        follow_redirects: bool | None = None,
        trace: TraceHook | None = None,
    ) -> AsyncIterator[Response]:
        """``async with s.stream(...) as r:`` gives the response with its body unread.

        Read it with ``async for chunk in r.iter_bytes()`` (decoded),
        ``r.iter_raw()`` (as received) or ``await r.read()``.  On leaving the
        block an unread body is not drained: the connection is closed.
        """
        response = await self._send(
            method,
            url,
            params=params,
            headers=headers,
            content=content,
            data=data,
            json=json,
            auth=auth,
            timeout=timeout,
            follow_redirects=follow_redirects,
            read=False,
            trace=trace,
        )
        try:
            yield response
        finally:
            await response.aclose()

    # -- one request, following redirects -------------------------------------

    async def _send(
        self,
        method: str,
        url: str,
        *,
        params: ParamsInput | None,
        headers: HeadersInput | None,
        content: Content | None,
        data: Any,
        json: Any,
        auth: tuple[str, str] | None,
        timeout: Timeout | float | None,
        follow_redirects: bool | None,
        read: bool,
        trace: TraceHook | None,
    ) -> Response:
        if self._closed:
            raise Error("the session is closed")
        if not isinstance(method, str):
            raise InvalidRequest(f"method must be a str, not {type(method).__name__}")
        if method == "CONNECT":
            raise InvalidRequest("CONNECT is not supported by Session.request")
        target = parse_url(_with_params(url, params) if params else url)
        no_body = content is None and data is None and json is None
        body = None if no_body else encode_body(content, data, json)
        own = encode_fields(headers) if headers else []
        credentials = _basic(auth) if auth is not None else self._auth
        t = self.timeout if timeout is None else Timeout.coerce(timeout)
        clock = Clock(t.total)
        follow = self.follow_redirects if follow_redirects is None else follow_redirects
        history: list[Response] = []
        defaults = self._default_fields
        while True:
            fields = self._fields(defaults, own, target, credentials, body)
            response = await self._exchange(
                method, target, fields, body, clock, t, trace or self.trace
            )
            if not follow or response.status not in REDIRECT_STATUSES:
                break
            location = response.headers.get("location")
            if location is None:
                break
            await _drain(response)
            if len(history) >= self.max_redirects:
                raise TooManyRedirects(
                    f"more than {self.max_redirects} redirects (last to {location!r})"
                )
            history.append(response)
            new_target = resolve_location(target, location)
            new_method = redirect_method(response.status, method)
            if new_method != method and new_method == "GET":
                body = None
                own = [f for f in own if f.key not in CONTENT_HEADERS]
            elif body is not None and not body.replayable:
                raise InvalidRequest(
                    f"cannot follow the {response.status} redirect to {str(new_target)!r}: "
                    "the request body was a stream and cannot be sent again"
                )
            if new_target.origin != target.origin:  # a caller's Host named the old server
                own = [f for f in own if f.key != "host"]
                defaults = [f for f in defaults if f.key != "host"]
            if not keeps_credentials(target, new_target):
                own = [f for f in own if f.key not in CREDENTIAL_HEADERS]
                defaults = [f for f in defaults if f.key not in CREDENTIAL_HEADERS]
                credentials = None
            method, target = new_method, new_target
        response.history = history
        if read:
            await response.read()
        return response

    def _fields(
        self,
        defaults: list[Field],
        own: list[Field],
        url: URL,
        credentials: Field | None,
        body: RequestBody | None,
    ) -> list[Field]:
        """Session defaults not overridden, the request's own headers, then auth and
        Content-Type when the request did not set them.  ``defaults`` is the session's
        default fields, without credential headers once a redirect left the origin."""
        if not own and credentials is None and url.username is None and body is None:
            return defaults
        keys = {f.key for f in own}
        fields = [f for f in defaults if f.key not in keys] + own
        keys.update(f.key for f in defaults)
        if "authorization" not in keys:
            if credentials is None and url.username is not None:
                credentials = _basic((url.username, url.password or ""))
            if credentials is not None:
                fields.append(credentials)
        if body is not None and body.content_type and "content-type" not in keys:
            fields.append(encode_field("Content-Type", body.content_type))
        return fields

    async def _exchange(
        self,
        method: str,
        target: URL,
        fields: list[Field],
        body: RequestBody | None,
        clock: Clock,
        t: Timeout,
        trace: TraceHook | None,
    ) -> Response:
        """One request and response head on one connection (retried once on a fresh
        connection when a reused one failed before any response byte)."""
        if body is None:
            head = self._head(method, target, fields)
        else:
            head = request_head(
                method, target, fields, content_length=body.length, chunked=body.chunked
            )
        if fields is self._default_fields:
            client_close = self._defaults_close
        else:
            client_close = _says_close(fields)
        key: PoolKey = (target.scheme, target.host, target.port, self._tls_key)
        retry_allowed = method in IDEMPOTENT and (body is None or body.replayable)
        attempt = 0
        while True:
            conn, reused = await self._acquire(key, target, clock, t, fresh=attempt > 0)
            conn.requests += 1
            reader, writer = conn.reader, conn.writer
            try:
                if trace is not None:
                    reader, writer, emitter = tracing(trace, conn.id, reader, writer)
                    conn.on_close = emitter.closed
                    if not reused:
                        await emitter.emit("connect", b"")
                if body is None or body.data is not None:
                    data = None if body is None else body.data
                    await send_request(writer, head, data, clock, t.write)
                else:
                    await send_streamed(writer, head, body, clock, t.write)
                response_head = await receive_head(
                    reader, method, self.limits, clock, t.read, self._on_head
                )
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
        body_reader = BodyReader(reader, framing, self.limits, clock, t.read)

        def on_done(complete: bool) -> None:
            self._release(conn, complete and reusable)

        response = Response(
            status=response_head.status,
            reason=response_head.reason,
            http_version=response_head.http_version,
            headers=response_head.headers,
            url=str(target),
            method=method,
            body=body_reader,
            on_done=on_done,
            decode=self.decode_content,
        )
        if body_reader.done:
            response._content = b""
            response._finish(True)
        return response

    def _head(self, method: str, target: URL, fields: list[Field]) -> bytes:
        """The head of a request without a body; built once per (method, URL) when it
        carries only the session's default headers (the common repeated request)."""
        length = 0 if method in ("POST", "PUT", "PATCH") else None
        if fields is not self._default_fields:
            return request_head(method, target, fields, content_length=length)
        cache = self._heads
        head = cache.get((method, target))
        if head is None:
            if len(cache) >= HEAD_CACHE_SIZE:
                cache.clear()
            head = cache[(method, target)] = request_head(
                method, target, fields, content_length=length
            )
        return head

    async def _acquire(
        self, key: PoolKey, url: URL, clock: Clock, t: Timeout, *, fresh: bool
    ) -> tuple[Connection, bool]:
        """A connection for ``key``: reused from the pool, handed over, or newly opened."""
        pool = self._pool
        got = pool.checkout(key, time.monotonic(), reuse=not fresh)
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
            ssl_context = context_for(self.verify, self.cert) if url.scheme == "https" else None
            conn = await Connection.open(
                url,
                key,
                ssl_context=ssl_context,
                deadline=clock.until(t.connect),
                unix_socket=self.unix_socket,
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
        self._pool.checkin(conn, reusable=reusable, now=time.monotonic())
        conn.on_close = None  # kept for reuse: a later close is not this request's


def _with_params(url: str, params: ParamsInput) -> str:
    """``url`` with ``params`` form-encoded and appended to its query."""
    from urllib.parse import urlencode

    pairs = params if isinstance(params, Mapping) else list(params)
    try:
        query = urlencode(pairs, doseq=True)
    except TypeError as exc:
        raise InvalidRequest(f"params= cannot be encoded: {exc}") from exc
    if not query:
        return url
    base, hash_, fragment = url.partition("#")
    joiner = "&" if "?" in base else "?"
    if base.endswith(("?", "&")):
        joiner = ""
    return f"{base}{joiner}{query}{hash_}{fragment}"


def _says_close(fields: list[Field]) -> bool:
    return any(f.key == "connection" and b"close" in f.value.lower() for f in fields)


def _basic(auth: tuple[str, str]) -> Field:
    try:
        user, password = auth
    except (TypeError, ValueError):
        raise InvalidRequest("auth must be a (user, password) pair") from None
    import base64  # only requests with credentials need it

    token = base64.b64encode(f"{user}:{password}".encode())
    return encode_field("Authorization", b"Basic " + token)


async def _drain(response: Response) -> None:
    """Read and discard (undecoded) the body of a redirect so its connection can be
    reused; a body larger than DRAIN_LIMIT closes the connection instead."""
    body = response._body
    kept: list[bytes] = []
    total = 0
    try:
        if body is not None:
            while total <= DRAIN_LIMIT:
                piece = await body.read_chunk()
                if not piece:
                    break
                total += len(piece)
                kept.append(piece)
    except Error:
        pass
    finally:
        await response.aclose()
    if response._content is None:
        response._content = b"".join(kept)
