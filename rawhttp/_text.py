"""Text from a body that arrives in pieces: incremental decoding, and splitting into
lines in bounded memory.

Pure: it sees only bytes and str, never a connection.  :class:`TextDecoder` turns
pieces of bytes into the text ``bytes.decode(encoding, errors="replace")`` gives
for the whole body, however the pieces split it; :class:`LineSplitter` turns
pieces of text into lines without their line endings, where ``\\n``, ``\\r\\n`` and
a lone ``\\r`` each end a line (the line endings of NDJSON and of Server-Sent
Events), also when ``\\r\\n`` is split between two pieces.
"""

from __future__ import annotations

import codecs
import contextlib
import sys
from collections.abc import AsyncGenerator, Callable
from typing import Final

from ._exceptions import BodyTooLarge

__all__ = ["MAX_LINE", "LineSplitter", "TextDecoder", "decode_pieces", "split_lines"]

MAX_LINE: Final = 1024 * 1024
"""The longest line :class:`LineSplitter` holds by default, in characters: past it,
it raises BodyTooLarge rather than growing without bound on a body with no line
ending (a stream that is not line-based, or a server that never sends one)."""


# utf-16 and utf-32 name a byte order by their BOM.  Without one, bytes.decode()
# reads the native order, but their incremental decoders raise UnicodeError ("stream
# does not start with BOM", even with errors="replace") once they hold 2 (4) bytes:
# found by feeding every text codec _charset accepts random bytes in random pieces.
_BOM_CODECS: Final = {
    "utf-16": (2, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE),
    "utf-32": (4, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE),
}
_OTHER_BREAKS: Final = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
"""Where str.splitlines() splits besides at ``\\r`` and ``\\n``: data here, no line ending."""
_NATIVE: Final = "le" if sys.byteorder == "little" else "be"


class TextDecoder:
    """Decode a body given in pieces with ``encoding`` (a name :func:`text_codec`
    accepts), undecodable bytes replaced by U+FFFD; a byte sequence split between
    pieces is held until it is complete.  The text of all pieces together equals
    ``body.decode(encoding, errors="replace")``, BOM handling included (``utf-8-sig``
    drops one, ``utf-16`` and ``utf-32`` read the byte order from one).

    Should a codec's decoder raise anyway (none of Python's text codecs does), the
    rest of the body is decoded as UTF-8: this never raises."""

    __slots__ = ("_decoder", "_head", "encoding")

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        """The codec decoding the body (``utf-16-le``, say, once a utf-16 BOM was read)."""
        self._head = b""
        self._decoder: codecs.IncrementalDecoder | None = None
        if encoding not in _BOM_CODECS:
            self._decoder = _incremental(encoding)

    def decode(self, data: bytes, final: bool = False) -> str:
        """The text ``data`` completes; ``final`` at the end of the body (``data``
        may be empty then) gives what was held, undecodable bytes replaced."""
        decoder = self._decoder
        if decoder is None:  # utf-16 or utf-32 without its byte order known yet
            data = self._head + data
            size, little, big = _BOM_CODECS[self.encoding]
            if len(data) < size and not final:
                self._head = data
                return ""
            self._head = b""
            order = _NATIVE
            if data.startswith(little):
                order, data = "le", data[size:]
            elif data.startswith(big):
                order, data = "be", data[size:]
            self.encoding = f"{self.encoding}-{order}"
            decoder = self._decoder = _incremental(self.encoding)
        try:
            return decoder.decode(data, final)
        except ValueError:  # UnicodeError: see the class docstring
            self.encoding = "utf-8"
            self._decoder = _incremental("utf-8")
            return self._decoder.decode(data, final)


def _incremental(encoding: str) -> codecs.IncrementalDecoder:
    return codecs.getincrementaldecoder(encoding)(errors="replace")


class LineSplitter:
    """Split text given in pieces into lines, each without its line ending.

    ``\\n``, ``\\r\\n`` and ``\\r`` end a line (no other character does: unlike
    ``str.splitlines()``, form feeds, U+2028 and the like are data).  A piece
    ending in ``\\r`` ends its line at once, and a ``\\n`` opening the next piece is
    then dropped as the rest of that ``\\r\\n``: a line is given as soon as it has
    ended, never held back waiting for more.  Text after the last line ending is a
    last line, given by :meth:`finish`.

    A line longer than ``max_line`` characters (None: no limit) raises
    BodyTooLarge (``limit`` is ``max_line``, ``size`` the characters held), so the
    text held is bounded by ``max_line`` plus one piece."""

    __slots__ = ("_held", "_parts", "_skip_lf", "max_line")

    def __init__(self, max_line: int | None = MAX_LINE) -> None:
        if max_line is not None and (type(max_line) is not int or max_line < 1):
            raise ValueError(f"max_line must be a positive int or None, not {max_line!r}")
        self.max_line = max_line
        self._parts: list[str] = []  # the start of a line not ended yet
        self._held = 0  # characters in _parts
        self._skip_lf = False  # the last piece ended in "\r": drop a "\n" opening the next

    def feed(self, text: str) -> list[str]:
        """The lines ``text`` ends, in order (empty lines included)."""
        if not text:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if text[0] == "\n":
                text = text[1:]
                if not text:
                    return []
        # ``rest``: the text after the last line ending, the start of a line.  Timed
        # on 9 MB of 90-character lines in 64 KiB pieces: split("\n") 3.7 ms,
        # splitlines() 6 ms and the 8 "in" tests 0.4 ms, where splitting at the
        # regular expression \r\n|\r|\n takes 31 ms and replacing \r\n by \n 14 ms.
        if "\r" not in text:  # the common case: NDJSON, most SSE
            lines = text.split("\n")
            rest = lines.pop()
        else:
            self._skip_lf = text[-1] == "\r"
            if any(char in text for char in _OTHER_BREAKS):  # data here, rarely found
                lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
                rest = lines.pop()
            else:
                lines = text.splitlines()
                rest = "" if text[-1] in "\r\n" else lines.pop()
        limit = self.max_line
        if lines and self._parts:
            self._parts.append(lines[0])
            lines[0] = "".join(self._parts)
            self._parts.clear()
            self._held = 0
        if limit is not None and lines:
            longest = max(map(len, lines))
            if longest > limit:
                raise _too_long(limit, longest)
        if rest:
            self._parts.append(rest)
            self._held += len(rest)
            if limit is not None and self._held > limit:
                raise _too_long(limit, self._held)
        return lines

    def finish(self) -> list[str]:
        """At the end of the text: the last line if it had no line ending (empty
        when the text ended with one)."""
        self._skip_lf = False
        if not self._parts:
            return []
        line = "".join(self._parts)
        self._parts.clear()
        self._held = 0
        return [line]


async def decode_pieces(
    pieces: AsyncGenerator[bytes, None], encoding: Callable[[bytes], str]
) -> AsyncGenerator[str, None]:
    """The text of ``pieces``, decoded with the codec ``encoding`` names when given
    the first non-empty piece; empty strings are left out.  ``pieces`` is closed
    when this generator ends, however it ends."""
    decoder: TextDecoder | None = None
    async with contextlib.aclosing(pieces):
        async for piece in pieces:
            if decoder is None:
                if not piece:
                    continue
                decoder = TextDecoder(encoding(piece))
            text = decoder.decode(piece)
            if text:
                yield text
    if decoder is not None:
        text = decoder.decode(b"", final=True)
        if text:
            yield text


async def split_lines(
    texts: AsyncGenerator[str, None], splitter: LineSplitter
) -> AsyncGenerator[str, None]:
    """The lines of ``texts`` (see :class:`LineSplitter`); ``texts`` is closed when
    this generator ends, however it ends."""
    async with contextlib.aclosing(texts):
        async for text in texts:
            for line in splitter.feed(text):
                yield line
    for line in splitter.finish():
        yield line


def _too_long(limit: int, size: int) -> BodyTooLarge:
    return BodyTooLarge(
        f"a line of the response body is longer than max_line ({limit} characters): "
        f"{size} characters without a line ending; raise max_line (None: no limit) "
        "or read the body with iter_text()",
        limit=limit,
        size=size,
    )
