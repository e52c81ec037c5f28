"""Building a request: the caller's method, URL and options (see
:mod:`rawhttp._options`) turned into a :class:`Request`, the one object that travels
down the Session's stack; and its header fields and serialized head.

Nothing here does I/O.  Every field is validated when the Request is built, so a
bad header raises :class:`InvalidRequest` before a connection is even asked for.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final, NamedTuple, TypeAlias

from ._auth import Auth, basic_auth, split_auth
from ._body import RequestBody, encode_body
from ._config import Clock, Timeout
from ._exceptions import InvalidRequest
from ._headers import HeadersInput
from ._http11 import Head, InformationalResponse
from ._options import InformationalHook, ParamsInput
from ._retry_rules import Retry, coerce_retries
from ._serialize import NO_HOST, Field, encode_field, encode_fields, request_head
from ._url import _SCHEME_COLON as _HAS_SCHEME
from ._url import URL, join_url, parse_url

if TYPE_CHECKING:
    from ._trace import TraceHook

__all__ = ["HeadCache", "Request", "RequestDefaults", "build_request"]

HeadHook: TypeAlias = "Callable[[Head], Awaitable[None] | None]"
EXPECT_CONTINUE_THRESHOLD: Final = 1024 * 1024
"""With ``expect_continue=None`` (the default), request bodies of a known length
above this many bytes are sent with ``Expect: 100-continue``."""
EXPECT_FIELD: Final = encode_field("Expect", "100-continue")
OPTION_ORDER: Final = (
    "params",
    "headers",
    "content",
    "data",
    "json",
    "files",
    "auth",
    "cookies",
    "retries",
    "timeout",
    "follow_redirects",
    "trace",
    "on_informational",
    "expect_continue",
)
"""The request options in the order build_request unpacks them (RequestOptions' own)."""
HEAD_CACHE_SIZE: Final = 256
"""Request heads remembered per Session for repeated requests with default headers."""


class RequestDefaults(NamedTuple):
    """What a Session gives every request unless the request says otherwise."""

    fields: list[Field]
    """User-Agent, Accept, Accept-Encoding and the Session's ``headers=``, validated."""
    auth: Field | None
    """Basic credentials from ``auth=(user, password)`` or ``BasicAuth``."""
    flow: Auth | None
    """Any other ``auth=``: an authentication flow (Digest...)."""
    retry: Retry | None
    base_url: URL | None
    timeout: Timeout
    follow_redirects: bool
    trace: TraceHook | None
    on_head: HeadHook | None
    expect_continue: bool | None


class Request:
    """One request on its way down the stack.

    ``defaults`` are the Session's fields (without those a redirect dropped),
    ``own`` the request's own headers, ``credentials`` the Authorization field from
    ``auth=``; :meth:`fields` puts them together.  ``clock`` holds the deadlines,
    created when the request started (the total timeout covers its redirects).
    (A plain class with positional parameters: one is built for every request.)"""

    __slots__ = (
        "body",
        "clock",
        "cookie",
        "cookies",
        "credentials",
        "defaults",
        "expect",
        "flow",
        "follow",
        "method",
        "on_head",
        "own",
        "retry",
        "trace",
        "url",
    )

    def __init__(
        self,
        method: str,
        url: URL,
        defaults: list[Field],
        own: list[Field],
        credentials: Field | None,
        body: RequestBody | None,
        clock: Clock,
        follow: bool,
        trace: TraceHook | None,
        on_head: HeadHook | None,
        expect: bool | None,
        flow: Auth | None = None,
        retry: Retry | None = None,
        cookies: Mapping[str, str] | None = None,
    ) -> None:
        self.method = method
        self.url = url
        self.defaults = defaults
        self.own = own
        self.credentials = credentials
        self.body = body
        self.clock = clock
        self.follow = follow
        self.trace = trace
        self.on_head = on_head
        self.expect = expect
        self.flow = flow
        """An authentication flow to run (auth= other than Basic credentials)."""
        self.retry = retry
        """How to retry this request (None: only the silent retry of a stale connection)."""
        self.cookies = cookies
        """The request's own ``cookies=``, for this request only."""
        self.cookie: Field | None = None
        """The Cookie field the Session's cookie jar gives this request (set just
        before it is sent; not kept across redirects)."""

    def fields(self) -> list[Field]:
        """Session defaults not overridden, the request's own headers, then
        Authorization (from ``auth=`` or the URL's userinfo) and Content-Type when the
        request did not set them.  With none of those, the defaults list itself (the
        head cache recognises it)."""
        url = self.url
        credentials = self.credentials
        body = self.body
        cookie = self.cookie
        if (
            not self.own
            and credentials is None
            and url.username is None
            and body is None
            and cookie is None
        ):
            return self.defaults
        keys = {f.key for f in self.own}
        fields = [f for f in self.defaults if f.key not in keys] + self.own
        keys.update(f.key for f in self.defaults)
        if "authorization" not in keys:
            if credentials is None and url.username is not None:
                credentials = basic_auth((url.username, url.password or ""))
            if credentials is not None:
                fields.append(credentials)
        if body is not None and body.content_type and "content-type" not in keys:
            fields.append(encode_field("Content-Type", body.content_type))
        if cookie is not None and "cookie" not in keys:  # a caller's own Cookie wins
            fields.append(cookie)
        return fields

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.url}>"


def build_request(
    defaults: RequestDefaults, method: str, url: str, options: Mapping[str, Any]
) -> Request:
    """A Request from the caller's arguments (options already checked by name)."""
    if not isinstance(method, str):
        raise InvalidRequest(f"method must be a str, not {type(method).__name__}")
    if method == "CONNECT":
        raise InvalidRequest("CONNECT is not supported by Session.request")
    if not options or list(options.values()).count(None) == len(options):
        # the common call, s.get(url) (or only None given): every setting the Session's
        target, own, credentials, body = _target(defaults, url, None), [], defaults.auth, None
        timeout, follow, trace = defaults.timeout, defaults.follow_redirects, defaults.trace
        on_head, expect = defaults.on_head, defaults.expect_continue
        flow, retry, cookies = defaults.flow, defaults.retry, None
    else:
        # One C-level pass over the option names (every request with an option
        # pays for this); the order is that of the names on the left.
        (
            params,
            headers,
            content,
            data,
            json,
            files,
            auth,
            cookies,
            retries,
            time,
            redirects,
            trace,
            hook,
            wait,
        ) = map(options.get, OPTION_ORDER)
        target = _target(defaults, url, params)
        try:  # (costs nothing until it catches: Python 3.11's exception tables)
            own = encode_fields(headers) if headers else []
        except InvalidRequest:  # {"Name": None} among them, or a bad field
            if isinstance(headers, Iterator):  # consumed: cannot be read again
                raise
            own, defaults = _removing(headers, defaults)
        credentials, flow = defaults.auth, defaults.flow
        if auth is not None:
            credentials, flow = split_auth(auth)
        no_body = content is None and data is None and json is None and files is None
        body = None
        if files is not None:
            if content is not None or json is not None:
                raise InvalidRequest("files= goes with data= only, not content= or json=")
            # A caller's Content-Type gives the multipart boundary.
            declared = (*own, *defaults.fields)
            kind = next((f.value for f in declared if f.key == "content-type"), None)
            from ._multipart import encode_multipart  # only uploads pay for importing it

            body = encode_multipart(files, data, kind)
        elif not no_body:
            body = encode_body(content, data, json)
        retry = defaults.retry if retries is None else coerce_retries(retries)
        timeout = defaults.timeout if time is None else Timeout.coerce(time)
        follow = defaults.follow_redirects if redirects is None else redirects
        trace = trace or defaults.trace
        on_head = defaults.on_head if hook is None else head_hook(hook)
        expect = defaults.expect_continue if wait is None else wait
    clock = Clock(timeout)
    return Request(
        method,
        target,
        defaults.fields,
        own,
        credentials,
        body,
        clock,
        follow,
        trace,
        on_head,
        expect,
        flow,
        retry,
        cookies,
    )


def _removing(
    headers: HeadersInput | None, defaults: RequestDefaults
) -> tuple[list[Field], RequestDefaults]:
    """A request's own fields, and the Session's defaults without the fields it
    named with None (``"Host": None``: :data:`NO_HOST` among its own, unless it gave
    a Host too); a bad field raises its error.  (Read a second time: a one-shot
    iterator of pairs cannot remove fields.)"""
    removed: list[str] = []
    try:
        own = encode_fields(headers, removed)
    except InvalidRequest as exc:
        exc.__suppress_context__ = True  # the error being handled: the same one
        raise
    if "host" in removed and not any(f.key == "host" for f in own):
        own = [*own, NO_HOST]
    kept = [f for f in defaults.fields if f.key not in removed]
    return own, defaults._replace(fields=kept)


def _target(defaults: RequestDefaults, url: str, params: ParamsInput | None) -> URL:
    """The URL requested: ``url`` with ``params`` added to its query, joined to the
    Session's ``base_url`` when it has no scheme of its own."""
    if params:
        url = with_params(url, params)
    base = defaults.base_url
    if base is not None and isinstance(url, str) and not _HAS_SCHEME.match(url):
        return join_url(base, url)
    return parse_url(url)


def with_params(url: str, params: ParamsInput) -> str:
    """``url`` with ``params`` form-encoded and appended to its query."""
    from urllib.parse import urlencode

    pairs = params if isinstance(params, Mapping) else list(params)
    try:
        query = urlencode(pairs, doseq=True)
    except TypeError as exc:
        raise InvalidRequest(f"params= cannot be encoded: {exc}") from exc
    if not query:
        return url
    base, hash_, fragment = url.partition("#")
    joiner = "&" if "?" in base else "?"
    if base.endswith(("?", "&")):
        joiner = ""
    return f"{base}{joiner}{query}{hash_}{fragment}"


def head_hook(hook: InformationalHook | None) -> HeadHook | None:
    """The user's ``on_informational`` callback, as receive_head calls it."""
    if hook is None:
        return None

    def on_head(head: Head) -> Awaitable[None] | None:
        return hook(
            InformationalResponse(head.status, head.reason, head.http_version, head.headers)
        )

    return on_head


def says_close(fields: list[Field]) -> bool:
    """Whether the request's own fields ask the server to close after the response."""
    return any(f.key == "connection" and b"close" in f.value.lower() for f in fields)


def with_expect(
    fields: list[Field], body: RequestBody, expect: bool | None
) -> tuple[list[Field], bool]:
    """The fields, with ``Expect: 100-continue`` added when ``expect`` asks for it
    (None: bodies over EXPECT_CONTINUE_THRESHOLD), and whether to wait for 100.  A
    caller's own ``Expect: 100-continue`` is waited for too; an empty body never
    gets one (RFC 9110 10.1.1)."""
    if any(f.key == "expect" and f.value.lower() == b"100-continue" for f in fields):
        return fields, True
    if body.length == 0:
        return fields, False
    if expect or (expect is None and (body.length or 0) > EXPECT_CONTINUE_THRESHOLD):
        return [*fields, EXPECT_FIELD], True
    return fields, False


class HeadCache:
    """Request heads of requests without a body that carry only the Session's
    default fields (the common repeated GET), built once per (method, URL, form)."""

    __slots__ = ("_heads", "defaults")

    def __init__(self, defaults: list[Field]) -> None:
        self.defaults = defaults
        """The Session's default fields: a request sending exactly this list (by
        identity) has its head cached."""
        self._heads: dict[tuple[str, URL, bool], bytes] = {}

    def head(
        self,
        method: str,
        url: URL,
        fields: list[Field],
        body: RequestBody | None,
        absolute: bool,
    ) -> bytes:
        """The serialized request line and header section."""
        if body is not None:
            return request_head(
                method,
                url,
                fields,
                content_length=body.length,
                chunked=body.chunked,
                absolute=absolute,
            )
        length = 0 if method in ("POST", "PUT", "PATCH") else None
        if fields is not self.defaults:
            return request_head(method, url, fields, content_length=length, absolute=absolute)
        heads = self._heads
        key = (method, url, absolute)
        head = heads.get(key)
        if head is None:
            if len(heads) >= HEAD_CACHE_SIZE:
                heads.clear()
            head = heads[key] = request_head(
                method, url, fields, content_length=length, absolute=absolute
            )
        return head
