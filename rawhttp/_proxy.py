"""Proxy selection from the environment: pure functions, no I/O.

The Session reads ``http_proxy``/``https_proxy``/``all_proxy`` and ``no_proxy``
with :func:`env_proxy` and :func:`env_no_proxy`, asks :func:`bypass_proxy`
whether a request's host is exempt, and turns a proxy URL into a
:class:`Proxy` with :func:`parse_proxy`.  Only plain ``http://`` proxies are
supported; the matching rules follow curl's documentation of ``NO_PROXY``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

from ._exceptions import InvalidURL
from ._url import _SCHEME, _split_host_port

if TYPE_CHECKING:
    from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

__all__ = ["Proxy", "bypass_proxy", "env_no_proxy", "env_proxy", "parse_proxy"]

DEFAULT_PROXY_PORT = 1080  # curl's default when the proxy URL has no port
# C0 controls, space and DEL: never valid anywhere in a proxy URL.
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")
# Separators in a no_proxy list: commas and/or whitespace.
_NO_PROXY_SEP = re.compile(r"[,\s]+")


class Proxy(NamedTuple):
    """An http proxy: where to connect and what Proxy-Authorization to send."""

    host: str  # lower-case, IDNA-encoded name or IP address; IPv6 without brackets
    port: int
    authorization: bytes | None  # e.g. b"Basic dXNlcjpwYXNz", None without credentials
    url: str  # "http://host:port" without credentials, for messages and logs


def parse_proxy(value: str) -> Proxy:
    """Parse a proxy URL such as ``http://user:pass@host:3128`` or ``host:3128``.

    A missing scheme means ``http://`` and a missing port means 1080, as in
    curl.  Raise InvalidURL for anything else than an http proxy authority with
    an optional trailing ``/``.  Messages never show the credentials.
    """
    m = _SCHEME.match(value)
    scheme = m.group(1).lower() if m else "http"
    rest = value[m.end() :] if m else value
    end = min((i for i in map(rest.find, "/?#") if i != -1), default=len(rest))
    authority, tail = rest[:end], rest[end:]
    userinfo, at, hostport = authority.rpartition("@")
    shown = f"{m.group(0) if m else ''}{'***@' if at else ''}{hostport}{tail}"  # no credentials
    if _CONTROL_OR_SPACE.search(value):
        raise InvalidURL(f"proxy URL contains a control character or space: {shown!r}")
    if scheme != "http":
        raise InvalidURL(f"only http:// proxies are supported, not {scheme}://: {shown!r}")
    if tail not in ("", "/"):
        raise InvalidURL(f"proxy URL must not have a path, query or fragment: {shown!r}")
    host, port = _split_host_port(hostport, "http", shown)
    if not _has_port(hostport):
        port = DEFAULT_PROXY_PORT
    authorization = _basic_authorization(userinfo, shown) if userinfo else None
    bracketed = f"[{host}]" if ":" in host else host
    return Proxy(host, port, authorization, f"http://{bracketed}:{port}")


def _has_port(hostport: str) -> bool:
    """Whether ``host:port`` / ``[v6]:port`` names a non-empty port."""
    after = hostport.rpartition("]")[2] if hostport.startswith("[") else hostport
    return after.partition(":")[2] != ""


def _basic_authorization(userinfo: str, shown: str) -> bytes:
    """The Basic Proxy-Authorization value for percent-encoded ``user[:password]``."""
    import base64
    from urllib.parse import unquote_to_bytes

    user, _, password = userinfo.partition(":")
    user_bytes = unquote_to_bytes(user)
    if b":" in user_bytes:  # RFC 7617: a user-id containing a colon is invalid
        raise InvalidURL(f"proxy user name must not contain ':': {shown!r}")
    credentials = user_bytes + b":" + unquote_to_bytes(password)
    return b"Basic " + base64.b64encode(credentials)


def env_proxy(scheme: str, environ: Mapping[str, str]) -> str | None:
    """The proxy URL the environment sets for ``scheme`` ("http" or "https"), unparsed.

    Lower-case names win over upper-case ones, the scheme's own variable over
    ``all_proxy``; empty values count as unset.  ``HTTP_PROXY`` is ignored when
    ``REQUEST_METHOD`` is set: in a CGI program a client can set it with a
    ``Proxy:`` request header ("httpoxy").
    """
    if scheme not in ("http", "https"):
        raise ValueError(f"scheme must be 'http' or 'https', not {scheme!r}")
    upper = f"{scheme.upper()}_PROXY"
    if upper == "HTTP_PROXY" and "REQUEST_METHOD" in environ:
        return _first_set(("http_proxy", "all_proxy", "ALL_PROXY"), environ)
    return _first_set((f"{scheme}_proxy", upper, "all_proxy", "ALL_PROXY"), environ)


def env_no_proxy(environ: Mapping[str, str]) -> str | None:
    """The ``no_proxy`` (then ``NO_PROXY``) list, or None when unset or empty."""
    return _first_set(("no_proxy", "NO_PROXY"), environ)


def _first_set(names: tuple[str, ...], environ: Mapping[str, str]) -> str | None:
    for name in names:
        value = environ.get(name)
        if value and not value.isspace():
            return value
    return None


class _Rule(NamedTuple):
    """One parsed no_proxy entry.  Exactly one of name, address, network is set."""

    name: str | None  # a domain: matches itself and its subdomains
    address: IPv4Address | IPv6Address | None
    network: IPv4Network | IPv6Network | None
    port: int | None  # None: any port


def bypass_proxy(host: str, port: int, no_proxy: str) -> bool:
    """Whether ``host:port`` must be reached directly according to ``no_proxy``.

    ``host`` is as in a parsed URL: lower-case, IDNA ASCII, IPv6 without brackets.
    Entries are separated by commas and/or whitespace and compared without
    regard to case.  ``*`` matches every host.  A name matches itself and its
    subdomains (a leading ``.`` changes nothing, trailing dots are ignored).
    IP addresses match exactly and CIDR networks match the addresses inside;
    neither ever matches a name.  ``entry:port`` / ``[v6]:port`` matches only
    that port.  Entries that cannot be understood are ignored.
    """
    rules = _parse_no_proxy(no_proxy)
    if rules is None:
        return True
    if not rules:
        return False
    host = host.lower().strip("[]").rstrip(".")
    address = _ip_address(host)
    for rule in rules:
        if rule.port is not None and rule.port != port:
            continue
        if address is None:
            if rule.name is not None and (host == rule.name or host.endswith("." + rule.name)):
                return True
        elif rule.address is not None:
            if rule.address == address:
                return True
        elif rule.network is not None and address in rule.network:
            return True
    return False


@functools.lru_cache(maxsize=32)
def _parse_no_proxy(no_proxy: str) -> tuple[_Rule, ...] | None:
    """The rules of a no_proxy list; None when it contains ``*`` (match everything)."""
    rules: list[_Rule] = []
    for entry in _NO_PROXY_SEP.split(no_proxy.lower()):
        if entry == "*":
            return None
        rule = _parse_entry(entry) if entry else None
        if rule is not None:
            rules.append(rule)
    return tuple(rules)


def _parse_entry(entry: str) -> _Rule | None:
    """Parse one lower-case no_proxy entry, or return None to ignore it."""
    target, port_text = _split_entry_port(entry)
    port: int | None = None
    if port_text is not None:
        if not port_text.isascii() or not port_text.isdigit() or not 0 < int(port_text) <= 65535:
            return None
        port = int(port_text)
    if "/" in target:
        network = _ip_network(target)
        return None if network is None else _Rule(None, None, network, port)
    address = _ip_address(target)
    if address is not None:
        return _Rule(None, address, None, port)
    name = _entry_name(target)
    return None if name is None else _Rule(name, None, None, port)


def _split_entry_port(entry: str) -> tuple[str, str | None]:
    """Split ``host:port``, ``[v6]:port`` and ``[v6]`` entries; bare IPv6 has no port."""
    if entry.startswith("["):
        inside, close, after = entry[1:].partition("]")
        if not close:
            return entry, None  # unterminated: left to fail as a name
        if after.startswith(":"):
            return inside, after[1:]
        return inside + after, None  # "[::1]" or "[::1]/128"
    if entry.count(":") == 1:
        host, _, port_text = entry.partition(":")
        return host, port_text
    return entry, None


def _entry_name(target: str) -> str | None:
    """A name entry as it compares with hosts: no leading/trailing dot, IDNA ASCII."""
    name = target.removeprefix(".").rstrip(".")
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return name or None


def _ip_address(text: str) -> IPv4Address | IPv6Address | None:
    import ipaddress

    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _ip_network(text: str) -> IPv4Network | IPv6Network | None:
    import ipaddress

    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
