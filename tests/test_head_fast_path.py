"""read_section's two ways: a section already whole in a plain StreamReader's buffer
is taken at once; otherwise (or through any other reader) line by line with
readline().  Both must give the same fields and byte count, or the same error,
and leave the same bytes behind."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rawhttp import Limits, ProtocolError
from rawhttp._config import DEFAULT_LIMITS
from rawhttp._http11 import _buffered_section, read_section


class LineReader(asyncio.StreamReader):
    """A StreamReader subclass: read_section has no fast path for it (readline only)."""


AFTER = b"HTTP/1.1 200 OK\r\n"
"""Bytes after the section (the next response): must stay in the reader."""


async def run(reader_cls: type[asyncio.StreamReader], data: bytes, limits: Limits) -> object:
    reader = reader_cls(limit=1 << 20)
    reader.feed_data(data)
    reader.feed_eof()
    try:
        headers, size = await read_section(reader, limits, "header")
    except ProtocolError as exc:
        return ("error", str(exc))
    return (list(headers.items()), size, await reader.read())


async def both(data: bytes, limits: Limits = DEFAULT_LIMITS) -> tuple[object, object]:
    return await run(asyncio.StreamReader, data, limits), await run(LineReader, data, limits)


@pytest.mark.parametrize(
    "data",
    [
        b"\r\n" + AFTER,
        b"A: 1\r\n\r\n" + AFTER,
        b"Server: nginx\r\nContent-Length: 5\r\nX-Empty:\r\n\r\n" + AFTER,
        b"X-Fold: a\r\n  b\r\n\r\n" + AFTER,  # obs-fold
        b"Bad Name: x\r\n\r\n" + AFTER,
        b"X: a\rb\r\n\r\n" + AFTER,  # a lone CR inside a value
        b"X: a\nY: b\r\n\r\n" + AFTER,  # a bare LF line ending
        b"X: \x00\r\n\r\n" + AFTER,
        b" leading: ws\r\n\r\n" + AFTER,
        b"A: 1\r\nB: 2\r\n",  # cut before the empty line
        b"A: 1\r\n\n\r\n" + AFTER,
    ],
)
async def test_fast_and_line_paths_agree(data: bytes) -> None:
    fast, slow = await both(data)
    assert fast == slow


async def test_fast_path_is_taken_for_a_whole_section() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(b"A: 1\r\nB: 2\r\n\r\nrest")
    lines = _buffered_section(reader, Limits())
    assert lines == [b"A: 1\r\n", b"B: 2\r\n"]
    assert await reader.read(4) == b"rest"


async def test_fast_path_declines_a_partial_section_and_consumes_nothing() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(b"A: 1\r\nB: 2\r\n")
    assert _buffered_section(reader, Limits()) is None
    assert await reader.read(100) == b"A: 1\r\nB: 2\r\n"


@pytest.mark.parametrize(
    "limits",
    [
        Limits(max_header_bytes=15),
        Limits(max_header_bytes=16),
        Limits(max_header_bytes=17),
        Limits(max_header_line=7),
        Limits(max_header_line=8),
        Limits(max_headers=1),
        Limits(max_headers=2),
    ],
)
async def test_limits_at_their_edges_agree(limits: Limits) -> None:
    # Two lines of 8 bytes each: 16 bytes of header lines.
    fast, slow = await both(b"A: 123\r\nB: 456\r\n\r\n" + AFTER, limits)
    assert fast == slow


LINE = st.one_of(
    st.builds(
        lambda name, value: name + b": " + value + b"\r\n",
        st.sampled_from([b"A", b"Content-Type", b"x-y", b"Bad Name", b""]),
        st.binary(max_size=12),
    ),
    st.binary(max_size=16).map(lambda b: b + b"\r\n"),
    st.binary(max_size=16),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(LINE, max_size=6), st.booleans(), st.integers(min_value=1, max_value=80))
def test_random_sections_agree(lines: list[bytes], end: bool, max_bytes: int) -> None:
    data = b"".join(lines) + (b"\r\n" + AFTER if end else b"")
    limits = Limits(max_header_bytes=max_bytes, max_header_line=max(1, max_bytes // 2))
    fast, slow = asyncio.run(both(data, limits))
    assert fast == slow
