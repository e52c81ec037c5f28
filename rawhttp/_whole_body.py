"""Reading a body whole (``Response.read()``, ``Session.request()``): the raw pieces fed
to the content decoder as they arrive, the bytes received and held checked against
``Limits.max_body_size`` after each piece, the total deadline checked while decoding.
Also the rest of a body read to be dropped (after a decoding error, or drained)."""

from __future__ import annotations

from ._body_reader import READ_CHUNK, WHOLE_READ, BodyReader
from ._decoding import FEED_SLICE, ContentDecoder, make_decoder
from ._exceptions import BodyTooLarge, Error, ReadTimeout
from ._parse import BodyKind

__all__ = ["DECODED_PIECE", "DISCARD_LIMIT", "discard_rest", "drain_into", "read_whole"]

DECODED_PIECE = 1024 * 1024
"""Largest decoded piece while a body is read whole (the limit is checked after each)."""
DISCARD_LIMIT = 1024 * 1024
"""After a decoding error, at most this much more of the body is read (and dropped)
to keep the connection; a longer body closes it."""


async def read_whole(body: BodyReader, decoder: ContentDecoder | None) -> bytes:
    """The decoded body, fed to the decoder piece by piece as it arrives and refused
    as soon as the bytes received or held pass the limit."""
    limit = body.limits.max_body_size
    if limit is not None and body.kind is BodyKind.LENGTH and body.remaining > limit:
        raise _too_large(limit, body.remaining, "declared by Content-Length")
    parts: list[bytes] = []
    held = 0
    while True:
        raw = await body.read_chunk(WHOLE_READ)
        if not raw:
            break
        if limit is not None and body.received > limit:
            raise _too_large(limit, body.received, "received so far")
        if decoder is None:
            parts.append(raw)
            continue
        # The deadline is checked after each slice too: a 64 KiB slice of empty zstd
        # frames, the slowest input per byte found, takes about 20 ms to decode.
        for start in range(0, len(raw), FEED_SLICE):
            for piece in decoder.feed(raw[start : start + FEED_SLICE], DECODED_PIECE):
                held += len(piece)
                if limit is not None and held > limit:
                    raise _too_large(limit, held, "decoded so far")
                parts.append(piece)
                _check_deadline(body)
            _check_deadline(body)
    if decoder is not None:
        decoder.finish()
    return parts[0] if len(parts) == 1 else b"".join(parts)


async def discard_rest(body: BodyReader) -> None:
    """After a decoding error: read and drop what is left of a small body so the
    connection can be reused (the caller then finishes the response, which closes
    it unless the body was read to its end); errors are what the caller does not
    hear of: the decoding error is."""
    left = DISCARD_LIMIT
    try:
        while left > 0 and not body.done:
            left -= len(await body.read_chunk())
    except Error:
        pass


async def drain_into(body: BodyReader, kept: list[bytes], limit: int | None) -> None:
    """``Response.drain``: read the body to its end, or until more than ``limit``
    bytes came, appending the pieces to ``kept``.  Transfer codings other than
    chunked are undone (not content codings), the bytes that gives bounded by
    ``limit`` too (else by ``Limits.max_body_size``)."""
    decoder = make_decoder([], body.codings)
    if decoder is None:
        total = 0
        while limit is None or total <= limit:
            piece = await body.read_chunk()
            if not piece:
                return
            total += len(piece)
            kept.append(piece)
        return
    bound = body.limits.max_body_size if limit is None else limit
    total = held = 0
    while limit is None or total <= limit:
        piece = await body.read_chunk()
        if not piece:
            decoder.finish()
            return
        total += len(piece)
        for out in decoder.feed(piece, READ_CHUNK):
            held += len(out)
            kept.append(out)
            if bound is not None and held > bound:
                return


def _too_large(limit: int, size: int, what: str) -> BodyTooLarge:
    return BodyTooLarge(
        f"response body exceeds Limits.max_body_size ({limit} bytes): {size} bytes {what}; "
        "stream it with Session.stream() and r.iter_bytes() instead, or raise the limit",
        limit=limit,
        size=size,
    )


def _check_deadline(body: BodyReader) -> None:
    """Raise ReadTimeout once the request's total deadline has passed."""
    if body.clock.expired():
        raise ReadTimeout("the total timeout expired while decoding the response body")
