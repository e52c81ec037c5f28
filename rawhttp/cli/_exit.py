"""curl's exit code and one-line message for whatever ended the command: rawhttp's
errors are sorted by their type and the data they carry (a TLSError's ``reason``, a
ConnectError's ``reason`` and ``proxy``, an InvalidURL's ``reason``, a ProtocolError's
``rule``), never by their message text."""

from __future__ import annotations

import rawhttp

__all__ = ["CliError", "exit_code"]

# curl's exit codes for the situations rawhttp can meet
EXIT_OK = 0
EXIT_UNSUPPORTED = 1
EXIT_USAGE = 2
EXIT_URL = 3
EXIT_RESOLVE_PROXY = 5
EXIT_RESOLVE = 6
EXIT_CONNECT = 7
EXIT_WEIRD_REPLY = 8
EXIT_PARTIAL = 18
EXIT_HTTP_ERROR = 22
EXIT_WRITE = 23
EXIT_READ_FILE = 26
EXIT_TIMEOUT = 28
EXIT_TLS = 35
EXIT_REDIRECTS = 47
EXIT_EMPTY_REPLY = 52
EXIT_SEND = 55
EXIT_RECV = 56
EXIT_CERT = 60
EXIT_ENCODING = 61
EXIT_CACERT = 77
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """A failure of the command itself (an option, a local file, -f): its exit code
    and message."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def exit_code(exc: BaseException) -> tuple[int, str]:
    """curl's exit code and a one-line message for an error; anything that is not a
    rawhttp or command error is raised again (a bug must show its traceback)."""
    if isinstance(exc, CliError):
        return exc.code, str(exc)
    message = str(exc) or type(exc).__name__
    if isinstance(exc, rawhttp.InvalidURL):
        if exc.reason == "scheme":
            scheme = f'"{exc.scheme}" ' if exc.scheme else ""
            return EXIT_UNSUPPORTED, f"Protocol {scheme}not supported"
        return EXIT_URL, f"URL rejected: {message}"
    if isinstance(exc, rawhttp.InvalidRequest):
        return EXIT_USAGE, message
    if isinstance(exc, rawhttp.ProxyError):
        if exc.status is not None:
            return EXIT_RECV, f"CONNECT tunnel failed, response {exc.status}"
        return EXIT_RECV, f"Proxy CONNECT aborted: {message}"
    if isinstance(exc, rawhttp.TimeoutError):
        return EXIT_TIMEOUT, f"Operation timed out: {message}"
    if isinstance(exc, rawhttp.TLSError):
        return _tls(exc, message)
    if isinstance(exc, rawhttp.ConnectError):
        return _connect(exc, message)
    if isinstance(exc, rawhttp.TooManyRedirects):
        return EXIT_REDIRECTS, f"Maximum redirects followed: {message}"
    if isinstance(exc, rawhttp.ProtocolError):
        return _PROTOCOL.get(exc.rule) or _protocol(exc.rule, message)
    if isinstance(exc, rawhttp.WriteError):
        return EXIT_SEND, f"Failed sending data to the peer: {message}"
    if isinstance(exc, rawhttp.ReadError):
        return EXIT_RECV, f"Failure when receiving data from the peer: {message}"
    if isinstance(exc, rawhttp.DecodingError):
        return EXIT_ENCODING, f"Error while processing content unencoding: {message}"
    if isinstance(exc, rawhttp.Error):
        return EXIT_WEIRD_REPLY, message
    raise exc


_PROTOCOL: dict[str, tuple[int, str]] = {
    # no complete line came (a status line cut off too): curl counts only whole lines
    "no-response": (EXIT_EMPTY_REPLY, "Empty reply from server"),
    "status-line-incomplete": (EXIT_EMPTY_REPLY, "Empty reply from server"),
    # not HTTP/ at all (curl's HTTP/0.9), another version, a status code out of range
    "status-line": (EXIT_UNSUPPORTED, "Received HTTP/0.9 when not allowed"),
    "http-version": (EXIT_UNSUPPORTED, "Unsupported HTTP version in response"),
    "status-code": (EXIT_UNSUPPORTED, "Unsupported response code in HTTP response"),
    # bad chunking
    "chunk-size": (EXIT_RECV, "Illegal or missing hexadecimal sequence in chunked-encoding"),
    "chunk-data": (EXIT_RECV, "Malformed encoding found in chunked-encoding"),
    "trailer": (EXIT_RECV, "Failed reading the chunked-encoded stream"),
}
"""The rules curl reports with a fixed message (each measured with curl 7.88.1)."""


def _protocol(rule: str, message: str) -> tuple[int, str]:
    """The exit code of a ProtocolError whose message has the details."""
    if rule in ("body-incomplete", "head-incomplete"):
        return EXIT_PARTIAL, f"Transferred a partial file: {message}"
    if rule == "transfer-coding":
        return EXIT_ENCODING, f"Error while processing content unencoding: {message}"
    return EXIT_WEIRD_REPLY, f"Weird server reply: {message}"


def _tls(exc: rawhttp.TLSError, message: str) -> tuple[int, str]:
    if exc.reason == "certificate":
        return EXIT_CERT, f"SSL certificate problem: {message}"
    if exc.reason == "ca_bundle":
        return EXIT_CACERT, f"Problem with the SSL CA cert: {message}"
    return EXIT_TLS, f"SSL connect error: {message}"


def _connect(exc: rawhttp.ConnectError, message: str) -> tuple[int, str]:
    if exc.proxy is not None:  # the proxy could not be reached
        if exc.reason == "resolve":
            return EXIT_RESOLVE_PROXY, f"Could not resolve proxy: {message}"
        return EXIT_CONNECT, f"Failed to connect to proxy: {message}"
    if exc.reason == "resolve":
        host = message.removeprefix("could not resolve host: ")
        return EXIT_RESOLVE, f"Could not resolve host: {host}"
    return EXIT_CONNECT, f"Failed to connect: {message}"
