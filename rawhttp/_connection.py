"""Connections: where a socket is opened (:mod:`rawhttp._open`) and closed, the
connect timeout applied, the addresses of both ends recorded, and where reuse is
decided (:meth:`Connection.reusable`)."""

from __future__ import annotations

import asyncio
import itertools
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any

from ._config import DEFAULT_LIMITS, Limits
from ._exceptions import ConnectError, ConnectTimeout, translate
from ._open import open_connection, open_unix_connection, start_tls
from ._protocol import Writer
from ._proxy import Proxy
from ._reader import Reader
from ._timings import Timings
from ._tunnel import open_tunnel
from ._url import URL

__all__ = ["Address", "ConnState", "Connection", "PoolKey"]

Address = tuple[str, int]
"""An IP address (as text, IPv6 without brackets) and a port."""

PoolKey = tuple[str, str, int, object]
"""(scheme, host, port, TLS configuration and proxy): connections are shared only
within one key.  Plain http through a proxy uses ("http-proxy", proxy host, proxy
port, credentials): one such connection carries requests for any origin."""

_ids = itertools.count(1)


class ConnState(Enum):
    """Where a connection is in its life.  ACTIVE: carrying a request (or being
    handed to one); IDLE: in the pool, waiting for the next; CLOSED: for good."""

    ACTIVE = "active"
    IDLE = "idle"
    CLOSED = "closed"


_IDLE, _CLOSED = ConnState.IDLE, ConnState.CLOSED  # module constants: read per request


class Connection:
    """One HTTP/1.1 connection: its :class:`Reader` and :class:`Writer`, and its
    bookkeeping."""

    __slots__ = (
        "addresses",
        "id",
        "idle_since",
        "keep_alive",
        "key",
        "label",
        "on_close",
        "reader",
        "requests",
        "state",
        "writer",
    )

    def __init__(
        self,
        reader: Reader,
        writer: Writer,
        key: PoolKey,
        label: str,
    ) -> None:
        self.id = next(_ids)
        self.on_close: Callable[[], None] | None = None
        """Called once when the connection closes (a traced request reports it)."""
        self.reader = reader
        self.writer = writer
        self.key = key
        self.label = label
        self.requests = 0
        self.idle_since = 0.0
        self.state = ConnState.ACTIVE
        self.keep_alive = True
        """False once an exchange ended in a way that forbids another: either side said
        ``Connection: close``, or the last response's body was not read to its end."""
        self.addresses: tuple[Address | None, Address | None] = (None, None)
        """(the address connected to: the server's or the proxy's; our end's), recorded
        once when the connection opened; None for a Unix socket.  One tuple, so each
        response takes both with one store."""

    def connect_data(self) -> bytes:
        """The data of the ``"connect"`` trace event: ``b"<ip> <port>"`` of the address
        connected to, empty for a Unix socket."""
        remote = self.addresses[0]
        return b"" if remote is None else f"{remote[0]} {remote[1]}".encode("ascii", "replace")

    @classmethod
    async def open(
        cls,
        url: URL,
        key: PoolKey,
        *,
        ssl_context: ssl.SSLContext | None,
        deadline: float | None,
        unix_socket: str | None = None,
        proxy: Proxy | None = None,
        tunnel: bool = False,
        local_address: str | None = None,
        happy_eyeballs_delay: float | None = None,
        limits: Limits = DEFAULT_LIMITS,
        timings: Timings | None = None,
        connect_to: Address | None = None,
    ) -> Connection:
        """Open a connection for ``url``, all of it before ``deadline``:

        1. TCP to the URL's host and port (or to ``connect_to``, a host and port
           standing in for them), to the ``proxy``, or to the Unix domain socket
           ``unix_socket`` (the URL then gives only Host and target);
        2. through a proxy, for https (for http too with ``tunnel``, curl's
           ``--proxytunnel``): the CONNECT tunnel to the URL's host and port;
        3. with ``ssl_context``: the TLS handshake, checking the URL's host name.

        ``timings.connect`` gets steps 1-2 and ``timings.tls`` step 3.
        """
        started = time.monotonic()
        tls = ssl_context is not None
        label = f"{url.scheme}://{url.host_header}"
        with translate(ConnectError, ConnectTimeout):  # the deadline covers all three steps
            async with asyncio.timeout_at(deadline):
                if unix_socket is not None:
                    label += f" via {unix_socket}"
                    reader, writer = await open_unix_connection(unix_socket)
                elif proxy is None:
                    host, port = (url.host, url.port) if connect_to is None else connect_to
                    if connect_to is not None:
                        label += f" via [{host}]:{port}" if ":" in host else f" via {host}:{port}"
                    reader, writer = await _open_tcp(
                        host, port, local_address, happy_eyeballs_delay
                    )
                else:
                    label += f" via {proxy.url}"
                    reader, writer = await _open_proxy(proxy, local_address, happy_eyeballs_delay)
                try:
                    if proxy is not None and (tls or tunnel) and unix_socket is None:
                        await open_tunnel(reader, writer, url, proxy, limits)
                    connected = time.monotonic()
                    if ssl_context is not None:
                        with translate(ConnectError, ConnectTimeout, tls=True):
                            await start_tls(writer, ssl_context, url.host)
                except BaseException:
                    writer.transport.abort()
                    raise
        if timings is not None:
            timings.connect = connected - started
            if tls:
                timings.tls = time.monotonic() - connected
        conn = cls(reader, writer, key, label)
        if unix_socket is None:
            conn.addresses = (
                _address(writer.get_extra_info("peername")),
                _address(writer.get_extra_info("sockname")),
            )
        return conn

    def park(self, now: float) -> None:
        """Into the pool: idle from ``now``, its receive buffer back to its first size."""
        self.state = ConnState.IDLE
        self.idle_since = now
        self.reader.relax()

    def take(self) -> None:
        """Out of the pool (or handed straight on): carrying a request."""
        self.state = ConnState.ACTIVE

    def end_exchange(self, complete: bool, keep_alive: bool) -> None:
        """The response of the request on this connection ended: ``complete`` when its
        body was read to its end, ``keep_alive`` when neither side said close (HTTP/1.0
        said keep-alive).  What the next :meth:`reusable` decides on."""
        self.keep_alive = self.keep_alive and complete and keep_alive

    def reusable(self, now: float, keepalive_expiry: float | None) -> bool:
        """The one place reuse is decided (RFC 9112 section 9.3): may this connection
        carry another request?  Asked when an exchange ends and again before an idle
        connection is reused.  No once it is closed, when its last exchange said so
        (:meth:`end_exchange`), when it idled longer than ``keepalive_expiry``, and when
        the server closed or reset it or sent bytes nobody asked for (a stale or
        misbehaving connection: its next response could not be trusted).
        """
        state = self.state
        if state is _CLOSED or not self.keep_alive:
            return False
        if (
            state is _IDLE
            and keepalive_expiry is not None
            and now - self.idle_since > keepalive_expiry
        ):
            return False
        reader = self.reader
        return not (
            reader.eof
            or reader.buffered
            or reader.exception() is not None
            or self.writer.transport.is_closing()
        )

    def close(self) -> None:
        """Close at once, without waiting (safe in ``finally`` and on cancellation).

        TLS connections are aborted rather than shut down with close_notify:
        HTTP/1.1 messages are already delimited, and an abort closes the socket
        on the next loop iteration instead of after a round trip to the server.
        """
        if self.state is ConnState.CLOSED:
            return
        self.state = ConnState.CLOSED
        transport = self.writer.transport
        if transport.get_extra_info("sslcontext") is not None:
            transport.abort()
        else:
            transport.close()
        # The socket is closed first: a hook that raises cannot leave it open.
        on_close, self.on_close = self.on_close, None
        if on_close is not None:
            on_close()

    def __repr__(self) -> str:
        return f"<Connection {self.label} {self.state.value} requests={self.requests}>"


def _address(info: object) -> Address | None:
    """(host, port) of a socket address as asyncio gives it (IPv4: a pair, IPv6: four
    items); None for anything else."""
    if isinstance(info, tuple) and len(info) >= 2:
        host, port = info[0], info[1]
        if isinstance(host, str) and isinstance(port, int):
            return host, port
    return None


async def _open_tcp(
    host: str, port: int, local_address: str | None, happy_eyeballs_delay: float | None
) -> tuple[Reader, Writer]:
    """The one place a TCP connection is opened.  An IP address is connected to
    directly; a name is resolved and its addresses tried as RFC 8305 describes
    (see :func:`_connect_race`), and the winning socket handed to
    :func:`rawhttp._open.open_connection`."""
    local_addr = None if local_address is None else (local_address, 0)
    if _is_ip(host):
        return await open_connection(host, port, local_addr=local_addr)
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    if local_address is not None:  # only addresses of the local address's family can work
        family = socket.AF_INET6 if ":" in local_address else socket.AF_INET
        infos = [info for info in infos if info[0] == family]
        if not infos:
            raise ConnectError(f"{host} has no address of the family of {local_address}")
    sock = await _connect_race(_interleave(infos), happy_eyeballs_delay, local_addr)
    return await open_connection(sock=sock)


AddrInfo = tuple[int, int, int, str, tuple[Any, ...]]


def _interleave(infos: Sequence[AddrInfo]) -> list[AddrInfo]:
    """Addresses in resolver order, alternating families (RFC 8305 section 4)."""
    first = infos[0][0] if infos else None
    same = [info for info in infos if info[0] == first]
    other = [info for info in infos if info[0] != first]
    mixed: list[AddrInfo] = []
    for i in range(max(len(same), len(other))):
        mixed.extend(group[i] for group in (same, other) if i < len(group))
    return mixed


async def _connect_race(
    infos: list[AddrInfo], delay: float | None, local_addr: tuple[str, int] | None
) -> socket.socket:
    """Connect to the first address that answers.  A new attempt starts when the
    previous one failed or after ``delay`` seconds (None: only after a failure);
    the first to connect wins and every other attempt is cancelled and closed."""
    loop = asyncio.get_running_loop()
    errors: list[OSError] = []
    attempts: set[asyncio.Task[socket.socket]] = set()

    async def attempt(info: AddrInfo) -> socket.socket:
        family, type_, proto, _, address = info
        sock = socket.socket(family, type_, proto)
        try:
            sock.setblocking(False)
            if local_addr is not None:
                sock.bind(local_addr)
            await loop.sock_connect(sock, address)
        except BaseException:
            sock.close()
            raise
        return sock

    def finished() -> socket.socket | None:
        for task in [t for t in attempts if t.done()]:
            attempts.discard(task)
            exc = task.exception()
            if exc is None:
                return task.result()
            if not isinstance(exc, OSError):
                raise exc
            errors.append(exc)
        return None

    try:
        pending = list(infos)
        while pending or attempts:
            if pending:
                attempts.add(loop.create_task(attempt(pending.pop(0))))
            wait = delay if pending else None
            await asyncio.wait(attempts, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            sock = finished()
            if sock is not None:
                return sock
    finally:
        for task in attempts:  # losers, or every attempt when we were cancelled
            task.cancel()
            task.add_done_callback(_close_result)
    if len(errors) == 1:
        raise errors[0]
    raise OSError(f"all {len(errors)} addresses failed: " + "; ".join(map(str, errors)))


def _close_result(task: asyncio.Task[socket.socket]) -> None:
    if not task.cancelled() and task.exception() is None:
        task.result().close()


def _is_ip(host: str) -> bool:
    if ":" in host:
        return True  # URL hosts with a colon are IPv6 literals
    parts = host.split(".")
    return len(parts) == 4 and all(p.isdigit() for p in parts)


async def _open_proxy(
    proxy: Proxy, local_address: str | None, happy_eyeballs_delay: float | None
) -> tuple[Reader, Writer]:
    """TCP to the proxy; a failure names the proxy rather than the origin."""
    try:
        with translate(ConnectError, ConnectTimeout):
            return await _open_tcp(proxy.host, proxy.port, local_address, happy_eyeballs_delay)
    except ConnectError as exc:
        raise ConnectError(
            f"cannot connect to proxy {proxy.url}: {exc}", reason=exc.reason, proxy=proxy.url
        ) from exc
