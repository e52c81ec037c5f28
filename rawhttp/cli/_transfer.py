"""One run of the command: build the Session and the request, send it (the Session
follows the redirects with -L), and stream the body to stdout, -o FILE or -O, with
-i's heads, -f's check and the progress meter; what -w needs is kept in a
:class:`Transfer` as it goes."""

from __future__ import annotations

import contextlib
import sys
import time
from typing import IO, TYPE_CHECKING

import rawhttp

from ._chain import chain_after
from ._display import Progress, TraceDump, WireLog
from ._exit import EXIT_HTTP_ERROR, EXIT_OK, EXIT_WRITE, CliError
from ._output import Output, dump_heads
from ._request import Outgoing

if TYPE_CHECKING:
    from ._args import Operation

__all__ = ["EXIT_RANGE", "Transfer", "fetch"]

EXIT_RANGE = 33
"""curl's exit code when a server ignores the range -C asks for."""


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
        self.heads_written = False
        """The heads (-i, -D) were written: a later failure does not write them again."""


async def fetch(
    args: Operation,
    request: Outgoing,
    out: IO[bytes] | None,
    err: IO[bytes],
    t: Transfer,
    session: rawhttp.Session,
) -> int:
    """Run the transfer ``args`` describe (one URL: ``request``) on ``session``; exit
    0 or an exception."""
    t.method, t.url = request.method, request.url
    log = t.log = WireLog(args.verbose, err, stamp=args.trace_time)
    trace_file: IO[bytes] | None = None
    try:
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
    args: Operation, out: IO[bytes] | None, err: IO[bytes]
) -> tuple[TraceDump | None, IO[bytes] | None]:
    """The --trace/--trace-ascii dump and the file to close after (None for - and %)."""
    if args.trace is None:
        return None, None
    tag, name = args.trace
    ascii_only = tag == "ascii"
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
    args: Operation,
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
        files=request.files,
        auth=request.auth,
        timeout=request.timeout,
        trace=t.log,
    )
    output = Output(args, out)
    failed = True
    try:
        async with stream as r:
            t.history, t.response = r.history, r
            await _deliver(r, args, output, t)
        failed = False
    except BaseException as exc:
        if t.response is None:  # the Session raised: the chain is on the error
            t.history, t.response = chain_after(exc)
        if not t.heads_written:
            _keep_heads(args, output, t)
        raise
    finally:
        t.end = time.monotonic()
        t.filename = output.name
        output.close(t.response, failed=failed)


def _keep_heads(args: Operation, output: Output, t: Transfer) -> None:
    """After a failure: the heads received so far (every hop's with -L) are written
    for -D and -i as curl would have written them already; errors doing so are
    dropped (the transfer's own error is the one to report)."""
    heads = t.log.heads if t.log is not None else []
    if not heads:
        return
    with contextlib.suppress(CliError):
        dump_heads(args, heads, output.out)
        if args.include or args.head:
            output.write(b"".join(heads), t.response)


async def _deliver(r: rawhttp.Response, args: Operation, output: Output, t: Transfer) -> None:
    """-f's check, the heads for -D and -i/-I, then the body, to stdout or a file."""
    failed = r.status >= 400 and (args.fail or args.fail_with_body)
    if failed and not args.fail_with_body:
        raise CliError(EXIT_HTTP_ERROR, f"The requested URL returned error: {r.status}")
    if args.continue_at is not None and 200 <= r.status < 300 and r.status != 206:
        raise CliError(
            EXIT_RANGE, "HTTP server doesn't seem to support byte ranges. Cannot resume."
        )
    heads = t.log.heads if t.log is not None else []
    dump_heads(args, heads, output.out)
    if args.include or args.head:
        output.write(b"".join(heads), r)
    else:
        output.target(r)  # an empty body still makes its (empty) file
    t.heads_written = True
    if args.head:
        return
    progress = _progress(r, args, output)
    try:
        chunks = r.iter_bytes() if args.compressed else r.iter_raw()
        async for chunk in chunks:
            output.write(chunk, r)
            if progress is not None:
                progress.update(len(chunk))
        output.flush()
    finally:
        if progress is not None:
            progress.finish()
    if failed:
        raise CliError(EXIT_HTTP_ERROR, f"The requested URL returned error: {r.status}")


def _progress(r: rawhttp.Response, args: Operation, output: Output) -> Progress | None:
    """The meter on stderr, as curl's: whenever the body does not go to a terminal,
    never with -s."""
    if args.silent or sys.stderr is None:
        return None
    if not output.to_file:
        try:
            if output.out is None or output.out.isatty():
                return None
        except (OSError, ValueError):
            return None
    length = r.headers.get("content-length", "")
    decoded = args.compressed and "content-encoding" in r.headers
    known = length.isdigit() and not decoded
    return Progress(sys.stderr, int(length) if known else None)
