"""The one definition of the keyword options every request method takes
(:class:`RequestOptions`), and the helpers that give each method built on it an
explicit signature: ``help()`` and ``inspect.signature()`` list every option,
mypy and IDEs check each keyword (``**options: Unpack[RequestOptions]``).

Session.request/stream/get/..., SyncSession's methods and the one-shot functions
all take these options; the one-shot functions add a few Session options
(:class:`OneShotOptions`).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    Concatenate,
    Generic,
    ParamSpec,
    Protocol,
    TypeAlias,
    TypedDict,
    TypeVar,
    Unpack,
)

if TYPE_CHECKING:
    from ._auth import Auth
    from ._body import Content
    from ._config import Limits, Timeout
    from ._headers import HeadersInput
    from ._http11 import InformationalResponse
    from ._multipart import FilesInput
    from ._response import Response
    from ._retry_rules import Retry
    from ._tls import CertTypes, VerifyTypes
    from ._trace import TraceHook

__all__ = [
    "REQUEST_OPTIONS",
    "InformationalHook",
    "OneShotOptions",
    "ParamsInput",
    "RequestOptions",
    "Verbs",
    "check_options",
    "one_shot",
    "same_options_as",
    "signature_with",
]

ParamsInput: TypeAlias = "Mapping[str, Any] | Iterable[tuple[str, Any]]"
InformationalHook: TypeAlias = "Callable[[InformationalResponse], Awaitable[None] | None]"


class RequestOptions(TypedDict, total=False):
    """Keyword options of every request method; each defaults to None.

    - ``params``: a dict or pairs, form-encoded and added to the URL's query;
    - ``headers``: a dict, pairs or :class:`Headers`; replace the Session's of the
      same name (a value of None removes the Session's header of that name, and
      ``"Host": None`` sends no Host);
    - ``content``: bytes, str (UTF-8), a binary file (streamed, with its length when
      it can be known) or an async or plain iterable of bytes (streamed chunked);
    - ``data``: a dict or pairs sent as a form; ``json``: any JSON value (at most one
      of content, data and json);
    - ``files``: files to upload as ``multipart/form-data`` (with ``data`` as its text
      fields): a mapping or pairs of field name to bytes, a binary file,
      ``(filename, content)``, ``(filename, content, content_type)`` or
      ``(filename, content, content_type, headers)``;
    - ``auth``: ``(user, password)`` or ``rawhttp.BasicAuth`` (Basic),
      ``rawhttp.DigestAuth``, or any ``rawhttp.Auth``;
    - ``cookies``: a dict of cookies sent with this request only (the Session's jar
      adds its own);
    - ``retries``: an int (that many retries) or a :class:`Retry` for this request;
    - ``timeout``: a :class:`Timeout` or a number of seconds for this request;
    - ``follow_redirects``: follow 3xx redirects for this request (bool);
    - ``trace``: a callable given a :class:`TraceEvent` for each connect, send and
      receive of this request;
    - ``on_informational``: a callable given each 1xx interim response;
    - ``expect_continue``: send ``Expect: 100-continue`` before the body (True), never
      (False), or for bodies larger than 1 MiB (None).

    None means "the Session's setting" for timeout, follow_redirects, trace,
    on_informational, expect_continue and retries.
    """

    params: ParamsInput | None
    headers: HeadersInput | None
    content: Content | None
    data: Any
    json: Any
    files: FilesInput | None
    auth: tuple[str, str] | Auth | None
    cookies: Mapping[str, str] | None
    retries: int | Retry | None
    timeout: Timeout | float | None
    follow_redirects: bool | None
    trace: TraceHook | None
    on_informational: InformationalHook | None
    expect_continue: bool | None


class OneShotOptions(RequestOptions, total=False):
    """The options of the one-shot functions (``rawhttp.get()`` ...): every request
    option, and these options of the Session made for the one request."""

    verify: VerifyTypes
    cert: CertTypes | None
    limits: Limits
    max_redirects: int | None
    decode_content: bool
    proxy: str | None
    proxy_tunnel: bool
    no_proxy: str | None
    trust_env: bool
    local_address: str | None
    happy_eyeballs_delay: float | None
    unix_socket: str | os.PathLike[str] | None


REQUEST_OPTIONS = frozenset(RequestOptions.__annotations__)
ONE_SHOT_OPTIONS = REQUEST_OPTIONS | frozenset(OneShotOptions.__annotations__)


def check_options(
    where: str, options: Mapping[str, object], allowed: frozenset[str] = REQUEST_OPTIONS
) -> None:
    """Raise TypeError, as Python does, for a keyword that is not an option."""
    if allowed.issuperset(options):  # the common case, checked in C
        return
    for name in options:
        if name not in allowed:
            raise TypeError(f"{where}() got an unexpected keyword argument {name!r}")


F = TypeVar("F", bound=Callable[..., Any])


def signature_with(
    options: type, defaults: Callable[..., Any] | None = None, *, returns: str | None = None
) -> Callable[[F], F]:
    """Give the decorated function (whose last parameter is ``**options``) an
    explicit signature: its ``**options`` replaced by one keyword-only parameter per
    key of the TypedDict ``options``, with the default the same-named parameter of
    ``defaults`` has (a Session method or ``__init__``), else None; ``returns``
    replaces the return annotation shown (a context manager's)."""

    def decorate(function: F) -> F:
        signature = inspect.signature(function)
        kept = [
            p.replace(annotation=inspect.Parameter.empty) if p.name == "self" else p
            for p in signature.parameters.values()
            if p.kind is not p.VAR_KEYWORD
        ]
        known = inspect.signature(defaults).parameters if defaults is not None else {}
        hints: dict[str, Any] = {}
        for name, hint in options.__annotations__.items():
            # TypedDict keeps string annotations as ForwardRef objects: show their text
            hints[name] = getattr(hint, "__forward_arg__", hint)
        for name in hints:  # in the order the TypedDict lists them
            default = known[name].default if name in known else None
            kept.append(
                inspect.Parameter(
                    name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=hints[name]
                )
            )
        shown = signature.replace(parameters=kept)
        if returns is not None:
            shown = shown.replace(return_annotation=returns)
        function.__signature__ = shown  # type: ignore[attr-defined]
        return function

    return decorate


R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)

VERBS = ("GET", "HEAD", "OPTIONS", "DELETE", "POST", "PUT", "PATCH")


class BoundVerb(Protocol[R_co]):
    """``session.get`` and the other verbs, bound: a request with the verb's method."""

    def __call__(self, url: str, **options: Unpack[RequestOptions]) -> R_co: ...


class Verb(Protocol[R_co]):
    """``Session.get`` and the other verbs, as class attributes (functions are descriptors)."""

    def __get__(self, session: Any, owner: Any) -> BoundVerb[R_co]: ...


class OneShotVerb(Protocol):
    """``rawhttp.get`` and the other one-shot functions."""

    def __call__(self, url: str, **options: Unpack[OneShotOptions]) -> Response: ...


class Verbs(Generic[R]):
    """``get``, ``head``, ``options``, ``delete``, ``post``, ``put`` and ``patch`` for a
    class with ``request(method, url, **options)`` returning ``R`` (Session: a
    coroutine of a Response; SyncSession: a Response): each is made when the class is,
    as ``async def`` or ``def`` like its ``request``, with the options' signature."""

    get: Verb[R]
    head: Verb[R]
    options: Verb[R]
    delete: Verb[R]
    post: Verb[R]
    put: Verb[R]
    patch: Verb[R]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        asynchronous = inspect.iscoroutinefunction(inspect.unwrap(cls.request))  # type: ignore[attr-defined]
        for method in VERBS:
            setattr(cls, method.lower(), _verb(method, asynchronous))


def _verb(method: str, asynchronous: bool) -> Callable[..., Any]:
    """The method sending a ``method`` request: ``self.request(method, url, **options)``."""
    if asynchronous:

        async def send_async(self: Any, url: str, **options: Unpack[RequestOptions]) -> Any:
            return await self.request(method, url, **options)

        return _named(signature_with(RequestOptions)(send_async), method, "Send", "request")

    def send(self: Any, url: str, **options: Unpack[RequestOptions]) -> Any:
        return self.request(method, url, **options)

    return _named(signature_with(RequestOptions)(send), method, "Send", "request")


def one_shot(
    method: str, request: Callable[..., Response], defaults: Callable[..., Any]
) -> OneShotVerb:
    """The one-shot function sending a ``method`` request with ``request``; the
    defaults its signature shows are those of ``defaults`` (Session.__init__)."""

    @signature_with(OneShotOptions, defaults=defaults)
    def send(url: str, **options: Unpack[OneShotOptions]) -> Response:
        return request(method, url, **options)

    return _named(send, method, "Send one", "rawhttp.request")


def _named(function: F, method: str, what: str, see: str) -> F:
    """Name a generated verb after its method, with its docstring."""
    function.__name__ = function.__qualname__ = method.lower()
    article = "" if what.endswith(" one") else "an " if method[0] in "AEIOU" else "a "
    function.__doc__ = f"{what} {article}{method} request (options as :meth:`{see}`)."
    return function


P = ParamSpec("P")


def same_options_as(
    source: Callable[Concatenate[Any, P], None],
) -> Callable[[Callable[..., None]], Callable[Concatenate[Any, P], None]]:
    """Give the decorated ``__init__(self, **options)`` the signature of ``source``
    (another ``__init__``): checked by mypy, shown by help()."""

    def decorate(init: Callable[..., None]) -> Callable[Concatenate[Any, P], None]:
        init.__signature__ = inspect.signature(source)  # type: ignore[attr-defined]
        return init

    return decorate
