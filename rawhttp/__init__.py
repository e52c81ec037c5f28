"""rawhttp: a small, strict and fast HTTP/1.1 client on asyncio streams."""

from ._config import Limits, Timeout
from ._exceptions import (
    ConnectError,
    ConnectTimeout,
    DecodingError,
    Error,
    HTTPStatusError,
    InvalidRequest,
    InvalidURL,
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
from ._record import Recorder, replay
from ._response import InformationalResponse, Response
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
    "ConnectError",
    "ConnectTimeout",
    "DecodingError",
    "EventLoopRunning",
    "Error",
    "HTTPStatusError",
    "Headers",
    "InformationalResponse",
    "InvalidRequest",
    "InvalidURL",
    "Limits",
    "PoolTimeout",
    "ProtocolError",
    "ProxyError",
    "ReadError",
    "ReadTimeout",
    "Recorder",
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
    "WriteError",
    "WriteTimeout",
    "__version__",
    "delete",
    "get",
    "head",
    "options",
    "patch",
    "post",
    "put",
    "replay",
    "request",
]
