"""Session: the public async API, and the stack each request goes down.

``request()`` builds a :class:`Request` from the caller's arguments
(:mod:`rawhttp._request`), then :meth:`Session._send` runs the stack: following
redirects (:mod:`rawhttp._redirects`), then the transport, which routes it, takes a
connection from the pool and runs one exchange on it (:mod:`rawhttp._transport`,
:mod:`rawhttp._exchange`).  Later steps (retries, auth flows, cookies) slot in
between, each in its own module.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Unpack

from ._auth import Auth, split_auth
from ._charset import check_encoding_option
from ._config import DEFAULT_LIMITS, DEFAULT_TIMEOUT, Limits, Timeout
from ._cookies import CookiesInput, CookieStore
from ._decoding import accept_encoding
from ._exceptions import Error
from ._headers import Headers, HeadersInput
from ._options import (
    InformationalHook,
    RequestOptions,
    Verbs,
    check_options,
    signature_with,
)
from ._pool import PoolState
from ._redirect_rules import DEFAULT_POLICY, RedirectPolicy
from ._redirects import send_following_redirects
from ._request import HeadCache, Request, RequestDefaults, build_request, head_hook
from ._response import Response
from ._retry_rules import Retry, coerce_retries
from ._serialize import NO_HOST, encode_fields
from ._tls import CertTypes, VerifyTypes, verify_from_env
from ._transport import ConnectTo, Transport, proxy_settings
from ._url import parse_url
from ._version import __version__

if TYPE_CHECKING:
    from http.cookiejar import CookieJar

    from ._trace import TraceHook

__all__ = ["Session"]

USER_AGENT: Final = f"rawhttp/{__version__}"


class Session(Verbs[Awaitable[Response]]):
    """An HTTP/1.1 client with a keep-alive connection pool.

    Use it as ``async with rawhttp.Session() as s:`` so that every connection
    is closed at the end.  All options are keyword-only:

    - ``timeout``: a :class:`Timeout`, a number of seconds, or None for no limits;
    - ``max_connections``: most connections open at once, over all origins;
    - ``verify``: True (certifi's CA bundle), a CA bundle path, an
      ``ssl.SSLContext`` (used as given), ``"system"`` (the operating system's trust
      store, with ``rawhttp[truststore]``) or False (no certificate checks);
    - ``cert``: a client certificate, as a PEM path (key included) or a
      ``(certfile, keyfile)`` pair;
    - ``headers``: default headers sent with every request (a request's own
      headers of the same name replace them; a value of None removes one of
      rawhttp's defaults: User-Agent, Accept, Accept-Encoding, and Host: with
      ``"Host": None`` no Host field is sent, as curl's ``-H "Host:"``; HTTP/1.1
      requires one (RFC 9112 section 3.2), so this is for testing servers; a
      redirect to another origin gets its Host again);
    - ``auth``: ``(user, password)`` or :class:`BasicAuth` (Basic, sent with every
      request), :class:`DigestAuth`, or any :class:`Auth` flow;
    - ``cookies``: a dict (sent to every host) or an ``http.cookiejar.CookieJar`` (used
      as given): the Session's jar, :attr:`cookies`;
    - ``retries``: an int or a :class:`Retry` for every request (default: none beyond
      the silent resend on a stale keep-alive connection);
    - ``base_url``: relative request URLs are joined to it;
    - ``default_encoding``: for ``Response.text`` when the response names no charset:
      an encoding name or a callable given the body, returning one (default UTF-8);
    - ``follow_redirects`` (default False) and ``max_redirects`` (default 20; None
      for no limit, as curl's ``--max-redirs -1``);
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
    - ``proxy_tunnel`` (default False): http URLs too go through a ``CONNECT``
      tunnel to their origin (curl's ``-p``/``--proxytunnel``), requested in origin
      form inside it, one tunnel per origin;
    - ``no_proxy``: hosts reached directly, as curl's NO_PROXY (comma-separated
      names, matching subdomains too, IP addresses, CIDR ranges, ``host:port``,
      ``*`` for all);
    - ``trust_env`` (default True): without ``proxy``, take the proxy from the
      ``http_proxy``/``https_proxy``/``all_proxy`` environment variables (upper-case
      too), and without ``no_proxy`` from ``no_proxy``/``NO_PROXY``; and, with
      ``verify=True``, the CA files named by ``SSL_CERT_FILE``/``SSL_CERT_DIR``;
    - ``local_address``: the source IP address of outgoing connections;
    - ``happy_eyeballs_delay``: seconds before also trying the next address of a
      name with several (IPv6 and IPv4), RFC 8305; None tries one after another;
    - ``connect_to``: a callable ``(host, port) -> (host, port) | None``, asked with
      the URL's host and port before a direct connection (not through a proxy, not
      over ``unix_socket``) is opened: a pair opens the TCP connection to that host
      (an IP address or a name) and port instead, None to the URL's own (curl's
      ``--resolve`` and ``--connect-to``).  The Host header, TLS SNI and the
      certificate check stay the URL's host's, and the connection is pooled for the
      URL's origin: the mapping should not change during the Session's life.  A
      callable that raises or returns anything else gives an :class:`InvalidRequest`;
    - ``expect_continue``: send ``Expect: 100-continue`` and wait (the Timeout's
      ``expect_continue``, 1 s) for ``100 Continue`` before a request body: True for
      every body, False never, None (default) for bodies larger than 1 MiB;
    - ``redirect_policy``: a :class:`RedirectPolicy` for curl's ways of following
      redirects (``--post301``..., ``-X`` on every request); the default follows
      RFC 9110 as browsers do.

    Each request goes down a short stack: redirects (:mod:`rawhttp._redirects`),
    then the transport (:mod:`rawhttp._transport`: routing, the pool, one exchange
    on one connection in :mod:`rawhttp._exchange`).
    """

    def __init__(
        self,
        *,
        timeout: Timeout | float | None = DEFAULT_TIMEOUT,
        max_connections: int = 100,
        verify: VerifyTypes = True,
        cert: CertTypes | None = None,
        headers: HeadersInput | None = None,
        auth: tuple[str, str] | Auth | None = None,
        follow_redirects: bool = False,
        max_redirects: int | None = 20,
        decode_content: bool = True,
        limits: Limits = DEFAULT_LIMITS,
        keepalive_expiry: float | None = 5.0,
        trace: TraceHook | None = None,
        on_informational: InformationalHook | None = None,
        unix_socket: str | os.PathLike[str] | None = None,
        proxy: str | None = None,
        proxy_tunnel: bool = False,
        no_proxy: str | None = None,
        trust_env: bool = True,
        local_address: str | None = None,
        happy_eyeballs_delay: float | None = 0.25,
        connect_to: ConnectTo | None = None,
        expect_continue: bool | None = None,
        redirect_policy: RedirectPolicy = DEFAULT_POLICY,
        cookies: CookiesInput | None = None,
        retries: int | Retry | None = None,
        base_url: str | None = None,
        default_encoding: str | Callable[[bytes], str] | None = None,
    ) -> None:
        if max_redirects is not None and max_redirects < 0:
            raise ValueError("max_redirects must be >= 0 (or None: no limit)")
        self.timeout = Timeout.coerce(timeout)
        self.limits = limits
        self.verify = verify
        self.cert = cert
        self.follow_redirects = follow_redirects
        self.max_redirects = max_redirects
        self.redirect_policy = redirect_policy
        self.decode_content = decode_content
        self.trace = trace
        self.unix_socket = None if unix_socket is None else os.fspath(unix_socket)
        self.local_address = local_address
        self.happy_eyeballs_delay = happy_eyeballs_delay
        self.expect_continue = expect_continue
        self._cookies = CookieStore(cookies)
        self.retries = coerce_retries(retries)
        self.base_url = None if base_url is None else parse_url(base_url)
        if default_encoding is not None:
            check_encoding_option(default_encoding)
        self.default_encoding = default_encoding
        proxies, no_proxy = proxy_settings(proxy, no_proxy, trust_env)
        fields = _default_fields(headers, decode_content)
        credentials, flow = split_auth(auth) if auth is not None else (None, None)
        self._defaults = RequestDefaults(
            fields=fields,
            auth=credentials,
            flow=flow,
            retry=self.retries,
            base_url=self.base_url,
            timeout=self.timeout,
            follow_redirects=follow_redirects,
            trace=trace,
            on_head=head_hook(on_informational),
            expect_continue=expect_continue,
        )
        self._transport = Transport(
            max_connections=max_connections,
            keepalive_expiry=keepalive_expiry,
            verify=verify_from_env(verify, trust_env),
            cert=cert,
            limits=limits,
            decode=decode_content,
            unix_socket=self.unix_socket,
            proxies=proxies,
            no_proxy=no_proxy,
            proxy_tunnel=proxy_tunnel,
            local_address=local_address,
            happy_eyeballs_delay=happy_eyeballs_delay,
            heads=HeadCache(fields),
            cookies=self._cookies,
            default_encoding=default_encoding,
            connect_to=connect_to,
        )
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
        await self._transport.aclose()

    @property
    def cookies(self) -> CookieJar:
        """The Session's cookie jar (an ``http.cookiejar.CookieJar``)."""
        return self._cookies.jar

    @property
    def is_closed(self) -> bool:
        return self._closed

    @property
    def pool(self) -> PoolState:
        """How many connections are open (of ``max_connections``), idle and in use,
        and how many requests wait for one."""
        return self._transport.state

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        pool = self.pool
        return (
            f"<Session {state} connections={pool.connections}/{pool.max_connections} "
            f"idle={pool.idle} in_use={pool.in_use} waiting={pool.waiting}>"
        )

    # -- requests -----------------------------------------------------------

    @signature_with(RequestOptions)
    async def request(self, method: str, url: str, **options: Unpack[RequestOptions]) -> Response:
        """Send a request and return the response with its body read (and decoded).

        Options (all keyword-only, see :class:`rawhttp.RequestOptions`): ``params``,
        ``headers``, ``content`` (bytes, str, a binary file or an iterable of bytes),
        ``data`` (a form), ``json``, ``auth=(user, password)``, and per request
        ``timeout``, ``follow_redirects``, ``trace``, ``on_informational`` and
        ``expect_continue``, which override the Session's.
        """
        check_options("request", options)
        response = await self._send(build_request(self._defaults, method, url, options))
        await response.read()
        return response

    @signature_with(RequestOptions, returns="AbstractAsyncContextManager[Response]")
    @contextlib.asynccontextmanager
    async def stream(
        self, method: str, url: str, **options: Unpack[RequestOptions]
    ) -> AsyncIterator[Response]:
        """``async with s.stream(...) as r:`` gives the response with its body unread
        (options as :meth:`request`).

        Read it with ``async for chunk in r.iter_bytes()`` (decoded),
        ``r.iter_raw()`` (as received) or ``await r.read()``.  On leaving the
        block an unread body is not drained: the connection is closed.
        """
        check_options("stream", options)
        response = await self._send(build_request(self._defaults, method, url, options))
        try:
            yield response
        finally:
            await response.aclose()

    # -- the stack: each step returns the next one's awaitable when it has nothing to
    # do, so a request that needs no step costs no coroutine for it ----------------

    def _send(self, request: Request) -> Awaitable[Response]:
        """Redirects (when followed), then one URL's request."""
        if self._closed:
            raise Error("the session is closed")
        if not request.follow:
            return self._one_url(request)
        return send_following_redirects(
            request,
            self._one_url,
            max_redirects=self.max_redirects,
            policy=self.redirect_policy,
        )

    def _one_url(self, request: Request) -> Awaitable[Response]:
        """The auth flow (when one is set), then the retried request."""
        if request.flow is not None:
            from ._auth_step import send_with_auth  # imported by the first flow only

            return send_with_auth(request, self._retried)
        return self._retried(request)

    def _retried(self, request: Request) -> Awaitable[Response]:
        """Retries (when asked for), then the transport (cookies, the pool, one
        exchange)."""
        if request.retry is not None:
            from ._retries import send_with_retries  # imported by the first retry only

            return send_with_retries(request, self._transport.send)
        return self._transport.send(request)


def _default_fields(headers: HeadersInput | None, decode_content: bool) -> list[Any]:
    """User-Agent, Accept and Accept-Encoding unless ``headers`` replaces or removes
    them (a value of None removes one, like curl's ``-H "Accept:"``), then ``headers``
    (``"Host": None`` as :data:`NO_HOST`: no Host field at all)."""
    default_pairs = [("User-Agent", USER_AGENT), ("Accept", "*/*")]
    if decode_content:
        default_pairs.append(("Accept-Encoding", accept_encoding()))
    defaults = encode_fields(default_pairs)
    pairs = list(headers.items() if isinstance(headers, Mapping | Headers) else headers or ())
    removed = {str(name).lower() for name, value in pairs if value is None}
    own = encode_fields([(name, value) for name, value in pairs if value is not None])
    own_keys = {f.key for f in own} | removed
    if "host" in removed and not any(f.key == "host" for f in own):
        own.append(NO_HOST)  # no Host field at all (curl's -H "Host:")
    return [f for f in defaults if f.key not in own_keys] + own
