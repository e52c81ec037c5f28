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
from ._response import Response
from ._session import Session
from ._version import __version__

__all__ = [
    "ConnectError",
    "ConnectTimeout",
    "DecodingError",
    "Error",
    "HTTPStatusError",
    "Headers",
    "InvalidRequest",
    "InvalidURL",
    "Limits",
    "PoolTimeout",
    "ProtocolError",
    "ReadError",
    "ReadTimeout",
    "Response",
    "ResponseNotRead",
    "Session",
    "TLSError",
    "Timeout",
    "TimeoutError",
    "TooManyRedirects",
    "TransportError",
    "WriteError",
    "WriteTimeout",
    "__version__",
]
