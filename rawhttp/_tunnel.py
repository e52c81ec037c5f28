"""The CONNECT exchange that opens a tunnel through an HTTP proxy (RFC 9110 9.3.6)."""

from __future__ import annotations

from ._config import Limits
from ._exceptions import ProtocolError, ProxyError
from ._http11 import read_section
from ._parse import parse_status_line
from ._protocol import Writer
from ._proxy import Proxy
from ._reader import Reader
from ._url import URL

__all__ = ["connect_request", "open_tunnel"]


def connect_request(url: URL, proxy: Proxy) -> bytes:
    """``CONNECT host:port HTTP/1.1`` with its Host header (authority-form, IPv6
    bracketed) and the proxy's credentials, if any: the only place they are sent."""
    authority = _authority(url).encode("ascii")
    head = b"CONNECT " + authority + b" HTTP/1.1\r\nHost: " + authority + b"\r\n"
    if proxy.authorization is not None:
        head += b"Proxy-Authorization: " + proxy.authorization + b"\r\n"
    return head + b"\r\n"


async def open_tunnel(
    reader: Reader,
    writer: Writer,
    url: URL,
    proxy: Proxy,
    limits: Limits,
) -> None:
    """Ask ``proxy`` for a tunnel to ``url``'s host and port.  Returns once the
    proxy answered 2xx: from the byte after its empty line the stream is the
    tunnel (a Content-Length or Transfer-Encoding on that reply is ignored, as
    RFC 9110 says).  Anything else raises :class:`ProxyError`.  The caller
    bounds the whole exchange with the connect timeout."""
    writer.write(connect_request(url, proxy))
    await writer.drain()
    where = f"proxy {proxy.url} (CONNECT {_authority(url)})"
    status = None
    interim = 0
    try:
        while True:
            try:
                line = await reader.readline(limits.max_status_line + 1)
            except ProtocolError:  # longer than that: malformed all the same
                line = reader.peek(80)
            if not line:
                raise ProxyError(f"{where} closed the connection without replying")
            if not line.endswith(b"\n") or len(line) > limits.max_status_line:
                raise ProxyError(f"{where} sent a malformed reply: {line[:80]!r}")
            _, code, reason = parse_status_line(line)
            await read_section(reader, limits, "header")
            status = code  # only a complete reply has a status
            if status >= 200:
                break
            interim += 1  # 1xx interim replies before the real answer are skipped
            if interim > limits.max_informational:
                raise ProxyError(f"{where} sent more than {limits.max_informational} 1xx replies")
    except ProtocolError as exc:
        raise ProxyError(f"{where} sent an invalid reply: {exc}") from exc
    if not 200 <= status < 300:
        raise ProxyError(f"{where} refused the tunnel: {status} {reason}".rstrip(), status=status)
    if reader.buffered:
        # TLS has not started yet: such bytes would be read as if the origin had sent them.
        raise ProxyError(f"{where} sent bytes after its {status} reply", status=status)


def _authority(url: URL) -> str:
    """``host:port`` with the port always given and an IPv6 address bracketed."""
    host = f"[{url.host}]" if url.is_ipv6 else url.host
    return f"{host}:{url.port}"
