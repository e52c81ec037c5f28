"""The request body options (-d and its kin, --json, -F/--form-string, -G, -T): the
method they imply, the URL, the body and the headers to add, as curl 7.88.1 builds
them (each behaviour checked against it on loopback).  Files for -F and -T are
opened here, streamed by the Session and closed by ``Body.close()``; -d @file data
is read at once, as curl does."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from typing import IO, NamedTuple, NoReturn

from ._exit import EXIT_READ_FILE, EXIT_USAGE, CliError

__all__ = ["Body", "DataArg", "FormArg", "build_body"]

BLOCK = 64 * 1024
"""Bytes read from stdin at a time for -T - (sent as they come, chunked)."""

FORM_TYPE = b"application/x-www-form-urlencoded"
JSON_TYPE = b"application/json"
_OPTION = {"data": "-d", "binary": "--data-binary", "json": "--json"}
# curl's names for the request kinds in its "only one HTTP request method" message
_KIND = {"POST": "POST (-d, --data)", "GET": "GET (-G, --get)", "HEAD": "HEAD (-I, --head)"}
_KIND |= {"PUT": "PUT (-T, --upload-file)", "FORM": "multipart formpost (-F, --form)"}
_UNREADABLE = "Failed to open/read local data from file/application"
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


class DataArg(NamedTuple):
    """A -d/--data/--data-ascii ("data"), --data-binary ("binary"), --data-raw
    ("raw"), --data-urlencode ("urlencode") or --json ("json") argument."""

    kind: str
    value: str


class FormArg(NamedTuple):
    """A -F argument, or with ``literal`` a --form-string one."""

    value: str
    literal: bool


class Body(NamedTuple):
    """What the body options ask for.  ``method`` is None when they imply none (GET,
    or HEAD with -I; also with -G); ``content`` is bytes, an open file or an iterator
    of bytes (stdin for -T -, sent chunked); ``files`` goes to rawhttp's ``files=``;
    ``headers`` are to be added; ``warnings`` are curl's "Warning: " lines (without
    that prefix) for stderr; ``opened`` are the files to close: call ``close()``."""

    method: str | None
    url: str
    content: bytes | object | None
    files: list[tuple[str, object]] | None
    headers: list[tuple[str, bytes]]
    warnings: tuple[str, ...] = ()
    opened: tuple[IO[bytes], ...] = ()

    def close(self) -> None:
        """Close the files opened for the body."""
        for f in self.opened:
            f.close()


def build_body(
    *,
    data: list[DataArg],
    form: list[FormArg],
    upload: str | None,
    get: bool,
    head: bool,
    url: str,
    given: frozenset[str],
    stdin: IO[bytes] | None = None,
) -> Body:
    """The Body for the options; ``given``: lower-case names of the headers set or
    removed with -H (never added here); ``stdin``: where ``@-`` and ``-T -`` read
    (default: the process's stdin).  Exit 2 for options that cannot go together,
    26 for a file -F or -T cannot open (both as curl)."""
    if stdin is None and sys.stdin is not None:
        stdin = sys.stdin.buffer
    _check_kinds(data=bool(data), form=bool(form), upload=upload, get=get, head=head)
    warnings: list[str] = []
    headers: list[tuple[str, bytes]] = []
    if data:
        joined = b""  # the pieces joined with &, but --json's without (curl 7.88: -d a --json b)
        for n, arg in enumerate(data):
            piece = _piece(arg, stdin, warnings)
            joined += piece if n == 0 or arg.kind == "json" else b"&" + piece
        json = any(arg.kind == "json" for arg in data)
        if json:  # curl adds these even with -G
            names = ("Content-Type", "Accept")
            headers += [(name, JSON_TYPE) for name in names if name.lower() not in given]
        if get:
            return Body(None, _add_query(url, joined), None, None, headers, tuple(warnings))
        if not json and "content-type" not in given:
            headers.append(("Content-Type", FORM_TYPE))
        return Body("POST", url, joined, None, headers, tuple(warnings))
    if form:
        state = _FormState(warnings, [])
        try:
            files = [_form_field(arg, stdin, state) for arg in form]
        except BaseException:
            for f in state.opened:
                f.close()
            raise
        return Body("POST", url, None, files, headers, tuple(warnings), tuple(state.opened))
    if upload is not None:
        return _upload(upload, url, stdin)
    return Body(None, url, None, None, headers)


def _check_kinds(*, data: bool, form: bool, upload: str | None, get: bool, head: bool) -> None:
    """Exit 2 as curl does when the options ask for two kinds of request: -F and -I
    are refused as they are read, -d (POST, or GET/HEAD with -G) and -T at the end."""
    kind = "FORM" if form else "HEAD" if head else None
    if form and head:  # curl names the later option first: the order is not known here
        _conflict("FORM", "HEAD")
    if data:
        new = ("HEAD" if head else "GET") if get else "POST"
        if kind is not None and kind != new:
            _conflict(new, kind)
        kind = new
    if upload is not None and kind is not None:
        _conflict("PUT", kind)


def _conflict(new: str, old: str) -> NoReturn:
    both = f"You asked for both {_KIND[new]} and {_KIND[old]}."
    raise CliError(EXIT_USAGE, "You can only select one HTTP request method! " + both)


# -- -d and its kin -------------------------------------------------------------------------


def _piece(arg: DataArg, stdin: IO[bytes] | None, warnings: list[str]) -> bytes:
    kind, value = arg
    if kind == "urlencode":
        return _urlencoded(value, stdin, warnings)
    if kind == "raw" or not value.startswith("@"):
        return os.fsencode(value)
    content = _read(value[1:], stdin, _OPTION[kind], warnings, f'"{value[1:]}"') or b""
    if kind == "data":  # -d @file drops CR and LF; --data-binary and --json keep them
        content = content.replace(b"\r", b"").replace(b"\n", b"")
    return content


def _urlencoded(value: str, stdin: IO[bytes] | None, warnings: list[str]) -> bytes:
    """--data-urlencode's five forms: content, =content, name=content, @file and
    name@file ("=" is looked for first: n@x=b is the name n@x and content b)."""
    eq = value.find("=")
    at = value.find("@") if eq < 0 else -1
    if eq >= 0:
        name, content = value[:eq], os.fsencode(value[eq + 1 :])
    elif at >= 0:
        name = value[:at]
        read = _read(value[at + 1 :], stdin, "--data-urlencode", warnings, f'"{value}"')
        if read is None:
            return b""  # curl drops the name too
        content = read
    else:
        name, content = "", os.fsencode(value)
    encoded = _percent(content, upper=True).replace(b"%20", b"+")
    return os.fsencode(name) + b"=" + encoded if name else encoded


def _percent(data: bytes, *, upper: bool) -> bytes:
    """``data`` with every byte but A-Z a-z 0-9 - . _ ~ as %XX (hex case as curl's
    for the place: upper for --data-urlencode, lower for a -T file name)."""
    form = "%{:02X}" if upper else "%{:02x}"
    return b"".join(bytes((b,)) if b in _UNRESERVED else form.format(b).encode() for b in data)


def _read(
    name: str, stdin: IO[bytes] | None, option: str, warnings: list[str], shown: str
) -> bytes | None:
    """A file's bytes for @name (- is stdin).  As curl: a file that cannot be opened
    gives a warning and None; a directory gives b"" for -d, exit 26 otherwise."""
    try:
        if name == "-":
            if stdin is None:
                raise FileNotFoundError("stdin is closed")
            return stdin.read()
        with open(name, "rb") as f:
            return f.read()
    except IsADirectoryError:
        if option == "-d":
            return b""
        raise CliError(
            EXIT_READ_FILE, f"option {option}: error encountered when reading a file"
        ) from None
    except OSError:
        warnings.append(f"Couldn't read data from file {shown}, this makes an empty POST.")
        return None


def _add_query(url: str, query: bytes) -> str:
    """-G: the data as the URL's query, or after its query with "&" (before any
    fragment, which is kept as curl keeps it)."""
    if not query:
        return url
    base, hash_, fragment = url.partition("#")
    text = query.decode("utf-8", "surrogateescape")  # bytes as given, as argv strings are
    separator = "" if base.endswith("?") else "&" if "?" in base else "?"
    return base + separator + text + hash_ + fragment


# -- -T -------------------------------------------------------------------------------------


def _upload(upload: str, url: str, stdin: IO[bytes] | None) -> Body:
    """PUT the file (its length from the file), or stdin for - or . (chunked, as
    curl: it does not know the length); a URL whose path is empty or ends in / gets
    the file's name, percent-encoded as curl encodes it."""
    if upload in ("-", "."):
        return Body("PUT", url, iter(()) if stdin is None else _blocks(stdin), None, [])
    try:
        f = open(upload, "rb")  # noqa: SIM115 - closed by Body.close()
    except IsADirectoryError:  # curl sends nothing, chunked
        return Body("PUT", _add_name(url, upload), iter(()), None, [])
    except OSError as exc:
        raise CliError(EXIT_READ_FILE, _UNREADABLE) from exc
    return Body("PUT", _add_name(url, upload), f, None, [], (), (f,))


def _blocks(stdin: IO[bytes]) -> Iterator[bytes]:
    read = getattr(stdin, "read1", stdin.read)  # what has come, not a full block
    while block := read(BLOCK):
        yield block


def _add_name(url: str, path: str) -> str:
    name = path[max(path.rfind("/"), path.rfind("\\")) + 1 :]  # curl cuts at either
    start = url.find("://")
    start = 0 if start < 0 else start + 3
    path_start = _first(url, "/?#", start)
    path_end = _first(url, "?#", path_start)
    url_path = url[path_start:path_end]
    if url_path and not url_path.endswith("/"):
        return url
    encoded = _percent(os.fsencode(name), upper=False).decode("ascii")
    return url[:path_start] + (url_path or "/") + encoded + url[path_end:]


def _first(text: str, stops: str, start: int) -> int:
    """Where the first of ``stops`` is in ``text`` from ``start`` (its length: none)."""
    return min((i for i in (text.find(c, start) for c in stops) if i >= 0), default=len(text))


# -- -F and --form-string -------------------------------------------------------------------
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
        end = _first(text, stops, i)
        return text[i:end].rstrip(" "), end
    out, i = [], i + 1
    while i < len(text) and text[i] != '"':
        if text[i] == "\\" and text[i + 1 : i + 2] in ('"', "\\"):
            i += 1
        out.append(text[i])
        i += 1
    end = _first(text, stops, i)
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
            end = _first(text, stops, i)
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
        raise CliError(EXIT_READ_FILE, _UNREADABLE) from exc
    state.opened.append(f)
    return f
