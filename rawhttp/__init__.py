"""rawhttp: a small, strict and fast HTTP/1.1 client on asyncio streams.

The blocking API (``get``, ``SyncSession``, ...) is imported on first use: the
``rawhttp`` command and async programs start without it (about 2 ms less).
"""

import typing as _typing

from ._auth import Auth, AuthRequest, BasicAuth, DigestAuth
from ._config import Limits, Timeout
from ._exceptions import (
    BodyTooLarge,
    ConnectError,
    ConnectTimeout,
    DecodingError,
    Error,
    IncompleteBody,
    InvalidRequest,
    InvalidURL,
    NoResponse,
    PoolTimeout,
    ProtocolError,
    ProxyError,
    ReadError,
    ReadTimeout,
    ResponseNotRead,
    TimeoutError,
    TLSError,
    TooManyRedirects,
    TransportError,
    WriteError,
    WriteTimeout,
)
from ._headers import Headers
from ._http11 import InformationalResponse
from ._options import OneShotOptions, RequestOptions
from ._pool import PoolState
from ._record import Recorder, TruncatedRecording, read_events, replay
from ._redirect_rules import RedirectPolicy
from ._response import HTTPStatusError, Response
from ._retry_rules import Retry
from ._session import Session
from ._timings import Timings
from ._trace import TraceEvent
from ._version import __version__

if _typing.TYPE_CHECKING:
    from ._sync import (
        EventLoopRunning,
        SyncSession,
        SyncStream,
        delete,
        get,
        head,
        options,
        patch,
        post,
        put,
        request,
    )

_BLOCKING = frozenset(
    {
        "EventLoopRunning",
        "SyncSession",
        "SyncStream",
        "delete",
        "get",
        "head",
        "options",
        "patch",
        "post",
        "put",
        "request",
    }
)


def __getattr__(name: str) -> _typing.Any:
    """The blocking API's names, imported when first asked for (PEP 562)."""
    if name in _BLOCKING:
        from . import _sync

        value = getattr(_sync, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'rawhttp' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _BLOCKING)


__all__ = [
    "Auth",
    "AuthRequest",
    "BasicAuth",
    "DigestAuth",
    "Retry",
    "BodyTooLarge",
    "ConnectError",
    "ConnectTimeout",
    "DecodingError",
    "Error",
    "EventLoopRunning",
    "HTTPStatusError",
    "Headers",
    "IncompleteBody",
    "InformationalResponse",
    "InvalidRequest",
    "InvalidURL",
    "Limits",
    "NoResponse",
    "OneShotOptions",
    "PoolState",
    "PoolTimeout",
    "ProtocolError",
    "ProxyError",
    "ReadError",
    "ReadTimeout",
    "Recorder",
    "RedirectPolicy",
    "RequestOptions",
    "Response",
    "ResponseNotRead",
    "Session",
    "SyncSession",
    "SyncStream",
    "TLSError",
    "Timeout",
    "TimeoutError",
    "Timings",
    "TooManyRedirects",
    "TraceEvent",
    "TransportError",
    "TruncatedRecording",
    "WriteError",
    "WriteTimeout",
    "delete",
    "get",
    "head",
    "options",
    "patch",
    "post",
    "put",
    "read_events",
    "replay",
    "request",
    "__version__",
]
