"""One run of the command: build the Session and the request, send it (the Session
follows the redirects with -L), and stream the body to stdout, -o FILE or -O, with
-i's heads, -f's check and the progress meter; what -w needs is kept in a
:class:`Transfer` as it goes."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from typing import IO

import rawhttp

from ._chain import chain_after
from ._display import Progress, TraceDump, WireLog
from ._exit import EXIT_HTTP_ERROR, EXIT_OK, EXIT_WRITE, CliError
from ._request import Outgoing, make_session, outgoing

__all__ = ["Transfer", "fetch", "remote_name"]


class Transfer:
    """What -w reports about the run, filled in as it goes."""

    def __init__(self) -> None:
        self.started = False
        """A request was attempted (-w is written only then, as curl does)."""
        self.start = 0.0
        """``time.monotonic()`` when the first request started."""
        self.end: float | None = None
        self.method = ""
        """The first request's method."""
        self.url = ""
        """The first request's URL, as given."""
        self.history: list[rawhttp.Response] = []
        """The redirects followed."""
        self.response: rawhttp.Response | None = None
        """The last response, when the last request was answered."""
        self.log: WireLog | None = None
        self.filename: str | None = None


async def fetch(
    args: argparse.Namespace,
    out: IO[bytes] | None,
    err: IO[bytes],
    transfer: Transfer | None = None,
) -> int:
    """Run the transfer the options describe; exit 0 or an exception."""
    t = Transfer() if transfer is None else transfer
    request, remove = outgoing(args)
    t.method, t.url = request.method, request.url
    log = t.log = WireLog(args.verbose, err, stamp=args.trace_time)
    trace_file: IO[bytes] | None = None
    try:
        async with make_session(args, remove, log) as session:
            log.dump, trace_file = _open_trace(args, out, err)
            await _run(session, request, args, out, t)
    finally:
        if t.end is None:
            t.end = time.monotonic()
        if trace_file is not None:
            with contextlib.suppress(OSError):
                trace_file.close()
    if log.dump is not None and log.dump.error is not None:  # reported after the transfer, as -o
        raise CliError(EXIT_WRITE, f"Failed writing the trace: {log.dump.error}")
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


async def _run(
    session: rawhttp.Session,
    request: Outgoing,
    args: argparse.Namespace,
    out: IO[bytes] | None,
    t: Transfer,
) -> None:
    """Send the request (and with -L the redirects' requests) and deliver the response."""
    t.started = True
    t.start = time.monotonic()
    stream = session.stream(
        request.method,
        request.url,
        headers=request.headers,
        content=request.content,
        timeout=request.timeout,
    )
    try:
        async with stream as r:
            t.history, t.response = r.history, r
            await _deliver(r, args, out, t)
    except BaseException as exc:
        if t.response is None:  # the Session raised: the chain is on the error
            t.history, t.response = chain_after(exc)
        raise


async def _deliver(
    r: rawhttp.Response, args: argparse.Namespace, out: IO[bytes] | None, t: Transfer
) -> None:
    """-f's check, then the heads for -i/-I and the body, to stdout or a file."""
    to_file = (args.output is not None and args.output != "-") or args.remote_name
    opened: IO[bytes] | None = None
    target: IO[bytes]
    progress: Progress | None = None
    try:
        if args.fail and r.status >= 400:
            raise CliError(EXIT_HTTP_ERROR, f"The requested URL returned error: {r.status}")
        if to_file:
            name = args.output if args.output is not None else remote_name(args.url)
            try:
                opened = open(name, "wb")  # noqa: SIM115, ASYNC230 - a local file, closed below
            except OSError as exc:
                raise CliError(EXIT_WRITE, f"Failed to open the output file: {exc}") from exc
            target = opened
            t.filename = name
        elif out is None:
            raise CliError(EXIT_WRITE, "Failure writing output: stdout is closed")
        else:
            target = out
        if (args.include or args.head) and t.log is not None:
            _write(target, b"".join(t.log.heads))
        if args.head:
            return
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


def _write(target: IO[bytes], data: bytes) -> None:
    try:
        target.write(data)
    except OSError as exc:
        raise CliError(EXIT_WRITE, f"Failure writing output: {exc}") from exc


def remote_name(url: str) -> str:
    """-O: the last segment of the URL's path; exit 23 when it is empty."""
    path = url.split("#", 1)[0].split("?", 1)[0]
    after_scheme = path.split("://", 1)[-1]
    name = after_scheme.split("/", 1)[1].rsplit("/", 1)[-1] if "/" in after_scheme else ""
    if not name:
        raise CliError(EXIT_WRITE, "Remote file name has no length")
    return name
