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
import time
from typing import IO, TYPE_CHECKING, Any, NoReturn

from ._cli_display import Progress, TraceDump, WireLog
from ._version import __version__

if TYPE_CHECKING:
    from ._response import Response
    from ._session import Session

# curl's exit codes for the situations rawhttp can meet
EXIT_OK = 0
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

CHUNK = 64 * 1024
FORM_TYPE = ("Content-Type", b"application/x-www-form-urlencoded")
"""Added for -d data; dropped with the body when a redirect turns a POST into a GET."""


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


def _trace_file(value: str) -> tuple[str, bool]:
    """--trace FILE: (FILE, not ASCII only)"""
    return value, False


def _trace_ascii_file(value: str) -> tuple[str, bool]:
    """--trace-ascii FILE: (FILE, ASCII only)"""
    return value, True


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
    for code in (301, 302, 303):
        a(
            f"--post{code}",
            action="store_true",
            help=f"with -L, keep a POST (and its body) after a {code} instead of changing to GET",
        )
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
    a(
        "-w",
        "--write-out",
        metavar="FORMAT",
        help="after the transfer, write FORMAT with %%{variables} on stdout (@FILE reads it)",
    )
    # --trace and --trace-ascii share one destination: the last one given wins, as in curl
    a(
        "--trace",
        dest="trace",
        type=_trace_file,
        metavar="FILE",
        help="write every byte sent and received to FILE, in hex and text (- is stdout)",
    )
    a(
        "--trace-ascii",
        dest="trace",
        type=_trace_ascii_file,
        metavar="FILE",
        help="like --trace, as text only",
    )
    a("--trace-time", action="store_true", help="time stamps on --trace and -v lines")
    a("-x", "--proxy", metavar="URL", help='use this http proxy ("" uses none)')
    a(
        "--noproxy",
        metavar="LIST",
        help="comma-separated hosts to reach without the proxy (* for all)",
    )
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
            # not the argument itself: it may be a credential with its colon missing
            raise CliError(EXIT_USAGE, "invalid -H argument (no ':'): expected 'Name: value'")
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
            headers.append(FORM_TYPE)
    if args.user_agent is not None:
        headers = [(n, v) for n, v in headers if n.lower() != "user-agent"]
        headers.append(("User-Agent", _arg_bytes(args.user_agent)))
    method = args.request or ("HEAD" if args.head else "POST" if body is not None else "GET")
    request: dict[str, Any] = {"headers": headers, "follow_redirects": False}
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
        "verify": False if args.insecure else (args.cacert or True),
        "max_connections": 1,
        "unix_socket": args.unix_socket,
    }
    # passed only when given, so that a plain fetch does not depend on them
    if args.proxy:
        session["proxy"] = _check_proxy(args.proxy)
    elif args.proxy == "":  # curl: -x "" overrides the environment's proxies: none at all
        session["trust_env"] = False
    if args.noproxy is not None:
        session["no_proxy"] = args.noproxy
    return method, request, session


def _check_proxy(value: str) -> str:
    """The -x URL if rawhttp can use it; curl's exit codes for one it cannot:
    7 for a scheme other than http://, 5 for a malformed URL."""
    import re

    from ._exceptions import InvalidURL
    from ._proxy import parse_proxy

    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*)://", value)
    # messages show the URL without its credentials
    shown = re.sub(r"^([^/]*//)?[^/?#]*@", lambda m: f"{m.group(1) or ''}***@", value)
    if scheme and scheme.group(1).lower() != "http":
        raise CliError(EXIT_CONNECT, f"Unsupported proxy scheme for '{shown}'")
    try:
        parse_proxy(value)
    except InvalidURL as exc:
        raise CliError(EXIT_RESOLVE_PROXY, f"Unsupported proxy syntax in '{shown}': {exc}") from exc
    return value


# -- running ---------------------------------------------------------------------------


def _remote_name(url: str) -> str:
    path = url.split("#", 1)[0].split("?", 1)[0]
    after_scheme = path.split("://", 1)[-1]
    name = after_scheme.split("/", 1)[1].rsplit("/", 1)[-1] if "/" in after_scheme else ""
    if not name:
        raise CliError(EXIT_WRITE, "Remote file name has no length")
    return name


class Transfer:
    """What -w reports about the run, filled in as it goes."""

    def __init__(self) -> None:
        self.started = False
        """A request was attempted (-w is written only then, as curl does)."""
        self.start = 0.0
        self.end: float | None = None
        self.hop_start = 0.0
        """When the request after the last redirect started."""
        self.url = ""
        """The URL of the last request: the effective URL."""
        self.method = ""
        self.responses: list[Response] = []
        """Every response received, redirects first."""
        self.redirects = 0
        self.log: WireLog | None = None
        self.filename: str | None = None


async def fetch(
    args: argparse.Namespace,
    out: IO[bytes] | None,
    err: IO[bytes],
    transfer: Transfer | None = None,
) -> int:
    t = Transfer() if transfer is None else transfer
    code = await _fetch(args, out, err, t)
    dump = t.log.dump if t.log is not None else None
    if dump is not None and dump.error is not None:  # reported after the transfer, as -o
        raise CliError(EXIT_WRITE, f"Failed writing the trace: {dump.error}")
    return code


async def _fetch(
    args: argparse.Namespace, out: IO[bytes] | None, err: IO[bytes], t: Transfer
) -> int:
    import rawhttp

    method, request, session_options = _request_options(args)
    to_file = (args.output is not None and args.output != "-") or args.remote_name
    target: IO[bytes] | None = out
    opened: IO[bytes] | None = None
    progress: Progress | None = None
    include = args.include or args.head
    dump, trace_file = _open_trace(args, out, err)
    log = t.log = WireLog(args.verbose, err, dump=dump, stamp=args.trace_time)
    try:
        try:
            session = rawhttp.Session(trace=log, **session_options)
        except rawhttp.InvalidURL as exc:  # -x was checked: a proxy from the environment
            raise CliError(EXIT_RESOLVE_PROXY, f"Unsupported proxy syntax: {exc}") from exc
        async with session as s, contextlib.AsyncExitStack() as responses:
            r = await _follow(s, responses, method, _arg_url(args.url), request, args, t)
            try:
                if args.fail and r.status >= 400:
                    raise CliError(EXIT_HTTP_ERROR, f"The requested URL returned error: {r.status}")
                if to_file:
                    name = args.output if args.output is not None else _remote_name(args.url)
                    try:
                        opened = open(name, "wb")  # noqa: SIM115, ASYNC230 - a local file, closed below
                    except OSError as exc:
                        raise CliError(
                            EXIT_WRITE, f"Failed to open the output file: {exc}"
                        ) from exc
                    target = opened
                    t.filename = name
                elif target is None:
                    raise CliError(EXIT_WRITE, "Failure writing output: stdout is closed")
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
                t.end = time.monotonic()
                if progress is not None:
                    progress.finish()
                if opened is not None and not opened.closed:
                    try:
                        opened.close()
                    except OSError as exc:
                        raise CliError(EXIT_WRITE, f"Failure writing output: {exc}") from exc
    finally:
        if t.end is None:
            t.end = time.monotonic()
        if trace_file is not None:
            with contextlib.suppress(OSError):
                trace_file.close()
    return EXIT_OK


def _open_trace(
    args: argparse.Namespace, out: IO[bytes] | None, err: IO[bytes]
) -> tuple[TraceDump | None, IO[bytes] | None]:
    """The --trace/--trace-ascii dump and the file to close after (None for - and %)."""
    if args.trace is None:
        return None, None
    name, ascii_only = args.trace
    opened: IO[bytes] | None = None
    if name == "-":  # stdout, as in curl; "%" is stderr
        if out is None:
            raise CliError(EXIT_WRITE, "Failed to open the trace output: stdout is closed")
        stream = out
    elif name == "%":
        stream = err
    else:
        try:
            stream = opened = open(name, "wb")  # noqa: SIM115 - closed at the end of fetch()
        except OSError as exc:
            raise CliError(EXIT_WRITE, f"Failed to open the trace file: {exc}") from exc
    return TraceDump(stream, ascii_only=ascii_only, stamp=args.trace_time), opened


async def _follow(
    s: Session,
    responses: contextlib.AsyncExitStack,
    method: str,
    url: str,
    request: dict[str, Any],
    args: argparse.Namespace,
    t: Transfer,
) -> Response:
    """The response to the request, with -L the one after the redirects, which are
    followed here rather than by the Session to do what curl does with them:

    - a method given with -X is used for every request;
    - a body (-d, --data-binary, --json) is sent again after a 307 or 308, and after a
      301, 302 or 303 only with --post301, --post302 or --post303: otherwise the
      request goes on without it (as GET, unless -X or -I named the method);
    - -m limits the whole chain; --max-redirs the number of redirects.

    Like the Session, Authorization and Cookie headers are not sent once a redirect
    left the origin, and a Host header given with -H not to another origin."""
    import rawhttp

    # curl: 0 (like no option) means no limit on the whole transfer, 300 s for connecting
    connect = args.connect_timeout or 300.0
    limit = args.max_time or None
    posts = ((301, args.post301), (302, args.post302), (303, args.post303))
    keep_post = frozenset(status for status, kept in posts if kept)
    request = dict(request)
    headers: list[tuple[str, bytes]] = request.pop("headers")
    t.started = True
    t.start = time.monotonic()
    shown = url  # the URL -w reports: as given, then each redirect's without credentials
    while True:
        t.url, t.method, t.hop_start = shown, method, time.monotonic()
        total = None
        if limit is not None:
            total = limit - (t.hop_start - t.start)
            if total <= 0:
                raise rawhttp.TimeoutError(f"the transfer took longer than {limit} s")
        timeout = rawhttp.Timeout(None, connect=connect, total=total)
        stream = s.stream(method, url, headers=headers, timeout=timeout, **request)
        r: Response = await responses.enter_async_context(stream)
        t.responses.append(r)
        if not args.location:
            return r
        from ._redirects import CREDENTIAL_HEADERS, next_hop
        from ._session import _drain
        from ._url import parse_url

        current = parse_url(url)
        # curl treats a request with a body as a POST whatever -X says, for these rules
        semantic = "POST" if "content" in request else method
        hop = next_hop(current, semantic, r.status, r.headers.get("location"), keep_post=keep_post)
        if hop is None:
            return r
        await _drain(r)
        if 0 <= args.max_redirs <= t.redirects:
            raise rawhttp.TooManyRedirects(
                f"more than {args.max_redirs} redirects (last to {str(hop.url)!r})"
            )
        if not hop.same_origin:
            headers = [(n, v) for n, v in headers if n.lower() != "host"]
        if not hop.keep_credentials:
            headers = [(n, v) for n, v in headers if n.lower() not in CREDENTIAL_HEADERS]
        if hop.drop_body and "content" in request:
            del request["content"]
            headers = [h for h in headers if h is not FORM_TYPE]
        method = args.request or ("HEAD" if args.head else hop.method)
        url = hop.url.with_userinfo()  # credentials in the Location are used, as curl does
        shown = str(hop.url)
        t.redirects += 1


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
    if isinstance(exc, e.ProxyError):
        if exc.status is not None:
            return EXIT_RECV, f"CONNECT tunnel failed, response {exc.status}"
        return EXIT_RECV, f"Proxy CONNECT aborted: {message}"
    if isinstance(exc, e.TimeoutError):
        return EXIT_TIMEOUT, f"Operation timed out: {message}"
    if isinstance(exc, e.TLSError):
        if "certificate verif" in message:
            return EXIT_CERT, f"SSL certificate problem: {message}"
        if "cannot load CA bundle" in message:
            return EXIT_CACERT, f"Problem with the SSL CA cert: {message}"
        return EXIT_TLS, f"SSL connect error: {message}"
    if isinstance(exc, e.ConnectError):
        causes = _causes(exc)
        if any(str(c).startswith("cannot connect to proxy ") for c in causes):
            # the proxy could not be reached (the core names it in the message)
            if any(isinstance(c, socket.gaierror) for c in causes):
                return EXIT_RESOLVE_PROXY, f"Could not resolve proxy: {message}"
            return EXIT_CONNECT, f"Failed to connect to proxy: {message}"
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


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions it was raised from, outermost first."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__
    return chain


# -- -w/--write-out --------------------------------------------------------------------


def _read_format(value: str) -> str:
    """The -w argument, or with @FILE the file's text (@- reads stdin), as curl does."""
    if not value.startswith("@"):
        return value
    try:
        return os.fsdecode(_read_data(value, strip_newlines=False))
    except CliError as exc:
        raise CliError(exc.code, f"Failed to read the --write-out format: {exc.__cause__}") from exc


def write_out_values(
    args: argparse.Namespace, t: Transfer, code: int, message: str
) -> tuple[dict[str, str | int | float], dict[str, str]]:
    """The -w variables of the run, and the headers of the last response (lower-case
    names, first value of each) for %header{name}.  What the values mean:

    - times add up the redirect steps, each counted from its own start, as curl does:
      time_connect the pool wait and connect (TCP and a proxy's CONNECT) of every
      step, time_appconnect that plus the TLS handshake of every https:// step (0 over
      http://), time_pretransfer up to the request being sent, time_starttransfer up
      to the first response byte; time_redirect is when the last step began and
      time_total the whole run, both from the start of the first request;
    - size_download is the last body as received: after chunked framing is removed,
      before content decoding (so with --compressed, the compressed size), as curl
      counts it; size_upload the last request's body; size_header and size_request
      count every response and request head (and request body) of the run;
    - http_code is that of the last response received, 0 (written 000) without one.
    """
    log = t.log
    total = max((t.end if t.end is not None else time.monotonic()) - t.start, 0.0)
    values: dict[str, str | int | float] = {
        "exitcode": code,
        "num_redirects": t.redirects,
        "num_connects": log.connects if log else 0,
        "size_header": sum(map(len, log.heads)) if log else 0,
        "size_request": log.sent if log else 0,
        "size_upload": log.upload if log else 0,
        "time_total": total,
        "time_redirect": t.hop_start - t.start if t.redirects else 0.0,
        "url": args.url,
        "url_effective": t.url or _arg_url(args.url),
        "http_code": 0,
        "response_code": 0,
    }
    if code:
        values["errormsg"] = message
    if t.method:
        values["method"] = t.method
    if t.url:
        values["scheme"] = t.url.partition(":")[0].lower()
    if t.filename is not None:
        values["filename_effective"] = t.filename
    connect = appconnect = pretransfer = starttransfer = 0.0
    for response in t.responses:
        timings = response.timings
        connected = timings.pool + timings.connect
        connect += connected
        pretransfer += connected + timings.tls
        if response.url.startswith("https:"):
            appconnect += connected + timings.tls
        starttransfer += timings.first_byte
    values.update(
        time_connect=connect,
        time_appconnect=appconnect,
        time_pretransfer=pretransfer,
        time_starttransfer=starttransfer,
    )
    headers: dict[str, str] = {}
    if t.responses:
        r = t.responses[-1]
        body = r._body  # body bytes as read, de-chunked, before content decoding
        size = body.received if body is not None else 0
        if len(t.responses) > t.redirects:  # the last request was answered
            values["url_effective"] = r.url
        values.update(
            http_code=r.status,
            response_code=r.status,
            size_download=size,
            http_version=r.http_version.removeprefix("HTTP/"),
        )
        for name, value in r.headers.items():
            # header values are latin-1: back to the bytes received, written as they are
            headers.setdefault(name.lower(), os.fsdecode(value.encode("latin-1")))
        if "content-type" in headers:
            values["content_type"] = headers["content-type"]
        if log and log.heads:
            values["num_headers"] = log.heads[-1].count(b"\n") - 2  # CRLF or bare LF heads
        from ._redirects import redirect_location

        location = redirect_location(r.status, r.headers.get("location"))
        if location is not None:
            from ._exceptions import InvalidURL
            from ._redirects import resolve_location
            from ._url import parse_url

            with contextlib.suppress(InvalidURL):
                values["redirect_url"] = str(resolve_location(parse_url(r.url), location))
    else:
        values["size_download"] = 0
    values["speed_download"] = int(values["size_download"]) / total if total > 0 else 0
    values["speed_upload"] = int(values["size_upload"]) / total if total > 0 else 0
    return values, headers


def _write_out(args: argparse.Namespace, fmt: str, t: Transfer, code: int, message: str) -> None:
    """Write the -w text on stdout, warnings on stderr; a failure to write is no error,
    as in curl."""
    from ._writeout import write_out

    values, headers = write_out_values(args, t, code, message)
    text, warnings = write_out(fmt, values, headers)
    for warning in warnings:
        sys.stderr.write(f"rawhttp: {warning}\n")
    if sys.stdout is not None:
        with contextlib.suppress(OSError):
            sys.stdout.buffer.write(os.fsencode(text))


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
    transfer = Transfer()
    message = ""
    fmt: str | None = None
    try:
        if args.write_out is not None:
            fmt = _read_format(args.write_out)
        code = asyncio.run(fetch(args, out, err, transfer))
    except KeyboardInterrupt:
        code, message = 130, "interrupted"
        sys.stderr.write(f"\nrawhttp: {message}\n")
    except Exception as exc:
        code, message = exit_code(exc)
        if not args.silent or args.show_error:
            sys.stderr.write(f"rawhttp: ({code}) {message}\n")
    if fmt is not None and transfer.started:
        _write_out(args, fmt, transfer, code, message)
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except OSError:  # stdout closed early (rawhttp URL | head): nothing more to write
        code = code or EXIT_WRITE
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(code)
