"""``-w/--write-out FORMAT``: the text written after a transfer, curl's way.

:func:`write_out` is a pure function from a format and the transfer's values to
the text and any warnings; :func:`write_out_values` gathers the values of a run
from its :class:`~rawhttp.cli._transfer.Transfer`, and :func:`report` writes the
text on stdout.

The format follows curl's documented syntax: ``%{name}`` is replaced by a
variable's value, ``%header{name}`` by a header of the last response, ``%%``
is a ``%``, and ``\\n``, ``\\r`` and ``\\t`` are a newline, a carriage return
and a tab.  Anything else is written as it is, like curl does: ``%`` before
another character, ``%{`` without a closing ``}``, and a backslash before any
other character (``\\\\`` stays two backslashes).  An unknown variable writes
nothing and gives a warning.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

import rawhttp

from ._exit import CliError
from ._request import arg_url, read_data
from ._transfer import Transfer

if TYPE_CHECKING:
    from ._args import Operation

__all__ = [
    "VARIABLES",
    "format_seconds",
    "read_format",
    "report",
    "write_out",
    "write_out_values",
]

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
        "local_port",
        "num_connects",
        "num_headers",
        "num_redirects",
        "remote_port",
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
        "header_json",
        "local_ip",
        "remote_ip",
        "http_version",
        "method",
        "redirect_url",
        "scheme",
        "url",
        "url_effective",
    }
)

STREAMS: Final = frozenset({"stdout", "stderr"})
"""``%{stdout}`` and ``%{stderr}``: where the text after them goes."""

ONERROR: Final = "onerror"
"""Stops the output here when the transfer succeeded (``exitcode`` 0)."""

VARIABLES: Final = TIMES | CODES | NUMBERS | TEXTS | STREAMS | {ONERROR}
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
    """The text for ``fmt`` with ``values`` substituted (wherever each part goes), and
    warnings for unknown variables.  ``headers`` maps lower-case names to values of
    the last response, for ``%header{name}``."""
    parts, warnings = write_out_parts(fmt, values, headers)
    return "".join(text for _, text in parts), warnings


def write_out_parts(
    fmt: str,
    values: Mapping[str, Value],
    headers: Mapping[str, str] | None = None,
) -> tuple[list[tuple[str, str]], list[str]]:
    """The text for ``fmt`` as (destination, text) parts: ``"-"`` stdout, ``"%"``
    stderr, else a file name (``">>name"``: appended), as ``%{stdout}``,
    ``%{stderr}`` and ``%output{name}`` switch it; and the warnings."""
    parts: list[tuple[str, str]] = []
    where = "-"
    out: list[str] = []
    warnings: list[str] = []

    def switch(to: str) -> None:
        nonlocal where, out
        if out:
            parts.append((where, "".join(out)))
        where, out = to, []

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
                elif name in STREAMS:
                    switch("-" if name == "stdout" else "%")
                elif name in values:
                    out.append(_format(name, values[name]))
            elif fmt.startswith(("header{", "output{"), i + 1):
                end = fmt.find("}", i + 8)
                if end == -1:
                    out.append(fmt[i : i + 8])
                    i += 8
                    continue
                argument = fmt[i + 8 : end]
                if fmt[i + 1] == "o":
                    switch(argument if argument not in ("-", "%") else f"./{argument}")
                else:
                    value = (headers or {}).get(argument.lower())
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
    switch("-")
    return parts, warnings


def header_json(r: rawhttp.Response) -> str:
    """``%{header_json}``: the response's fields as curl writes them, a JSON object of
    lower-case names to lists of values, one name per line, in order of appearance."""
    import json

    fields: dict[str, list[str]] = {}
    for name, value in r.headers.items():
        fields.setdefault(name.lower(), []).append(os.fsdecode(value.encode("latin-1")))
    lines = [
        f"{json.dumps(name)}:[{','.join(json.dumps(v) for v in values)}]"
        for name, values in fields.items()
    ]
    return "{" + ",\n".join(lines) + "\n}"


# -- the values of a run --------------------------------------------------------------


def read_format(value: str) -> str:
    """The -w argument, or with @FILE the file's text (@- reads stdin), as curl does."""
    if not value.startswith("@"):
        return value
    try:
        return os.fsdecode(read_data(value, strip_newlines=False))
    except CliError as exc:
        raise CliError(exc.code, f"Failed to read the --write-out format: {exc.__cause__}") from exc


def write_out_values(
    args: Operation, t: Transfer, code: int, message: str
) -> tuple[dict[str, Value], dict[str, str]]:
    """The -w variables of the run, and the headers of the last response (lower-case
    names, first value of each) for %header{name}.  What the values mean:

    - times add up the redirect steps, each counted from its own start, as curl does:
      time_connect the pool wait and connect (TCP and a proxy's CONNECT) of every
      step, time_appconnect that plus the TLS handshake of every https:// step (0 over
      http://), time_pretransfer up to the request being sent, time_starttransfer up
      to the first response byte; time_redirect is when the last step began and
      time_total the whole run, both from the start of the first request;
    - size_download is the last body as received: after chunked framing is removed,
      before content decoding (so with --compressed, the compressed size), as curl
      counts it; size_upload the last request's body; size_header and size_request
      count every response and request head (and request body) of the run;
    - http_code is that of the last response received, 0 (written 000) without one;
      url_effective and scheme are those of the last request, answered or not;
      method that of the last request (of the last one sent when a request after a
      redirect failed).
    """
    log = t.log
    total = max((t.end if t.end is not None else time.monotonic()) - t.start, 0.0)
    history, last = t.history, t.response
    responses = [*history, last] if last is not None else history
    url, method = _last_request(t, log.method if log else "")
    values: dict[str, Value] = {
        "exitcode": code,
        "num_redirects": len(history),
        "num_connects": log.connects if log else 0,
        "size_header": sum(map(len, log.heads)) if log else 0,
        "size_request": log.sent if log else 0,
        "size_upload": log.upload if log else 0,
        "time_total": total,
        "time_redirect": _last_start(t) - t.start if history else 0.0,
        "url": args.url,
        "url_effective": url or arg_url(args.url),
        "http_code": 0,
        "response_code": 0,
        "size_download": 0,
    }
    if code:
        values["errormsg"] = message
    if method:
        values["method"] = method
    if url:
        values["scheme"] = url.partition(":")[0].lower()
    if t.filename is not None:
        values["filename_effective"] = t.filename
    values.update(_times(responses))
    headers: dict[str, str] = {}
    if responses:
        r = responses[-1]
        values.update(
            http_code=r.status,
            response_code=r.status,
            size_download=r.num_bytes_downloaded,  # as received: de-chunked, not decoded
            http_version=r.http_version.removeprefix("HTTP/"),
        )
        for name, value in r.headers.items():
            # header values are latin-1: back to the bytes received, written as they are
            headers.setdefault(name.lower(), os.fsdecode(value.encode("latin-1")))
        if "content-type" in headers:
            values["content_type"] = headers["content-type"]
        if log and log.heads:
            values["num_headers"] = log.heads[-1].count(b"\n") - 2  # CRLF or bare LF heads
        if r.next_url is not None:
            values["redirect_url"] = r.next_url
        values["header_json"] = header_json(r)
        for side, address in (("remote", r.remote_address), ("local", r.local_address)):
            if address is not None:
                values[f"{side}_ip"], values[f"{side}_port"] = address
    values["speed_download"] = int(values["size_download"]) / total if total > 0 else 0
    values["speed_upload"] = int(values["size_upload"]) / total if total > 0 else 0
    return values, headers


def _last_request(t: Transfer, method_sent: str) -> tuple[str, str]:
    """The URL and method of the last request: the answered one's; else, after a
    redirect, its target (and the method of the last request head sent: the request
    to the target if it got as far); else the first request's."""
    if t.response is not None:
        return t.response.url, t.response.method
    if t.history:
        last = t.history[-1]
        return last.next_url or last.url, method_sent or last.method
    return t.url, t.method


def _last_start(t: Transfer) -> float:
    """When the last request started: that of the answered response, else (a request
    that failed) the end of the redirect before it."""
    if t.response is not None:
        return t.response.timings.start
    timings = t.history[-1].timings
    return timings.start + (timings.total if timings.total is not None else timings.first_byte)


def _times(responses: list[rawhttp.Response]) -> dict[str, Value]:
    """time_connect, time_appconnect, time_pretransfer and time_starttransfer, each
    added up over the responses of the run."""
    connect = appconnect = pretransfer = starttransfer = 0.0
    for response in responses:
        timings = response.timings
        connected = timings.pool + timings.connect
        connect += connected
        pretransfer += connected + timings.tls
        if response.url.startswith("https:"):
            appconnect += connected + timings.tls
        starttransfer += timings.first_byte
    return {
        "time_connect": connect,
        "time_appconnect": appconnect,
        "time_pretransfer": pretransfer,
        "time_starttransfer": starttransfer,
    }


def report(args: Operation, fmt: str, t: Transfer, code: int, message: str) -> None:
    """Write the -w text (on stdout unless it switches), warnings on stderr; a failure
    to write is no error, as in curl."""
    values, headers = write_out_values(args, t, code, message)
    parts, warnings = write_out_parts(fmt, values, headers)
    for warning in warnings:
        sys.stderr.write(f"rawhttp: {warning}\n")
    for where, text in parts:
        data = os.fsencode(text)
        with contextlib.suppress(OSError):
            if where == "-":
                if sys.stdout is not None:
                    sys.stdout.flush()
                    sys.stdout.buffer.write(data)
            elif where == "%":
                sys.stderr.flush()
                sys.stderr.buffer.write(data)
                sys.stderr.buffer.flush()
            else:
                append = where.startswith(">>")
                with open(where.removeprefix(">>"), "ab" if append else "wb") as f:
                    f.write(data)
