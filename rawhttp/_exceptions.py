"""The one exception tree of rawhttp, and the one place native errors are translated.

Every error a request can raise derives from :class:`Error`.  Errors from the
operating system, asyncio and ssl are turned into rawhttp errors by
:class:`translate`, used around each blocking stream operation.
"""

from __future__ import annotations

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


URLReason: TypeAlias = Literal["scheme", "host", "port", "syntax"]


class InvalidURL(Error, ValueError):
    """The URL is malformed or uses an unsupported scheme.  ``reason`` says which
    part is wrong, as a stable name:

    ============  ============================================================
    ``"scheme"``  a scheme other than http and https (``ftp://``); ``scheme``
                  is then that scheme, in lower case
    ``"host"``    no host, a host name that is not a valid DNS name (or cannot
                  be IDNA-encoded), an invalid or unbracketed IPv6 address, an
                  IPv6 zone identifier
    ``"port"``    a port that is not a number from 1 to 65535
    ``"syntax"``  anything else: not a str, a control character, no
                  ``scheme://``, userinfo that is not UTF-8, text after an IPv6
                  address; also the default of ``InvalidURL("message")``
    ============  ============================================================
    """

    def __init__(
        self, message: str, *, reason: URLReason = "syntax", scheme: str | None = None
    ) -> None:
        super().__init__(message)
        self.reason: URLReason = reason
        self.scheme = scheme


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


ProtocolRule: TypeAlias = Literal[
    "protocol",
    "status-line",
    "http-version",
    "status-code",
    "reason-phrase",
    "status-line-incomplete",
    "header-line",
    "header-value",
    "obs-fold",
    "head-incomplete",
    "upgrade",
    "content-length",
    "framing",
    "transfer-coding",
    "chunk-size",
    "chunk-data",
    "trailer",
    "no-response",
    "body-incomplete",
    "limit",
]


class ProtocolError(TransportError):
    """The response is malformed, ambiguous, ended early or exceeds a limit.
    ``rule`` names the rule it broke, as a stable short name (RFC 9112 sections):

    ============================  =====================================================
    ``"status-line"``             the first line is not a status line at all: it does
                                  not begin with ``HTTP/`` (``ICY 200 OK``; 4)
    ``"http-version"``            ``HTTP/`` with a version other than 1.x
                                  (``HTTP/2.0 200``, ``HTTP/2 200``; 2.3)
    ``"status-code"``             the status code is not three digits from 100 to
                                  599 (``HTTP/1.1 20``, ``HTTP/1.1 600 x``; 4)
    ``"reason-phrase"``           a control character in the reason phrase, or a
                                  line without its line ending (4)
    ``"status-line-incomplete"``  the connection closed inside the status line,
                                  after some of its bytes
    ``"header-line"``             a field line without a colon or with an invalid
                                  name, or one not ended by CRLF or LF (5)
    ``"header-value"``            a field value holding a control character (5.5)
    ``"obs-fold"``                the header section begins with a folded line (5.2)
    ``"head-incomplete"``         the connection closed inside the header section
    ``"upgrade"``                 a 101 response when no upgrade was asked for
    ``"content-length"``          an invalid or conflicting Content-Length (6.3)
    ``"framing"``                 ambiguous framing: Transfer-Encoding with
                                  Content-Length, or in an HTTP/1.0 response (6.1)
    ``"transfer-coding"``         a Transfer-Encoding rawhttp may not accept:
                                  chunked not last or applied twice, or a coding
                                  the request's TE did not accept (6.1, 7.2)
    ``"chunk-size"``              a malformed chunk-size line (7.1)
    ``"chunk-data"``              chunk data not followed by CRLF or LF (7.1)
    ``"trailer"``                 a malformed trailer field line (7.1.2)
    ``"no-response"``             no byte of a response came (:class:`NoResponse`)
    ``"body-incomplete"``         the body ended before its framing said
                                  (:class:`IncompleteBody`, 8)
    ``"limit"``                   a :class:`Limits` bound was exceeded (a line, a
                                  section, the number of fields or of 1xx responses)
    ``"protocol"``                anything else; the default of
                                  ``ProtocolError("message")``
    ============================  =====================================================
    """

    def __init__(self, message: str, *, rule: ProtocolRule = "protocol") -> None:
        super().__init__(message)
        self.rule: ProtocolRule = rule


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
    request may be sent again on a new one, which rawhttp does once by itself.
    ``rule`` is ``"no-response"``."""

    def __init__(self, message: str, *, rule: ProtocolRule = "no-response") -> None:
        super().__init__(message, rule=rule)


class IncompleteBody(ProtocolError):
    """The connection closed before the body's framing said it was complete.
    ``received`` is how many body bytes had arrived and ``expected`` how many the
    Content-Length announced (None when unknown: a chunked body).  ``rule`` is
    ``"body-incomplete"``."""

    def __init__(
        self,
        message: str,
        *,
        received: int | None = None,
        expected: int | None = None,
        rule: ProtocolRule = "body-incomplete",
    ) -> None:
        super().__init__(message, rule=rule)
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

    def raise_translated(self, exc: BaseException) -> None:
        """What leaving the block with ``exc`` does, for an ``except`` clause on a path
        too hot for a ``with`` (two calls per use): raise ``exc``'s rawhttp error if it
        has one; else return, and the caller re-raises ``exc``."""
        self.__exit__(type(exc), exc, None)

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if exc is None or isinstance(exc, Error):
            return
        new: Error
        if isinstance(exc, builtins.TimeoutError):
            new = self.timeout(_describe_timeout(self.timeout))
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
