"""The BufferedProtocol client of bench/ceiling.py, on its own so that bench/clients.py
(its ``ceiling`` client) imports it without importing the driver, which imports
bench/run.py, which imports bench/clients.py.

The transport receives straight into one preallocated bytearray (``get_buffer()``
hands out a memoryview of its free tail); ``buffer_updated()`` parses in place -- the
head once, then chunk-size lines and data by memoryview slicing -- and queues the
body as pieces of at most ``PIECE`` bytes for a pull API (``await read()``; b"" at
the end).  See bench/ceiling.py's docstring for the modes.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any

MiB = 1024 * 1024
PIECE = 64 * 1024
BUFFER = 1 * MiB
MIN_FREE = 256 * 1024  # compact (or, with pieces lent out, pause) below this much free space
EAGER_HIGH, EAGER_LOW = 2 * MiB, 512 * 1024  # eager mode: queued bytes pause / resume
HEAD_LIMIT = 64 * 1024
LINE_LIMIT = 4096
HEX = b"0123456789abcdefABCDEF"
CEILING_MODES = ("ceiling-view", "ceiling-bytes", "ceiling-eager")


class ProtocolError(Exception):
    pass


# -- the BufferedProtocol client ------------------------------------------------------

IDLE, HEAD, DATA, SIZE, CRLF, TRAILER, DONE = range(7)


class CeilingProtocol(asyncio.BufferedProtocol):
    """One HTTP/1.1 connection; one response at a time; pieces pulled with read()."""

    def __init__(self, mode: str, bufsize: int = BUFFER, piece: int = PIECE) -> None:
        if mode not in CEILING_MODES:
            raise ValueError(mode)
        self.view = mode == "ceiling-view"
        self.eager = mode == "ceiling-eager"
        self.buf = bytearray(bufsize)
        self.mv = memoryview(self.buf)
        self.cap = bufsize
        self.piece = piece
        self.rd = 0  # first byte not parsed yet
        self.wr = 0  # end of the received bytes
        self.pieces: collections.deque[Any] = collections.deque()
        self.lent = 0  # views into buf not released yet (queued, or held by the consumer)
        self.holding = False  # the consumer holds the view read() returned last
        self.queued = 0  # eager mode: bytes queued
        self.paused = False
        self.state = IDLE
        self.chunked = False
        self.left = 0  # bytes left in this chunk (or of a Content-Length body)
        self.status = 0
        self.exc: BaseException | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.transport: asyncio.Transport | None = None
        self.receives = 0

    # transport side

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def get_buffer(self, sizehint: int) -> memoryview:
        if not self.lent:  # nothing lent out: the front of the buffer is free again
            rd, wr = self.rd, self.wr
            if rd == wr:
                self.rd = self.wr = 0
            elif self.cap - wr < MIN_FREE:
                # an unfinished head, size line or CRLF: move it to the front
                k = wr - rd
                self.buf[0:k] = bytes(self.mv[rd:wr])
                self.rd, self.wr = 0, k
        # With views lent out, buffer_updated() paused reading before free space
        # could drop below MIN_FREE, so the tail here is never empty.
        return self.mv[self.wr :]

    def buffer_updated(self, nbytes: int) -> None:
        self.receives += 1
        self.wr += nbytes
        try:
            self._parse()
        except Exception as exc:  # a malformed response: fail the reader, drop the connection
            self.exc = exc
            assert self.transport is not None
            self.transport.abort()
        if not self.paused and (
            (self.eager and self.queued > EAGER_HIGH)
            or (self.lent and self.cap - self.wr < MIN_FREE)
        ):
            self.paused = True
            assert self.transport is not None
            self.transport.pause_reading()
        w = self.waiter
        if w is not None and not w.done() and (self.pieces or self.state == DONE or self.exc):
            w.set_result(None)

    def eof_received(self) -> bool:
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        if self.state not in (IDLE, DONE) and self.exc is None:
            self.exc = exc or ProtocolError("connection closed before the response ended")
        self.state = DONE if self.state == DONE else IDLE
        w = self.waiter
        if w is not None and not w.done():
            w.set_result(None)

    def _parse(self) -> None:
        buf, mv, piece = self.buf, self.mv, self.piece
        rd, wr, state = self.rd, self.wr, self.state
        pieces = self.pieces
        try:
            while rd < wr:
                if state == DATA:
                    n = wr - rd
                    if n > self.left:
                        n = self.left
                    if n > piece:
                        n = piece
                    if self.eager:
                        pieces.append(bytes(mv[rd : rd + n]))
                        self.queued += n
                    else:
                        pieces.append(mv[rd : rd + n])
                        self.lent += 1
                    rd += n
                    self.left -= n
                    if not self.left:
                        state = CRLF if self.chunked else DONE
                elif state == SIZE:
                    eol = buf.find(b"\r\n", rd, wr)
                    if eol < 0:
                        if wr - rd > LINE_LIMIT:
                            raise ProtocolError("chunk-size line too long")
                        break
                    line = bytes(mv[rd:eol]).split(b";", 1)[0]
                    if not line or len(line) > 16 or line.translate(None, HEX):
                        raise ProtocolError(f"bad chunk-size line {line[:40]!r}")
                    size = int(line, 16)
                    rd = eol + 2
                    if size:
                        self.left = size
                        state = DATA
                    else:
                        state = TRAILER
                elif state == CRLF:
                    if wr - rd < 2:
                        break
                    if buf[rd : rd + 2] != b"\r\n":
                        raise ProtocolError("chunk data not followed by CRLF")
                    rd += 2
                    state = SIZE
                elif state == TRAILER:
                    eol = buf.find(b"\r\n", rd, wr)
                    if eol < 0:
                        if wr - rd > LINE_LIMIT:
                            raise ProtocolError("trailer line too long")
                        break
                    if eol == rd:
                        state = DONE
                    rd = eol + 2
                elif state == HEAD:
                    end = buf.find(b"\r\n\r\n", rd, wr)
                    if end < 0:
                        if wr - rd > HEAD_LIMIT:
                            raise ProtocolError("response head too long")
                        break
                    state = self._head(bytes(mv[rd : end + 2]))
                    rd = end + 4
                else:  # IDLE or DONE: nothing may arrive between responses
                    raise ProtocolError(
                        f"unexpected bytes after the response: {bytes(mv[rd:wr])[:40]!r}"
                    )
        finally:
            self.rd, self.state = rd, state

    def _head(self, head: bytes) -> int:
        """Minimal, like the floor: status line, Transfer-Encoding or Content-Length."""
        if not head.startswith(b"HTTP/1.1 ") or head[12:13] != b" ":
            raise ProtocolError(f"bad status line {head[:40]!r}")
        self.status = int(head[9:12])
        lower = head.lower()
        te = lower.find(b"\r\ntransfer-encoding:")
        cl = lower.find(b"\r\ncontent-length:")
        if te >= 0:
            value = lower[te + 20 : lower.index(b"\r\n", te + 2)].strip()
            if value != b"chunked" or cl >= 0:
                raise ProtocolError(f"unsupported framing {value!r}")
            self.chunked = True
            return SIZE
        if cl < 0:
            raise ProtocolError(
                "neither Content-Length nor chunked (close-delimited bodies: not here)"
            )
        value = lower[cl + 17 : lower.index(b"\r\n", cl + 2)].strip()
        if not value.isdigit():
            raise ProtocolError(f"bad Content-Length {value!r}")
        self.chunked = False
        self.left = int(value)
        return DATA if self.left else DONE

    # consumer side

    def request(self, host: str, port: int, path: str) -> None:
        if self.state not in (IDLE, DONE) or self.pieces or self.exc is not None:
            raise RuntimeError("the previous response is not finished")
        if self.holding:  # the last view of the previous body is released now
            self.holding = False
            self.lent -= 1
        self.state = HEAD
        assert self.transport is not None
        self.transport.write(
            b"GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (path.encode(), host.encode(), port)
        )

    async def read(self) -> Any:
        """The next body piece (bytes, or in view mode a memoryview valid until the
        next read()); b"" at the end of the body."""
        if self.holding:
            self.holding = False
            self.lent -= 1
        pieces = self.pieces
        while True:
            if pieces:
                p = pieces.popleft()
                if self.eager:
                    self.queued -= len(p)
                    if self.paused and self.queued <= EAGER_LOW:
                        self._resume()
                elif self.view:
                    self.holding = True
                else:
                    p = bytes(p)
                    self.lent -= 1
                return p
            if self.exc is not None:
                raise self.exc
            if self.state == DONE:
                return b""
            if self.state == IDLE:
                raise ProtocolError("connection closed")
            # Queue empty: nothing is lent out any more, so reading may go on.
            if self.paused:
                self._resume()
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None

    def _resume(self) -> None:
        self.paused = False
        assert self.transport is not None
        self.transport.resume_reading()
