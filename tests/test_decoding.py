"""Incremental content decoders: bounded pieces, corrupt and truncated data, stacking."""

from __future__ import annotations

import gzip
import os
import zlib

import pytest

from rawhttp import DecodingError
from rawhttp._decoding import MAX_CODINGS, accept_encoding, make_decoder

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
        import brotli

        return bytes(brotli.compress(data))
    if coding == "zstd":
        try:
            from compression import zstd  # Python 3.14+
        except ImportError:
            from backports import zstd

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
