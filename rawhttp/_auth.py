"""Authentication: what ``auth=`` takes (a ``(user, password)`` pair, :class:`BasicAuth`,
:class:`DigestAuth` or any :class:`Auth`) and what a flow sees of a request
(:class:`AuthRequest`).  The auth step of the Session's stack, which runs a flow, is
:mod:`rawhttp._auth_step`.

Basic credentials never reach that step: :func:`split_auth` turns them into an
``Authorization`` field up front (``Auth.basic_pair``), and a request without a flow
skips the step, so it costs nothing to requests that do not use it.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncGenerator, Callable, Generator, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final, TypeAlias

from ._exceptions import InvalidRequest
from ._headers import Headers
from ._serialize import Field, encode_field

if TYPE_CHECKING:
    from ._digest import DigestChallenge
    from ._response import Response
    from ._url import URL

__all__ = [
    "Auth",
    "AuthFields",
    "AuthFlow",
    "AuthRequest",
    "BasicAuth",
    "DigestAuth",
    "basic_auth",
    "split_auth",
]

AuthFields: TypeAlias = "Mapping[str, str | bytes] | Iterable[tuple[str | bytes, str | bytes]]"
"""What a flow yields: the header fields to send the request with."""
AuthFlow: TypeAlias = (
    "Generator[AuthFields | None, Response, None] | AsyncGenerator[AuthFields | None, Response]"
)
KNOWN_ORIGINS: Final = 256
"""Origins whose last Digest challenge a DigestAuth remembers."""


class AuthRequest:
    """What an :meth:`Auth.auth_flow` sees of the request it authenticates (read-only).

    ``method``; ``url`` (without userinfo); ``target``, the request target as sent
    (path and query); ``origin``, ``"scheme://host[:port]"``; ``headers``, the
    request's header fields before the flow adds its own (Host, Content-Length and
    cookies are added later); ``content``, the body when it is held in memory
    (``b""`` for none), None for a streamed body."""

    __slots__ = ("_fields", "_headers", "content", "method", "origin", "target", "url")

    def __init__(
        self, method: str, url: URL, content: bytes | None, fields: Callable[[], list[Field]]
    ) -> None:
        """``url`` without userinfo; ``fields()`` gives the request's header fields."""
        self._fields = fields
        self._headers: Headers | None = None
        self.method: str = method
        self.url: str = str(url)
        self.target: str = url.target
        self.origin: str = f"{url.scheme}://{url.host_header}"
        self.content: bytes | None = content

    @property
    def headers(self) -> Headers:
        """The request's header fields (made when first asked for: Digest never does)."""
        headers = self._headers
        if headers is None:
            headers = self._headers = Headers([(f.name, f.value) for f in self._fields()])
        return headers

    def __repr__(self) -> str:
        return f"<AuthRequest {self.method} {self.url}>"


class Auth:
    """Base class of authentication schemes given as ``auth=``.

    A subclass overrides :meth:`auth_flow`, a generator (``def`` with ``yield``) or
    an async generator (``async def`` with ``yield``).  Each value it yields sends
    the request once, with those header fields (a dict or ``(name, value)`` pairs,
    replacing the request's fields of the same names; None or ``()`` for none), and
    the ``yield`` gives back the :class:`Response`, its body unread (an async flow
    may read it).  To answer it (a 401, say) yield again: the response's body is read and dropped (up to 1 MiB)
    so its connection can carry the next request.  When the flow returns, the last
    response is the result.  A flow sends at most 8 requests.

    ``may_resend`` (a class attribute, True by default) says the flow may send the
    request more than once: a request whose body cannot be sent twice (an iterator
    or generator) is then refused with :class:`InvalidRequest` before anything is
    sent.  A flow that always sends the request once sets it False.

    A flow runs for each URL of a redirect chain that stays on the origin; a
    redirect to another origin drops ``auth=``."""

    may_resend: ClassVar[bool] = True

    def auth_flow(self, request: AuthRequest) -> AuthFlow:
        """Send ``request`` (an :class:`AuthRequest`) with the fields this scheme
        adds, answering the responses that call for it (this base sends it as is)."""
        return _as_is()

    def basic_pair(self) -> tuple[str, str] | None:
        """(user, password) when this scheme is Basic credentials sent up front."""
        return None


def _as_is() -> Generator[AuthFields | None, Response, None]:
    yield None


class BasicAuth(Auth):
    """Basic authentication (RFC 7617): ``Authorization: Basic`` sent with every
    request, as ``auth=(user, password)`` does."""

    may_resend: ClassVar[bool] = False

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self.password = password

    def auth_flow(self, request: AuthRequest) -> Generator[AuthFields | None, Response, None]:
        field = basic_auth((self.username, self.password))
        yield [(field.name, field.value)]

    def basic_pair(self) -> tuple[str, str] | None:
        return (self.username, self.password)

    def __repr__(self) -> str:
        return f"BasicAuth({self.username!r}, '***')"


class DigestAuth(Auth):
    """Digest authentication (RFC 7616): the first request to an origin is sent
    without credentials; a 401 with a Digest challenge is answered on the same
    Session with the password hashed (algorithms SHA-512-256 when available, SHA-256
    and MD5, each also ``-sess``, the strongest offered chosen; ``qop=auth``, or
    ``auth-int`` for bodies held in memory; ``userhash``).  A second 401 is returned
    as it is, unless it says the nonce was ``stale`` (answered once more).

    The instance remembers each origin's last challenge: later requests to the
    origin carry credentials at once (the nonce counted up), saving the round trip.
    One instance can serve several Sessions, tasks and threads.  A request body that
    cannot be sent twice (an iterator) is refused before anything is sent."""

    def __init__(self, username: str, password: str) -> None:
        if not isinstance(username, str) or not isinstance(password, str):
            raise InvalidRequest("DigestAuth takes a str user name and a str password")
        self.username = username
        self.password = password
        self._lock = threading.Lock()  # nonce counts: shared by tasks and threads
        self._known: dict[str, list[Any]] = {}  # origin -> [DigestChallenge, count]

    def __repr__(self) -> str:
        return f"DigestAuth({self.username!r}, '***')"

    def auth_flow(self, request: AuthRequest) -> Generator[AuthFields | None, Response, None]:
        origin = request.origin
        with self._lock:
            known = self._known.get(origin)
        if known is not None and known[0].qop == "auth-int" and request.content is None:
            known = None  # auth-int hashes the body: a streamed one is not known
        response = yield None if known is None else self._answer(request, known[0])
        if response.status != 401:
            self._next_nonce(origin, response)
            return
        from ._digest import choose, parse_challenges

        for attempt in range(2):  # the first challenge, then once a stale nonce's
            values = response.headers.get_all("www-authenticate")
            challenge = choose(parse_challenges(values), body_known=request.content is not None)
            if challenge is None or (attempt and not challenge.stale):
                break
            response = yield self._answer(request, challenge)
            if response.status != 401:
                self._next_nonce(origin, response)
                return
        with self._lock:  # refused: no credentials sent up front until challenged again
            self._known.pop(origin, None)

    def _answer(self, request: AuthRequest, challenge: DigestChallenge) -> list[tuple[str, str]]:
        """The Authorization field answering ``challenge``, with the nonce's next
        count (the challenge becomes the origin's, counted from 1 when its nonce is new)."""
        import secrets

        from ._digest import answer

        origin = request.origin
        with self._lock:
            known = self._known
            entry = known.get(origin)
            if entry is None or entry[0].nonce != challenge.nonce:
                if entry is None and len(known) >= KNOWN_ORIGINS:
                    del known[next(iter(known))]  # the origin remembered longest ago
                entry = known[origin] = [challenge, 0]
            entry[1] += 1
            count = entry[1]
        value = answer(
            challenge,
            self.username,
            self.password,
            method=request.method,
            uri=request.target,
            nc=count,
            cnonce=secrets.token_hex(16),
            body=request.content,
        )
        return [("Authorization", value)]

    def _next_nonce(self, origin: str, response: Response) -> None:
        """Take the ``nextnonce`` of an ``Authentication-Info`` field (RFC 7616 3.5)."""
        info = response.headers.get("authentication-info")
        if info is None:
            return
        from ._digest import parse_params

        nonce = parse_params(info).get("nextnonce")
        with self._lock:
            entry = self._known.get(origin)
            if nonce and entry is not None and entry[0].nonce != nonce:
                self._known[origin] = [entry[0]._replace(nonce=nonce, stale=False), 0]


def split_auth(auth: Any) -> tuple[Field | None, Auth | None]:
    """``auth=`` as Basic credentials (a pair, or BasicAuth) or as a flow."""
    if isinstance(auth, Auth):
        basic = auth.basic_pair()
        if basic is not None:
            return basic_auth(basic), None
        return None, auth
    return basic_auth(auth), None


def basic_auth(auth: tuple[str, str]) -> Field:
    """The ``Authorization: Basic`` field for a (user, password) pair."""
    try:
        user, password = auth
    except (TypeError, ValueError):
        raise InvalidRequest("auth must be a (user, password) pair") from None
    import base64  # only requests with credentials need it

    token = base64.b64encode(f"{user}:{password}".encode())
    return encode_field("Authorization", b"Basic " + token)
