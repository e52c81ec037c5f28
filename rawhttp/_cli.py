"""The ``rawhttp`` command: a small curl-compatible fetcher.

Options, output bytes and exit codes follow curl's for the same situations.
Imports are kept to what a plain http fetch needs, so it starts fast.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from typing import IO, Any, NoReturn

from ._cli_display import Progress, WireLog
from ._version import __version__

# curl's exit codes for the situations rawhttp can meet
EXIT_OK = 0
EXIT_USAGE = 2
EXIT_URL = 3
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

CHUNK = 64 * 1024


class CliError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def _form_data(value: str) -> tuple[str, bool]:
    """-d DATA: (DATA, strip newlines from an @FILE)"""
    return value, True


def _binary_data(value: str) -> tuple[str, bool]:
    """--data-binary DATA: (DATA, strip nothing)"""
    return value, False


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rawhttp",
        usage="rawhttp [options] URL",
        description="Fetch a URL over HTTP/1.1, with curl's option names and exit codes.",
        add_help=False,
        allow_abbrev=False,
    )
    a = p.add_argument
    a("url", metavar="URL", help="the URL to fetch (http:// or https://)")
    a("-X", "--request", metavar="METHOD", help="request method (default GET, or POST with data)")
    a(
        "-H",
        "--header",
        action="append",
        default=[],
        metavar="'Name: value'",
        help='extra header, repeatable; "Name:" removes a default header, "Name;" sends it empty',
    )
    # -d and --data-binary share one list, so the parts are joined in command-line order
    a(
        "-d",
        "--data",
        action="append",
        dest="data",
        default=[],
        type=_form_data,
        metavar="DATA",
        help="form data for a POST, repeatable (joined with &); @FILE reads a file without newlines",
    )
    a(
        "--data-binary",
        action="append",
        dest="data",
        default=[],
        type=_binary_data,
        metavar="DATA",
        help="data sent exactly as given; @FILE reads a file as it is",
    )
    a(
        "--json",
        action="append",
        default=[],
        metavar="DATA",
        help="JSON body (@FILE reads a file); sets Content-Type and Accept to application/json",
    )
    a(
        "-o",
        "--output",
        metavar="FILE",
        help="write the body to FILE instead of stdout (- is stdout)",
    )
    a(
        "-O",
        "--remote-name",
        action="store_true",
        help="write the body to a file named like the URL's",
    )
    a("-i", "--include", action="store_true", help="include the response head in the output")
    a("-I", "--head", action="store_true", help="send HEAD and show the response head only")
    a("-L", "--location", action="store_true", help="follow redirects")
    a(
        "--max-redirs",
        type=int,
        default=50,
        metavar="NUM",
        help="most redirects to follow (default 50)",
    )
    a("-m", "--max-time", type=float, metavar="SECONDS", help="time limit for the whole transfer")
    a("--connect-timeout", type=float, metavar="SECONDS", help="time limit for connecting")
    a("-k", "--insecure", action="store_true", help="do not verify the server's certificate")
    a("--cacert", metavar="FILE", help="CA bundle (PEM) to verify the server with")
    a("-u", "--user", metavar="USER:PASSWORD", help="Basic authentication")
    a("-A", "--user-agent", metavar="NAME", help="User-Agent to send")
    a("-f", "--fail", action="store_true", help="exit 22 without output on HTTP errors (>= 400)")
    a("-s", "--silent", action="store_true", help="no progress meter and no error messages")
    a("-S", "--show-error", action="store_true", help="with -s, still show error messages")
    a("-v", "--verbose", action="store_true", help="show the request and response heads on stderr")
    a("--compressed", action="store_true", help="ask for a compressed response and decode it")
    a(
        "--unix-socket",
        metavar="PATH",
        help="connect to this Unix domain socket instead of the host",
    )
    a(
        "-V",
        "--version",
        action="version",
        version=f"rawhttp {__version__} (Python {sys.version.split()[0]})",
    )
    a("-h", "--help", action="help", help="show this help and exit")
    return p


# -- building the request --------------------------------------------------------


def _arg_bytes(value: str) -> bytes:
    """A command-line argument as the bytes it was given as (like curl, which sends
    argv bytes unchanged): undecodable bytes come back from their surrogate escapes."""
    return os.fsencode(value)


def _arg_url(url: str) -> str:
    """The URL argument with bytes that were not UTF-8 percent-encoded as they are
    (rawhttp would send a surrogate escape as the UTF-8 of the surrogate)."""
    if not any("\udc80" <= c <= "\udcff" for c in url):
        return url
    return "".join(f"%{ord(c) - 0xDC00:02X}" if "\udc80" <= c <= "\udcff" else c for c in url)


def _read_data(value: str, *, strip_newlines: bool) -> bytes:
    if not value.startswith("@"):
        return _arg_bytes(value)
    name = value[1:]
    try:
        if name == "-":
            if sys.stdin is None:  # started with stdin closed
                raise OSError("stdin is closed")
            data = sys.stdin.buffer.read()
        else:
            with open(name, "rb") as f:
                data = f.read()
    except OSError as exc:
        raise CliError(EXIT_READ_FILE, f"Failed to open/read local data from file: {exc}") from exc
    if strip_newlines:
        data = data.replace(b"\r", b"").replace(b"\n", b"")
    return data


def _headers(args: argparse.Namespace) -> tuple[list[tuple[str, bytes]], dict[str, None]]:
    """Request headers in order, and defaults to remove ("Name:" with nothing after)."""
    headers: list[tuple[str, bytes]] = []
    remove: dict[str, None] = {}
    for raw in args.header:
        name, colon, value = raw.partition(":")
        if not colon:
            if raw.endswith(";"):
                headers.append((raw[:-1].strip(), b""))
                continue
            raise CliError(EXIT_USAGE, f"invalid header {raw!r}: expected 'Name: value'")
        name, value = name.strip(), value.strip()
        if value:
            headers.append((name, _arg_bytes(value)))
        else:
            remove[name] = None
    return headers, remove


def _request_options(args: argparse.Namespace) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(method, request keyword arguments, Session keyword arguments)"""
    headers, remove = _headers(args)
    # headers given (or removed with "Name:") on the command line are not added by rawhttp
    names = {name.lower() for name in [*(name for name, _ in headers), *remove]}
    body: bytes | None = None
    if args.json:
        body = b"".join(_read_data(v, strip_newlines=False) for v in args.json)
        for name, value in (("Content-Type", b"application/json"), ("Accept", b"application/json")):
            if name.lower() not in names:
                headers.append((name, value))
    elif args.data:
        body = b"&".join(_read_data(v, strip_newlines=strip) for v, strip in args.data)
        if "content-type" not in names:
            headers.append(("Content-Type", b"application/x-www-form-urlencoded"))
    if args.user_agent is not None:
        headers = [(n, v) for n, v in headers if n.lower() != "user-agent"]
        headers.append(("User-Agent", _arg_bytes(args.user_agent)))
    method = args.request or ("HEAD" if args.head else "POST" if body is not None else "GET")
    request: dict[str, Any] = {"headers": headers, "follow_redirects": args.location}
    if body is not None:
        request["content"] = body
    if args.user is not None and "authorization" not in names:
        # Built here rather than with auth=(user, password): the bytes given on the
        # command line are sent as they are, whatever their encoding.  rawhttp drops it
        # when a redirect leaves the origin, as it does for auth=.
        import base64

        user, _, password = _arg_bytes(args.user).partition(b":")
        token = base64.b64encode(user + b":" + password)
        headers.append(("Authorization", b"Basic " + token))
    session: dict[str, Any] = {
        "headers": remove,
        "decode_content": args.compressed,
        "max_redirects": max(args.max_redirs, 0) if args.max_redirs >= 0 else 10**9,
        "verify": False if args.insecure else (args.cacert or True),
        "max_connections": 1,
        "unix_socket": args.unix_socket,
    }
    return method, request, session


# -- running ---------------------------------------------------------------------------


def _remote_name(url: str) -> str:
    path = url.split("#", 1)[0].split("?", 1)[0]
    after_scheme = path.split("://", 1)[-1]
    name = after_scheme.split("/", 1)[1].rsplit("/", 1)[-1] if "/" in after_scheme else ""
    if not name:
        raise CliError(EXIT_WRITE, "Remote file name has no length")
    return name


async def fetch(args: argparse.Namespace, out: IO[bytes] | None, err: IO[bytes]) -> int:
    import rawhttp

    method, request, session_options = _request_options(args)
    # curl: 0 (like no option) means no limit on the whole transfer, 300 s for connecting
    timeout = rawhttp.Timeout(
        None, connect=args.connect_timeout or 300.0, total=args.max_time or None
    )
    to_file = (args.output is not None and args.output != "-") or args.remote_name
    target: IO[bytes] | None = out
    opened: IO[bytes] | None = None
    progress: Progress | None = None
    include = args.include or args.head
    log = WireLog(args.verbose, err)
    async with (
        rawhttp.Session(timeout=timeout, trace=log, **session_options) as s,
        s.stream(method, _arg_url(args.url), **request) as r,
    ):
        if args.fail and r.status >= 400:
            raise CliError(EXIT_HTTP_ERROR, f"The requested URL returned error: {r.status}")
        if to_file:
            name = args.output if args.output is not None else _remote_name(args.url)
            try:
                opened = open(name, "wb")  # noqa: SIM115, ASYNC230 - a local file, closed below
            except OSError as exc:
                raise CliError(EXIT_WRITE, f"Failed to open the output file: {exc}") from exc
            target = opened
        elif target is None:
            raise CliError(EXIT_WRITE, "Failure writing output: stdout is closed")
        try:
            if include:
                _write(target, b"".join(log.heads))
            if args.head:
                return EXIT_OK
            if to_file and not args.silent and sys.stderr.isatty():
                length = r.headers.get("content-length", "")
                decoded = args.compressed and "content-encoding" in r.headers
                known = length.isdigit() and not decoded
                progress = Progress(sys.stderr, int(length) if known else None)
            chunks = r.iter_bytes() if args.compressed else r.iter_raw()
            async for chunk in chunks:
                _write(target, chunk)
                if progress is not None:
                    progress.update(len(chunk))
            try:
                target.flush()
            except OSError as exc:
                raise CliError(EXIT_WRITE, f"Failure writing output: {exc}") from exc
        except BaseException:
            if opened is not None:
                # what arrived stays in the file; the error to report is the first one
                with contextlib.suppress(OSError):
                    opened.close()
            raise
        finally:
            if progress is not None:
                progress.finish()
            if opened is not None and not opened.closed:
                try:
                    opened.close()
                except OSError as exc:
                    raise CliError(EXIT_WRITE, f"Failure writing output: {exc}") from exc
    return EXIT_OK


def _write(target: IO[bytes], data: bytes) -> None:
    try:
        target.write(data)
    except OSError as exc:
        raise CliError(EXIT_WRITE, f"Failure writing output: {exc}") from exc


def exit_code(exc: BaseException) -> tuple[int, str]:
    """curl's exit code and a one-line message for an error."""
    import socket

    from . import _exceptions as e

    if isinstance(exc, CliError):
        return exc.code, str(exc)
    message = str(exc) or type(exc).__name__
    if isinstance(exc, e.InvalidURL):
        return EXIT_URL, f"URL rejected: {message}"
    if isinstance(exc, e.InvalidRequest):
        return EXIT_USAGE, message
    if isinstance(exc, e.TimeoutError):
        return EXIT_TIMEOUT, f"Operation timed out: {message}"
    if isinstance(exc, e.TLSError):
        if "certificate verif" in message:
            return EXIT_CERT, f"SSL certificate problem: {message}"
        if "cannot load CA bundle" in message:
            return EXIT_CACERT, f"Problem with the SSL CA cert: {message}"
        return EXIT_TLS, f"SSL connect error: {message}"
    if isinstance(exc, e.ConnectError):
        if isinstance(exc.__cause__, socket.gaierror):
            return (
                EXIT_RESOLVE,
                f"Could not resolve host: {message.removeprefix('could not resolve host: ')}",
            )
        return EXIT_CONNECT, f"Failed to connect: {message}"
    if isinstance(exc, e.TooManyRedirects):
        return EXIT_REDIRECTS, f"Maximum redirects followed: {message}"
    if isinstance(exc, e.NoResponse):
        return EXIT_EMPTY_REPLY, "Empty reply from server"
    if isinstance(exc, e.IncompleteBody):
        return EXIT_PARTIAL, f"Transferred a partial file: {message}"
    if isinstance(exc, e.ProtocolError):
        return EXIT_WEIRD_REPLY, f"Weird server reply: {message}"
    if isinstance(exc, e.WriteError):
        return EXIT_SEND, f"Failed sending data to the peer: {message}"
    if isinstance(exc, e.ReadError):
        return EXIT_RECV, f"Failure when receiving data from the peer: {message}"
    if isinstance(exc, e.DecodingError):
        return EXIT_ENCODING, f"Error while processing content unencoding: {message}"
    if isinstance(exc, e.Error):
        return EXIT_WEIRD_REPLY, message
    raise exc


def main(argv: list[str] | None = None) -> NoReturn:
    if sys.stderr is None:  # started with stderr closed: messages go nowhere, no crash
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    parser = build_parser()
    args = parser.parse_args(argv)
    for option, value in (
        ("--max-time", args.max_time),
        ("--connect-timeout", args.connect_timeout),
    ):
        # not "value < 0": NaN must be refused too (and infinity, which is no number of seconds)
        if value is not None and not 0 <= value < float("inf"):
            parser.error(f"argument {option}: expected a number of seconds >= 0, not {value}")
    if args.output is not None and args.remote_name:
        args.remote_name = False
    err = sys.stderr.buffer
    # None when started with stdout closed: fine with -o, exit 23 when the body needs it
    out = sys.stdout.buffer if sys.stdout is not None else None
    try:
        code = asyncio.run(fetch(args, out, err))
    except KeyboardInterrupt:
        code, message = 130, "interrupted"
        sys.stderr.write(f"\nrawhttp: {message}\n")
    except Exception as exc:
        code, message = exit_code(exc)
        if not args.silent or args.show_error:
            sys.stderr.write(f"rawhttp: ({code}) {message}\n")
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except OSError:  # stdout closed early (rawhttp URL | head): nothing more to write
        code = code or EXIT_WRITE
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(code)
