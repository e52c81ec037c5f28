"""rawhttp: a small, strict and fast HTTP/1.1 client on asyncio streams."""

from ._auth import Auth, BasicAuth, DigestAuth
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
from ._options import OneShotOptions, RequestOptions
from ._pool import PoolState
from ._record import Recorder, TruncatedRecording, read_events, replay
from ._redirect_rules import RedirectPolicy
from ._response import HTTPStatusError, InformationalResponse, Response
from ._retries import Retry
from ._session import Session
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
from ._timings import Timings
from ._trace import TraceEvent
from ._version import __version__

__all__ = [
    "Auth",
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
