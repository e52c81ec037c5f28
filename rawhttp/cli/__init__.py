"""The ``rawhttp`` command: a curl-compatible fetcher for shell scripts, built on
rawhttp's public API only.

Options, output bytes and exit codes follow curl's for the same situations.  One
job per module: :mod:`._options` (the option table), :mod:`._args` (reading the
command line) and :mod:`._config_file` (``-K`` files), :mod:`._run` (the operations,
their URLs and outputs), :mod:`._request` (the request and Session the options ask
for), :mod:`._transfer` (one transfer, writing the body), :mod:`._exit` (curl's exit
codes), :mod:`._display` (-v, --trace, the progress meter) and :mod:`._writeout`
(-w).  What a plain fetch does not need is imported when used, so the command
starts fast.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import NoReturn

from ._args import UsageError, help_text, parse_command
from ._exit import EXIT_INTERRUPTED, EXIT_WRITE, exit_code
from ._run import run_command

__all__ = ["main"]


def main(argv: list[str] | None = None) -> NoReturn:
    """Run the command with ``argv`` (default: the process's arguments) and exit with
    curl's exit code."""
    if sys.stderr is None:  # started with stderr closed: messages go nowhere, no crash
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    try:
        command = parse_command(argv)
    except UsageError as exc:
        if str(exc):
            sys.stderr.write(f"rawhttp: {exc}\n")
        sys.stderr.write("rawhttp: try 'rawhttp --help' for more information\n")
        sys.exit(exc.code)
    if command.show is not None:
        from rawhttp import __version__

        if command.show == "help":
            text = help_text()
        else:
            text = f"rawhttp {__version__} (Python {sys.version.split()[0]})\n"
        if sys.stdout is not None:
            sys.stdout.write(text)
        sys.exit(0)
    err = sys.stderr.buffer
    # None when started with stdout closed: fine with -o, exit 23 when the body needs it
    out = sys.stdout.buffer if sys.stdout is not None else None
    silent = command.operations[0].silent and not command.operations[0].show_error
    try:
        code = asyncio.run(run_command(command, out, err))
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
        sys.stderr.write("\nrawhttp: interrupted\n")
    except Exception as exc:  # a failure before any transfer (an unreadable -w file)
        code, message = exit_code(exc)
        if not silent:
            sys.stderr.write(f"rawhttp: ({code}) {message}\n")
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except OSError:  # stdout closed early (rawhttp URL | head): nothing more to write
        code = code or EXIT_WRITE
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(code)
