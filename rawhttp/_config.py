"""Settings that are plain data: every time limit (Timeout) and the deadlines of one
request (Clock), and the bounds on what a server may send (Limits)."""

from __future__ import annotations

import asyncio
from typing import Final, NamedTuple

__all__ = ["Clock", "Limits", "Timeout"]

EXPECT_CONTINUE_TIMEOUT: Final = 1.0
"""Default seconds to wait for ``100 Continue`` before sending the body anyway."""


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()


class Timeout:
    """Every time limit of a request, in seconds; ``None`` means no limit.

    ``Timeout(5.0)`` sets connect, read, write and pool to 5 s.  ``read``
    applies to each wait for bytes from the server, ``write`` to each wait
    while sending, ``connect`` to opening a connection (TCP, a proxy's CONNECT
    and TLS), ``pool`` to waiting for a free connection slot.  ``total`` is one
    wall-clock deadline for the whole request: pool wait, connect, TLS, sending,
    the response head and the body, redirects included.  ``expect_continue``
    (1 s unless given; not set by ``default``) is how long a request sent with
    ``Expect: 100-continue`` waits for ``100 Continue`` before sending its body
    anyway (RFC 9110 section 10.1.1).

    Where each applies, in the code: :class:`Clock` turns them into deadlines;
    ``connect`` in ``_connection.Connection.open``, ``pool`` in
    ``_transport.Transport.acquire``, ``write`` and ``read`` in ``_http11`` and
    ``_body_reader``, ``expect_continue`` in ``_exchange``.
    """

    __slots__ = ("connect", "expect_continue", "pool", "read", "total", "write")

    connect: float | None
    read: float | None
    write: float | None
    pool: float | None
    total: float | None
    expect_continue: float | None

    def __init__(
        self,
        default: float | None = None,
        *,
        connect: float | _Unset | None = UNSET,
        read: float | _Unset | None = UNSET,
        write: float | _Unset | None = UNSET,
        pool: float | _Unset | None = UNSET,
        total: float | None = None,
        expect_continue: float | None = EXPECT_CONTINUE_TIMEOUT,
    ) -> None:
        values = {
            "connect": connect,
            "read": read,
            "write": write,
            "pool": pool,
            "total": total,
            "expect_continue": expect_continue,
        }
        for name, value in values.items():
            chosen = default if isinstance(value, _Unset) else value
            if chosen is not None:
                if isinstance(chosen, bool) or not isinstance(chosen, int | float):
                    raise TypeError(f"Timeout {name} must be a number or None, not {chosen!r}")
                if not chosen > 0:
                    raise ValueError(f"Timeout {name} must be > 0, not {chosen!r}")
                chosen = float(chosen)
            object.__setattr__(self, name, chosen)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Timeout is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Timeout):
            return NotImplemented
        return self._astuple() == other._astuple()

    def __hash__(self) -> int:
        return hash(self._astuple())

    def _astuple(self) -> tuple[float | None, ...]:
        return (self.connect, self.read, self.write, self.pool, self.total, self.expect_continue)

    def __repr__(self) -> str:
        return (
            f"Timeout(connect={self.connect}, read={self.read}, write={self.write}, "
            f"pool={self.pool}, total={self.total}, expect_continue={self.expect_continue})"
        )

    @classmethod
    def coerce(cls, value: Timeout | float | None) -> Timeout:
        """Accept a Timeout, a number of seconds (all but total) or None (no limits)."""
        if isinstance(value, Timeout):
            return value
        return cls(value)


class Clock:
    """The deadlines of one request: created when it starts (the ``total`` deadline
    runs from there), it gives each blocking step ``min(now + step, total deadline)``
    in the event loop's time, or None for no deadline."""

    __slots__ = ("loop", "timeout", "total_at")

    def __init__(self, timeout: Timeout) -> None:
        self.loop = asyncio.get_running_loop()
        self.timeout = timeout
        total = timeout.total
        self.total_at = None if total is None else self.loop.time() + total

    def until(self, step: float | None) -> float | None:
        """The deadline of a step that may take ``step`` seconds."""
        total_at = self.total_at
        if step is None:
            return total_at
        at = self.loop.time() + step
        return at if total_at is None or at < total_at else total_at

    def expired(self) -> bool:
        """Whether the total deadline has passed."""
        return self.total_at is not None and self.loop.time() >= self.total_at


class _LimitFields(NamedTuple):
    max_status_line: int
    max_header_line: int
    max_header_bytes: int
    max_headers: int
    max_informational: int
    max_chunk_line: int
    max_body_size: int | None


MAX_BODY_SIZE: Final = 256 * 1024 * 1024
"""Default ``Limits.max_body_size``: far above any JSON or HTML document, far below
what a decompression bomb of a few hundred bytes expands to."""


class Limits(_LimitFields):
    """Bounds on what a server may send; exceeding one raises ProtocolError
    (``max_body_size``: BodyTooLarge).

    The defaults accept what real servers send (hundreds of headers, large
    cookies) and refuse what only a broken or hostile server sends:

    - ``max_status_line`` (8 KiB): longest status line, CRLF included;
    - ``max_header_line`` (64 KiB): longest single header or trailer line;
    - ``max_header_bytes`` (256 KiB): largest header (or trailer) section;
    - ``max_headers`` (500): most header (or trailer) lines in one response;
    - ``max_informational`` (10): most 1xx interim responses before the final one;
    - ``max_chunk_line`` (4 KiB): longest chunk-size line, extensions included;
    - ``max_body_size`` (256 MiB, ``None`` for no limit): most bytes a body read whole
      (``request()``, ``get()``, ``read()``) may hold, as received and as decoded;
      a larger one raises BodyTooLarge.  ``iter_bytes()`` and ``iter_raw()`` stream
      any size in constant memory and ignore it.

    Immutable; use ``limits._replace(max_headers=1000)`` to derive another.
    """

    __slots__ = ()

    def __new__(
        cls,
        *,
        max_status_line: int = 8 * 1024,
        max_header_line: int = 64 * 1024,
        max_header_bytes: int = 256 * 1024,
        max_headers: int = 500,
        max_informational: int = 10,
        max_chunk_line: int = 4 * 1024,
        max_body_size: int | None = MAX_BODY_SIZE,
    ) -> Limits:
        values = (
            max_status_line,
            max_header_line,
            max_header_bytes,
            max_headers,
            max_informational,
            max_chunk_line,
            max_body_size,
        )
        for name, value in zip(_LimitFields._fields, values, strict=True):
            if value is None and name == "max_body_size":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                kind = (
                    "a non-negative int or None"
                    if name == "max_body_size"
                    else "a non-negative int"
                )
                raise ValueError(f"Limits.{name} must be {kind}, not {value!r}")
        return super().__new__(cls, *values)

    def _replace(self, **changes: int | None) -> Limits:
        return Limits(**{**self._asdict(), **changes})


DEFAULT_TIMEOUT: Final = Timeout(10.0)
DEFAULT_LIMITS: Final = Limits()
