"""The ``rawhttp`` command: a small curl-compatible fetcher, built on rawhttp's
public API only.

Options, output bytes and exit codes follow curl's for the same situations.  One
job per module: :mod:`._args` (the command line), :mod:`._request` (the request and
Session the options ask for), :mod:`._transfer` (running it, writing the body),
:mod:`._exit` (curl's exit codes), :mod:`._display` (-v, --trace, the progress
meter) and :mod:`._writeout` (-w).  What a plain fetch does not need is imported
when used, so the command starts fast.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import NoReturn

from ._args import parse_args
from ._exit import EXIT_INTERRUPTED, EXIT_WRITE, exit_code
from ._transfer import Transfer, fetch

__all__ = ["main"]


def main(argv: list[str] | None = None) -> NoReturn:
    """Run the command with ``argv`` (default: the process's arguments) and exit with
    curl's exit code."""
    if sys.stderr is None:  # started with stderr closed: messages go nowhere, no crash
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    args = parse_args(argv)
    err = sys.stderr.buffer
    # None when started with stdout closed: fine with -o, exit 23 when the body needs it
    out = sys.stdout.buffer if sys.stdout is not None else None
    transfer = Transfer()
    message = ""
    fmt: str | None = None
    try:
        if args.write_out is not None:
            from ._writeout import read_format

            fmt = read_format(args.write_out)
        code = asyncio.run(fetch(args, out, err, transfer))
    except KeyboardInterrupt:
        code, message = EXIT_INTERRUPTED, "interrupted"
        sys.stderr.write(f"\nrawhttp: {message}\n")
    except Exception as exc:
        code, message = exit_code(exc)
        if not args.silent or args.show_error:
            sys.stderr.write(f"rawhttp: ({code}) {message}\n")
    if fmt is not None and transfer.started:
        from ._writeout import report

        report(args, fmt, transfer, code, message)
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except OSError:  # stdout closed early (rawhttp URL | head): nothing more to write
        code = code or EXIT_WRITE
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(code)
