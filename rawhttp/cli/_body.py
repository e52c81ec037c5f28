"""The request body options (-d and its kin, --json, -F/--form-string, -G, -T): the
method they imply, the URL, the body and the headers to add, as curl 7.88.1 builds
them (each behaviour checked against it on loopback; -F's own syntax is parsed in
:mod:`rawhttp.cli._form`).  Files for -F and -T are opened when the body is built,
streamed by the Session and closed by ``Body.close()``; -d @file data is read at
once, as curl does."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import IO, NamedTuple, NoReturn

from ._exit import EXIT_READ_FILE, EXIT_USAGE, CliError
from ._form import UNREADABLE, FormArg, first_of, form_files

__all__ = ["Body", "DataArg", "FormArg", "build_body"]

BLOCK = 64 * 1024
"""Bytes read from stdin at a time for -T - (sent as they come, chunked)."""

FORM_TYPE = b"application/x-www-form-urlencoded"
JSON_TYPE = b"application/json"
_OPTION = {"data": "-d", "binary": "--data-binary", "json": "--json"}
# curl's names for the request kinds in its "only one HTTP request method" message
_KIND = {"POST": "POST (-d, --data)", "GET": "GET (-G, --get)", "HEAD": "HEAD (-I, --head)"}
_KIND |= {"PUT": "PUT (-T, --upload-file)", "FORM": "multipart formpost (-F, --form)"}
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


class DataArg(NamedTuple):
    """A -d/--data/--data-ascii ("data"), --data-binary ("binary"), --data-raw
    ("raw"), --data-urlencode ("urlencode") or --json ("json") argument."""

    kind: str
    value: str


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
        files, opened = form_files(form, stdin, warnings)
        return Body("POST", url, None, files, headers, tuple(warnings), opened)
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
        raise CliError(EXIT_READ_FILE, UNREADABLE) from exc
    return Body("PUT", _add_name(url, upload), f, None, [], (), (f,))


def _blocks(stdin: IO[bytes]) -> Iterator[bytes]:
    read = getattr(stdin, "read1", stdin.read)  # what has come, not a full block
    while block := read(BLOCK):
        yield block


def _add_name(url: str, path: str) -> str:
    name = path[max(path.rfind("/"), path.rfind("\\")) + 1 :]  # curl cuts at either
    start = url.find("://")
    start = 0 if start < 0 else start + 3
    path_start = first_of(url, "/?#", start)
    path_end = first_of(url, "?#", path_start)
    url_path = url[path_start:path_end]
    if url_path and not url_path.endswith("/"):
        return url
    encoded = _percent(os.fsencode(name), upper=False).decode("ascii")
    return url[:path_start] + (url_path or "/") + encoded + url[path_end:]
