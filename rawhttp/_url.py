"""URL parsing for requests: scheme, host, port and a correctly encoded request target.

Only absolute ``http://`` and ``https://`` URLs are accepted.  Control
characters anywhere are refused; other characters that may not appear raw in
a request target (space, quotes, non-ASCII, ...) are percent-encoded as UTF-8.
Existing ``%XX`` escapes are kept as they are; a ``%`` not followed by two hex
digits is encoded as ``%25``.  Dot segments (``/a/../b``) are removed from the
path (RFC 3986 section 5.2.4).  The fragment is never sent.  Error messages show
a URL with its userinfo replaced by ``***`` (:func:`redact`): never a password.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

from ._exceptions import InvalidURL

__all__ = ["URL", "join_url", "parse_url", "redact", "remove_dot_segments"]

DEFAULT_PORTS = {"http": 80, "https": 443}

# RFC 3986: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://")
_SCHEME_COLON = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
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

    def with_userinfo(self) -> str:
        """``str(url)`` with the user name and password put back (percent-encoded):
        the URL to hand to a request that must carry the same credentials."""
        if self.username is None:
            return str(self)
        from urllib.parse import quote

        userinfo = quote(self.username, safe="")
        if self.password is not None:
            userinfo += ":" + quote(self.password, safe="")
        return f"{self.scheme}://{userinfo}@{self.host_header}{self.target}"


def redact(url: str) -> str:
    """``url`` for messages: the userinfo of its authority (``user:password@``)
    replaced by ``***@``.  Works on any text, valid URL or not."""
    if not isinstance(url, str):
        return url
    start = url.find("//")
    if start != -1:
        start += 2
    else:  # no authority marker: keep a leading "scheme:", hide what precedes an "@"
        m = _SCHEME_COLON.match(url)
        start = m.end() if m else 0
    end = len(url)
    for sep in "/?#":
        i = url.find(sep, start)
        if i != -1 and i < end:
            end = i
    at = url.rfind("@", start, end)
    if at == -1:
        return url
    return f"{url[:start]}***{url[at:]}"


def remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4: resolve ``.`` and ``..`` segments of an absolute path
    (``/a/b/../c/./d`` -> ``/a/c/d``; ``..`` never climbs above the root).  Only
    literal dots count: ``%2E`` is data, as in curl."""
    if "." not in path:
        return path
    segments = path.split("/")
    out: list[str] = []
    for segment in segments[1:-1]:
        if segment == "..":
            if out:
                out.pop()
        elif segment != ".":
            out.append(segment)
    last = segments[-1] if len(segments) > 1 else ""
    if last in (".", ".."):
        if last == ".." and out:
            out.pop()
        last = ""  # a final dot segment leaves the path ending in "/"
    out.append(last)
    return "/" + "/".join(out)


@functools.lru_cache(maxsize=256)
def parse_url(url: str) -> URL:
    """Parse an absolute http or https URL, or raise InvalidURL saying what is wrong
    (its ``reason``: "scheme", "host", "port", or "syntax" for the rest)."""
    if not isinstance(url, str):
        raise InvalidURL(f"URL must be a str, not {type(url).__name__}")
    shown = redact(url)  # what messages show: never the userinfo
    if _CONTROL.search(url):
        raise InvalidURL(f"URL contains a control character: {shown!r}")
    m = _SCHEME.match(url)
    if m is None:
        raise InvalidURL(f"URL must start with http:// or https://: {shown!r}")
    scheme = m.group(1).lower()
    if scheme not in DEFAULT_PORTS:
        raise InvalidURL(
            f"unsupported URL scheme {scheme!r} in {shown!r}", reason="scheme", scheme=scheme
        )
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
            decoded = True
        except UnicodeDecodeError:  # raised outside: its context would hold the password
            decoded = False
        if not decoded:
            raise InvalidURL(f"userinfo is not valid percent-encoded UTF-8: {shown!r}")
    host, port = _split_host_port(authority, scheme, shown)

    target = _encode(remove_dot_segments(path) if path else "/", _PATH_SAFE)
    if question:
        target += "?" + _encode(query, _QUERY_SAFE)
    if not target.startswith("/"):
        raise InvalidURL(f"invalid path in URL: {shown!r}")
    return URL(scheme, host, port, target, username, password)


def _split_host_port(authority: str, scheme: str, url: str) -> tuple[str, int]:
    """Host and port of an authority without userinfo; ``url`` (already redacted) is
    only for messages."""
    if authority.startswith("["):
        close = authority.find("]")
        if close == -1:
            raise InvalidURL(f"unterminated IPv6 address in URL: {url!r}", reason="host")
        literal, after = authority[1:close], authority[close + 1 :]
        import ipaddress  # only IPv6 literals need it

        try:
            address = ipaddress.IPv6Address(literal)
        except ValueError:
            raise InvalidURL(
                f"invalid IPv6 address {literal!r} in URL: {url!r}", reason="host"
            ) from None
        mapped = address.ipv4_mapped
        # RFC 5952 section 5: an IPv4-mapped address is written with its IPv4 part in
        # dotted form; Python 3.13 does so, 3.11 and 3.12 write hex groups.  Same on all.
        host = str(address) if mapped is None else f"::ffff:{mapped}"
        if "%" in literal:
            raise InvalidURL(f"IPv6 zone identifiers are not supported: {url!r}", reason="host")
        if after and not after.startswith(":"):
            raise InvalidURL(f"unexpected text after IPv6 address in URL: {url!r}")
        port_text = after[1:] if after else ""
    else:
        host, colon, port_text = authority.partition(":")
        if ":" in port_text:
            raise InvalidURL(f"IPv6 addresses must be in brackets: {url!r}", reason="host")
        host = _normalize_name(host, url)
        if not colon:
            port_text = ""
    if not port_text:
        return host, DEFAULT_PORTS[scheme]
    if not _PORT.fullmatch(port_text) or not 0 < int(port_text) <= 65535:
        raise InvalidURL(f"invalid port {port_text!r} in URL: {url!r}", reason="port")
    return host, int(port_text)


def _normalize_name(host: str, url: str) -> str:
    if not host:
        raise InvalidURL(f"URL has no host: {url!r}", reason="host")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidURL(
                f"host {host!r} cannot be IDNA-encoded: {url!r}", reason="host"
            ) from None
    host = host.lower()
    if not _REG_NAME.fullmatch(host):
        raise InvalidURL(f"invalid host {host!r} in URL: {url!r}", reason="host")
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


def join_url(base: URL, reference: str) -> URL:
    """A URL without a scheme joined to a ``base_url``: its path is appended to the
    base's path, taken as a directory (``http://h/api`` and ``users?x=1`` or
    ``/users?x=1`` give ``http://h/api/users?x=1``), as httpx does; the base's query
    is dropped.  The base's userinfo is kept."""
    path = base.target.partition("?")[0]
    if not path.endswith("/"):
        path += "/"
    text = base.with_userinfo()
    origin = text[: len(text) - len(base.target)]  # scheme://[userinfo@]host[:port]
    return parse_url(origin + path + reference.lstrip("/"))
