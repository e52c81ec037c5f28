"""``-z/--time-cond``: a date, or a file whose modification time is the date, sent as
``If-Modified-Since`` (``If-Unmodified-Since`` with a leading ``-``), as curl does.

Dates are read in the forms people write: an HTTP or e-mail date (``Wed, 21 Oct 2015
07:28:00 GMT``), ISO 8601 (``2015-10-21``, ``2015-10-21T07:28:00Z``) or ``YYYYMMDD``;
without a zone, UTC (curl's default).  An argument that is neither a date nor a file
is a warning and no condition, as in curl."""

from __future__ import annotations

import datetime as dt
import os
import sys

__all__ = ["parse_date", "time_condition"]

WARNING = (
    "Warning: Illegal date format for -z, --time-cond (and not a file name).\n"
    "Warning: Disabling time condition. See curl_getdate(3) for valid date syntax.\n"
)


def time_condition(value: str, *, silent: bool) -> tuple[str, bytes] | None:
    """The header field -z asks for, or None (with curl's warning) for an argument that
    is neither a date nor an existing file."""
    name = "If-Modified-Since"
    if value.startswith("-"):
        name, value = "If-Unmodified-Since", value[1:]
    elif value.startswith("+"):
        value = value[1:]
    when = parse_date(value)
    if when is None:
        try:
            when = dt.datetime.fromtimestamp(os.stat(value).st_mtime, dt.UTC)
        except (OSError, ValueError, OverflowError):
            if not silent:
                sys.stderr.write(WARNING)
            return None
    import email.utils

    return name, email.utils.format_datetime(when, usegmt=True).encode("ascii")


def parse_date(text: str) -> dt.datetime | None:
    """``text`` as an aware UTC datetime, or None when it is no date read here."""
    text = text.strip()
    if not text:
        return None
    import email.utils

    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        when = None
    if when is None:
        iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
        if len(iso) == 8 and iso.isdigit():
            iso = f"{iso[:4]}-{iso[4:6]}-{iso[6:]}"
        try:
            when = dt.datetime.fromisoformat(iso)
        except ValueError:
            return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    try:
        return when.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return None
