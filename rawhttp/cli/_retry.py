"""curl's --retry rules (7.88): whether an outcome is transient, how long to wait
before each retry, the --retry-max-time budget and the warning curl prints before
retrying.  Pure: no I/O, no clock (the caller passes the time elapsed).

What is transient: a timeout (curl also counts a host or proxy name that could not
be resolved, exits 6 and 5, as one), HTTP 408, 429, 500, 502, 503 and 504 (with or
without -f), a refused connection with --retry-connrefused, and any failure with
--retry-all-errors (a response that did not fail, a 404 without -f, is not one).
The wait before retry n (from 0) is --retry-delay when given (not 0), else 2**n
seconds up to 10 minutes; a Retry-After of a transient HTTP status replaces it (and
refuses the retry when it would pass --retry-max-time).  No retry starts once
--retry-max-time seconds have passed since the first attempt.
"""

from __future__ import annotations

import re
import time
from typing import Final, Literal, NamedTuple, TypeAlias

import rawhttp

from ._exit import EXIT_HTTP_ERROR, CliError

__all__ = ["RetryKind", "RetryRules", "Verdict", "retry_after_seconds", "warning_lines"]

RetryKind: TypeAlias = Literal["timeout", "connection refused", "HTTP error", "all errors"]

TRANSIENT_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})
MAX_SLEEP: Final = 600.0
"""curl's longest backoff (RETRY_SLEEP_MAX): 10 minutes."""
WARNING_WIDTH: Final = 79
"""curl wraps its warnings at 79 columns, "Warning: " included."""
_WHY: Final[dict[RetryKind, str]] = {
    "all errors": "(retrying all errors)",
    "timeout": ": timeout",
    "connection refused": ": connection refused",
    "HTTP error": ": HTTP error",
}
EXCEEDS_MAX_TIME: Final = (
    "The Retry-After: time would make this command line exceed the maximum allowed "
    "time for retries."
)


class Verdict(NamedTuple):
    """What to do after an attempt: ``retry`` after ``wait`` seconds; ``warning``,
    the lines curl writes on stderr (each ending in a newline; "" for none), shown
    unless -s."""

    retry: bool
    wait: float
    warning: str


NO_RETRY: Final = Verdict(False, 0.0, "")


class RetryRules:
    """The retry options of one URL: ``retries`` (--retry N), ``delay`` (--retry-delay
    S, 0: curl's backoff), ``max_time`` (--retry-max-time S, 0: no limit),
    ``all_errors`` (--retry-all-errors), ``connrefused`` (--retry-connrefused)."""

    __slots__ = ("all_errors", "connrefused", "delay", "max_time", "retries")

    def __init__(
        self,
        *,
        retries: int,
        delay: float = 0.0,
        max_time: float = 0.0,
        all_errors: bool = False,
        connrefused: bool = False,
    ) -> None:
        self.retries = max(retries, 0)
        self.delay = max(delay, 0.0)
        self.max_time = max(max_time, 0.0)
        self.all_errors = all_errors
        self.connrefused = connrefused

    def kind(
        self, *, error: BaseException | None = None, status: int | None = None
    ) -> RetryKind | None:
        """Why the outcome is transient, or None.  ``error``: what ended the attempt
        (a rawhttp error, or a CliError: exit 22 is -f's); ``status``: the last
        response's status when one arrived."""
        if isinstance(error, rawhttp.TimeoutError):
            return "timeout"
        if isinstance(error, rawhttp.ConnectError) and not isinstance(error, rawhttp.TLSError):
            if error.reason == "resolve":  # curl 7.88 retries exits 5 and 6 as timeouts
                return "timeout"
            if error.reason == "refused" and self.connrefused:
                return "connection refused"
        # a response that did not fail, or -f's failure, is judged by its status
        judged = error is None or (isinstance(error, CliError) and error.code == EXIT_HTTP_ERROR)
        if judged and status in TRANSIENT_STATUSES:
            return "HTTP error"
        if error is not None and self.all_errors:
            return "all errors"
        return None

    def backoff(self, retry: int) -> float:
        """The wait before retry number ``retry`` (0 for the first), Retry-After aside."""
        if self.delay:
            return self.delay
        return min(2.0 ** min(retry, 30), MAX_SLEEP)

    def decide(
        self,
        retry: int,
        elapsed: float,
        *,
        error: BaseException | None = None,
        status: int | None = None,
        retry_after: str | None = None,
        now: float | None = None,
    ) -> Verdict:
        """Whether to retry after an attempt, ``retry`` retries having been made and
        ``elapsed`` seconds having passed since the first attempt began; ``retry_after``
        is the last response's Retry-After value (``now``: the clock for its dates)."""
        left = self.retries - retry
        if left <= 0 or (self.max_time and elapsed >= self.max_time):
            return NO_RETRY
        kind = self.kind(error=error, status=status)
        if kind is None:
            return NO_RETRY
        wait = self.backoff(retry)
        if kind == "HTTP error" and retry_after is not None:
            asked = retry_after_seconds(retry_after, now=now)
            if asked:
                if self.max_time and int(elapsed) + asked > self.max_time:
                    return Verdict(False, 0.0, warning_lines(EXCEEDS_MAX_TIME))
                wait = float(asked)
        message = f"Problem {_WHY[kind]}. Will retry in {int(wait)} seconds. {left} retries left."
        return Verdict(True, wait, warning_lines(message))


def retry_after_seconds(value: str, *, now: float | None = None) -> int:
    """A Retry-After value as curl reads it: leading digits are seconds; otherwise an
    HTTP-date, as seconds from ``now``; 0 for anything else (then the backoff applies).
    A date in the past is 0 (curl 7.88 computes a negative wait and sleeps for ever)."""
    digits = re.match(r"[ \t]*\+?(\d+)", value)
    if digits is not None and int(digits.group(1)):
        return int(digits.group(1))
    from datetime import UTC
    from email.utils import parsedate_to_datetime

    try:
        date = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return 0
    if date.tzinfo is None:  # no zone: GMT, as curl reads it
        date = date.replace(tzinfo=UTC)
    seconds = int(date.timestamp() - (time.time() if now is None else now))
    return max(seconds, 0)


def warning_lines(message: str) -> str:
    """``message`` as curl's warnf writes it: "Warning: " before each line; the
    message with its newline is cut while longer than 70 characters, at the last
    space within them (kept at the line's end).  (curl 7.88 counts the newline: a
    message of exactly 70 characters is cut too, as measured.)"""
    prefix = "Warning: "
    width = WARNING_WIDTH - len(prefix)
    lines = []
    rest = message + "\n"
    for _ in range(len(rest)):  # each turn consumes at least one character
        if len(rest) <= width:
            break
        cut = width - 1
        while cut and not rest[cut].isspace():
            cut -= 1
        if cut == 0:
            cut = width - 1
        lines.append(prefix + rest[: cut + 1] + "\n")
        rest = rest[cut + 1 :]
    lines.append(prefix + rest)
    return "".join(lines)
