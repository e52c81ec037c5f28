"""``rawhttp --compressed URL`` on bodies cut at awkward places: zstd frames and raw
deflate split across pieces decode, corrupt data exits 61 as curl does, and no
traceback ever reaches stderr."""

from __future__ import annotations

import asyncio
import gzip
import itertools
import re
import subprocess
import sys
import zlib
from collections.abc import Awaitable, Callable

import brotli
import pytest
from conftest import RawConnection, RawServer, read_message

try:
    from compression import zstd  # Python 3.14+
except ImportError:
    from backports import zstd

MakeServer = Callable[..., Awaitable[RawServer]]
EXIT_ENCODING = 61
"""curl's CURLE_BAD_CONTENT_ENCODING."""

DATA = b"".join(b"line %04d of the decoded body\n" % i for i in range(400))


def chunked_at(body: bytes, cuts: list[int], coding: str) -> bytes:
    """A chunked response whose chunks end exactly at ``cuts``."""
    bounds = [0, *cuts, len(body)]
    chunks = [body[a:b] for a, b in itertools.pairwise(bounds) if b > a]
    head = f"HTTP/1.1 200 OK\r\nContent-Encoding: {coding}\r\nTransfer-Encoding: chunked\r\n\r\n"
    body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks)
    return head.encode() + body + b"0\r\n\r\n"


def raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


async def cli(*args: str) -> tuple[int, bytes, bytes]:
    """Run ``python -m rawhttp ARGS`` while this loop serves; its exit code and output."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rawhttp",
        *args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    except TimeoutError:
        proc.kill()
        await proc.communicate()
        raise
    assert proc.returncode is not None
    assert b"Traceback" not in err, err.decode(errors="replace")
    return proc.returncode, out, err


async def serve_once(raw_server: MakeServer, reply: bytes) -> RawServer:
    async def handler(conn: RawConnection) -> None:
        while (await read_message(conn))[0]:
            await conn.send(reply)

    return await raw_server(handler)


ONE = zstd.compress(DATA[:1000])
TWO = zstd.compress(DATA[1000:])
DECODED = {
    "zstd-second-frame-later": chunked_at(ONE + TWO, [len(ONE)], "zstd"),
    "zstd-cut-in-second-frame": chunked_at(ONE + TWO, [len(ONE), len(ONE) + 3], "zstd"),
    "zstd-under-gzip": chunked_at(gzip.compress(ONE + TWO), [1, 2, 3], "zstd, gzip"),
    "raw-deflate-1-byte-chunk": chunked_at(raw_deflate(DATA), [1], "deflate"),
    "zlib-deflate-1-byte-chunk": chunked_at(zlib.compress(DATA), [1, 2], "deflate"),
    "raw-deflate-under-gzip": chunked_at(gzip.compress(raw_deflate(DATA)), [1], "deflate, gzip"),
}


@pytest.mark.parametrize("name", list(DECODED))
async def test_bodies_cut_at_awkward_places_decode(raw_server: MakeServer, name: str) -> None:
    # Before: the zstd cases printed a traceback (builtin EOFError, exit 1), the raw
    # deflate ones exited 61 ("invalid deflate data").
    server = await serve_once(raw_server, DECODED[name])
    code, out, err = await cli("-s", "--compressed", server.url())
    assert (code, err) == (0, b"")
    assert out == DATA


CORRUPT = {
    "zstd-junk-after-a-frame": chunked_at(ONE + b"junk", [len(ONE)], "zstd"),
    "zstd-zero-after-a-frame": chunked_at(ONE + b"\0", [len(ONE)], "zstd"),
    "zstd-truncated-frame": chunked_at(ONE + TWO[:5], [len(ONE)], "zstd"),
    "deflate-1-byte": chunked_at(b"\x78", [], "deflate"),
    "deflate-garbage": chunked_at(b"\x01" + bytes(10), [1], "deflate"),
    "br-junk-after-the-end": chunked_at(
        brotli.compress(DATA) + b"x", [len(brotli.compress(DATA))], "br"
    ),
}


@pytest.mark.parametrize("name", list(CORRUPT))
async def test_corrupt_bodies_exit_61_with_one_line(raw_server: MakeServer, name: str) -> None:
    server = await serve_once(raw_server, CORRUPT[name])
    code, _, err = await cli("-s", "-S", "--compressed", server.url())
    assert code == EXIT_ENCODING, err
    assert re.fullmatch(rb"rawhttp: \(61\) [^\n]+\n", err), err
