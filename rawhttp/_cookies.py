"""Cookies: the Session's cookie jar (``http.cookiejar.CookieJar``), the Cookie
header it gives each request, and the Set-Cookie fields it takes from each response.

``http.cookiejar`` (with ``urllib.request``) costs milliseconds to import: it is
imported when a jar is first needed, never on the path of a plain fetch.

(Skeleton: being built.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from http.cookiejar import CookieJar

    from ._request import Request
    from ._response import Response

__all__ = ["CookieStore", "CookiesInput", "add_cookie_header", "extract_cookies"]

CookiesInput: TypeAlias = "Mapping[str, str] | CookieJar"


class CookieStore:
    """The Session's cookies: the jar, made when first needed."""

    __slots__ = ("_given", "_jar")

    def __init__(self, cookies: CookiesInput | None) -> None:
        self._given = cookies
        self._jar: Any = None

    @property
    def jar(self) -> CookieJar:
        jar = self._jar
        if jar is None:
            from http.cookiejar import CookieJar

            given = self._given
            jar = self._jar = given if isinstance(given, CookieJar) else CookieJar()
        return jar  # type: ignore[no-any-return]


def add_cookie_header(store: CookieStore, request: Request) -> None:
    """Set ``request.cookie`` to what the jar (and ``request.cookies``) sends."""


def extract_cookies(store: CookieStore, request: Request, response: Response) -> None:
    """Store the response's Set-Cookie fields in the jar."""
