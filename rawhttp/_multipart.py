"""``multipart/form-data`` request bodies (RFC 7578) for ``files=``.

``data=`` gives the text fields (sent first), ``files=`` the file parts.  Parts in
memory are joined into one bytes body; file objects are read in blocks of FILE_BLOCK
as the body is sent (constant memory), with a Content-Length when every file's size
is known, chunked otherwise.  The body can be sent again (redirect, retry) only when
every file can be rewound.  Wire choices, each checked against Werkzeug's parser:

- Names and filenames: UTF-8 in a quoted string, ``"``, CR and LF as ``%22``, ``%0D``
  and ``%0A`` (WHATWG HTML's multipart/form-data encoding algorithm, as browsers
  send them), and ``\\`` as ``\\\\``, which browsers leave alone: Werkzeug (3.1)
  and the email package read a backslash in a quoted string as an escape (RFC 9110
  5.6.4) and lose a lone one.  Other characters, controls included, go as they are;
  newlines in values are not made CRLF (the caller's bytes are sent).
- A file part's filename is the one given, else the file object's own (basename),
  else the field name; ``(None, content)`` has none.  Its Content-Type is the one
  given, else guessed from the filename, else application/octet-stream (none for
  text fields and parts without a filename).
- The boundary is ``rawhttp-`` and 128 random bits; one found in a part held in
  memory is replaced.  Files are not scanned: by chance a file holds it with odds
  of about size / 2**128.  A caller's own Content-Type must be multipart/form-data
  with a boundary, which is then used (as httpx does); any other is refused, since
  the body could not be parsed with it.
"""

from __future__ import annotations

import io
import os
import re
import secrets
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from typing import Any, NamedTuple, TypeAlias

from ._body import FILE_BLOCK, RequestBody, file_extent
from ._exceptions import InvalidRequest
from ._serialize import Field, encode_field, encode_fields

__all__ = ["FilesInput", "encode_multipart"]

FilesInput: TypeAlias = "Mapping[str, Any] | Iterable[tuple[str, Any]]"

BOUNDARY_TRIES = 8
"""Random boundaries tried (only a broken random source gets past the first)."""
_ESCAPES = str.maketrans({"\\": "\\\\", '"': "%22", "\r": "%0D", "\n": "%0A"})
# RFC 2046 5.1.1: 1 to 70 bchars, the last one not a space.
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
_BOUNDARY_PARAM = re.compile(r';[ \t]*boundary[ \t]*=[ \t]*(?:"([^"]*)"|([^; \t]*))', re.I)
_BYTES = bytes | bytearray | memoryview


class _File:
    """A file part's content: read from ``start`` (None: where the file is, once)
    for ``size`` bytes (None: to its end) each time the body is sent."""

    __slots__ = ("file", "size", "start", "what")

    def __init__(self, what: str, file: Any, start: int | None, size: int | None) -> None:
        self.what = what
        self.file = file
        self.start = start
        self.size = size

    def blocks(self) -> Iterator[bytes]:
        left = self.size
        if self.start is not None:
            self._call(self.file.seek, self.start)
        while left is None or left > 0:
            block = self._call(
                self.file.read, FILE_BLOCK if left is None else min(left, FILE_BLOCK)
            )
            if not isinstance(block, bytes):
                if not isinstance(block, bytearray | memoryview):
                    raise InvalidRequest(
                        f"{self.what}: read() returned {type(block).__name__}, not bytes "
                        "(open the file in binary mode, 'rb', and blocking)"
                    )
                block = bytes(block)
            if not block:
                break
            if left is not None:
                left -= len(block)
            yield block
        if left:
            sent = self.size - left if self.size is not None else 0
            raise InvalidRequest(
                f"{self.what}: the file gave {sent} bytes, not the {self.size} it had "
                "when the request was built"
            )

    def _call(self, method: Any, argument: int) -> Any:
        try:
            return method(argument)
        except (OSError, ValueError) as exc:  # ValueError: the file was closed meanwhile
            raise InvalidRequest(f"{self.what}: reading the file failed: {exc}") from exc


class _Part(NamedTuple):
    head: bytes
    """The part's header lines and the empty line after them."""
    content: bytes | _File


class _Stream:
    """The body of a request with file parts: ``segments`` are the bytes around the
    files, joined, and the files; each iteration reads the files again."""

    __slots__ = ("_segments",)

    def __init__(self, segments: list[bytes | _File]) -> None:
        self._segments = segments

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._pieces()

    async def _pieces(self) -> AsyncIterator[bytes]:
        for segment in self._segments:
            if isinstance(segment, bytes):
                yield segment
            else:
                for block in segment.blocks():
                    yield block


def encode_multipart(
    files: FilesInput, data: Any, content_type: bytes | str | None = None
) -> RequestBody:
    """The ``multipart/form-data`` body for ``files=`` and ``data=``; ``content_type``
    is the caller's own Content-Type header, if any (its boundary is used)."""
    parts = [*_text_parts(data), *_file_parts(files)]
    if content_type is None:
        boundary = _new_boundary(parts)
    else:
        boundary = _caller_boundary(content_type)
        if _seen_in(boundary, parts):
            raise InvalidRequest(
                "the boundary of the Content-Type given appears in a part of files= or "
                "data=: leave Content-Type out and rawhttp chooses one"
            )
    kind = "multipart/form-data; boundary=" + boundary.decode("ascii")
    segments = _segments(parts, boundary)
    if len(segments) == 1:
        data_only = segments[0]
        assert isinstance(data_only, bytes)  # a file is always between two byte segments
        return RequestBody(data=data_only, content_type=kind)
    length: int | None = 0
    replayable = True
    for segment in segments:
        if isinstance(segment, bytes):
            length = None if length is None else length + len(segment)
        else:
            length = None if length is None or segment.size is None else length + segment.size
            replayable = replayable and segment.start is not None
    return RequestBody(
        source=_Stream(segments), length=length, content_type=kind, replayable=replayable
    )


def _segments(parts: list[_Part], boundary: bytes) -> list[bytes | _File]:
    """The body as bytes (delimiters, heads and in-memory contents joined) and files."""
    segments: list[bytes | _File] = []
    pending: list[bytes] = []
    for head, content in parts:
        pending += (b"--", boundary, b"\r\n", head)
        if isinstance(content, bytes):
            pending.append(content)
        else:
            segments += (b"".join(pending), content)
            pending = []
        pending.append(b"\r\n")
    pending += (b"--", boundary, b"--\r\n")
    segments.append(b"".join(pending))
    return segments


def _random_boundary() -> bytes:
    return b"rawhttp-" + secrets.token_hex(16).encode("ascii")


def _new_boundary(parts: list[_Part]) -> bytes:
    for _ in range(BOUNDARY_TRIES):
        boundary = _random_boundary()
        if not _seen_in(boundary, parts):
            return boundary
    raise InvalidRequest(f"{BOUNDARY_TRIES} random multipart boundaries were all in the parts")


def _seen_in(boundary: bytes, parts: list[_Part]) -> bool:
    """Whether a delimiter for ``boundary`` could be found inside a part in memory."""
    dashes = b"--" + boundary
    return any(
        dashes in head or (isinstance(content, bytes) and dashes in content)
        for head, content in parts
    )


def _caller_boundary(content_type: bytes | str) -> bytes:
    text = content_type.decode("latin-1") if isinstance(content_type, bytes) else content_type
    kind, _, params = text.partition(";")
    match = _BOUNDARY_PARAM.search(";" + params)
    if kind.strip(" \t").lower() != "multipart/form-data" or match is None:
        raise InvalidRequest(
            f"with files=, a Content-Type header must be multipart/form-data with a boundary "
            f"parameter, not {text!r} (leave it out and rawhttp sets one)"
        )
    boundary = match.group(1) if match.group(1) is not None else match.group(2)
    if not _BOUNDARY.fullmatch(boundary):
        raise InvalidRequest(
            f"invalid multipart boundary {boundary!r} in Content-Type: 1 to 70 letters, "
            "digits or '()+_,-./:=? and spaces, not ending in a space (RFC 2046)"
        )
    return boundary.encode("ascii")


def _pairs(items: Any, option: str) -> Iterator[tuple[str, Any]]:
    """(name, value) from a mapping or an iterable of pairs, names checked."""
    if isinstance(items, Mapping):
        pairs: Iterable[Any] = items.items()
    elif (
        isinstance(items, str | _BYTES) or hasattr(items, "read") or not isinstance(items, Iterable)
    ):
        raise InvalidRequest(
            f"{option} must be a dict or a list of (name, value) pairs, not {type(items).__name__}"
        )
    else:
        pairs = items
    for pair in pairs:
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            what = f"a {type(pair).__name__}"  # not the item itself: it may hold a secret
            if isinstance(pair, tuple | list):
                what += f" of {len(pair)} items"
            raise InvalidRequest(f"{option} items must be (name, value) pairs, not {what}")
        name, value = pair
        if not isinstance(name, str):
            raise InvalidRequest(f"{option} field names must be str, not {type(name).__name__}")
        yield name, value


def _text_parts(data: Any) -> Iterator[_Part]:
    if data is None:
        return
    for name, value in _pairs(data, "data="):
        for item in value if isinstance(value, list | tuple) else (value,):
            yield _Part(_disposition(name, None) + b"\r\n", _text_value(name, item))


def _text_value(name: str, value: object) -> bytes:
    if isinstance(value, str):
        return _utf8(value, f"data= {name!r} value")
    if isinstance(value, _BYTES):
        return bytes(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return str(value).encode("ascii")
        except ValueError as exc:  # an int with more digits than str() allows
            raise InvalidRequest(f"data= {name!r}: {exc}") from None
    raise InvalidRequest(
        f"data= {name!r}: a value with files= must be str, bytes, int or float "
        f"(or a list of them), not {type(value).__name__}"
    )


def _file_parts(files: Any) -> Iterator[_Part]:
    for name, value in _pairs(files, "files="):
        what = f"files= {name!r}"
        headers: list[Field] = []
        kind: Any = None
        if isinstance(value, tuple):
            if not 2 <= len(value) <= 4:
                raise InvalidRequest(
                    f"{what}: a tuple must be (filename, content[, content_type[, headers]]), "
                    f"not {len(value)} items"
                )
            filename, content, kind, given = (*value, None, None)[:4]
            if filename is not None and not isinstance(filename, str):
                raise InvalidRequest(
                    f"{what}: filename must be str or None, not {type(filename).__name__}"
                )
            body = _content(what, content)
            headers = _part_headers(what, given)
        elif isinstance(value, list):
            raise InvalidRequest(
                f"{what}: a list is not a file (several files under one name: pass a list "
                "of (name, file) pairs)"
            )
        else:
            body = _content(what, value)
            filename = _own_name(value) if isinstance(body, _File) else None
            filename = name if filename is None else filename
        head = _disposition(name, filename)
        if kind is not None:
            if any(f.key == "content-type" for f in headers):
                raise InvalidRequest(
                    f"{what}: Content-Type given both as content_type and in headers"
                )
            head += _line(what, "Content-Type", kind)
        elif filename is not None and not any(f.key == "content-type" for f in headers):
            head += _line(what, "Content-Type", _guess_type(filename))
        head += b"".join(b"%s: %s\r\n" % (f.name, f.value) for f in headers)
        yield _Part(head + b"\r\n", body)


def _content(what: str, content: object) -> bytes | _File:
    if isinstance(content, bytes):
        return content
    if isinstance(content, bytearray | memoryview):
        return bytes(content)
    if isinstance(content, str):
        return _utf8(content, f"{what} content")
    if hasattr(content, "read"):
        mode = getattr(content, "mode", None)  # not always a str: GzipFile's is an int
        if isinstance(content, io.TextIOBase) or (isinstance(mode, str) and "b" not in mode):
            raise InvalidRequest(f"{what}: the file must be opened in binary mode ('rb')")
        if getattr(content, "closed", False) is True:
            raise InvalidRequest(f"{what}: the file is closed")
        readable = getattr(content, "readable", None)
        if readable is not None and not readable():
            raise InvalidRequest(f"{what}: the file is not open for reading")
        start, size = file_extent(content)
        return _File(what, content, start, size)
    if isinstance(content, os.PathLike):
        raise InvalidRequest(f"{what}: give the file, open(path, 'rb'), not its path")
    raise InvalidRequest(
        f"{what}: content must be bytes, str or a binary file, not {type(content).__name__}"
    )


def _part_headers(what: str, headers: Any) -> list[Field]:
    if headers is None:
        return []
    try:
        fields = encode_fields(headers)
    except InvalidRequest as exc:
        raise InvalidRequest(f"{what} headers: {exc}") from None
    if any(f.key == "content-disposition" for f in fields):
        raise InvalidRequest(f"{what}: Content-Disposition is made from the name and filename")
    return fields


def _line(what: str, name: str, value: Any) -> bytes:
    try:
        field = encode_field(name, value)
    except InvalidRequest as exc:
        raise InvalidRequest(f"{what}: {exc}") from None
    return b"%s: %s\r\n" % (field.name, field.value)


def _disposition(name: str, filename: str | None) -> bytes:
    line = b'Content-Disposition: form-data; name="' + _quote(name, "field name") + b'"'
    if filename is not None:
        line += b'; filename="' + _quote(filename, f"filename of {name!r}") + b'"'
    return line + b"\r\n"


def _quote(text: str, what: str) -> bytes:
    return _utf8(text.translate(_ESCAPES), what)


def _utf8(text: str, what: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequest(f"{what} is not valid Unicode (a lone surrogate)") from None


def _own_name(file: object) -> str | None:
    """A file object's name as a filename: its basename; None for none, for a file
    descriptor, or for a pseudo name such as ``<stdin>``."""
    name = getattr(file, "name", None)
    if isinstance(name, bytes):
        name = os.fsdecode(name)
    if not isinstance(name, str) or (name.startswith("<") and name.endswith(">")):
        return None
    return os.path.basename(name) or None


def _guess_type(filename: str) -> str:
    """The media type for a filename's last extension, application/octet-stream if
    none is known (only the extension is looked at: mimetypes reads its argument as
    a URL, so a filename such as ``data:text/html,x`` would fool it)."""
    dot = filename.rfind(".")
    if dot >= 0:
        import mimetypes  # its tables are read on first use: only file uploads pay

        kind = mimetypes.guess_type("f" + filename[dot:])[0]
        if kind is not None:
            return kind
    return "application/octet-stream"
