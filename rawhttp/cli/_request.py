"""What the options ask for: the first request (method, URL, headers, body, time
limits) and the Session that sends it (proxy, TLS, redirects), built from the
arguments the way curl reads them: argument bytes are sent as they were given."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any, NamedTuple

import rawhttp

from ._exit import EXIT_CONNECT, EXIT_READ_FILE, EXIT_RESOLVE_PROXY, EXIT_USAGE, CliError

__all__ = ["Outgoing", "arg_url", "make_session", "outgoing", "read_data"]

FORM_TYPE = ("Content-Type", b"application/x-www-form-urlencoded")
"""Added for -d data (the Session drops it with the body when a redirect turns a POST
into a GET)."""

CONNECT_TIMEOUT = 300.0
"""curl's limit on connecting when --connect-timeout is not given (or is 0)."""


class Outgoing(NamedTuple):
    """The first request."""

    method: str
    url: str
    headers: list[tuple[str, bytes]]
    content: bytes | None
    timeout: rawhttp.Timeout


def arg_bytes(value: str) -> bytes:
    """A command-line argument as the bytes it was given as (like curl, which sends
    argv bytes unchanged): undecodable bytes come back from their surrogate escapes."""
    return os.fsencode(value)


def arg_url(url: str) -> str:
    """The URL argument with bytes that were not UTF-8 percent-encoded as they are
    (rawhttp would send a surrogate escape as the UTF-8 of the surrogate)."""
    if not any("\udc80" <= c <= "\udcff" for c in url):
        return url
    return "".join(f"%{ord(c) - 0xDC00:02X}" if "\udc80" <= c <= "\udcff" else c for c in url)


def read_data(value: str, *, strip_newlines: bool) -> bytes:
    """DATA as given, or with @FILE the file's bytes (@- reads stdin); exit 26 when
    it cannot be read."""
    if not value.startswith("@"):
        return arg_bytes(value)
    name = value[1:]
    try:
        if name == "-":
            if sys.stdin is None:  # started with stdin closed
                raise OSError("stdin is closed")
            data = sys.stdin.buffer.read()
        else:
            with open(name, "rb") as f:
                data = f.read()
    except OSError as exc:
        raise CliError(EXIT_READ_FILE, f"Failed to open/read local data from file: {exc}") from exc
    if strip_newlines:
        data = data.replace(b"\r", b"").replace(b"\n", b"")
    return data


def _headers(args: argparse.Namespace) -> tuple[list[tuple[str, bytes]], dict[str, None]]:
    """Request headers in order, and defaults to remove ("Name:" with nothing after)."""
    headers: list[tuple[str, bytes]] = []
    remove: dict[str, None] = {}
    for raw in args.header:
        name, colon, value = raw.partition(":")
        if not colon:
            if raw.endswith(";"):
                headers.append((raw[:-1].strip(), b""))
                continue
            # not the argument itself: it may be a credential with its colon missing
            raise CliError(EXIT_USAGE, "invalid -H argument (no ':'): expected 'Name: value'")
        name, value = name.strip(), value.strip()
        if value:
            headers.append((name, arg_bytes(value)))
        else:
            remove[name] = None
    return headers, remove


def outgoing(args: argparse.Namespace) -> tuple[Outgoing, dict[str, None]]:
    """The first request, and the default headers to remove ("-H Name:")."""
    headers, remove = _headers(args)
    # headers given (or removed with "Name:") on the command line are not added by rawhttp
    names = {name.lower() for name in [*(name for name, _ in headers), *remove]}
    body: bytes | None = None
    if args.json:
        body = b"".join(read_data(v, strip_newlines=False) for v in args.json)
        for name, value in (("Content-Type", b"application/json"), ("Accept", b"application/json")):
            if name.lower() not in names:
                headers.append((name, value))
    elif args.data:
        body = b"&".join(read_data(v, strip_newlines=strip) for v, strip in args.data)
        if "content-type" not in names:
            headers.append(FORM_TYPE)
    if args.user_agent is not None:
        headers = [(n, v) for n, v in headers if n.lower() != "user-agent"]
        headers.append(("User-Agent", arg_bytes(args.user_agent)))
    if args.user is not None and "authorization" not in names:
        # Built here rather than with auth=(user, password): the bytes given on the
        # command line are sent as they are, whatever their encoding.  The Session
        # drops it when a redirect leaves the origin, as it does for auth=.
        import base64

        user, _, password = arg_bytes(args.user).partition(b":")
        headers.append(("Authorization", b"Basic " + base64.b64encode(user + b":" + password)))
    method = args.request or ("HEAD" if args.head else "POST" if body is not None else "GET")
    # curl: 0 (like no option) means no limit on the whole transfer, 300 s for connecting;
    # the total covers every request of a redirect chain and the last body
    timeout = rawhttp.Timeout(
        None, connect=args.connect_timeout or CONNECT_TIMEOUT, total=args.max_time or None
    )
    return Outgoing(method, arg_url(args.url), headers, body, timeout), remove


def make_session(
    args: argparse.Namespace,
    remove: dict[str, None],
    trace: Callable[[rawhttp.TraceEvent], None],
) -> rawhttp.Session:
    """The Session for the run: one connection at a time, curl's ways of following
    redirects with -L, the proxy of -x (exit 7 for a scheme other than http://, 5 for
    a malformed URL; messages never show its credentials)."""
    options: dict[str, Any] = {
        "headers": remove,
        "decode_content": args.compressed,
        "verify": False if args.insecure else (args.cacert or True),
        "max_connections": 1,
        "unix_socket": args.unix_socket,
        "trace": trace,
    }
    if args.location:
        posts = ((301, args.post301), (302, args.post302), (303, args.post303))
        options["follow_redirects"] = True
        options["max_redirects"] = None if args.max_redirs < 0 else args.max_redirs
        options["redirect_policy"] = rawhttp.RedirectPolicy(
            keep_post=frozenset(status for status, kept in posts if kept), method=args.request
        )
    shown = ""
    # passed only when given, so that a plain fetch does not depend on them
    if args.proxy:
        shown = _check_proxy_scheme(args.proxy)
        options["proxy"] = args.proxy
    elif args.proxy == "":  # curl: -x "" overrides the environment's proxies: none at all
        options["trust_env"] = False
    if args.noproxy is not None:
        options["no_proxy"] = args.noproxy
    try:
        return rawhttp.Session(**options)
    except rawhttp.InvalidURL as exc:  # the proxy's URL, from -x or the environment
        where = f" in '{shown}'" if shown else ""
        raise CliError(EXIT_RESOLVE_PROXY, f"Unsupported proxy syntax{where}: {exc}") from exc


def _check_proxy_scheme(value: str) -> str:
    """The -x URL as messages show it (without credentials); exit 7 for a scheme
    rawhttp cannot use (only http:// proxies; no scheme means http://)."""
    import re

    shown = re.sub(r"^([^/]*//)?[^/?#]*@", lambda m: f"{m.group(1) or ''}***@", value)
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*)://", value)
    if scheme and scheme.group(1).lower() != "http":
        raise CliError(EXIT_CONNECT, f"Unsupported proxy scheme for '{shown}'")
    return shown
