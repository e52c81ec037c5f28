"""Incremental content decoders: bounded pieces, corrupt and truncated data, stacking."""

from __future__ import annotations

import gzip
import os
import struct
import zlib

import brotli
import pytest

from rawhttp import DecodingError
from rawhttp._decoding import MAX_CODINGS, accept_encoding, make_decoder

try:
    from compression import zstd  # Python 3.14+
except ImportError:
    from backports import zstd

DATA = os.urandom(2000) * 50 + b"tail"


def _compress(coding: str, data: bytes) -> bytes:
    if coding == "gzip":
        return gzip.compress(data)
    if coding == "deflate":
        return zlib.compress(data)
    if coding == "raw-deflate":
        c = zlib.compressobj(wbits=-15)
        return c.compress(data) + c.flush()
    if coding == "br":
        return bytes(brotli.compress(data))
    if coding == "zstd":
        return bytes(zstd.compress(data))
    raise AssertionError(coding)


def _decode(codings: list[str], body: bytes, piece: int, limit: int) -> list[bytes]:
    decoder = make_decoder(codings)
    assert decoder is not None
    out = []
    for i in range(0, len(body), piece):
        out.extend(decoder.feed(body[i : i + piece], limit))
    decoder.finish()
    return out


CODINGS = ["gzip", "deflate", "br", "zstd"]


@pytest.mark.parametrize("coding", CODINGS)
@pytest.mark.parametrize("piece", [1, 1000, 1 << 20])
def test_round_trip_in_bounded_pieces(coding: str, piece: int) -> None:
    if coding in ("br", "zstd") and piece == 1:
        piece = 7  # byte-at-a-time works too, but slowly; 7 keeps the run short
    out = _decode([coding], _compress(coding, DATA), piece, 4096)
    assert b"".join(out) == DATA
    assert max(len(p) for p in out) <= 4096


def test_deflate_without_zlib_header_is_accepted() -> None:
    assert b"".join(_decode(["deflate"], _compress("raw-deflate", DATA), 500, 4096)) == DATA


def test_multi_member_gzip() -> None:
    body = gzip.compress(b"one ") + gzip.compress(b"two")
    assert b"".join(_decode(["gzip"], body, 10, 4096)) == b"one two"


def test_stacked_codings_are_undone_in_reverse_order() -> None:
    body = _compress("br", gzip.compress(DATA))  # gzip applied first, then br
    assert b"".join(_decode(["gzip", "br"], body, 333, 4096)) == DATA
    assert b"".join(_decode(["gzip, br"], body, 333, 4096)) == DATA


@pytest.mark.parametrize("coding", CODINGS)
def test_bomb_streams_in_bounded_pieces(coding: str) -> None:
    size = 64 << 20
    body = _compress(coding, b"\0" * size)
    assert len(body) < size // 100
    decoder = make_decoder([coding])
    assert decoder is not None
    total = biggest = 0
    for i in range(0, len(body), 8192):
        for piece in decoder.feed(body[i : i + 8192], 65536):
            total += len(piece)
            biggest = max(biggest, len(piece))
    decoder.finish()
    assert total == size
    assert biggest <= 65536


@pytest.mark.parametrize("coding", CODINGS)
def test_corrupt_data_raises_decoding_error(coding: str) -> None:
    body = bytearray(_compress(coding, DATA))
    body[len(body) // 2 : len(body) // 2 + 16] = b"\xff" * 16
    body[:4] = b"\x00\x11\x22\x33"
    with pytest.raises(DecodingError):
        _decode([coding], bytes(body), 1000, 4096)


@pytest.mark.parametrize("coding", CODINGS)
def test_truncated_data_raises_decoding_error(coding: str) -> None:
    body = _compress(coding, DATA)
    with pytest.raises(DecodingError, match="ended early"):
        _decode([coding], body[: len(body) // 2], 1000, 4096)


def test_trailing_garbage_after_deflate_raises() -> None:
    with pytest.raises(DecodingError, match="after the end"):
        _decode(["deflate"], zlib.compress(b"x") + b"junk", 100, 4096)


def test_identity_and_empty_mean_no_decoder() -> None:
    assert make_decoder([]) is None
    assert make_decoder(["identity"]) is None
    assert make_decoder([" Identity "]) is None


def test_unknown_coding_raises() -> None:
    with pytest.raises(DecodingError, match="unsupported content coding 'compress'"):
        make_decoder(["compress"])


def test_more_than_max_codings_raises() -> None:
    assert make_decoder(["gzip"] * MAX_CODINGS) is not None
    with pytest.raises(DecodingError, match="more than 5"):
        make_decoder([", ".join(["gzip"] * (MAX_CODINGS + 1))])


def test_empty_body_with_coding_is_empty() -> None:
    assert _decode(["gzip"], b"", 100, 4096) == []


def test_accept_encoding_lists_what_is_installed() -> None:
    assert accept_encoding() == "gzip, deflate, br, zstd"


# -- input cut anywhere: zstd frames, deflate headers, brotli ends ------------------


def _split_everywhere(codings: list[str], body: bytes, limit: int = 4096) -> list[bytes]:
    """The decoded result for every way of cutting ``body`` in two (and in 1-byte
    pieces); each must be the same, and is returned once per cut."""
    results = []
    for cut in range(len(body) + 1):
        decoder = make_decoder(codings)
        assert decoder is not None
        out = list(decoder.feed(body[:cut], limit)) + list(decoder.feed(body[cut:], limit))
        decoder.finish()
        results.append(b"".join(out))
    results.append(b"".join(_decode(codings, body, 1, limit)))
    return results


def _decode_cut(codings: list[str], body: bytes, cut: int) -> bytes:
    """``body`` decoded in two pieces, cut at ``cut``."""
    decoder = make_decoder(codings)
    assert decoder is not None
    out = list(decoder.feed(body[:cut], 100)) + list(decoder.feed(body[cut:], 100))
    decoder.finish()
    return b"".join(out)


def _skippable(payload: bytes) -> bytes:
    """A zstd skippable frame (RFC 8878 section 3.1.2)."""
    return struct.pack("<II", 0x184D2A50, len(payload)) + payload


ZSTD_BODIES = {
    "two-frames": (
        zstd.compress(b"first frame ") + zstd.compress(b"second"),
        b"first frame second",
    ),
    "three-frames": (
        zstd.compress(b"one ") + zstd.compress(b"two ") + zstd.compress(b"three"),
        b"one two three",
    ),
    "empty-frames": (
        zstd.compress(b"") + zstd.compress(b"a") + zstd.compress(b"") + zstd.compress(b"b"),
        b"ab",
    ),
    "skippable-frames": (
        _skippable(b"meta")
        + zstd.compress(b"x" * 300)
        + _skippable(b"")
        + zstd.compress(b"y")
        + _skippable(b"end"),
        b"x" * 300 + b"y",
    ),
}


@pytest.mark.parametrize("name", list(ZSTD_BODIES))
def test_zstd_frames_cut_anywhere(name: str) -> None:
    # A frame ending exactly at the end of a piece used to leave a finished
    # decompressor that raised the builtin EOFError on the next piece.
    body, expected = ZSTD_BODIES[name]
    assert set(_split_everywhere(["zstd"], body)) == {expected}


def test_zstd_three_frames_cut_in_three_everywhere() -> None:
    body, expected = ZSTD_BODIES["three-frames"]
    for i in range(len(body) + 1):
        for j in range(i, len(body) + 1):
            decoder = make_decoder(["zstd"])
            assert decoder is not None
            out = [p for part in (body[:i], body[i:j], body[j:]) for p in decoder.feed(part, 7)]
            decoder.finish()
            assert b"".join(out) == expected, (i, j)


@pytest.mark.parametrize("limit", range(1, 24))
def test_zstd_frames_under_gzip_in_small_pieces(limit: int) -> None:
    # zstd applied first, then gzip: the gzip stage hands the zstd stage pieces of
    # at most ``limit`` bytes, so frame ends fall at every position of a piece.
    body, expected = ZSTD_BODIES["three-frames"]
    stacked = gzip.compress(body)
    assert b"".join(_decode(["zstd", "gzip"], stacked, 5, limit)) == expected
    members = gzip.compress(body[:10]) + gzip.compress(body[10:])
    assert b"".join(_decode(["zstd", "gzip"], members, 3, limit)) == expected


@pytest.mark.parametrize(
    "tail", [b"\x00", b"junk", zstd.compress(b"next")[:6]], ids=["zero", "junk", "cut-frame"]
)
def test_zstd_bad_data_after_a_frame_cut_anywhere(tail: bytes) -> None:
    body = zstd.compress(b"complete") + tail
    for cut in range(len(body) + 1):
        with pytest.raises(DecodingError):
            _decode_cut(["zstd"], body, cut)


DEFLATE_DATA = b"the raw deflate stream, cut anywhere " * 3


@pytest.mark.parametrize("coding", ["deflate", "raw-deflate"])
def test_deflate_cut_anywhere(coding: str) -> None:
    # Raw deflate used to be refused when the first piece was one byte: zlib was
    # tried first and the byte was lost when falling back to raw.
    body = _compress(coding, DEFLATE_DATA)
    assert set(_split_everywhere(["deflate"], body)) == {DEFLATE_DATA}


@pytest.mark.parametrize("coding", ["deflate", "raw-deflate"])
@pytest.mark.parametrize("limit", [1, 2, 3, 5, 64])
def test_deflate_under_other_codings_in_small_pieces(coding: str, limit: int) -> None:
    inner = _compress(coding, DEFLATE_DATA)
    for outer, codings in (("gzip", ["deflate", "gzip"]), ("zstd", ["deflate", "zstd"])):
        body = _compress(outer, inner)
        assert b"".join(_decode(codings, body, 1, limit)) == DEFLATE_DATA, outer
    # deflate twice: raw inside zlib-wrapped, both fed one byte at a time.
    twice = _compress("deflate", inner)
    assert b"".join(_decode(["deflate", "deflate"], twice, 1, limit)) == DEFLATE_DATA


def test_zlib_header_check_agrees_with_zlib() -> None:
    from rawhttp._decoding import is_zlib_header

    accepted = 0
    for first in range(256):
        for second in range(256):
            try:
                zlib.decompressobj(15).decompress(bytes([first, second]))
                zlib_accepts = True
            except zlib.error:
                zlib_accepts = False
            assert is_zlib_header(first, second) == zlib_accepts, (first, second)
            accepted += zlib_accepts
    assert accepted > 0


@pytest.mark.parametrize("body", [b"\x78", b"\xcb"], ids=["zlib-byte", "raw-byte"])
def test_deflate_one_byte_body_is_truncated(body: bytes) -> None:
    with pytest.raises(DecodingError, match="ended early"):
        _decode(["deflate"], body, 1, 100)


def test_brotli_data_after_the_end_in_a_later_piece() -> None:
    body = brotli.compress(b"complete")
    decoder = make_decoder(["br"])
    assert decoder is not None
    assert b"".join(decoder.feed(body, 100)) == b"complete"
    assert list(decoder.feed(b"", 100)) == []
    with pytest.raises(DecodingError, match="after the end of the br stream"):
        list(decoder.feed(b"x", 100))


@pytest.mark.parametrize("tail", [b"x", brotli.compress(b"second stream")])
def test_brotli_data_after_the_end_cut_anywhere(tail: bytes) -> None:
    body = brotli.compress(b"complete") + tail
    for cut in range(len(body) + 1):
        with pytest.raises(DecodingError):
            _decode_cut(["br"], body, cut)


@pytest.mark.parametrize(
    ("coding", "unit", "size", "seconds"),
    [
        ("gzip", gzip.compress(b"", mtime=0), 4 << 20, 2.0),
        ("zstd", zstd.compress(b""), 2 << 20, 3.0),
    ],
    ids=["gzip", "zstd"],
)
def test_many_empty_members_decode_in_linear_time(
    coding: str, unit: bytes, size: int, seconds: float
) -> None:
    # zlib and zstd copy all the input left after each member or frame: fed at once
    # that was quadratic (measured: 8.3 s for 4 MiB of empty gzip members, 2.1 s for
    # 1 MiB of empty zstd frames).  Fed in slices: 0.15 s, and about 0.3 s per MiB of
    # zstd frames (a new decompressor per frame).
    import time

    body = unit * (size // len(unit))
    decoder = make_decoder([coding])
    assert decoder is not None
    start = time.perf_counter()
    assert list(decoder.feed(body, 65536)) == []
    decoder.finish()
    assert time.perf_counter() - start < seconds
