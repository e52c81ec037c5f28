"""HTTP-dates (RFC 9110 section 5.6.7) as seconds since the epoch: pure parsing,
for ``Retry-After`` (and anything else that carries a date)."""

from __future__ import annotations

import re
from typing import Final

__all__ = ["parse_http_date"]

_MONTHS: Final = "JanFebMarAprMayJunJulAugSepOctNovDec"
_DAY: Final = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_MONTH: Final = "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_TIME: Final = "([0-9]{2}):([0-9]{2}):([0-9]{2})"
# The three forms of RFC 9110 5.6.7 (case-sensitive, as the grammar is):
# IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", rfc850-date "Sunday, 06-Nov-94 08:49:37
# GMT" and asctime-date "Sun Nov  6 08:49:37 1994".  The day name is not checked
# against the date.
_IMF: Final = rf"{_DAY}, ([0-9]{{2}}) {_MONTH} ([0-9]{{4}}) {_TIME} GMT"
_RFC850: Final = (
    rf"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), "
    rf"([0-9]{{2}})-{_MONTH}-([0-9]{{2}}) {_TIME} GMT"
)
_ASCTIME: Final = rf"{_DAY} {_MONTH} ([0-9 ][0-9]) {_TIME} ([0-9]{{4}})"


def parse_http_date(value: str, now: float) -> float | None:
    """An HTTP-date as seconds since the epoch, or None when it is not one.  ``now``
    (seconds since the epoch) places the two-digit years of rfc850-date: one more
    than 50 years ahead is in the past century (RFC 9110 5.6.7)."""
    import datetime  # only a Retry-After date needs it

    utc = datetime.UTC
    if found := re.fullmatch(_IMF, value):
        day, month, year, hour, minute, second = found.groups()
    elif found := re.fullmatch(_RFC850, value):
        day, month, short, hour, minute, second = found.groups()
        this_year = datetime.datetime.fromtimestamp(now, utc).year
        century = this_year - this_year % 100
        year_number = century + int(short)
        if year_number > this_year + 50:
            year_number -= 100
        year = str(year_number)
    elif found := re.fullmatch(_ASCTIME, value):
        month, day, hour, minute, second, year = found.groups()
    else:
        return None
    try:
        at = datetime.datetime(
            int(year),
            _MONTHS.index(month) // 3 + 1,
            int(day),  # int() takes the space of asctime's " 6"
            int(hour),
            int(minute),
            min(int(second), 59),  # a leap second (60) is allowed by the grammar
            tzinfo=utc,
        )
    except ValueError:  # 31 Feb, hour 25...
        return None
    return at.timestamp()
