"""The one exception tree of rawhttp, and the one place native errors are translated.

Every error a request can raise derives from :class:`Error`.  Errors from the
operating system, asyncio and ssl are turned into rawhttp errors by
:class:`translate`, used around each blocking stream operation.
"""

from __future__ import annotations

import asyncio
import builtins
import socket
import ssl
from typing import Any, Literal, TypeAlias

__all__ = [  # in the order of the tree
    "Error",
    "InvalidURL",
    "InvalidRequest",
    "TooManyRedirects",
    "DecodingError",
    "BodyTooLarge",
    "TransportError",
    "ConnectError",
    "TLSError",
    "ProxyError",
    "ReadError",
    "WriteError",
    "ProtocolError",
    "NoResponse",
    "IncompleteBody",
    "TimeoutError",
    "ConnectTimeout",
    "ReadTimeout",
    "WriteTimeout",
    "PoolTimeout",
]


class Error(Exception):
    """Base class of every exception rawhttp raises.

    An error raised while following redirects carries the chain so far:
    ``history``, the redirect responses followed (oldest first), and ``response``,
    the response received last when it was not followed (the redirect after too
    many, one with an invalid Location, one whose body could not be read), else
    None.  Outside a redirect chain both stay empty."""

    history: tuple[Any, ...] = ()
    """The Responses of the redirects followed before the error."""
    response: Any = None
    """The Response the error came with, if any."""


class InvalidURL(Error, ValueError):
    """The URL is malformed or uses an unsupported scheme."""


class InvalidRequest(Error, ValueError):
    """A method, header or body given by the caller cannot be sent as HTTP/1.1."""


class TooManyRedirects(Error):
    """More redirects than ``max_redirects`` were followed."""


class DecodingError(Error):
    """A content coding could not be decoded."""


class BodyTooLarge(Error):
    """A body read whole (``request()``, ``get()``, ``read()``) is larger than
    ``Limits.max_body_size``: stream it with ``Session.stream()`` and ``iter_bytes()``,
    or raise the limit.  ``limit`` is the limit in bytes; ``size`` how many bytes were
    held when the body was refused (decoded, or as received if those passed the limit
    first), or the declared Content-Length when it was refused before reading; or a
    line read by ``iter_lines()`` is longer than its ``max_line`` (``limit`` is
    ``max_line``, ``size`` the characters held).
    The connection is closed."""

    def __init__(self, message: str, *, limit: int, size: int) -> None:
        super().__init__(message)
        self.limit = limit
        self.size = size


class TransportError(Error):
    """The connection failed, or the server sent something that is not valid HTTP/1.1."""


ConnectReason: TypeAlias = Literal[
    "resolve", "refused", "connect", "certificate", "ca_bundle", "handshake"
]


class ConnectError(TransportError):
    """The connection could not be opened.  ``reason`` says why: ``"resolve"`` (the
    host name could not be resolved), ``"refused"``, or ``"connect"`` (any other
    failure: unreachable, reset, no address of the right family...); a TLSError
    gives the TLS reasons.  ``proxy`` is the proxy's URL (without credentials) when
    it was the proxy that could not be reached, else None."""

    def __init__(
        self, message: str, *, reason: ConnectReason = "connect", proxy: str | None = None
    ) -> None:
        super().__init__(message)
        self.reason: ConnectReason = reason
        self.proxy = proxy


class TLSError(ConnectError):
    """The TLS handshake failed or the certificate was not accepted.  ``reason`` is
    ``"certificate"`` (the server's certificate or name was not accepted),
    ``"ca_bundle"`` (the CA bundle or client certificate could not be loaded) or
    ``"handshake"`` (anything else, the server hanging up included)."""

    def __init__(
        self, message: str, *, reason: ConnectReason = "handshake", proxy: str | None = None
    ) -> None:
        super().__init__(message, reason=reason, proxy=proxy)


class ReadError(TransportError):
    """Receiving failed (for example the connection was reset)."""


class WriteError(TransportError):
    """Sending failed (for example a broken pipe)."""


class ProtocolError(TransportError):
    """The response is malformed, ambiguous, ended early or exceeds a limit."""


class ProxyError(TransportError):
    """A proxy refused to open a tunnel (its CONNECT reply was not 2xx) or did not
    answer CONNECT with an HTTP response.  ``status`` is the proxy's status code,
    or None when there was no valid reply."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TimeoutError(TransportError, builtins.TimeoutError):  # noqa: A001 - the contract's name
    """A timeout expired; also a :class:`builtins.TimeoutError`."""


class ConnectTimeout(TimeoutError):
    """Opening the connection (TCP and TLS) took longer than the connect timeout."""


class ReadTimeout(TimeoutError):
    """The server sent nothing for longer than the read timeout."""


class WriteTimeout(TimeoutError):
    """Sending the request took longer than the write timeout."""


class PoolTimeout(TimeoutError):
    """No connection slot became free within the pool timeout."""


class NoResponse(ProtocolError):
    """The server closed the connection without sending any byte of a response (curl's
    "empty reply").  On a reused connection it is also the signal that an idempotent
    request may be sent again on a new one, which rawhttp does once by itself."""


class IncompleteBody(ProtocolError):
    """The connection closed before the body's framing said it was complete.
    ``received`` is how many body bytes had arrived and ``expected`` how many the
    Content-Length announced (None when unknown: a chunked body)."""

    def __init__(
        self, message: str, *, received: int | None = None, expected: int | None = None
    ) -> None:
        super().__init__(message)
        self.received = received
        self.expected = expected


class ResetBeforeResponse(ReadError):
    """Internal: the connection failed before any byte of a response arrived (retry signal)."""


class ResponseNotRead(Error):
    """``Response.content`` was used on a streamed response whose body was not read yet."""


class translate:  # noqa: N801 - used like a function: ``with translate(...):``
    """Turn native errors raised inside the block into rawhttp errors.

    ``io_error`` is the class for OS-level failures, ``timeout`` the class for
    an expired deadline.  rawhttp's own errors pass through unchanged.  A
    class rather than ``@contextmanager``: it runs on every read and costs less.
    """

    __slots__ = ("io_error", "timeout", "tls")

    def __init__(
        self,
        io_error: type[TransportError],
        timeout: type[TimeoutError],
        *,
        tls: bool = False,
    ) -> None:
        self.io_error = io_error
        self.timeout = timeout
        self.tls = tls

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if exc is None or isinstance(exc, Error):
            return
        new: Error
        if isinstance(exc, builtins.TimeoutError):
            new = self.timeout(_describe_timeout(self.timeout))
        elif isinstance(exc, asyncio.IncompleteReadError):
            new = IncompleteBody(
                f"connection closed after {len(exc.partial)} of {exc.expected} expected bytes",
                received=len(exc.partial),
                expected=exc.expected,
            )
        elif isinstance(exc, asyncio.LimitOverrunError) or (
            # StreamReader.readline() turns LimitOverrunError into a ValueError; any
            # other ValueError is a bug and must not be disguised as a protocol error.
            type(exc) is ValueError and isinstance(exc.__context__, asyncio.LimitOverrunError)
        ):
            new = ProtocolError(f"line exceeds the stream buffer limit: {exc}")
        elif isinstance(exc, ssl.SSLCertVerificationError):
            new = TLSError(
                f"certificate verification failed: {exc.verify_message or exc}",
                reason="certificate",
            )
        elif isinstance(exc, ssl.SSLError):
            reason = exc.reason or exc
            new = (
                TLSError(f"TLS handshake failed: {reason}")
                if self.tls
                else self.io_error(f"TLS error: {reason}")
            )
        elif isinstance(exc, OSError | EOFError):
            if self.tls:  # the server hung up during the handshake
                new = TLSError(f"TLS handshake failed: {_describe_os_error(exc)}")
            elif issubclass(self.io_error, ConnectError):
                new = self.io_error(_describe_os_error(exc), reason=_connect_reason(exc))
            else:
                new = self.io_error(_describe_os_error(exc))
        else:
            return
        raise new from exc


def _describe_timeout(cls: type[TimeoutError]) -> str:
    return {
        ConnectTimeout: "timed out while connecting",
        ReadTimeout: "timed out waiting for the server",
        WriteTimeout: "timed out while sending the request",
        PoolTimeout: "timed out waiting for a free connection in the pool",
    }.get(cls, "timed out")


def _connect_reason(exc: BaseException) -> ConnectReason:
    if isinstance(exc, socket.gaierror):
        return "resolve"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    return "connect"


def _describe_os_error(exc: BaseException) -> str:
    detail = str(exc)
    for cls, what in (
        (socket.gaierror, "could not resolve host"),
        (ConnectionRefusedError, "connection refused"),
        (ConnectionResetError, "connection reset by peer"),
        (BrokenPipeError, "broken pipe"),
    ):
        if isinstance(exc, cls):
            return f"{what}: {detail}" if detail else what
    return detail or type(exc).__name__
