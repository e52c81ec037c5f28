"""What the options ask for: the first request (method, URL, headers, body, time
limits) and the Session that sends it (proxy, TLS, redirects), built from the
arguments the way curl reads them: argument bytes are sent as they were given."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, NamedTuple

import rawhttp

from ._body import Body, DataArg, FormArg, build_body
from ._exit import EXIT_CONNECT, EXIT_READ_FILE, EXIT_RESOLVE_PROXY, EXIT_USAGE, CliError

if TYPE_CHECKING:
    from ._args import Operation

__all__ = [
    "Outgoing",
    "arg_url",
    "headers_and_removals",
    "make_session",
    "outgoing",
    "read_data",
    "resume_offset",
]

CONNECT_TIMEOUT = 300.0
"""curl's limit on connecting when --connect-timeout is not given (or is 0)."""


class Outgoing(NamedTuple):
    """One transfer's request."""

    method: str
    url: str
    headers: list[tuple[str, bytes]]
    content: bytes | object | None
    files: list[tuple[str, object]] | None
    timeout: rawhttp.Timeout
    auth: rawhttp.Auth | None = None


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


def header_lines(args: Operation) -> list[str]:
    """The -H arguments, each ``@FILE`` replaced by the file's lines (@- reads stdin)."""
    lines: list[str] = []
    for raw in args.header:
        if raw.startswith("@"):
            text = os.fsdecode(read_data(raw, strip_newlines=False))
            lines += [line for line in text.splitlines() if line.strip()]
        else:
            lines.append(raw)
    return lines


def headers_and_removals(args: Operation) -> tuple[list[tuple[str, bytes]], dict[str, None]]:
    """Request headers in order, and defaults to remove ("Name:" with nothing after)."""
    headers: list[tuple[str, bytes]] = []
    remove: dict[str, None] = {}
    for raw in header_lines(args):
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


def outgoing(
    args: Operation, headers: list[tuple[str, bytes]], remove: dict[str, None], stdin: Any
) -> tuple[Outgoing, Body]:
    """One transfer's request (``args.url``), built from the operation's options and
    its -H ``headers``; the Body to close after it."""
    headers = list(headers)
    # headers given (or removed with "Name:") on the command line are not added by rawhttp
    names = {name.lower() for name in [*(name for name, _ in headers), *remove]}
    body = build_body(
        data=[DataArg(kind, value) for kind, value in args.data],
        form=[FormArg(value, kind == "string") for kind, value in args.form],
        upload=args.upload_file,
        get=args.get,
        head=args.head,
        url=args.url,
        given=frozenset(names),
        stdin=stdin,
    )
    if not args.silent:
        for warning in body.warnings:
            sys.stderr.write(f"Warning: {warning}\n")
    headers += body.headers
    for name, value in _extra(args):
        if name.lower() not in names:
            headers.append((name, value))
    if args.user_agent is not None:
        headers = [(n, v) for n, v in headers if n.lower() != "user-agent"]
        headers.append(("User-Agent", arg_bytes(args.user_agent)))
    auth = None
    if args.user is not None and "authorization" not in names:
        # Basic is a header built here rather than auth=(user, password): the bytes
        # given on the command line are sent as they are, whatever their encoding.
        # The Session drops it when a redirect leaves the origin, as it does for auth=.
        from ._auth import make_auth

        fields, auth = make_auth(args.user, digest=args.digest, anyauth=args.anyauth)
        headers += fields
    method = args.request or body.method or ("HEAD" if args.head else "GET")
    # curl: 0 (like no option) means no limit on the whole transfer, 300 s for connecting;
    # the total covers every request of a redirect chain and the last body
    timeout = rawhttp.Timeout(
        None, connect=args.connect_timeout or CONNECT_TIMEOUT, total=args.max_time or None
    )
    url = arg_url(body.url)
    request = Outgoing(method, url, headers, body.content, body.files, timeout, auth)
    return request, body


def _extra(args: Operation) -> list[tuple[str, bytes]]:
    """TE (--tr-encoding), Referer (-e), Range (-r, -C) and the time condition (-z)."""
    extra: list[tuple[str, bytes]] = []
    if args.tr_encoding:  # as curl 7.88 sends them; the Session then decodes gzip
        extra += [("Connection", b"TE"), ("TE", b"gzip")]
    if args.referer:
        referer = args.referer.removesuffix(";auto")
        if referer:
            extra.append(("Referer", arg_bytes(referer)))
    offset = resume_offset(args)
    if offset:
        extra.append(("Range", b"bytes=%d-" % offset))
    elif args.range:
        extra.append(("Range", b"bytes=" + arg_bytes(args.range)))
    if args.time_cond:
        from ._time_cond import time_condition

        field = time_condition(args.time_cond, silent=args.silent)
        if field is not None:
            extra.append(field)
    return extra


def resume_offset(args: Operation) -> int:
    """-C: the offset to resume at (``-``: the size of the output file, 0 if none)."""
    value = args.continue_at
    if value is None:
        return 0
    if value == "-":
        from ._output import Output

        name = Output(args, None).planned_name()
        try:
            return os.path.getsize(name) if name is not None else 0
        except OSError:
            return 0
    if not value.isdigit():
        raise CliError(EXIT_USAGE, "option -C: expected a proper numerical parameter")
    return int(value)


def make_session(args: Operation, remove: dict[str, None], transfers: int) -> rawhttp.Session:
    """The Session for an operation of ``transfers`` transfers: one connection at a
    time, curl's ways of following redirects with -L, the proxy of -x (exit 7 for a
    scheme other than http://, 5 for a malformed URL; messages never show its
    credentials), -b/-c's cookies, --resolve and --connect-to."""
    options: dict[str, Any] = {
        "headers": remove,
        "decode_content": args.compressed,
        "verify": False if args.insecure else (args.cacert or True),
        "max_connections": 1,
        "unix_socket": args.unix_socket,
    }
    if args.location:
        posts = ((301, args.post301), (302, args.post302), (303, args.post303))
        options["follow_redirects"] = True
        options["max_redirects"] = None if args.max_redirs < 0 else args.max_redirs
        options["redirect_policy"] = rawhttp.RedirectPolicy(
            keep_post=frozenset(status for status, kept in posts if kept),
            method=args.request,
            referer=bool(args.referer and args.referer.endswith(";auto")),
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
    if args.proxy_user and args.proxy:
        options["proxy"] = _with_user(args.proxy, args.proxy_user)
    if args.proxytunnel:
        options["proxy_tunnel"] = True
    jar = _cookies(args, transfers)
    if jar is not None:
        options["cookies"] = jar
    if args.resolve or args.connect_to:
        from ._connect import connect_map

        options["connect_to"] = connect_map(args.resolve, args.connect_to)
    try:
        return rawhttp.Session(**options)
    except rawhttp.InvalidURL as exc:  # the proxy's URL, from -x or the environment
        where = f" in '{shown}'" if shown else ""
        raise CliError(EXIT_RESOLVE_PROXY, f"Unsupported proxy syntax{where}: {exc}") from exc


def _cookies(args: Operation, transfers: int) -> Any:
    """-b/-c/-j's jar.  Without them curl keeps no cookie at all: neither does the
    Session then, when a cookie could be sent again (a redirect, a second URL).  A
    single plain fetch gets no jar (http.cookiejar is not even imported)."""
    if not (args.cookie or args.cookie_jar or args.location or transfers > 1):
        return None
    from ._cookiejar import load_cookies

    save = args.cookie_jar is not None
    return load_cookies(args.cookie, junk_session=args.junk_session_cookies, save=save)


def _with_user(proxy: str, user: str) -> str:
    """-U: the proxy URL with USER:PASSWORD as its userinfo (percent-encoded)."""
    from urllib.parse import quote

    name, _, password = user.partition(":")
    scheme, sep, rest = proxy.partition("://")
    if not sep:
        scheme, rest = "http", proxy
    rest = rest.rsplit("@", 1)[-1]
    return f"{scheme}://{quote(name, safe='')}:{quote(password, safe='')}@{rest}"


def _check_proxy_scheme(value: str) -> str:
    """The -x URL as messages show it (without credentials); exit 7 for a scheme
    rawhttp cannot use (only http:// proxies; no scheme means http://)."""
    import re

    shown = re.sub(r"^([^/]*//)?[^/?#]*@", lambda m: f"{m.group(1) or ''}***@", value)
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*)://", value)
    if scheme and scheme.group(1).lower() != "http":
        raise CliError(EXIT_CONNECT, f"Unsupported proxy scheme for '{shown}'")
    return shown
