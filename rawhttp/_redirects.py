"""Redirect decisions (RFC 9110 section 15.4), as pure functions over URLs and methods."""

from __future__ import annotations

import re
from typing import Final

from ._exceptions import InvalidURL
from ._url import URL, parse_url

__all__ = [
    "CONTENT_HEADERS",
    "CREDENTIAL_HEADERS",
    "REDIRECT_STATUSES",
    "keeps_credentials",
    "redirect_method",
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


def resolve_location(current: URL, location: str) -> URL:
    """The absolute URL a Location header points to, resolved against ``current``."""
    from urllib.parse import urljoin  # only redirects need it

    location = location.strip()
    try:
        if _HAS_SCHEME.match(location):  # absolute: parse as given ("http://" is an error)
            return parse_url(location)
        return parse_url(urljoin(str(current), location))
    except (InvalidURL, ValueError) as exc:
        raise InvalidURL(f"redirect to an invalid or unsupported URL {location!r}: {exc}") from exc
