"""The command's options, one table: each option's names, what it takes, where its value
goes and its help line.  :mod:`._args` reads the command line (and ``-K`` files) with it.

Kinds (as curl reads them):

- ``FLAG``: a switch; ``--no-NAME`` turns it off again.
- ``VALUE``: takes an argument; the last one given wins.
- ``LIST``: takes an argument; each one is kept, in order.
- ``TAGGED``: takes an argument kept in a list shared with related options, as
  ``(tag, argument)`` in command-line order (the ``-d`` family, ``-F``/``--form-string``).
- ``OUTPUT``: ``-o FILE`` / ``-O``: the n-th one goes to the n-th URL, wherever it is.
- ``SPECIAL``: handled by the parser itself (``--url``, ``-K``, ``-:``, ``-h``, ``-V``).

``GLOBAL`` options apply to the whole command line, ``-:/--next`` included (as curl's
``--verbose``, ``--silent``, ``--parallel`` ...); the others to one operation.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any, NamedTuple

__all__ = ["BY_LONG", "BY_SHORT", "OPTIONS", "Kind", "Option", "defaults"]


class Kind(Enum):
    FLAG = "flag"
    VALUE = "value"
    LIST = "list"
    TAGGED = "tagged"
    OUTPUT = "output"
    SPECIAL = "special"


class Option(NamedTuple):
    long: str
    """``--name`` without the dashes."""
    short: str | None
    """The one-letter name, or None."""
    kind: Kind
    dest: str
    """The attribute of the operation (or of the globals) it sets."""
    help: str
    metavar: str = ""
    convert: Callable[[str], Any] | None = None
    """Checks and converts the argument (ValueError: "expected a proper numerical
    parameter", as curl)."""
    tag: str = ""
    """For TAGGED options: the tag kept with the argument."""
    is_global: bool = False


PROPER = "expected a proper numerical parameter"


def seconds(text: str) -> float:
    """A number of seconds (curl accepts decimals): not NaN, negative or infinite,
    each refused with curl's words."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(PROPER) from None
    if value != value:  # NaN
        raise ValueError(PROPER)
    if value < 0:
        raise ValueError("expected a positive numerical parameter")
    if value == float("inf"):
        raise ValueError("too large number")
    return value


def integer(text: str) -> int:
    """A whole number, possibly negative (``--max-redirs -1``)."""
    stripped = text.strip()
    if not stripped.lstrip("-").isdigit() or len(stripped) > 19:
        raise ValueError(PROPER)
    return int(stripped)


def count(text: str) -> int:
    """A whole number >= 0."""
    value = integer(text)
    if value < 0:
        raise ValueError("expected a positive numerical parameter")
    return value


F, V, L, T, OUT, S = Kind.FLAG, Kind.VALUE, Kind.LIST, Kind.TAGGED, Kind.OUTPUT, Kind.SPECIAL

OPTIONS: tuple[Option, ...] = (
    # -- what to fetch and where the body goes --------------------------------------
    Option("url", None, S, "urls", "a URL to fetch (as a plain argument)", "URL"),
    Option("output", "o", OUT, "outputs", "write the body to FILE (- is stdout)", "FILE"),
    Option("remote-name", "O", OUT, "outputs", "write the body to a file named like the URL's"),
    Option("output-dir", None, V, "output_dir", "directory for -o/-O files", "DIR"),
    Option("create-dirs", None, F, "create_dirs", "create the directories -o names"),
    Option(
        "remote-header-name", "J", F, "remote_header_name", "with -O, the Content-Disposition name"
    ),
    Option("remote-time", "R", F, "remote_time", "give the file the Last-Modified time"),
    Option("dump-header", "D", V, "dump_header", "write the response heads to FILE", "FILE"),
    Option("globoff", "g", F, "globoff", "no {} or [] globbing in URLs"),
    Option("next", ":", S, "next", "start another operation (options apply per operation)"),
    Option("parallel", "Z", F, "parallel", "run the transfers in parallel", is_global=True),
    Option(
        "parallel-max",
        None,
        V,
        "parallel_max",
        "at most NUM parallel transfers (default 50)",
        "NUM",
        count,
        is_global=True,
    ),
    Option("config", "K", S, "config", "read options from FILE (- is stdin)", "FILE"),
    # -- the request --------------------------------------------------------------------
    Option("request", "X", V, "request", "request method", "METHOD"),
    Option(
        "header", "H", L, "header", "extra header (@FILE: one per line); 'Name:' removes it", "LINE"
    ),
    Option(
        "data", "d", T, "data", "form data (@FILE without CR/LF), implies POST", "DATA", tag="data"
    ),
    Option("data-ascii", None, T, "data", "same as -d", "DATA", tag="data"),
    Option(
        "data-binary",
        None,
        T,
        "data",
        "data sent exactly as given (@FILE as is)",
        "DATA",
        tag="binary",
    ),
    Option("data-raw", None, T, "data", "like -d, with no @FILE", "DATA", tag="raw"),
    Option(
        "data-urlencode",
        None,
        T,
        "data",
        "URL-encoded data ([name]=content, [name]@file)",
        "DATA",
        tag="urlencode",
    ),
    Option("json", None, T, "data", "JSON body; sets Content-Type and Accept", "DATA", tag="json"),
    Option(
        "form",
        "F",
        T,
        "form",
        "multipart field name=value, name=@file, name=<file",
        "FIELD",
        tag="form",
    ),
    Option(
        "form-string", None, T, "form", "multipart field taken literally", "FIELD", tag="string"
    ),
    Option("get", "G", F, "get", "send -d data in the URL's query with GET"),
    Option("upload-file", "T", V, "upload_file", "PUT FILE (- is stdin)", "FILE"),
    Option("head", "I", F, "head", "send HEAD and show the response head only"),
    Option("user-agent", "A", V, "user_agent", "User-Agent to send", "NAME"),
    Option("referer", "e", V, "referer", "Referer to send (;auto: also on redirects)", "URL"),
    Option("range", "r", V, "range", "ask for a byte range", "RANGE"),
    Option(
        "continue-at",
        "C",
        V,
        "continue_at",
        "resume at OFFSET (- : from the output's size)",
        "OFFSET",
    ),
    Option("time-cond", "z", V, "time_cond", "only if modified since DATE or FILE's time", "TIME"),
    Option("compressed", None, F, "compressed", "ask for a compressed response and decode it"),
    Option("tr-encoding", None, F, "tr_encoding", "ask for a compressed transfer encoding"),
    Option("cookie", "b", L, "cookie", "send cookies: 'name=value' or a cookie file", "DATA"),
    Option("cookie-jar", "c", V, "cookie_jar", "write the cookies to FILE after the run", "FILE"),
    Option(
        "junk-session-cookies",
        "j",
        F,
        "junk_session_cookies",
        "ignore session cookies read from -b files",
    ),
    # -- authentication -----------------------------------------------------------------
    Option("user", "u", V, "user", "user and password", "USER:PASSWORD"),
    Option("basic", None, F, "basic", "Basic authentication (the default)"),
    Option("digest", None, F, "digest", "Digest authentication"),
    Option("anyauth", None, F, "anyauth", "the best authentication the server offers"),
    # -- redirects, failures, retries ------------------------------------------------------
    Option("location", "L", F, "location", "follow redirects"),
    Option(
        "max-redirs", None, V, "max_redirs", "most redirects to follow (default 50)", "NUM", integer
    ),
    Option("post301", None, F, "post301", "keep POST after a 301 with -L"),
    Option("post302", None, F, "post302", "keep POST after a 302 with -L"),
    Option("post303", None, F, "post303", "keep POST after a 303 with -L"),
    Option("fail", "f", F, "fail", "exit 22 without output on HTTP errors (>= 400)"),
    Option("fail-with-body", None, F, "fail_with_body", "exit 22 on HTTP errors, keeping the body"),
    Option("retry", None, V, "retry", "retry transient failures NUM times", "NUM", count),
    Option(
        "retry-delay", None, V, "retry_delay", "wait SECONDS between retries", "SECONDS", seconds
    ),
    Option(
        "retry-max-time", None, V, "retry_max_time", "retry only within SECONDS", "SECONDS", seconds
    ),
    Option("retry-all-errors", None, F, "retry_all_errors", "retry on any error"),
    Option("retry-connrefused", None, F, "retry_connrefused", "retry refused connections too"),
    # -- connections --------------------------------------------------------------------
    Option("max-time", "m", V, "max_time", "time limit for the whole transfer", "SECONDS", seconds),
    Option(
        "connect-timeout",
        None,
        V,
        "connect_timeout",
        "time limit for connecting",
        "SECONDS",
        seconds,
    ),
    Option("insecure", "k", F, "insecure", "do not verify the server's certificate"),
    Option("cacert", None, V, "cacert", "CA bundle (PEM) to verify the server with", "FILE"),
    Option("proxy", "x", V, "proxy", 'use this http proxy ("" uses none)', "URL"),
    Option("proxy-user", "U", V, "proxy_user", "user and password for the proxy", "USER:PASSWORD"),
    Option("proxytunnel", "p", F, "proxytunnel", "tunnel through the proxy with CONNECT"),
    Option("noproxy", None, V, "noproxy", "hosts to reach without the proxy (* for all)", "LIST"),
    Option("unix-socket", None, V, "unix_socket", "connect to this Unix socket", "PATH"),
    Option("resolve", None, L, "resolve", "use ADDR for HOST:PORT", "HOST:PORT:ADDR"),
    Option(
        "connect-to", None, L, "connect_to", "connect to HOST2:PORT2 for HOST1:PORT1", "H1:P1:H2:P2"
    ),
    # -- what is shown ------------------------------------------------------------------
    Option("include", "i", F, "include", "include the response head in the output"),
    Option("silent", "s", F, "silent", "no progress meter and no error messages", is_global=True),
    Option("show-error", "S", F, "show_error", "with -s, still show errors", is_global=True),
    Option("verbose", "v", F, "verbose", "show the heads on stderr", is_global=True),
    Option("write-out", "w", V, "write_out", "write FORMAT after the transfer", "FORMAT"),
    Option(
        "trace",
        None,
        T,
        "trace",
        "write every byte to FILE (hex and text)",
        "FILE",
        tag="hex",
        is_global=True,
    ),
    Option(
        "trace-ascii",
        None,
        T,
        "trace",
        "like --trace, as text",
        "FILE",
        tag="ascii",
        is_global=True,
    ),
    Option(
        "trace-time", None, F, "trace_time", "time stamps on --trace and -v lines", is_global=True
    ),
    Option("version", "V", S, "version", "show the version and exit"),
    Option("help", "h", S, "help", "show this help and exit"),
    Option("disable", "q", F, "disable", "accepted for curl's sake: no config file is read anyway"),
)

BY_LONG: dict[str, Option] = {o.long: o for o in OPTIONS}
BY_SHORT: dict[str, Option] = {o.short: o for o in OPTIONS if o.short is not None}

_SPECIAL_DEFAULTS: dict[str, Any] = {"max_redirs": 50}


def defaults(is_global: bool) -> dict[str, Any]:
    """The value of every destination of the operation (or of the globals) when no
    option set it: False for a flag, None for a value, an empty list otherwise."""
    values: dict[str, Any] = {}
    for o in OPTIONS:
        if o.is_global != is_global or o.kind is Kind.SPECIAL:
            continue
        if o.kind is Kind.FLAG:
            values[o.dest] = False
        elif o.kind is Kind.VALUE:
            values[o.dest] = _SPECIAL_DEFAULTS.get(o.dest)
        else:
            values[o.dest] = []
    if not is_global:
        values["urls"] = []
    return values
