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
    InvalidURL,
    NoResponse,
    PoolTimeout,
    ProtocolError,
    ResetBeforeResponse,
    TooManyRedirects,
    WriteError,
    translate,
)
from ._headers import Headers, HeadersInput
from ._http11 import (
    BodyReader,
    Clock,
    Head,
    receive_head,
    send_request,
    send_streamed,
    wait_for_continue,
)
from ._parse import BodyKind, keep_alive
from ._pool import Pool
from ._proxy import Proxy, bypass_proxy, env_no_proxy, env_proxy, parse_proxy
from ._redirects import CONTENT_HEADERS, CREDENTIAL_HEADERS, next_hop
from ._response import InformationalResponse, Response
from ._serialize import Field, encode_field, encode_fields, request_head
from ._timings import Timings
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
HeadHook: TypeAlias = "Callable[[Head], Awaitable[None] | None]"
HEAD_CACHE_SIZE: Final = 256
"""Request heads remembered per Session for repeated requests with default headers."""

ParamsInput: TypeAlias = "Mapping[str, Any] | Iterable[tuple[str, Any]]"

EXPECT_CONTINUE_THRESHOLD: Final = 1024 * 1024
"""With ``expect_continue=None`` (the default), request bodies of a known length
above this many bytes are sent with ``Expect: 100-continue``."""
EXPECT_CONTINUE_TIMEOUT: Final = 1.0
"""Seconds to wait for ``100 Continue`` before sending the body anyway (RFC 9110 10.1.1)."""
EXPECT_FIELD: Final = encode_field("Expect", "100-continue")


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
      URL still gives the Host header and the target;
    - ``proxy``: an HTTP proxy, ``"http://[user:password@]host[:port]"`` (port
      1080 when not given): http URLs are requested from it in absolute form,
      https URLs through a ``CONNECT`` tunnel; the credentials go to the proxy
      only, as ``Proxy-Authorization``;
    - ``no_proxy``: hosts reached directly, as curl's NO_PROXY (comma-separated
      names, matching subdomains too, IP addresses, CIDR ranges, ``host:port``,
      ``*`` for all);
    - ``trust_env`` (default True): without ``proxy``, take the proxy from the
      ``http_proxy``/``https_proxy``/``all_proxy`` environment variables (upper-case
      too), and without ``no_proxy`` from ``no_proxy``/``NO_PROXY``;
    - ``local_address``: the source IP address of outgoing connections;
    - ``happy_eyeballs_delay``: seconds before also trying the next address of a
      name with several (IPv6 and IPv4), RFC 8305; None tries one after another;
    - ``expect_continue``: send ``Expect: 100-continue`` and wait up to a second
      for ``100 Continue`` before a request body: True for every body, False
      never, None (default) for bodies larger than 1 MiB.
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
        proxy: str | None = None,
        no_proxy: str | None = None,
        trust_env: bool = True,
        local_address: str | None = None,
        happy_eyeballs_delay: float | None = 0.25,
        expect_continue: bool | None = None,
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
        self._on_head = _head_hook(on_informational)
        self.local_address = local_address
        self.happy_eyeballs_delay = happy_eyeballs_delay
        self.expect_continue = expect_continue
        self._proxies, self._no_proxy = _proxy_settings(proxy, no_proxy, trust_env)
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
        self._heads: dict[tuple[str, URL, bool], bytes] = {}
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
        on_informational: InformationalHook | None = None,
        expect_continue: bool | None = None,
    ) -> Response:
        """Send a request and return the response with its body read (and decoded).

        ``content`` is bytes, str (UTF-8), a binary file (streamed with its length
        when it can be known) or an async or plain iterable of bytes (streamed with
        ``Transfer-Encoding: chunked``); ``data`` a dict or pairs sent as a form;
        ``json`` any JSON value.  ``params`` (dict or pairs) are added to the query.
        ``auth=(user, password)`` sends Basic authorization.  ``timeout``,
        ``follow_redirects``, ``trace``, ``on_informational`` and ``expect_continue``
        override the session's for this request.
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
            on_informational=on_informational,
            expect_continue=expect_continue,
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
        on_informational: InformationalHook | None = None,
        expect_continue: bool | None = None,
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
            on_informational=on_informational,
            expect_continue=expect_continue,
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
        on_informational: InformationalHook | None,
        expect_continue: bool | None,
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
        on_head = self._on_head if on_informational is None else _head_hook(on_informational)
        expect = self.expect_continue if expect_continue is None else expect_continue
        while True:
            fields = self._fields(defaults, own, target, credentials, body)
            response = await self._exchange(
                method, target, fields, body, clock, t, trace or self.trace, on_head, expect
            )
            if not follow:
                break
            try:
                hop = next_hop(target, method, response.status, response.headers.get("location"))
            except BaseException:  # an invalid Location: the 3xx is not returned
                await response.aclose()
                raise
            if hop is None:
                break
            await _drain(response)
            if len(history) >= self.max_redirects:
                raise TooManyRedirects(
                    f"more than {self.max_redirects} redirects (last to {str(hop.url)!r})"
                )
            history.append(response)
            if hop.drop_body:
                body = None
                own = [f for f in own if f.key not in CONTENT_HEADERS]
            elif body is not None and not body.replayable:
                raise InvalidRequest(
                    f"cannot follow the {response.status} redirect to {str(hop.url)!r}: "
                    "the request body was a stream and cannot be sent again"
                )
            if not hop.same_origin:  # a caller's Host named the old server
                own = [f for f in own if f.key != "host"]
                defaults = [f for f in defaults if f.key != "host"]
            if not hop.keep_credentials:
                own = [f for f in own if f.key not in CREDENTIAL_HEADERS]
                defaults = [f for f in defaults if f.key not in CREDENTIAL_HEADERS]
                credentials = None
            method, target = hop.method, hop.url
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
        on_head: HeadHook | None,
        expect: bool | None,
    ) -> Response:
        """One request and response head on one connection (retried once on a fresh
        connection when a reused one failed before any response byte)."""
        timings = Timings(time.monotonic())
        key, fields, proxy, absolute = self._route(target, fields)
        expecting = False
        if body is not None:
            fields, expecting = _with_expect(fields, body, expect)
        if body is None:
            head = self._head(method, target, fields, absolute)
        else:
            head = request_head(
                method,
                target,
                fields,
                content_length=body.length,
                chunked=body.chunked,
                absolute=absolute,
            )
        if fields is self._default_fields:
            client_close = self._defaults_close
        else:
            client_close = _says_close(fields)
        retry_allowed = method in IDEMPOTENT and (body is None or body.replayable)
        attempt = 0
        while True:
            conn, reused = await self._acquire(
                key, target, clock, t, fresh=attempt > 0, proxy=proxy, timings=timings
            )
            conn.requests += 1
            reader, writer = conn.reader, conn.writer
            interim_size = 0
            early: Head | None = None
            try:
                if trace is not None:
                    reader, writer, emitter = tracing(trace, conn.id, reader, writer)
                    conn.on_close = emitter.closed
                    if not reused:
                        await emitter.emit("connect", b"")
                if expecting:
                    assert body is not None
                    early, interim_size = await self._expect_continue(
                        reader, writer, head, method, clock, t, on_head
                    )
                    if early is None:
                        sent = len(head) + await self._send_body(writer, b"", body, clock, t)
                    else:
                        sent = len(head)  # a final response came first: the body is not sent
                        client_close = True  # and the server may still expect it
                else:
                    sent = await self._send_body(writer, head, body, clock, t)
                sent_at = time.monotonic()
                response_head = early or await receive_head(
                    reader, method, self.limits, clock, t.read, on_head
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
        first_byte_at = response_head.first_byte_at
        sent_at = min(sent_at, first_byte_at)  # a final answer to Expect came first
        timings.reused = reused
        timings.bytes_sent = sent
        # The phases add up to first_byte: pool (only the time spent waiting for a
        # connection), connect and TLS were timed where they happened; send takes the
        # rest up to the request written (building the head included), and wait runs
        # to the first byte of the final response.
        timings.send = max(
            0.0, sent_at - timings.start - timings.pool - timings.connect - timings.tls
        )
        timings.wait = first_byte_at - sent_at
        timings.first_byte = first_byte_at - timings.start
        head_size = response_head.size + interim_size
        framing = response_head.framing
        reusable = framing.keep_alive and not client_close
        body_reader = BodyReader(reader, framing, self.limits, clock, t.read)

        def on_done(complete: bool) -> None:
            now = time.monotonic()
            timings.receive = now - first_byte_at
            timings.total = now - timings.start
            timings.bytes_received = head_size + body_reader.wire_bytes
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
            timings=timings,
        )
        if body_reader.done:
            response._content = b""
            response._finish(True)
        return response

    @staticmethod
    async def _send_body(
        writer: asyncio.StreamWriter,
        head: bytes,
        body: RequestBody | None,
        clock: Clock,
        t: Timeout,
    ) -> int:
        """Write ``head`` (may be empty) and the body; the number of bytes written."""
        if body is None or body.data is not None:
            data = None if body is None else body.data
            await send_request(writer, head, data, clock, t.write)
            return len(head) + (len(data) if data else 0)
        return await send_streamed(writer, head, body, clock, t.write)

    async def _expect_continue(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        head: bytes,
        method: str,
        clock: Clock,
        t: Timeout,
        on_head: HeadHook | None,
    ) -> tuple[Head | None, int]:
        """Send a head carrying ``Expect: 100-continue`` and wait for the server's
        answer, all of it within EXPECT_CONTINUE_TIMEOUT (and the total timeout).
        Returns (None, bytes of the 1xx heads read) when the body should follow:
        100 arrived, or not in time; or (the final response head, bytes of the 1xx
        heads before it) when the server answered without waiting for the body."""
        await send_request(writer, head, None, clock, t.write)
        deadline = clock.loop.time() + EXPECT_CONTINUE_TIMEOUT
        if clock.total_at is not None and clock.total_at < deadline:
            deadline = clock.total_at
        interim = 0
        for _ in range(self.limits.max_informational + 1):
            line = await wait_for_continue(reader, deadline)
            if line is None:
                return None, interim
            answer = await receive_head(
                reader, method, self.limits, clock, t.read, on_head, first_line=line, single=True
            )
            if answer.status >= 200:
                return answer, interim
            interim += answer.size
            if answer.status == 100:
                return None, interim
        raise ProtocolError(f"more than {self.limits.max_informational} 1xx interim responses")

    def _route(
        self, target: URL, fields: list[Field]
    ) -> tuple[PoolKey, list[Field], Proxy | None, bool]:
        """How a request to ``target`` travels: its pool key, its fields (with the
        proxy's credentials when the proxy gets the request itself), its proxy, and
        whether the request line takes the absolute form (plain http via a proxy)."""
        proxy = self._proxy_for(target) if self._proxies is not None else None
        if proxy is None:
            return (target.scheme, target.host, target.port, self._tls_key), fields, None, False
        if target.scheme == "https":  # a tunnel per origin
            key = (target.scheme, target.host, target.port, (self._tls_key, proxy))
            return key, fields, proxy, False
        # One connection to the proxy carries requests for any origin.
        if proxy.authorization is not None:
            fields = [*fields, encode_field("Proxy-Authorization", proxy.authorization)]
        return ("http-proxy", proxy.host, proxy.port, proxy.authorization), fields, proxy, True

    def _proxy_for(self, url: URL) -> Proxy | None:
        """The proxy a request to ``url`` goes through, or None for a direct connection."""
        if self.unix_socket is not None or self._proxies is None:
            return None
        proxy = self._proxies.get(url.scheme)
        if proxy is None:
            return None
        if self._no_proxy and bypass_proxy(url.host, url.port, self._no_proxy):
            return None
        return proxy

    def _head(self, method: str, target: URL, fields: list[Field], absolute: bool) -> bytes:
        """The head of a request without a body; built once per (method, URL) when it
        carries only the session's default headers (the common repeated request)."""
        length = 0 if method in ("POST", "PUT", "PATCH") else None
        if fields is not self._default_fields:
            return request_head(method, target, fields, content_length=length, absolute=absolute)
        cache = self._heads
        cache_key = (method, target, absolute)
        head = cache.get(cache_key)
        if head is None:
            if len(cache) >= HEAD_CACHE_SIZE:
                cache.clear()
            head = cache[cache_key] = request_head(
                method, target, fields, content_length=length, absolute=absolute
            )
        return head

    async def _acquire(
        self,
        key: PoolKey,
        url: URL,
        clock: Clock,
        t: Timeout,
        *,
        fresh: bool,
        proxy: Proxy | None,
        timings: Timings,
    ) -> tuple[Connection, bool]:
        """A connection for ``key``: reused from the pool, handed over, or newly opened."""
        pool = self._pool
        start = time.monotonic()
        got = pool.checkout(key, start, reuse=not fresh)
        if got is False:
            waiter = pool.wait(key)
            try:
                with translate(PoolTimeout, PoolTimeout):
                    async with asyncio.timeout_at(clock.until(t.pool)):
                        handed = await waiter.future
            except BaseException:
                pool.cancel_wait(waiter)
                raise
            timings.pool = time.monotonic() - start
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
                proxy=proxy,
                local_address=self.local_address,
                happy_eyeballs_delay=self.happy_eyeballs_delay,
                limits=self.limits,
                timings=timings,
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
    reused.  A body that cannot leave the connection reusable (the server closes it,
    or frames the body by closing) is not read at all, and a body larger than
    DRAIN_LIMIT closes the connection instead: the client does not want it.

    A timeout while draining is raised as it is (it is the request's own read or
    total timeout); any other failure of an unwanted body only closes the connection."""
    body = response._body
    kept: list[bytes] = []
    total = 0
    try:
        if body is not None and not body.done and _reusable(response):
            while total <= DRAIN_LIMIT:
                piece = await body.read_chunk()
                if not piece:
                    break
                total += len(piece)
                kept.append(piece)
    except TimeoutError:  # rawhttp's timeouts are builtin TimeoutErrors too
        raise
    except Error:
        pass
    finally:
        await response.aclose()
    if response._content is None:
        response._content = b"".join(kept)


def _reusable(response: Response) -> bool:
    """Whether the response lets its connection be reused once its body is read."""
    body = response._body
    if body is None or body.kind is BodyKind.CLOSE:
        return False
    return keep_alive(response.http_version, response.headers)


def _with_expect(
    fields: list[Field], body: RequestBody, expect: bool | None
) -> tuple[list[Field], bool]:
    """The fields, with ``Expect: 100-continue`` added when ``expect`` asks for it
    (None: bodies over EXPECT_CONTINUE_THRESHOLD), and whether to wait for 100.  A
    caller's own ``Expect: 100-continue`` is waited for too; an empty body never
    gets one (RFC 9110 10.1.1)."""
    if any(f.key == "expect" and f.value.lower() == b"100-continue" for f in fields):
        return fields, True
    if body.length == 0:
        return fields, False
    if expect or (expect is None and (body.length or 0) > EXPECT_CONTINUE_THRESHOLD):
        return [*fields, EXPECT_FIELD], True
    return fields, False


def _head_hook(hook: InformationalHook | None) -> HeadHook | None:
    """The user's ``on_informational`` callback, as receive_head calls it."""
    if hook is None:
        return None

    def on_head(head: Head) -> Awaitable[None] | None:
        return hook(
            InformationalResponse(head.status, head.reason, head.http_version, head.headers)
        )

    return on_head


def _proxy_settings(
    proxy: str | None, no_proxy: str | None, trust_env: bool
) -> tuple[dict[str, Proxy | None] | None, str | None]:
    """Proxies by URL scheme (None when no request can use one) and the NO_PROXY list."""
    if no_proxy is None and trust_env:
        no_proxy = env_no_proxy(os.environ)
    if proxy is not None:
        chosen = parse_proxy(proxy)
        return {"http": chosen, "https": chosen}, no_proxy
    if not trust_env:
        return None, no_proxy
    proxies: dict[str, Proxy | None] = {}
    for scheme in ("http", "https"):
        value = env_proxy(scheme, os.environ)
        if value is not None:
            try:
                proxies[scheme] = parse_proxy(value)
            except InvalidURL as exc:
                raise InvalidURL(f"proxy for {scheme} URLs from the environment: {exc}") from None
    return (proxies or None), no_proxy
