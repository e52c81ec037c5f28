"""What the ``rawhttp`` command shows besides the body: the -v/-i wire log, the
--trace/--trace-ascii dumps and the progress meter."""

from __future__ import annotations

import re
import time
from typing import IO, Any

__all__ = ["Progress", "TraceDump", "WireLog"]


# -- wire log: -v, -i, --trace and -w see the exact bytes through the trace hook ---------


class WireLog:
    """Follows the trace events of one command run and tells request and response
    heads from bodies: a head is everything up to and including its first empty line
    (CRLF or a bare LF right after a LF, as the parser reads it), one per message
    (each 1xx interim response has its own).  The heads are written to stderr with
    "> " and "< " for -v, the response heads kept for -i, every piece given to
    ``dump`` for --trace, and the sizes counted for -w."""

    def __init__(
        self,
        verbose: bool,
        err: IO[bytes],
        *,
        dump: TraceDump | None = None,
        stamp: bool = False,
    ) -> None:
        self.verbose = verbose
        self.err = err
        self.dump = dump
        self.clock = WallClock() if stamp else None
        self.heads: list[bytes] = []
        """Every response head received (1xx included), exactly as received."""
        self.sent = 0
        """Bytes sent, every request counted (heads and bodies as framed)."""
        self.upload = 0
        """Body bytes of the last request, as framed."""
        self.connects = 0
        self.peer: bytes | None = None
        """The address of a connection just opened, until its first request is shown."""
        self.method = ""
        """The method of the last request head sent (for -w after a failed redirect)."""
        self.sending = b""  # the request head so far
        self.receiving = b""  # the response head so far
        self.line = b""  # an incomplete response head line, for -v
        self.in_request_head = True
        self.in_response_head = False

    def __call__(self, event: Any) -> None:
        kind, data, when = event.kind, event.data, event.time
        if kind == "connect":
            # A new connection starts with a request, also when a request that failed
            # on a reused connection is retried on a fresh one.
            self.in_request_head, self.in_response_head = True, False
            self.sending = self.receiving = self.line = b""
            self.connects += 1
            self.peer = data  # b"<ip> <port>": shown with the first request head on it
        elif kind == "close":
            self._info(b"Connection #%d closed" % event.connection, when)
        elif kind == "send":
            if self.peer is not None:  # the first bytes on a new connection
                self._connected(when, data)
            self.sent += len(data)
            for is_head, part in self._send(data):
                if self.dump is not None:
                    self.dump.data(b"=> Send header" if is_head else b"=> Send data", part, when)
                if not is_head:
                    self.upload += len(part)
                elif self.verbose and not self.in_request_head:  # the head is complete
                    stamp = self._stamp(when)
                    for line in self.sending.splitlines(keepends=True):
                        self.err.write(stamp + b"> " + line)
                    self.err.flush()
        elif kind == "receive":
            for is_head, part in self._receive(data):
                if self.dump is not None:
                    self.dump.data(b"<= Recv header" if is_head else b"<= Recv data", part, when)
                if is_head and self.verbose:
                    self._show_received(part, when)

    def _connected(self, when: float, head: bytes) -> None:
        """curl's lines for a new connection: where it went, for which host."""
        ip, _, port = self.peer.partition(b" ") if self.peer else (b"", b"", b"")
        self.peer = None
        host = b"localhost"
        for line in head.split(b"\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"host":
                value = value.strip()
                host = value[1:].split(b"]")[0] if value.startswith(b"[") else value
                host = host.rsplit(b":", 1)[0] if not value.startswith(b"[") else host
                break
        number = self.connects - 1
        if not ip:  # a Unix socket
            self._info(b"Connected to %s (#%d)" % (host, number), when)
            return
        shown = b"[%s]" % ip if b":" in ip else ip
        self._info(b"  Trying %s:%s..." % (shown, port), when)
        self._info(b"Connected to %s (%s) port %s (#%d)" % (host, ip, port, number), when)

    def _send(self, data: bytes) -> list[tuple[bool, bytes]]:
        """``data`` split into (is head, bytes) pieces."""
        if not self.in_request_head and not self.in_response_head:
            self.in_request_head = True  # the next request (a redirect) starts
            self.sending = b""
        if not self.in_request_head:  # the body, also while waiting for the response
            return [(False, data)]
        if not self.sending:  # a request starts (also one sent again on a new connection)
            self.upload = 0
        cut = _head_end(self.sending, data)
        self.sending += data[:cut] if cut is not None else data
        if cut is None:
            return [(True, data)]
        self.in_request_head = False
        self.in_response_head = True
        self.receiving = self.line = b""
        self.method = self.sending.split(b" ", 1)[0].decode("latin-1")
        return [(True, data[:cut])] + ([(False, data[cut:])] if cut < len(data) else [])

    def _receive(self, data: bytes) -> list[tuple[bool, bytes]]:
        parts: list[tuple[bool, bytes]] = []
        while data and self.in_response_head:
            cut = _head_end(self.receiving, data)
            if cut is None:
                self.receiving += data
                return [*parts, (True, data)]
            head = self.receiving + data[:cut]
            parts.append((True, data[:cut]))
            data = data[cut:]
            self.heads.append(head)
            self.receiving = b""
            status = head.split(None, 2)[1:2]  # also "HTTP/1.1 100\r\n" without a reason
            if not (status and status[0].isdigit() and 100 <= int(status[0]) < 200):
                self.in_response_head = False
        if data:
            parts.append((False, data))
        return parts

    def _show_received(self, part: bytes, when: float) -> None:
        """-v: "< " before each line of a response head, as soon as the line is whole."""
        text = self.line + part
        end = text.rfind(b"\n") + 1
        self.line = text[end:]
        if end:
            stamp = self._stamp(when)
            for line in text[: end - 1].split(b"\n"):
                self.err.write(stamp + b"< " + line + b"\n")
            self.err.flush()

    def _info(self, text: bytes, when: float) -> None:
        if self.verbose:
            self.err.write(self._stamp(when) + b"* " + text + b"\n")
            self.err.flush()
        if self.dump is not None:
            self.dump.info(text, when)

    def _stamp(self, when: float) -> bytes:
        return b"" if self.clock is None else self.clock.stamp(when)


_HEAD_END = re.compile(rb"\n\r?\n")
"""The end of a head: the LF of its last line, then the empty line (CRLF or a bare LF)."""


def _head_end(before: bytes, data: bytes) -> int | None:
    """Where in ``data`` the head that has ``before`` so far ends (the index after its
    empty line), or None when it does not end in ``data``."""
    tail = before[-2:]  # an end that begins in ``before``
    found = _HEAD_END.search(tail + data)
    return None if found is None else found.end() - len(tail)


class WallClock:
    """--trace-time: "HH:MM:SS.uuuuuu " in local time for a trace event's time (the
    event loop's monotonic clock)."""

    def __init__(self) -> None:
        self.offset = time.time() - time.monotonic()

    def stamp(self, when: float) -> bytes:
        wall = when + self.offset
        t = time.localtime(wall)
        us = int(wall * 1_000_000) % 1_000_000
        return b"%02d:%02d:%02d.%06d " % (t.tm_hour, t.tm_min, t.tm_sec, us)


# -- --trace and --trace-ascii ------------------------------------------------------------


class TraceDump:
    """curl's trace look: a line naming each piece ("=> Send header, 78 bytes (0x4e)"),
    then its bytes.  --trace shows 16 bytes a line, in hex and as text; --trace-ascii
    64 a line as text only, a CRLF ending the line.  Bytes outside 0x20-0x7f are
    shown as ".".  A write error stops the dump and is kept in ``error``."""

    def __init__(self, stream: IO[bytes], *, ascii_only: bool, stamp: bool = False) -> None:
        self.stream = stream
        self.ascii = ascii_only
        self.clock = WallClock() if stamp else None
        self.error: OSError | None = None

    def info(self, text: bytes, when: float) -> None:
        self._write(self._stamp(when) + b"== Info: " + text + b"\n")

    def data(self, label: bytes, data: bytes, when: float) -> None:
        size = len(data)
        lines = [self._stamp(when) + b"%s, %d bytes (0x%x)\n" % (label, size, size)]
        lines += ascii_lines(data) if self.ascii else hex_lines(data)
        self._write(b"".join(lines))

    def _stamp(self, when: float) -> bytes:
        return b"" if self.clock is None else self.clock.stamp(when)

    def _write(self, text: bytes) -> None:
        if self.error is not None:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except OSError as exc:
            self.error = exc


_SHOWN = bytes(c if 0x20 <= c < 0x80 else ord(".") for c in range(256))
"""Each byte as the text column shows it."""


def hex_lines(data: bytes) -> list[bytes]:
    """--trace: "0000: 47 45 54 20 ... GET ..", 16 bytes a line; the hex column is
    padded on the last line so the text column lines up."""
    lines = []
    for at in range(0, len(data), 16):
        row = data[at : at + 16]
        hexed = b"".join(b"%02x " % c for c in row).ljust(48)
        lines.append(b"%04x: %s%s\n" % (at, hexed, row.translate(_SHOWN)))
    return lines


def ascii_lines(data: bytes) -> list[bytes]:
    """--trace-ascii: "0000: GET / HTTP/1.1", at most 64 bytes a line; a CRLF ends a
    line (and is not shown), so a head reads line by line."""
    lines = []
    at, size = 0, len(data)
    while at < size:
        # a CRLF right after 64 bytes still ends this line rather than make an empty one
        crlf = data.find(b"\r\n", at, at + 66)
        if crlf != -1:
            end, after = crlf, crlf + 2
        else:
            end = after = min(at + 64, size)
        lines.append(b"%04x: %s\n" % (at, data[at:end].translate(_SHOWN)))
        at = after
    return lines


# -- progress meter ------------------------------------------------------------------


class Progress:
    """One line on stderr: bytes, percent when the length is known, rate, ETA.
    Refreshed at most 10 times a second, each refresh starting with CR; finished
    with a newline."""

    def __init__(self, stream: IO[str], total: int | None) -> None:
        self.stream = stream
        self.total = total
        self.done = 0
        self.start = time.monotonic()
        self.last = 0.0
        self.shown = False
        try:
            terminal = stream.isatty()
        except (OSError, ValueError):
            terminal = False
        # On a terminal the rest of the line is erased; in a file or pipe (curl shows
        # its meter there too) the line is padded instead, with no escape codes.
        self.erase = "\x1b[K" if terminal else ""

    def update(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= 0.1:
            self.last = now
            self._show(now)

    def finish(self) -> None:
        self._show(time.monotonic())
        self.stream.write("\n")
        self.stream.flush()

    def _show(self, now: float) -> None:
        elapsed = max(now - self.start, 1e-6)
        rate = self.done / elapsed
        parts = [f"{_size(self.done):>9}"]
        if self.total:
            parts.append(f"{min(100.0, 100.0 * self.done / self.total):5.1f}%")
            left = (self.total - self.done) / rate if rate > 0 else 0.0
            parts.append(f"{_size(rate)}/s ETA {_clock(left)}")
        else:
            parts.append(f"{_size(rate)}/s")
        line = "  ".join(parts)
        self.stream.write("\r" + (line + self.erase if self.erase else line.ljust(48)))
        self.stream.flush()
        self.shown = True


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover - the loop always returns


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
