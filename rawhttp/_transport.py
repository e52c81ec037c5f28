"""The bottom of the Session's stack: route a request (direct, through a proxy, over
a Unix socket), take a connection from the pool or open one, run the exchange on it,
and give the connection back when its response ends.

The pool timeout is applied here (:meth:`Transport.acquire`); the connect timeout in
``Connection.open``.  A request that fails on a reused connection before any byte of
a response arrived is sent once more on a new connection when it is idempotent and
its body can be sent again (the connection had gone stale while idle).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import re
import time
from collections.abc import Callable, Mapping
from typing import Final, NamedTuple, TypeAlias

from ._config import DEFAULT_LIMITS, Limits
from ._connection import Address, Connection, PoolKey
from ._cookies import CookieStore, add_cookie_header, extract_cookies
from ._exceptions import (
    Error,
    InvalidRequest,
    InvalidURL,
    NoResponse,
    PoolTimeout,
    ResetBeforeResponse,
    WriteError,
    translate,
)
from ._exchange import Lender, exchange
from ._pool import Open, Pool, PoolState, Reuse, Wait
from ._proxy import Proxy, bypass_proxy, env_no_proxy, env_proxy, parse_proxy
from ._request import HeadCache, Request, says_close, with_expect
from ._response import Response
from ._serialize import encode_field
from ._timings import Timings
from ._tls import CertTypes, ResolvedVerify, context_for, tls_key
from ._url import URL

__all__ = ["ConnectTo", "Route", "Transport", "check_connect_target", "proxy_settings"]

ConnectTo: TypeAlias = Callable[[str, int], "tuple[str, int] | None"]
"""The Session's ``connect_to``: given the URL's host and port, the host and port to
open the TCP connection to instead, or None for the URL's own."""

IDEMPOTENT: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
"""Methods retried once on a fresh connection when a reused one fails before any response byte."""
ROUTE_CACHE_SIZE: Final = 256
"""Routes remembered per Session (a URL's route never changes during its life)."""
_TARGET_HOST: Final = re.compile(r"[A-Za-z0-9._:%-]{1,255}")
"""What a ``connect_to`` host may be: a DNS name, an IPv4 address, or an IPv6 one
(with a zone id)."""


class Route(NamedTuple):
    """How a request travels: its pool key, the proxy it goes through (None:
    direct), and whether its request line takes the absolute form (plain http via a
    proxy, which then also gets the proxy's credentials as a header).  Through a
    proxy, a request not in absolute form goes through a CONNECT tunnel."""

    key: PoolKey
    proxy: Proxy | None
    absolute: bool


class Transport:
    """Connections for one Session: routing, the pool, opening and releasing."""

    def __init__(
        self,
        *,
        max_connections: int,
        keepalive_expiry: float | None,
        verify: ResolvedVerify,
        cert: CertTypes | None,
        limits: Limits = DEFAULT_LIMITS,
        decode: bool,
        unix_socket: str | None,
        proxies: Mapping[str, Proxy | None] | None,
        no_proxy: str | None,
        local_address: str | None,
        happy_eyeballs_delay: float | None,
        heads: HeadCache,
        cookies: CookieStore | None = None,
        default_encoding: str | Callable[[bytes], str] | None = None,
        connect_to: ConnectTo | None = None,
        proxy_tunnel: bool = False,
    ) -> None:
        self.pool = Pool(max_connections, keepalive_expiry)
        self.verify = verify
        self.cert = cert
        self.limits = limits
        self.decode = decode
        self.unix_socket = unix_socket
        self.local_address = local_address
        self.happy_eyeballs_delay = happy_eyeballs_delay
        self.connect_to = connect_to
        self._tls_key = tls_key(verify, cert)
        self._proxies = proxies
        self._no_proxy = no_proxy
        self.proxy_tunnel = proxy_tunnel
        """http URLs too go through a CONNECT tunnel (curl's --proxytunnel)."""
        self._heads = heads
        self._default_fields = heads.defaults
        self._defaults_close: bool | None = None
        self._routes: dict[URL, Route] = {}
        self.cookies = CookieStore(None) if cookies is None else cookies
        self._lender = Lender(limits, decode, self.release, default_encoding)
        self.closed = False

    @property
    def state(self) -> PoolState:
        return self.pool.state

    # -- one request -------------------------------------------------------------

    async def send(self, request: Request) -> Response:
        """The response to ``request``, its body unread (retried once on a fresh
        connection when a reused one failed before any response byte)."""
        timings = Timings(time.monotonic())
        url = request.url
        route = self.route(url)
        if request.cookies is not None or self.cookies.active:
            add_cookie_header(self.cookies, request)
        fields = request.fields()  # the Session's own list in the common case
        if route.absolute and route.proxy is not None and route.proxy.authorization is not None:
            fields = [*fields, encode_field("Proxy-Authorization", route.proxy.authorization)]
        body = request.body
        expecting = False
        if body is not None:
            fields, expecting = with_expect(fields, body, request.expect)
        head = self._heads.head(request.method, url, fields, body, route.absolute)
        if fields is self._default_fields:  # the common case: computed once
            client_close = self._defaults_close
            if client_close is None:
                client_close = self._defaults_close = says_close(fields)
        else:
            client_close = says_close(fields)
        may_retry = request.method in IDEMPOTENT and (body is None or body.replayable)
        fresh = False
        while True:
            start = timings.start if not fresh else time.monotonic()
            got = self.pool.checkout(route.key, start, not fresh)
            conn: Connection
            if type(got) is Reuse and not self.closed:  # the common case: no wait, no await
                conn, reused = got.connection, True  # type: ignore[assignment]  # the pool's are
            else:
                conn, reused = await self.acquire(got, route, url, request, timings, start)
            conn.requests += 1
            try:
                response = await exchange(
                    conn, request, head, self._lender, timings, reused, expecting, client_close
                )
            except (NoResponse, ResetBeforeResponse, WriteError):
                self._fail(conn)
                if reused and may_retry and not fresh and not self.closed:
                    fresh = True  # the connection went stale while idle: once more, anew
                    continue
                raise
            except BaseException:
                self._fail(conn)
                raise
            extract_cookies(self.cookies, request, response)
            return response

    # -- routing --------------------------------------------------------------------

    def route(self, url: URL) -> Route:
        """The pool key, proxy and request form of a request to ``url`` (remembered
        per URL, as the request heads are: the common repeated request)."""
        routes = self._routes
        found = routes.get(url)
        if found is None:
            if len(routes) >= ROUTE_CACHE_SIZE:
                routes.clear()
            found = routes[url] = self._route(url)
        return found

    def _route(self, url: URL) -> Route:
        proxy = self._proxy_for(url)
        if proxy is None:
            return Route((url.scheme, url.host, url.port, self._tls_key), None, False)
        if url.scheme == "https" or self.proxy_tunnel:  # a tunnel per origin
            return Route((url.scheme, url.host, url.port, (self._tls_key, proxy)), proxy, False)
        # One connection to the proxy carries requests for any origin.
        return Route(("http-proxy", proxy.host, proxy.port, proxy.authorization), proxy, True)

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

    # -- connections ---------------------------------------------------------------------

    async def acquire(
        self,
        got: Reuse | Open | Wait,
        route: Route,
        url: URL,
        request: Request,
        timings: Timings,
        start: float,
    ) -> tuple[Connection, bool]:
        """A connection for ``route``, from what the pool's checkout at ``start`` gave:
        an idle connection to reuse, a connection handed over by another request after
        a wait, or a new one opened in a free slot; and whether it was reused.  The
        pool timeout bounds the wait for a free slot.  (An idle connection found at
        once never comes here: :meth:`send` takes it without a coroutine.)"""
        pool = self.pool
        clock = request.clock
        if isinstance(got, Wait):
            try:
                with translate(PoolTimeout, PoolTimeout):
                    async with asyncio.timeout_at(clock.until(clock.timeout.pool)):
                        got = await got.waiter.future
            except BaseException:
                pool.cancel_wait(got.waiter)  # type: ignore[union-attr]
                raise
            timings.pool = time.monotonic() - start
        if self.closed:  # handed a connection or a slot while the session closed
            if isinstance(got, Reuse):
                pool.checkin(got.connection, now=start)
            else:
                pool.release_slot()
            raise Error("the session is closed")
        if isinstance(got, Reuse):
            return got.connection, True  # type: ignore[return-value]  # a Connection
        try:
            ssl_context = context_for(self.verify, self.cert) if url.scheme == "https" else None
            target = None
            if self.connect_to is not None and route.proxy is None and self.unix_socket is None:
                # Asked only when a connection is opened: the pool key stays the URL's
                # origin, which is sound because the mapping is the Session's, the same
                # for every request of it (Host, SNI and the certificate check are the
                # URL's host's whichever address the connection went to).
                target = check_connect_target(self.connect_to, url.host, url.port)
            conn = await Connection.open(
                url,
                route.key,
                ssl_context=ssl_context,
                deadline=clock.until(clock.timeout.connect),
                unix_socket=self.unix_socket,
                proxy=route.proxy,
                tunnel=not route.absolute,
                local_address=self.local_address,
                happy_eyeballs_delay=self.happy_eyeballs_delay,
                limits=self.limits,
                timings=timings,
                connect_to=target,
            )
        except BaseException:
            pool.release_slot()
            raise
        if self.closed:
            conn.close()
            pool.release_slot()
            raise Error("the session was closed while connecting")
        pool.opened(conn)
        return conn, False

    def release(self, conn: Connection, now: float) -> None:
        """An exchange on ``conn`` ended at ``now``: back to the pool if it may be
        reused (the connection decides), else closed."""
        if self.closed:
            conn.close()
        self.pool.checkin(conn, now)
        conn.on_close = None  # kept for reuse: a later close is not this request's

    def _fail(self, conn: Connection) -> None:
        """The exchange failed before its response: the connection is not reused."""
        conn.end_exchange(False, False)
        self.release(conn, time.monotonic())

    async def aclose(self) -> None:
        """Close every connection, idle or in use, and fail the requests waiting."""
        self.closed = True
        pool = self.pool
        pool.close_idle()
        pool.fail_waiters(lambda: Error("the session was closed"))
        pool.close_in_use()
        # Transports close their sockets on the next loop iteration.
        await asyncio.sleep(0)


def check_connect_target(connect_to: ConnectTo, host: str, port: int) -> Address | None:
    """What ``connect_to(host, port)`` says: None (the URL's host and port) or a
    (host, port) pair, checked; any failure of the callable, or anything else
    returned, is an :class:`InvalidRequest`."""
    asked = f"connect_to({host!r}, {port})"
    try:
        target = connect_to(host, port)
    except Exception as exc:
        raise InvalidRequest(f"{asked} raised {type(exc).__name__}: {exc}") from exc
    if target is None:
        return None
    if inspect.iscoroutine(target):
        target.close()  # never awaited: say so here rather than in a RuntimeWarning
        raise InvalidRequest(f"{asked} returned a coroutine: connect_to must not be async")
    if not (isinstance(target, tuple) and len(target) == 2):
        raise InvalidRequest(f"{asked} must return (host, port) or None, not {target!r:.100}")
    new_host, new_port = target
    if isinstance(new_host, str) and new_host.startswith("[") and new_host.endswith("]"):
        new_host = new_host[1:-1]  # an IPv6 literal written as in a URL
    if not (isinstance(new_host, str) and _TARGET_HOST.fullmatch(new_host)):
        raise InvalidRequest(f"{asked} returned an invalid host: {new_host!r:.100}")
    if not isinstance(new_port, int) or isinstance(new_port, bool) or not 0 < new_port < 65536:
        raise InvalidRequest(f"{asked} returned an invalid port: {new_port!r:.100}")
    return new_host, int(new_port)


def proxy_settings(
    proxy: str | None, no_proxy: str | None, trust_env: bool
) -> tuple[dict[str, Proxy | None] | None, str | None]:
    """Proxies by URL scheme (None when no request can use one) and the NO_PROXY list,
    from the Session's options and (with ``trust_env``) the environment."""
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
