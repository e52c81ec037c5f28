"""Retry rules: :class:`Retry` (how a request is retried), how long to wait before
each retry (:func:`backoff`, with jitter) and what a ``Retry-After`` field asks
(:func:`retry_after`, RFC 9110 10.2.3).  Pure: no I/O.  The step of the Session's
stack that applies them is :mod:`rawhttp._retries`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from ._headers import Headers

__all__ = ["IDEMPOTENT_METHODS", "Retry", "backoff", "coerce_retries", "retry_after"]

IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
"""Methods a server must be able to receive twice (RFC 9110 9.2.2)."""
RETRY_STATUSES: Final = frozenset({429, 502, 503, 504})
# Patterns are compiled on first use (re caches them): compiling the five here at
# import took about 0.6 ms, paid by every program importing rawhttp.
_TOKEN: Final = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"  # RFC 9110 5.6.2
_MAX_EXPONENT: Final = 100
"""2 ** 100 times any backoff factor is past any cap: no larger power is computed."""


def _random_fraction() -> float:
    import random  # only a request that waits needs it: not imported with rawhttp

    return random.random()


random_fraction: Callable[[], float] = _random_fraction
"""The jitter's source: a float in [0, 1).  (Module-level so that tests can pin it.)"""


_FIELDS: Final = ("total", "backoff_factor", "max_backoff", "statuses", "methods", "respect_retry_after")  # fmt: skip


class Retry:
    """How a request is retried (``Session(retries=...)``, or ``retries=`` per request).

    - ``total``: most retries (the request is sent at most ``total + 1`` times);
    - ``backoff_factor``: seconds before the first retry, doubled for each next one,
      with jitter (a uniform draw between half of it and all of it);
    - ``max_backoff``: longest wait before a retry, ``Retry-After`` included;
    - ``statuses``: response statuses that are retried (for ``methods`` only);
    - ``methods``: methods retried after a status in ``statuses`` or a failure once
      the request may have reached the server (the idempotent ones by default;
      matched ignoring case).  A failure to connect is retried for every method;
    - ``respect_retry_after``: wait as a response's ``Retry-After`` says
      (delay-seconds or an HTTP-date), rather than the backoff.

    No wait runs past the request's total timeout.  Immutable; ``Retry(2)`` and
    ``retries=2`` are the same.
    """

    __slots__ = (
        "backoff_factor",
        "max_backoff",
        "methods",
        "respect_retry_after",
        "statuses",
        "total",
    )

    total: int
    backoff_factor: float
    max_backoff: float
    statuses: frozenset[int]
    methods: frozenset[str]
    respect_retry_after: bool

    def __init__(
        self,
        total: int = 3,
        *,
        backoff_factor: float = 0.5,
        max_backoff: float = 30.0,
        statuses: Iterable[int] = RETRY_STATUSES,
        methods: Iterable[str] = IDEMPOTENT_METHODS,
        respect_retry_after: bool = True,
    ) -> None:
        values = (
            _count(total),
            _seconds("backoff_factor", backoff_factor),
            _seconds("max_backoff", max_backoff),
            _statuses(statuses),
            _methods(methods),
            _flag(respect_retry_after),
        )
        for name, value in zip(_FIELDS, values, strict=True):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Retry is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Retry is immutable")

    def _astuple(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in _FIELDS)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Retry):
            return NotImplemented
        return self._astuple() == other._astuple()

    def __hash__(self) -> int:
        return hash(self._astuple())

    def __repr__(self) -> str:
        statuses = ", ".join(str(s) for s in sorted(self.statuses))
        methods = ", ".join(repr(m) for m in sorted(self.methods))
        return (
            f"Retry(total={self.total}, backoff_factor={self.backoff_factor}, "
            f"max_backoff={self.max_backoff}, statuses={{{statuses}}}, "
            f"methods={{{methods}}}, respect_retry_after={self.respect_retry_after})"
        )

    def allows(self, method: str) -> bool:
        """Whether ``method`` may be sent again once it may have reached the server."""
        return method in self.methods or method.upper() in self.methods


def _count(total: object) -> int:
    if isinstance(total, bool) or not isinstance(total, int):
        raise TypeError(f"Retry total must be an int, not {type(total).__name__}")
    if total < 0:
        raise ValueError(f"Retry total must be >= 0, not {total}")
    return total


def _seconds(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"Retry {name} must be a number of seconds, not {type(value).__name__}")
    if not (value >= 0 and math.isfinite(value)):
        raise ValueError(f"Retry {name} must be a finite number >= 0, not {value!r}")
    return float(value)


def _statuses(statuses: object) -> frozenset[int]:
    if isinstance(statuses, str | bytes | int) or not isinstance(statuses, Iterable):
        raise TypeError(f"Retry statuses must be a collection of ints, not {statuses!r}")
    found = frozenset(statuses)
    for status in found:
        if isinstance(status, bool) or not isinstance(status, int):
            raise TypeError(f"Retry statuses must be ints, not {status!r}")
        if not 100 <= status <= 599:
            raise ValueError(f"Retry statuses must be from 100 to 599, not {status}")
    return found


def _methods(methods: object) -> frozenset[str]:
    if isinstance(methods, str | bytes) or not isinstance(methods, Iterable):
        raise TypeError(f"Retry methods must be a collection of str, not {methods!r}")
    found = set()
    for method in methods:
        if not isinstance(method, str):
            raise TypeError(f"Retry methods must be str, not {method!r}")
        if not re.fullmatch(_TOKEN, method):
            raise ValueError(f"Retry methods must be HTTP method names, not {method!r}")
        found.add(method.upper())
    return frozenset(found)


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"Retry respect_retry_after must be a bool, not {value!r}")
    return value


def coerce_retries(value: int | Retry | None) -> Retry | None:
    """``retries=`` as a Retry: an int is that many retries with the defaults."""
    if value is None or isinstance(value, Retry):
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"retries must be an int or a rawhttp.Retry, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"retries must be >= 0, not {value}")
    return Retry(value)


# -- how long to wait ---------------------------------------------------------------


def backoff(retry: Retry, n: int) -> float:
    """Seconds to wait before the ``n``-th retry (from 1): ``backoff_factor * 2 **
    (n - 1)`` capped by ``max_backoff``, then a uniform draw from its upper half."""
    ceiling = min(retry.max_backoff, retry.backoff_factor * 2.0 ** min(n - 1, _MAX_EXPONENT))
    return ceiling * (0.5 + 0.5 * random_fraction())


_DELAY: Final = r"(-?)([0-9]+)"
_LONG_DELAY: Final = 10**9
"""Delay-seconds longer than this (more than 30 years) are taken as this: every cap is
far below, and Python refuses to parse ints of thousands of digits."""


def retry_after(headers: Headers, now: float) -> float | None:
    """The seconds a response's ``Retry-After`` asks to wait, or None when it has none
    or none that makes sense (garbage, or several fields that disagree).  A negative
    number or a date in the past is 0; a date is compared with the response's own
    ``Date`` when it has a valid one (the server's clock: no skew), else with ``now``
    (seconds since the epoch)."""
    values = set(headers.get_all("retry-after"))
    if len(values) != 1:
        return None
    value = values.pop().strip(" \t")
    number = re.fullmatch(_DELAY, value)
    if number is not None:
        sign, digits = number.groups()
        if sign:
            return 0.0
        return float(_LONG_DELAY if len(digits) > 9 else int(digits))
    from ._httpdate import parse_http_date  # only a Retry-After date needs it

    at = parse_http_date(value, now)
    if at is None:
        return None
    date = headers.get("date")
    reference = parse_http_date(date.strip(" \t"), now) if date is not None else None
    return max(0.0, at - (now if reference is None else reference))
