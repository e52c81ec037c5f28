"""URL globbing, curl's way: one URL with ``{a,b}`` sets and ``[1-10]``, ``[001-100:10]``
or ``[a-z:2]`` ranges stands for every combination of their values, the last glob varying
fastest; ``#N`` in an ``-o`` name is the value of the URL's N-th glob.

Pure code, no I/O.  :func:`expand` parses a URL and gives its URLs lazily (a range of a
billion values costs no memory); :func:`output_name` fills an ``-o`` template.  What
curl 7.88.1 accepts, refuses, and the message it refuses with (its "position" counter
and caret line included, quirks and all) were measured by running curl on each case;
the rules are stated where they are applied.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator, Sequence
from typing import NamedTuple, overload

from ._exit import EXIT_URL, CliError

__all__ = ["MAX_PIECES", "MAX_URLS", "Expansion", "GlobbedURL", "expand", "output_name"]

MAX_PIECES = 100
"""curl refuses a URL of 100 pieces or more (a glob, or the literal text between two
globs, is a piece): "too many globs"."""

MAX_URLS = 2**63 - 1
"""The most URLs one URL may expand to, or "range overflow".  curl's bound is 2**64 - 1
(its counter is an unsigned long); ours keeps ``len()`` usable.  Either is far more
than a command can fetch: the bound only stops an arithmetic overflow."""

_HASH_NUMBER = re.compile(r"#([0-9]+)")  # ASCII digits only, as curl's ISDIGIT
_MESSAGE_MAX = 511  # measured: curl prints at most 511 bytes of a glob error
_ULONG_MAX = 2**64 - 1
_SPACE = b" \t\n\v\f\r"  # C's isspace(), which strtoul() skips before a number
_BLANK = b" \t"  # C's isblank(), which curl skips after the '-' of a number range
_IPV6_CHARS = frozenset(b"0123456789abcdefABCDEF:.")
_ZONE_STOP = frozenset(b" ?#@/\x7f") | frozenset(range(0x20))


class GlobbedURL(NamedTuple):
    """One URL of an expansion and the value of each of its globs, in order (``#1`` is
    ``values[0]``)."""

    url: str
    values: tuple[str, ...]


class _Range:
    """A range glob: ``count`` values from ``first`` by ``step``; numbers are written in
    decimal with zeros up to ``width`` digits, letters (``letter``) as one byte."""

    __slots__ = ("count", "first", "letter", "step", "width")

    def __init__(self, first: int, step: int, count: int, *, width: int, letter: bool) -> None:
        self.first, self.step, self.count = first, step, count
        self.width, self.letter = width, letter

    def value(self, index: int) -> bytes:
        n = self.first + index * self.step
        return bytes([n]) if self.letter else str(n).zfill(self.width).encode()


_Piece = bytes | list[bytes] | _Range  # literal text, a set, a range


def _size(glob: list[bytes] | _Range) -> int:
    return len(glob) if isinstance(glob, list) else glob.count


class Expansion(Sequence[GlobbedURL]):
    """The URLs one globbed URL stands for, computed when asked for: indexable,
    iterable, with ``len()``."""

    def __init__(self, pieces: list[_Piece]) -> None:
        self._pieces = pieces
        self._globs = [p for p in pieces if not isinstance(p, bytes)]
        self._count = 1
        for glob in self._globs:
            self._count *= _size(glob)

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> GlobbedURL: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[GlobbedURL]: ...
    def __getitem__(self, index: int | slice) -> GlobbedURL | Sequence[GlobbedURL]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._count))]
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError("glob index out of range")
        values: list[bytes] = []
        for glob in reversed(self._globs):  # the last glob varies fastest
            index, here = divmod(index, _size(glob))
            values.append(glob[here] if isinstance(glob, list) else glob.value(here))
        values.reverse()
        taken = iter(values)
        url = b"".join(p if isinstance(p, bytes) else next(taken) for p in self._pieces)
        return GlobbedURL(os.fsdecode(url), tuple(os.fsdecode(v) for v in values))

    def __iter__(self) -> Iterator[GlobbedURL]:
        for index in range(self._count):
            yield self[index]


def expand(url: str, *, globoff: bool = False) -> Expansion:
    """The URLs ``url`` stands for, in curl's order; the URL alone (with no values)
    when it has no glob or with ``globoff`` (curl's ``-g``).  A malformed glob raises
    :class:`CliError` with exit code 3 and curl's message."""
    raw = os.fsencode(url)  # curl works on the bytes of argv: its positions count bytes
    if globoff or not raw:
        return Expansion([raw])
    return Expansion(_Parser(url, raw).parse())


def output_name(template: str, values: tuple[str, ...]) -> str:
    """``template`` (an ``-o`` name) with ``#N`` replaced by ``values[N-1]``; a ``#N``
    with no such value (``#0``, ``#9`` of a URL with two globs) stays as written, as
    curl leaves it.  ``#01`` is ``#1``."""

    def value(match: re.Match[str]) -> str:
        digits = match[1].lstrip("0")
        number = int(digits) if digits and len(digits) <= 20 else 0  # no int() of 5000 digits
        return values[number - 1] if 1 <= number <= len(values) else match[0]

    return _HASH_NUMBER.sub(value, template)


class _Parser:
    """One pass over a URL's bytes.  ``pos`` is curl's position counter for its
    messages, which is not always the offset: curl does not count the ``}`` closing a
    set nor any byte of an IPv6 literal, so we do not either."""

    def __init__(self, url: str, raw: bytes) -> None:
        self.url = url
        self.raw = raw
        self.i = 0
        self.pos = 0
        self.pieces: list[_Piece] = []
        self.count = 1

    def fail(self, what: str, pos: int) -> CliError:
        """curl's message: what, where, the URL and a caret under the position, cut
        to 511 bytes as curl's error buffer cuts it (a long URL loses its caret)."""
        if pos == 0:
            return CliError(EXIT_URL, what)
        caret = " " * max(pos - 1, 1) + "^"  # measured: position 1 gets one space too
        text = os.fsencode(f"{what} in URL position {pos}:\n{self.url}\n{caret}")
        return CliError(EXIT_URL, os.fsdecode(text[:_MESSAGE_MAX]))

    def parse(self) -> list[_Piece]:
        raw = self.raw
        while self.i < len(raw):
            if raw[self.i] == ord("{"):
                self.add(self.glob_set())
            elif raw[self.i] == ord("[") and not self.ipv6_literal():
                glob = self.glob_range()
                self.add(glob, at=self.pos + 1)  # just after its "]"
            else:
                self.add(self.literal())
        return self.pieces

    def add(self, piece: _Piece, *, at: int = 0) -> None:
        """Append a piece; ``at`` is where curl says a glob made the count overflow
        (0: no position, as for a set)."""
        if not isinstance(piece, bytes):
            self.count *= _size(piece)
            if self.count > MAX_URLS:
                raise self.fail("range overflow", at)
        self.pieces.append(piece)
        if len(self.pieces) >= MAX_PIECES:
            raise self.fail("too many globs", self.pos + 1)

    def literal(self) -> bytes:
        raw, text = self.raw, bytearray()
        while self.i < len(raw):
            byte = raw[self.i]
            if byte == ord("\\") and raw[self.i + 1 : self.i + 2] in (b"{", b"[", b"}", b"]"):
                text.append(raw[self.i + 1])  # only these four are escaped: "\a" stays
                self.i += 2
                self.pos += 2
            elif byte == ord("{"):
                break
            elif byte == ord("["):
                length = self.ipv6_literal()
                if not length:
                    break
                text += raw[self.i : self.i + length]
                self.i += length  # curl's counter skips the literal
            elif byte in b"}]":
                raise self.fail("unmatched close brace/bracket", self.pos + 1)
            else:
                text.append(byte)
                self.i += 1
                self.pos += 1
        return bytes(text)

    def ipv6_literal(self) -> int:
        """The length of the IPv6 literal (``[::1]``, ``[fe80::1%25eth0]``) at ``i``,
        or 0: curl takes a ``[`` up to the first ``]`` for one when its URL parser
        accepts it as a host (measured: glibc's inet_pton, an optional zone of 1 to 15
        bytes after ``%`` or ``%25``, and ``[]``)."""
        end = self.raw.find(b"]", self.i, self.i + 127)  # curl: fewer than 128 bytes
        if end < 0:
            return 0
        inner = self.raw[self.i + 1 : end]
        if not inner:
            return 2
        address = inner
        for at, byte in enumerate(inner):
            if byte not in _IPV6_CHARS:
                address = inner[:at]
                break
        zone = inner[len(address) :]
        if zone:
            zone = zone[1:] if zone[:1] == b"%" else b""
            if zone[:2] == b"25" and len(zone) > 2:
                zone = zone[2:]
            if not 1 <= len(zone) <= 15 or any(byte in _ZONE_STOP for byte in zone):
                return 0
        try:
            socket.inet_pton(socket.AF_INET6, address.decode("ascii"))
        except (OSError, ValueError):
            return 0
        return end - self.i + 1

    def glob_set(self) -> list[bytes]:
        raw, start = self.raw, self.pos
        self.i += 1
        self.pos += 1
        items: list[bytes] = []
        item = bytearray()
        while True:
            if self.i >= len(raw):
                raise self.fail("unmatched brace", start + 1)
            byte = raw[self.i]
            if byte in b"{[":
                raise self.fail("nested brace", self.pos + 1)
            if byte == ord("]"):
                raise self.fail("unexpected close bracket", self.pos + 1)
            if byte == ord("}"):
                if self.pos == start + 1:
                    raise self.fail("empty string within braces", self.pos + 1)
                items.append(bytes(item))
                self.i += 1  # curl's counter does not count it
                return items
            if byte == ord(","):
                items.append(bytes(item))
                item = bytearray()
            else:
                if byte == ord("\\") and self.i + 1 < len(raw):
                    self.i += 1  # "\x" is x, whatever x is
                    self.pos += 1
                item.append(raw[self.i])
            self.i += 1
            self.pos += 1

    def glob_range(self) -> _Range:
        """A ``[...]`` range (``i`` at its ``[``).  curl's message points after the
        ``[`` when it cannot read the range, after the ``]`` when it read a range it
        refuses (``[3-1]``, a step too large), and at the number it could not read."""
        raw = self.raw
        self.i += 1
        self.pos += 1
        first = raw[self.i : self.i + 1]
        if first.isalpha():
            return self.letter_range()
        if not first.isdigit():
            raise self.fail("bad range specification", self.pos + 1)
        return self.number_range()

    def advance(self, to: int) -> None:
        self.pos += to - self.i
        self.i = to

    def letter_range(self) -> _Range:
        raw, i = self.raw, self.i  # i at the first letter, as "[%c-%c%c" reads it
        if raw[i + 1 : i + 2] != b"-" or i + 3 >= len(raw):
            raise self.fail("bad range", self.pos + 1)
        low, high, after = raw[i], raw[i + 2], raw[i + 3 : i + 4]
        step = 1
        if after == b":":
            step, end, ok = _strtoul(raw, i + 4)
            if not ok or end == i + 4 or raw[end : end + 1] != b"]":
                raise self.fail("bad range", self.pos + 1)
            self.advance(end + 1)
        elif after == b"]":
            self.advance(i + 4)
        else:
            raise self.fail("bad range", self.pos + 1)
        if not _good(low, high, step) or high - low > ord("z") - ord("a"):
            raise self.fail("bad range", self.pos + 1)
        return _Range(low, step, (high - low) // step + 1, width=1, letter=True)

    def number_range(self) -> _Range:
        raw, i = self.raw, self.i
        low, end, ok = _strtoul(raw, i)
        width = end - i if raw[i] == ord("0") else 0  # "[001-100]": three digits each
        if not ok or raw[end : end + 1] != b"-":
            raise self.fail("bad range", self.pos + 1)
        end += 1
        while raw[end : end + 1] and raw[end] in _BLANK:
            end += 1
        self.advance(end)  # the messages below point at the high end
        if not raw[end : end + 1].isdigit():
            raise self.fail("bad range", self.pos + 1)
        high, end, ok = _strtoul(raw, end)
        step = 1
        if ok and raw[end : end + 1] == b":":
            self.advance(end + 1)
            step, end, ok = _strtoul(raw, end + 1)
        if not ok or raw[end : end + 1] != b"]":
            raise self.fail("bad range", self.pos + 1)
        self.advance(end + 1)
        if not _good(low, high, step):
            raise self.fail("bad range", self.pos + 1)
        return _Range(low, step, (high - low) // step + 1, width=width, letter=False)


def _good(low: int, high: int, step: int) -> bool:
    """curl's rule for a range's ends and step: one value needs step 1."""
    if step == 0:
        return False
    if low == high:
        return step == 1
    return low < high and step <= high - low


def _strtoul(raw: bytes, i: int) -> tuple[int, int, bool]:
    """C's strtoul(raw + i, &end, 10) on a 64-bit system: (value, end, not overflowed);
    end is i when there is no digit.  It skips spaces and takes a sign: "-1" is 2**64-1."""
    j = i
    while raw[j : j + 1] and raw[j] in _SPACE:
        j += 1
    negative = raw[j : j + 1] == b"-"
    if raw[j : j + 1] in (b"-", b"+"):
        j += 1
    digits = j
    while raw[j : j + 1].isdigit():
        j += 1
    if j == digits:
        return 0, i, True
    significant = raw[digits:j].lstrip(b"0")  # no int() of a thousand digits
    value = int(significant or b"0") if len(significant) <= 20 else _ULONG_MAX + 1
    if value > _ULONG_MAX:
        return _ULONG_MAX, j, False
    return (-value % 2**64 if negative else value), j, True
