"""read_section, the one reader of header sections: a section already whole in the
Reader's buffer is taken in one step (``Reader.take_head``); one arriving in pieces
is read line by line as it comes.  Both ways must give the same fields and byte
count, or the same error, and leave the same bytes behind."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rawhttp import Limits, ProtocolError
from rawhttp._config import DEFAULT_LIMITS
from rawhttp._http11 import read_section
from rawhttp._reader import Reader

AFTER = b"HTTP/1.1 200 OK\r\n"
"""Bytes after the section (the next response): must stay in the reader."""


async def run(data: bytes, limits: Limits, *, whole: bool) -> object:
    reader = Reader()

    async def trickle() -> None:
        for i in range(len(data)):
            reader.feed(data[i : i + 1])
            await asyncio.sleep(0)
        reader.feed_eof()

    feeder = None
    if whole:
        reader.feed(data)
        reader.feed_eof()
    else:
        feeder = asyncio.create_task(trickle())
    try:
        async with asyncio.timeout(10):
            headers, size = await read_section(reader, limits, "header")
    except ProtocolError as exc:
        return ("error", str(exc))
    finally:
        if feeder is not None:
            await feeder
    return (list(headers.items()), size, await reader.read())


async def both(data: bytes, limits: Limits = DEFAULT_LIMITS) -> tuple[object, object]:
    return await run(data, limits, whole=True), await run(data, limits, whole=False)


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
        # bare LF line endings, and the empty line as a bare LF
        b"\n" + AFTER,
        b"\n\r\n" + AFTER,
        b"A: 1\n\n" + AFTER,
        b"A: 1\nB: 2\n\n" + AFTER,
        b"A: 1\r\nB: 2\n\n" + AFTER,
        b"A: 1\nB: 2\r\n\n" + AFTER,
        b"A: 1\n\nB: 2\r\n\r\n" + AFTER,  # the first empty line ends the section
        b"A: 1\n\r\nB: 2\n\n" + AFTER,
        b"X-Fold: a\n  b\n\n" + AFTER,
        b"A: 1\nB: 2\n",  # cut before the empty line
        b"A: 1\n\r",  # cut inside the empty line
        b"A: 1\r\n\r",
        # a lone CR stays an error wherever it is
        b"\r" + AFTER,
        b"\rA: 1\n\n" + AFTER,
        b"A: 1\r\r\n\r\n" + AFTER,
        b"A: 1\n\r\r\n" + AFTER,
        b"A: 1\n\r\n\r\n" + AFTER,
        b"A: 1\rB: 2\n\n" + AFTER,
    ],
)
async def test_fast_and_line_paths_agree(data: bytes) -> None:
    fast, slow = await both(data)
    assert fast == slow


@pytest.mark.parametrize(
    ("section", "lines"),
    [
        (b"A: 1\r\nB: 2\r\n\r\n", [b"A: 1\r\n", b"B: 2\r\n"]),
        (b"A: 1\nB: 2\n\n", [b"A: 1\n", b"B: 2\n"]),
        (b"A: 1\nB: 2\r\n\n", [b"A: 1\n", b"B: 2\r\n"]),
        (b"A: 1\r\nB: 2\n\r\n", [b"A: 1\r\n", b"B: 2\n"]),
        (b"\r\n", []),
        (b"\n", []),
    ],
)
async def test_fast_path_is_taken_for_a_whole_section(section: bytes, lines: list[bytes]) -> None:
    reader = Reader()
    reader.feed(section + b"rest\n\nmore\r\n\r\n")
    assert reader.take_head(1000) == section
    assert await reader.read(100) == b"rest\n\nmore\r\n\r\n"
    reader.feed(section)
    headers, size = await read_section(reader, Limits(), "header")
    assert (len(headers), size) == (len(lines), len(section))


async def test_fast_path_declines_a_partial_section_and_consumes_nothing() -> None:
    reader = Reader()
    reader.feed(b"A: 1\r\nB: 2\r\n")
    assert reader.take_head(1000) is None
    assert reader.take_head(5) is None
    assert await reader.read(100) == b"A: 1\r\nB: 2\r\n"


@pytest.mark.parametrize("ending", [b"\r\n", b"\n"])
@pytest.mark.parametrize(
    "limits",
    [
        Limits(max_header_bytes=13),
        Limits(max_header_bytes=14),
        Limits(max_header_bytes=15),
        Limits(max_header_bytes=16),
        Limits(max_header_bytes=17),
        Limits(max_header_line=6),
        Limits(max_header_line=7),
        Limits(max_header_line=8),
        Limits(max_headers=1),
        Limits(max_headers=2),
    ],
)
async def test_limits_at_their_edges_agree(limits: Limits, ending: bytes) -> None:
    # Two lines of 8 bytes each (7 with LF endings): 16 (14) bytes of header lines.
    fast, slow = await both(b"A: 123" + ending + b"B: 456" + ending + ending + AFTER, limits)
    assert fast == slow


ENDING = st.sampled_from([b"\r\n", b"\n", b"\r"])
LINE = st.one_of(
    st.builds(
        lambda name, value, ending: name + b": " + value + ending,
        st.sampled_from([b"A", b"Content-Type", b"x-y", b"Bad Name", b""]),
        st.binary(max_size=12),
        ENDING,
    ),
    st.builds(lambda raw, ending: raw + ending, st.binary(max_size=16), ENDING),
    st.binary(max_size=16),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(LINE, max_size=6),
    st.sampled_from([b"\r\n", b"\n", b""]),
    st.integers(min_value=1, max_value=80),
)
def test_random_sections_agree(lines: list[bytes], end: bytes, max_bytes: int) -> None:
    data = b"".join(lines) + (end + AFTER if end else b"")
    limits = Limits(max_header_bytes=max_bytes, max_header_line=max(1, max_bytes // 2))
    fast, slow = asyncio.run(both(data, limits))
    assert fast == slow
