"""Incremental content decoding (Content-Encoding): gzip, deflate, and br and zstd
when their optional packages are installed.

Every decoder hands out pieces of at most ``limit`` bytes however well the data
compresses, so a decompression bomb streams in constant memory.  Corrupt or
truncated data raises :class:`DecodingError`.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterator
from typing import Any, Protocol

from ._exceptions import DecodingError

__all__ = ["MAX_CODINGS", "ContentDecoder", "accept_encoding", "make_decoder"]

MAX_CODINGS = 5
"""More stacked content codings than this are refused."""


class _Stage(Protocol):
    def feed(self, data: bytes, limit: int) -> Iterator[bytes]: ...
    def finish(self) -> None: ...


class _ZlibStage:
    """gzip (multi-member) and deflate (zlib-wrapped, or raw as some servers send it)."""

    def __init__(self, coding: str) -> None:
        import zlib  # imported when a body is decoded

        self._zlib = zlib
        self.coding = coding
        self._wbits = 31 if coding == "gzip" else 15
        self._d = zlib.decompressobj(self._wbits)
        self._fed = False
        self._produced = False

    def feed(self, data: bytes, limit: int) -> Iterator[bytes]:
        if data:
            self._fed = True
        d = self._d
        while True:
            try:
                out = d.decompress(data, limit)
            except self._zlib.error as exc:
                if self.coding == "deflate" and self._wbits == 15 and not self._produced:
                    self._wbits = -15  # raw deflate without the zlib header
                    self._d = d = self._zlib.decompressobj(-15)
                    continue
                raise DecodingError(f"invalid {self.coding} data: {exc}") from exc
            if out:
                self._produced = True
                yield out
            data = d.unconsumed_tail
            if d.eof:
                rest = d.unused_data
                if not rest:
                    return
                if self.coding != "gzip":
                    raise DecodingError(
                        f"unexpected data after the end of the {self.coding} stream"
                    )
                self._d = d = self._zlib.decompressobj(31)  # the next gzip member
                data = rest
                continue
            if not data and len(out) < limit:
                return

    def finish(self) -> None:
        if self._fed and not self._d.eof:
            raise DecodingError(f"{self.coding} data ended early (truncated body)")


class _BrotliStage:
    def __init__(self, module: Any) -> None:
        self._module = module
        self._d = module.Decompressor()
        self._fed = False

    def feed(self, data: bytes, limit: int) -> Iterator[bytes]:
        if data:
            self._fed = True
        d = self._d
        try:
            out = d.process(data, output_buffer_limit=limit)
            # Output past the limit stays inside the decompressor: drain it with empty input.
            while out:
                for i in range(0, len(out), limit):  # the library's buffer may overshoot the limit
                    yield out[i : i + limit]
                out = d.process(b"", output_buffer_limit=limit)
        except self._module.error as exc:
            raise DecodingError(f"invalid br data: {exc}") from exc

    def finish(self) -> None:
        if self._fed and not self._d.is_finished():
            raise DecodingError("br data ended early (truncated body)")


class _ZstdStage:
    def __init__(self, factory: Any, error: type[Exception]) -> None:
        self._factory = factory
        self._error = error
        self._d = factory()
        self._fed = False

    def feed(self, data: bytes, limit: int) -> Iterator[bytes]:
        if data:
            self._fed = True
        d = self._d
        try:
            while True:
                out = d.decompress(data, limit)
                data = b""
                if out:
                    yield out
                if d.eof:
                    rest = d.unused_data
                    if not rest:
                        return
                    self._d = d = self._factory()  # the next frame
                    data = rest
                    continue
                if d.needs_input:
                    return
        except self._error as exc:
            raise DecodingError(f"invalid zstd data: {exc}") from exc

    def finish(self) -> None:
        if self._fed and not self._d.eof:
            raise DecodingError("zstd data ended early (truncated body)")


def _optional(*names: str) -> Any:
    """The first of the named modules that imports, or None (optional extras)."""
    for name in names:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


@functools.cache
def _brotli() -> Any:
    brotli = _optional("brotli")
    # Bounded output needs brotli >= 1.2 (output_buffer_limit, can_accept_more_data).
    if brotli is None or not hasattr(brotli.Decompressor(), "can_accept_more_data"):
        return None
    return brotli


@functools.cache
def _zstd() -> Any:
    return _optional("compression.zstd", "backports.zstd")  # stdlib from Python 3.14


def _stage(coding: str) -> _Stage:
    if coding in ("gzip", "x-gzip"):
        return _ZlibStage("gzip")
    if coding == "deflate":
        return _ZlibStage("deflate")
    if coding == "br" and (brotli := _brotli()) is not None:
        return _BrotliStage(brotli)
    if coding == "zstd" and (zstd := _zstd()) is not None:
        return _ZstdStage(zstd.ZstdDecompressor, zstd.ZstdError)
    raise DecodingError(f"unsupported content coding {coding!r}")


class ContentDecoder:
    """Undo a chain of content codings, in reverse of the order they were applied."""

    def __init__(self, codings: list[str]) -> None:
        self.codings = codings
        self._stages = [_stage(c) for c in reversed(codings)]

    def feed(self, data: bytes, limit: int) -> Iterator[bytes]:
        """Decoded pieces of at most ``limit`` bytes for this input."""
        return self._through(0, data, limit)

    def _through(self, i: int, data: bytes, limit: int) -> Iterator[bytes]:
        if i == len(self._stages):
            yield data
            return
        for piece in self._stages[i].feed(data, limit):
            yield from self._through(i + 1, piece, limit)

    def finish(self) -> None:
        """Check that every coding's stream ended properly."""
        for stage in self._stages:
            stage.finish()


def make_decoder(content_encoding: list[str]) -> ContentDecoder | None:
    """A decoder for the Content-Encoding field values, or None for identity."""
    codings = []
    for value in content_encoding:
        for item in value.split(","):
            coding = item.strip(" \t").lower()
            if coding and coding != "identity":
                codings.append(coding)
    if not codings:
        return None
    if len(codings) > MAX_CODINGS:
        raise DecodingError(f"more than {MAX_CODINGS} content codings: {', '.join(codings)}")
    return ContentDecoder(codings)


def accept_encoding() -> str:
    """The Accept-Encoding value for what this installation can decode."""
    names = ["gzip", "deflate"]
    if _brotli() is not None:
        names.append("br")
    if _zstd() is not None:
        names.append("zstd")
    return ", ".join(names)
