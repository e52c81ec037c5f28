"""The redirect rules (RFC 9110 section 15.4), as pure functions over URLs and
methods: :func:`next_hop` is the one policy, asked by the Session's redirect step
(:mod:`rawhttp._redirects`) whether a response is followed, where to, with which
method, and what the next request keeps (its body, credentials, a Host header);
:func:`referer` gives the Referer a followed redirect may carry.
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

from ._exceptions import InvalidURL
from ._url import URL, parse_url, redact

__all__ = [
    "CONTENT_HEADERS",
    "CREDENTIAL_HEADERS",
    "REDIRECT_STATUSES",
    "Hop",
    "RedirectPolicy",
    "keeps_credentials",
    "next_hop",
    "redirect_location",
    "redirect_method",
    "referer",
    "resolve_location",
]

_HAS_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})
CONTENT_HEADERS: Final = frozenset(
    {"content-length", "content-type", "transfer-encoding", "content-encoding"}
)
"""Dropped with the body when a redirect turns the request into a GET."""
CREDENTIAL_HEADERS: Final = frozenset({"authorization", "cookie", "proxy-authorization"})
"""Dropped when a redirect leaves the origin."""


class RedirectPolicy(NamedTuple):
    """How redirects are followed, beyond ``follow_redirects`` and ``max_redirects``.

    The defaults are what browsers and RFC 9110 do.  ``keep_post`` names statuses
    among 301, 302 and 303 after which a POST stays a POST and keeps its body (curl's
    ``--post301``, ``--post302``, ``--post303``).  ``method`` is a method sent on
    every request of the chain whatever the redirect rules say (curl's ``-X`` with
    ``-L``); the rules then treat a request with a body as the POST it stands for,
    as curl does.  With ``referer`` each request a redirect asks for carries
    ``Referer:`` the URL that redirected (without its userinfo and fragment), in place
    of any Referer the first request had; none after a redirect from https to http
    (RFC 9110 section 10.1.3): curl's ``--referer ";auto"``."""

    keep_post: frozenset[int] = frozenset()
    method: str | None = None
    referer: bool = False


DEFAULT_POLICY: Final = RedirectPolicy()


class Hop(NamedTuple):
    """The request that follows a redirect."""

    url: URL
    """Where to: the Location resolved against the current URL (its userinfo, if
    any, kept in ``url.username``/``url.password``)."""
    method: str
    drop_body: bool
    """The body, and with it the content headers, is not sent again."""
    same_origin: bool
    """Same scheme, host and port: a caller's Host header still applies."""
    keep_credentials: bool
    """Authorization, Cookie and Proxy-Authorization may be sent to the new URL."""


def redirect_location(status: int, location: str | None) -> str | None:
    """The Location a response redirects to, or None when it is not a redirect to
    follow: not 301/302/303/307/308, or no Location, or an empty one (then the 3xx
    is the final response, as curl does)."""
    if status not in REDIRECT_STATUSES or location is None:
        return None
    location = location.strip(" \t")
    return location or None


def next_hop(
    current: URL,
    method: str,
    status: int,
    location: str | None,
    *,
    keep_post: frozenset[int] = frozenset(),
) -> Hop | None:
    """The request to send after a response with ``status`` and ``location`` to a
    ``method`` request for ``current``, or None when the response is final.

    ``keep_post`` names statuses among 301, 302 and 303 after which a POST stays a
    POST with its body (curl's ``--post301``/``--post302``/``--post303``).  Raises
    InvalidURL for a Location that is not a valid http(s) URL.
    """
    found = redirect_location(status, location)
    if found is None:
        return None
    new = resolve_location(current, found)
    new_method = (
        method if status in keep_post and method == "POST" else redirect_method(status, method)
    )
    drop_body = new_method != method and new_method == "GET"
    return Hop(
        url=new,
        method=new_method,
        drop_body=drop_body,
        same_origin=new.origin == current.origin,
        keep_credentials=keeps_credentials(current, new),
    )


def redirect_method(status: int, method: str) -> str:
    """The method of the next request: 303 turns anything but HEAD into GET, and
    301/302 turn POST into GET (what browsers and other clients do); 307/308 keep it."""
    if status == 303 and method != "HEAD":
        return "GET"
    if status in (301, 302) and method == "POST":
        return "GET"
    return method


def keeps_credentials(old: URL, new: URL) -> bool:
    """Credentials may follow a redirect to the same origin, or from http to https on
    the same host with the default ports (an upgrade, not a change of server)."""
    if old.origin == new.origin:
        return True
    return (
        old.host == new.host
        and old.scheme == "http"
        and new.scheme == "https"
        and old.port == 80
        and new.port == 443
    )


def referer(current: URL, new: URL) -> str | None:
    """The Referer of the request for ``new`` after ``current`` redirected to it: the
    URL of ``current`` (``str(URL)`` has no userinfo, a URL keeps no fragment), or
    None from https to http, where RFC 9110 section 10.1.3 forbids sending one."""
    if current.scheme == "https" and new.scheme != "https":
        return None
    return str(current)


def resolve_location(current: URL, location: str) -> URL:
    """The absolute URL a Location header points to, resolved against ``current``
    (RFC 3986 section 5.2; dot segments removed by :func:`parse_url`).

    Header values arrive as latin-1 text (one character per byte).  A Location sent
    as raw UTF-8 bytes (not percent-encoded, as many servers do) is read as UTF-8, so
    each byte is percent-encoded once; bytes that are not UTF-8 are percent-encoded
    as they are."""
    from urllib.parse import urljoin  # only redirects need it

    location = _as_sent(location.strip())
    try:
        if _HAS_SCHEME.match(location):  # absolute: parse as given ("http://" is an error)
            return parse_url(location)
        return parse_url(urljoin(current.with_userinfo(), location))
    except (InvalidURL, ValueError) as exc:
        url_error = exc if isinstance(exc, InvalidURL) else None
        raise InvalidURL(
            f"redirect to an invalid or unsupported URL {redact(location)!r}: {exc}",
            reason=url_error.reason if url_error is not None else "syntax",
            scheme=url_error.scheme if url_error is not None else None,
        ) from None


def _as_sent(value: str) -> str:
    """A latin-1-decoded header value as the text its bytes mean: UTF-8 when they are
    valid UTF-8, else with every non-ASCII byte percent-encoded."""
    if value.isascii():
        return value
    raw = value.encode("latin-1", "replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return "".join(chr(b) if b < 0x80 else f"%{b:02X}" for b in raw)
