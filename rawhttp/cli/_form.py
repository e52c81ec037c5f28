"""The -F and --form-string arguments as ``files=`` parts, as curl 7.88.1 parses them
(``name=value``, ``name=@file``, ``name=<file``, with ``;type=``, ``;filename=`` and
``;headers=``; each behaviour checked against it on loopback).  Files are opened
here and closed by the caller (``Body.close()``)."""

from __future__ import annotations

import os
import re
from typing import IO, NamedTuple, NoReturn

from ._exit import EXIT_READ_FILE, EXIT_USAGE, CliError

__all__ = ["UNREADABLE", "FormArg", "first_of", "form_files"]

UNREADABLE = "Failed to open/read local data from file/application"
"""curl's message for a file a body option cannot open (exit 26)."""


class FormArg(NamedTuple):
    """A -F argument, or with ``literal`` a --form-string one."""

    value: str
    literal: bool


def form_files(
    form: list[FormArg], stdin: IO[bytes] | None, warnings: list[str]
) -> tuple[list[tuple[str, object]], tuple[IO[bytes], ...]]:
    """The ``files=`` pairs for the -F/--form-string arguments, and the files opened
    for them (closed here when an argument is refused)."""
    state = _FormState(warnings, [])
    try:
        return [_form_field(arg, stdin, state) for arg in form], tuple(state.opened)
    except BaseException:
        for f in state.opened:
            f.close()
        raise


# curl's content types for a file part: by the filename's ending, any case
_TYPES = {".gif": "image/gif", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
_TYPES |= {".svg": "image/svg+xml", ".txt": "text/plain", ".htm": "text/html"}
_TYPES |= {".html": "text/html", ".pdf": "application/pdf", ".xml": "application/xml"}
_KEYWORDS = ("type=", "filename=", "headers=", "encoder=")
_MEDIA = re.compile(r"[^/ ]+/[^;, \n]")


def _form_field(arg: FormArg, stdin: IO[bytes] | None, state: _FormState) -> tuple[str, object]:
    """One -F/--form-string argument as a ``files=`` pair (exit 2 as curl for a bad
    one, 26 for a file that cannot be opened)."""
    option = "--form-string" if arg.literal else "-F"
    name, eq, rest = arg.value.partition("=")
    if not eq:
        _bad(option, "Illegally formatted input field")
    if arg.literal:
        return name, (None, os.fsencode(rest))
    kind = rest[:1] if rest[:1] in ("@", "<") else ""
    value, i = _word(rest, len(kind), ";," if kind == "@" else ";", state)
    media, filename, lines, i = _params(rest, i, kind == "@", state)
    if i < len(rest):  # curl sends name=@a,b as a multipart/mixed part
        _bad(option, "rawhttp does not send several files in one -F: give each its own -F")
    if kind != "@":
        content = os.fsencode(value) if not kind else _open(value, stdin, state)
        return name, _part(filename, content, media, lines, state)
    content = _open(value, stdin, state)
    filename = value.rpartition("/")[2] if filename is None else filename
    if media is None and value != "-":  # curl sends none for stdin
        ends = [n[n.rfind(".") :].lower() for n in (filename, value) if "." in n]  # as curl
        media = next((_TYPES[end] for end in ends if end in _TYPES), "application/octet-stream")
    return name, _part(filename, content, media, lines, state)


def _word(text: str, i: int, stops: str, state: _FormState) -> tuple[str, int]:
    """A value or parameter from ``i``: leading spaces skipped, then a "quoted"
    string (\\" and \\\\ escaped; what follows up to a stop is dropped with a
    warning) or everything up to a stop, trailing spaces removed."""
    while text[i : i + 1] == " ":
        i += 1
    if text[i : i + 1] != '"':
        end = first_of(text, stops, i)
        return text[i:end].rstrip(" "), end
    out, i = [], i + 1
    while i < len(text) and text[i] != '"':
        if text[i] == "\\" and text[i + 1 : i + 2] in ('"', "\\"):
            i += 1
        out.append(text[i])
        i += 1
    end = first_of(text, stops, i)
    if text[i + 1 : end].strip(" "):
        state.warnings.append("Trailing data after quoted form parameter")
    return "".join(out), end


def _params(
    text: str, i: int, files: bool, state: _FormState
) -> tuple[str | None, str | None, list[str], int]:
    """The ;type= ;filename= ;headers= parameters after a value (;encoder= is refused)."""
    kind = filename = None
    headers: list[str] = []
    stops = ";," if files else ";"
    while text[i : i + 1] == ";":
        i += 1
        while text[i : i + 1] == " ":
            i += 1
        word = text[i:].lower()
        if word.startswith("type="):  # a type runs up to the next known ;keyword=
            i = end = i + 5
            while end < len(text) and not (files and text[end] == ","):
                if text[end] == ";" and text[end + 1 :].lstrip(" ").lower().startswith(_KEYWORDS):
                    break
                end += 1
            kind, i = text[i:end].strip(" "), end
            if not _MEDIA.match(kind):
                _bad("-F", "Illegally formatted content-type field")
        elif word.startswith(("filename=", "headers=")):
            got, i = _word(text, i + 9 if word[0] == "f" else i + 8, stops, state)
            if word[0] == "f":
                filename = got
            else:
                headers += _header_lines(got, state)
        elif word.startswith("encoder="):
            _bad("-F", "rawhttp does not support ;encoder=")
        else:
            end = first_of(text, stops, i)
            state.warnings.append(f"skip unknown form field: {text[i:end]}")
            i = end
    return kind, filename, headers, i


class _FormState(NamedTuple):
    warnings: list[str]
    opened: list[IO[bytes]]


def _bad(option: str, why: str) -> NoReturn:
    raise CliError(EXIT_USAGE, f"option {option}: is badly used here ({why})")


def _header_lines(value: str, state: _FormState) -> list[str]:
    """;headers=: one header line, or with @file the file's lines (# comments and
    empty lines skipped, a line starting with a space or tab continues the last)."""
    if not value.startswith("@"):
        return [value]
    try:
        with open(value[1:], "rb") as f:
            text = os.fsdecode(f.read())
    except OSError as exc:
        state.warnings.append(f"Cannot read from {value[1:]}: {exc.strerror}")
        return []
    lines: list[str] = []
    for line in text.replace("\r", "").split("\n"):
        if line[:1] in (" ", "\t") and lines:
            lines[-1] += line
        elif line.strip() and not line.startswith("#"):
            lines.append(line)
    return lines


def _part(
    filename: str | None, content: object, media: str | None, lines: list[str], state: _FormState
) -> tuple[str | None, object, str | None, list[tuple[str, bytes]] | None]:
    headers = []
    for line in lines:
        name, colon, value = line.partition(":")
        if colon:
            headers.append((name.strip(), os.fsencode(value.strip())))
        else:
            state.warnings.append(f"part header line without a colon skipped: {name}")
    return filename, content, media, headers or None


def _open(path: str, stdin: IO[bytes] | None, state: _FormState) -> bytes | IO[bytes]:
    """A file for a part: stdin's bytes for -, else the open file (b"" for a
    directory, as curl); exit 26 as curl when it cannot be opened."""
    if path == "-":
        return stdin.read() if stdin is not None else b""
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed by Body.close()
    except IsADirectoryError:
        return b""
    except OSError as exc:
        raise CliError(EXIT_READ_FILE, UNREADABLE) from exc
    state.opened.append(f)
    return f


def first_of(text: str, stops: str, start: int) -> int:
    """Where the first of ``stops`` is in ``text`` from ``start`` (its length: none)."""
    return min((i for i in (text.find(c, start) for c in stops) if i >= 0), default=len(text))
