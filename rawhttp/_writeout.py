"""``-w/--write-out FORMAT``: the text written after a transfer, curl's way.

:func:`write_out` is a pure function from a format and the transfer's values to
the text and any warnings; the command gathers the values (see ``_cli.py``).

The format follows curl's documented syntax: ``%{name}`` is replaced by a
variable's value, ``%header{name}`` by a header of the last response, ``%%``
is a ``%``, and ``\\n``, ``\\r`` and ``\\t`` are a newline, a carriage return
and a tab.  Anything else is written as it is, like curl does: ``%`` before
another character, ``%{`` without a closing ``}``, and a backslash before any
other character (``\\\\`` stays two backslashes).  An unknown variable writes
nothing and gives a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = ["VARIABLES", "format_seconds", "write_out"]

Value = str | int | float

TIMES: Final = frozenset(
    {
        "time_appconnect",
        "time_connect",
        "time_pretransfer",
        "time_redirect",
        "time_starttransfer",
        "time_total",
    }
)
"""Seconds, written with six decimals (microseconds), as curl does."""

CODES: Final = frozenset({"http_code", "response_code"})
"""Status codes, written with three digits: 000 when there was no response."""

NUMBERS: Final = frozenset(
    {
        "exitcode",
        "num_connects",
        "num_headers",
        "num_redirects",
        "size_download",
        "size_header",
        "size_request",
        "size_upload",
        "speed_download",
        "speed_upload",
    }
)
"""Whole numbers (speeds are bytes per second, truncated, as curl writes them)."""

TEXTS: Final = frozenset(
    {
        "content_type",
        "errormsg",
        "filename_effective",
        "http_version",
        "method",
        "redirect_url",
        "scheme",
        "url",
        "url_effective",
    }
)

ONERROR: Final = "onerror"
"""Stops the output here when the transfer succeeded (``exitcode`` 0)."""

VARIABLES: Final = TIMES | CODES | NUMBERS | TEXTS | {ONERROR}
"""Every variable name this formatter knows.  A known variable missing from the
values writes nothing (like curl's for information the transfer does not have)."""

_ESCAPES: Final = {"n": "\n", "r": "\r", "t": "\t"}


def format_seconds(seconds: float) -> str:
    """``1.5`` -> ``"1.500000"``: whole microseconds, never negative."""
    us = max(int(seconds * 1_000_000), 0)
    return f"{us // 1_000_000}.{us % 1_000_000:06d}"


def _format(name: str, value: Value) -> str:
    if name in TIMES:
        return format_seconds(float(value))
    if name in CODES:
        return f"{int(value):03d}"
    if name in NUMBERS:
        return str(int(value))
    return str(value)


def write_out(
    fmt: str,
    values: Mapping[str, Value],
    headers: Mapping[str, str] | None = None,
) -> tuple[str, list[str]]:
    """The text for ``fmt`` with ``values`` substituted, and warnings for unknown
    variables.  ``headers`` maps lower-case names to values of the last response,
    for ``%header{name}``."""
    out: list[str] = []
    warnings: list[str] = []
    i, n = 0, len(fmt)
    while i < n:
        c = fmt[i]
        nxt = fmt[i + 1] if i + 1 < n else ""
        if c == "%" and nxt:
            if nxt == "%":
                out.append("%")
                i += 2
            elif nxt == "{":
                end = fmt.find("}", i + 2)
                if end == -1:
                    out.append("%{")
                    i += 2
                    continue
                name = fmt[i + 2 : end]
                i = end + 1
                if name not in VARIABLES:
                    warnings.append(f"unknown --write-out variable: '{name}'")
                elif name == ONERROR:
                    if not values.get("exitcode"):
                        break
                elif name in values:
                    out.append(_format(name, values[name]))
            elif fmt.startswith("header{", i + 1):
                end = fmt.find("}", i + 8)
                if end == -1:
                    out.append("%header{")
                    i += 8
                    continue
                value = (headers or {}).get(fmt[i + 8 : end].lower())
                if value is not None:
                    out.append(value)
                i = end + 1
            else:
                out.append(c + nxt)
                i += 2
        elif c == "\\" and nxt:
            out.append(_ESCAPES.get(nxt, c + nxt))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out), warnings
