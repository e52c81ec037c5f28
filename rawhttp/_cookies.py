"""Cookies: the Session's cookie jar (an ``http.cookiejar.CookieJar``), the Cookie
header it gives each request, and the Set-Cookie fields it takes from each response.

The transport calls :func:`add_cookie_header` before each request head is built and
:func:`extract_cookies` after each response head (every hop of a redirect chain,
every retry and auth round trip), so a cookie set by a 302 goes with the request
that follows it, and each hop gets what the jar matches for its own URL: cookies
never follow a redirect to another origin unless the jar matches them there.

The jar does the RFC 6265 work (domain, path, Secure, expiry); it wants
``urllib.request``-like objects, so each request and response is shown to it
through a small adapter built from rawhttp's parsed URL (IDNA host, port, encoded
target).  A jar rawhttp makes matches a cookie set without a Domain attribute only
to the host that set it (RFC 6265 host-only cookies; the standard policy's default
also sends it to subdomains).  A jar given as ``Session(cookies=jar)`` is used as
given, with its own policy.

``Session(cookies={...})`` puts each cookie in the jar with an empty domain, which
the jar matches for every host: they are sent everywhere, and appear in
``Session.cookies``.  When a server sets a cookie of the same name, the server's is
sent and the Session's left out.  ``request(cookies={...})`` adds cookies to that
request only (not stored), replacing the jar's of the same name.  A caller's own
``Cookie`` header is sent as given, without the jar's.

``http.cookiejar`` (with ``urllib.request``, ``email``...) costs milliseconds to
import: it is imported when a jar is first needed, never for a Session without
cookies.  Without cookies a request costs two attribute reads here and its response
one dict lookup: callgrind counted about 700 instructions for both hooks over empty
ones, of about 281,000 for a small keep-alive GET.  An empty jar is not walked.
"""

from __future__ import annotations

import contextlib
import re
import sys
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, TypeAlias

from ._exceptions import InvalidRequest
from ._serialize import encode_field

if TYPE_CHECKING:
    from http.cookiejar import CookieJar

    from ._request import Request
    from ._response import Response
    from ._url import URL

__all__ = ["CookieStore", "CookiesInput", "add_cookie_header", "extract_cookies"]

CookiesInput: TypeAlias = "Mapping[str, str] | CookieJar"

# Patterns are compiled on first use (re caches them): not paid by every import.
_NAME: Final = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
"""A cookie name a caller gives: an RFC 6265 token."""
_BAD_VALUE: Final = r"[\x00-\x1f\x7f;]|[^\x00-\xff]"
"""What a caller's cookie value may not hold: a control character, a ";" (it would
start another cookie), a character outside latin-1."""
_UNSENDABLE: Final = r"[\x00-\x08\x0a-\x1f\x7f]|[^\x00-\xff]"
"""What no header value may hold: a jar cookie with one is left out."""
_SEPARATOR: Final = "; "


class CookieStore:
    """The Session's cookies: the jar, made when first needed (a Session that never
    sees a cookie never imports ``http.cookiejar``)."""

    __slots__ = ("_any_host", "_jar", "_lock", "active")

    def __init__(self, cookies: CookiesInput | None) -> None:
        self._jar: Any = None
        self._any_host: list[tuple[str, str]] | None = None
        self._lock = threading.Lock()  # one jar, even when threads ask at once
        self.active = False
        """Whether there is a jar, or cookies to put in one (read on every request)."""
        if cookies is None:
            return
        if isinstance(cookies, Mapping):
            self._any_host = checked_cookies(cookies, "Session(cookies=...)") or None
            self.active = self._any_host is not None
            return
        module = sys.modules.get("http.cookiejar")  # a caller's jar has imported it
        if module is not None and isinstance(cookies, module.CookieJar):
            self._jar = cookies
            self.active = True
            return
        raise InvalidRequest(
            "cookies= must be a dict of name to value or an http.cookiejar.CookieJar, "
            f"not {type(cookies).__name__}"
        )

    @property
    def jar(self) -> CookieJar:
        """The jar: the caller's, or one made now (holding ``Session(cookies={...})``)."""
        jar = self._jar
        if jar is None:
            with self._lock:
                jar = self._jar
                if jar is None:
                    jar = self._jar = _new_jar(self._any_host or ())
                    self.active = True
        return jar  # type: ignore[no-any-return]

    @property
    def empty(self) -> bool:
        """Whether no cookie can be sent: no jar yet and none to put in one, or a jar
        holding none (read without the jar's lock and without walking it)."""
        jar = self._jar
        if jar is None:
            return self._any_host is None
        held = getattr(jar, "_cookies", None)  # CookieJar's dict; a jar without one is asked
        return type(held) is dict and not held


def checked_cookies(cookies: Mapping[str, str], where: str) -> list[tuple[str, str]]:
    """``cookies`` as (name, value) pairs, or InvalidRequest naming what is wrong
    (never showing a value: cookies are credentials)."""
    if not isinstance(cookies, Mapping):
        raise InvalidRequest(
            f"{where} must be a dict of name to value, not {type(cookies).__name__}"
        )
    pairs = []
    for name, value in cookies.items():
        if not isinstance(name, str) or not re.fullmatch(_NAME, name):
            shown = repr(name) if isinstance(name, str) else f"a {type(name).__name__}"
            raise InvalidRequest(f"{where}: invalid cookie name {shown} (must be a token)")
        if not isinstance(value, str):
            raise InvalidRequest(
                f"{where}: the value of cookie {name!r} must be a str, not {type(value).__name__}"
            )
        if re.search(_BAD_VALUE, value):
            raise InvalidRequest(
                f"{where}: the value of cookie {name!r} holds a control character, "
                "a ';' or a character outside latin-1"
            )
        pairs.append((name, value))
    return pairs


def _new_jar(any_host: Any) -> CookieJar:
    """A jar with RFC 6265's host-only rule, holding ``any_host`` cookies for every host."""
    from http.cookiejar import Cookie, CookieJar, DefaultCookiePolicy

    policy = DefaultCookiePolicy(strict_ns_domain=DefaultCookiePolicy.DomainStrictNonDomain)
    jar = CookieJar(policy)
    for name, value in any_host:
        # An empty domain, "specified" so that the host-only rule does not apply:
        # the jar matches it for every host.  A session cookie (discard, no expiry).
        jar.set_cookie(
            Cookie(
                version=0,
                name=name,
                value=value,
                port=None,
                port_specified=False,
                domain="",
                domain_specified=True,
                domain_initial_dot=False,
                path="/",
                path_specified=True,
                secure=False,
                expires=None,
                discard=True,
                comment=None,
                comment_url=None,
                rest={},
            )
        )
    return jar


# -- the two hooks the transport calls ------------------------------------------------


def add_cookie_header(store: CookieStore, request: Request) -> None:
    """Set ``request.cookie`` to the Cookie field the jar (and ``request.cookies``)
    gives ``request.url``, or None."""
    own = request.cookies
    if own is None and not store.active:
        return  # the common case: no cookie anywhere (request.cookie is still None)
    if not own and store.empty:  # a jar holding none (read without walking it)
        request.cookie = None
        return
    if _has_cookie_field(request):  # the caller's own Cookie header is sent as given
        request.cookie = None
        return
    parts = [] if store.empty else _jar_parts(store.jar, request.url)
    if own:
        names = dict(checked_cookies(own, "cookies="))
        parts = [p for p in parts if p.partition("=")[0] not in names]
        parts += [f"{name}={value}" for name, value in names.items()]
    request.cookie = encode_field("Cookie", _SEPARATOR.join(parts)) if parts else None


def extract_cookies(store: CookieStore, request: Request, response: Response) -> None:
    """Store the response's Set-Cookie fields in the jar (what it cannot parse, it
    ignores: a malformed Set-Cookie never fails a request)."""
    headers = response.headers
    index = headers._index  # built by the parser (it looked up Connection)
    if index is not None and "set-cookie" not in index:
        return  # the common case: one dict lookup
    values = headers._values("set-cookie")
    if not values:
        return
    usable = [v for v in values if _parsable(v)]
    if not usable:
        return
    jar: Any = store.jar
    # A caller's jar or policy failing on a server's field: the response stands, and
    # what could not be stored is not (the error, which may show a value, is dropped).
    with contextlib.suppress(Exception):
        jar.extract_cookies(_JarResponse(usable), _JarRequest(request.url))


# -- what the jar gives a URL ---------------------------------------------------------


def _jar_parts(jar: Any, url: URL) -> list[str]:
    """The jar's ``name=value`` cookies for ``url`` in its order (longest path first),
    without those no header may carry, and without a cookie for every host when a
    server set one of the same name for this one."""
    adapter = _JarRequest(url)
    jar.add_cookie_header(adapter)
    header = adapter.cookie
    if header is None:
        return []
    parts = header.split(_SEPARATOR)
    if re.search(_UNSENDABLE, header):  # a cookie the caller put in the jar by hand
        parts = [p for p in parts if not re.search(_UNSENDABLE, p)]
    names = [p.partition("=")[0] for p in parts]
    if len(set(names)) < len(names):
        parts = _drop_shadowed(jar, parts, names)
    return parts


def _drop_shadowed(jar: Any, parts: list[str], names: list[str]) -> list[str]:
    """``parts`` without the empty-domain (every host) cookies whose name a cookie of
    this host's also has: a server's newer value is sent, not the Session's."""
    try:
        any_host = {f"{c.name}={c.value}" for c in jar if not c.domain}
    except RuntimeError:  # changed by another thread while read: keep all
        return parts
    counts = {name: names.count(name) for name in names}
    kept = []
    for part, name in zip(parts, names, strict=True):
        if counts[name] > 1 and part in any_host:
            counts[name] -= 1
            continue
        kept.append(part)
    return kept


def _has_cookie_field(request: Request) -> bool:
    return any(f.key == "cookie" for f in request.own) or any(
        f.key == "cookie" for f in request.defaults
    )


def _parsable(value: str) -> bool:
    """False for a Set-Cookie the standard jar fails on instead of ignoring: a
    ``Max-Age`` attribute without ``=`` (it warns "http.cookiejar bug!" and drops
    every cookie of the response; found by fuzzing its parser on 3.11 and 3.13)."""
    if "max-age" not in value.lower():
        return True
    for attribute in value.split(";")[1:]:
        key, sep, _ = attribute.partition("=")
        if not sep and key.strip().lower() == "max-age":
            return False
    return True


class _JarRequest:
    """A request as ``CookieJar`` reads it (the parts of ``urllib.request.Request`` it
    uses), from rawhttp's URL: the host is IDNA-encoded, IPv6 in brackets."""

    __slots__ = ("cookie", "host", "origin_req_host", "type", "url")

    unverifiable: Final = False  # every request is the caller's own: no third party

    def __init__(self, url: URL) -> None:
        self.url = str(url)  # scheme://host[:port]/target: never the userinfo
        self.type = url.scheme
        self.host = url.host_header
        self.origin_req_host = url.host
        self.cookie: str | None = None

    def get_full_url(self) -> str:
        return self.url

    def is_unverifiable(self) -> bool:
        return False

    def has_header(self, name: str) -> bool:
        return False  # a caller's Cookie header was looked for before asking the jar

    def get_header(self, name: str, default: str | None = None) -> str | None:
        return default

    def header_items(self) -> list[tuple[str, str]]:
        return []

    def add_unredirected_header(self, name: str, value: str) -> None:
        if name.lower() == "cookie":  # not Cookie2 (RFC 2965, obsolete)
            self.cookie = value


class _JarResponse:
    """A response as ``CookieJar`` reads it: ``info().get_all("Set-Cookie")``."""

    __slots__ = ("_set_cookie",)

    def __init__(self, set_cookie: list[str]) -> None:
        self._set_cookie = set_cookie

    def info(self) -> _JarResponse:
        return self

    def get_all(self, name: str, default: Any = None) -> Any:
        if name.lower() == "set-cookie":
            return self._set_cookie
        return default  # Set-Cookie2 (RFC 2965, obsolete) is not read
