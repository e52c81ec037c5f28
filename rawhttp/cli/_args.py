"""The command line, read as curl reads it: options and URLs in any order, short
options combined (``-sSLo FILE``, ``-ofile``), ``--no-NAME`` for a switch, ``--`` ending
the options, ``-:/--next`` starting another operation and ``-K/--config FILE`` reading
more options from a file (curl's syntax).  The option table is :mod:`._options`.

A usage error raises :class:`UsageError` with curl's message (exit 2), naming the
option as it was written, never a URL."""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace
from typing import Any, NamedTuple

from ._config_file import config_tokens
from ._exit import EXIT_READ_FILE, EXIT_USAGE, CliError
from ._options import BY_LONG, BY_SHORT, OPTIONS, Kind, Option, defaults

__all__ = [
    "Command",
    "Operation",
    "UsageError",
    "help_text",
    "parse_command",
    "takes_argument",
]

MAX_CONFIG_DEPTH = 10
"""-K files read from -K files, at most this deep (a file including itself ends here)."""


class UsageError(CliError):
    """A bad command line: curl's message, exit 2, and the hint to ask for --help."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(code, message)


class Operation(SimpleNamespace):
    """One operation's options (those of the globals included) and its URLs."""

    urls: list[str]
    outputs: list[tuple[str, str | None]]


class Command(NamedTuple):
    operations: list[Operation]
    """The operations with at least one URL, in order."""
    parallel: bool
    parallel_max: int
    show: str | None
    """``"help"`` or ``"version"`` when one was asked for (nothing else runs)."""


class _Reader:
    def __init__(self) -> None:
        self.globals = defaults(is_global=True)
        self.current = defaults(is_global=False)
        self.done: list[dict[str, Any]] = []
        self.show: str | None = None
        self.depth = 0

    def tokens(self, argv: list[str]) -> None:
        i = 0
        while i < len(argv):
            token = argv[i]
            i += 1
            if token == "--":  # the rest are URLs, as curl reads them
                self.current["urls"].extend(argv[i:])
                return
            if token.startswith("--"):
                i = self._long(token, argv, i)
            elif token.startswith("-") and token != "-":
                i = self._short(token, argv, i)
            else:
                self.current["urls"].append(token)

    def _long(self, token: str, argv: list[str], i: int) -> int:
        name = token[2:]
        option = BY_LONG.get(name)
        if option is None and name.startswith("no-") and name[3:] in BY_LONG:
            option = BY_LONG[name[3:]]
            if option.kind is not Kind.FLAG:
                raise UsageError(f"option {token}: used '--no-' for option that isn't a boolean")
            self._set(option, token, False)
            return i
        if option is None:
            raise UsageError(f"option {token}: is unknown")
        if not takes_argument(option):
            self._set(option, token, True)
            return i
        return self._next_argument(option, token, argv, i)

    def _short(self, token: str, argv: list[str], i: int) -> int:
        for at in range(1, len(token)):
            option = BY_SHORT.get(token[at])
            if option is None:
                raise UsageError(f"option {token}: is unknown")
            if not takes_argument(option):
                self._set(option, token, True)
                continue
            rest = token[at + 1 :]
            if rest:  # -ofile
                self._set(option, token, rest)
                return i
            return self._next_argument(option, token, argv, i)
        return i

    def _next_argument(self, option: Option, token: str, argv: list[str], i: int) -> int:
        """``option`` (written ``token``) takes the next argument of ``argv``."""
        if i >= len(argv):
            raise UsageError(f"option {token}: requires parameter")
        self._set(option, token, argv[i])
        return i + 1

    def _set(self, option: Option, written: str, value: Any) -> None:
        where = self.globals if option.is_global else self.current
        kind = option.kind
        if kind is Kind.SPECIAL:
            self._special(option, written, value)
            return
        if option.convert is not None:
            try:
                value = option.convert(value)
            except ValueError as exc:  # the converter says why in curl's words
                raise UsageError(f"option {written}: {exc}") from None
        if kind is Kind.FLAG or kind is Kind.VALUE:
            where[option.dest] = value
        elif kind is Kind.LIST:
            where[option.dest].append(value)
        elif kind is Kind.TAGGED:
            where[option.dest].append((option.tag, value))
        else:  # OUTPUT: -o FILE, or -O
            where[option.dest].append(("file", value) if option.short == "o" else ("remote", None))

    def _special(self, option: Option, written: str, value: Any) -> None:
        if option.long == "url":
            self.current["urls"].append(value)
        elif option.long == "next":
            self.done.append(self.current)
            self.current = defaults(is_global=False)
        elif option.long in ("help", "version"):
            self.show = self.show or option.long
        else:  # -K FILE
            self._config(written, value)

    def _config(self, written: str, name: str) -> None:
        if self.depth >= MAX_CONFIG_DEPTH:
            raise UsageError(f"option {written}: config files nested too deep")
        try:
            if name == "-":
                if sys.stdin is None:
                    raise OSError("stdin is closed")
                text = sys.stdin.buffer.read()
            else:
                with open(name, "rb") as f:
                    text = f.read()
        except OSError:
            raise UsageError(
                f"option {written}: error encountered when reading a file", EXIT_READ_FILE
            ) from None
        lines, warnings = config_tokens(os.fsdecode(text), name)
        for warning in warnings:
            sys.stderr.write(f"Warning: {warning}\n")
        self.depth += 1
        try:
            for line in lines:  # a line's option never takes the next line as parameter
                self.tokens(line)
        finally:
            self.depth -= 1


def takes_argument(option: Option) -> bool:
    """Whether ``option`` takes an argument (switches, -O, -:, -h and -V do not)."""
    if option.kind is Kind.FLAG:
        return False
    return option.long not in ("next", "help", "version", "remote-name")


def parse_command(argv: list[str] | None = None) -> Command:
    """The operations of ``argv`` (the process's arguments by default)."""
    reader = _Reader()
    argv = sys.argv[1:] if argv is None else argv
    reader.tokens(argv)
    reader.done.append(reader.current)
    shared = reader.globals
    operations = [Operation(**{**shared, **values}) for values in reader.done if values["urls"]]
    if reader.show is None and not operations:
        # curl says only where to find help when given nothing at all
        raise UsageError("no URL specified!" if argv != [] else "")
    for op in operations:
        op.trace = op.trace[-1] if op.trace else None  # the last --trace/--trace-ascii wins
    return Command(operations, shared["parallel"], shared["parallel_max"] or 50, reader.show)


def help_text() -> str:
    """--help: every option with its names and help line."""
    lines = ["Usage: rawhttp [options...] <url>...", ""]
    for o in OPTIONS:
        if o.long == "url":
            continue
        names = (f"-{o.short}, " if o.short else "    ") + f"--{o.long}"
        if o.metavar:
            names += f" <{o.metavar}>"
        lines.append(f" {names:<40} {o.help}")
    lines.append("")
    lines.append("Options are curl's; exit codes are curl's. See README.md for the differences.")
    return "\n".join(lines) + "\n"
