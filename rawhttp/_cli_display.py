"""What the ``rawhttp`` command shows besides the body: the -v/-i wire log and the
progress meter."""

from __future__ import annotations

import time
from typing import IO, Any

__all__ = ["Progress", "WireLog"]


# -- wire log: -v and -i see the exact head bytes through the trace hook ----------------


class WireLog:
    """Follows the trace events of one command run, picking out the request and
    response heads: written to stderr with "> " and "< " for -v, and the response
    heads into the output for -i."""

    def __init__(self, verbose: bool, err: IO[bytes]) -> None:
        self.verbose = verbose
        self.err = err
        self.heads: list[bytes] = []
        """Every response head received (1xx included), exactly as received."""
        self.sending = b""
        self.in_request_head = True
        self.in_response_head = False
        self.head_status = 0
        self.head_lines: list[bytes] = []

    def __call__(self, event: Any) -> None:
        kind, data = event.kind, event.data
        if kind == "connect":
            # A new connection starts with a request, also when a request that failed
            # on a reused connection is retried on a fresh one.
            self.in_request_head, self.in_response_head = True, False
            self.sending = b""
            self.head_lines = []
            self._info(b"Connected (connection #%d)" % event.connection)
        elif kind == "send":
            if not self.in_request_head and not self.in_response_head:
                self.in_request_head = True  # the next request (a redirect) starts
                self.sending = b""
            if self.in_request_head:
                self.sending += data
                end = self.sending.find(b"\r\n\r\n")
                if end != -1:
                    head = self.sending[: end + 4]
                    self.in_request_head = False
                    self.in_response_head = True
                    self.head_lines = []
                    if self.verbose:
                        for line in head.splitlines(keepends=True):
                            self.err.write(b"> " + line)
                        self.err.flush()
        elif kind == "receive" and self.in_response_head:
            if not self.head_lines:
                parts = data.split(b" ", 2)
                self.head_status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
            self.head_lines.append(data)
            if self.verbose:
                self.err.write(b"< " + data)
                self.err.flush()
            if data == b"\r\n":
                self.heads.append(b"".join(self.head_lines))
                self.head_lines = []
                if not 100 <= self.head_status < 200:
                    self.in_response_head = False

    def _info(self, text: bytes) -> None:
        if self.verbose:
            self.err.write(b"* " + text + b"\n")
            self.err.flush()


# -- progress meter ------------------------------------------------------------------


class Progress:
    """One line on stderr: bytes, percent when the length is known, rate, ETA.
    Refreshed at most 10 times a second; finished with a newline."""

    def __init__(self, stream: IO[str], total: int | None) -> None:
        self.stream = stream
        self.total = total
        self.done = 0
        self.start = time.monotonic()
        self.last = 0.0
        self.shown = False

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
        self.stream.write("\r" + "  ".join(parts) + "\x1b[K")
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
