"""URL parsing for requests: scheme, host, port and a correctly encoded request target.

Only absolute ``http://`` and ``https://`` URLs are accepted.  Control
characters anywhere are refused; other characters that may not appear raw in
a request target (space, quotes, non-ASCII, ...) are percent-encoded as UTF-8.
Existing ``%XX`` escapes are kept as they are; a ``%`` not followed by two hex
digits is encoded as ``%25``.  The fragment is never sent.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

from ._exceptions import InvalidURL

__all__ = ["URL", "parse_url"]

DEFAULT_PORTS = {"http": 80, "https": 443}

# RFC 3986: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://")
# C0 controls, DEL: never allowed anywhere in a URL we send.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# port = *DIGIT (RFC 3986); we also bound it to 1..65535 below.
_PORT = re.compile(r"[0-9]{1,5}")
# A DNS-style host after IDNA: letters, digits, '-', '_' in dot-separated labels, optional final dot.
_REG_NAME = re.compile(r"[a-z0-9_\-]{1,63}(?:\.[a-z0-9_\-]{1,63})*\.?")
# pchar = unreserved / pct-encoded / sub-delims / ":" / "@"; path adds "/", query adds "/" and "?".
_PATH_SAFE = frozenset(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/"
)
_QUERY_SAFE = _PATH_SAFE | frozenset(b"?")
_HEX = frozenset(b"0123456789ABCDEFabcdef")


class URL(NamedTuple):
    """A parsed absolute http(s) URL.  ``str(url)`` leaves out any userinfo.

    ``host`` is ASCII: a lower-case name (IDNA-encoded), an IPv4 or an IPv6
    address (no brackets).  ``target`` is the origin-form request target: the
    encoded path, and ``?query`` if there is one.
    """

    scheme: str
    host: str
    port: int
    target: str
    username: str | None = None
    password: str | None = None

    @property
    def is_ipv6(self) -> bool:
        return ":" in self.host

    @property
    def host_header(self) -> str:
        """The Host header value: host, bracketed if IPv6, with the port if not the default."""
        host = f"[{self.host}]" if self.is_ipv6 else self.host
        if self.port != DEFAULT_PORTS[self.scheme]:
            return f"{host}:{self.port}"
        return host

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host_header}{self.target}"


@functools.lru_cache(maxsize=256)
def parse_url(url: str) -> URL:
    """Parse an absolute http or https URL, or raise InvalidURL saying what is wrong."""
    if not isinstance(url, str):
        raise InvalidURL(f"URL must be a str, not {type(url).__name__}")
    if _CONTROL.search(url):
        raise InvalidURL(f"URL contains a control character: {url!r}")
    m = _SCHEME.match(url)
    if m is None:
        raise InvalidURL(f"URL must start with http:// or https://: {url!r}")
    scheme = m.group(1).lower()
    if scheme not in DEFAULT_PORTS:
        raise InvalidURL(f"unsupported URL scheme {scheme!r} in {url!r}")
    rest = url[m.end() :]
    end = len(rest)
    for sep in "/?#":
        i = rest.find(sep)
        if i != -1 and i < end:
            end = i
    authority, rest = rest[:end], rest[end:]
    rest = rest.partition("#")[0]
    path, question, query = rest.partition("?")

    username = password = None
    if "@" in authority:
        userinfo, _, authority = authority.rpartition("@")
        user, colon, pw = userinfo.partition(":")
        from urllib.parse import unquote  # only URLs with credentials need it

        try:
            username = unquote(user, errors="strict") if user or colon else None
            password = unquote(pw, errors="strict") if colon else None
        except UnicodeDecodeError:
            raise InvalidURL(f"userinfo is not valid percent-encoded UTF-8: {url!r}") from None
    host, port = _split_host_port(authority, scheme, url)

    target = _encode(path or "/", _PATH_SAFE)
    if question:
        target += "?" + _encode(query, _QUERY_SAFE)
    if not target.startswith("/"):
        raise InvalidURL(f"invalid path in URL: {url!r}")
    return URL(scheme, host, port, target, username, password)


def _split_host_port(authority: str, scheme: str, url: str) -> tuple[str, int]:
    if authority.startswith("["):
        close = authority.find("]")
        if close == -1:
            raise InvalidURL(f"unterminated IPv6 address in URL: {url!r}")
        literal, after = authority[1:close], authority[close + 1 :]
        import ipaddress  # only IPv6 literals need it

        try:
            host = str(ipaddress.IPv6Address(literal))
        except ValueError:
            raise InvalidURL(f"invalid IPv6 address {literal!r} in URL: {url!r}") from None
        if "%" in literal:
            raise InvalidURL(f"IPv6 zone identifiers are not supported: {url!r}")
        if after and not after.startswith(":"):
            raise InvalidURL(f"unexpected text after IPv6 address in URL: {url!r}")
        port_text = after[1:] if after else ""
    else:
        host, colon, port_text = authority.partition(":")
        if ":" in port_text:
            raise InvalidURL(f"IPv6 addresses must be in brackets: {url!r}")
        host = _normalize_name(host, url)
        if not colon:
            port_text = ""
    if not port_text:
        return host, DEFAULT_PORTS[scheme]
    if not _PORT.fullmatch(port_text) or not 0 < int(port_text) <= 65535:
        raise InvalidURL(f"invalid port {port_text!r} in URL: {url!r}")
    return host, int(port_text)


def _normalize_name(host: str, url: str) -> str:
    if not host:
        raise InvalidURL(f"URL has no host: {url!r}")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidURL(f"host {host!r} cannot be IDNA-encoded: {url!r}") from None
    host = host.lower()
    if not _REG_NAME.fullmatch(host):
        raise InvalidURL(f"invalid host {host!r} in URL: {url!r}")
    return host


def _encode(text: str, safe: frozenset[int]) -> str:
    """Percent-encode every byte outside ``safe``, keeping valid %XX escapes."""
    raw = text.encode("utf-8", "surrogatepass")
    if all(b in safe for b in raw) and b"%" not in raw:
        return text
    out = []
    n = len(raw)
    i = 0
    while i < n:
        b = raw[i]
        if b in safe:
            out.append(chr(b))
        elif b == 0x25 and i + 2 < n and raw[i + 1] in _HEX and raw[i + 2] in _HEX:
            out.append(raw[i : i + 3].decode("ascii"))
            i += 3
            continue
        else:
            out.append(f"%{b:02X}")
        i += 1
    return "".join(out)
