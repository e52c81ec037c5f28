"""Incremental content decoding (Content-Encoding): gzip, deflate, and br and zstd
when their optional packages are installed; the same decoders undo the transfer
codings gzip and deflate.

Every decoder hands out pieces of at most ``limit`` bytes however well the data
compresses, so a decompression bomb streams in constant memory.  Input may be cut
anywhere (a 1-byte piece, between zstd frames or gzip members): each stage keeps
what it needs until it can decide.  Corrupt or truncated data raises
:class:`DecodingError`, never a builtin exception.
"""

from __future__ import annotations

import functools
import importlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any

from ._exceptions import DecodingError

__all__ = ["MAX_CODINGS", "ContentDecoder", "accept_encoding", "make_decoder"]

MAX_CODINGS = 5
"""More stacked content codings than this are refused."""

FEED_SLICE = 64 * 1024
"""Largest input handed to one stage at once.  zlib and zstd copy all the input left
after a member or frame ends into ``unused_data``: a 1 MiB piece of empty gzip
members took 0.38 s (quadratic), in 64 KiB slices it takes 37 ms.  It also bounds
the ``unconsumed_tail`` zlib copies for each bounded output piece of a bomb.  Smaller
slices cost more calls: 64 MiB of gzip'd text read whole took 248 ms in 16 KiB
slices, 227 ms in 64 KiB ones (245 ms unsliced)."""


class _Stage(ABC):
    """One content coding undone: ``feed`` gives decoded pieces of at most ``limit``
    bytes for each input piece; ``finish`` checks that the stream ended, if any
    input came.  Subclasses implement ``_decode`` and ``_ended``."""

    coding = ""
    _fed = False

    def feed(self, data: bytes, limit: int) -> Iterator[bytes]:
        if not data:
            return iter(())
        self._fed = True
        return self._decode(data, limit)

    def finish(self) -> None:
        if self._fed and not self._ended():
            raise DecodingError(f"{self.coding} data ended early (truncated body)")

    @abstractmethod
    def _decode(self, data: bytes, limit: int) -> Iterator[bytes]:
        """Decoded pieces of at most ``limit`` bytes for ``data`` (not empty)."""

    @abstractmethod
    def _ended(self) -> bool:
        """Whether the coded stream reached its end."""


def is_zlib_header(first: int, second: int) -> bool:
    """Whether two bytes start a zlib stream (RFC 1950): CM 8 (deflate) in the low
    nibble of CMF, CINFO (window) at most 7, and CMF*256 + FLG a multiple of 31.

    Raw deflate (RFC 1951) can match only with a non-final stored block whose padding
    bits are not zero: CM 8 means BFINAL 0, BTYPE 00 and bit 3 set, where a stored
    block header has padding that encoders write as zeros."""
    return first & 0x0F == 8 and first >> 4 <= 7 and (first * 256 + second) % 31 == 0


class _ZlibStage(_Stage):
    """gzip (multi-member) and deflate (zlib-wrapped, or raw as some servers send it)."""

    def __init__(self, coding: str) -> None:
        import zlib  # imported when a body is decoded

        self._zlib = zlib
        self.coding = coding
        self._head = b""
        """deflate: the first byte, kept until the second tells zlib from raw."""
        self._d: Any = zlib.decompressobj(31) if coding == "gzip" else None

    def _decode(self, data: bytes, limit: int) -> Iterator[bytes]:
        d = self._d
        if d is None:  # deflate, zlib-wrapped or raw: not decided yet
            data = self._head + data
            if len(data) < 2:
                self._head = data
                return
            self._head = b""
            wbits = 15 if is_zlib_header(data[0], data[1]) else -15
            self._d = d = self._zlib.decompressobj(wbits)
        while True:
            try:
                out = d.decompress(data, limit)
            except self._zlib.error as exc:
                raise DecodingError(f"invalid {self.coding} data: {exc}") from exc
            if out:
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
                # The next gzip member; a finished decompressobj would only collect
                # later input in unused_data, so this also holds across pieces.
                self._d = d = self._zlib.decompressobj(31)
                data = rest
                continue
            if not data and len(out) < limit:
                return

    def _ended(self) -> bool:
        return self._d is not None and bool(self._d.eof)


class _BrotliStage(_Stage):
    """br: one stream (RFC 7932); anything after its end is an error."""

    coding = "br"

    def __init__(self, module: Any) -> None:
        self._module = module
        self._d = module.Decompressor()
        self._finished = False

    def _decode(self, data: bytes, limit: int) -> Iterator[bytes]:
        if self._finished:
            raise DecodingError("unexpected data after the end of the br stream")
        d = self._d
        try:
            out = d.process(data, output_buffer_limit=limit)
            # Output past the limit stays inside the decompressor: drain it with empty input.
            while out:
                for i in range(0, len(out), limit):  # the library's buffer may overshoot the limit
                    yield out[i : i + limit]
                out = d.process(b"", output_buffer_limit=limit)
            self._finished = d.is_finished()
        except self._module.error as exc:
            # After a failure every call raises (is_finished() too: "decoder is unhealthy"),
            # so finish() asks only the flag set above.
            raise DecodingError(f"invalid br data: {exc}") from exc

    def _ended(self) -> bool:
        # After a failure every call raises (is_finished() too), hence the flag.
        return self._finished


class _ZstdStage(_Stage):
    """zstd: one or more frames (skippable frames included), cut anywhere."""

    coding = "zstd"

    def __init__(self, factory: Any, error: type[Exception]) -> None:
        self._factory = factory
        self._error = error
        self._d = factory()

    def _decode(self, data: bytes, limit: int) -> Iterator[bytes]:
        d = self._d
        try:
            while True:
                if d.eof:  # a finished decompressor raises EOFError: the next frame
                    self._d = d = self._factory()
                out = d.decompress(data, limit)
                data = b""
                if out:
                    yield out
                if d.eof:
                    data = d.unused_data
                    if not data:
                        return
                elif d.needs_input:
                    return
        except (self._error, EOFError) as exc:
            raise DecodingError(f"invalid zstd data: {exc}") from exc

    def _ended(self) -> bool:
        return bool(self._d.eof)


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
        stage = self._stages[i]
        for start in range(0, len(data), FEED_SLICE):
            for piece in stage.feed(data[start : start + FEED_SLICE], limit):
                yield from self._through(i + 1, piece, limit)

    def finish(self) -> None:
        """Check that every coding's stream ended properly."""
        for stage in self._stages:
            stage.finish()


def make_decoder(
    content_encoding: list[str], transfer: tuple[str, ...] = ()
) -> ContentDecoder | None:
    """A decoder for the Content-Encoding field values, or None for identity.

    ``transfer`` are transfer codings other than chunked (from the framing): the
    server applied them after the content codings, so they are undone first."""
    codings = []
    for value in content_encoding:
        for item in value.split(","):
            coding = item.strip(" \t").lower()
            if coding and coding != "identity":
                codings.append(coding)
    if len(codings) > MAX_CODINGS:
        raise DecodingError(f"more than {MAX_CODINGS} content codings: {', '.join(codings)}")
    if transfer:
        codings.extend(transfer)
    if not codings:
        return None
    return ContentDecoder(codings)


def accept_encoding() -> str:
    """The Accept-Encoding value for what this installation can decode."""
    names = ["gzip", "deflate"]
    if _brotli() is not None:
        names.append("br")
    if _zstd() is not None:
        names.append("zstd")
    return ", ".join(names)
