"""Request bodies: what the caller passes as ``content=``, ``data=`` or ``json=``,
turned into bytes of known length or a stream of chunks sent in constant memory."""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from typing import Any, TypeAlias

from ._exceptions import InvalidRequest

__all__ = ["Content", "RequestBody", "encode_body", "file_extent"]

Content: TypeAlias = "bytes | bytearray | memoryview | str | AsyncIterable[bytes] | Iterable[bytes] | io.IOBase | Any"

FILE_BLOCK = 64 * 1024
"""Bytes read from a file object per write."""


class RequestBody:
    """A request body.  ``data`` is set for in-memory bodies; otherwise ``chunks()``
    produces the body and ``length`` is its size, or None to send it chunked."""

    __slots__ = ("_file_start", "_source", "content_type", "data", "length", "replayable")

    def __init__(
        self,
        *,
        data: bytes | None = None,
        source: Any = None,
        length: int | None = None,
        content_type: str | None = None,
        replayable: bool = True,
        file_start: int | None = None,
    ) -> None:
        self.data = data
        self._source = source
        self.length = len(data) if data is not None else length
        self.content_type = content_type
        self.replayable = replayable
        self._file_start = file_start

    @property
    def chunked(self) -> bool:
        return self.data is None and self.length is None

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body's bytes, piece by piece (a file is rewound first when it can be)."""
        source = self._source
        if self.data is not None:
            yield self.data
        elif self._file_start is not None or hasattr(source, "read"):
            if self._file_start is not None:
                source.seek(self._file_start)
            while block := source.read(FILE_BLOCK):
                yield _as_bytes(block)
        elif isinstance(source, AsyncIterable):
            async for piece in source:
                yield _as_bytes(piece)
        else:
            for piece in source:
                yield _as_bytes(piece)


def _as_bytes(piece: object) -> bytes:
    if isinstance(piece, bytes):
        return piece
    if isinstance(piece, bytearray | memoryview):
        return bytes(piece)
    raise InvalidRequest(f"a streamed request body must yield bytes, not {type(piece).__name__}")


def encode_body(content: Content | None, data: Any, json: Any) -> RequestBody | None:
    """Turn ``content=``, ``data=`` or ``json=`` (at most one) into a RequestBody
    (``files=`` makes a multipart one: :mod:`rawhttp._multipart`)."""
    given = sum(x is not None for x in (content, data, json))
    if given > 1:
        raise InvalidRequest("pass only one of content=, data= and json=")
    if json is not None:
        import json as _json  # imported on first use: the CLI starts faster without it

        try:
            text = _json.dumps(json, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InvalidRequest(f"json= value cannot be encoded as JSON: {exc}") from exc
        return RequestBody(data=text.encode("utf-8"), content_type="application/json")
    if data is not None:
        if not isinstance(data, Mapping | list | tuple):
            raise InvalidRequest("data= must be a dict or a list of pairs (use content= for bytes)")
        from urllib.parse import urlencode

        try:
            form = urlencode(data, doseq=True)
        except TypeError as exc:
            raise InvalidRequest(f"data= cannot be form-encoded: {exc}") from exc
        return RequestBody(
            data=form.encode("ascii"), content_type="application/x-www-form-urlencoded"
        )
    if content is None:
        return None
    if isinstance(content, bytes | bytearray | memoryview):
        return RequestBody(data=bytes(content))
    if isinstance(content, str):
        return RequestBody(data=content.encode("utf-8"))
    if hasattr(content, "read"):
        return _file_body(content)
    if isinstance(content, AsyncIterable | Iterable) and not isinstance(content, Mapping):
        return RequestBody(source=content, replayable=False)
    raise InvalidRequest(
        "content= must be bytes, str, a binary file or an (async) iterable of bytes, "
        f"not {type(content).__name__}"
    )


def _file_body(f: Any) -> RequestBody:
    """A binary file object: its remaining size as Content-Length when it can be known."""
    if isinstance(f, io.TextIOBase):
        raise InvalidRequest("content= file must be opened in binary mode ('rb')")
    start, length = file_extent(f)
    return RequestBody(source=f, length=length, replayable=start is not None, file_start=start)


def file_extent(f: Any) -> tuple[int | None, int | None]:
    """A file's current position (None: not seekable) and the bytes left from there
    (None: unknown)."""
    start = length = None
    try:
        if f.seekable():
            start = f.tell()
            try:
                length = os.fstat(f.fileno()).st_size - start
            except (OSError, AttributeError, io.UnsupportedOperation):
                length = f.seek(0, io.SEEK_END) - start
                f.seek(start)
    except (OSError, AttributeError, io.UnsupportedOperation):
        start = length = None
    if length is not None and length < 0:
        length = None
    return start, length
