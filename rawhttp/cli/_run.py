"""Running a command line: each operation's URLs in order (globs expanded, ``http://``
added when a URL has no scheme), the n-th ``-o``/``-O`` paired with the n-th URL, one
Session per operation so its transfers reuse connections, ``-Z`` running them
concurrently; after each transfer its error line and its ``-w`` text.  The exit code
is the last transfer's, as curl's (an earlier failure is hidden by a later success).
"""

from __future__ import annotations

import asyncio
import functools
import io
import os
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import IO

import rawhttp

from ._args import Command, Operation
from ._exit import EXIT_OK, EXIT_WRITE, CliError, exit_code
from ._request import headers_and_removals, make_session, outgoing
from ._transfer import Transfer, fetch

__all__ = ["run_command"]


class Job:
    """One transfer: its operation's options with this URL and this output."""

    def __init__(
        self,
        op: Operation,
        url: str,
        output: tuple[str, str | None] | None,
        error: CliError | None = None,
    ) -> None:
        self.error = error
        """Why the URL cannot be fetched (a bad glob): the transfer fails with it."""
        self.args = Operation(**vars(op))
        self.args.url = url
        self.args.output = output[1] if output is not None and output[0] == "file" else None
        self.args.remote_name = output is not None and output[0] == "remote"


def jobs(op: Operation) -> Iterator[Job]:
    """The transfers of ``op``: each URL (each of its glob's URLs) with its output."""
    for n, given in enumerate(op.urls):
        output = op.outputs[n] if n < len(op.outputs) else None
        url = with_scheme(given)
        if op.globoff or not any(c in url for c in "{["):
            yield Job(op, url, output)
            continue
        from ._glob import expand, output_name

        try:
            expanded = expand(url)
        except CliError as exc:  # a failed transfer of its own, as curl's (-w included)
            yield Job(op, url, output, CliError(exc.code, _masked(str(exc), url)))
            continue
        for globbed in expanded:
            named = output
            if output is not None and output[1] is not None:
                named = (output[0], output_name(output[1], globbed.values))
            yield Job(op, globbed.url, named)


def _masked(message: str, url: str) -> str:
    """A glob error's message with the URL's password shown as ``***`` (the caret
    moved with it): curl shows it, rawhttp never puts a secret in a message."""
    import re

    found = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*://)([^/@]*)@", url)
    if found is None or ":" not in found.group(2):
        return message
    user = found.group(2).split(":", 1)[0]
    shown = f"{found.group(1)}{user}:***@{url[found.end() :]}"
    shift = len(shown) - len(url)
    lines = message.split("\n")
    if len(lines) == 3 and lines[1] == url:
        at = re.search(r"position (\d+):$", lines[0])
        caret = len(lines[2]) - 1
        if at is not None and caret >= found.end():
            lines[0] = lines[0][: at.start(1)] + f"{int(at.group(1)) + shift}:"
            lines[2] = " " * (caret + shift) + "^"
        lines[1] = shown
        return "\n".join(lines)
    return message.replace(url, shown)


class Stdin:
    """What the transfers of an operation read from stdin (-d @-, -T -, -F x=@-): the
    stream itself for one transfer; for several, read once and replayed to each."""

    def __init__(self, transfers: int) -> None:
        self.stream = sys.stdin.buffer if sys.stdin is not None else None
        self.shared = transfers > 1
        self.data: bytes | None = None

    def for_transfer(self) -> IO[bytes] | None:
        if not self.shared or self.stream is None:
            return self.stream
        if self.data is None:
            self.data = self.stream.read()
        return io.BytesIO(self.data)


def with_scheme(url: str) -> str:
    """A URL without ``scheme://`` means ``http://``, as curl."""
    import re

    return url if re.match(r"[A-Za-z][A-Za-z0-9+.\-]*://", url) else f"http://{url}"


async def run_command(command: Command, out: IO[bytes] | None, err: IO[bytes]) -> int:
    """Run every transfer of ``command``; the exit code of the last one."""
    code = EXIT_OK
    for op in command.operations:
        fmt = None
        if op.write_out is not None:
            from ._writeout import read_format

            fmt = read_format(op.write_out)
        headers, remove = headers_and_removals(op)
        todo = list(jobs(op))
        stdin = Stdin(len(todo) + (op.retry or 0))  # a retry reads stdin's data again
        async with make_session(op, remove, len(todo)) as session:
            run = functools.partial(_transfer, session=session, fmt=fmt, out=out, err=err)
            if command.parallel and len(todo) > 1:
                codes = await _parallel(todo, command.parallel_max, run, headers, remove, stdin)
                code = codes[-1]
            else:
                for job in todo:
                    code = await run(job, headers, remove, stdin)
    return code


async def _parallel(
    todo: list[Job],
    most: int,
    run: Callable[..., Awaitable[int]],
    *shared: object,
) -> list[int]:
    """-Z: the transfers at once, at most ``most`` at a time; their exit codes in order."""
    limit = asyncio.Semaphore(most)

    async def one(job: Job) -> int:
        async with limit:
            return await run(job, *shared)

    return await asyncio.gather(*(one(job) for job in todo))


async def _transfer(
    job: Job,
    headers: list[tuple[str, bytes]],
    remove: dict[str, None],
    stdin: Stdin,
    *,
    session: rawhttp.Session,
    fmt: str | None,
    out: IO[bytes] | None,
    err: IO[bytes],
) -> int:
    """One transfer (tried again as --retry says), its error line, its -w text and
    the -c jar after it; its exit code."""
    args = job.args
    retry = None
    if args.retry:
        from ._retry import RetryRules

        retry = RetryRules(
            retries=args.retry,
            delay=args.retry_delay or 0,
            max_time=args.retry_max_time or 0,
            all_errors=args.retry_all_errors,
            connrefused=args.retry_connrefused,
        )
    start = time.monotonic()
    done = 0
    while True:
        transfer = Transfer()
        error = await _attempt(job, headers, remove, stdin, session, out, err, transfer)
        if retry is None or job.error is not None:
            break
        response = transfer.response
        verdict = retry.decide(
            done,
            time.monotonic() - start,
            error=error,
            status=None if response is None else response.status,
            retry_after=None if response is None else response.headers.get("retry-after"),
        )
        if not verdict.retry:
            break
        if not args.silent:
            sys.stderr.write(verdict.warning)
        try:
            _throw_away(args, transfer)
        except CliError as exc:
            error = exc
            break
        await asyncio.sleep(verdict.wait)
        done += 1
    code, message = EXIT_OK, ""
    if error is not None:
        code, message = exit_code(error)
        if not args.silent or args.show_error:
            sys.stderr.write(f"rawhttp: ({code}) {message}\n")
    if fmt is not None and transfer.started:
        from ._writeout import report

        report(args, fmt, transfer, code, message)
    if args.cookie_jar is not None:  # after every transfer, failed ones too, as curl
        from ._cookiejar import save_cookies

        save_cookies(session.cookies, args.cookie_jar)
    return code


async def _attempt(
    job: Job,
    headers: list[tuple[str, bytes]],
    remove: dict[str, None],
    stdin: Stdin,
    session: rawhttp.Session,
    out: IO[bytes] | None,
    err: IO[bytes],
    transfer: Transfer,
) -> Exception | None:
    """One try of a transfer; the error it ended with, if any."""
    body = None
    try:
        if job.error is not None:
            transfer.started = True
            raise job.error
        request, body = outgoing(job.args, headers, remove, stdin.for_transfer())
        await fetch(job.args, request, out, err, transfer, session)
    except Exception as exc:
        exit_code(exc)  # anything but a rawhttp or command error is a bug: raised
        return exc
    finally:
        if body is not None:
            body.close()
    return None


def _throw_away(args: Operation, transfer: Transfer) -> None:
    """Before a retry: what the failed try wrote to a file is cut off again, as curl
    does (stdout cannot be taken back)."""
    name = transfer.filename
    if name is None:
        return
    from ._request import resume_offset

    start = resume_offset(args)
    try:
        size = os.path.getsize(name)
        if size > start:
            if not args.silent:
                sys.stderr.write(f"Throwing away {size - start} bytes\n")
            os.truncate(name, start)
    except OSError as exc:
        raise CliError(EXIT_WRITE, f"Failed to truncate file: {exc}") from exc
